/* test_mode.c — /mode through the real dispatcher (tests/unit/support/harness.h): set applies
 * each profile to the current channel, a channel option or a category and stores exactly the
 * modes the replace rules give; view shows direct, inherited and effective modes; list filters;
 * clear removes a record; the command needs Manage Server and a server that installed Slimy;
 * set's profile field suggests the profiles holding what was typed.
 * Expected state lines are written out here from modes.h's documented format, not computed with
 * modes_format_state(), so a change in the wording or the order is caught. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "utf8_check.h"
#include "modes/modes.h"

#define MANAGE_GUILD "32"
#define CATEGORY_ID "400000000000000004"
#define OTHER_CHANNEL "300000000000000033"
#define THREAD_ID "500000000000000005"

/* "admin: ❌ | chat: ✅ | ..." with the flags named in `on` (space separated) ticked. */
static const char *state_text(const char *on, char *out, size_t cap)
{
    static const char *const names[] = {"admin",       "chat",           "personality", "no_personality",
                                        "super_snail", "rating_unrated", "rating_pg13"};
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool is_on = false;
        size_t len = strlen(names[i]);
        for (const char *p = on; p && *p;) {
            const char *end = strchr(p, ' ');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            is_on = is_on || (n == len && strncmp(p, names[i], n) == 0);
            p = end ? end + 1 : NULL;
        }
        used += (size_t)snprintf(out + used, cap - used, "%s%s: %s", i ? " | " : "", names[i], is_on ? "✅" : "❌");
    }
    return out;
}

/* /mode <sub> as someone with Manage Server; checks the deferred, ephemeral answer arrived. */
static void mode_call(struct harness *h, const struct harness_call *base, const char *sub, const char *options,
                      struct harness_reply *r)
{
    char opts[1024];
    snprintf(opts, sizeof opts, "[{\"name\":\"%s\",\"type\":1%s%s}]", sub, options ? ",\"options\":" : "",
             options ? options : "");
    struct harness_call call = base ? *base : (struct harness_call){0};
    call.name = "mode";
    call.options = opts;
    if (!call.permissions)
        call.permissions = MANAGE_GUILD;
    harness_call_deferred(h, &call, r);
    assert_true(r->flags & 64);
}

static unsigned stored(struct harness *h, enum store_target_type type, const char *id)
{
    unsigned modes = 0xFFFF;
    assert_int_equal(store_mode_get(harness_store(h), HARNESS_GUILD, type, id, &modes), 0);
    return modes;
}

static void seed(struct harness *h, enum store_target_type type, const char *id, unsigned modes)
{
    assert_int_equal(store_mode_put(harness_store(h), HARNESS_GUILD, type, id, modes), 0);
}

static void set_on_the_current_channel_stores_the_profile_and_describes_it(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    mode_call(h, NULL, "set", "[{\"name\":\"profile\",\"type\":3,\"value\":\"chat|personality|rating_pg13\"}]", &r);
    char s[MODES_STATE_TEXT_MAX], expected[1024];
    state_text("chat personality rating_pg13", s, sizeof s);
    snprintf(expected, sizeof expected,
             "📂 Applied **Chat · Personality · Rated PG-13** to <#" HARNESS_CHANNEL ">.\n"
             "**Direct:** %s\n**Inherited:** none\n**Effective:** %s",
             s, s);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13);
}

/* Every profile through a channel option: the stored bits follow modes.h's replace rules (a
 * rating brings personality with it, so "no personality" profiles also store personality). */
