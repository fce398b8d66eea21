/* store_sqlite.c — the embedded store backend: one SQLite file (WAL), one connection behind a
 * mutex, every statement prepared once at open. Also the SQLite migration runner. The contract
 * is store.h; store_open() (store.c) calls store_sqlite_open() when DB_HOST is unset. No other
 * file names sqlite3. */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "store/migrations.h"
#include "store/store_backend.h"

#define BUSY_TIMEOUT_MS 5000
#define PARAMETER_MAX sizeof(((struct store_adjustment *)0)->parameter)
#define N_SNAIL_STATS 9 /* hp, atk, def, rush, fame, tech, art, civ, fth */

/* The migration runner's own table; created before any migration, never by one. */
static const char SCHEMA_MIGRATIONS_SQL[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at_ms INTEGER NOT NULL)";

struct sqlite_store {
    struct store base;    /* first: store.c sees only this */
    sqlite3 *db;          /* the one connection */
    pthread_mutex_t lock; /* held around every use of db and the statements below */
    bool is_ready;        /* every known migration is applied, so the data statements exist;
                             set at open, read-only after */

    /* Statements, prepared once at open (see stmt_defs). NULL when the schema they need is
     * missing (opened without migrations on an older database). */
    sqlite3_stmt *begin;
    sqlite3_stmt *commit;
    sqlite3_stmt *rollback;
    sqlite3_stmt *ping;
    sqlite3_stmt *migrations_applied;
    sqlite3_stmt *user_upsert;
    sqlite3_stmt *consent_get;
    sqlite3_stmt *consent_upsert;
    sqlite3_stmt *memory_insert;
    sqlite3_stmt *memory_by_interaction;
    sqlite3_stmt *memory_list;
    sqlite3_stmt *memory_list_all_scopes;
    sqlite3_stmt *memory_delete;
    sqlite3_stmt *memory_delete_all;
    sqlite3_stmt *mode_get;
    sqlite3_stmt *mode_upsert;
    sqlite3_stmt *mode_delete;
    sqlite3_stmt *mode_list;
    sqlite3_stmt *adjustment_upsert;
    sqlite3_stmt *adjustment_list;
    sqlite3_stmt *snail_stats_insert;
    sqlite3_stmt *snail_stats_by_interaction;
    sqlite3_stmt *snail_stats_list;
    sqlite3_stmt *image_log_insert;
    sqlite3_stmt *command_usage_insert;
    sqlite3_stmt *leaderboard;
    sqlite3_stmt *user_stats;
    sqlite3_stmt *counts;
};

/* What a statement needs to exist before it can be prepared. */
enum stmt_needs {
    NEEDS_NOTHING,
    NEEDS_HISTORY, /* the schema_migrations table */
    NEEDS_SCHEMA,  /* every migration applied */
};

struct stmt_def {
    const char *name;      /* the field's name, for errors */
    size_t offset;         /* of the sqlite3_stmt * in struct sqlite_store */
    enum stmt_needs needs; /* skipped at open when this is missing */
    const char *sql;       /* parameters are ?1, ?2, ... in bind order */
};

