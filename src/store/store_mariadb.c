/* store_mariadb.c — the MariaDB backend of store.h: a pool of DB_CONNECTION_LIMIT connections,
 * each with its own prepared statements, that reconnects after a server restart; and the MariaDB
 * migration runner (under GET_LOCK). store_open() (store.c) calls store_mariadb_open() when
 * DB_HOST is set; the SQLite twin is store_sqlite.c. No other file in src/ names MYSQL. */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <sodium.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "store/migrations.h"
#include "store/store_backend.h"

#define CONNECT_TIMEOUT_S 5
#define READ_TIMEOUT_S 10
#define WRITE_TIMEOUT_S 10
#define MIGRATION_LOCK_WAIT_S 30     /* GET_LOCK's own timeout */
#define MIGRATION_READ_TIMEOUT_S 600 /* the lock wait, then DDL that may rebuild big tables */
#define POOL_WAIT_MS 5000            /* how long a call waits for a free connection */
#define DEADLOCK_RETRIES 3           /* InnoDB rolled the transaction back: run it again */
#define DRIVER_ERROR_MAX 256
#define MAX_PARAMS 16
#define MAX_COLUMNS 16
#define PARAMETER_MAX 32 /* sizeof store_adjustment.parameter */
#define N_SNAIL_STATS 9  /* hp, atk, def, rush, fame, tech, art, civ, fth */

/* Every connection runs in strict mode, so an over-long value is an error rather than the silent
 * truncation non-strict servers do. */
static const char SESSION_SQL_MODE[] = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";

/* Pool connections also: READ COMMITTED, so the lookup after a duplicate interaction_id sees the
 * row the other writer just committed and concurrent upserts of one user take no gap locks; and
 * row and table lock waits shorter than READ_TIMEOUT_S, so a wait ends as an error on a live
 * connection rather than a dropped one. (The migration connection keeps the server's waits: its
 * DDL may have to wait for running queries.) */
static const char *const POOL_SESSION_INIT[] = {
    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SET SESSION innodb_lock_wait_timeout = 5, SESSION lock_wait_timeout = 5",
};

