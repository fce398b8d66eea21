/* jobs.c — in-process job queue: a locked FIFO, a condition for workers and one for the drain. */
#include "jobs/jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/status.h"

struct jobs {
    pthread_mutex_t lock;
    pthread_cond_t has_work; /* workers wait here */
    pthread_cond_t idle;     /* the drain waits here */
    pthread_cond_t has_room; /* the job stream waits here for workers to take jobs */
    struct job *head, *tail;
    size_t n_queued, n_in_flight, max_queued;
    bool accepting, stopping;
    jobs_run_fn run;
    jobs_finished_fn finished;
    void *run_arg;
    pthread_t *workers;
    unsigned n_workers;
};

struct job *job_new(void)
{
    return calloc(1, sizeof(struct job));
}

void job_free(struct job *job)
{
    if (!job)
        return;
    if (job->payload_free)
        job->payload_free(job->payload);
    free(job);
}

static void *worker_main(void *arg)
{
    struct jobs *jobs = arg;
    pthread_mutex_lock(&jobs->lock);
    for (;;) {
        while (!jobs->head && !jobs->stopping)
            pthread_cond_wait(&jobs->has_work, &jobs->lock);
        if (jobs->stopping)
            break;
        struct job *job = jobs->head;
        jobs->head = job->next;
        if (!jobs->head)
            jobs->tail = NULL;
        job->next = NULL;
        jobs->n_queued--;
        pthread_cond_signal(&jobs->has_room);
        if (!job->resumed)
            jobs->n_in_flight++;
        job->resumed = false;
        pthread_mutex_unlock(&jobs->lock);
        jobs->run(jobs, job, jobs->run_arg);
        pthread_mutex_lock(&jobs->lock);
    }
    pthread_mutex_unlock(&jobs->lock);
    return NULL;
}

int jobs_new(unsigned n_workers, unsigned max_queued, jobs_run_fn run, jobs_finished_fn finished, void *arg,
             struct jobs **out)
{
    struct jobs *jobs = calloc(1, sizeof *jobs);
    if (!jobs)
        return SLIMY_ENOMEM;
    jobs->workers = calloc(n_workers, sizeof *jobs->workers);
    if (!jobs->workers) {
        free(jobs);
        return SLIMY_ENOMEM;
    }
    pthread_mutex_init(&jobs->lock, NULL);
    pthread_cond_init(&jobs->has_work, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&jobs->idle, &ca);
    pthread_cond_init(&jobs->has_room, &ca);
    pthread_condattr_destroy(&ca);
    jobs->max_queued = max_queued;
    jobs->accepting = true;
    jobs->run = run;
    jobs->finished = finished;
    jobs->run_arg = arg;
    for (unsigned i = 0; i < n_workers; i++) {
        if (pthread_create(&jobs->workers[i], NULL, worker_main, jobs) != 0)
            break;
        jobs->n_workers++;
    }
    if (jobs->n_workers == 0) {
        jobs_free(jobs);
        return SLIMY_EUNAVAILABLE;
    }
    *out = jobs;
    return SLIMY_OK;
}

int jobs_submit(struct jobs *jobs, struct job *job)
{
    pthread_mutex_lock(&jobs->lock);
    int rc = SLIMY_OK;
    if (!jobs->accepting) {
        rc = SLIMY_EUNAVAILABLE;
    } else if (jobs->n_queued >= jobs->max_queued) {
        rc = SLIMY_ELIMITED;
    } else {
        job->next = NULL;
        job->owner = jobs;
        job->enqueued_at_mono_ms = clock_mono_ms();
        if (jobs->tail)
            jobs->tail->next = job;
        else
            jobs->head = job;
        jobs->tail = job;
        jobs->n_queued++;
        pthread_cond_signal(&jobs->has_work);
    }
    pthread_mutex_unlock(&jobs->lock);
    return rc;
}

void jobs_resume(struct jobs *jobs, struct job *job)
{
    pthread_mutex_lock(&jobs->lock);
    job->resumed = true;
    /* At the head: finishing accepted work comes before starting new work. */
    job->next = jobs->head;
    jobs->head = job;
    if (!jobs->tail)
        jobs->tail = job;
    jobs->n_queued++;
    pthread_cond_signal(&jobs->has_work);
    pthread_mutex_unlock(&jobs->lock);
}

void jobs_finish(struct jobs *jobs, struct job *job)
{
    if (jobs->finished)
        jobs->finished(job, jobs->run_arg);
    job_free(job);
    pthread_mutex_lock(&jobs->lock);
    jobs->n_in_flight--;
    if (jobs->n_in_flight == 0 && jobs->n_queued == 0)
        pthread_cond_broadcast(&jobs->idle);
    pthread_mutex_unlock(&jobs->lock);
}

void jobs_wait_below(struct jobs *jobs, size_t n, uint32_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&jobs->lock);
    while (jobs->n_queued >= n && !jobs->stopping)
        if (pthread_cond_timedwait(&jobs->has_room, &jobs->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&jobs->lock);
}

unsigned jobs_workers(struct jobs *jobs)
{
    return jobs->n_workers;
}

size_t jobs_queued(struct jobs *jobs)
{
    pthread_mutex_lock(&jobs->lock);
    size_t n = jobs->n_queued;
    pthread_mutex_unlock(&jobs->lock);
    return n;
}

size_t jobs_in_flight(struct jobs *jobs)
{
    pthread_mutex_lock(&jobs->lock);
    size_t n = jobs->n_in_flight;
    pthread_mutex_unlock(&jobs->lock);
    return n;
}

bool jobs_drain(struct jobs *jobs, uint64_t deadline_mono_ms)
{
    struct timespec until = {.tv_sec = (time_t)(deadline_mono_ms / 1000),
                             .tv_nsec = (long)(deadline_mono_ms % 1000) * 1000000L};
    pthread_mutex_lock(&jobs->lock);
    jobs->accepting = false;
    while (jobs->n_queued + jobs->n_in_flight > 0) {
        if (pthread_cond_timedwait(&jobs->idle, &jobs->lock, &until) == ETIMEDOUT)
            break;
    }
    bool drained = jobs->n_queued + jobs->n_in_flight == 0;
    pthread_mutex_unlock(&jobs->lock);
    return drained;
}

void jobs_free(struct jobs *jobs)
{
    if (!jobs)
        return;
    pthread_mutex_lock(&jobs->lock);
    jobs->accepting = false;
    jobs->stopping = true;
    pthread_cond_broadcast(&jobs->has_work);
    pthread_mutex_unlock(&jobs->lock);
    for (unsigned i = 0; i < jobs->n_workers; i++)
        pthread_join(jobs->workers[i], NULL);
    struct job *job = jobs->head;
    while (job) {
        struct job *next = job->next;
        job_free(job);
        job = next;
    }
    pthread_cond_destroy(&jobs->has_work);
    pthread_cond_destroy(&jobs->idle);
    pthread_cond_destroy(&jobs->has_room);
    pthread_mutex_destroy(&jobs->lock);
    free(jobs->workers);
    free(jobs);
}
