/* server.c — libmicrohttpd glue: the listener, routing, body collection, health and readiness;
 * see server.h.
 * The server owns its listening socket: an accept thread hands each new connection to the least
 * busy of N single-threaded libmicrohttpd daemons (MHD_add_connection; each polls its own share). libmicrohttpd's own
 * thread pool shares one listening socket between its threads, and whichever wakes first takes
 * the connection: a client with few long-lived connections (wrk, nginx's upstream keep-alive,
 * Discord's few addresses) often ends up with all of them on one thread, one core busy and the
 * others idle. A connection stays on the daemon it was given; the daemons never share one.
 * The access handler is called several times per request: once with the headers, once per
 * body chunk, and a last time with no data, when the request is complete. An interaction whose
 * answer needs a round trip to Redis suspends its connection (the thread serves others) and is
 * resumed from the kv thread; the handler then runs once more and answers. */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/process.h"
#include "core/status.h"
#include "http/guard.h"
#include "interactions/verify.h"

/* Idle keep-alive time (libmicrohttpd's inactivity timeout). nginx closes its idle upstream
 * connections first (keepalive_timeout 20s in nginx/slimy.conf.template). How long a request may
 * take to arrive is guard.h's business, not this. */
#define CONNECTION_TIMEOUT_S 30
/* Connections at once, at most; fewer when the descriptor limit is lower (CONNECTION_FD_RESERVE
 * stay for the store, Redis, the outbound engine and the logs). A connection waiting for its
 * headers costs one descriptor and a few KiB of libmicrohttpd's pool. */
#define CONNECTION_LIMIT 8192
#define CONNECTION_LIMIT_MIN 64
#define CONNECTION_FD_RESERVE 256
/* Connections from one address: three quarters of the limit. Discord delivers from a handful of
 * addresses and nginx from one, with as many connections as interactions in flight (hundreds at a
 * busy moment), so a lower cap would refuse real interactions; this one only keeps a single
 * address from taking every slot, so the others (and a health checker) always find one. */
#define CONNECTION_PER_IP_NUM 3
#define CONNECTION_PER_IP_DEN 4
/* libmicrohttpd's memory per connection (its default is 32 KiB): the request line and headers,
 * the buffer the body is read through, and the answer's headers. Discord's and nginx's headers
 * take about 1 KiB. libmicrohttpd 0.9.75 zeroes the whole pool after every request, so a smaller
 * one costs less per request, and 256 idle keep-alive connections hold 4 MiB instead of 8.
 * Headers that do not fit are refused (431), as before past 32 KiB. */
#define CONNECTION_MEMORY_BYTES (16 * 1024)
#define STOP_WAIT_MS 3000                   /* how long stop waits for suspended requests (each waits 250 ms at most) */
#define METRICS_MAX_BYTES (4 * 1024 * 1024) /* the exposition is a few tens of KiB; a cap all the same */
#define LISTEN_BACKLOG SOMAXCONN            /* libmicrohttpd's default for its own listening socket */
#define ACCEPT_BATCH 64                     /* connections taken per wake-up before polling again */
#define ACCEPT_PAUSE_MS 20                  /* out of descriptors or memory: the pause before trying again */

/* One libmicrohttpd daemon with its own thread, fed by the accept thread. */
struct http_worker {
    struct MHD_Daemon *daemon;
    struct http_server *server;
    atomic_uint open; /* connections handed to it and not closed yet */
};

struct http_server {
    struct http_worker *workers;
    unsigned n_workers;
    unsigned next_worker; /* accept thread only: where the search for the least busy starts */
    bool accept_failing;  /* accept thread only: out of descriptors, already logged */
    int listen_fd;
    int stop_fd;    /* an eventfd: written to stop the accept thread */
    bool accepting; /* the accept thread runs (changed by the thread that starts and stops) */
    pthread_t acceptor;
    struct http_guard *guard;
    struct dispatch *dispatch;
    uint32_t signature_max_age_s;
    const char *metrics_token; /* cfg->metrics_token (borrowed): /metrics wants it as a Bearer token; NULL = open */
    uint64_t started_at_ms;
    atomic_int state;       /* enum http_server_state */
    atomic_int n_suspended; /* requests waiting for their admission */
};