/* The migration runner's own table; created before any migration, never by one. */
static const char SCHEMA_MIGRATIONS_SQL[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (name VARCHAR(64) COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY, "
    "applied_at_ms BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

/* Every statement the ops run. Each connection prepares one on first use and keeps it until the
 * connection closes. Key columns are utf8mb4_nopad_bin (0001_init.sql), so lookups compare
 * bytes; ORDER BY CAST(… AS BINARY) also sorts bytewise, as SQLite does, whatever collation an
 * older or hand-made table has. To add a query: a name here and its SQL below. */
enum stmt_id {
    STMT_USER_UPSERT,
    STMT_CONSENT_GET,
    STMT_CONSENT_UPSERT,
    STMT_MEMORY_INSERT,
    STMT_MEMORY_BY_INTERACTION,
    STMT_MEMORY_LIST,
    STMT_MEMORY_LIST_ALL_SCOPES,
    STMT_MEMORY_DELETE,
    STMT_MEMORY_DELETE_ALL,
    STMT_MODE_GET,
    STMT_MODE_UPSERT,
    STMT_MODE_DELETE,
    STMT_MODE_LIST,
    STMT_ADJUSTMENT_UPSERT,
    STMT_ADJUSTMENT_LIST,
    STMT_SNAIL_STATS_INSERT,
    STMT_SNAIL_STATS_BY_INTERACTION,
    STMT_SNAIL_STATS_LIST,
    STMT_IMAGE_LOG_INSERT,
    STMT_COMMAND_USAGE_INSERT,
    STMT_LEADERBOARD,
    STMT_USER_STATS,
    STMT_COUNTS,
    STMT_MIGRATIONS_APPLIED,
    STMT_MIGRATION_RECORD,
    STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    /* A NULL name keeps the one we have: callers that do not know it must not erase it. */
    [STMT_USER_UPSERT] = "INSERT INTO users (user_id, username, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?) "
                         "ON DUPLICATE KEY UPDATE username = COALESCE(VALUES(username), username), "
                         "updated_at_ms = VALUES(updated_at_ms)",
    [STMT_CONSENT_GET] = "SELECT allowed FROM consents WHERE user_id = ? AND scope_id = ?",
    [STMT_CONSENT_UPSERT] = "INSERT INTO consents (user_id, scope_id, allowed, updated_at_ms) VALUES (?, ?, ?, ?) "
                            "ON DUPLICATE KEY UPDATE allowed = VALUES(allowed), updated_at_ms = VALUES(updated_at_ms)",
    [STMT_MEMORY_INSERT] = "INSERT INTO memories (id, user_id, scope_id, note, tags, context, interaction_id, "
                           "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [STMT_MEMORY_BY_INTERACTION] = "SELECT id FROM memories WHERE interaction_id = ?",
    [STMT_MEMORY_LIST] = "SELECT id, user_id, scope_id, note, tags, context, created_at_ms FROM memories "
                         "WHERE user_id = ? AND scope_id = ? ORDER BY seq DESC LIMIT ?",
    [STMT_MEMORY_LIST_ALL_SCOPES] = "SELECT id, user_id, scope_id, note, tags, context, created_at_ms FROM memories "
                                    "WHERE user_id = ? ORDER BY seq DESC LIMIT ?",
    [STMT_MEMORY_DELETE] = "DELETE FROM memories WHERE id = ? AND user_id = ? AND scope_id = ?",
    [STMT_MEMORY_DELETE_ALL] = "DELETE FROM memories WHERE user_id = ? AND scope_id = ?",
    [STMT_MODE_GET] = "SELECT modes FROM mode_configs WHERE guild_id = ? AND target_type = ? AND target_id = ?",
    [STMT_MODE_UPSERT] = "INSERT INTO mode_configs (guild_id, target_type, target_id, modes, updated_at_ms) "
                         "VALUES (?, ?, ?, ?, ?) "
                         "ON DUPLICATE KEY UPDATE modes = VALUES(modes), updated_at_ms = VALUES(updated_at_ms)",
    [STMT_MODE_DELETE] = "DELETE FROM mode_configs WHERE guild_id = ? AND target_type = ? AND target_id = ?",
    [STMT_MODE_LIST] = "SELECT guild_id, target_type, target_id, modes, updated_at_ms FROM mode_configs "
                       "WHERE guild_id = ? ORDER BY target_type, CAST(target_id AS BINARY)",
    [STMT_ADJUSTMENT_UPSERT] = "INSERT INTO personality_adjustments (scope_id, parameter, value, updated_by, "
                               "updated_at_ms) VALUES (?, ?, ?, ?, ?) "
                               "ON DUPLICATE KEY UPDATE value = VALUES(value), updated_by = VALUES(updated_by), "
                               "updated_at_ms = VALUES(updated_at_ms)",
    [STMT_ADJUSTMENT_LIST] = "SELECT parameter, value, updated_by, updated_at_ms FROM personality_adjustments "
                             "WHERE scope_id = ? ORDER BY CAST(parameter AS BINARY)",
    [STMT_SNAIL_STATS_INSERT] = "INSERT INTO snail_stats (user_id, scope_id, screenshot_url, hp, atk, def, rush, "
                                "fame, tech, art, civ, fth, analysis_text, interaction_id, created_at_ms) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [STMT_SNAIL_STATS_BY_INTERACTION] = "SELECT id FROM snail_stats WHERE interaction_id = ?",
    [STMT_SNAIL_STATS_LIST] = "SELECT id, user_id, hp, atk, def, rush, fame, tech, art, civ, fth, created_at_ms "
                              "FROM snail_stats WHERE user_id = ? AND scope_id = ? ORDER BY id DESC LIMIT ?",
    [STMT_IMAGE_LOG_INSERT] = "INSERT INTO image_generation_log (user_id, scope_id, channel_id, prompt, "
                              "enhanced_prompt, style, rating, model, success, error_message, created_at_ms) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [STMT_COMMAND_USAGE_INSERT] = "INSERT INTO command_usage (user_id, scope_id, command, success, latency_ms, "
                                  "created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
    /* Counted per user first, then joined to users: the name is one lookup per ranked user. */
    [STMT_LEADERBOARD] = "SELECT t.user_id, u.username, t.analyses, t.last_at_ms FROM "
                         "(SELECT user_id, COUNT(*) AS analyses, MAX(created_at_ms) AS last_at_ms FROM snail_stats "
                         "WHERE scope_id = ? GROUP BY user_id) AS t LEFT JOIN users AS u ON u.user_id = t.user_id "
                         "ORDER BY t.analyses DESC, t.last_at_ms DESC, CAST(t.user_id AS BINARY) LIMIT ?",
    /* The counts see only rows since the last parameter; last active is over every row (store.h).
     * Parameters: user, scope (the subquery), user, scope, since. */
    [STMT_USER_STATS] = "SELECT COUNT(CASE WHEN command IN ('chat', 'Ask Slimy') THEN 1 END), "
                        "COUNT(CASE WHEN command = 'dream' THEN 1 END), COUNT(*), "
                        "(SELECT COALESCE(MAX(created_at_ms), 0) FROM command_usage "
                        "WHERE user_id = ? AND scope_id = ?) "
                        "FROM command_usage WHERE user_id = ? AND scope_id = ? AND created_at_ms >= ?",
    [STMT_COUNTS] = "SELECT (SELECT COUNT(*) FROM memories), (SELECT COUNT(*) FROM image_generation_log), "
                    "(SELECT COUNT(*) FROM snail_stats), (SELECT COUNT(*) FROM users)",
    [STMT_MIGRATIONS_APPLIED] = "SELECT name FROM schema_migrations ORDER BY CAST(name AS BINARY)",
    [STMT_MIGRATION_RECORD] = "INSERT INTO schema_migrations (name, applied_at_ms) VALUES (?, ?)",
};

/* One connection and the statements prepared on it. */
struct conn {
    MYSQL *mysql;                  /* NULL until connected, and again once lost */
    MYSQL_STMT *stmts[STMT_COUNT]; /* prepared on first use; closed with the connection */
    bool is_busy;                  /* lent to a call by pool_acquire(); guarded by the pool lock */
    bool is_lost;                  /* the last error broke the connection: close it, reconnect */
    bool is_deadlock;              /* the last error was an InnoDB deadlock: the op may run again */
    unsigned error_code;           /* the driver's code of the last error; 0 if none */
    char error[DRIVER_ERROR_MAX];  /* the driver's text of the last error, for the log */
};

struct mariadb_store {
    struct store base;  /* first: store.c sees only this */
    char *host;         /* DB_HOST */
    unsigned port;      /* DB_PORT */
    char *user;         /* DB_USER */
    char *password;     /* DB_PASSWORD; wiped at close, never logged */
    char *database;     /* DB_NAME */
    pthread_mutex_t lock;     /* guards conn.is_busy */
    pthread_cond_t has_free;  /* signalled when a connection is released (CLOCK_MONOTONIC) */
    struct conn *conns;       /* the pool: n_conns connections, connected lazily */
    size_t n_conns;
};

/* Input parameters of one execution. Holds the storage the binds point at, so it must not move
 * between param_*() and the execute. */
struct params {
    MYSQL_BIND bind[MAX_PARAMS];
    unsigned long length[MAX_PARAMS];
    long long ints[MAX_PARAMS];
    unsigned n;
};

/* Result columns of one query, bound by column_*() in select-list order. */
struct columns {
    MYSQL_BIND bind[MAX_COLUMNS];
    unsigned long length[MAX_COLUMNS]; /* actual bytes of the column in the current row */
    my_bool is_null[MAX_COLUMNS];
    my_bool error[MAX_COLUMNS];
    long long ints[MAX_COLUMNS];
    unsigned n;
};

/* The body of one op: runs on a connected conn, may run twice (after a reconnect or a
 * deadlock), so it must start from scratch each time and leave no partial output on failure. */
typedef int (*op_fn)(struct conn *c, void *arg);

static void mariadb_close(struct store *st);
static int mariadb_ping(struct store *st);
static int mariadb_consent_get(struct store *st, const char *user_id, const char *scope_id, bool *allowed);
static int mariadb_consent_set(struct store *st, const char *user_id, const char *user_name, const char *scope_id,
                               bool allow);
static int mariadb_memory_add(struct store *st, const struct store_memory_new *m, char id_out[STORE_ID_MAX]);
static int mariadb_memory_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                               struct store_memories *out);
static int mariadb_memory_delete(struct store *st, const char *user_id, const char *scope_id, const char *id);
static int mariadb_memory_delete_all(struct store *st, const char *user_id, const char *scope_id,
                                     uint64_t *n_deleted);
static int mariadb_mode_get(struct store *st, const char *guild_id, enum store_target_type type,
                            const char *target_id, unsigned *modes);
static int mariadb_mode_put(struct store *st, const char *guild_id, enum store_target_type type,
                            const char *target_id, unsigned modes);
static int mariadb_mode_list(struct store *st, const char *guild_id, struct store_mode_configs *out);
static int mariadb_adjustment_set(struct store *st, const char *scope_id, const char *parameter, int value,
                                  const char *updated_by);
static int mariadb_adjustment_list(struct store *st, const char *scope_id, struct store_adjustments *out);
static int mariadb_snail_stats_add(struct store *st, const struct store_snail_stats_new *s, int64_t *id_out);
static int mariadb_snail_stats_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                                    struct store_snail_stats_list *out);
static int mariadb_image_log_add(struct store *st, const struct store_image_log_new *entry);
static int mariadb_command_usage_add(struct store *st, const char *user_id, const char *scope_id,
                                     const char *command, bool success, int64_t latency_ms);
static int mariadb_leaderboard(struct store *st, const char *scope_id, size_t max, struct store_leaderboard *out);
static int mariadb_user_stats(struct store *st, const char *user_id, const char *scope_id, int64_t since_ms,
                              struct store_user_stats *out);
static int mariadb_counts(struct store *st, struct store_counts *out);
static int mariadb_migrations_applied(struct store *st, char ***names, size_t *n);

static const struct store_ops mariadb_ops = {
    .name = "mariadb",
    .close = mariadb_close,
    .ping = mariadb_ping,
    .consent_get = mariadb_consent_get,
    .consent_set = mariadb_consent_set,
    .memory_add = mariadb_memory_add,
    .memory_list = mariadb_memory_list,
    .memory_delete = mariadb_memory_delete,
    .memory_delete_all = mariadb_memory_delete_all,
    .mode_get = mariadb_mode_get,
    .mode_put = mariadb_mode_put,
    .mode_list = mariadb_mode_list,
    .adjustment_set = mariadb_adjustment_set,
    .adjustment_list = mariadb_adjustment_list,
    .snail_stats_add = mariadb_snail_stats_add,
    .snail_stats_list = mariadb_snail_stats_list,
    .image_log_add = mariadb_image_log_add,
    .command_usage_add = mariadb_command_usage_add,
    .leaderboard = mariadb_leaderboard,
    .user_stats = mariadb_user_stats,
    .counts = mariadb_counts,
    .migrations_applied = mariadb_migrations_applied,
};

/* ---- helpers ---- */

static void set_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || !err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    /* "One line for the operator": server messages quote SQL, newlines included. */
    for (char *p = err; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

static int64_t now_ms(void) { return (int64_t)clock_wall_ms(); }

/* "An id passed in must be 1..STORE_ID_MAX-1 bytes": ids land in fixed STORE_ID_MAX arrays when
 * read back, so a longer one could not round-trip. */
static bool is_id(const char *id) { return id && id[0] && strnlen(id, STORE_ID_MAX) < STORE_ID_MAX; }

static bool is_optional_id(const char *id) { return !id || is_id(id); }

static bool is_target_type(enum store_target_type type)
{
    return type == TARGET_CATEGORY || type == TARGET_CHANNEL || type == TARGET_THREAD;
}

static size_t clamp_max(size_t max) { return max > STORE_LIST_MAX ? STORE_LIST_MAX : max; }

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

/* The client library is initialised once per process (mysql_library_init is not thread-safe)
 * and once per thread that uses it. mysql_thread_end() is left to thread exit: Connector/C
 * keeps no per-thread state worth freeing. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;
static _Thread_local bool is_thread_ready;

static void library_init(void) { library_rc = mysql_library_init(0, NULL, NULL); }

static int driver_ready(void)
{
    pthread_once(&library_once, library_init);
    if (library_rc)
        return SLIMY_EINTERNAL;
    if (!is_thread_ready) {
        if (mysql_thread_init())
            return SLIMY_EINTERNAL;
        is_thread_ready = true;
    }
    return SLIMY_OK;
}

/* Records a driver error on c and turns it into a status. A lost connection marks c for a
 * reconnect; the caller's op loop decides whether to run the op again. */
static int driver_error(struct conn *c, unsigned code, const char *text)
{
    c->error_code = code;
    snprintf(c->error, sizeof c->error, "%s", text && *text ? text : "unknown MariaDB error");
    switch (code) {
    case CR_CONNECTION_ERROR:
    case CR_CONN_HOST_ERROR:
    case CR_SERVER_GONE_ERROR:
    case CR_SERVER_LOST:
    case CR_SERVER_LOST_EXTENDED:
    case ER_SERVER_SHUTDOWN:
    case ER_CONNECTION_KILLED:
        c->is_lost = true;
        return SLIMY_EUNAVAILABLE;
    case CR_COMMANDS_OUT_OF_SYNC: /* a bug here; a fresh connection is the way back */
        c->is_lost = true;
        return SLIMY_EINTERNAL;
    case ER_LOCK_DEADLOCK:
        c->is_deadlock = true;
        return SLIMY_EUNAVAILABLE;
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_NO_SUCH_TABLE: /* opened without migrations: run `slimy migrate` */
        return SLIMY_EUNAVAILABLE;
    case ER_DUP_ENTRY:
        return SLIMY_ECONFLICT;
    case ER_DATA_TOO_LONG:                   /* past a column's size, e.g. a 101-character username */
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: /* not valid UTF-8 */
    case ER_WARN_DATA_OUT_OF_RANGE:
        return SLIMY_EINVAL;
    case CR_OUT_OF_MEMORY:
        return SLIMY_ENOMEM;
    default:
        return SLIMY_EINTERNAL;
    }
}

static int conn_error(struct conn *c) { return driver_error(c, mysql_errno(c->mysql), mysql_error(c->mysql)); }

static int stmt_error(struct conn *c, MYSQL_STMT *stmt)
{
    return driver_error(c, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
}

/* ---- connections and the pool ---- */

/* Connects c. The migration connection may send several statements in one query (our own SQL
 * files, never user text) and waits longer for answers. Failures leave c->mysql NULL. */
static int conn_connect(const struct mariadb_store *ms, struct conn *c, bool is_migration)
{
    unsigned connect_s = CONNECT_TIMEOUT_S;
    unsigned read_s = is_migration ? MIGRATION_READ_TIMEOUT_S : READ_TIMEOUT_S;
    unsigned write_s = WRITE_TIMEOUT_S;
    unsigned protocol = MYSQL_PROTOCOL_TCP; /* "localhost" would otherwise mean the default socket, ignoring DB_PORT */
    unsigned local_infile = 0;              /* the server must never ask us for a file */
    my_bool reconnect = 0;                  /* we reconnect ourselves, and re-prepare the statements */

    c->is_lost = false;
    c->is_deadlock = false;
    MYSQL *m = mysql_init(NULL);
    if (!m) {
        snprintf(c->error, sizeof c->error, "out of memory");
        return SLIMY_ENOMEM;
    }
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &read_s);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &write_s);
    mysql_options(m, MYSQL_OPT_PROTOCOL, &protocol);
    mysql_options(m, MYSQL_OPT_LOCAL_INFILE, &local_infile);
    mysql_options(m, MYSQL_OPT_RECONNECT, &reconnect);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m, MYSQL_INIT_COMMAND, SESSION_SQL_MODE);
    for (size_t i = 0; !is_migration && i < sizeof POOL_SESSION_INIT / sizeof POOL_SESSION_INIT[0]; i++)
        mysql_options(m, MYSQL_INIT_COMMAND, POOL_SESSION_INIT[i]);
    unsigned long flags = is_migration ? CLIENT_MULTI_STATEMENTS : 0;
    if (!mysql_real_connect(m, ms->host, ms->user, ms->password, ms->database, ms->port, NULL, flags)) {
        c->error_code = mysql_errno(m);
        snprintf(c->error, sizeof c->error, "%s", mysql_error(m));
        mysql_close(m);
        return SLIMY_EUNAVAILABLE;
    }
    c->mysql = m;
    return SLIMY_OK;
}

