/* store_sql.c — every op of store.h, written once over the driver interface (sql_driver.h): the
 * SQL of both dialects side by side, the column specs that decode a row into a record, the
 * three shapes an op takes (run a statement, read one row, read a list) and the transaction
 * that stores a user with the row that needs it. The store.h wrappers have checked every
 * argument; the drivers (sql_driver_sqlite.c, sql_driver_mariadb.c) own connections, binding,
 * error mapping and retries. */
#include "store/sql_driver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "store/migrations.h"

static const char *const dialect_names[SQL_DIALECT_COUNT] = {[SQL_SQLITE] = "sqlite", [SQL_MARIADB] = "mariadb"};

/* ---- the statements ---- */

/* Key columns compare bytes on both (MariaDB: utf8mb4_nopad_bin, 0001_init.sql); MariaDB's ORDER
 * BY CAST(… AS BINARY) also sorts bytewise, as SQLite does, whatever collation an older or
 * hand-made table has. Inserts fail on a duplicate key (no ON CONFLICT DO NOTHING, no INSERT
 * IGNORE, which would hide other errors too): add_body() turns a repeated interaction_id into
 * the stored row. */
#define SAME(sql)                                   \
    {                                               \
        [SQL_SQLITE] = (sql), [SQL_MARIADB] = (sql) \
    }
