/* test_jobs.c — the worker pool (src/jobs/jobs.h) on its own: a submitted job runs on a worker
 * thread and stays in flight until jobs_finish(), which calls the finished hook before the job
 * is freed; the queue refuses jobs past its limit (SLIMY_ELIMITED) and, once draining, any new
 * job (SLIMY_EUNAVAILABLE) while still taking resumed ones, which run again ahead of new work;
 * a drain waits for the jobs in flight; jobs_wait_below waits for room in the queue; jobs_free
 * frees what is still queued without running it.
 *
 * The runner below acts on the job's path: "gate..." jobs hold their worker until the test
 * opens the gate, "park..." jobs stay in flight after their first run and finish on the next
 * (jobs_resume), any other job finishes at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/status.h"
#include "jobs/jobs.h"

#define MAX_EVENTS 32
#define WAIT_MS 3000

struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t gate_changed;
    bool is_gate_open;
    char ran[MAX_EVENTS][16]; /* paths in the order their runs started */
    pthread_t ran_on[MAX_EVENTS];
    size_t n_ran;
    char finished[MAX_EVENTS][16]; /* paths in the order the finished hook saw them */
    size_t n_finished;
    struct job *parked; /* the "park" job after its first run, until it finishes */
    bool is_misused;    /* a callback got another arg or owner than it should (checked on the main thread) */
    struct jobs *jobs;
};

static struct recorder rec;
static atomic_size_t n_payloads_freed;

/* Every job's payload is its name, freed with the job. */
static const char *name_of(const struct job *job)
{
    return job->payload;
}

static void free_payload(void *payload)
{
    atomic_fetch_add(&n_payloads_freed, 1);
    free(payload);
}

static void run(struct jobs *jobs, struct job *job, void *arg)
{
    pthread_mutex_lock(&rec.lock);
    if (arg != &rec || job->owner != jobs)
        rec.is_misused = true;
    if (rec.n_ran < MAX_EVENTS) {
        snprintf(rec.ran[rec.n_ran], sizeof rec.ran[0], "%s", name_of(job));
        rec.ran_on[rec.n_ran] = pthread_self();
        rec.n_ran++;
    }
    if (strncmp(name_of(job), "gate", 4) == 0)
        while (!rec.is_gate_open)
            pthread_cond_wait(&rec.gate_changed, &rec.lock);
    bool is_parking = strncmp(name_of(job), "park", 4) == 0 && !job->run_state;
    if (is_parking) {
        job->run_state = &rec; /* marks the first run */
        rec.parked = job;
    }
    pthread_mutex_unlock(&rec.lock);
    if (!is_parking)
        jobs_finish(jobs, job);
}

static void finished(struct job *job, void *arg)
{
    pthread_mutex_lock(&rec.lock);
    if (arg != &rec)
        rec.is_misused = true;
    if (job == rec.parked)
        rec.parked = NULL;
    if (rec.n_finished < MAX_EVENTS) /* the job is still whole here: its path is readable */
        snprintf(rec.finished[rec.n_finished++], sizeof rec.finished[0], "%s", name_of(job));
    pthread_mutex_unlock(&rec.lock);
}

static size_t n_ran(void)
{
    pthread_mutex_lock(&rec.lock);
    size_t n = rec.n_ran;
    pthread_mutex_unlock(&rec.lock);
    return n;
}

static size_t n_finished(void)
{
    pthread_mutex_lock(&rec.lock);
    size_t n = rec.n_finished;
    pthread_mutex_unlock(&rec.lock);
    return n;
}

static void open_gate(void)
{
    pthread_mutex_lock(&rec.lock);
    rec.is_gate_open = true;
    pthread_cond_broadcast(&rec.gate_changed);
    pthread_mutex_unlock(&rec.lock);
}

/* Polls until count() reaches n; fails the test after WAIT_MS. */
static void wait_for(size_t (*count)(void), size_t n)
{
    uint64_t deadline = clock_mono_ms() + WAIT_MS;
    while (count() < n) {
        assert_true(clock_mono_ms() < deadline);
        usleep(1000);
    }
}

/* Polls until no job is in flight (jobs_finish counts down just after the finished hook). */
static void wait_until_idle(void)
{
    uint64_t deadline = clock_mono_ms() + WAIT_MS;
    while (jobs_in_flight(rec.jobs) > 0) {
        assert_true(clock_mono_ms() < deadline);
        usleep(1000);
    }
}

static struct job *parked(void)
{
    pthread_mutex_lock(&rec.lock);
    struct job *job = rec.parked;
    pthread_mutex_unlock(&rec.lock);
    assert_non_null(job);
    return job;
}

static struct job *named(const char *path)
{
    struct job *job = job_new();
    assert_non_null(job);
    job->payload = strdup(path);
    assert_non_null(job->payload);
    job->payload_free = free_payload;
    return job;
}

static void submit(const char *path)
{
    struct job *job = named(path);
    assert_int_equal(jobs_submit(rec.jobs, job), SLIMY_OK);
}

