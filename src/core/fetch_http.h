/* fetch_http.h — what every outbound HTTP client (Discord REST, OpenAI, attachment downloads)
 * shares on top of the engine (fetch.h), so each one stops re-deciding it:
 *   fetch_request_setup()  configures an easy handle: URL, method, headers, body, timeouts bounded
 *                          by the caller's deadline, user agent, no signals, http/https only, no
 *                          redirects, and the response collector;
 *   struct fetch_response  collects the body up to a cap and, once the transfer ends, the status
 *                          and the headers the clients act on (Retry-After, X-RateLimit-*,
 *                          Content-Type), so no client reads headers off the handle itself;
 *   fetch_retry_decide()   turns one attempt's outcome into done / retry at T / refused / give up,
 *                          with the client's limits in a small policy and the deadline always last.
 * The blocking `slimy register` uses the same setup and collector with curl_easy_perform().
 * Nothing here logs: URLs and headers may hold tokens or API keys. Not thread-safe per object. */
#ifndef SLIMY_CORE_FETCH_HTTP_H
#define SLIMY_CORE_FETCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/status.h"

#define FETCH_CONNECT_TIMEOUT_MS 10000L

/* ---- waits a server asks for ---- */

/* The longest wait any answer makes a client take before it tries again: a 429's retry_after,
 * Retry-After, X-RateLimit-Reset-After, and Discord's global pause. One hostile or broken answer
 * must never hold replies back for longer. */
#define FETCH_WAIT_MAX_MS 60000
/* What fetch_wait_ms() makes of a larger ask (a day): past every client's cap, still a number a
 * client may compare with its own limit (OpenAI gives up past two minutes) and add to a clock. */
#define FETCH_WAIT_ASKED_MAX_MS 86400000

/* The wait a server asked for, value counted in units of unit_ms milliseconds (seconds: 1000.0),
 * in ms rounded up and at most FETCH_WAIT_ASKED_MAX_MS; -1 when value is NaN, infinite or
 * negative (not said). The range is checked before any conversion, so nothing is undefined. */
int64_t fetch_wait_ms(double value, double unit_ms);
/* The same from a header's text: a number strtod() reads whole (blanks around it allowed); -1 for
 * anything else (an HTTP date, "1s", empty). NULL gives -1. */
int64_t fetch_wait_parse(const char *text, double unit_ms);
/* The wait to take: wait_ms (-1 or less counts as 0) capped at FETCH_WAIT_MAX_MS and at the time
 * left before deadline_mono_ms (0 = no deadline; none left gives 0). */
uint64_t fetch_wait_cap(int64_t wait_ms, uint64_t now_mono_ms, uint64_t deadline_mono_ms);

/* ---- the response collector ---- */

struct fetch_response {
    struct buf body; /* what was received, at most the cap given to fetch_response_init() */
    bool truncates;  /* past the cap: keep reading and drop what does not fit (true) or abort (false) */
    bool is_too_big; /* the body went past the cap */
    /* Filled by fetch_response_read() once the transfer has ended: */
    CURLcode result;           /* curl's result for the transfer */
    long http_status;          /* 0 when no answer came */
    int64_t retry_after_ms;    /* retry-after-ms, else Retry-After in seconds (fractions kept); -1 if absent
                                * or not a number >= 0; at most FETCH_WAIT_ASKED_MAX_MS (fetch_wait_ms()) */
    int64_t reset_after_ms;    /* X-RateLimit-Reset-After (Discord), the same way */
    long rate_limit_remaining; /* X-RateLimit-Remaining (Discord), -1 if absent */
    bool rate_limit_global;    /* X-RateLimit-Global: true (Discord) */
    char content_type[256];    /* Content-Type, "" if absent */
};

/* Prepares r (allocates nothing). max_bytes caps the body; truncate picks what happens past it:
 * an aborted transfer (CURLE_WRITE_ERROR with is_too_big set), or the transfer running on with
 * only the data that fit kept (is_too_big set too). */
void fetch_response_init(struct fetch_response *r, size_t max_bytes, bool truncate);
/* Empties the body and clears the fields, ready for another attempt. */
void fetch_response_reset(struct fetch_response *r);
void fetch_response_cleanup(struct fetch_response *r);
/* After the transfer on easy ended with result: records the status and the headers above. */
void fetch_response_read(struct fetch_response *r, CURL *easy, CURLcode result);
/* The body as a C string ("" when empty) and its length, e.g. for cJSON_ParseWithLength(). */
const char *fetch_response_text(const struct fetch_response *r);

/* ---- the request setup ---- */

