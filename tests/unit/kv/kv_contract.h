/* kv_contract.h — the contract suite of kv.h, run unchanged against every backend
 * (test_kv_local.c, test_kv_redis.c). Every expectation comes from the comments in kv.h, never
 * from what a backend happens to do; the one intended difference, KV_READ_PROCESS_ONLY, is a hook.
 *
 * A test program includes this file once, sets the hooks below and runs kv_contract_tests with
 * cmocka. Each test gets a fresh backend (contract_open() again: a new process-local store, or a
 * new Redis key prefix), so nothing depends on what an earlier test left behind. Backends keep
 * their own clocks (Redis uses its server's), so expiry is tested with real time: short durations
 * chosen so that a slow machine can only make a sleep longer, which never breaks a check that
 * something expired; the checks that something is still there leave a wide margin instead. */
#ifndef SLIMY_TESTS_KV_CONTRACT_H
#define SLIMY_TESTS_KV_CONTRACT_H

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

#include "core/clock.h"
#include "core/status.h"
#include "kv/history.h"
#include "kv/kv.h"

/* ---- hooks the test program sets before running the suite ---- */

/* The ops->name the backend must report: "local" or "redis". */
static const char *contract_backend;
/* Opens a fresh, empty backend with opts; NULL (after printing why) on failure. */
static struct kv *(*contract_open)(const struct kv_options *opts);
/* What kv_state() must answer for a healthy backend. */
static enum kv_state contract_state;
/* Whether KV_READ_PROCESS_ONLY sees the jobs: the in-process backend keeps them in this
 * process's memory, so it does; Redis keeps none there, so it must return nothing. */
static bool contract_process_only_sees_jobs;

/* ---- constants ---- */

#define CONTRACT_LONG_MS 60000u       /* a ttl, idle time or cooldown that never runs out during a test */
#define CONTRACT_SHORT_MS 300u        /* one that runs out during a test */
#define CONTRACT_PAST_SHORT_MS 450    /* a sleep after which CONTRACT_SHORT_MS has surely passed */
#define CONTRACT_RETURN_SLACK_MS 2000 /* "it returns": generous, only a hang fails */
#define CONTRACT_THREADS 8
#define CONTRACT_ADMITS_PER_THREAD 25
#define CONTRACT_SAME_ID_ROUNDS 10
#define CONTRACT_READERS 4
#define CONTRACT_READER_JOBS 40
#define CONTRACT_COUNTER_THREADS 4
#define CONTRACT_COUNTER_ADDS 50
#define CONTRACT_BIG_BODY 70000        /* past the sizes where a protocol would switch to chunks */
#define EMOJI_SNAIL "\xF0\x9F\x90\x8C" /* U+1F40C, 4 bytes in UTF-8 */

/* ---- fixture and helpers ---- */

struct contract_fixture {
    struct kv *kv;
    struct kv *other; /* a second backend a test may open; teardown closes it too */
};

static void contract_options(struct kv_options *opts)
{
    opts->dedupe_ttl_ms = CONTRACT_LONG_MS;
    opts->history_idle_ms = CONTRACT_LONG_MS;
    opts->stream_max = 1000;
}

static int setup_kv(void **state)
{
    struct contract_fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    struct kv_options opts;
    contract_options(&opts);
    f->kv = contract_open(&opts);
    if (!f->kv) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_kv(void **state)
{
    struct contract_fixture *f = *state;
    if (f->kv)
        kv_close(f->kv);
    if (f->other)
        kv_close(f->other);
    free(f);
    return 0;
}

static struct kv *fixture_kv(void **state)
{
    return ((struct contract_fixture *)*state)->kv;
}

/* Replaces the fixture's backend by a fresh one with opts (teardown closes it). */
static struct kv *reopen_with(void **state, const struct kv_options *opts)
{
    struct contract_fixture *f = *state;
    kv_close(f->kv);
    f->kv = contract_open(opts);
    if (!f->kv)
        fail_msg("contract_open() failed");
    return f->kv;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static const char *verdict_name(enum kv_verdict v)
{
    switch (v) {
    case KV_ADMITTED: return "KV_ADMITTED";
    case KV_DUPLICATE: return "KV_DUPLICATE";
    case KV_COOLING_DOWN: return "KV_COOLING_DOWN";
    case KV_QUEUE_FULL: return "KV_QUEUE_FULL";
    }
    return "(not a verdict)";
}

/* kv_admit() that must succeed; returns the result. line: the caller's, for the message. */
static struct kv_admit_result admit_at(int line, struct kv *kv, const char *id, const char *user, const char *path,
                                       uint32_t cooldown_ms, const struct kv_job *job)
{
    struct kv_admission req = {.interaction_id = id,
                               .user_id = user,
                               .command_path = path,
                               .cooldown_ms = cooldown_ms,
                               .job = job};
    struct kv_admit_result r;
    memset(&r, 0x5a, sizeof r); /* a backend that leaves a field unset does not pass by luck */
    int rc = kv_admit(kv, &req, &r);
    if (rc != SLIMY_OK)
        fail_msg("line %d: kv_admit(%s, %s, %s): %s", line, id, user, path, slimy_strerror(rc));
    return r;
}

static void expect_verdict_at(int line, struct kv_admit_result r, enum kv_verdict want, const char *id)
{
    if (r.verdict != want)
        fail_msg("line %d: kv_admit(%s) answered %s, expected %s", line, id, verdict_name(r.verdict),
                 verdict_name(want));
}

#define admit(kv, id, user, path, cooldown_ms, job) admit_at(__LINE__, kv, id, user, path, cooldown_ms, job)
#define expect_admit(kv, id, user, path, cooldown_ms, job, want) \
    expect_verdict_at(__LINE__, admit_at(__LINE__, kv, id, user, path, cooldown_ms, job), want, id)

/* A job for interaction id with a small JSON body. */
static struct kv_job small_job(const char *id, const char *path)
{
    return (struct kv_job){.interaction_id = id,
                           .path = path,
                           .body = "{\"type\":2}",
                           .body_len = strlen("{\"type\":2}"),
                           .expires_at_wall_ms = clock_wall_ms() + 15u * 60u * 1000u};
}

/* Admits a job with no cooldown that must be KV_ADMITTED. */
static void queue_job(struct kv *kv, const char *id, const char *path)
{
    struct kv_job job = small_job(id, path);
    expect_admit(kv, id, "700000000000000001", path, 0, &job, KV_ADMITTED);
}

static void read_jobs(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                      struct kv_entries *out)
{
    memset(out, 0, sizeof *out);
    int rc = kv_job_read(kv, consumer, max, block_ms, from, out);
    if (rc != SLIMY_OK)
        fail_msg("kv_job_read(%s, max %zu, block %u): %s", consumer, max, block_ms, slimy_strerror(rc));
    if (out->n > max)
        fail_msg("kv_job_read(max %zu) returned %zu entries", max, out->n);
}

static void autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max, struct kv_entries *out)
{
    memset(out, 0, sizeof *out);
    int rc = kv_job_autoclaim(kv, consumer, min_idle_ms, max, out);
    if (rc != SLIMY_OK)
        fail_msg("kv_job_autoclaim(%s, min idle %u): %s", consumer, min_idle_ms, slimy_strerror(rc));
    if (out->n > max)
        fail_msg("kv_job_autoclaim(max %zu) returned %zu entries", max, out->n);
}

/* Reads the one job admitted for interaction_id: exactly one entry, the right one. */
static struct kv_entries read_one(struct kv *kv, const char *consumer, const char *interaction_id)
{
    struct kv_entries e;
    read_jobs(kv, consumer, 10, 0, KV_READ_ALL, &e);
    if (e.n != 1)
        fail_msg("consumer %s expected one entry (%s), read %zu", consumer, interaction_id, e.n);
    assert_string_equal(e.items[0].interaction_id, interaction_id);
    assert_non_null(e.items[0].source);
    return e;
}

static void job_done(const struct kv_entry *e)
{
    assert_int_equal(kv_job_done(e->source, e->id, e->interaction_id), SLIMY_OK);
}

/* kv_job_was_delivered(), asked twice with *out preset both ways, so an unset *out is caught. */
static bool was_delivered(struct kv *kv, const char *interaction_id)
{
    bool first = true, second = false;
    assert_int_equal(kv_job_was_delivered(kv, interaction_id, &first), SLIMY_OK);
    assert_int_equal(kv_job_was_delivered(kv, interaction_id, &second), SLIMY_OK);
    if (first != second)
        fail_msg("kv_job_was_delivered(%s) left *out unset", interaction_id);
    return first;
}

static void append_turn(struct kv *kv, const char *key, enum ai_role role, const char *text)
{
    struct chat_turn t = {.role = role, .text = (char *)text};
    assert_int_equal(kv_history_append(kv, key, &t, 1), SLIMY_OK);
}

static struct chat_turns history(struct kv *kv, const char *key)
{
    struct chat_turns t;
    memset(&t, 0, sizeof t);
    assert_int_equal(kv_history_get(kv, key, &t), SLIMY_OK);
    assert_true(t.n <= CHAT_HISTORY_MAX);
    return t;
}

static size_t history_len(struct kv *kv, const char *key)
{
    struct chat_turns t = history(kv, key);
    size_t n = t.n;
    chat_turns_free(&t);
    return n;
}

static const struct kv_counter *find_counter(const struct kv_counters *c, const char *path)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].path, path) == 0)
            return &c->items[i];
    return NULL;
}