/* Per-request state for POST /interactions, freed by request_completed(). */
struct request {
    struct buf body;
    unsigned refused;           /* 413 (past the cap) or 503 (past the budget): the rest is discarded */
    size_t reserved;            /* bytes of the body budget this request holds */
    struct dispatch_wait *wait; /* set while (or since) the connection waits for its admission */
    struct MHD_Connection *conn;
    struct http_server *server;
};

static enum MHD_Result send_typed(struct MHD_Connection *conn, unsigned status, const char *content_type, char *body,
                                  size_t len, bool must_free)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, body, must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        if (must_free)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "POST");
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, char *body, size_t len, bool must_free)
{
    return send_typed(conn, status, "application/json", body, len, must_free);
}

static enum MHD_Result send_static(struct MHD_Connection *conn, unsigned status, const char *body)
{
    return send_json(conn, status, (char *)body, strlen(body), false);
}

/* snprintf's result as a length: what was written, never more than the buffer holds (a negative
 * result, an encoding error, is an empty text). */
static size_t written_len(int n, size_t size)
{
    if (n < 0)
        return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

static enum MHD_Result send_health(struct http_server *s, struct MHD_Connection *conn)
{
    enum {
        HEALTH_MAX = 256
    };
    char *body = malloc(HEALTH_MAX);
    if (!body)
        return MHD_NO;
    int n = snprintf(body, HEALTH_MAX,
                     "{\"status\":\"ok\",\"version\":\"%s\",\"commit\":\"%s\",\"uptime_s\":%" PRIu64
                     ",\"rss_bytes\":%" PRIu64 "}",
                     SLIMY_VERSION, SLIMY_GIT_COMMIT, (clock_wall_ms() - s->started_at_ms) / 1000u,
                     process_rss_bytes());
    return send_json(conn, MHD_HTTP_OK, body, written_len(n, HEALTH_MAX), true);
}

/* "redis" tells an operator whether this replica shares state: "up", "down" (serving from its
 * own memory, still ready: Redis alone never makes a replica unready) or "disabled". */
static enum MHD_Result send_ready(struct http_server *s, struct MHD_Connection *conn)
{
    enum http_server_state state = atomic_load(&s->state);
    const char *status = state == HTTP_READY ? "ready" : state == HTTP_DRAINING ? "draining" : "starting";
    enum kv_state kv = dispatch_kv_state(s->dispatch);
    const char *redis = kv == KV_STATE_SHARED ? "up" : kv == KV_STATE_FALLBACK ? "down" : "disabled";
    enum {
        READY_MAX = 64
    };
    char *body = malloc(READY_MAX);
    if (!body)
        return MHD_NO;
    int n = snprintf(body, READY_MAX, "{\"status\":\"%s\",\"redis\":\"%s\"}", status, redis);
    return send_json(conn, state == HTTP_READY ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body,
                     written_len(n, READY_MAX), true);
}

/* Whether the request may read /metrics: any request when no token is set, otherwise one with
 * "Authorization: Bearer <token>". Both sides are hashed first, so the comparison takes the same
 * time whatever the length or the content of what was sent (sodium_memcmp is constant-time). */
static bool metrics_allowed(const struct http_server *s, struct MHD_Connection *conn)
{
    if (!s->metrics_token)
        return true;
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncmp(auth, "Bearer ", 7) != 0)
        return false;
    unsigned char given[crypto_generichash_BYTES], wanted[crypto_generichash_BYTES];
    crypto_generichash(given, sizeof given, (const unsigned char *)auth + 7, strlen(auth + 7), NULL, 0);
    crypto_generichash(wanted, sizeof wanted, (const unsigned char *)s->metrics_token, strlen(s->metrics_token), NULL,
                       0);
    return sodium_memcmp(given, wanted, sizeof given) == 0;
}

