/* log.c — JSON-lines logger; see log.h. Lines are formatted into a stack buffer (long values cut
 * so the line stays valid JSON) and written
 * with one write() per destination, so concurrent lines never interleave and no lock is held
 * while formatting. Nothing here is on the request path at info level. The hook is reached
 * through atomics only (no lock), so a hook may take its own locks without any ordering
 * against the logger's. */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/status.h"
#include "core/utf8.h"

static const char *const level_names[] = {"debug", "info", "warn", "error", "critical"};

#define NO_HOOK_LEVEL (LOG_CRITICAL + 1)

/* Module state: set once by log_open() before threads start, read-only afterwards (log_reopen()
 * swaps the files under the same descriptor numbers; the hook fields are atomics). */
static struct {
    atomic_int min_level;
    int combined_fd; /* -1 when no log directory */
    int error_fd;
    char dir[4096];                        /* for log_reopen() */
    _Atomic(const struct log_hook *) hook; /* NULL = none */
    atomic_int hook_level;                 /* the hook's min_level, NO_HOOK_LEVEL when none */
    atomic_int hook_users;                 /* threads inside the hook right now */
} L = {.min_level = LOG_INFO, .combined_fd = -1, .error_fd = -1, .hook_level = NO_HOOK_LEVEL};

/* Set while this thread runs the hook: what the hook logs is written but not hooked again. */
static _Thread_local bool in_hook;

bool log_level_parse(const char *text, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

static int open_append(const char *dir, const char *name)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return -1;
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

int log_open(enum log_level min_level, const char *dir)
{
    atomic_store(&L.min_level, (int)min_level);
    if (!dir || !*dir)
        return SLIMY_OK;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return SLIMY_EUNAVAILABLE;
    if ((size_t)snprintf(L.dir, sizeof L.dir, "%s", dir) >= sizeof L.dir)
        return SLIMY_EUNAVAILABLE;
    L.combined_fd = open_append(dir, "combined.log");
    L.error_fd = open_append(dir, "error.log");
    if (L.combined_fd < 0 || L.error_fd < 0) {
        log_close();
        return SLIMY_EUNAVAILABLE;
    }
    return SLIMY_OK;
}

void log_close(void)
{
    if (L.combined_fd >= 0)
        close(L.combined_fd);
    if (L.error_fd >= 0)
        close(L.error_fd);
    L.combined_fd = L.error_fd = -1;
}

/* Opens name again and puts it under fd's number: writers racing with this see either file,
 * never a closed descriptor. */
static int reopen_onto(int fd, const char *name)
{
    int fresh = open_append(L.dir, name);
    if (fresh < 0)
        return SLIMY_EUNAVAILABLE;
    int rc = dup3(fresh, fd, O_CLOEXEC) < 0 ? SLIMY_EUNAVAILABLE : SLIMY_OK;
    close(fresh);
    return rc;
}

int log_reopen(void)
{
    if (L.combined_fd < 0)
        return SLIMY_OK;
    int rc = reopen_onto(L.combined_fd, "combined.log");
    if (!rc)
        rc = reopen_onto(L.error_fd, "error.log");
    return rc;
}

bool log_enabled(enum log_level level)
{
    return (int)level >= atomic_load_explicit(&L.min_level, memory_order_relaxed) ||
           (int)level >= atomic_load_explicit(&L.hook_level, memory_order_relaxed);
}

void log_set_hook(const struct log_hook *hook)
{
    if (hook) {
        atomic_store(&L.hook, hook);
        atomic_store(&L.hook_level, (int)hook->min_level);
        return;
    }
    atomic_store(&L.hook_level, NO_HOOK_LEVEL);
    atomic_store(&L.hook, NULL);
    /* A thread that loaded the old hook counted itself in first (both seq_cst), so once the count
     * is zero nobody can still be using it. Hooks are short: polling is enough. */
    while (atomic_load(&L.hook_users) > 0) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 1000000L};
        nanosleep(&pause, NULL);
    }
}

