/* test_kv_redis.c — the kv.h contract suite (kv_contract.h) against the Redis backend
 * (src/kv/kv_redis.c); then what only Redis promises (kv_backend.h): replicas on one prefix share
 * everything and prefixes share nothing; a Redis that is down is reported at once, not waited
 * for; and a Redis that dropped its connections, its scripts or its stream is survived.
 *
 * Needs a server: SLIMY_TEST_REDIS_URL, which scripts/test.sh exports after starting a
 * throwaway one with tests/tools/redis.sh. Without it this program FAILS: a skipped backend must
 * never count as a pass. Every backend opened here gets its own key prefix
 * ("slimytest:<pid>:<n>:"), and the keys of this run are deleted at the end. The tests that drop
 * connections log in as an ACL user of their own (slimytest-<pid>, deleted at the end) and drop
 * only that user's; SCRIPT FLUSH, which a correct backend shrugs off, does reach everyone. */
#include <sys/wait.h>
#include <unistd.h>

#include "core/config.h"
#include "kv/kv_backend.h"
#include "core/redis_url.h"
#include "kv_contract.h"

#define UNREACHABLE_URL "redis://127.0.0.1:1" /* nothing listens on a privileged port in the test environment */
#define FAST_FAILURE_MS 1000                  /* "at once": KV_REDIS_TIMEOUT_MS and one retry fit well inside */
#define STATE_WAIT_MS 3000                    /* how long the failover may take to see Redis answer */

static struct redis_url test_url;
static char cli[1024]; /* "redis-cli <connection options>", for the test's own commands */
static unsigned n_opened;
static char killable_user[64]; /* the ACL user open_killable() created; "" before */
#define KILLABLE_PASSWORD "kv test:p@ss/word"

/* Appends text to out in single quotes, for a /bin/sh command line. */
static void shell_quote(char *out, size_t cap, const char *text)
{
    size_t len = strlen(out);
    if (len + 1 < cap)
        out[len++] = '\'';
    for (const char *p = text; *p && len + 5 < cap; p++) {
        if (*p == '\'') {
            memcpy(out + len, "'\\''", 4);
            len += 4;
        } else {
            out[len++] = *p;
        }
    }
    if (len + 1 < cap)
        out[len++] = '\'';
    out[len] = '\0';
}

/* Runs `redis-cli <connection> <args>` and returns its output (first line, trimmed) in out;
 * fails the test if redis-cli cannot be run or exits non-zero. */
static void redis_cli(const char *args, char *out, size_t out_len)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s 2>&1", cli, args);
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("cannot run: %s", cmd);
    char line[512] = "";
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    char rest[512];
    while (fgets(rest, sizeof rest, p))
        ;
    int status = pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s: exit status %d: %s", cmd, status, line);
    snprintf(out, out_len, "%s", line);
}

/* Deletes every key starting with prefix (no glob characters in it: they are ours). */
static void delete_keys(const char *prefix)
{
    char args[2048], out[512];
    snprintf(args, sizeof args, "--scan --pattern '%s*' | xargs -r %s DEL", prefix, cli);
    redis_cli(args, out, sizeof out);
}

static void next_prefix(char *out, size_t cap)
{
    snprintf(out, cap, "slimytest:%ld:%u:", (long)getpid(), n_opened++);
}

static struct kv *open_prefix(const struct redis_url *url, const char *prefix, const struct kv_options *opts)
{
    struct kv *kv = NULL;
    int rc = kv_redis_open(url, prefix, opts, &kv);
    if (rc != SLIMY_OK) {
        fprintf(stderr, "kv_redis_open(%s): %s\n", prefix, slimy_strerror(rc));
        return NULL;
    }
    return kv;
}

/* The contract's opener: a fresh prefix, so a fresh, empty backend. */
static struct kv *redis_open(const struct kv_options *opts)
{
    char prefix[64];
    next_prefix(prefix, sizeof prefix);
    return open_prefix(&test_url, prefix, opts);
}

/* For a test that needs to name its prefix: replaces the fixture's backend by one on a fresh
 * prefix, which it writes into prefix. */