static void expect_counter(const struct kv_counters *c, const char *path, uint64_t count, uint64_t failures,
                           uint64_t total_ms)
{
    const struct kv_counter *k = find_counter(c, path);
    if (!k)
        fail_msg("no counter for \"%s\"", path);
    if (k->count != count || k->failures != failures || k->total_ms != total_ms)
        fail_msg("counter \"%s\" is %llu/%llu/%llu, expected %llu/%llu/%llu", path, (unsigned long long)k->count,
                 (unsigned long long)k->failures, (unsigned long long)k->total_ms, (unsigned long long)count,
                 (unsigned long long)failures, (unsigned long long)total_ms);
}

/* ============================================================================================
 * The interface itself
 * ========================================================================================== */

/* ops->name names the backend, and every slot of the ops table is filled. */
static void test_ops_table_complete(void **state)
{
    struct kv *kv = fixture_kv(state);
    const struct kv_ops *ops = kv->ops;
    assert_non_null(ops);
    assert_non_null(ops->name);
    assert_string_equal(ops->name, contract_backend);
    assert_non_null(ops->close);
    assert_non_null(ops->ping);
    assert_non_null(ops->state);
    assert_non_null(ops->admit);
    assert_non_null(ops->history_get);
    assert_non_null(ops->history_append);
    assert_non_null(ops->history_reset);
    assert_non_null(ops->counters_add);
    assert_non_null(ops->counters_read);
    assert_non_null(ops->job_read);
    assert_non_null(ops->job_autoclaim);
    assert_non_null(ops->job_refresh);
    assert_non_null(ops->job_done);
    assert_non_null(ops->job_was_delivered);
}

/* The options given to the constructor are the ones the backend keeps. */
static void test_options_kept(void **state)
{
    struct kv_options opts = {.dedupe_ttl_ms = 1234, .history_idle_ms = 5678, .stream_max = 9};
    struct kv *kv = reopen_with(state, &opts);
    assert_int_equal(kv->opts.dedupe_ttl_ms, 1234);
    assert_int_equal(kv->opts.history_idle_ms, 5678);
    assert_int_equal(kv->opts.stream_max, 9);
}

/* After a round trip that worked, the state says so (a lazily connecting backend may not know
 * before its first one). */
static void test_state_and_ping(void **state)
{
    struct kv *kv = fixture_kv(state);
    assert_int_equal(kv_ping(kv), SLIMY_OK);
    assert_int_equal(kv_state(kv), contract_state);
    assert_int_equal(kv_ping(kv), SLIMY_OK);
}

/* ============================================================================================
 * kv_admit: cooldowns
 * ========================================================================================== */

/* Admitted, then cooling down with 0 < remaining <= cooldown, then admitted again once it ran out. */
static void test_admit_cooldown_window(void **state)
{
    struct kv *kv = fixture_kv(state);
    expect_admit(kv, "1001", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_ADMITTED);

    struct kv_admit_result r = admit(kv, "1002", "u1", "chat", CONTRACT_SHORT_MS, NULL);
    expect_verdict_at(__LINE__, r, KV_COOLING_DOWN, "1002");
    if (r.cooldown_remaining_ms < 1 || r.cooldown_remaining_ms > CONTRACT_SHORT_MS)
        fail_msg("cooldown_remaining_ms %llu is outside [1, %u]", (unsigned long long)r.cooldown_remaining_ms,
                 CONTRACT_SHORT_MS);

    sleep_ms(CONTRACT_PAST_SHORT_MS);
    expect_admit(kv, "1003", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_ADMITTED);
    /* ...which started a new window. */
    expect_admit(kv, "1004", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_COOLING_DOWN);
}

/* The remaining time counts down: a later answer never says more than an earlier one. */
static void test_admit_cooldown_counts_down(void **state)
{
    struct kv *kv = fixture_kv(state);
    expect_admit(kv, "1101", "u1", "dream", 10000, NULL, KV_ADMITTED);
    struct kv_admit_result first = admit(kv, "1102", "u1", "dream", 10000, NULL);
    expect_verdict_at(__LINE__, first, KV_COOLING_DOWN, "1102");
    sleep_ms(150);
    struct kv_admit_result second = admit(kv, "1103", "u1", "dream", 10000, NULL);
    expect_verdict_at(__LINE__, second, KV_COOLING_DOWN, "1103");
    assert_true(first.cooldown_remaining_ms <= 10000);
    /* At least 100 of the 150 ms slept are seen, whatever the rounding of either clock. */
    if (second.cooldown_remaining_ms + 100 > first.cooldown_remaining_ms)
        fail_msg("remaining %llu ms, then %llu ms 150 ms later", (unsigned long long)first.cooldown_remaining_ms,
                 (unsigned long long)second.cooldown_remaining_ms);
}

static void test_admit_zero_cooldown_never_limits(void **state)
{
    struct kv *kv = fixture_kv(state);
    char id[32];
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "12%02d", i);
        expect_admit(kv, id, "u1", "snail calc", 0, NULL, KV_ADMITTED);
    }
}

