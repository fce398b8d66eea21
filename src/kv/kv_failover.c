/* kv_failover.c — the kv.h backend `slimy serve` uses when REDIS_URL is set: Redis while it
 * answers, this process's memory while it does not. A call that finds Redis unreachable marks
 * it down and is answered from memory (local cooldowns, local history, a local queue), so
 * Discord never sees an error because of Redis. One failed call falls back for itself only: a
 * server short of CPU can miss a 250 ms timeout now and then, and switching every replica's
 * state on each miss would make sharing flap. FAILURES_TO_SWITCH in a row switch. A monitor
 * thread probes Redis with a backoff
 * while it is down and switches back as soon as it answers; scripts and the consumer group are
 * recreated on first use if Redis came back empty. One log line per change of state. */
#include "kv/kv_backend.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"

#define PROBE_UP_MS 1000        /* while up: notices a silent Redis even when no request comes */
#define PROBE_DOWN_FIRST_MS 250 /* while down: first retry, doubling up to PROBE_DOWN_MAX_MS */
#define PROBE_DOWN_MAX_MS 2000
#define FAILURES_TO_SWITCH 3 /* consecutive failed calls that mean Redis is down */

struct kv_failover {
    struct kv base;
    struct kv *redis, *local;
    char where[160]; /* "host:port/db" for log lines; never the password */
    atomic_bool is_up;
    atomic_uint failures; /* consecutive failed calls while up */
    pthread_mutex_t lock;
    pthread_cond_t wake; /* a caller saw Redis fail, or close */
    bool stopping;
    pthread_t monitor;
    bool has_monitor;
};

static const struct kv_ops failover_ops;

static struct kv_failover *failover_of(struct kv *kv)
{
    return (struct kv_failover *)kv;
}

/* ---- state changes ---- */

static void mark_down(struct kv_failover *f)
{
    if (!atomic_exchange(&f->is_up, false))
        return;
    log_warn("Redis unreachable: serving from this replica's memory (local cooldowns, history and queue) "
             "until it returns",
             LOG_S("redis", f->where));
    pthread_mutex_lock(&f->lock);
    pthread_cond_signal(&f->wake);
    pthread_mutex_unlock(&f->lock);
}

/* A call to Redis failed: the caller falls back for this call; enough in a row switch. */
static void note_failure(struct kv_failover *f)
{
    metrics_redis_error();
    if (atomic_fetch_add(&f->failures, 1) + 1 >= FAILURES_TO_SWITCH)
        mark_down(f);
}

static void note_success(struct kv_failover *f)
{
    if (atomic_load_explicit(&f->failures, memory_order_relaxed)) /* no write on the common path */
        atomic_store(&f->failures, 0);
}

static void mark_up(struct kv_failover *f)
{
    atomic_store(&f->failures, 0);
    if (!atomic_exchange(&f->is_up, true))
        log_info("Redis reachable: cooldowns, history and jobs are shared again", LOG_S("redis", f->where));
}

/* The backend for a call now: Redis while it is up. */
static struct kv *pick(struct kv_failover *f)
{
    return atomic_load(&f->is_up) ? f->redis : f->local;
}

/* Sends a call to Redis while it is up and to memory when it is not or just failed. */
#define ROUTE(f, call_expr_with_backend)    \
    do {                                    \
        struct kv *backend_ = pick(f);      \
        int rc_ = (call_expr_with_backend); \
        if (backend_ == (f)->local)         \
            return rc_;                     \
        if (rc_ != SLIMY_EUNAVAILABLE) {    \
            note_success(f);                \
            return rc_;                     \
        }                                   \
        note_failure(f);                    \
        backend_ = (f)->local;              \
        return (call_expr_with_backend);    \
    } while (0)

