/* openai.c — asynchronous calls to an OpenAI-compatible API with retries; see openai.h.
 * Each call is a small state machine on the outbound engine: attempt → done → retry later or
 * finish. The request (URL, body, headers) is built once, at start, so callers' strings may die
 * right away. Request setup, the response collector and the retry decision are the shared ones
 * (core/fetch_http.h); what is OpenAI's own stays here: error bodies and result parsing. */
#include "ai/openai.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "ai/chat_stream.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/fetch_http.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "core/utf8.h"

#define RESPONSE_MAX_BYTES (32 * 1024 * 1024) /* images come back as base64 */
#define ATTEMPT_TIMEOUT_MS 120000L
#define ERROR_TEXT_MAX 300 /* bytes of the server's error message kept, cut on a character boundary */
#define RATE_LIMITED_TEXT "the AI server is rate limiting us"
#define STREAM_MAX_BYTES RESPONSE_MAX_BYTES /* a streamed reply, and each of its events, like a whole answer */
#define CUT_OFF_TEXT "the answer was cut off"

/* 408 and 409 are worth another try on OpenAI's API, like a 5xx. A 429 asking for more than two
 * minutes is given up, like the official SDK does: a longer wait is not worth holding a reply.
 * A shorter ask is waited at most FETCH_WAIT_MAX_MS (fetch_retry_decide()). */
static const struct fetch_retry_policy POLICY = {
    .server_error_max = 3,
    .backoff_statuses = {408, 409},
    .rate_limit_max = 5,
    .retry_after_max_ms = 120000,
};

enum call_kind {
    CALL_CHAT,
    CALL_IMAGE
};

/* What a streamed call's answer turned out to be, decided at its first body bytes. */
enum body_kind {
    BODY_UNKNOWN, /* no body byte yet */
    BODY_EVENTS,  /* a 2xx text/event-stream: read as it comes */
    BODY_WHOLE,   /* anything else (an error, a server ignoring "stream"): collected whole */
};

struct ai_client {
    const struct slimy_config *cfg;
    struct fetch *engine;
};

struct call {
    struct ai_client *ai;
    enum call_kind kind;
    char *url;
    char *body;
    char interaction_id[32];
    uint64_t deadline_mono_ms;
    unsigned attempts;
    struct fetch_retry_state retries;
    CURL *easy;
    struct curl_slist *headers; /* Content-Type and, with a key, Authorization: wiped when freed */
    struct fetch_response response;
    struct ai_result *result; /* allocated at start so finishing never needs memory */
    ai_done_fn done;
    void *done_arg;
    /* Streamed calls only: */
    ai_text_fn on_text;
    struct chat_stream *stream; /* the answer being read; reset at each attempt */
    enum body_kind body_kind;   /* of this attempt's answer */
    bool is_text_shown;         /* on_text ran: nothing is retried any more */
};

static void attempt(void *arg);

/* ---- lifecycle ---- */

bool ai_configured(const struct slimy_config *cfg)
{
    return cfg->openai_api_key || cfg->has_openai_base_url;
}

int ai_client_new(const struct slimy_config *cfg, struct fetch *engine, struct ai_client **out)
{
    struct ai_client *ai = calloc(1, sizeof *ai);
    if (!ai)
        return SLIMY_ENOMEM;
    ai->cfg = cfg;
    ai->engine = engine;
    *out = ai;
    return SLIMY_OK;
}

void ai_client_free(struct ai_client *ai)
{
    free(ai);
}

void ai_result_free(struct ai_result *r)
{
    if (!r)
        return;
    free(r->text);
    free(r->finish_reason);
    free(r->image);
    free(r->error);
    free(r);
}

static void call_free(struct call *c)
{
    fetch_headers_free_wiped(c->headers);
    if (c->easy)
        curl_easy_cleanup(c->easy);
    fetch_response_cleanup(&c->response);
    if (c->stream)
        chat_stream_cleanup(c->stream);
    free(c->stream);
    ai_result_free(c->result);
    free(c->url);
    free(c->body);
    free(c);
}

/* Hands the result to the caller and frees the call. */
static void finish(struct call *c)
{
    struct ai_result *r = c->result;
    c->result = NULL;
    if (r->status)
        log_warn("ai request failed", LOG_S("interaction_id", c->interaction_id), LOG_I("http_status", r->http_status),
                 LOG_S("error", r->error), LOG_I("attempts", c->attempts));
    else
        log_debug("ai request done", LOG_S("interaction_id", c->interaction_id), LOG_I("attempts", c->attempts));
    ai_done_fn done = c->done;
    void *arg = c->done_arg;
    call_free(c);
    done(r, arg);
}

