/* test_cooldown.c — unit tests of src/kv/cooldown.c: the window (limited until exactly
 * start + cooldown, with the exact time left), cooldown 0, independence of users and commands,
 * long keys, pruning of expired entries at scale, and concurrent callers. Clock values are
 * passed explicitly, so nothing here depends on real time. */
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"
#include "kv/cooldown.h"

#define MANY_USERS 10000
#define THREADS 4
#define KEYS_PER_THREAD 1000

static int setup(void **state)
{
    struct cooldowns *c = NULL;
    if (cooldowns_new(&c) != SLIMY_OK)
        return -1;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cooldowns_free(*state);
    return 0;
}

/* cooldown_check that also says what it left in *remaining_ms (UINT64_MAX if untouched). */
static int check(struct cooldowns *c, const char *user, const char *command, uint32_t cooldown_ms, uint64_t now_ms,
                 uint64_t *remaining_ms)
{
    *remaining_ms = UINT64_MAX;
    return cooldown_check(c, user, command, cooldown_ms, now_ms, remaining_ms);
}

static void test_window(void **state)
{
    struct cooldowns *c = *state;
    uint64_t left;
    assert_int_equal(check(c, "111", "chat", 3000, 1000, &left), SLIMY_OK);
    assert_int_equal(cooldowns_size(c), 1);

    /* Same millisecond, half way, last millisecond: limited with the exact time left. */
    assert_int_equal(check(c, "111", "chat", 3000, 1000, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 3000);
    assert_int_equal(check(c, "111", "chat", 3000, 2500, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 1500);
    assert_int_equal(check(c, "111", "chat", 3000, 3999, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 1);
    /* A limited call does not extend the window. */
    assert_int_equal(cooldowns_size(c), 1);

    /* At exactly start + cooldown the user may go again, which starts a new window. */
    assert_int_equal(check(c, "111", "chat", 3000, 4000, &left), SLIMY_OK);
    assert_int_equal(cooldowns_size(c), 1);
    assert_int_equal(check(c, "111", "chat", 3000, 4001, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 2999);
    assert_int_equal(check(c, "111", "chat", 3000, 7000, &left), SLIMY_OK);
}

static void test_zero_cooldown_never_limits(void **state)
{
    struct cooldowns *c = *state;
    uint64_t left;
    for (uint64_t now = 0; now < 5; now++)
        assert_int_equal(check(c, "111", "ping", 0, now, &left), SLIMY_OK);
    assert_int_equal(check(c, "111", "ping", 0, 0, &left), SLIMY_OK);
    /* Nobody is inside a window, so nothing is held. */
    assert_int_equal(cooldowns_size(c), 0);
}

static void test_independent_keys(void **state)
{
    struct cooldowns *c = *state;
    uint64_t left;
    assert_int_equal(check(c, "111", "chat", 3000, 0, &left), SLIMY_OK);
    /* Other user, same command. */
    assert_int_equal(check(c, "222", "chat", 3000, 10, &left), SLIMY_OK);
    /* Same user, other command, and another subcommand of a command. */
    assert_int_equal(check(c, "111", "snail calc", 3000, 20, &left), SLIMY_OK);
    assert_int_equal(check(c, "111", "snail test", 3000, 30, &left), SLIMY_OK);
    /* The user and command are kept apart: ("ab","c") is not ("a","bc"). */
    assert_int_equal(check(c, "ab", "c", 3000, 40, &left), SLIMY_OK);
    assert_int_equal(check(c, "a", "bc", 3000, 40, &left), SLIMY_OK);
    assert_int_equal(cooldowns_size(c), 6);

    assert_int_equal(check(c, "111", "chat", 3000, 100, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 2900);
    assert_int_equal(check(c, "222", "chat", 3000, 100, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 2910);
    assert_int_equal(check(c, "111", "snail calc", 3000, 100, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 2920);
    assert_int_equal(check(c, "ab", "c", 3000, 100, &left), SLIMY_ELIMITED);
    assert_int_equal(check(c, "a", "bc", 3000, 100, &left), SLIMY_ELIMITED);
    assert_int_equal(check(c, "333", "chat", 3000, 100, &left), SLIMY_OK);
}

/* Keys longer than the 128-byte stack key go through the heap; they must behave the same. */
static void test_long_keys(void **state)
{
    struct cooldowns *c = *state;
    char user_a[301], user_b[301];
    memset(user_a, '7', 300);
    user_a[300] = '\0';
    memcpy(user_b, user_a, sizeof user_b);
    user_b[299] = '8'; /* differs only in the last byte */
    uint64_t left;

    assert_int_equal(check(c, user_a, "chat", 1000, 0, &left), SLIMY_OK);
    assert_int_equal(check(c, user_b, "chat", 1000, 0, &left), SLIMY_OK);
    assert_int_equal(check(c, user_a, "chat", 1000, 250, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 750);
    assert_int_equal(check(c, user_b, "chat", 1000, 999, &left), SLIMY_ELIMITED);
    assert_int_equal(left, 1);
    assert_int_equal(cooldowns_size(c), 2);
    assert_int_equal(check(c, user_a, "chat", 1000, 1000, &left), SLIMY_OK);

    /* A long command path as well, just around the 128-byte edge. */
    char path[200];
    memset(path, 'p', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    for (size_t n = 120; n < 135; n++) {
        path[n] = '\0';
        assert_int_equal(check(c, "42", path, 1000, 0, &left), SLIMY_OK);
        assert_int_equal(check(c, "42", path, 1000, 1, &left), SLIMY_ELIMITED);
        assert_int_equal(left, 999);
        path[n] = 'p';
    }
}

static void test_many_users_and_pruning(void **state)
{
    struct cooldowns *c = *state;
    char user[32];
    uint64_t left;

    for (int i = 0; i < MANY_USERS; i++) {
        snprintf(user, sizeof user, "u%d", i);
        assert_int_equal(check(c, user, "chat", 1000, 0, &left), SLIMY_OK);
    }
    assert_int_equal(cooldowns_size(c), MANY_USERS);
    for (int i = 0; i < MANY_USERS; i++) {
        snprintf(user, sizeof user, "u%d", i);
        assert_int_equal(check(c, user, "chat", 1000, 500, &left), SLIMY_ELIMITED);
        assert_int_equal(left, 500);
    }
    assert_int_equal(cooldowns_size(c), MANY_USERS);

    /* At expiry the same users start new windows; the old entries do not pile up. */
    for (int i = 0; i < MANY_USERS; i++) {
        snprintf(user, sizeof user, "u%d", i);
        assert_int_equal(check(c, user, "chat", 1000, 1000, &left), SLIMY_OK);
    }
    assert_int_equal(cooldowns_size(c), MANY_USERS);

    /* Long after expiry, as many new users arrive: the expired entries they meet are dropped, so
     * the table holds the new users plus at most a few leftovers, not both sets. */
    for (int i = 0; i < MANY_USERS; i++) {
        snprintf(user, sizeof user, "v%d", i);
        assert_int_equal(check(c, user, "chat", 1000, 10000, &left), SLIMY_OK);
    }
    size_t n = cooldowns_size(c);
    assert_true(n >= MANY_USERS);
    assert_true(n < MANY_USERS + MANY_USERS / 4);
}

/* ---- threads ---- */

struct thread_arg {
    struct cooldowns *c;
    int thread;     /* index, used in the user ids when keys are distinct */
    bool is_shared; /* every thread uses the same keys */
    int n_ok;       /* calls that returned SLIMY_OK */
    int n_limited;  /* calls that returned SLIMY_ELIMITED */
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    char user[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < KEYS_PER_THREAD; i++) {
            snprintf(user, sizeof user, "t%d-%d", a->is_shared ? 0 : a->thread, i);
            uint64_t left;
            int rc = cooldown_check(a->c, user, "chat", 60000, (uint64_t)round, &left);
            if (rc == SLIMY_OK)
                a->n_ok++;
            else if (rc == SLIMY_ELIMITED)
                a->n_limited++;
        }
    }
    return NULL;
}

static void run_threads(struct cooldowns *c, bool is_shared, struct thread_arg args[THREADS])
{
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (struct thread_arg){.c = c, .thread = t, .is_shared = is_shared};
        assert_int_equal(pthread_create(&threads[t], NULL, thread_main, &args[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);
}

/* 4 threads x 1000 keys of their own: each key starts once and is limited on the second round. */
static void test_threads_distinct_keys(void **state)
{
    struct cooldowns *c = *state;
    struct thread_arg args[THREADS];
    run_threads(c, false, args);
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(args[t].n_ok, KEYS_PER_THREAD);
        assert_int_equal(args[t].n_limited, KEYS_PER_THREAD);
    }
    assert_int_equal(cooldowns_size(c), THREADS * KEYS_PER_THREAD);
}

/* 4 threads racing on the same 1000 keys: exactly one caller per key gets through. */
static void test_threads_shared_keys(void **state)
{
    struct cooldowns *c = *state;
    struct thread_arg args[THREADS];
    run_threads(c, true, args);
    int ok = 0, limited = 0;
    for (int t = 0; t < THREADS; t++) {
        ok += args[t].n_ok;
        limited += args[t].n_limited;
    }
    assert_int_equal(ok, KEYS_PER_THREAD);
    assert_int_equal(limited, 2 * THREADS * KEYS_PER_THREAD - KEYS_PER_THREAD);
    assert_int_equal(cooldowns_size(c), KEYS_PER_THREAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_cooldown_never_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_independent_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_users_and_pruning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_distinct_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_shared_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