/* mysql_close() detaches the statements first, so closing them afterwards frees memory without
 * talking to a server that may be gone. */
static void conn_close(struct conn *c)
{
    if (c->mysql)
        mysql_close(c->mysql);
    c->mysql = NULL;
    for (size_t i = 0; i < STMT_COUNT; i++) {
        if (c->stmts[i])
            mysql_stmt_close(c->stmts[i]);
        c->stmts[i] = NULL;
    }
}

/* A free connection, preferring one that is already connected. Call with the lock held. */
static struct conn *pool_pick(struct mariadb_store *ms)
{
    struct conn *unconnected = NULL;
    for (size_t i = 0; i < ms->n_conns; i++) {
        struct conn *c = &ms->conns[i];
        if (c->is_busy)
            continue;
        if (c->mysql)
            return c;
        if (!unconnected)
            unconnected = c;
    }
    return unconnected;
}

/* Lends a connection for one call, waiting up to POOL_WAIT_MS for one to come back. */
static int pool_acquire(struct mariadb_store *ms, struct conn **out)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += POOL_WAIT_MS / 1000;
    deadline.tv_nsec += (long)(POOL_WAIT_MS % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ms->lock);
    struct conn *c = pool_pick(ms);
    while (!c) {
        int wait_rc = pthread_cond_timedwait(&ms->has_free, &ms->lock, &deadline);
        c = pool_pick(ms);
        if (wait_rc == ETIMEDOUT)
            break;
    }
    if (c)
        c->is_busy = true;
    pthread_mutex_unlock(&ms->lock);
    *out = c;
    return c ? SLIMY_OK : SLIMY_EUNAVAILABLE;
}

static void pool_release(struct mariadb_store *ms, struct conn *c)
{
    pthread_mutex_lock(&ms->lock);
    c->is_busy = false;
    pthread_cond_signal(&ms->has_free);
    pthread_mutex_unlock(&ms->lock);
}

/* Runs one op on a pooled connection. A connection found broken (the server restarted, or
 * closed an idle connection) is reconnected once and the op runs again; a deadlock runs it
 * again on the same connection. The driver's text is logged once, here, when the op fails. */
static int run_op(struct store *st, const char *op, op_fn body, void *arg)
{
    struct mariadb_store *ms = (struct mariadb_store *)st;
    struct conn *c = NULL;
    bool has_reconnected = false;
    int n_deadlocks = 0;
    int rc = driver_ready();
    if (rc) {
        log_error("store error", LOG_S("op", op), LOG_S("error", "cannot initialise the MariaDB client library"));
        return rc;
    }
    rc = pool_acquire(ms, &c);
    if (rc) {
        log_error("store error", LOG_S("op", op), LOG_S("error", "no free MariaDB connection (pool exhausted)"),
                  LOG_I("pool_size", ms->n_conns));
        return rc;
    }
    c->error_code = 0;
    c->error[0] = '\0';
    for (;;) {
        if (!c->mysql) {
            rc = conn_connect(ms, c, false);
            if (rc)
                break;
        }
        c->is_lost = false;
        c->is_deadlock = false;
        rc = body(c, arg);
        if (c->is_lost) {
            conn_close(c);
            if (has_reconnected)
                break;
            has_reconnected = true;
            continue;
        }
        if (c->is_deadlock && n_deadlocks++ < DEADLOCK_RETRIES)
            continue;
        break;
    }
    if (rc == SLIMY_EUNAVAILABLE || rc == SLIMY_EINTERNAL || rc == SLIMY_ENOMEM)
        log_error("store error", LOG_S("op", op), LOG_I("code", c->error_code),
                  LOG_S("error", c->error[0] ? c->error : slimy_strerror(rc)));
    else if (rc == SLIMY_EINVAL && c->error_code)
        log_warn("store refused a value", LOG_S("op", op), LOG_I("code", c->error_code), LOG_S("error", c->error));
    else if (!rc && has_reconnected)
        log_info("store reconnected", LOG_S("op", op), LOG_S("after", c->error));
    pool_release(ms, c);
    return rc;
}

/* ---- statements ---- */

static MYSQL_BIND *param_next(struct params *p)
{
    assert(p->n < MAX_PARAMS);
    MYSQL_BIND *b = &p->bind[p->n];
    memset(b, 0, sizeof *b);
    return b;
}

/* Binds a string, or SQL NULL for a NULL pointer. The text is borrowed until the execute. */
static void param_text(struct params *p, const char *text)
{
    MYSQL_BIND *b = param_next(p);
    if (!text) {
        b->buffer_type = MYSQL_TYPE_NULL;
    } else {
        p->length[p->n] = (unsigned long)strlen(text);
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = (char *)text;
        b->buffer_length = p->length[p->n];
        b->length = &p->length[p->n];
    }
    p->n++;
}

static void param_int(struct params *p, long long value)
{
    MYSQL_BIND *b = param_next(p);
    p->ints[p->n] = value;
    b->buffer_type = MYSQL_TYPE_LONGLONG;
    b->buffer = &p->ints[p->n];
    p->n++;
}

static void param_null(struct params *p)
{
    MYSQL_BIND *b = param_next(p);
    b->buffer_type = MYSQL_TYPE_NULL;
    p->n++;
}

static MYSQL_BIND *column_next(struct columns *r)
{
    assert(r->n < MAX_COLUMNS);
    MYSQL_BIND *b = &r->bind[r->n];
    memset(b, 0, sizeof *b);
    b->length = &r->length[r->n];
    b->is_null = &r->is_null[r->n];
    b->error = &r->error[r->n];
    return b;
}

