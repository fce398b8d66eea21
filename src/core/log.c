/* log.c — JSON-lines logger; see log.h. Lines are formatted into a stack buffer and written
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

#define LOG_LINE_MAX 8192

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

/* A bounded line under construction; output past the end is dropped, never overflowed. */
struct line {
    char text[LOG_LINE_MAX];
    size_t len;
};

static void put_raw(struct line *ln, const char *s, size_t n)
{
    size_t room = sizeof ln->text - 2 - ln->len; /* keep space for "}\n" */
    if (n > room)
        n = room;
    memcpy(ln->text + ln->len, s, n);
    ln->len += n;
}

static void put_fmt(struct line *ln, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(struct line *ln, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put_raw(ln, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Writes s as a JSON string literal. Bytes >= 0x80 pass through (UTF-8 stays UTF-8). */
static void put_json_string(struct line *ln, const char *s)
{
    if (!s) {
        put_raw(ln, "null", 4);
        return;
    }
    put_raw(ln, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': put_raw(ln, "\\\"", 2); break;
        case '\\': put_raw(ln, "\\\\", 2); break;
        case '\n': put_raw(ln, "\\n", 2); break;
        case '\r': put_raw(ln, "\\r", 2); break;
        case '\t': put_raw(ln, "\\t", 2); break;
        default:
            if (*p < 0x20)
                put_fmt(ln, "\\u%04x", *p);
            else
                put_raw(ln, (const char *)p, 1);
        }
    }
    put_raw(ln, "\"", 1);
}

/* Formats the line and writes it to stdout and the files. */
static void write_line(enum log_level level, const char *msg, const struct log_field *fields, size_t n_fields)
{
    struct line ln;
    ln.len = 0;

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[40];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    put_fmt(&ln, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"msg\":", ts, now.tv_nsec / 1000000L, level_names[level]);
    put_json_string(&ln, msg);

    for (size_t i = 0; i < n_fields; i++) {
        const struct log_field *f = &fields[i];
        put_raw(&ln, ",", 1);
        put_json_string(&ln, f->key);
        put_raw(&ln, ":", 1);
        switch (f->type) {
        case LOG_FIELD_STR: put_json_string(&ln, f->s); break;
        case LOG_FIELD_INT: put_fmt(&ln, "%lld", f->i); break;
        case LOG_FIELD_BOOL: put_raw(&ln, f->i ? "true" : "false", f->i ? 4 : 5); break;
        case LOG_FIELD_DOUBLE:
            if (isfinite(f->d))
                put_fmt(&ln, "%.3f", f->d);
            else
                put_raw(&ln, "null", 4);
            break;
        default: put_raw(&ln, "null", 4); break;
        }
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
