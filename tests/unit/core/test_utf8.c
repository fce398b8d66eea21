/* test_utf8.c — unit tests of src/core/utf8.c: cuts never split a character, validity follows
 * the standard's table (no overlongs, surrogates or values past U+10FFFF), and the clean copy
 * turns malformed bytes into '?' within its capacity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/utf8.h"

#define EURO "\xE2\x82\xAC"      /* 3 bytes */
#define SNAIL "\xF0\x9F\x90\x8C" /* 4 bytes */

static void counts_and_cuts_by_character(void **state)
{
    (void)state;
    const char *s = "a" EURO SNAIL "b";
    size_t len = strlen(s);
    assert_int_equal(utf8_count_chars(s, len), 4);
    assert_int_equal(utf8_prefix_chars(s, len, 0), 0);
    assert_int_equal(utf8_prefix_chars(s, len, 2), 4);
    assert_int_equal(utf8_prefix_chars(s, len, 9), len);
}

static void a_byte_cut_backs_up_to_a_boundary(void **state)
{
    (void)state;
    const char *s = "a" EURO SNAIL "b"; /* boundaries at 0, 1, 4, 8, 9 */
    size_t len = strlen(s);
    static const size_t expected[] = {0, 1, 1, 1, 4, 4, 4, 4, 8, 9, 9};
    for (size_t max = 0; max < sizeof expected / sizeof expected[0]; max++)
        assert_int_equal(utf8_prefix_bytes(s, len, max), expected[max]);
}

static void validity_follows_the_standard(void **state)
{
    (void)state;
    static const char *const good[] = {"", "plain", EURO, SNAIL, "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"};
    static const char *const bad[] = {
        "\x80",             /* a lone continuation */
        "\xC0\xAF",         /* overlong '/' */
        "\xE0\x80\xAF",     /* overlong */
        "\xED\xA0\x80",     /* a surrogate */
        "\xF4\x90\x80\x80", /* past U+10FFFF */
        "\xE2\x82",         /* cut short */
        "\xFF",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(utf8_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(utf8_valid(bad[i], strlen(bad[i])));
}

static void a_clean_copy_is_valid_and_bounded(void **state)
{
    (void)state;
    char out[8];
    const char *s = "ok\xFF" EURO "\xE2\x82";
    size_t n = utf8_copy_clean(out, sizeof out, s, strlen(s));
    assert_string_equal(out, "ok?" EURO "?");
    assert_int_equal(n, strlen(out));
    assert_true(utf8_valid(out, n));
    /* No room for the snail's 4 bytes after "abcd": it is left out, never cut. */
    n = utf8_copy_clean(out, sizeof out, "abcd" SNAIL, 8);
    assert_string_equal(out, "abcd");
    assert_int_equal(utf8_copy_clean(out, 1, "x", 1), 0);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_and_cuts_by_character),
        cmocka_unit_test(a_byte_cut_backs_up_to_a_boundary),
        cmocka_unit_test(validity_follows_the_standard),
        cmocka_unit_test(a_clean_copy_is_valid_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