static void each_profile_stores_its_modes_on_a_channel_option(void **state)
{
    struct harness *h = *state;
    static const struct {
        const char *value, *label;
        unsigned modes;
        const char *on;
    } cases[] = {
        {"chat|personality|rating_pg13", "Chat · Personality · Rated PG-13",
         MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13, "chat personality rating_pg13"},
        {"chat|personality|rating_unrated", "Chat · Personality · Unrated",
         MODE_CHAT | MODE_PERSONALITY | MODE_RATING_UNRATED, "chat personality rating_unrated"},
        {"chat|no_personality|rating_pg13", "Chat · No Personality · Rated PG-13",
         MODE_CHAT | MODE_PERSONALITY | MODE_NO_PERSONALITY | MODE_RATING_PG13,
         "chat personality no_personality rating_pg13"},
        {"chat|no_personality|rating_unrated", "Chat · No Personality · Unrated",
         MODE_CHAT | MODE_PERSONALITY | MODE_NO_PERSONALITY | MODE_RATING_UNRATED,
         "chat personality no_personality rating_unrated"},
        {"super_snail|personality|rating_pg13", "Super Snail · Personality · Rated PG-13",
         MODE_SUPER_SNAIL | MODE_PERSONALITY | MODE_RATING_PG13, "super_snail personality rating_pg13"},
        {"super_snail|personality|rating_unrated", "Super Snail · Personality · Unrated",
         MODE_SUPER_SNAIL | MODE_PERSONALITY | MODE_RATING_UNRATED, "super_snail personality rating_unrated"},
        {"super_snail|no_personality|rating_pg13", "Super Snail · No Personality · Rated PG-13",
         MODE_SUPER_SNAIL | MODE_PERSONALITY | MODE_NO_PERSONALITY | MODE_RATING_PG13,
         "super_snail personality no_personality rating_pg13"},
        {"super_snail|no_personality|rating_unrated", "Super Snail · No Personality · Unrated",
         MODE_SUPER_SNAIL | MODE_PERSONALITY | MODE_NO_PERSONALITY | MODE_RATING_UNRATED,
         "super_snail personality no_personality rating_unrated"},
    };
    const char *resolved = "{\"channels\":{\"" OTHER_CHANNEL "\":{\"id\":\"" OTHER_CHANNEL "\",\"type\":0,"
                           "\"name\":\"general\"}}}";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char opts[256], s[MODES_STATE_TEXT_MAX], head[256];
        snprintf(opts, sizeof opts,
                 "[{\"name\":\"profile\",\"type\":3,\"value\":\"%s\"},"
                 "{\"name\":\"channel\",\"type\":7,\"value\":\"" OTHER_CHANNEL "\"}]",
                 cases[i].value);
        struct harness_reply r;
        mode_call(h, &(struct harness_call){.resolved = resolved}, "set", opts, &r);
        snprintf(head, sizeof head, "📂 Applied **%s** to <#" OTHER_CHANNEL ">.\n**Direct:** %s\n", cases[i].label,
                 state_text(cases[i].on, s, sizeof s));
        assert_true(strncmp(r.content, head, strlen(head)) == 0);
        harness_reply_cleanup(&r);
        assert_int_equal(stored(h, TARGET_CHANNEL, OTHER_CHANNEL), cases[i].modes);
        assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), 0); /* not the channel it was used in */
    }
}

static void the_clear_profile_removes_the_record(void **state)
{
    struct harness *h = *state;
    seed(h, TARGET_CHANNEL, HARNESS_CHANNEL, MODE_CHAT);
    struct harness_reply r;
    mode_call(h, NULL, "set", "[{\"name\":\"profile\",\"type\":3,\"value\":\"clear\"}]", &r);
    assert_string_equal(r.content, "🧹 Cleared all modes for <#" HARNESS_CHANNEL ">.");
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), 0);
}

static void set_on_a_category_stores_a_category_record_and_names_it(void **state)
{
    struct harness *h = *state;
    const char *resolved = "{\"channels\":{"
                           "\"" CATEGORY_ID "\":{\"id\":\"" CATEGORY_ID "\",\"type\":4,\"name\":\"Games\"},"
                           "\"" OTHER_CHANNEL "\":{\"id\":\"" OTHER_CHANNEL "\",\"type\":0,\"name\":\"general\"}}}";
    struct harness_reply r;
    /* Both options: the category overrides the channel. */
    mode_call(h, &(struct harness_call){.resolved = resolved}, "set",
              "[{\"name\":\"profile\",\"type\":3,\"value\":\"super_snail|personality|rating_unrated\"},"
              "{\"name\":\"channel\",\"type\":7,\"value\":\"" OTHER_CHANNEL "\"},"
              "{\"name\":\"category\",\"type\":7,\"value\":\"" CATEGORY_ID "\"}]",
              &r);
    char s[MODES_STATE_TEXT_MAX], expected[1024];
    state_text("super_snail personality rating_unrated", s, sizeof s);
    snprintf(expected, sizeof expected,
             "📂 Applied **Super Snail · Personality · Unrated** to category **Games**.\n"
             "**Direct:** %s\n**Inherited:** none\n**Effective:** %s",
             s, s);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CATEGORY, CATEGORY_ID),
                     MODE_SUPER_SNAIL | MODE_PERSONALITY | MODE_RATING_UNRATED);
    assert_int_equal(stored(h, TARGET_CHANNEL, OTHER_CHANNEL), 0);
    assert_int_equal(stored(h, TARGET_CHANNEL, CATEGORY_ID), 0);
}

