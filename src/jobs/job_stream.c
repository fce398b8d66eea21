/* job_stream.c — the thread that moves entries of the kv job stream onto this replica's
 * workers and keeps the claims on what it holds; see job_stream.h. Each entry taken becomes a
 * `struct held` record until it is acknowledged: records are what the refresh, the final
 * hand-back and the acknowledgement walk (from snapshots, so no kv call runs with the lock held). */
#include "jobs/job_stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"

#define READ_BLOCK_MS 100        /* longest wait for new entries; also bounds acknowledgement delay */
#define HOUSEKEEPING_MAX_MS 1000 /* refresh, claim scan and tick at least this often */
#define CONSUMER_MAX 96

struct held {
    struct held *prev, *next; /* in the running list, or (next only) in the finished one */
    char id[KV_ENTRY_ID_MAX];
    char interaction_id[KV_ENTRY_ID_MAX];
    struct kv *source;
};

struct job_stream {
    struct kv *kv;
    struct jobs *jobs;
    struct job_stream_config cfg;
    char consumer[CONSUMER_MAX]; /* this replica's name in the consumer group */
    pthread_mutex_t lock;
    pthread_cond_t changed; /* the drain waits here */
    struct held *running;   /* entries taken whose job has not finished: refreshed, handed back at stop */
    struct held *finished;  /* entries whose job finished: acknowledged next */
    size_t n_held;          /* both */
    bool is_draining, is_stopping, is_local_empty;
    uint64_t taken_over, dropped_expired;
    pthread_t thread;
    bool has_thread;
};

/* ---- records ----
 * Every change is O(1), since thousands of jobs may wait on Discord at once. A record is freed
 * only by the stream thread (or the stop, after it), so snapshots stay valid without the lock. */

static void push_running(struct job_stream *s, struct held *h)
{
    h->prev = NULL;
    h->next = s->running;
    if (s->running)
        s->running->prev = h;
    s->running = h;
}

static void unlink_running(struct job_stream *s, struct held *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        s->running = h->next;
    if (h->next)
        h->next->prev = h->prev;
}

void job_stream_on_finished(struct job_stream *s, struct job *job)
{
    struct held *h = job->stream_ref;
    if (!h)
        return;
    pthread_mutex_lock(&s->lock);
    unlink_running(s, h);
    h->next = s->finished;
    s->finished = h;
    pthread_mutex_unlock(&s->lock);
}

/* A snapshot of the running records, taken under the lock, used without it. */
struct snapshot {
    struct held **items;
    size_t n;
};

static int snapshot_running(struct job_stream *s, struct snapshot *out)
{
    out->n = 0;
    pthread_mutex_lock(&s->lock);
    out->items = s->n_held ? malloc(s->n_held * sizeof *out->items) : NULL;
    for (struct held *h = s->running; h && out->items; h = h->next)
        out->items[out->n++] = h;
    pthread_mutex_unlock(&s->lock);
    return s->n_held && !out->items ? SLIMY_ENOMEM : SLIMY_OK;
}

/* ---- acknowledging, refreshing, handing back ---- */

#define ACK_BATCH_MAX 256 /* entries acknowledged in one call */

/* Puts back records whose acknowledgement failed, for the next round. */
static void requeue_finished(struct job_stream *s, struct held **batch, size_t n)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < n; i++) {
        batch[i]->next = s->finished;
        s->finished = batch[i];
    }
    pthread_mutex_unlock(&s->lock);
}

/* Finished jobs: record the deliveries and remove the entries, a batch per source and call
 * (one round trip for many jobs on Redis). A failure is retried next time. */
