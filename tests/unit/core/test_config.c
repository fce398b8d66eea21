/* test_config.c — unit tests of src/core/config.c: defaults, each bad value refused with one line
 * naming the variable, the public key requirement, the DISCORD_CLIENT_ID alias, .env parsing, and
 * the lists that must agree: every variable the code reads is documented in
 * .env.example and README.md, and every variable they document is read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "text_file.h"

/* tests/data is two levels below the source root. */
#define SOURCE_ROOT SLIMY_TEST_DATA_DIR "/../.."

#define MAX_NAMES 64
#define NAME_MAX_LEN 64

/* Every variable the configuration knows, cleared before each test so the caller's environment
 * (a developer's PORT, CI's LOG_LEVEL) cannot change the outcome. */
static const char *const known_vars[] = {
    "DISCORD_PUBLIC_KEY",
    "DISCORD_APPLICATION_ID",
    "DISCORD_CLIENT_ID",
    "DISCORD_TOKEN",
    "DISCORD_GUILD_ID",
    "DISCORD_API_BASE",
    "PORT",
    "BIND",
    "LOG_LEVEL",
    "LOG_DIR",
    "SIGNATURE_MAX_AGE_S",
    "HTTP_THREADS",
    "WORKER_THREADS",
    "JOB_QUEUE_MAX",
    "DRAIN_TIMEOUT_S",
    "DATA_DIR",
    "ENV_FILE",
};

/* A valid-looking 64-hex-char key: bytes 0x00, 0x01, ... 0x1f. */
static const char KEY_HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof known_vars / sizeof known_vars[0]; i++)
        unsetenv(known_vars[i]);
    return 0;
}

/* ---- helpers ---- */

/* Writes text to a new temp file and returns its path in path (PATH_MAX-ish buffer). */
static void write_temp(char *path, size_t path_len, const char *text)
{
    snprintf(path, path_len, "/tmp/slimy-test-dotenv-XXXXXX");
    assert_true(text_file_write_temp(path, text));
}

/* Expects `name=value` alone to be refused with one line naming the variable. */
static void expect_bad(const char *name, const char *value)
{
    clear_env(NULL);
    setenv(name, value, 1);
    struct slimy_config cfg;
    char err[CONFIG_ERROR_MAX];
    memset(err, 0, sizeof err);
    int rc = config_load(&cfg, false, err, sizeof err);
    if (rc != SLIMY_EINVAL) {
        if (rc == SLIMY_OK)
            config_cleanup(&cfg);
        fail_msg("%s=\"%s\": expected SLIMY_EINVAL, got %d", name, value, rc);
    }
    if (!strstr(err, name))
        fail_msg("%s=\"%s\": error does not name the variable: \"%s\"", name, value, err);
    if (strchr(err, '\n'))
        fail_msg("%s=\"%s\": error is more than one line: \"%s\"", name, value, err);
    unsetenv(name);
}

static void load_ok(struct slimy_config *cfg, bool require_public_key)
{
    char err[CONFIG_ERROR_MAX] = "";
    int rc = config_load(cfg, require_public_key, err, sizeof err);
    if (rc != SLIMY_OK)
        fail_msg("config_load: %d (%s)", rc, err);
}

/* ---- config_load ---- */

/* The defaults README.md documents. */
static void test_defaults(void **state)
{
    (void)state;
    struct slimy_config cfg;
    load_ok(&cfg, false);
    assert_false(cfg.has_public_key);
    assert_string_equal(cfg.application_id, "");
    assert_string_equal(cfg.guild_id, "");
    assert_null(cfg.bot_token);
    assert_string_equal(cfg.api_base, "https://discord.com/api/v10");
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.bind, "0.0.0.0");
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_string_equal(cfg.log_dir, "./logs");
    assert_string_equal(cfg.data_dir, "./data");
    assert_int_equal(cfg.signature_max_age_s, 300);
    assert_int_equal(cfg.http_threads, 0);
    assert_int_equal(cfg.worker_threads, 4);
    assert_int_equal(cfg.job_queue_max, 10000);
    assert_int_equal(cfg.drain_timeout_s, 30);
    config_cleanup(&cfg);
    assert_null(cfg.api_base);
    assert_null(cfg.log_dir);
}