/* To add a query: add a field above and a line here; open prepares it and close finalizes it. */
/* clang-format off */
#define STMT(field, needs, sql) {#field, offsetof(struct sqlite_store, field), needs, sql}
/* clang-format on */
static const struct stmt_def stmt_defs[] = {
    STMT(begin, NEEDS_NOTHING, "BEGIN IMMEDIATE"),
    STMT(commit, NEEDS_NOTHING, "COMMIT"),
    STMT(rollback, NEEDS_NOTHING, "ROLLBACK"),
    STMT(ping, NEEDS_NOTHING, "SELECT 1"),
    STMT(migrations_applied, NEEDS_HISTORY, "SELECT name FROM schema_migrations ORDER BY name"),
    /* A NULL name keeps the one we have: callers that do not know it must not erase it. */
    STMT(user_upsert, NEEDS_SCHEMA,
         "INSERT INTO users (user_id, username, created_at_ms, updated_at_ms) VALUES (?1, ?2, ?3, ?3) "
         "ON CONFLICT (user_id) DO UPDATE SET username = coalesce(excluded.username, users.username), "
         "updated_at_ms = excluded.updated_at_ms"),
    STMT(consent_get, NEEDS_SCHEMA, "SELECT allowed FROM consents WHERE user_id = ?1 AND scope_id = ?2"),
    STMT(consent_upsert, NEEDS_SCHEMA,
         "INSERT INTO consents (user_id, scope_id, allowed, updated_at_ms) VALUES (?1, ?2, ?3, ?4) "
         "ON CONFLICT (user_id, scope_id) DO UPDATE SET allowed = excluded.allowed, "
         "updated_at_ms = excluded.updated_at_ms"),
    STMT(memory_insert, NEEDS_SCHEMA,
         "INSERT INTO memories (id, user_id, scope_id, note, tags, context, interaction_id, created_at_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (interaction_id) DO NOTHING"),
    STMT(memory_by_interaction, NEEDS_SCHEMA, "SELECT id FROM memories WHERE interaction_id = ?1"),
    STMT(memory_list, NEEDS_SCHEMA,
         "SELECT id, user_id, scope_id, note, tags, context, created_at_ms FROM memories "
         "WHERE user_id = ?1 AND scope_id = ?2 ORDER BY seq DESC LIMIT ?3"),
    STMT(memory_list_all_scopes, NEEDS_SCHEMA,
         "SELECT id, user_id, scope_id, note, tags, context, created_at_ms FROM memories "
         "WHERE user_id = ?1 ORDER BY seq DESC LIMIT ?2"),
    STMT(memory_delete, NEEDS_SCHEMA, "DELETE FROM memories WHERE id = ?1 AND user_id = ?2 AND scope_id = ?3"),
    STMT(memory_delete_all, NEEDS_SCHEMA, "DELETE FROM memories WHERE user_id = ?1 AND scope_id = ?2"),
    STMT(mode_get, NEEDS_SCHEMA,
         "SELECT modes FROM mode_configs WHERE guild_id = ?1 AND target_type = ?2 AND target_id = ?3"),
    STMT(mode_upsert, NEEDS_SCHEMA,
         "INSERT INTO mode_configs (guild_id, target_type, target_id, modes, updated_at_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (guild_id, target_type, target_id) "
         "DO UPDATE SET modes = excluded.modes, updated_at_ms = excluded.updated_at_ms"),
    STMT(mode_delete, NEEDS_SCHEMA,
         "DELETE FROM mode_configs WHERE guild_id = ?1 AND target_type = ?2 AND target_id = ?3"),
    STMT(mode_list, NEEDS_SCHEMA,
         "SELECT guild_id, target_type, target_id, modes, updated_at_ms FROM mode_configs "
         "WHERE guild_id = ?1 ORDER BY target_type, target_id"),
    STMT(adjustment_upsert, NEEDS_SCHEMA,
         "INSERT INTO personality_adjustments (scope_id, parameter, value, updated_by, updated_at_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (scope_id, parameter) DO UPDATE SET value = excluded.value, "
         "updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms"),
    STMT(adjustment_list, NEEDS_SCHEMA,
         "SELECT parameter, value, updated_by, updated_at_ms FROM personality_adjustments "
         "WHERE scope_id = ?1 ORDER BY parameter"),
    STMT(snail_stats_insert, NEEDS_SCHEMA,
         "INSERT INTO snail_stats (user_id, scope_id, screenshot_url, hp, atk, def, rush, fame, tech, art, civ, "
         "fth, analysis_text, interaction_id, created_at_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
         "ON CONFLICT (interaction_id) DO NOTHING"),
    STMT(snail_stats_by_interaction, NEEDS_SCHEMA, "SELECT id FROM snail_stats WHERE interaction_id = ?1"),
    STMT(snail_stats_list, NEEDS_SCHEMA,
         "SELECT id, user_id, hp, atk, def, rush, fame, tech, art, civ, fth, created_at_ms FROM snail_stats "
         "WHERE user_id = ?1 AND scope_id = ?2 ORDER BY id DESC LIMIT ?3"),
    STMT(image_log_insert, NEEDS_SCHEMA,
         "INSERT INTO image_generation_log (user_id, scope_id, channel_id, prompt, enhanced_prompt, style, "
         "rating, model, success, error_message, created_at_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
    STMT(command_usage_insert, NEEDS_SCHEMA,
         "INSERT INTO command_usage (user_id, scope_id, command, success, latency_ms, created_at_ms) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
    /* Counted per user first, then joined to users: the name is one lookup per ranked user. */
    STMT(leaderboard, NEEDS_SCHEMA,
         "SELECT t.user_id, u.username, t.analyses, t.last_at_ms FROM "
         "(SELECT user_id, count(*) AS analyses, max(created_at_ms) AS last_at_ms FROM snail_stats "
         "WHERE scope_id = ?1 GROUP BY user_id) AS t LEFT JOIN users AS u ON u.user_id = t.user_id "
         "ORDER BY t.analyses DESC, t.last_at_ms DESC, t.user_id LIMIT ?2"),
    /* The counts see only rows since ?3; last active is over every row (store.h). */
    STMT(user_stats, NEEDS_SCHEMA,
         "SELECT count(CASE WHEN command IN ('chat', 'Ask Slimy') THEN 1 END), "
         "count(CASE WHEN command = 'dream' THEN 1 END), count(*), "
         "(SELECT coalesce(max(created_at_ms), 0) FROM command_usage WHERE user_id = ?1 AND scope_id = ?2) "
         "FROM command_usage WHERE user_id = ?1 AND scope_id = ?2 AND created_at_ms >= ?3"),
    STMT(counts, NEEDS_SCHEMA,
         "SELECT (SELECT count(*) FROM memories), (SELECT count(*) FROM image_generation_log), "
         "(SELECT count(*) FROM snail_stats), (SELECT count(*) FROM users)"),
};
#undef STMT

static void sqlite_close(struct store *st);
static int sqlite_ping(struct store *st);
static int sqlite_consent_get(struct store *st, const char *user_id, const char *scope_id, bool *allowed);
static int sqlite_consent_set(struct store *st, const char *user_id, const char *user_name, const char *scope_id,
                              bool allow);
static int sqlite_memory_add(struct store *st, const struct store_memory_new *m, char id_out[STORE_ID_MAX]);
static int sqlite_memory_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                              struct store_memories *out);
static int sqlite_memory_delete(struct store *st, const char *user_id, const char *scope_id, const char *id);
static int sqlite_memory_delete_all(struct store *st, const char *user_id, const char *scope_id, uint64_t *n_deleted);
static int sqlite_mode_get(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                           unsigned *modes);
static int sqlite_mode_put(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                           unsigned modes);
static int sqlite_mode_list(struct store *st, const char *guild_id, struct store_mode_configs *out);
static int sqlite_adjustment_set(struct store *st, const char *scope_id, const char *parameter, int value,
                                 const char *updated_by);
static int sqlite_adjustment_list(struct store *st, const char *scope_id, struct store_adjustments *out);
static int sqlite_snail_stats_add(struct store *st, const struct store_snail_stats_new *s, int64_t *id_out);
static int sqlite_snail_stats_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                                   struct store_snail_stats_list *out);
static int sqlite_image_log_add(struct store *st, const struct store_image_log_new *entry);
static int sqlite_command_usage_add(struct store *st, const char *user_id, const char *scope_id, const char *command,
                                    bool success, int64_t latency_ms);
static int sqlite_leaderboard(struct store *st, const char *scope_id, size_t max, struct store_leaderboard *out);
static int sqlite_user_stats(struct store *st, const char *user_id, const char *scope_id, int64_t since_ms,
                             struct store_user_stats *out);
static int sqlite_counts(struct store *st, struct store_counts *out);
static int sqlite_migrations_applied(struct store *st, char ***names, size_t *n);

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .ping = sqlite_ping,
    .consent_get = sqlite_consent_get,
    .consent_set = sqlite_consent_set,
    .memory_add = sqlite_memory_add,
    .memory_list = sqlite_memory_list,
    .memory_delete = sqlite_memory_delete,
    .memory_delete_all = sqlite_memory_delete_all,
    .mode_get = sqlite_mode_get,
    .mode_put = sqlite_mode_put,
    .mode_list = sqlite_mode_list,
    .adjustment_set = sqlite_adjustment_set,
    .adjustment_list = sqlite_adjustment_list,
    .snail_stats_add = sqlite_snail_stats_add,
    .snail_stats_list = sqlite_snail_stats_list,
    .image_log_add = sqlite_image_log_add,
    .command_usage_add = sqlite_command_usage_add,
    .leaderboard = sqlite_leaderboard,
    .user_stats = sqlite_user_stats,
    .counts = sqlite_counts,
    .migrations_applied = sqlite_migrations_applied,
};