static void ack_finished(struct job_stream *s)
{
    pthread_mutex_lock(&s->lock);
    struct held *pending = s->finished;
    s->finished = NULL;
    pthread_mutex_unlock(&s->lock);
    struct held *batch[ACK_BATCH_MAX];
    const char *ids[ACK_BATCH_MAX], *interaction_ids[ACK_BATCH_MAX];
    while (pending) {
        /* Take up to ACK_BATCH_MAX records of the first record's source; others wait a round. */
        struct kv *source = pending->source;
        struct held **link = &pending;
        size_t n = 0;
        while (*link && n < ACK_BATCH_MAX) {
            struct held *h = *link;
            if (h->source != source) {
                link = &h->next;
                continue;
            }
            *link = h->next;
            batch[n] = h;
            ids[n] = h->id;
            interaction_ids[n] = h->interaction_id;
            n++;
        }
        if (kv_job_done_many(source, ids, interaction_ids, n) != SLIMY_OK) {
            requeue_finished(s, batch, n);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        s->n_held -= n;
        pthread_mutex_unlock(&s->lock);
        for (size_t i = 0; i < n; i++)
            free(batch[i]);
    }
}

/* Calls refresh (idle 0) or release (idle idle_ms) for the unfinished records, per source. */
static void touch_unfinished(struct job_stream *s, bool release)
{
    struct snapshot snap;
    if (snapshot_running(s, &snap) || !snap.n) {
        free(snap.items);
        return;
    }
    const char **ids = malloc(snap.n * sizeof *ids);
    bool *is_done = calloc(snap.n, sizeof *is_done);
    for (size_t first = 0; ids && is_done && first < snap.n; first++) {
        if (is_done[first])
            continue;
        struct kv *source = snap.items[first]->source;
        size_t n = 0;
        for (size_t i = first; i < snap.n; i++) {
            if (!is_done[i] && snap.items[i]->source == source) {
                ids[n++] = snap.items[i]->id;
                is_done[i] = true;
            }
        }
        size_t lost = 0;
        int rc = release ? kv_job_release(source, s->consumer, ids, n, s->cfg.claim_idle_ms)
                         : kv_job_refresh(source, s->consumer, ids, n, &lost);
        if (rc)
            log_warn(release ? "could not hand back jobs" : "could not refresh the claim on jobs", LOG_I("jobs", n),
                     LOG_S("status", slimy_strerror(rc)));
        else if (lost)
            log_warn("jobs this replica runs were taken over by another replica (this one stalled)",
                     LOG_I("jobs", lost));
    }
    free(ids);
    free(is_done);
    free(snap.items);
}

/* ---- taking entries ---- */

/* A new record of e, held by this replica. NULL when out of memory. */
static struct held *held_new(struct job_stream *s, const struct kv_entry *e)
{
    struct held *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    snprintf(h->id, sizeof h->id, "%s", e->id);
    snprintf(h->interaction_id, sizeof h->interaction_id, "%s", e->interaction_id);
    h->source = e->source;
    pthread_mutex_lock(&s->lock);
    s->n_held++;
    pthread_mutex_unlock(&s->lock);
    return h;
}

/* e needs no run (expired, already delivered, cannot be run): acknowledge it with the next batch.
 * Out of memory it stays pending, and some replica takes it over later. */
static void finish_unrun(struct job_stream *s, const struct kv_entry *e)
{
    struct held *h = held_new(s, e);
    if (!h)
        return;
    pthread_mutex_lock(&s->lock);
    h->next = s->finished;
    s->finished = h;
    pthread_mutex_unlock(&s->lock);
}

static void take(struct job_stream *s, const struct kv_entry *e)
{
    if (clock_wall_ms() >= e->expires_at_wall_ms) {
        log_warn("job dropped: its interaction token ended before it could run",
                 LOG_S("interaction_id", e->interaction_id), LOG_S("command", e->path),
                 LOG_B("taken_over", e->taken_over));
        pthread_mutex_lock(&s->lock);
        s->dropped_expired++;
        pthread_mutex_unlock(&s->lock);
        metrics_job_dropped(METRICS_DROP_EXPIRED);
        finish_unrun(s, e);
        return;
    }
    if (e->taken_over) {
        bool delivered = false;
        if (kv_job_was_delivered(e->source, e->interaction_id, &delivered) == SLIMY_OK && delivered) {
            log_info("job already delivered by another replica", LOG_S("interaction_id", e->interaction_id));
            finish_unrun(s, e);
            return;
        }
        log_warn("job taken over from a replica that stopped refreshing it", LOG_S("interaction_id", e->interaction_id),
                 LOG_S("command", e->path));
        pthread_mutex_lock(&s->lock);
        s->taken_over++;
        pthread_mutex_unlock(&s->lock);
        metrics_job_retried();
    }
    struct job *job = job_new();
    if (!job) {
        /* Left pending: refreshed by nobody, so some replica takes it over later. */
        log_error("out of memory taking a job", LOG_S("interaction_id", e->interaction_id));
        return;
    }
    int rc = s->cfg.decode(e, job, s->cfg.arg);
    if (rc) {
        log_error("job dropped: its entry cannot be run", LOG_S("interaction_id", e->interaction_id),
                  LOG_S("command", e->path), LOG_S("status", slimy_strerror(rc)));
        metrics_job_dropped(METRICS_DROP_UNDECODABLE);
        job_free(job);
        finish_unrun(s, e);
        return;
    }
    struct held *h = held_new(s, e);
    if (!h) {
        log_error("out of memory taking a job", LOG_S("interaction_id", e->interaction_id));
        job_free(job);
        return;
    }
    pthread_mutex_lock(&s->lock);
    push_running(s, h);
    pthread_mutex_unlock(&s->lock);
    job->stream_ref = h;
    if ((rc = jobs_submit(s->jobs, job))) {
        /* The pool stopped accepting (the drain ended): another replica may run it. */
        log_warn("job handed back: this replica is stopping", LOG_S("interaction_id", e->interaction_id));
        job->stream_ref = NULL;
        job_free(job);
        const char *id = h->id;
        kv_job_release(h->source, s->consumer, &id, 1, s->cfg.claim_idle_ms);
        pthread_mutex_lock(&s->lock);
        unlink_running(s, h);
        s->n_held--;
        pthread_mutex_unlock(&s->lock);
        free(h);
    }
}

static void take_all(struct job_stream *s, struct kv_entries *got)
{
    for (size_t i = 0; i < got->n; i++)
        take(s, &got->items[i]);
    kv_entries_free(got);
}

/* How many more entries to take now: enough to keep every worker busy, within max_held. */
static size_t room(struct job_stream *s)
{
    size_t workers = jobs_workers(s->jobs), queued = jobs_queued(s->jobs);
    size_t n = queued < workers ? workers - queued : 0;
    pthread_mutex_lock(&s->lock);
    size_t left = s->n_held < s->cfg.max_held ? s->cfg.max_held - s->n_held : 0;
    pthread_mutex_unlock(&s->lock);
    return n < left ? n : left;
}

static void housekeeping(struct job_stream *s, bool is_draining)
{
    touch_unfinished(s, false);
    if (!is_draining) {
        struct kv_entries got;
        size_t n = room(s);
        if (n && kv_job_autoclaim(s->kv, s->consumer, s->cfg.claim_idle_ms, n, &got) == SLIMY_OK)
            take_all(s, &got);
    }
    if (s->cfg.tick)
        s->cfg.tick(s->cfg.arg);
}

static void *stream_main(void *arg)
{
    struct job_stream *s = arg;
    uint32_t period_ms = s->cfg.claim_idle_ms / 4 < HOUSEKEEPING_MAX_MS ? s->cfg.claim_idle_ms / 4
                                                                        : HOUSEKEEPING_MAX_MS;
    uint64_t next_housekeeping_ms = clock_mono_ms() + period_ms;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        bool is_stopping = s->is_stopping, is_draining = s->is_draining;
        pthread_mutex_unlock(&s->lock);
        if (is_stopping)
            break;
        ack_finished(s);
        if (clock_mono_ms() >= next_housekeeping_ms) {
            housekeeping(s, is_draining);
            next_housekeeping_ms = clock_mono_ms() + period_ms;
        }
        size_t n = room(s);
        if (!n) {
            jobs_wait_below(s->jobs, jobs_workers(s->jobs), READ_BLOCK_MS);
            continue;
        }
        struct kv_entries got;
        int rc =
            kv_job_read(s->kv, s->consumer, n, READ_BLOCK_MS, is_draining ? KV_READ_PROCESS_ONLY : KV_READ_ALL, &got);
        if (rc) {
            struct timespec pause = {.tv_sec = 0, .tv_nsec = READ_BLOCK_MS * 1000000L};
            nanosleep(&pause, NULL);
            continue;
        }
        if (is_draining) {
            pthread_mutex_lock(&s->lock);
            s->is_local_empty = got.n == 0;
            pthread_cond_broadcast(&s->changed);
            pthread_mutex_unlock(&s->lock);
        }
        take_all(s, &got);
    }
    return NULL;
}