/* GET /metrics (Prometheus text) and /metrics.json: this replica's counters (core/metrics.h). */
static enum MHD_Result send_metrics(struct http_server *s, struct MHD_Connection *conn, bool json)
{
    if (!metrics_allowed(s, conn))
        return send_static(conn, MHD_HTTP_UNAUTHORIZED, "{\"error\":\"unauthorized\"}");
    enum kv_state kv = dispatch_kv_state(s->dispatch);
    struct metrics_view view = {
        .uptime_s = (clock_wall_ms() - s->started_at_ms) / 1000u,
        .jobs_queued = dispatch_jobs_queued(s->dispatch),
        .jobs_in_flight = dispatch_jobs_in_flight(s->dispatch),
        .shared_state = kv == KV_STATE_SHARED     ? METRICS_SHARED_REDIS
                        : kv == KV_STATE_FALLBACK ? METRICS_SHARED_MEMORY_FALLBACK
                                                  : METRICS_SHARED_MEMORY,
    };
    struct buf text;
    buf_init(&text, METRICS_MAX_BYTES);
    int rc = json ? metrics_render_json(&view, &text) : metrics_render_text(&view, &text);
    size_t len = text.len;
    char *body = rc ? NULL : buf_detach(&text);
    buf_cleanup(&text);
    if (!body)
        return send_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "{\"error\":\"metrics not available\"}");
    return send_typed(conn, MHD_HTTP_OK, json ? "application/json" : METRICS_CONTENT_TYPE, body, len, true);
}

/* kv thread (or this one): the admission is back; the handler runs again and answers. */
static void resume_request(void *arg)
{
    struct request *req = arg;
    struct http_server *s = req->server;
    MHD_resume_connection(req->conn);
    atomic_fetch_sub(&s->n_suspended, 1);
}

/* The first call of POST /interactions, with the headers only: a request that will be refused
 * whatever its body is answered now, and libmicrohttpd then closes the connection without reading
 * the body (0.9.75 does so for any answer queued in the first call). The signature headers get
 * verify_request()'s own checks (presence, shape, freshness) on an empty body with an all-zero
 * key, which libsodium refuses before any curve arithmetic: VERIFY_BAD_SIGNATURE means "well
 * formed, fresh", and only the real check, after the body, can tell more. */
static enum MHD_Result start_interaction(struct http_server *s, struct MHD_Connection *conn, struct conn_guard *cg,
                                         void **con_cls)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY_BYTES) {
        metrics_interaction(METRICS_INTERACTION_UNKNOWN, 413);
        return send_static(conn, 413, "{\"error\":\"body larger than 1 MiB\"}");
    }
    static const unsigned char no_key[32];
    int64_t signed_at_s = 0;
    const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Signature-Ed25519");
    const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Signature-Timestamp");
    enum verify_result v =
        verify_request(no_key, sig, ts, "", 0, clock_wall_ms() / 1000u, s->signature_max_age_s, &signed_at_s);
    if (v != VERIFY_BAD_SIGNATURE && v != VERIFY_OK) {
        log_debug("signature rejected", LOG_S("reason", verify_result_name(v)), LOG_B("at_headers", true));
        metrics_signature_failure((unsigned)v, verify_result_name(v));
        metrics_interaction(METRICS_INTERACTION_UNKNOWN, 401);
        return send_static(conn, MHD_HTTP_UNAUTHORIZED, "{\"error\":\"invalid request signature\"}");
    }
    struct request *req = calloc(1, sizeof *req);
    if (!req)
        return MHD_NO;
    buf_init(&req->body, HTTP_MAX_BODY_BYTES);
    req->server = s;
    *con_cls = req;
    conn_guard_arm(cg, clock_mono_ms() + HTTP_BODY_TIMEOUT_MS, 408);
    return MHD_YES;
}

