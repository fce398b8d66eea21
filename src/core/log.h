/* log.h — structured logging: one JSON object per line with ts, level, msg and fields.
 * Lines go to stdout and, when a log directory is set, to combined.log (every line) and
 * error.log (error and critical). Thread-safe: each line is written with a single write().
 * log_reopen() (on SIGHUP) lets logrotate rename the files. One hook (log_set_hook) sees every
 * line from a level up, whatever LOG_LEVEL says: the alerter (alert.h) is built on it.
 * Never pass interaction tokens, the bot token or API keys as fields. */
#ifndef SLIMY_CORE_LOG_H
#define SLIMY_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* The longest line written, with its newline. */
#define LOG_LINE_MAX_BYTES 8192

enum log_level {
    LOG_DEBUG,
    LOG_INFO,
    LOG_WARN,
    LOG_ERROR,
    LOG_CRITICAL
};

enum log_field_type {
    LOG_FIELD_NONE,
    LOG_FIELD_STR,
    LOG_FIELD_INT,
    LOG_FIELD_DOUBLE,
    LOG_FIELD_BOOL
};

/* One key/value of a log line; build them with LOG_S/LOG_I/LOG_F/LOG_B. */
struct log_field {
    const char *key;
    enum log_field_type type;
    const char *s; /* LOG_FIELD_STR; NULL prints null */
    long long i;   /* LOG_FIELD_INT and LOG_FIELD_BOOL */
    double d;      /* LOG_FIELD_DOUBLE */
};

#define LOG_S(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_STR, .s = (v)})
#define LOG_I(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_INT, .i = (long long)(v)})
#define LOG_F(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_DOUBLE, .d = (double)(v)})
#define LOG_B(k, v) ((struct log_field){.key = (k), .type = LOG_FIELD_BOOL, .i = (v) ? 1 : 0})

/* Opens the log files under dir (NULL or "" = stdout only) and sets the minimum level.
 * Returns SLIMY_OK or SLIMY_EUNAVAILABLE if the directory cannot be created or written. */
int log_open(enum log_level min_level, const char *dir);
void log_close(void);
/* Opens combined.log and error.log again under the same directory and swaps them in atomically
 * (dup2), so a line is never lost or written to a closed descriptor; for SIGHUP after logrotate
 * renamed the files. SLIMY_OK (also with no log directory), or SLIMY_EUNAVAILABLE when a file
 * cannot be opened: the old files are then kept. Any thread; not concurrently with log_close(). */
int log_reopen(void);
/* Whether a line at level is wanted: by LOG_LEVEL, or by the hook. */
bool log_enabled(enum log_level level);
/* Parses "debug|info|warn|error|critical"; false if unknown. */
bool log_level_parse(const char *text, enum log_level *out);

void log_write(enum log_level level, const char *msg, const struct log_field *fields, size_t n_fields);

/* Called for every line at min_level or above, after it is written (or instead, below LOG_LEVEL),
 * on the logging thread, with no lock of the logger held. It must be quick and must not block:
 * enqueue, never send. Lines the hook itself logs (on that thread, during the call) do not reach
 * it again, so a hook cannot loop through the logger. */
typedef void (*log_hook_fn)(void *arg, enum log_level level, const char *msg, const struct log_field *fields,
                            size_t n_fields);
struct log_hook {
    log_hook_fn fn;
    void *arg;
    enum log_level min_level;
};
/* Installs hook (borrowed until removed) or, with NULL, removes it; on return no thread is still
 * inside the old hook, so its arg may be freed. One hook at a time: remove before replacing.
 * Never call it from inside the hook. */
void log_set_hook(const struct log_hook *hook);

/* log_info("job done", LOG_S("command", name), LOG_I("latency_ms", ms)); fields are optional. */
#define SLIMY_LOG(level, msg, ...)                                                                  \
    do {                                                                                            \
        if (log_enabled(level)) {                                                                   \
            const struct log_field log_fields_[] = {{0}, __VA_ARGS__};                              \
            log_write(level, msg, log_fields_ + 1, sizeof log_fields_ / sizeof log_fields_[0] - 1); \
        }                                                                                           \
    } while (0)
#define log_debug(msg, ...) SLIMY_LOG(LOG_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) SLIMY_LOG(LOG_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) SLIMY_LOG(LOG_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) SLIMY_LOG(LOG_ERROR, msg, __VA_ARGS__)
#define log_critical(msg, ...) SLIMY_LOG(LOG_CRITICAL, msg, __VA_ARGS__)

#endif