/* ---- lifecycle ---- */

int job_stream_new(struct kv *kv, const struct job_stream_config *cfg, struct job_stream **out)
{
    struct job_stream *s = calloc(1, sizeof *s);
    if (!s)
        return SLIMY_ENOMEM;
    s->kv = kv;
    s->cfg = *cfg;
    char host[64] = "slimy";
    gethostname(host, sizeof host - 1);
    snprintf(s->consumer, sizeof s->consumer, "%s-%ld-%08x", host, (long)getpid(), (unsigned)randombytes_random());
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->changed, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return SLIMY_OK;
}

int job_stream_start(struct job_stream *s, struct jobs *jobs)
{
    s->jobs = jobs;
    if (pthread_create(&s->thread, NULL, stream_main, s) != 0)
        return SLIMY_EUNAVAILABLE;
    s->has_thread = true;
    return SLIMY_OK;
}

bool job_stream_drain(struct job_stream *s, uint64_t deadline_mono_ms)
{
    struct timespec until = {.tv_sec = (time_t)(deadline_mono_ms / 1000),
                             .tv_nsec = (long)(deadline_mono_ms % 1000) * 1000000L};
    pthread_mutex_lock(&s->lock);
    s->is_draining = true;
    s->is_local_empty = false;
    for (;;) {
        /* Finished entries are acknowledged by job_stream_stop() at the latest: waiting for
         * that here would hold the drain for as long as Redis is away. */
        bool is_idle = jobs_queued(s->jobs) + jobs_in_flight(s->jobs) == 0;
        if ((s->is_local_empty && is_idle) || !s->has_thread)
            break;
        /* Wake up now and then: the workers' progress does not signal this condition. */
        uint64_t now = clock_mono_ms(), next = now + 20 < deadline_mono_ms ? now + 20 : deadline_mono_ms;
        struct timespec step = {.tv_sec = (time_t)(next / 1000), .tv_nsec = (long)(next % 1000) * 1000000L};
        if (now >= deadline_mono_ms)
            break;
        pthread_cond_timedwait(&s->changed, &s->lock, next < deadline_mono_ms ? &step : &until);
    }
    bool is_drained = s->is_local_empty && jobs_queued(s->jobs) + jobs_in_flight(s->jobs) == 0;
    pthread_mutex_unlock(&s->lock);
    return is_drained;
}

void job_stream_stop(struct job_stream *s)
{
    if (!s || !s->has_thread)
        return;
    pthread_mutex_lock(&s->lock);
    s->is_stopping = true;
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->has_thread = false;
    ack_finished(s);
    touch_unfinished(s, true);
    pthread_mutex_lock(&s->lock);
    if (s->n_held)
        log_warn("jobs handed back to the other replicas", LOG_I("jobs", s->n_held));
    pthread_mutex_unlock(&s->lock);
}

static void free_list(struct held *h)
{
    while (h) {
        struct held *next = h->next;
        free(h);
        h = next;
    }
}

void job_stream_free(struct job_stream *s)
{
    if (!s)
        return;
    job_stream_stop(s);
    free_list(s->running);
    free_list(s->finished);
    pthread_cond_destroy(&s->changed);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void job_stream_stats(struct job_stream *s, struct job_stream_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = (struct job_stream_stats){.held = s->n_held,
                                     .taken_over = s->taken_over,
                                     .dropped_expired = s->dropped_expired};
    pthread_mutex_unlock(&s->lock);
}
