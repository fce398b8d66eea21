/* sql_driver_sqlite.c — the SQLite driver of the store (sql_driver.h): one file in WAL mode, one
 * connection behind a mutex, each statement prepared on first use and kept; the busy timeout,
 * the mapping of SQLite's codes, and the SQLite migration runner. store_open() (store.c) calls
 * store_sqlite_open() when DB_HOST is unset. No other file names sqlite3. */
#include "store/sql_driver.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "store/migrations.h"

#define BUSY_TIMEOUT_MS 5000

/* The migration runner's own table; created before any migration, never by one. */
#define SCHEMA_MIGRATIONS_SQL \
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at_ms INTEGER NOT NULL)"

struct sql_conn {
    sqlite3 *db;
    bool is_ready;                       /* every known migration applied, so data statements may run;
                                            set at open, read-only after */
    sqlite3_stmt *stmts[SQL_STMT_COUNT]; /* prepared on first use, finalized at close */
    sqlite3_stmt *cur;                   /* the open query, if any */
    int error_code;                      /* of the last failure, for the log */
    char error[SQL_ERROR_MAX];
};

struct sqlite_store {
    struct sql_store base; /* first: store_sql.c sees only this */
    pthread_mutex_t lock;  /* held around every use of conn */
    struct sql_conn conn;  /* the one connection */
};

static const struct sql_driver sqlite_driver;

/* The database is there but cannot serve now: locked by another writer past the busy timeout,
 * or the machine's disk failing or full. Retrying later may work; none of these is a bug. */
static bool is_unavailable(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) { /* the primary code of an extended one */
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN: return true;
    default: return false;
    }
}

/* Records a SQLite failure on c and maps it. Call before the statement is reset, while
 * sqlite3_errmsg() still describes this error. */
static int fail(struct sql_conn *c, int sqlite_rc)
{
    c->error_code = sqlite_rc;
    snprintf(c->error, sizeof c->error, "%s", sqlite3_errmsg(c->db));
    if (is_unavailable(sqlite_rc))
        return SLIMY_EUNAVAILABLE;
    if ((sqlite_rc & 0xff) == SQLITE_CONSTRAINT)
        return SLIMY_ECONFLICT;
    if (sqlite_rc == SQLITE_NOMEM)
        return SLIMY_ENOMEM;
    return SLIMY_EINTERNAL;
}

static int fail_with(struct sql_conn *c, int status, const char *text)
{
    c->error_code = 0;
    snprintf(c->error, sizeof c->error, "%s", text);
    return status;
}

/* At open, store_open() promises SLIMY_EUNAVAILABLE (cannot reach it) or SLIMY_EINTERNAL. */
static int open_status(int rc)
{
    return rc == SLIMY_EUNAVAILABLE ? SLIMY_EUNAVAILABLE : SLIMY_EINTERNAL;
}

/* Runs SQL of our own (never user text) that returns nothing of interest. */
static int exec_raw(struct sql_conn *c, const char *sql)
{
    int sqlite_rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
    return sqlite_rc == SQLITE_OK ? SLIMY_OK : fail(c, sqlite_rc);
}

/* Makes the statement reusable and drops the bound pointers, which are borrowed from the caller. */
static void finish(sqlite3_stmt *q)
{
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
}

/* Opened without migrations on a database that lacks some: every data statement refuses. */
static int stmt_get(struct sql_conn *c, enum sql_stmt id, sqlite3_stmt **out)
{
    if (id >= SQL_FIRST_DATA_STMT && !c->is_ready)
        return fail_with(c, SLIMY_EUNAVAILABLE, "schema not migrated; run `slimy migrate`");
    if (!c->stmts[id]) {
        int sqlite_rc = sqlite3_prepare_v3(c->db, sql_statements[id][SQL_SQLITE], -1, SQLITE_PREPARE_PERSISTENT,
                                           &c->stmts[id], NULL);
        if (sqlite_rc != SQLITE_OK)
            return fail(c, sqlite_rc);
    }
    *out = c->stmts[id];
    return SLIMY_OK;
}

