/* test_store_mariadb.c — the store.h contract suite (store_contract.h) against the MariaDB
 * backend (src/store/sql_driver_mariadb.c under store_sql.c); then what only MariaDB promises: utf8mb4 end to end,
 * clear errors for an unreachable server or a wrong password, and a reconnect after the
 * server dropped the pool's connections; and the stored user name, which no op returns, read
 * from the table directly.
 *
 * Needs a server: SLIMY_TEST_DB_HOST, _PORT, _USER, _PASSWORD and _NAME, which scripts/test.sh
 * exports after starting a throwaway one with tests/tools/mariadb.sh. Without them this program
 * FAILS: a skipped backend must never count as a pass. Every test starts by dropping every table
 * of SLIMY_TEST_DB_NAME (so never point it at a database you want to keep). */
#include <mysql.h>
#include <mysqld_error.h>

#include "core/config.h"
#include "store_contract.h"

#define POOL_CONNECTIONS 4
#define UNREACHABLE_PORT 1 /* nothing listens on a privileged port in the test environment */

/* The test server, from the environment. */
static const char *db_host, *db_user, *db_password, *db_name;
static uint16_t db_port;

/* A direct connection for the test's own checks and set-up; fails the test if impossible. */
static MYSQL *admin_connect(void)
{
    MYSQL *db = mysql_init(NULL);
    assert_non_null(db);
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db, db_host, db_user, db_password, db_name, db_port, NULL, 0)) {
        fprintf(stderr, "test connection to %s:%u: %s\n", db_host, (unsigned)db_port, mysql_error(db));
        mysql_close(db);
        fail_msg("cannot connect to the test server");
    }
    return db;
}

static void admin_exec(MYSQL *db, const char *sql)
{
    if (mysql_query(db, sql) != 0)
        fail_msg("%s: %s", sql, mysql_error(db));
    MYSQL_RES *res = mysql_store_result(db);
    mysql_free_result(res);
}

/* Drops every table of the test database, so the next store_open() sees a fresh one. */
static void mariadb_reset(void)
{
    MYSQL *db = admin_connect();
    admin_exec(db, "SET FOREIGN_KEY_CHECKS = 0");
    if (mysql_query(db, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()") != 0)
        fail_msg("listing tables: %s", mysql_error(db));
    MYSQL_RES *res = mysql_store_result(db);
    assert_non_null(res);
    char *tables[64];
    size_t n_tables = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) && n_tables < sizeof tables / sizeof tables[0])
        tables[n_tables++] = strdup(row[0]);
    mysql_free_result(res);
    for (size_t i = 0; i < n_tables; i++) {
        /* Identifiers cannot be bound; these names come from the server, and backticks are doubled. */
        char sql[256] = "DROP TABLE IF EXISTS `";
        size_t len = strlen(sql);
        for (const char *p = tables[i]; *p && len < sizeof sql - 3; p++) {
            if (*p == '`')
                sql[len++] = '`';
            sql[len++] = *p;
        }
        sql[len++] = '`';
        sql[len] = '\0';
        admin_exec(db, sql);
        free(tables[i]);
    }
    mysql_close(db);
}

static void fill_config(struct slimy_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->db_host = (char *)db_host; /* borrowed: never passed to config_cleanup() */
    cfg->db_port = db_port;
    cfg->db_user = (char *)db_user;
    cfg->db_password = (char *)db_password;
    cfg->db_name = (char *)db_name;
    cfg->db_connection_limit = POOL_CONNECTIONS;
}

static struct store *open_test_database(bool apply_migrations)
{
    struct slimy_config cfg;
    fill_config(&cfg);
    char err[512];
    struct store *st = NULL;
    int rc = store_open(&cfg, apply_migrations, &st, err, sizeof err);
    if (rc != SLIMY_OK) {
        fprintf(stderr, "store_open(mariadb %s:%u/%s, %s): %s: %s\n", db_host, (unsigned)db_port, db_name,
                apply_migrations ? "migrate" : "no migrations", slimy_strerror(rc), err);
        return NULL;
    }
    return st;
}

/* A trigger that signals ER_DUP_ENTRY, as a colliding key would. Table names are the suite's
 * constants; identifiers cannot be bound. */
static void mariadb_refuse_inserts(const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER refuse_%s BEFORE INSERT ON %s FOR EACH ROW "
             "SIGNAL SQLSTATE '23000' SET MYSQL_ERRNO = %d, MESSAGE_TEXT = 'refused as a duplicate'",
             table, table, ER_DUP_ENTRY);
    MYSQL *db = admin_connect();
    admin_exec(db, sql);
    mysql_close(db);
}

static struct store *mariadb_open(void)
{
    return open_test_database(true);
}
static struct store *mariadb_open_unmigrated(void)
{
    return open_test_database(false);
}

