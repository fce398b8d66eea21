/* test_personality.c — /personality-config through the real dispatcher
 * (tests/unit/support/harness.h): the dispatcher refuses every subcommand without
 * Administrator and in a DM; `adjust` stores a value from 1 to 10 per server (upserting) and
 * refuses anything else, `view` and `analytics` show the server's adjustments, `test` answers
 * with its fixed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "handlers/registry.h"
#include "harness.h"

#define OTHER_GUILD "200000000000000099"
#define BAD_VALUE "❌ The value must be a whole number from 1 to 10."
#define NEEDS_ADMIN "❌ This command requires Administrator permissions."
#define NO_OVERRIDES "No overrides applied via `/personality-config adjust`."

/* /personality-config <sub> [options] with the given permissions and guild (NULL = defaults). */
static void call_sub(struct harness *h, const char *sub, const char *options, const char *permissions,
                     const char *guild_id, bool in_dm, struct harness_reply *r)
{
    char opts[512];
    snprintf(opts, sizeof opts, "[{\"name\":\"%s\",\"type\":1%s%s}]", sub, options ? ",\"options\":" : "",
             options ? options : "");
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){.name = "personality-config",
                                                         .options = opts,
                                                         .permissions = permissions,
                                                         .guild_id = guild_id,
                                                         .in_dm = in_dm},
                                  r),
                     0);
    assert_int_equal(r->http_status, 200);
    assert_true(r->flags & 64); /* every answer, refusal or not, is ephemeral */
}

/* An admin's run in the default server: deferred and delivered. */
static void admin_sub(struct harness *h, const char *sub, const char *options, const char *guild_id,
                      struct harness_reply *r)
{
    call_sub(h, sub, options, HARNESS_ADMIN_PERMISSIONS, guild_id, false, r);
    assert_int_equal(r->type, 5);
    assert_true(r->is_delivered);
}

/* adjust's options; value is JSON (a number, or anything a forged request may send). */
static void adjust(struct harness *h, const char *parameter, const char *value, const char *guild_id,
                   struct harness_reply *r)
{
    char opts[256];
    snprintf(opts, sizeof opts,
             "[{\"name\":\"parameter\",\"type\":3,\"value\":\"%s\"},{\"name\":\"value\",\"type\":4,\"value\":%s}]",
             parameter, value);
    admin_sub(h, "adjust", opts, guild_id, r);
}

static size_t count_adjustments(struct harness *h, const char *scope_id)
{
    struct store_adjustments adj = {0};
    assert_int_equal(store_adjustment_list(harness_store(h), scope_id, &adj), 0);
    size_t n = adj.n;
    store_adjustments_free(&adj);
    return n;
}

static void a_member_without_administrator_is_refused_by_the_dispatcher(void **state)
{
    struct harness *h = *state;
    static const char *const subs[] = {"view", "test", "analytics", "adjust"};
    /* None, Manage Server (not enough), and every one of the low 31 bits but Administrator's. */
    static const char *const not_admin[] = {"0", "32", "2147483639"};
    struct harness_reply r;
    for (size_t s = 0; s < sizeof subs / sizeof subs[0]; s++) {
        for (size_t p = 0; p < sizeof not_admin / sizeof not_admin[0]; p++) {
            call_sub(h, subs[s],
                     strcmp(subs[s], "adjust") == 0 ? "[{\"name\":\"parameter\",\"type\":3,\"value\":\"enthusiasm\"},"
                                                      "{\"name\":\"value\",\"type\":4,\"value\":7}]"
                                                    : NULL,
                     not_admin[p], NULL, false, &r);
            assert_int_equal(r.type, 4); /* answered at once: nothing ran */
            assert_string_equal(r.content, NEEDS_ADMIN);
            harness_reply_cleanup(&r);
        }
    }
    assert_int_equal(harness_deliveries(h), 0);
    assert_int_equal(count_adjustments(h, HARNESS_GUILD), 0);
}