/* One chunk of the body: held within the cap and the budget, or discarded once refused. */
static void take_body(struct http_server *s, struct request *req, const char *data, size_t len)
{
    if (req->refused)
        return;
    bool large = req->body.len + len > HTTP_BODY_SMALL_BYTES;
    int rc = len > HTTP_MAX_BODY_BYTES - req->body.len ? SLIMY_ETOOBIG : SLIMY_OK;
    if (rc == SLIMY_OK && !http_guard_reserve(s->guard, len, large))
        rc = SLIMY_EUNAVAILABLE;
    else if (rc == SLIMY_OK) {
        req->reserved += len;
        rc = buf_append(&req->body, data, len);
    }
    if (rc == SLIMY_OK)
        return;
    req->refused = rc == SLIMY_EUNAVAILABLE ? 503 : 413; /* never verify or parse a partial body */
    http_guard_release(s->guard, req->reserved);
    req->reserved = 0;
    buf_cleanup(&req->body);
}

static enum MHD_Result send_refused(struct MHD_Connection *conn, unsigned status)
{
    metrics_interaction(METRICS_INTERACTION_UNKNOWN, (int)status);
    if (status == 503)
        return send_static(conn, 503, "{\"error\":\"too many request bodies in flight, retry\"}");
    if (status == 413)
        return send_static(conn, 413, "{\"error\":\"body larger than 1 MiB\"}");
    return send_static(conn, 500, "{\"error\":\"out of memory\"}");
}

static enum MHD_Result handle_interactions(struct http_server *s, struct MHD_Connection *conn, struct conn_guard *cg,
                                           const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    struct request *req = *con_cls;
    if (*upload_data_size) {
        if (conn_guard_expired(cg)) /* answered 408 by the watchdog: stop here */
            return MHD_NO;
        take_body(s, req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!conn_guard_claim(cg))
        return MHD_NO;
    if (req->refused)
        return send_refused(conn, req->refused);

    struct dispatch_reply reply;
    if (req->wait) { /* resumed: the admission came back */
        dispatch_wait_finish(req->wait, &reply);
        req->wait = NULL;
        return send_json(conn, (unsigned)reply.http_status, reply.body, reply.len, true);
    }
    const char *sig = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Signature-Ed25519");
    const char *ts = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Signature-Timestamp");
    struct dispatch_wait *w =
        dispatch_interaction_start(s->dispatch, sig, ts, req->body.data ? req->body.data : "", req->body.len, &reply);
    if (!w)
        return send_json(conn, (unsigned)reply.http_status, reply.body, reply.len, true);
    /* Suspended before the admission starts, so its resume can never come first. */
    req->wait = w;
    req->conn = conn;
    atomic_fetch_add(&s->n_suspended, 1);
    MHD_suspend_connection(conn);
    dispatch_wait_run(w, resume_request, req);
    return MHD_YES;
}

static enum MHD_Result send_not_allowed_get(struct MHD_Connection *conn)
{
    /* Allow: GET is what these accept; send_json only sets Allow for POST routes. */
    static const char text[] = "{\"error\":\"method not allowed\"}";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof text - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    return ret;
}

/* Every route but POST /interactions: none reads a body. */
static enum MHD_Result answer_route(struct http_server *s, struct MHD_Connection *conn, const char *url,
                                    const char *method)
{
    bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (strcmp(url, "/interactions") == 0)
        return send_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"method not allowed\"}");
    bool is_health = strcmp(url, "/health") == 0, is_ready = strcmp(url, "/ready") == 0;
    bool is_metrics = strcmp(url, "/metrics") == 0, is_metrics_json = strcmp(url, "/metrics.json") == 0;
    if (!is_health && !is_ready && !is_metrics && !is_metrics_json)
        return send_static(conn, MHD_HTTP_NOT_FOUND, "{\"error\":\"not found\"}");
    if (!is_get)
        return send_not_allowed_get(conn);
    if (is_metrics || is_metrics_json)
        return send_metrics(s, conn, is_metrics_json);
    return is_health ? send_health(s, conn) : send_ready(s, conn);
}

/* *con_cls of a request to any route but POST /interactions, between its two calls. */
static char route_pending;

