/* store.h — everything Slimy keeps: users and consent, memories, mode configs, personality
 * adjustments, Super Snail stats, the image-generation log and command usage; and the two
 * summaries read from them (a scope's leaderboard, a user's command stats).
 *
 * One interface, two databases. Every op is written once, in store_sql.c, over a small driver
 * interface (sql_driver.h) with one driver per database:
 *   - SQLite (sql_driver_sqlite.c), the embedded default: one file at SQLITE_PATH, WAL mode;
 *   - MariaDB (sql_driver_mariadb.c), chosen by store_open() when DB_HOST is set: a pool of
 *     DB_CONNECTION_LIMIT connections, utf8mb4, prepared statements, reconnect after a restart.
 * Both apply the migrations in migrations/<dialect>/ (migrations.h) before store_open() returns.
 * The ops table below stays the seam (ops->name says which database), but callers use the
 * store_*() wrappers only: they hold every argument check, so the databases cannot disagree.
 *
 * Threading: every call is safe from any thread; calls block (worker threads only, never the
 * HTTP request path). Errors: SLIMY_EINVAL for input past a documented cap (an id passed in
 * must be 1..STORE_ID_MAX-1 bytes), SLIMY_ENOTFOUND, SLIMY_ECONFLICT for a duplicate key (never
 * for a repeated interaction_id, which returns the existing row; a duplicate whose row then
 * cannot be found, e.g. a memory UUID collision, is SLIMY_EINTERNAL), SLIMY_EUNAVAILABLE when the
 * database cannot be reached (after one reconnect attempt), SLIMY_ENOMEM, and SLIMY_EINTERNAL
 * for anything else; the store logs the driver's message once, with the op.
 * Lists sorted by text (mode targets, parameters) are in byte order on both backends, and text
 * keys compare byte for byte. SLIMY_EUNAVAILABLE also covers a schema that is not migrated and
 * a lock wait or deadlock that did not clear. A call that loses its MariaDB connection is run
 * once more after reconnecting, so image_log_add and command_usage_add may store a row twice
 * and memory_delete may answer SLIMY_ENOTFOUND when the first try already deleted it.
 * Ownership: every string passed in is borrowed for the call and copied when stored; every
 * result is a copy the caller frees with the matching *_free(). SQL is parameterised
 * everywhere: user text never becomes SQL.
 *
 * Scopes: a memory, a consent flag or a personality adjustment belongs to a scope: the guild id
 * in a server, "dm:<channel id>" in a DM with Slimy (so a DM is its own scope, never shared with a
 * server), or "user:<user id>" where Slimy was installed by the user alone (interaction.h). */
#ifndef SLIMY_STORE_STORE_H
#define SLIMY_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define STORE_ID_MAX 40              /* snowflakes (≤ 20 digits), "dm:" + snowflake, UUIDs (36) */
#define STORE_NOTE_MAX_BYTES 8000    /* a memory note (2000 characters of up to 4 bytes); longer is SLIMY_EINVAL */
#define STORE_TAGS_MAX_BYTES 1000    /* the tags JSON array text */
#define STORE_CONTEXT_MAX_BYTES 2000 /* the context JSON object text */
#define STORE_LIST_MAX 500           /* list calls clamp max to this */
#define STORE_FIND_MAX_BYTES 400     /* memory_find's text: what an autocomplete field can hold */
#define STORE_PARAMETER_MAX 32       /* a personality parameter name: 1..STORE_PARAMETER_MAX-1 bytes */
#define STORE_ADJUSTMENT_MIN 1       /* a personality adjustment's value range */
#define STORE_ADJUSTMENT_MAX 10
#define STORE_COMMAND_MAX_BYTES 64 /* a command_usage command name: 1..64 bytes */
#define STORE_SNAIL_STATS_N 9      /* Super Snail stats: hp, atk, def, rush, fame, tech, art, civ, fth */

struct store;
struct slimy_config;

