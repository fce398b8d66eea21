/* discord_rest.c — webhook follow-ups with rate limits and retries; see discord_rest.h.
 * A delivery is a small state machine driven by the outbound engine: attempt → done → decide
 * (next part, retry later, or finish). Request setup, the response collector and the retry
 * decision are the shared ones (fetch_http.h); what is Discord's own stays here: the parts, the
 * 429 body, the global pause and the bucket wait. All delivery state is touched on the engine
 * thread only. */
#include "interactions/discord_rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/fetch_http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/utf8.h"
#include "interactions/response.h"
#include "interactions/split.h"

#define RESPONSE_MAX_BYTES (256 * 1024) /* Discord's answers are small; cap what we keep */
#define ATTEMPT_TIMEOUT_MS 30000L
#define SNOWFLAKE_MAX_DIGITS 20  /* a 64-bit id */
#define TOKEN_MAX_BYTES 500      /* interaction tokens are a few hundred characters */
#define DISCORD_TEXT_LOG_MAX 300 /* Discord's error message, as it goes into our logs */

const char DISCORD_USER_AGENT[] = "DiscordBot (" SLIMY_PROJECT_URL ", " SLIMY_VERSION ")";

/* ~1 minute of backoff for 5xx and network errors; the deadline still rules. */
#define DELIVERY_POLICY .server_error_max = 10, .rate_limit_max = 10

/* Part 0 edits @original, which Discord may not know yet right after the defer (a known race):
 * a 404 there is retried a few times. A follow-up's 404 is final. */
static const struct fetch_retry_policy FIRST_PART = {DELIVERY_POLICY, .soon_status = 404, .soon_max = 3,
                                                     .soon_delay_ms = 1000};
static const struct fetch_retry_policy FOLLOW_UP = {DELIVERY_POLICY};

struct discord_rest {
    const struct slimy_config *cfg;
    struct fetch *engine;
    uint64_t global_until_mono_ms; /* a global 429 pauses every delivery until then (engine thread) */
};

struct delivery {
    struct discord_rest *rest;
    char *webhook_url;       /* {api}/webhooks/{app}/{token}: holds the token, never logged */
    char interaction_id[32]; /* for logs */
    bool ephemeral;
    uint64_t deadline_mono_ms; /* token end on the monotonic clock */
    struct message msg;
    size_t sent_bytes;                /* content bytes delivered so far */
    size_t chunk_bytes;               /* content bytes in the attempt in flight */
    unsigned part;                    /* 0 = PATCH @original, then follow-up POSTs */
    unsigned attempts;                /* total HTTP requests */
    struct fetch_retry_state retries; /* for the part in flight */
    uint64_t not_before_mono_ms;      /* bucket exhausted: wait until then */
    long http_status;
    CURL *easy;
    struct curl_slist *headers;
    curl_mime *mime;
    char *body;
    struct fetch_response response;
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
    fetch_response_reset(&d->response);
}