static void *monitor_main(void *arg)
{
    struct kv_failover *f = arg;
    uint64_t backoff_ms = PROBE_DOWN_FIRST_MS;
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        bool up = atomic_load(&f->is_up);
        uint64_t wait_ms = up ? PROBE_UP_MS : backoff_ms;
        uint64_t until_ms = clock_mono_ms() + wait_ms;
        struct timespec until = {.tv_sec = (time_t)(until_ms / 1000), .tv_nsec = (long)(until_ms % 1000) * 1000000L};
        pthread_cond_timedwait(&f->wake, &f->lock, &until);
        if (f->stopping)
            break;
        pthread_mutex_unlock(&f->lock);
        up = atomic_load(&f->is_up); /* a caller may have switched meanwhile */
        int rc = kv_ping(f->redis);
        if (rc == SLIMY_OK) {
            if (up)
                note_success(f);
            else
                mark_up(f);
            backoff_ms = PROBE_DOWN_FIRST_MS;
        } else {
            if (up)
                note_failure(f);
            else
                backoff_ms = backoff_ms * 2 < PROBE_DOWN_MAX_MS ? backoff_ms * 2 : PROBE_DOWN_MAX_MS;
        }
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---- lifecycle ---- */

static void failover_close(struct kv *kv)
{
    struct kv_failover *f = failover_of(kv);
    if (f->has_monitor) {
        pthread_mutex_lock(&f->lock);
        f->stopping = true;
        pthread_cond_signal(&f->wake);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->monitor, NULL);
    }
    kv_close(f->redis);
    kv_close(f->local);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

int kv_failover_new(struct kv *redis, struct kv *local, const char *where, struct kv **out)
{
    struct kv_failover *f = calloc(1, sizeof *f);
    if (!f) {
        kv_close(redis);
        kv_close(local);
        return SLIMY_ENOMEM;
    }
    f->base.ops = &failover_ops;
    f->base.opts = local->opts;
    f->redis = redis;
    f->local = local;
    snprintf(f->where, sizeof f->where, "%s", where);
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (kv_ping(redis) == SLIMY_OK) {
        atomic_store(&f->is_up, true);
        log_info("Redis connected: cooldowns, history and jobs are shared with the other replicas",
                 LOG_S("redis", f->where));
    } else {
        log_warn("Redis unreachable at start: serving from this replica's memory until it answers",
                 LOG_S("redis", f->where));
    }
    if (pthread_create(&f->monitor, NULL, monitor_main, f) != 0) {
        failover_close(&f->base);
        return SLIMY_EUNAVAILABLE;
    }
    f->has_monitor = true;
    *out = &f->base;
    return SLIMY_OK;
}

static int failover_ping(struct kv *kv)
{
    return kv_ping(failover_of(kv)->redis);
}

static enum kv_state failover_state(struct kv *kv)
{
    return atomic_load(&failover_of(kv)->is_up) ? KV_STATE_SHARED : KV_STATE_FALLBACK;
}

/* ---- routed calls ---- */

static int failover_admit(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out)
{
    ROUTE(failover_of(kv), backend_->ops->admit(backend_, req, out));
}

/* An admission on its way to Redis; answered from memory if Redis does not answer. */
struct failover_call {
    struct kv_failover *f;
    const struct kv_admission *req;
    kv_admit_fn done;
    void *arg;
};

static void admit_locally(struct kv_failover *f, const struct kv_admission *req, kv_admit_fn done, void *arg)
{
    struct kv_admit_result result = {0};
    int rc = f->local->ops->admit(f->local, req, &result);
    done(rc, rc ? NULL : &result, arg);
}

static void failover_admitted(int status, const struct kv_admit_result *result, void *arg)
{
    struct failover_call *c = arg;
    if (status == SLIMY_EUNAVAILABLE) {
        note_failure(c->f);
        admit_locally(c->f, c->req, c->done, c->arg);
    } else {
        note_success(c->f);
        c->done(status, result, c->arg);
    }
    free(c);
}

static void failover_admit_async(struct kv *kv, const struct kv_admission *req, kv_admit_fn done, void *arg)
{
    struct kv_failover *f = failover_of(kv);
    struct failover_call *c = atomic_load(&f->is_up) ? malloc(sizeof *c) : NULL;
    if (!c) {
        admit_locally(f, req, done, arg);
        return;
    }
    *c = (struct failover_call){.f = f, .req = req, .done = done, .arg = arg};
    f->redis->ops->admit_async(f->redis, req, failover_admitted, c);
}

static int failover_history_get(struct kv *kv, const char *key, struct chat_turns *out)
{
    ROUTE(failover_of(kv), backend_->ops->history_get(backend_, key, out));
}

static int failover_history_append(struct kv *kv, const char *key, const struct chat_turn *turns, size_t n)
{
    ROUTE(failover_of(kv), backend_->ops->history_append(backend_, key, turns, n));
}

/* Both: what was said while Redis was down must not come back after a reset either. */
static int failover_history_reset(struct kv *kv, const char *key)
{
    struct kv_failover *f = failover_of(kv);
    f->local->ops->history_reset(f->local, key);
    ROUTE(f, backend_->ops->history_reset(backend_, key));
}

/* Counters are only ever added to Redis: while it is down the caller keeps its deltas and
 * adds them later, so the cluster totals lose nothing. */
static int failover_counters_add(struct kv *kv, const struct kv_counter *deltas, size_t n)
{
    struct kv_failover *f = failover_of(kv);
    if (!atomic_load(&f->is_up))
        return SLIMY_EUNAVAILABLE;
    int rc = f->redis->ops->counters_add(f->redis, deltas, n);
    if (rc == SLIMY_EUNAVAILABLE)
        note_failure(f);
    else
        note_success(f);
    return rc;
}

static int failover_counters_read(struct kv *kv, struct kv_counters *out)
{
    struct kv_failover *f = failover_of(kv);
    if (!atomic_load(&f->is_up))
        return SLIMY_EUNAVAILABLE;
    int rc = f->redis->ops->counters_read(f->redis, out);
    if (rc == SLIMY_EUNAVAILABLE)
        note_failure(f);
    else
        note_success(f);
    return rc;
}

/* Jobs accepted in memory (while Redis was down) first, without waiting; then Redis. */
static int failover_job_read(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                             struct kv_entries *out)
{
    struct kv_failover *f = failover_of(kv);
    int rc = f->local->ops->job_read(f->local, consumer, max, 0, from, out);
    if (rc || out->n)
        return rc;
    if (from == KV_READ_ALL && atomic_load(&f->is_up)) {
        rc = f->redis->ops->job_read(f->redis, consumer, max, block_ms, from, out);
        if (rc != SLIMY_EUNAVAILABLE) {
            note_success(f);
            return rc;
        }
        note_failure(f);
    }
    return f->local->ops->job_read(f->local, consumer, max, block_ms, from, out);
}

static int failover_job_autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max,
                                  struct kv_entries *out)
{
    struct kv_failover *f = failover_of(kv);
    if (atomic_load(&f->is_up)) {
        int rc = f->redis->ops->job_autoclaim(f->redis, consumer, min_idle_ms, max, out);
        if (rc != SLIMY_EUNAVAILABLE) {
            note_success(f);
            return rc;
        }
        note_failure(f);
    }
    return f->local->ops->job_autoclaim(f->local, consumer, min_idle_ms, max, out);
}

