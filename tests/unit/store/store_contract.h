/* store_contract.h — the contract suite of store.h, run unchanged against every backend
 * (test_store_sqlite.c, test_store_mariadb.c), as h2o runs one unit suite on two event loops.
 * Every expectation comes from the comments in store.h, never from what a backend happens to do.
 *
 * A test program includes this file once, sets the five hooks below, calls sodium_init(), and
 * runs store_contract_tests with cmocka. Each test opens its own fresh database (contract_reset()
 * then contract_open()) and still uses random user and scope ids, and compares counts as
 * deltas, so nothing depends on what an earlier test left behind. Checks that cover many calls
 * report every wrong answer before failing, so one run shows the whole picture. At the end, a few
 * helpers for the tests of one backend only. */
#ifndef SLIMY_TESTS_STORE_CONTRACT_H
#define SLIMY_TESTS_STORE_CONTRACT_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/clock.h"
#include "core/status.h"
#include "modes/modes.h"
#include "store/migrations.h"
#include "store/store.h"

/* ---- hooks the test program sets before running the suite ---- */

/* The ops->name the backend must report: "sqlite" or "mariadb". Also the migrations dialect. */
static const char *contract_backend;
/* Opens the current database with store_open(cfg, true, ...); NULL (after printing the error)
 * on failure. Safe to call from several threads at once. */
static struct store *(*contract_open)(void);
/* The same with apply_migrations false. */
static struct store *(*contract_open_unmigrated)(void);
/* Discards the current database, if any, and makes a new, empty one that the following
 * contract_open() calls open. Called from the test thread only. */
static void (*contract_reset)(void);
/* Makes the current database refuse every later insert into table ("memories" or "snail_stats")
 * as a duplicate key, as a key other than interaction_id colliding would (a trigger, say). */
static void (*contract_refuse_inserts)(const char *table);

/* ---- constants ---- */

#define CONTRACT_TIME_SLACK_MS 2000 /* server and test share a host; this only absorbs rounding */
#define CONTRACT_THREADS 4
#define CONTRACT_ADDS_PER_THREAD 20
#define CONTRACT_SAME_KEY_THREADS 8
#define CONTRACT_BURST 10
#define CONTRACT_OPEN_RACE_ROUNDS 100
#define CONTRACT_OPENERS 4
#define CONTRACT_ALL_MODES                                                                                      \
    (MODE_ADMIN | MODE_CHAT | MODE_PERSONALITY | MODE_NO_PERSONALITY | MODE_SUPER_SNAIL | MODE_RATING_UNRATED | \
     MODE_RATING_PG13)
#define EMOJI_SNAIL "\xF0\x9F\x90\x8C" /* U+1F40C, 4 bytes in UTF-8 */

/* ---- helpers ---- */

/* A fresh snowflake-like id: 19 random digits, the first never 0. */
static void new_snowflake(char out[STORE_ID_MAX])
{
    out[0] = (char)('1' + randombytes_uniform(9));
    for (int i = 1; i < 19; i++)
        out[i] = (char)('0' + randombytes_uniform(10));
    out[19] = '\0';
}

/* A DM scope, "dm:<channel id>", as store.h describes it. */
static void new_dm_scope(char out[STORE_ID_MAX])
{
    char channel[STORE_ID_MAX];
    new_snowflake(channel);
    memcpy(out, "dm:", 3);
    memcpy(out + 3, channel, 20); /* 19 digits and the NUL */
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static int64_t wall_ms(void)
{
    return (int64_t)clock_wall_ms();
}

/* A "unix ms" timestamp taken during [before, after] (both read from the wall clock). */
static void assert_time_between(int64_t t, int64_t before, int64_t after)
{
    if (t < before - CONTRACT_TIME_SLACK_MS || t > after + CONTRACT_TIME_SLACK_MS)
        fail_msg("timestamp %lld is not unix ms within [%lld, %lld]", (long long)t, (long long)before,
                 (long long)after);
}

static int setup_store(void **state)
{
    contract_reset();
    struct store *st = contract_open();
    if (!st)
        return -1;
    *state = st;
    return 0;
}

static int teardown_store(void **state)
{
    store_close(*state);
    return 0;
}

/* Adds a memory with a fresh interaction id and the given tags/context (NULL = defaults);
 * returns the status and writes the id. */
static int add_memory_full(struct store *st, const char *user_id, const char *scope_id, const char *note,
                           const char *tags_json, const char *context_json, char id_out[STORE_ID_MAX])
{
    char interaction_id[STORE_ID_MAX];
    new_snowflake(interaction_id);
    struct store_memory_new m = {
        .user_id = user_id,
        .user_name = "Contract Tester",
        .scope_id = scope_id,
        .note = note,
        .tags_json = tags_json,
        .context_json = context_json,
        .interaction_id = interaction_id,
    };
    return store_memory_add(st, &m, id_out);
}

static void add_memory(struct store *st, const char *user_id, const char *scope_id, const char *note,
                       char id_out[STORE_ID_MAX])
{
    assert_int_equal(add_memory_full(st, user_id, scope_id, note, NULL, NULL, id_out), SLIMY_OK);
}

/* Lists with a large max and returns the count. */
static size_t count_memories(struct store *st, const char *user_id, const char *scope_id)
{
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user_id, scope_id, STORE_LIST_MAX, &out), SLIMY_OK);
    size_t n = out.n;
    store_memories_free(&out);
    return n;
}

static const struct store_memory *find_memory(const struct store_memories *list, const char *id)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].id, id) == 0)
            return &list->items[i];
    return NULL;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 8-4-4-4-12 hex digits, version nibble 4, RFC 4122 variant (8, 9, a or b). */
static void assert_uuid_v4(const char *id)
{
    if (strlen(id) != 36)
        fail_msg("id \"%s\" is not 36 characters", id);
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? id[i] != '-' : !is_hex(id[i]))
            fail_msg("id \"%s\" is not UUID text (position %d)", id, i);
    }
    if (id[14] != '4')
        fail_msg("id \"%s\" is not version 4", id);
    if (!strchr("89abAB", id[19]))
        fail_msg("id \"%s\" does not have the RFC 4122 variant", id);
}

static struct store_counts get_counts(struct store *st)
{
    struct store_counts c;
    memset(&c, 0xAB, sizeof c); /* a backend that leaves a field unset fails the deltas */
    assert_int_equal(store_counts(st, &c), SLIMY_OK);
    return c;
}

static void assert_same_names(char **a, size_t n_a, char **b, size_t n_b)
{
    assert_int_equal(n_a, n_b);
    for (size_t i = 0; i < n_a; i++)
        assert_string_equal(a[i], b[i]);
}

/* ============================================================================================
 * The interface itself
 * ========================================================================================== */

/* ops->name names the backend, and every slot of the ops table is filled (STYLE: no optional methods). */
static void test_ops_table_complete(void **state)
{
    struct store *st = *state;
    const struct store_ops *ops = st->ops;
    assert_non_null(ops);
    assert_non_null(ops->name);
    assert_string_equal(ops->name, contract_backend);
    assert_non_null(ops->close);
    assert_non_null(ops->ping);
    assert_non_null(ops->consent_get);
    assert_non_null(ops->consent_set);
    assert_non_null(ops->memory_add);
    assert_non_null(ops->memory_list);
    assert_non_null(ops->memory_find);
    assert_non_null(ops->memory_delete);
    assert_non_null(ops->memory_delete_all);
    assert_non_null(ops->mode_get);
    assert_non_null(ops->mode_put);
    assert_non_null(ops->mode_list);
    assert_non_null(ops->adjustment_set);
    assert_non_null(ops->adjustment_list);
    assert_non_null(ops->snail_stats_add);
    assert_non_null(ops->snail_stats_list);
    assert_non_null(ops->image_log_add);
    assert_non_null(ops->command_usage_add);
    assert_non_null(ops->leaderboard);
    assert_non_null(ops->user_stats);
    assert_non_null(ops->counts);
    assert_non_null(ops->migrations_applied);
}

static void test_ping(void **state)
{
    assert_int_equal(store_ping(*state), SLIMY_OK);
}

/* ============================================================================================
 * Migrations
 * ========================================================================================== */

/* A fresh database gets every migration of its dialect, sorted, "0001_init" first. */
static void test_migrations_fresh_database_gets_all(void **state)
{
    struct store *st = *state;
    size_t n_expected = 0;
    const struct migration *expected = migrations_list(contract_backend, &n_expected);
    assert_true(n_expected > 0); /* the build embedded migrations/<dialect>/ */

    char **names = NULL;
    size_t n = 0;
    assert_int_equal(store_migrations_applied(st, &names, &n), SLIMY_OK);
    assert_int_equal(n, n_expected);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], expected[i].name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) >= 0)
            fail_msg("migration names not sorted: \"%s\" before \"%s\"", names[i - 1], names[i]);
    assert_string_equal(names[0], "0001_init");
    store_names_free(names, n);
}

/* Opening an already migrated database applies nothing: the same names, and the data survives. */
static void test_migrations_second_open_applies_nothing(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "survives a second open", id);

    char **first = NULL, **second = NULL;
    size_t n_first = 0, n_second = 0;
    assert_int_equal(store_migrations_applied(st, &first, &n_first), SLIMY_OK);

    struct store *again = contract_open();
    assert_non_null(again);
    assert_int_equal(store_migrations_applied(again, &second, &n_second), SLIMY_OK);
    assert_same_names(first, n_first, second, n_second);

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(again, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, id);
    assert_string_equal(out.items[0].note, "survives a second open");
    store_memories_free(&out);
    store_close(again);

    /* And a third open after the second is closed. */
    again = contract_open();
    assert_non_null(again);
    store_names_free(second, n_second);
    second = NULL;
    assert_int_equal(store_migrations_applied(again, &second, &n_second), SLIMY_OK);
    assert_same_names(first, n_first, second, n_second);
    assert_int_equal(count_memories(again, user, scope), 1);
    store_close(again);

    store_names_free(first, n_first);
    store_names_free(second, n_second);
}

struct opener {
    pthread_barrier_t *start;
    struct store *st;
};

static void *open_thread(void *arg)
{
    struct opener *o = arg;
    pthread_barrier_wait(o->start);
    o->st = contract_open();
    return NULL;
}

/* Several store_open() calls at once on a fresh database all apply migrations "under a lock so
 * replicas starting together never race": all succeed and each lists every migration once. A
 * lost race is rare, so it is run CONTRACT_OPEN_RACE_ROUNDS times, each on a new database. */
static void test_open_concurrently_on_fresh_database(void **state)
{
    (void)state;
    size_t n_expected = 0;
    const struct migration *expected = migrations_list(contract_backend, &n_expected);
    for (int round = 0; round < CONTRACT_OPEN_RACE_ROUNDS; round++) {
        contract_reset();
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, CONTRACT_OPENERS);
        struct opener o[CONTRACT_OPENERS];
        pthread_t t[CONTRACT_OPENERS];
        for (int i = 0; i < CONTRACT_OPENERS; i++) {
            o[i] = (struct opener){.start = &start};
            assert_int_equal(pthread_create(&t[i], NULL, open_thread, &o[i]), 0);
        }
        for (int i = 0; i < CONTRACT_OPENERS; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);

        int n_failed = 0;
        bool same_names = true;
        for (int i = 0; i < CONTRACT_OPENERS; i++) {
            if (!o[i].st) {
                n_failed++;
                continue;
            }
            char **names = NULL;
            size_t n = 0;
            if (store_migrations_applied(o[i].st, &names, &n) != SLIMY_OK || n != n_expected)
                same_names = false;
            for (size_t k = 0; same_names && k < n; k++)
                same_names = strcmp(names[k], expected[k].name) == 0;
            store_names_free(names, n);
            store_close(o[i].st);
        }
        if (n_failed)
            fail_msg("round %d: %d of %d concurrent store_open() calls on a fresh database failed", round + 1, n_failed,
                     CONTRACT_OPENERS);
        if (!same_names)
            fail_msg("round %d: a store does not list exactly the dialect's migrations", round + 1);
    }
}

/* apply_migrations false: the store opens even on a fresh database; ping and
 * migrations_applied work ("no schema_migrations table means none applied"). Once migrated, an
 * unmigrated open lists them all and every op works. */
static void test_open_without_migrations(void **state)
{
    (void)state;
    contract_reset();
    struct store *st = contract_open_unmigrated();
    assert_non_null(st);
    assert_int_equal(store_ping(st), SLIMY_OK);
    char **names = NULL;
    size_t n = 99;
    assert_int_equal(store_migrations_applied(st, &names, &n), SLIMY_OK);
    assert_int_equal(n, 0);
    store_names_free(names, n);
    store_close(st);

    st = contract_open();
    assert_non_null(st);
    store_close(st);

    st = contract_open_unmigrated();
    assert_non_null(st);
    size_t n_expected = 0;
    migrations_list(contract_backend, &n_expected);
    names = NULL;
    assert_int_equal(store_migrations_applied(st, &names, &n), SLIMY_OK);
    assert_int_equal(n, n_expected);
    store_names_free(names, n);
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "after an unmigrated open", id);
    assert_int_equal(count_memories(st, user, scope), 1);
    store_close(st);
}

/* ============================================================================================
 * Consent
 * ========================================================================================== */

static bool consent(struct store *st, const char *user_id, const char *scope_id)
{
    bool allowed = true; /* poisoned: the backend must write false itself */
    assert_int_equal(store_consent_get(st, user_id, scope_id, &allowed), SLIMY_OK);
    return allowed;
}

static void test_consent_absent_is_false(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    assert_false(consent(st, user, scope));
}

static void test_consent_set_and_revoke(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    assert_int_equal(store_consent_set(st, user, "Slimy Fan", scope, true), SLIMY_OK);
    assert_true(consent(st, user, scope));
    assert_int_equal(store_consent_set(st, user, "Slimy Fan", scope, false), SLIMY_OK);
    assert_false(consent(st, user, scope));
    assert_int_equal(store_consent_set(st, user, "Slimy Fan", scope, true), SLIMY_OK);
    assert_true(consent(st, user, scope));
}