/* users.username as stored, read with a prepared statement; "" when the row is missing or NULL. */
static void stored_user_name(const char *user_id, char *out, size_t out_len)
{
    MYSQL *db = admin_connect();
    MYSQL_STMT *stmt = mysql_stmt_init(db);
    assert_non_null(stmt);
    const char *sql = "SELECT username FROM users WHERE user_id = ?";
    assert_int_equal(mysql_stmt_prepare(stmt, sql, strlen(sql)), 0);
    MYSQL_BIND param;
    memset(&param, 0, sizeof param);
    unsigned long user_len = strlen(user_id);
    param.buffer_type = MYSQL_TYPE_STRING;
    param.buffer = (char *)user_id;
    param.buffer_length = user_len;
    param.length = &user_len;
    assert_int_equal(mysql_stmt_bind_param(stmt, &param), 0);
    assert_int_equal(mysql_stmt_execute(stmt), 0);
    char name[256];
    unsigned long name_len = 0;
    my_bool is_null = 0;
    MYSQL_BIND result;
    memset(&result, 0, sizeof result);
    result.buffer_type = MYSQL_TYPE_STRING;
    result.buffer = name;
    result.buffer_length = sizeof name;
    result.length = &name_len;
    result.is_null = &is_null;
    assert_int_equal(mysql_stmt_bind_result(stmt, &result), 0);
    int fetched = mysql_stmt_fetch(stmt);
    mysql_stmt_close(stmt);
    mysql_close(db);
    out[0] = '\0';
    if (fetched == 0 && !is_null && name_len < sizeof name)
        snprintf(out, out_len, "%.*s", (int)name_len, name);
}

/* "utf8mb4": every text column of the schema, the runner's own table included. */
static void test_mariadb_text_columns_are_utf8mb4(void **state)
{
    (void)state;
    MYSQL *db = admin_connect();
    if (mysql_query(db, "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
                        "WHERE TABLE_SCHEMA = DATABASE() AND CHARACTER_SET_NAME IS NOT NULL") != 0)
        fail_msg("listing columns: %s", mysql_error(db));
    MYSQL_RES *res = mysql_store_result(db);
    assert_non_null(res);
    size_t n_text = 0, n_other = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res))) {
        n_text++;
        if (strcmp(row[2], "utf8mb4") != 0) {
            fprintf(stderr, "column %s.%s is %s, not utf8mb4\n", row[0], row[1], row[2]);
            n_other++;
        }
    }
    mysql_free_result(res);
    mysql_close(db);
    assert_true(n_text > 0); /* the suite's setup opened (and so migrated) the database */
    assert_int_equal(n_other, 0);
}

/* Four-byte characters survive the connection and the columns, in every text a memory has. */
static void test_mariadb_emoji_round_trip(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], id[STORE_ID_MAX];
    new_snowflake(user);
    new_dm_scope(scope);
    /* 🐌🔥💾, U+20000 (CJK Extension B) and U+1D11E (musical G clef): all outside the BMP. */
    const char *note = EMOJI_SNAIL "\xF0\x9F\x94\xA5\xF0\x9F\x92\xBE \xF0\xA0\x80\x80 \xF0\x9D\x84\x9E";
    const char *tags = "[\"" EMOJI_SNAIL "\"]";
    const char *context = "{\"mood\":\"\xF0\x9F\x94\xA5\"}";
    char interaction_id[STORE_ID_MAX];
    new_snowflake(interaction_id);
    struct store_memory_new m = {
        .user_id = user,
        .user_name = "Snail " EMOJI_SNAIL,
        .scope_id = scope,
        .note = note,
        .tags_json = tags,
        .context_json = context,
        .interaction_id = interaction_id,
    };
    assert_int_equal(store_memory_add(st, &m, id), SLIMY_OK);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 1);
    assert_string_equal(out.items[0].note, note);
    assert_string_equal(out.items[0].tags_json, tags);
    assert_string_equal(out.items[0].context_json, context);
    store_memories_free(&out);

    /* And the user's name, read back directly: the backend must not have mangled it either. */
    char name[128];
    stored_user_name(user, name, sizeof name);
    assert_string_equal(name, "Snail " EMOJI_SNAIL);
}

/* store_memory_new.user_name: "upserted into users; NULL keeps the stored name". */
static void test_mariadb_user_name_upsert(void **state)
{
    check_user_name_upsert(*state, stored_user_name, "Second Name");
}

/* Nobody listening: SLIMY_EUNAVAILABLE and one line for the operator. */
static void test_mariadb_unreachable_server(void **state)
{
    (void)state;
    struct slimy_config cfg;
    fill_config(&cfg);
    cfg.db_host = (char *)"127.0.0.1";
    cfg.db_port = UNREACHABLE_PORT;
    char err[512];
    memset(err, 0, sizeof err);
    struct store *st = NULL;
    int rc = store_open(&cfg, true, &st, err, sizeof err);
    if (rc == SLIMY_OK)
        store_close(st);
    assert_int_equal(rc, SLIMY_EUNAVAILABLE);
    assert_one_line_error(err);
}

