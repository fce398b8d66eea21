/* discord_rest.c — webhook follow-ups with rate limits and retries, and command registration.
 * A delivery is a small state machine driven by the outbound engine: attempt → done → decide
 * (next part, retry later, or finish). All delivery state is touched on the engine thread only. */
#include "interactions/discord_rest.h"

#include <math.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "interactions/response.h"
#include "interactions/split.h"

#define RESPONSE_MAX_BYTES (256 * 1024) /* Discord's answers are small; cap what we keep */
#define ATTEMPT_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MS 10000L
#define NOT_FOUND_RETRIES 3      /* the 404 race right after a defer */
#define NOT_FOUND_DELAY_MS 1000
#define SERVER_ERROR_RETRIES 10 /* ~1 minute of backoff; the deadline still rules */
#define RATE_LIMIT_RETRIES 10

const char DISCORD_USER_AGENT[] = "DiscordBot (" SLIMY_PROJECT_URL ", " SLIMY_VERSION ")";

struct discord_rest {
    const struct slimy_config *cfg;
    struct fetch *engine;
    uint64_t global_until_mono_ms; /* a global 429 pauses every delivery until then (engine thread) */
};

struct delivery {
    struct discord_rest *rest;
    char *webhook_url;        /* {api}/webhooks/{app}/{token}: holds the token, never logged */
    char interaction_id[32];  /* for logs */
    bool ephemeral;
    uint64_t deadline_mono_ms; /* token end on the monotonic clock */
    struct message msg;
    size_t sent_bytes;        /* content bytes delivered so far */
    size_t chunk_bytes;       /* content bytes in the attempt in flight */
    unsigned part;            /* 0 = PATCH @original, then follow-up POSTs */
    unsigned attempts;        /* total HTTP requests */
    unsigned not_found_retries, server_error_retries, rate_limit_retries;
    uint64_t not_before_mono_ms; /* bucket exhausted: wait until then */
    long http_status;
    CURL *easy;
    struct curl_slist *headers;
    curl_mime *mime;
    char *body;
    struct buf response;
    discord_delivered_fn done;
    void *done_arg;
};

static void attempt(void *arg);

/* ---- lifecycle ---- */

int discord_rest_new(const struct slimy_config *cfg, struct fetch *engine, struct discord_rest **out)
{
    struct discord_rest *rest = calloc(1, sizeof *rest);
    if (!rest)
        return SLIMY_ENOMEM;
    rest->cfg = cfg;
    rest->engine = engine;
    *out = rest;
    return SLIMY_OK;
}

void discord_rest_free(struct discord_rest *rest)
{
    free(rest);
}

static void reset_request(struct delivery *d)
{
    curl_slist_free_all(d->headers);
    curl_mime_free(d->mime);
    free(d->body);
    d->headers = NULL;
    d->mime = NULL;
    d->body = NULL;
    buf_cleanup(&d->response);
}

static void delivery_free(struct delivery *d)
{
    reset_request(d);
    if (d->easy)
        curl_easy_cleanup(d->easy);
    if (d->webhook_url) {
        sodium_memzero(d->webhook_url, strlen(d->webhook_url));
        free(d->webhook_url);
    }
    message_cleanup(&d->msg);
    free(d);
}

static void finish(struct delivery *d, int status)
{
    struct discord_delivery_result result = {
        .status = status, .http_status = d->http_status, .attempts = d->attempts};
    if (status)
        log_warn("reply dropped", LOG_S("interaction_id", d->interaction_id), LOG_S("reason", slimy_strerror(status)),
                 LOG_I("http_status", d->http_status), LOG_I("attempts", d->attempts));
    else
        log_debug("reply delivered", LOG_S("interaction_id", d->interaction_id), LOG_I("parts", d->part),
                  LOG_I("attempts", d->attempts));
    discord_delivered_fn done = d->done;
    void *arg = d->done_arg;
    delivery_free(d);
    done(&result, arg);
}