static void call_hook(enum log_level level, const char *msg, const struct log_field *fields, size_t n_fields)
{
    if (in_hook || (int)level < atomic_load_explicit(&L.hook_level, memory_order_relaxed))
        return;
    atomic_fetch_add(&L.hook_users, 1);
    const struct log_hook *hook = atomic_load(&L.hook);
    if (hook && level >= hook->min_level) {
        in_hook = true;
        hook->fn(hook->arg, level, msg, fields, n_fields);
        in_hook = false;
    }
    atomic_fetch_sub(&L.hook_users, 1);
}

/* A line under construction in a fixed buffer. Every line is one valid JSON object whatever it
 * is given: a string that does not fit is cut at a character boundary (never inside a UTF-8
 * sequence or an escape) and ends with CUT_MARK; fields that find no room at all are left out;
 * either way the line then says "log_truncated":true. Malformed UTF-8 becomes U+FFFD. */
#define LOG_LINE_MAX LOG_LINE_MAX_BYTES
#define CUT_MARK "…[truncated]"
#define CUT_FLAG ",\"log_truncated\":true"
#define VALUE_MIN 32               /* room a value needs: any number, null, or a cut string with its marker */
#define KEY_MAX_BYTES 256          /* of a key as written; keys are short literals */
#define FIELD_RESERVE 96           /* room a long string leaves for each field still to come */
#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

struct line {
    char text[LOG_LINE_MAX];
    size_t len;
    size_t end; /* content stops here: the rest is kept for CUT_FLAG and "}\n" */
    bool is_cut;
};

/* Appends s[0..n) if it fits before ln->end; never writes part of it. */
static bool put_raw(struct line *ln, const char *s, size_t n)
{
    if (n > ln->end - ln->len)
        return false;
    memcpy(ln->text + ln->len, s, n);
    ln->len += n;
    return true;
}

static void put_fmt(struct line *ln, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct line *ln, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < sizeof tmp)
        put_raw(ln, tmp, (size_t)n);
}

/* The JSON string form of the character at s (not NUL): its UTF-8 bytes, an escape, or U+FFFD
 * for a byte that does not start a well-formed sequence. Fills out (up to 6 bytes), returns its
 * length and sets *used to the bytes of s it stands for. */
static size_t json_unit(const unsigned char *s, char out[8], size_t *used)
{
    unsigned char c = *s;
    *used = 1;
    switch (c) {
    case '"': memcpy(out, "\\\"", 2); return 2;
    case '\\': memcpy(out, "\\\\", 2); return 2;
    case '\n': memcpy(out, "\\n", 2); return 2;
    case '\r': memcpy(out, "\\r", 2); return 2;
    case '\t': memcpy(out, "\\t", 2); return 2;
    default: break;
    }
    if (c < 0x20) {
        snprintf(out, 8, "\\u%04x", c);
        return 6;
    }
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    size_t k = 1;
    while (k < n && (s[k] & 0xC0) == 0x80) /* stops at the NUL too */
        k++;
    if (n && k == n && utf8_valid((const char *)s, n)) {
        memcpy(out, s, n);
        *used = n;
        return n;
    }
    memcpy(out, REPLACEMENT, 3);
    return 3;
}

/* The length of s as a JSON string literal with its quotes, or more than max once it is known
 * to exceed max. */
static size_t json_len(const char *s, size_t max)
{
    size_t total = 2;
    char unit[8];
    for (const unsigned char *p = (const unsigned char *)s; *p && total <= max;) {
        size_t used;
        total += json_unit(p, unit, &used);
        p += used;
    }
    return total;
}

/* Writes s (NULL: null) as a JSON string ending at or before limit (<= ln->end), cut with
 * CUT_MARK when it does not fit. The caller leaves room for at least VALUE_MIN bytes. */
static void put_json_string(struct line *ln, const char *s, size_t limit)
{
    if (!s) {
        put_raw(ln, "null", 4);
        return;
    }
    static const size_t mark_len = sizeof CUT_MARK - 1;
    if (limit > ln->end)
        limit = ln->end;
    if (limit < ln->len + 2 + mark_len) { /* cannot happen: callers keep VALUE_MIN */
        ln->is_cut = true;
        put_raw(ln, "null", 4);
        return;
    }
    bool fits = ln->len + json_len(s, limit - ln->len) <= limit;
    size_t stop = fits ? limit - 1 : limit - 1 - mark_len; /* where the characters must end */
    ln->text[ln->len++] = '"';
    char unit[8];
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t used, n = json_unit(p, unit, &used);
        if (ln->len + n > stop)
            break;
        memcpy(ln->text + ln->len, unit, n);
        ln->len += n;
        p += used;
    }
    if (!fits) {
        memcpy(ln->text + ln->len, CUT_MARK, mark_len);
        ln->len += mark_len;
        ln->is_cut = true;
    }
    ln->text[ln->len++] = '"';
}