/* ---- records ---- */

struct store_memory {
    char id[STORE_ID_MAX]; /* UUID v4 text */
    char user_id[STORE_ID_MAX];
    char scope_id[STORE_ID_MAX];
    char *note;            /* owned UTF-8 */
    char *tags_json;       /* owned JSON array text, e.g. ["a","b"]; "[]" when none */
    char *context_json;    /* owned JSON object text; "{}" when none */
    int64_t created_at_ms; /* unix ms */
};

struct store_memories {
    struct store_memory *items; /* owned array of n items, newest first */
    size_t n;
};

/* Input of store_memory_add(). */
struct store_memory_new {
    const char *user_id;
    const char *user_name; /* upserted into users; NULL keeps the stored name */
    const char *scope_id;
    const char *note;           /* ≤ STORE_NOTE_MAX_BYTES */
    const char *tags_json;      /* NULL = "[]" */
    const char *context_json;   /* NULL = "{}" */
    const char *interaction_id; /* idempotency key: a second add with the same id stores nothing */
};

enum store_target_type {
    TARGET_CATEGORY = 0,
    TARGET_CHANNEL = 1,
    TARGET_THREAD = 2
};

struct store_mode_config {
    char guild_id[STORE_ID_MAX];
    enum store_target_type target_type;
    char target_id[STORE_ID_MAX];
    unsigned modes; /* a bit set of modes (modes.h); never 0 (an all-off record is deleted) */
    int64_t updated_at_ms;
};

struct store_mode_configs {
    struct store_mode_config *items; /* owned, sorted by (target_type, target_id) */
    size_t n;
};

struct store_adjustment {
    char parameter[STORE_PARAMETER_MAX]; /* "enthusiasm", ... */
    int value;                           /* STORE_ADJUSTMENT_MIN..STORE_ADJUSTMENT_MAX */
    char updated_by[STORE_ID_MAX];       /* user id */
    int64_t updated_at_ms;
};

struct store_adjustments {
    struct store_adjustment *items; /* owned, sorted by parameter */
    size_t n;
};

struct store_snail_stats_new {
    const char *user_id;
    const char *user_name;
    const char *scope_id;
    const char *screenshot_url; /* may be NULL */
    const int64_t *stats;       /* STORE_SNAIL_STATS_N values, in that order; NULL = none known */
    const bool *has_stat;       /* which of them are known (false = NULL in the database); NULL = all */
    const char *analysis_text;  /* may be NULL */
    const char *interaction_id; /* idempotency key */
};

struct store_snail_stats {
    int64_t id;
    char user_id[STORE_ID_MAX];
    int64_t stats[STORE_SNAIL_STATS_N];
    bool has_stat[STORE_SNAIL_STATS_N];
    int64_t created_at_ms;
};

struct store_snail_stats_list {
    struct store_snail_stats *items; /* owned, newest first */
    size_t n;
};

/* One line of a scope's Super Snail leaderboard (store_leaderboard()). */
struct store_leaderboard_entry {
    char user_id[STORE_ID_MAX];
    char *user_name;    /* owned UTF-8 copy of the name users holds; "" when none was ever given */
    uint64_t analyses;  /* snail_stats rows of the user in the scope; always ≥ 1 */
    int64_t last_at_ms; /* created_at_ms of the newest of those rows (unix ms) */
};

struct store_leaderboard {
    struct store_leaderboard_entry *items; /* owned array of n entries, in rank order */
    size_t n;
};

/* One user's command use in one scope (store_user_stats()). The counts cover rows stored at or
 * after the call's since_ms; last_active_ms does not. */
struct store_user_stats {
    uint64_t chats;         /* uses of "chat" and "Ask Slimy" */
    uint64_t images;        /* uses of "dream" */
    uint64_t commands;      /* uses of any command, the two above included */
    int64_t last_active_ms; /* newest use at any time (unix ms); 0 if the user never used one there */
};