struct fetch_request {
    const char *method;         /* "GET" when NULL, or "POST", "PUT", "PATCH", "DELETE" */
    const char *url;            /* may hold a secret (a webhook token): curl copies it, nobody logs it */
    CURLU *curlu;               /* instead of url: a URL already parsed and checked; borrowed */
    struct curl_slist *headers; /* borrowed until the transfer ends */
    const char *body;           /* borrowed until the transfer ends; body_len bytes */
    size_t body_len;
    curl_mime *mime;           /* a multipart body instead of body; borrowed */
    const char *user_agent;    /* required by Discord; NULL sends none */
    const char *protocols;     /* the schemes allowed, NULL = "http,https" */
    long timeout_ms;           /* the whole attempt, at most; 0 = up to the deadline */
    uint64_t deadline_mono_ms; /* the attempt ends by then too; 0 = none */
};

/* Replaces *easy (cleaned up if set) with a new handle; NULL when out of memory. Every attempt
 * starts with one, before anything is made with the handle (a curl_mime): libcurl 7.88 (Debian
 * 12) reads freed memory from the previous response when a reused, reset handle gets a response
 * whose first header line is folded (found by fuzzing). The connection pool belongs to the multi
 * handle, so new easy handles still reuse connections. */
CURL *fetch_easy_fresh(CURL **easy);

/* Resets easy and configures it for req, writing into resp (which is reset). Redirects are not
 * followed. The connect timeout is FETCH_CONNECT_TIMEOUT_MS, within the total. Returns SLIMY_OK,
 * SLIMY_ETIMEOUT when the deadline has passed, SLIMY_EINVAL (no URL) or SLIMY_ENOMEM. */
enum slimy_status fetch_request_setup(CURL *easy, const struct fetch_request *req, struct fetch_response *resp);

/* Frees a header list that may hold a credential (Authorization, a key), wiping each header's
 * text first: curl_slist_append() made copies we must not leave in freed memory. NULL is fine. */
void fetch_headers_free_wiped(struct curl_slist *headers);

/* ---- the retry decision ---- */

/* One client's retry limits. Network errors and 5xx back off with fetch_backoff_ms(); 429 waits
 * what the server asked for, at most FETCH_WAIT_MAX_MS (or backs off when it did not say);
 * anything else non-2xx is final. */
struct fetch_retry_policy {
    unsigned server_error_max;   /* retries after network errors, 5xx and backoff_statuses */
    long backoff_statuses[4];    /* other statuses retried like a 5xx (OpenAI: 408, 409); 0 ends */
    unsigned rate_limit_max;     /* retries after 429 */
    uint64_t retry_after_max_ms; /* a 429 asking to wait longer than this is given up at once; 0 = never
                                  * (a longer ask is then waited FETCH_WAIT_MAX_MS) */
    long soon_status;            /* one status retried after a fixed delay (Discord's 404 race); 0 = none */
    unsigned soon_max;
    uint64_t soon_delay_ms;
};

/* The retries made so far, per kind; zero it for a new request. Success resets it. */
struct fetch_retry_state {
    unsigned server_errors, rate_limits, soon;
};

/* One attempt's outcome, as the client understood it. */
struct fetch_outcome {
    CURLcode result;        /* curl's result */
    long http_status;       /* 0 when no answer came */
    int64_t retry_after_ms; /* the wait a 429 asked for; -1 = not said (back off instead) */
    bool is_final;          /* the client read the answer: retrying cannot help (OpenAI's insufficient_quota) */
};

enum fetch_verdict {
    FETCH_DONE,    /* 2xx */
    FETCH_RETRY,   /* try again at retry_at_mono_ms (before the deadline) */
    FETCH_REFUSED, /* a final non-2xx answer: the client reads the body for why; status says what kind */
    FETCH_GIVE_UP, /* retries exhausted, a wait too long, or the deadline would pass first */
};

struct fetch_decision {
    enum fetch_verdict verdict;
    enum slimy_status status;  /* SLIMY_OK for FETCH_DONE and FETCH_RETRY; otherwise why it ended */
    uint64_t retry_at_mono_ms; /* FETCH_RETRY: when */
};

/* Decides what follows outcome o under policy p, counting the retry in *s. Give-up statuses:
 * SLIMY_ETIMEOUT (curl timed out, or the next try would not start before the deadline),
 * SLIMY_EUNAVAILABLE (other network errors), SLIMY_EUPSTREAM (5xx), SLIMY_ELIMITED (429).
 * Refusals: SLIMY_ELIMITED for a 429, SLIMY_EUPSTREAM otherwise. */
struct fetch_decision fetch_retry_decide(const struct fetch_retry_policy *p, struct fetch_retry_state *s,
                                         const struct fetch_outcome *o, uint64_t now_mono_ms,
                                         uint64_t deadline_mono_ms);

/* The status for a transfer curl could not complete: SLIMY_ETIMEOUT, SLIMY_ENOMEM or SLIMY_EUNAVAILABLE. */
enum slimy_status fetch_curl_status(CURLcode result);

#endif
