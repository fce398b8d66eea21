/* guard.c — connection deadlines (a watchdog thread), the body budget, strict header checks;
 * see guard.h.
 * The watchdog and the connection's HTTP thread never both answer: the deadline word is the
 * token. The thread clears it (claim) before it answers; the watchdog swaps it for EXPIRED before
 * it writes its canned answer, and only if it still holds the deadline it read. The registry lock
 * is held while the watchdog touches a socket, and libmicrohttpd unregisters a connection
 * (NOTIFY_CLOSED, which takes the lock) before it closes the socket, so the descriptor is never
 * one that was closed and reused. */
#include "http/guard.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"

#define WATCHDOG_PERIOD_MS 100
#define DEADLINE_NONE 0u
#define DEADLINE_EXPIRED UINT64_MAX

struct conn_guard {
    struct conn_guard *prev, *next;
    int fd;
    _Atomic uint64_t deadline_ms; /* monotonic; DEADLINE_NONE or DEADLINE_EXPIRED */
    atomic_uint status;           /* what the watchdog answers when the deadline passes */
};

struct http_guard {
    pthread_mutex_t lock; /* the list; held while the watchdog writes to a socket */
    struct conn_guard *head;
    pthread_cond_t wake;
    bool stopping;
    pthread_t thread;
    atomic_size_t body_bytes; /* bodies held in memory, all connections together */
};

static const char answer_400[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n"
                                 "{\"error\":\"request not received in time\"}";
static const char answer_408[] = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                                 "Content-Type: application/json\r\nContent-Length: 45\r\n\r\n"
                                 "{\"error\":\"request body not received in time\"}";

/* Whether the peer has sent nothing at all on this connection (a client that connected ahead of
 * its request): it is closed without an answer, which it could take for that of its request.
 * false when the kernel cannot tell (TCP_INFO without tcpi_bytes_received, before Linux 4.19). */
static bool nothing_received(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received)
        return false;
    return info.tcpi_bytes_received == 0;
}

/* Lock held. The answer goes out before the FIN (shutdown keeps the send queue); SHUT_RD wakes
 * libmicrohttpd's thread with an end of file, and it closes the connection. */
static void expire(struct conn_guard *c)
{
    const char *text = atomic_load(&c->status) == 408 ? answer_408 : answer_400;
    size_t len = text == answer_408 ? sizeof answer_408 - 1 : sizeof answer_400 - 1;
    if (text == answer_408 || !nothing_received(c->fd))
        (void)send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    shutdown(c->fd, SHUT_RDWR);
    log_debug("http request timed out", LOG_I("status", atomic_load(&c->status)));
}

static void sweep(struct http_guard *g, uint64_t now_ms)
{
    for (struct conn_guard *c = g->head; c; c = c->next) {
        uint64_t d = atomic_load(&c->deadline_ms);
        if (d == DEADLINE_NONE || d == DEADLINE_EXPIRED || d > now_ms)
            continue;
        if (atomic_compare_exchange_strong(&c->deadline_ms, &d, DEADLINE_EXPIRED))
            expire(c);
    }
}

