/* test_stats.c — /stats through the real dispatcher (tests/unit/support/harness.h): a user's
 * command use in this scope over a period, counted from command_usage rows (seeded with
 * store_command_usage_add, and backdated through SQLite itself where a test needs old rows);
 * someone else's stats need Administrator, or a role whose name has "mod" or "club"; an unknown
 * period is refused (the field autocompletes, so Discord no longer holds it to the choices);
 * every /stats run itself adds a "stats" row.
 *
 * The harness always sends member.roles as [], so the role test puts its own member object in
 * the body: harness_call inserts .channel verbatim before "member", and cJSON reads the first
 * of two equal keys. harness.h could take a `roles` field instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/clock.h"
#include "core/config.h"
#include "harness.h"
#include "utf8_check.h"

#define DM_SCOPE "dm:" HARNESS_CHANNEL
#define OTHER_USER "100000000000000009"
#define OTHER_GUILD "200000000000000099"
#define DAY_MS (24LL * 60 * 60 * 1000)
#define OWN_ONLY "❌ You can only view your own stats (viewing others needs Administrator or a mod/club role)."

static void use(struct harness *h, const char *user_id, const char *scope_id, const char *command, int times)
{
    for (int i = 0; i < times; i++)
        assert_int_equal(store_command_usage_add(harness_store(h), user_id, scope_id, command, true, 5), 0);
}

/* Moves the user's rows of command in scope days back in time (the store API always stamps now). */
static void backdate(struct harness *h, const char *user_id, const char *command, int64_t days)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(harness_services(h)->config->sqlite_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "UPDATE command_usage SET created_at_ms = ?1 WHERE user_id = ?2 AND "
                                        "command = ?3",
                                        -1, &q, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)clock_wall_ms() - days * DAY_MS);
    sqlite3_bind_text(q, 2, user_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, command, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    assert_true(sqlite3_changes(db) > 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* /stats with options (NULL = none); asserts the deferred, ephemeral shape. */
static void stats(struct harness *h, const struct harness_call *base, const char *options, struct harness_reply *r)
{
    struct harness_call call = *base;
    call.name = "stats";
    call.options = options;
    harness_call_deferred(h, &call, r);
    assert_true(r->flags & 64);
}

static void assert_counts(const struct harness_reply *r, const char *messages, const char *images, const char *commands)
{
    assert_string_equal(harness_embed_field(r, 0, "Messages"), messages);
    assert_string_equal(harness_embed_field(r, 0, "Images Generated"), images);
    assert_string_equal(harness_embed_field(r, 0, "Commands"), commands);
}

/* "<t:seconds:R>" of the newest row of user in scope. */
static void last_active(struct harness *h, const char *user_id, const char *scope_id, char *out, size_t cap)
{
    struct store_user_stats s;
    assert_int_equal(store_user_stats(harness_store(h), user_id, scope_id, 0, &s), 0);
    assert_true(s.last_active_ms > 0);
    snprintf(out, cap, "<t:%lld:R>", (long long)(s.last_active_ms / 1000));
}

static void own_stats_count_this_scopes_rows(void **state)
{
    struct harness *h = *state;
    use(h, HARNESS_USER, HARNESS_GUILD, "chat", 2);
    use(h, HARNESS_USER, HARNESS_GUILD, "Ask Slimy", 1);
    use(h, HARNESS_USER, HARNESS_GUILD, "dream", 3);
    use(h, HARNESS_USER, HARNESS_GUILD, "remember", 1);
    use(h, HARNESS_USER, OTHER_GUILD, "chat", 5); /* another server */
    use(h, HARNESS_USER, DM_SCOPE, "dream", 4);   /* a DM */
    use(h, OTHER_USER, HARNESS_GUILD, "chat", 6); /* someone else */
    char when[48];
    last_active(h, HARNESS_USER, HARNESS_GUILD, when, sizeof when);

    struct harness_reply r;
    stats(h, &(struct harness_call){0}, NULL, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📈 Stats for tester (30d)");
    assert_counts(&r, "3", "3", "7");
    assert_string_equal(harness_embed_field(&r, 0, "Last Active"), when);
    assert_string_equal(harness_embed_footer(&r, 0), "Counted in this server");
    harness_reply_cleanup(&r);
}

static void a_user_who_never_used_a_command_here_was_never_active(void **state)
{
    struct harness *h = *state;
    use(h, HARNESS_USER, OTHER_GUILD, "chat", 2);
    struct harness_reply r;
    stats(h, &(struct harness_call){.user_name = "Snail Fan"}, NULL, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📈 Stats for Snail Fan (30d)");
    assert_counts(&r, "0", "0", "0");
    assert_string_equal(harness_embed_field(&r, 0, "Last Active"), "Never");
    harness_reply_cleanup(&r);
}

/* A display name longer than the title's buffer is cut on a character boundary, never inside one. */
static void a_long_name_is_cut_at_a_character_boundary(void **state)
{
    struct harness *h = *state;
    char name[160], expected[256];
    memset(name, 'a', 126);
    snprintf(name + 126, sizeof name - 126,
             "\xc3\xa9"
             "bc"); /* é at bytes 126-127: the 128-byte buffer ends inside it */
    struct harness_reply r;
    stats(h, &(struct harness_call){.user_name = name}, NULL, &r);
    const char *title = harness_embed_title(&r, 0);
    assert_non_null(title);
    assert_true(utf8_code_points(title, strlen(title)) != SIZE_MAX);
    name[126] = '\0';
    snprintf(expected, sizeof expected, "📈 Stats for %s (30d)", name);
    assert_string_equal(title, expected);
    harness_reply_cleanup(&r);
}

static void every_stats_run_is_recorded_as_a_command_use(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    stats(h, &(struct harness_call){0}, NULL, &r);
    assert_counts(&r, "0", "0", "0"); /* counted before its own row is written */
    harness_reply_cleanup(&r);

    struct store_user_stats s;
    assert_int_equal(store_user_stats(harness_store(h), HARNESS_USER, HARNESS_GUILD, 0, &s), 0);
    assert_int_equal(s.commands, 1);
    assert_int_equal(s.chats, 0);
    assert_true(s.last_active_ms > 0);

    stats(h, &(struct harness_call){0}, NULL, &r);
    assert_counts(&r, "0", "0", "1");
    harness_reply_cleanup(&r);
}

static void each_period_counts_only_its_own_rows(void **state)
{
    struct harness *h = *state;
    use(h, HARNESS_USER, HARNESS_GUILD, "chat", 1);
    use(h, HARNESS_USER, HARNESS_GUILD, "dream", 1);
    use(h, HARNESS_USER, HARNESS_GUILD, "remember", 1);
    use(h, HARNESS_USER, HARNESS_GUILD, "Ask Slimy", 1);
    use(h, HARNESS_USER, HARNESS_GUILD, "consent set", 1);
    backdate(h, HARNESS_USER, "chat", 1);
    backdate(h, HARNESS_USER, "dream", 10);
    backdate(h, HARNESS_USER, "remember", 60);
    backdate(h, HARNESS_USER, "Ask Slimy", 200);
    backdate(h, HARNESS_USER, "consent set", 400); /* older than any period */
    char when[48];
    last_active(h, HARNESS_USER, HARNESS_GUILD, when, sizeof when);

    /* Each run adds a "stats" row stamped now, counted by the runs after it. */
    static const struct {
        const char *period, *title, *messages, *images, *commands;
    } cases[] = {
        {"7d", "📈 Stats for tester (7d)", "1", "0", "1"},
        {"30d", "📈 Stats for tester (30d)", "1", "1", "3"},
        {"90d", "📈 Stats for tester (90d)", "1", "1", "5"},
        {"1y", "📈 Stats for tester (1y)", "2", "1", "7"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char opts[128];
        snprintf(opts, sizeof opts, "[{\"name\":\"period\",\"type\":3,\"value\":\"%s\"}]", cases[i].period);
        struct harness_reply r;
        stats(h, &(struct harness_call){0}, opts, &r);
        assert_string_equal(harness_embed_title(&r, 0), cases[i].title);
        assert_counts(&r, cases[i].messages, cases[i].images, cases[i].commands);
        if (i == 0) /* before the first "stats" row: the newest seeded row */
            assert_string_equal(harness_embed_field(&r, 0, "Last Active"), when);
        harness_reply_cleanup(&r);
    }
}

static void an_unknown_period_is_refused(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    stats(h, &(struct harness_call){0}, "[{\"name\":\"period\",\"type\":3,\"value\":\"2w\"}]", &r);
    assert_string_equal(r.content, "❌ Unknown period. Choose 7d, 30d, 90d or 1y.");
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
}

static void someone_elses_stats_are_refused_without_administrator(void **state)
{
    struct harness *h = *state;
    use(h, OTHER_USER, HARNESS_GUILD, "chat", 4);
    struct harness_reply r;
    stats(h, &(struct harness_call){.permissions = "32"}, /* Manage Server is not enough */
          "[{\"name\":\"user\",\"type\":6,\"value\":\"" OTHER_USER "\"}]", &r);
    assert_string_equal(r.content, OWN_ONLY);
    assert_null(r.embeds);
    harness_reply_cleanup(&r);

    /* Naming yourself is always fine. */
    stats(h, &(struct harness_call){0}, "[{\"name\":\"user\",\"type\":6,\"value\":\"" HARNESS_USER "\"}]", &r);
    assert_string_equal(harness_embed_title(&r, 0), "📈 Stats for tester (30d)");
    harness_reply_cleanup(&r);
}

static void an_administrator_sees_someone_elses_stats(void **state)
{
    struct harness *h = *state;
    use(h, OTHER_USER, HARNESS_GUILD, "chat", 4);
    use(h, OTHER_USER, HARNESS_GUILD, "dream", 2);
    use(h, HARNESS_USER, HARNESS_GUILD, "chat", 9); /* the invoker's own rows are not theirs */
    struct harness_reply r;
    stats(h, &(struct harness_call){.permissions = HARNESS_ADMIN_PERMISSIONS},
          "[{\"name\":\"user\",\"type\":6,\"value\":\"" OTHER_USER "\"},"
          "{\"name\":\"period\",\"type\":3,\"value\":\"7d\"}]",
          &r);
    assert_string_equal(harness_embed_title(&r, 0), "📈 Stats for " OTHER_USER " (7d)"); /* no resolved name */
    assert_counts(&r, "4", "2", "6");
    harness_reply_cleanup(&r);

    struct harness_call call = {.permissions = HARNESS_ADMIN_PERMISSIONS,
                                .resolved = "{\"users\":{\"" OTHER_USER "\":{\"id\":\"" OTHER_USER "\","
                                            "\"username\":\"snailfan\",\"global_name\":\"Snail Fan\"}}}"};
    stats(h, &call, "[{\"name\":\"user\",\"type\":6,\"value\":\"" OTHER_USER "\"}]", &r);
    assert_string_equal(harness_embed_title(&r, 0), "📈 Stats for Snail Fan (30d)");
    assert_counts(&r, "4", "2", "6");
    harness_reply_cleanup(&r);
}

static void a_mod_role_named_in_the_request_may_see_someone_elses_stats(void **state)
{
    struct harness *h = *state;
    use(h, OTHER_USER, HARNESS_GUILD, "dream", 1);
    /* The member object the harness cannot send yet (see the file comment). */
    const char *channel = "{\"id\":\"" HARNESS_CHANNEL "\",\"type\":0},\"member\":{\"user\":{\"id\":\"" HARNESS_USER
                          "\",\"username\":\"tester\"},\"permissions\":\"0\",\"roles\":[\"700\"]}";
    const char *options = "[{\"name\":\"user\",\"type\":6,\"value\":\"" OTHER_USER "\"}]";
    struct harness_reply r;
    stats(h,
          &(struct harness_call){.channel = channel,
                                 .resolved = "{\"roles\":{\"700\":{\"id\":\"700\",\"name\":"
                                             "\"Snail Club\"}}}"},
          options, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📈 Stats for " OTHER_USER " (30d)");
    assert_counts(&r, "0", "1", "1");
    harness_reply_cleanup(&r);

    /* The same member with a role named otherwise is refused. */
    stats(h,
          &(struct harness_call){.channel = channel,
                                 .resolved = "{\"roles\":{\"700\":{\"id\":\"700\",\"name\":"
                                             "\"Snails\"}}}"},
          options, &r);
    assert_string_equal(r.content, OWN_ONLY);
    harness_reply_cleanup(&r);

    /* A role that is not the member's own does not count, whatever its name. */
    stats(h, &(struct harness_call){.resolved = "{\"roles\":{\"700\":{\"id\":\"700\",\"name\":\"Moderators\"}}}"},
          options, &r);
    assert_string_equal(r.content, OWN_ONLY);
    harness_reply_cleanup(&r);
}

static void in_a_dm_only_the_dm_rows_count_and_others_are_refused(void **state)
{
    struct harness *h = *state;
    use(h, HARNESS_USER, DM_SCOPE, "chat", 2);
    use(h, HARNESS_USER, HARNESS_GUILD, "chat", 7);
    use(h, OTHER_USER, DM_SCOPE, "chat", 1);
    struct harness_reply r;
    stats(h, &(struct harness_call){.in_dm = true}, NULL, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📈 Stats for tester (30d)");
    assert_counts(&r, "2", "0", "2");
    assert_string_equal(harness_embed_footer(&r, 0), "Counted in this DM");
    harness_reply_cleanup(&r);

    stats(h, &(struct harness_call){.in_dm = true}, "[{\"name\":\"user\",\"type\":6,\"value\":\"" OTHER_USER "\"}]",
          &r);
    assert_string_equal(r.content, OWN_ONLY);
    harness_reply_cleanup(&r);
}

/* The values /stats' period field suggests for typed, joined by ','. */
static void period_suggestions(struct harness *h, const char *typed, char *out, size_t cap)
{
    char opts[256];
    snprintf(opts, sizeof opts, "[{\"name\":\"period\",\"type\":3,\"value\":\"%s\",\"focused\":true}]", typed);
    struct harness_reply r;
    assert_int_equal(
        harness_call(h, &(struct harness_call){.type = HARNESS_AUTOCOMPLETE, .name = "stats", .options = opts}, &r), 0);
    assert_int_equal(r.type, 8);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; harness_choice_value(&r, i); i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", harness_choice_value(&r, i));
    if (harness_choice_value(&r, 0))
        assert_string_equal(harness_choice_name(&r, 0), "Last 7 days"); /* the choice's own name */
    harness_reply_cleanup(&r);
}

static void the_period_field_suggests_matching_periods(void **state)
{
    struct harness *h = *state;
    char got[256];
    period_suggestions(h, "", got, sizeof got);
    assert_string_equal(got, "7d,30d,90d,1y");
    period_suggestions(h, "DAYS", got, sizeof got);
    assert_string_equal(got, "7d,30d,90d");
    period_suggestions(h, "7", got, sizeof got);
    assert_string_equal(got, "7d");
    period_suggestions(h, "fortnight", got, sizeof got);
    assert_string_equal(got, "");
    /* Suggesting is not a /stats run: no usage row. */
    struct store_user_stats st;
    assert_int_equal(store_user_stats(harness_store(h), HARNESS_USER, HARNESS_GUILD, 0, &st), 0);
    assert_int_equal(st.commands, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(own_stats_count_this_scopes_rows),
        HARNESS_TEST(a_user_who_never_used_a_command_here_was_never_active),
        HARNESS_TEST(a_long_name_is_cut_at_a_character_boundary),
        HARNESS_TEST(every_stats_run_is_recorded_as_a_command_use),
        HARNESS_TEST(each_period_counts_only_its_own_rows),
        HARNESS_TEST(an_unknown_period_is_refused),
        HARNESS_TEST(the_period_field_suggests_matching_periods),
        HARNESS_TEST(someone_elses_stats_are_refused_without_administrator),
        HARNESS_TEST(an_administrator_sees_someone_elses_stats),
        HARNESS_TEST(a_mod_role_named_in_the_request_may_see_someone_elses_stats),
        HARNESS_TEST(in_a_dm_only_the_dm_rows_count_and_others_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
