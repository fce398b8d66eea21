/* kv_redis.c — the Redis kv.h backend (hiredis). Each multi-step call is one Lua script run
 * with EVALSHA (loaded on first use and again after NOSCRIPT), so it is atomic across replicas
 * and costs one round trip. Connections come from a small pool: a caller takes one for a call
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
#include "kv/kv_backend.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "core/status.h"

#define POOL_IDLE_MAX 32    /* idle connections kept; more callers than this connect and close */
#define READ_BLOCK_MAX_MS 100 /* longest XREADGROUP BLOCK */
/* Redis checks blocked clients' timeouts on its cron (10 times a second by default), so a
 * BLOCK of 100 ms may answer after 200; a blocking read waits that much past its timeout. */
#define BLOCK_SLACK_MS 200
#define GROUP "workers"
#define KEY_MAX 320
#define AUTOCLAIM_ROUNDS 4

/* ---- the scripts ---- */

struct script {
    const char *name;
    const char *text;
};

/* KEYS: admitted id, cooldown, stream. ARGV: dedupe ttl, cooldown ms, stream max (0: no job),
 * interaction id, path, expires, body. Returns {verdict, cooldown ms left}. */
static const struct script ADMIT = {"admit",
    "if redis.call('EXISTS', KEYS[1]) == 1 then return {1, 0} end\n"
    "local cooldown = tonumber(ARGV[2])\n"
    "if cooldown > 0 then\n"
    "  local left = redis.call('PTTL', KEYS[2])\n"
    "  if left > 0 then return {2, left} end\n"
    "end\n"
    "if ARGV[3] ~= '0' then\n"
    "  if redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[3]) then return {3, 0} end\n"
    "  redis.call('XADD', KEYS[3], '*', 'iid', ARGV[4], 'path', ARGV[5], 'exp', ARGV[6], 'body', ARGV[7])\n"
    "end\n"
    "if cooldown > 0 then redis.call('SET', KEYS[2], '1', 'PX', cooldown) end\n"
    "redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])\n"
    "return {0, 0}\n"};

