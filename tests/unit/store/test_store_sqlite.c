/* test_store_sqlite.c — the store.h contract suite (store_contract.h) against the SQLite backend
 * (src/store/sql_driver_sqlite.c under store_sql.c), each test on a new database file in its own directory under /tmp;
 * then what only the SQLite backend promises: WAL mode, a missing parent directory created, an
 * unusable path or a non-database file refused with one line for the operator; and the stored
 * user name, which no op returns, read from the file directly. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/config.h"
#include "store_contract.h"

#define TEMP_TEMPLATE "/tmp/slimy-store-test-XXXXXX"

static char current_dir[sizeof TEMP_TEMPLATE];       /* the current test database's directory; "" if none */
static char current_path[sizeof TEMP_TEMPLATE + 16]; /* current_dir + "/slimy.db" */

/* Removes a database file and what SQLite keeps beside it. */
static void remove_database_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char file[512];
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
}

static void discard_current_database(void)
{
    if (!current_dir[0])
        return;
    remove_database_files(current_path);
    rmdir(current_dir);
    current_dir[0] = '\0';
    current_path[0] = '\0';
}

static void sqlite_reset(void)
{
    discard_current_database();
    memcpy(current_dir, TEMP_TEMPLATE, sizeof TEMP_TEMPLATE);
    if (!mkdtemp(current_dir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        current_dir[0] = '\0';
        return;
    }
    snprintf(current_path, sizeof current_path, "%s/slimy.db", current_dir);
}

/* store_open() as slimy does it when DB_HOST is unset. */
static int open_at(const char *path, bool apply_migrations, struct store **out, char *err, size_t err_len)
{
    struct slimy_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.sqlite_path = (char *)path; /* borrowed: never passed to config_cleanup() */
    cfg.db_host = NULL;
    *out = NULL;
    return store_open(&cfg, apply_migrations, out, err, err_len);
}

static struct store *open_current(bool apply_migrations)
{
    char err[512];
    struct store *st = NULL;
    int rc = open_at(current_path, apply_migrations, &st, err, sizeof err);
    if (rc != SLIMY_OK) {
        fprintf(stderr, "store_open(%s, %s): %s: %s\n", current_path, apply_migrations ? "migrate" : "no migrations",
                slimy_strerror(rc), err);
        return NULL;
    }
    return st;
}

/* A trigger on a second connection: RAISE(ABORT) fails the insert as a constraint would. Table
 * names are the suite's constants; identifiers cannot be bound. */
static void sqlite_refuse_inserts(const char *table)
{
    sqlite3 *db = NULL;
    char sql[256], *error = NULL;
    snprintf(sql, sizeof sql,
             "CREATE TRIGGER refuse_%s BEFORE INSERT ON %s BEGIN SELECT RAISE(ABORT, 'refused as a duplicate'); END",
             table, table);
    assert_int_equal(sqlite3_open_v2(current_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (sqlite3_exec(db, sql, NULL, NULL, &error) != SQLITE_OK)
        fail_msg("%s: %s", sql, error ? error : "?");
    sqlite3_close(db);
}

static struct store *sqlite_open(void)
{
    return open_current(true);
}
static struct store *sqlite_open_unmigrated(void)
{
    return open_current(false);
}

static char *journal_mode(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    char *mode = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    const unsigned char *text = sqlite3_column_text(stmt, 0);
    assert_non_null(text);
    mode = strdup((const char *)text);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return mode;
}

/* The file is in WAL mode while open and stays so after close (the mode is kept in the file). */
static void test_sqlite_wal_mode(void **state)
{
    (void)state;
    sqlite_reset();
    struct store *st = sqlite_open();
    assert_non_null(st);
    char *mode = journal_mode(current_path);
    assert_string_equal(mode, "wal");
    free(mode);
    store_close(st);
    mode = journal_mode(current_path);
    assert_string_equal(mode, "wal");
    free(mode);
    discard_current_database();
}

/* SQLITE_PATH=./data/slimy.db must work on a fresh checkout: the missing directory is created. */
static void test_sqlite_creates_parent_directory(void **state)
{
    (void)state;
    char base[] = TEMP_TEMPLATE;
    assert_non_null(mkdtemp(base));
    char dir[128], path[160], err[512];
    snprintf(dir, sizeof dir, "%s/data", base);
    snprintf(path, sizeof path, "%s/slimy.db", dir);

    struct store *st = NULL;
    int rc = open_at(path, true, &st, err, sizeof err);
    if (rc != SLIMY_OK)
        fprintf(stderr, "store_open(%s): %s: %s\n", path, slimy_strerror(rc), err);
    struct stat sb;
    bool is_dir = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    bool is_file = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    bool pinged = rc == SLIMY_OK && store_ping(st) == SLIMY_OK;
    store_close(st);
    remove_database_files(path);
    rmdir(dir);
    rmdir(base);
    assert_int_equal(rc, SLIMY_OK);
    assert_true(is_dir);
    assert_true(is_file);
    assert_true(pinged);
}

/* A path that cannot be a file (its "directory" is a regular file): cannot connect. */
static void test_sqlite_unusable_path(void **state)
{
    (void)state;
    char base[] = TEMP_TEMPLATE;
    assert_non_null(mkdtemp(base));
    char blocker[128], path[160], err[512];
    snprintf(blocker, sizeof blocker, "%s/not-a-directory", base);
    snprintf(path, sizeof path, "%s/slimy.db", blocker);
    int fd = open(blocker, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);

    struct store *st = NULL;
    memset(err, 0, sizeof err);
    int rc = open_at(path, true, &st, err, sizeof err);
    if (rc == SLIMY_OK)
        store_close(st);
    unlink(blocker);
    rmdir(base);
    assert_int_equal(rc, SLIMY_EUNAVAILABLE);
    assert_one_line_error(err);
}

/* A file that is not a SQLite database is refused, and left as it was. */
static void test_sqlite_not_a_database(void **state)
{
    (void)state;
    char base[] = TEMP_TEMPLATE;
    assert_non_null(mkdtemp(base));
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/slimy.db", base);
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)('A' + i % 26);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);

    struct store *st = NULL;
    memset(err, 0, sizeof err);
    int rc = open_at(path, true, &st, err, sizeof err);
    if (rc == SLIMY_OK)
        store_close(st);
    char after[sizeof junk + 1];
    fd = open(path, O_RDONLY);
    ssize_t n_read = fd >= 0 ? read(fd, after, sizeof after) : -1;
    if (fd >= 0)
        close(fd);
    remove_database_files(path);
    rmdir(base);
    if (rc != SLIMY_EUNAVAILABLE && rc != SLIMY_EINTERNAL)
        fail_msg("store_open() on a non-database returned %d (%s)", rc, slimy_strerror(rc));
    assert_one_line_error(err);
    assert_int_equal(n_read, (ssize_t)sizeof junk);
    assert_memory_equal(after, junk, sizeof junk);
}

/* users.username as stored, read with sqlite3 directly; "" when the row is missing. */
static void stored_user_name(const char *user_id, char *out, size_t out_len)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(current_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT username FROM users WHERE user_id = ?1", -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, user_id, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
        snprintf(out, out_len, "%s", (const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

/* store_memory_new.user_name: "upserted into users; NULL keeps the stored name". */
static void test_sqlite_user_name_upsert(void **state)
{
    check_user_name_upsert(*state, stored_user_name, "Second " EMOJI_SNAIL);
}

static const struct CMUnitTest sqlite_only_tests[] = {
    cmocka_unit_test(test_sqlite_wal_mode),
    cmocka_unit_test(test_sqlite_creates_parent_directory),
    cmocka_unit_test(test_sqlite_unusable_path),
    cmocka_unit_test(test_sqlite_not_a_database),
    cmocka_unit_test_setup_teardown(test_sqlite_user_name_upsert, setup_store, teardown_store),
};

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    contract_backend = "sqlite";
    contract_open = sqlite_open;
    contract_open_unmigrated = sqlite_open_unmigrated;
    contract_reset = sqlite_reset;
    contract_refuse_inserts = sqlite_refuse_inserts;
    int failed = cmocka_run_group_tests_name("store contract (sqlite)", store_contract_tests, NULL, NULL);
    discard_current_database();
    failed += cmocka_run_group_tests_name("store sqlite only", sqlite_only_tests, NULL, NULL);
    discard_current_database();
    return failed ? 1 : 0;
}