static void delivery_free(struct delivery *d)
{
    reset_request(d);
    fetch_response_cleanup(&d->response);
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
    struct discord_delivery_result result = {.status = status, .http_status = d->http_status, .attempts = d->attempts};
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

/* A snowflake as Discord writes it: 1 to 20 digits, no leading zero. */
static bool is_snowflake(const char *s)
{
    size_t n = s ? strspn(s, "0123456789") : 0;
    return n > 0 && n <= SNOWFLAKE_MAX_DIGITS && s[n] == '\0' && s[0] != '0';
}

/* An interaction token: Discord's base64url-like characters (letters, digits, '-', '_', '.'),
 * 1 to 500 of them, not starting with '.' and without "..", so it is one plain path segment. */
static bool is_token(const char *s)
{
    static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    size_t n = s ? strspn(s, allowed) : 0;
    return n > 0 && n <= TOKEN_MAX_BYTES && s[n] == '\0' && s[0] != '.' && !strstr(s, "..");
}

/* The application id for the webhook URL: DISCORD_APPLICATION_ID when it is set, which the
 * interaction's own id (when it has one) must equal; else the interaction's. NULL (logged) when
 * there is none fit for a URL. The interaction's id comes from a signed body, but only ours may
 * pick the webhook: a body naming another application is refused, not followed. */
static const char *webhook_application_id(const struct discord_rest *rest, const struct discord_delivery *where,
                                          const char *interaction_id)
{
    const char *configured = rest->cfg->application_id;
    const char *given = where->application_id && where->application_id[0] ? where->application_id : NULL;
    if (configured[0] && given && strcmp(given, configured) != 0) {
        char shown[32];
        utf8_copy_clean(shown, sizeof shown, given, strlen(given));
        log_error("reply refused: the interaction's application_id is not DISCORD_APPLICATION_ID",
                  LOG_S("interaction_id", interaction_id), LOG_S("application_id", shown));
        return NULL;
    }
    const char *id = configured[0] ? configured : given;
    if (!is_snowflake(id)) {
        log_error("reply refused: no valid application id for the webhook", LOG_S("interaction_id", interaction_id),
                  LOG_B("configured", configured[0] != '\0'));
        return NULL;
    }
    return id;
}

/* {api}/webhooks/{app}/{token}, each segment URL-escaped by libcurl (a no-op for fields that passed
 * the checks above: escaping is the second wall, not the first). NULL on ENOMEM. */
static char *webhook_url(CURL *easy, const char *api_base, const char *application_id, const char *token)
{
    char *app = curl_easy_escape(easy, application_id, 0);
    char *tok = curl_easy_escape(easy, token, 0);
    char *url = NULL;
    if (app && tok) {
        struct buf b;
        buf_init(&b, 4096);
        if (buf_printf(&b, "%s/webhooks/%s/%s", api_base, app, tok) == SLIMY_OK)
            url = buf_detach(&b);
        else if (b.data)
            sodium_memzero(b.data, b.len);
        buf_cleanup(&b);
    }
    if (tok) {
        sodium_memzero(tok, strlen(tok));
        curl_free(tok);
    }
    curl_free(app);
    return url;
}

/* Makes a copy of s[0..len) that is valid UTF-8 (malformed bytes become '?', *out_len bytes)
 * when s is not; NULL when it already is, or on ENOMEM (*failed set). */
static char *cleaned_copy(const char *s, size_t len, size_t *out_len, bool *failed)
{
    if (utf8_valid(s, len))
        return NULL;
    char *out = malloc(len + 1); /* one '?' per malformed byte: never longer */
    if (!out) {
        *failed = true;
        return NULL;
    }
    *out_len = utf8_copy_clean(out, len + 1, s, len);
    return out;
}

/* Discord refuses a whole message whose text is not valid UTF-8, and the user would see
 * "thinking…" until the token ends. Text that is not (a bug upstream) is cleaned and logged
 * instead: the content and the file names here; embeds when the body is built. */
static int clean_message_text(struct delivery *d)
{
    bool failed = false, cleaned = false;
    size_t len = 0;
    struct buf *content = &d->msg.content;
    char *text = content->data ? cleaned_copy(content->data, content->len, &len, &failed) : NULL;
    if (text) { /* never longer: it fits where the text was */
        memcpy(content->data, text, len + 1);
        content->len = len;
        free(text);
        cleaned = true;
    }
    for (size_t i = 0; i < d->msg.n_files; i++) {
        struct message_file *f = &d->msg.files[i];
        char *name = f->filename ? cleaned_copy(f->filename, strlen(f->filename), &len, &failed) : NULL;
        if (name) {
            free(f->filename);
            f->filename = name;
            cleaned = true;
        }
    }
    if (cleaned)
        log_warn("reply text was not valid UTF-8: sent with '?' for the malformed bytes",
                 LOG_S("interaction_id", d->interaction_id));
    return failed ? SLIMY_ENOMEM : SLIMY_OK;
}

int discord_reply_deliver(struct discord_rest *rest, const struct discord_delivery *where, struct message *msg,
                          discord_delivered_fn done, void *arg)
{
    char interaction_id[32];
    const char *given_id = where->interaction_id ? where->interaction_id : "";
    utf8_copy_clean(interaction_id, sizeof interaction_id, given_id, strlen(given_id));
    /* The webhook URL is built from fields of the interaction: refuse what would not be one path
     * segment of ours, before anything is sent. */
    const char *application_id = webhook_application_id(rest, where, interaction_id);
    if (!application_id)
        return SLIMY_EINVAL;
    if (!is_token(where->token)) {
        log_error("reply refused: the interaction token is not one Discord issues",
                  LOG_S("interaction_id", interaction_id),
                  LOG_I("token_len", where->token ? strnlen(where->token, TOKEN_MAX_BYTES + 1) : 0));
        return SLIMY_EINVAL;
    }

    struct delivery *d = calloc(1, sizeof *d);
    if (!d)
        return SLIMY_ENOMEM;
    d->rest = rest;
    d->ephemeral = where->ephemeral;
    d->done = done;
    d->done_arg = arg;
    memcpy(d->interaction_id, interaction_id, sizeof d->interaction_id);
    /* Past the cap the body is cut, not the transfer: an aborted answer would look like a network
     * error and a part Discord already took would be sent twice. */
    fetch_response_init(&d->response, RESPONSE_MAX_BYTES, true);
    message_init(&d->msg);

    uint64_t now_wall = clock_wall_ms(), now_mono = clock_mono_ms();
    d->deadline_mono_ms = where->expires_at_wall_ms > now_wall ? now_mono + (where->expires_at_wall_ms - now_wall)
                                                               : now_mono;

    d->easy = curl_easy_init();
    d->webhook_url = d->easy ? webhook_url(d->easy, rest->cfg->api_base, application_id, where->token) : NULL;
    if (!d->webhook_url || !d->easy) {
        delivery_free(d);
        return SLIMY_ENOMEM;
    }
    /* Move the message in: the caller's struct is left empty. */
    d->msg = *msg;
    message_init(msg);
    if (message_is_empty(&d->msg))
        message_set_text(&d->msg, "✅ Done.");

    int rc = clean_message_text(d);
    if (!rc)
        rc = fetch_at(rest->engine, 0, attempt, d);
    if (rc) {
        *msg = d->msg; /* give it back on failure (its text cleaned, maybe) */
        message_init(&d->msg);
        delivery_free(d);
    }
    return rc;
}

/* ---- one attempt ---- */

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
    /* The content and file names were cleaned at the start; an embed may still hold malformed
     * text. cJSON writes bytes >= 0x80 as they are, only inside strings, so replacing each
     * malformed one by '?' keeps the JSON whole. */
    size_t body_len = strlen(d->body);
    if (!utf8_valid(d->body, body_len)) {
        char *clean = malloc(body_len + 1);
        if (!clean)
            return SLIMY_ENOMEM;
        utf8_copy_clean(clean, body_len + 1, d->body, body_len);
        free(d->body);
        d->body = clean;
        log_warn("reply embeds were not valid UTF-8: sent with '?' for the malformed bytes",
                 LOG_S("interaction_id", d->interaction_id));
    }

    if (!(first && d->msg.n_files)) {
        d->headers = curl_slist_append(d->headers, "Content-Type: application/json");
        return d->headers ? SLIMY_OK : SLIMY_ENOMEM;
    }
    /* IMPLEMENTATION-OF: Discord "Uploading Files": payload_json plus files[n]. */
    d->mime = curl_mime_init(d->easy);
    curl_mimepart *part = d->mime ? curl_mime_addpart(d->mime) : NULL;
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
    return SLIMY_OK;
}