/* KEYS: list. ARGV: max turns, idle ms, turns... */
static const struct script HISTORY_APPEND = {"history_append",
    "for i = 3, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end\n"
    "redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "return 1\n"};

/* KEYS: hash. ARGV: most paths kept, then (path, count, failures, ms)... A path past the
 * cap is dropped, as in the in-process backend. */
static const struct script COUNTERS_ADD = {"counters_add",
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

/* KEYS: stream. ARGV: group, consumer, idle ms, ids... Sets the idle time of the entries the
 * consumer still holds; returns how many it no longer holds. */
static const struct script REFRESH = {"refresh",
    "local lost = 0\n"
    "for i = 4, #ARGV do\n"
    "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)\n"
    "  if p[1] and p[1][2] == ARGV[2] then\n"
    "    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')\n"
    "  else lost = lost + 1 end\n"
    "end\n"
    "return lost\n"};

/* KEYS: stream, then one delivered key per entry. ARGV: group, ttl, then the entry ids in the
 * same order. Each delivery is recorded before its ack. */
static const struct script DONE = {"done",
    "for i = 2, #KEYS do\n"
    "  redis.call('SET', KEYS[i], '1', 'PX', ARGV[2])\n"
    "  pcall(redis.call, 'XACK', KEYS[1], ARGV[1], ARGV[i + 1])\n"
    "  redis.call('XDEL', KEYS[1], ARGV[i + 1])\n"
    "end\n"
    "return 1\n"};

static const struct script *const SCRIPTS[] = {&ADMIT, &HISTORY_APPEND, &COUNTERS_ADD, &REFRESH, &DONE};
#define N_SCRIPTS (sizeof SCRIPTS / sizeof SCRIPTS[0])

/* ---- the backend ---- */

struct kv_redis {
    struct kv base;
    struct redis_url url;
    char prefix[128];
    char stream_key[KEY_MAX];
    pthread_mutex_t lock; /* the pool and the script hashes */
    redisContext *idle[POOL_IDLE_MAX];
    size_t n_idle;
    char sha[N_SCRIPTS][41]; /* "" until loaded */
    /* kv_admit_async(): one thread pipelines the waiting admissions on its own connection */
    pthread_mutex_t queue_lock;
    pthread_cond_t queue_changed;
    struct admit_call *queue_head, *queue_tail;
    bool is_stopping;
    pthread_t pipeliner;
    bool has_pipeliner;
};

struct admit_call {
    struct admit_call *next;
    const struct kv_admission *req; /* borrowed until done runs */
    kv_admit_fn done;
    void *arg;
};

static const struct kv_ops redis_ops;
static void *pipeliner_main(void *arg);

static struct kv_redis *redis_of(struct kv *kv)
{
    return (struct kv_redis *)kv;
}

static void key(const struct kv_redis *r, char out[KEY_MAX], const char *kind, const char *name)
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

static redisContext *connect_new(const struct kv_redis *r)
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
    return c ? c : connect_new(r);
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
static int call_waiting(struct kv_redis *r, int argc, const char **argv, const size_t *lens, uint32_t wait_ms,
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
static int call(struct kv_redis *r, int argc, const char **argv, const size_t *lens, redisReply **out)
{
    return call_waiting(r, argc, argv, lens, 0, out);
}

static bool is_error(const redisReply *reply, const char *prefix)
{
    return reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, prefix, strlen(prefix)) == 0;
}

/* ---- scripts ---- */

static size_t script_index(const struct script *s)
{
    for (size_t i = 0; i < N_SCRIPTS; i++)
        if (SCRIPTS[i] == s)
            return i;
    return 0;
}

static int load_script(struct kv_redis *r, size_t i, char sha[41])
{
    const char *argv[] = {"SCRIPT", "LOAD", SCRIPTS[i]->text};
    redisReply *reply;
    int rc = call(r, 3, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type != REDIS_REPLY_STRING || reply->len != 40) {
        freeReplyObject(reply);
        return SLIMY_EINTERNAL;
    }
    pthread_mutex_lock(&r->lock);
    memcpy(r->sha[i], reply->str, 41);
    memcpy(sha, reply->str, 41);
    pthread_mutex_unlock(&r->lock);
    freeReplyObject(reply);
    return SLIMY_OK;
}

/* EVALSHA script with argv[0..argc) = keys then args (n_keys of them keys). An error reply is
 * returned as a reply; NOSCRIPT (Redis restarted or flushed) reloads the script once. */
static int eval(struct kv_redis *r, const struct script *s, int n_keys, int argc, const char **argv,
                const size_t *lens, redisReply **out)
{
    size_t i = script_index(s);
    char sha[41], n_keys_text[16];
    pthread_mutex_lock(&r->lock);
    memcpy(sha, r->sha[i], sizeof sha);
    pthread_mutex_unlock(&r->lock);
    snprintf(n_keys_text, sizeof n_keys_text, "%d", n_keys);

    const char **full = malloc((size_t)(argc + 3) * sizeof *full);
    size_t *full_lens = malloc((size_t)(argc + 3) * sizeof *full_lens);
    int rc = full && full_lens ? SLIMY_OK : SLIMY_ENOMEM;
    for (int attempt = 0; !rc; attempt++) {
        if (!sha[0] && (rc = load_script(r, i, sha)))
            break;
        full[0] = "EVALSHA", full_lens[0] = 7;
        full[1] = sha, full_lens[1] = 40;
        full[2] = n_keys_text, full_lens[2] = strlen(n_keys_text);
        for (int a = 0; a < argc; a++) {
            full[a + 3] = argv[a];
            full_lens[a + 3] = lens ? lens[a] : strlen(argv[a]);
        }
        if ((rc = call(r, argc + 3, full, full_lens, out)) || !is_error(*out, "NOSCRIPT"))
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
static int eval_ok(struct kv_redis *r, const struct script *s, int n_keys, int argc, const char **argv,
                   const size_t *lens, redisReply **out)
{
    redisReply *reply = NULL;
    int rc = eval(r, s, n_keys, argc, argv, lens, &reply);
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

int kv_redis_open(const struct redis_url *url, const char *key_prefix, const struct kv_options *opts,
                  struct kv **out)
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
    key(r, r->stream_key, "jobs", "");
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->queue_lock, NULL);
    pthread_cond_init(&r->queue_changed, NULL);
    r->has_pipeliner = pthread_create(&r->pipeliner, NULL, pipeliner_main, r) == 0;
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
    int rc = call(redis_of(kv), 1, argv, NULL, &reply);
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

/* ---- admission ---- */

/* The EVALSHA arguments of one admission: keys, then args (the ADMIT script's comment). */
struct admit_args {
    char admitted[KEY_MAX], cooldown[KEY_MAX], ttl[24], cooldown_ms[24], max[24], expires[24];
    const char *argv[10];
    size_t lens[10];
};

static void admit_args(const struct kv_redis *r, const struct kv_admission *req, struct admit_args *a)
{
    const struct kv_job *job = req->job;
    key(r, a->admitted, "adm:", req->interaction_id);
    snprintf(a->cooldown, sizeof a->cooldown, "%scd:%s:%s", r->prefix, req->user_id, req->command_path);
    snprintf(a->ttl, sizeof a->ttl, "%" PRIu32, r->base.opts.dedupe_ttl_ms);
    snprintf(a->cooldown_ms, sizeof a->cooldown_ms, "%" PRIu32, req->cooldown_ms);
    snprintf(a->max, sizeof a->max, "%" PRIu32, job ? r->base.opts.stream_max : 0);
    snprintf(a->expires, sizeof a->expires, "%" PRIu64, job ? job->expires_at_wall_ms : 0);
    const char *argv[] = {a->admitted, a->cooldown, r->stream_key, a->ttl, a->cooldown_ms, a->max,
                          job ? job->interaction_id : "", job ? job->path : "", a->expires, job ? job->body : ""};
    memcpy(a->argv, argv, sizeof argv);
    for (size_t i = 0; i < 9; i++)
        a->lens[i] = strlen(argv[i]);
    a->lens[9] = job ? job->body_len : 0;
}

/* Reads the ADMIT script's {verdict, cooldown ms left}. */
static int admit_reply(const redisReply *reply, struct kv_admit_result *out)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 || reply->element[0]->type != REDIS_REPLY_INTEGER ||
        reply->element[0]->integer < KV_ADMITTED || reply->element[0]->integer > KV_QUEUE_FULL)
        return SLIMY_EINTERNAL;
    out->verdict = (enum kv_verdict)reply->element[0]->integer;
    long long left = reply->element[1]->type == REDIS_REPLY_INTEGER ? reply->element[1]->integer : 1;
    out->cooldown_remaining_ms = out->verdict == KV_COOLING_DOWN ? (uint64_t)(left > 0 ? left : 1) : 0;
    return SLIMY_OK;
}

static int redis_admit(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out)
{
    struct kv_redis *r = redis_of(kv);
    struct admit_args a;
    admit_args(r, req, &a);
    redisReply *reply;
    int rc = eval_ok(r, &ADMIT, 3, 10, a.argv, a.lens, &reply);
    if (rc)
        return rc;
    rc = admit_reply(reply, out);
    freeReplyObject(reply);
    return rc;
}

/* ---- pipelined admissions (kv_admit_async) ----
 * HTTP threads hand their admission over and serve other connections meanwhile; this thread
 * writes every admission waiting at once on one connection and reads the replies in order, so
 * a burst of N requests costs one round trip instead of N, and no HTTP thread waits on Redis. */

#define PIPELINE_MAX 256 /* admissions written before their replies are read */

static void fail_calls(struct admit_call *c, int status)
{
    while (c) {
        struct admit_call *next = c->next;
        c->done(status, NULL, c->arg);
        free(c);
        c = next;
    }
}

/* Sends the batch on *conn (connecting if needed) and answers every call of it. */
static void run_batch(struct kv_redis *r, redisContext **conn, struct admit_call *batch)
{
    size_t i = script_index(&ADMIT);
    char sha[41];
    pthread_mutex_lock(&r->lock);
    memcpy(sha, r->sha[i], sizeof sha);
    pthread_mutex_unlock(&r->lock);
    if ((!sha[0] && load_script(r, i, sha)) || (!*conn && !(*conn = connect_new(r)))) {
        fail_calls(batch, SLIMY_EUNAVAILABLE);
        return;
    }
    for (struct admit_call *c = batch; c; c = c->next) {
        struct admit_args a;
        admit_args(r, c->req, &a);
        const char *argv[13] = {"EVALSHA", sha, "3"};
        size_t lens[13] = {7, 40, 1};
        memcpy(&argv[3], a.argv, sizeof a.argv);
        memcpy(&lens[3], a.lens, sizeof a.lens);
        if (redisAppendCommandArgv(*conn, 13, argv, lens) != REDIS_OK) {
            redisFree(*conn);
            *conn = NULL;
            fail_calls(batch, SLIMY_EUNAVAILABLE);
            return;
        }
    }
    while (batch) {
        struct admit_call *c = batch;
        batch = c->next;
        void *raw = NULL;
        if (!*conn || redisGetReply(*conn, &raw) != REDIS_OK) {
            if (*conn) {
                redisFree(*conn);
                *conn = NULL;
            }
            c->next = batch;
            fail_calls(c, SLIMY_EUNAVAILABLE);
            return;
        }
        redisReply *reply = raw;
        struct kv_admit_result result = {0};
        int rc;
        if (is_error(reply, "NOSCRIPT")) /* Redis lost its scripts: this call reloads them */
            rc = redis_admit(&r->base, c->req, &result);
        else
            rc = reply->type == REDIS_REPLY_ERROR ? SLIMY_EINTERNAL : admit_reply(reply, &result);
        freeReplyObject(reply);
        c->done(rc, rc ? NULL : &result, c->arg);
        free(c);
    }
}

static void *pipeliner_main(void *arg)
{
    struct kv_redis *r = arg;
    redisContext *conn = NULL;
    pthread_mutex_lock(&r->queue_lock);
    for (;;) {
        while (!r->queue_head && !r->is_stopping)
            pthread_cond_wait(&r->queue_changed, &r->queue_lock);
        if (!r->queue_head)
            break; /* stopping, and nothing left */
        struct admit_call *batch = r->queue_head, *last = batch;
        for (size_t n = 1; n < PIPELINE_MAX && last->next; n++)
            last = last->next;
        r->queue_head = last->next;
        if (!r->queue_head)
            r->queue_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&r->queue_lock);
        run_batch(r, &conn, batch);
        pthread_mutex_lock(&r->queue_lock);
    }
    pthread_mutex_unlock(&r->queue_lock);
    if (conn)
        redisFree(conn);
    return NULL;
}

static void redis_admit_async(struct kv *kv, const struct kv_admission *req, kv_admit_fn done, void *arg)
{
    struct kv_redis *r = redis_of(kv);
    struct admit_call *c = calloc(1, sizeof *c);
    if (!c) {
        done(SLIMY_ENOMEM, NULL, arg);
        return;
    }
    *c = (struct admit_call){.req = req, .done = done, .arg = arg};
    pthread_mutex_lock(&r->queue_lock);
    bool is_refused = r->is_stopping || !r->has_pipeliner;
    if (!is_refused) {
        if (r->queue_tail)
            r->queue_tail->next = c;
        else
            r->queue_head = c;
        r->queue_tail = c;
        pthread_cond_signal(&r->queue_changed);
    }
    pthread_mutex_unlock(&r->queue_lock);
    if (is_refused) {
        free(c);
        done(SLIMY_EUNAVAILABLE, NULL, arg);
    }
}

/* ---- history ---- */

static const char ROLE_CODES[] = {[AI_SYSTEM] = 's', [AI_USER] = 'u', [AI_ASSISTANT] = 'a'};

static int redis_history_get(struct kv *kv, const char *name, struct chat_turns *out)
{
    struct kv_redis *r = redis_of(kv);
    char list[KEY_MAX], last[16];
    key(r, list, "hist:", name);
    snprintf(last, sizeof last, "%d", CHAT_HISTORY_MAX - 1);
    const char *argv[] = {"LRANGE", list, "0", last};
    redisReply *reply;
    int rc = call(r, 4, argv, NULL, &reply);
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
    key(r, list, "hist:", name);
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
        rc = eval_ok(r, &HISTORY_APPEND, 1, (int)(3 + n), argv, lens, NULL);
    for (size_t i = 0; i < n; i++)
        free(encoded[i]);
    return rc;
}

static int redis_history_reset(struct kv *kv, const char *name)
{
    struct kv_redis *r = redis_of(kv);
    char list[KEY_MAX];
    key(r, list, "hist:", name);
    const char *argv[] = {"DEL", list};
    redisReply *reply;
    int rc = call(r, 2, argv, NULL, &reply);
    if (!rc)
        freeReplyObject(reply);
    return rc;
}

/* ---- counters ---- */

static int redis_counters_add(struct kv *kv, const struct kv_counter *deltas, size_t n)
{
    struct kv_redis *r = redis_of(kv);
    char hash[KEY_MAX];
    key(r, hash, "counters", "");
    const char **argv = malloc((2 + 4 * n) * sizeof *argv);
    char (*numbers)[24] = malloc(3 * n * sizeof *numbers), max[16];
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
        rc = eval_ok(r, &COUNTERS_ADD, 1, (int)(2 + 4 * n), argv, NULL, NULL);
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
    key(r, hash, "counters", "");
    const char *argv[] = {"HGETALL", hash};
    redisReply *reply;
    int rc = call(r, 2, argv, NULL, &reply);
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

/* ---- the job stream ---- */

static int create_group(struct kv_redis *r)
{
    const char *argv[] = {"XGROUP", "CREATE", r->stream_key, GROUP, "0", "MKSTREAM"};
    redisReply *reply;
    int rc = call(r, 6, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_ERROR && !is_error(reply, "BUSYGROUP"))
        rc = SLIMY_EINTERNAL;
    freeReplyObject(reply);
    return rc;
}

/* Runs a stream command (blocking up to wait_ms), creating the consumer group first if Redis
 * says it has none. */
static int stream_call(struct kv_redis *r, int argc, const char **argv, uint32_t wait_ms, redisReply **out)
{
    int rc = call_waiting(r, argc, argv, NULL, wait_ms, out);
    if (!rc && is_error(*out, "NOGROUP")) {
        freeReplyObject(*out);
        *out = NULL;
        if (!(rc = create_group(r)))
            rc = call_waiting(r, argc, argv, NULL, wait_ms, out);
    }
    if (!rc && (*out)->type == REDIS_REPLY_ERROR) {
        freeReplyObject(*out);
        *out = NULL;
        rc = SLIMY_EINTERNAL;
    }
    return rc;
}

static bool field_is(const redisReply *f, const char *name)
{
    return f->type == REDIS_REPLY_STRING && (size_t)f->len == strlen(name) && memcmp(f->str, name, f->len) == 0;
}

static void copy_field(char *dst, size_t cap, const redisReply *v)
{
    size_t n = (size_t)v->len < cap - 1 ? (size_t)v->len : cap - 1;
    memcpy(dst, v->str, n);
    dst[n] = '\0';
}

/* Decodes one [id, [field, value, ...]] into out->items[out->n]; skips deleted entries. */
static int decode_entry(struct kv_redis *r, const redisReply *entry, bool taken_over, struct kv_entries *out)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 || entry->element[0]->type != REDIS_REPLY_STRING ||
        entry->element[1]->type != REDIS_REPLY_ARRAY)
        return SLIMY_OK;
    struct kv_entry *e = &out->items[out->n];
    memset(e, 0, sizeof *e);
    copy_field(e->id, sizeof e->id, entry->element[0]);
    const redisReply *fields = entry->element[1];
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *f = fields->element[i], *v = fields->element[i + 1];
        if (v->type != REDIS_REPLY_STRING)
            continue;
        if (field_is(f, "iid")) {
            copy_field(e->interaction_id, sizeof e->interaction_id, v);
        } else if (field_is(f, "path")) {
            copy_field(e->path, sizeof e->path, v);
        } else if (field_is(f, "exp")) {
            e->expires_at_wall_ms = strtoull(v->str, NULL, 10);
        } else if (field_is(f, "body") && !e->body) {
            if (!(e->body = malloc((size_t)v->len + 1)))
                return SLIMY_ENOMEM;
            memcpy(e->body, v->str, (size_t)v->len);
            e->body[v->len] = '\0';
            e->body_len = (size_t)v->len;
        }
    }
    if (!e->body) /* not one of ours */
        return SLIMY_OK;
    e->taken_over = taken_over;
    e->source = &r->base;
    out->n++;
    return SLIMY_OK;
}

