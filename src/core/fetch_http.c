/* fetch_http.c — request setup, response collection and the retry decision shared by the
 * outbound clients; see fetch_http.h. */
#include "core/fetch_http.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "core/clock.h"
#include "core/fetch.h"
#include "core/status.h"

/* ---- waits a server asks for ---- */

int64_t fetch_wait_ms(double value, double unit_ms)
{
    if (!isfinite(value) || value < 0 || !isfinite(unit_ms) || unit_ms <= 0)
        return -1;
    double ms = ceil(value * unit_ms); /* may be inf for a huge value: compared, never converted */
    if (!(ms <= (double)FETCH_WAIT_ASKED_MAX_MS))
        return FETCH_WAIT_ASKED_MAX_MS;
    return (int64_t)ms;
}

int64_t fetch_wait_parse(const char *text, double unit_ms)
{
    if (!text)
        return -1;
    char *end;
    double v = strtod(text, &end);
    if (end == text)
        return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    return *end ? -1 : fetch_wait_ms(v, unit_ms);
}

uint64_t fetch_wait_cap(int64_t wait_ms, uint64_t now_mono_ms, uint64_t deadline_mono_ms)
{
    uint64_t wait = wait_ms > 0 ? (uint64_t)wait_ms : 0;
    if (wait > FETCH_WAIT_MAX_MS)
        wait = FETCH_WAIT_MAX_MS;
    if (deadline_mono_ms) {
        uint64_t left = deadline_mono_ms > now_mono_ms ? deadline_mono_ms - now_mono_ms : 0;
        if (wait > left)
            wait = left;
    }
    return wait;
}

/* ---- the response collector ---- */

void fetch_response_init(struct fetch_response *r, size_t max_bytes, bool truncate)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body, max_bytes);
    r->truncates = truncate;
    fetch_response_reset(r);
}

void fetch_response_reset(struct fetch_response *r)
{
    buf_cleanup(&r->body);
    r->is_too_big = false;
    r->result = CURLE_OK;
    r->http_status = 0;
    r->retry_after_ms = r->reset_after_ms = -1;
    r->rate_limit_remaining = -1;
    r->rate_limit_global = false;
    r->content_type[0] = '\0';
}

void fetch_response_cleanup(struct fetch_response *r)
{
    buf_cleanup(&r->body);
}

const char *fetch_response_text(const struct fetch_response *r)
{
    return r->body.data ? r->body.data : "";
}

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
    struct fetch_response *r = arg;
    size_t n = size * nmemb;
    int rc = buf_append(&r->body, data, n);
    if (rc == SLIMY_OK)
        return n;
    r->is_too_big = rc == SLIMY_ETOOBIG;
    /* Anything but n aborts the transfer (CURLE_WRITE_ERROR): at the cap, not after the whole body. */
    return r->is_too_big && r->truncates ? n : 0;
}

/* A header's value, or NULL. The last one wins when a server repeats it. */
static const char *header(CURL *easy, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
        return NULL;
    return h->value;
}

void fetch_response_read(struct fetch_response *r, CURL *easy, CURLcode result)
{
    r->result = result;
    r->http_status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->http_status);
    if (r->http_status == 0)
        return; /* no answer: no headers either */
    /* OpenAI sends retry-after-ms next to Retry-After; the milliseconds are the finer value. */
    r->retry_after_ms = fetch_wait_parse(header(easy, "retry-after-ms"), 1.0);
    if (r->retry_after_ms < 0)
        r->retry_after_ms = fetch_wait_parse(header(easy, "Retry-After"), 1000.0);
    r->reset_after_ms = fetch_wait_parse(header(easy, "X-RateLimit-Reset-After"), 1000.0);
    const char *remaining = header(easy, "X-RateLimit-Remaining");
    if (remaining) {
        char *end;
        long v = strtol(remaining, &end, 10);
        r->rate_limit_remaining = end != remaining && v >= 0 ? v : -1;
    }
    const char *global = header(easy, "X-RateLimit-Global");
    r->rate_limit_global = global && strcasecmp(global, "true") == 0;
    const char *content_type = NULL;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
    snprintf(r->content_type, sizeof r->content_type, "%s", content_type ? content_type : "");
}

/* ---- the request setup ---- */

CURL *fetch_easy_fresh(CURL **easy)
{
    if (*easy)
        curl_easy_cleanup(*easy);
    *easy = curl_easy_init();
    return *easy;
}

enum slimy_status fetch_request_setup(CURL *easy, const struct fetch_request *req, struct fetch_response *resp)
{
    long timeout = req->timeout_ms;
    if (req->deadline_mono_ms) {
        uint64_t now = clock_mono_ms();
        if (now >= req->deadline_mono_ms)
            return SLIMY_ETIMEOUT;
        uint64_t left = req->deadline_mono_ms - now;
        if (timeout <= 0 || left < (uint64_t)timeout)
            timeout = left > (uint64_t)LONG_MAX ? LONG_MAX : (long)left;
    }
    if (!req->url && !req->curlu)
        return SLIMY_EINVAL;
    fetch_response_reset(resp);
    curl_easy_reset(easy);