/* An integer column, read from r->ints[i] (0 when NULL). */
static void column_int(struct columns *r)
{
    MYSQL_BIND *b = column_next(r);
    b->buffer_type = MYSQL_TYPE_LONGLONG;
    b->buffer = &r->ints[r->n];
    r->n++;
}

/* A short text column fetched straight into buf (NUL-terminated, cut to size-1 bytes; ids are
 * capped at write time so they fit), or, with buf NULL, a text of any length to take with
 * column_dup() after each row. */
static void column_text(struct columns *r, char *buf, size_t size)
{
    MYSQL_BIND *b = column_next(r);
    b->buffer_type = MYSQL_TYPE_STRING;
    b->buffer = buf;
    b->buffer_length = buf ? (unsigned long)size : 0;
    r->n++;
}

/* The statement, prepared on this connection the first time it is needed. */
static int stmt_get(struct conn *c, enum stmt_id id, MYSQL_STMT **out)
{
    MYSQL_STMT *stmt = c->stmts[id];
    if (!stmt) {
        stmt = mysql_stmt_init(c->mysql);
        if (!stmt)
            return conn_error(c);
        if (mysql_stmt_prepare(stmt, stmt_sql[id], (unsigned long)strlen(stmt_sql[id]))) {
            int rc = stmt_error(c, stmt);
            mysql_stmt_close(stmt);
            return rc;
        }
        c->stmts[id] = stmt;
    }
    *out = stmt;
    return SLIMY_OK;
}

/* Binds p (which must match the statement's placeholders) and executes. */
static int stmt_exec(struct conn *c, enum stmt_id id, struct params *p, MYSQL_STMT **out)
{
    MYSQL_STMT *stmt = NULL;
    int rc = stmt_get(c, id, &stmt);
    if (rc)
        return rc;
    assert(mysql_stmt_param_count(stmt) == p->n);
    if (p->n && mysql_stmt_bind_param(stmt, p->bind))
        return stmt_error(c, stmt);
    if (mysql_stmt_execute(stmt))
        return stmt_error(c, stmt);
    *out = stmt;
    return SLIMY_OK;
}

/* Executes a query and reads its whole result to the client, ready for row_next(). Always end
 * with stmt_done(), whatever happened. */
static int stmt_query(struct conn *c, enum stmt_id id, struct params *p, struct columns *r, MYSQL_STMT **out)
{
    MYSQL_STMT *stmt = NULL;
    int rc = stmt_exec(c, id, p, &stmt);
    if (rc)
        return rc;
    *out = stmt;
    assert(mysql_stmt_field_count(stmt) == r->n);
    if (mysql_stmt_bind_result(stmt, r->bind) || mysql_stmt_store_result(stmt))
        return stmt_error(c, stmt);
    return SLIMY_OK;
}

static void stmt_done(MYSQL_STMT *stmt)
{
    if (stmt)
        mysql_stmt_free_result(stmt);
}

/* Fetches the next row into the bound columns: SLIMY_OK with *has_row. Variable texts report
 * MYSQL_DATA_TRUNCATED by design (their buffer is empty); column_dup() reads them. */
static int row_next(struct conn *c, MYSQL_STMT *stmt, struct columns *r, bool *has_row)
{
    *has_row = false;
    int fetch_rc = mysql_stmt_fetch(stmt);
    if (fetch_rc == MYSQL_NO_DATA)
        return SLIMY_OK;
    if (fetch_rc != 0 && fetch_rc != MYSQL_DATA_TRUNCATED)
        return stmt_error(c, stmt);
    for (unsigned i = 0; i < r->n; i++) {
        MYSQL_BIND *b = &r->bind[i];
        if (b->buffer_type == MYSQL_TYPE_LONGLONG && r->is_null[i])
            r->ints[i] = 0;
        if (b->buffer_type != MYSQL_TYPE_STRING || !b->buffer)
            continue;
        size_t end = r->is_null[i] ? 0 : r->length[i];
        if (end >= b->buffer_length)
            end = b->buffer_length - 1;
        ((char *)b->buffer)[end] = '\0';
    }
    *has_row = true;
    return SLIMY_OK;
}

/* Copies variable text column col of the current row into a new string (free with free()); SQL
 * NULL becomes "". */
static int column_dup(struct conn *c, MYSQL_STMT *stmt, struct columns *r, unsigned col, char **out)
{
    *out = NULL;
    unsigned long len = r->is_null[col] ? 0 : r->length[col];
    char *text = malloc((size_t)len + 1);
    if (!text)
        return SLIMY_ENOMEM;
    if (len) {
        unsigned long got = 0;
        MYSQL_BIND b = {0};
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = text;
        b.buffer_length = len + 1;
        b.length = &got;
        if (mysql_stmt_fetch_column(stmt, &b, col, 0)) {
            free(text);
            return stmt_error(c, stmt);
        }
    }
    text[len] = '\0';
    *out = text;
    return SLIMY_OK;
}

/* Runs a statement that returns no rows; *affected gets the rows it changed (may be NULL). */
static int stmt_run(struct conn *c, enum stmt_id id, struct params *p, uint64_t *affected)
{
    MYSQL_STMT *stmt = NULL;
    int rc = stmt_exec(c, id, p, &stmt);
    if (!rc && affected)
        *affected = (uint64_t)mysql_stmt_affected_rows(stmt);
    return rc;
}

/* Runs SQL of our own (never user text) that returns nothing of interest, draining every
 * result a multi-statement script produces. Stops at the first failing statement. */
static int query_run(struct conn *c, const char *sql, size_t len)
{
    if (mysql_real_query(c->mysql, sql, (unsigned long)len))
        return conn_error(c);
    for (;;) {
        MYSQL_RES *res = mysql_store_result(c->mysql);
        if (res)
            mysql_free_result(res);
        else if (mysql_field_count(c->mysql))
            return conn_error(c);
        int next = mysql_next_result(c->mysql);
        if (next < 0)
            return SLIMY_OK;
        if (next > 0)
            return conn_error(c);
    }
}

/* Runs SQL of our own returning one integer (or NULL) in its first row. */
static int query_int(struct conn *c, const char *sql, long long *value, bool *is_null)
{
    *value = 0;
    *is_null = true;
    if (mysql_real_query(c->mysql, sql, (unsigned long)strlen(sql)))
        return conn_error(c);
    MYSQL_RES *res = mysql_store_result(c->mysql);
    if (!res)
        return conn_error(c);
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0]) {
        *is_null = false;
        *value = strtoll(row[0], NULL, 10);
    }
    mysql_free_result(res);
    return SLIMY_OK;
}

/* Transactions group the user upsert with the row that needs it. The server rolls back on its
 * own when the connection drops, so a lost connection needs no ROLLBACK. */
static int transaction_begin(struct conn *c)
{
    static const char sql[] = "START TRANSACTION";
    if (mysql_real_query(c->mysql, sql, sizeof sql - 1))
        return conn_error(c);
    return SLIMY_OK;
}

static int transaction_end(struct conn *c, int rc)
{
    if (!rc && mysql_commit(c->mysql))
        rc = conn_error(c);
    if (rc && !c->is_lost)
        mysql_rollback(c->mysql);
    return rc;
}

/* Inserts the user or refreshes updated_at_ms (and the name, when given). */
static int user_upsert(struct conn *c, const char *user_id, const char *user_name, int64_t at_ms)
{
    struct params p = {0};
    param_text(&p, user_id);
    param_text(&p, user_name);
    param_int(&p, at_ms);
    param_int(&p, at_ms);
    return stmt_run(c, STMT_USER_UPSERT, &p, NULL);
}

/* ---- migrations ---- */

/* Reads schema_migrations into a sorted array of new strings. A database without the table
 * has applied nothing. */
static int read_applied(struct conn *c, char ***names_out, size_t *n_out)
{
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    char **names = NULL;
    size_t n = 0;
    *names_out = NULL;
    *n_out = 0;
    column_text(&r, NULL, 0);
    int rc = stmt_query(c, STMT_MIGRATIONS_APPLIED, &p, &r, &stmt);
    if (rc) {
        if (c->error_code == ER_NO_SUCH_TABLE)
            rc = SLIMY_OK;
        goto out;
    }
    names = calloc((size_t)mysql_stmt_num_rows(stmt) + 1, sizeof *names);
    if (!names) {
        rc = SLIMY_ENOMEM;
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = row_next(c, stmt, &r, &has_row);
        if (rc || !has_row)
            break;
        rc = column_dup(c, stmt, &r, 0, &names[n]);
        if (rc)
            break;
        n++;
    }
out:
    stmt_done(stmt);
    if (rc) {
        store_names_free(names, n);
        return rc;
    }
    *names_out = names;
    *n_out = n;
    return SLIMY_OK;
}