/* Cooldowns are per (user, path): other users, other paths, and no confusion at the seam. */
static void test_admit_cooldown_keys_independent(void **state)
{
    struct kv *kv = fixture_kv(state);
    expect_admit(kv, "1301", "111", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "1302", "222", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "1303", "111", "dream", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "1304", "111", "snail sheet", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "1305", "111", "snail calc", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    /* ("ab", "c") is not ("a", "bc"). */
    expect_admit(kv, "1306", "ab", "c", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "1307", "a", "bc", CONTRACT_LONG_MS, NULL, KV_ADMITTED);

    expect_admit(kv, "1311", "111", "chat", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);
    expect_admit(kv, "1312", "222", "chat", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);
    expect_admit(kv, "1313", "111", "snail sheet", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);
    expect_admit(kv, "1314", "ab", "c", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);
    expect_admit(kv, "1315", "a", "bc", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);
    expect_admit(kv, "1316", "333", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    /* A command without a cooldown is not held back by the user's cooldown on another. */
    expect_admit(kv, "1317", "111", "diag", 0, NULL, KV_ADMITTED);
}

/* ============================================================================================
 * kv_admit: dedupe
 * ========================================================================================== */

/* The id alone decides: the same id is a duplicate whatever user or path comes with it. */
static void test_admit_duplicate_id(void **state)
{
    struct kv *kv = fixture_kv(state);
    expect_admit(kv, "2001", "u1", "chat", 0, NULL, KV_ADMITTED);
    expect_admit(kv, "2001", "u1", "chat", 0, NULL, KV_DUPLICATE);
    expect_admit(kv, "2001", "u2", "dream", 0, NULL, KV_DUPLICATE);
    expect_admit(kv, "2001", "u2", "dream", 5000, NULL, KV_DUPLICATE);
    /* A duplicate records nothing either: u2 has no dream cooldown. */
    expect_admit(kv, "2002", "u2", "dream", 5000, NULL, KV_ADMITTED);
    /* Ids are compared whole: a prefix or an extension of an admitted id is another id. */
    expect_admit(kv, "200", "u3", "chat", 0, NULL, KV_ADMITTED);
    expect_admit(kv, "20011", "u3", "chat", 0, NULL, KV_ADMITTED);
}

/* "A duplicate id wins over everything": Discord's retry of an admitted interaction arrives
 * inside its own cooldown, and must be answered as a duplicate, not as "wait". */
static void test_admit_duplicate_wins_over_cooldown(void **state)
{
    struct kv *kv = fixture_kv(state);
    expect_admit(kv, "2101", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "2101", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_DUPLICATE);
}

/* A duplicate also wins over a full queue: a retried job is not "busy", it is already queued. */
static void test_admit_duplicate_wins_over_queue_full(void **state)
{
    struct kv_options opts;
    contract_options(&opts);
    opts.stream_max = 1;
    struct kv *kv = reopen_with(state, &opts);
    struct kv_job job = small_job("2201", "dream");
    expect_admit(kv, "2201", "u1", "dream", 0, &job, KV_ADMITTED);
    expect_admit(kv, "2201", "u1", "dream", 0, &job, KV_DUPLICATE);
}

/* KV_COOLING_DOWN records nothing: the same id, once the cooldown ran out, is admitted. */
static void test_admit_cooling_down_records_nothing(void **state)
{
    struct kv *kv = fixture_kv(state);
    expect_admit(kv, "2301", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "2302", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_COOLING_DOWN);
    /* Asking again while cooling down neither records the id nor extends the window. */
    expect_admit(kv, "2302", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_COOLING_DOWN);
    sleep_ms(CONTRACT_PAST_SHORT_MS);
    expect_admit(kv, "2302", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_ADMITTED);
    expect_admit(kv, "2302", "u1", "chat", CONTRACT_SHORT_MS, NULL, KV_DUPLICATE);
}

/* An admitted id is remembered for dedupe_ttl_ms, then forgotten; so is a delivery. */
static void test_admit_dedupe_expires(void **state)
{
    struct kv_options opts;
    contract_options(&opts);
    opts.dedupe_ttl_ms = CONTRACT_SHORT_MS;
    struct kv *kv = reopen_with(state, &opts);
    expect_admit(kv, "2401", "u1", "chat", 0, NULL, KV_ADMITTED);
    expect_admit(kv, "2401", "u1", "chat", 0, NULL, KV_DUPLICATE);
    queue_job(kv, "2402", "dream");
    struct kv_entries e = read_one(kv, "A", "2402");
    job_done(&e.items[0]);
    kv_entries_free(&e);
    assert_true(was_delivered(kv, "2402"));
    sleep_ms(CONTRACT_PAST_SHORT_MS);
    expect_admit(kv, "2401", "u1", "chat", 0, NULL, KV_ADMITTED);
    assert_false(was_delivered(kv, "2402"));
}

/* ============================================================================================
 * kv_admit: atomicity
 * ========================================================================================== */

struct admit_thread {
    struct kv *kv;
    pthread_barrier_t *start;
    int thread;
    bool same_id; /* every thread admits the one id "39<round_base>", without a cooldown */
    int round_base;
    int rounds; /* admissions to make */
    int n_admitted;
    int n_duplicate;
    int n_cooling;
    int n_other; /* any other verdict, or an error */
};

static void *admit_thread_main(void *p)
{
    struct admit_thread *a = p;
    pthread_barrier_wait(a->start);
    for (int i = 0; i < a->rounds; i++) {
        char id[32];
        if (a->same_id)
            snprintf(id, sizeof id, "39%d", a->round_base);
        else
            snprintf(id, sizeof id, "3%d%04d", a->thread, i);
        struct kv_admission req = {.interaction_id = id,
                                   .user_id = "u-race",
                                   .command_path = "chat",
                                   .cooldown_ms = a->same_id ? 0 : CONTRACT_LONG_MS};
        struct kv_admit_result r;
        if (kv_admit(a->kv, &req, &r) != SLIMY_OK)
            a->n_other++;
        else if (r.verdict == KV_ADMITTED)
            a->n_admitted++;
        else if (r.verdict == KV_DUPLICATE)
            a->n_duplicate++;
        else if (r.verdict == KV_COOLING_DOWN)
            a->n_cooling++;
        else
            a->n_other++;
    }
    return NULL;
}

/* Runs the CONTRACT_THREADS admitting threads at once, the even ones on kv and the odd ones on
 * odd_kv (kv again, or another replica of the same deployment), and waits for them. */
static void run_admit_threads(struct kv *kv, struct kv *odd_kv, bool same_id, int rounds, int round_base,
                              struct admit_thread args[CONTRACT_THREADS])
{
    pthread_t threads[CONTRACT_THREADS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, CONTRACT_THREADS);
    for (int t = 0; t < CONTRACT_THREADS; t++) {
        args[t] = (struct admit_thread){.kv = t % 2 ? odd_kv : kv,
                                        .start = &start,
                                        .thread = t,
                                        .same_id = same_id,
                                        .rounds = rounds,
                                        .round_base = round_base};
        assert_int_equal(pthread_create(&threads[t], NULL, admit_thread_main, &args[t]), 0);
    }
    for (int t = 0; t < CONTRACT_THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    pthread_barrier_destroy(&start);
}

/* After threads raced with distinct ids on one (user, path) with a cooldown: exactly one was
 * admitted and no answer was anything but "cooling down". Returns how many cooled down. */
static int assert_one_admitted_others_cooling(const struct admit_thread args[CONTRACT_THREADS])
{
    int admitted = 0, cooling = 0, other = 0;
    for (int t = 0; t < CONTRACT_THREADS; t++) {
        admitted += args[t].n_admitted;
        cooling += args[t].n_cooling;
        other += args[t].n_duplicate + args[t].n_other;
    }
    if (admitted != 1 || other != 0)
        fail_msg("%d admitted, %d cooling down, %d other answers or errors", admitted, cooling, other);
    return cooling;
}

/* 8 threads x 25 admissions of one (user, path) with distinct ids and a long cooldown:
 * exactly one is admitted, every other one is told to wait. */
static void test_admit_concurrent_cooldown(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct admit_thread args[CONTRACT_THREADS];
    run_admit_threads(kv, kv, false, CONTRACT_ADMITS_PER_THREAD, 0, args);
    int cooling = assert_one_admitted_others_cooling(args);
    assert_int_equal(cooling, CONTRACT_THREADS * CONTRACT_ADMITS_PER_THREAD - 1);
}

/* 8 threads admitting the same id at once, over several rounds: exactly one admission per id. */
static void test_admit_concurrent_same_id(void **state)
{
    struct kv *kv = fixture_kv(state);
    for (int round = 0; round < CONTRACT_SAME_ID_ROUNDS; round++) {
        struct admit_thread args[CONTRACT_THREADS];
        run_admit_threads(kv, kv, true, 1, round, args);
        int admitted = 0, duplicate = 0, other = 0;
        for (int t = 0; t < CONTRACT_THREADS; t++) {
            admitted += args[t].n_admitted;
            duplicate += args[t].n_duplicate;
            other += args[t].n_cooling + args[t].n_other;
        }
        if (admitted != 1 || duplicate != CONTRACT_THREADS - 1 || other != 0)
            fail_msg("round %d: %d admitted, %d duplicates, %d other answers or errors", round, admitted, duplicate,
                     other);
    }
}

/* ============================================================================================
 * kv_admit: the queue limit
 * ========================================================================================== */

/* With stream_max = 2, a third job is refused and records nothing: neither its id nor its
 * cooldown. Once a job is done there is room again. */
static void test_admit_queue_full(void **state)
{
    struct kv_options opts;
    contract_options(&opts);
    opts.stream_max = 2;
    struct kv *kv = reopen_with(state, &opts);
    struct kv_job j1 = small_job("4001", "dream"), j2 = small_job("4002", "dream"), j3 = small_job("4003", "dream");
    expect_admit(kv, "4001", "u1", "dream", CONTRACT_LONG_MS, &j1, KV_ADMITTED);
    expect_admit(kv, "4002", "u2", "dream", CONTRACT_LONG_MS, &j2, KV_ADMITTED);
    expect_admit(kv, "4003", "u3", "dream", CONTRACT_LONG_MS, &j3, KV_QUEUE_FULL);
    expect_admit(kv, "4003", "u3", "dream", CONTRACT_LONG_MS, &j3, KV_QUEUE_FULL);

    /* Running jobs still count: reading them does not make room. */
    struct kv_entries e;
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.items[0].interaction_id, "4001");
    expect_admit(kv, "4003", "u3", "dream", CONTRACT_LONG_MS, &j3, KV_QUEUE_FULL);

    job_done(&e.items[0]);
    /* The refused id was never recorded, and u3's cooldown never started. */
    expect_admit(kv, "4003", "u3", "dream", CONTRACT_LONG_MS, &j3, KV_ADMITTED);
    kv_entries_free(&e);

    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.items[0].interaction_id, "4003");
    kv_entries_free(&e);
}

/* Inputs past the documented caps are refused (SLIMY_EINVAL) and record nothing: a job's path
 * must fit KV_PATH_MAX and its interaction id KV_ENTRY_ID_MAX, the sizes kv_entry gives back. */
static void test_admit_job_caps(void **state)
{
    struct kv *kv = fixture_kv(state);
    char path[KV_PATH_MAX + 1], id[KV_ENTRY_ID_MAX + 1];
    memset(path, 'p', sizeof path - 1);
    memset(id, '9', sizeof id - 1);

    /* Just at the caps: accepted and given back whole. */
    path[KV_PATH_MAX - 1] = '\0';
    id[KV_ENTRY_ID_MAX - 1] = '\0';
    struct kv_job job = small_job(id, path);
    expect_admit(kv, id, "u1", path, 0, &job, KV_ADMITTED);
    struct kv_entries e = read_one(kv, "A", id);
    assert_string_equal(e.items[0].path, path);
    kv_entries_free(&e);

    /* One byte past either: refused. */
    struct kv_admission req = {.interaction_id = "5002", .user_id = "u1", .command_path = "dream", .job = &job};
    struct kv_admit_result r;
    path[KV_PATH_MAX - 1] = 'p';
    path[KV_PATH_MAX] = '\0';
    job = small_job("5002", path);
    req.command_path = path;
    assert_int_equal(kv_admit(kv, &req, &r), SLIMY_EINVAL);
    req.command_path = "dream";
    id[KV_ENTRY_ID_MAX - 1] = '9';
    id[KV_ENTRY_ID_MAX] = '\0';
    job = small_job(id, "dream");
    req.interaction_id = id;
    assert_int_equal(kv_admit(kv, &req, &r), SLIMY_EINVAL);

    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
    /* Nothing recorded: "5002" is still new. */
    expect_admit(kv, "5002", "u1", "dream", 0, NULL, KV_ADMITTED);
}

/* ============================================================================================
 * Chat history
 * ========================================================================================== */

static void test_history_unknown_key_is_empty(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct chat_turns t;
    memset(&t, 0x5a, sizeof t); /* n must be written, not left as it was */
    assert_int_equal(kv_history_get(kv, "100:200", &t), SLIMY_OK);
    assert_int_equal(t.n, 0);
    chat_turns_free(&t);
}

/* Turns come back oldest first, with their roles, byte for byte: UTF-8, newlines, ':' and the
 * characters a serialisation might use as separators. */
static void test_history_round_trip(void **state)
{
    struct kv *kv = fixture_kv(state);
    const char *texts[] = {
        "hello",
        "h\xC3\xA9llo " EMOJI_SNAIL " \xE6\x97\xA5\xE6\x9C\xAC",
        "line one\nline two: a:b::c\r\n\ttabbed | pipe , comma \"quoted\" \\ back\\slash",
        "{\"role\":\"user\",\"text\":\"not json to the store\"}",
        "x",
    };
    enum ai_role roles[] = {AI_USER, AI_ASSISTANT, AI_USER, AI_ASSISTANT, AI_USER};
    struct chat_turn turns[3];
    for (size_t i = 0; i < 3; i++)
        turns[i] = (struct chat_turn){.role = roles[i], .text = (char *)texts[i]};
    /* Three turns in one call, then two more one by one: order holds across calls. */
    assert_int_equal(kv_history_append(kv, "100:200", turns, 3), SLIMY_OK);
    append_turn(kv, "100:200", roles[3], texts[3]);
    append_turn(kv, "100:200", roles[4], texts[4]);

    struct chat_turns t = history(kv, "100:200");
    assert_int_equal(t.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(t.items[i].role, roles[i]);
        assert_non_null(t.items[i].text);
        assert_string_equal(t.items[i].text, texts[i]);
    }
    chat_turns_free(&t);

    /* A second read gives the same: get does not consume. */
    assert_int_equal(history_len(kv, "100:200"), 5);
}

/* Appending n = 0 turns is a no-op, not an error. */
static void test_history_append_nothing(void **state)
{
    struct kv *kv = fixture_kv(state);
    assert_int_equal(kv_history_append(kv, "100:201", NULL, 0), SLIMY_OK);
    assert_int_equal(history_len(kv, "100:201"), 0);
}

/* Past CHAT_HISTORY_MAX the oldest turns go, one by one or many at once. */
static void test_history_cap_keeps_newest(void **state)
{
    struct kv *kv = fixture_kv(state);
    char text[32];
    for (int i = 0; i < 5; i++) {
        snprintf(text, sizeof text, "turn %d", i);
        append_turn(kv, "1:1", i % 2 ? AI_ASSISTANT : AI_USER, text);
    }
    /* Then 15 more in one call: 20 in all, of which the newest 16 (4..19) stay. */
    char texts[15][32];
    struct chat_turn batch[15];
    for (int i = 0; i < 15; i++) {
        snprintf(texts[i], sizeof texts[i], "turn %d", i + 5);
        batch[i] = (struct chat_turn){.role = (i + 5) % 2 ? AI_ASSISTANT : AI_USER, .text = texts[i]};
    }
    assert_int_equal(kv_history_append(kv, "1:1", batch, 15), SLIMY_OK);
    struct chat_turns t = history(kv, "1:1");
    assert_int_equal(t.n, CHAT_HISTORY_MAX);
    for (int i = 0; i < CHAT_HISTORY_MAX; i++) {
        int want = 20 - CHAT_HISTORY_MAX + i;
        snprintf(text, sizeof text, "turn %d", want);
        assert_string_equal(t.items[i].text, text);
        assert_int_equal(t.items[i].role, want % 2 ? AI_ASSISTANT : AI_USER);
    }
    chat_turns_free(&t);

    /* Exactly CHAT_HISTORY_MAX in one call on a full key replaces all of it. */
    char full_texts[CHAT_HISTORY_MAX][32];
    struct chat_turn full[CHAT_HISTORY_MAX];
    for (int i = 0; i < CHAT_HISTORY_MAX; i++) {
        snprintf(full_texts[i], sizeof full_texts[i], "f%d", i);
        full[i] = (struct chat_turn){.role = AI_ASSISTANT, .text = full_texts[i]};
    }
    assert_int_equal(kv_history_append(kv, "1:1", full, CHAT_HISTORY_MAX), SLIMY_OK);
    t = history(kv, "1:1");
    assert_int_equal(t.n, CHAT_HISTORY_MAX);
    for (int i = 0; i < CHAT_HISTORY_MAX; i++)
        assert_string_equal(t.items[i].text, full_texts[i]);
    chat_turns_free(&t);
}

/* More than CHAT_HISTORY_MAX turns in one call. kv.h says append "keeps the newest
 * CHAT_HISTORY_MAX" and that input past a documented cap is SLIMY_EINVAL; which of the two
 * applies is not written down, so either is accepted, whole: the newest kept, or a refusal
 * that changed nothing. */
static void test_history_append_more_than_max(void **state)
{
    struct kv *kv = fixture_kv(state);
    append_turn(kv, "1:2", AI_USER, "before");
    char many_texts[CHAT_HISTORY_MAX + 3][32];
    struct chat_turn many[CHAT_HISTORY_MAX + 3];
    for (int i = 0; i < CHAT_HISTORY_MAX + 3; i++) {
        snprintf(many_texts[i], sizeof many_texts[i], "m%d", i);
        many[i] = (struct chat_turn){.role = AI_USER, .text = many_texts[i]};
    }
    int rc = kv_history_append(kv, "1:2", many, CHAT_HISTORY_MAX + 3);
    struct chat_turns t = history(kv, "1:2");
    if (rc == SLIMY_OK) {
        assert_int_equal(t.n, CHAT_HISTORY_MAX);
        assert_string_equal(t.items[0].text, "m3");
        assert_string_equal(t.items[CHAT_HISTORY_MAX - 1].text, many_texts[CHAT_HISTORY_MAX + 2]);
    } else {
        assert_int_equal(rc, SLIMY_EINVAL);
        assert_int_equal(t.n, 1);
        assert_string_equal(t.items[0].text, "before");
    }
    chat_turns_free(&t);
}

/* A conversation is forgotten history_idle_ms after its last message. */
static void test_history_idle_expiry(void **state)
{
    struct kv_options opts;
    contract_options(&opts);
    opts.history_idle_ms = CONTRACT_SHORT_MS;
    struct kv *kv = reopen_with(state, &opts);
    append_turn(kv, "2:2", AI_USER, "soon gone");
    assert_int_equal(history_len(kv, "2:2"), 1);
    sleep_ms(CONTRACT_PAST_SHORT_MS);
    assert_int_equal(history_len(kv, "2:2"), 0);
    /* And it starts afresh, not with the old turns. */
    append_turn(kv, "2:2", AI_USER, "new");
    struct chat_turns t = history(kv, "2:2");
    assert_int_equal(t.n, 1);
    assert_string_equal(t.items[0].text, "new");
    chat_turns_free(&t);
}

/* Appending restarts the idle timer: a conversation with a message every 350 ms survives an
 * idle time of 600 ms, though its first message is older than that; reading does not restart it. */
static void test_history_append_restarts_idle(void **state)
{
    struct kv_options opts;
    contract_options(&opts);
    opts.history_idle_ms = 600;
    struct kv *kv = reopen_with(state, &opts);
    append_turn(kv, "3:3", AI_USER, "first");
    sleep_ms(350);
    append_turn(kv, "3:3", AI_ASSISTANT, "second");
    sleep_ms(350);
    /* 700 ms after the first message, 350 ms after the last. */
    assert_int_equal(history_len(kv, "3:3"), 2);
    sleep_ms(400);
    /* 750 ms after the last, with a read in between. */
    assert_int_equal(history_len(kv, "3:3"), 0);
}

/* Reset forgets that conversation only; resetting an unknown key is fine. */
static void test_history_reset(void **state)
{
    struct kv *kv = fixture_kv(state);
    append_turn(kv, "4:1", AI_USER, "one");
    append_turn(kv, "4:2", AI_USER, "two");
    assert_int_equal(kv_history_reset(kv, "4:1"), SLIMY_OK);
    assert_int_equal(history_len(kv, "4:1"), 0);
    assert_int_equal(history_len(kv, "4:2"), 1);
    assert_int_equal(kv_history_reset(kv, "4:9"), SLIMY_OK);
    /* After a reset the key starts afresh. */
    append_turn(kv, "4:1", AI_USER, "again");
    struct chat_turns t = history(kv, "4:1");
    assert_int_equal(t.n, 1);
    assert_string_equal(t.items[0].text, "again");
    chat_turns_free(&t);
}

/* Keys are independent, including keys that share a prefix. */
static void test_history_keys_independent(void **state)
{
    struct kv *kv = fixture_kv(state);
    append_turn(kv, "5:1", AI_USER, "for 5:1");
    append_turn(kv, "5:12", AI_USER, "for 5:12");
    append_turn(kv, "6:1", AI_USER, "for 6:1");
    append_turn(kv, "5:1", AI_ASSISTANT, "for 5:1 again");
    struct chat_turns t = history(kv, "5:1");
    assert_int_equal(t.n, 2);
    assert_string_equal(t.items[0].text, "for 5:1");
    assert_string_equal(t.items[1].text, "for 5:1 again");
    chat_turns_free(&t);
    t = history(kv, "5:12");
    assert_int_equal(t.n, 1);
    assert_string_equal(t.items[0].text, "for 5:12");
    chat_turns_free(&t);
    t = history(kv, "6:1");
    assert_int_equal(t.n, 1);
    assert_string_equal(t.items[0].text, "for 6:1");
    chat_turns_free(&t);
}

/* ============================================================================================
 * Counters
 * ========================================================================================== */

static void test_counters_empty(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct kv_counters c;
    memset(&c, 0, sizeof c);
    c.n = 99;
    assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    assert_int_equal(c.n, 0);
    kv_counters_free(&c);
}

/* Deltas sum per path, over several calls and several deltas for one path in one call. */
static void test_counters_sum(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct kv_counter first[] = {
        {.path = "chat", .count = 1, .failures = 0, .total_ms = 120},
        {.path = "snail sheet", .count = 2, .failures = 1, .total_ms = 45},
        {.path = "dream", .count = 1, .failures = 1, .total_ms = 9000},
    };
    struct kv_counter second[] = {
        {.path = "chat", .count = 3, .failures = 2, .total_ms = 30},
        {.path = "chat", .count = 1, .failures = 0, .total_ms = 5},
        {.path = "snail sheet", .count = 1, .failures = 0, .total_ms = 5},
    };
    assert_int_equal(kv_counters_add(kv, first, 3), SLIMY_OK);
    assert_int_equal(kv_counters_add(kv, second, 3), SLIMY_OK);
    assert_int_equal(kv_counters_add(kv, NULL, 0), SLIMY_OK);

    struct kv_counters c;
    memset(&c, 0, sizeof c);
    assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    assert_int_equal(c.n, 3);
    expect_counter(&c, "chat", 5, 2, 155);
    expect_counter(&c, "snail sheet", 3, 1, 50);
    expect_counter(&c, "dream", 1, 1, 9000);
    kv_counters_free(&c);

    /* Big totals do not wrap at 32 bits. */
    struct kv_counter big = {.path = "dream", .count = 1, .failures = 0, .total_ms = 5000000000ull};
    assert_int_equal(kv_counters_add(kv, &big, 1), SLIMY_OK);
    memset(&c, 0, sizeof c);
    assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    expect_counter(&c, "dream", 2, 1, 5000009000ull);
    kv_counters_free(&c);
}

struct counter_thread {
    struct kv *kv;
    int n_errors;
};

static void *counter_thread_main(void *p)
{
    struct counter_thread *a = p;
    struct kv_counter d = {.path = "chat", .count = 1, .failures = 0, .total_ms = 3};
    for (int i = 0; i < CONTRACT_COUNTER_ADDS; i++)
        if (kv_counters_add(a->kv, &d, 1) != SLIMY_OK)
            a->n_errors++;
    return NULL;
}

/* Concurrent adds lose nothing. */
static void test_counters_concurrent(void **state)
{
    struct kv *kv = fixture_kv(state);
    pthread_t threads[CONTRACT_COUNTER_THREADS];
    struct counter_thread args[CONTRACT_COUNTER_THREADS];
    for (int t = 0; t < CONTRACT_COUNTER_THREADS; t++) {
        args[t] = (struct counter_thread){.kv = kv};
        assert_int_equal(pthread_create(&threads[t], NULL, counter_thread_main, &args[t]), 0);
    }
    for (int t = 0; t < CONTRACT_COUNTER_THREADS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        assert_int_equal(args[t].n_errors, 0);
    }
    struct kv_counters c;
    memset(&c, 0, sizeof c);
    assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    uint64_t n = (uint64_t)CONTRACT_COUNTER_THREADS * CONTRACT_COUNTER_ADDS;
    expect_counter(&c, "chat", n, 0, 3 * n);
    kv_counters_free(&c);
}

/* Past KV_COUNTERS_MAX distinct paths new ones are dropped; the kept ones still count. */
static void test_counters_path_cap(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct kv_counter d[KV_COUNTERS_MAX + 6];
    memset(d, 0, sizeof d);
    for (int i = 0; i < KV_COUNTERS_MAX + 6; i++) {
        snprintf(d[i].path, sizeof d[i].path, "cmd %d", i);
        d[i].count = 1;
        d[i].total_ms = 1;
    }
    assert_int_equal(kv_counters_add(kv, d, KV_COUNTERS_MAX), SLIMY_OK);
    assert_int_equal(kv_counters_add(kv, d + KV_COUNTERS_MAX, 6), SLIMY_OK);
    assert_int_equal(kv_counters_add(kv, d, 1), SLIMY_OK);
    struct kv_counters c;
    memset(&c, 0, sizeof c);
    assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    assert_int_equal(c.n, KV_COUNTERS_MAX);
    /* The first KV_COUNTERS_MAX are the ones kept, every time they are read. */
    for (int round = 0; round < 2; round++) {
        expect_counter(&c, "cmd 0", 2, 0, 2);
        for (int i = 1; i < KV_COUNTERS_MAX; i++)
            expect_counter(&c, d[i].path, 1, 0, 1);
        for (int i = KV_COUNTERS_MAX; i < KV_COUNTERS_MAX + 6; i++)
            if (find_counter(&c, d[i].path))
                fail_msg("counter \"%s\", past KV_COUNTERS_MAX, was kept", d[i].path);
        kv_counters_free(&c);
        memset(&c, 0, sizeof c);
        assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    }
    kv_counters_free(&c);
}

/* The same with many more paths than the cap (a store that keeps them all and chooses on read
 * would show an arbitrary KV_COUNTERS_MAX once its ordering stops following insertion). */
static void test_counters_path_cap_many(void **state)
{
    struct kv *kv = fixture_kv(state);
    enum {
        EXTRA = 200
    };
    struct kv_counter *d = calloc(KV_COUNTERS_MAX + EXTRA, sizeof *d);
    assert_non_null(d);
    for (int i = 0; i < KV_COUNTERS_MAX + EXTRA; i++) {
        snprintf(d[i].path, sizeof d[i].path, "cmd %d", i);
        d[i].count = 1;
    }
    assert_int_equal(kv_counters_add(kv, d, KV_COUNTERS_MAX), SLIMY_OK);
    assert_int_equal(kv_counters_add(kv, d + KV_COUNTERS_MAX, EXTRA), SLIMY_OK);
    struct kv_counters c;
    memset(&c, 0, sizeof c);
    assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    assert_int_equal(c.n, KV_COUNTERS_MAX);
    size_t missing = 0;
    for (int i = 0; i < KV_COUNTERS_MAX; i++)
        if (!find_counter(&c, d[i].path))
            missing++;
    kv_counters_free(&c);
    free(d);
    if (missing)
        fail_msg("%zu of the first %d paths were dropped in favour of later ones", missing, KV_COUNTERS_MAX);
}

/* ============================================================================================
 * The job stream
 * ========================================================================================== */

/* A job comes back with every field as admitted; its body byte for byte (every byte value but
 * NUL, CR/LF, invalid UTF-8) and at a size past small-buffer paths. */
static void test_job_round_trip(void **state)
{
    struct kv *kv = fixture_kv(state);
    char *body = malloc(CONTRACT_BIG_BODY);
    assert_non_null(body);
    for (size_t i = 0; i < CONTRACT_BIG_BODY; i++)
        body[i] = (char)(1 + i % 255);
    uint64_t expires = clock_wall_ms() + 15u * 60u * 1000u + 7;
    struct kv_job job = {.interaction_id = "6001",
                         .path = "snail analyze",
                         .body = body,
                         .body_len = CONTRACT_BIG_BODY,
                         .expires_at_wall_ms = expires};
    expect_admit(kv, "6001", "u1", "snail analyze", 5000, &job, KV_ADMITTED);
    struct kv_job small = small_job("6002", "chat");
    expect_admit(kv, "6002", "u1", "chat", 0, &small, KV_ADMITTED);
    /* An admission without a job adds nothing to the stream. */
    expect_admit(kv, "6003", "u1", "diag", 0, NULL, KV_ADMITTED);

    struct kv_entries e;
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 2);
    const struct kv_entry *x = &e.items[0];
    assert_true(x->id[0] != '\0');
    assert_string_equal(x->interaction_id, "6001");
    assert_string_equal(x->path, "snail analyze");
    assert_int_equal(x->body_len, CONTRACT_BIG_BODY);
    assert_non_null(x->body);
    assert_memory_equal(x->body, body, CONTRACT_BIG_BODY);
    assert_int_equal(x->body[CONTRACT_BIG_BODY], '\0');
    assert_int_equal(x->expires_at_wall_ms, expires);
    assert_false(x->taken_over);
    assert_non_null(x->source);

    const struct kv_entry *y = &e.items[1];
    assert_string_equal(y->interaction_id, "6002");
    assert_string_equal(y->path, "chat");
    assert_int_equal(y->body_len, small.body_len);
    assert_memory_equal(y->body, small.body, small.body_len + 1);
    assert_int_equal(y->expires_at_wall_ms, small.expires_at_wall_ms);
    assert_true(strcmp(x->id, y->id) != 0);
    kv_entries_free(&e);
    free(body);
}

