/* test_leaderboard.c — /leaderboard through the real dispatcher (tests/unit/support/harness.h):
 * this server's players ranked by their snail_stats rows (seeded with store_snail_stats_add,
 * backdated through SQLite where ties must be broken by time), with medals, markdown-escaped
 * and cut names, a mention for a player without a name; other servers' rows never count; an
 * empty server is explained; the limit option is clamped to 5..50 whatever the request says;
 * the board is public and refused in a DM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/clock.h"
#include "core/config.h"
#include "harness.h"

#define OTHER_GUILD "200000000000000099"
#define EMPTY_TEXT "No Super Snail analyses recorded in this server yet. Use `/snail analyze` to add yours!"

/* Stores `times` analyses of user (name may be NULL: none known) in scope. */
static void analyses(struct harness *h, const char *user_id, const char *user_name, const char *scope_id, int times)
{
    static unsigned n;
    for (int i = 0; i < times; i++) {
        char interaction_id[32];
        snprintf(interaction_id, sizeof interaction_id, "82000000000%07u", ++n);
        struct store_snail_stats_new s = {.user_id = user_id,
                                          .user_name = user_name,
                                          .scope_id = scope_id,
                                          .interaction_id = interaction_id};
        int64_t id = 0;
        assert_int_equal(store_snail_stats_add(harness_store(h), &s, &id), 0);
    }
}

