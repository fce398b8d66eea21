/* kv_local.c — the in-process kv.h backend: one replica's memory. The default without
 * REDIS_URL, and the fallback of kv_failover.c while Redis is down. Cooldowns and the admitted
 * and delivered interaction ids are expiring-key tables (cooldown.c), history is history.c, and
 * the job stream keeps the same pending/claim rules as a Redis consumer group: a FIFO of
 * entries nobody read, and a table of entries read and not done, found by sequence number
 * (thousands may be pending while their replies wait on Discord).
 * One lock makes kv_admit atomic; nothing slower than a hash lookup or a list link runs under
 * it on the request path. The stream waits on a monotonic condition variable. */
#include "kv/kv.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/status.h"
#include "kv/cooldown.h"

#define CONSUMER_MAX 96
#define PENDING_BUCKETS 4096 /* power of two */
#define ID_TABLE_USER ""     /* interaction ids share the cooldown table shape with an empty user */

struct local_entry {
    struct local_entry *next;    /* in the waiting FIFO, or in a pending bucket */
    uint64_t seq;                /* the entry id is "<seq>-0" */
    char consumer[CONSUMER_MAX]; /* the holder once read */
    uint64_t idle_since_mono_ms; /* last read, claim or refresh */
    struct kv_entry e;           /* the entry as handed out (source set); e.body owned */
};

struct kv_local {
    struct kv base;
    pthread_mutex_t lock;   /* admission and the stream */
    pthread_cond_t has_new; /* an entry was added */
    struct cooldowns *cooldowns;
    struct cooldowns *admitted;  /* interaction ids, for dedupe_ttl_ms */
    struct cooldowns *delivered; /* interaction ids finished through kv_job_done */
    struct chat_history *history;
    struct kv_counter counters[KV_COUNTERS_MAX];
    size_t n_counters;
    struct local_entry *waiting, *waiting_tail;   /* never read, oldest first */
    struct local_entry *pending[PENDING_BUCKETS]; /* read and not done, chained by seq */
    size_t n_entries;                             /* waiting and pending */
    uint64_t next_seq;
};

static const struct kv_ops local_ops;

static struct kv_local *local_of(struct kv *kv)
{
    return (struct kv_local *)kv;
}

/* ---- lifecycle ---- */