/* Nothing waiting: the read returns n == 0 once block_ms has passed (it does not hang, also
 * when block_ms is longer than KV_REDIS_TIMEOUT_MS), and at once for block_ms 0. */
static void test_job_read_empty_returns(void **state)
{
    struct kv *kv = fixture_kv(state);
    uint64_t t0 = clock_mono_ms();
    struct kv_entries e;
    read_jobs(kv, "A", 10, 500, KV_READ_ALL, &e);
    uint64_t waited = clock_mono_ms() - t0;
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
    if (waited > 500 + CONTRACT_RETURN_SLACK_MS)
        fail_msg("kv_job_read(block 500 ms) took %llu ms", (unsigned long long)waited);

    t0 = clock_mono_ms();
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    waited = clock_mono_ms() - t0;
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
    if (waited > CONTRACT_RETURN_SLACK_MS / 2)
        fail_msg("kv_job_read(block 0) took %llu ms: 0 must not mean forever", (unsigned long long)waited);
}

struct blocked_reader {
    struct kv *kv;
    uint64_t got_at_ms; /* monotonic time the entry arrived; 0 if it never did */
    int rc;
    char interaction_id[KV_ENTRY_ID_MAX];
};

static void *blocked_reader_main(void *p)
{
    struct blocked_reader *r = p;
    uint64_t deadline = clock_mono_ms() + 3000;
    while (clock_mono_ms() < deadline) {
        struct kv_entries e = {0};
        r->rc = kv_job_read(r->kv, "A", 1, 1000, KV_READ_ALL, &e);
        if (r->rc != SLIMY_OK)
            return NULL;
        if (e.n > 0) {
            r->got_at_ms = clock_mono_ms();
            snprintf(r->interaction_id, sizeof r->interaction_id, "%s", e.items[0].interaction_id);
            kv_entries_free(&e);
            return NULL;
        }
        kv_entries_free(&e);
    }
    return NULL;
}

