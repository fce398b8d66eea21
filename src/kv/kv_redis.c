/* kv_redis.c — the Redis kv.h backend (hiredis): connections, scripts, history and counters;
 * admission is in kv_redis_admit.c, the job stream in kv_redis_stream.c. Each multi-step call
 * is one Lua script run with EVALSHA (loaded on first use and again after NOSCRIPT), so it is
 * atomic across replicas and costs one round trip. Connections come from a small pool: a caller takes one for a call
 * and gives it back, so each concurrent thread has its own. Nothing here logs: the failover
 * (kv_failover.c) reports changes of state, and no key or reply could carry a secret anyway.
 *
 * Keys, all under the configured prefix:
 *   adm:<interaction id>   admitted interaction ids (dedupe), PX dedupe_ttl_ms
 *   cd:<user>:<path>       cooldowns, PX cooldown_ms
 *   hist:<channel:user>    chat history list ("u"/"a"/"s" + text), capped, PX history_idle_ms
 *   counters               hash of count:/failures:/ms:<path>
 *   jobs                   the job stream, consumer group "workers"
 *   dlv:<interaction id>   delivered interactions, PX dedupe_ttl_ms */
#include "kv/kv_redis_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/status.h"

/* KEYS: list. ARGV: max turns, idle ms, turns... */
static const struct redis_script HISTORY_APPEND = {REDIS_SCRIPT_HISTORY_APPEND, "history_append",
                                                   "for i = 3, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end\n"
                                                   "redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)\n"
                                                   "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
                                                   "return 1\n"};

/* KEYS: hash. ARGV: most paths kept, then (path, count, failures, ms)... A path past the
 * cap is dropped, as in the in-process backend. */
static const struct redis_script COUNTERS_ADD = {
    REDIS_SCRIPT_COUNTERS_ADD, "counters_add",
    "local max = tonumber(ARGV[1])\n"
    "for i = 2, #ARGV, 4 do\n"
    "  local known = redis.call('HEXISTS', KEYS[1], 'count:' .. ARGV[i]) == 1\n"
    "  if known or redis.call('HLEN', KEYS[1]) / 3 < max then\n"
    "    redis.call('HINCRBY', KEYS[1], 'count:' .. ARGV[i], ARGV[i + 1])\n"
    "    redis.call('HINCRBY', KEYS[1], 'failures:' .. ARGV[i], ARGV[i + 2])\n"
    "    redis.call('HINCRBY', KEYS[1], 'ms:' .. ARGV[i], ARGV[i + 3])\n"
    "  end\n"
    "end\n"
    "return 1\n"};

static const struct kv_ops redis_ops;

void redis_key(const struct kv_redis *r, char out[KEY_MAX], const char *kind, const char *name)
{
    snprintf(out, KEY_MAX, "%s%s%s", r->prefix, kind, name);
}

/* ---- connections ---- */