/* A pool of n workers and max_queued queue slots, with a closed gate. */
static int start(unsigned n_workers, unsigned max_queued)
{
    memset(&rec, 0, sizeof rec);
    atomic_store(&n_payloads_freed, 0);
    pthread_mutex_init(&rec.lock, NULL);
    pthread_cond_init(&rec.gate_changed, NULL);
    return jobs_new(n_workers, max_queued, run, finished, &rec, &rec.jobs) == SLIMY_OK ? 0 : -1;
}

static int setup_one_worker(void **state)
{
    (void)state;
    return start(1, 2);
}

static int setup_two_workers(void **state)
{
    (void)state;
    return start(2, 8);
}

static void stop(void)
{
    pthread_cond_destroy(&rec.gate_changed);
    pthread_mutex_destroy(&rec.lock);
}

static int teardown(void **state)
{
    (void)state;
    open_gate();
    pthread_mutex_lock(&rec.lock);
    struct job *left = rec.parked; /* a test that failed with a job parked: let it end */
    pthread_mutex_unlock(&rec.lock);
    if (left)
        jobs_resume(rec.jobs, left);
    bool is_drained = jobs_drain(rec.jobs, clock_mono_ms() + WAIT_MS);
    jobs_free(rec.jobs);
    bool is_misused = rec.is_misused;
    stop();
    return is_drained && !is_misused ? 0 : -1;
}

static void a_submitted_job_runs_on_a_worker_and_finishes(void **state)
{
    (void)state;
    assert_int_equal(jobs_workers(rec.jobs), 2);
    submit("plain");
    wait_for(n_finished, 1);
    assert_int_equal(n_ran(), 1);
    assert_string_equal(rec.ran[0], "plain");
    assert_false(pthread_equal(rec.ran_on[0], pthread_self()));
    assert_string_equal(rec.finished[0], "plain");
    assert_int_equal(atomic_load(&n_payloads_freed), 1); /* the payload went with the job */
    wait_until_idle();
    assert_int_equal(jobs_queued(rec.jobs), 0);
}

static void a_job_stays_in_flight_until_it_is_finished(void **state)
{
    (void)state;
    submit("park");
    wait_for(n_ran, 1);
    assert_int_equal(jobs_in_flight(rec.jobs), 1);
    assert_int_equal(jobs_queued(rec.jobs), 0);
    assert_int_equal(n_finished(), 0);

    jobs_finish(rec.jobs, parked()); /* from another thread than the worker's, as a delivery callback does */
    assert_int_equal(n_finished(), 1);
    assert_string_equal(rec.finished[0], "park");
    assert_int_equal(jobs_in_flight(rec.jobs), 0);
}

static void resume_runs_the_job_again_without_counting_it_twice(void **state)
{
    (void)state;
    submit("park");
    wait_for(n_ran, 1);
    assert_int_equal(jobs_in_flight(rec.jobs), 1);
    jobs_resume(rec.jobs, parked());
    wait_for(n_finished, 1);
    assert_int_equal(n_ran(), 2);
    assert_string_equal(rec.ran[1], "park");
    wait_until_idle(); /* not left at 1, nor wrapped around, by counting the job twice */
    assert_int_equal(jobs_queued(rec.jobs), 0);
}

static void a_resumed_job_runs_before_new_ones(void **state)
{
    (void)state;
    submit("park");
    wait_for(n_ran, 1);
    submit("gate"); /* holds the only worker */
    wait_for(n_ran, 2);
    submit("new-a");
    submit("new-b");
    jobs_resume(rec.jobs, parked()); /* never refused, even past the queue limit of 2 */
    assert_int_equal(jobs_queued(rec.jobs), 3);
    open_gate();
    wait_for(n_finished, 4);
    assert_string_equal(rec.ran[2], "park");
    assert_string_equal(rec.ran[3], "new-a");
    assert_string_equal(rec.ran[4], "new-b");
}