/* The first call, with the headers. An answer queued now closes the connection after it
 * (libmicrohttpd 0.9.75), so only refusals are answered here; a request without a body is
 * answered in the next call, which keeps the connection for the next (pipelined) request. */
static enum MHD_Result first_call(struct http_server *s, struct MHD_Connection *conn, struct conn_guard *cg,
                                  const char *url, const char *method, void **con_cls)
{
    if (!conn_guard_claim(cg))
        return MHD_NO;
    const char *problem = http_headers_problem(conn);
    if (problem) {
        log_debug("http request refused", LOG_S("reason", problem));
        return send_static(conn, MHD_HTTP_BAD_REQUEST, "{\"error\":\"malformed request headers\"}");
    }
    if (strcmp(url, "/interactions") == 0 && strcmp(method, MHD_HTTP_METHOD_POST) == 0)
        return start_interaction(s, conn, cg, con_cls);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    bool has_body = (cl && strtoull(cl, NULL, 10) > 0) ||
                    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
    if (has_body) /* a body nobody reads: answer now, and the connection closes without reading it */
        return answer_route(s, conn, url, method);
    *con_cls = &route_pending;
    return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct http_server *s = cls;
    struct conn_guard *cg = http_guard_of(conn);
    (void)version;
    if (!*con_cls)
        return first_call(s, conn, cg, url, method, con_cls);
    if (*con_cls == &route_pending) {
        *upload_data_size = 0;
        return answer_route(s, conn, url, method);
    }
    return handle_interactions(s, conn, cg, upload_data, upload_data_size, con_cls);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct http_server *s = cls;
    (void)toe;
    /* The next request on this connection: its headers within the idle time and the header time. */
    conn_guard_arm(http_guard_of(conn), clock_mono_ms() + CONNECTION_TIMEOUT_S * 1000u + HTTP_HEADER_TIMEOUT_MS, 400);
    struct request *req = *con_cls;
    *con_cls = NULL;
    if (!req || (void *)req == &route_pending)
        return;
    if (req->wait) { /* resumed, but the client went away before the answer */
        struct dispatch_reply reply;
        dispatch_wait_finish(req->wait, &reply);
        free(reply.body);
    }
    http_guard_release(s->guard, req->reserved);
    buf_cleanup(&req->body);
    free(req);
}

/* Registers each connection with the watchdog; slimy_http_connections_open follows
 * libmicrohttpd's own view of its connections, and the worker's count its share of them. */
static void connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    struct http_worker *w = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info)
            *socket_context = http_guard_conn_open(w->server->guard, info->connect_fd, clock_mono_ms());
        metrics_connection_opened();
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        http_guard_conn_close(w->server->guard, *socket_context);
        *socket_context = NULL;
        metrics_connection_closed();
        atomic_fetch_sub(&w->open, 1);
    }
}

/* cfg->bind and cfg->port as a socket address and its length. */
static int bind_address(const struct slimy_config *cfg, struct sockaddr_storage *addr, socklen_t *len)
{
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)addr;
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(cfg->port);
        *len = sizeof *v4;
    } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(cfg->port);
        *len = sizeof *v6;
    } else {
        return SLIMY_EINVAL;
    }
    return SLIMY_OK;
}

/* The listening socket, set up as libmicrohttpd sets up its own: SO_REUSEADDR, an IPv6 address
 * for IPv6 only, non-blocking (the accept thread polls it). -1 when it cannot be bound. */
