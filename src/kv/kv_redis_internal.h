/* kv_redis_internal.h — what the files of the Redis kv backend share; private to src/kv/.
 *   kv_redis.c         connections, scripts, lifecycle, history, counters, the ops table
 *   kv_redis_admit.c   admission, and the thread that pipelines admissions (kv_admit_async)
 *   kv_redis_stream.c  the job stream
 * Each Lua script is defined next to the calls that run it; a slot numbers its cached hash. */
#ifndef SLIMY_KV_REDIS_INTERNAL_H
#define SLIMY_KV_REDIS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "kv/kv_backend.h"

#define KEY_MAX 320      /* a key: prefix, kind and name */
#define GROUP "workers"  /* the job stream's consumer group */
#define POOL_IDLE_MAX 32 /* idle connections kept; more callers than this connect and close */

enum redis_script_slot {
    REDIS_SCRIPT_ADMIT,
    REDIS_SCRIPT_HISTORY_APPEND,
    REDIS_SCRIPT_COUNTERS_ADD,
    REDIS_SCRIPT_REFRESH,
    REDIS_SCRIPT_DONE,
    REDIS_SCRIPT_COUNT
};

struct redis_script {
    enum redis_script_slot slot; /* where its hash is cached */
    const char *name;
    const char *text;
};

struct admit_call; /* kv_redis_admit.c */

struct kv_redis {
    struct kv base;
    struct redis_url url;
    char prefix[128];
    char stream_key[KEY_MAX];
    pthread_mutex_t lock; /* the pool and the script hashes */
    redisContext *idle[POOL_IDLE_MAX];
    size_t n_idle;
    char sha[REDIS_SCRIPT_COUNT][41]; /* "" until loaded */
    /* kv_admit_async(): one thread pipelines the waiting admissions on its own connection */
    pthread_mutex_t queue_lock;
    pthread_cond_t queue_changed;
    struct admit_call *queue_head, *queue_tail;
    bool is_stopping;
    pthread_t pipeliner;
    bool has_pipeliner;
};

static inline struct kv_redis *redis_of(struct kv *kv)
{
    return (struct kv_redis *)kv;
}

/* kv_redis.c: keys, connections, commands and scripts */
void redis_key(const struct kv_redis *r, char out[KEY_MAX], const char *kind, const char *name);
redisContext *redis_connect(const struct kv_redis *r);
/* One command (lens may be NULL for text arguments), waiting wait_ms past the usual timeout
 * for a blocking one. SLIMY_EUNAVAILABLE when Redis did not answer; error replies are replies. */
int redis_call_waiting(struct kv_redis *r, int argc, const char **argv, const size_t *lens, uint32_t wait_ms,
                       redisReply **out);
int redis_call(struct kv_redis *r, int argc, const char **argv, const size_t *lens, redisReply **out);
bool redis_is_error(const redisReply *reply, const char *prefix);
void redis_script_sha(struct kv_redis *r, const struct redis_script *s, char sha[41]);
int redis_load_script(struct kv_redis *r, const struct redis_script *s, char sha[41]);
int redis_eval(struct kv_redis *r, const struct redis_script *s, int n_keys, int argc, const char **argv,
               const size_t *lens, redisReply **out);
int redis_eval_ok(struct kv_redis *r, const struct redis_script *s, int n_keys, int argc, const char **argv,
                  const size_t *lens, redisReply **out);

/* kv_redis_admit.c */
int redis_admit(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out);
void redis_admit_async(struct kv *kv, const struct kv_admission *req, kv_admit_fn done, void *arg);
void *redis_pipeline_main(void *arg);

/* kv_redis_stream.c */
int redis_job_read(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                   struct kv_entries *out);
int redis_job_autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max, struct kv_entries *out);
int redis_job_refresh(struct kv *kv, const char *consumer, const char *const *ids, size_t n, uint32_t idle_ms,
                      size_t *n_lost);
int redis_job_done(struct kv *kv, const char *const *ids, const char *const *interaction_ids, size_t n);
int redis_job_was_delivered(struct kv *kv, const char *interaction_id, bool *out);

#endif