/* Where a string may end when `later` fields still come: it leaves FIELD_RESERVE bytes for each
 * of them, or shares the room evenly when that would leave it less than VALUE_MIN. */
static size_t string_limit(const struct line *ln, size_t later)
{
    size_t room = ln->end - ln->len;
    size_t reserve = later * FIELD_RESERVE;
    size_t share = room > reserve + VALUE_MIN ? room - reserve : room / (later + 1);
    if (share < VALUE_MIN)
        share = VALUE_MIN < room ? VALUE_MIN : room;
    return ln->len + share;
}

/* Formats the line and writes it to stdout and the files. */
static void write_line(enum log_level level, const char *msg, const struct log_field *fields, size_t n_fields)
{
    struct line ln;
    ln.len = 0;
    ln.end = sizeof ln.text - (sizeof CUT_FLAG - 1) - 2;
    ln.is_cut = false;

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    put_fmt(&ln, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", ts, now.tv_nsec / 1000000L, level_names[level]);
    put_json_string(&ln, msg, string_limit(&ln, n_fields));

    for (size_t i = 0; i < n_fields; i++) {
        const struct log_field *f = &fields[i];
        /* A comma, a key (even cut), a colon and the smallest value; else this field and the
         * rest are left out. */
        if (ln.end - ln.len < 1 + 2 + sizeof CUT_MARK - 1 + 1 + VALUE_MIN) {
            ln.is_cut = true;
            break;
        }
        put_raw(&ln, ",", 1);
        size_t key_limit = ln.end - 1 - VALUE_MIN;
        if (key_limit > ln.len + KEY_MAX_BYTES)
            key_limit = ln.len + KEY_MAX_BYTES;
        put_json_string(&ln, f->key ? f->key : "", key_limit);
        put_raw(&ln, ":", 1);
        switch (f->type) {
        case LOG_FIELD_STR: put_json_string(&ln, f->s, string_limit(&ln, n_fields - i - 1)); break;
        case LOG_FIELD_INT: put_fmt(&ln, "%lld", f->i); break;
        case LOG_FIELD_BOOL: put_raw(&ln, f->i ? "true" : "false", f->i ? 4 : 5); break;
        case LOG_FIELD_DOUBLE:
            if (!isfinite(f->d))
                put_raw(&ln, "null", 4);
            else if (fabs(f->d) < 1e15)
                put_fmt(&ln, "%.3f", f->d);
            else
                put_fmt(&ln, "%.6g", f->d); /* 1e+300, not 300 digits */
            break;
        default: put_raw(&ln, "null", 4); break;
        }
    }
    /* The room for these was kept out of ln.end. */
    if (ln.is_cut) {
        memcpy(ln.text + ln.len, CUT_FLAG, sizeof CUT_FLAG - 1);
        ln.len += sizeof CUT_FLAG - 1;
    }
    ln.text[ln.len++] = '}';
    ln.text[ln.len++] = '\n';

    /* Short writes to a terminal or pipe are not retried: a log line is not worth blocking for. */
    ssize_t ignored = write(STDOUT_FILENO, ln.text, ln.len);
    if (L.combined_fd >= 0)
        ignored = write(L.combined_fd, ln.text, ln.len);
    if (L.error_fd >= 0 && level >= LOG_ERROR)
        ignored = write(L.error_fd, ln.text, ln.len);
    (void)ignored;
}

void log_write(enum log_level level, const char *msg, const struct log_field *fields, size_t n_fields)
{
    /* The line first: whatever the hook does, the log already says what happened. */
    if ((int)level >= atomic_load_explicit(&L.min_level, memory_order_relaxed))
        write_line(level, msg, fields, n_fields);
    call_hook(level, msg, fields, n_fields);
}