/* A category name longer than the 100 bytes kept is cut on a character boundary. */
static void a_long_category_name_is_cut_at_a_character_boundary(void **state)
{
    struct harness *h = *state;
    char name[120], resolved[512], expected[1024];
    memset(name, 'g', 99);
    snprintf(name + 99, sizeof name - 99, "\xc3\xa9"); /* é at bytes 99-100: byte 100 is the last one kept */
    snprintf(resolved, sizeof resolved,
             "{\"channels\":{\"" CATEGORY_ID "\":{\"id\":\"" CATEGORY_ID "\",\"type\":4,\"name\":\"%s\"}}}", name);
    struct harness_reply r;
    mode_call(h, &(struct harness_call){.resolved = resolved}, "set",
              "[{\"name\":\"profile\",\"type\":3,\"value\":\"chat\"},"
              "{\"name\":\"category\",\"type\":7,\"value\":\"" CATEGORY_ID "\"}]",
              &r);
    assert_true(utf8_code_points(r.content, strlen(r.content)) != SIZE_MAX);
    name[99] = '\0';
    snprintf(expected, sizeof expected, "to category **%s**.\n", name);
    if (!strstr(r.content, expected))
        fail_msg("\"%s\" does not contain \"%s\"", r.content, expected);
    harness_reply_cleanup(&r);
}

/* With autocomplete, Discord no longer holds the field to the choices: any typed text reaches the
 * command, which refuses what is not a mode list (a profile's label is not its value). */
static void a_profile_naming_no_mode_is_refused(void **state)
{
    struct harness *h = *state;
    static const char *const typed[] = {"bogus|nothing", "Super Snail"};
    for (size_t i = 0; i < 2; i++) {
        char options[128];
        snprintf(options, sizeof options, "[{\"name\":\"profile\",\"type\":3,\"value\":\"%s\"}]", typed[i]);
        struct harness_reply r;
        mode_call(h, NULL, "set", options, &r);
        assert_string_equal(r.content, "❌ That is not a mode profile. Pick one of the suggestions.");
        harness_reply_cleanup(&r);
        assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), 0);
    }
}

static void view_shows_direct_inherited_and_effective_modes(void **state)
{
    struct harness *h = *state;
    seed(h, TARGET_CATEGORY, CATEGORY_ID, MODE_SUPER_SNAIL | MODE_PERSONALITY | MODE_RATING_PG13);
    seed(h, TARGET_CHANNEL, HARNESS_CHANNEL, MODE_CHAT);
    struct harness_reply r;
    mode_call(h,
              &(struct harness_call){.channel = "{\"id\":\"" HARNESS_CHANNEL "\",\"type\":0,"
                                                "\"parent_id\":\"" CATEGORY_ID "\"}"},
              "view", NULL, &r);
    char own[MODES_STATE_TEXT_MAX], parent[MODES_STATE_TEXT_MAX], effective[MODES_STATE_TEXT_MAX], expected[1024];
    snprintf(expected, sizeof expected,
             "📋 Mode configuration for <#" HARNESS_CHANNEL ">\n**Direct:** %s\n**Inherited:**\n"
             "• category <#" CATEGORY_ID ">: %s\n**Effective:** %s",
             state_text("chat", own, sizeof own),
             state_text("super_snail personality rating_pg13", parent, sizeof parent),
             state_text("chat super_snail personality rating_pg13", effective, sizeof effective));
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
}

