/* guard.h — the HTTP server's defences (internal to src/http; server.c is its only user):
 *   - deadlines per connection, enforced by a watchdog thread: a connection whose request has not
 *     arrived whole in time is answered (400 for headers, 408 for a body) and shut down, however
 *     slowly it trickles bytes (libmicrohttpd's own timeout only measures inactivity);
 *   - a budget for request-body bytes held in memory across all connections;
 *   - strict header checks libmicrohttpd 0.9.75 does not make (NUL and control bytes, repeated
 *     or conflicting framing headers).
 * Thread-safe: the HTTP threads, the watchdog and libmicrohttpd's notifications share it. */
#ifndef SLIMY_HTTP_GUARD_H
#define SLIMY_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

/* Time for a request's header block: from the accept for the first request of a connection, and
 * from the end of the previous one (plus the keep-alive idle time) for the next. Discord and nginx
 * send their headers at once; a TLS ClientHello sent to this plain port never ends a header block.
 * Past it the connection is answered 400 and closed, or only closed when nothing at all came. */
#define HTTP_HEADER_TIMEOUT_MS 1500u
/* Time for the body of POST /interactions, from its headers: Discord waits 3 s for the answer. */
#define HTTP_BODY_TIMEOUT_MS 5000u
/* Request bodies held in memory across all connections. A body past its first
 * HTTP_BODY_SMALL_BYTES may only grow the total to HTTP_BODY_BUDGET_LARGE_BYTES, so the last
 * 8 MiB always stay for ordinary interactions (a few KiB each) whatever large bodies arrive. */
#define HTTP_BODY_BUDGET_BYTES (32u * 1024u * 1024u)
#define HTTP_BODY_BUDGET_LARGE_BYTES (24u * 1024u * 1024u)
#define HTTP_BODY_SMALL_BYTES (64u * 1024u)

struct http_guard;
struct conn_guard;

/* Starts the watchdog thread. SLIMY_ENOMEM, SLIMY_EUNAVAILABLE (no thread). */
int http_guard_start(struct http_guard **out);
/* Stops the watchdog and frees the guard; every connection must be closed (after MHD_stop_daemon). */
void http_guard_stop(struct http_guard *g);

/* A connection was accepted (fd is its socket): registers it with the header deadline. NULL when
 * out of memory (the connection then goes unguarded). */
struct conn_guard *http_guard_conn_open(struct http_guard *g, int fd, uint64_t now_ms);
/* The connection is being closed (before its socket is): unregisters and frees it. NULL is fine. */
void http_guard_conn_close(struct http_guard *g, struct conn_guard *c);
/* The connection's guard, from the access handler. NULL when it has none. */
struct conn_guard *http_guard_of(struct MHD_Connection *conn);

/* The handler is about to answer, suspend or wait for more: the pending deadline is cleared.
 * false when the watchdog already answered the connection: the handler must return MHD_NO. */
bool conn_guard_claim(struct conn_guard *c);
/* Arms a deadline; when it passes, the watchdog answers status (400 or 408) and shuts the
 * connection down. Does nothing once the watchdog has answered. NULL c is fine. */
void conn_guard_arm(struct conn_guard *c, uint64_t deadline_ms, unsigned status);
/* Whether the watchdog has answered this connection. */
bool conn_guard_expired(const struct conn_guard *c);

/* Takes n bytes from the body budget (the smaller one when large). false: over budget. */
bool http_guard_reserve(struct http_guard *g, size_t n, bool large);
void http_guard_release(struct http_guard *g, size_t n);

/* Why the request's headers must be refused with a 400 ("nul byte in a header", ...), or NULL:
 * a NUL or control byte (HTAB aside) in a header name or value, a space in a name, more than one
 * Content-Length or Transfer-Encoding, both together, a Content-Length that is not all digits, or
 * a Transfer-Encoding other than chunked. */
const char *http_headers_problem(struct MHD_Connection *conn);

#endif