/* A reader waiting in kv_job_read() gets a job admitted meanwhile promptly, not after block_ms. */
static void test_job_read_wakes_on_admit(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct blocked_reader r = {.kv = kv};
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, blocked_reader_main, &r), 0);
    sleep_ms(150); /* let it block */
    queue_job(kv, "6101", "chat");
    uint64_t admitted_at = clock_mono_ms();
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(r.rc, SLIMY_OK);
    if (r.got_at_ms == 0)
        fail_msg("the waiting reader never got the job");
    assert_string_equal(r.interaction_id, "6101");
    if (r.got_at_ms > admitted_at + 700)
        fail_msg("the waiting reader got the job %llu ms after it was admitted",
                 (unsigned long long)(r.got_at_ms - admitted_at));
}

/* Entries are handed out once: two consumers split them, oldest first, and a consumer's
 * pending entries are not handed to it again as new. */
static void test_job_consumers_split(void **state)
{
    struct kv *kv = fixture_kv(state);
    char id[32];
    for (int i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "620%d", i);
        queue_job(kv, id, "chat");
    }
    struct kv_entries a, b;
    read_jobs(kv, "A", 3, 0, KV_READ_ALL, &a);
    read_jobs(kv, "B", 10, 0, KV_READ_ALL, &b);
    assert_int_equal(a.n, 3);
    assert_int_equal(b.n, 3);
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "620%d", i);
        assert_string_equal(a.items[i].interaction_id, id);
        snprintf(id, sizeof id, "620%d", i + 3);
        assert_string_equal(b.items[i].interaction_id, id);
    }
    kv_entries_free(&a);
    kv_entries_free(&b);
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &a);
    read_jobs(kv, "B", 10, 0, KV_READ_ALL, &b);
    assert_int_equal(a.n, 0);
    assert_int_equal(b.n, 0);
    kv_entries_free(&a);
    kv_entries_free(&b);
}