static struct timeval ms_tv(uint32_t ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

static struct timeval timeout_tv(void)
{
    return ms_tv(KV_REDIS_TIMEOUT_MS);
}

/* Runs a command on a fresh connection during set-up; true when it did not fail. */
static bool setup_command(redisContext *c, int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(c, argc, argv, NULL);
    bool ok = reply && reply->type != REDIS_REPLY_ERROR;
    if (reply)
        freeReplyObject(reply);
    return ok;
}

redisContext *redis_connect(const struct kv_redis *r)
{
    const struct redis_url *u = &r->url;
    redisContext *c = u->unix_path[0] ? redisConnectUnixWithTimeout(u->unix_path, timeout_tv())
                                      : redisConnectWithTimeout(u->host, u->port, timeout_tv());
    if (!c || c->err || redisSetTimeout(c, timeout_tv()) != REDIS_OK) {
        if (c)
            redisFree(c);
        return NULL;
    }
    bool ok = true;
    if (u->password[0]) {
        const char *with_user[] = {"AUTH", u->user, u->password}, *plain[] = {"AUTH", u->password};
        ok = u->user[0] ? setup_command(c, 3, with_user) : setup_command(c, 2, plain);
    }
    if (ok && u->db) {
        char db[16];
        snprintf(db, sizeof db, "%u", u->db);
        const char *select[] = {"SELECT", db};
        ok = setup_command(c, 2, select);
    }
    if (!ok) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static redisContext *pool_take(struct kv_redis *r, bool *from_pool)
{
    pthread_mutex_lock(&r->lock);
    redisContext *c = r->n_idle ? r->idle[--r->n_idle] : NULL;
    pthread_mutex_unlock(&r->lock);
    *from_pool = c != NULL;
    return c ? c : redis_connect(r);
}

static void pool_give(struct kv_redis *r, redisContext *c)
{
    pthread_mutex_lock(&r->lock);
    if (r->n_idle < POOL_IDLE_MAX) {
        r->idle[r->n_idle++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    if (c)
        redisFree(c);
}

/* Closes every idle connection: one of them was found closed by the server (a restart), and
 * the others date from the same server. */
static void pool_clear(struct kv_redis *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->n_idle;
    redisContext *stale[POOL_IDLE_MAX];
    memcpy(stale, r->idle, n * sizeof *stale);
    r->n_idle = 0;
    pthread_mutex_unlock(&r->lock);
    for (size_t i = 0; i < n; i++)
        redisFree(stale[i]);
}

/* One command. A pooled connection that the server closed meanwhile (a restart) is replaced
 * and the command sent again on a fresh one; a timeout is not retried, since the command may
 * have run. */
int redis_call_waiting(struct kv_redis *r, int argc, const char **argv, const size_t *lens, uint32_t wait_ms,
                       redisReply **out)
{
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        bool from_pool = false;
        redisContext *c = pool_take(r, &from_pool);
        if (!c)
            break;
        if (wait_ms && redisSetTimeout(c, ms_tv(KV_REDIS_TIMEOUT_MS + wait_ms)) != REDIS_OK) {
            redisFree(c);
            break;
        }
        redisReply *reply = redisCommandArgv(c, argc, argv, lens);
        if (reply && wait_ms && redisSetTimeout(c, timeout_tv()) != REDIS_OK) {
            freeReplyObject(reply);
            reply = NULL; /* a connection left with the long timeout must not go back to the pool */
        }
        if (reply) {
            pool_give(r, c);
            *out = reply;
            return SLIMY_OK;
        }
        bool stale = from_pool && (c->err == REDIS_ERR_EOF || (c->err == REDIS_ERR_IO && errno != EAGAIN));
        redisFree(c);
        if (!stale)
            break;
        pool_clear(r);
    }
    return SLIMY_EUNAVAILABLE;
}

/* A command that answers at once: the 250 ms timeout applies. */
int redis_call(struct kv_redis *r, int argc, const char **argv, const size_t *lens, redisReply **out)
{
    return redis_call_waiting(r, argc, argv, lens, 0, out);
}

bool redis_is_error(const redisReply *reply, const char *prefix)
{
    return reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, prefix, strlen(prefix)) == 0;
}

/* ---- scripts ---- */

int redis_load_script(struct kv_redis *r, const struct redis_script *s, char sha[41])
{
    const char *argv[] = {"SCRIPT", "LOAD", s->text};
    redisReply *reply;
    int rc = redis_call(r, 3, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
        freeReplyObject(reply);
        return SLIMY_EINTERNAL;
    }
    pthread_mutex_lock(&r->lock);
    memcpy(r->sha[s->slot], reply->str, 41);
    memcpy(sha, reply->str, 41);
    pthread_mutex_unlock(&r->lock);
    freeReplyObject(reply);
    return SLIMY_OK;
}

void redis_script_sha(struct kv_redis *r, const struct redis_script *s, char sha[41])
{
    pthread_mutex_lock(&r->lock);
    memcpy(sha, r->sha[s->slot], 41);
    pthread_mutex_unlock(&r->lock);
}

/* EVALSHA script with argv[0..argc) = keys then args (n_keys of them keys). An error reply is
 * returned as a reply; NOSCRIPT (Redis restarted or flushed) reloads the script once. */
int redis_eval(struct kv_redis *r, const struct redis_script *s, int n_keys, int argc, const char **argv,
               const size_t *lens, redisReply **out)
{
    char sha[41], n_keys_text[16];
    redis_script_sha(r, s, sha);
    snprintf(n_keys_text, sizeof n_keys_text, "%d", n_keys);

    const char **full = malloc((size_t)(argc + 3) * sizeof *full);
    size_t *full_lens = malloc((size_t)(argc + 3) * sizeof *full_lens);
    int rc = full && full_lens ? SLIMY_OK : SLIMY_ENOMEM;
    for (int attempt = 0; !rc; attempt++) {
        if (!sha[0] && (rc = redis_load_script(r, s, sha)))
            break;
        full[0] = "EVALSHA", full_lens[0] = 7;
        full[1] = sha, full_lens[1] = 40;
        full[2] = n_keys_text, full_lens[2] = strlen(n_keys_text);
        for (int a = 0; a < argc; a++) {
            full[a + 3] = argv[a];
            full_lens[a + 3] = lens ? lens[a] : strlen(argv[a]);
        }
        if ((rc = redis_call(r, argc + 3, full, full_lens, out)) || !redis_is_error(*out, "NOSCRIPT"))
            break;
        freeReplyObject(*out);
        *out = NULL;
        sha[0] = '\0'; /* reloaded at the top of the next round */
        if (attempt == 1)
            rc = SLIMY_EUNAVAILABLE; /* flushed again at once: give up for now */
    }
    free(full);
    free(full_lens);
    return rc;
}

/* Runs a script whose reply is not an error; the reply is freed unless out is given. */
int redis_eval_ok(struct kv_redis *r, const struct redis_script *s, int n_keys, int argc, const char **argv,
                  const size_t *lens, redisReply **out)
{
    redisReply *reply = NULL;
    int rc = redis_eval(r, s, n_keys, argc, argv, lens, &reply);
    if (!rc && reply->type == REDIS_REPLY_ERROR)
        rc = SLIMY_EINTERNAL;
    if (out && !rc)
        *out = reply;
    else if (reply)
        freeReplyObject(reply);
    return rc;
}

/* ---- lifecycle ---- */

static void redis_close(struct kv *kv)
{
    struct kv_redis *r = redis_of(kv);
    if (r->has_pipeliner) { /* it answers what is queued, then exits */
        pthread_mutex_lock(&r->queue_lock);
        r->is_stopping = true;
        pthread_cond_signal(&r->queue_changed);
        pthread_mutex_unlock(&r->queue_lock);
        pthread_join(r->pipeliner, NULL);
    }
    pthread_cond_destroy(&r->queue_changed);
    pthread_mutex_destroy(&r->queue_lock);
    for (size_t i = 0; i < r->n_idle; i++)
        redisFree(r->idle[i]);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

int kv_redis_open(const struct redis_url *url, const char *key_prefix, const struct kv_options *opts, struct kv **out)
{
    if (strlen(key_prefix) >= sizeof((struct kv_redis *)0)->prefix)
        return SLIMY_EINVAL;
    struct kv_redis *r = calloc(1, sizeof *r);
    if (!r)
        return SLIMY_ENOMEM;
    r->base.ops = &redis_ops;
    r->base.opts = *opts;
    r->url = *url;
    snprintf(r->prefix, sizeof r->prefix, "%s", key_prefix);
    redis_key(r, r->stream_key, "jobs", "");
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->queue_lock, NULL);
    pthread_cond_init(&r->queue_changed, NULL);
    r->has_pipeliner = pthread_create(&r->pipeliner, NULL, redis_pipeline_main, r) == 0;
    if (!r->has_pipeliner) {
        redis_close(&r->base);
        return SLIMY_EUNAVAILABLE;
    }
    *out = &r->base;
    return SLIMY_OK;
}

static int redis_ping(struct kv *kv)
{
    const char *argv[] = {"PING"};
    redisReply *reply;
    int rc = redis_call(redis_of(kv), 1, argv, NULL, &reply);
    if (!rc) {
        rc = reply->type == REDIS_REPLY_STATUS ? SLIMY_OK : SLIMY_EUNAVAILABLE; /* e.g. LOADING */
        freeReplyObject(reply);
    }
    return rc;
}

/* A bare Redis backend never falls back: whether Redis answers is the failover's business. */
static enum kv_state redis_state(struct kv *kv)
{
    (void)kv;
    return KV_STATE_SHARED;
}

/* ---- history ---- */

static const char ROLE_CODES[] = {[AI_SYSTEM] = 's', [AI_USER] = 'u', [AI_ASSISTANT] = 'a'};

static int redis_history_get(struct kv *kv, const char *name, struct chat_turns *out)
{
    struct kv_redis *r = redis_of(kv);
    char list[KEY_MAX], last[16];
    redis_key(r, list, "hist:", name);
    snprintf(last, sizeof last, "%d", CHAT_HISTORY_MAX - 1);
    const char *argv[] = {"LRANGE", list, "0", last};
    redisReply *reply;
    int rc = redis_call(r, 4, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_ARRAY)
        rc = SLIMY_EINTERNAL;
    for (size_t i = 0; !rc && i < reply->elements && out->n < CHAT_HISTORY_MAX; i++) {
        const redisReply *item = reply->element[i];
        if (item->type != REDIS_REPLY_STRING || item->len < 1)
            continue;
        enum ai_role role = item->str[0] == 'a' ? AI_ASSISTANT : item->str[0] == 's' ? AI_SYSTEM : AI_USER;
        char *text = malloc(item->len);
        if (!text) {
            rc = SLIMY_ENOMEM;
            break;
        }
        memcpy(text, item->str + 1, item->len - 1);
        text[item->len - 1] = '\0';
        out->items[out->n++] = (struct chat_turn){.role = role, .text = text};
    }
    freeReplyObject(reply);
    if (rc)
        chat_turns_free(out);
    return rc;
}

static int redis_history_append(struct kv *kv, const char *name, const struct chat_turn *turns, size_t n)
{
    struct kv_redis *r = redis_of(kv);
    char list[KEY_MAX], max[16], idle[24];
    redis_key(r, list, "hist:", name);
    snprintf(max, sizeof max, "%d", CHAT_HISTORY_MAX);
    snprintf(idle, sizeof idle, "%" PRIu32, kv->opts.history_idle_ms);
    const char *argv[3 + CHAT_HISTORY_MAX] = {list, max, idle};
    size_t lens[3 + CHAT_HISTORY_MAX] = {strlen(list), strlen(max), strlen(idle)};
    char *encoded[CHAT_HISTORY_MAX] = {0};
    int rc = SLIMY_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len = strlen(turns[i].text);
        if (!(encoded[i] = malloc(len + 2))) {
            rc = SLIMY_ENOMEM;
            break;
        }
        encoded[i][0] = ROLE_CODES[turns[i].role];
        memcpy(encoded[i] + 1, turns[i].text, len + 1);
        argv[3 + i] = encoded[i];
        lens[3 + i] = len + 1;
    }
    if (!rc)
        rc = redis_eval_ok(r, &HISTORY_APPEND, 1, (int)(3 + n), argv, lens, NULL);
    for (size_t i = 0; i < n; i++)
        free(encoded[i]);
    return rc;
}

static int redis_history_reset(struct kv *kv, const char *name)
{
    struct kv_redis *r = redis_of(kv);
    char list[KEY_MAX];
    redis_key(r, list, "hist:", name);
    const char *argv[] = {"DEL", list};
    redisReply *reply;
    int rc = redis_call(r, 2, argv, NULL, &reply);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

/* ---- counters ---- */

static int redis_counters_add(struct kv *kv, const struct kv_counter *deltas, size_t n)
{
    struct kv_redis *r = redis_of(kv);
    char hash[KEY_MAX];
    redis_key(r, hash, "counters", "");
    const char **argv = malloc((2 + 4 * n) * sizeof *argv);
    char(*numbers)[24] = malloc(3 * n * sizeof *numbers), max[16];
    snprintf(max, sizeof max, "%d", KV_COUNTERS_MAX);
    int rc = argv && numbers ? SLIMY_OK : SLIMY_ENOMEM;
    if (!rc) {
        argv[0] = hash;
        argv[1] = max;
        for (size_t i = 0; i < n; i++) {
            const char **quad = &argv[2 + 4 * i]; /* path, count, failures, ms */
            snprintf(numbers[3 * i], 24, "%" PRIu64, deltas[i].count);
            snprintf(numbers[3 * i + 1], 24, "%" PRIu64, deltas[i].failures);
            snprintf(numbers[3 * i + 2], 24, "%" PRIu64, deltas[i].total_ms);
            quad[0] = deltas[i].path;
            quad[1] = numbers[3 * i];
            quad[2] = numbers[3 * i + 1];
            quad[3] = numbers[3 * i + 2];
        }
        rc = redis_eval_ok(r, &COUNTERS_ADD, 1, (int)(2 + 4 * n), argv, NULL, NULL);
    }
    free(argv);
    free(numbers);
    return rc;
}

/* The counter of path in out, added if new; NULL past KV_COUNTERS_MAX. */
static struct kv_counter *counter_for(struct kv_counters *out, const char *path, size_t path_len)
{
    if (path_len >= KV_PATH_MAX)
        return NULL;
    for (size_t i = 0; i < out->n; i++)
        if (strlen(out->items[i].path) == path_len && memcmp(out->items[i].path, path, path_len) == 0)
            return &out->items[i];
    if (out->n == KV_COUNTERS_MAX)
        return NULL;
    struct kv_counter *c = &out->items[out->n++];
    memset(c, 0, sizeof *c);
    memcpy(c->path, path, path_len);
    return c;
}

static int redis_counters_read(struct kv *kv, struct kv_counters *out)
{
    struct kv_redis *r = redis_of(kv);
    char hash[KEY_MAX];
    redis_key(r, hash, "counters", "");
    const char *argv[] = {"HGETALL", hash};
    redisReply *reply;
    int rc = redis_call(r, 2, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_ARRAY)
        rc = SLIMY_EINTERNAL;
    else if (!(out->items = calloc(KV_COUNTERS_MAX, sizeof *out->items)))
        rc = SLIMY_ENOMEM;
    static const char *const kinds[] = {"count:", "failures:", "ms:"};
    for (size_t i = 0; !rc && i + 1 < reply->elements; i += 2) {
        const redisReply *field = reply->element[i], *value = reply->element[i + 1];
        if (field->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING)
            continue;
        for (size_t k = 0; k < 3; k++) {
            size_t kl = strlen(kinds[k]);
            if ((size_t)field->len <= kl || memcmp(field->str, kinds[k], kl) != 0)
                continue;
            struct kv_counter *c = counter_for(out, field->str + kl, (size_t)field->len - kl);
            uint64_t v = strtoull(value->str, NULL, 10);
            if (c)
                *(k == 0 ? &c->count : k == 1 ? &c->failures : &c->total_ms) = v;
        }
    }
    freeReplyObject(reply);
    if (rc)
        kv_counters_free(out);
    return rc;
}

static const struct kv_ops redis_ops = {
    .name = "redis",
    .close = redis_close,
    .ping = redis_ping,
    .state = redis_state,
    .admit = redis_admit,
    .admit_async = redis_admit_async,
    .history_get = redis_history_get,
    .history_append = redis_history_append,
    .history_reset = redis_history_reset,
    .counters_add = redis_counters_add,
    .counters_read = redis_counters_read,
    .job_read = redis_job_read,
    .job_autoclaim = redis_job_autoclaim,
    .job_refresh = redis_job_refresh,
    .job_done = redis_job_done,
    .job_was_delivered = redis_job_was_delivered,
};
