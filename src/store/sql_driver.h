/* sql_driver.h — what store_sql.c (every store op, written once) needs from a database driver,
 * and what the drivers (sql_driver_sqlite.c, sql_driver_mariadb.c) get back from it. Private to
 * src/store/: everything else goes through store.h.
 *
 * A driver owns its connections and everything that differs between databases: preparing a
 * statement of the shared table (sql_statements, one text per dialect), binding typed values,
 * reading a row's columns, transactions, how errors map to enum slimy_status, and the retry
 * policy of run() (MariaDB reconnects once after a lost connection and re-runs a deadlocked
 * body; SQLite waits out its busy timeout). store_sql.c never sees a driver type. */
#ifndef SLIMY_STORE_SQL_DRIVER_H
#define SLIMY_STORE_SQL_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "store/store.h"

struct sql_driver;
struct sql_store;

#define SQL_MAX_PARAMS 16  /* the widest statement (snail_stats insert) binds 15 */
#define SQL_MAX_COLUMNS 16 /* the widest select list (snail_stats list) has 12 */
#define SQL_ERROR_MAX 256  /* a driver's error text kept for the log */

enum sql_dialect {
    SQL_SQLITE,
    SQL_MARIADB,
    SQL_DIALECT_COUNT
};

/* Every statement the store runs; sql_statements[] holds each one's text per dialect. Both
 * dialects take the same parameters in the same order (plain "?" placeholders), so an op binds
 * once for both. The first three work on a database no migration has touched yet. */
enum sql_stmt {
    SQL_HAS_HISTORY,            /* () → 1 if schema_migrations exists, else 0 */
    SQL_MIGRATIONS_APPLIED,     /* () → name, in byte order */
    SQL_MIGRATION_RECORD,       /* (name, applied_at_ms) */
    SQL_USER_UPSERT,            /* (user_id, username, created_at_ms, updated_at_ms) */
    SQL_CONSENT_GET,            /* (user_id, scope_id) → allowed */
    SQL_CONSENT_UPSERT,         /* (user_id, scope_id, allowed, updated_at_ms) */
    SQL_MEMORY_INSERT,          /* (id, user_id, scope_id, note, tags, context, interaction_id, created_at_ms) */
    SQL_MEMORY_BY_INTERACTION,  /* (interaction_id) → id */
    SQL_MEMORY_LIST,            /* (user_id, scope_id, limit) → a memory row */
    SQL_MEMORY_LIST_ALL_SCOPES, /* (user_id, limit) → a memory row */
    SQL_MEMORY_FIND,            /* (user_id, scope_id, note pattern, id pattern, limit) → a memory row */
    SQL_MEMORY_DELETE,          /* (id, user_id, scope_id) */
    SQL_MEMORY_DELETE_ALL,      /* (user_id, scope_id) */
    SQL_MODE_GET,               /* (guild_id, target_type, target_id) → modes */
    SQL_MODE_UPSERT,            /* (guild_id, target_type, target_id, modes, updated_at_ms) */
    SQL_MODE_DELETE,            /* (guild_id, target_type, target_id) */
    SQL_MODE_LIST,              /* (guild_id) → a mode row */
    SQL_ADJUSTMENT_UPSERT,      /* (scope_id, parameter, value, updated_by, updated_at_ms) */
    SQL_ADJUSTMENT_LIST,        /* (scope_id) → an adjustment row */
    SQL_SNAIL_STATS_INSERT,     /* (user_id, scope_id, screenshot_url, 9 stats, analysis_text, interaction_id, at) */
    SQL_SNAIL_STATS_BY_INTERACTION, /* (interaction_id) → id */
    SQL_SNAIL_STATS_LIST,           /* (user_id, scope_id, limit) → a snail_stats row */
    SQL_IMAGE_LOG_INSERT,           /* (user_id, scope_id, channel_id, prompt, enhanced_prompt, style, rating, model,
                                success, error_message, created_at_ms) */
    SQL_COMMAND_USAGE_INSERT,       /* (user_id, scope_id, command, success, latency_ms, created_at_ms) */
    SQL_LEADERBOARD,                /* (scope_id, limit) → a leaderboard row */
    SQL_USER_STATS,                 /* (user_id, scope_id, user_id, scope_id, since_ms) → one aggregate row */
    SQL_COUNTS,                     /* () → one row of four counts */
    SQL_STMT_COUNT
};

#define SQL_FIRST_DATA_STMT SQL_USER_UPSERT /* this one and the ones after need the migrated schema */

extern const char *const sql_statements[SQL_STMT_COUNT][SQL_DIALECT_COUNT];

/* A bound value. Text is borrowed until the statement has run; a NULL text binds SQL NULL. */
enum sql_type {
    SQL_NULL,
    SQL_TEXT,
    SQL_INT
};

struct sql_value {
    enum sql_type type;
    int64_t i;
    const char *text;
};