struct reader_thread {
    struct kv *kv;
    pthread_barrier_t *start;
    char consumer[16];
    int rc;
    size_t n;
    char ids[CONTRACT_READER_JOBS][KV_ENTRY_ID_MAX];
};

static void *reader_thread_main(void *p)
{
    struct reader_thread *r = p;
    pthread_barrier_wait(r->start);
    for (;;) {
        struct kv_entries e = {0};
        r->rc = kv_job_read(r->kv, r->consumer, 3, 0, KV_READ_ALL, &e);
        if (r->rc != SLIMY_OK || e.n == 0) {
            kv_entries_free(&e);
            return NULL;
        }
        for (size_t i = 0; i < e.n && r->n < CONTRACT_READER_JOBS; i++)
            snprintf(r->ids[r->n++], KV_ENTRY_ID_MAX, "%s", e.items[i].interaction_id);
        kv_entries_free(&e);
    }
}

/* Four consumers reading at once: every job reaches exactly one of them. */
static void test_job_concurrent_readers(void **state)
{
    struct kv *kv = fixture_kv(state);
    char id[32];
    for (int i = 0; i < CONTRACT_READER_JOBS; i++) {
        snprintf(id, sizeof id, "63%02d", i);
        queue_job(kv, id, "chat");
    }
    struct reader_thread readers[CONTRACT_READERS];
    pthread_t threads[CONTRACT_READERS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, CONTRACT_READERS);
    for (int t = 0; t < CONTRACT_READERS; t++) {
        memset(&readers[t], 0, sizeof readers[t]);
        readers[t].kv = kv;
        readers[t].start = &start;
        snprintf(readers[t].consumer, sizeof readers[t].consumer, "R%d", t);
        assert_int_equal(pthread_create(&threads[t], NULL, reader_thread_main, &readers[t]), 0);
    }
    for (int t = 0; t < CONTRACT_READERS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    pthread_barrier_destroy(&start);

    int seen[CONTRACT_READER_JOBS] = {0};
    size_t total = 0;
    for (int t = 0; t < CONTRACT_READERS; t++) {
        assert_int_equal(readers[t].rc, SLIMY_OK);
        total += readers[t].n;
        for (size_t i = 0; i < readers[t].n; i++) {
            long k = strtol(readers[t].ids[i] + 2, NULL, 10);
            assert_in_range(k, 0, CONTRACT_READER_JOBS - 1);
            seen[k]++;
        }
    }
    assert_int_equal(total, CONTRACT_READER_JOBS);
    for (int i = 0; i < CONTRACT_READER_JOBS; i++)
        if (seen[i] != 1)
            fail_msg("job 63%02d was handed out %d times", i, seen[i]);
}

/* kv_job_done: the interaction is recorded as delivered and the entry is gone for good. */
static void test_job_done(void **state)
{
    struct kv *kv = fixture_kv(state);
    queue_job(kv, "6401", "chat");
    queue_job(kv, "6402", "chat");
    assert_false(was_delivered(kv, "6401"));
    struct kv_entries e;
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 2);
    assert_false(was_delivered(kv, "6401"));
    job_done(&e.items[0]);
    assert_true(was_delivered(kv, "6401"));
    assert_true(was_delivered(e.items[0].source, "6401"));
    assert_false(was_delivered(kv, "6402"));
    assert_false(was_delivered(kv, "6499"));
    kv_entries_free(&e);

    /* Not read again, and not claimable even with no idle time; the other one still is. */
    sleep_ms(20);
    read_jobs(kv, "B", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
    autoclaim(kv, "B", 1, 10, &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.items[0].interaction_id, "6402");
    assert_true(e.items[0].taken_over);
    job_done(&e.items[0]);
    kv_entries_free(&e);
    autoclaim(kv, "C", 0, 10, &e);
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
    assert_true(was_delivered(kv, "6402"));
}

/* A consumer that went idle loses its entry to another's autoclaim, which marks it taken over
 * and gives back every field. */
static void test_job_autoclaim_after_idle(void **state)
{
    struct kv *kv = fixture_kv(state);
    queue_job(kv, "6501", "dream");
    struct kv_entries a = read_one(kv, "A", "6501");

    /* Not yet idle for long enough. */
    struct kv_entries b;
    autoclaim(kv, "B", CONTRACT_SHORT_MS, 10, &b);
    assert_int_equal(b.n, 0);
    kv_entries_free(&b);

    sleep_ms(CONTRACT_PAST_SHORT_MS);
    autoclaim(kv, "B", CONTRACT_SHORT_MS, 10, &b);
    assert_int_equal(b.n, 1);
    const struct kv_entry *x = &b.items[0];
    assert_string_equal(x->id, a.items[0].id);
    assert_string_equal(x->interaction_id, "6501");
    assert_string_equal(x->path, "dream");
    assert_int_equal(x->body_len, a.items[0].body_len);
    assert_memory_equal(x->body, a.items[0].body, a.items[0].body_len);
    assert_int_equal(x->expires_at_wall_ms, a.items[0].expires_at_wall_ms);
    assert_true(x->taken_over);
    assert_non_null(x->source);
    kv_entries_free(&b);

    /* Claiming restarted its idle time: a third consumer cannot take it straight away. */
    autoclaim(kv, "C", CONTRACT_SHORT_MS, 10, &b);
    assert_int_equal(b.n, 0);
    kv_entries_free(&b);
    kv_entries_free(&a);
}

/* A living consumer's refresh keeps its entry: right after a refresh, an autoclaim whose
 * min_idle is longer than the time since the refresh gets nothing; without refreshes it does. */
static void test_job_refresh_keeps_entry(void **state)
{
    struct kv *kv = fixture_kv(state);
    queue_job(kv, "6601", "chat");
    struct kv_entries a = read_one(kv, "A", "6601");
    const char *ids[] = {a.items[0].id};

    sleep_ms(CONTRACT_PAST_SHORT_MS);
    size_t lost = 99;
    assert_int_equal(kv_job_refresh(a.items[0].source, "A", ids, 1, &lost), SLIMY_OK);
    assert_int_equal(lost, 0);
    struct kv_entries b;
    autoclaim(kv, "B", CONTRACT_SHORT_MS, 10, &b);
    assert_int_equal(b.n, 0);
    kv_entries_free(&b);
    /* n_lost may be NULL. */
    assert_int_equal(kv_job_refresh(a.items[0].source, "A", ids, 1, NULL), SLIMY_OK);

    sleep_ms(CONTRACT_PAST_SHORT_MS);
    autoclaim(kv, "B", CONTRACT_SHORT_MS, 10, &b);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.items[0].id, a.items[0].id);
    kv_entries_free(&b);
    kv_entries_free(&a);
}