static int open_listener(const struct sockaddr_storage *addr, socklen_t len)
{
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    bool ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == 0;
    if (ok && addr->ss_family == AF_INET6)
        ok = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) == 0;
    if (!ok || bind(fd, (const struct sockaddr *)addr, len) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Accept thread only: the worker with the fewest open connections, the search starting after the
 * last one chosen, so equal ones take turns. */
static struct http_worker *least_busy(struct http_server *s)
{
    unsigned best = s->next_worker % s->n_workers, best_open = UINT32_MAX;
    for (unsigned k = 0; k < s->n_workers; k++) {
        unsigned i = (s->next_worker + k) % s->n_workers;
        unsigned n = atomic_load_explicit(&s->workers[i].open, memory_order_relaxed);
        if (n < best_open) {
            best = i;
            best_open = n;
        }
    }
    s->next_worker = best + 1;
    return &s->workers[best];
}

/* Takes the connections waiting on the listening socket. false: stop was asked meanwhile.
 * libmicrohttpd closes a connection it refuses (a limit reached, out of memory); one it takes
 * and then fails to set up in its thread keeps its count, which only skews the choice a little. */
static bool accept_ready(struct http_server *s)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage peer;
        socklen_t len = sizeof peer;
        int fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
            /* The connection stays in the backlog; pause rather than spin on it (one line a run). */
            if (!s->accept_failing)
                log_warn("cannot accept connections", LOG_S("error", strerror(errno)));
            s->accept_failing = true;
            struct pollfd stop = {.fd = s->stop_fd, .events = POLLIN};
            return poll(&stop, 1, ACCEPT_PAUSE_MS) == 0;
        }
        if (fd < 0)
            return true; /* EAGAIN: none left; ECONNABORTED and the like: that one is gone */
        s->accept_failing = false;
        struct http_worker *w = least_busy(s);
        atomic_fetch_add(&w->open, 1);
        if (MHD_add_connection(w->daemon, fd, (const struct sockaddr *)&peer, len) != MHD_YES)
            atomic_fetch_sub(&w->open, 1);
    }
    return true;
}

static void *accept_main(void *arg)
{
    struct http_server *s = arg;
    struct pollfd fds[2] = {{.fd = s->listen_fd, .events = POLLIN}, {.fd = s->stop_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if ((fds[0].revents & POLLIN) && !accept_ready(s))
            break;
    }
    return NULL;
}

/* CONNECTION_LIMIT, or fewer to stay under the process's descriptor limit. */
static unsigned connection_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur >= CONNECTION_LIMIT + CONNECTION_FD_RESERVE)
        return CONNECTION_LIMIT;
    if (rl.rlim_cur < CONNECTION_LIMIT_MIN + CONNECTION_FD_RESERVE)
        return CONNECTION_LIMIT_MIN;
    return (unsigned)(rl.rlim_cur - CONNECTION_FD_RESERVE);
}

/* One daemon without a listening socket (MHD_USE_ITC: connections added from the accept thread
 * are picked up at once). poll(), not epoll: libmicrohttpd 0.9.75 registers an added connection
 * with its edge-triggered epoll set from the adding thread, racing its own thread, and under a
 * burst of connections (256 from wrk) most of them lost their first event and sat unserved with
 * their request unread. poll() asks about every connection at every wake-up, so none is missed;
 * each thread has only its share of the connections to ask about.
 * The limits are each daemon's share: connections go to the least busy, so together they take
 * the whole limit, and one address can hold three quarters of each, which leaves a quarter of
 * every daemon to the others (and to a health checker). */
static struct MHD_Daemon *start_worker(struct http_server *s, struct http_worker *w, unsigned limit)
{
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_NO_LISTEN_SOCKET;
    unsigned share = (limit + s->n_workers - 1) / s->n_workers;
    unsigned per_ip = share / CONNECTION_PER_IP_DEN * CONNECTION_PER_IP_NUM;
    w->server = s;
    atomic_init(&w->open, 0);
    return MHD_start_daemon(flags, 0, NULL, NULL, access_handler, s, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                            (size_t)CONNECTION_MEMORY_BYTES, MHD_OPTION_CONNECTION_LIMIT, share,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip ? per_ip : 1u, MHD_OPTION_NOTIFY_COMPLETED,
                            request_completed, s, MHD_OPTION_NOTIFY_CONNECTION, connection_notify, w, MHD_OPTION_END);
}

