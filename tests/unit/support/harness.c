/* harness.c — the command test harness; see harness.h. */
#include "harness.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "ai/openai.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fetch.h"
#include "core/log.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/dispatch.h"
#include "interactions/reply_sink.h"
#include "persona/persona.h"

#define MAX_RECORDED 256 /* per harness: streamed replies add their interim edits */
#define DELIVERY_WAIT_MS 10000

struct recorded {
    char interaction_id[32];
    struct message msg;
    uint64_t at_mono_ms; /* when the sink got it */
};

struct harness {
    struct slimy_config cfg;
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
    char dir[64];
    struct store *store;
    struct fetch *engine;
    struct ai_client *ai;
    struct persona *persona;
    struct dispatch *d;
    unsigned long long next_id;

    pthread_mutex_t lock;
    pthread_cond_t delivered;
    struct recorded recorded[MAX_RECORDED];
    size_t n_recorded;
};

/* ---- the recording sink ---- */

static int record_delivery(void *self, const struct discord_delivery *where, struct message *msg,
                           discord_delivered_fn done, void *arg)
{
    struct harness *h = self;
    pthread_mutex_lock(&h->lock);
    if (h->n_recorded == MAX_RECORDED) {
        pthread_mutex_unlock(&h->lock);
        return SLIMY_ENOMEM;
    }
    struct recorded *rec = &h->recorded[h->n_recorded++];
    snprintf(rec->interaction_id, sizeof rec->interaction_id, "%s", where->interaction_id);
    rec->msg = *msg; /* the sink takes the contents over */
    rec->at_mono_ms = clock_mono_ms();
    message_init(msg);
    if (where->ephemeral)
        rec->msg.flags |= MESSAGE_FLAG_EPHEMERAL;
    pthread_cond_broadcast(&h->delivered);
    pthread_mutex_unlock(&h->lock);
    struct discord_delivery_result result = {.status = SLIMY_OK, .http_status = 200, .attempts = 1};
    done(&result, arg);
    return SLIMY_OK;
}

/* ---- lifecycle ---- */

static void set_env(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

static int load_config(struct harness *h, const struct harness_options *opt)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_keypair(pk, h->secret_key);
    char pk_hex[2 * sizeof pk + 1], sqlite_path[128], workers[16];
    sodium_bin2hex(pk_hex, sizeof pk_hex, pk, sizeof pk);
    snprintf(sqlite_path, sizeof sqlite_path, "%s/slimy.db", h->dir);
    snprintf(workers, sizeof workers, "%u", opt->worker_threads ? opt->worker_threads : 2);
    static const char *const cleared[] = {"DB_HOST", "REDIS_URL", "OPENAI_API_KEY", "DISCORD_TOKEN", "LOG_DIR"};
    for (size_t i = 0; i < sizeof cleared / sizeof cleared[0]; i++)
        unsetenv(cleared[i]);
    set_env("DISCORD_PUBLIC_KEY", pk_hex);
    set_env("DISCORD_APPLICATION_ID", "42");
    set_env("DISCORD_API_BASE", "http://127.0.0.1:9"); /* the sink replaces it; nothing listens there */
    set_env("SQLITE_PATH", sqlite_path);
    set_env("DATA_DIR", h->dir);
    set_env("WORKER_THREADS", workers);
    set_env("OPENAI_BASE_URL", opt->openai_base_url);
    set_env("ATTACHMENT_HOSTS", opt->attachment_hosts);
    set_env("PERSONALITY_FILE",
            opt->personality_file ? opt->personality_file : SLIMY_TEST_DATA_DIR "/../../bot-personality.md");
    set_env("LOG_LEVEL", "error");
    char err[CONFIG_ERROR_MAX];
    if (config_load(&h->cfg, true, err, sizeof err)) {
        fprintf(stderr, "harness: config: %s\n", err);
        return -1;
    }
    return 0;
}