int discord_reply_deliver(struct discord_rest *rest, const struct discord_delivery *where, struct message *msg,
                          discord_delivered_fn done, void *arg)
{
    struct delivery *d = calloc(1, sizeof *d);
    if (!d)
        return SLIMY_ENOMEM;
    d->rest = rest;
    d->ephemeral = where->ephemeral;
    d->done = done;
    d->done_arg = arg;
    snprintf(d->interaction_id, sizeof d->interaction_id, "%s", where->interaction_id ? where->interaction_id : "");
    buf_init(&d->response, RESPONSE_MAX_BYTES);
    message_init(&d->msg);

    uint64_t now_wall = clock_wall_ms(), now_mono = clock_mono_ms();
    d->deadline_mono_ms = where->expires_at_wall_ms > now_wall ? now_mono + (where->expires_at_wall_ms - now_wall)
                                                               : now_mono;

    struct buf url;
    buf_init(&url, 4096);
    int rc = buf_printf(&url, "%s/webhooks/%s/%s", rest->cfg->api_base, where->application_id, where->token);
    d->webhook_url = rc ? NULL : buf_detach(&url);
    buf_cleanup(&url);
    d->easy = curl_easy_init();
    if (!d->webhook_url || !d->easy) {
        delivery_free(d);
        return rc ? rc : SLIMY_ENOMEM;
    }
    /* Move the message in: the caller's struct is left empty. */
    d->msg = *msg;
    message_init(msg);
    if (message_is_empty(&d->msg))
        message_set_text(&d->msg, "✅ Done.");

    rc = fetch_at(rest->engine, 0, attempt, d);
    if (rc) {
        *msg = d->msg; /* give it back untouched on failure */
        message_init(&d->msg);
        delivery_free(d);
    }
    return rc;
}

/* ---- one attempt ---- */

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
    struct delivery *d = arg;
    size_t n = size * nmemb;
    buf_append(&d->response, data, n); /* past the cap we just stop keeping it */
    return n;
}

/* Builds the request body for the current part: JSON, or multipart when part 0 has files. */
static int build_body(struct delivery *d)
{
    const char *text = d->msg.content.data ? d->msg.content.data : "";
    size_t left = d->msg.content.len - d->sent_bytes;
    d->chunk_bytes = split_chunk_len(text + d->sent_bytes, left, MESSAGE_CONTENT_MAX_CHARS);
    bool first = d->part == 0;
    unsigned flags = (!first && d->ephemeral) ? MESSAGE_FLAG_EPHEMERAL : 0;
    cJSON *payload = response_webhook_payload(&d->msg, text + d->sent_bytes, d->chunk_bytes, first, flags);
    if (!payload)
        return SLIMY_ENOMEM;
    d->body = cJSON_PrintUnformatted(payload);
    cJSON_Delete(payload);
    if (!d->body)
        return SLIMY_ENOMEM;

    if (!(first && d->msg.n_files)) {
        d->headers = curl_slist_append(d->headers, "Content-Type: application/json");
        curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->body);
        curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
        return d->headers ? SLIMY_OK : SLIMY_ENOMEM;
    }
    /* IMPLEMENTATION-OF: Discord "Uploading Files": payload_json plus files[n]. */
    d->mime = curl_mime_init(d->easy);
    curl_mimepart *part = curl_mime_addpart(d->mime);
    if (!part)
        return SLIMY_ENOMEM;
    curl_mime_name(part, "payload_json");
    curl_mime_data(part, d->body, CURL_ZERO_TERMINATED);
    curl_mime_type(part, "application/json");
    for (size_t i = 0; i < d->msg.n_files; i++) {
        const struct message_file *f = &d->msg.files[i];
        char name[32];
        snprintf(name, sizeof name, "files[%zu]", i);
        if (!(part = curl_mime_addpart(d->mime)))
            return SLIMY_ENOMEM;
        curl_mime_name(part, name);
        curl_mime_data(part, f->data, f->len);
        curl_mime_filename(part, f->filename);
        curl_mime_type(part, f->content_type);
    }
    curl_easy_setopt(d->easy, CURLOPT_MIMEPOST, d->mime);
    return SLIMY_OK;
}

static void on_done(CURL *easy, CURLcode result, void *arg);