/* .env.example ships `NAME=` lines: an empty value means "not set", so the default applies. */
static void test_empty_means_default(void **state)
{
    (void)state;
    setenv("PORT", "", 1);
    setenv("BIND", "", 1);
    setenv("DISCORD_PUBLIC_KEY", "", 1);
    setenv("DISCORD_APPLICATION_ID", "", 1);
    setenv("DISCORD_TOKEN", "", 1);
    setenv("WORKER_THREADS", "", 1);
    struct slimy_config cfg;
    load_ok(&cfg, false);
    assert_int_equal(cfg.port, 8080);
    assert_string_equal(cfg.bind, "0.0.0.0");
    assert_false(cfg.has_public_key);
    assert_string_equal(cfg.application_id, "");
    assert_null(cfg.bot_token);
    assert_int_equal(cfg.worker_threads, 4);
    config_cleanup(&cfg);
}

static void test_values(void **state)
{
    (void)state;
    setenv("DISCORD_PUBLIC_KEY", KEY_HEX, 1);
    setenv("DISCORD_APPLICATION_ID", "123456789012345678", 1);
    setenv("DISCORD_GUILD_ID", "876543210987654321", 1);
    setenv("DISCORD_TOKEN", "Bot.secret.token", 1);
    setenv("DISCORD_API_BASE", "http://127.0.0.1:9999/api", 1);
    setenv("PORT", "65535", 1);
    setenv("BIND", "::1", 1);
    setenv("LOG_LEVEL", "debug", 1);
    setenv("LOG_DIR", "/tmp/slimy-logs", 1);
    setenv("DATA_DIR", "/tmp/slimy-data", 1);
    setenv("SIGNATURE_MAX_AGE_S", "60", 1);
    setenv("HTTP_THREADS", "2", 1);
    setenv("WORKER_THREADS", "16", 1);
    setenv("JOB_QUEUE_MAX", "5", 1);
    setenv("DRAIN_TIMEOUT_S", "0", 1);
    struct slimy_config cfg;
    load_ok(&cfg, true);
    assert_true(cfg.has_public_key);
    for (int i = 0; i < 32; i++)
        assert_int_equal(cfg.public_key[i], i);
    assert_string_equal(cfg.application_id, "123456789012345678");
    assert_string_equal(cfg.guild_id, "876543210987654321");
    assert_string_equal(cfg.bot_token, "Bot.secret.token");
    assert_string_equal(cfg.api_base, "http://127.0.0.1:9999/api");
    assert_int_equal(cfg.port, 65535);
    assert_string_equal(cfg.bind, "::1");
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_string_equal(cfg.log_dir, "/tmp/slimy-logs");
    assert_string_equal(cfg.data_dir, "/tmp/slimy-data");
    assert_int_equal(cfg.signature_max_age_s, 60);
    assert_int_equal(cfg.http_threads, 2);
    assert_int_equal(cfg.worker_threads, 16);
    assert_int_equal(cfg.job_queue_max, 5);
    assert_int_equal(cfg.drain_timeout_s, 0);
    config_cleanup(&cfg);
    assert_null(cfg.bot_token);

    /* The lowest port and an IPv4 literal. */
    clear_env(NULL);
    setenv("PORT", "1", 1);
    setenv("BIND", "127.0.0.1", 1);
    load_ok(&cfg, false);
    assert_int_equal(cfg.port, 1);
    assert_string_equal(cfg.bind, "127.0.0.1");
    config_cleanup(&cfg);
}

