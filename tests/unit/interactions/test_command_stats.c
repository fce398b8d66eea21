/* test_command_stats.c — unit tests of src/interactions/command_stats.c, the counters behind
 * /diag: runs, failures and time per command path, the totals, the top three (most used
 * first), the cap on distinct paths, and concurrent recording. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"
#include "interactions/command_stats.h"

#define THREADS 4
#define RECORDS_PER_THREAD 1000

static int setup(void **state)
{
    struct command_stats *s = NULL;
    if (command_stats_new(&s) != SLIMY_OK)
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    command_stats_free(*state);
    return 0;
}

static void record_n(struct command_stats *s, const char *path, int n, int failures, uint64_t ms_each)
{
    for (int i = 0; i < n; i++)
        command_stats_record(s, path, i >= failures, ms_each);
}

static void test_empty(void **state)
{
    struct command_stats_summary sum;
    memset(&sum, 0xAB, sizeof sum); /* summarize must overwrite everything it reports */
    command_stats_summarize(*state, &sum);
    assert_int_equal(sum.total, 0);
    assert_int_equal(sum.failures, 0);
    assert_int_equal(sum.n_top, 0);
}

static void test_record_and_summarize(void **state)
{
    struct command_stats *s = *state;
    command_stats_record(s, "snail calc", true, 10);
    command_stats_record(s, "snail calc", false, 30);
    command_stats_record(s, "diag", true, 5);

    struct command_stats_summary sum;
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.total, 3);
    assert_int_equal(sum.failures, 1);
    assert_int_equal(sum.n_top, 2);
    assert_string_equal(sum.top[0].path, "snail calc");
    assert_int_equal(sum.top[0].count, 2);
    assert_int_equal(sum.top[0].failures, 1);
    assert_int_equal(sum.top[0].total_ms, 40);
    assert_string_equal(sum.top[1].path, "diag");
    assert_int_equal(sum.top[1].count, 1);
    assert_int_equal(sum.top[1].failures, 0);
    assert_int_equal(sum.top[1].total_ms, 5);

    /* Summarizing does not reset anything. */
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.total, 3);
}

/* Five paths recorded in an order unrelated to their counts: the top three come out sorted. */
static void test_top_three(void **state)
{
    struct command_stats *s = *state;
    record_n(s, "a", 1, 0, 1);
    record_n(s, "b", 5, 2, 1);
    record_n(s, "c", 3, 0, 1);
    record_n(s, "d", 4, 4, 1);
    record_n(s, "e", 2, 1, 1);

    struct command_stats_summary sum;
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.total, 15);
    assert_int_equal(sum.failures, 7);
    assert_int_equal(sum.n_top, 3);
    assert_string_equal(sum.top[0].path, "b");
    assert_int_equal(sum.top[0].count, 5);
    assert_int_equal(sum.top[0].failures, 2);
    assert_string_equal(sum.top[1].path, "d");
    assert_int_equal(sum.top[1].count, 4);
    assert_int_equal(sum.top[1].failures, 4);
    assert_string_equal(sum.top[2].path, "c");
    assert_int_equal(sum.top[2].count, 3);

    /* A later path overtaking the leader moves to the front. */
    record_n(s, "a", 9, 0, 1);
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.total, 24);
    assert_string_equal(sum.top[0].path, "a");
    assert_int_equal(sum.top[0].count, 10);
    assert_string_equal(sum.top[1].path, "b");
    assert_string_equal(sum.top[2].path, "d");
}

/* Ascending and descending insertion orders, which exercise both ends of the top-three insert. */
static void test_top_three_orders(void **state)
{
    struct command_stats *s = *state;
    char path[16];
    for (int i = 1; i <= 6; i++) {
        snprintf(path, sizeof path, "up%d", i);
        record_n(s, path, i, 0, 0);
    }
    struct command_stats_summary sum;
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.n_top, 3);
    assert_string_equal(sum.top[0].path, "up6");
    assert_string_equal(sum.top[1].path, "up5");
    assert_string_equal(sum.top[2].path, "up4");

    struct command_stats *t = NULL;
    assert_int_equal(command_stats_new(&t), SLIMY_OK);
    for (int i = 6; i >= 1; i--) {
        snprintf(path, sizeof path, "down%d", i);
        record_n(t, path, i, 0, 0);
    }
    command_stats_summarize(t, &sum);
    assert_int_equal(sum.total, 21);
    assert_string_equal(sum.top[0].path, "down6");
    assert_string_equal(sum.top[1].path, "down5");
    assert_string_equal(sum.top[2].path, "down4");
    command_stats_free(t);
}

/* Paths past COMMAND_STATS_MAX distinct ones are dropped; the ones already tracked still count. */
static void test_cap(void **state)
{
    struct command_stats *s = *state;
    char path[16];
    for (int i = 0; i < COMMAND_STATS_MAX + 10; i++) {
        snprintf(path, sizeof path, "p%d", i);
        command_stats_record(s, path, true, 1);
    }
    struct command_stats_summary sum;
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.total, COMMAND_STATS_MAX);
    command_stats_record(s, "p0", false, 1);
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.total, COMMAND_STATS_MAX + 1);
    assert_int_equal(sum.failures, 1);
    assert_string_equal(sum.top[0].path, "p0");
}

struct thread_arg {
    struct command_stats *s;
    int thread;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    for (int i = 0; i < RECORDS_PER_THREAD; i++)
        command_stats_record(a->s, (i % 2) ? "shared" : (a->thread % 2 ? "odd" : "even"), i % 10 != 0, 2);
    return NULL;
}

static void test_threads(void **state)
{
    struct command_stats *s = *state;
    pthread_t threads[THREADS];
    struct thread_arg args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = (struct thread_arg){.s = s, .thread = t};
        assert_int_equal(pthread_create(&threads[t], NULL, thread_main, &args[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(threads[t], NULL), 0);

    struct command_stats_summary sum;
    command_stats_summarize(s, &sum);
    assert_int_equal(sum.total, THREADS * RECORDS_PER_THREAD);
    /* i % 10 == 0 fails: 100 of every 1000, all on even i, so on the "odd"/"even" paths. */
    assert_int_equal(sum.failures, THREADS * RECORDS_PER_THREAD / 10);
    assert_int_equal(sum.n_top, 3);
    assert_string_equal(sum.top[0].path, "shared");
    assert_int_equal(sum.top[0].count, THREADS * RECORDS_PER_THREAD / 2);
    assert_int_equal(sum.top[0].failures, 0);
    assert_int_equal(sum.top[0].total_ms, THREADS * RECORDS_PER_THREAD);
    assert_int_equal(sum.top[1].count, THREADS * RECORDS_PER_THREAD / 4);
    assert_int_equal(sum.top[2].count, THREADS * RECORDS_PER_THREAD / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_and_summarize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_three, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top_three_orders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