struct store_image_log_new {
    const char *user_id;
    const char *scope_id;   /* may be NULL */
    const char *channel_id; /* may be NULL; else an id like the others */
    const char *prompt;     /* never NULL */
    const char *enhanced_prompt;
    const char *style;
    const char *rating;
    const char *model;
    bool success;
    const char *error_message; /* NULL on success */
};

/* Row counts /diag shows. */
struct store_counts {
    uint64_t memories, images, snail_stats, users;
};

/* ---- the backend interface ---- */

struct store_ops {
    const char *name; /* "sqlite" or "mariadb" */
    void (*close)(struct store *st);
    /* Cheap round trip for /ready; SLIMY_EUNAVAILABLE when the database is unreachable. */
    int (*ping)(struct store *st);

    /* Consent for (user, scope). Absent means not granted: *allowed = false, SLIMY_OK. */
    int (*consent_get)(struct store *st, const char *user_id, const char *scope_id, bool *allowed);
    /* Sets consent; upserts the user. Idempotent. */
    int (*consent_set)(struct store *st, const char *user_id, const char *user_name, const char *scope_id, bool allow);

    /* Stores a memory and writes its id into id_out. If a memory with the same interaction_id
     * exists, stores nothing and returns that memory's id (a retried job is harmless).
     * SLIMY_EINVAL when a text passes its cap. */
    int (*memory_add)(struct store *st, const struct store_memory_new *m, char id_out[STORE_ID_MAX]);
    /* Up to max (clamped to STORE_LIST_MAX) memories of user in scope, newest first. A NULL
     * scope_id lists the user's memories in every scope (their own data, for a full export).
     * None is SLIMY_OK with out->n == 0. Free with store_memories_free(). */
    int (*memory_list)(struct store *st, const char *user_id, const char *scope_id, size_t max,
                       struct store_memories *out);
    /* Up to max (clamped to STORE_LIST_MAX) memories of user in scope whose note or id contains
     * text (case-insensitive for ASCII letters; "" matches every one), newest first: one query
     * on the (user, scope) index, quick enough for autocomplete. SLIMY_EINVAL past
     * STORE_FIND_MAX_BYTES of text. Free with store_memories_free(). */
    int (*memory_find)(struct store *st, const char *user_id, const char *scope_id, const char *text, size_t max,
                       struct store_memories *out);
    /* Deletes memory id if it belongs to user in scope; SLIMY_ENOTFOUND otherwise. */
    int (*memory_delete)(struct store *st, const char *user_id, const char *scope_id, const char *id);
    /* Deletes all of user's memories in scope; *n_deleted gets the count (0 is fine). */
    int (*memory_delete_all)(struct store *st, const char *user_id, const char *scope_id, uint64_t *n_deleted);

    /* The stored modes of one target; absent is SLIMY_OK with *modes == 0. */
    int (*mode_get)(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                    unsigned *modes);
    /* Stores the modes of a target; modes == 0 deletes the record. Idempotent. */
    int (*mode_put)(struct store *st, const char *guild_id, enum store_target_type type, const char *target_id,
                    unsigned modes);
    /* Every stored target of the guild. Free with store_mode_configs_free(). */
    int (*mode_list)(struct store *st, const char *guild_id, struct store_mode_configs *out);

    /* Personality adjustments of a scope (upsert by parameter, a name of 1..STORE_PARAMETER_MAX-1
     * bytes; value STORE_ADJUSTMENT_MIN..STORE_ADJUSTMENT_MAX; else SLIMY_EINVAL). */
    int (*adjustment_set)(struct store *st, const char *scope_id, const char *parameter, int value,
                          const char *updated_by);
    int (*adjustment_list)(struct store *st, const char *scope_id, struct store_adjustments *out);