/* Entries carry their source backend, and kv.h sends these calls there; a caller that passes
 * the failover itself gets the backend in use now. */
static int failover_job_refresh(struct kv *kv, const char *consumer, const char *const *ids, size_t n, uint32_t idle_ms,
                                size_t *n_lost)
{
    struct kv *backend = pick(failover_of(kv));
    return backend->ops->job_refresh(backend, consumer, ids, n, idle_ms, n_lost);
}

static int failover_job_done(struct kv *kv, const char *const *ids, const char *const *interaction_ids, size_t n)
{
    struct kv *backend = pick(failover_of(kv));
    return backend->ops->job_done(backend, ids, interaction_ids, n);
}

static int failover_job_was_delivered(struct kv *kv, const char *interaction_id, bool *out)
{
    ROUTE(failover_of(kv), backend_->ops->job_was_delivered(backend_, interaction_id, out));
}

static const struct kv_ops failover_ops = {
    .name = "failover",
    .close = failover_close,
    .ping = failover_ping,
    .state = failover_state,
    .admit = failover_admit,
    .admit_async = failover_admit_async,
    .history_get = failover_history_get,
    .history_append = failover_history_append,
    .history_reset = failover_history_reset,
    .counters_add = failover_counters_add,
    .counters_read = failover_counters_read,
    .job_read = failover_job_read,
    .job_autoclaim = failover_job_autoclaim,
    .job_refresh = failover_job_refresh,
    .job_done = failover_job_done,
    .job_was_delivered = failover_job_was_delivered,
};