static void a_full_queue_refuses_the_job_and_the_caller_keeps_it(void **state)
{
    (void)state;
    submit("gate");
    wait_for(n_ran, 1); /* the worker holds it: the queue is empty */
    submit("queued-1");
    submit("queued-2");
    assert_int_equal(jobs_queued(rec.jobs), 2);
    struct job *refused = named("refused");
    assert_int_equal(jobs_submit(rec.jobs, refused), SLIMY_ELIMITED);
    assert_null(refused->owner);
    assert_int_equal(atomic_load(&n_payloads_freed), 0);
    job_free(refused); /* still ours */
    assert_int_equal(atomic_load(&n_payloads_freed), 1);
    assert_int_equal(jobs_queued(rec.jobs), 2);

    open_gate();
    wait_for(n_finished, 3);
    assert_int_equal(n_ran(), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_not_equal(rec.ran[i], "refused");
}

struct delayed {
    int ms;
    struct job *job; /* finished after ms, when set */
};

static void *finish_later(void *arg)
{
    struct delayed *d = arg;
    usleep((useconds_t)d->ms * 1000);
    if (d->job)
        jobs_finish(rec.jobs, d->job);
    else
        open_gate();
    return NULL;
}

static void a_drain_waits_for_jobs_in_flight_and_refuses_new_ones(void **state)
{
    (void)state;
    submit("park");
    wait_for(n_ran, 1);

    /* Nothing finishes it: the drain gives up at its deadline. */
    uint64_t t0 = clock_mono_ms();
    assert_false(jobs_drain(rec.jobs, t0 + 100));
    assert_true(clock_mono_ms() - t0 >= 90);

    /* Draining: new jobs are refused and stay the caller's... */
    struct job *late = named("late");
    assert_int_equal(jobs_submit(rec.jobs, late), SLIMY_EUNAVAILABLE);
    job_free(late);

    /* ...but an accepted job may still be resumed: it runs again and finishes. */
    jobs_resume(rec.jobs, parked());
    wait_for(n_finished, 1);
    assert_int_equal(n_ran(), 2);
    assert_true(jobs_drain(rec.jobs, clock_mono_ms() + WAIT_MS));
    assert_int_equal(jobs_in_flight(rec.jobs), 0);
}

static void a_drain_returns_when_the_last_job_finishes(void **state)
{
    (void)state;
    submit("park");
    wait_for(n_ran, 1);
    struct delayed d = {.ms = 200, .job = parked()};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, finish_later, &d), 0);
    uint64_t t0 = clock_mono_ms();
    bool is_drained = jobs_drain(rec.jobs, t0 + WAIT_MS);
    uint64_t waited = clock_mono_ms() - t0;
    pthread_join(t, NULL);
    assert_true(is_drained);
    assert_true(waited >= 150);        /* it did wait for the job */
    assert_true(waited < WAIT_MS / 2); /* and not until the deadline */
    assert_int_equal(jobs_in_flight(rec.jobs), 0);
    assert_int_equal(n_finished(), 1);

    struct job *late = named("late");
    assert_int_equal(jobs_submit(rec.jobs, late), SLIMY_EUNAVAILABLE);
    job_free(late);
}

static void wait_below_returns_once_a_worker_takes_a_job(void **state)
{
    (void)state;
    submit("gate");
    wait_for(n_ran, 1);
    submit("queued-1");
    submit("queued-2");

    uint64_t t0 = clock_mono_ms();
    jobs_wait_below(rec.jobs, 3, 1000); /* 2 < 3 already: no wait */
    assert_true(clock_mono_ms() - t0 < 500);

    t0 = clock_mono_ms();
    jobs_wait_below(rec.jobs, 2, 100); /* the worker is held: times out */
    uint64_t waited = clock_mono_ms() - t0;
    assert_true(waited >= 90);
    assert_int_equal(jobs_queued(rec.jobs), 2);

    struct delayed d = {.ms = 150, .job = NULL}; /* opens the gate */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, finish_later, &d), 0);
    t0 = clock_mono_ms();
    jobs_wait_below(rec.jobs, 2, WAIT_MS);
    waited = clock_mono_ms() - t0;
    pthread_join(t, NULL);
    assert_true(waited >= 100);
    assert_true(waited < WAIT_MS / 2);
    assert_true(jobs_queued(rec.jobs) < 2);
}

/* Jobs still queued when the pool stops are freed unrun (ASan checks the freeing). */
static void free_drops_queued_jobs_without_running_them(void **state)
{
    (void)state;
    submit("gate");
    wait_for(n_ran, 1);
    submit("never-1");
    submit("never-2");
    struct delayed d = {.ms = 300, .job = NULL}; /* opens the gate while jobs_free waits for the worker */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, finish_later, &d), 0);
    jobs_free(rec.jobs);
    pthread_join(t, NULL);
    size_t ran = rec.n_ran, done = rec.n_finished, freed = atomic_load(&n_payloads_freed);
    bool is_gate = strcmp(rec.finished[0], "gate") == 0;
    stop();
    assert_int_equal(start(1, 2), 0); /* a fresh pool for the teardown to stop, even if this test fails */
    assert_int_equal(ran, 1);
    assert_int_equal(done, 1);
    assert_true(is_gate);
    assert_int_equal(freed, 3); /* the two never run were freed with their payloads */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_submitted_job_runs_on_a_worker_and_finishes, setup_two_workers, teardown),
        cmocka_unit_test_setup_teardown(a_job_stays_in_flight_until_it_is_finished, setup_one_worker, teardown),
        cmocka_unit_test_setup_teardown(resume_runs_the_job_again_without_counting_it_twice, setup_one_worker,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_resumed_job_runs_before_new_ones, setup_one_worker, teardown),
        cmocka_unit_test_setup_teardown(a_full_queue_refuses_the_job_and_the_caller_keeps_it, setup_one_worker,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_drain_waits_for_jobs_in_flight_and_refuses_new_ones, setup_one_worker,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_drain_returns_when_the_last_job_finishes, setup_one_worker, teardown),
        cmocka_unit_test_setup_teardown(wait_below_returns_once_a_worker_takes_a_job, setup_one_worker, teardown),
        cmocka_unit_test_setup_teardown(free_drops_queued_jobs_without_running_them, setup_one_worker, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