static void a_dm_is_refused_as_server_only(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    call_sub(h, "view", NULL, NULL, NULL, true, &r);
    assert_int_equal(r.type, 4);
    assert_string_equal(r.content, "🏠 `/personality-config view` only works in a server, not in DMs.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(h), 0);
}

static void view_with_no_adjustments_says_so(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    admin_sub(h, "view", NULL, NULL, &r);
    assert_string_equal(harness_embed_title(&r, 0), "🎭 Current Personality Configuration");
    assert_string_equal(harness_embed_field(&r, 0, "Adjusted Parameters"), "0 of 4");
    assert_string_equal(harness_embed_field(&r, 0, "Active Adjustments"), NO_OVERRIDES);
    harness_reply_cleanup(&r);
}

static void adjust_stores_the_value_and_view_shows_it(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    adjust(h, "enthusiasm", "7", NULL, &r);
    assert_string_equal(r.content,
                        "✅ Adjusted **Enthusiasm Level** to **7/10**. /chat uses it for this server from now on.");
    harness_reply_cleanup(&r);

    struct store_adjustments adj = {0};
    assert_int_equal(store_adjustment_list(harness_store(h), HARNESS_GUILD, &adj), 0);
    assert_int_equal(adj.n, 1);
    assert_string_equal(adj.items[0].parameter, "enthusiasm");
    assert_int_equal(adj.items[0].value, 7);
    assert_string_equal(adj.items[0].updated_by, HARNESS_USER);
    store_adjustments_free(&adj);

    admin_sub(h, "view", NULL, NULL, &r);
    assert_string_equal(harness_embed_field(&r, 0, "Adjusted Parameters"), "1 of 4");
    assert_string_equal(harness_embed_field(&r, 0, "Active Adjustments"),
                        "• **enthusiasm** → 7/10 (by <@" HARNESS_USER ">)");
    harness_reply_cleanup(&r);
}

static void adjust_accepts_both_ends_of_the_range_and_upserts(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    adjust(h, "formality", "1", NULL, &r);
    assert_string_equal(r.content,
                        "✅ Adjusted **Formality Level** to **1/10**. /chat uses it for this server from now on.");
    harness_reply_cleanup(&r);
    adjust(h, "catchphrase_freq", "10", NULL, &r);
    assert_string_equal(r.content, "✅ Adjusted **Catchphrase Frequency** to **10/10**. /chat uses it for this "
                                   "server from now on.");
    harness_reply_cleanup(&r);
    adjust(h, "formality", "4", NULL, &r); /* the same parameter again replaces the value */
    harness_reply_cleanup(&r);

    struct store_adjustments adj = {0};
    assert_int_equal(store_adjustment_list(harness_store(h), HARNESS_GUILD, &adj), 0);
    assert_int_equal(adj.n, 2); /* sorted by parameter */
    assert_string_equal(adj.items[0].parameter, "catchphrase_freq");
    assert_int_equal(adj.items[0].value, 10);
    assert_string_equal(adj.items[1].parameter, "formality");
    assert_int_equal(adj.items[1].value, 4);
    store_adjustments_free(&adj);

    admin_sub(h, "view", NULL, NULL, &r);
    assert_string_equal(harness_embed_field(&r, 0, "Adjusted Parameters"), "2 of 4");
    assert_string_equal(harness_embed_field(&r, 0, "Active Adjustments"),
                        "• **catchphrase_freq** → 10/10 (by <@" HARNESS_USER ">)\n"
                        "• **formality** → 4/10 (by <@" HARNESS_USER ">)");
    harness_reply_cleanup(&r);
}

/* Discord checks min_value and max_value for its own clients; the request is only data. */
static void a_value_outside_1_to_10_is_refused_and_nothing_stored(void **state)
{
    struct harness *h = *state;
    static const char *const bad[] = {"0", "11", "-3", "5.5", "1e300", "\"7\"", "true"};
    struct harness_reply r;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        adjust(h, "technical_depth", bad[i], NULL, &r);
        if (strcmp(r.content, BAD_VALUE) != 0)
            print_error("value %s: %s\n", bad[i], r.content);
        assert_string_equal(r.content, BAD_VALUE);
        harness_reply_cleanup(&r);
    }
    /* A value that is missing altogether, too. */
    admin_sub(h, "adjust", "[{\"name\":\"parameter\",\"type\":3,\"value\":\"technical_depth\"}]", NULL, &r);
    assert_string_equal(r.content, BAD_VALUE);
    harness_reply_cleanup(&r);
    assert_int_equal(count_adjustments(h, HARNESS_GUILD), 0);
}

