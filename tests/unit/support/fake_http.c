/* fake_http.c — the scripted HTTP/1.1 server of fake_http.h. One thread accepts connections one
 * at a time: read one request (headers, then Content-Length bytes), record it, answer from the
 * queue, close. Enough for clients that send one request at a time per test; a delay holds up
 * later connections too, which the tests that use it expect. */
#include "fake_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"

#define HEAD_MAX (64 * 1024)
#define BODY_MAX (16 * 1024 * 1024)
#define IO_TIMEOUT_MS 5000 /* a client that stops sending mid-request is dropped */
#define POLL_MS 50         /* how often the accept loop looks at the stop flag */

#define CHUNKS_MAX 64

struct scripted {
    int status;
    char *headers;
    char *body;
    size_t body_len;
    unsigned delay_ms;
    char *chunks[CHUNKS_MAX]; /* a body in pieces, sent chunk_delay_ms apart without a length */
    size_t n_chunks;
    unsigned chunk_delay_ms;
};

struct fake_http {
    int listen_fd;
    char url[64];
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a request arrived, or stopping */
    bool stopping;
    struct scripted *queue; /* answers not yet used, FIFO from queue_head */
    size_t queue_head, queue_len, queue_cap;
    struct fake_http_request **requests; /* pointers stay put while the array grows */
    size_t n_requests, cap_requests;
};

static char *dup_bytes(const char *data, size_t len)
{
    char *p = malloc(len + 1);
    if (!p)
        abort(); /* a test helper: no point limping on */
    if (len)
        memcpy(p, data, len);
    p[len] = '\0';
    return p;
}

/* ---- the test side ---- */

void fake_http_queue(struct fake_http *f, const struct fake_http_response *r)
{
    struct scripted s = {
        .status = r->status ? r->status : 200,
        .headers = dup_bytes(r->headers ? r->headers : "", r->headers ? strlen(r->headers) : 0),
        .body_len = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0,
        .delay_ms = r->delay_ms,
    };
    s.body = dup_bytes(r->body ? r->body : "", s.body_len);
    if (r->n_chunks > CHUNKS_MAX)
        abort(); /* a test asking for more pieces than the fake holds */
    for (size_t i = 0; i < r->n_chunks; i++)
        s.chunks[i] = dup_bytes(r->chunks[i], strlen(r->chunks[i]));
    s.n_chunks = r->n_chunks;
    s.chunk_delay_ms = r->chunk_delay_ms;
    pthread_mutex_lock(&f->lock);
    if (f->queue_len == f->queue_cap) {
        f->queue_cap = f->queue_cap ? f->queue_cap * 2 : 16;
        f->queue = realloc(f->queue, f->queue_cap * sizeof *f->queue);
        if (!f->queue)
            abort();
    }
    f->queue[f->queue_len++] = s;
    pthread_mutex_unlock(&f->lock);
}

void fake_http_reply(struct fake_http *f, int status, const char *headers, const char *body)
{
    fake_http_queue(f, &(struct fake_http_response){.status = status, .headers = headers, .body = body});
}

size_t fake_http_count(struct fake_http *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->n_requests;
    pthread_mutex_unlock(&f->lock);
    return n;
}

const struct fake_http_request *fake_http_request(struct fake_http *f, size_t i)
{
    pthread_mutex_lock(&f->lock);
    const struct fake_http_request *r = i < f->n_requests ? f->requests[i] : NULL;
    pthread_mutex_unlock(&f->lock);
    return r;
}

cJSON *fake_http_json(struct fake_http *f, size_t i)
{
    const struct fake_http_request *r = fake_http_request(f, i);
    assert_non_null(r);
    cJSON *root = cJSON_ParseWithLength(r->body, r->body_len);
    assert_non_null(root);
    return root;
}

bool fake_http_wait(struct fake_http *f, size_t n, unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&f->lock);
    while (f->n_requests < n) {
        if (pthread_cond_timedwait(&f->changed, &f->lock, &until) == ETIMEDOUT)
            break;
    }
    bool ok = f->n_requests >= n;
    pthread_mutex_unlock(&f->lock);
    return ok;
}