static bool has_name(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* Applies the pending migrations on a connection of its own, under a server-wide named lock
 * so replicas starting together apply each one once: the second waits, then finds it recorded.
 * MariaDB commits DDL as it goes, so a migration cut short is re-run whole next time; the
 * scripts are written to allow that (CREATE TABLE IF NOT EXISTS). */
static int migrate(const struct mariadb_store *ms, char *err, size_t err_len)
{
    struct conn mc = {0};
    char **applied = NULL;
    size_t n_applied = 0;
    bool has_lock = false;
    long long got = 0;
    bool is_null = true;

    int rc = conn_connect(ms, &mc, true);
    if (rc) {
        set_err(err, err_len, "cannot connect to MariaDB at %s:%u: %s", ms->host, ms->port, mc.error);
        goto out;
    }
    char lock_sql[96];
    snprintf(lock_sql, sizeof lock_sql, "SELECT GET_LOCK('slimy_migrations', %d)", MIGRATION_LOCK_WAIT_S);
    rc = query_int(&mc, lock_sql, &got, &is_null);
    if (rc) {
        set_err(err, err_len, "MariaDB: cannot take the migration lock: %s", mc.error);
        goto out;
    }
    if (is_null || got != 1) {
        set_err(err, err_len, "MariaDB: another replica holds the migration lock (waited %d s)",
                MIGRATION_LOCK_WAIT_S);
        rc = SLIMY_EUNAVAILABLE;
        goto out;
    }
    has_lock = true;
    rc = query_run(&mc, SCHEMA_MIGRATIONS_SQL, sizeof SCHEMA_MIGRATIONS_SQL - 1);
    if (rc) {
        set_err(err, err_len, "MariaDB: cannot create schema_migrations: %s", mc.error);
        goto out;
    }
    rc = read_applied(&mc, &applied, &n_applied);
    if (rc) {
        set_err(err, err_len, "MariaDB: cannot read schema_migrations: %s", mc.error);
        goto out;
    }
    size_t n = 0;
    const struct migration *list = migrations_list("mariadb", &n);
    for (size_t i = 0; i < n; i++) {
        if (has_name(applied, n_applied, list[i].name))
            continue;
        rc = query_run(&mc, list[i].sql, list[i].len);
        if (rc) {
            set_err(err, err_len, "MariaDB migration %s failed: %s", list[i].name, mc.error);
            goto out;
        }
        struct params p = {0};
        param_text(&p, list[i].name);
        param_int(&p, now_ms());
        rc = stmt_run(&mc, STMT_MIGRATION_RECORD, &p, NULL);
        if (rc) {
            set_err(err, err_len, "MariaDB: cannot record migration %s: %s", list[i].name, mc.error);
            goto out;
        }
        log_info("migration applied", LOG_S("backend", "mariadb"), LOG_S("name", list[i].name));
    }
out:
    /* Closing the connection would free the lock too; releasing says so at once. */
    if (has_lock && mc.mysql && !mc.is_lost)
        query_int(&mc, "SELECT RELEASE_LOCK('slimy_migrations')", &got, &is_null);
    conn_close(&mc);
    store_names_free(applied, n_applied);
    /* "SLIMY_EUNAVAILABLE (cannot connect) or SLIMY_EINTERNAL (a migration failed)". */
    if (rc && rc != SLIMY_EUNAVAILABLE && rc != SLIMY_ENOMEM)
        rc = SLIMY_EINTERNAL;
    return rc;
}

/* Opened without migrations: warn at start-up, rather than at the first failing call, when the
 * schema lags behind this binary. A newer binary's extra names are fine. */
static void warn_if_pending(struct conn *c)
{
    char **applied = NULL;
    size_t n_applied = 0, n = 0;
    if (read_applied(c, &applied, &n_applied))
        return;
    const struct migration *list = migrations_list("mariadb", &n);
    for (size_t i = 0; i < n; i++) {
        if (!has_name(applied, n_applied, list[i].name)) {
            log_warn("store schema not migrated; data calls will fail until `slimy migrate` runs",
                     LOG_S("backend", "mariadb"), LOG_S("pending", list[i].name));
            break;
        }
    }
    store_names_free(applied, n_applied);
}

/* ---- opening and closing ---- */

int store_mariadb_open(const struct slimy_config *cfg, bool apply_migrations, struct store **out, char *err,
                       size_t err_len)
{
    *out = NULL;
    if (err && err_len)
        err[0] = '\0';
    if (driver_ready()) {
        set_err(err, err_len, "cannot initialise the MariaDB client library");
        return SLIMY_EINTERNAL;
    }
    struct mariadb_store *ms = calloc(1, sizeof *ms);
    if (!ms)
        return SLIMY_ENOMEM;
    ms->base.ops = &mariadb_ops;
    pthread_mutex_init(&ms->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&ms->has_free, &attr);
    pthread_condattr_destroy(&attr);

    int rc = SLIMY_OK;
    ms->port = cfg->db_port;
    ms->n_conns = cfg->db_connection_limit ? cfg->db_connection_limit : 1;
    ms->host = dup_or_empty(cfg->db_host);
    ms->user = dup_or_empty(cfg->db_user);
    ms->password = dup_or_empty(cfg->db_password);
    ms->database = dup_or_empty(cfg->db_name);
    ms->conns = calloc(ms->n_conns, sizeof *ms->conns);
    if (!ms->host || !ms->user || !ms->password || !ms->database || !ms->conns) {
        set_err(err, err_len, "out of memory");
        rc = SLIMY_ENOMEM;
        goto out;
    }
    /* One connection now, so a wrong host or password is a start-up error; the rest on demand. */
    rc = conn_connect(ms, &ms->conns[0], false);
    if (rc) {
        set_err(err, err_len, "cannot connect to MariaDB at %s:%u: %s", ms->host, ms->port, ms->conns[0].error);
        goto out;
    }
    if (apply_migrations)
        rc = migrate(ms, err, err_len);
    else
        warn_if_pending(&ms->conns[0]);
out:
    if (rc) {
        mariadb_close(&ms->base);
        return rc;
    }
    *out = &ms->base;
    return SLIMY_OK;
}

/* Callers have stopped using the store: no connection is lent out. */
static void mariadb_close(struct store *st)
{
    struct mariadb_store *ms = (struct mariadb_store *)st;
    for (size_t i = 0; ms->conns && i < ms->n_conns; i++)
        conn_close(&ms->conns[i]);
    free(ms->conns);
    if (ms->password)
        sodium_memzero(ms->password, strlen(ms->password));
    free(ms->password);
    free(ms->host);
    free(ms->user);
    free(ms->database);
    pthread_cond_destroy(&ms->has_free);
    pthread_mutex_destroy(&ms->lock);
    free(ms);
}

/* ---- ops ---- */

static int ping_body(struct conn *c, void *arg)
{
    (void)arg;
    return mysql_ping(c->mysql) ? conn_error(c) : SLIMY_OK;
}

static int mariadb_ping(struct store *st) { return run_op(st, "ping", ping_body, NULL); }

struct consent_args {
    const char *user_id, *user_name, *scope_id;
    bool allow;     /* consent_set */
    bool *allowed;  /* consent_get */
};

static int consent_get_body(struct conn *c, void *arg)
{
    struct consent_args *a = arg;
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    bool has_row = false;
    *a->allowed = false;
    param_text(&p, a->user_id);
    param_text(&p, a->scope_id);
    column_int(&r);
    int rc = stmt_query(c, STMT_CONSENT_GET, &p, &r, &stmt);
    if (!rc)
        rc = row_next(c, stmt, &r, &has_row);
    if (!rc && has_row)
        *a->allowed = r.ints[0] != 0;
    stmt_done(stmt);
    return rc;
}

static int mariadb_consent_get(struct store *st, const char *user_id, const char *scope_id, bool *allowed)
{
    *allowed = false;
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    struct consent_args a = {.user_id = user_id, .scope_id = scope_id, .allowed = allowed};
    return run_op(st, "consent_get", consent_get_body, &a);
}

static int consent_set_body(struct conn *c, void *arg)
{
    struct consent_args *a = arg;
    int64_t at_ms = now_ms();
    int rc = transaction_begin(c);
    if (rc)
        return rc;
    rc = user_upsert(c, a->user_id, a->user_name, at_ms);
    if (rc)
        goto end;
    struct params p = {0};
    param_text(&p, a->user_id);
    param_text(&p, a->scope_id);
    param_int(&p, a->allow ? 1 : 0);
    param_int(&p, at_ms);
    rc = stmt_run(c, STMT_CONSENT_UPSERT, &p, NULL);
end:
    return transaction_end(c, rc);
}

static int mariadb_consent_set(struct store *st, const char *user_id, const char *user_name, const char *scope_id,
                               bool allow)
{
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    struct consent_args a = {.user_id = user_id, .user_name = user_name, .scope_id = scope_id, .allow = allow};
    return run_op(st, "consent_set", consent_set_body, &a);
}

struct memory_add_args {
    const struct store_memory_new *m;
    const char *tags_json, *context_json; /* with the documented defaults applied */
    char *id_out;
};

/* The id of the memory an earlier call stored for interaction_id (a retried job). */
static int memory_by_interaction(struct conn *c, const char *interaction_id, char id_out[STORE_ID_MAX])
{
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    char id[STORE_ID_MAX];
    bool has_row = false;
    param_text(&p, interaction_id);
    column_text(&r, id, sizeof id);
    int rc = stmt_query(c, STMT_MEMORY_BY_INTERACTION, &p, &r, &stmt);
    if (!rc)
        rc = row_next(c, stmt, &r, &has_row);
    if (!rc && !has_row)
        rc = SLIMY_ECONFLICT; /* the duplicate was another key (a UUID collision) */
    if (!rc)
        memcpy(id_out, id, STORE_ID_MAX);
    stmt_done(stmt);
    return rc;
}

/* INSERT first and look up on a duplicate interaction_id, rather than the other way round: two
 * workers retrying one job at once then still store it once, and both get its id. */
static int memory_add_body(struct conn *c, void *arg)
{
    struct memory_add_args *a = arg;
    const struct store_memory_new *m = a->m;
    int64_t at_ms = now_ms();
    char id[STORE_ID_MAX];
    int rc = transaction_begin(c);
    if (rc)
        return rc;
    rc = user_upsert(c, m->user_id, m->user_name, at_ms);
    if (rc)
        goto end;
    store_uuid_v4(id);
    struct params p = {0};
    param_text(&p, id);
    param_text(&p, m->user_id);
    param_text(&p, m->scope_id);
    param_text(&p, m->note);
    param_text(&p, a->tags_json);
    param_text(&p, a->context_json);
    param_text(&p, m->interaction_id);
    param_int(&p, at_ms);
    rc = stmt_run(c, STMT_MEMORY_INSERT, &p, NULL);
    if (rc == SLIMY_ECONFLICT && m->interaction_id)
        rc = memory_by_interaction(c, m->interaction_id, id);
    if (!rc)
        memcpy(a->id_out, id, STORE_ID_MAX);
end:
    return transaction_end(c, rc);
}

static int mariadb_memory_add(struct store *st, const struct store_memory_new *m, char id_out[STORE_ID_MAX])
{
    struct memory_add_args a = {
        .m = m,
        .tags_json = m->tags_json ? m->tags_json : "[]",
        .context_json = m->context_json ? m->context_json : "{}",
        .id_out = id_out,
    };
    id_out[0] = '\0';
    if (!is_id(m->user_id) || !is_id(m->scope_id) || !is_optional_id(m->interaction_id) || !m->note ||
        strlen(m->note) > STORE_NOTE_MAX_BYTES || strlen(a.tags_json) > STORE_TAGS_MAX_BYTES ||
        strlen(a.context_json) > STORE_CONTEXT_MAX_BYTES)
        return SLIMY_EINVAL;
    int rc = run_op(st, "memory_add", memory_add_body, &a);
    if (rc)
        id_out[0] = '\0';
    return rc;
}

struct memory_list_args {
    const char *user_id, *scope_id; /* scope_id NULL: every scope */
    size_t max;
    struct store_memories *out;
};

static int memory_list_body(struct conn *c, void *arg)
{
    struct memory_list_args *a = arg;
    struct store_memories list = {0};
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    char id[STORE_ID_MAX], user_id[STORE_ID_MAX], scope_id[STORE_ID_MAX];
    param_text(&p, a->user_id);
    if (a->scope_id)
        param_text(&p, a->scope_id);
    param_int(&p, (long long)a->max);
    column_text(&r, id, sizeof id);
    column_text(&r, user_id, sizeof user_id);
    column_text(&r, scope_id, sizeof scope_id);
    column_text(&r, NULL, 0); /* note */
    column_text(&r, NULL, 0); /* tags */
    column_text(&r, NULL, 0); /* context */
    column_int(&r);           /* created_at_ms */
    int rc = stmt_query(c, a->scope_id ? STMT_MEMORY_LIST : STMT_MEMORY_LIST_ALL_SCOPES, &p, &r, &stmt);
    if (rc)
        goto out;
    list.items = calloc((size_t)mysql_stmt_num_rows(stmt) + 1, sizeof *list.items);
    if (!list.items) {
        rc = SLIMY_ENOMEM;
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = row_next(c, stmt, &r, &has_row);
        if (rc || !has_row)
            break;
        struct store_memory *mem = &list.items[list.n++]; /* counted first: freeing frees a half-read item */
        memcpy(mem->id, id, sizeof mem->id);
        memcpy(mem->user_id, user_id, sizeof mem->user_id);
        memcpy(mem->scope_id, scope_id, sizeof mem->scope_id);
        mem->created_at_ms = r.ints[6];
        rc = column_dup(c, stmt, &r, 3, &mem->note);
        if (!rc)
            rc = column_dup(c, stmt, &r, 4, &mem->tags_json);
        if (!rc)
            rc = column_dup(c, stmt, &r, 5, &mem->context_json);
        if (rc)
            break;
    }
out:
    stmt_done(stmt);
    if (rc) {
        store_memories_free(&list);
        return rc;
    }
    if (list.n == 0)
        store_memories_free(&list); /* none is items NULL, n 0 */
    *a->out = list;
    return SLIMY_OK;
}

/* A NULL scope_id lists the user's memories in every scope (an export of their own data), as
 * the SQLite backend does. */
static int mariadb_memory_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                               struct store_memories *out)
{
    out->items = NULL;
    out->n = 0;
    if (!is_id(user_id) || !is_optional_id(scope_id))
        return SLIMY_EINVAL;
    max = clamp_max(max);
    if (max == 0)
        return SLIMY_OK;
    struct memory_list_args a = {.user_id = user_id, .scope_id = scope_id, .max = max, .out = out};
    return run_op(st, "memory_list", memory_list_body, &a);
}