/* ---- helpers ---- */

static void set_err(char *err, size_t err_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

static sqlite3_stmt **stmt_slot(struct sqlite_store *s, const struct stmt_def *def)
{
    return (sqlite3_stmt **)((char *)s + def->offset);
}

static int64_t now_ms(void) { return (int64_t)clock_wall_ms(); }

/* Ids land in fixed STORE_ID_MAX arrays when read back, so a longer one could not round-trip. */
static bool is_id(const char *id) { return id && id[0] && strnlen(id, STORE_ID_MAX) < STORE_ID_MAX; }

static bool is_optional_id(const char *id) { return !id || is_id(id); }

/* strnlen, so an oversized text costs max_bytes to refuse, not its whole length. */
static bool fits(const char *text, size_t max_bytes) { return strnlen(text, max_bytes + 1) <= max_bytes; }

static bool is_target_type(enum store_target_type type)
{
    return type == TARGET_CATEGORY || type == TARGET_CHANNEL || type == TARGET_THREAD;
}

/* The database is there but cannot serve now: locked by another writer past the busy timeout,
 * or the machine's disk failing or full. Retrying later may work; none of these is a bug. */
static bool is_unavailable(int sqlite_rc)
{
    switch (sqlite_rc & 0xff) { /* the primary code of an extended one */
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
        return true;
    default:
        return false;
    }
}

/* Turns a SQLite result code into a status, logging the driver's text once. Call with the lock
 * held and before the statement is reset, while sqlite3_errmsg() still describes this error. */
static int fail(struct sqlite_store *s, const char *op, int sqlite_rc)
{
    log_error("store error", LOG_S("op", op), LOG_I("code", sqlite_rc), LOG_S("error", sqlite3_errmsg(s->db)));
    if (is_unavailable(sqlite_rc))
        return SLIMY_EUNAVAILABLE;
    if ((sqlite_rc & 0xff) == SQLITE_CONSTRAINT)
        return SLIMY_ECONFLICT;
    if (sqlite_rc == SQLITE_NOMEM)
        return SLIMY_ENOMEM;
    return SLIMY_EINTERNAL;
}

/* Opened without migrations on a database that lacks some: every data op refuses. */
static int not_migrated(const char *op)
{
    log_error("store error", LOG_S("op", op), LOG_S("error", "schema not migrated; run `slimy migrate`"));
    return SLIMY_EUNAVAILABLE;
}

/* Makes the statement reusable and drops the bound pointers, which are borrowed from the caller. */
static void finish(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/* Text binds are SQLITE_STATIC: the caller's strings outlive the step, and finish() unbinds them. */
static int bind_text(sqlite3_stmt *stmt, int index, const char *text)
{
    return sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
}

/* A bind failed (too big, out of memory): map it like a step error. */
static int bind_failed(struct sqlite_store *s, const char *op) { return fail(s, op, sqlite3_errcode(s->db)); }

/* Steps a statement that returns no rows of interest, then finishes it. */
static int run(struct sqlite_store *s, sqlite3_stmt *stmt, const char *op)
{
    int sqlite_rc = sqlite3_step(stmt);
    int rc = SLIMY_OK;
    if (sqlite_rc != SQLITE_DONE && sqlite_rc != SQLITE_ROW)
        rc = fail(s, op, sqlite_rc);
    finish(stmt);
    return rc;
}

/* Steps a query for its next row: SLIMY_OK with *has_row, or a mapped error. */
static int next_row(struct sqlite_store *s, sqlite3_stmt *stmt, const char *op, bool *has_row)
{
    int sqlite_rc = sqlite3_step(stmt);
    *has_row = sqlite_rc == SQLITE_ROW;
    if (sqlite_rc == SQLITE_ROW || sqlite_rc == SQLITE_DONE)
        return SLIMY_OK;
    return fail(s, op, sqlite_rc);
}

/* Ends a transaction opened with run(s, s->begin, ...): COMMIT if rc is SLIMY_OK, else (or if
 * the commit fails) ROLLBACK. Returns rc, or the commit's error. */
static int end_transaction(struct sqlite_store *s, const char *op, int rc)
{
    if (rc == SLIMY_OK)
        rc = run(s, s->commit, op);
    /* Some errors (a full disk, I/O) already rolled back; a ROLLBACK then would only fail. */
    if (rc != SLIMY_OK && !sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->rollback);
        finish(s->rollback);
    }
    return rc;
}

/* Copies a column into a fixed array. Ids are capped at write time, so they fit. */
static int column_copy(sqlite3_stmt *stmt, int col, char *dst, size_t dst_size)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    if (!text && sqlite3_column_type(stmt, col) != SQLITE_NULL)
        return SLIMY_ENOMEM;
    snprintf(dst, dst_size, "%s", text ? (const char *)text : "");
    return SLIMY_OK;
}

/* Copies a column into a new string (free with free()); NULL becomes "". */
static int column_dup(sqlite3_stmt *stmt, int col, char **out)
{
    const unsigned char *text = sqlite3_column_text(stmt, col);
    if (!text && sqlite3_column_type(stmt, col) != SQLITE_NULL)
        return SLIMY_ENOMEM;
    size_t len = text ? (size_t)sqlite3_column_bytes(stmt, col) : 0;
    char *copy = malloc(len + 1);
    if (!copy)
        return SLIMY_ENOMEM;
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    *out = copy;
    return SLIMY_OK;
}

/* Makes room for one more item in an array holding n of *cap. Returns the array, moved if it
 * grew, or NULL when out of memory (the old array is untouched then). */
static void *reserve(void *items, size_t *cap, size_t n, size_t item_size)
{
    if (n < *cap)
        return items;
    size_t new_cap = *cap ? *cap * 2 : 8;
    void *grown = realloc(items, new_cap * item_size);
    if (grown)
        *cap = new_cap;
    return grown;
}