/* clang-format off */
const char *const sql_statements[SQL_STMT_COUNT][SQL_DIALECT_COUNT] = {
    [SQL_HAS_HISTORY] = {
        [SQL_SQLITE] = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        [SQL_MARIADB] = "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                        "AND TABLE_NAME = 'schema_migrations'"},
    [SQL_MIGRATIONS_APPLIED] = {
        [SQL_SQLITE] = "SELECT name FROM schema_migrations ORDER BY name",
        [SQL_MARIADB] = "SELECT name FROM schema_migrations ORDER BY CAST(name AS BINARY)"},
    [SQL_MIGRATION_RECORD] = SAME("INSERT INTO schema_migrations (name, applied_at_ms) VALUES (?, ?)"),
    /* A NULL name keeps the one we have: callers that do not know it must not erase it. */
    [SQL_USER_UPSERT] = {
        [SQL_SQLITE] = "INSERT INTO users (user_id, username, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (user_id) DO UPDATE SET username = coalesce(excluded.username, users.username), "
                       "updated_at_ms = excluded.updated_at_ms",
        [SQL_MARIADB] = "INSERT INTO users (user_id, username, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?) "
                        "ON DUPLICATE KEY UPDATE username = COALESCE(VALUES(username), username), "
                        "updated_at_ms = VALUES(updated_at_ms)"},
    [SQL_CONSENT_GET] = SAME("SELECT allowed FROM consents WHERE user_id = ? AND scope_id = ?"),
    [SQL_CONSENT_UPSERT] = {
        [SQL_SQLITE] = "INSERT INTO consents (user_id, scope_id, allowed, updated_at_ms) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (user_id, scope_id) DO UPDATE SET allowed = excluded.allowed, "
                       "updated_at_ms = excluded.updated_at_ms",
        [SQL_MARIADB] = "INSERT INTO consents (user_id, scope_id, allowed, updated_at_ms) VALUES (?, ?, ?, ?) "
                        "ON DUPLICATE KEY UPDATE allowed = VALUES(allowed), updated_at_ms = VALUES(updated_at_ms)"},
    [SQL_MEMORY_INSERT] = SAME("INSERT INTO memories (id, user_id, scope_id, note, tags, context, interaction_id, "
                               "created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
    [SQL_MEMORY_BY_INTERACTION] = SAME("SELECT id FROM memories WHERE interaction_id = ?"),
    [SQL_MEMORY_LIST] = SAME("SELECT id, user_id, scope_id, note, tags, context, created_at_ms FROM memories "
                             "WHERE user_id = ? AND scope_id = ? ORDER BY seq DESC LIMIT ?"),
    [SQL_MEMORY_LIST_ALL_SCOPES] = SAME("SELECT id, user_id, scope_id, note, tags, context, created_at_ms "
                                        "FROM memories WHERE user_id = ? ORDER BY seq DESC LIMIT ?"),
    [SQL_MEMORY_FIND] = SAME("SELECT id, user_id, scope_id, note, tags, context, created_at_ms FROM memories "
                             "WHERE user_id = ? AND scope_id = ? AND (note LIKE ? ESCAPE '!' OR id LIKE ? ESCAPE '!') "
                             "ORDER BY seq DESC LIMIT ?"),
    [SQL_MEMORY_DELETE] = SAME("DELETE FROM memories WHERE id = ? AND user_id = ? AND scope_id = ?"),
    [SQL_MEMORY_DELETE_ALL] = SAME("DELETE FROM memories WHERE user_id = ? AND scope_id = ?"),
    [SQL_MODE_GET] = SAME("SELECT modes FROM mode_configs WHERE guild_id = ? AND target_type = ? AND target_id = ?"),
    [SQL_MODE_UPSERT] = {
        [SQL_SQLITE] = "INSERT INTO mode_configs (guild_id, target_type, target_id, modes, updated_at_ms) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, target_type, target_id) "
                       "DO UPDATE SET modes = excluded.modes, updated_at_ms = excluded.updated_at_ms",
        [SQL_MARIADB] = "INSERT INTO mode_configs (guild_id, target_type, target_id, modes, updated_at_ms) "
                        "VALUES (?, ?, ?, ?, ?) "
                        "ON DUPLICATE KEY UPDATE modes = VALUES(modes), updated_at_ms = VALUES(updated_at_ms)"},
    [SQL_MODE_DELETE] = SAME("DELETE FROM mode_configs WHERE guild_id = ? AND target_type = ? AND target_id = ?"),
    [SQL_MODE_LIST] = {
        [SQL_SQLITE] = "SELECT guild_id, target_type, target_id, modes, updated_at_ms FROM mode_configs "
                       "WHERE guild_id = ? ORDER BY target_type, target_id",
        [SQL_MARIADB] = "SELECT guild_id, target_type, target_id, modes, updated_at_ms FROM mode_configs "
                        "WHERE guild_id = ? ORDER BY target_type, CAST(target_id AS BINARY)"},
    [SQL_ADJUSTMENT_UPSERT] = {
        [SQL_SQLITE] = "INSERT INTO personality_adjustments (scope_id, parameter, value, updated_by, updated_at_ms) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope_id, parameter) DO UPDATE SET "
                       "value = excluded.value, updated_by = excluded.updated_by, "
                       "updated_at_ms = excluded.updated_at_ms",
        [SQL_MARIADB] = "INSERT INTO personality_adjustments (scope_id, parameter, value, updated_by, updated_at_ms) "
                        "VALUES (?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value), "
                        "updated_by = VALUES(updated_by), updated_at_ms = VALUES(updated_at_ms)"},
    [SQL_ADJUSTMENT_LIST] = {
        [SQL_SQLITE] = "SELECT parameter, value, updated_by, updated_at_ms FROM personality_adjustments "
                       "WHERE scope_id = ? ORDER BY parameter",
        [SQL_MARIADB] = "SELECT parameter, value, updated_by, updated_at_ms FROM personality_adjustments "
                        "WHERE scope_id = ? ORDER BY CAST(parameter AS BINARY)"},
    [SQL_SNAIL_STATS_INSERT] = SAME("INSERT INTO snail_stats (user_id, scope_id, screenshot_url, hp, atk, def, rush, "
                                    "fame, tech, art, civ, fth, analysis_text, interaction_id, created_at_ms) "
                                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    [SQL_SNAIL_STATS_BY_INTERACTION] = SAME("SELECT id FROM snail_stats WHERE interaction_id = ?"),
    [SQL_SNAIL_STATS_LIST] = SAME("SELECT id, user_id, hp, atk, def, rush, fame, tech, art, civ, fth, created_at_ms "
                                  "FROM snail_stats WHERE user_id = ? AND scope_id = ? ORDER BY id DESC LIMIT ?"),
    [SQL_IMAGE_LOG_INSERT] = SAME("INSERT INTO image_generation_log (user_id, scope_id, channel_id, prompt, "
                                  "enhanced_prompt, style, rating, model, success, error_message, created_at_ms) "
                                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
    [SQL_COMMAND_USAGE_INSERT] = SAME("INSERT INTO command_usage (user_id, scope_id, command, success, latency_ms, "
                                      "created_at_ms) VALUES (?, ?, ?, ?, ?, ?)"),
    /* Counted per user first, then joined to users: the name is one lookup per ranked user. */
    [SQL_LEADERBOARD] = {
        [SQL_SQLITE] = "SELECT t.user_id, u.username, t.analyses, t.last_at_ms FROM "
                       "(SELECT user_id, count(*) AS analyses, max(created_at_ms) AS last_at_ms FROM snail_stats "
                       "WHERE scope_id = ? GROUP BY user_id) AS t LEFT JOIN users AS u ON u.user_id = t.user_id "
                       "ORDER BY t.analyses DESC, t.last_at_ms DESC, t.user_id LIMIT ?",
        [SQL_MARIADB] = "SELECT t.user_id, u.username, t.analyses, t.last_at_ms FROM "
                        "(SELECT user_id, COUNT(*) AS analyses, MAX(created_at_ms) AS last_at_ms FROM snail_stats "
                        "WHERE scope_id = ? GROUP BY user_id) AS t LEFT JOIN users AS u ON u.user_id = t.user_id "
                        "ORDER BY t.analyses DESC, t.last_at_ms DESC, CAST(t.user_id AS BINARY) LIMIT ?"},
    /* The counts see only rows since the last parameter; last active is over every row (store.h). */
    [SQL_USER_STATS] = SAME("SELECT COUNT(CASE WHEN command IN ('chat', 'Ask Slimy') THEN 1 END), "
                            "COUNT(CASE WHEN command = 'dream' THEN 1 END), COUNT(*), "
                            "(SELECT COALESCE(MAX(created_at_ms), 0) FROM command_usage "
                            "WHERE user_id = ? AND scope_id = ?) "
                            "FROM command_usage WHERE user_id = ? AND scope_id = ? AND created_at_ms >= ?"),
    [SQL_COUNTS] = SAME("SELECT (SELECT COUNT(*) FROM memories), (SELECT COUNT(*) FROM image_generation_log), "
                        "(SELECT COUNT(*) FROM snail_stats), (SELECT COUNT(*) FROM users)"),
};
/* clang-format on */
#undef SAME

/* ---- decoding a row into a record ---- */

enum col_type {
    COL_TEXT,    /* a fixed char array of size bytes; cut to fit (ids are capped at write time) */
    COL_STR,     /* an owned char * */
    COL_INT,     /* an integer (any signedness) of 8 or 4 bytes */
    COL_BOOL,    /* a bool */
    COL_OPT_INT, /* an int64_t, and a bool at flag saying whether the column was not NULL */
};

struct col {
    enum col_type type;
    size_t offset; /* of the field in the record */
    size_t size;
    size_t flag; /* COL_OPT_INT */
};

#define FIELD_SIZE(T, f) sizeof(((T *)0)->f)
#define C_TEXT(T, f)                                  \
    {                                                 \
        COL_TEXT, offsetof(T, f), FIELD_SIZE(T, f), 0 \
    }
#define C_STR(T, f)                   \
    {                                 \
        COL_STR, offsetof(T, f), 0, 0 \
    }
#define C_INT(T, f)                                  \
    {                                                \
        COL_INT, offsetof(T, f), FIELD_SIZE(T, f), 0 \
    }
#define C_STAT(i)                                                                                                     \
    {                                                                                                                 \
        COL_OPT_INT, offsetof(struct store_snail_stats, stats[i]), 8, offsetof(struct store_snail_stats, has_stat[i]) \
    }
/* The one column of a lookup, decoded straight into the caller's variable. */
#define C_VALUE(type, size) \
    {                       \
        type, 0, size, 0    \
    }

/* NULL is "" for texts and 0 for numbers: the records have no other way to say it. */
static int decode(struct sql_session *s, const struct col *cols, size_t n_cols, void *record)
{
    for (size_t i = 0; i < n_cols; i++) {
        const struct col *col = &cols[i];
        char *field = (char *)record + col->offset;
        const char *text = NULL;
        size_t len = 0;
        int64_t value = 0;
        bool is_null = true;
        int rc = col->type == COL_TEXT || col->type == COL_STR
                     ? s->drv->col_text(s->conn, (unsigned)i, &text, &len)
                     : s->drv->col_int(s->conn, (unsigned)i, &value, &is_null);
        if (rc)
            return rc;
        if (!text)
            len = 0;
        switch (col->type) {
        case COL_TEXT:
            len = len < col->size ? len : col->size - 1;
            if (len)
                memcpy(field, text, len);
            field[len] = '\0';
            break;
        case COL_STR: {
            char *copy = malloc(len + 1);
            if (!copy)
                return SLIMY_ENOMEM;
            if (len)
                memcpy(copy, text, len);
            copy[len] = '\0';
            memcpy(field, &copy, sizeof copy);
            break;
        }
        case COL_INT:
            if (col->size == sizeof(int64_t)) {
                memcpy(field, &value, sizeof value);
            } else {
                uint32_t narrow = (uint32_t)value; /* int, unsigned and enums: all 4 bytes here */
                memcpy(field, &narrow, sizeof narrow);
            }
            break;
        case COL_BOOL: *(bool *)field = value != 0; break;
        case COL_OPT_INT:
            memcpy(field, &value, sizeof value);
            *(bool *)((char *)record + col->flag) = !is_null;
            break;
        }
    }
    return SLIMY_OK;
}

/* Frees the owned texts (COL_STR) of n records. */
static void free_records(const struct col *cols, size_t n_cols, char *items, size_t n, size_t item_size)
{
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < n_cols; c++)
            if (cols[c].type == COL_STR) {
                char *text;
                memcpy(&text, items + i * item_size + cols[c].offset, sizeof text);
                free(text);
            }
    free(items);
}

/* ---- the three shapes of an op ---- */

/* One statement with its parameters, and where its answer goes. */
struct call {
    enum sql_stmt stmt;
    struct sql_value params[SQL_MAX_PARAMS];
    size_t n_params;
    const struct col *cols; /* a query's select list */
    size_t n_cols;
    void *row;        /* row_body(): the record the first row is decoded into */
    bool found;       /* row_body(): there was a row */
    size_t item_size; /* list_body(): the record size */
    void *items;      /* list_body(): the owned array of n records read; NULL when none */
    size_t n;
    uint64_t changes;  /* exec_body(): the rows changed */
    int64_t insert_id; /* exec_body(): the id generated */
};

#define PARAMS(...) \
    .params = {__VA_ARGS__}, .n_params = sizeof((struct sql_value[]){__VA_ARGS__}) / sizeof(struct sql_value)
#define COLS(c) .cols = (c), .n_cols = sizeof(c) / sizeof((c)[0])

static int exec_body(struct sql_session *s, void *arg)
{
    struct call *q = arg;
    return s->drv->exec(s->conn, q->stmt, q->params, q->n_params, &q->changes, &q->insert_id);
}

static int row_body(struct sql_session *s, void *arg)
{
    struct call *q = arg;
    q->found = false;
    int rc = s->drv->query(s->conn, q->stmt, q->params, q->n_params);
    if (!rc)
        rc = s->drv->next(s->conn, &q->found);
    if (!rc && q->found)
        rc = decode(s, q->cols, q->n_cols, q->row);
    s->drv->query_end(s->conn);
    return rc;
}

/* Reads every row into a new array; on failure frees what it read (none is items NULL, n 0). */
static int list_body(struct sql_session *s, void *arg)
{
    struct call *q = arg;
    char *items = NULL;
    size_t n = 0, cap = 0;
    int rc = s->drv->query(s->conn, q->stmt, q->params, q->n_params);
    while (!rc) {
        bool has_row = false;
        rc = s->drv->next(s->conn, &has_row);
        if (rc || !has_row)
            break;
        if (n == cap) {
            size_t new_cap = cap ? cap * 2 : 8;
            char *grown = realloc(items, new_cap * q->item_size);
            if (!grown) {
                rc = SLIMY_ENOMEM;
                break;
            }
            items = grown;
            cap = new_cap;
        }
        char *item = items + n * q->item_size;
        memset(item, 0, q->item_size);
        n++; /* counted first, so a half-read record is freed below */
        rc = decode(s, q->cols, q->n_cols, item);
    }
    s->drv->query_end(s->conn);
    if (rc || n == 0) {
        free_records(q->cols, q->n_cols, items, n, q->item_size);
        items = NULL;
        n = 0;
    }
    q->items = items;
    q->n = n;
    return rc;
}

static int end_transaction(struct sql_session *s, int rc)
{
    if (!rc)
        rc = s->drv->commit(s->conn);
    if (rc)
        s->drv->rollback(s->conn);
    return rc;
}

/* consent_set, memory_add and snail_stats_add: the user upsert and the row that needs it, in one
 * transaction. INSERT first and look up on a duplicate interaction_id, rather than the other way
 * round: two workers retrying one job at once then still store it once, and both get its id. A
 * duplicate whose row is not there was another key (a UUID collision): SLIMY_EINTERNAL. */
struct write {
    struct call user, row;
    struct call lookup; /* no parameters: no idempotency key, a duplicate is an error */
};

static int write_body(struct sql_session *s, void *arg)
{
    struct write *w = arg;
    w->lookup.found = false;
    int rc = s->drv->begin(s->conn);
    if (rc)
        return rc;
    rc = exec_body(s, &w->user);
    if (!rc)
        rc = exec_body(s, &w->row);
    if (rc == SLIMY_ECONFLICT && w->lookup.n_params) {
        rc = row_body(s, &w->lookup);
        if (!rc && !w->lookup.found)
            rc = SLIMY_EINTERNAL;
    }
    return end_transaction(s, rc);
}

static struct call user_upsert(const char *user_id, const char *user_name, int64_t at_ms)
{
    return (struct call){.stmt = SQL_USER_UPSERT,
                         PARAMS(sql_text(user_id), sql_text(user_name), sql_int(at_ms), sql_int(at_ms))};
}

static int run(struct store *st, const char *op, sql_body body, void *arg)
{
    struct sql_store *s = (struct sql_store *)st;
    return s->drv->run(s, op, body, arg);
}

static size_t clamp_max(size_t max)
{
    return max > STORE_LIST_MAX ? STORE_LIST_MAX : max;
}

/* ---- the ops ---- */

static void sql_close(struct store *st)
{
    struct sql_store *s = (struct sql_store *)st;
    s->drv->close(s);
}

static int ping_body(struct sql_session *s, void *arg)
{
    (void)arg;
    return s->drv->ping(s->conn);
}

static int sql_ping(struct store *st)
{
    return run(st, "ping", ping_body, NULL);
}

static int sql_consent_get(struct store *st, const char *user_id, const char *scope_id, bool *allowed)
{
    static const struct col cols[] = {C_VALUE(COL_BOOL, sizeof(bool))};
    struct call q = {.stmt = SQL_CONSENT_GET,
                     PARAMS(sql_text(user_id), sql_text(scope_id)),
                     COLS(cols),
                     .row = allowed};
    return run(st, "consent_get", row_body, &q);
}

static int sql_consent_set(struct store *st, const char *user_id, const char *user_name, const char *scope_id,
                           bool allow)
{
    int64_t at_ms = sql_now_ms();
    struct write w = {
        .user = user_upsert(user_id, user_name, at_ms),
        .row = {.stmt = SQL_CONSENT_UPSERT,
                PARAMS(sql_text(user_id), sql_text(scope_id), sql_bool(allow), sql_int(at_ms))},
    };
    return run(st, "consent_set", write_body, &w);
}

static int sql_memory_add(struct store *st, const struct store_memory_new *m, char id_out[STORE_ID_MAX])
{
    static const struct col cols[] = {C_VALUE(COL_TEXT, STORE_ID_MAX)};
    int64_t at_ms = sql_now_ms();
    char id[STORE_ID_MAX], stored_id[STORE_ID_MAX];
    store_uuid_v4(id);
    struct write w = {
        .user = user_upsert(m->user_id, m->user_name, at_ms),
        .row = {.stmt = SQL_MEMORY_INSERT,
                PARAMS(sql_text(id), sql_text(m->user_id), sql_text(m->scope_id), sql_text(m->note),
                       sql_text(m->tags_json ? m->tags_json : "[]"), sql_text(m->context_json ? m->context_json : "{}"),
                       sql_text(m->interaction_id), sql_int(at_ms))},
        .lookup = {.stmt = SQL_MEMORY_BY_INTERACTION,
                   PARAMS(sql_text(m->interaction_id)),
                   COLS(cols),
                   .row = stored_id},
    };
    if (!m->interaction_id)
        w.lookup.n_params = 0;
    int rc = run(st, "memory_add", write_body, &w);
    if (!rc)
        memcpy(id_out, w.lookup.found ? stored_id : id, STORE_ID_MAX);
    return rc;
}

static const struct col memory_cols[] = {
    C_TEXT(struct store_memory, id),           C_TEXT(struct store_memory, user_id),
    C_TEXT(struct store_memory, scope_id),     C_STR(struct store_memory, note),
    C_STR(struct store_memory, tags_json),     C_STR(struct store_memory, context_json),
    C_INT(struct store_memory, created_at_ms),
};

/* A NULL scope_id lists the user's memories in every scope (an export of their own data). */
static int sql_memory_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                           struct store_memories *out)
{
    max = clamp_max(max);
    if (max == 0)
        return SLIMY_OK;
    struct call q = {.stmt = scope_id ? SQL_MEMORY_LIST : SQL_MEMORY_LIST_ALL_SCOPES,
                     COLS(memory_cols),
                     .item_size = sizeof *out->items};
    q.params[q.n_params++] = sql_text(user_id);
    if (scope_id)
        q.params[q.n_params++] = sql_text(scope_id);
    q.params[q.n_params++] = sql_int((int64_t)max);
    int rc = run(st, "memory_list", list_body, &q);
    out->items = q.items;
    out->n = q.n;
    return rc;
}

/* "%text%" for LIKE ... ESCAPE '!', with the pattern characters of text taken literally. */
static char *contains_pattern(const char *text)
{
    size_t len = strlen(text);
    char *p = malloc(2 * len + 3), *w = p;
    if (!p)
        return NULL;
    *w++ = '%';
    for (const char *r = text; *r; r++) {
        if (*r == '%' || *r == '_' || *r == '!')
            *w++ = '!';
        *w++ = *r;
    }
    *w++ = '%';
    *w = '\0';
    return p;
}

static int sql_memory_find(struct store *st, const char *user_id, const char *scope_id, const char *text, size_t max,
                           struct store_memories *out)
{
    max = clamp_max(max);
    char *pattern = max ? contains_pattern(text) : NULL;
    if (!pattern)
        return max ? SLIMY_ENOMEM : SLIMY_OK;
    struct call q = {.stmt = SQL_MEMORY_FIND,
                     PARAMS(sql_text(user_id), sql_text(scope_id), sql_text(pattern), sql_text(pattern),
                            sql_int((int64_t)max)),
                     COLS(memory_cols),
                     .item_size = sizeof *out->items};
    int rc = run(st, "memory_find", list_body, &q);
    free(pattern);
    out->items = q.items;
    out->n = q.n;
    return rc;
}

/* Run again after a reconnect, a delete whose first run did reach the server finds nothing:
 * SLIMY_ENOTFOUND, which is also what the user's intent now looks like. */
static int sql_memory_delete(struct store *st, const char *user_id, const char *scope_id, const char *id)
{
    struct call q = {.stmt = SQL_MEMORY_DELETE, PARAMS(sql_text(id), sql_text(user_id), sql_text(scope_id))};
    int rc = run(st, "memory_delete", exec_body, &q);
    return !rc && q.changes == 0 ? SLIMY_ENOTFOUND : rc;
}

static int sql_memory_delete_all(struct store *st, const char *user_id, const char *scope_id, uint64_t *n_deleted)
{
    struct call q = {.stmt = SQL_MEMORY_DELETE_ALL, PARAMS(sql_text(user_id), sql_text(scope_id))};
    int rc = run(st, "memory_delete_all", exec_body, &q);
    *n_deleted = rc ? 0 : q.changes;
    return rc;
}

static int sql_mode_get(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                        unsigned *modes)
{
    static const struct col cols[] = {C_VALUE(COL_INT, sizeof(unsigned))};
    struct call q = {.stmt = SQL_MODE_GET,
                     PARAMS(sql_text(guild_id), sql_int(type), sql_text(target_id)),
                     COLS(cols),
                     .row = modes};
    return run(st, "mode_get", row_body, &q);
}

static int sql_mode_put(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                        unsigned modes)
{
    struct call q = {.stmt = SQL_MODE_DELETE, PARAMS(sql_text(guild_id), sql_int(type), sql_text(target_id))};
    if (modes) {
        q.stmt = SQL_MODE_UPSERT;
        q.params[q.n_params++] = sql_int(modes);
        q.params[q.n_params++] = sql_int(sql_now_ms());
    }
    return run(st, "mode_put", exec_body, &q);
}

static int sql_mode_list(struct store *st, const char *guild_id, struct store_mode_configs *out)
{
    static const struct col cols[] = {
        C_TEXT(struct store_mode_config, guild_id),     C_INT(struct store_mode_config, target_type),
        C_TEXT(struct store_mode_config, target_id),    C_INT(struct store_mode_config, modes),
        C_INT(struct store_mode_config, updated_at_ms),
    };
    struct call q = {.stmt = SQL_MODE_LIST, PARAMS(sql_text(guild_id)), COLS(cols), .item_size = sizeof *out->items};
    int rc = run(st, "mode_list", list_body, &q);
    out->items = q.items;
    out->n = q.n;
    return rc;
}

static int sql_adjustment_set(struct store *st, const char *scope_id, const char *parameter, int value,
                              const char *updated_by)
{
    struct call q = {.stmt = SQL_ADJUSTMENT_UPSERT,
                     PARAMS(sql_text(scope_id), sql_text(parameter), sql_int(value), sql_text(updated_by),
                            sql_int(sql_now_ms()))};
    return run(st, "adjustment_set", exec_body, &q);
}

static int sql_adjustment_list(struct store *st, const char *scope_id, struct store_adjustments *out)
{
    static const struct col cols[] = {
        C_TEXT(struct store_adjustment, parameter),
        C_INT(struct store_adjustment, value),
        C_TEXT(struct store_adjustment, updated_by),
        C_INT(struct store_adjustment, updated_at_ms),
    };
    struct call q = {.stmt = SQL_ADJUSTMENT_LIST,
                     PARAMS(sql_text(scope_id)),
                     COLS(cols),
                     .item_size = sizeof *out->items};
    int rc = run(st, "adjustment_list", list_body, &q);
    out->items = q.items;
    out->n = q.n;
    return rc;
}

static int sql_snail_stats_add(struct store *st, const struct store_snail_stats_new *new_stats, int64_t *id_out)
{
    static const struct col cols[] = {C_VALUE(COL_INT, sizeof(int64_t))};
    int64_t at_ms = sql_now_ms(), stored_id = 0;
    struct write w = {
        .user = user_upsert(new_stats->user_id, new_stats->user_name, at_ms),
        .row = {.stmt = SQL_SNAIL_STATS_INSERT,
                PARAMS(sql_text(new_stats->user_id), sql_text(new_stats->scope_id),
                       sql_text(new_stats->screenshot_url))},
        .lookup = {.stmt = SQL_SNAIL_STATS_BY_INTERACTION,
                   PARAMS(sql_text(new_stats->interaction_id)),
                   COLS(cols),
                   .row = &stored_id},
    };
    /* No stats array means none known; no has_stat array means all of them known. */
    for (int i = 0; i < STORE_SNAIL_STATS_N; i++) {
        bool is_known = new_stats->stats && (!new_stats->has_stat || new_stats->has_stat[i]);
        w.row.params[w.row.n_params++] = is_known ? sql_int(new_stats->stats[i]) : sql_null();
    }
    w.row.params[w.row.n_params++] = sql_text(new_stats->analysis_text);
    w.row.params[w.row.n_params++] = sql_text(new_stats->interaction_id);
    w.row.params[w.row.n_params++] = sql_int(at_ms);
    if (!new_stats->interaction_id)
        w.lookup.n_params = 0;
    int rc = run(st, "snail_stats_add", write_body, &w);
    if (!rc)
        *id_out = w.lookup.found ? stored_id : w.row.insert_id;
    return rc;
}

static int sql_snail_stats_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                                struct store_snail_stats_list *out)
{
    static const struct col cols[] = {
        C_INT(struct store_snail_stats, id),
        C_TEXT(struct store_snail_stats, user_id),
        C_STAT(0),
        C_STAT(1),
        C_STAT(2),
        C_STAT(3),
        C_STAT(4),
        C_STAT(5),
        C_STAT(6),
        C_STAT(7),
        C_STAT(8),
        C_INT(struct store_snail_stats, created_at_ms),
    };
    _Static_assert(sizeof cols / sizeof cols[0] == STORE_SNAIL_STATS_N + 3, "one C_STAT per snail stat");
    max = clamp_max(max);
    if (max == 0)
        return SLIMY_OK;
    struct call q = {.stmt = SQL_SNAIL_STATS_LIST,
                     PARAMS(sql_text(user_id), sql_text(scope_id), sql_int((int64_t)max)),
                     COLS(cols),
                     .item_size = sizeof *out->items};
    int rc = run(st, "snail_stats_list", list_body, &q);
    out->items = q.items;
    out->n = q.n;
    return rc;
}

/* A log row: run again after a reconnect it may, rarely, be stored twice (store.h). */
static int sql_image_log_add(struct store *st, const struct store_image_log_new *e)
{
    struct call q = {.stmt = SQL_IMAGE_LOG_INSERT,
                     PARAMS(sql_text(e->user_id), sql_text(e->scope_id), sql_text(e->channel_id), sql_text(e->prompt),
                            sql_text(e->enhanced_prompt), sql_text(e->style), sql_text(e->rating), sql_text(e->model),
                            sql_bool(e->success), sql_text(e->error_message), sql_int(sql_now_ms()))};
    return run(st, "image_log_add", exec_body, &q);
}

static int sql_command_usage_add(struct store *st, const char *user_id, const char *scope_id, const char *command,
                                 bool success, int64_t latency_ms)
{
    struct call q = {.stmt = SQL_COMMAND_USAGE_INSERT,
                     PARAMS(sql_text(user_id), sql_text(scope_id), sql_text(command), sql_bool(success),
                            sql_int(latency_ms), sql_int(sql_now_ms()))};
    return run(st, "command_usage_add", exec_body, &q);
}

static int sql_leaderboard(struct store *st, const char *scope_id, size_t max, struct store_leaderboard *out)
{
    static const struct col cols[] = {
        C_TEXT(struct store_leaderboard_entry, user_id),
        C_STR(struct store_leaderboard_entry, user_name),
        C_INT(struct store_leaderboard_entry, analyses),
        C_INT(struct store_leaderboard_entry, last_at_ms),
    };
    max = clamp_max(max);
    if (max == 0)
        return SLIMY_OK;
    struct call q = {.stmt = SQL_LEADERBOARD,
                     PARAMS(sql_text(scope_id), sql_int((int64_t)max)),
                     COLS(cols),
                     .item_size = sizeof *out->items};
    int rc = run(st, "leaderboard", list_body, &q);
    out->items = q.items;
    out->n = q.n;
    return rc;
}

static int sql_user_stats(struct store *st, const char *user_id, const char *scope_id, int64_t since_ms,
                          struct store_user_stats *out)
{
    static const struct col cols[] = {
        C_INT(struct store_user_stats, chats),
        C_INT(struct store_user_stats, images),
        C_INT(struct store_user_stats, commands),
        C_INT(struct store_user_stats, last_active_ms),
    };
    struct call q = {.stmt = SQL_USER_STATS,
                     PARAMS(sql_text(user_id), sql_text(scope_id), sql_text(user_id), sql_text(scope_id),
                            sql_int(since_ms)),
                     COLS(cols),
                     .row = out};
    int rc = run(st, "user_stats", row_body, &q); /* an aggregate: always one row */
    if (rc)
        *out = (struct store_user_stats){0};
    return rc;
}

static int sql_counts(struct store *st, struct store_counts *out)
{
    static const struct col cols[] = {
        C_INT(struct store_counts, memories),
        C_INT(struct store_counts, images),
        C_INT(struct store_counts, snail_stats),
        C_INT(struct store_counts, users),
    };
    struct call q = {.stmt = SQL_COUNTS, COLS(cols), .row = out};
    int rc = run(st, "counts", row_body, &q);
    if (rc)
        *out = (struct store_counts){0};
    return rc;
}

struct names {
    char **names;
    size_t n;
};

static int applied_body(struct sql_session *s, void *arg)
{
    struct names *a = arg;
    return sql_read_applied(s, &a->names, &a->n);
}

/* Works on an unmigrated database too (`slimy migrate --status` before `slimy migrate`). */
static int sql_migrations_applied(struct store *st, char ***names, size_t *n)
{
    struct names a = {0};
    int rc = run(st, "migrations_applied", applied_body, &a);
    *names = a.names;
    *n = a.n;
    return rc;
}

#define SQL_OPS(dialect)                                                                                          \
    {                                                                                                             \
        .name = dialect, .close = sql_close, .ping = sql_ping, .consent_get = sql_consent_get,                    \
        .consent_set = sql_consent_set, .memory_add = sql_memory_add, .memory_list = sql_memory_list,             \
        .memory_find = sql_memory_find, .memory_delete = sql_memory_delete,                                       \
        .memory_delete_all = sql_memory_delete_all, .mode_get = sql_mode_get, .mode_put = sql_mode_put,           \
        .mode_list = sql_mode_list, .adjustment_set = sql_adjustment_set, .adjustment_list = sql_adjustment_list, \
        .snail_stats_add = sql_snail_stats_add, .snail_stats_list = sql_snail_stats_list,                         \
        .image_log_add = sql_image_log_add, .command_usage_add = sql_command_usage_add,                           \
        .leaderboard = sql_leaderboard, .user_stats = sql_user_stats, .counts = sql_counts,                       \
        .migrations_applied = sql_migrations_applied,                                                             \
    }

/* The same ops for both; only the name (ops->name, the migrations' dialect) differs. */
static const struct store_ops sql_ops[SQL_DIALECT_COUNT] = {
    [SQL_SQLITE] = SQL_OPS("sqlite"),
    [SQL_MARIADB] = SQL_OPS("mariadb"),
};

/* ---- for the drivers ---- */

void sql_store_init(struct sql_store *st, const struct sql_driver *drv)
{
    st->base.ops = &sql_ops[drv->dialect];
    st->drv = drv;
}

int sql_read_applied(struct sql_session *s, char ***names, size_t *n)
{
    static const struct col history_cols[] = {C_VALUE(COL_INT, sizeof(int64_t))};
    static const struct col name_cols[] = {C_VALUE(COL_STR, 0)};
    int64_t has_history = 0;
    struct call history = {.stmt = SQL_HAS_HISTORY, COLS(history_cols), .row = &has_history};
    struct call list = {.stmt = SQL_MIGRATIONS_APPLIED, COLS(name_cols), .item_size = sizeof(char *)};
    *names = NULL;
    *n = 0;
    int rc = row_body(s, &history);
    if (!rc && has_history)
        rc = list_body(s, &list);
    *names = list.items;
    *n = list.n;
    return rc;
}

bool sql_names_have(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

int sql_first_pending(struct sql_session *s, const char **pending)
{
    char **applied = NULL;
    size_t n_applied = 0, n = 0;
    *pending = NULL;
    int rc = sql_read_applied(s, &applied, &n_applied);
    const struct migration *list = migrations_list(dialect_names[s->drv->dialect], &n);
    for (size_t i = 0; !rc && i < n && !*pending; i++)
        if (!sql_names_have(applied, n_applied, list[i].name))
            *pending = list[i].name;
    store_names_free(applied, n_applied);
    return rc;
}

void sql_log_failure(const char *op, int rc, unsigned code, const char *error)
{
    if (rc == SLIMY_EUNAVAILABLE || rc == SLIMY_EINTERNAL || rc == SLIMY_ENOMEM)
        log_error("store error", LOG_S("op", op), LOG_I("code", code),
                  LOG_S("error", error && *error ? error : slimy_strerror(rc)));
    else if ((rc == SLIMY_EINVAL || rc == SLIMY_ECONFLICT) && code)
        log_warn("store refused a value", LOG_S("op", op), LOG_I("code", code), LOG_S("error", slimy_strerror(rc)));
}

void sql_set_err(char *err, size_t err_len, const char *fmt, ...)
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

int64_t sql_now_ms(void)
{
    return (int64_t)clock_wall_ms();
}