    /* Super Snail stats: add (idempotent per interaction_id; *id_out gets the row id) and list
     * the newest max rows of user in scope. */
    int (*snail_stats_add)(struct store *st, const struct store_snail_stats_new *s, int64_t *id_out);
    int (*snail_stats_list)(struct store *st, const char *user_id, const char *scope_id, size_t max,
                            struct store_snail_stats_list *out);

    /* Appends one image-generation attempt. */
    int (*image_log_add)(struct store *st, const struct store_image_log_new *entry);
    /* Appends one command use (for /stats). command is the command path the dispatcher ran
     * ("chat", "consent status", "Ask Slimy"), 1..STORE_COMMAND_MAX_BYTES bytes; scope_id may be
     * NULL. */
    int (*command_usage_add)(struct store *st, const char *user_id, const char *scope_id, const char *command,
                             bool success, int64_t latency_ms);

    /* The Super Snail leaderboard of a scope (/leaderboard): up to max (clamped to
     * STORE_LIST_MAX) users with at least one snail_stats row in scope_id, ranked by that number
     * of rows, most first. Equal counts put the most recent analysis (last_at_ms) first, then
     * user ids in byte order, so the order is total and the same on both backends. A user
     * without a stored name has user_name "" (never NULL). None, or max 0, is SLIMY_OK with
     * out->n == 0. Free with store_leaderboard_free(), also after a failure. */
    int (*leaderboard)(struct store *st, const char *scope_id, size_t max, struct store_leaderboard *out);
    /* A user's command use in a scope (/stats), from the rows command_usage_add stored: rows at
     * or after since_ms (unix ms; any value, so 0 counts everything) are counted into
     * chats ("chat" or "Ask Slimy"), images ("dream") and commands (all of them); command names
     * compare byte for byte. last_active_ms is the newest row at any time, whatever since_ms
     * says, so a user idle for longer than the period is still not "never" active. No rows is
     * SLIMY_OK with every field 0. Nothing to free. */
    int (*user_stats)(struct store *st, const char *user_id, const char *scope_id, int64_t since_ms,
                      struct store_user_stats *out);

    /* Row counts for /diag. */
    int (*counts)(struct store *st, struct store_counts *out);

    /* Names of the migrations applied so far ("0001_init"), sorted; free with
     * store_names_free(). For `slimy migrate --status`. */
    int (*migrations_applied)(struct store *st, char ***names, size_t *n);
};

/* Base of every backend; backends embed it first. */
struct store {
    const struct store_ops *ops;
};

/* ---- opening ---- */

/* Opens the backend the configuration selects (DB_HOST set → MariaDB, else SQLite at
 * SQLITE_PATH) and, when apply_migrations is set, applies pending migrations (migrations.h)
 * under a lock so replicas starting together never race. With apply_migrations false the store
 * opens even when migrations are pending: ping and migrations_applied work (no
 * schema_migrations table means none applied); other calls may fail until they are applied.
 * On failure writes one line for the operator into err and returns SLIMY_EUNAVAILABLE (cannot
 * connect) or SLIMY_EINTERNAL (a migration failed). Close with store_close(). */
int store_open(const struct slimy_config *cfg, bool apply_migrations, struct store **out, char *err, size_t err_len);
void store_close(struct store *st);

/* ---- the API: callers use these, never ->ops-> ---- */

/* Every argument check lives here, in the wrappers, so the databases cannot disagree on what
 * they accept; the ops may assume it. Outputs are reset first, so they are defined (and safe to
 * free) whatever the call returns. */

/* 1..STORE_ID_MAX-1 bytes: ids land in fixed STORE_ID_MAX arrays when read back. */
static inline bool store_id_ok(const char *id)
{
    if (!id || !*id)
        return false;
    for (size_t i = 0; i < STORE_ID_MAX; i++)
        if (!id[i])
            return true;
    return false;
}

static inline bool store_optional_id_ok(const char *id)
{
    return !id || store_id_ok(id);
}

/* A text of at most max_bytes bytes; reads no further than max_bytes + 1, so an oversized one is
 * cheap to refuse. */