/* Consent in guild A says nothing about guild B, the user's DM, or another user in A. */
static void test_consent_is_per_scope_and_user(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other_user[STORE_ID_MAX], guild_a[STORE_ID_MAX], guild_b[STORE_ID_MAX], dm[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other_user);
    new_snowflake(guild_a);
    new_snowflake(guild_b);
    new_dm_scope(dm);
    assert_int_equal(store_consent_set(st, user, "Slimy Fan", guild_a, true), SLIMY_OK);
    assert_true(consent(st, user, guild_a));
    assert_false(consent(st, user, guild_b));
    assert_false(consent(st, user, dm));
    assert_false(consent(st, other_user, guild_a));

    /* A DM consent does not leak into a guild either. */
    assert_int_equal(store_consent_set(st, other_user, "Other", dm, true), SLIMY_OK);
    assert_true(consent(st, other_user, dm));
    assert_false(consent(st, other_user, guild_a));
    assert_false(consent(st, user, dm));
}

static void test_consent_set_is_idempotent(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_consent_set(st, user, "Slimy Fan", scope, true), SLIMY_OK);
        assert_true(consent(st, user, scope));
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(store_consent_set(st, user, "Slimy Fan", scope, false), SLIMY_OK);
        assert_false(consent(st, user, scope));
    }
}

/* ============================================================================================
 * Memories
 * ========================================================================================== */

/* Three adds (a few ms apart) come back newest first, with every field as given and the
 * documented defaults for NULL tags/context. */
static void test_memory_add_list_newest_first(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], ids[3][STORE_ID_MAX];
    const char *notes[3] = {"first note", "second note", "third note"};
    new_snowflake(user);
    new_dm_scope(scope);
    int64_t before = wall_ms();
    for (int i = 0; i < 3; i++) {
        add_memory(st, user, scope, notes[i], ids[i]);
        sleep_ms(5);
    }
    int64_t after = wall_ms();

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 3);
    for (int i = 0; i < 3; i++) {
        const struct store_memory *m = &out.items[i];
        assert_string_equal(m->id, ids[2 - i]);
        assert_string_equal(m->note, notes[2 - i]);
        assert_string_equal(m->user_id, user);
        assert_string_equal(m->scope_id, scope);
        assert_non_null(m->tags_json);
        assert_string_equal(m->tags_json, "[]");
        assert_non_null(m->context_json);
        assert_string_equal(m->context_json, "{}");
        assert_time_between(m->created_at_ms, before, after);
    }
    assert_true(out.items[0].created_at_ms >= out.items[1].created_at_ms);
    assert_true(out.items[1].created_at_ms >= out.items[2].created_at_ms);
    /* Added 5 ms apart, so the timestamps differ. */
    assert_true(out.items[0].created_at_ms > out.items[2].created_at_ms);
    store_memories_free(&out);
    assert_int_equal(out.n, 0);
    assert_null(out.items);
}

/* "Newest first" holds even when several adds land in the same millisecond: the later add is
 * the newer memory. */
static void test_memory_order_within_one_millisecond(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], ids[CONTRACT_BURST][STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    for (int i = 0; i < CONTRACT_BURST; i++) {
        char note[32];
        snprintf(note, sizeof note, "burst %d", i);
        add_memory(st, user, scope, note, ids[i]);
    }
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, CONTRACT_BURST, &out), SLIMY_OK);
    assert_int_equal(out.n, CONTRACT_BURST);
    for (int i = 0; i < CONTRACT_BURST; i++) {
        if (strcmp(out.items[i].id, ids[CONTRACT_BURST - 1 - i]) != 0)
            fail_msg("position %d holds \"%s\" (%s), expected burst %d", i, out.items[i].note, out.items[i].id,
                     CONTRACT_BURST - 1 - i);
    }
    store_memories_free(&out);
}

/* Tags and context are stored as given, emoji included. */
static void test_memory_tags_and_context_round_trip(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX], id_tags_only[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    const char *tags = "[\"" EMOJI_SNAIL "\",\"\xF0\x9F\x94\xA5 hot\",\"caf\xC3\xA9\",\"quote\\\"d\"]";
    const char *context = "{\"channel\":\"\xF0\x9F\x92\xBE\",\"n\":3,\"nested\":{\"a\":[1,2]}}";
    assert_int_equal(add_memory_full(st, user, scope, "tagged", tags, context, id), SLIMY_OK);
    sleep_ms(3);
    assert_int_equal(add_memory_full(st, user, scope, "tags only", "[\"x\"]", NULL, id_tags_only), SLIMY_OK);

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    const struct store_memory *m = find_memory(&out, id);
    assert_non_null(m);
    assert_string_equal(m->tags_json, tags);
    assert_string_equal(m->context_json, context);
    m = find_memory(&out, id_tags_only);
    assert_non_null(m);
    assert_string_equal(m->tags_json, "[\"x\"]");
    assert_string_equal(m->context_json, "{}");
    store_memories_free(&out);
}

/* max 0 is an empty list; max 1 and 2 give the newest ones; a huge max is clamped, not trusted. */
static void test_memory_list_max(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], ids[3][STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    for (int i = 0; i < 3; i++) {
        add_memory(st, user, scope, "max", ids[i]);
        sleep_ms(3);
    }

    struct store_memories out = {.n = 77}; /* poisoned: 0 must be written */
    assert_int_equal(store_memory_list(st, user, scope, 0, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_memories_free(&out);

    assert_int_equal(store_memory_list(st, user, scope, 1, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, ids[2]);
    store_memories_free(&out);

    assert_int_equal(store_memory_list(st, user, scope, 2, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.items[0].id, ids[2]);
    assert_string_equal(out.items[1].id, ids[1]);
    store_memories_free(&out);

    assert_int_equal(store_memory_list(st, user, scope, SIZE_MAX, &out), SLIMY_OK);
    assert_int_equal(out.n, 3);
    store_memories_free(&out);
}

/* max is clamped to STORE_LIST_MAX: one more than that comes back as the newest STORE_LIST_MAX. */
static void test_memory_list_clamps_to_list_max(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], oldest[STORE_ID_MAX], newest[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "oldest", oldest);
    sleep_ms(3);
    for (int i = 0; i < STORE_LIST_MAX - 1; i++)
        add_memory(st, user, scope, "middle", id);
    sleep_ms(3);
    add_memory(st, user, scope, "newest", newest);

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, STORE_LIST_MAX + 500, &out), SLIMY_OK);
    assert_int_equal(out.n, STORE_LIST_MAX);
    assert_string_equal(out.items[0].id, newest);
    assert_null(find_memory(&out, oldest));
    store_memories_free(&out);

    assert_int_equal(store_memory_list(st, user, scope, SIZE_MAX, &out), SLIMY_OK);
    assert_int_equal(out.n, STORE_LIST_MAX);
    store_memories_free(&out);
}

static void test_memory_list_none_is_ok(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    struct store_memories out = {.n = 5};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_memories_free(&out);
}

/* A user's memories in one scope are never listed in another scope or for another user. */
static void test_memory_list_is_scoped(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other_user[STORE_ID_MAX], guild[STORE_ID_MAX], other_guild[STORE_ID_MAX], dm[STORE_ID_MAX];
    char id_guild[STORE_ID_MAX], id_other_guild[STORE_ID_MAX], id_dm[STORE_ID_MAX], id_other_user[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other_user);
    new_snowflake(guild);
    new_snowflake(other_guild);
    new_dm_scope(dm);
    add_memory(st, user, guild, "in guild", id_guild);
    add_memory(st, user, other_guild, "in other guild", id_other_guild);
    add_memory(st, user, dm, "in dm", id_dm);
    add_memory(st, other_user, guild, "other user in guild", id_other_user);

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, guild, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, id_guild);
    store_memories_free(&out);

    assert_int_equal(store_memory_list(st, user, dm, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, id_dm);
    store_memories_free(&out);

    assert_int_equal(store_memory_list(st, other_user, guild, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, id_other_user);
    store_memories_free(&out);

    assert_int_equal(count_memories(st, other_user, other_guild), 0);
    assert_int_equal(count_memories(st, other_user, dm), 0);
}

/* ---- memory_find: what /forget's autocomplete asks ---- */

/* The ids found for text (max 10), joined by ','. */
static void found_ids(struct store *st, const char *user, const char *scope, const char *text, size_t max, char *out,
                      size_t cap)
{
    struct store_memories found = {.n = 99};
    assert_int_equal(store_memory_find(st, user, scope, text, max, &found), SLIMY_OK);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < found.n; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", found.items[i].id);
    store_memories_free(&found);
}

static void join2(char *out, size_t cap, const char *a, const char *b)
{
    snprintf(out, cap, "%s,%s", a, b);
}

/* A substring of the note, in any ASCII case, or of the id; newest first; only the user's
 * memories in that scope; "" finds them all. */
static void test_memory_find_matches_note_or_id(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other[STORE_ID_MAX], scope[STORE_ID_MAX], other_scope[STORE_ID_MAX];
    char milk[STORE_ID_MAX], mom[STORE_ID_MAX], snail[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other);
    new_snowflake(scope);
    new_dm_scope(other_scope);
    add_memory(st, user, scope, "buy milk", milk);
    sleep_ms(3);
    add_memory(st, user, scope, "call mom " EMOJI_SNAIL, mom);
    sleep_ms(3);
    add_memory(st, user, scope, "MILK the snail", snail);
    add_memory(st, other, scope, "milk of another user", id);
    add_memory(st, user, other_scope, "milk in another scope", id);

    char got[512], want[256];
    found_ids(st, user, scope, "milk", 10, got, sizeof got);
    join2(want, sizeof want, snail, milk);
    assert_string_equal(got, want);
    found_ids(st, user, scope, "mIlK", 10, got, sizeof got);
    assert_string_equal(got, want);
    found_ids(st, user, scope, EMOJI_SNAIL, 10, got, sizeof got); /* multibyte text, as bytes */
    assert_string_equal(got, mom);
    found_ids(st, user, scope, "", 10, got, sizeof got);
    snprintf(want, sizeof want, "%s,%s,%s", snail, mom, milk);
    assert_string_equal(got, want);
    found_ids(st, user, scope, "nothing like it", 10, got, sizeof got);
    assert_string_equal(got, "");

    /* Any part of the id. */
    char part[9];
    memcpy(part, mom + 9, 8); /* after the first dash */
    part[8] = '\0';
    found_ids(st, user, scope, part, 10, got, sizeof got);
    assert_string_equal(got, mom);
    found_ids(st, user, scope, mom, 10, got, sizeof got);
    assert_string_equal(got, mom);

    /* The rows come whole. */
    struct store_memories found = {0};
    assert_int_equal(store_memory_find(st, user, scope, "snail", 10, &found), SLIMY_OK);
    assert_int_equal(found.n, 1);
    assert_string_equal(found.items[0].note, "MILK the snail");
    assert_string_equal(found.items[0].user_id, user);
    assert_string_equal(found.items[0].scope_id, scope);
    assert_string_equal(found.items[0].tags_json, "[]");
    store_memories_free(&found);

    /* Another user, another scope: only their own. */
    found_ids(st, other, scope, "milk", 10, got, sizeof got);
    assert_int_equal(strlen(got), 36);
    assert_string_not_equal(got, milk);
    found_ids(st, other, other_scope, "", 10, got, sizeof got);
    assert_string_equal(got, "");
}

/* %, _ and the escape character ! are literal text, never patterns. */
static void test_memory_find_pattern_characters_are_literal(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], percent[STORE_ID_MAX], under[STORE_ID_MAX], bang[STORE_ID_MAX],
        plain[STORE_ID_MAX], quote[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "100% sure", percent);
    add_memory(st, user, scope, "snake_case", under);
    add_memory(st, user, scope, "wow!! ok", bang);
    add_memory(st, user, scope, "snakeXcase 1000 sure wowXX", plain);
    add_memory(st, user, scope, "it's \\ 'quoted'", quote);
    char got[512];
    found_ids(st, user, scope, "%", 10, got, sizeof got);
    assert_string_equal(got, percent);
    found_ids(st, user, scope, "0% s", 10, got, sizeof got);
    assert_string_equal(got, percent);
    found_ids(st, user, scope, "_", 10, got, sizeof got);
    assert_string_equal(got, under);
    found_ids(st, user, scope, "e_c", 10, got, sizeof got);
    assert_string_equal(got, under);
    found_ids(st, user, scope, "!", 10, got, sizeof got);
    assert_string_equal(got, bang);
    found_ids(st, user, scope, "!!", 10, got, sizeof got);
    assert_string_equal(got, bang);
    found_ids(st, user, scope, "!%", 10, got, sizeof got);
    assert_string_equal(got, "");
    found_ids(st, user, scope, "'s \\ '", 10, got, sizeof got); /* quotes and a backslash are text too */
    assert_string_equal(got, quote);
    found_ids(st, user, scope, "\\", 10, got, sizeof got);
    assert_string_equal(got, quote);
}

/* max: the newest max; 0 finds nothing; a huge one is clamped to STORE_LIST_MAX. */
static void test_memory_find_limit(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], ids[3][STORE_ID_MAX], got[512], want[256];
    new_snowflake(user);
    new_snowflake(scope);
    for (int i = 0; i < 3; i++) {
        add_memory(st, user, scope, "same note", ids[i]);
        sleep_ms(3);
    }
    found_ids(st, user, scope, "note", 2, got, sizeof got);
    join2(want, sizeof want, ids[2], ids[1]);
    assert_string_equal(got, want);
    found_ids(st, user, scope, "note", 1, got, sizeof got);
    assert_string_equal(got, ids[2]);
    found_ids(st, user, scope, "note", 0, got, sizeof got);
    assert_string_equal(got, "");
    struct store_memories found = {0};
    assert_int_equal(store_memory_find(st, user, scope, "note", SIZE_MAX, &found), SLIMY_OK);
    assert_int_equal(found.n, 3);
    store_memories_free(&found);
}

/* The arguments are checked before the database: text past STORE_FIND_MAX_BYTES, NULL text, and
 * bad ids are SLIMY_EINVAL with an empty result. */
