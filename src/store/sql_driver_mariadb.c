/* sql_driver_mariadb.c — the MariaDB driver of the store (sql_driver.h): a pool of
 * DB_CONNECTION_LIMIT connections, each with its own prepared statements, that reconnects after a
 * server restart and runs a deadlocked body again; the mapping of MariaDB's codes; and the
 * MariaDB migration runner (under GET_LOCK). store_open() (store.c) calls store_mariadb_open()
 * when DB_HOST is set. No other file in src/ names MYSQL. */
#include "store/sql_driver.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <sodium.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "store/migrations.h"

#define CONNECT_TIMEOUT_S 5
#define READ_TIMEOUT_S 10
#define WRITE_TIMEOUT_S 10
#define MIGRATION_LOCK_WAIT_S 30     /* GET_LOCK's own timeout */
#define MIGRATION_READ_TIMEOUT_S 600 /* the lock wait, then DDL that may rebuild big tables */
#define POOL_WAIT_MS 5000            /* how long a call waits for a free connection */
#define DEADLOCK_RETRIES 3           /* InnoDB rolled the transaction back: run it again */

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

/* One connection, the statements prepared on it, and its open query. */
struct sql_conn {
    MYSQL *mysql;                      /* NULL until connected, and again once lost */
    MYSQL_STMT *stmts[SQL_STMT_COUNT]; /* prepared on first use; closed with the connection */
    bool is_busy;                      /* lent to a call by pool_acquire(); guarded by the pool lock */
    bool is_lost;                      /* the last error broke the connection: close it, reconnect */
    bool is_deadlock;                  /* the last error was an InnoDB deadlock: the body may run again */
    unsigned error_code;               /* the driver's code of the last error; 0 if none */
    char error[SQL_ERROR_MAX];         /* the driver's text of the last error, for the log */
    /* The open query. Its columns are bound for their lengths and NULLs only; col_int() and
     * col_text() fetch each value in the type asked for. */
    MYSQL_STMT *cur;
    MYSQL_BIND cols[SQL_MAX_COLUMNS];
    unsigned long lengths[SQL_MAX_COLUMNS];
    my_bool is_null[SQL_MAX_COLUMNS];
    my_bool is_truncated[SQL_MAX_COLUMNS];
    unsigned n_cols;
    char *text; /* col_text()'s buffer, text_cap bytes */
    size_t text_cap;
};

struct mariadb_store {
    struct sql_store base;   /* first: store_sql.c sees only this */
    char *host;              /* DB_HOST */
    unsigned port;           /* DB_PORT */
    char *user;              /* DB_USER */
    char *password;          /* DB_PASSWORD; wiped at close, never logged */
    char *database;          /* DB_NAME */
    pthread_mutex_t lock;    /* guards conn.is_busy */
    pthread_cond_t has_free; /* signalled when a connection is released (CLOCK_MONOTONIC) */
    struct sql_conn *conns;  /* the pool: n_conns connections, connected lazily */
    size_t n_conns;
};

static const struct sql_driver mariadb_driver;

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/* The client library is initialised once per process (mysql_library_init is not thread-safe)
 * and once per thread that uses it. mysql_thread_end() is left to thread exit: Connector/C
 * keeps no per-thread state worth freeing. */
static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static int library_rc;
static _Thread_local bool is_thread_ready;

static void library_init(void)
{
    library_rc = mysql_library_init(0, NULL, NULL);
}

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
 * reconnect; run() decides whether to run the body again. */
static int driver_error(struct sql_conn *c, unsigned code, const char *text)
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
    case ER_CONNECTION_KILLED: c->is_lost = true; return SLIMY_EUNAVAILABLE;
    case CR_COMMANDS_OUT_OF_SYNC: /* a bug here; a fresh connection is the way back */
        c->is_lost = true;
        return SLIMY_EINTERNAL;
    case ER_LOCK_DEADLOCK: c->is_deadlock = true; return SLIMY_EUNAVAILABLE;
    case ER_LOCK_WAIT_TIMEOUT:
    case ER_NO_SUCH_TABLE: /* opened without migrations: run `slimy migrate` */ return SLIMY_EUNAVAILABLE;
    case ER_DUP_ENTRY: return SLIMY_ECONFLICT;
    case ER_DATA_TOO_LONG:                   /* past a column's size, e.g. a 101-character username */
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD: /* not valid UTF-8 */
    case ER_WARN_DATA_OUT_OF_RANGE: return SLIMY_EINVAL;
    case CR_OUT_OF_MEMORY: return SLIMY_ENOMEM;
    default: return SLIMY_EINTERNAL;
    }
}