static void test_bad_values(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"PORT", "0"},
        {"PORT", "65536"},
        {"PORT", "abc"},
        {"PORT", "-1"},
        {"PORT", "80x"},
        {"PORT", "99999999999999999999999"},
        {"BIND", "localhost"},
        {"BIND", "256.1.1.1"},
        {"BIND", "example.com"},
        {"LOG_LEVEL", "loud"},
        {"DISCORD_PUBLIC_KEY", "abcd"},
        {"DISCORD_PUBLIC_KEY", "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
        {"DISCORD_PUBLIC_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00"},
        {"DISCORD_APPLICATION_ID", "12a45"},
        {"DISCORD_APPLICATION_ID", "-123"},
        {"DISCORD_GUILD_ID", "guild"},
        {"DISCORD_API_BASE", "ftp://x"},
        {"DISCORD_API_BASE", "discord.com/api"},
        {"WORKER_THREADS", "0"},
        {"WORKER_THREADS", "-4"},
        {"WORKER_THREADS", "four"},
        {"SIGNATURE_MAX_AGE_S", "abc"},
        {"HTTP_THREADS", "x"},
        {"JOB_QUEUE_MAX", "1e3"},
        {"DRAIN_TIMEOUT_S", "30s"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad(bad[i][0], bad[i][1]);
}

static void test_public_key_required(void **state)
{
    (void)state;
    struct slimy_config cfg;
    char err[CONFIG_ERROR_MAX] = "";
    assert_int_equal(config_load(&cfg, true, err, sizeof err), SLIMY_EINVAL);
    assert_non_null(strstr(err, "DISCORD_PUBLIC_KEY"));
    assert_null(strchr(err, '\n'));

    /* Set but empty, as in a copied .env.example: still missing. */
    setenv("DISCORD_PUBLIC_KEY", "", 1);
    err[0] = '\0';
    assert_int_equal(config_load(&cfg, true, err, sizeof err), SLIMY_EINVAL);
    assert_non_null(strstr(err, "DISCORD_PUBLIC_KEY"));

    /* Not required: fine without it. */
    load_ok(&cfg, false);
    assert_false(cfg.has_public_key);
    config_cleanup(&cfg);

    setenv("DISCORD_PUBLIC_KEY", KEY_HEX, 1);
    load_ok(&cfg, true);
    assert_true(cfg.has_public_key);
    config_cleanup(&cfg);
}

static void test_client_id_alias(void **state)
{
    (void)state;
    struct slimy_config cfg;
    setenv("DISCORD_CLIENT_ID", "777", 1);
    load_ok(&cfg, false);
    assert_string_equal(cfg.application_id, "777");
    config_cleanup(&cfg);

    /* The real name wins over the alias. */
    setenv("DISCORD_APPLICATION_ID", "111", 1);
    load_ok(&cfg, false);
    assert_string_equal(cfg.application_id, "111");
    config_cleanup(&cfg);
}

static void test_api_base_trailing_slashes(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"http://127.0.0.1:9/api/v10/", "http://127.0.0.1:9/api/v10"},
        {"https://example.com//", "https://example.com"},
        {"https://discord.com/api/v10", "https://discord.com/api/v10"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct slimy_config cfg;
        setenv("DISCORD_API_BASE", cases[i][0], 1);
        load_ok(&cfg, false);
        assert_string_equal(cfg.api_base, cases[i][1]);
        config_cleanup(&cfg);
    }
}

/* LOG_DIR set but empty means stdout only, unlike the other variables. */
static void test_log_dir_empty(void **state)
{
    (void)state;
    struct slimy_config cfg;
    setenv("LOG_DIR", "", 1);
    load_ok(&cfg, false);
    assert_non_null(cfg.log_dir);
    assert_string_equal(cfg.log_dir, "");
    config_cleanup(&cfg);
}

/* ---- config_load_dotenv ---- */

static void test_dotenv(void **state)
{
    (void)state;
    static const char text[] = "# Slimy test file\n"
                               "\n"
                               "   \n"
                               "export DOTENV_A=1\n"
                               "export   DOTENV_B=\"hello world\"\n"
                               "DOTENV_C='single # not a comment'\n"
                               "DOTENV_D=plain value # inline comment\n"
                               "  DOTENV_E = spaced  \n"
                               "DOTENV_F=\n"
                               "DOTENV_G=has#hash\n"
                               "DOTENV_H=crlf\r\n"
                               "\t# indented comment\n"
                               "DOTENV_EXISTING=from-file\n"
                               "DOTENV_I=a=b=c\n"
                               "DOTENV_J=last line without newline";
    static const char *const names[] = {"DOTENV_A", "DOTENV_B", "DOTENV_C", "DOTENV_D", "DOTENV_E",       "DOTENV_F",
                                        "DOTENV_G", "DOTENV_H", "DOTENV_I", "DOTENV_J", "DOTENV_EXISTING"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
    setenv("DOTENV_EXISTING", "from-env", 1);

    char path[64];
    write_temp(path, sizeof path, text);
    char err[CONFIG_ERROR_MAX] = "";
    int rc = config_load_dotenv(path, err, sizeof err);
    unlink(path);
    if (rc != SLIMY_OK)
        fail_msg("config_load_dotenv: %d (%s)", rc, err);

    assert_string_equal(getenv("DOTENV_A"), "1");
    assert_string_equal(getenv("DOTENV_B"), "hello world");
    assert_string_equal(getenv("DOTENV_C"), "single # not a comment");
    assert_string_equal(getenv("DOTENV_D"), "plain value");
    assert_string_equal(getenv("DOTENV_E"), "spaced");
    assert_non_null(getenv("DOTENV_F"));
    assert_string_equal(getenv("DOTENV_F"), "");
    assert_string_equal(getenv("DOTENV_G"), "has#hash");
    assert_string_equal(getenv("DOTENV_H"), "crlf");
    assert_string_equal(getenv("DOTENV_I"), "a=b=c");
    assert_string_equal(getenv("DOTENV_J"), "last line without newline");
    /* The environment wins over the file. */
    assert_string_equal(getenv("DOTENV_EXISTING"), "from-env");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        unsetenv(names[i]);
}

/* A value from .env reaches config_load, and the environment still wins. */
static void test_dotenv_feeds_config(void **state)
{
    (void)state;
    char path[64];
    write_temp(path, sizeof path, "PORT=9999\nLOG_LEVEL=warn\n");
    setenv("LOG_LEVEL", "error", 1);
    char err[CONFIG_ERROR_MAX] = "";
    int rc = config_load_dotenv(path, err, sizeof err);
    unlink(path);
    assert_int_equal(rc, SLIMY_OK);
    struct slimy_config cfg;
    load_ok(&cfg, false);
    assert_int_equal(cfg.port, 9999);
    assert_int_equal(cfg.log_level, LOG_ERROR);
    config_cleanup(&cfg);
}

static void test_dotenv_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int line;
    } cases[] = {
        {"DOTENV_OK=1\n\n# comment\nNOEQUALS\n", 4},
        {"=novalue\n", 1},
        {"# c\nexport\n", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        write_temp(path, sizeof path, cases[i].text);
        char err[CONFIG_ERROR_MAX] = "";
        int rc = config_load_dotenv(path, err, sizeof err);
        unlink(path);
        assert_int_equal(rc, SLIMY_EINVAL);
        char where[96];
        snprintf(where, sizeof where, "%s:%d", path, cases[i].line);
        if (!strstr(err, where))
            fail_msg("case %zu: error \"%s\" does not say %s", i, err, where);
        assert_null(strchr(err, '\n'));
    }
    unsetenv("DOTENV_OK");
}