static void test_memory_find_checks(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "x", id);
    static char text[STORE_FIND_MAX_BYTES + 2];
    memset(text, 'x', STORE_FIND_MAX_BYTES);
    text[STORE_FIND_MAX_BYTES] = '\0';
    struct store_memories found = {.n = 7};
    assert_int_equal(store_memory_find(st, user, scope, text, 10, &found), SLIMY_OK); /* exactly the cap */
    assert_int_equal(found.n, 0);
    store_memories_free(&found);
    text[STORE_FIND_MAX_BYTES] = 'x';
    text[STORE_FIND_MAX_BYTES + 1] = '\0';
    found.n = 7;
    assert_int_equal(store_memory_find(st, user, scope, text, 10, &found), SLIMY_EINVAL);
    assert_int_equal(found.n, 0);
    assert_null(found.items);
    found.n = 7;
    assert_int_equal(store_memory_find(st, user, scope, NULL, 10, &found), SLIMY_EINVAL);
    assert_int_equal(found.n, 0);
    assert_int_equal(store_memory_find(st, "", scope, "x", 10, &found), SLIMY_EINVAL);
    assert_int_equal(store_memory_find(st, user, NULL, "x", 10, &found), SLIMY_EINVAL);
    assert_int_equal(found.n, 0);
}

/* Ids and scopes that look like SQL are only ever values. */
static void test_memory_hostile_ids_are_values(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX], hostile_id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "victim", id);

    const char *hostile_scope = "' OR '1'='1";
    assert_int_equal(count_memories(st, user, hostile_scope), 0);
    assert_int_equal(store_memory_delete(st, user, hostile_scope, id), SLIMY_ENOTFOUND);
    assert_int_equal(store_memory_delete(st, user, scope, "' OR '1'='1"), SLIMY_ENOTFOUND);
    uint64_t n_deleted = 99;
    assert_int_equal(store_memory_delete_all(st, "' OR '1'='1", scope, &n_deleted), SLIMY_OK);
    assert_int_equal(n_deleted, 0);
    assert_int_equal(count_memories(st, user, scope), 1);

    /* The hostile scope is a scope like any other. */
    add_memory(st, user, hostile_scope, "in a hostile scope", hostile_id);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, hostile_scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].scope_id, hostile_scope);
    assert_string_equal(out.items[0].id, hostile_id);
    store_memories_free(&out);
    assert_int_equal(count_memories(st, user, scope), 1);
}

static void test_memory_delete_own(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], keep[STORE_ID_MAX], drop[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "keep me", keep);
    add_memory(st, user, scope, "drop me", drop);

    assert_int_equal(store_memory_delete(st, user, scope, drop), SLIMY_OK);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, keep);
    store_memories_free(&out);

    /* Gone is gone: a second delete, and a well-formed id that never existed. */
    assert_int_equal(store_memory_delete(st, user, scope, drop), SLIMY_ENOTFOUND);
    char never[STORE_ID_MAX];
    store_uuid_v4(never);
    assert_int_equal(store_memory_delete(st, user, scope, never), SLIMY_ENOTFOUND);
    assert_int_equal(count_memories(st, user, scope), 1);
}

/* Another user's memory, or the same user's memory in another scope, is never deleted. */
static void test_memory_delete_respects_owner_and_scope(void **state)
{
    struct store *st = *state;
    char owner[STORE_ID_MAX], intruder[STORE_ID_MAX], guild[STORE_ID_MAX], other_guild[STORE_ID_MAX], dm[STORE_ID_MAX],
        id[STORE_ID_MAX];
    new_snowflake(owner);
    new_snowflake(intruder);
    new_snowflake(guild);
    new_snowflake(other_guild);
    new_dm_scope(dm);
    add_memory(st, owner, guild, "mine", id);

    assert_int_equal(store_memory_delete(st, intruder, guild, id), SLIMY_ENOTFOUND);
    assert_int_equal(store_memory_delete(st, owner, other_guild, id), SLIMY_ENOTFOUND);
    assert_int_equal(store_memory_delete(st, owner, dm, id), SLIMY_ENOTFOUND);
    assert_int_equal(store_memory_delete(st, intruder, other_guild, id), SLIMY_ENOTFOUND);

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, owner, guild, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, id);
    assert_string_equal(out.items[0].note, "mine");
    store_memories_free(&out);
}

/* delete_all removes only the caller's rows in that scope, and counts them. */
static void test_memory_delete_all(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other_user[STORE_ID_MAX], guild[STORE_ID_MAX], other_guild[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other_user);
    new_snowflake(guild);
    new_snowflake(other_guild);
    for (int i = 0; i < 3; i++)
        add_memory(st, user, guild, "to forget", id);
    add_memory(st, user, other_guild, "elsewhere", id);
    add_memory(st, other_user, guild, "someone else's", id);
    add_memory(st, other_user, guild, "someone else's too", id);
    struct store_counts before = get_counts(st);

    uint64_t n_deleted = 99;
    assert_int_equal(store_memory_delete_all(st, user, guild, &n_deleted), SLIMY_OK);
    assert_int_equal(n_deleted, 3);
    assert_int_equal(count_memories(st, user, guild), 0);
    assert_int_equal(count_memories(st, user, other_guild), 1);
    assert_int_equal(count_memories(st, other_user, guild), 2);
    assert_int_equal(get_counts(st).memories, before.memories - 3);

    /* Nothing left: still OK, and 0. */
    n_deleted = 99;
    assert_int_equal(store_memory_delete_all(st, user, guild, &n_deleted), SLIMY_OK);
    assert_int_equal(n_deleted, 0);
    assert_int_equal(count_memories(st, other_user, guild), 2);
}

/* A retried job (same interaction_id) stores nothing and gets the first memory's id. */
static void test_memory_add_is_idempotent(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], interaction_id[STORE_ID_MAX];
    char first[STORE_ID_MAX], second[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    new_snowflake(interaction_id);
    struct store_memory_new m = {
        .user_id = user,
        .user_name = "Retrier",
        .scope_id = scope,
        .note = "only once",
        .interaction_id = interaction_id,
    };
    struct store_counts before = get_counts(st);
    assert_int_equal(store_memory_add(st, &m, first), SLIMY_OK);
    memset(second, 'x', sizeof second);
    second[STORE_ID_MAX - 1] = '\0';
    m.note = "a retry with different text";
    assert_int_equal(store_memory_add(st, &m, second), SLIMY_OK);
    assert_string_equal(second, first);

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, first);
    assert_string_equal(out.items[0].note, "only once");
    store_memories_free(&out);
    assert_int_equal(get_counts(st).memories, before.memories + 1);
}

static void test_memory_ids_are_uuid_v4(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], ids[5][STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    for (int i = 0; i < 5; i++) {
        add_memory(st, user, scope, "uuid", ids[i]);
        assert_uuid_v4(ids[i]);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(ids[i], ids[k]);
    }
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 5);
    for (size_t i = 0; i < out.n; i++)
        assert_uuid_v4(out.items[i].id);
    store_memories_free(&out);
}

/* Text that is hostile to SQL, to C string handling or to a narrow character set is stored and
 * returned byte for byte. */
static void test_memory_hostile_text_verbatim(void **state)
{
    struct store *st = *state;
    char all_ascii[128]; /* every byte 0x01..0x7F: NUL-free, valid UTF-8 */
    for (int i = 0; i < 127; i++)
        all_ascii[i] = (char)(i + 1);
    all_ascii[127] = '\0';
    const char *notes[] = {
        "'; DROP TABLE memories; --",
        "Robert'); DROP TABLE users;--",
        "\"'`",
        "\\ \\\\ \\n",
        all_ascii,
        "\xF0\x9F\x90\x8C\xF0\x9F\x94\xA5\xF0\x9F\x92\xBE",             /* 🐌🔥💾 */
        "\xE8\xAE\xB0\xE4\xBD\x8F\xEF\xBC\x9A\xE8\x9C\x97\xE7\x89\x9B", /* 记住：蜗牛 */
        "\xD8\xAA\xD8\xB0\xD9\x83\xD8\xB1 \xD8\xA7\xD9\x84\xD8\xAD\xD9\x84\xD8\xB2\xD9\x88\xD9\x86", /* Arabic */
        "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",                  /* ZWJ family */
        "e\xCC\x81 vs \xC3\xA9",                                                                     /* NFD vs NFC é */
        "  padded\t \r\nline two  ",
        "%s %n %d ? $1 :name @var",
    };
    const size_t n_notes = sizeof notes / sizeof notes[0];
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], ids[sizeof notes / sizeof notes[0]][STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    for (size_t i = 0; i < n_notes; i++) {
        int rc = add_memory_full(st, user, scope, notes[i], NULL, NULL, ids[i]);
        if (rc != SLIMY_OK)
            fail_msg("note %zu was refused with %d (%s)", i, rc, slimy_strerror(rc));
    }
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 100, &out), SLIMY_OK);
    assert_int_equal(out.n, n_notes);
    for (size_t i = 0; i < n_notes; i++) {
        const struct store_memory *m = find_memory(&out, ids[i]);
        assert_non_null(m);
        if (strlen(m->note) != strlen(notes[i]) || memcmp(m->note, notes[i], strlen(notes[i])) != 0)
            fail_msg("note %zu came back changed: \"%s\"", i, m->note);
    }
    store_memories_free(&out);

    /* The tables are still there. */
    struct store_counts c = get_counts(st);
    assert_true(c.memories >= n_notes);
    assert_true(c.users >= 1);
}

/* A note of exactly STORE_NOTE_MAX_BYTES bytes is fine, one more byte is SLIMY_EINVAL and stores
 * nothing. The cap is in bytes, not characters. */
static void test_memory_note_cap(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    char *note = malloc(STORE_NOTE_MAX_BYTES + 2);
    assert_non_null(note);

    memset(note, 'n', STORE_NOTE_MAX_BYTES);
    note[STORE_NOTE_MAX_BYTES] = '\0';
    assert_int_equal(add_memory_full(st, user, scope, note, NULL, NULL, id), SLIMY_OK);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(strlen(out.items[0].note), STORE_NOTE_MAX_BYTES);
    assert_string_equal(out.items[0].note, note);
    store_memories_free(&out);

    note[STORE_NOTE_MAX_BYTES] = 'n';
    note[STORE_NOTE_MAX_BYTES + 1] = '\0';
    assert_int_equal(add_memory_full(st, user, scope, note, NULL, NULL, id), SLIMY_EINVAL);
    assert_int_equal(count_memories(st, user, scope), 1);

    /* 1000 four-byte emoji are exactly the cap; one more ASCII byte passes it. */
    for (int i = 0; i < STORE_NOTE_MAX_BYTES / 4; i++)
        memcpy(note + 4 * i, EMOJI_SNAIL, 4);
    note[STORE_NOTE_MAX_BYTES] = '\0';
    assert_int_equal(add_memory_full(st, user, scope, note, NULL, NULL, id), SLIMY_OK);
    assert_int_equal(store_memory_list(st, user, scope, 1, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, id);
    assert_string_equal(out.items[0].note, note);
    store_memories_free(&out);
    note[STORE_NOTE_MAX_BYTES] = 'a';
    note[STORE_NOTE_MAX_BYTES + 1] = '\0';
    assert_int_equal(add_memory_full(st, user, scope, note, NULL, NULL, id), SLIMY_EINVAL);
    assert_int_equal(count_memories(st, user, scope), 2);
    free(note);
}

/* Fills buf with a JSON array text of exactly len bytes: ["aaa…"]. */
static void make_tags_json(char *buf, size_t len)
{
    buf[0] = '[';
    buf[1] = '"';
    memset(buf + 2, 'a', len - 4);
    buf[len - 2] = '"';
    buf[len - 1] = ']';
    buf[len] = '\0';
}

/* Fills buf with a JSON object text of exactly len bytes: {"k":"bbb…"}. */
static void make_context_json(char *buf, size_t len)
{
    memcpy(buf, "{\"k\":\"", 6);
    memset(buf + 6, 'b', len - 8);
    buf[len - 2] = '"';
    buf[len - 1] = '}';
    buf[len] = '\0';
}

/* Tags and context have byte caps too ("SLIMY_EINVAL when a text passes its cap"). */
static void test_memory_tags_and_context_caps(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    char tags[STORE_TAGS_MAX_BYTES + 2], context[STORE_CONTEXT_MAX_BYTES + 2];

    make_tags_json(tags, STORE_TAGS_MAX_BYTES);
    make_context_json(context, STORE_CONTEXT_MAX_BYTES);
    assert_int_equal(add_memory_full(st, user, scope, "at the caps", tags, context, id), SLIMY_OK);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].tags_json, tags);
    assert_string_equal(out.items[0].context_json, context);
    store_memories_free(&out);

    make_tags_json(tags, STORE_TAGS_MAX_BYTES + 1);
    assert_int_equal(add_memory_full(st, user, scope, "tags too long", tags, NULL, id), SLIMY_EINVAL);
    make_context_json(context, STORE_CONTEXT_MAX_BYTES + 1);
    assert_int_equal(add_memory_full(st, user, scope, "context too long", NULL, context, id), SLIMY_EINVAL);
    assert_int_equal(count_memories(st, user, scope), 1);
}

/* user_name "may be NULL". */
static void test_memory_add_without_user_name(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], interaction_id[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    new_snowflake(interaction_id);
    struct store_memory_new m = {.user_id = user,
                                 .user_name = NULL,
                                 .scope_id = scope,
                                 .note = "anonymous",
                                 .interaction_id = interaction_id};
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    assert_uuid_v4(id);
    assert_int_equal(count_memories(st, user, scope), 1);
}