static void view_of_a_channel_option_reads_its_parent_from_the_resolved_channel(void **state)
{
    struct harness *h = *state;
    seed(h, TARGET_CATEGORY, CATEGORY_ID, MODE_CHAT | MODE_NO_PERSONALITY);
    const char *resolved = "{\"channels\":{\"" OTHER_CHANNEL "\":{\"id\":\"" OTHER_CHANNEL "\",\"type\":0,"
                           "\"name\":\"general\",\"parent_id\":\"" CATEGORY_ID "\"}}}";
    struct harness_reply r;
    mode_call(h, &(struct harness_call){.resolved = resolved}, "view",
              "[{\"name\":\"channel\",\"type\":7,\"value\":\"" OTHER_CHANNEL "\"}]", &r);
    char none[MODES_STATE_TEXT_MAX], parent[MODES_STATE_TEXT_MAX], expected[1024];
    snprintf(expected, sizeof expected,
             "📋 Mode configuration for <#" OTHER_CHANNEL ">\n**Direct:** %s\n**Inherited:**\n"
             "• category <#" CATEGORY_ID ">: %s\n**Effective:** %s",
             state_text("", none, sizeof none), state_text("chat no_personality", parent, sizeof parent), parent);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
}

static void view_of_a_thread_inherits_from_its_channel(void **state)
{
    struct harness *h = *state;
    seed(h, TARGET_CHANNEL, HARNESS_CHANNEL, MODE_CHAT | MODE_PERSONALITY);
    seed(h, TARGET_THREAD, THREAD_ID, MODE_SUPER_SNAIL);
    struct harness_reply r;
    mode_call(h,
              &(struct harness_call){.channel_id = THREAD_ID,
                                     .channel = "{\"id\":\"" THREAD_ID "\",\"type\":11,"
                                                "\"parent_id\":\"" HARNESS_CHANNEL "\"}"},
              "view", NULL, &r);
    char own[MODES_STATE_TEXT_MAX], parent[MODES_STATE_TEXT_MAX], effective[MODES_STATE_TEXT_MAX], expected[1024];
    snprintf(expected, sizeof expected,
             "📋 Mode configuration for <#" THREAD_ID ">\n**Direct:** %s\n**Inherited:**\n"
             "• channel <#" HARNESS_CHANNEL ">: %s\n**Effective:** %s",
             state_text("super_snail", own, sizeof own), state_text("chat personality", parent, sizeof parent),
             state_text("chat personality super_snail", effective, sizeof effective));
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
}

static void list_shows_every_record_and_filters_by_mode(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    mode_call(h, NULL, "list", NULL, &r);
    assert_string_equal(r.content, "📭 No mode configurations found.");
    harness_reply_cleanup(&r);

    seed(h, TARGET_CHANNEL, HARNESS_CHANNEL, MODE_CHAT | MODE_PERSONALITY);
    seed(h, TARGET_CATEGORY, CATEGORY_ID, MODE_SUPER_SNAIL);
    seed(h, TARGET_CHANNEL, OTHER_CHANNEL, MODE_CHAT | MODE_PERSONALITY | MODE_RATING_UNRATED);
    char a[MODES_STATE_TEXT_MAX], b[MODES_STATE_TEXT_MAX], c[MODES_STATE_TEXT_MAX], expected[2048];

    mode_call(h, NULL, "list", NULL, &r);
    snprintf(expected, sizeof expected,
             "📋 Mode configurations (All configurations)\n• category <#" CATEGORY_ID ">: %s\n"
             "• <#" HARNESS_CHANNEL ">: %s\n• <#" OTHER_CHANNEL ">: %s",
             state_text("super_snail", a, sizeof a), state_text("chat personality", b, sizeof b),
             state_text("chat personality rating_unrated", c, sizeof c));
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);

    mode_call(h, NULL, "list", "[{\"name\":\"filter\",\"type\":3,\"value\":\"chat\"}]", &r);
    snprintf(expected, sizeof expected,
             "📋 Mode configurations (Chat enabled)\n• <#" HARNESS_CHANNEL ">: %s\n• <#" OTHER_CHANNEL ">: %s", b, c);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);

    mode_call(h, NULL, "list", "[{\"name\":\"filter\",\"type\":3,\"value\":\"rating_unrated\"}]", &r);
    snprintf(expected, sizeof expected, "📋 Mode configurations (Unrated)\n• <#" OTHER_CHANNEL ">: %s", c);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);

    mode_call(h, NULL, "list", "[{\"name\":\"filter\",\"type\":3,\"value\":\"no_personality\"}]", &r);
    assert_string_equal(r.content, "📭 No mode configurations found.");
    harness_reply_cleanup(&r);
}