/* Sets every analysis of user to at_ms (the store API always stamps now). */
static void stamp(struct harness *h, const char *user_id, int64_t at_ms)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(harness_services(h)->config->sqlite_path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE snail_stats SET created_at_ms = ?1 WHERE user_id = ?2", -1, &q,
                                        NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(q, 1, at_ms);
    sqlite3_bind_text(q, 2, user_id, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    assert_true(sqlite3_changes(db) > 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* /leaderboard with options (NULL = none); asserts the deferred, public shape. */
static void leaderboard(struct harness *h, const char *options, struct harness_reply *r)
{
    harness_call_deferred(h, &(struct harness_call){.name = "leaderboard", .options = options}, r);
    assert_false(r->flags & 64); /* the board is for everyone in the channel */
}

static size_t count_lines(const char *text)
{
    size_t n = *text ? 1 : 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* Seeds `n` players with one analysis each, ids 1100000000000000000 + i. */
static void players(struct harness *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char id[48], name[48];
        snprintf(id, sizeof id, "11000000000000%05zu", i);
        snprintf(name, sizeof name, "player%zu", i);
        analyses(h, id, name, HARNESS_GUILD, 1);
    }
}

static void players_are_ranked_by_analyses_with_medals(void **state)
{
    struct harness *h = *state;
    analyses(h, "100000000000000011", "Bea", HARNESS_GUILD, 1);
    analyses(h, "100000000000000012", "Al", HARNESS_GUILD, 4);
    analyses(h, "100000000000000013", "Cy", HARNESS_GUILD, 2);
    analyses(h, "100000000000000014", "Di", HARNESS_GUILD, 3);
    analyses(h, "100000000000000011", "Bea", OTHER_GUILD, 9); /* another server's rows never count here */
    stamp(h, "100000000000000011", 1700000000000);
    stamp(h, "100000000000000012", 1700000100000);
    stamp(h, "100000000000000013", 1700000200000);
    stamp(h, "100000000000000014", 1700000300000);

    struct harness_reply r;
    leaderboard(h, NULL, &r);
    assert_string_equal(harness_embed_title(&r, 0), "🏆 Super Snail Leaderboard");
    assert_string_equal(harness_embed_description(&r, 0), "🥇 **1.** Al - 4 analyses (Last: <t:1700000100:R>)\n"
                                                          "🥈 **2.** Di - 3 analyses (Last: <t:1700000300:R>)\n"
                                                          "🥉 **3.** Cy - 2 analyses (Last: <t:1700000200:R>)\n"
                                                          "**4.** Bea - 1 analysis (Last: <t:1700000000:R>)");
    assert_string_equal(harness_embed_footer(&r, 0), "Ranked by saved analyses");
    harness_reply_cleanup(&r);
}

static void equal_counts_put_the_latest_analysis_first_then_the_lower_id(void **state)
{
    struct harness *h = *state;
    analyses(h, "100000000000000023", "Older", HARNESS_GUILD, 2);
    analyses(h, "100000000000000022", "Newer", HARNESS_GUILD, 2);
    analyses(h, "100000000000000029", "Same time, higher id", HARNESS_GUILD, 1);
    analyses(h, "100000000000000021", "Same time, lower id", HARNESS_GUILD, 1);
    stamp(h, "100000000000000023", 1700000000000);
    stamp(h, "100000000000000022", 1700000500000);
    stamp(h, "100000000000000029", 1700000000000);
    stamp(h, "100000000000000021", 1700000000000);

    struct harness_reply r;
    leaderboard(h, NULL, &r);
    assert_string_equal(harness_embed_description(&r, 0),
                        "🥇 **1.** Newer - 2 analyses (Last: <t:1700000500:R>)\n"
                        "🥈 **2.** Older - 2 analyses (Last: <t:1700000000:R>)\n"
                        "🥉 **3.** Same time, lower id - 1 analysis (Last: <t:1700000000:R>)\n"
                        "**4.** Same time, higher id - 1 analysis (Last: <t:1700000000:R>)");
    harness_reply_cleanup(&r);
}

static void names_are_escaped_cut_or_replaced_by_a_mention(void **state)
{
    struct harness *h = *state;
    analyses(h, "100000000000000031", "*snail_king*", HARNESS_GUILD, 3);
    analyses(h, "100000000000000032", NULL, HARNESS_GUILD, 2); /* no name ever given */
    /* 40 characters, 2 bytes each: cut to 31 and an ellipsis. */
    char long_name[81];
    for (int i = 0; i < 40; i++)
        memcpy(long_name + 2 * i, "é", 2);
    long_name[80] = '\0';
    analyses(h, "100000000000000033", long_name, HARNESS_GUILD, 1);

    stamp(h, "100000000000000031", 1700000000000);
    stamp(h, "100000000000000032", 1700000000000);
    stamp(h, "100000000000000033", 1700000000000);

    struct harness_reply r;
    leaderboard(h, NULL, &r);
    char cut[63];
    for (int i = 0; i < 31; i++)
        memcpy(cut + 2 * i, "é", 2);
    cut[62] = '\0';
    char expected[512];
    snprintf(expected, sizeof expected,
             "🥇 **1.** \\*snail\\_king\\* - 3 analyses (Last: <t:1700000000:R>)\n"
             "🥈 **2.** <@100000000000000032> - 2 analyses (Last: <t:1700000000:R>)\n"
             "🥉 **3.** %s… - 1 analysis (Last: <t:1700000000:R>)",
             cut);
    assert_string_equal(harness_embed_description(&r, 0), expected);
    harness_reply_cleanup(&r);
}

static void an_empty_server_is_explained(void **state)
{
    struct harness *h = *state;
    analyses(h, "100000000000000041", "Elsewhere", OTHER_GUILD, 3);
    struct harness_reply r;
    leaderboard(h, NULL, &r);
    assert_string_equal(r.content, EMPTY_TEXT);
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
}

static void a_dm_is_refused_as_server_only(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    assert_int_equal(harness_call(h, &(struct harness_call){.name = "leaderboard", .in_dm = true}, &r), 0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🏠 `/leaderboard` only works in a server, not in DMs.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(h), 0);
}

static void the_default_limit_is_ten(void **state)
{
    struct harness *h = *state;
    players(h, 12);
    struct harness_reply r;
    leaderboard(h, NULL, &r);
    assert_int_equal(count_lines(harness_embed_description(&r, 0)), 10);
    harness_reply_cleanup(&r);
    leaderboard(h, "[{\"name\":\"limit\",\"type\":4,\"value\":7}]", &r);
    assert_int_equal(count_lines(harness_embed_description(&r, 0)), 7);
    harness_reply_cleanup(&r);
}

/* Discord enforces min_value and max_value for its own clients; a forged request is clamped. */
static void a_limit_outside_5_to_50_is_clamped(void **state)
{
    struct harness *h = *state;
    players(h, 55);
    static const struct {
        const char *value;
        size_t lines;
    } cases[] = {{"2", 5}, {"0", 5}, {"-7", 5}, {"5", 5}, {"50", 50}, {"51", 50}, {"1000000", 50}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char opts[96];
        snprintf(opts, sizeof opts, "[{\"name\":\"limit\",\"type\":4,\"value\":%s}]", cases[i].value);
        struct harness_reply r;
        leaderboard(h, opts, &r);
        const char *description = harness_embed_description(&r, 0);
        assert_non_null(description);
        if (count_lines(description) != cases[i].lines)
            print_error("limit %s\n", cases[i].value);
        assert_int_equal(count_lines(description), cases[i].lines);
        assert_string_equal(harness_embed_footer(&r, 0), "Ranked by saved analyses");
        harness_reply_cleanup(&r);
    }
}

static void the_run_is_recorded_as_a_command_use(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    leaderboard(h, NULL, &r);
    harness_reply_cleanup(&r);
    struct store_user_stats s;
    assert_int_equal(store_user_stats(harness_store(h), HARNESS_USER, HARNESS_GUILD, 0, &s), 0);
    assert_int_equal(s.commands, 1);
    assert_int_equal(harness_counts(h).snail_stats, 0); /* reading the board writes no analyses */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(players_are_ranked_by_analyses_with_medals),
        HARNESS_TEST(equal_counts_put_the_latest_analysis_first_then_the_lower_id),
        HARNESS_TEST(names_are_escaped_cut_or_replaced_by_a_mention),
        HARNESS_TEST(an_empty_server_is_explained),
        HARNESS_TEST(a_dm_is_refused_as_server_only),
        HARNESS_TEST(the_default_limit_is_ten),
        HARNESS_TEST(a_limit_outside_5_to_50_is_clamped),
        HARNESS_TEST(the_run_is_recorded_as_a_command_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