struct memory_delete_args {
    const char *user_id, *scope_id;
    const char *id;        /* memory_delete; NULL for memory_delete_all */
    uint64_t *n_deleted;   /* memory_delete_all */
};

static int memory_delete_body(struct conn *c, void *arg)
{
    struct memory_delete_args *a = arg;
    struct params p = {0};
    uint64_t n = 0;
    if (a->id)
        param_text(&p, a->id);
    param_text(&p, a->user_id);
    param_text(&p, a->scope_id);
    int rc = stmt_run(c, a->id ? STMT_MEMORY_DELETE : STMT_MEMORY_DELETE_ALL, &p, &n);
    if (rc)
        return rc;
    if (a->n_deleted)
        *a->n_deleted = n;
    return a->id && n == 0 ? SLIMY_ENOTFOUND : SLIMY_OK;
}

/* Run again after a reconnect, a delete whose first run did reach the server finds nothing:
 * SLIMY_ENOTFOUND, which is also what the user's intent now looks like. */
static int mariadb_memory_delete(struct store *st, const char *user_id, const char *scope_id, const char *id)
{
    if (!is_id(user_id) || !is_id(scope_id) || !is_id(id))
        return SLIMY_EINVAL;
    struct memory_delete_args a = {.user_id = user_id, .scope_id = scope_id, .id = id};
    return run_op(st, "memory_delete", memory_delete_body, &a);
}

static int mariadb_memory_delete_all(struct store *st, const char *user_id, const char *scope_id,
                                     uint64_t *n_deleted)
{
    *n_deleted = 0;
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    struct memory_delete_args a = {.user_id = user_id, .scope_id = scope_id, .n_deleted = n_deleted};
    return run_op(st, "memory_delete_all", memory_delete_body, &a);
}

struct mode_args {
    const char *guild_id;
    enum store_target_type type;
    const char *target_id;
    unsigned modes;                  /* mode_put */
    unsigned *modes_out;             /* mode_get */
    struct store_mode_configs *out;  /* mode_list */
};

static int mode_get_body(struct conn *c, void *arg)
{
    struct mode_args *a = arg;
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    bool has_row = false;
    *a->modes_out = 0;
    param_text(&p, a->guild_id);
    param_int(&p, (long long)a->type);
    param_text(&p, a->target_id);
    column_int(&r);
    int rc = stmt_query(c, STMT_MODE_GET, &p, &r, &stmt);
    if (!rc)
        rc = row_next(c, stmt, &r, &has_row);
    if (!rc && has_row)
        *a->modes_out = (unsigned)r.ints[0];
    stmt_done(stmt);
    return rc;
}

static int mariadb_mode_get(struct store *st, const char *guild_id, enum store_target_type type,
                            const char *target_id, unsigned *modes)
{
    *modes = 0;
    if (!is_id(guild_id) || !is_target_type(type) || !is_id(target_id))
        return SLIMY_EINVAL;
    struct mode_args a = {.guild_id = guild_id, .type = type, .target_id = target_id, .modes_out = modes};
    return run_op(st, "mode_get", mode_get_body, &a);
}

