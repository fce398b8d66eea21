/* test_status.c — unit tests of src/core/status.c: every enum slimy_status has its own text in
 * slimy_strerror() (a list that must agree with the enum), and codes outside the enum are
 * reported as "unknown status" instead of reading past the table. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"

#define UNKNOWN_TEXT "unknown status"

/* Every code has a non-empty text that is not the fallback. */
static void test_every_code_has_text(void **state)
{
    (void)state;
    for (int rc = 0; rc < SLIMY_STATUS_COUNT; rc++) {
        const char *text = slimy_strerror(rc);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        if (strcmp(text, UNKNOWN_TEXT) == 0)
            fail_msg("status %d has no text in slimy_strerror()", rc);
    }
}

/* No two codes share a text: the text is what tells them apart in logs. */
static void test_texts_are_distinct(void **state)
{
    (void)state;
    for (int a = 0; a < SLIMY_STATUS_COUNT; a++)
        for (int b = a + 1; b < SLIMY_STATUS_COUNT; b++)
            if (strcmp(slimy_strerror(a), slimy_strerror(b)) == 0)
                fail_msg("statuses %d and %d share the text \"%s\"", a, b, slimy_strerror(a));
}

/* SLIMY_OK is 0 so `if (rc)` means failure; the enum's first and last codes are in range. */
static void test_ok_is_zero(void **state)
{
    (void)state;
    assert_int_equal(SLIMY_OK, 0);
    assert_true(SLIMY_EINTERNAL < SLIMY_STATUS_COUNT);
}

static void test_out_of_range(void **state)
{
    (void)state;
    const int bad[] = {-1, -2, SLIMY_STATUS_COUNT, SLIMY_STATUS_COUNT + 1, 1000, INT_MAX, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_string_equal(slimy_strerror(bad[i]), UNKNOWN_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_text),
        cmocka_unit_test(test_texts_are_distinct),
        cmocka_unit_test(test_ok_is_zero),
        cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
