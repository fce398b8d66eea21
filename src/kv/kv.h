/* kv.h — the state replicas share: cooldowns, interaction dedupe claims, /chat history,
 * per-command counters and the stream of deferred jobs.
 *
 * One interface, several backends (the store.h pattern: a table of function pointers, each
 * backend embedding struct kv first):
 *   - in-process (kv_local.c): the default when REDIS_URL is unset; one replica's memory;
 *   - Redis (kv_redis.c, hiredis): shared by every replica pointing at the same REDIS_URL and
 *     REDIS_KEY_PREFIX; Lua scripts make each multi-step call atomic and one round trip;
 *   - failover (kv_failover.c): what `slimy serve` uses when REDIS_URL is set. It sends every
 *     call to Redis while Redis answers, to the in-process backend while it does not, logs one
 *     warning per change of state, and goes back to Redis by itself when it returns.
 *
 * Threading: every call is safe from any thread. Calls on the Redis backend block for at most
 * KV_REDIS_TIMEOUT_MS per round trip (far below Discord's 3 s), so kv_admit() may run on the
 * HTTP request path: it is the one round trip an application command makes.
 * Errors: SLIMY_EUNAVAILABLE when the backend cannot be reached (Redis down, a timeout),
 * SLIMY_EINVAL for input past a documented cap, SLIMY_ENOMEM, SLIMY_EINTERNAL for a reply that
 * makes no sense. Strings passed in are borrowed for the call; results are owned copies freed
 * with the matching *_free() or *_cleanup().
 * Time: each backend uses its own clock (Redis its server's), so expiry is in durations only. */
#ifndef SLIMY_KV_KV_H
#define SLIMY_KV_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/history.h"

#define KV_REDIS_TIMEOUT_MS 250 /* connect and command timeout */
#define KV_PATH_MAX 64          /* "snail sheet": a command path, NUL included */
#define KV_ENTRY_ID_MAX 48      /* a stream entry id ("1733212800000-0"), NUL included */
#define KV_COUNTERS_MAX 64      /* distinct command paths kept by the counters */

struct kv;
struct slimy_config;

/* Tuning shared by every backend; kv_options_default() gives the production values. */
struct kv_options {
    uint32_t dedupe_ttl_ms;   /* how long an accepted interaction id is remembered (token life: 15 min) */
    uint32_t history_idle_ms; /* a conversation is forgotten this long after its last message (1 h) */
    uint32_t stream_max;      /* jobs waiting or running, cluster-wide, before kv_admit refuses a job */
};
void kv_options_default(struct kv_options *opts);

/* ---- admission: dedupe, cooldown and queueing of one application command, atomically ---- */

/* A deferred job as it is kept in the stream: enough to run it again on any replica. */
struct kv_job {
    const char *interaction_id;
    const char *path; /* the command path to run ("snail sheet") */
    const char *body; /* the verified raw request body */
    size_t body_len;
    uint64_t expires_at_wall_ms; /* the interaction token's end: after it nothing can be delivered */
};

struct kv_admission {
    const char *interaction_id; /* the dedupe key */
    const char *user_id;        /* cooldowns are per (user, command path) */
    const char *command_path;
    uint32_t cooldown_ms;     /* 0: no cooldown */
    const struct kv_job *job; /* a deferred command's job, added to the stream when admitted; NULL otherwise */
};

enum kv_verdict {
    KV_ADMITTED,     /* first sight of the id, not cooling down: run it (the job, if any, is queued) */
    KV_DUPLICATE,    /* this id was admitted before (by any replica): run nothing again */
    KV_COOLING_DOWN, /* the user must wait cooldown_remaining_ms; nothing was recorded */
    KV_QUEUE_FULL,   /* the stream holds stream_max jobs; nothing was recorded */
};

struct kv_admit_result {
    enum kv_verdict verdict;
    uint64_t cooldown_remaining_ms; /* KV_COOLING_DOWN only; at least 1 */
};

/* Checks and records in one atomic step: a duplicate id wins over everything, then the
 * cooldown, then the queue limit; only KV_ADMITTED records anything (the id for dedupe_ttl_ms,
 * the cooldown, the job). Of K simultaneous admissions of one (user, path) with a cooldown,
 * whichever replicas make them, exactly one is admitted. */
int kv_admit(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out);

/* Receives the outcome of kv_admit_async(): status as kv_admit() returns it, and the result
 * when status is SLIMY_OK (NULL otherwise). */
typedef void (*kv_admit_fn)(int status, const struct kv_admit_result *result, void *arg);

/* kv_admit() without waiting: done(…, arg) runs exactly once, before this returns when the
 * answer is at hand (in-process) or later on the backend's thread (Redis, which pipelines the
 * admissions of every thread on one connection). req and what it points at stay valid until
 * done runs. This is what the HTTP threads use, so none of them waits on Redis. */
void kv_admit_async(struct kv *kv, const struct kv_admission *req, kv_admit_fn done, void *arg);

/* ---- chat history: the newest CHAT_HISTORY_MAX turns per conversation key ---- */

/* Copies the conversation of key ("channel:user") into *out, oldest first; an unknown or
 * expired key gives n == 0. Free with chat_turns_free(). */
int kv_history_get(struct kv *kv, const char *key, struct chat_turns *out);
/* Appends n <= CHAT_HISTORY_MAX turns (copied, in order; more is SLIMY_EINVAL), keeps the
 * newest CHAT_HISTORY_MAX and restarts the idle timer. */
int kv_history_append(struct kv *kv, const char *key, const struct chat_turn *turns, size_t n);
/* Forgets the conversation of key. */
int kv_history_reset(struct kv *kv, const char *key);