/* Stops the accept thread and closes the listening socket; does nothing the second time. */
static void stop_accepting(struct http_server *s)
{
    if (s->accepting) {
        uint64_t one = 1;
        if (write(s->stop_fd, &one, sizeof one) != (ssize_t)sizeof one)
            log_warn("cannot wake the accept thread", LOG_S("error", strerror(errno)));
        pthread_join(s->acceptor, NULL);
        s->accepting = false;
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    s->listen_fd = -1;
}

/* Frees what start() made; the daemons are stopped first (they may still call into the guard). */
static void destroy(struct http_server *s)
{
    stop_accepting(s);
    for (unsigned i = 0; s->workers && i < s->n_workers; i++)
        if (s->workers[i].daemon)
            MHD_stop_daemon(s->workers[i].daemon);
    http_guard_stop(s->guard); /* after: closing connections still unregister from it */
    if (s->stop_fd >= 0)
        close(s->stop_fd);
    free(s->workers);
    free(s);
}

static unsigned http_threads(const struct slimy_config *cfg)
{
    if (cfg->http_threads)
        return cfg->http_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* The listening socket, the daemons and the accept thread, in that order. */
static int start(struct http_server *s, const struct slimy_config *cfg, unsigned limit)
{
    struct sockaddr_storage addr;
    socklen_t len = 0;
    if (bind_address(cfg, &addr, &len) != SLIMY_OK)
        return SLIMY_EINVAL;
    s->listen_fd = open_listener(&addr, len);
    if (s->listen_fd < 0) {
        log_critical("cannot listen", LOG_S("bind", cfg->bind), LOG_I("port", cfg->port),
                     LOG_S("error", strerror(errno)));
        return SLIMY_EUNAVAILABLE;
    }
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    s->workers = calloc(s->n_workers, sizeof *s->workers);
    if (s->stop_fd < 0 || !s->workers)
        return SLIMY_ENOMEM;
    for (unsigned i = 0; i < s->n_workers; i++) {
        s->workers[i].daemon = start_worker(s, &s->workers[i], limit);
        if (!s->workers[i].daemon) {
            log_critical("cannot start the HTTP threads", LOG_I("http_threads", s->n_workers));
            return SLIMY_EUNAVAILABLE;
        }
    }
    if (pthread_create(&s->acceptor, NULL, accept_main, s) != 0)
        return SLIMY_EUNAVAILABLE;
    pthread_setname_np(s->acceptor, "http-accept");
    s->accepting = true;
    return SLIMY_OK;
}

int http_server_start(const struct slimy_config *cfg, struct dispatch *dispatch, uint64_t started_at_ms,
                      struct http_server **out)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return SLIMY_ENOMEM;
    s->dispatch = dispatch;
    s->metrics_token = cfg->metrics_token;
    s->signature_max_age_s = cfg->signature_max_age_s;
    s->started_at_ms = started_at_ms;
    s->listen_fd = s->stop_fd = -1;
    s->n_workers = http_threads(cfg);
    atomic_store(&s->state, HTTP_STARTING);
    int rc = http_guard_start(&s->guard);
    if (rc) {
        free(s);
        return rc;
    }
    unsigned limit = connection_limit();
    rc = start(s, cfg, limit);
    if (rc) {
        destroy(s);
        return rc;
    }
    log_info("listening", LOG_S("bind", cfg->bind), LOG_I("port", cfg->port), LOG_I("http_threads", s->n_workers),
             LOG_I("connection_limit", limit));
    *out = s;
    return SLIMY_OK;
}

void http_server_set_state(struct http_server *s, enum http_server_state state)
{
    atomic_store(&s->state, (int)state);
    /* The main thread sets READY or STARTING from its store ping: the readiness is the store's. */
    if (state != HTTP_DRAINING)
        metrics_set_store_up(state == HTTP_READY);
}

void http_server_quiesce(struct http_server *s)
{
    stop_accepting(s);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    stop_accepting(s); /* no new connection while the others close */
    /* libmicrohttpd must not stop with a connection suspended: let the admissions come back. */
    for (int waited_ms = 0; atomic_load(&s->n_suspended) > 0 && waited_ms < STOP_WAIT_MS; waited_ms += 10) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
    }
    destroy(s);
}
