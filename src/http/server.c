/* server.c — libmicrohttpd glue: routing, body collection, health and readiness; see server.h.
 * The access handler is called several times per request: once with the headers, once per
 * body chunk, and a last time with no data, when the request is complete. An interaction whose
 * answer needs a round trip to Redis suspends its connection (the thread serves others) and is
 * resumed from the kv thread; the handler then runs once more and answers. */
#include "http/server.h"

#include <arpa/inet.h>
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

#define CONNECTION_TIMEOUT_S 30
#define CONNECTION_LIMIT 4096
#define STOP_WAIT_MS 3000                   /* how long stop waits for suspended requests (each waits 250 ms at most) */
#define METRICS_MAX_BYTES (4 * 1024 * 1024) /* the exposition is a few tens of KiB; a cap all the same */

struct http_server {
    struct MHD_Daemon *daemon;
    struct dispatch *dispatch;
    const char *metrics_token; /* cfg->metrics_token (borrowed): /metrics wants it as a Bearer token; NULL = open */
    uint64_t started_at_ms;
    atomic_int state;       /* enum http_server_state */
    atomic_int n_suspended; /* requests waiting for their admission */
};

/* Per-request state for POST /interactions, freed by request_completed(). */
struct request {
    struct buf body;
    bool too_big;               /* the body passed the cap: the rest is discarded and the answer is 413 */
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

static enum MHD_Result send_health(struct http_server *s, struct MHD_Connection *conn)
{
    char *body = malloc(256);
    if (!body)
        return MHD_NO;
    int n = snprintf(body, 256,
                     "{\"status\":\"ok\",\"version\":\"%s\",\"commit\":\"%s\",\"uptime_s\":%" PRIu64
                     ",\"rss_bytes\":%" PRIu64 "}",
                     SLIMY_VERSION, SLIMY_GIT_COMMIT, (clock_wall_ms() - s->started_at_ms) / 1000u,
                     process_rss_bytes());
    return send_json(conn, MHD_HTTP_OK, body, (size_t)n, true);
}

/* "redis" tells an operator whether this replica shares state: "up", "down" (serving from its
 * own memory, still ready: Redis alone never makes a replica unready) or "disabled". */
static enum MHD_Result send_ready(struct http_server *s, struct MHD_Connection *conn)
{
    enum http_server_state state = atomic_load(&s->state);
    const char *status = state == HTTP_READY ? "ready" : state == HTTP_DRAINING ? "draining" : "starting";
    enum kv_state kv = dispatch_kv_state(s->dispatch);
    const char *redis = kv == KV_STATE_SHARED ? "up" : kv == KV_STATE_FALLBACK ? "down" : "disabled";
    char *body = malloc(64);
    if (!body)
        return MHD_NO;
    int n = snprintf(body, 64, "{\"status\":\"%s\",\"redis\":\"%s\"}", status, redis);
    return send_json(conn, state == HTTP_READY ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, body, (size_t)n, true);
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

static enum MHD_Result handle_interactions(struct http_server *s, struct MHD_Connection *conn, const char *upload_data,
                                           size_t *upload_data_size, void **con_cls)
{
    struct request *req = *con_cls;
    if (!req) {
        /* Headers only so far: refuse an announced oversize body before reading any of it. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY_BYTES) {
            metrics_interaction(METRICS_INTERACTION_UNKNOWN, 413);
            return send_static(conn, 413, "{\"error\":\"body larger than 1 MiB\"}");
        }
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        buf_init(&req->body, HTTP_MAX_BODY_BYTES);
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_big && buf_append(&req->body, upload_data, *upload_data_size) != SLIMY_OK) {
            req->too_big = true; /* never verify or parse a partial body */
            buf_cleanup(&req->body);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->too_big) {
        metrics_interaction(METRICS_INTERACTION_UNKNOWN, 413);
        return send_static(conn, 413, "{\"error\":\"body larger than 1 MiB\"}");
    }

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
    req->server = s;
    atomic_fetch_add(&s->n_suspended, 1);
    MHD_suspend_connection(conn);
    dispatch_wait_run(w, resume_request, req);
    return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                      const char *version, const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct http_server *s = cls;
    bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (strcmp(url, "/interactions") == 0) {
        if (strcmp(method, MHD_HTTP_METHOD_POST) == 0)
            return handle_interactions(s, conn, upload_data, upload_data_size, con_cls);
        return send_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"method not allowed\"}");
    }
    bool is_health = strcmp(url, "/health") == 0, is_ready = strcmp(url, "/ready") == 0;
    bool is_metrics = strcmp(url, "/metrics") == 0, is_metrics_json = strcmp(url, "/metrics.json") == 0;
    if (is_health || is_ready || is_metrics || is_metrics_json) {
        if (!is_get) {
            /* Allow: GET is what these accept; send_json only sets Allow for POST routes. */
            struct MHD_Response *r = MHD_create_response_from_buffer(strlen("{\"error\":\"method not allowed\"}"),
                                                                     (void *)"{\"error\":\"method not allowed\"}",
                                                                     MHD_RESPMEM_PERSISTENT);
            if (!r)
                return MHD_NO;
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
            MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
            enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (is_metrics || is_metrics_json)
            return send_metrics(s, conn, is_metrics_json);
        return is_health ? send_health(s, conn) : send_ready(s, conn);
    }
    return send_static(conn, MHD_HTTP_NOT_FOUND, "{\"error\":\"not found\"}");
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct request *req = *con_cls;
    if (!req)
        return;
    if (req->wait) { /* resumed, but the client went away before the answer */
        struct dispatch_reply reply;
        dispatch_wait_finish(req->wait, &reply);
        free(reply.body);
    }
    buf_cleanup(&req->body);
    free(req);
    *con_cls = NULL;
}

/* slimy_http_connections_open follows libmicrohttpd's own view of its connections. */
static void connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        metrics_connection_opened();
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        metrics_connection_closed();
}

int http_server_start(const struct slimy_config *cfg, struct dispatch *dispatch, uint64_t started_at_ms,
                      struct http_server **out)
{
    struct http_server *s = calloc(1, sizeof *s);
    if (!s)
        return SLIMY_ENOMEM;
    s->dispatch = dispatch;
    s->metrics_token = cfg->metrics_token;
    s->started_at_ms = started_at_ms;
    atomic_store(&s->state, HTTP_STARTING);

    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(cfg->port);
    } else if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(cfg->port);
        flags |= MHD_USE_IPv6;
    } else {
        free(s);
        return SLIMY_EINVAL;
    }
    unsigned threads = cfg->http_threads;
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (unsigned)n : 1;
    }
    s->daemon = MHD_start_daemon(flags, cfg->port, NULL, NULL, access_handler, s, MHD_OPTION_SOCK_ADDR, &addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
                                 (unsigned)CONNECTION_LIMIT, MHD_OPTION_NOTIFY_COMPLETED, request_completed, s,
                                 MHD_OPTION_NOTIFY_CONNECTION, connection_notify, NULL, MHD_OPTION_END);
    if (!s->daemon) {
        log_critical("cannot listen", LOG_S("bind", cfg->bind), LOG_I("port", cfg->port));
        free(s);
        return SLIMY_EUNAVAILABLE;
    }
    log_info("listening", LOG_S("bind", cfg->bind), LOG_I("port", cfg->port), LOG_I("http_threads", threads));
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
    int fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void http_server_stop(struct http_server *s)
{
    if (!s)
        return;
    /* libmicrohttpd must not stop with a connection suspended: let the admissions come back. */
    for (int waited_ms = 0; atomic_load(&s->n_suspended) > 0 && waited_ms < STOP_WAIT_MS; waited_ms += 10) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 10000000L};
        nanosleep(&pause, NULL);
    }
    MHD_stop_daemon(s->daemon);
    free(s);
}