static struct kv *open_fresh(void **state, char *prefix, size_t cap)
{
    struct contract_fixture *f = *state;
    struct kv_options opts;
    contract_options(&opts);
    next_prefix(prefix, cap);
    kv_close(f->kv);
    f->kv = open_prefix(&test_url, prefix, &opts);
    if (!f->kv)
        fail_msg("kv_redis_open failed");
    return f->kv;
}

/* A backend on a fresh prefix that logs in as an ACL user of its own, so that its connections,
 * and no other program's, can be dropped with CLIENT KILL USER. It also covers AUTH with a user
 * name and a password that needs escaping in a URL. */
static struct kv *open_killable(void **state, char *prefix, size_t cap)
{
    if (!killable_user[0]) {
        char user[64], args[512] = "ACL SETUSER ", out[512];
        snprintf(user, sizeof user, "slimytest-%ld", (long)getpid());
        shell_quote(args, sizeof args, user);
        snprintf(args + strlen(args), sizeof args - strlen(args), " reset on ");
        shell_quote(args, sizeof args, ">" KILLABLE_PASSWORD);
        snprintf(args + strlen(args), sizeof args - strlen(args), " '~*' '&*' '+@all'");
        redis_cli(args, out, sizeof out);
        assert_string_equal(out, "OK");
        snprintf(killable_user, sizeof killable_user, "%s", user);
    }
    struct redis_url url = test_url;
    snprintf(url.user, sizeof url.user, "%s", killable_user);
    snprintf(url.password, sizeof url.password, "%s", KILLABLE_PASSWORD);
    struct contract_fixture *f = *state;
    struct kv_options opts;
    contract_options(&opts);
    next_prefix(prefix, cap);
    kv_close(f->kv);
    f->kv = open_prefix(&url, prefix, &opts);
    if (!f->kv)
        fail_msg("kv_redis_open failed");
    assert_int_equal(kv_ping(f->kv), SLIMY_OK);
    return f->kv;
}

/* Drops every connection of open_killable()'s backend, as a Redis restart would; there must
 * have been one, or the test would prove nothing. */
static void drop_connections(void)
{
    char args[128] = "CLIENT KILL USER ", out[512];
    shell_quote(args, sizeof args, killable_user);
    redis_cli(args, out, sizeof out);
    char *end = NULL;
    long n = strtol(out, &end, 10);
    if (end == out || n < 1)
        fail_msg("CLIENT KILL USER %s killed no connection (\"%s\")", killable_user, out);
}

/* A second backend on prefix: another replica of the same deployment (teardown closes it). */
static struct kv *open_other(void **state, const char *prefix)
{
    struct contract_fixture *f = *state;
    struct kv_options opts;
    contract_options(&opts);
    f->other = open_prefix(&test_url, prefix, &opts);
    if (!f->other)
        fail_msg("kv_redis_open failed");
    return f->other;
}

static uint64_t ms_since(uint64_t t0)
{
    return clock_mono_ms() - t0;
}

static void expect_fast(uint64_t t0, const char *what)
{
    uint64_t took = ms_since(t0);
    if (took >= FAST_FAILURE_MS)
        fail_msg("%s took %llu ms with Redis down", what, (unsigned long long)took);
}

/* ============================================================================================
 * Redis down
 * ========================================================================================== */

/* "Connects lazily, so it opens even while Redis is down; each call then answers
 * SLIMY_EUNAVAILABLE" — quickly, since kv_admit() runs on the request path. */
