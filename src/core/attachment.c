/* attachment.c — allowlisted, size-capped downloads of user-supplied attachment URLs on the
 * outbound engine; see attachment.h. The URL is checked before anything is queued, so a refused
 * URL never reaches the network. Request setup and the capped collector are the shared ones
 * (core/fetch_http.h); there are no retries, so no retry policy. Called by
 * src/flows/snail_analyze.c. */
#include "core/attachment.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/fetch_http.h"
#include "core/log.h"
#include "core/status.h"

#define TOTAL_TIMEOUT_MS 60000L /* a 10 MiB image over a slow link; the deadline may cut it shorter */
#define HOST_LOG_MAX 256

struct download {
    struct fetch *engine;
    CURL *easy;
    CURLU *url;                     /* the parsed URL that was checked; curl uses it as is (CURLOPT_CURLU) */
    char scheme[8];                 /* "https" or "http": the only protocol enabled for the transfer */
    size_t max_bytes;               /* the size cap */
    struct fetch_response response; /* the body, capped at max_bytes: the transfer stops there */
    uint64_t deadline_mono_ms;      /* the transfer ends by then */
    char interaction_id[32];        /* for log lines */
    char host[HOST_LOG_MAX];        /* for log lines (the path holds the CDN signature: not logged) */
    attachment_done_fn done;
    void *done_arg;
};

/* ---- the allowlist ---- */

/* A URL's part as a new string (curl_free it), or NULL when absent. */
static char *url_part(CURLU *u, CURLUPart part, unsigned flags)
{
    char *value = NULL;
    if (curl_url_get(u, part, &value, flags) != CURLUE_OK)
        return NULL;
    return value;
}

/* Does the entry (text, len bytes, already trimmed) allow the URL's scheme, host and port? */
static bool entry_allows(const char *entry, size_t len, const char *scheme, const char *host, const char *port)
{
    char text[512];
    if (len == 0 || len >= sizeof text)
        return false;
    memcpy(text, entry, len);
    text[len] = '\0';
    if (!strstr(text, "://")) /* a bare host: https on its default port only */
        return strcasecmp(scheme, "https") == 0 && strcmp(port, "443") == 0 && strcasecmp(host, text) == 0;

    /* "http://host:port": the entry is parsed by the same URL API as the URL it is compared with. */
    bool is_allowed = false;
    CURLU *e = curl_url();
    if (e && curl_url_set(e, CURLUPART_URL, text, 0) == CURLUE_OK) {
        char *e_scheme = url_part(e, CURLUPART_SCHEME, 0);
        char *e_host = url_part(e, CURLUPART_HOST, 0);
        char *e_port = url_part(e, CURLUPART_PORT, CURLU_DEFAULT_PORT);
        is_allowed = e_scheme && e_host && e_port &&
                     (strcasecmp(e_scheme, "http") == 0 || strcasecmp(e_scheme, "https") == 0) &&
                     strcasecmp(e_scheme, scheme) == 0 && strcasecmp(e_host, host) == 0 && strcmp(e_port, port) == 0;
        curl_free(e_scheme);
        curl_free(e_host);
        curl_free(e_port);
    }
    curl_url_cleanup(e);
    return is_allowed;
}