bool fake_http_header(const struct fake_http_request *r, const char *name, char *out, size_t out_len)
{
    size_t name_len = strlen(name);
    for (const char *line = r->head; *line;) {
        const char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > name_len && line[name_len] == ':' && strncasecmp(line, name, name_len) == 0) {
            const char *v = line + name_len + 1;
            while (v < line + len && (*v == ' ' || *v == '\t'))
                v++;
            snprintf(out, out_len, "%.*s", (int)(line + len - v), v);
            return true;
        }
        line += len + (end ? 2 : 0);
    }
    return false;
}

/* ---- the server side ---- */

/* Reads into buf until it holds `want` bytes or, with want 0, the end of the headers. Returns the
 * bytes held, or -1 when the client went away, stalled or sent too much. */
static long read_until(int fd, char *buf, size_t cap, size_t have, size_t want)
{
    for (;;) {
        if (want ? have >= want : (have >= 4 && memmem(buf, have, "\r\n\r\n", 4)))
            return (long)have;
        if (have >= cap)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, IO_TIMEOUT_MS) <= 0)
            return -1;
        ssize_t n = recv(fd, buf + have, cap - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
    }
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL); /* the client may have given up: no SIGPIPE */
        if (n <= 0)
            return;
        data += n;
        len -= (size_t)n;
    }
}

/* Waits up to ms unless the server is stopping. */
static void delay(struct fake_http *f, unsigned ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&f->lock);
    while (!f->stopping && pthread_cond_timedwait(&f->changed, &f->lock, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&f->lock);
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static void answer(struct fake_http *f, int fd, const struct scripted *s)
{
    char head[HEAD_MAX];
    int n = s->n_chunks
                ? snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nConnection: close\r\n", s->status, reason(s->status))
                : snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n",
                           s->status, reason(s->status), s->body_len);
    bool has_type = false;
    for (const char *line = s->headers; *line && n < (int)sizeof head;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t text_len = len && line[len - 1] == '\r' ? len - 1 : len;
        if (text_len) {
            has_type = has_type || strncasecmp(line, "Content-Type:", 13) == 0;
            n += snprintf(head + n, sizeof head - (size_t)n, "%.*s\r\n", (int)text_len, line);
        }
        line += len + (end ? 1 : 0);
    }
    if (!has_type && (s->body_len || s->n_chunks) && n < (int)sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Type: application/json\r\n");
    if (n < (int)sizeof head)
        n += snprintf(head + n, sizeof head - (size_t)n, "\r\n");
    send_all(fd, head, n < (int)sizeof head ? (size_t)n : sizeof head - 1);
    send_all(fd, s->body, s->body_len);
    for (size_t i = 0; i < s->n_chunks; i++) {
        if (i && s->chunk_delay_ms)
            delay(f, s->chunk_delay_ms);
        send_all(fd, s->chunks[i], strlen(s->chunks[i]));
    }
}

/* Reads one request, records it and answers it. */
static void serve(struct fake_http *f, int fd)
{
    char *buf = malloc(HEAD_MAX);
    if (!buf)
        abort();
    long have = read_until(fd, buf, HEAD_MAX, 0, 0);
    if (have < 0) {
        free(buf);
        return;
    }
    char *head_end = memmem(buf, (size_t)have, "\r\n\r\n", 4);
    size_t head_len = (size_t)(head_end - buf);
    struct fake_http_request *r = calloc(1, sizeof *r);
    char *request_line_end = memmem(buf, head_len + 2, "\r\n", 2);
    char *line = dup_bytes(buf, (size_t)(request_line_end - buf));
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!r || !sp1 || !sp2) {
        free(line);
        free(r);
        free(buf);
        return;
    }
    snprintf(r->method, sizeof r->method, "%.*s", (int)(sp1 - line), line);
    r->path = dup_bytes(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    free(line);
    size_t headers_at = (size_t)(request_line_end - buf) + 2;
    r->head = dup_bytes(buf + headers_at, head_len >= headers_at ? head_len - headers_at : 0);

    char value[64];
    size_t body_len = 0;
    if (fake_http_header(r, "Content-Length", value, sizeof value))
        body_len = strtoul(value, NULL, 10);
    if (body_len > BODY_MAX)
        body_len = BODY_MAX;
    /* curl waits for this before a large body (Expect: 100-continue). */
    if (fake_http_header(r, "Expect", value, sizeof value) && strcasecmp(value, "100-continue") == 0)
        send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    size_t body_at = head_len + 4;
    char *body = malloc(body_len + 1);
    if (!body)
        abort();
    size_t got = (size_t)have - body_at;
    if (got > body_len)
        got = body_len;
    memcpy(body, buf + body_at, got);
    free(buf);
    if (got < body_len && read_until(fd, body, body_len, got, body_len) < 0)
        body_len = got; /* keep what came */
    body[body_len] = '\0';
    r->body = body;
    r->body_len = body_len;
    r->received_mono_ms = clock_mono_ms();

    pthread_mutex_lock(&f->lock);
    if (f->n_requests == f->cap_requests) {
        f->cap_requests = f->cap_requests ? f->cap_requests * 2 : 16;
        f->requests = realloc(f->requests, f->cap_requests * sizeof *f->requests);
        if (!f->requests)
            abort();
    }
    f->requests[f->n_requests++] = r;
    struct scripted s = {.status = 200, .headers = NULL, .body = NULL};
    bool scripted = f->queue_head < f->queue_len;
    if (scripted)
        s = f->queue[f->queue_head++];
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);

    if (!scripted) {
        s.headers = dup_bytes("", 0);
        s.body = dup_bytes("{}", 2);
        s.body_len = 2;
    }
    if (s.delay_ms)
        delay(f, s.delay_ms);
    answer(f, fd, &s);
    free(s.headers);
    free(s.body);
    for (size_t i = 0; i < s.n_chunks; i++)
        free(s.chunks[i]);
}