static void test_redis_unreachable_fails_fast(void **state)
{
    struct redis_url url;
    char err[256];
    assert_int_equal(redis_url_parse(UNREACHABLE_URL, &url, err, sizeof err), SLIMY_OK);
    struct kv_options opts;
    contract_options(&opts);
    struct kv *kv = open_prefix(&url, "slimytest:down:", &opts);
    assert_non_null(kv);
    ((struct contract_fixture *)*state)->other = kv;

    uint64_t t0 = clock_mono_ms();
    struct kv_admission req = {.interaction_id = "8001", .user_id = "u1", .command_path = "chat", .cooldown_ms = 1000};
    struct kv_admit_result r;
    assert_int_equal(kv_admit(kv, &req, &r), SLIMY_EUNAVAILABLE);
    expect_fast(t0, "kv_admit");

    t0 = clock_mono_ms();
    assert_int_equal(kv_ping(kv), SLIMY_EUNAVAILABLE);
    expect_fast(t0, "kv_ping");

    t0 = clock_mono_ms();
    struct chat_turns t;
    memset(&t, 0, sizeof t);
    assert_int_equal(kv_history_get(kv, "1:1", &t), SLIMY_EUNAVAILABLE);
    expect_fast(t0, "kv_history_get");

    t0 = clock_mono_ms();
    struct kv_entries e = {0};
    assert_int_equal(kv_job_read(kv, "A", 10, 500, KV_READ_ALL, &e), SLIMY_EUNAVAILABLE);
    expect_fast(t0, "kv_job_read");

    /* Still no luck on a second try: a failed connection is not cached as a good one. */
    t0 = clock_mono_ms();
    assert_int_equal(kv_admit(kv, &req, &r), SLIMY_EUNAVAILABLE);
    expect_fast(t0, "a second kv_admit");
}

/* ============================================================================================
 * Sharing
 * ========================================================================================== */

/* Two backends on one prefix are two replicas: dedupe, cooldowns, history, counters and the
 * job stream are one. */
static void test_redis_replicas_share_state(void **state)
{
    char prefix[64];
    struct kv *r1 = open_fresh(state, prefix, sizeof prefix);
    struct kv *r2 = open_other(state, prefix);

    expect_admit(r1, "8101", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(r2, "8101", "u2", "dream", 0, NULL, KV_DUPLICATE);
    expect_admit(r2, "8102", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);

    append_turn(r1, "9:9", AI_USER, "asked on one replica");
    append_turn(r2, "9:9", AI_ASSISTANT, "answered on another");
    struct chat_turns t = history(r1, "9:9");
    assert_int_equal(t.n, 2);
    assert_string_equal(t.items[1].text, "answered on another");
    chat_turns_free(&t);

    struct kv_counter d = {.path = "chat", .count = 1, .failures = 0, .total_ms = 10};
    assert_int_equal(kv_counters_add(r1, &d, 1), SLIMY_OK);
    assert_int_equal(kv_counters_add(r2, &d, 1), SLIMY_OK);
    struct kv_counters c = {0};
    assert_int_equal(kv_counters_read(r2, &c), SLIMY_OK);
    expect_counter(&c, "chat", 2, 0, 20);
    kv_counters_free(&c);

    /* A job admitted on one replica is run by the other, which reports it delivered to both. */
    queue_job(r1, "8103", "dream");
    struct kv_entries e = read_one(r2, "replica-2", "8103");
    job_done(&e.items[0]);
    kv_entries_free(&e);
    assert_true(was_delivered(r1, "8103"));

    /* A replica that dies holding a job: the other takes it over. */
    queue_job(r1, "8104", "dream");
    e = read_one(r1, "replica-1", "8104");
    kv_entries_free(&e);
    kv_close(r1);
    ((struct contract_fixture *)*state)->kv = NULL;
    sleep_ms(CONTRACT_PAST_SHORT_MS);
    autoclaim(r2, "replica-2", CONTRACT_SHORT_MS, 10, &e);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.items[0].interaction_id, "8104");
    assert_true(e.items[0].taken_over);
    kv_entries_free(&e);
}

/* "Of K simultaneous admissions of one (user, path) with a cooldown, whichever replicas make
 * them, exactly one is admitted": threads spread over two replicas. */
static void test_redis_replicas_race(void **state)
{
    char prefix[64];
    struct kv *r1 = open_fresh(state, prefix, sizeof prefix);
    struct kv *r2 = open_other(state, prefix);

    struct admit_thread args[CONTRACT_THREADS];
    run_admit_threads(r1, r2, false, CONTRACT_ADMITS_PER_THREAD, 0, args);
    assert_one_admitted_others_cooling(args);
}