static void list_shows_only_this_servers_records(void **state)
{
    struct harness *h = *state;
    assert_int_equal(store_mode_put(harness_store(h), "999999999999999999", TARGET_CHANNEL, OTHER_CHANNEL, MODE_CHAT),
                     0);
    struct harness_reply r;
    mode_call(h, NULL, "list", NULL, &r);
    assert_string_equal(r.content, "📭 No mode configurations found.");
    harness_reply_cleanup(&r);
}

static void clear_removes_the_modes_of_the_current_channel_or_a_category(void **state)
{
    struct harness *h = *state;
    seed(h, TARGET_CHANNEL, HARNESS_CHANNEL, MODE_CHAT | MODE_PERSONALITY);
    seed(h, TARGET_CHANNEL, OTHER_CHANNEL, MODE_CHAT);
    seed(h, TARGET_CATEGORY, CATEGORY_ID, MODE_SUPER_SNAIL);
    struct harness_reply r;
    mode_call(h, NULL, "clear", NULL, &r);
    assert_string_equal(r.content, "✅ All modes cleared from <#" HARNESS_CHANNEL ">");
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), 0);
    assert_int_equal(stored(h, TARGET_CHANNEL, OTHER_CHANNEL), MODE_CHAT);

    const char *resolved = "{\"channels\":{\"" CATEGORY_ID "\":{\"id\":\"" CATEGORY_ID "\",\"type\":4,"
                           "\"name\":\"Games\"}}}";
    mode_call(h, &(struct harness_call){.resolved = resolved}, "clear",
              "[{\"name\":\"channel\",\"type\":7,\"value\":\"" CATEGORY_ID "\"}]", &r);
    assert_string_equal(r.content, "✅ All modes cleared from category **Games**");
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CATEGORY, CATEGORY_ID), 0);
    assert_int_equal(stored(h, TARGET_CHANNEL, OTHER_CHANNEL), MODE_CHAT);
}

static void without_manage_server_nothing_runs(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){.name = "mode",
                                                         .permissions = "2048", /* Send Messages only */
                                                         .options = "[{\"name\":\"set\",\"type\":1,\"options\":["
                                                                    "{\"name\":\"profile\",\"type\":3,"
                                                                    "\"value\":\"chat|personality|rating_pg13\"}]}]"},
                                  &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "❌ This command requires the Manage Server permission.");
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), 0);
    assert_int_equal(harness_deliveries(h), 0);
}

static void an_administrator_may_use_it(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    mode_call(h, &(struct harness_call){.permissions = HARNESS_ADMIN_PERMISSIONS}, "set",
              "[{\"name\":\"profile\",\"type\":3,\"value\":\"chat|personality|rating_pg13\"}]", &r);
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13);
}

static void in_a_dm_it_is_refused(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    assert_int_equal(
        harness_call(
            h, &(struct harness_call){.name = "mode", .in_dm = true, .options = "[{\"name\":\"list\",\"type\":1}]"},
            &r),
        0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🏠 `/mode list` only works in a server, not in DMs.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(h), 0);
}