/* Text binds are SQLITE_STATIC: the caller's strings outlive the step, and finish() unbinds them. */
static int bind_all(struct sql_conn *c, sqlite3_stmt *q, const struct sql_value *params, size_t n)
{
    if (sqlite3_bind_parameter_count(q) != (int)n)
        return fail_with(c, SLIMY_EINTERNAL, "parameter count does not match the statement");
    for (size_t i = 0; i < n; i++) {
        int index = (int)i + 1, sqlite_rc;
        if (params[i].type == SQL_TEXT)
            sqlite_rc = sqlite3_bind_text(q, index, params[i].text, -1, SQLITE_STATIC);
        else if (params[i].type == SQL_INT)
            sqlite_rc = sqlite3_bind_int64(q, index, params[i].i);
        else
            sqlite_rc = sqlite3_bind_null(q, index);
        if (sqlite_rc != SQLITE_OK)
            return fail(c, sqlite_rc);
    }
    return SLIMY_OK;
}

static int sqlite_exec(struct sql_conn *c, enum sql_stmt id, const struct sql_value *params, size_t n_params,
                       uint64_t *changes, int64_t *insert_id)
{
    sqlite3_stmt *q = NULL;
    int rc = stmt_get(c, id, &q);
    if (rc)
        return rc;
    rc = bind_all(c, q, params, n_params);
    if (!rc) {
        int sqlite_rc = sqlite3_step(q);
        if (sqlite_rc != SQLITE_DONE && sqlite_rc != SQLITE_ROW)
            rc = fail(c, sqlite_rc);
    }
    if (!rc && changes)
        *changes = (uint64_t)sqlite3_changes(c->db);
    if (!rc && insert_id)
        *insert_id = sqlite3_last_insert_rowid(c->db);
    finish(q);
    return rc;
}

static int sqlite_query(struct sql_conn *c, enum sql_stmt id, const struct sql_value *params, size_t n_params)
{
    int rc = stmt_get(c, id, &c->cur);
    return rc ? rc : bind_all(c, c->cur, params, n_params);
}

static int sqlite_next(struct sql_conn *c, bool *has_row)
{
    int sqlite_rc = sqlite3_step(c->cur);
    *has_row = sqlite_rc == SQLITE_ROW;
    return sqlite_rc == SQLITE_ROW || sqlite_rc == SQLITE_DONE ? SLIMY_OK : fail(c, sqlite_rc);
}

static int sqlite_col_int(struct sql_conn *c, unsigned col, int64_t *value, bool *is_null)
{
    *is_null = sqlite3_column_type(c->cur, (int)col) == SQLITE_NULL;
    *value = *is_null ? 0 : sqlite3_column_int64(c->cur, (int)col);
    return SLIMY_OK;
}

static int sqlite_col_text(struct sql_conn *c, unsigned col, const char **text, size_t *len)
{
    *text = (const char *)sqlite3_column_text(c->cur, (int)col);
    if (!*text && sqlite3_column_type(c->cur, (int)col) != SQLITE_NULL)
        return fail_with(c, SLIMY_ENOMEM, "out of memory reading a column");
    *len = *text ? (size_t)sqlite3_column_bytes(c->cur, (int)col) : 0;
    return SLIMY_OK;
}

static void sqlite_query_end(struct sql_conn *c)
{
    if (c->cur)
        finish(c->cur);
    c->cur = NULL;
}

/* IMMEDIATE takes the write lock at once (waiting up to the busy timeout), so a transaction never
 * fails half way for want of it. */
static int sqlite_begin(struct sql_conn *c)
{
    return exec_raw(c, "BEGIN IMMEDIATE");
}
static int sqlite_commit(struct sql_conn *c)
{
    return exec_raw(c, "COMMIT");
}

/* Some errors (a full disk, I/O) already rolled back; a ROLLBACK then would only fail. Not
 * recorded: the error being reported is the one that made us roll back. */