static void attempt(void *arg)
{
    struct delivery *d = arg;
    uint64_t now = clock_mono_ms();
    if (now >= d->deadline_mono_ms) {
        finish(d, SLIMY_ETIMEOUT);
        return;
    }
    uint64_t wait_until = d->not_before_mono_ms;
    if (d->rest->global_until_mono_ms > wait_until)
        wait_until = d->rest->global_until_mono_ms;
    if (wait_until > now) {
        if (wait_until >= d->deadline_mono_ms) {
            finish(d, SLIMY_ETIMEOUT);
        } else if (fetch_at(d->rest->engine, wait_until, attempt, d)) {
            finish(d, SLIMY_EUNAVAILABLE);
        }
        return;
    }

    reset_request(d);
    curl_easy_reset(d->easy);
    int rc = build_body(d);
    if (rc) {
        finish(d, rc);
        return;
    }
    char url[4200];
    if (d->part == 0)
        snprintf(url, sizeof url, "%s/messages/@original", d->webhook_url);
    else
        snprintf(url, sizeof url, "%s", d->webhook_url);
    long timeout = ATTEMPT_TIMEOUT_MS;
    if ((long)(d->deadline_mono_ms - now) < timeout)
        timeout = (long)(d->deadline_mono_ms - now);
    curl_easy_setopt(d->easy, CURLOPT_URL, url);
    curl_easy_setopt(d->easy, CURLOPT_CUSTOMREQUEST, d->part == 0 ? "PATCH" : "POST");
    curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
    curl_easy_setopt(d->easy, CURLOPT_USERAGENT, DISCORD_USER_AGENT);
    curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(d->easy, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(d->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    sodium_memzero(url, sizeof url);
    d->attempts++;
    if (fetch_add(d->rest->engine, d->easy, on_done, d))
        finish(d, SLIMY_ENOMEM);
}

/* Seconds from a header, as a double (Retry-After, X-RateLimit-Reset-After). -1 if absent. */
static double header_seconds(CURL *easy, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
        return -1;
    char *end;
    double v = strtod(h->value, &end);
    return (end == h->value || !isfinite(v) || v < 0) ? -1 : v;
}

static bool header_is(CURL *easy, const char *name, const char *value)
{
    struct curl_header *h = NULL;
    return curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK && h &&
           strcasecmp(h->value, value) == 0;
}

static void retry_at(struct delivery *d, uint64_t due)
{
    if (due >= d->deadline_mono_ms) {
        finish(d, SLIMY_ETIMEOUT);
        return;
    }
    if (fetch_at(d->rest->engine, due, attempt, d))
        finish(d, SLIMY_EUNAVAILABLE);
}

static void on_rate_limited(struct delivery *d, CURL *easy, uint64_t now)
{
    double wait_s = header_seconds(easy, "Retry-After");
    bool global = header_is(easy, "X-RateLimit-Global", "true");
    cJSON *body = cJSON_ParseWithLength(d->response.data ? d->response.data : "", d->response.len);
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(body, "retry_after");
    if (cJSON_IsNumber(ra) && ra->valuedouble >= 0)
        wait_s = ra->valuedouble; /* the body has the fractional value */
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "global")))
        global = true;
    cJSON_Delete(body);
    if (wait_s < 0)
        wait_s = 1;
    uint64_t due = now + (uint64_t)ceil(wait_s * 1000.0);
    if (global && due > d->rest->global_until_mono_ms)
        d->rest->global_until_mono_ms = due;
    log_warn("discord rate limited", LOG_S("interaction_id", d->interaction_id), LOG_F("retry_after_s", wait_s),
             LOG_B("global", global));
    if (++d->rate_limit_retries > RATE_LIMIT_RETRIES) {
        finish(d, SLIMY_ELIMITED);
        return;
    }
    retry_at(d, due);
}

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    struct delivery *d = arg;
    uint64_t now = clock_mono_ms();
    long status = 0;
    if (result == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    d->http_status = status;

    if (result != CURLE_OK || status >= 500) {
        log_warn("discord request failed", LOG_S("interaction_id", d->interaction_id), LOG_I("http_status", status),
                 LOG_S("error", result != CURLE_OK ? curl_easy_strerror(result) : "server error"));
        if (++d->server_error_retries > SERVER_ERROR_RETRIES) {
            finish(d, result != CURLE_OK ? SLIMY_EUNAVAILABLE : SLIMY_EUPSTREAM);
            return;
        }
        retry_at(d, now + fetch_backoff_ms(d->server_error_retries - 1));
        return;
    }
    if (status == 429) {
        on_rate_limited(d, easy, now);
        return;
    }
    if (status == 404 && d->part == 0 && d->not_found_retries < NOT_FOUND_RETRIES) {
        d->not_found_retries++;
        retry_at(d, now + NOT_FOUND_DELAY_MS);
        return;
    }
    if (status < 200 || status >= 300) {
        cJSON *body = cJSON_ParseWithLength(d->response.data ? d->response.data : "", d->response.len);
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "code");
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(body, "message");
        log_error("discord refused the reply", LOG_S("interaction_id", d->interaction_id),
                  LOG_I("http_status", status), LOG_I("discord_code", cJSON_IsNumber(code) ? code->valueint : 0),
                  LOG_S("discord_message", cJSON_IsString(message) ? message->valuestring : NULL));
        cJSON_Delete(body);
        finish(d, status == 404 ? SLIMY_ENOTFOUND : SLIMY_EUPSTREAM);
        return;
    }

    /* Success: respect an exhausted bucket before the next part. */
    d->server_error_retries = d->rate_limit_retries = 0;
    double reset_after = header_seconds(easy, "X-RateLimit-Reset-After");
    if (header_is(easy, "X-RateLimit-Remaining", "0") && reset_after > 0)
        d->not_before_mono_ms = now + (uint64_t)ceil(reset_after * 1000.0);
    d->sent_bytes += d->chunk_bytes;
    d->part++;
    if (d->sent_bytes >= d->msg.content.len) {
        finish(d, SLIMY_OK);
        return;
    }
    retry_at(d, d->not_before_mono_ms > now ? d->not_before_mono_ms : now);
}

