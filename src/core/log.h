/* log.h — structured logging: one JSON object per line with ts, level, msg and fields.
 * Lines go to stdout and, when a log directory is set, to combined.log (every line) and
 * error.log (error and critical). Thread-safe: each line is written with a single write().
 * Never pass interaction tokens, the bot token or API keys as fields. */
#ifndef SLIMY_CORE_LOG_H
#define SLIMY_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

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
bool log_enabled(enum log_level level);
/* Parses "debug|info|warn|error|critical"; false if unknown. */
bool log_level_parse(const char *text, enum log_level *out);

void log_write(enum log_level level, const char *msg, const struct log_field *fields, size_t n_fields);

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