static void sqlite_rollback(struct sql_conn *c)
{
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static int sqlite_ping(struct sql_conn *c)
{
    return exec_raw(c, "SELECT 1");
}

/* One connection, so one call at a time; SQLite's busy timeout waits out other processes. */
static int sqlite_run(struct sql_store *st, const char *op, sql_body body, void *arg)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    struct sql_session session = {&sqlite_driver, &s->conn};
    pthread_mutex_lock(&s->lock);
    s->conn.error_code = 0;
    s->conn.error[0] = '\0';
    int rc = body(&session, arg);
    if (rc == SLIMY_EUNAVAILABLE || rc == SLIMY_EINTERNAL ||
        rc == SLIMY_ENOMEM) /* the database's fault, not the input's */
        metrics_store_error(METRICS_STORE_SQLITE);
    if (rc)
        sql_log_failure(op, rc, (unsigned)s->conn.error_code, s->conn.error);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Callers have stopped using the store: no lock needed. */
static void sqlite_close(struct sql_store *st)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    for (size_t i = 0; i < SQL_STMT_COUNT; i++)
        sqlite3_finalize(s->conn.stmts[i]);
    if (sqlite3_close(s->conn.db) != SQLITE_OK)
        log_error("store error", LOG_S("op", "close"), LOG_S("error", sqlite3_errmsg(s->conn.db)));
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static const struct sql_driver sqlite_driver = {
    .dialect = SQL_SQLITE,
    .run = sqlite_run,
    .close = sqlite_close,
    .ping = sqlite_ping,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .exec = sqlite_exec,
    .query = sqlite_query,
    .next = sqlite_next,
    .col_int = sqlite_col_int,
    .col_text = sqlite_col_text,
    .query_end = sqlite_query_end,
};

/* ---- opening and migrations ---- */

/* Creates the directory holding path (one level, e.g. ./data) so a fresh checkout just works. */
static int make_parent_dir(const char *path, char *err, size_t err_len)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return SLIMY_OK;
    char dir[4096];
    size_t len = (size_t)(slash - path);
    if (len >= sizeof dir) {
        sql_set_err(err, err_len, "sqlite %s: path too long", path);
        return SLIMY_EUNAVAILABLE;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        sql_set_err(err, err_len, "sqlite %s: cannot create directory %s: %s", path, dir, strerror(errno));
        return SLIMY_EUNAVAILABLE;
    }
    return SLIMY_OK;
}

/* Switches to WAL. On a brand-new file SQLite does not wait out the busy timeout for this
 * switch (another opener holds the lock for a moment), so it is retried until the timeout. */
static int set_wal(sqlite3 *db, const char *path)
{
    int sqlite_rc = SQLITE_BUSY;
    for (int waited_ms = 0; waited_ms <= BUSY_TIMEOUT_MS; waited_ms += 10) {
        sqlite3_stmt *q = NULL;
        sqlite_rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &q, NULL);
        if (sqlite_rc == SQLITE_OK) {
            sqlite_rc = sqlite3_step(q);
            if (sqlite_rc == SQLITE_ROW) {
                const char *mode = (const char *)sqlite3_column_text(q, 0);
                /* ":memory:" databases answer "memory": fine for tests, nothing to share anyway. */
                if (!mode || strcmp(mode, "wal") != 0)
                    log_warn("sqlite journal mode is not wal", LOG_S("path", path), LOG_S("mode", mode));
                sqlite_rc = SQLITE_OK;
            }
        }
        sqlite3_finalize(q);
        if (sqlite_rc != SQLITE_BUSY && sqlite_rc != SQLITE_LOCKED)
            break;
        sqlite3_sleep(10);
    }
    return sqlite_rc;
}

/* The busy timeout comes first: switching to WAL takes a lock another process may hold. */
static int configure(sqlite3 *db, const char *path, char *err, size_t err_len)
{
    int sqlite_rc = sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = set_wal(db, path);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = sqlite3_exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", NULL, NULL, NULL);
    if (sqlite_rc != SQLITE_OK) {
        sql_set_err(err, err_len, "sqlite %s: %s", path, sqlite3_errmsg(db));
        return is_unavailable(sqlite_rc) ? SLIMY_EUNAVAILABLE : SLIMY_EINTERNAL;
    }
    return SLIMY_OK;
}

