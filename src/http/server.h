/* server.h — Slimy's one HTTP listener: an accept thread handing each connection to the least busy
 * of HTTP_THREADS libmicrohttpd daemons (one thread each, polling its own connections; 0 = one
 * per core).
 * Routes: POST /interactions (→ dispatch.h), GET /health (liveness), GET /ready (readiness),
 * GET /metrics and /metrics.json (core/metrics.h; a Bearer METRICS_TOKEN when one is set).
 * This is the only module that knows libmicrohttpd; everything else sees plain bytes.
 * POST /interactions is refused at its headers when it cannot be Discord's (signature headers
 * missing, malformed or stale: 401; an announced body over 1 MiB: 413), before any body byte is
 * read. Otherwise its body is read completely (1 MiB cap → 413, never truncated; a budget for all
 * bodies in memory → 503) before anything looks at it. Malformed framing headers are a 400; a
 * request that does not arrive whole in time is answered 400 or 408 and closed (guard.h).
 * Thread-safe: the state may be changed from any thread. */
#ifndef SLIMY_HTTP_SERVER_H
#define SLIMY_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "interactions/dispatch.h"

#define HTTP_MAX_BODY_BYTES (1024 * 1024)

enum http_server_state {
    HTTP_STARTING, /* /ready answers 503 */
    HTTP_READY,    /* /ready answers 200 */
    HTTP_DRAINING, /* shutting down: /ready answers 503 */
};

struct http_server;

/* Starts listening on cfg->bind:cfg->port in state HTTP_STARTING. dispatch is borrowed.
 * SLIMY_EUNAVAILABLE (with a log line) when the address cannot be bound. */
int http_server_start(const struct slimy_config *cfg, struct dispatch *dispatch, uint64_t started_at_ms,
                      struct http_server **out);
void http_server_set_state(struct http_server *s, enum http_server_state state);
/* Stops accepting new connections; open ones are still served. */
void http_server_quiesce(struct http_server *s);
/* Closes every connection and frees the server. NULL is fine. */
void http_server_stop(struct http_server *s);

#endif
