/* redis_url.c — REDIS_URL parsing; see redis_url.h. Percent-escapes in the user and password
 * are decoded (a password may contain '@' or '/'), with curl's URL API doing the splitting. */
#include "core/redis_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/status.h"

#define DEFAULT_PORT 6379
#define MAX_DB 1000000

static int fail(char *err, size_t err_len, const char *why)
{
    snprintf(err, err_len, "REDIS_URL %s", why);
    return SLIMY_EINVAL;
}

/* Copies a curl URL part (decoded) into out; absent parts give "". */
static int copy_part(CURLU *u, CURLUPart part, unsigned flags, char *out, size_t cap)
{
    char *v = NULL;
    out[0] = '\0';
    CURLUcode uc = curl_url_get(u, part, &v, flags);
    if (uc != CURLUE_OK)
        return SLIMY_OK; /* missing part */
    size_t n = strlen(v);
    int rc = n < cap ? SLIMY_OK : SLIMY_EINVAL;
    if (!rc)
        memcpy(out, v, n + 1);
    curl_free(v);
    return rc;
}

static bool parse_db(const char *text, unsigned *out)
{
    char *end;
    if (!*text || *text == '-' || *text == '+')
        return false;
    unsigned long n = strtoul(text, &end, 10);
    if (*end || n > MAX_DB)
        return false;
    *out = (unsigned)n;
    return true;
}

static int parse_unix(const char *text, struct redis_url *out, char *err, size_t err_len)
{
    const char *path = text + strlen("unix://");
    const char *query = strchr(path, '?');
    size_t len = query ? (size_t)(query - path) : strlen(path);
    if (len == 0 || path[0] != '/')
        return fail(err, err_len, "unix:// needs an absolute socket path (unix:///run/redis.sock)");
    if (len >= sizeof out->unix_path)
        return fail(err, err_len, "socket path is too long");
    memcpy(out->unix_path, path, len);
    out->unix_path[len] = '\0';
    if (query && (strncmp(query, "?db=", 4) != 0 || !parse_db(query + 4, &out->db)))
        return fail(err, err_len, "unix:// accepts only ?db=N after the path");
    return SLIMY_OK;
}

int redis_url_parse(const char *text, struct redis_url *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    out->port = DEFAULT_PORT;
    if (strncmp(text, "rediss://", 9) == 0)
        return fail(err, err_len,
                    "uses rediss:// (TLS), which this build does not support: use redis:// on a "
                    "private network or a unix:// socket, or put a TLS tunnel in front");
    if (strncmp(text, "unix://", 7) == 0)
        return parse_unix(text, out, err, err_len);
    if (strncmp(text, "redis://", 8) != 0)
        return fail(err, err_len, "must start with redis:// or unix:// (redis://[user:password@]host:port[/db])");

    CURLU *u = curl_url();
    if (!u)
        return SLIMY_ENOMEM;
    int rc = SLIMY_OK;
    char port[16], path[64], query[64];
    if (curl_url_set(u, CURLUPART_URL, text, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        rc = fail(err, err_len, "is not a valid URL (redis://[user:password@]host:port[/db])");
    } else if (copy_part(u, CURLUPART_HOST, 0, out->host, sizeof out->host) || !out->host[0]) {
        rc = fail(err, err_len, "has no host (redis://host:port)");
    } else if (copy_part(u, CURLUPART_USER, CURLU_URLDECODE, out->user, sizeof out->user) ||
               copy_part(u, CURLUPART_PASSWORD, CURLU_URLDECODE, out->password, sizeof out->password)) {
        rc = fail(err, err_len, "has a user name or password that is too long");
    } else if (copy_part(u, CURLUPART_PORT, 0, port, sizeof port) ||
               copy_part(u, CURLUPART_PATH, 0, path, sizeof path)) {
        rc = fail(err, err_len, "has a malformed port or database");
    } else if (copy_part(u, CURLUPART_QUERY, 0, query, sizeof query) || query[0]) {
        rc = fail(err, err_len, "must not have a query string");
    }
    if (!rc && port[0]) {
        unsigned p = 0;
        if (!parse_db(port, &p) || p == 0 || p > 65535)
            rc = fail(err, err_len, "has a port outside 1-65535");
        out->port = (uint16_t)p;
    }
    if (!rc && path[0] && strcmp(path, "/") != 0 && !parse_db(path + 1, &out->db))
        rc = fail(err, err_len, "database must be a number (redis://host:port/0)");
    /* IPv6 literals come back bracketed; hiredis wants them bare. */
    size_t hl = strlen(out->host);
    if (!rc && hl > 2 && out->host[0] == '[' && out->host[hl - 1] == ']') {
        memmove(out->host, out->host + 1, hl - 2);
        out->host[hl - 2] = '\0';
    }
    if (!rc && out->user[0] && !out->password[0])
        rc = fail(err, err_len, "names a user without a password (redis://user:password@host)");
    curl_url_cleanup(u);
    return rc;
}

void redis_url_describe(const struct redis_url *url, char *out, size_t out_len)
{
    if (url->unix_path[0])
        snprintf(out, out_len, "unix:%s/%u", url->unix_path, url->db);
    else
        snprintf(out, out_len, "%s:%u/%u", url->host, (unsigned)url->port, url->db);
}
