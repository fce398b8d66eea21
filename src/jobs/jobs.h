/* jobs.h — this replica's worker pool and its run queue. Jobs reach it from the job stream
 * (job_stream.h), which reads what the request path queued in kv.h (in memory, or the Redis
 * Stream shared by every replica); a worker runs the command's handler off the request path.
 * A job stays "in flight" after its handler returns, until its reply has been delivered (or
 * dropped) and jobs_finish() is called, so a drain waits for replies still on their way to
 * Discord, and the stream acknowledges an entry only once its reply is out.
 * Thread-safe. */
#ifndef SLIMY_JOBS_JOBS_H
#define SLIMY_JOBS_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jobs;

struct job {
    void *payload;                       /* what the runner runs (the dispatcher's parsed request); owned */
    void (*payload_free)(void *payload); /* frees payload with the job; NULL = nothing to free */
    uint64_t expires_at_wall_ms;         /* interaction token end: signed timestamp + 15 min */
    uint64_t enqueued_at_mono_ms;        /* for queue-wait metrics */
    struct jobs *owner;                  /* the queue it was submitted to (set by jobs_submit) */
    void *run_state;                     /* the runner's state while the job waits on async work */
    bool resumed;                        /* queued again by jobs_resume(): already counted in flight */
    void *stream_ref;                    /* the job stream's record of the entry (job_stream.c) */
    struct job *next;                    /* queue link, owned by jobs.c */
};

/* Runs one job on a worker thread. It must end with jobs_finish(jobs, job), now or later
 * from any thread (after the reply is delivered). */
typedef void (*jobs_run_fn)(struct jobs *jobs, struct job *job, void *arg);

/* Called by jobs_finish() just before a job is freed (any thread). */
typedef void (*jobs_finished_fn)(struct job *job, void *arg);

/* Starts n_workers threads. max_queued bounds jobs waiting for a worker. finished may be NULL. */
int jobs_new(unsigned n_workers, unsigned max_queued, jobs_run_fn run, jobs_finished_fn finished, void *arg,
             struct jobs **out);

/* Waits until fewer than n jobs wait for a worker, or timeout_ms passed. */
void jobs_wait_below(struct jobs *jobs, size_t n, uint32_t timeout_ms);
unsigned jobs_workers(struct jobs *jobs);

/* Queues job (ownership passes on SLIMY_OK). SLIMY_ELIMITED when the queue is full,
 * SLIMY_EUNAVAILABLE once draining: the caller keeps the job and answers the user. */
int jobs_submit(struct jobs *jobs, struct job *job);

/* Queues an in-flight job again so a worker runs it once more (the next step of a command that
 * waited on the network). Never refused, even while draining: the job is already accepted.
 * Thread-safe; callable from the outbound engine's thread. */
void jobs_resume(struct jobs *jobs, struct job *job);

/* Marks job done and frees it (payload included). Thread-safe. */
void jobs_finish(struct jobs *jobs, struct job *job);

/* Allocates a zeroed job; free with jobs_finish() once submitted, job_free() otherwise. */
struct job *job_new(void);
void job_free(struct job *job);

/* Jobs waiting for a worker, and jobs started but not finished. */
size_t jobs_queued(struct jobs *jobs);
size_t jobs_in_flight(struct jobs *jobs);

/* Stops accepting jobs and waits until none is queued or in flight, or until the monotonic
 * deadline. Returns true when everything finished. */
bool jobs_drain(struct jobs *jobs, uint64_t deadline_mono_ms);

/* Stops the workers (after a drain) and frees the queue. Jobs still queued are freed unrun. */
void jobs_free(struct jobs *jobs);

#endif
