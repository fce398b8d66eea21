/* kv_redis_stream.c — the job stream on Redis: a Stream read through the consumer group
 * "workers" (XREADGROUP), claims refreshed or handed back by a script that only touches the
 * caller's own entries, XAUTOCLAIM for entries left by a replica that died, and a script that
 * records deliveries before acknowledging a batch of entries. */
#include "kv/kv_redis_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#define READ_BLOCK_MAX_MS 100 /* longest XREADGROUP BLOCK */
/* Redis checks blocked clients' timeouts on its cron (10 times a second by default), so a
 * BLOCK of 100 ms may answer after 200; a blocking read waits that much past its timeout. */
#define BLOCK_SLACK_MS 200
#define AUTOCLAIM_ROUNDS 4

/* KEYS: stream. ARGV: group, consumer, idle ms, ids... Sets the idle time of the entries the
 * consumer still holds; returns how many it no longer holds. */
static const struct redis_script REFRESH = {
    REDIS_SCRIPT_REFRESH, "refresh",
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
static const struct redis_script DONE = {REDIS_SCRIPT_DONE, "done",
                                         "for i = 2, #KEYS do\n"
                                         "  redis.call('SET', KEYS[i], '1', 'PX', ARGV[2])\n"
                                         "  pcall(redis.call, 'XACK', KEYS[1], ARGV[1], ARGV[i + 1])\n"
                                         "  redis.call('XDEL', KEYS[1], ARGV[i + 1])\n"
                                         "end\n"
                                         "return 1\n"};


static int create_group(struct kv_redis *r)
{
    const char *argv[] = {"XGROUP", "CREATE", r->stream_key, GROUP, "0", "MKSTREAM"};
    redisReply *reply;
    int rc = redis_call(r, 6, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_ERROR && !redis_is_error(reply, "BUSYGROUP"))
        rc = SLIMY_EINTERNAL;
    freeReplyObject(reply);
    return rc;
}

/* Runs a stream command (blocking up to wait_ms), creating the consumer group first if Redis
 * says it has none. */
static int stream_call(struct kv_redis *r, int argc, const char **argv, uint32_t wait_ms, redisReply **out)
{
    int rc = redis_call_waiting(r, argc, argv, NULL, wait_ms, out);
    if (!rc && redis_is_error(*out, "NOGROUP")) {
        freeReplyObject(*out);
        *out = NULL;
        if (!(rc = create_group(r)))
            rc = redis_call_waiting(r, argc, argv, NULL, wait_ms, out);
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

int redis_job_read(struct kv *kv, const char *consumer, size_t max, uint32_t block_ms, enum kv_read_from from,
                   struct kv_entries *out)
{
    if (from == KV_READ_PROCESS_ONLY)
        return SLIMY_OK; /* nothing of Redis lives in this process */
    struct kv_redis *r = redis_of(kv);
    char count[24], block[24];
    snprintf(count, sizeof count, "%zu", max);
    uint32_t wait_ms = block_ms < READ_BLOCK_MAX_MS ? block_ms : READ_BLOCK_MAX_MS;
    snprintf(block, sizeof block, "%" PRIu32, wait_ms);
    const char *argv[] = {"XREADGROUP", "GROUP", GROUP,     consumer,      "COUNT", count,
                          "BLOCK",      block,   "STREAMS", r->stream_key, ">"};
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

int redis_job_autoclaim(struct kv *kv, const char *consumer, uint32_t min_idle_ms, size_t max, struct kv_entries *out)
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

int redis_job_refresh(struct kv *kv, const char *consumer, const char *const *ids, size_t n, uint32_t idle_ms,
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
    int rc = redis_eval(r, &REFRESH, 1, (int)(4 + n), argv, NULL, &reply);
    free(argv);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_INTEGER)
        *n_lost = (size_t)reply->integer;
    else if (redis_is_error(reply, "NOGROUP") || strstr(reply->str ? reply->str : "", "NOGROUP"))
        *n_lost = n; /* Redis came back empty: nothing is held any more */
    else
        rc = SLIMY_EINTERNAL;
    freeReplyObject(reply);
    return rc;
}

int redis_job_done(struct kv *kv, const char *const *ids, const char *const *interaction_ids, size_t n)
{
    struct kv_redis *r = redis_of(kv);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" PRIu32, kv->opts.dedupe_ttl_ms);
    /* KEYS: stream, n delivered keys; ARGV: group, ttl, n ids. */
    const char **argv = malloc((3 + 2 * n) * sizeof *argv);
    char(*delivered)[KEY_MAX] = malloc(n * sizeof *delivered);
    int rc = argv && delivered ? SLIMY_OK : SLIMY_ENOMEM;
    if (!rc) {
        argv[0] = r->stream_key;
        argv[1 + n] = GROUP;
        argv[2 + n] = ttl;
        for (size_t i = 0; i < n; i++) {
            redis_key(r, delivered[i], "dlv:", interaction_ids[i]);
            argv[1 + i] = delivered[i];
            argv[3 + n + i] = ids[i];
        }
        rc = redis_eval_ok(r, &DONE, (int)(1 + n), (int)(3 + 2 * n), argv, NULL, NULL);
    }
    free(argv);
    free(delivered);
    return rc;
}

int redis_job_was_delivered(struct kv *kv, const char *interaction_id, bool *out)
{
    struct kv_redis *r = redis_of(kv);
    char delivered[KEY_MAX];
    redis_key(r, delivered, "dlv:", interaction_id);
    const char *argv[] = {"EXISTS", delivered};
    redisReply *reply;
    int rc = redis_call(r, 2, argv, NULL, &reply);
    if (rc)
        return rc;
    if (reply->type == REDIS_REPLY_INTEGER)
        *out = reply->integer > 0;
    else
        rc = SLIMY_EINTERNAL;
    freeReplyObject(reply);
    return rc;
}