static void an_unknown_parameter_is_refused(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    adjust(h, "volume", "5", NULL, &r);
    assert_string_equal(r.content, "❌ Unknown parameter.");
    harness_reply_cleanup(&r);
    adjust(h, "Enthusiasm Level", "5", NULL, &r); /* the label is not the value */
    assert_string_equal(r.content, "❌ Unknown parameter.");
    harness_reply_cleanup(&r);
    assert_int_equal(count_adjustments(h, HARNESS_GUILD), 0);
}

static void adjustments_belong_to_one_server(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    adjust(h, "enthusiasm", "9", NULL, &r);
    harness_reply_cleanup(&r);
    admin_sub(h, "view", NULL, OTHER_GUILD, &r);
    assert_string_equal(harness_embed_field(&r, 0, "Adjusted Parameters"), "0 of 4");
    assert_string_equal(harness_embed_field(&r, 0, "Active Adjustments"), NO_OVERRIDES);
    harness_reply_cleanup(&r);
    assert_int_equal(count_adjustments(h, HARNESS_GUILD), 1);
    assert_int_equal(count_adjustments(h, OTHER_GUILD), 0);
}

static void test_answers_with_its_fixed_text(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    admin_sub(h, "test", NULL, NULL, &r);
    assert_string_equal(r.content, "✅ Personality test complete! Check server logs for the generated prompts.");
    harness_reply_cleanup(&r);
}

static void analytics_shows_the_adjustments(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    admin_sub(h, "analytics", NULL, NULL, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📊 Personality Analytics");
    assert_string_equal(harness_embed_field(&r, 0, "Catchphrase Usage"), "No data yet");
    assert_string_equal(harness_embed_field(&r, 0, "Adjustments"), NO_OVERRIDES);
    harness_reply_cleanup(&r);

    adjust(h, "enthusiasm", "3", NULL, &r);
    harness_reply_cleanup(&r);
    admin_sub(h, "analytics", NULL, NULL, &r);
    assert_string_equal(harness_embed_field(&r, 0, "Adjustments"), "• **enthusiasm** → 3/10 (by <@" HARNESS_USER ">)");
    harness_reply_cleanup(&r);
}

/* Discord hides the command from everyone but Administrators (the dispatcher still checks, since
 * server admins can change who sees it). */
static void it_is_registered_for_administrators_only(void **state)
{
    (void)state;
    const struct command *found = NULL;
    for (size_t i = 0; i < registry_count; i++)
        if (strcmp(registry_commands[i]->name, "personality-config") == 0)
            found = registry_commands[i];
    assert_non_null(found);
    assert_non_null(found->default_member_permissions);
    assert_string_equal(found->default_member_permissions, "8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(it_is_registered_for_administrators_only),
        HARNESS_TEST(a_member_without_administrator_is_refused_by_the_dispatcher),
        HARNESS_TEST(a_dm_is_refused_as_server_only),
        HARNESS_TEST(view_with_no_adjustments_says_so),
        HARNESS_TEST(adjust_stores_the_value_and_view_shows_it),
        HARNESS_TEST(adjust_accepts_both_ends_of_the_range_and_upserts),
        HARNESS_TEST(a_value_outside_1_to_10_is_refused_and_nothing_stored),
        HARNESS_TEST(an_unknown_parameter_is_refused),
        HARNESS_TEST(adjustments_belong_to_one_server),
        HARNESS_TEST(test_answers_with_its_fixed_text),
        HARNESS_TEST(analytics_shows_the_adjustments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