/* A line longer than any fixed buffer is read whole: never split into two settings. */
static void test_dotenv_long_line(void **state)
{
    (void)state;
    enum {
        VALUE_LEN = 20000
    };
    static const char head[] = "DOTENV_LONG=";
    static const char tail[] = "=tail\nDOTENV_AFTER=1\n";
    char *text = malloc(sizeof head + VALUE_LEN + sizeof tail);
    assert_non_null(text);
    memcpy(text, head, sizeof head - 1);
    memset(text + sizeof head - 1, 'a', VALUE_LEN);
    memcpy(text + sizeof head - 1 + VALUE_LEN, tail, sizeof tail); /* with its NUL */
    unsetenv("DOTENV_LONG");
    unsetenv("DOTENV_AFTER");
    char path[64];
    write_temp(path, sizeof path, text);
    free(text);
    char err[CONFIG_ERROR_MAX] = "";
    int rc = config_load_dotenv(path, err, sizeof err);
    unlink(path);
    if (rc != SLIMY_OK)
        fail_msg("config_load_dotenv: %d (%s)", rc, err);
    const char *value = getenv("DOTENV_LONG");
    assert_non_null(value);
    assert_int_equal(strlen(value), VALUE_LEN + strlen("=tail"));
    assert_string_equal(value + VALUE_LEN, "=tail");
    assert_string_equal(getenv("DOTENV_AFTER"), "1");
    unsetenv("DOTENV_LONG");
    unsetenv("DOTENV_AFTER");
}

/* A line past the cap (64 KiB) is refused with the file and the line, and nothing of it is set. */
static void test_dotenv_line_over_the_cap(void **state)
{
    (void)state;
    enum {
        VALUE_LEN = 70 * 1024
    };
    static const char head[] = "DOTENV_OK=1\nDOTENV_HUGE=";
    char *text = malloc(sizeof head + VALUE_LEN + 2);
    assert_non_null(text);
    memcpy(text, head, sizeof head - 1);
    memset(text + sizeof head - 1, 'b', VALUE_LEN);
    memcpy(text + sizeof head - 1 + VALUE_LEN, "\n", 2);
    unsetenv("DOTENV_OK");
    unsetenv("DOTENV_HUGE");
    char path[64];
    write_temp(path, sizeof path, text);
    free(text);
    char err[CONFIG_ERROR_MAX] = "";
    int rc = config_load_dotenv(path, err, sizeof err);
    unlink(path);
    assert_int_equal(rc, SLIMY_EINVAL);
    char where[96];
    snprintf(where, sizeof where, "%s:2", path);
    if (!strstr(err, where))
        fail_msg("error \"%s\" does not say %s", err, where);
    assert_null(strchr(err, '\n'));
    assert_null(getenv("DOTENV_HUGE"));
    /* No setting may come from a piece of the refused line either. */
    char *piece = malloc(4096 + 1);
    assert_non_null(piece);
    memset(piece, 'b', 4096);
    piece[4096] = '\0';
    assert_null(getenv(piece));
    free(piece);
    unsetenv("DOTENV_OK");
}