    CURLcode cc = req->curlu ? curl_easy_setopt(easy, CURLOPT_CURLU, req->curlu)
                             : curl_easy_setopt(easy, CURLOPT_URL, req->url);
    const char *method = req->method ? req->method : "GET";
    if (req->mime) {
        curl_easy_setopt(easy, CURLOPT_MIMEPOST, req->mime);
    } else if (req->body) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, "");
    }
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    else if (strcmp(method, "POST") != 0) /* a POST body with another verb: PUT, PATCH, DELETE */
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);
    if (req->user_agent)
        curl_easy_setopt(easy, CURLOPT_USERAGENT, req->user_agent);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp);
    if (timeout > 0)
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                     timeout > 0 && timeout < FETCH_CONNECT_TIMEOUT_MS ? timeout : FETCH_CONNECT_TIMEOUT_MS);
    /* The engine runs many transfers on one thread: no SIGALRM-based DNS timeouts. */
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    const char *protocols = req->protocols ? req->protocols : "http,https";
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, protocols);
    curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    return cc == CURLE_OK ? SLIMY_OK : cc == CURLE_OUT_OF_MEMORY ? SLIMY_ENOMEM : SLIMY_EINVAL;
}

/* ---- the retry decision ---- */

enum slimy_status fetch_curl_status(CURLcode result)
{
    return result == CURLE_OPERATION_TIMEDOUT ? SLIMY_ETIMEOUT : SLIMY_EUNAVAILABLE;
}

static bool is_backoff_status(const struct fetch_retry_policy *p, long status)
{
    if (status >= 500)
        return true;
    for (size_t i = 0; i < sizeof p->backoff_statuses / sizeof p->backoff_statuses[0] && p->backoff_statuses[i]; i++)
        if (p->backoff_statuses[i] == status)
            return true;
    return false;
}

static struct fetch_decision ended(enum fetch_verdict verdict, enum slimy_status status)
{
    return (struct fetch_decision){.verdict = verdict, .status = status};
}

/* A retry after wait_ms (at most FETCH_WAIT_MAX_MS), unless it would not start before the deadline. */
static struct fetch_decision retry_after(uint64_t wait_ms, uint64_t now, uint64_t deadline)
{
    if (wait_ms > FETCH_WAIT_MAX_MS)
        wait_ms = FETCH_WAIT_MAX_MS;
    if (now >= deadline || wait_ms >= deadline - now)
        return ended(FETCH_GIVE_UP, SLIMY_ETIMEOUT);
    return (struct fetch_decision){.verdict = FETCH_RETRY, .status = SLIMY_OK, .retry_at_mono_ms = now + wait_ms};
}

struct fetch_decision fetch_retry_decide(const struct fetch_retry_policy *p, struct fetch_retry_state *s,
                                         const struct fetch_outcome *o, uint64_t now_mono_ms, uint64_t deadline_mono_ms)
{
    long status = o->result == CURLE_OK ? o->http_status : 0;
    if (o->result != CURLE_OK || is_backoff_status(p, status)) {
        if (++s->server_errors > p->server_error_max)
            return ended(FETCH_GIVE_UP, o->result != CURLE_OK ? fetch_curl_status(o->result) : SLIMY_EUPSTREAM);
        return retry_after(fetch_backoff_ms(s->server_errors - 1), now_mono_ms, deadline_mono_ms);
    }
    if (status >= 200 && status < 300) {
        *s = (struct fetch_retry_state){0};
        return ended(FETCH_DONE, SLIMY_OK);
    }
    if (status == 429 && !o->is_final) {
        if (++s->rate_limits > p->rate_limit_max)
            return ended(FETCH_GIVE_UP, SLIMY_ELIMITED);
        uint64_t wait = o->retry_after_ms >= 0 ? (uint64_t)o->retry_after_ms : fetch_backoff_ms(s->rate_limits - 1);
        if (p->retry_after_max_ms && wait > p->retry_after_max_ms)
            return ended(FETCH_GIVE_UP, SLIMY_ELIMITED);
        return retry_after(wait, now_mono_ms, deadline_mono_ms);
    }
    if (p->soon_status && status == p->soon_status && !o->is_final && s->soon < p->soon_max) {
        s->soon++;
        return retry_after(p->soon_delay_ms, now_mono_ms, deadline_mono_ms);
    }
    return ended(FETCH_REFUSED, status == 429 ? SLIMY_ELIMITED : SLIMY_EUPSTREAM);
}

void fetch_headers_free_wiped(struct curl_slist *headers)
{
    for (struct curl_slist *h = headers; h; h = h->next)
        sodium_memzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}