/* The values /mode set's profile field suggests for typed, joined by ','. */
static void profile_suggestions(struct harness *h, const char *typed, char *out, size_t cap)
{
    char opts[256];
    snprintf(opts, sizeof opts,
             "[{\"name\":\"set\",\"type\":1,\"options\":[{\"name\":\"profile\",\"type\":3,\"value\":\"%s\","
             "\"focused\":true}]}]",
             typed);
    struct harness_reply r;
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){.type = HARNESS_AUTOCOMPLETE,
                                                         .name = "mode",
                                                         .permissions = MANAGE_GUILD,
                                                         .options = opts},
                                  &r),
                     0);
    assert_int_equal(r.type, 8);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; harness_choice_value(&r, i); i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", harness_choice_value(&r, i));
    harness_reply_cleanup(&r);
}

static void the_profile_field_suggests_matching_profiles(void **state)
{
    struct harness *h = *state;
    char got[1024];
    profile_suggestions(h, "snail", got, sizeof got);
    assert_string_equal(got, "super_snail|personality|rating_pg13,super_snail|personality|rating_unrated,"
                             "super_snail|no_personality|rating_pg13,super_snail|no_personality|rating_unrated");
    profile_suggestions(h, "NO PERSONALITY · UNRATED", got, sizeof got); /* the names count, in any case */
    assert_string_equal(got, "chat|no_personality|rating_unrated,super_snail|no_personality|rating_unrated");
    profile_suggestions(h, "clear", got, sizeof got);
    assert_string_equal(got, "clear");
    profile_suggestions(h, "", got, sizeof got);
    assert_int_equal(strlen(got) > 0, 1);
    size_t commas = 0;
    for (const char *p = got; *p; p++)
        commas += *p == ',';
    assert_int_equal(commas, 8); /* all nine profiles */
    profile_suggestions(h, "xyz", got, sizeof got);
    assert_string_equal(got, "");
    assert_int_equal(harness_deliveries(h), 0); /* suggesting runs nothing */
}

/* In a server that never added Slimy (only the user installed it) /mode runs nothing. */
static void in_a_server_without_the_install_it_is_refused(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){.name = "mode",
                                                         .permissions = HARNESS_ADMIN_PERMISSIONS,
                                                         .owners = "{\"1\":\"" HARNESS_USER "\"}",
                                                         .options = "[{\"name\":\"set\",\"type\":1,\"options\":["
                                                                    "{\"name\":\"profile\",\"type\":3,"
                                                                    "\"value\":\"chat|personality|rating_pg13\"}]}]"},
                                  &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🏠 `/mode set` only works in servers that have added Slimy.");
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), 0);
    assert_int_equal(harness_deliveries(h), 0);

    /* The server's install alongside the user's: it runs. */
    mode_call(h, &(struct harness_call){.owners = "{\"0\":\"" HARNESS_GUILD "\",\"1\":\"" HARNESS_USER "\"}"}, "set",
              "[{\"name\":\"profile\",\"type\":3,\"value\":\"chat|personality|rating_pg13\"}]", &r);
    harness_reply_cleanup(&r);
    assert_int_equal(stored(h, TARGET_CHANNEL, HARNESS_CHANNEL), MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(set_on_the_current_channel_stores_the_profile_and_describes_it),
        HARNESS_TEST(each_profile_stores_its_modes_on_a_channel_option),
        HARNESS_TEST(the_clear_profile_removes_the_record),
        HARNESS_TEST(set_on_a_category_stores_a_category_record_and_names_it),
        HARNESS_TEST(a_long_category_name_is_cut_at_a_character_boundary),
        HARNESS_TEST(a_profile_naming_no_mode_is_refused),
        HARNESS_TEST(view_shows_direct_inherited_and_effective_modes),
        HARNESS_TEST(view_of_a_channel_option_reads_its_parent_from_the_resolved_channel),
        HARNESS_TEST(view_of_a_thread_inherits_from_its_channel),
        HARNESS_TEST(list_shows_every_record_and_filters_by_mode),
        HARNESS_TEST(list_shows_only_this_servers_records),
        HARNESS_TEST(clear_removes_the_modes_of_the_current_channel_or_a_category),
        HARNESS_TEST(without_manage_server_nothing_runs),
        HARNESS_TEST(an_administrator_may_use_it),
        HARNESS_TEST(in_a_dm_it_is_refused),
        HARNESS_TEST(the_profile_field_suggests_matching_profiles),
        HARNESS_TEST(in_a_server_without_the_install_it_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