/* A consumer whose entry was taken over learns it from refresh (n_lost), and the refresh does
 * not take it back: the new holder still holds it. Finished entries count as lost too. */
static void test_job_refresh_reports_lost(void **state)
{
    struct kv *kv = fixture_kv(state);
    queue_job(kv, "6701", "chat");
    queue_job(kv, "6702", "chat");
    struct kv_entries a;
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &a);
    assert_int_equal(a.n, 2);
    const char *ids[] = {a.items[0].id, a.items[1].id};

    sleep_ms(CONTRACT_PAST_SHORT_MS);
    struct kv_entries b;
    autoclaim(kv, "B", CONTRACT_SHORT_MS, 1, &b);
    assert_int_equal(b.n, 1);
    /* kept: the index in a of the entry A still holds */
    size_t kept = strcmp(b.items[0].id, ids[0]) == 0 ? 1 : 0;
    assert_string_equal(b.items[0].id, ids[1 - kept]);

    size_t lost = 99;
    assert_int_equal(kv_job_refresh(a.items[0].source, "A", ids, 2, &lost), SLIMY_OK);
    assert_int_equal(lost, 1);
    lost = 99;
    const char *b_ids[] = {b.items[0].id};
    assert_int_equal(kv_job_refresh(b.items[0].source, "B", b_ids, 1, &lost), SLIMY_OK);
    assert_int_equal(lost, 0);

    /* B finishes it; A, who lost it, still sees it as lost, and still holds the other one. */
    job_done(&b.items[0]);
    lost = 99;
    assert_int_equal(kv_job_refresh(a.items[0].source, "A", ids, 2, &lost), SLIMY_OK);
    assert_int_equal(lost, 1);
    lost = 99;
    assert_int_equal(kv_job_refresh(a.items[kept].source, "A", ids + kept, 1, &lost), SLIMY_OK);
    assert_int_equal(lost, 0);
    kv_entries_free(&b);
    kv_entries_free(&a);
}