/* Applies one migration in its own transaction, unless another process got there first: BEGIN
 * IMMEDIATE takes the database's write lock (waiting up to the busy timeout), so two processes
 * starting together apply each migration once, the second finding it recorded. */
static int apply_one(struct sql_session *s, const struct migration *m, char *err, size_t err_len)
{
    struct sql_conn *c = s->conn;
    char **applied = NULL;
    size_t n_applied = 0;
    int rc = sqlite_begin(c);
    if (!rc)
        rc = sql_read_applied(s, &applied, &n_applied);
    bool is_recorded = !rc && sql_names_have(applied, n_applied, m->name);
    store_names_free(applied, n_applied);
    if (!rc && !is_recorded)
        rc = exec_raw(c, m->sql);
    if (!rc && !is_recorded) {
        struct sql_value record[] = {sql_text(m->name), sql_int(sql_now_ms())};
        rc = sqlite_exec(c, SQL_MIGRATION_RECORD, record, 2, NULL, NULL);
    }
    if (!rc)
        rc = sqlite_commit(c);
    if (rc) {
        sql_set_err(err, err_len, "sqlite migration %s failed: %s", m->name, c->error);
        sqlite_rollback(c);
        return open_status(rc);
    }
    if (!is_recorded)
        log_info("migration applied", LOG_S("backend", "sqlite"), LOG_S("name", m->name));
    return SLIMY_OK;
}

static int migrate(struct sql_session *s, char *err, size_t err_len)
{
    int rc = exec_raw(s->conn, "BEGIN IMMEDIATE; " SCHEMA_MIGRATIONS_SQL "; COMMIT");
    if (rc) {
        sql_set_err(err, err_len, "sqlite: cannot create schema_migrations: %s", s->conn->error);
        sqlite_rollback(s->conn);
        return open_status(rc);
    }
    size_t n = 0;
    const struct migration *list = migrations_list("sqlite", &n);
    for (size_t i = 0; i < n && !rc; i++)
        rc = apply_one(s, &list[i], err, err_len);
    return rc;
}

int store_sqlite_open(const char *path, bool apply_migrations, struct store **out, char *err, size_t err_len)
{
    const char *pending = NULL;
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    if (!path || !path[0]) {
        sql_set_err(err, err_len, "sqlite: SQLITE_PATH is empty");
        return SLIMY_EUNAVAILABLE;
    }
    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return SLIMY_ENOMEM;
    sql_store_init(&s->base, &sqlite_driver);
    pthread_mutex_init(&s->lock, NULL);
    struct sql_session session = {&sqlite_driver, &s->conn};

    int rc = make_parent_dir(path, err, err_len);
    if (rc)
        goto out;
    int sqlite_rc = sqlite3_open_v2(path, &s->conn.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (sqlite_rc != SQLITE_OK) {
        sql_set_err(err, err_len, "sqlite %s: %s", path,
                    s->conn.db ? sqlite3_errmsg(s->conn.db) : sqlite3_errstr(sqlite_rc));
        rc = SLIMY_EUNAVAILABLE;
        goto out;
    }
    sqlite3_extended_result_codes(s->conn.db, 1);
    rc = configure(s->conn.db, path, err, err_len);
    if (!rc && apply_migrations)
        rc = migrate(&session, err, err_len);
    if (rc)
        goto out;
    /* Which statements can run: does schema_migrations record every migration this binary knows? */
    rc = sql_first_pending(&session, &pending);
    if (rc) {
        sql_set_err(err, err_len, "sqlite: cannot read schema_migrations: %s", s->conn.error);
        rc = open_status(rc);
        goto out;
    }
    s->conn.is_ready = !pending;
    if (pending)
        log_warn("store schema not migrated; data calls will fail until `slimy migrate` runs",
                 LOG_S("backend", "sqlite"), LOG_S("pending", pending));
out:
    if (rc) {
        sqlite_close(&s->base);
        return rc;
    }
    *out = &s->base.base;
    return SLIMY_OK;
}
