/* kv_redis_admit.c — admission on Redis: dedupe, cooldown and queueing in one Lua script, run
 * either by the caller (kv_admit) or by the thread that pipelines every caller's admissions on
 * one connection (kv_admit_async), so no HTTP thread waits on a round trip of its own. */
#include "kv/kv_redis_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

/* KEYS: admitted id, cooldown, stream. ARGV: dedupe ttl, cooldown ms, stream max (0: no job),
 * interaction id, path, expires, body. Returns {verdict, cooldown ms left}. */
static const struct redis_script ADMIT = {
    REDIS_SCRIPT_ADMIT, "admit",
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

/* The EVALSHA arguments of one admission: keys, then args (the ADMIT script's comment). */
struct admit_args {
    char admitted[KEY_MAX], cooldown[KEY_MAX], ttl[24], cooldown_ms[24], max[24], expires[24];
    const char *argv[10];
    size_t lens[10];
};

static void admit_args(const struct kv_redis *r, const struct kv_admission *req, struct admit_args *a)
{
    const struct kv_job *job = req->job;
    redis_key(r, a->admitted, "adm:", req->interaction_id);
    snprintf(a->cooldown, sizeof a->cooldown, "%scd:%s:%s", r->prefix, req->user_id, req->command_path);
    snprintf(a->ttl, sizeof a->ttl, "%" PRIu32, r->base.opts.dedupe_ttl_ms);
    snprintf(a->cooldown_ms, sizeof a->cooldown_ms, "%" PRIu32, req->cooldown_ms);
    snprintf(a->max, sizeof a->max, "%" PRIu32, job ? r->base.opts.stream_max : 0);
    snprintf(a->expires, sizeof a->expires, "%" PRIu64, job ? job->expires_at_wall_ms : 0);
    const char *argv[] = {a->admitted,
                          a->cooldown,
                          r->stream_key,
                          a->ttl,
                          a->cooldown_ms,
                          a->max,
                          job ? job->interaction_id : "",
                          job ? job->path : "",
                          a->expires,
                          job ? job->body : ""};
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

int redis_admit(struct kv *kv, const struct kv_admission *req, struct kv_admit_result *out)
{
    struct kv_redis *r = redis_of(kv);
    struct admit_args a;
    admit_args(r, req, &a);
    redisReply *reply;
    int rc = redis_eval_ok(r, &ADMIT, 3, 10, a.argv, a.lens, &reply);
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

/* An admission waiting for the pipeline thread. */
struct admit_call {
    struct admit_call *next;
    const struct kv_admission *req; /* borrowed until done runs */
    kv_admit_fn done;
    void *arg;
};

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
    char sha[41];
    redis_script_sha(r, &ADMIT, sha);
    if ((!sha[0] && redis_load_script(r, &ADMIT, sha)) || (!*conn && !(*conn = redis_connect(r)))) {
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
        if (redis_is_error(reply, "NOSCRIPT")) /* Redis lost its scripts: this call reloads them */
            rc = redis_admit(&r->base, c->req, &result);
        else
            rc = reply->type == REDIS_REPLY_ERROR ? SLIMY_EINTERNAL : admit_reply(reply, &result);
        freeReplyObject(reply);
        c->done(rc, rc ? NULL : &result, c->arg);
        free(c);
    }
}

void *redis_pipeline_main(void *arg)
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

void redis_admit_async(struct kv *kv, const struct kv_admission *req, kv_admit_fn done, void *arg)
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