/* A NULL scope lists the user's memories in every scope, newest first, and nobody else's. */
static void test_memory_list_all_scopes(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other_user[STORE_ID_MAX], guild[STORE_ID_MAX], other_guild[STORE_ID_MAX], dm[STORE_ID_MAX],
        ids[3][STORE_ID_MAX], theirs[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other_user);
    new_snowflake(guild);
    new_snowflake(other_guild);
    new_dm_scope(dm);
    add_memory(st, user, guild, "guild", ids[0]);
    sleep_ms(3);
    add_memory(st, other_user, guild, "not mine", theirs);
    sleep_ms(3);
    add_memory(st, user, dm, "dm", ids[1]);
    sleep_ms(3);
    add_memory(st, user, other_guild, "other guild", ids[2]);

    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, NULL, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 3);
    assert_string_equal(out.items[0].id, ids[2]);
    assert_string_equal(out.items[0].scope_id, other_guild);
    assert_string_equal(out.items[1].id, ids[1]);
    assert_string_equal(out.items[1].scope_id, dm);
    assert_string_equal(out.items[2].id, ids[0]);
    assert_string_equal(out.items[2].scope_id, guild);
    store_memories_free(&out);

    assert_int_equal(store_memory_list(st, user, NULL, 2, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.items[0].id, ids[2]);
    store_memories_free(&out);
    assert_int_equal(store_memory_list(st, user, NULL, 0, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_memories_free(&out);
}

struct adder {
    struct store *st;
    pthread_barrier_t *start;
    const char *user_id, *scope_id;
    const char *interaction_id; /* NULL: a fresh one per add */
    int n_adds;
    int n_failed; /* adds that did not return SLIMY_OK */
    int n_list_failed;
    char ids[CONTRACT_ADDS_PER_THREAD][STORE_ID_MAX];
};

static void *adder_thread(void *arg)
{
    struct adder *a = arg;
    pthread_barrier_wait(a->start);
    for (int i = 0; i < a->n_adds; i++) {
        char interaction_id[STORE_ID_MAX];
        new_snowflake(interaction_id);
        struct store_memory_new m = {
            .user_id = a->user_id,
            .user_name = "Threaded",
            .scope_id = a->scope_id,
            .note = "from a thread",
            .interaction_id = a->interaction_id ? a->interaction_id : interaction_id,
        };
        if (store_memory_add(a->st, &m, a->ids[i]) != SLIMY_OK)
            a->n_failed++;
        struct store_memories out = {0};
        if (store_memory_list(a->st, a->user_id, a->scope_id, 5, &out) != SLIMY_OK)
            a->n_list_failed++;
        store_memories_free(&out);
    }
    return NULL;
}

static void run_adders(struct adder *adders, int n_threads)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n_threads);
    pthread_t t[CONTRACT_SAME_KEY_THREADS];
    for (int i = 0; i < n_threads; i++) {
        adders[i].start = &start;
        assert_int_equal(pthread_create(&t[i], NULL, adder_thread, &adders[i]), 0);
    }
    for (int i = 0; i < n_threads; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
}

/* "Every call is safe from any thread": concurrent adds and lists all succeed and all land. */
static void test_memory_concurrent_adds(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    struct adder adders[CONTRACT_THREADS];
    memset(adders, 0, sizeof adders);
    for (int i = 0; i < CONTRACT_THREADS; i++)
        adders[i] = (struct adder){.st = st, .user_id = user, .scope_id = scope, .n_adds = CONTRACT_ADDS_PER_THREAD};
    run_adders(adders, CONTRACT_THREADS);

    int n_failed = 0, n_list_failed = 0;
    for (int i = 0; i < CONTRACT_THREADS; i++) {
        n_failed += adders[i].n_failed;
        n_list_failed += adders[i].n_list_failed;
    }
    if (n_failed || n_list_failed)
        fail_msg("%d of %d concurrent adds and %d lists failed", n_failed, CONTRACT_THREADS * CONTRACT_ADDS_PER_THREAD,
                 n_list_failed);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, STORE_LIST_MAX, &out), SLIMY_OK);
    assert_int_equal(out.n, CONTRACT_THREADS * CONTRACT_ADDS_PER_THREAD);
    for (int i = 0; i < CONTRACT_THREADS; i++)
        for (int k = 0; k < CONTRACT_ADDS_PER_THREAD; k++)
            assert_non_null(find_memory(&out, adders[i].ids[k]));
    store_memories_free(&out);
}

/* The same job retried on several workers at once still stores one memory, and every call gets
 * its id. */
static void test_memory_concurrent_same_interaction(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], interaction_id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    new_snowflake(interaction_id);
    struct adder adders[CONTRACT_SAME_KEY_THREADS];
    memset(adders, 0, sizeof adders);
    for (int i = 0; i < CONTRACT_SAME_KEY_THREADS; i++)
        adders[i] =
            (struct adder){.st = st, .user_id = user, .scope_id = scope, .interaction_id = interaction_id, .n_adds = 1};
    run_adders(adders, CONTRACT_SAME_KEY_THREADS);

    int n_failed = 0;
    for (int i = 0; i < CONTRACT_SAME_KEY_THREADS; i++)
        n_failed += adders[i].n_failed;
    if (n_failed)
        fail_msg("%d of %d concurrent retries of one interaction failed", n_failed, CONTRACT_SAME_KEY_THREADS);
    for (int i = 1; i < CONTRACT_SAME_KEY_THREADS; i++)
        assert_string_equal(adders[i].ids[0], adders[0].ids[0]);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].id, adders[0].ids[0]);
    store_memories_free(&out);
}

/* ============================================================================================
 * Mode configs
 * ========================================================================================== */

static unsigned get_modes(struct store *st, const char *guild, enum store_target_type type, const char *target)
{
    unsigned modes = 0xDEADu; /* poisoned: absent must write 0 */
    assert_int_equal(store_mode_get(st, guild, type, target, &modes), SLIMY_OK);
    return modes;
}

static void test_mode_get_absent_is_zero(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], channel[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(channel);
    assert_int_equal(get_modes(st, guild, TARGET_CHANNEL, channel), 0);
    struct store_mode_configs out = {.n = 3};
    assert_int_equal(store_mode_list(st, guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_mode_configs_free(&out);
}

static void test_mode_put_get_replace(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], channel[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(channel);
    assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, channel, MODE_CHAT | MODE_PERSONALITY), SLIMY_OK);
    assert_int_equal(get_modes(st, guild, TARGET_CHANNEL, channel), MODE_CHAT | MODE_PERSONALITY);
    assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, channel, MODE_SUPER_SNAIL), SLIMY_OK);
    assert_int_equal(get_modes(st, guild, TARGET_CHANNEL, channel), MODE_SUPER_SNAIL);
    assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, channel, CONTRACT_ALL_MODES), SLIMY_OK);
    assert_int_equal(get_modes(st, guild, TARGET_CHANNEL, channel), CONTRACT_ALL_MODES);

    struct store_mode_configs out = {0};
    assert_int_equal(store_mode_list(st, guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    store_mode_configs_free(&out);
}

/* modes == 0 deletes the record: get says 0 and list no longer shows it. */
static void test_mode_put_zero_deletes(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], keep[STORE_ID_MAX], drop[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(keep);
    new_snowflake(drop);
    assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, keep, MODE_CHAT), SLIMY_OK);
    assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, drop, MODE_ADMIN), SLIMY_OK);
    assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, drop, 0), SLIMY_OK);
    assert_int_equal(get_modes(st, guild, TARGET_CHANNEL, drop), 0);

    struct store_mode_configs out = {0};
    assert_int_equal(store_mode_list(st, guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].target_id, keep);
    assert_int_equal(out.items[0].modes, MODE_CHAT);
    for (size_t i = 0; i < out.n; i++)
        assert_int_not_equal(out.items[i].modes, 0); /* "never 0" */
    store_mode_configs_free(&out);

    /* Deleting what is absent is fine too. */
    assert_int_equal(store_mode_put(st, guild, TARGET_THREAD, drop, 0), SLIMY_OK);
    assert_int_equal(get_modes(st, guild, TARGET_THREAD, drop), 0);
}

/* list holds only the guild's rows, sorted by (target_type, target_id); the same id under two
 * target types is two targets. */
static void test_mode_list_sorted_and_per_guild(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], other_guild[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(other_guild);
    /* Equal-length ids, so text and numeric order agree. */
    const char *id1 = "100000000000000001", *id2 = "100000000000000002", *id3 = "100000000000000003";
    struct {
        enum store_target_type type;
        const char *id;
        unsigned modes;
    } puts_in_order[] = {
        {TARGET_THREAD, id1, MODE_SUPER_SNAIL},      {TARGET_CHANNEL, id3, MODE_CHAT},
        {TARGET_CATEGORY, id2, MODE_RATING_PG13},    {TARGET_CHANNEL, id1, MODE_ADMIN | MODE_CHAT},
        {TARGET_CATEGORY, id1, MODE_NO_PERSONALITY},
    };
    int64_t before = wall_ms();
    for (size_t i = 0; i < sizeof puts_in_order / sizeof puts_in_order[0]; i++)
        assert_int_equal(store_mode_put(st, guild, puts_in_order[i].type, puts_in_order[i].id, puts_in_order[i].modes),
                         SLIMY_OK);
    int64_t after = wall_ms();
    /* Same target ids in another guild, with other modes. */
    assert_int_equal(store_mode_put(st, other_guild, TARGET_CHANNEL, id1, MODE_RATING_UNRATED), SLIMY_OK);
    assert_int_equal(store_mode_put(st, other_guild, TARGET_CATEGORY, id1, MODE_PERSONALITY), SLIMY_OK);

    struct {
        enum store_target_type type;
        const char *id;
        unsigned modes;
    } expected[] = {
        {TARGET_CATEGORY, id1, MODE_NO_PERSONALITY},   {TARGET_CATEGORY, id2, MODE_RATING_PG13},
        {TARGET_CHANNEL, id1, MODE_ADMIN | MODE_CHAT}, {TARGET_CHANNEL, id3, MODE_CHAT},
        {TARGET_THREAD, id1, MODE_SUPER_SNAIL},
    };
    struct store_mode_configs out = {0};
    assert_int_equal(store_mode_list(st, guild, &out), SLIMY_OK);
    assert_int_equal(out.n, sizeof expected / sizeof expected[0]);
    for (size_t i = 0; i < out.n; i++) {
        assert_string_equal(out.items[i].guild_id, guild);
        assert_int_equal(out.items[i].target_type, expected[i].type);
        assert_string_equal(out.items[i].target_id, expected[i].id);
        assert_int_equal(out.items[i].modes, expected[i].modes);
        assert_time_between(out.items[i].updated_at_ms, before, after);
    }
    store_mode_configs_free(&out);

    assert_int_equal(get_modes(st, guild, TARGET_CHANNEL, id1), MODE_ADMIN | MODE_CHAT);
    assert_int_equal(get_modes(st, guild, TARGET_THREAD, id1), MODE_SUPER_SNAIL);
    assert_int_equal(get_modes(st, guild, TARGET_CATEGORY, id1), MODE_NO_PERSONALITY);
    assert_int_equal(get_modes(st, guild, TARGET_THREAD, id2), 0);
    assert_int_equal(get_modes(st, other_guild, TARGET_CHANNEL, id1), MODE_RATING_UNRATED);
    assert_int_equal(get_modes(st, other_guild, TARGET_THREAD, id1), 0);

    assert_int_equal(store_mode_list(st, other_guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.items[0].target_type, TARGET_CATEGORY);
    assert_int_equal(out.items[0].modes, MODE_PERSONALITY);
    assert_int_equal(out.items[1].target_type, TARGET_CHANNEL);
    assert_int_equal(out.items[1].modes, MODE_RATING_UNRATED);
    store_mode_configs_free(&out);
}

static void test_mode_put_is_idempotent(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], thread[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(thread);
    for (int i = 0; i < 3; i++)
        assert_int_equal(store_mode_put(st, guild, TARGET_THREAD, thread, MODE_CHAT | MODE_RATING_PG13), SLIMY_OK);
    assert_int_equal(get_modes(st, guild, TARGET_THREAD, thread), MODE_CHAT | MODE_RATING_PG13);
    struct store_mode_configs out = {0};
    assert_int_equal(store_mode_list(st, guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].target_type, TARGET_THREAD);
    assert_string_equal(out.items[0].target_id, thread);
    assert_int_equal(out.items[0].modes, MODE_CHAT | MODE_RATING_PG13);
    store_mode_configs_free(&out);
}

/* ============================================================================================
 * Personality adjustments
 * ========================================================================================== */

static void test_adjustment_set_list_sorted(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], admin[STORE_ID_MAX];
    new_snowflake(scope);
    new_snowflake(admin);
    int64_t before = wall_ms();
    assert_int_equal(store_adjustment_set(st, scope, "warmth", 7, admin), SLIMY_OK);
    assert_int_equal(store_adjustment_set(st, scope, "enthusiasm", 1, admin), SLIMY_OK);
    assert_int_equal(store_adjustment_set(st, scope, "humor", 10, admin), SLIMY_OK);
    int64_t after = wall_ms();

    struct store_adjustments out = {0};
    assert_int_equal(store_adjustment_list(st, scope, &out), SLIMY_OK);
    assert_int_equal(out.n, 3);
    const char *parameters[] = {"enthusiasm", "humor", "warmth"};
    const int values[] = {1, 10, 7};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(out.items[i].parameter, parameters[i]);
        assert_int_equal(out.items[i].value, values[i]);
        assert_string_equal(out.items[i].updated_by, admin);
        assert_time_between(out.items[i].updated_at_ms, before, after);
    }
    store_adjustments_free(&out);
}

/* Setting a parameter again replaces its value and updated_by; it stays one row. */
static void test_adjustment_upsert(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], first_admin[STORE_ID_MAX], second_admin[STORE_ID_MAX];
    new_dm_scope(scope);
    new_snowflake(first_admin);
    new_snowflake(second_admin);
    assert_int_equal(store_adjustment_set(st, scope, "enthusiasm", 3, first_admin), SLIMY_OK);
    assert_int_equal(store_adjustment_set(st, scope, "enthusiasm", 9, second_admin), SLIMY_OK);
    struct store_adjustments out = {0};
    assert_int_equal(store_adjustment_list(st, scope, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].parameter, "enthusiasm");
    assert_int_equal(out.items[0].value, 9);
    assert_string_equal(out.items[0].updated_by, second_admin);
    store_adjustments_free(&out);
}

