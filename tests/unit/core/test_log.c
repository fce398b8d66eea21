/* test_log.c — unit tests of src/core/log.c: every line is one valid JSON object whatever its
 * fields hold. A value too long for the line is cut at a character boundary and marked, the
 * fields after it still come, malformed UTF-8 becomes U+FFFD, and the hook and log_reopen() keep
 * working. Lines are read back from combined.log in a temporary directory (stdout is silenced
 * meanwhile: these lines are long). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/status.h"
#include "text_file.h"
#include "utf8_check.h"

#define MARK "…[truncated]"
#define BIG 20480

struct fixture {
    char dir[64];
    char path[128];
    int saved_stdout;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/slimy-test-log.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/combined.log", f->dir);
    fflush(stdout);
    f->saved_stdout = dup(STDOUT_FILENO);
    int null_fd = open("/dev/null", O_WRONLY);
    if (f->saved_stdout < 0 || null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0)
        return -1;
    close(null_fd);
    *state = f;
    return log_open(LOG_DEBUG, f->dir) == SLIMY_OK ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    log_close();
    dup2(f->saved_stdout, STDOUT_FILENO);
    close(f->saved_stdout);
    static const char *const names[] = {"combined.log", "error.log", "combined.log.1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[160];
        snprintf(path, sizeof path, "%s/%s", f->dir, names[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The only line of combined.log (the test fails unless there is exactly one), parsed; checks it
 * is well-formed UTF-8 and within LOG_LINE_MAX_BYTES. */
static cJSON *only_line(const struct fixture *f)
{
    char *text = text_file_read(f->path);
    size_t len = strlen(text);
    assert_true(len > 0);
    if (text[len - 1] != '\n' || memchr(text, '\n', len - 1))
        fail_msg("not exactly one line (%zu bytes)", len);
    assert_true(len <= LOG_LINE_MAX_BYTES);
    if (utf8_code_points(text, len) == SIZE_MAX)
        fail_msg("the line is not valid UTF-8: %.200s", text);
    cJSON *json = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(json))
        fail_msg("the line is not a JSON object: %.200s…%s", text, text + (len > 200 ? len - 200 : 0));
    free(text);
    /* Emptied for the next line of the same test. */
    FILE *trunc = fopen(f->path, "w");
    assert_non_null(trunc);
    fclose(trunc);
    return json;
}

static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsString(v))
        fail_msg("no string \"%s\"", key);
    return v->valuestring;
}

static double num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        fail_msg("no number \"%s\"", key);
    return v->valuedouble;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *repeat(const char *unit, size_t times)
{
    size_t n = strlen(unit);
    char *s = malloc(n * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * n, unit, n);
    s[n * times] = '\0';
    return s;
}

static void a_short_line_is_written_as_it_is(void **state)
{
    struct fixture *f = *state;
    log_info("job done", LOG_S("command", "snail \"calc\"\n"), LOG_I("latency_ms", -12), LOG_B("ok", true),
             LOG_F("ratio", 0.5), LOG_S("none", NULL));
    cJSON *line = only_line(f);
    assert_string_equal(str(line, "level"), "info");
    assert_string_equal(str(line, "msg"), "job done");
    assert_string_equal(str(line, "command"), "snail \"calc\"\n");
    assert_int_equal((int)num(line, "latency_ms"), -12);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "ok")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(line, "none")));
    assert_null(cJSON_GetObjectItemCaseSensitive(line, "log_truncated"));
    cJSON_Delete(line);
}

/* A 20 KiB value: cut with the marker, and the fields after it are still there. */
static void a_long_value_is_cut_and_the_line_stays_json(void **state)
{
    struct fixture *f = *state;
    char *big = repeat("x", BIG);
    log_warn("long value", LOG_S("interaction_id", "123"), LOG_S("body", big), LOG_I("after", 7),
             LOG_S("status", "done"));
    cJSON *line = only_line(f);
    assert_string_equal(str(line, "msg"), "long value");
    assert_string_equal(str(line, "interaction_id"), "123");
    const char *body = str(line, "body");
    assert_true(ends_with(body, MARK));
    assert_true(strlen(body) > 4096); /* most of the line is still the value */
    assert_true(strncmp(body, big, strlen(body) - strlen(MARK)) == 0);
    assert_int_equal((int)num(line, "after"), 7);
    assert_string_equal(str(line, "status"), "done");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "log_truncated")));
    cJSON_Delete(line);
    free(big);
}