static void finish_error(struct call *c, int status, long http_status, const char *error)
{
    struct ai_result *r = c->result;
    free(r->text);
    free(r->error);
    r->text = NULL;
    r->status = status;
    r->http_status = http_status;
    r->error = strdup(error ? error : slimy_strerror(status)); /* NULL on ENOMEM is acceptable */
    finish(c);
}

/* ---- starting ---- */

/* Content-Type, and the API key as a Bearer token when there is one (local servers need none). */
static struct curl_slist *request_headers(const char *api_key)
{
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!headers || !api_key)
        return headers;
    struct buf auth;
    buf_init(&auth, 4096);
    struct curl_slist *more = NULL;
    if (buf_printf(&auth, "Authorization: Bearer %s", api_key) == SLIMY_OK)
        more = curl_slist_append(headers, auth.data);
    if (auth.data)
        sodium_memzero(auth.data, auth.len);
    buf_cleanup(&auth);
    if (!more)
        curl_slist_free_all(headers);
    return more;
}

static struct call *call_new(struct ai_client *ai, enum call_kind kind, const char *path, cJSON *body,
                             uint64_t deadline_mono_ms, const char *interaction_id, ai_done_fn done, void *arg)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->ai = ai;
    c->kind = kind;
    c->deadline_mono_ms = deadline_mono_ms;
    c->done = done;
    c->done_arg = arg;
    if (!interaction_id)
        interaction_id = "";
    utf8_copy_clean(c->interaction_id, sizeof c->interaction_id, interaction_id, strlen(interaction_id));
    fetch_response_init(&c->response, RESPONSE_MAX_BYTES, false);
    size_t url_len = strlen(ai->cfg->openai_base_url) + strlen(path) + 1;
    c->url = malloc(url_len);
    c->body = cJSON_PrintUnformatted(body);
    c->easy = curl_easy_init();
    c->result = calloc(1, sizeof *c->result);
    c->headers = request_headers(ai->cfg->openai_api_key);
    if (!c->url || !c->body || !c->easy || !c->result || !c->headers) {
        call_free(c);
        return NULL;
    }
    snprintf(c->url, url_len, "%s%s", ai->cfg->openai_base_url, path);
    return c;
}

static int start(struct call *c)
{
    int rc = fetch_at(c->ai->engine, 0, attempt, c);
    if (rc)
        call_free(c);
    return rc;
}

static const char *role_name(enum ai_role role)
{
    return role == AI_SYSTEM ? "system" : role == AI_ASSISTANT ? "assistant" : "user";
}

/* {"role":..,"content": "text"} or, with an image, content parts [{text},{image_url}]. */
static cJSON *message_json(const struct ai_message *m, const char *detail)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddStringToObject(obj, "role", role_name(m->role)))
        goto fail;
    if (!m->image_data_uri) {
        if (!cJSON_AddStringToObject(obj, "content", m->text ? m->text : ""))
            goto fail;
        return obj;
    }
    cJSON *parts = cJSON_AddArrayToObject(obj, "content");
    if (!parts)
        goto fail;
    if (m->text) {
        cJSON *text = cJSON_CreateObject();
        if (!text || !cJSON_AddItemToArray(parts, text) || !cJSON_AddStringToObject(text, "type", "text") ||
            !cJSON_AddStringToObject(text, "text", m->text))
            goto fail;
    }
    cJSON *image = cJSON_CreateObject();
    cJSON *image_url = image ? cJSON_CreateObject() : NULL;
    if (!image || !cJSON_AddItemToArray(parts, image) || !cJSON_AddStringToObject(image, "type", "image_url") ||
        !image_url || !cJSON_AddItemToObject(image, "image_url", image_url) ||
        !cJSON_AddStringToObject(image_url, "url", m->image_data_uri) ||
        (detail && !cJSON_AddStringToObject(image_url, "detail", detail)))
        goto fail;
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}