static int decode_entries(struct kv_redis *r, const redisReply *list, bool taken_over, size_t max,
                          struct kv_entries *out)
{
    if (list->type != REDIS_REPLY_ARRAY)
        return SLIMY_OK;
    if (!out->items && !(out->items = calloc(max, sizeof *out->items)))
        return SLIMY_ENOMEM;
    int rc = SLIMY_OK;
    for (size_t i = 0; !rc && i < list->elements && out->n < max; i++)
        rc = decode_entry(r, list->element[i], taken_over, out);
    return rc;
}

static int redis_job_read(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                          struct kv_entries *out)
{
    if (from == KV_READ_PROCESS_ONLY)
        return SLIMY_OK; /* nothing of Redis lives in this process */
    struct kv_redis *r = redis_of(kv);
    char count[24], block[24];
    snprintf(count, sizeof count, "%zu", max);
    uint32_t wait_ms = block_ms < READ_BLOCK_MAX_MS ? block_ms : READ_BLOCK_MAX_MS;
    snprintf(block, sizeof block, "%" PRIu32, wait_ms);
    const char *argv[] = {"XREADGROUP", "GROUP", GROUP, consumer, "COUNT", count,
                          "BLOCK", block, "STREAMS", r->stream_key, ">"};
    int argc = 11;
    if (block_ms == 0) { /* BLOCK 0 would wait forever */
        memmove(&argv[6], &argv[8], 3 * sizeof argv[0]);
        argc = 9;
    }
    redisReply *reply;
    int rc = stream_call(r, argc, argv, wait_ms ? wait_ms + BLOCK_SLACK_MS : 0, &reply);
    if (rc)
        return rc;
    /* [[stream, [entries...]]], or nil when nothing came within the block time */
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 && reply->element[0]->type == REDIS_REPLY_ARRAY &&
        reply->element[0]->elements == 2)
        rc = decode_entries(r, reply->element[0]->element[1], false, max, out);
    freeReplyObject(reply);
    if (rc)
        kv_entries_free(out);
    return rc;
}