static void local_close(struct kv *kv)
{
    struct kv_local *l = local_of(kv);
    for (size_t b = 0; b <= PENDING_BUCKETS; b++) {
        struct local_entry **list = b < PENDING_BUCKETS ? &l->pending[b] : &l->waiting;
        while (*list) {
            struct local_entry *next = (*list)->next;
            free((*list)->e.body);
            free(*list);
            *list = next;
        }
    }
    cooldowns_free(l->cooldowns);
    cooldowns_free(l->admitted);
    cooldowns_free(l->delivered);
    chat_history_free(l->history);
    pthread_cond_destroy(&l->has_new);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

int kv_local_new(const struct kv_options *opts, struct kv **out)
{
    struct kv_local *l = calloc(1, sizeof *l);
    if (!l)
        return SLIMY_ENOMEM;
    l->base.ops = &local_ops;
    l->base.opts = *opts;
    pthread_mutex_init(&l->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->has_new, &ca);
    pthread_condattr_destroy(&ca);
    int rc = cooldowns_new(&l->cooldowns);
    if (!rc)
        rc = cooldowns_new(&l->admitted);
    if (!rc)
        rc = cooldowns_new(&l->delivered);
    if (!rc)
        rc = chat_history_new(opts->history_idle_ms, &l->history);
    if (rc) {
        local_close(&l->base);
        return rc;
    }
    *out = &l->base;
    return SLIMY_OK;
}

static int local_ping(struct kv *kv)
{
    (void)kv;
    return SLIMY_OK;
}

static enum kv_state local_state(struct kv *kv)
{
    (void)kv;
    return KV_STATE_LOCAL;
}

/* ---- admission ---- */

/* A new entry for job, made before the lock is taken (it copies the body). */
static struct local_entry *entry_new(struct kv_local *l, const struct kv_job *job)
{
    struct local_entry *le = calloc(1, sizeof *le);
    if (!le || !(le->e.body = malloc(job->body_len + 1))) {
        free(le);
        return NULL;
    }
    memcpy(le->e.body, job->body, job->body_len);
    le->e.body[job->body_len] = '\0';
    le->e.body_len = job->body_len;
    snprintf(le->e.interaction_id, sizeof le->e.interaction_id, "%s", job->interaction_id);
    snprintf(le->e.path, sizeof le->e.path, "%s", job->path);
    le->e.expires_at_wall_ms = job->expires_at_wall_ms;
    le->e.source = &l->base;
    return le;
}

static void entry_free(struct local_entry *le)
{
    if (le)
        free(le->e.body);
    free(le);
}

/* Appends le to the waiting entries. Lock held. */
static void stream_add(struct kv_local *l, struct local_entry *le)
{
    le->seq = ++l->next_seq;
    snprintf(le->e.id, sizeof le->e.id, "%llu-0", (unsigned long long)le->seq);
    if (l->waiting_tail)
        l->waiting_tail->next = le;
    else
        l->waiting = le;
    l->waiting_tail = le;
    l->n_entries++;
    pthread_cond_broadcast(&l->has_new);
}

static int local_admit(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out)
{
    struct kv_local *l = local_of(kv);
    struct local_entry *le = NULL;
    if (req->job && !(le = entry_new(l, req->job)))
        return SLIMY_ENOMEM;
    uint64_t now = clock_mono_ms(), unused = 0;
    int rc = SLIMY_OK;
    pthread_mutex_lock(&l->lock);
    if (cooldown_remaining(l->admitted, ID_TABLE_USER, req->interaction_id, now) > 0) {
        out->verdict = KV_DUPLICATE;
    } else if (req->cooldown_ms &&
               (out->cooldown_remaining_ms = cooldown_remaining(l->cooldowns, req->user_id, req->command_path, now))) {
        out->verdict = KV_COOLING_DOWN;
    } else if (req->job && l->n_entries >= kv->opts.stream_max) {
        out->verdict = KV_QUEUE_FULL;
    } else {
        out->verdict = KV_ADMITTED;
        if (le)
            stream_add(l, le);
        le = NULL;
        rc = cooldown_check(l->admitted, ID_TABLE_USER, req->interaction_id, kv->opts.dedupe_ttl_ms, now, &unused);
        if (!rc && req->cooldown_ms)
            rc = cooldown_check(l->cooldowns, req->user_id, req->command_path, req->cooldown_ms, now, &unused);
    }
    pthread_mutex_unlock(&l->lock);
    entry_free(le); /* not admitted */
    return rc;
}

/* ---- history ---- */

static int local_history_get(struct kv *kv, const char *key, struct chat_turns *out)
{
    return chat_history_get(local_of(kv)->history, key, clock_mono_ms(), out);
}

static int local_history_append(struct kv *kv, const char *key, const struct chat_turn *turns, size_t n)
{
    uint64_t now = clock_mono_ms();
    for (size_t i = 0; i < n; i++) {
        int rc = chat_history_append(local_of(kv)->history, key, turns[i].role, turns[i].text, now);
        if (rc)
            return rc;
    }
    return SLIMY_OK;
}

static int local_history_reset(struct kv *kv, const char *key)
{
    chat_history_reset(local_of(kv)->history, key);
    return SLIMY_OK;
}

/* ---- counters ---- */

static int local_counters_add(struct kv *kv, const struct kv_counter *deltas, size_t n)
{
    struct kv_local *l = local_of(kv);
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < n; i++) {
        struct kv_counter *c = NULL;
        for (size_t j = 0; j < l->n_counters && !c; j++)
            if (strcmp(l->counters[j].path, deltas[i].path) == 0)
                c = &l->counters[j];
        if (!c && l->n_counters < KV_COUNTERS_MAX) {
            c = &l->counters[l->n_counters++];
            snprintf(c->path, sizeof c->path, "%s", deltas[i].path);
        }
        if (c) {
            c->count += deltas[i].count;
            c->failures += deltas[i].failures;
            c->total_ms += deltas[i].total_ms;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return SLIMY_OK;
}

static int local_counters_read(struct kv *kv, struct kv_counters *out)
{
    struct kv_local *l = local_of(kv);
    int rc = SLIMY_OK;
    pthread_mutex_lock(&l->lock);
    if (l->n_counters) {
        out->items = malloc(l->n_counters * sizeof *out->items);
        if (out->items) {
            memcpy(out->items, l->counters, l->n_counters * sizeof *out->items);
            out->n = l->n_counters;
        } else {
            rc = SLIMY_ENOMEM;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return rc;
}

/* ---- the job stream ---- */

/* Appends a copy of le's entry to out (room for it already made). Lock held. */
static int copy_out(const struct local_entry *le, bool taken_over, struct kv_entries *out)
{
    struct kv_entry *dst = &out->items[out->n];
    *dst = le->e;
    dst->taken_over = taken_over;
    if (!(dst->body = malloc(le->e.body_len + 1)))
        return SLIMY_ENOMEM;
    memcpy(dst->body, le->e.body, le->e.body_len + 1);
    out->n++;
    return SLIMY_OK;
}

/* Makes le pending under consumer and copies it to out (room made by the caller). Lock held. */
static int give(struct local_entry *le, const char *consumer, uint64_t now, bool taken_over, struct kv_entries *out)
{
    le->idle_since_mono_ms = now;
    snprintf(le->consumer, sizeof le->consumer, "%s", consumer);
    return copy_out(le, taken_over, out);
}

/* Reads up to max waiting entries, oldest first, for consumer. Lock held. */
static int read_waiting(struct kv_local *l, const char *consumer, size_t max, struct kv_entries *out)
{
    uint64_t now = clock_mono_ms();
    while (l->waiting && out->n < max) {
        if (!out->items && !(out->items = calloc(max, sizeof *out->items)))
            return SLIMY_ENOMEM;
        struct local_entry *le = l->waiting;
        l->waiting = le->next;
        if (!l->waiting)
            l->waiting_tail = NULL;
        struct local_entry **bucket = &l->pending[le->seq & (PENDING_BUCKETS - 1)];
        le->next = *bucket;
        *bucket = le;
        int rc = give(le, consumer, now, false, out);
        if (rc)
            return rc;
    }
    return SLIMY_OK;
}

static int local_job_read(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                          struct kv_entries *out)
{
    (void)from; /* everything here is in this process */
    struct kv_local *l = local_of(kv);
    uint64_t until_ms = clock_mono_ms() + block_ms;
    struct timespec until = {.tv_sec = (time_t)(until_ms / 1000), .tv_nsec = (long)(until_ms % 1000) * 1000000L};
    int rc;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        rc = read_waiting(l, consumer, max, out);
        if (rc || out->n || pthread_cond_timedwait(&l->has_new, &l->lock, &until) == ETIMEDOUT)
            break;
    }
    if (!rc && !out->n)
        rc = read_waiting(l, consumer, max, out);
    pthread_mutex_unlock(&l->lock);
    if (rc)
        kv_entries_free(out);
    return rc;
}

static int local_job_autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max,
                               struct kv_entries *out)
{
    struct kv_local *l = local_of(kv);
    uint64_t now = clock_mono_ms();
    int rc = SLIMY_OK;
    pthread_mutex_lock(&l->lock);
    for (size_t b = 0; b < PENDING_BUCKETS && out->n < max && !rc; b++) {
        for (struct local_entry *le = l->pending[b]; le && out->n < max && !rc; le = le->next) {
            if (now - le->idle_since_mono_ms < min_idle_ms)
                continue;
            if (!out->items && !(out->items = calloc(max, sizeof *out->items)))
                rc = SLIMY_ENOMEM;
            else
                rc = give(le, consumer, now, true, out);
        }
    }
    pthread_mutex_unlock(&l->lock);
    if (rc)
        kv_entries_free(out);
    return rc;
}

/* The pending entry id and the link that points at it, or NULL. Lock held. */
static struct local_entry *find_pending(struct kv_local *l, const char *id, struct local_entry ***link)
{
    char *end;
    uint64_t seq = strtoull(id, &end, 10);
    if (strcmp(end, "-0") != 0)
        return NULL; /* not an id of ours */
    for (struct local_entry **at = &l->pending[seq & (PENDING_BUCKETS - 1)]; *at; at = &(*at)->next) {
        if ((*at)->seq == seq) {
            if (link)
                *link = at;
            return *at;
        }
    }
    return NULL;
}

static int local_job_refresh(struct kv *kv, const char *consumer, const char *const *ids, size_t n, uint32_t idle_ms,
                             size_t *n_lost)
{
    struct kv_local *l = local_of(kv);
    uint64_t now = clock_mono_ms();
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < n; i++) {
        struct local_entry *le = find_pending(l, ids[i], NULL);
        if (le && strcmp(le->consumer, consumer) == 0)
            le->idle_since_mono_ms = now >= idle_ms ? now - idle_ms : 0;
        else
            (*n_lost)++;
    }
    pthread_mutex_unlock(&l->lock);
    return SLIMY_OK;
}

static int local_job_done(struct kv *kv, const char *const *ids, const char *const *interaction_ids, size_t n)
{
    struct kv_local *l = local_of(kv);
    uint64_t unused = 0, now = clock_mono_ms();
    int rc = SLIMY_OK;
    struct local_entry *done = NULL; /* freed after the lock is released */
    pthread_mutex_lock(&l->lock);
    for (size_t i = 0; i < n; i++) {
        int rc_one =
            cooldown_check(l->delivered, ID_TABLE_USER, interaction_ids[i], kv->opts.dedupe_ttl_ms, now, &unused);
        if (rc_one && rc_one != SLIMY_ELIMITED) /* ELIMITED: already recorded */
            rc = rc_one;
        struct local_entry **link = NULL, *le = find_pending(l, ids[i], &link);
        if (le) {
            *link = le->next;
            l->n_entries--;
            le->next = done;
            done = le;
        }
    }
    pthread_mutex_unlock(&l->lock);
    while (done) {
        struct local_entry *next = done->next;
        entry_free(done);
        done = next;
    }
    return rc;
}

static int local_job_was_delivered(struct kv *kv, const char *interaction_id, bool *out)
{
    *out = cooldown_remaining(local_of(kv)->delivered, ID_TABLE_USER, interaction_id, clock_mono_ms()) > 0;
    return SLIMY_OK;
}

static const struct kv_ops local_ops = {
    .name = "local",
    .close = local_close,
    .ping = local_ping,
    .state = local_state,
    .admit = local_admit,
    .history_get = local_history_get,
    .history_append = local_history_append,
    .history_reset = local_history_reset,
    .counters_add = local_counters_add,
    .counters_read = local_counters_read,
    .job_read = local_job_read,
    .job_autoclaim = local_job_autoclaim,
    .job_refresh = local_job_refresh,
    .job_done = local_job_done,
    .job_was_delivered = local_job_was_delivered,
};