static inline struct sql_value sql_text(const char *text)
{
    return (struct sql_value){.type = text ? SQL_TEXT : SQL_NULL, .text = text};
}
static inline struct sql_value sql_int(int64_t i)
{
    return (struct sql_value){.type = SQL_INT, .i = i};
}
static inline struct sql_value sql_bool(bool b)
{
    return sql_int(b ? 1 : 0);
}
static inline struct sql_value sql_null(void)
{
    return (struct sql_value){.type = SQL_NULL};
}

/* One connection of a driver; the type is the driver's own. */
struct sql_conn;

/* A body runs on this: the driver and a connection it lent for the call. */
struct sql_session {
    const struct sql_driver *drv;
    struct sql_conn *conn;
};

/* The work of one op. May run more than once (MariaDB, after a reconnect or a deadlock), so it
 * starts from scratch each time and leaves no partial output behind when it fails. */
typedef int (*sql_body)(struct sql_session *s, void *arg);

/* Every function records the driver's code and text of a failure on the connection (for run()
 * to log) and returns the mapped status: SLIMY_ECONFLICT for a duplicate key, SLIMY_EINVAL for a
 * value the column refuses, SLIMY_EUNAVAILABLE for a database that cannot serve now (gone, busy,
 * locked, not migrated), SLIMY_ENOMEM, SLIMY_EINTERNAL. */
struct sql_driver {
    enum sql_dialect dialect;
    /* Lends a connection, runs body on it (with the driver's retry policy), logs a failure once
     * with op (sql_log_failure) and gives the connection back. */
    int (*run)(struct sql_store *st, const char *op, sql_body body, void *arg);
    void (*close)(struct sql_store *st);
    int (*ping)(struct sql_conn *c);
    int (*begin)(struct sql_conn *c);
    int (*commit)(struct sql_conn *c);
    void (*rollback)(struct sql_conn *c); /* only if a transaction is still open; never records */
    /* Runs a statement that returns no rows; *changes and *insert_id (each may be NULL) get the
     * rows it changed and the id it generated. */
    int (*exec)(struct sql_conn *c, enum sql_stmt id, const struct sql_value *params, size_t n_params,
                uint64_t *changes, int64_t *insert_id);
    /* A query: query() runs it, next() steps to each row, whose columns col_int() and
     * col_text() read (text valid until the next col_text() or next() call; NULL for SQL NULL);
     * query_end() always follows query(), whatever happened. One query at a time per conn. */
    int (*query)(struct sql_conn *c, enum sql_stmt id, const struct sql_value *params, size_t n_params);
    int (*next)(struct sql_conn *c, bool *has_row);
    int (*col_int)(struct sql_conn *c, unsigned col, int64_t *value, bool *is_null);
    int (*col_text)(struct sql_conn *c, unsigned col, const char **text, size_t *len);
    void (*query_end)(struct sql_conn *c);
};

/* Base of every driver's store; drivers embed it first, and it embeds struct store first. */
struct sql_store {
    struct store base;
    const struct sql_driver *drv;
};

/* ---- from store_sql.c, for the drivers ---- */

/* Points st at the store ops of drv's dialect. */
void sql_store_init(struct sql_store *st, const struct sql_driver *drv);

/* Reads schema_migrations into a sorted array of new strings (free with store_names_free()).
 * A database without the table has applied nothing. */
int sql_read_applied(struct sql_session *s, char ***names, size_t *n);

/* Whether names (from sql_read_applied()) holds name. */
bool sql_names_have(char **names, size_t n, const char *name);

/* The first migration of the dialect not recorded in the database, or NULL when none is
 * pending (a newer binary's extra names are fine). SLIMY_OK unless the history cannot be read. */
int sql_first_pending(struct sql_session *s, const char **pending);

/* Logs the failure of op once: an error for SLIMY_EUNAVAILABLE, EINTERNAL and ENOMEM with the
 * driver's code and text; a warning with only the code for a value the database refused (its
 * text may quote the value); nothing for SLIMY_ENOTFOUND. */
void sql_log_failure(const char *op, int rc, unsigned code, const char *error);

/* Writes a one-line message for the operator into err (store_open()'s err). */
void sql_set_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

int64_t sql_now_ms(void);

/* ---- the drivers, for store_open() ---- */

/* Opens (creating if needed) the SQLite file at path, WAL mode and a busy timeout; applies
 * migrations (each in a transaction) when asked. Errors as store_open(). */
int store_sqlite_open(const char *path, bool apply_migrations, struct store **out, char *err, size_t err_len);

/* Connects the MariaDB pool described by cfg (DB_*); applies migrations under GET_LOCK when
 * asked. Errors as store_open(). */
int store_mariadb_open(const struct slimy_config *cfg, bool apply_migrations, struct store **out, char *err,
                       size_t err_len);

#endif