/* ---- registration (blocking; CLI only) ---- */

int discord_commands_register(const struct slimy_config *cfg, const char *guild_id, const char *commands_json,
                              size_t *n_registered, char *err, size_t err_len)
{
    if (err_len)
        err[0] = '\0';
    if (!cfg->bot_token) {
        snprintf(err, err_len, "DISCORD_TOKEN is not set: registering commands needs the bot token");
        return SLIMY_EINVAL;
    }
    if (!cfg->application_id[0]) {
        snprintf(err, err_len, "DISCORD_APPLICATION_ID is not set: registering commands needs the application id");
        return SLIMY_EINVAL;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char url[1024];
    if (guild_id && *guild_id)
        snprintf(url, sizeof url, "%s/applications/%s/guilds/%s/commands", cfg->api_base, cfg->application_id,
                 guild_id);
    else
        snprintf(url, sizeof url, "%s/applications/%s/commands", cfg->api_base, cfg->application_id);

    struct buf auth;
    buf_init(&auth, 1024);
    struct delivery sink; /* reuse collect() with a response buffer */
    memset(&sink, 0, sizeof sink);
    buf_init(&sink.response, RESPONSE_MAX_BYTES);
    CURL *easy = curl_easy_init();
    struct curl_slist *headers = NULL;
    int rc = SLIMY_ENOMEM;
    if (!easy || buf_printf(&auth, "Authorization: Bot %s", cfg->bot_token))
        goto out;
    headers = curl_slist_append(headers, auth.data);
    headers = curl_slist_append(headers, "Content-Type: application/json");
    if (!headers)
        goto out;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, commands_json);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, DISCORD_USER_AGENT);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ATTEMPT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(easy);
    if (cc != CURLE_OK) {
        snprintf(err, err_len, "could not reach Discord at %s: %s", cfg->api_base, curl_easy_strerror(cc));
        rc = SLIMY_EUNAVAILABLE;
        goto out;
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    cJSON *body = cJSON_ParseWithLength(sink.response.data ? sink.response.data : "", sink.response.len);
    if (status >= 200 && status < 300) {
        *n_registered = cJSON_IsArray(body) ? (size_t)cJSON_GetArraySize(body) : 0;
        rc = SLIMY_OK;
    } else if (status == 401) {
        snprintf(err, err_len, "Discord answered 401 Unauthorized: DISCORD_TOKEN is wrong or was reset");
        rc = SLIMY_EPERM;
    } else if (status == 429) {
        const cJSON *ra = cJSON_GetObjectItemCaseSensitive(body, "retry_after");
        snprintf(err, err_len, "Discord answered 429 Too Many Requests: try again in %.1f s",
                 cJSON_IsNumber(ra) ? ra->valuedouble : header_seconds(easy, "Retry-After"));
        rc = SLIMY_ELIMITED;
    } else {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(body, "message");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "code");
        snprintf(err, err_len, "Discord answered %ld: %s (code %d)", status,
                 cJSON_IsString(m) ? m->valuestring : "no message", cJSON_IsNumber(code) ? code->valueint : 0);
        rc = status == 403 ? SLIMY_EPERM : SLIMY_EUPSTREAM;
    }
    cJSON_Delete(body);
out:
    if (rc == SLIMY_ENOMEM && !err[0])
        snprintf(err, err_len, "out of memory");
    curl_slist_free_all(headers);
    if (easy)
        curl_easy_cleanup(easy);
    if (auth.data)
        sodium_memzero(auth.data, auth.len);
    buf_cleanup(&auth);
    buf_cleanup(&sink.response);
    return rc;
}