static size_t clamp_max(size_t max) { return max > STORE_LIST_MAX ? STORE_LIST_MAX : max; }

/* Inserts the user or refreshes updated_at_ms (and the name, when given). */
static int upsert_user(struct sqlite_store *s, const char *op, const char *user_id, const char *user_name,
                       int64_t at_ms)
{
    sqlite3_stmt *q = s->user_upsert;
    if (bind_text(q, 1, user_id) || bind_text(q, 2, user_name) || sqlite3_bind_int64(q, 3, at_ms)) {
        int rc = bind_failed(s, op);
        finish(q);
        return rc;
    }
    return run(s, q, op);
}

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
        set_err(err, err_len, "sqlite %s: path too long", path);
        return SLIMY_EUNAVAILABLE;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        set_err(err, err_len, "sqlite %s: cannot create directory %s: %s", path, dir, strerror(errno));
        return SLIMY_EUNAVAILABLE;
    }
    return SLIMY_OK;
}

/* At open, store_open() promises SLIMY_EUNAVAILABLE (cannot reach it) or SLIMY_EINTERNAL. */
static int open_status(int sqlite_rc) { return is_unavailable(sqlite_rc) ? SLIMY_EUNAVAILABLE : SLIMY_EINTERNAL; }

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
        set_err(err, err_len, "sqlite %s: %s", path, sqlite3_errmsg(db));
        return open_status(sqlite_rc);
    }
    return SLIMY_OK;
}

/* Whether schema_migrations (which must exist) records the migration name. */
static int is_recorded(sqlite3 *db, const char *name, bool *recorded)
{
    sqlite3_stmt *q = NULL;
    *recorded = false;
    int sqlite_rc = sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE name = ?1", -1, &q, NULL);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if (sqlite_rc == SQLITE_OK) {
        sqlite_rc = sqlite3_step(q);
        *recorded = sqlite_rc == SQLITE_ROW;
        if (sqlite_rc == SQLITE_ROW || sqlite_rc == SQLITE_DONE)
            sqlite_rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    return sqlite_rc;
}

/* Applies one migration in its own transaction, unless another process got there first. */
static int apply_one(sqlite3 *db, const struct migration *m, char *err, size_t err_len)
{
    sqlite3_stmt *record = NULL;
    bool recorded = false;
    int sqlite_rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = is_recorded(db, m->name, &recorded);
    if (sqlite_rc == SQLITE_OK && !recorded) {
        sqlite_rc = sqlite3_exec(db, m->sql, NULL, NULL, NULL);
        if (sqlite_rc == SQLITE_OK)
            sqlite_rc = sqlite3_prepare_v2(db, "INSERT INTO schema_migrations (name, applied_at_ms) VALUES (?1, ?2)",
                                           -1, &record, NULL);
        if (sqlite_rc == SQLITE_OK)
            sqlite_rc = sqlite3_bind_text(record, 1, m->name, -1, SQLITE_STATIC);
        if (sqlite_rc == SQLITE_OK)
            sqlite_rc = sqlite3_bind_int64(record, 2, now_ms());
        if (sqlite_rc == SQLITE_OK) {
            sqlite_rc = sqlite3_step(record);
            if (sqlite_rc == SQLITE_DONE)
                sqlite_rc = SQLITE_OK;
        }
    }
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (sqlite_rc != SQLITE_OK)
        set_err(err, err_len, "sqlite migration %s failed: %s", m->name, sqlite3_errmsg(db));
    sqlite3_finalize(record);
    if (sqlite_rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return open_status(sqlite_rc);
    }
    if (!recorded)
        log_info("migration applied", LOG_S("backend", "sqlite"), LOG_S("name", m->name));
    return SLIMY_OK;
}

/* BEGIN IMMEDIATE takes the database's write lock (waiting up to the busy timeout), so two
 * processes starting together apply each migration once: the second sees it recorded. */
static int migrate(sqlite3 *db, char *err, size_t err_len)
{
    int sqlite_rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = sqlite3_exec(db, SCHEMA_MIGRATIONS_SQL, NULL, NULL, NULL);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (sqlite_rc != SQLITE_OK) {
        set_err(err, err_len, "sqlite: cannot create schema_migrations: %s", sqlite3_errmsg(db));
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return open_status(sqlite_rc);
    }
    size_t n = 0;
    const struct migration *list = migrations_list("sqlite", &n);
    for (size_t i = 0; i < n; i++) {
        int rc = apply_one(db, &list[i], err, err_len);
        if (rc)
            return rc;
    }
    return SLIMY_OK;
}

/* Finds out which statements can be prepared: is there a schema_migrations table, and does it
 * record every migration this binary knows? A newer binary's extra names are fine. */