static inline bool store_text_fits(const char *text, size_t max_bytes)
{
    for (size_t i = 0; i <= max_bytes; i++)
        if (!text[i])
            return true;
    return false;
}

static inline bool store_target_type_ok(enum store_target_type type)
{
    return type == TARGET_CATEGORY || type == TARGET_CHANNEL || type == TARGET_THREAD;
}

static inline int store_ping(struct store *st)
{
    return st->ops->ping(st);
}
static inline int store_consent_get(struct store *st, const char *user_id, const char *scope_id, bool *allowed)
{
    *allowed = false;
    if (!store_id_ok(user_id) || !store_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->consent_get(st, user_id, scope_id, allowed);
}
static inline int store_consent_set(struct store *st, const char *user_id, const char *user_name, const char *scope_id,
                                    bool allow)
{
    if (!store_id_ok(user_id) || !store_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->consent_set(st, user_id, user_name, scope_id, allow);
}
static inline int store_memory_add(struct store *st, const struct store_memory_new *m, char id_out[STORE_ID_MAX])
{
    id_out[0] = '\0';
    if (!store_id_ok(m->user_id) || !store_id_ok(m->scope_id) || !store_optional_id_ok(m->interaction_id) || !m->note ||
        !store_text_fits(m->note, STORE_NOTE_MAX_BYTES) ||
        (m->tags_json && !store_text_fits(m->tags_json, STORE_TAGS_MAX_BYTES)) ||
        (m->context_json && !store_text_fits(m->context_json, STORE_CONTEXT_MAX_BYTES)))
        return SLIMY_EINVAL;
    return st->ops->memory_add(st, m, id_out);
}
static inline int store_memory_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                                    struct store_memories *out)
{
    out->items = NULL;
    out->n = 0;
    if (!store_id_ok(user_id) || !store_optional_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->memory_list(st, user_id, scope_id, max, out);
}
static inline int store_memory_find(struct store *st, const char *user_id, const char *scope_id, const char *text,
                                    size_t max, struct store_memories *out)
{
    out->items = NULL;
    out->n = 0;
    if (!store_id_ok(user_id) || !store_id_ok(scope_id) || !text || !store_text_fits(text, STORE_FIND_MAX_BYTES))
        return SLIMY_EINVAL;
    return st->ops->memory_find(st, user_id, scope_id, text, max, out);
}
static inline int store_memory_delete(struct store *st, const char *user_id, const char *scope_id, const char *id)
{
    if (!store_id_ok(user_id) || !store_id_ok(scope_id) || !store_id_ok(id))
        return SLIMY_EINVAL;
    return st->ops->memory_delete(st, user_id, scope_id, id);
}
static inline int store_memory_delete_all(struct store *st, const char *user_id, const char *scope_id,
                                          uint64_t *n_deleted)
{
    *n_deleted = 0;
    if (!store_id_ok(user_id) || !store_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->memory_delete_all(st, user_id, scope_id, n_deleted);
}
static inline int store_mode_get(struct store *st, const char *guild_id, enum store_target_type type,
                                 const char *target_id, unsigned *modes)
{
    *modes = 0;
    if (!store_id_ok(guild_id) || !store_target_type_ok(type) || !store_id_ok(target_id))
        return SLIMY_EINVAL;
    return st->ops->mode_get(st, guild_id, type, target_id, modes);
}
static inline int store_mode_put(struct store *st, const char *guild_id, enum store_target_type type,
                                 const char *target_id, unsigned modes)
{
    if (!store_id_ok(guild_id) || !store_target_type_ok(type) || !store_id_ok(target_id))
        return SLIMY_EINVAL;
    return st->ops->mode_put(st, guild_id, type, target_id, modes);
}
static inline int store_mode_list(struct store *st, const char *guild_id, struct store_mode_configs *out)
{
    out->items = NULL;
    out->n = 0;
    if (!store_id_ok(guild_id))
        return SLIMY_EINVAL;
    return st->ops->mode_list(st, guild_id, out);
}
static inline int store_adjustment_set(struct store *st, const char *scope_id, const char *parameter, int value,
                                       const char *updated_by)
{
    if (!store_id_ok(scope_id) || !parameter || !parameter[0] || !store_text_fits(parameter, STORE_PARAMETER_MAX - 1) ||
        value < STORE_ADJUSTMENT_MIN || value > STORE_ADJUSTMENT_MAX || !store_id_ok(updated_by))
        return SLIMY_EINVAL;
    return st->ops->adjustment_set(st, scope_id, parameter, value, updated_by);
}
static inline int store_adjustment_list(struct store *st, const char *scope_id, struct store_adjustments *out)
{
    out->items = NULL;
    out->n = 0;
    if (!store_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->adjustment_list(st, scope_id, out);
}
static inline int store_snail_stats_add(struct store *st, const struct store_snail_stats_new *s, int64_t *id_out)
{
    *id_out = 0;
    if (!store_id_ok(s->user_id) || !store_id_ok(s->scope_id) || !store_optional_id_ok(s->interaction_id))
        return SLIMY_EINVAL;
    return st->ops->snail_stats_add(st, s, id_out);
}
static inline int store_snail_stats_list(struct store *st, const char *user_id, const char *scope_id, size_t max,
                                         struct store_snail_stats_list *out)
{
    out->items = NULL;
    out->n = 0;
    if (!store_id_ok(user_id) || !store_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->snail_stats_list(st, user_id, scope_id, max, out);
}
static inline int store_image_log_add(struct store *st, const struct store_image_log_new *entry)
{
    if (!store_id_ok(entry->user_id) || !store_optional_id_ok(entry->scope_id) ||
        !store_optional_id_ok(entry->channel_id) || !entry->prompt)
        return SLIMY_EINVAL;
    return st->ops->image_log_add(st, entry);
}
static inline int store_command_usage_add(struct store *st, const char *user_id, const char *scope_id,
                                          const char *command, bool success, int64_t latency_ms)
{
    if (!store_id_ok(user_id) || !store_optional_id_ok(scope_id) || !command || !command[0] ||
        !store_text_fits(command, STORE_COMMAND_MAX_BYTES))
        return SLIMY_EINVAL;
    return st->ops->command_usage_add(st, user_id, scope_id, command, success, latency_ms);
}
static inline int store_leaderboard(struct store *st, const char *scope_id, size_t max, struct store_leaderboard *out)
{
    out->items = NULL;
    out->n = 0;
    if (!store_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->leaderboard(st, scope_id, max, out);
}
static inline int store_user_stats(struct store *st, const char *user_id, const char *scope_id, int64_t since_ms,
                                   struct store_user_stats *out)
{
    *out = (struct store_user_stats){0};
    if (!store_id_ok(user_id) || !store_id_ok(scope_id))
        return SLIMY_EINVAL;
    return st->ops->user_stats(st, user_id, scope_id, since_ms, out);
}
static inline int store_counts(struct store *st, struct store_counts *out)
{
    *out = (struct store_counts){0};
    return st->ops->counts(st, out);
}
static inline int store_migrations_applied(struct store *st, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    return st->ops->migrations_applied(st, names, n);
}

/* Frees the contents of a result (the struct itself is the caller's); safe on a zeroed one. */
void store_memories_free(struct store_memories *m);
void store_mode_configs_free(struct store_mode_configs *m);
void store_adjustments_free(struct store_adjustments *a);
void store_snail_stats_list_free(struct store_snail_stats_list *l);
void store_leaderboard_free(struct store_leaderboard *l);
void store_names_free(char **names, size_t n);

/* Writes a fresh UUID v4 (libsodium randomness) into out. */
void store_uuid_v4(char out[STORE_ID_MAX]);

#endif