/* Parses url into d->url and checks it against the comma list. SLIMY_OK, SLIMY_EPERM, SLIMY_ENOMEM. */
static int check_url(struct download *d, const char *url, const char *allowed_hosts)
{
    if (!(d->url = curl_url()))
        return SLIMY_ENOMEM;
    /* No scheme guessing, and credentials in the URL are refused outright. */
    CURLUcode uc = curl_url_set(d->url, CURLUPART_URL, url ? url : "", CURLU_DISALLOW_USER);
    if (uc == CURLUE_OUT_OF_MEMORY)
        return SLIMY_ENOMEM;
    if (uc != CURLUE_OK)
        return SLIMY_EPERM;
    char *scheme = url_part(d->url, CURLUPART_SCHEME, 0);
    char *host = url_part(d->url, CURLUPART_HOST, 0);
    char *port = url_part(d->url, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    bool is_allowed = false;
    if (scheme && host && port) {
        snprintf(d->host, sizeof d->host, "%s", host);
        snprintf(d->scheme, sizeof d->scheme, "%s", scheme);
        for (const char *p = allowed_hosts ? allowed_hosts : ""; !is_allowed && *p;) {
            const char *comma = strchr(p, ',');
            const char *end = comma ? comma : p + strlen(p);
            const char *start = p;
            while (start < end && (*start == ' ' || *start == '\t'))
                start++;
            const char *stop = end;
            while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
                stop--;
            is_allowed = entry_allows(start, (size_t)(stop - start), scheme, host, port);
            p = comma ? comma + 1 : end;
        }
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    return is_allowed ? SLIMY_OK : SLIMY_EPERM;
}

/* ---- the transfer ---- */

static void download_free(struct download *d)
{
    if (d->easy)
        curl_easy_cleanup(d->easy);
    curl_url_cleanup(d->url);
    fetch_response_cleanup(&d->response);
    free(d);
}

/* Hands the outcome to the caller and frees the download. */
static void finish(struct download *d, int status)
{
    unsigned char *bytes = NULL;
    size_t len = 0;
    const char *content_type = d->response.content_type[0] ? d->response.content_type : NULL;
    if (!status) {
        len = d->response.body.len;
        bytes = (unsigned char *)buf_detach(&d->response.body);
        if (!bytes)
            status = SLIMY_ENOMEM;
    }
    if (status)
        log_warn("attachment download failed", LOG_S("interaction_id", d->interaction_id), LOG_S("host", d->host),
                 LOG_S("status", slimy_strerror(status)));
    else
        log_debug("attachment downloaded", LOG_S("interaction_id", d->interaction_id), LOG_S("host", d->host),
                  LOG_I("bytes", len));
    attachment_done_fn done = d->done;
    void *arg = d->done_arg;
    /* content_type points into the download: call back before freeing it. */
    done(status, bytes, status ? 0 : len, status ? NULL : content_type, arg);
    download_free(d);
}

static void on_done(CURL *easy, CURLcode result, void *arg)
{
    struct download *d = arg;
    fetch_response_read(&d->response, easy, result);
    long http_status = d->response.http_status;
    int status;
    if (result == CURLE_FILESIZE_EXCEEDED || (result == CURLE_WRITE_ERROR && d->response.is_too_big))
        status = SLIMY_ETOOBIG;
    else if (result == CURLE_OUT_OF_MEMORY || result == CURLE_WRITE_ERROR)
        status = SLIMY_ENOMEM;
    else if (result != CURLE_OK)
        status = fetch_curl_status(result);
    else if (http_status == 404 || http_status == 410)
        status = SLIMY_ENOTFOUND;
    else if (http_status < 200 || http_status >= 300)
        status = SLIMY_EUPSTREAM; /* 3xx included: redirects are never followed */
    else
        status = SLIMY_OK;
    if (result != CURLE_OK && status != SLIMY_ETOOBIG)
        log_info("attachment transfer ended", LOG_S("interaction_id", d->interaction_id), LOG_S("host", d->host),
                 LOG_S("error", curl_easy_strerror(result)));
    else if (status)
        log_info("attachment host refused", LOG_S("interaction_id", d->interaction_id), LOG_S("host", d->host),
                 LOG_I("http_status", http_status));
    finish(d, status);
}

/* Engine thread: configure and start the transfer, timeouts measured from now. */
static void start_transfer(void *arg)
{
    struct download *d = arg;
    /* Only the checked URL's scheme is enabled, and redirects are never followed (the setup's
     * default): a redirect cannot leave the allowlist. */
    struct fetch_request req = {
        .method = "GET",
        .curlu = d->url,
        .user_agent = "Slimy/" SLIMY_VERSION,
        .protocols = d->scheme,
        .timeout_ms = TOTAL_TIMEOUT_MS,
        .deadline_mono_ms = d->deadline_mono_ms,
    };
    int rc = fetch_request_setup(d->easy, &req, &d->response);
    if (rc) {
        finish(d, rc);
        return;
    }
    /* Refuses an announced Content-Length over the cap before the body is read. */
    curl_easy_setopt(d->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d->max_bytes);
    if (fetch_add(d->engine, d->easy, on_done, d))
        finish(d, SLIMY_ENOMEM);
}

int attachment_download_start(struct fetch *engine, const struct attachment_request *req, attachment_done_fn done,
                              void *arg)
{
    struct download *d = calloc(1, sizeof *d);
    if (!d)
        return SLIMY_ENOMEM;
    d->engine = engine;
    d->max_bytes = req->max_bytes ? req->max_bytes : ATTACHMENT_MAX_BYTES;
    d->deadline_mono_ms = req->deadline_mono_ms;
    d->done = done;
    d->done_arg = arg;
    snprintf(d->interaction_id, sizeof d->interaction_id, "%s", req->interaction_id ? req->interaction_id : "");
    fetch_response_init(&d->response, d->max_bytes, false);

    int rc = check_url(d, req->url, req->allowed_hosts);
    if (rc == SLIMY_EPERM)
        log_info("attachment URL refused: host not allowed", LOG_S("interaction_id", d->interaction_id),
                 LOG_S("host", d->host[0] ? d->host : NULL));
    if (!rc && clock_mono_ms() >= d->deadline_mono_ms)
        rc = SLIMY_ETIMEOUT;
    if (!rc && !(d->easy = curl_easy_init()))
        rc = SLIMY_ENOMEM;
    if (!rc)
        rc = fetch_at(engine, 0, start_transfer, d);
    if (rc)
        download_free(d);
    return rc;
}