static int conn_error(struct sql_conn *c)
{
    return driver_error(c, mysql_errno(c->mysql), mysql_error(c->mysql));
}

static int stmt_error(struct sql_conn *c, MYSQL_STMT *stmt)
{
    return driver_error(c, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
}

/* ---- connections and the pool ---- */

/* Connects c. The migration connection may send several statements in one query (our own SQL
 * files, never user text) and waits longer for answers. Failures leave c->mysql NULL. */
static int conn_connect(const struct mariadb_store *ms, struct sql_conn *c, bool is_migration)
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
static void conn_close(struct sql_conn *c)
{
    if (c->mysql)
        mysql_close(c->mysql);
    c->mysql = NULL;
    c->cur = NULL;
    for (size_t i = 0; i < SQL_STMT_COUNT; i++) {
        if (c->stmts[i])
            mysql_stmt_close(c->stmts[i]);
        c->stmts[i] = NULL;
    }
    free(c->text);
    c->text = NULL;
    c->text_cap = 0;
}

/* A free connection, preferring one that is already connected. Call with the lock held. */
static struct sql_conn *pool_pick(struct mariadb_store *ms)
{
    struct sql_conn *unconnected = NULL;
    for (size_t i = 0; i < ms->n_conns; i++) {
        struct sql_conn *c = &ms->conns[i];
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
static struct sql_conn *pool_acquire(struct mariadb_store *ms)
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
    struct sql_conn *c = pool_pick(ms);
    while (!c) {
        int wait_rc = pthread_cond_timedwait(&ms->has_free, &ms->lock, &deadline);
        c = pool_pick(ms);
        if (wait_rc == ETIMEDOUT)
            break;
    }
    if (c)
        c->is_busy = true;
    pthread_mutex_unlock(&ms->lock);
    return c;
}

static void pool_release(struct mariadb_store *ms, struct sql_conn *c)
{
    pthread_mutex_lock(&ms->lock);
    c->is_busy = false;
    pthread_cond_signal(&ms->has_free);
    pthread_mutex_unlock(&ms->lock);
}

/* Runs body on a pooled connection. A connection found broken (the server restarted, or closed
 * an idle connection) is reconnected once and the body runs again; a deadlock runs it again on
 * the same connection. The driver's text is logged once, here, when the op fails. */
static int mariadb_run(struct sql_store *st, const char *op, sql_body body, void *arg)
{
    struct mariadb_store *ms = (struct mariadb_store *)st;
    bool has_reconnected = false;
    int n_deadlocks = 0;
    int rc = driver_ready();
    if (rc) {
        metrics_store_error(METRICS_STORE_MARIADB);
        sql_log_failure(op, rc, 0, "cannot initialise the MariaDB client library");
        return rc;
    }
    struct sql_conn *c = pool_acquire(ms);
    if (!c) {
        log_error("store error", LOG_S("op", op), LOG_S("error", "no free MariaDB connection (pool exhausted)"),
                  LOG_I("pool_size", ms->n_conns));
        metrics_store_error(METRICS_STORE_MARIADB);
        return SLIMY_EUNAVAILABLE;
    }
    struct sql_session session = {&mariadb_driver, c};
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
        rc = body(&session, arg);
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
    if (rc == SLIMY_EUNAVAILABLE || rc == SLIMY_EINTERNAL ||
        rc == SLIMY_ENOMEM) /* the database's fault, not the input's */
        metrics_store_error(METRICS_STORE_MARIADB);
    if (rc)
        sql_log_failure(op, rc, c->error_code, c->error);
    else if (has_reconnected)
        log_info("store reconnected", LOG_S("op", op), LOG_S("after", c->error));
    pool_release(ms, c);
    return rc;
}

/* ---- statements ---- */

/* The statement, prepared on this connection the first time it is needed. */
static int stmt_get(struct sql_conn *c, enum sql_stmt id, MYSQL_STMT **out)
{
    MYSQL_STMT *stmt = c->stmts[id];
    if (!stmt) {
        const char *sql = sql_statements[id][SQL_MARIADB];
        stmt = mysql_stmt_init(c->mysql);
        if (!stmt)
            return conn_error(c);
        if (mysql_stmt_prepare(stmt, sql, (unsigned long)strlen(sql))) {
            int rc = stmt_error(c, stmt);
            mysql_stmt_close(stmt);
            return rc;
        }
        c->stmts[id] = stmt;
    }
    *out = stmt;
    return SLIMY_OK;
}

/* Binds params and executes. The binds point at this frame, which lasts until the execute. */
static int stmt_exec(struct sql_conn *c, enum sql_stmt id, const struct sql_value *params, size_t n, MYSQL_STMT **out)
{
    MYSQL_BIND bind[SQL_MAX_PARAMS];
    unsigned long length[SQL_MAX_PARAMS];
    long long ints[SQL_MAX_PARAMS];
    MYSQL_STMT *stmt = NULL;
    int rc = stmt_get(c, id, &stmt);
    if (rc)
        return rc;
    if (n > SQL_MAX_PARAMS || mysql_stmt_param_count(stmt) != n) {
        c->error_code = 0;
        snprintf(c->error, sizeof c->error, "parameter count does not match the statement");
        return SLIMY_EINTERNAL;
    }
    memset(bind, 0, sizeof bind);
    for (size_t i = 0; i < n; i++) {
        if (params[i].type == SQL_TEXT) {
            length[i] = (unsigned long)strlen(params[i].text);
            bind[i].buffer_type = MYSQL_TYPE_STRING;
            bind[i].buffer = (char *)params[i].text;
            bind[i].buffer_length = length[i];
            bind[i].length = &length[i];
        } else if (params[i].type == SQL_INT) {
            ints[i] = params[i].i;
            bind[i].buffer_type = MYSQL_TYPE_LONGLONG;
            bind[i].buffer = &ints[i];
        } else {
            bind[i].buffer_type = MYSQL_TYPE_NULL;
        }
    }
    if (n && mysql_stmt_bind_param(stmt, bind))
        return stmt_error(c, stmt);
    if (mysql_stmt_execute(stmt))
        return stmt_error(c, stmt);
    *out = stmt;
    return SLIMY_OK;
}

static int mariadb_exec(struct sql_conn *c, enum sql_stmt id, const struct sql_value *params, size_t n_params,
                        uint64_t *changes, int64_t *insert_id)
{
    MYSQL_STMT *stmt = NULL;
    int rc = stmt_exec(c, id, params, n_params, &stmt);
    if (!rc && changes)
        *changes = (uint64_t)mysql_stmt_affected_rows(stmt);
    if (!rc && insert_id)
        *insert_id = (int64_t)mysql_stmt_insert_id(stmt);
    return rc;
}

/* Executes and reads the whole result to the client. */
static int mariadb_query(struct sql_conn *c, enum sql_stmt id, const struct sql_value *params, size_t n_params)
{
    int rc = stmt_exec(c, id, params, n_params, &c->cur);
    if (rc)
        return rc;
    c->n_cols = mysql_stmt_field_count(c->cur);
    if (c->n_cols > SQL_MAX_COLUMNS) {
        c->error_code = 0;
        snprintf(c->error, sizeof c->error, "too many columns");
        return SLIMY_EINTERNAL;
    }
    memset(c->cols, 0, sizeof c->cols);
    for (unsigned i = 0; i < c->n_cols; i++) {
        c->cols[i].buffer_type = MYSQL_TYPE_STRING; /* no buffer: a fetch only reports length and NULL */
        c->cols[i].length = &c->lengths[i];
        c->cols[i].is_null = &c->is_null[i];
        c->cols[i].error = &c->is_truncated[i];
    }
    if (mysql_stmt_bind_result(c->cur, c->cols) || mysql_stmt_store_result(c->cur))
        return stmt_error(c, c->cur);
    return SLIMY_OK;
}

/* Every column reports MYSQL_DATA_TRUNCATED by design (no buffer); col_*() read them. */
static int mariadb_next(struct sql_conn *c, bool *has_row)
{
    int fetch_rc = mysql_stmt_fetch(c->cur);
    *has_row = fetch_rc == 0 || fetch_rc == MYSQL_DATA_TRUNCATED;
    return *has_row || fetch_rc == MYSQL_NO_DATA ? SLIMY_OK : stmt_error(c, c->cur);
}

static int mariadb_col_int(struct sql_conn *c, unsigned col, int64_t *value, bool *is_null)
{
    long long v = 0;
    *value = 0;
    *is_null = c->is_null[col];
    if (*is_null)
        return SLIMY_OK;
    MYSQL_BIND b = {0};
    b.buffer_type = MYSQL_TYPE_LONGLONG;
    b.buffer = &v;
    if (mysql_stmt_fetch_column(c->cur, &b, col, 0))
        return stmt_error(c, c->cur);
    *value = v;
    return SLIMY_OK;
}

static int mariadb_col_text(struct sql_conn *c, unsigned col, const char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    if (c->is_null[col])
        return SLIMY_OK;
    size_t need = (size_t)c->lengths[col] + 1;
    if (need > c->text_cap) {
        char *grown = realloc(c->text, need);
        if (!grown) {
            c->error_code = 0;
            snprintf(c->error, sizeof c->error, "out of memory reading a column");
            return SLIMY_ENOMEM;
        }
        c->text = grown;
        c->text_cap = need;
    }
    if (need > 1) {
        unsigned long got = 0;
        MYSQL_BIND b = {0};
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = c->text;
        b.buffer_length = (unsigned long)need;
        b.length = &got;
        if (mysql_stmt_fetch_column(c->cur, &b, col, 0))
            return stmt_error(c, c->cur);
    }
    c->text[need - 1] = '\0';
    *text = c->text;
    *len = need - 1;
    return SLIMY_OK;
}

static void mariadb_query_end(struct sql_conn *c)
{
    if (c->cur)
        mysql_stmt_free_result(c->cur);
    c->cur = NULL;
}

/* Transactions group the user upsert with the row that needs it. */
static int mariadb_begin(struct sql_conn *c)
{
    static const char sql[] = "START TRANSACTION";
    return mysql_real_query(c->mysql, sql, sizeof sql - 1) ? conn_error(c) : SLIMY_OK;
}

static int mariadb_commit(struct sql_conn *c)
{
    return mysql_commit(c->mysql) ? conn_error(c) : SLIMY_OK;
}

/* The server rolls back on its own when the connection drops, so a lost one needs no ROLLBACK. */
static void mariadb_rollback(struct sql_conn *c)
{
    if (c->mysql && !c->is_lost)
        mysql_rollback(c->mysql);
}

static int mariadb_ping(struct sql_conn *c)
{
    return mysql_ping(c->mysql) ? conn_error(c) : SLIMY_OK;
}

/* Callers have stopped using the store: no connection is lent out. */
static void mariadb_close(struct sql_store *st)
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

static const struct sql_driver mariadb_driver = {
    .dialect = SQL_MARIADB,
    .run = mariadb_run,
    .close = mariadb_close,
    .ping = mariadb_ping,
    .begin = mariadb_begin,
    .commit = mariadb_commit,
    .rollback = mariadb_rollback,
    .exec = mariadb_exec,
    .query = mariadb_query,
    .next = mariadb_next,
    .col_int = mariadb_col_int,
    .col_text = mariadb_col_text,
    .query_end = mariadb_query_end,
};

/* ---- migrations ---- */

/* Runs SQL of our own (never user text) that returns nothing of interest, draining every
 * result a multi-statement script produces. Stops at the first failing statement. */
static int query_run(struct sql_conn *c, const char *sql, size_t len)
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
static int query_int(struct sql_conn *c, const char *sql, long long *value, bool *is_null)
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

/* Applies the pending migrations on a connection of its own, under a server-wide named lock
 * so replicas starting together apply each one once: the second waits, then finds it recorded.
 * MariaDB commits DDL as it goes, so a migration cut short is re-run whole next time; the
 * scripts are written to allow that (CREATE TABLE IF NOT EXISTS). */
static int migrate(const struct mariadb_store *ms, char *err, size_t err_len)
{
    struct sql_conn mc = {0};
    struct sql_session session = {&mariadb_driver, &mc};
    char **applied = NULL;
    size_t n_applied = 0;
    bool has_lock = false;
    long long got = 0;
    bool is_null = true;

    int rc = conn_connect(ms, &mc, true);
    if (rc) {
        sql_set_err(err, err_len, "cannot connect to MariaDB at %s:%u: %s", ms->host, ms->port, mc.error);
        goto out;
    }
    char lock_sql[96];
    snprintf(lock_sql, sizeof lock_sql, "SELECT GET_LOCK('slimy_migrations', %d)", MIGRATION_LOCK_WAIT_S);
    rc = query_int(&mc, lock_sql, &got, &is_null);
    if (rc) {
        sql_set_err(err, err_len, "MariaDB: cannot take the migration lock: %s", mc.error);
        goto out;
    }
    if (is_null || got != 1) {
        sql_set_err(err, err_len, "MariaDB: another replica holds the migration lock (waited %d s)",
                    MIGRATION_LOCK_WAIT_S);
        rc = SLIMY_EUNAVAILABLE;
        goto out;
    }
    has_lock = true;
    rc = query_run(&mc, SCHEMA_MIGRATIONS_SQL, sizeof SCHEMA_MIGRATIONS_SQL - 1);
    if (rc) {
        sql_set_err(err, err_len, "MariaDB: cannot create schema_migrations: %s", mc.error);
        goto out;
    }
    rc = sql_read_applied(&session, &applied, &n_applied);
    if (rc) {
        sql_set_err(err, err_len, "MariaDB: cannot read schema_migrations: %s", mc.error);
        goto out;
    }
    size_t n = 0;
    const struct migration *list = migrations_list("mariadb", &n);
    for (size_t i = 0; i < n; i++) {
        if (sql_names_have(applied, n_applied, list[i].name))
            continue;
        rc = query_run(&mc, list[i].sql, list[i].len);
        if (rc) {
            sql_set_err(err, err_len, "MariaDB migration %s failed: %s", list[i].name, mc.error);
            goto out;
        }
        struct sql_value record[] = {sql_text(list[i].name), sql_int(sql_now_ms())};
        rc = mariadb_exec(&mc, SQL_MIGRATION_RECORD, record, 2, NULL, NULL);
        if (rc) {
            sql_set_err(err, err_len, "MariaDB: cannot record migration %s: %s", list[i].name, mc.error);
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

/* ---- opening ---- */

int store_mariadb_open(const struct slimy_config *cfg, bool apply_migrations, struct store **out, char *err,
                       size_t err_len)
{
    *out = NULL;
    if (err && err_len)
        err[0] = '\0';
    if (driver_ready()) {
        sql_set_err(err, err_len, "cannot initialise the MariaDB client library");
        return SLIMY_EINTERNAL;
    }
    struct mariadb_store *ms = calloc(1, sizeof *ms);
    if (!ms)
        return SLIMY_ENOMEM;
    sql_store_init(&ms->base, &mariadb_driver);
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
        sql_set_err(err, err_len, "out of memory");
        rc = SLIMY_ENOMEM;
        goto out;
    }
    /* One connection now, so a wrong host or password is a start-up error; the rest on demand. */
    rc = conn_connect(ms, &ms->conns[0], false);
    if (rc) {
        sql_set_err(err, err_len, "cannot connect to MariaDB at %s:%u: %s", ms->host, ms->port, ms->conns[0].error);
        goto out;
    }
    if (apply_migrations) {
        rc = migrate(ms, err, err_len);
    } else {
        /* Warn at start-up, rather than at the first failing call, when the schema lags behind. */
        struct sql_session session = {&mariadb_driver, &ms->conns[0]};
        const char *pending = NULL;
        if (!sql_first_pending(&session, &pending) && pending)
            log_warn("store schema not migrated; data calls will fail until `slimy migrate` runs",
                     LOG_S("backend", "mariadb"), LOG_S("pending", pending));
    }
out:
    if (rc) {
        mariadb_close(&ms->base);
        return rc;
    }
    *out = &ms->base.base;
    return SLIMY_OK;
}