static int check_schema(struct sqlite_store *s, bool *has_history, char *err, size_t err_len)
{
    sqlite3_stmt *q = NULL;
    *has_history = false;
    s->is_ready = false;
    int sqlite_rc = sqlite3_prepare_v2(
        s->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", -1, &q, NULL);
    if (sqlite_rc == SQLITE_OK) {
        sqlite_rc = sqlite3_step(q);
        *has_history = sqlite_rc == SQLITE_ROW;
        if (sqlite_rc == SQLITE_ROW || sqlite_rc == SQLITE_DONE)
            sqlite_rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    size_t n = 0;
    const struct migration *list = migrations_list("sqlite", &n);
    const char *pending = n ? list[0].name : NULL;
    if (sqlite_rc == SQLITE_OK && *has_history) {
        pending = NULL;
        for (size_t i = 0; i < n && !pending && sqlite_rc == SQLITE_OK; i++) {
            bool recorded = false;
            sqlite_rc = is_recorded(s->db, list[i].name, &recorded);
            if (!recorded)
                pending = list[i].name;
        }
    }
    if (sqlite_rc != SQLITE_OK) {
        set_err(err, err_len, "sqlite: cannot read schema_migrations: %s", sqlite3_errmsg(s->db));
        return open_status(sqlite_rc);
    }
    s->is_ready = pending == NULL;
    if (pending)
        log_warn("store schema not migrated; data calls will fail until `slimy migrate` runs",
                 LOG_S("backend", "sqlite"), LOG_S("pending", pending));
    return SLIMY_OK;
}

static int prepare_all(struct sqlite_store *s, bool has_history, char *err, size_t err_len)
{
    for (size_t i = 0; i < sizeof stmt_defs / sizeof stmt_defs[0]; i++) {
        const struct stmt_def *def = &stmt_defs[i];
        if ((def->needs == NEEDS_HISTORY && !has_history) || (def->needs == NEEDS_SCHEMA && !s->is_ready))
            continue;
        int sqlite_rc = sqlite3_prepare_v3(s->db, def->sql, -1, SQLITE_PREPARE_PERSISTENT, stmt_slot(s, def), NULL);
        if (sqlite_rc != SQLITE_OK) {
            set_err(err, err_len, "sqlite: cannot prepare %s: %s", def->name, sqlite3_errmsg(s->db));
            return SLIMY_EINTERNAL;
        }
    }
    return SLIMY_OK;
}

int store_sqlite_open(const char *path, bool apply_migrations, struct store **out, char *err, size_t err_len)
{
    bool has_history = false;
    int rc;
    *out = NULL;
    if (err_len)
        err[0] = '\0';
    if (!path || !path[0]) {
        set_err(err, err_len, "sqlite: SQLITE_PATH is empty");
        return SLIMY_EUNAVAILABLE;
    }
    struct sqlite_store *s = calloc(1, sizeof *s);
    if (!s)
        return SLIMY_ENOMEM;
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->lock, NULL);

    rc = make_parent_dir(path, err, err_len);
    if (rc)
        goto out;
    int sqlite_rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (sqlite_rc != SQLITE_OK) {
        set_err(err, err_len, "sqlite %s: %s", path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(sqlite_rc));
        rc = SLIMY_EUNAVAILABLE;
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    rc = configure(s->db, path, err, err_len);
    if (rc)
        goto out;
    if (apply_migrations) {
        rc = migrate(s->db, err, err_len);
        if (rc)
            goto out;
    }
    rc = check_schema(s, &has_history, err, err_len);
    if (rc)
        goto out;
    rc = prepare_all(s, has_history, err, err_len);
out:
    if (rc) {
        sqlite_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return SLIMY_OK;
}

/* Callers have stopped using the store: no lock needed. */
static void sqlite_close(struct store *st)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    for (size_t i = 0; i < sizeof stmt_defs / sizeof stmt_defs[0]; i++)
        sqlite3_finalize(*stmt_slot(s, &stmt_defs[i]));
    if (sqlite3_close(s->db) != SQLITE_OK)
        log_error("store error", LOG_S("op", "close"), LOG_S("error", sqlite3_errmsg(s->db)));
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- ops ---- */

static int sqlite_ping(struct store *st)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    pthread_mutex_lock(&s->lock);
    int rc = run(s, s->ping, "ping");
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_consent_get(struct store *st, const char *user_id, const char *scope_id, bool *allowed)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->consent_get;
    bool has_row = false;
    int rc;
    *allowed = false;
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("consent_get");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, user_id) || bind_text(q, 2, scope_id)) {
        rc = bind_failed(s, "consent_get");
        goto out;
    }
    rc = next_row(s, q, "consent_get", &has_row);
    if (rc)
        goto out;
    *allowed = has_row && sqlite3_column_int64(q, 0) != 0;
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_consent_set(struct store *st, const char *user_id, const char *user_name, const char *scope_id,
                              bool allow)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->consent_upsert;
    int64_t at_ms = now_ms();
    int rc;
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("consent_set");
    pthread_mutex_lock(&s->lock);
    rc = run(s, s->begin, "consent_set");
    if (rc)
        goto out;
    rc = upsert_user(s, "consent_set", user_id, user_name, at_ms);
    if (rc)
        goto end;
    if (bind_text(q, 1, user_id) || bind_text(q, 2, scope_id) || sqlite3_bind_int(q, 3, allow ? 1 : 0) ||
        sqlite3_bind_int64(q, 4, at_ms)) {
        rc = bind_failed(s, "consent_set");
        finish(q);
        goto end;
    }
    rc = run(s, q, "consent_set");
end:
    rc = end_transaction(s, "consent_set", rc);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Looks up the id of the row an earlier call stored for interaction_id (a retried job). */
static int memory_by_interaction(struct sqlite_store *s, const char *interaction_id, char id_out[STORE_ID_MAX])
{
    sqlite3_stmt *q = s->memory_by_interaction;
    bool has_row = false;
    int rc;
    if (bind_text(q, 1, interaction_id)) {
        rc = bind_failed(s, "memory_add");
        goto out;
    }
    rc = next_row(s, q, "memory_add", &has_row);
    if (rc)
        goto out;
    if (!has_row) { /* DO NOTHING fired, so the row must exist */
        log_error("store error", LOG_S("op", "memory_add"), LOG_S("error", "conflicting memory not found"));
        rc = SLIMY_EINTERNAL;
        goto out;
    }
    rc = column_copy(q, 0, id_out, STORE_ID_MAX);
out:
    finish(q);
    return rc;
}

static int sqlite_memory_add(struct store *st, const struct store_memory_new *m, char id_out[STORE_ID_MAX])
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->memory_insert;
    const char *tags_json = m->tags_json ? m->tags_json : "[]";
    const char *context_json = m->context_json ? m->context_json : "{}";
    int64_t at_ms = now_ms();
    char id[STORE_ID_MAX];
    int rc;
    id_out[0] = '\0';
    if (!is_id(m->user_id) || !is_id(m->scope_id) || !m->note || !fits(m->note, STORE_NOTE_MAX_BYTES) ||
        !fits(tags_json, STORE_TAGS_MAX_BYTES) || !fits(context_json, STORE_CONTEXT_MAX_BYTES))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("memory_add");
    store_uuid_v4(id);
    pthread_mutex_lock(&s->lock);
    rc = run(s, s->begin, "memory_add");
    if (rc)
        goto out;
    rc = upsert_user(s, "memory_add", m->user_id, m->user_name, at_ms);
    if (rc)
        goto end;
    if (bind_text(q, 1, id) || bind_text(q, 2, m->user_id) || bind_text(q, 3, m->scope_id) ||
        bind_text(q, 4, m->note) || bind_text(q, 5, tags_json) || bind_text(q, 6, context_json) ||
        bind_text(q, 7, m->interaction_id) || sqlite3_bind_int64(q, 8, at_ms)) {
        rc = bind_failed(s, "memory_add");
        finish(q);
        goto end;
    }
    rc = run(s, q, "memory_add");
    if (rc)
        goto end;
    if (sqlite3_changes(s->db) == 1)
        memcpy(id_out, id, STORE_ID_MAX);
    else
        rc = memory_by_interaction(s, m->interaction_id, id_out);
end:
    rc = end_transaction(s, "memory_add", rc);
    if (rc)
        id_out[0] = '\0';
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int read_memory(sqlite3_stmt *q, struct store_memory *mem)
{
    int rc = column_copy(q, 0, mem->id, sizeof mem->id);
    if (!rc)
        rc = column_copy(q, 1, mem->user_id, sizeof mem->user_id);
    if (!rc)
        rc = column_copy(q, 2, mem->scope_id, sizeof mem->scope_id);
    if (!rc)
        rc = column_dup(q, 3, &mem->note);
    if (!rc)
        rc = column_dup(q, 4, &mem->tags_json);
    if (!rc)
        rc = column_dup(q, 5, &mem->context_json);
    mem->created_at_ms = sqlite3_column_int64(q, 6);
    return rc;
}

/* A NULL scope_id lists the user's memories in every scope (an export of their own data). */
static int sqlite_memory_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                              struct store_memories *out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = scope_id ? s->memory_list : s->memory_list_all_scopes;
    size_t cap = 0;
    int rc;
    out->items = NULL;
    out->n = 0;
    max = clamp_max(max);
    if (!is_id(user_id) || !is_optional_id(scope_id))
        return SLIMY_EINVAL;
    if (max == 0)
        return SLIMY_OK;
    if (!s->is_ready)
        return not_migrated("memory_list");
    pthread_mutex_lock(&s->lock);
    int limit_index = scope_id ? 3 : 2;
    if (bind_text(q, 1, user_id) || (scope_id && bind_text(q, 2, scope_id)) ||
        sqlite3_bind_int64(q, limit_index, (sqlite3_int64)max)) {
        rc = bind_failed(s, "memory_list");
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = next_row(s, q, "memory_list", &has_row);
        if (rc || !has_row)
            break;
        void *grown = reserve(out->items, &cap, out->n, sizeof out->items[0]);
        if (!grown) {
            rc = SLIMY_ENOMEM;
            break;
        }
        out->items = grown;
        struct store_memory *mem = &out->items[out->n];
        memset(mem, 0, sizeof *mem);
        out->n++; /* counted first, so store_memories_free() frees a half-read item */
        rc = read_memory(q, mem);
        if (rc)
            break;
    }
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        store_memories_free(out);
    return rc;
}