static void on_done(CURL *easy, CURLcode result, void *arg);

/* Runs attempt() at due, unless the deadline comes first. */
static void retry_at(struct delivery *d, uint64_t due)
{
    if (due >= d->deadline_mono_ms) {
        finish(d, SLIMY_ETIMEOUT);
        return;
    }
    if (fetch_at(d->rest->engine, due, attempt, d))
        finish(d, SLIMY_EUNAVAILABLE);
}

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
        retry_at(d, wait_until);
        return;
    }

    reset_request(d);
    int rc = fetch_easy_fresh(&d->easy) ? build_body(d) : SLIMY_ENOMEM; /* a new handle each attempt */
    if (rc) {
        finish(d, rc);
        return;
    }
    char url[4200];
    if (d->part == 0)
        snprintf(url, sizeof url, "%s/messages/@original", d->webhook_url);
    else
        snprintf(url, sizeof url, "%s", d->webhook_url);
    struct fetch_request req = {
        .method = d->part == 0 ? "PATCH" : "POST",
        .url = url,
        .headers = d->headers,
        .body = d->mime ? NULL : d->body,
        .body_len = d->mime ? 0 : strlen(d->body),
        .mime = d->mime,
        .user_agent = DISCORD_USER_AGENT,
        .timeout_ms = ATTEMPT_TIMEOUT_MS,
        .deadline_mono_ms = d->deadline_mono_ms,
    };
    rc = fetch_request_setup(d->easy, &req, &d->response);
    sodium_memzero(url, sizeof url); /* curl keeps its own copy */
    if (rc) {
        finish(d, rc);
        return;
    }
    d->attempts++;
    if (fetch_add(d->rest->engine, d->easy, on_done, d))
        finish(d, SLIMY_ENOMEM);
}

/* The wait a 429 asks for, in ms: the body's retry_after (it has the fractional value), else
 * Retry-After, else a second; whatever was asked, at most FETCH_WAIT_MAX_MS and the time left
 * before this delivery's deadline. A global limit (header or body) pauses every delivery for
 * that long, no longer: one hostile or broken answer cannot hold the other replies back. */
