/* redis_url.h — REDIS_URL parsing: `redis://[[user]:password@]host[:port][/db]` or
 * `unix:///path/to/socket[?db=N]`. `rediss://` (TLS) is refused: the hiredis in Debian 12 has
 * no TLS, so a TLS URL must fail loudly rather than send the password in clear.
 * Pure functions, no I/O; thread-safe. */
#ifndef SLIMY_CORE_REDIS_URL_H
#define SLIMY_CORE_REDIS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct redis_url {
    char host[256];      /* "" for a unix socket */
    uint16_t port;       /* 6379 when absent */
    char unix_path[108]; /* socket path, or "" */
    char user[128];      /* ACL user; "" = default user */
    char password[256];  /* "" = no AUTH; a secret: never log it */
    unsigned db;         /* SELECT db; 0 by default */
};

/* Parses text into *out. SLIMY_EINVAL with one line in err (never containing the password). */
int redis_url_parse(const char *text, struct redis_url *out, char *err, size_t err_len);

/* Writes "host:port" or "unix:/path" (no credentials) into out, for log lines. */
void redis_url_describe(const struct redis_url *url, char *out, size_t out_len);

#endif