/* Values outside 1..10 are SLIMY_EINVAL and change nothing. */
static void test_adjustment_range(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], admin[STORE_ID_MAX];
    new_snowflake(scope);
    new_snowflake(admin);
    assert_int_equal(store_adjustment_set(st, scope, "humor", 0, admin), SLIMY_EINVAL);
    assert_int_equal(store_adjustment_set(st, scope, "humor", 11, admin), SLIMY_EINVAL);
    assert_int_equal(store_adjustment_set(st, scope, "humor", -1, admin), SLIMY_EINVAL);
    struct store_adjustments out = {.n = 4};
    assert_int_equal(store_adjustment_list(st, scope, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_adjustments_free(&out);

    assert_int_equal(store_adjustment_set(st, scope, "humor", 5, admin), SLIMY_OK);
    assert_int_equal(store_adjustment_set(st, scope, "humor", 11, admin), SLIMY_EINVAL);
    assert_int_equal(store_adjustment_set(st, scope, "humor", 0, admin), SLIMY_EINVAL);
    assert_int_equal(store_adjustment_list(st, scope, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].value, 5);
    store_adjustments_free(&out);
}

static void test_adjustment_per_scope(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], other_guild[STORE_ID_MAX], dm[STORE_ID_MAX], admin[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(other_guild);
    new_dm_scope(dm);
    new_snowflake(admin);
    assert_int_equal(store_adjustment_set(st, guild, "enthusiasm", 8, admin), SLIMY_OK);
    assert_int_equal(store_adjustment_set(st, dm, "enthusiasm", 2, admin), SLIMY_OK);

    struct store_adjustments out = {0};
    assert_int_equal(store_adjustment_list(st, other_guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_adjustments_free(&out);
    assert_int_equal(store_adjustment_list(st, guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].value, 8);
    store_adjustments_free(&out);
    assert_int_equal(store_adjustment_list(st, dm, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].value, 2);
    store_adjustments_free(&out);
}

/* ============================================================================================
 * Super Snail stats
 * ========================================================================================== */

static const int64_t snail_values[STORE_SNAIL_STATS_N] = {123456789012LL, 2, 0, 4, 5, 6, 7, 8, 9};
static const bool snail_known[STORE_SNAIL_STATS_N] = {true, false, true, true, false, true, true, true, false};

static int add_snail(struct store *st, const char *user_id, const char *scope_id, const char *interaction_id,
                     const int64_t stats[STORE_SNAIL_STATS_N], const bool has_stat[STORE_SNAIL_STATS_N],
                     int64_t *id_out)
{
    char fresh[STORE_ID_MAX];
    new_snowflake(fresh);
    struct store_snail_stats_new s = {
        .user_id = user_id,
        .user_name = "Snail Keeper",
        .scope_id = scope_id,
        .screenshot_url = NULL,
        .stats = stats,
        .has_stat = has_stat,
        .analysis_text = "'; DELETE FROM snail_stats; -- " EMOJI_SNAIL,
        .interaction_id = interaction_id ? interaction_id : fresh,
    };
    return store_snail_stats_add(st, &s, id_out);
}

static void test_snail_stats_add_list(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    const int64_t later_values[STORE_SNAIL_STATS_N] = {10, 20, 30, 40, 50, 60, 70, 80, 90};
    const bool all_known[STORE_SNAIL_STATS_N] = {true, true, true, true, true, true, true, true, true};
    int64_t first = -1, second = -1;
    int64_t before = wall_ms();
    assert_int_equal(add_snail(st, user, scope, NULL, snail_values, snail_known, &first), SLIMY_OK);
    sleep_ms(5);
    assert_int_equal(add_snail(st, user, scope, NULL, later_values, all_known, &second), SLIMY_OK);
    int64_t after = wall_ms();
    assert_int_not_equal(first, second);

    struct store_snail_stats_list out = {0};
    assert_int_equal(store_snail_stats_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.items[0].id, second);
    assert_int_equal(out.items[1].id, first);
    for (int k = 0; k < STORE_SNAIL_STATS_N; k++) {
        assert_true(out.items[0].has_stat[k]);
        assert_int_equal(out.items[0].stats[k], later_values[k]);
        assert_int_equal(out.items[1].has_stat[k], snail_known[k]);
        if (snail_known[k])
            assert_int_equal(out.items[1].stats[k], snail_values[k]);
    }
    for (size_t i = 0; i < out.n; i++) {
        assert_string_equal(out.items[i].user_id, user);
        assert_time_between(out.items[i].created_at_ms, before, after);
    }
    assert_true(out.items[0].created_at_ms > out.items[1].created_at_ms);
    store_snail_stats_list_free(&out);
    assert_int_equal(out.n, 0);
}

/* The optional texts may be NULL; a row with no stat known at all is still a row. */
static void test_snail_stats_optional_fields(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], interaction_id[STORE_ID_MAX];
    new_snowflake(user);
    new_dm_scope(scope);
    new_snowflake(interaction_id);
    const int64_t zeros[STORE_SNAIL_STATS_N] = {0};
    const bool none_known[STORE_SNAIL_STATS_N] = {false};
    struct store_snail_stats_new s = {
        .user_id = user,
        .user_name = "No Stats Yet",
        .scope_id = scope,
        .screenshot_url = NULL,
        .stats = zeros,
        .has_stat = none_known,
        .analysis_text = NULL,
        .interaction_id = interaction_id,
    };
    int64_t id = -1;
    assert_int_equal(store_snail_stats_add(st, &s, &id), SLIMY_OK);
    struct store_snail_stats_list out = {0};
    assert_int_equal(store_snail_stats_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].id, id);
    for (int k = 0; k < STORE_SNAIL_STATS_N; k++)
        assert_false(out.items[0].has_stat[k]);
    store_snail_stats_list_free(&out);
}

static void test_snail_stats_add_is_idempotent(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], interaction_id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    new_snowflake(interaction_id);
    const int64_t other_values[STORE_SNAIL_STATS_N] = {9, 9, 9, 9, 9, 9, 9, 9, 9};
    const bool all_known[STORE_SNAIL_STATS_N] = {true, true, true, true, true, true, true, true, true};
    struct store_counts before = get_counts(st);
    int64_t first = -1, second = -2;
    assert_int_equal(add_snail(st, user, scope, interaction_id, snail_values, snail_known, &first), SLIMY_OK);
    assert_int_equal(add_snail(st, user, scope, interaction_id, other_values, all_known, &second), SLIMY_OK);
    assert_int_equal(second, first);

    struct store_snail_stats_list out = {0};
    assert_int_equal(store_snail_stats_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].id, first);
    assert_int_equal(out.items[0].stats[0], snail_values[0]);
    assert_false(out.items[0].has_stat[1]);
    store_snail_stats_list_free(&out);
    assert_int_equal(get_counts(st).snail_stats, before.snail_stats + 1);
}

static void test_snail_stats_list_is_scoped(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other_user[STORE_ID_MAX], guild[STORE_ID_MAX], other_guild[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other_user);
    new_snowflake(guild);
    new_snowflake(other_guild);
    int64_t mine = -1, elsewhere = -1, theirs = -1;
    assert_int_equal(add_snail(st, user, guild, NULL, snail_values, snail_known, &mine), SLIMY_OK);
    assert_int_equal(add_snail(st, user, other_guild, NULL, snail_values, snail_known, &elsewhere), SLIMY_OK);
    assert_int_equal(add_snail(st, other_user, guild, NULL, snail_values, snail_known, &theirs), SLIMY_OK);

    struct store_snail_stats_list out = {0};
    assert_int_equal(store_snail_stats_list(st, user, guild, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].id, mine);
    store_snail_stats_list_free(&out);
    assert_int_equal(store_snail_stats_list(st, user, other_guild, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].id, elsewhere);
    store_snail_stats_list_free(&out);
    assert_int_equal(store_snail_stats_list(st, other_user, other_guild, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_snail_stats_list_free(&out);
}

/* "The newest max rows": max 1 is the newest one, max 0 is none. */
static void test_snail_stats_list_max(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(add_snail(st, user, scope, NULL, snail_values, snail_known, &ids[i]), SLIMY_OK);
        sleep_ms(3);
    }
    struct store_snail_stats_list out = {0};
    assert_int_equal(store_snail_stats_list(st, user, scope, 1, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.items[0].id, ids[2]);
    store_snail_stats_list_free(&out);
    out.n = 9;
    assert_int_equal(store_snail_stats_list(st, user, scope, 0, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_snail_stats_list_free(&out);
    assert_int_equal(store_snail_stats_list(st, user, scope, SIZE_MAX, &out), SLIMY_OK);
    assert_int_equal(out.n, 3);
    assert_int_equal(out.items[0].id, ids[2]);
    assert_int_equal(out.items[1].id, ids[1]);
    assert_int_equal(out.items[2].id, ids[0]);
    store_snail_stats_list_free(&out);
}

/* stats NULL means none known; has_stat NULL means all 9 known. */
static void test_snail_stats_null_arrays(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], first_interaction[STORE_ID_MAX], second_interaction[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    new_snowflake(first_interaction);
    new_snowflake(second_interaction);
    const int64_t values[STORE_SNAIL_STATS_N] = {11, 22, 0, 44, 55, 66, 77, 88, 99};
    struct store_snail_stats_new none = {
        .user_id = user,
        .user_name = "Snail Keeper",
        .scope_id = scope,
        .stats = NULL,
        .has_stat = NULL,
        .interaction_id = first_interaction,
    };
    int64_t none_id = -1, all_id = -1;
    assert_int_equal(store_snail_stats_add(st, &none, &none_id), SLIMY_OK);
    sleep_ms(3);
    struct store_snail_stats_new all = none;
    all.stats = values;
    all.has_stat = NULL;
    all.interaction_id = second_interaction;
    assert_int_equal(store_snail_stats_add(st, &all, &all_id), SLIMY_OK);

    struct store_snail_stats_list out = {0};
    assert_int_equal(store_snail_stats_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.items[0].id, all_id);
    assert_int_equal(out.items[1].id, none_id);
    for (int k = 0; k < STORE_SNAIL_STATS_N; k++) {
        assert_true(out.items[0].has_stat[k]);
        assert_int_equal(out.items[0].stats[k], values[k]);
        assert_false(out.items[1].has_stat[k]);
    }
    store_snail_stats_list_free(&out);
}

/* ============================================================================================
 * Rules that hold for every op
 * ========================================================================================== */

/* "An id passed in must be 1..STORE_ID_MAX-1 bytes": the longest fits and round-trips; one byte
 * more, or an empty id, is SLIMY_EINVAL and stores nothing. */
static void test_id_length_limits(void **state)
{
    struct store *st = *state;
    char longest[STORE_ID_MAX], too_long[STORE_ID_MAX + 1], scope[STORE_ID_MAX], other[STORE_ID_MAX], id[STORE_ID_MAX];
    memset(longest, '7', STORE_ID_MAX - 1);
    longest[STORE_ID_MAX - 1] = '\0';
    memset(too_long, '8', STORE_ID_MAX);
    too_long[STORE_ID_MAX] = '\0';
    new_snowflake(scope);
    new_snowflake(other);
    const char *bad[] = {too_long, ""};
    const char *bad_names[] = {"a 40-byte", "an empty"};

    /* The longest ids are stored and come back whole. */
    char interaction_id[STORE_ID_MAX];
    memset(interaction_id, '5', STORE_ID_MAX - 1);
    interaction_id[STORE_ID_MAX - 1] = '\0';
    struct store_memory_new m = {
        .user_id = longest,
        .user_name = "Long",
        .scope_id = longest,
        .note = "long ids",
        .interaction_id = interaction_id,
    };
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, longest, longest, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].user_id, longest);
    assert_string_equal(out.items[0].scope_id, longest);
    store_memories_free(&out);
    assert_int_equal(store_consent_set(st, longest, "Long", longest, true), SLIMY_OK);
    assert_true(consent(st, longest, longest));
    assert_int_equal(store_mode_put(st, longest, TARGET_THREAD, longest, MODE_CHAT), SLIMY_OK);
    struct store_mode_configs modes = {0};
    assert_int_equal(store_mode_list(st, longest, &modes), SLIMY_OK);
    assert_int_equal(modes.n, 1);
    assert_string_equal(modes.items[0].guild_id, longest);
    assert_string_equal(modes.items[0].target_id, longest);
    store_mode_configs_free(&modes);
    assert_int_equal(store_adjustment_set(st, longest, "humor", 4, longest), SLIMY_OK);
    struct store_adjustments adjustments = {0};
    assert_int_equal(store_adjustment_list(st, longest, &adjustments), SLIMY_OK);
    assert_int_equal(adjustments.n, 1);
    assert_string_equal(adjustments.items[0].updated_by, longest);
    store_adjustments_free(&adjustments);

    struct store_counts before = get_counts(st);
    int n_wrong = 0; /* every call is tried, and each wrong answer reported, before failing */
#define EXPECT_EINVAL(call)                                                                             \
    do {                                                                                                \
        int rc_ = (call);                                                                               \
        if (rc_ != SLIMY_EINVAL) {                                                                      \
            fprintf(stderr, "%s id: %s returned %d (%s), not SLIMY_EINVAL\n", bad_names[b], #call, rc_, \
                    slimy_strerror(rc_));                                                               \
            n_wrong++;                                                                                  \
        }                                                                                               \
    } while (0)
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        const char *x = bad[b];
        bool allowed = false;
        unsigned mode_bits = 0;
        uint64_t n_deleted = 0;
        char fresh[STORE_ID_MAX];
        new_snowflake(fresh);
        EXPECT_EINVAL(store_consent_get(st, x, scope, &allowed));
        EXPECT_EINVAL(store_consent_get(st, other, x, &allowed));
        EXPECT_EINVAL(store_consent_set(st, x, "Bad", scope, true));
        EXPECT_EINVAL(store_consent_set(st, other, "Bad", x, true));

        struct store_memory_new bad_user = {.user_id = x,
                                            .user_name = "Bad",
                                            .scope_id = scope,
                                            .note = "no",
                                            .interaction_id = fresh};
        EXPECT_EINVAL(store_memory_add(st, &bad_user, id));
        struct store_memory_new bad_scope = {.user_id = other,
                                             .user_name = "Bad",
                                             .scope_id = x,
                                             .note = "no",
                                             .interaction_id = fresh};
        EXPECT_EINVAL(store_memory_add(st, &bad_scope, id));
        struct store_memory_new bad_interaction = {.user_id = other,
                                                   .user_name = "Bad",
                                                   .scope_id = scope,
                                                   .note = "no",
                                                   .interaction_id = x};
        EXPECT_EINVAL(store_memory_add(st, &bad_interaction, id));
        EXPECT_EINVAL(store_memory_list(st, x, scope, 10, &out));
        store_memories_free(&out);
        EXPECT_EINVAL(store_memory_delete(st, other, scope, x));
        EXPECT_EINVAL(store_memory_delete(st, x, scope, id));
        EXPECT_EINVAL(store_memory_delete_all(st, x, scope, &n_deleted));

        EXPECT_EINVAL(store_mode_get(st, x, TARGET_CHANNEL, other, &mode_bits));
        EXPECT_EINVAL(store_mode_put(st, other, TARGET_CHANNEL, x, MODE_CHAT));
        EXPECT_EINVAL(store_mode_list(st, x, &modes));
        store_mode_configs_free(&modes);
        EXPECT_EINVAL(store_adjustment_set(st, x, "humor", 5, other));
        EXPECT_EINVAL(store_adjustment_set(st, scope, "humor", 5, x));
        EXPECT_EINVAL(store_adjustment_list(st, x, &adjustments));
        store_adjustments_free(&adjustments);

        int64_t snail_id = 0;
        EXPECT_EINVAL(add_snail(st, x, scope, NULL, snail_values, snail_known, &snail_id));
        EXPECT_EINVAL(add_snail(st, other, scope, x, snail_values, snail_known, &snail_id));
        struct store_snail_stats_list snails = {0};
        EXPECT_EINVAL(store_snail_stats_list(st, other, x, 10, &snails));
        store_snail_stats_list_free(&snails);

        struct store_image_log_new image = {.user_id = x,
                                            .scope_id = scope,
                                            .channel_id = other,
                                            .prompt = "p",
                                            .success = true};
        EXPECT_EINVAL(store_image_log_add(st, &image));
        EXPECT_EINVAL(store_command_usage_add(st, x, scope, "remember", true, 1));
        struct store_leaderboard board = {0};
        EXPECT_EINVAL(store_leaderboard(st, x, 10, &board));
        store_leaderboard_free(&board);
        struct store_user_stats stats;
        EXPECT_EINVAL(store_user_stats(st, x, scope, 0, &stats));
        EXPECT_EINVAL(store_user_stats(st, other, x, 0, &stats));
    }
#undef EXPECT_EINVAL
    if (n_wrong)
        fail_msg("%d calls accepted an id outside 1..STORE_ID_MAX-1 bytes (listed above)", n_wrong);
    struct store_counts after = get_counts(st);
    assert_int_equal(after.memories, before.memories);
    assert_int_equal(after.users, before.users);
    assert_int_equal(after.snail_stats, before.snail_stats);
    assert_int_equal(after.images, before.images);
    assert_false(consent(st, other, scope));
}

/* "Lists sorted by text (mode targets, parameters) are in byte order on both backends": shorter
 * numbers are not first, upper case sorts before lower case, and UTF-8 after ASCII. */
static void test_lists_sort_in_byte_order(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], scope[STORE_ID_MAX], admin[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(scope);
    new_snowflake(admin);
    const char *targets_in[] = {"9", "10", "100000000000000000009", "B", "a"};
    const char *targets_sorted[] = {"10", "100000000000000000009", "9", "B", "a"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, targets_in[i], MODE_CHAT), SLIMY_OK);
    struct store_mode_configs modes = {0};
    assert_int_equal(store_mode_list(st, guild, &modes), SLIMY_OK);
    assert_int_equal(modes.n, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(modes.items[i].target_id, targets_sorted[i]);
    store_mode_configs_free(&modes);

    const char *parameters_in[] = {"beta", "\xC3\xA4rger", "alpha", "Zeta"}; /* "ärger" */
    const char *parameters_sorted[] = {"Zeta", "alpha", "beta", "\xC3\xA4rger"};
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(store_adjustment_set(st, scope, parameters_in[i], 5, admin), SLIMY_OK);
    struct store_adjustments adjustments = {0};
    assert_int_equal(store_adjustment_list(st, scope, &adjustments), SLIMY_OK);
    assert_int_equal(adjustments.n, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(adjustments.items[i].parameter, parameters_sorted[i]);
    store_adjustments_free(&adjustments);
}

/* Keys are their bytes: texts that differ only in case or by a trailing space are different
 * keys (store.h: ids are byte strings, lists are in byte order, strings are stored as given).
 * Every check runs and each failing one is reported before the test fails. */
static void test_text_keys_compare_byte_for_byte(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], guild[STORE_ID_MAX], admin[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(guild);
    new_snowflake(admin);
    int n_wrong = 0;
#define CHECK_KEY(cond)                                                     \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "keys compared loosely: %s is false\n", #cond); \
            n_wrong++;                                                      \
        }                                                                   \
    } while (0)

    assert_int_equal(store_consent_set(st, user, "Case", "dm:abc123", true), SLIMY_OK);
    CHECK_KEY(!consent(st, user, "DM:ABC123"));
    CHECK_KEY(!consent(st, user, "dm:abc123 "));

    assert_int_equal(store_adjustment_set(st, "dm:abc123", "humor", 2, admin), SLIMY_OK);
    assert_int_equal(store_adjustment_set(st, "dm:abc123", "Humor", 9, admin), SLIMY_OK);
    struct store_adjustments adjustments = {0};
    assert_int_equal(store_adjustment_list(st, "dm:abc123", &adjustments), SLIMY_OK);
    CHECK_KEY(adjustments.n == 2);
    if (adjustments.n == 2) {
        CHECK_KEY(strcmp(adjustments.items[0].parameter, "Humor") == 0 && adjustments.items[0].value == 9);
        CHECK_KEY(strcmp(adjustments.items[1].parameter, "humor") == 0 && adjustments.items[1].value == 2);
    }
    store_adjustments_free(&adjustments);

    assert_int_equal(store_mode_put(st, guild, TARGET_CHANNEL, "abc", MODE_CHAT), SLIMY_OK);
    CHECK_KEY(get_modes(st, guild, TARGET_CHANNEL, "ABC") == 0);
    CHECK_KEY(get_modes(st, guild, TARGET_CHANNEL, "abc ") == 0);

    char id[STORE_ID_MAX];
    add_memory(st, user, "scope-x", "case", id);
    CHECK_KEY(count_memories(st, user, "SCOPE-X") == 0);
#undef CHECK_KEY
    if (n_wrong)
        fail_msg("%d lookups matched a key that differs in case or trailing space (listed above)", n_wrong);
}