static int mode_put_body(struct conn *c, void *arg)
{
    struct mode_args *a = arg;
    struct params p = {0};
    param_text(&p, a->guild_id);
    param_int(&p, (long long)a->type);
    param_text(&p, a->target_id);
    if (a->modes) {
        param_int(&p, (long long)a->modes);
        param_int(&p, now_ms());
    }
    return stmt_run(c, a->modes ? STMT_MODE_UPSERT : STMT_MODE_DELETE, &p, NULL);
}

static int mariadb_mode_put(struct store *st, const char *guild_id, enum store_target_type type,
                            const char *target_id, unsigned modes)
{
    if (!is_id(guild_id) || !is_target_type(type) || !is_id(target_id))
        return SLIMY_EINVAL;
    struct mode_args a = {.guild_id = guild_id, .type = type, .target_id = target_id, .modes = modes};
    return run_op(st, "mode_put", mode_put_body, &a);
}

static int mode_list_body(struct conn *c, void *arg)
{
    struct mode_args *a = arg;
    struct store_mode_configs list = {0};
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    char guild_id[STORE_ID_MAX], target_id[STORE_ID_MAX];
    param_text(&p, a->guild_id);
    column_text(&r, guild_id, sizeof guild_id);
    column_int(&r); /* target_type */
    column_text(&r, target_id, sizeof target_id);
    column_int(&r); /* modes */
    column_int(&r); /* updated_at_ms */
    int rc = stmt_query(c, STMT_MODE_LIST, &p, &r, &stmt);
    if (rc)
        goto out;
    list.items = calloc((size_t)mysql_stmt_num_rows(stmt) + 1, sizeof *list.items);
    if (!list.items) {
        rc = SLIMY_ENOMEM;
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = row_next(c, stmt, &r, &has_row);
        if (rc || !has_row)
            break;
        struct store_mode_config *mode = &list.items[list.n++];
        memcpy(mode->guild_id, guild_id, sizeof mode->guild_id);
        mode->target_type = (enum store_target_type)r.ints[1];
        memcpy(mode->target_id, target_id, sizeof mode->target_id);
        mode->modes = (unsigned)r.ints[3];
        mode->updated_at_ms = r.ints[4];
    }
out:
    stmt_done(stmt);
    if (rc || list.n == 0)
        store_mode_configs_free(&list);
    if (!rc)
        *a->out = list;
    return rc;
}

static int mariadb_mode_list(struct store *st, const char *guild_id, struct store_mode_configs *out)
{
    out->items = NULL;
    out->n = 0;
    if (!is_id(guild_id))
        return SLIMY_EINVAL;
    struct mode_args a = {.guild_id = guild_id, .out = out};
    return run_op(st, "mode_list", mode_list_body, &a);
}

struct adjustment_args {
    const char *scope_id, *parameter, *updated_by;
    int value;
    struct store_adjustments *out; /* adjustment_list */
};

static int adjustment_set_body(struct conn *c, void *arg)
{
    struct adjustment_args *a = arg;
    struct params p = {0};
    param_text(&p, a->scope_id);
    param_text(&p, a->parameter);
    param_int(&p, a->value);
    param_text(&p, a->updated_by);
    param_int(&p, now_ms());
    return stmt_run(c, STMT_ADJUSTMENT_UPSERT, &p, NULL);
}

static int mariadb_adjustment_set(struct store *st, const char *scope_id, const char *parameter, int value,
                                  const char *updated_by)
{
    if (!is_id(scope_id) || !parameter || !parameter[0] || strnlen(parameter, PARAMETER_MAX) >= PARAMETER_MAX ||
        value < 1 || value > 10 || !is_id(updated_by))
        return SLIMY_EINVAL;
    struct adjustment_args a = {.scope_id = scope_id, .parameter = parameter, .value = value, .updated_by = updated_by};
    return run_op(st, "adjustment_set", adjustment_set_body, &a);
}

static int adjustment_list_body(struct conn *c, void *arg)
{
    struct adjustment_args *a = arg;
    struct store_adjustments list = {0};
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    char parameter[PARAMETER_MAX], updated_by[STORE_ID_MAX];
    param_text(&p, a->scope_id);
    column_text(&r, parameter, sizeof parameter);
    column_int(&r); /* value */
    column_text(&r, updated_by, sizeof updated_by);
    column_int(&r); /* updated_at_ms */
    int rc = stmt_query(c, STMT_ADJUSTMENT_LIST, &p, &r, &stmt);
    if (rc)
        goto out;
    list.items = calloc((size_t)mysql_stmt_num_rows(stmt) + 1, sizeof *list.items);
    if (!list.items) {
        rc = SLIMY_ENOMEM;
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = row_next(c, stmt, &r, &has_row);
        if (rc || !has_row)
            break;
        struct store_adjustment *adjustment = &list.items[list.n++];
        memcpy(adjustment->parameter, parameter, sizeof adjustment->parameter);
        adjustment->value = (int)r.ints[1];
        memcpy(adjustment->updated_by, updated_by, sizeof adjustment->updated_by);
        adjustment->updated_at_ms = r.ints[3];
    }
out:
    stmt_done(stmt);
    if (rc || list.n == 0)
        store_adjustments_free(&list);
    if (!rc)
        *a->out = list;
    return rc;
}

static int mariadb_adjustment_list(struct store *st, const char *scope_id, struct store_adjustments *out)
{
    out->items = NULL;
    out->n = 0;
    if (!is_id(scope_id))
        return SLIMY_EINVAL;
    struct adjustment_args a = {.scope_id = scope_id, .out = out};
    return run_op(st, "adjustment_list", adjustment_list_body, &a);
}

struct snail_stats_args {
    const struct store_snail_stats_new *s; /* snail_stats_add */
    int64_t *id_out;
    const char *user_id, *scope_id;        /* snail_stats_list */
    size_t max;
    struct store_snail_stats_list *out;
};

/* The row id an earlier call stored for interaction_id (a retried job). */
static int snail_stats_by_interaction(struct conn *c, const char *interaction_id, int64_t *id_out)
{
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    bool has_row = false;
    param_text(&p, interaction_id);
    column_int(&r);
    int rc = stmt_query(c, STMT_SNAIL_STATS_BY_INTERACTION, &p, &r, &stmt);
    if (!rc)
        rc = row_next(c, stmt, &r, &has_row);
    if (!rc && !has_row)
        rc = SLIMY_ECONFLICT;
    if (!rc)
        *id_out = r.ints[0];
    stmt_done(stmt);
    return rc;
}

static int snail_stats_add_body(struct conn *c, void *arg)
{
    struct snail_stats_args *a = arg;
    const struct store_snail_stats_new *s = a->s;
    int64_t at_ms = now_ms();
    int rc = transaction_begin(c);
    if (rc)
        return rc;
    rc = user_upsert(c, s->user_id, s->user_name, at_ms);
    if (rc)
        goto end;
    struct params p = {0};
    param_text(&p, s->user_id);
    param_text(&p, s->scope_id);
    param_text(&p, s->screenshot_url);
    /* No stats array means none known; no has_stat array means all of them known. */
    for (int i = 0; i < N_SNAIL_STATS; i++) {
        if (s->stats && (!s->has_stat || s->has_stat[i]))
            param_int(&p, s->stats[i]);
        else
            param_null(&p);
    }
    param_text(&p, s->analysis_text);
    param_text(&p, s->interaction_id);
    param_int(&p, at_ms);
    MYSQL_STMT *stmt = NULL;
    rc = stmt_exec(c, STMT_SNAIL_STATS_INSERT, &p, &stmt);
    if (!rc)
        *a->id_out = (int64_t)mysql_stmt_insert_id(stmt);
    else if (rc == SLIMY_ECONFLICT && s->interaction_id)
        rc = snail_stats_by_interaction(c, s->interaction_id, a->id_out);
end:
    return transaction_end(c, rc);
}

static int mariadb_snail_stats_add(struct store *st, const struct store_snail_stats_new *s, int64_t *id_out)
{
    *id_out = 0;
    if (!is_id(s->user_id) || !is_id(s->scope_id) || !is_optional_id(s->interaction_id))
        return SLIMY_EINVAL;
    struct snail_stats_args a = {.s = s, .id_out = id_out};
    int rc = run_op(st, "snail_stats_add", snail_stats_add_body, &a);
    if (rc)
        *id_out = 0;
    return rc;
}

