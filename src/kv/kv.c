/* kv.c — choosing a backend (kv_open), the thin wrappers every caller goes through, and the
 * result-freeing helpers the backends share. The state itself lives in kv_local.c, kv_redis.c
 * and kv_failover.c. */
#include "kv/kv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "kv/kv_backend.h"

#define DEDUPE_TTL_MS (15u * 60u * 1000u) /* Discord: an interaction token lasts 15 minutes */

void kv_options_default(struct kv_options *opts)
{
    *opts = (struct kv_options){
        .dedupe_ttl_ms = DEDUPE_TTL_MS,
        .history_idle_ms = CHAT_HISTORY_IDLE_MS,
        .stream_max = 10000,
    };
}

int kv_open(const struct slimy_config *cfg, struct kv **out, char *err, size_t err_len)
{
    struct kv_options opts;
    kv_options_default(&opts);
    opts.stream_max = cfg->job_queue_max;
    if (err_len)
        err[0] = '\0';
    struct kv *local = NULL, *redis = NULL;
    int rc = kv_local_new(&opts, &local);
    if (rc || !cfg->has_redis) {
        *out = local;
        return rc;
    }
    rc = kv_redis_open(&cfg->redis, cfg->redis_key_prefix, &opts, &redis);
    if (!rc) {
        char where[160];
        redis_url_describe(&cfg->redis, where, sizeof where);
        rc = kv_failover_new(redis, local, where, out);
    } else {
        kv_close(local);
    }
    if (rc)
        snprintf(err, err_len, "cannot set up Redis: %s", slimy_strerror(rc));
    return rc;
}

void kv_close(struct kv *kv)
{
    if (kv)
        kv->ops->close(kv);
}

enum kv_state kv_state(struct kv *kv)
{
    return kv->ops->state(kv);
}

const char *kv_state_name(enum kv_state state)
{
    switch (state) {
    case KV_STATE_SHARED: return "shared";
    case KV_STATE_FALLBACK: return "fallback";
    default: return "local";
    }
}

int kv_ping(struct kv *kv)
{
    return kv->ops->ping(kv);
}

/* The caps kv.h documents, checked once for every backend. */
static int admit_checks(const struct kv_admission *req)
{
    if (!req->interaction_id || !*req->interaction_id || strlen(req->interaction_id) >= KV_ENTRY_ID_MAX ||
        !req->user_id || !req->command_path || strlen(req->command_path) >= KV_PATH_MAX)
        return SLIMY_EINVAL;
    return SLIMY_OK;
}

int kv_admit(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out)
{
    memset(out, 0, sizeof *out);
    int rc = admit_checks(req);
    return rc ? rc : kv->ops->admit(kv, req, out);
}

void kv_admit_async(struct kv *kv, const struct kv_admission *req, kv_admit_fn done, void *arg)
{
    struct kv_admit_result result = {0};
    if (kv->ops->admit_async) {
        int rc = admit_checks(req);
        if (rc)
            done(rc, NULL, arg);
        else
            kv->ops->admit_async(kv, req, done, arg);
        return;
    }
    int rc = kv_admit(kv, req, &result);
    done(rc, rc ? NULL : &result, arg);
}

int kv_history_get(struct kv *kv, const char *key, struct chat_turns *out)
{
    memset(out, 0, sizeof *out);
    return kv->ops->history_get(kv, key, out);
}

int kv_history_append(struct kv *kv, const char *key, const struct chat_turn *turns, size_t n)
{
    if (n > CHAT_HISTORY_MAX)
        return SLIMY_EINVAL;
    return kv->ops->history_append(kv, key, turns, n);
}

int kv_history_reset(struct kv *kv, const char *key)
{
    return kv->ops->history_reset(kv, key);
}

int kv_counters_add(struct kv *kv, const struct kv_counter *deltas, size_t n)
{
    return n ? kv->ops->counters_add(kv, deltas, n) : SLIMY_OK;
}

int kv_counters_read(struct kv *kv, struct kv_counters *out)
{
    memset(out, 0, sizeof *out);
    return kv->ops->counters_read(kv, out);
}

void kv_counters_free(struct kv_counters *c)
{
    free(c->items);
    c->items = NULL;
    c->n = 0;
}

void kv_entries_free(struct kv_entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->items[i].body);
    free(e->items);
    e->items = NULL;
    e->n = 0;
}

int kv_job_read(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                struct kv_entries *out)
{
    memset(out, 0, sizeof *out);
    return max ? kv->ops->job_read(kv, consumer, max, block_ms, from, out) : SLIMY_OK;
}

int kv_job_autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max, struct kv_entries *out)
{
    memset(out, 0, sizeof *out);
    return max ? kv->ops->job_autoclaim(kv, consumer, min_idle_ms, max, out) : SLIMY_OK;
}

int kv_job_refresh(struct kv *source, const char *consumer, const char *const *ids, size_t n, size_t *n_lost)
{
    size_t lost = 0;
    int rc = n ? source->ops->job_refresh(source, consumer, ids, n, 0, &lost) : SLIMY_OK;
    if (n_lost)
        *n_lost = lost;
    return rc;
}

int kv_job_release(struct kv *source, const char *consumer, const char *const *ids, size_t n, uint32_t min_idle_ms)
{
    size_t lost = 0;
    return n ? source->ops->job_refresh(source, consumer, ids, n, min_idle_ms, &lost) : SLIMY_OK;
}

int kv_job_done(struct kv *source, const char *id, const char *interaction_id)
{
    return source->ops->job_done(source, &id, &interaction_id, 1);
}

int kv_job_done_many(struct kv *source, const char *const *ids, const char *const *interaction_ids, size_t n)
{
    return n ? source->ops->job_done(source, ids, interaction_ids, n) : SLIMY_OK;
}

int kv_job_was_delivered(struct kv *source, const char *interaction_id, bool *out)
{
    *out = false;
    return source->ops->job_was_delivered(source, interaction_id, out);
}