/* A chat call: the request body built from req, "stream": true when streamed. NULL on ENOMEM. */
static struct call *chat_call(struct ai_client *ai, const struct ai_chat_request *req, bool stream, ai_done_fn done,
                              void *arg)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *messages = body ? cJSON_AddArrayToObject(body, "messages") : NULL;
    bool ok = messages && cJSON_AddStringToObject(body, "model", req->model ? req->model : ai->cfg->openai_model);
    for (size_t i = 0; ok && i < req->n_messages; i++) {
        cJSON *m = message_json(&req->messages[i], req->image_detail);
        ok = m && cJSON_AddItemToArray(messages, m);
        if (!ok)
            cJSON_Delete(m);
    }
    if (ok && req->temperature >= 0)
        ok = cJSON_AddNumberToObject(body, "temperature", req->temperature) != NULL;
    if (ok && req->max_tokens)
        ok = cJSON_AddNumberToObject(body, "max_tokens", req->max_tokens) != NULL;
    if (ok && stream)
        ok = cJSON_AddTrueToObject(body, "stream") != NULL;
    struct call *c =
        ok ? call_new(ai, CALL_CHAT, "/chat/completions", body, req->deadline_mono_ms, req->interaction_id, done, arg)
           : NULL;
    cJSON_Delete(body);
    return c;
}

int ai_chat_start(struct ai_client *ai, const struct ai_chat_request *req, ai_done_fn done, void *arg)
{
    struct call *c = chat_call(ai, req, false, done, arg);
    return c ? start(c) : SLIMY_ENOMEM;
}

int ai_chat_stream_start(struct ai_client *ai, const struct ai_chat_request *req, ai_text_fn on_text, ai_done_fn done,
                         void *arg)
{
    struct call *c = chat_call(ai, req, true, done, arg);
    if (c && !(c->stream = malloc(sizeof *c->stream))) {
        call_free(c);
        c = NULL;
    }
    if (!c)
        return SLIMY_ENOMEM;
    chat_stream_init(c->stream, STREAM_MAX_BYTES);
    c->on_text = on_text;
    return start(c);
}

int ai_image_start(struct ai_client *ai, const struct ai_image_request *req, ai_done_fn done, void *arg)
{
    cJSON *body = cJSON_CreateObject();
    const char *model = req->model ? req->model : ai->cfg->image_model;
    bool ok = body && cJSON_AddStringToObject(body, "model", model) &&
              cJSON_AddStringToObject(body, "prompt", req->prompt) && cJSON_AddNumberToObject(body, "n", 1) &&
              cJSON_AddStringToObject(body, "size", req->size ? req->size : "1024x1024");
    /* GPT-image models always answer in base64 and reject response_format; dall-e needs it. */
    if (ok && strncmp(model, "gpt-image", 9) != 0)
        ok = cJSON_AddStringToObject(body, "response_format", "b64_json") != NULL;
    struct call *c = ok ? call_new(ai, CALL_IMAGE, "/images/generations", body, req->deadline_mono_ms,
                                   req->interaction_id, done, arg)
                        : NULL;
    cJSON_Delete(body);
    return c ? start(c) : SLIMY_ENOMEM;
}

/* ---- one attempt ---- */

static void on_done(CURL *easy, CURLcode result, void *arg);

/* ---- streamed answers ---- */

/* Whether the answer on easy is a 2xx event stream; its headers are in by the first body byte. */
static bool is_event_stream(CURL *easy)
{
    long status = 0;
    const char *type = NULL;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
    return status >= 200 && status < 300 && type && strncasecmp(type, "text/event-stream", 17) == 0;
}

/* curl's write callback for a streamed call: an event stream is read as it comes and the reply
 * passed on as it grows; any other answer is collected whole, for the ordinary reading. A return
 * short of n aborts the transfer (a failed stream, a body past its cap). */
static size_t stream_write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct call *c = arg;
    size_t n = size * nmemb;
    if (c->body_kind == BODY_UNKNOWN)
        c->body_kind = is_event_stream(c->easy) ? BODY_EVENTS : BODY_WHOLE;
    if (c->body_kind == BODY_WHOLE) {
        int rc = buf_append(&c->response.body, data, n);
        c->response.is_too_big = rc == SLIMY_ETOOBIG;
        return rc ? 0 : n;
    }
    size_t before = c->stream->text.len;
    enum chat_stream_state state = chat_stream_feed(c->stream, data, n);
    if (state == CHAT_STREAM_FAILED)
        return 0; /* nothing more to read: the reason is in the stream */
    if (state == CHAT_STREAM_OPEN && c->stream->text.len > before) {
        c->is_text_shown = true;
        c->on_text(c->stream->text.data, c->stream->text.len, c->done_arg);
    }
    return n;
}

/* Before each attempt of a streamed call: a fresh reader, and stream_write() as the collector. */
static void stream_setup(struct call *c)
{
    chat_stream_reset(c->stream);
    c->body_kind = BODY_UNKNOWN;
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
}

/* An event stream ended with curl's *result. Finishes the call and returns true, except for a
 * stream that broke before any text was passed on: that is retried like a network failure, so
 * *result becomes one when the connection merely closed early, and false is returned. */