static int sqlite_memory_delete(struct store *st, const char *user_id, const char *scope_id, const char *id)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->memory_delete;
    int rc;
    if (!is_id(user_id) || !is_id(scope_id) || !id)
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("memory_delete");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, id) || bind_text(q, 2, user_id) || bind_text(q, 3, scope_id)) {
        rc = bind_failed(s, "memory_delete");
        finish(q);
        goto out;
    }
    rc = run(s, q, "memory_delete");
    if (rc)
        goto out;
    if (sqlite3_changes(s->db) == 0)
        rc = SLIMY_ENOTFOUND;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_memory_delete_all(struct store *st, const char *user_id, const char *scope_id, uint64_t *n_deleted)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->memory_delete_all;
    int rc;
    *n_deleted = 0;
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("memory_delete_all");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, user_id) || bind_text(q, 2, scope_id)) {
        rc = bind_failed(s, "memory_delete_all");
        finish(q);
        goto out;
    }
    rc = run(s, q, "memory_delete_all");
    if (rc)
        goto out;
    *n_deleted = (uint64_t)sqlite3_changes(s->db);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_mode_get(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                           unsigned *modes)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->mode_get;
    bool has_row = false;
    int rc;
    *modes = 0;
    if (!is_id(guild_id) || !is_target_type(type) || !is_id(target_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("mode_get");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, guild_id) || sqlite3_bind_int(q, 2, (int)type) || bind_text(q, 3, target_id)) {
        rc = bind_failed(s, "mode_get");
        goto out;
    }
    rc = next_row(s, q, "mode_get", &has_row);
    if (rc)
        goto out;
    if (has_row)
        *modes = (unsigned)sqlite3_column_int64(q, 0);
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_mode_put(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                           unsigned modes)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = modes ? s->mode_upsert : s->mode_delete;
    int rc;
    if (!is_id(guild_id) || !is_target_type(type) || !is_id(target_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("mode_put");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, guild_id) || sqlite3_bind_int(q, 2, (int)type) || bind_text(q, 3, target_id) ||
        (modes && (sqlite3_bind_int64(q, 4, modes) || sqlite3_bind_int64(q, 5, now_ms())))) {
        rc = bind_failed(s, "mode_put");
        finish(q);
        goto out;
    }
    rc = run(s, q, "mode_put");
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_mode_list(struct store *st, const char *guild_id, struct store_mode_configs *out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->mode_list;
    size_t cap = 0;
    int rc;
    out->items = NULL;
    out->n = 0;
    if (!is_id(guild_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("mode_list");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, guild_id)) {
        rc = bind_failed(s, "mode_list");
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = next_row(s, q, "mode_list", &has_row);
        if (rc || !has_row)
            break;
        void *grown = reserve(out->items, &cap, out->n, sizeof out->items[0]);
        if (!grown) {
            rc = SLIMY_ENOMEM;
            break;
        }
        out->items = grown;
        struct store_mode_config *mode = &out->items[out->n++];
        memset(mode, 0, sizeof *mode);
        rc = column_copy(q, 0, mode->guild_id, sizeof mode->guild_id);
        if (!rc)
            rc = column_copy(q, 2, mode->target_id, sizeof mode->target_id);
        if (rc)
            break;
        mode->target_type = (enum store_target_type)sqlite3_column_int(q, 1);
        mode->modes = (unsigned)sqlite3_column_int64(q, 3);
        mode->updated_at_ms = sqlite3_column_int64(q, 4);
    }
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        store_mode_configs_free(out);
    return rc;
}