/* Different prefixes are different deployments: they share nothing. */
static void test_redis_prefixes_isolated(void **state)
{
    struct kv *a = fixture_kv(state);
    char prefix[64];
    next_prefix(prefix, sizeof prefix);
    struct kv *b = open_other(state, prefix);
    expect_admit(a, "8201", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(b, "8201", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    append_turn(a, "1:1", AI_USER, "only in a");
    assert_int_equal(history_len(b, "1:1"), 0);
    queue_job(a, "8202", "chat");
    struct kv_entries e;
    read_jobs(b, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
}

/* ============================================================================================
 * Redis losing things
 * ========================================================================================== */

/* "A call whose connection broke is tried once more on a fresh one, so a Redis restart costs
 * no error": every pooled connection is killed, and every kind of call still succeeds. */
static void test_redis_survives_dropped_connections(void **state)
{
    char prefix[64];
    struct kv *kv = open_killable(state, prefix, sizeof prefix);
    expect_admit(kv, "8301", "u1", "chat", 0, NULL, KV_ADMITTED);
    append_turn(kv, "1:1", AI_USER, "before");
    queue_job(kv, "8302", "chat");

    drop_connections();
    assert_int_equal(kv_ping(kv), SLIMY_OK);
    drop_connections();
    expect_admit(kv, "8301", "u1", "chat", 0, NULL, KV_DUPLICATE);
    drop_connections();
    assert_int_equal(history_len(kv, "1:1"), 1);
    drop_connections();
    struct kv_entries e = read_one(kv, "A", "8302");
    drop_connections();
    job_done(&e.items[0]);
    kv_entries_free(&e);
    drop_connections();
    assert_true(was_delivered(kv, "8302"));
}

/* "Lua scripts are loaded on first use and again after NOSCRIPT": SCRIPT FLUSH between calls
 * costs no error, and the data survives. */
static void test_redis_survives_script_flush(void **state)
{
    struct kv *kv = fixture_kv(state);
    expect_admit(kv, "8401", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    append_turn(kv, "1:1", AI_USER, "before the flush");
    struct kv_counter d = {.path = "chat", .count = 1, .failures = 0, .total_ms = 7};
    assert_int_equal(kv_counters_add(kv, &d, 1), SLIMY_OK);
    queue_job(kv, "8402", "chat");
    struct kv_entries held = read_one(kv, "A", "8402");

    char out[512];
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    assert_string_equal(out, "OK");
    expect_admit(kv, "8401", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_DUPLICATE);
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    expect_admit(kv, "8403", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    expect_admit(kv, "8404", "u2", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);

    redis_cli("SCRIPT FLUSH", out, sizeof out);
    append_turn(kv, "1:1", AI_ASSISTANT, "after the flush");
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    assert_int_equal(history_len(kv, "1:1"), 2);
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    assert_int_equal(kv_counters_add(kv, &d, 1), SLIMY_OK);
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    struct kv_counters c = {0};
    assert_int_equal(kv_counters_read(kv, &c), SLIMY_OK);
    expect_counter(&c, "chat", 2, 0, 14);
    kv_counters_free(&c);

    const char *ids[] = {held.items[0].id};
    size_t lost = 99;
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    assert_int_equal(kv_job_refresh(held.items[0].source, "A", ids, 1, &lost), SLIMY_OK);
    assert_int_equal(lost, 0);
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    queue_job(kv, "8405", "chat");
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    struct kv_entries e = read_one(kv, "A", "8405");
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    job_done(&e.items[0]);
    redis_cli("SCRIPT FLUSH", out, sizeof out);
    job_done(&held.items[0]);
    assert_true(was_delivered(kv, "8402"));
    assert_true(was_delivered(kv, "8405"));
    kv_entries_free(&e);
    kv_entries_free(&held);
}

/* "The consumer group is created again after NOGROUP": the stream key (<prefix>jobs, group
 * "workers") deleted under a reader, and deleted before a job is admitted; in neither case is
 * a call refused or a newly admitted job lost. */
static void test_redis_survives_stream_deleted(void **state)
{
    char prefix[64], args[256], out[512];
    struct kv *kv = open_fresh(state, prefix, sizeof prefix);
    snprintf(args, sizeof args, "DEL '%sjobs'", prefix);

    queue_job(kv, "8501", "chat");
    struct kv_entries e = read_one(kv, "A", "8501");
    job_done(&e.items[0]);
    kv_entries_free(&e);

    /* The stream and its group are gone; readers ask first, then a job comes. */
    redis_cli(args, out, sizeof out);
    assert_string_equal(out, "1");
    read_jobs(kv, "A", 10, 0, KV_READ_ALL, &e);
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
    autoclaim(kv, "B", 0, 10, &e);
    assert_int_equal(e.n, 0);
    kv_entries_free(&e);
    queue_job(kv, "8502", "chat");
    e = read_one(kv, "A", "8502");
    job_done(&e.items[0]);
    kv_entries_free(&e);

    /* Gone again; this time a job is admitted (recreating the stream, without the group)
     * before any reader comes: the group made then must still hand that job out. */
    redis_cli(args, out, sizeof out);
    queue_job(kv, "8503", "dream");
    e = read_one(kv, "B", "8503");
    job_done(&e.items[0]);
    kv_entries_free(&e);

    /* Gone while a job was held: refresh and release report it lost rather than fail. */
    queue_job(kv, "8504", "dream");
    e = read_one(kv, "A", "8504");
    redis_cli(args, out, sizeof out);
    const char *ids[] = {e.items[0].id};
    size_t lost = 99;
    assert_int_equal(kv_job_refresh(e.items[0].source, "A", ids, 1, &lost), SLIMY_OK);
    assert_int_equal(lost, 1);
    kv_entries_free(&e);
}

/* Redis restarted empty (scripts flushed, every key of the deployment gone), with a job held
 * and a cooldown running: everything starts afresh without an error. */
static void test_redis_survives_empty_restart(void **state)
{
    char prefix[64], out[512];
    struct kv *kv = open_killable(state, prefix, sizeof prefix);
    struct kv_job job = small_job("8601", "dream");
    expect_admit(kv, "8601", "u1", "dream", CONTRACT_LONG_MS, &job, KV_ADMITTED);
    struct kv_entries e = read_one(kv, "A", "8601");
    kv_entries_free(&e);

    redis_cli("SCRIPT FLUSH", out, sizeof out);
    delete_keys(prefix);
    drop_connections();

    /* The id, the cooldown and the stream are gone with the data, so this is a first sight. */
    expect_admit(kv, "8601", "u1", "dream", CONTRACT_LONG_MS, &job, KV_ADMITTED);
    e = read_one(kv, "A", "8601");
    job_done(&e.items[0]);
    kv_entries_free(&e);
    assert_true(was_delivered(kv, "8601"));
}

/* ============================================================================================
 * kv_open with REDIS_URL: the failover over this backend
 * ========================================================================================== */

static struct kv *open_failover(const struct redis_url *url, const char *prefix)
{
    struct slimy_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.has_redis = true;
    cfg.redis = *url;
    snprintf(cfg.redis_key_prefix, sizeof cfg.redis_key_prefix, "%s", prefix);
    struct kv *kv = NULL;
    char err[256] = "";
    int rc = kv_open(&cfg, &kv, err, sizeof err);
    if (rc != SLIMY_OK)
        fail_msg("kv_open with REDIS_URL: %s: %s", slimy_strerror(rc), err);
    assert_non_null(kv);
    return kv;
}

/* Redis answering: kv_open() shares state through it ("shared"), visible to a plain replica. */
static void test_redis_kv_open_shared(void **state)
{
    char prefix[64];
    struct kv *plain = open_fresh(state, prefix, sizeof prefix);
    struct kv *kv = open_failover(&test_url, prefix);
    ((struct contract_fixture *)*state)->other = kv;
    uint64_t t0 = clock_mono_ms();
    while (kv_state(kv) != KV_STATE_SHARED && ms_since(t0) < STATE_WAIT_MS)
        sleep_ms(50);
    assert_int_equal(kv_state(kv), KV_STATE_SHARED);
    assert_int_equal(kv_ping(kv), SLIMY_OK);
    expect_admit(kv, "8701", "u1", "chat", 0, NULL, KV_ADMITTED);
    expect_admit(plain, "8701", "u1", "chat", 0, NULL, KV_DUPLICATE);
}

/* Redis down: kv_open() still succeeds ("never fails because Redis is down"), reports
 * "fallback", and serves from memory. */
static void test_redis_kv_open_fallback(void **state)
{
    struct redis_url url;
    char err[256];
    assert_int_equal(redis_url_parse(UNREACHABLE_URL, &url, err, sizeof err), SLIMY_OK);
    struct kv *kv = open_failover(&url, "slimytest:down:");
    ((struct contract_fixture *)*state)->other = kv;
    expect_admit(kv, "8801", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    assert_int_equal(kv_state(kv), KV_STATE_FALLBACK);
    expect_admit(kv, "8801", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_DUPLICATE);
    expect_admit(kv, "8802", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_COOLING_DOWN);
}

static const struct CMUnitTest redis_only_tests[] = {
    CONTRACT_TEST(test_redis_unreachable_fails_fast),
    CONTRACT_TEST(test_redis_replicas_share_state),
    CONTRACT_TEST(test_redis_replicas_race),
    CONTRACT_TEST(test_redis_prefixes_isolated),
    CONTRACT_TEST(test_redis_survives_dropped_connections),
    CONTRACT_TEST(test_redis_survives_script_flush),
    CONTRACT_TEST(test_redis_survives_stream_deleted),
    CONTRACT_TEST(test_redis_survives_empty_restart),
    CONTRACT_TEST(test_redis_kv_open_shared),
    CONTRACT_TEST(test_redis_kv_open_fallback),
};

/* Reads SLIMY_TEST_REDIS_URL and builds the redis-cli command line; prints why and returns
 * false if it is unset or unusable. */
static bool read_environment(void)
{
    const char *text = getenv("SLIMY_TEST_REDIS_URL");
    if (!text || !*text) {
        fprintf(stderr, "SLIMY_TEST_REDIS_URL not set: run through scripts/test.sh, which starts Redis\n");
        return false;
    }
    char err[512];
    if (redis_url_parse(text, &test_url, err, sizeof err) != SLIMY_OK) {
        fprintf(stderr, "SLIMY_TEST_REDIS_URL: %s\n", err);
        return false;
    }
    char db[32], port[32];
    snprintf(db, sizeof db, " -n %u", test_url.db);
    snprintf(cli, sizeof cli, "redis-cli");
    if (test_url.unix_path[0]) {
        snprintf(cli + strlen(cli), sizeof cli - strlen(cli), " -s ");
        shell_quote(cli, sizeof cli, test_url.unix_path);
    } else {
        snprintf(cli + strlen(cli), sizeof cli - strlen(cli), " -h ");
        shell_quote(cli, sizeof cli, test_url.host);
        snprintf(port, sizeof port, " -p %u", (unsigned)test_url.port);
        snprintf(cli + strlen(cli), sizeof cli - strlen(cli), "%s", port);
    }
    snprintf(cli + strlen(cli), sizeof cli - strlen(cli), "%s", db);
    if (test_url.user[0]) {
        snprintf(cli + strlen(cli), sizeof cli - strlen(cli), " --user ");
        shell_quote(cli, sizeof cli, test_url.user);
    }
    /* The password goes through the environment, not the command line. */
    if (test_url.password[0] && setenv("REDISCLI_AUTH", test_url.password, 1) != 0)
        return false;
    return true;
}

int main(void)
{
    if (!read_environment())
        return 1;
    contract_backend = "redis";
    contract_open = redis_open;
    contract_state = KV_STATE_SHARED;
    contract_process_only_sees_jobs = false;
    int failed = cmocka_run_group_tests_name("kv contract (redis)", kv_contract_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("kv redis only", redis_only_tests, NULL, NULL);

    /* This run's keys; expiring ones would go by themselves, the streams would not. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --scan --pattern 'slimytest:%ld:*' | xargs -r %s DEL >/dev/null 2>&1", cli,
             (long)getpid(), cli);
    if (system(cmd) != 0)
        fprintf(stderr, "note: could not delete this run's keys (slimytest:%ld:*)\n", (long)getpid());
    if (killable_user[0]) {
        snprintf(cmd, sizeof cmd, "%s ACL DELUSER '%s' >/dev/null 2>&1", cli, killable_user);
        if (system(cmd) != 0)
            fprintf(stderr, "note: could not delete the ACL user %s\n", killable_user);
    }
    return failed ? 1 : 0;
}