static bool stream_ended(struct call *c, CURLcode *result, long http_status)
{
    struct chat_stream *s = c->stream;
    chat_stream_end(s);
    if (s->state == CHAT_STREAM_COMPLETE) {
        struct ai_result *r = c->result;
        size_t len;
        const char *text = chat_stream_text(s, &len);
        r->http_status = http_status;
        r->text = strndup(text, len);
        r->finish_reason = s->finish_reason ? strdup(s->finish_reason) : NULL;
        if (!r->text || (s->finish_reason && !r->finish_reason)) {
            finish_error(c, SLIMY_ENOMEM, http_status, NULL);
            return true;
        }
        if (s->is_cleaned)
            log_warn("the AI server's answer was not valid UTF-8: '?' replaces the malformed bytes",
                     LOG_S("interaction_id", c->interaction_id));
        finish(c);
        return true;
    }
    if (s->state == CHAT_STREAM_FAILED) {
        finish_error(c, SLIMY_EUPSTREAM, http_status, s->error);
        return true;
    }
    if (c->is_text_shown) {
        finish_error(c, *result == CURLE_OPERATION_TIMEDOUT ? SLIMY_ETIMEOUT : SLIMY_EUPSTREAM, http_status,
                     CUT_OFF_TEXT);
        return true;
    }
    if (*result == CURLE_OK)
        *result = CURLE_PARTIAL_FILE; /* closed before the end, nothing shown: try again */
    return false;
}

static void attempt(void *arg)
{
    struct call *c = arg;
    if (clock_mono_ms() >= c->deadline_mono_ms) {
        finish_error(c, SLIMY_ETIMEOUT, 0, "the AI server took too long");
        return;
    }
    struct fetch_request req = {
        .method = "POST",
        .url = c->url,
        .headers = c->headers,
        .body = c->body,
        .body_len = strlen(c->body),
        .user_agent = "Slimy/" SLIMY_VERSION,
        .timeout_ms = ATTEMPT_TIMEOUT_MS,
        .deadline_mono_ms = c->deadline_mono_ms,
    };
    int rc = fetch_easy_fresh(&c->easy) ? fetch_request_setup(c->easy, &req, &c->response) : SLIMY_ENOMEM;
    if (!rc && c->stream)
        stream_setup(c);
    if (rc) {
        finish_error(c, rc, 0, rc == SLIMY_ETIMEOUT ? "the AI server took too long" : NULL);
        return;
    }
    c->attempts++;
    if (fetch_add(c->ai->engine, c->easy, on_done, c))
        finish_error(c, SLIMY_ENOMEM, 0, NULL);
}

static void retry_at(struct call *c, uint64_t due, long http_status, const char *why)
{
    if (due >= c->deadline_mono_ms) {
        finish_error(c, SLIMY_ETIMEOUT, http_status, why);
        return;
    }
    if (fetch_at(c->ai->engine, due, attempt, c))
        finish_error(c, SLIMY_EUNAVAILABLE, http_status, why);
}

/* Reads an error body in OpenAI's nested shape {"error":{message,type,code}} or the flat shape
 * {"object":"error","message",...,"code"}; code may be a string, a number or null. Writes the
 * message into msg and the code as text into code, both cut on a character boundary and cleaned
 * of malformed UTF-8 ('?'): the message is shown to a user on Discord, which refuses a reply
 * that is not valid UTF-8. */