static int sqlite_adjustment_set(struct store *st, const char *scope_id, const char *parameter, int value,
                                 const char *updated_by)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->adjustment_upsert;
    int rc;
    if (!is_id(scope_id) || !parameter || !parameter[0] || strnlen(parameter, PARAMETER_MAX) >= PARAMETER_MAX ||
        value < 1 || value > 10 || !is_id(updated_by))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("adjustment_set");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, scope_id) || bind_text(q, 2, parameter) || sqlite3_bind_int(q, 3, value) ||
        bind_text(q, 4, updated_by) || sqlite3_bind_int64(q, 5, now_ms())) {
        rc = bind_failed(s, "adjustment_set");
        finish(q);
        goto out;
    }
    rc = run(s, q, "adjustment_set");
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_adjustment_list(struct store *st, const char *scope_id, struct store_adjustments *out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->adjustment_list;
    size_t cap = 0;
    int rc;
    out->items = NULL;
    out->n = 0;
    if (!is_id(scope_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("adjustment_list");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, scope_id)) {
        rc = bind_failed(s, "adjustment_list");
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = next_row(s, q, "adjustment_list", &has_row);
        if (rc || !has_row)
            break;
        void *grown = reserve(out->items, &cap, out->n, sizeof out->items[0]);
        if (!grown) {
            rc = SLIMY_ENOMEM;
            break;
        }
        out->items = grown;
        struct store_adjustment *adjustment = &out->items[out->n++];
        memset(adjustment, 0, sizeof *adjustment);
        rc = column_copy(q, 0, adjustment->parameter, sizeof adjustment->parameter);
        if (!rc)
            rc = column_copy(q, 2, adjustment->updated_by, sizeof adjustment->updated_by);
        if (rc)
            break;
        adjustment->value = sqlite3_column_int(q, 1);
        adjustment->updated_at_ms = sqlite3_column_int64(q, 3);
    }
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        store_adjustments_free(out);
    return rc;
}

/* Looks up the row id an earlier call stored for interaction_id (a retried job). */
static int snail_stats_by_interaction(struct sqlite_store *s, const char *interaction_id, int64_t *id_out)
{
    sqlite3_stmt *q = s->snail_stats_by_interaction;
    bool has_row = false;
    int rc;
    if (bind_text(q, 1, interaction_id)) {
        rc = bind_failed(s, "snail_stats_add");
        goto out;
    }
    rc = next_row(s, q, "snail_stats_add", &has_row);
    if (rc)
        goto out;
    if (!has_row) { /* DO NOTHING fired, so the row must exist */
        log_error("store error", LOG_S("op", "snail_stats_add"), LOG_S("error", "conflicting row not found"));
        rc = SLIMY_EINTERNAL;
        goto out;
    }
    *id_out = sqlite3_column_int64(q, 0);
out:
    finish(q);
    return rc;
}

static int bind_snail_stats(sqlite3_stmt *q, const struct store_snail_stats_new *new_stats, int64_t at_ms)
{
    int sqlite_rc = bind_text(q, 1, new_stats->user_id);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = bind_text(q, 2, new_stats->scope_id);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = bind_text(q, 3, new_stats->screenshot_url);
    /* No stats array means none known; no has_stat array means all of them known. */
    for (int i = 0; i < N_SNAIL_STATS && sqlite_rc == SQLITE_OK; i++) {
        bool is_known = new_stats->stats && (!new_stats->has_stat || new_stats->has_stat[i]);
        sqlite_rc = is_known ? sqlite3_bind_int64(q, 4 + i, new_stats->stats[i]) : sqlite3_bind_null(q, 4 + i);
    }
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = bind_text(q, 13, new_stats->analysis_text);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = bind_text(q, 14, new_stats->interaction_id);
    if (sqlite_rc == SQLITE_OK)
        sqlite_rc = sqlite3_bind_int64(q, 15, at_ms);
    return sqlite_rc;
}

static int sqlite_snail_stats_add(struct store *st, const struct store_snail_stats_new *new_stats, int64_t *id_out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->snail_stats_insert;
    int64_t at_ms = now_ms();
    int rc;
    *id_out = 0;
    if (!is_id(new_stats->user_id) || !is_id(new_stats->scope_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("snail_stats_add");
    pthread_mutex_lock(&s->lock);
    rc = run(s, s->begin, "snail_stats_add");
    if (rc)
        goto out;
    rc = upsert_user(s, "snail_stats_add", new_stats->user_id, new_stats->user_name, at_ms);
    if (rc)
        goto end;
    if (bind_snail_stats(q, new_stats, at_ms)) {
        rc = bind_failed(s, "snail_stats_add");
        finish(q);
        goto end;
    }
    rc = run(s, q, "snail_stats_add");
    if (rc)
        goto end;
    if (sqlite3_changes(s->db) == 1)
        *id_out = sqlite3_last_insert_rowid(s->db);
    else
        rc = snail_stats_by_interaction(s, new_stats->interaction_id, id_out);
end:
    rc = end_transaction(s, "snail_stats_add", rc);
    if (rc)
        *id_out = 0;
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_snail_stats_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                                   struct store_snail_stats_list *out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->snail_stats_list;
    size_t cap = 0;
    int rc;
    out->items = NULL;
    out->n = 0;
    max = clamp_max(max);
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    if (max == 0)
        return SLIMY_OK;
    if (!s->is_ready)
        return not_migrated("snail_stats_list");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, user_id) || bind_text(q, 2, scope_id) || sqlite3_bind_int64(q, 3, (sqlite3_int64)max)) {
        rc = bind_failed(s, "snail_stats_list");
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = next_row(s, q, "snail_stats_list", &has_row);
        if (rc || !has_row)
            break;
        void *grown = reserve(out->items, &cap, out->n, sizeof out->items[0]);
        if (!grown) {
            rc = SLIMY_ENOMEM;
            break;
        }
        out->items = grown;
        struct store_snail_stats *row = &out->items[out->n++];
        memset(row, 0, sizeof *row);
        row->id = sqlite3_column_int64(q, 0);
        rc = column_copy(q, 1, row->user_id, sizeof row->user_id);
        if (rc)
            break;
        for (int i = 0; i < N_SNAIL_STATS; i++) {
            row->has_stat[i] = sqlite3_column_type(q, 2 + i) != SQLITE_NULL;
            row->stats[i] = row->has_stat[i] ? sqlite3_column_int64(q, 2 + i) : 0;
        }
        row->created_at_ms = sqlite3_column_int64(q, 2 + N_SNAIL_STATS);
    }
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        store_snail_stats_list_free(out);
    return rc;
}