static int snail_stats_list_body(struct conn *c, void *arg)
{
    struct snail_stats_args *a = arg;
    struct store_snail_stats_list list = {0};
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    char user_id[STORE_ID_MAX];
    param_text(&p, a->user_id);
    param_text(&p, a->scope_id);
    param_int(&p, (long long)a->max);
    column_int(&r); /* id */
    column_text(&r, user_id, sizeof user_id);
    for (int i = 0; i < N_SNAIL_STATS; i++)
        column_int(&r);
    column_int(&r); /* created_at_ms */
    int rc = stmt_query(c, STMT_SNAIL_STATS_LIST, &p, &r, &stmt);
    if (rc)
        goto out;
    list.items = calloc((size_t)mysql_stmt_num_rows(stmt) + 1, sizeof *list.items);
    if (!list.items) {
        rc = SLIMY_ENOMEM;
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = row_next(c, stmt, &r, &has_row);
        if (rc || !has_row)
            break;
        struct store_snail_stats *row = &list.items[list.n++];
        row->id = r.ints[0];
        memcpy(row->user_id, user_id, sizeof row->user_id);
        for (int i = 0; i < N_SNAIL_STATS; i++) {
            row->has_stat[i] = !r.is_null[2 + i];
            row->stats[i] = r.ints[2 + i];
        }
        row->created_at_ms = r.ints[2 + N_SNAIL_STATS];
    }
out:
    stmt_done(stmt);
    if (rc || list.n == 0)
        store_snail_stats_list_free(&list);
    if (!rc)
        *a->out = list;
    return rc;
}

static int mariadb_snail_stats_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                                    struct store_snail_stats_list *out)
{
    out->items = NULL;
    out->n = 0;
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    max = clamp_max(max);
    if (max == 0)
        return SLIMY_OK;
    struct snail_stats_args a = {.user_id = user_id, .scope_id = scope_id, .max = max, .out = out};
    return run_op(st, "snail_stats_list", snail_stats_list_body, &a);
}

static int image_log_add_body(struct conn *c, void *arg)
{
    const struct store_image_log_new *e = arg;
    struct params p = {0};
    param_text(&p, e->user_id);
    param_text(&p, e->scope_id);
    param_text(&p, e->channel_id);
    param_text(&p, e->prompt);
    param_text(&p, e->enhanced_prompt);
    param_text(&p, e->style);
    param_text(&p, e->rating);
    param_text(&p, e->model);
    param_int(&p, e->success ? 1 : 0);
    param_text(&p, e->error_message);
    param_int(&p, now_ms());
    return stmt_run(c, STMT_IMAGE_LOG_INSERT, &p, NULL);
}

/* A log row: run again after a reconnect it may, rarely, be stored twice. */
static int mariadb_image_log_add(struct store *st, const struct store_image_log_new *entry)
{
    if (!is_id(entry->user_id) || !is_optional_id(entry->scope_id) || !is_optional_id(entry->channel_id) ||
        !entry->prompt)
        return SLIMY_EINVAL;
    return run_op(st, "image_log_add", image_log_add_body, (void *)entry);
}

struct command_usage_args {
    const char *user_id, *scope_id, *command;
    bool success;
    int64_t latency_ms;
};

static int command_usage_add_body(struct conn *c, void *arg)
{
    struct command_usage_args *a = arg;
    struct params p = {0};
    param_text(&p, a->user_id);
    param_text(&p, a->scope_id);
    param_text(&p, a->command);
    param_int(&p, a->success ? 1 : 0);
    param_int(&p, a->latency_ms);
    param_int(&p, now_ms());
    return stmt_run(c, STMT_COMMAND_USAGE_INSERT, &p, NULL);
}

static int mariadb_command_usage_add(struct store *st, const char *user_id, const char *scope_id,
                                     const char *command, bool success, int64_t latency_ms)
{
    if (!is_id(user_id) || !is_optional_id(scope_id) || !command || !command[0])
        return SLIMY_EINVAL;
    struct command_usage_args a = {
        .user_id = user_id, .scope_id = scope_id, .command = command, .success = success, .latency_ms = latency_ms};
    return run_op(st, "command_usage_add", command_usage_add_body, &a);
}

struct leaderboard_args {
    const char *scope_id;
    size_t max;
    struct store_leaderboard *out;
};

static int leaderboard_body(struct conn *c, void *arg)
{
    struct leaderboard_args *a = arg;
    struct store_leaderboard list = {0};
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    char user_id[STORE_ID_MAX];
    param_text(&p, a->scope_id);
    param_int(&p, (long long)a->max);
    column_text(&r, user_id, sizeof user_id);
    column_text(&r, NULL, 0); /* username */
    column_int(&r);           /* analyses */
    column_int(&r);           /* last_at_ms */
    int rc = stmt_query(c, STMT_LEADERBOARD, &p, &r, &stmt);
    if (rc)
        goto out;
    list.items = calloc((size_t)mysql_stmt_num_rows(stmt) + 1, sizeof *list.items);
    if (!list.items) {
        rc = SLIMY_ENOMEM;
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = row_next(c, stmt, &r, &has_row);
        if (rc || !has_row)
            break;
        /* Counted first: freeing then frees a half-read entry. */
        struct store_leaderboard_entry *entry = &list.items[list.n++];
        memcpy(entry->user_id, user_id, sizeof entry->user_id);
        entry->analyses = (uint64_t)r.ints[2];
        entry->last_at_ms = r.ints[3];
        rc = column_dup(c, stmt, &r, 1, &entry->user_name);
        if (rc)
            break;
    }
out:
    stmt_done(stmt);
    if (rc) {
        store_leaderboard_free(&list);
        return rc;
    }
    if (list.n == 0)
        store_leaderboard_free(&list); /* none is items NULL, n 0 */
    *a->out = list;
    return SLIMY_OK;
}

static int mariadb_leaderboard(struct store *st, const char *scope_id, size_t max, struct store_leaderboard *out)
{
    out->items = NULL;
    out->n = 0;
    if (!is_id(scope_id))
        return SLIMY_EINVAL;
    max = clamp_max(max);
    if (max == 0)
        return SLIMY_OK;
    struct leaderboard_args a = {.scope_id = scope_id, .max = max, .out = out};
    return run_op(st, "leaderboard", leaderboard_body, &a);
}

struct user_stats_args {
    const char *user_id, *scope_id;
    int64_t since_ms;
    struct store_user_stats *out;
};

static int user_stats_body(struct conn *c, void *arg)
{
    struct user_stats_args *a = arg;
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    bool has_row = false;
    memset(a->out, 0, sizeof *a->out);
    param_text(&p, a->user_id);
    param_text(&p, a->scope_id);
    param_text(&p, a->user_id);
    param_text(&p, a->scope_id);
    param_int(&p, a->since_ms);
    for (int i = 0; i < 4; i++)
        column_int(&r); /* chats, images, commands, last_active_ms */
    int rc = stmt_query(c, STMT_USER_STATS, &p, &r, &stmt);
    if (!rc)
        rc = row_next(c, stmt, &r, &has_row);
    if (!rc && has_row) { /* an aggregate: always one row */
        a->out->chats = (uint64_t)r.ints[0];
        a->out->images = (uint64_t)r.ints[1];
        a->out->commands = (uint64_t)r.ints[2];
        a->out->last_active_ms = r.ints[3];
    }
    stmt_done(stmt);
    return rc;
}

static int mariadb_user_stats(struct store *st, const char *user_id, const char *scope_id, int64_t since_ms,
                              struct store_user_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    struct user_stats_args a = {.user_id = user_id, .scope_id = scope_id, .since_ms = since_ms, .out = out};
    int rc = run_op(st, "user_stats", user_stats_body, &a);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

static int counts_body(struct conn *c, void *arg)
{
    struct store_counts *out = arg;
    struct params p = {0};
    struct columns r = {0};
    MYSQL_STMT *stmt = NULL;
    bool has_row = false;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 4; i++)
        column_int(&r);
    int rc = stmt_query(c, STMT_COUNTS, &p, &r, &stmt);
    if (!rc)
        rc = row_next(c, stmt, &r, &has_row);
    if (!rc && has_row) {
        out->memories = (uint64_t)r.ints[0];
        out->images = (uint64_t)r.ints[1];
        out->snail_stats = (uint64_t)r.ints[2];
        out->users = (uint64_t)r.ints[3];
    }
    stmt_done(stmt);
    return rc;
}

static int mariadb_counts(struct store *st, struct store_counts *out)
{
    memset(out, 0, sizeof *out);
    return run_op(st, "counts", counts_body, out);
}

struct names_args {
    char ***names;
    size_t *n;
};

static int migrations_applied_body(struct conn *c, void *arg)
{
    struct names_args *a = arg;
    return read_applied(c, a->names, a->n);
}

/* Works on an unmigrated database too (`slimy migrate --status` before `slimy migrate`): no
 * schema_migrations table means nothing applied. */
static int mariadb_migrations_applied(struct store *st, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    struct names_args a = {.names = names, .n = n};
    return run_op(st, "migrations_applied", migrations_applied_body, &a);
}