struct harness *harness_start(const struct harness_options *opt)
{
    static const struct harness_options defaults = {0};
    if (!opt)
        opt = &defaults;
    if (sodium_init() < 0)
        return NULL;
    struct harness *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->delivered, NULL);
    h->next_id = 900000000000000000ULL;
    snprintf(h->dir, sizeof h->dir, "/tmp/slimy-harness.XXXXXX");
    if (!mkdtemp(h->dir) || load_config(h, opt)) {
        harness_stop(h);
        return NULL;
    }
    log_open(LOG_ERROR, NULL);
    char err[256];
    int rc = store_open(&h->cfg, true, &h->store, err, sizeof err);
    if (rc)
        fprintf(stderr, "harness: store: %s\n", err);
    if (!rc)
        rc = fetch_start(&h->engine);
    if (!rc && ai_configured(&h->cfg))
        rc = ai_client_new(&h->cfg, h->engine, &h->ai);
    if (!rc)
        rc = persona_open(h->cfg.personality_file, &h->persona);
    if (!rc) {
        struct reply_sink sink = {.deliver = record_delivery, .self = h};
        struct cmd_services deps = {.store = h->store, .ai = h->ai, .engine = h->engine, .persona = h->persona};
        rc = dispatch_new(&h->cfg, opt->commands ? opt->commands : registry_commands,
                          opt->commands ? opt->n_commands : registry_count, &sink, &deps, &h->d);
    }
    if (rc) {
        fprintf(stderr, "harness: start: %s\n", slimy_strerror(rc));
        harness_stop(h);
        return NULL;
    }
    return h;
}

void harness_stop(struct harness *h)
{
    if (!h)
        return;
    if (h->d) {
        dispatch_drain(h->d, clock_mono_ms() + 10000);
        dispatch_free(h->d);
    }
    fetch_free(h->engine);
    ai_client_free(h->ai);
    persona_close(h->persona);
    store_close(h->store);
    for (size_t i = 0; i < h->n_recorded; i++)
        message_cleanup(&h->recorded[i].msg);
    config_cleanup(&h->cfg);
    if (h->dir[0]) {
        char path[128];
        static const char *const files[] = {"slimy.db", "slimy.db-wal", "slimy.db-shm"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(path, sizeof path, "%s/%s", h->dir, files[i]);
            unlink(path);
        }
        rmdir(h->dir);
    }
    pthread_cond_destroy(&h->delivered);
    pthread_mutex_destroy(&h->lock);
    free(h);
    log_close();
}

const struct cmd_services *harness_services(struct harness *h)
{
    return dispatch_services(h->d);
}

struct store *harness_store(struct harness *h)
{
    return h->store;
}

size_t harness_deliveries(struct harness *h)
{
    pthread_mutex_lock(&h->lock);
    size_t n = h->n_recorded;
    pthread_mutex_unlock(&h->lock);
    return n;
}

/* ---- calls ---- */

/* The "context" member: the old default unless the call names one (or none). */
static int body_context(const struct harness_call *c)
{
    if (c->context)
        return c->context;
    return c->in_dm ? 1 : 0;
}

static int build_body(const struct harness_call *c, const char *id, struct buf *b)
{
    const char *user = c->user_id ? c->user_id : HARNESS_USER;
    const char *name = c->user_name ? c->user_name : "tester";
    const char *channel_id = c->channel_id ? c->channel_id : HARNESS_CHANNEL;
    int type = c->type ? c->type : 2;
    char channel[256];
    if (!c->channel)
        snprintf(channel, sizeof channel, "{\"id\":\"%s\",\"type\":%d}", channel_id, c->in_dm ? 1 : 0);
    int rc = buf_printf(b,
                        "{\"type\":%d,\"id\":\"%s\",\"application_id\":\"42\",\"token\":\"tok-%s\",\"version\":1,"
                        "\"channel_id\":\"%s\",\"channel\":%s,",
                        type, id, id, channel_id, c->channel ? c->channel : channel);
    if (!rc && body_context(c) != HARNESS_NO_CONTEXT)
        rc = buf_printf(b, "\"context\":%d,", body_context(c));
    if (!rc && c->owners)
        rc = buf_printf(b, "\"authorizing_integration_owners\":%s,", c->owners);
    if (!rc && c->message)
        rc = buf_printf(b, "\"message\":%s,", c->message);
    if (!rc && c->in_dm)
        rc = buf_printf(b, "\"user\":{\"id\":\"%s\",\"username\":\"%s\"},", user, name);
    else if (!rc)
        rc = buf_printf(b,
                        "\"guild_id\":\"%s\",\"member\":{\"user\":{\"id\":\"%s\",\"username\":\"%s\"},"
                        "\"permissions\":\"%s\",\"roles\":[]},",
                        c->guild_id ? c->guild_id : HARNESS_GUILD, user, name, c->permissions ? c->permissions : "0");
    if (!rc && type == HARNESS_COMPONENT) {
        rc = buf_printf(b, "\"data\":{\"custom_id\":\"%s\",\"component_type\":%d", c->custom_id ? c->custom_id : "",
                        c->component_type ? c->component_type : 2);
        if (!rc && c->values)
            rc = buf_printf(b, ",\"values\":%s", c->values);
        if (!rc)
            rc = buf_append_str(b, "}}");
        return rc;
    }
    if (!rc)
        rc = buf_printf(b, "\"data\":{\"id\":\"1\",\"name\":\"%s\",\"type\":%d", c->name ? c->name : "",
                        c->command_type ? c->command_type : 1);
    if (!rc && c->options)
        rc = buf_printf(b, ",\"options\":%s", c->options);
    if (!rc && c->resolved)
        rc = buf_printf(b, ",\"resolved\":%s", c->resolved);
    if (!rc && c->target_id)
        rc = buf_printf(b, ",\"target_id\":\"%s\"", c->target_id);
    if (!rc)
        rc = buf_append_str(b, "}}");
    return rc;
}