static void *server_main(void *arg)
{
    struct fake_http *f = arg;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        bool stop = f->stopping;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            return NULL;
        struct pollfd p = {.fd = f->listen_fd, .events = POLLIN};
        if (poll(&p, 1, POLL_MS) <= 0)
            continue;
        int fd = accept(f->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        serve(f, fd);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
}

struct fake_http *fake_http_start(void)
{
    struct fake_http *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof addr;
    if (f->listen_fd < 0 || bind(f->listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(f->listen_fd, 64) != 0 || getsockname(f->listen_fd, (struct sockaddr *)&addr, &addr_len) != 0) {
        if (f->listen_fd >= 0)
            close(f->listen_fd);
        free(f);
        return NULL;
    }
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u", (unsigned)ntohs(addr.sin_port));
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    if (pthread_create(&f->thread, NULL, server_main, f) != 0) {
        close(f->listen_fd);
        pthread_mutex_destroy(&f->lock);
        pthread_cond_destroy(&f->changed);
        free(f);
        return NULL;
    }
    return f;
}

const char *fake_http_url(const struct fake_http *f)
{
    return f->url;
}

void fake_http_stop(struct fake_http *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = true;
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->thread, NULL);
    close(f->listen_fd);
    for (size_t i = f->queue_head; i < f->queue_len; i++) {
        free(f->queue[i].headers);
        free(f->queue[i].body);
        for (size_t c = 0; c < f->queue[i].n_chunks; c++)
            free(f->queue[i].chunks[c]);
    }
    free(f->queue);
    for (size_t i = 0; i < f->n_requests; i++) {
        free(f->requests[i]->path);
        free(f->requests[i]->head);
        free(f->requests[i]->body);
        free(f->requests[i]);
    }
    free(f->requests);
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->changed);
    free(f);
}