static int redis_job_autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max,
                               struct kv_entries *out)
{
    struct kv_redis *r = redis_of(kv);
    char idle[24], count[24], cursor[KV_ENTRY_ID_MAX] = "0-0";
    snprintf(idle, sizeof idle, "%" PRIu32, min_idle_ms);
    int rc = SLIMY_OK;
    /* XAUTOCLAIM scans a bounded slice of the pending list per call; a few rounds cover it. */
    for (int round = 0; !rc && round < AUTOCLAIM_ROUNDS && out->n < max; round++) {
        snprintf(count, sizeof count, "%zu", max - out->n);
        const char *argv[] = {"XAUTOCLAIM", r->stream_key, GROUP, consumer, idle, cursor, "COUNT", count};
        redisReply *reply;
        if ((rc = stream_call(r, 8, argv, 0, &reply)))
            break;
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || reply->element[0]->type != REDIS_REPLY_STRING) {
            rc = SLIMY_EINTERNAL;
        } else {
            copy_field(cursor, sizeof cursor, reply->element[0]);
            rc = decode_entries(r, reply->element[1], true, max, out);
        }
        freeReplyObject(reply);
        if (strcmp(cursor, "0-0") == 0)
            break;
    }
    if (rc)
        kv_entries_free(out);
    return rc;
}

