/* fuzz_http.h — a real curl transfer without a network, for the response fuzzers: a server thread
 * listens on an abstract Unix socket and answers each connection with the prepared HTTP answer
 * (status line, the input's headers and body), then reads what curl sent until curl closes.
 * curl reaches it with CURLOPT_ABSTRACT_UNIX_SOCKET, so curl's own HTTP parser reads the fuzzed
 * answer and fetch_response_read() finds the headers where it always does (curl_easy_header).
 * (A socketpair handed over with CURLOPT_OPENSOCKETFUNCTION + CURL_SOCKOPT_ALREADY_CONNECTED
 * would be simpler, but Debian 12's curl 7.88 still calls connect() on it and fails.)
 * Header-only: each target includes it once. Set FUZZ_HTTP_VERBOSE=1 to see curl's side. */
#ifndef SLIMY_FUZZ_HTTP_H
#define SLIMY_FUZZ_HTTP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/fetch_http.h"

static struct {
    pthread_once_t once;
    int listen_fd;
    char name[64]; /* the abstract socket's name (without the leading NUL) */
    pthread_mutex_t lock;
    struct buf answer; /* what the next connection gets */
} fuzz_server = {.once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

static void *fuzz_serve(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(fuzz_server.listen_fd, NULL, NULL);
        if (c < 0)
            continue;
        pthread_mutex_lock(&fuzz_server.lock);
        size_t off = 0;
        while (off < fuzz_server.answer.len) {
            ssize_t w = write(c, fuzz_server.answer.data + off, fuzz_server.answer.len - off);
            if (w <= 0)
                break; /* curl gave up early: fine */
            off += (size_t)w;
        }
        pthread_mutex_unlock(&fuzz_server.lock);
        shutdown(c, SHUT_WR);
        char sink[4096];
        while (read(c, sink, sizeof sink) > 0) /* the request, until curl closes */
            ;
        close(c);
    }
    return NULL;
}

static inline void fuzz_server_start(void)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(fuzz_server.name, sizeof fuzz_server.name, "slimy-fuzz-http-%ld", (long)getpid());
    memcpy(addr.sun_path + 1, fuzz_server.name, strlen(fuzz_server.name));
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(fuzz_server.name));
    fuzz_server.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fuzz_server.listen_fd < 0 || bind(fuzz_server.listen_fd, (struct sockaddr *)&addr, len) != 0 ||
        listen(fuzz_server.listen_fd, 4) != 0)
        abort();
    buf_init(&fuzz_server.answer, 1u << 24);
    pthread_t t;
    if (pthread_create(&t, NULL, fuzz_serve, NULL) != 0)
        abort();
    pthread_detach(t);
}

/* Splits data into a header block and a body at the first blank line ("\n\n" or "\r\n\r\n");
 * without one, all of it is headers. */
static inline void fuzz_split_answer(const uint8_t *data, size_t size, size_t *headers_len, size_t *body_off)
{
    for (size_t i = 0; i + 1 < size; i++) {
        if (data[i] == '\n' && data[i + 1] == '\n') {
            *headers_len = i + 1;
            *body_off = i + 2;
            return;
        }
        if (i + 3 < size && memcmp(data + i, "\r\n\r\n", 4) == 0) {
            *headers_len = i + 2;
            *body_off = i + 4;
            return;
        }
    }
    *headers_len = size;
    *body_off = size;
}

/* Performs req on a new handle (put in *handle; the old one is cleaned up) against an answer made of "HTTP/1.1 <status> X\r\n", the header block,
 * "\r\n" and the body, collecting into resp exactly as the clients do (fetch_request_setup).
 * Returns curl's result. */
static inline CURLcode fuzz_http_perform(CURL **handle, const struct fetch_request *req, struct fetch_response *resp,
                                         unsigned status, const uint8_t *headers, size_t headers_len,
                                         const uint8_t *body, size_t body_len)
{
    pthread_once(&fuzz_server.once, fuzz_server_start);
    char line[64];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %03u X\r\n", status % 1000);
    pthread_mutex_lock(&fuzz_server.lock);
    buf_cleanup(&fuzz_server.answer);
    if (buf_append(&fuzz_server.answer, line, (size_t)n) ||
        buf_append(&fuzz_server.answer, (const char *)headers, headers_len) ||
        buf_append(&fuzz_server.answer, "\r\n", 2) || buf_append(&fuzz_server.answer, (const char *)body, body_len))
        abort();
    pthread_mutex_unlock(&fuzz_server.lock);

    /* A new handle for every transfer, as the clients do (fetch_easy_fresh() in fetch_http.h). */
    CURL *easy = fetch_easy_fresh(handle);
    if (!easy || fetch_request_setup(easy, req, resp) != SLIMY_OK)
        abort();
    curl_easy_setopt(easy, CURLOPT_ABSTRACT_UNIX_SOCKET, fuzz_server.name);
    curl_easy_setopt(easy, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    if (getenv("FUZZ_HTTP_VERBOSE")) /* debugging a target: curl tells what it did */
        curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
    return curl_easy_perform(easy);
}

#endif