/* ---- counters: runs, failures and time per command path, summed over every replica ---- */

struct kv_counter {
    char path[KV_PATH_MAX];
    uint64_t count;    /* runs finished */
    uint64_t failures; /* runs that returned a failure status */
    uint64_t total_ms; /* summed run time */
};

struct kv_counters {
    struct kv_counter *items; /* owned, any order */
    size_t n;
};

/* Adds each delta to the totals of its path (paths past KV_COUNTERS_MAX distinct ones are dropped). */
int kv_counters_add(struct kv *kv, const struct kv_counter *deltas, size_t n);
int kv_counters_read(struct kv *kv, struct kv_counters *out);
void kv_counters_free(struct kv_counters *c);

/* ---- the job stream: one queue read by the workers of every replica ----
 * Entries are added by kv_admit(). A consumer (one per replica) reads new entries, which become
 * pending under its name until kv_job_done(). A pending entry that its consumer has not
 * refreshed for min_idle_ms may be taken over by another consumer (kv_job_autoclaim), so a
 * replica that died leaves nothing behind; a living one refreshes what it holds. */

struct kv_entry {
    char id[KV_ENTRY_ID_MAX];
    char interaction_id[KV_ENTRY_ID_MAX];
    char path[KV_PATH_MAX];
    char *body; /* owned; body_len bytes plus a NUL */
    size_t body_len;
    uint64_t expires_at_wall_ms;
    bool taken_over;   /* handed to this consumer by kv_job_autoclaim(): another may have run it */
    struct kv *source; /* the backend it came from: refresh, release and done go there */
};

struct kv_entries {
    struct kv_entry *items; /* owned, oldest first */
    size_t n;
};
void kv_entries_free(struct kv_entries *e);

enum kv_read_from {
    KV_READ_ALL,          /* every backend */
    KV_READ_PROCESS_ONLY, /* only jobs kept in this process's memory (a draining replica) */
};

/* Reads up to max new entries for consumer, waiting up to block_ms for the first. */
int kv_job_read(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                struct kv_entries *out);
/* Takes over up to max entries pending (on any consumer) for at least min_idle_ms. */
int kv_job_autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max, struct kv_entries *out);
/* Restarts the idle time of the given entries of source that consumer still holds, so nobody
 * takes them over. Entries it no longer holds are left alone and counted in *n_lost (may be NULL). */
int kv_job_refresh(struct kv *source, const char *consumer, const char *const *ids, size_t n, size_t *n_lost);
/* Hands entries back: they stay pending but may be taken over at once (a replica shutting down). */
int kv_job_release(struct kv *source, const char *consumer, const char *const *ids, size_t n, uint32_t min_idle_ms);
/* The entry is finished (its reply delivered, or dropped): records the interaction as
 * delivered (for dedupe_ttl_ms), then removes the entry. */
int kv_job_done(struct kv *source, const char *id, const char *interaction_id);
/* The same for n entries of source at once (one round trip on Redis). */
int kv_job_done_many(struct kv *source, const char *const *ids, const char *const *interaction_ids, size_t n);
/* Whether kv_job_done() was called for this interaction (by any replica). */
int kv_job_was_delivered(struct kv *source, const char *interaction_id, bool *out);

/* ---- backends and their state ---- */

enum kv_state {
    KV_STATE_LOCAL,    /* in-process only: no REDIS_URL */
    KV_STATE_SHARED,   /* Redis answering: state is shared with the other replicas */
    KV_STATE_FALLBACK, /* REDIS_URL set but Redis unreachable: serving from this process's memory */
};

/* Opens what cfg asks for: in-process without REDIS_URL, the failover over Redis with it.
 * Never fails because Redis is down (the failover starts in fallback and keeps trying). */
int kv_open(const struct slimy_config *cfg, struct kv **out, char *err, size_t err_len);
int kv_local_new(const struct kv_options *opts, struct kv **out);
void kv_close(struct kv *kv);

enum kv_state kv_state(struct kv *kv);
const char *kv_state_name(enum kv_state state); /* "local", "shared", "fallback" */
/* One round trip to check the backend; SLIMY_OK for the in-process one. */
int kv_ping(struct kv *kv);

/* ---- for backend implementers ---- */

struct kv_ops {
    const char *name; /* "local", "redis", "failover" */
    void (*close)(struct kv *kv);
    int (*ping)(struct kv *kv);
    enum kv_state (*state)(struct kv *kv);
    int (*admit)(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out);
    /* optional: NULL means admit, then done at once */
    void (*admit_async)(struct kv *kv, const struct kv_admission *req, kv_admit_fn done, void *arg);
    int (*history_get)(struct kv *kv, const char *key, struct chat_turns *out);
    int (*history_append)(struct kv *kv, const char *key, const struct chat_turn *turns, size_t n);
    int (*history_reset)(struct kv *kv, const char *key);
    int (*counters_add)(struct kv *kv, const struct kv_counter *deltas, size_t n);
    int (*counters_read)(struct kv *kv, struct kv_counters *out);
    int (*job_read)(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                    struct kv_entries *out);
    int (*job_autoclaim)(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max, struct kv_entries *out);
    int (*job_refresh)(struct kv *kv, const char *consumer, const char *const *ids, size_t n, uint32_t idle_ms,
                       size_t *n_lost);
    int (*job_done)(struct kv *kv, const char *const *ids, const char *const *interaction_ids, size_t n);
    int (*job_was_delivered)(struct kv *kv, const char *interaction_id, bool *out);
};

struct kv {
    const struct kv_ops *ops;
    struct kv_options opts;
};

#endif