static int sqlite_image_log_add(struct store *st, const struct store_image_log_new *entry)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->image_log_insert;
    int rc;
    if (!is_id(entry->user_id) || !is_optional_id(entry->scope_id) || !entry->prompt)
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("image_log_add");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, entry->user_id) || bind_text(q, 2, entry->scope_id) || bind_text(q, 3, entry->channel_id) ||
        bind_text(q, 4, entry->prompt) || bind_text(q, 5, entry->enhanced_prompt) || bind_text(q, 6, entry->style) ||
        bind_text(q, 7, entry->rating) || bind_text(q, 8, entry->model) ||
        sqlite3_bind_int(q, 9, entry->success ? 1 : 0) || bind_text(q, 10, entry->error_message) ||
        sqlite3_bind_int64(q, 11, now_ms())) {
        rc = bind_failed(s, "image_log_add");
        finish(q);
        goto out;
    }
    rc = run(s, q, "image_log_add");
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_command_usage_add(struct store *st, const char *user_id, const char *scope_id, const char *command,
                                    bool success, int64_t latency_ms)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->command_usage_insert;
    int rc;
    if (!is_id(user_id) || !is_optional_id(scope_id) || !command)
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("command_usage_add");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, user_id) || bind_text(q, 2, scope_id) || bind_text(q, 3, command) ||
        sqlite3_bind_int(q, 4, success ? 1 : 0) || sqlite3_bind_int64(q, 5, latency_ms) ||
        sqlite3_bind_int64(q, 6, now_ms())) {
        rc = bind_failed(s, "command_usage_add");
        finish(q);
        goto out;
    }
    rc = run(s, q, "command_usage_add");
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_leaderboard(struct store *st, const char *scope_id, size_t max, struct store_leaderboard *out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->leaderboard;
    size_t cap = 0;
    int rc;
    out->items = NULL;
    out->n = 0;
    max = clamp_max(max);
    if (!is_id(scope_id))
        return SLIMY_EINVAL;
    if (max == 0)
        return SLIMY_OK;
    if (!s->is_ready)
        return not_migrated("leaderboard");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, scope_id) || sqlite3_bind_int64(q, 2, (sqlite3_int64)max)) {
        rc = bind_failed(s, "leaderboard");
        goto out;
    }
    for (;;) {
        bool has_row = false;
        rc = next_row(s, q, "leaderboard", &has_row);
        if (rc || !has_row)
            break;
        void *grown = reserve(out->items, &cap, out->n, sizeof out->items[0]);
        if (!grown) {
            rc = SLIMY_ENOMEM;
            break;
        }
        out->items = grown;
        struct store_leaderboard_entry *entry = &out->items[out->n];
        memset(entry, 0, sizeof *entry);
        out->n++; /* counted first, so store_leaderboard_free() frees a half-read entry */
        rc = column_copy(q, 0, entry->user_id, sizeof entry->user_id);
        if (!rc)
            rc = column_dup(q, 1, &entry->user_name);
        if (rc)
            break;
        entry->analyses = (uint64_t)sqlite3_column_int64(q, 2);
        entry->last_at_ms = sqlite3_column_int64(q, 3);
    }
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    if (rc)
        store_leaderboard_free(out);
    return rc;
}

static int sqlite_user_stats(struct store *st, const char *user_id, const char *scope_id, int64_t since_ms,
                             struct store_user_stats *out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->user_stats;
    bool has_row = false;
    int rc;
    memset(out, 0, sizeof *out);
    if (!is_id(user_id) || !is_id(scope_id))
        return SLIMY_EINVAL;
    if (!s->is_ready)
        return not_migrated("user_stats");
    pthread_mutex_lock(&s->lock);
    if (bind_text(q, 1, user_id) || bind_text(q, 2, scope_id) || sqlite3_bind_int64(q, 3, since_ms)) {
        rc = bind_failed(s, "user_stats");
        goto out;
    }
    rc = next_row(s, q, "user_stats", &has_row);
    if (!rc && has_row) { /* an aggregate: always one row */
        out->chats = (uint64_t)sqlite3_column_int64(q, 0);
        out->images = (uint64_t)sqlite3_column_int64(q, 1);
        out->commands = (uint64_t)sqlite3_column_int64(q, 2);
        out->last_active_ms = sqlite3_column_int64(q, 3);
    }
out:
    finish(q);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sqlite_counts(struct store *st, struct store_counts *out)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->counts;
    bool has_row = false;
    memset(out, 0, sizeof *out);
    if (!s->is_ready)
        return not_migrated("counts");
    pthread_mutex_lock(&s->lock);
    int rc = next_row(s, q, "counts", &has_row);
    if (!rc && has_row) {
        out->memories = (uint64_t)sqlite3_column_int64(q, 0);
        out->images = (uint64_t)sqlite3_column_int64(q, 1);
        out->snail_stats = (uint64_t)sqlite3_column_int64(q, 2);
        out->users = (uint64_t)sqlite3_column_int64(q, 3);
    }
    finish(q);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* Works on an unmigrated database too (`slimy migrate --status` before `slimy migrate`): no
 * schema_migrations table at open means nothing applied. */
static int sqlite_migrations_applied(struct store *st, char ***names, size_t *n)
{
    struct sqlite_store *s = (struct sqlite_store *)st;
    sqlite3_stmt *q = s->migrations_applied;
    size_t cap = 0;
    int rc = SLIMY_OK;
    *names = NULL;
    *n = 0;
    if (!q)
        return SLIMY_OK;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        bool has_row = false;
        rc = next_row(s, q, "migrations_applied", &has_row);
        if (rc || !has_row)
            break;
        char **grown = reserve(*names, &cap, *n, sizeof **names);
        if (!grown) {
            rc = SLIMY_ENOMEM;
            break;
        }
        *names = grown;
        rc = column_dup(q, 0, &(*names)[*n]);
        if (rc)
            break;
        (*n)++;
    }
    finish(q);
    pthread_mutex_unlock(&s->lock);
    if (rc) {
        store_names_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}