static void sign(const struct harness *h, const char *ts, const char *body, size_t len, char sig_hex[129])
{
    size_t ts_len = strlen(ts);
    unsigned char *msg = malloc(ts_len + len);
    memcpy(msg, ts, ts_len);
    memcpy(msg + ts_len, body, len);
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, NULL, msg, ts_len + len, h->secret_key);
    sodium_bin2hex(sig_hex, 129, sig, sizeof sig);
    free(msg);
}

static char *dup_or_empty(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    if (out) {
        memcpy(out, s ? s : "", s ? len : 0);
        out[s ? len : 0] = '\0';
    }
    return out;
}

/* The type-4 (or 7) answer's data, as a reply; type 8's choices. */
static void take_immediate(struct harness_reply *r, const cJSON *root)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(data, "content");
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(data, "flags");
    const cJSON *embeds = cJSON_GetObjectItemCaseSensitive(data, "embeds");
    const cJSON *components = cJSON_GetObjectItemCaseSensitive(data, "components");
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(data, "choices");
    const char *text = cJSON_IsString(content) ? content->valuestring : "";
    r->content = dup_or_empty(text, strlen(text));
    r->flags = cJSON_IsNumber(flags) ? (unsigned)flags->valuedouble : 0;
    r->embeds = cJSON_IsArray(embeds) ? cJSON_Duplicate(embeds, true) : NULL;
    r->components = cJSON_IsArray(components) ? cJSON_Duplicate(components, true) : NULL;
    r->choices = cJSON_IsArray(choices) ? cJSON_Duplicate(choices, true) : NULL;
}

/* A recorded message into r (whose content must be empty). */
static void copy_record(const struct recorded *rec, struct harness_reply *r)
{
    const struct message *m = &rec->msg;
    r->content = dup_or_empty(m->content.data, m->content.len);
    r->flags = m->flags;
    r->embeds = m->embeds ? cJSON_Duplicate(m->embeds, true) : NULL;
    r->components = m->components ? cJSON_Duplicate(m->components, true) : NULL;
    r->n_files = m->n_files;
    for (size_t f = 0; f < m->n_files && f < 10; f++) {
        snprintf(r->files[f].name, sizeof r->files[f].name, "%s", m->files[f].filename);
        snprintf(r->files[f].content_type, sizeof r->files[f].content_type, "%s", m->files[f].content_type);
        r->files[f].len = m->files[f].len;
    }
    r->is_delivered = true;
    r->delivered_mono_ms = rec->at_mono_ms;
}

/* The message the sink got for interaction id, taken out of the record. */
static bool take_delivered(struct harness *h, const char *id, struct harness_reply *r)
{
    uint64_t deadline = clock_mono_ms() + DELIVERY_WAIT_MS;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        for (size_t i = 0; i < h->n_recorded; i++) {
            struct recorded *rec = &h->recorded[i];
            if (strcmp(rec->interaction_id, id) != 0)
                continue;
            copy_record(rec, r);
            pthread_mutex_unlock(&h->lock);
            return true;
        }
        uint64_t now = clock_mono_ms();
        if (now >= deadline)
            break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1; /* re-check at least every second */
        pthread_cond_timedwait(&h->delivered, &h->lock, &until);
    }
    pthread_mutex_unlock(&h->lock);
    return false;
}