static void *watchdog_main(void *arg)
{
    struct http_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        sweep(g, clock_mono_ms());
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += WATCHDOG_PERIOD_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc;
        do
            rc = pthread_cond_timedwait(&g->wake, &g->lock, &until);
        while (rc == 0 && !g->stopping);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int http_guard_start(struct http_guard **out)
{
    struct http_guard *g = calloc(1, sizeof *g);
    if (!g)
        return SLIMY_ENOMEM;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&g->lock, NULL);
    atomic_init(&g->body_bytes, 0);
    if (pthread_create(&g->thread, NULL, watchdog_main, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return SLIMY_EUNAVAILABLE;
    }
    *out = g;
    return SLIMY_OK;
}

void http_guard_stop(struct http_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    while (g->head) { /* none after MHD_stop_daemon; freed all the same */
        struct conn_guard *c = g->head;
        g->head = c->next;
        free(c);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

struct conn_guard *http_guard_conn_open(struct http_guard *g, int fd, uint64_t now_ms)
{
    struct conn_guard *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    atomic_init(&c->deadline_ms, now_ms + HTTP_HEADER_TIMEOUT_MS);
    atomic_init(&c->status, 400);
    pthread_mutex_lock(&g->lock);
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    pthread_mutex_unlock(&g->lock);
    return c;
}

void http_guard_conn_close(struct http_guard *g, struct conn_guard *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&g->lock);
    free(c);
}

struct conn_guard *http_guard_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

bool conn_guard_claim(struct conn_guard *c)
{
    return !c || atomic_exchange(&c->deadline_ms, DEADLINE_NONE) != DEADLINE_EXPIRED;
}

void conn_guard_arm(struct conn_guard *c, uint64_t deadline_ms, unsigned status)
{
    if (!c)
        return;
    uint64_t cur = atomic_load(&c->deadline_ms);
    if (cur == DEADLINE_EXPIRED)
        return;
    atomic_store(&c->status, status);
    /* Fails only if the watchdog expired it meanwhile, which then stands. */
    atomic_compare_exchange_strong(&c->deadline_ms, &cur, deadline_ms);
}

bool conn_guard_expired(const struct conn_guard *c)
{
    return c && atomic_load(&c->deadline_ms) == DEADLINE_EXPIRED;
}

bool http_guard_reserve(struct http_guard *g, size_t n, bool large)
{
    size_t limit = large ? HTTP_BODY_BUDGET_LARGE_BYTES : HTTP_BODY_BUDGET_BYTES;
    size_t cur = atomic_load(&g->body_bytes);
    do {
        if (n > limit || cur > limit - n)
            return false;
    } while (!atomic_compare_exchange_weak(&g->body_bytes, &cur, cur + n));
    return true;
}

void http_guard_release(struct http_guard *g, size_t n)
{
    if (n)
        atomic_fetch_sub(&g->body_bytes, n);
}

struct header_scan {
    const char *problem;
    const char *prev_end; /* where the previous header's value ends in libmicrohttpd's read buffer */
    unsigned content_length, transfer_encoding;
    bool cl_not_digits, te_not_chunked;
};

static bool has_control_byte(const char *s, size_t n, bool name)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == 0x7f || (ch < 0x20 && ch != '\t') || (name && (ch == ' ' || ch == '\t')))
            return true;
    }
    return false;
}

/* libmicrohttpd 0.9.75 ends a value at its first NUL (its size is the C string's), so "a\0b" reads
 * as "a" and the rest goes unseen. It parses the header block in place, one header after the
 * other, and sets each line end (LF or CRLF) to NUL: so between one value's end and the next
 * name there must be exactly one or two NULs, and after the last value two (its line end and the
 * empty line). Anything else there is what a NUL hid (or a folded line, refused as well).
 * Later versions refuse a NUL themselves and may lay their buffer out otherwise: skipped there. */
#if MHD_VERSION < 0x00097700
#define CHECK_HIDDEN_BYTES 1
static bool hidden_bytes(const char *end, const char *next)
{
    uintptr_t gap = (uintptr_t)next - (uintptr_t)end;
    if (!next)
        return end[0] != '\0' || end[1] != '\0';
    return (gap != 1 && gap != 2) || end[0] != '\0' || end[gap - 1] != '\0';
}
#endif

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                   const char *value, size_t value_size)
{
    struct header_scan *scan = cls;
    (void)kind;
#ifdef CHECK_HIDDEN_BYTES
    if (key && scan->prev_end && hidden_bytes(scan->prev_end, key)) {
        scan->problem = "NUL byte or folded line in a header";
        return MHD_NO;
    }
    scan->prev_end = value ? value + value_size : key ? key + key_size : NULL;
#endif
    if (!key || has_control_byte(key, key_size, true) || (value && has_control_byte(value, value_size, false))) {
        scan->problem = "control byte in a header";
        return MHD_NO;
    }
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        scan->content_length++;
        scan->cl_not_digits |= !value || value_size == 0 || strspn(value, "0123456789") != value_size;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        scan->transfer_encoding++;
        scan->te_not_chunked |= !value || strcasecmp(value, "chunked") != 0;
    }
    return MHD_YES;
}

const char *http_headers_problem(struct MHD_Connection *conn)
{
    struct header_scan scan = {0};
    MHD_get_connection_values_n(conn, MHD_HEADER_KIND, scan_header, &scan);
#ifdef CHECK_HIDDEN_BYTES
    if (!scan.problem && scan.prev_end && hidden_bytes(scan.prev_end, NULL))
        scan.problem = "NUL byte in a header";
#endif
    if (scan.problem)
        return scan.problem;
    if (scan.content_length > 1 || scan.transfer_encoding > 1)
        return "repeated framing header";
    if (scan.content_length && scan.transfer_encoding)
        return "both Content-Length and Transfer-Encoding";
    if (scan.cl_not_digits)
        return "Content-Length not a number";
    if (scan.te_not_chunked)
        return "Transfer-Encoding other than chunked";
    return NULL;
}