/* The cut never falls inside a character, and escapes are never cut in half. */
static void the_cut_keeps_characters_and_escapes_whole(void **state)
{
    struct fixture *f = *state;
    static const char *const units[] = {"é", "€", "🐌", "\"", "\\", "\n", "\x01", "a🐌\"é\x1f"};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        char *big = repeat(units[i], BIG / strlen(units[i]) + 1);
        log_error("cut", LOG_S("value", big));
        cJSON *line = only_line(f);
        const char *value = str(line, "value");
        assert_true(ends_with(value, MARK));
        size_t kept = strlen(value) - strlen(MARK);
        if (strncmp(value, big, kept) != 0)
            fail_msg("unit %zu: the kept part is not a prefix of the value", i);
        cJSON_Delete(line);
        free(big);
    }
}

/* Many long values, a long message and a long key: still one valid line within the cap. */
static void many_long_fields_fit_one_line(void **state)
{
    struct fixture *f = *state;
    char *msg = repeat("m", BIG);
    char *value = repeat("v", 3000);
    char *key = repeat("k", 10000);
    log_info(msg, LOG_S("a", value), LOG_S("b", value), LOG_S("c", value), LOG_S("d", value), LOG_S("e", value),
             LOG_S(key, "x"), LOG_I("n", 1), LOG_S("f", value), LOG_S("g", value));
    cJSON *line = only_line(f);
    assert_true(ends_with(str(line, "msg"), MARK));
    assert_string_equal(str(line, "level"), "info");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(line, "log_truncated")));
    cJSON_Delete(line);
    free(msg);
    free(value);
    free(key);
}

/* Malformed UTF-8 in a value or a message never reaches the file: each bad byte is U+FFFD. */
static void invalid_utf8_becomes_replacement_characters(void **state)
{
    struct fixture *f = *state;
    static const char bad[] = "ok"
                              "\xff"             /* never valid */
                              "\xc3("            /* a lead byte without its continuation */
                              "\x80"             /* a lone continuation byte */
                              "\xc0\xaf"         /* an overlong '/' */
                              "\xed\xa0\x80"     /* a surrogate */
                              "\xf4\x90\x80\x80" /* past U+10FFFF */
                              "é\xe2\x82";       /* a valid é, then a sequence cut at the end */
    log_info("bad\xfe msg", LOG_S("value", bad), LOG_S("after", "fine"));
    cJSON *line = only_line(f);
    const char *value = str(line, "value");
    assert_true(strncmp(value, "ok\xef\xbf\xbd", 5) == 0); /* ok, then U+FFFD */
    assert_non_null(strstr(value, "é"));
    assert_null(strchr(value, '\xff'));
    assert_string_equal(str(line, "msg"), "bad\xef\xbf\xbd msg");
    assert_string_equal(str(line, "after"), "fine");
    cJSON_Delete(line);

    /* Long and malformed together. */
    char *big = repeat("\xe2\x82", BIG / 2);
    log_info("both", LOG_S("value", big));
    line = only_line(f);
    assert_true(ends_with(str(line, "value"), MARK));
    cJSON_Delete(line);
    free(big);
}

/* The hook gets the fields as the caller gave them, not the cut ones. */
static size_t hooked_len;
static void hook_fn(void *arg, enum log_level level, const char *msg, const struct log_field *fields, size_t n)
{
    (void)arg;
    (void)level;
    (void)msg;
    hooked_len = n == 1 && fields[0].s ? strlen(fields[0].s) : 0;
}

static void the_hook_and_reopen_still_work(void **state)
{
    struct fixture *f = *state;
    static const struct log_hook hook = {.fn = hook_fn, .min_level = LOG_ERROR};
    log_set_hook(&hook);
    char *big = repeat("y", BIG);
    log_error("hooked", LOG_S("value", big));
    log_set_hook(NULL);
    assert_int_equal(hooked_len, BIG);
    cJSON_Delete(only_line(f));
    free(big);

    char rotated[160];
    snprintf(rotated, sizeof rotated, "%s/combined.log.1", f->dir);
    assert_int_equal(rename(f->path, rotated), 0);
    assert_int_equal(log_reopen(), SLIMY_OK);
    log_info("after reopen", LOG_I("n", 1));
    cJSON *line = only_line(f);
    assert_string_equal(str(line, "msg"), "after reopen");
    cJSON_Delete(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_short_line_is_written_as_it_is, setup, teardown),
        cmocka_unit_test_setup_teardown(a_long_value_is_cut_and_the_line_stays_json, setup, teardown),
        cmocka_unit_test_setup_teardown(the_cut_keeps_characters_and_escapes_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(many_long_fields_fit_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_utf8_becomes_replacement_characters, setup, teardown),
        cmocka_unit_test_setup_teardown(the_hook_and_reopen_still_work, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