int harness_call(struct harness *h, const struct harness_call *call, struct harness_reply *r)
{
    memset(r, 0, sizeof *r);
    char id[32];
    if (call->id)
        snprintf(id, sizeof id, "%s", call->id);
    else
        snprintf(id, sizeof id, "%llu", h->next_id++);
    struct buf body;
    buf_init(&body, 1u << 20);
    if (build_body(call, id, &body))
        return SLIMY_ENOMEM;
    char ts[24], sig[129];
    snprintf(ts, sizeof ts, "%llu", (unsigned long long)(clock_wall_ms() / 1000u));
    sign(h, ts, body.data, body.len, sig);
    struct dispatch_reply out = {0};
    dispatch_interaction(h->d, sig, ts, body.data, body.len, &out);
    buf_cleanup(&body);
    r->http_status = out.http_status;
    r->raw = out.body;
    cJSON *root = cJSON_ParseWithLength(out.body, out.len);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    r->type = cJSON_IsNumber(type) ? type->valueint : 0;
    int rc = SLIMY_OK;
    if (r->type == 5 || r->type == 6) { /* 6 has no data: the delivery says it all */
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
        const cJSON *flags = cJSON_GetObjectItemCaseSensitive(data, "flags");
        r->flags = cJSON_IsNumber(flags) ? (unsigned)flags->valuedouble : 0;
        if (!take_delivered(h, id, r))
            rc = SLIMY_ETIMEOUT;
    } else {
        take_immediate(r, root);
    }
    if (!r->content)
        r->content = dup_or_empty("", 0);
    cJSON_Delete(root);
    return rc;
}

size_t harness_deliveries_of(struct harness *h, const char *interaction_id)
{
    size_t n = 0;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n_recorded; i++)
        n += strcmp(h->recorded[i].interaction_id, interaction_id) == 0;
    pthread_mutex_unlock(&h->lock);
    return n;
}

bool harness_delivery(struct harness *h, const char *interaction_id, size_t n, struct harness_reply *r)
{
    memset(r, 0, sizeof *r);
    bool found = false;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < h->n_recorded && !found; i++) {
        if (strcmp(h->recorded[i].interaction_id, interaction_id) != 0 || n-- > 0)
            continue;
        copy_record(&h->recorded[i], r);
        found = true;
    }
    pthread_mutex_unlock(&h->lock);
    return found;
}

int harness_call_final(struct harness *h, const struct harness_call *call, struct harness_reply *r)
{
    char id[32];
    if (call->id)
        snprintf(id, sizeof id, "%s", call->id);
    else
        snprintf(id, sizeof id, "%llu", h->next_id);
    int rc = harness_call(h, call, r);
    if (rc || r->type != 5)
        return rc;
    uint64_t deadline = clock_mono_ms() + DELIVERY_WAIT_MS;
    while (dispatch_jobs_in_flight(h->d) + dispatch_jobs_queued(h->d) > 0) {
        if (clock_mono_ms() >= deadline)
            return SLIMY_ETIMEOUT;
        usleep(5000);
    }
    size_t n = harness_deliveries_of(h, id);
    struct harness_reply last;
    if (!n || !harness_delivery(h, id, n - 1, &last))
        return SLIMY_ETIMEOUT;
    last.http_status = r->http_status;
    last.type = r->type;
    last.raw = r->raw;
    r->raw = NULL;
    harness_reply_cleanup(r);
    *r = last;
    return SLIMY_OK;
}

void harness_reply_cleanup(struct harness_reply *r)
{
    free(r->content);
    free(r->raw);
    free(r->text);
    cJSON_Delete(r->embeds);
    cJSON_Delete(r->components);
    cJSON_Delete(r->choices);
    memset(r, 0, sizeof *r);
}

/* ---- reading replies ---- */

static const char *embed_string(const struct harness_reply *r, size_t i, const char *key)
{
    const cJSON *embed = cJSON_GetArrayItem(r->embeds, (int)i);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(embed, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *harness_embed_title(const struct harness_reply *r, size_t i)
{
    return embed_string(r, i, "title");
}

const char *harness_embed_description(const struct harness_reply *r, size_t i)
{
    return embed_string(r, i, "description");
}

const char *harness_embed_field(const struct harness_reply *r, size_t i, const char *name)
{
    const cJSON *embed = cJSON_GetArrayItem(r->embeds, (int)i);
    const cJSON *field;
    cJSON_ArrayForEach(field, cJSON_GetObjectItemCaseSensitive(embed, "fields"))
    {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(field, "name");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(field, "value");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0 && cJSON_IsString(v))
            return v->valuestring;
    }
    return NULL;
}

const char *harness_embed_footer(const struct harness_reply *r, size_t i)
{
    const cJSON *footer = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r->embeds, (int)i), "footer");
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(footer, "text");
    return cJSON_IsString(text) ? text->valuestring : NULL;
}

