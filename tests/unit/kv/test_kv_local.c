/* test_kv_local.c — the kv.h contract suite (kv_contract.h) against the in-process backend
 * (src/kv/kv_local.c), the one every replica falls back to; then what only it promises: it is
 * what kv_open() gives without REDIS_URL, with the production options of kv_options_default(). */
#include "core/config.h"
#include "kv_contract.h"

static struct kv *local_open(const struct kv_options *opts)
{
    struct kv *kv = NULL;
    int rc = kv_local_new(opts, &kv);
    if (rc != SLIMY_OK) {
        fprintf(stderr, "kv_local_new: %s\n", slimy_strerror(rc));
        return NULL;
    }
    return kv;
}

/* The production values the comments of struct kv_options name. */
static void test_options_default(void **state)
{
    (void)state;
    struct kv_options opts;
    memset(&opts, 0, sizeof opts);
    kv_options_default(&opts);
    assert_int_equal(opts.dedupe_ttl_ms, 15u * 60u * 1000u); /* an interaction token's life */
    assert_int_equal(opts.history_idle_ms, CHAT_HISTORY_IDLE_MS);
    assert_true(opts.stream_max > 0);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(kv_state_name(KV_STATE_LOCAL), "local");
    assert_string_equal(kv_state_name(KV_STATE_SHARED), "shared");
    assert_string_equal(kv_state_name(KV_STATE_FALLBACK), "fallback");
}

/* Without REDIS_URL, kv_open() gives the in-process backend, and it works. */
static void test_open_without_redis_is_local(void **state)
{
    (void)state;
    struct slimy_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct kv *kv = NULL;
    char err[256] = "";
    int rc = kv_open(&cfg, &kv, err, sizeof err);
    if (rc != SLIMY_OK)
        fail_msg("kv_open without REDIS_URL: %s: %s", slimy_strerror(rc), err);
    assert_non_null(kv);
    assert_string_equal(kv->ops->name, "local");
    assert_int_equal(kv_state(kv), KV_STATE_LOCAL);
    assert_int_equal(kv_ping(kv), SLIMY_OK);
    expect_admit(kv, "1", "u1", "chat", 1000, NULL, KV_ADMITTED);
    expect_admit(kv, "1", "u1", "chat", 1000, NULL, KV_DUPLICATE);
    kv_close(kv);
}

/* Two in-process backends share nothing: each is one replica's memory. */
static void test_instances_independent(void **state)
{
    struct kv *a = fixture_kv(state);
    struct kv_options opts;
    contract_options(&opts);
    struct kv *b = local_open(&opts);
    assert_non_null(b);
    expect_admit(a, "7001", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    expect_admit(b, "7001", "u1", "chat", CONTRACT_LONG_MS, NULL, KV_ADMITTED);
    append_turn(a, "1:1", AI_USER, "only in a");
    assert_int_equal(history_len(b, "1:1"), 0);
    kv_close(b);
}

static const struct CMUnitTest local_only_tests[] = {
    cmocka_unit_test(test_options_default),
    cmocka_unit_test(test_state_names),
    cmocka_unit_test(test_open_without_redis_is_local),
    CONTRACT_TEST(test_instances_independent),
};

int main(void)
{
    contract_backend = "local";
    contract_open = local_open;
    contract_state = KV_STATE_LOCAL;
    contract_process_only_sees_jobs = true;
    int failed = cmocka_run_group_tests_name("kv contract (local)", kv_contract_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("kv local only", local_only_tests, NULL, NULL);
    return failed ? 1 : 0;
}
