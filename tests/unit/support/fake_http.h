/* fake_http.h — a scripted HTTP/1.1 server for unit tests of code that talks HTTP with curl (the
 * Discord and OpenAI clients, and handlers built on them). It listens on 127.0.0.1 on a free port
 * in its own thread; point the client's base URL (api_base, openai_base_url) at fake_http_url().
 * A test queues the answers, in order (status, headers, body or a body sent in timed pieces, an
 * optional delay), and afterwards
 * inspects every request received (method, path, headers, body, when). A request with nothing
 * queued gets 200 with the body "{}". Each connection carries one request (Connection: close).
 * Thread-safe: the test thread and the server thread share it under a lock. */
#ifndef SLIMY_TESTS_FAKE_HTTP_H
#define SLIMY_TESTS_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct fake_http;

/* One scripted answer; fake_http_queue() copies it. */
struct fake_http_response {
    int status;          /* 0 = 200 */
    const char *headers; /* extra header lines separated by "\n" ("Retry-After: 1\nX-RateLimit-Global: true") */
    const char *body;    /* NULL = empty; sent with Content-Type: application/json unless headers set one */
    size_t body_len;     /* 0 = strlen(body) */
    unsigned delay_ms;   /* wait this long after reading the request before answering (a slow server) */
    /* Instead of body: a body sent in n_chunks pieces, chunk_delay_ms apart, without a
     * Content-Length, so it ends when the connection closes (a streamed answer; one that stops
     * early looks like a stream the server broke off). */
    const char *const *chunks;
    size_t n_chunks;
    unsigned chunk_delay_ms;
};

/* One request as received. Strings are NUL-terminated; body may also hold NULs (use body_len). */
struct fake_http_request {
    char method[16];
    char *path; /* with the query string */
    char *head; /* the header lines as received, "\r\n"-separated */
    char *body;
    size_t body_len;
    uint64_t received_mono_ms; /* clock_mono_ms() when the whole request had arrived */
};

/* Starts a server; NULL when the socket or the thread cannot be set up. */
struct fake_http *fake_http_start(void);
/* Stops the thread (a pending delay is cut short) and frees everything, requests included. */
void fake_http_stop(struct fake_http *f);
/* "http://127.0.0.1:<port>", valid until fake_http_stop(). */
const char *fake_http_url(const struct fake_http *f);

/* Queues the answer to the next request not yet answered by an earlier entry. */
void fake_http_queue(struct fake_http *f, const struct fake_http_response *r);
/* Shorthand: queues status with body (NULL = empty) and header lines (NULL = none). */
void fake_http_reply(struct fake_http *f, int status, const char *headers, const char *body);

/* Requests received so far. */
size_t fake_http_count(struct fake_http *f);
/* The i-th request (0 = first), or NULL; valid until fake_http_stop(). */
const struct fake_http_request *fake_http_request(struct fake_http *f, size_t i);
/* The i-th request's body parsed as JSON; the caller deletes it. Fails the test (cmocka) when there
 * is no such request or its body is not JSON. */
cJSON *fake_http_json(struct fake_http *f, size_t i);
/* Waits until at least n requests have arrived; false after timeout_ms. */
bool fake_http_wait(struct fake_http *f, size_t n, unsigned timeout_ms);
/* A header's value in a request (the name compares case-insensitively) copied into out; false if
 * absent. */
bool fake_http_header(const struct fake_http_request *r, const char *name, char *out, size_t out_len);

#endif