static void test_dotenv_missing_file(void **state)
{
    (void)state;
    char err[CONFIG_ERROR_MAX] = "";
    assert_int_equal(config_load_dotenv("/nonexistent-slimy-dir/.env", err, sizeof err), SLIMY_OK);
}

/* ---- the list that must agree: variables in code, .env.example and README.md ---- */

struct names {
    char name[MAX_NAMES][NAME_MAX_LEN];
    size_t n;
};

static bool is_name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_word_char(char c)
{
    return is_name_char(c) || (c >= 'a' && c <= 'z');
}

static bool names_has(const struct names *n, const char *name)
{
    for (size_t i = 0; i < n->n; i++)
        if (strcmp(n->name[i], name) == 0)
            return true;
    return false;
}

static void names_add(struct names *n, const char *start, size_t len)
{
    assert_true(len > 0 && len < NAME_MAX_LEN);
    char name[NAME_MAX_LEN];
    memcpy(name, start, len);
    name[len] = '\0';
    if (names_has(n, name))
        return;
    assert_true(n->n < MAX_NAMES);
    memcpy(n->name[n->n++], name, len + 1);
}

/* If p is a string literal holding an UPPER_CASE name, adds it and returns true. */
static bool add_literal(struct names *n, const char *p)
{
    if (*p != '"' || !(p[1] >= 'A' && p[1] <= 'Z'))
        return false;
    size_t len = 1;
    while (is_name_char(p[1 + len]))
        len++;
    if (p[1 + len] != '"')
        return false;
    names_add(n, p + 1, len);
    return true;
}

/* Collects the names passed as string literals to the readers of the environment: getenv("X"),
 * env("X"), parse_uint("X", ...), parse_snowflake("X", "ALIAS", ...). */
static void scan_source(struct names *n, const char *path)
{
    static const char *const callers[] = {"getenv(", "env(", "parse_uint(", "LOAD_UINT(", "parse_snowflake("};
    char *text = text_file_read(path);
    for (size_t k = 0; k < sizeof callers / sizeof callers[0]; k++) {
        size_t clen = strlen(callers[k]);
        for (const char *p = strstr(text, callers[k]); p; p = strstr(p + 1, callers[k])) {
            const char *arg = p + clen;
            if (!add_literal(n, arg))
                continue;
            /* A second literal argument is an alias (parse_snowflake). */
            const char *next = strchr(arg + 1, '"') + 1;
            while (*next == ' ' || *next == ',')
                next++;
            add_literal(n, next);
        }
    }
    free(text);
}

/* True when name occurs in text as a whole word. */
static bool has_word(const char *text, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
        bool starts = p == text || !is_word_char(p[-1]);
        if (starts && !is_word_char(p[len]))
            return true;
    }
    return false;
}

static void code_names(struct names *n)
{
    memset(n, 0, sizeof *n);
    scan_source(n, SOURCE_ROOT "/src/core/config.c");
    scan_source(n, SOURCE_ROOT "/src/main.c");
}

/* The scanner itself: it must find the variables we know are read, or the checks below are empty. */
static void test_scanner_finds_names(void **state)
{
    (void)state;
    struct names n;
    code_names(&n);
    assert_true(n.n >= 15);
    assert_true(names_has(&n, "PORT"));
    assert_true(names_has(&n, "DISCORD_PUBLIC_KEY"));
    assert_true(names_has(&n, "DISCORD_CLIENT_ID")); /* the alias, a second argument */
    assert_true(names_has(&n, "LOG_DIR"));           /* read with getenv() directly */
    assert_true(names_has(&n, "ENV_FILE"));          /* read in main.c */
    assert_false(names_has(&n, "SLIMY_EINVAL"));

    assert_true(has_word("a `PORT`, b", "PORT"));
    assert_false(has_word("HTTP_PORT=1", "PORT"));
    assert_false(has_word("PORTS", "PORT"));
}