/* ============================================================================================
 * Argument checks: the store.h wrappers hold them all, so every backend refuses the same calls
 * ========================================================================================== */

/* A command name is 1..STORE_COMMAND_MAX_BYTES bytes: empty, NULL or longer is SLIMY_EINVAL and
 * stores nothing. (SQLite once stored an empty name that MariaDB refused.) */
static void test_command_name_checks(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], command[STORE_COMMAND_MAX_BYTES + 2];
    new_snowflake(user);
    new_snowflake(scope);
    assert_int_equal(store_command_usage_add(st, user, scope, "", true, 1), SLIMY_EINVAL);
    assert_int_equal(store_command_usage_add(st, user, scope, NULL, true, 1), SLIMY_EINVAL);
    memset(command, 'c', STORE_COMMAND_MAX_BYTES);
    command[STORE_COMMAND_MAX_BYTES] = '\0';
    assert_int_equal(store_command_usage_add(st, user, scope, command, true, 1), SLIMY_OK);
    command[STORE_COMMAND_MAX_BYTES] = 'c';
    command[STORE_COMMAND_MAX_BYTES + 1] = '\0';
    assert_int_equal(store_command_usage_add(st, user, scope, command, true, 1), SLIMY_EINVAL);
    struct store_user_stats stats;
    assert_int_equal(store_user_stats(st, user, scope, 0, &stats), SLIMY_OK);
    assert_int_equal(stats.commands, 1);
}

/* An image log's channel_id is NULL or an id of 1..STORE_ID_MAX-1 bytes, like every id: longer
 * or empty is SLIMY_EINVAL and stores nothing. (Only MariaDB once checked it.) The prompt is
 * required; the scope may be NULL. */
static void test_image_log_channel_checks(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], longest[STORE_ID_MAX], too_long[STORE_ID_MAX + 1];
    new_snowflake(user);
    new_snowflake(scope);
    memset(longest, '6', STORE_ID_MAX - 1);
    longest[STORE_ID_MAX - 1] = '\0';
    memset(too_long, '6', STORE_ID_MAX);
    too_long[STORE_ID_MAX] = '\0';
    struct store_counts before = get_counts(st);
    struct store_image_log_new e = {.user_id = user, .scope_id = scope, .prompt = "p", .success = true};
    e.channel_id = too_long;
    assert_int_equal(store_image_log_add(st, &e), SLIMY_EINVAL);
    e.channel_id = "";
    assert_int_equal(store_image_log_add(st, &e), SLIMY_EINVAL);
    e.channel_id = longest;
    e.prompt = NULL;
    assert_int_equal(store_image_log_add(st, &e), SLIMY_EINVAL);
    e.prompt = "p";
    assert_int_equal(store_image_log_add(st, &e), SLIMY_OK);
    e.channel_id = NULL;
    assert_int_equal(store_image_log_add(st, &e), SLIMY_OK);
    e.scope_id = NULL;
    assert_int_equal(store_image_log_add(st, &e), SLIMY_OK);
    assert_int_equal(get_counts(st).images, before.images + 3);
}

/* A parameter name is 1..STORE_PARAMETER_MAX-1 bytes (it must fit store_adjustment.parameter),
 * and STORE_ADJUSTMENT_MIN and STORE_ADJUSTMENT_MAX are values like the ones between. */
static void test_adjustment_parameter_checks(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], admin[STORE_ID_MAX], parameter[STORE_PARAMETER_MAX + 1];
    new_snowflake(scope);
    new_snowflake(admin);
    memset(parameter, 'p', STORE_PARAMETER_MAX - 1);
    parameter[STORE_PARAMETER_MAX - 1] = '\0';
    assert_int_equal(store_adjustment_set(st, scope, parameter, STORE_ADJUSTMENT_MIN, admin), SLIMY_OK);
    assert_int_equal(store_adjustment_set(st, scope, "humor", STORE_ADJUSTMENT_MAX, admin), SLIMY_OK);
    char longest[STORE_PARAMETER_MAX];
    memcpy(longest, parameter, sizeof longest);
    parameter[STORE_PARAMETER_MAX - 1] = 'p';
    parameter[STORE_PARAMETER_MAX] = '\0';
    assert_int_equal(store_adjustment_set(st, scope, parameter, 5, admin), SLIMY_EINVAL);
    assert_int_equal(store_adjustment_set(st, scope, "", 5, admin), SLIMY_EINVAL);
    assert_int_equal(store_adjustment_set(st, scope, NULL, 5, admin), SLIMY_EINVAL);
    struct store_adjustments out = {0};
    assert_int_equal(store_adjustment_list(st, scope, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.items[0].parameter, "humor");
    assert_int_equal(out.items[0].value, STORE_ADJUSTMENT_MAX);
    assert_string_equal(out.items[1].parameter, longest);
    assert_int_equal(out.items[1].value, STORE_ADJUSTMENT_MIN);
    store_adjustments_free(&out);
}

/* A target type outside enum store_target_type is SLIMY_EINVAL and stores nothing. */
static void test_mode_target_type_checks(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], target[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(target);
    unsigned modes = MODE_CHAT;
    assert_int_equal(store_mode_put(st, guild, (enum store_target_type)3, target, MODE_CHAT), SLIMY_EINVAL);
    assert_int_equal(store_mode_get(st, guild, (enum store_target_type)99, target, &modes), SLIMY_EINVAL);
    assert_int_equal(modes, 0);
    struct store_mode_configs out = {0};
    assert_int_equal(store_mode_list(st, guild, &out), SLIMY_OK);
    assert_int_equal(out.n, 0);
    store_mode_configs_free(&out);
}

/* A refused call leaves its outputs defined, whatever they held: lists empty, flags and counts
 * zero, ids blank; so a caller may free them, and need not clear them first. */
static void test_refused_calls_reset_outputs(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX];
    new_snowflake(scope);
    bool allowed = true;
    assert_int_equal(store_consent_get(st, "", scope, &allowed), SLIMY_EINVAL);
    assert_false(allowed);
    unsigned modes = MODE_CHAT;
    assert_int_equal(store_mode_get(st, "", TARGET_CHANNEL, scope, &modes), SLIMY_EINVAL);
    assert_int_equal(modes, 0);
    char id[STORE_ID_MAX] = "stale";
    struct store_memory_new m = {.user_id = "", .scope_id = scope, .note = "n"};
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_EINVAL);
    assert_string_equal(id, "");
    int64_t snail_id = 42;
    assert_int_equal(add_snail(st, "", scope, NULL, snail_values, snail_known, &snail_id), SLIMY_EINVAL);
    assert_int_equal(snail_id, 0);
    uint64_t n_deleted = 9;
    assert_int_equal(store_memory_delete_all(st, "", scope, &n_deleted), SLIMY_EINVAL);
    assert_int_equal(n_deleted, 0);
    struct store_memories memories = {.n = 3};
    assert_int_equal(store_memory_list(st, "", scope, 10, &memories), SLIMY_EINVAL);
    assert_null(memories.items);
    assert_int_equal(memories.n, 0);
    struct store_leaderboard board = {.n = 2};
    assert_int_equal(store_leaderboard(st, "", 10, &board), SLIMY_EINVAL);
    assert_null(board.items);
    assert_int_equal(board.n, 0);
    struct store_user_stats stats;
    memset(&stats, 0xAB, sizeof stats);
    assert_int_equal(store_user_stats(st, "", scope, 0, &stats), SLIMY_EINVAL);
    assert_int_equal(stats.chats, 0);
    assert_int_equal(stats.images, 0);
    assert_int_equal(stats.commands, 0);
    assert_int_equal(stats.last_active_ms, 0);
}

/* The checks come before the database: on a store opened without migrations, where every data
 * call is SLIMY_EUNAVAILABLE, a call with a bad argument is still SLIMY_EINVAL. */
static void test_checks_come_before_the_database(void **state)
{
    (void)state;
    contract_reset();
    struct store *st = contract_open_unmigrated();
    assert_non_null(st);
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], too_long[STORE_ID_MAX + 1], id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    memset(too_long, '8', STORE_ID_MAX);
    too_long[STORE_ID_MAX] = '\0';
    char *note = malloc(STORE_NOTE_MAX_BYTES + 2);
    assert_non_null(note);
    memset(note, 'n', STORE_NOTE_MAX_BYTES + 1);
    note[STORE_NOTE_MAX_BYTES + 1] = '\0';
    int unavailable = store_command_usage_add(st, user, scope, "chat", true, 1);

    int n_wrong = 0;
