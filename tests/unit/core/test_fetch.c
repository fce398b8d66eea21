/* test_fetch.c — unit tests of src/core/fetch.c, the outbound engine's own duties: timers run
 * once on the engine thread at their time, pending work is counted, a timer that owns its
 * argument is released when the engine stops first, and a stopped engine refuses new work
 * instead of losing it silently. (Transfers are tested through the clients.) */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/fetch.h"
#include "core/status.h"

struct timer_probe {
    atomic_int runs;
    atomic_ullong ran_at_mono_ms;
    pthread_t thread;
};

static void on_timer(void *arg)
{
    struct timer_probe *p = arg;
    p->thread = pthread_self();
    p->ran_at_mono_ms = clock_mono_ms();
    p->runs++;
}

static void wait_runs(struct timer_probe *p, int n)
{
    uint64_t until = clock_mono_ms() + 5000;
    while (p->runs < n && clock_mono_ms() < until) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 2000000L};
        nanosleep(&pause, NULL);
    }
}

static void a_timer_runs_once_at_its_time_on_the_engine_thread(void **state)
{
    (void)state;
    struct fetch *f;
    assert_int_equal(fetch_start(&f), SLIMY_OK);
    struct timer_probe p = {0};
    uint64_t due = clock_mono_ms() + 100;
    assert_int_equal(fetch_at(f, due, on_timer, &p), SLIMY_OK);
    wait_runs(&p, 1);
    assert_int_equal(p.runs, 1);
    assert_true(p.ran_at_mono_ms >= due);
    assert_false(pthread_equal(p.thread, pthread_self()));
    fetch_free(f);
    assert_int_equal(p.runs, 1);
}

static void pending_counts_timers_not_yet_run(void **state)
{
    (void)state;
    struct fetch *f;
    assert_int_equal(fetch_start(&f), SLIMY_OK);
    struct timer_probe later = {0}, now = {0};
    assert_int_equal(fetch_pending(f), 0);
    assert_int_equal(fetch_at(f, clock_mono_ms() + 60000, on_timer, &later), SLIMY_OK);
    assert_int_equal(fetch_pending(f), 1);
    assert_int_equal(fetch_at(f, 0, on_timer, &now), SLIMY_OK);
    wait_runs(&now, 1);
    assert_int_equal(now.runs, 1);
    assert_int_equal(fetch_pending(f), 1); /* the far one still waits */
    fetch_free(f);
    assert_int_equal(later.runs, 0); /* dropped by the stop, never run */
}

struct owned_probe {
    struct timer_probe ran;
    atomic_int drops;
    pthread_t drop_thread;
};

static void on_owned_timer(void *arg)
{
    on_timer(&((struct owned_probe *)arg)->ran);
}

static void on_owned_dropped(void *arg)
{
    struct owned_probe *p = arg;
    p->drop_thread = pthread_self();
    p->drops++;
}

static void an_owned_timer_runs_or_is_dropped_never_both(void **state)
{
    (void)state;
    struct fetch *f;
    assert_int_equal(fetch_start(&f), SLIMY_OK);
    struct owned_probe due = {0}, far = {0};
    assert_int_equal(fetch_at_owned(f, 0, on_owned_timer, on_owned_dropped, &due), SLIMY_OK);
    assert_int_equal(fetch_at_owned(f, clock_mono_ms() + 60000, on_owned_timer, on_owned_dropped, &far), SLIMY_OK);
    wait_runs(&due.ran, 1);
    assert_int_equal(far.drops, 0); /* still waiting, not dropped before the stop */
    fetch_stop(f);
    assert_int_equal(due.ran.runs, 1);
    assert_int_equal(due.drops, 0);
    assert_int_equal(far.ran.runs, 0);
    assert_int_equal(far.drops, 1);
    assert_true(pthread_equal(far.drop_thread, pthread_self())); /* on the stopping thread */
    fetch_free(f);
    assert_int_equal(far.drops, 1); /* once, not again at the free */
}

static void a_stopped_engine_refuses_work(void **state)
{
    (void)state;
    struct fetch *f;
    assert_int_equal(fetch_start(&f), SLIMY_OK);
    fetch_stop(f);
    fetch_stop(f); /* idempotent */
    struct timer_probe p = {0};
    assert_int_equal(fetch_at(f, 0, on_timer, &p), SLIMY_EUNAVAILABLE);
    fetch_free(f);
    assert_int_equal(p.runs, 0);
    fetch_free(NULL);
}

static void backoff_doubles_with_bounded_jitter(void **state)
{
    (void)state;
    static const uint64_t base[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
    for (unsigned retry = 0; retry < sizeof base / sizeof base[0]; retry++)
        for (int i = 0; i < 50; i++) {
            uint64_t ms = fetch_backoff_ms(retry);
            assert_true(ms >= base[retry]);
            assert_true(ms <= base[retry] + base[retry] / 4);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_timer_runs_once_at_its_time_on_the_engine_thread),
        cmocka_unit_test(pending_counts_timers_not_yet_run),
        cmocka_unit_test(an_owned_timer_runs_or_is_dropped_never_both),
        cmocka_unit_test(a_stopped_engine_refuses_work),
        cmocka_unit_test(backoff_doubles_with_bounded_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