const cJSON *harness_component(const struct harness_reply *r, const char *custom_id)
{
    const cJSON *row, *c;
    cJSON_ArrayForEach(row, r->components)
    {
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(row, "components"))
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "custom_id");
            if (cJSON_IsString(id) && strcmp(id->valuestring, custom_id) == 0)
                return c;
        }
    }
    return NULL;
}

static const char *choice_string(const struct harness_reply *r, size_t i, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r->choices, (int)i), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *harness_choice_name(const struct harness_reply *r, size_t i)
{
    return choice_string(r, i, "name");
}

const char *harness_choice_value(const struct harness_reply *r, size_t i)
{
    return choice_string(r, i, "value");
}

static void append_line(struct buf *b, const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v))
        buf_printf(b, "%s\n", v->valuestring);
}

const char *harness_reply_text(struct harness_reply *r)
{
    if (r->text)
        return r->text;
    struct buf b;
    buf_init(&b, 1u << 20);
    buf_printf(&b, "%s\n", r->content ? r->content : "");
    const cJSON *embed;
    cJSON_ArrayForEach(embed, r->embeds)
    {
        append_line(&b, embed, "title");
        append_line(&b, embed, "description");
        const cJSON *field;
        cJSON_ArrayForEach(field, cJSON_GetObjectItemCaseSensitive(embed, "fields"))
        {
            append_line(&b, field, "name");
            append_line(&b, field, "value");
        }
        append_line(&b, cJSON_GetObjectItemCaseSensitive(embed, "footer"), "text");
    }
    r->text = buf_detach(&b);
    return r->text ? r->text : "";
}

/* ---- conveniences for cmocka tests ---- */

int harness_setup(void **state)
{
    *state = harness_start(NULL);
    return *state ? 0 : -1;
}

int harness_teardown(void **state)
{
    harness_stop(*state);
    return 0;
}

void harness_call_deferred(struct harness *h, const struct harness_call *call, struct harness_reply *r)
{
    assert_int_equal(harness_call(h, call, r), 0);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->type, 5);
    assert_true(r->is_delivered);
}

int harness_call_on_message(struct harness *h, const char *name, const char *user_id, const char *fields,
                            struct harness_reply *r)
{
    char resolved[4096];
    snprintf(resolved, sizeof resolved,
             "{\"messages\":{\"" HARNESS_MESSAGE_ID "\":{\"id\":\"" HARNESS_MESSAGE_ID "\"%s%s}}}", fields ? "," : "",
             fields ? fields : "");
    return harness_call(h,
                        &(struct harness_call){.name = name,
                                               .command_type = 3,
                                               .user_id = user_id,
                                               .target_id = HARNESS_MESSAGE_ID,
                                               .resolved = resolved},
                        r);
}

size_t harness_count_memories(struct harness *h, const char *user_id, const char *scope_id)
{
    struct store_memories mem = {0};
    assert_int_equal(store_memory_list(harness_store(h), user_id, scope_id, 100, &mem), 0);
    size_t n = mem.n;
    store_memories_free(&mem);
    return n;
}

struct store_counts harness_counts(struct harness *h)
{
    struct store_counts counts;
    assert_int_equal(store_counts(harness_store(h), &counts), 0);
    return counts;
}

char *harness_string_options(const char *name, const char *value, ...)
{
    cJSON *opts = cJSON_CreateArray();
    va_list ap;
    va_start(ap, value);
    while (name) {
        if (value) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", name);
            cJSON_AddNumberToObject(o, "type", 3);
            cJSON_AddStringToObject(o, "value", value);
            cJSON_AddItemToArray(opts, o);
        }
        name = va_arg(ap, const char *);
        value = name ? va_arg(ap, const char *) : NULL;
    }
    va_end(ap);
    char *text = cJSON_PrintUnformatted(opts);
    cJSON_Delete(opts);
    assert_non_null(text);
    return text;
}
