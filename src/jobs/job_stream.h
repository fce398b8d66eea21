/* job_stream.h — the feeder between the kv job stream and this replica's workers.
 * One thread reads new entries (as many as the workers can take soon), turns each into a job
 * with the caller's decode function, and submits it to the worker pool (jobs.h). It keeps
 * claimed what this replica holds (refreshing it every claim_idle_ms / 4), takes over entries
 * another replica left idle for claim_idle_ms (it died), drops entries past their 15-minute
 * deadline with a log line, and acknowledges an entry (kv_job_done) once its job finished,
 * retrying while the backend is away. With the in-process kv the same loop runs over memory.
 * Thread-safe. */
#ifndef SLIMY_JOBS_JOB_STREAM_H
#define SLIMY_JOBS_JOB_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jobs/jobs.h"
#include "kv/kv.h"

struct job_stream;

/* Fills job (zeroed) from entry: parse the body, find the command. SLIMY_OK, or a status and
 * the entry is dropped with a log line. Runs on the stream thread. */
typedef int (*job_stream_decode_fn)(const struct kv_entry *entry, struct job *job, void *arg);
/* Called about once a second on the stream thread (e.g. to flush counters). */
typedef void (*job_stream_tick_fn)(void *arg);

struct job_stream_config {
    uint32_t claim_idle_ms; /* JOB_CLAIM_IDLE_MS */
    size_t max_held;        /* entries this replica holds at most (running or waiting for a worker) */
    job_stream_decode_fn decode;
    job_stream_tick_fn tick; /* may be NULL */
    void *arg;               /* for decode and tick */
};

/* Statistics for /diag. */
struct job_stream_stats {
    size_t held;              /* entries held now */
    uint64_t taken_over;      /* entries taken over from a replica that stopped refreshing them */
    uint64_t dropped_expired; /* entries dropped because their token had ended */
};

/* Creates the stream over kv (borrowed; it must outlive the stream); job_stream_start() starts
 * its thread feeding jobs (borrowed too). The worker pool's finished hook must call
 * job_stream_on_finished(), so create the stream, then the pool, then start. */
int job_stream_new(struct kv *kv, const struct job_stream_config *cfg, struct job_stream **out);
int job_stream_start(struct job_stream *s, struct jobs *jobs);
/* Records that job (one this stream submitted) finished; its entry is acknowledged soon after.
 * Any thread. */
void job_stream_on_finished(struct job_stream *s, struct job *job);

/* Draining: stops reading shared entries (other replicas take them) but still reads those kept
 * in this process's memory, and waits until none is left and the workers are idle, or until
 * the monotonic deadline. Returns true when everything finished. */
bool job_stream_drain(struct job_stream *s, uint64_t deadline_mono_ms);

/* Stops the thread: acknowledges finished entries and hands back those still held, so another
 * replica can take them over at once. Call before jobs_free(), and job_stream_free() after it. */
void job_stream_stop(struct job_stream *s);
void job_stream_free(struct job_stream *s);

void job_stream_stats(struct job_stream *s, struct job_stream_stats *out);

#endif