static int redis_job_refresh(struct kv *kv, const char *consumer, const char *const *ids, size_t n, uint32_t idle_ms,
                             size_t *n_lost)
{
    struct kv_redis *r = redis_of(kv);
    char idle[24];
    snprintf(idle, sizeof idle, "%" PRIu32, idle_ms);
    const char **argv = malloc((4 + n) * sizeof *argv);
    if (!argv)
        return SLIMY_ENOMEM;
    argv[0] = r->stream_key;
    argv[1] = GROUP;
    argv[2] = consumer;
    argv[3] = idle;
    memcpy(&argv[4], ids, n * sizeof *ids);
    redisReply *reply = NULL;
    int rc = eval(r, &REFRESH, 1, (int)(4 + n), argv, NULL, &reply);
    free(argv);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_INTEGER)
        *n_lost = (size_t)reply->integer;
    else if (is_error(reply, "NOGROUP") || strstr(reply->str ? reply->str : "", "NOGROUP"))
        *n_lost = n; /* Redis came back empty: nothing is held any more */
    else
        rc = SLIMY_EINTERNAL;
    freeReplyObject(reply);
    return rc;
}

static int redis_job_done(struct kv *kv, const char *const *ids, const char *const *interaction_ids, size_t n)
{
    struct kv_redis *r = redis_of(kv);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" PRIu32, kv->opts.dedupe_ttl_ms);
    /* KEYS: stream, n delivered keys; ARGV: group, ttl, n ids. */
    const char **argv = malloc((3 + 2 * n) * sizeof *argv);
    char (*delivered)[KEY_MAX] = malloc(n * sizeof *delivered);
    int rc = argv && delivered ? SLIMY_OK : SLIMY_ENOMEM;
    if (!rc) {
        argv[0] = r->stream_key;
        argv[1 + n] = GROUP;
        argv[2 + n] = ttl;
        for (size_t i = 0; i < n; i++) {
            key(r, delivered[i], "dlv:", interaction_ids[i]);
            argv[1 + i] = delivered[i];
            argv[3 + n + i] = ids[i];
        }
        rc = eval_ok(r, &DONE, (int)(1 + n), (int)(3 + 2 * n), argv, NULL, NULL);
    }
    free(argv);
    free(delivered);
    return rc;
}

static int redis_job_was_delivered(struct kv *kv, const char *interaction_id, bool *out)
{
    struct kv_redis *r = redis_of(kv);
    char delivered[KEY_MAX];
    key(r, delivered, "dlv:", interaction_id);
    const char *argv[] = {"EXISTS", delivered};
    redisReply *reply;
    int rc = call(r, 2, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_INTEGER)
        *out = reply->integer > 0;
    else
        rc = SLIMY_EINTERNAL;
    freeReplyObject(reply);
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