static int64_t rate_limit_wait(struct delivery *d, uint64_t now)
{
    int64_t asked_ms = d->response.retry_after_ms;
    bool global = d->response.rate_limit_global;
    cJSON *body = cJSON_ParseWithLength(fetch_response_text(&d->response), d->response.body.len);
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(body, "retry_after");
    int64_t body_ms = cJSON_IsNumber(ra) ? fetch_wait_ms(ra->valuedouble, 1000.0) : -1;
    if (body_ms >= 0)
        asked_ms = body_ms;
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "global")))
        global = true;
    cJSON_Delete(body);
    if (asked_ms < 0)
        asked_ms = 1000;
    uint64_t wait_ms = fetch_wait_cap(asked_ms, now, d->deadline_mono_ms);
    metrics_discord_rate_limited(global ? METRICS_RATE_LIMIT_GLOBAL : METRICS_RATE_LIMIT_BUCKET);
    if (global && now + wait_ms > d->rest->global_until_mono_ms)
        d->rest->global_until_mono_ms = now + wait_ms;
    log_warn("discord rate limited", LOG_S("interaction_id", d->interaction_id),
             LOG_F("retry_after_s", (double)asked_ms / 1000.0), LOG_I("wait_ms", wait_ms), LOG_B("global", global));
    return (int64_t)wait_ms;
}

static void log_refusal(struct delivery *d)
{
    cJSON *body = cJSON_ParseWithLength(fetch_response_text(&d->response), d->response.body.len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(body, "code");
    const cJSON *message = cJSON_GetObjectItemCaseSensitive(body, "message");
    /* Discord's words, for the operator: cut and cleaned, so the line (and an alert made of it)
     * stays valid UTF-8 whatever came back. */
    char text[DISCORD_TEXT_LOG_MAX + 1];
    if (cJSON_IsString(message))
        utf8_copy_clean(text, sizeof text, message->valuestring, strlen(message->valuestring));
    log_error("discord refused the reply", LOG_S("interaction_id", d->interaction_id),
              LOG_I("http_status", d->http_status), LOG_I("discord_code", cJSON_IsNumber(code) ? code->valueint : 0),
              LOG_S("discord_message", cJSON_IsString(message) ? text : NULL));
    cJSON_Delete(body);
}

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    struct delivery *d = arg;
    uint64_t now = clock_mono_ms();
    fetch_response_read(&d->response, easy, result);
    d->http_status = result == CURLE_OK ? d->response.http_status : 0;
    metrics_discord_request(d->part == 0 ? METRICS_ROUTE_ORIGINAL : METRICS_ROUTE_FOLLOWUP, d->http_status);
    struct fetch_outcome outcome = {.result = result, .http_status = d->http_status, .retry_after_ms = -1};
    if (result != CURLE_OK || d->http_status >= 500)
        log_warn("discord request failed", LOG_S("interaction_id", d->interaction_id),
                 LOG_I("http_status", d->http_status),
                 LOG_S("error", result != CURLE_OK ? curl_easy_strerror(result) : "server error"));
    else if (d->http_status == 429)
        outcome.retry_after_ms = rate_limit_wait(d, now);

    struct fetch_decision next =
        fetch_retry_decide(d->part == 0 ? &FIRST_PART : &FOLLOW_UP, &d->retries, &outcome, now, d->deadline_mono_ms);
    switch (next.verdict) {
    case FETCH_RETRY: retry_at(d, next.retry_at_mono_ms); return;
    case FETCH_GIVE_UP: finish(d, next.status); return;
    case FETCH_REFUSED:
        log_refusal(d);
        finish(d, d->http_status == 404 ? SLIMY_ENOTFOUND : next.status);
        return;
    case FETCH_DONE: break;
    }

    /* Success: respect an exhausted bucket before the next part (at most a minute, and never
     * past the deadline: attempt() gives up there). */
    if (d->response.rate_limit_remaining == 0 && d->response.reset_after_ms > 0)
        d->not_before_mono_ms = now + fetch_wait_cap(d->response.reset_after_ms, now, d->deadline_mono_ms);
    d->sent_bytes += d->chunk_bytes;
    d->part++;
    if (d->sent_bytes >= d->msg.content.len) {
        finish(d, SLIMY_OK);
        return;
    }
    retry_at(d, d->not_before_mono_ms > now ? d->not_before_mono_ms : now);
}