#define EXPECT_EINVAL(call)                                                                          \
    do {                                                                                             \
        int rc_ = (call);                                                                            \
        if (rc_ != SLIMY_EINVAL) {                                                                   \
            fprintf(stderr, "unmigrated store: %s returned %d (%s), not SLIMY_EINVAL\n", #call, rc_, \
                    slimy_strerror(rc_));                                                            \
            n_wrong++;                                                                               \
        }                                                                                            \
    } while (0)
    EXPECT_EINVAL(store_command_usage_add(st, user, scope, "", true, 1));
    struct store_image_log_new image = {.user_id = user, .channel_id = too_long, .prompt = "p"};
    EXPECT_EINVAL(store_image_log_add(st, &image));
    EXPECT_EINVAL(store_adjustment_set(st, scope, "humor", STORE_ADJUSTMENT_MAX + 1, user));
    struct store_memory_new m = {.user_id = user, .scope_id = scope, .note = note};
    EXPECT_EINVAL(store_memory_add(st, &m, id));
    EXPECT_EINVAL(store_mode_put(st, scope, (enum store_target_type)3, user, MODE_CHAT));
    EXPECT_EINVAL(store_memory_delete(st, user, scope, ""));
    int64_t snail_id = 0;
    EXPECT_EINVAL(add_snail(st, user, scope, too_long, snail_values, snail_known, &snail_id));
#undef EXPECT_EINVAL
    free(note);
    store_close(st);
    assert_int_equal(unavailable, SLIMY_EUNAVAILABLE);
    if (n_wrong)
        fail_msg("%d bad calls reached the unmigrated database (listed above)", n_wrong);
}

/* store.h: a duplicate whose row then cannot be found (a key other than interaction_id collided)
 * is SLIMY_EINTERNAL on every backend, and stores nothing; a retried job whose row is stored still
 * gets that row through the same refused insert. */
static void test_duplicate_without_row_is_internal(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], first_id[STORE_ID_MAX], id[STORE_ID_MAX];
    char interaction_id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    new_snowflake(interaction_id);
    struct store_memory_new m = {.user_id = user,
                                 .user_name = "Dup",
                                 .scope_id = scope,
                                 .note = "first",
                                 .interaction_id = interaction_id};
    assert_int_equal(store_memory_add(st, &m, first_id), SLIMY_OK);
    int64_t first_snail = 0, snail_id = 42;
    assert_int_equal(add_snail(st, user, scope, interaction_id, snail_values, snail_known, &first_snail), SLIMY_OK);
    contract_refuse_inserts("memories");
    contract_refuse_inserts("snail_stats");
    struct store_counts before = get_counts(st);

    memcpy(id, "stale", 6);
    assert_int_equal(add_memory_full(st, user, scope, "refused", NULL, NULL, id), SLIMY_EINTERNAL);
    assert_string_equal(id, "");
    assert_int_equal(add_snail(st, user, scope, NULL, snail_values, snail_known, &snail_id), SLIMY_EINTERNAL);
    assert_int_equal(snail_id, 0);

    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    assert_string_equal(id, first_id);
    assert_int_equal(add_snail(st, user, scope, interaction_id, snail_values, snail_known, &snail_id), SLIMY_OK);
    assert_int_equal(snail_id, first_snail);

    struct store_counts after = get_counts(st);
    assert_int_equal(after.memories, before.memories);
    assert_int_equal(after.snail_stats, before.snail_stats);
}

/* ============================================================================================
 * Image log, command usage, counts
 * ========================================================================================== */

static void test_image_log_and_command_usage(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], channel[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    new_snowflake(channel);
    struct store_counts before = get_counts(st);

    struct store_image_log_new ok = {
        .user_id = user,
        .scope_id = scope,
        .channel_id = channel,
        .prompt = "a snail on a skateboard " EMOJI_SNAIL,
        .enhanced_prompt = "A cinematic snail, 'quoted' and \"double quoted\"",
        .style = "photo",
        .rating = "pg13",
        .model = "dall-e-3",
        .success = true,
        .error_message = NULL,
    };
    assert_int_equal(store_image_log_add(st, &ok), SLIMY_OK);
    assert_int_equal(get_counts(st).images, before.images + 1);

    struct store_image_log_new failed = ok;
    failed.success = false;
    failed.error_message = "content_policy_violation'; --";
    assert_int_equal(store_image_log_add(st, &failed), SLIMY_OK);

    assert_int_equal(store_command_usage_add(st, user, scope, "remember", true, 42), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, scope, "snail", false, 0), SLIMY_OK);

    struct store_counts c = get_counts(st);
    assert_int_equal(c.images, before.images + 2);
    assert_int_equal(c.memories, before.memories);
    assert_int_equal(c.snail_stats, before.snail_stats);
}

/* counts() follows every kind of row it reports, and upserted users are counted once. */
static void test_counts_deltas(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other_user[STORE_ID_MAX], guild[STORE_ID_MAX], dm[STORE_ID_MAX],
        interaction_id[STORE_ID_MAX], id[STORE_ID_MAX], again[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other_user);
    new_snowflake(guild);
    new_dm_scope(dm);
    new_snowflake(interaction_id);
    struct store_counts before = get_counts(st);

    /* consent_set "upserts the user": one new user, however often. */
    assert_int_equal(store_consent_set(st, user, "Counter", guild, true), SLIMY_OK);
    assert_int_equal(store_consent_set(st, user, "Counter", dm, true), SLIMY_OK);
    assert_int_equal(store_consent_set(st, user, "Counter Renamed", guild, false), SLIMY_OK);
    struct store_counts c = get_counts(st);
    assert_int_equal(c.users, before.users + 1);
    assert_int_equal(c.memories, before.memories);

    /* Memories of a known user add no user; a new user with a name does. */
    struct store_memory_new m = {.user_id = user,
                                 .user_name = "Counter",
                                 .scope_id = guild,
                                 .note = "one",
                                 .interaction_id = interaction_id};
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    assert_int_equal(store_memory_add(st, &m, again), SLIMY_OK); /* retry: nothing new */
    add_memory(st, user, dm, "two", again);
    add_memory(st, other_user, guild, "three", again);
    c = get_counts(st);
    assert_int_equal(c.memories, before.memories + 3);
    assert_int_equal(c.users, before.users + 2);

    assert_int_equal(store_memory_delete(st, user, guild, id), SLIMY_OK);
    assert_int_equal(get_counts(st).memories, before.memories + 2);

    int64_t snail_id;
    assert_int_equal(add_snail(st, user, guild, NULL, snail_values, snail_known, &snail_id), SLIMY_OK);
    c = get_counts(st);
    assert_int_equal(c.snail_stats, before.snail_stats + 1);
    assert_int_equal(c.users, before.users + 2);
    assert_int_equal(c.images, before.images);
}

/* ============================================================================================
 * The leaderboard and a user's stats
 * ========================================================================================== */

/* Adds n snail_stats rows for user in scope (fresh interaction ids), naming the user
 * user_name (NULL keeps or leaves no name). */
static void add_analyses(struct store *st, const char *user_id, const char *user_name, const char *scope_id, int n)
{
    for (int i = 0; i < n; i++) {
        char interaction_id[STORE_ID_MAX];
        new_snowflake(interaction_id);
        struct store_snail_stats_new s = {
            .user_id = user_id,
            .user_name = user_name,
            .scope_id = scope_id,
            .stats = snail_values,
            .has_stat = snail_known,
            .interaction_id = interaction_id,
        };
        int64_t id = 0;
        assert_int_equal(store_snail_stats_add(st, &s, &id), SLIMY_OK);
    }
}

/* The newest created_at_ms of user's snail_stats rows in scope. */
static int64_t newest_analysis_ms(struct store *st, const char *user_id, const char *scope_id)
{
    struct store_snail_stats_list out = {0};
    assert_int_equal(store_snail_stats_list(st, user_id, scope_id, 1, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    int64_t at_ms = out.items[0].created_at_ms;
    store_snail_stats_list_free(&out);
    return at_ms;
}

/* "Ranked by that number of rows, most first; equal counts put the most recent analysis first,
 * then user ids in byte order": checked between every pair of neighbours. */
static void assert_leaderboard_order(const struct store_leaderboard *board)
{
    for (size_t i = 1; i < board->n; i++) {
        const struct store_leaderboard_entry *a = &board->items[i - 1], *b = &board->items[i];
        bool in_order =
            a->analyses > b->analyses ||
            (a->analyses == b->analyses &&
             (a->last_at_ms > b->last_at_ms || (a->last_at_ms == b->last_at_ms && strcmp(a->user_id, b->user_id) < 0)));
        if (!in_order)
            fail_msg("leaderboard entries %zu (%s: %llu, %lld) and %zu (%s: %llu, %lld) are out of order", i - 1,
                     a->user_id, (unsigned long long)a->analyses, (long long)a->last_at_ms, i, b->user_id,
                     (unsigned long long)b->analyses, (long long)b->last_at_ms);
    }
}

static const struct store_leaderboard_entry *find_entry(const struct store_leaderboard *board, const char *user_id)
{
    for (size_t i = 0; i < board->n; i++)
        if (strcmp(board->items[i].user_id, user_id) == 0)
            return &board->items[i];
    return NULL;
}

/* Most analyses first; a tie goes to the most recent analysis; names come from users, "" when
 * none was given; last_at_ms is the newest row's created_at_ms. */
static void test_leaderboard_ranking_and_ties(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], most[STORE_ID_MAX], tie_older[STORE_ID_MAX], tie_newer[STORE_ID_MAX],
        nameless[STORE_ID_MAX];
    new_snowflake(scope);
    new_snowflake(most);
    new_snowflake(tie_older);
    new_snowflake(tie_newer);
    new_snowflake(nameless);
    int64_t before = wall_ms();
    add_analyses(st, tie_newer, "Newer " EMOJI_SNAIL, scope, 1);
    add_analyses(st, most, "Most", scope, 3);
    add_analyses(st, tie_older, "Older", scope, 2);
    sleep_ms(5);
    add_analyses(st, tie_newer, NULL, scope, 1); /* a NULL name keeps "Newer" */
    sleep_ms(5);
    add_analyses(st, nameless, NULL, scope, 1);
    int64_t after = wall_ms();

    struct store_leaderboard board = {.n = 99}; /* poisoned: every field must be written */
    assert_int_equal(store_leaderboard(st, scope, 10, &board), SLIMY_OK);
    assert_int_equal(board.n, 4);
    assert_leaderboard_order(&board);
    assert_string_equal(board.items[0].user_id, most);
    assert_string_equal(board.items[0].user_name, "Most");
    assert_int_equal(board.items[0].analyses, 3);
    /* Two each: the one whose newest analysis is more recent ranks first. */
    assert_string_equal(board.items[1].user_id, tie_newer);
    assert_string_equal(board.items[1].user_name, "Newer " EMOJI_SNAIL);
    assert_int_equal(board.items[1].analyses, 2);
    assert_string_equal(board.items[2].user_id, tie_older);
    assert_string_equal(board.items[2].user_name, "Older");
    assert_int_equal(board.items[2].analyses, 2);
    assert_true(board.items[1].last_at_ms > board.items[2].last_at_ms);
    assert_string_equal(board.items[3].user_id, nameless);
    assert_non_null(board.items[3].user_name);
    assert_string_equal(board.items[3].user_name, "");
    assert_int_equal(board.items[3].analyses, 1);
    for (size_t i = 0; i < board.n; i++) {
        assert_time_between(board.items[i].last_at_ms, before, after);
        assert_int_equal(board.items[i].last_at_ms, newest_analysis_ms(st, board.items[i].user_id, scope));
    }
    store_leaderboard_free(&board);
    assert_null(board.items);
    assert_int_equal(board.n, 0);
}

/* Equal counts and equal last analysis times (rows added in one burst often share a
 * millisecond) still give one order: user ids in byte order. Many one-row users make ties
 * likely; the order is checked between every pair whatever the clock did. */
static void test_leaderboard_ties_are_total(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], users[CONTRACT_BURST][STORE_ID_MAX];
    new_snowflake(scope);
    for (int i = 0; i < CONTRACT_BURST; i++) {
        new_snowflake(users[i]);
        add_analyses(st, users[i], "Burst", scope, 1);
    }
    struct store_leaderboard first = {0}, second = {0};
    assert_int_equal(store_leaderboard(st, scope, CONTRACT_BURST, &first), SLIMY_OK);
    assert_int_equal(first.n, CONTRACT_BURST);
    assert_leaderboard_order(&first);
    assert_int_equal(store_leaderboard(st, scope, CONTRACT_BURST, &second), SLIMY_OK);
    assert_int_equal(second.n, first.n);
    for (size_t i = 0; i < first.n; i++)
        assert_string_equal(second.items[i].user_id, first.items[i].user_id);
    store_leaderboard_free(&first);
    store_leaderboard_free(&second);
}

/* Only rows of the scope count: another guild's and a DM's rows neither add entries nor raise
 * counts, and each scope has its own board. */
static void test_leaderboard_is_scoped(void **state)
{
    struct store *st = *state;
    char guild[STORE_ID_MAX], other_guild[STORE_ID_MAX], dm[STORE_ID_MAX], user[STORE_ID_MAX],
        elsewhere_only[STORE_ID_MAX];
    new_snowflake(guild);
    new_snowflake(other_guild);
    new_dm_scope(dm);
    new_snowflake(user);
    new_snowflake(elsewhere_only);
    add_analyses(st, user, "Here", guild, 1);
    add_analyses(st, user, "Here", other_guild, 3);
    add_analyses(st, user, "Here", dm, 2);
    add_analyses(st, elsewhere_only, "Away", other_guild, 1);

    struct store_leaderboard board = {0};
    assert_int_equal(store_leaderboard(st, guild, 10, &board), SLIMY_OK);
    assert_int_equal(board.n, 1);
    assert_string_equal(board.items[0].user_id, user);
    assert_int_equal(board.items[0].analyses, 1);
    assert_null(find_entry(&board, elsewhere_only));
    store_leaderboard_free(&board);

    assert_int_equal(store_leaderboard(st, other_guild, 10, &board), SLIMY_OK);
    assert_int_equal(board.n, 2);
    assert_string_equal(board.items[0].user_id, user);
    assert_int_equal(board.items[0].analyses, 3);
    assert_string_equal(board.items[1].user_id, elsewhere_only);
    store_leaderboard_free(&board);

    assert_int_equal(store_leaderboard(st, dm, 10, &board), SLIMY_OK);
    assert_int_equal(board.n, 1);
    assert_int_equal(board.items[0].analyses, 2);
    store_leaderboard_free(&board);
}