static void parse_error(const struct fetch_response *resp, char *msg, size_t msg_len, char *code, size_t code_len)
{
    msg[0] = code[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(fetch_response_text(resp), resp->body.len);
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *holder = cJSON_IsObject(err) ? err : root;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(holder, "message");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(holder, "code");
    if (cJSON_IsString(err) && !m)
        m = err; /* {"error": "text"} from some proxies */
    if (cJSON_IsString(m))
        utf8_copy_clean(msg, msg_len < ERROR_TEXT_MAX + 1 ? msg_len : ERROR_TEXT_MAX + 1, m->valuestring,
                        strlen(m->valuestring));
    if (cJSON_IsString(c))
        utf8_copy_clean(code, code_len, c->valuestring, strlen(c->valuestring));
    else if (cJSON_IsNumber(c))
        snprintf(code, code_len, "%d", c->valueint);
    cJSON_Delete(root);
}

/* A copy of the server's text that is valid UTF-8 (malformed bytes become '?'); NULL on ENOMEM.
 * *cleaned is set when something had to be replaced. */
static char *strdup_clean(const char *s, bool *cleaned)
{
    size_t len = strlen(s);
    if (utf8_valid(s, len))
        return strdup(s);
    *cleaned = true;
    char *out = malloc(len + 1); /* one '?' per malformed byte: never longer */
    if (out)
        utf8_copy_clean(out, len + 1, s, len);
    return out;
}

/* Fills c->result from a 2xx answer (or marks it failed when the answer is unusable). */
static void parse_success(struct call *c, long http_status)
{
    struct ai_result *r = c->result;
    r->http_status = http_status;
    cJSON *root = cJSON_ParseWithLength(fetch_response_text(&c->response), c->response.body.len);
    if (!root) {
        r->status = SLIMY_EUPSTREAM;
        r->error = strdup("the AI server returned malformed JSON");
        return;
    }
    if (c->kind == CALL_CHAT) {
        bool cleaned = false;
        const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(choice, "message");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(message, "content");
        const cJSON *finish_reason = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
        if (!cJSON_IsObject(message)) {
            r->status = SLIMY_EUPSTREAM;
            r->error = strdup("the AI server's answer had no message");
        } else if (cJSON_IsString(content)) {
            r->text = strdup_clean(content->valuestring, &cleaned);
        }
        if (cJSON_IsString(finish_reason))
            r->finish_reason = strdup_clean(finish_reason->valuestring, &cleaned);
        if (cleaned)
            log_warn("the AI server's answer was not valid UTF-8: '?' replaces the malformed bytes",
                     LOG_S("interaction_id", c->interaction_id));
    } else {
        const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "data"), 0);
        const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(item, "b64_json");
        size_t b64_len = cJSON_IsString(b64) ? strlen(b64->valuestring) : 0;
        r->image = b64_len ? malloc(b64_len / 4 * 3 + 3) : NULL;
        if (!r->image ||
            sodium_base642bin(r->image, b64_len / 4 * 3 + 3, b64->valuestring, b64_len, "\n\r ", &r->image_len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            r->image_len == 0) {
            free(r->image);
            r->image = NULL;
            r->image_len = 0;
            r->status = SLIMY_EUPSTREAM;
            r->error = strdup("the AI server returned no image data");
        }
    }
    cJSON_Delete(root);
}

/* Why an attempt failed, in words fit for a user; NULL for a refusal (its body says why). */
static const char *failure_text(CURLcode result, long http_status)
{
    if (result == CURLE_OPERATION_TIMEDOUT)
        return "the AI server took too long";
    if (result != CURLE_OK)
        return "the AI server could not be reached";
    if (http_status == 429)
        return RATE_LIMITED_TEXT;
    return "the AI server had an error";
}

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    struct call *c = arg;
    uint64_t now = clock_mono_ms();
    fetch_response_read(&c->response, easy, result);
    long status = result == CURLE_OK ? c->response.http_status : 0;
    curl_off_t took_us = 0; /* this attempt, from curl's own clock */
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &took_us);
    metrics_openai_request(c->kind == CALL_CHAT ? METRICS_AI_CHAT : METRICS_AI_IMAGE, status,
                           took_us > 0 ? (uint64_t)took_us : 0);
    if (c->body_kind == BODY_EVENTS) {
        if (stream_ended(c, &result, c->response.http_status))
            return;
        status = 0; /* broke before any text: decided below like a network failure */
    }
    char msg[ERROR_TEXT_MAX + 1] = "", code[64] = "";
    if (result == CURLE_OK && (status < 200 || status >= 300))
        parse_error(&c->response, msg, sizeof msg, code, sizeof code);
    struct fetch_outcome outcome = {
        .result = result,
        .http_status = status,
        .retry_after_ms = c->response.retry_after_ms,
        .is_final = status == 429 && strcmp(code, "insufficient_quota") == 0, /* no wait brings quota back */
    };
    struct fetch_decision next = fetch_retry_decide(&POLICY, &c->retries, &outcome, now, c->deadline_mono_ms);
    switch (next.verdict) {
    case FETCH_DONE:
        parse_success(c, status);
        finish(c);
        return;
    case FETCH_RETRY: retry_at(c, next.retry_at_mono_ms, status, failure_text(result, status)); return;
    case FETCH_GIVE_UP: finish_error(c, next.status, status, failure_text(result, status)); return;
    case FETCH_REFUSED: break;
    }
    char text[ERROR_TEXT_MAX + 64];
    if (status == 429)
        snprintf(text, sizeof text, "the AI account is out of quota");
    else if (status == 401)
        snprintf(text, sizeof text, "the AI server rejected the API key");
    else
        snprintf(text, sizeof text, "%s", msg[0] ? msg : "the AI server refused the request");
    finish_error(c, next.status, status, text);
}