static void test_env_vars_documented(void **state)
{
    (void)state;
    struct names n;
    code_names(&n);
    char *example = text_file_read(SOURCE_ROOT "/.env.example");
    char *readme = text_file_read(SOURCE_ROOT "/README.md");
    int missing = 0;
    for (size_t i = 0; i < n.n; i++) {
        if (!has_word(example, n.name[i])) {
            fprintf(stderr, "%s is read by the code but not in .env.example\n", n.name[i]);
            missing++;
        }
        if (!has_word(readme, n.name[i])) {
            fprintf(stderr, "%s is read by the code but not in README.md\n", n.name[i]);
            missing++;
        }
    }
    free(example);
    free(readme);
    assert_int_equal(missing, 0);
}

/* Every `NAME=` line of .env.example (commented out or not) is a variable the code reads. */
static void test_env_example_names_are_read(void **state)
{
    (void)state;
    struct names n;
    code_names(&n);
    char *example = text_file_read(SOURCE_ROOT "/.env.example");
    int unknown = 0, seen = 0;
    for (const char *line = example; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *p = line;
        while (*p == '#' || *p == ' ')
            p++;
        const char *name = p;
        while (p < end && is_name_char(*p))
            p++;
        if (p > name && *p == '=' && name[0] >= 'A' && name[0] <= 'Z') {
            char buf[NAME_MAX_LEN];
            size_t len = (size_t)(p - name);
            assert_true(len < sizeof buf);
            memcpy(buf, name, len);
            buf[len] = '\0';
            seen++;
            if (!names_has(&n, buf)) {
                fprintf(stderr, ".env.example documents %s but the code never reads it\n", buf);
                unknown++;
            }
        }
        line = *end ? end + 1 : end;
    }
    free(example);
    assert_true(seen >= 15);
    assert_int_equal(unknown, 0);
}

/* Every `NAME` in README's Configuration table is a variable the code reads. */
static void test_readme_table_names_are_read(void **state)
{
    (void)state;
    struct names n;
    code_names(&n);
    char *readme = text_file_read(SOURCE_ROOT "/README.md");
    const char *section = strstr(readme, "\n## Configuration");
    assert_non_null(section);
    const char *section_end = strstr(section + 1, "\n## ");
    if (!section_end)
        section_end = section + strlen(section);
    int unknown = 0, seen = 0;
    /* Walk the code spans `...` in pairs; a span that is exactly an UPPER_CASE name is a variable. */
    for (const char *span_start = strchr(section, '`'); span_start && span_start < section_end;) {
        const char *span_end = strchr(span_start + 1, '`');
        if (!span_end || span_end > section_end)
            break;
        const char *name = span_start + 1;
        size_t len = (size_t)(span_end - name);
        bool is_name = len > 0 && len < NAME_MAX_LEN && name[0] >= 'A' && name[0] <= 'Z';
        for (size_t i = 0; is_name && i < len; i++)
            is_name = is_name_char(name[i]);
        if (is_name) {
            char buf[NAME_MAX_LEN];
            memcpy(buf, name, len);
            buf[len] = '\0';
            seen++;
            if (!names_has(&n, buf)) {
                fprintf(stderr, "README.md documents %s but the code never reads it\n", buf);
                unknown++;
            }
        }
        span_start = strchr(span_end + 1, '`');
    }
    free(readme);
    assert_true(seen >= 15);
    assert_int_equal(unknown, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, clear_env),
        cmocka_unit_test_setup(test_empty_means_default, clear_env),
        cmocka_unit_test_setup(test_values, clear_env),
        cmocka_unit_test_setup(test_bad_values, clear_env),
        cmocka_unit_test_setup(test_public_key_required, clear_env),
        cmocka_unit_test_setup(test_client_id_alias, clear_env),
        cmocka_unit_test_setup(test_api_base_trailing_slashes, clear_env),
        cmocka_unit_test_setup(test_log_dir_empty, clear_env),
        cmocka_unit_test_setup(test_dotenv, clear_env),
        cmocka_unit_test_setup(test_dotenv_feeds_config, clear_env),
        cmocka_unit_test_setup(test_dotenv_malformed, clear_env),
        cmocka_unit_test_setup(test_dotenv_long_line, clear_env),
        cmocka_unit_test_setup(test_dotenv_line_over_the_cap, clear_env),
        cmocka_unit_test_setup(test_dotenv_missing_file, clear_env),
        cmocka_unit_test(test_scanner_finds_names),
        cmocka_unit_test(test_env_vars_documented),
        cmocka_unit_test(test_env_example_names_are_read),
        cmocka_unit_test(test_readme_table_names_are_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