/* Released entries stay pending but may be taken over at once with the given min_idle. */
static void test_job_release(void **state)
{
    struct kv *kv = fixture_kv(state);
    queue_job(kv, "6801", "chat");
    struct kv_entries a = read_one(kv, "A", "6801");
    struct kv_entries b;
    autoclaim(kv, "B", CONTRACT_LONG_MS, 10, &b);
    assert_int_equal(b.n, 0);
    kv_entries_free(&b);

    const char *ids[] = {a.items[0].id};
    assert_int_equal(kv_job_release(a.items[0].source, "A", ids, 1, CONTRACT_LONG_MS), SLIMY_OK);
    /* Still pending, not new: nobody reads it as a new entry. */
    read_jobs(kv, "B", 10, 0, KV_READ_ALL, &b);
    assert_int_equal(b.n, 0);
    kv_entries_free(&b);
    autoclaim(kv, "B", CONTRACT_LONG_MS, 10, &b);
    assert_int_equal(b.n, 1);
    assert_string_equal(b.items[0].id, a.items[0].id);
    assert_string_equal(b.items[0].interaction_id, "6801");
    assert_true(b.items[0].taken_over);
    kv_entries_free(&b);
    kv_entries_free(&a);
}

/* KV_READ_PROCESS_ONLY reads only jobs kept in this process's memory: all of them for the
 * in-process backend, none for Redis (which leaves them there for KV_READ_ALL). This is the one
 * place the backends are meant to differ. */
static void test_job_read_process_only(void **state)
{
    struct kv *kv = fixture_kv(state);
    queue_job(kv, "6901", "chat");
    struct kv_entries e;
    read_jobs(kv, "A", 10, 0, KV_READ_PROCESS_ONLY, &e);
    if (contract_process_only_sees_jobs) {
        assert_int_equal(e.n, 1);
        assert_string_equal(e.items[0].interaction_id, "6901");
    } else {
        assert_int_equal(e.n, 0);
    }
    kv_entries_free(&e);
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, contract_process_only_sees_jobs ? 0 : 1);
    kv_entries_free(&e);
}

/* ============================================================================================
 * The suite
 * ========================================================================================== */

#define CONTRACT_TEST(f) cmocka_unit_test_setup_teardown(f, setup_kv, teardown_kv)

/* ---- kv_admit_async: the same verdicts, each reported exactly once ---- */

struct async_outcome {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int calls;
    int status;
    struct kv_admit_result result;
};

static void async_done(int status, const struct kv_admit_result *result, void *arg)
{
    struct async_outcome *o = arg;
    pthread_mutex_lock(&o->lock);
    o->calls++;
    o->status = status;
    if (result)
        o->result = *result;
    pthread_cond_broadcast(&o->changed);
    pthread_mutex_unlock(&o->lock);
}

/* Admits through kv_admit_async and waits (at most CONTRACT_RETURN_SLACK_MS) for the answer. */
static struct kv_admit_result admit_async_and_wait(struct kv *kv, const struct kv_admission *req)
{
    struct async_outcome o = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    kv_admit_async(kv, req, async_done, &o);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += CONTRACT_RETURN_SLACK_MS / 1000;
    pthread_mutex_lock(&o.lock);
    while (o.calls == 0)
        if (pthread_cond_timedwait(&o.changed, &o.lock, &until) != 0)
            break;
    pthread_mutex_unlock(&o.lock);
    sleep_ms(100); /* a second call would show up meanwhile */
    pthread_mutex_lock(&o.lock);
    int calls = o.calls, status = o.status;
    struct kv_admit_result result = o.result;
    pthread_mutex_unlock(&o.lock);
    assert_int_equal(calls, 1);
    assert_int_equal(status, SLIMY_OK);
    return result;
}

static void test_admit_async_same_verdicts(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct kv_admission req = {.interaction_id = "9301", .user_id = "u1", .command_path = "chat", .cooldown_ms = 60000};
    assert_int_equal(admit_async_and_wait(kv, &req).verdict, KV_ADMITTED);
    assert_int_equal(admit_async_and_wait(kv, &req).verdict, KV_DUPLICATE);
    req.interaction_id = "9302";
    struct kv_admit_result limited = admit_async_and_wait(kv, &req);
    assert_int_equal(limited.verdict, KV_COOLING_DOWN);
    assert_true(limited.cooldown_remaining_ms > 0 && limited.cooldown_remaining_ms <= 60000);
    /* The synchronous call sees what the asynchronous one recorded. */
    expect_admit(kv, "9301", "u9", "other", 0, NULL, KV_DUPLICATE);
}

/* Bad input is refused through the callback too, never silently dropped. */
static void test_admit_async_refuses_bad_input(void **state)
{
    struct kv *kv = fixture_kv(state);
    struct async_outcome o = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    struct kv_admission req = {.interaction_id = "", .user_id = "u1", .command_path = "chat"};
    kv_admit_async(kv, &req, async_done, &o);
    pthread_mutex_lock(&o.lock);
    assert_int_equal(o.calls, 1); /* answered before returning */
    assert_int_equal(o.status, SLIMY_EINVAL);
    pthread_mutex_unlock(&o.lock);
}

static const struct CMUnitTest kv_contract_tests[] = {
    CONTRACT_TEST(test_ops_table_complete),
    CONTRACT_TEST(test_options_kept),
    CONTRACT_TEST(test_state_and_ping),
    CONTRACT_TEST(test_admit_cooldown_window),
    CONTRACT_TEST(test_admit_cooldown_counts_down),
    CONTRACT_TEST(test_admit_zero_cooldown_never_limits),
    CONTRACT_TEST(test_admit_cooldown_keys_independent),
    CONTRACT_TEST(test_admit_duplicate_id),
    CONTRACT_TEST(test_admit_duplicate_wins_over_cooldown),
    CONTRACT_TEST(test_admit_duplicate_wins_over_queue_full),
    CONTRACT_TEST(test_admit_cooling_down_records_nothing),
    CONTRACT_TEST(test_admit_dedupe_expires),
    CONTRACT_TEST(test_admit_concurrent_cooldown),
    CONTRACT_TEST(test_admit_async_same_verdicts),
    CONTRACT_TEST(test_admit_async_refuses_bad_input),
    CONTRACT_TEST(test_admit_concurrent_same_id),
    CONTRACT_TEST(test_admit_queue_full),
    CONTRACT_TEST(test_admit_job_caps),
    CONTRACT_TEST(test_history_unknown_key_is_empty),
    CONTRACT_TEST(test_history_round_trip),
    CONTRACT_TEST(test_history_append_nothing),
    CONTRACT_TEST(test_history_cap_keeps_newest),
    CONTRACT_TEST(test_history_append_more_than_max),
    CONTRACT_TEST(test_history_idle_expiry),
    CONTRACT_TEST(test_history_append_restarts_idle),
    CONTRACT_TEST(test_history_reset),
    CONTRACT_TEST(test_history_keys_independent),
    CONTRACT_TEST(test_counters_empty),
    CONTRACT_TEST(test_counters_sum),
    CONTRACT_TEST(test_counters_concurrent),
    CONTRACT_TEST(test_counters_path_cap),
    CONTRACT_TEST(test_counters_path_cap_many),
    CONTRACT_TEST(test_job_round_trip),
    CONTRACT_TEST(test_job_read_empty_returns),
    CONTRACT_TEST(test_job_read_wakes_on_admit),
    CONTRACT_TEST(test_job_consumers_split),
    CONTRACT_TEST(test_job_concurrent_readers),
    CONTRACT_TEST(test_job_done),
    CONTRACT_TEST(test_job_autoclaim_after_idle),
    CONTRACT_TEST(test_job_refresh_keeps_entry),
    CONTRACT_TEST(test_job_refresh_reports_lost),
    CONTRACT_TEST(test_job_release),
    CONTRACT_TEST(test_job_read_process_only),
};

#endif
