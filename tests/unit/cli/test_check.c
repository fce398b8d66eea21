/* test_check.c — unit tests of the pure parts of src/cli/check.c: the line format (result word,
 * aligned name, text; colour only when asked, and then only around the word) and the URL
 * redaction that keeps credentials, queries and fragments out of `slimy check`'s output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/check.h"

static void test_plain_lines(void **state)
{
    (void)state;
    char line[256];
    check_format_line(line, sizeof line, CHECK_PASS, "database", "sqlite: reachable", false);
    assert_string_equal(line, "PASS  database    sqlite: reachable\n");
    check_format_line(line, sizeof line, CHECK_WARN, "register", "DISCORD_TOKEN not set", false);
    assert_string_equal(line, "WARN  register    DISCORD_TOKEN not set\n");
    check_format_line(line, sizeof line, CHECK_FAIL, "openai", "cannot reach", false);
    assert_string_equal(line, "FAIL  openai      cannot reach\n");
    assert_null(strchr(line, '\033'));
}

static void test_colour_wraps_the_word_only(void **state)
{
    (void)state;
    char line[256];
    check_format_line(line, sizeof line, CHECK_PASS, "git", "ok", true);
    assert_string_equal(line, "\033[32mPASS\033[0m  git         ok\n");
    check_format_line(line, sizeof line, CHECK_WARN, "git", "hm", true);
    assert_string_equal(line, "\033[33mWARN\033[0m  git         hm\n");
    check_format_line(line, sizeof line, CHECK_FAIL, "git", "no", true);
    assert_string_equal(line, "\033[31mFAIL\033[0m  git         no\n");
}

static void test_out_of_range_result_is_a_fail(void **state)
{
    (void)state;
    char line[256];
    check_format_line(line, sizeof line, (enum check_result)42, "x", "y", false);
    assert_string_equal(line, "FAIL  x           y\n");
}

static void test_truncation_is_safe(void **state)
{
    (void)state;
    char line[8];
    int n = check_format_line(line, sizeof line, CHECK_PASS, "database", "a long text", false);
    assert_true(n > (int)sizeof line);
    assert_string_equal(line, "PASS  d");
}

static void test_redact_url(void **state)
{
    (void)state;
    char out[256];
    check_redact_url("https://api.openai.com/v1", out, sizeof out);
    assert_string_equal(out, "https://api.openai.com/v1");
    check_redact_url("http://user:pw-SECRET@127.0.0.1:8000/v1?api_key=SECRET#frag", out, sizeof out);
    assert_string_equal(out, "http://127.0.0.1:8000/v1");
    check_redact_url("http://:SECRET@[::1]:9/", out, sizeof out);
    assert_string_equal(out, "http://[::1]:9/");
    check_redact_url("not a url at all", out, sizeof out);
    assert_string_equal(out, "(invalid URL)");
    check_redact_url(NULL, out, sizeof out);
    assert_string_equal(out, "(invalid URL)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_colour_wraps_the_word_only),
        cmocka_unit_test(test_out_of_range_result_is_a_fail),
        cmocka_unit_test(test_truncation_is_safe),
        cmocka_unit_test(test_redact_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