/* A refused login cannot connect either, and the message never shows the password. */
static void test_mariadb_wrong_password(void **state)
{
    (void)state;
    struct slimy_config cfg;
    fill_config(&cfg);
    cfg.db_password = (char *)"wrong-Pa55-xyzzy";
    char err[512];
    memset(err, 0, sizeof err);
    struct store *st = NULL;
    int rc = store_open(&cfg, true, &st, err, sizeof err);
    if (rc == SLIMY_OK)
        store_close(st);
    assert_int_equal(rc, SLIMY_EUNAVAILABLE);
    assert_one_line_error(err);
    assert_null(strstr(err, "wrong-Pa55-xyzzy"));
}

/* The server drops every connection of the pool (as a restart does): the next calls reconnect
 * ("after one reconnect attempt") and succeed. */
static void test_mariadb_reconnects_after_connections_dropped(void **state)
{
    struct store *st = *state;
    char user[STORE_ID_MAX], scope[STORE_ID_MAX], before_id[STORE_ID_MAX], after_id[STORE_ID_MAX];
    new_snowflake(user);
    new_snowflake(scope);
    add_memory(st, user, scope, "before the drop", before_id);

    MYSQL *db = admin_connect();
    if (mysql_query(db, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = SUBSTRING_INDEX(USER(), '@', 1) "
                        "AND ID <> CONNECTION_ID()") != 0)
        fail_msg("listing connections: %s", mysql_error(db));
    MYSQL_RES *res = mysql_store_result(db);
    assert_non_null(res);
    unsigned long ids[64];
    size_t n_ids = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)) && n_ids < sizeof ids / sizeof ids[0])
        ids[n_ids++] = strtoul(row[0], NULL, 10);
    mysql_free_result(res);
    for (size_t i = 0; i < n_ids; i++)
        mysql_kill(db, ids[i]); /* a connection that already went away is fine */
    mysql_close(db);
    assert_true(n_ids >= 1); /* the store held at least one connection */

    for (size_t i = 0; i < POOL_CONNECTIONS + 1; i++)
        assert_int_equal(store_ping(st), SLIMY_OK);
    add_memory(st, user, scope, "after the drop", after_id);
    struct store_memories out = {0};
    assert_int_equal(store_memory_list(st, user, scope, 10, &out), SLIMY_OK);
    assert_int_equal(out.n, 2);
    assert_string_equal(out.items[0].id, after_id);
    assert_string_equal(out.items[1].id, before_id);
    store_memories_free(&out);
}

static const struct CMUnitTest mariadb_only_tests[] = {
    cmocka_unit_test_setup_teardown(test_mariadb_text_columns_are_utf8mb4, setup_store, teardown_store),
    cmocka_unit_test_setup_teardown(test_mariadb_emoji_round_trip, setup_store, teardown_store),
    cmocka_unit_test_setup_teardown(test_mariadb_user_name_upsert, setup_store, teardown_store),
    cmocka_unit_test(test_mariadb_unreachable_server),
    cmocka_unit_test(test_mariadb_wrong_password),
    cmocka_unit_test_setup_teardown(test_mariadb_reconnects_after_connections_dropped, setup_store, teardown_store),
};

/* Reads SLIMY_TEST_DB_*; prints what is missing and returns false if any is unset. */
static bool read_environment(void)
{
    db_host = getenv("SLIMY_TEST_DB_HOST");
    if (!db_host || !*db_host) {
        fprintf(stderr, "SLIMY_TEST_DB_HOST not set: run through scripts/test.sh, which starts MariaDB\n");
        return false;
    }
    const char *port = getenv("SLIMY_TEST_DB_PORT");
    db_user = getenv("SLIMY_TEST_DB_USER");
    db_password = getenv("SLIMY_TEST_DB_PASSWORD");
    db_name = getenv("SLIMY_TEST_DB_NAME");
    const char *missing = !port          ? "SLIMY_TEST_DB_PORT"
                          : !db_user     ? "SLIMY_TEST_DB_USER"
                          : !db_password ? "SLIMY_TEST_DB_PASSWORD"
                          : !db_name     ? "SLIMY_TEST_DB_NAME"
                                         : NULL;
    if (missing) {
        fprintf(stderr, "%s not set: run through scripts/test.sh, which starts MariaDB\n", missing);
        return false;
    }
    char *end = NULL;
    unsigned long value = strtoul(port, &end, 10);
    if (end == port || *end || value == 0 || value > 65535) {
        fprintf(stderr, "SLIMY_TEST_DB_PORT is not a port: \"%s\"\n", port);
        return false;
    }
    db_port = (uint16_t)value;
    return true;
}

int main(void)
{
    if (!read_environment())
        return 1;
    if (sodium_init() < 0)
        return 1;
    contract_backend = "mariadb";
    contract_open = mariadb_open;
    contract_open_unmigrated = mariadb_open_unmigrated;
    contract_reset = mariadb_reset;
    contract_refuse_inserts = mariadb_refuse_inserts;
    int failed = cmocka_run_group_tests_name("store contract (mariadb)", store_contract_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("store mariadb only", mariadb_only_tests, NULL, NULL);
    return failed ? 1 : 0;
}