/* A scope with no analyses, or max 0, is SLIMY_OK with nothing; other tables do not count. */
static void test_leaderboard_empty(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], user[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(scope);
    new_snowflake(user);
    struct store_leaderboard board = {.n = 7};
    assert_int_equal(store_leaderboard(st, scope, 10, &board), SLIMY_OK);
    assert_int_equal(board.n, 0);
    store_leaderboard_free(&board);

    /* Memories, consent and command use in the scope are not analyses. */
    add_memory(st, user, scope, "not an analysis", id);
    assert_int_equal(store_consent_set(st, user, "Someone", scope, true), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, scope, "snail analyze", true, 5), SLIMY_OK);
    board.n = 7;
    assert_int_equal(store_leaderboard(st, scope, 10, &board), SLIMY_OK);
    assert_int_equal(board.n, 0);
    store_leaderboard_free(&board);

    add_analyses(st, user, "Someone", scope, 1);
    board.n = 7;
    assert_int_equal(store_leaderboard(st, scope, 0, &board), SLIMY_OK);
    assert_int_equal(board.n, 0);
    store_leaderboard_free(&board);
}

/* max keeps the top entries; a huge max is clamped to STORE_LIST_MAX, not trusted: with one
 * user more than that, the one with the fewest analyses is left off. */
static void test_leaderboard_max_and_clamp(void **state)
{
    struct store *st = *state;
    char scope[STORE_ID_MAX], top[STORE_ID_MAX], second[STORE_ID_MAX], last[STORE_ID_MAX], user[STORE_ID_MAX];
    new_snowflake(scope);
    new_snowflake(top);
    new_snowflake(second);
    new_snowflake(last);
    add_analyses(st, top, "Top", scope, 3);
    add_analyses(st, second, "Second", scope, 2);
    for (int i = 0; i < STORE_LIST_MAX - 2; i++) {
        new_snowflake(user);
        add_analyses(st, user, NULL, scope, 1);
    }
    sleep_ms(5);
    /* One row too, but newer than every other one-row user, so ranked above them. */
    add_analyses(st, last, "Newest single", scope, 1);

    struct store_leaderboard board = {0};
    assert_int_equal(store_leaderboard(st, scope, 2, &board), SLIMY_OK);
    assert_int_equal(board.n, 2);
    assert_string_equal(board.items[0].user_id, top);
    assert_string_equal(board.items[1].user_id, second);
    store_leaderboard_free(&board);

    assert_int_equal(store_leaderboard(st, scope, 3, &board), SLIMY_OK);
    assert_int_equal(board.n, 3);
    assert_string_equal(board.items[2].user_id, last);
    store_leaderboard_free(&board);

    /* STORE_LIST_MAX + 1 users in all. */
    assert_int_equal(store_leaderboard(st, scope, SIZE_MAX, &board), SLIMY_OK);
    assert_int_equal(board.n, STORE_LIST_MAX);
    assert_leaderboard_order(&board);
    assert_string_equal(board.items[0].user_id, top);
    assert_string_equal(board.items[2].user_id, last);
    store_leaderboard_free(&board);
    assert_int_equal(store_leaderboard(st, scope, STORE_LIST_MAX + 1, &board), SLIMY_OK);
    assert_int_equal(board.n, STORE_LIST_MAX);
    store_leaderboard_free(&board);
}

/* chats are "chat" and "Ask Slimy", images "dream", commands every row; other users' and other
 * scopes' rows do not count; last_active_ms is the newest row's time. */
static void test_user_stats_counts(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], other_user[STORE_ID_MAX], guild[STORE_ID_MAX], other_guild[STORE_ID_MAX], dm[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(other_user);
    new_snowflake(guild);
    new_snowflake(other_guild);
    new_dm_scope(dm);
    const char *mine[] = {"chat",     "chat",           "Ask Slimy", "dream",        "dream",
                          "remember", "consent status", "Chat",      "chat history", "dreamer"};
    int64_t before = wall_ms();
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
        assert_int_equal(store_command_usage_add(st, user, guild, mine[i], i % 3 != 0, (int64_t)i), SLIMY_OK);
    int64_t after = wall_ms();
    /* Noise that must not be counted. */
    assert_int_equal(store_command_usage_add(st, other_user, guild, "chat", true, 1), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, other_guild, "dream", true, 1), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, dm, "chat", true, 1), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, NULL, "chat", true, 1), SLIMY_OK);

    struct store_user_stats stats;
    memset(&stats, 0x5a, sizeof stats); /* poisoned: every field must be written */
    assert_int_equal(store_user_stats(st, user, guild, 0, &stats), SLIMY_OK);
    assert_int_equal(stats.chats, 3);     /* names compare byte for byte: "Chat" is not "chat" */
    assert_int_equal(stats.images, 2);    /* nor "dreamer" "dream" */
    assert_int_equal(stats.commands, 10); /* failed uses are uses too */
    assert_time_between(stats.last_active_ms, before, after);

    assert_int_equal(store_user_stats(st, user, dm, 0, &stats), SLIMY_OK);
    assert_int_equal(stats.chats, 1);
    assert_int_equal(stats.images, 0);
    assert_int_equal(stats.commands, 1);
    assert_int_equal(store_user_stats(st, other_user, guild, 0, &stats), SLIMY_OK);
    assert_int_equal(stats.chats, 1);
    assert_int_equal(stats.commands, 1);
}

/* The counts cover rows at or after since_ms only; last_active_ms ignores since_ms. */
static void test_user_stats_since(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    assert_int_equal(store_command_usage_add(st, user, scope, "chat", true, 1), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, scope, "dream", true, 1), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, scope, "export", true, 1), SLIMY_OK);
    /* Past the time slack of the server's clock, so the old rows are surely before `since`. */
    sleep_ms(20);
    int64_t since = wall_ms();
    sleep_ms(20);
    assert_int_equal(store_command_usage_add(st, user, scope, "chat", true, 1), SLIMY_OK);
    assert_int_equal(store_command_usage_add(st, user, scope, "diag", true, 1), SLIMY_OK);
    int64_t after = wall_ms();

    struct store_user_stats stats;
    assert_int_equal(store_user_stats(st, user, scope, INT64_MIN, &stats), SLIMY_OK);
    assert_int_equal(stats.chats, 2);
    assert_int_equal(stats.images, 1);
    assert_int_equal(stats.commands, 5);
    int64_t last_active_ms = stats.last_active_ms;
    assert_time_between(last_active_ms, since, after);

    assert_int_equal(store_user_stats(st, user, scope, since, &stats), SLIMY_OK);
    assert_int_equal(stats.chats, 1);
    assert_int_equal(stats.images, 0);
    assert_int_equal(stats.commands, 2);
    assert_int_equal(stats.last_active_ms, last_active_ms);

    /* "At or after": the newest row's own time still counts it. */
    assert_int_equal(store_user_stats(st, user, scope, last_active_ms, &stats), SLIMY_OK);
    assert_true(stats.commands >= 1);

    /* A period that starts after every row counts nothing but still knows the last use. */
    assert_int_equal(store_user_stats(st, user, scope, INT64_MAX, &stats), SLIMY_OK);
    assert_int_equal(stats.chats, 0);
    assert_int_equal(stats.images, 0);
    assert_int_equal(stats.commands, 0);
    assert_int_equal(stats.last_active_ms, last_active_ms);
}

/* A user who never used a command in the scope: SLIMY_OK and every field 0. */
static void test_user_stats_none(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    struct store_user_stats stats;
    memset(&stats, 0x5a, sizeof stats);
    assert_int_equal(store_user_stats(st, user, scope, 0, &stats), SLIMY_OK);
    assert_int_equal(stats.chats, 0);
    assert_int_equal(stats.images, 0);
    assert_int_equal(stats.commands, 0);
    assert_int_equal(stats.last_active_ms, 0);
    /* Analyses are not command use. */
    add_analyses(st, user, "Snail Only", scope, 2);
    assert_int_equal(store_user_stats(st, user, scope, 0, &stats), SLIMY_OK);
    assert_int_equal(stats.commands, 0);
    assert_int_equal(stats.last_active_ms, 0);
}

/* ============================================================================================
 * The suite
 * ========================================================================================== */

#define CONTRACT_TEST(f) cmocka_unit_test_setup_teardown(f, setup_store, teardown_store)

static const struct CMUnitTest store_contract_tests[] = {
    CONTRACT_TEST(test_ops_table_complete),
    CONTRACT_TEST(test_ping),
    CONTRACT_TEST(test_migrations_fresh_database_gets_all),
    CONTRACT_TEST(test_migrations_second_open_applies_nothing),
    cmocka_unit_test(test_open_concurrently_on_fresh_database),
    cmocka_unit_test(test_open_without_migrations),
    CONTRACT_TEST(test_consent_absent_is_false),
    CONTRACT_TEST(test_consent_set_and_revoke),
    CONTRACT_TEST(test_consent_is_per_scope_and_user),
    CONTRACT_TEST(test_consent_set_is_idempotent),
    CONTRACT_TEST(test_memory_add_list_newest_first),
    CONTRACT_TEST(test_memory_order_within_one_millisecond),
    CONTRACT_TEST(test_memory_tags_and_context_round_trip),
    CONTRACT_TEST(test_memory_list_max),
    CONTRACT_TEST(test_memory_list_clamps_to_list_max),
    CONTRACT_TEST(test_memory_list_none_is_ok),
    CONTRACT_TEST(test_memory_list_is_scoped),
    CONTRACT_TEST(test_memory_list_all_scopes),
    CONTRACT_TEST(test_memory_find_matches_note_or_id),
    CONTRACT_TEST(test_memory_find_pattern_characters_are_literal),
    CONTRACT_TEST(test_memory_find_limit),
    CONTRACT_TEST(test_memory_find_checks),
    CONTRACT_TEST(test_memory_hostile_ids_are_values),
    CONTRACT_TEST(test_memory_delete_own),
    CONTRACT_TEST(test_memory_delete_respects_owner_and_scope),
    CONTRACT_TEST(test_memory_delete_all),
    CONTRACT_TEST(test_memory_add_is_idempotent),
    CONTRACT_TEST(test_memory_ids_are_uuid_v4),
    CONTRACT_TEST(test_memory_hostile_text_verbatim),
    CONTRACT_TEST(test_memory_note_cap),
    CONTRACT_TEST(test_memory_tags_and_context_caps),
    CONTRACT_TEST(test_memory_add_without_user_name),
    CONTRACT_TEST(test_memory_concurrent_adds),
    CONTRACT_TEST(test_memory_concurrent_same_interaction),
    CONTRACT_TEST(test_mode_get_absent_is_zero),
    CONTRACT_TEST(test_mode_put_get_replace),
    CONTRACT_TEST(test_mode_put_zero_deletes),
    CONTRACT_TEST(test_mode_list_sorted_and_per_guild),
    CONTRACT_TEST(test_mode_put_is_idempotent),
    CONTRACT_TEST(test_adjustment_set_list_sorted),
    CONTRACT_TEST(test_adjustment_upsert),
    CONTRACT_TEST(test_adjustment_range),
    CONTRACT_TEST(test_adjustment_per_scope),
    CONTRACT_TEST(test_snail_stats_add_list),
    CONTRACT_TEST(test_snail_stats_optional_fields),
    CONTRACT_TEST(test_snail_stats_add_is_idempotent),
    CONTRACT_TEST(test_snail_stats_list_is_scoped),
    CONTRACT_TEST(test_snail_stats_list_max),
    CONTRACT_TEST(test_snail_stats_null_arrays),
    CONTRACT_TEST(test_id_length_limits),
    CONTRACT_TEST(test_lists_sort_in_byte_order),
    CONTRACT_TEST(test_text_keys_compare_byte_for_byte),
    CONTRACT_TEST(test_command_name_checks),
    CONTRACT_TEST(test_image_log_channel_checks),
    CONTRACT_TEST(test_adjustment_parameter_checks),
    CONTRACT_TEST(test_mode_target_type_checks),
    CONTRACT_TEST(test_refused_calls_reset_outputs),
    cmocka_unit_test(test_checks_come_before_the_database),
    CONTRACT_TEST(test_duplicate_without_row_is_internal),
    CONTRACT_TEST(test_image_log_and_command_usage),
    CONTRACT_TEST(test_counts_deltas),
    CONTRACT_TEST(test_leaderboard_ranking_and_ties),
    CONTRACT_TEST(test_leaderboard_ties_are_total),
    CONTRACT_TEST(test_leaderboard_is_scoped),
    CONTRACT_TEST(test_leaderboard_empty),
    CONTRACT_TEST(test_leaderboard_max_and_clamp),
    CONTRACT_TEST(test_user_stats_counts),
    CONTRACT_TEST(test_user_stats_since),
    CONTRACT_TEST(test_user_stats_none),
};

/* ============================================================================================
 * Helpers for the tests of one backend only (run after the suite, in the same program)
 * ========================================================================================== */

/* "Writes one line for the operator into err." */
static void assert_one_line_error(const char *err)
{
    size_t len = strlen(err);
    if (len == 0)
        fail_msg("store_open() failed without a message in err");
    const char *newline = strchr(err, '\n');
    if (newline && newline != err + len - 1)
        fail_msg("err is more than one line: \"%s\"", err);
}

/* store_memory_new.user_name: "upserted into users; NULL keeps the stored name". No op returns
 * the name: stored_name reads users.username of user_id straight from the database ("" when the
 * row is missing). The third add stores second_name. */
static void check_user_name_upsert(struct store *st,
                                   void (*stored_name)(const char *user_id, char *out, size_t out_len),
                                   const char *second_name)
{
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX], name[128];
    new_snowflake(user);
    new_snowflake(scope);
    char interaction_id[STORE_ID_MAX];
    new_snowflake(interaction_id);
    struct store_memory_new m = {.user_id = user,
                                 .user_name = "First Name",
                                 .scope_id = scope,
                                 .note = "a",
                                 .interaction_id = interaction_id};
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    stored_name(user, name, sizeof name);
    assert_string_equal(name, "First Name");

    new_snowflake(interaction_id);
    m.user_name = NULL;
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    stored_name(user, name, sizeof name);
    assert_string_equal(name, "First Name");

    new_snowflake(interaction_id);
    m.user_name = second_name;
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    stored_name(user, name, sizeof name);
    assert_string_equal(name, second_name);
}

#endif
