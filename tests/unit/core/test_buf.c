/* test_buf.c — unit tests of src/core/buf.c: the cap fixed at birth (an append that would pass
 * it fails with SLIMY_ETOOBIG and changes nothing), NUL termination after every append, printf
 * growth past the first allocation, detach and reuse after cleanup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/status.h"

/* The buffer holds exactly `expected` (len bytes) followed by a terminator. */
static void assert_buf(const struct buf *b, const char *expected, size_t len)
{
    assert_int_equal(b->len, len);
    assert_non_null(b->data);
    assert_memory_equal(b->data, expected, len);
    assert_int_equal(b->data[len], '\0');
    assert_true(b->cap > len);
}

static void test_init_is_empty(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max_bytes, 100);
    buf_cleanup(&b);
    buf_cleanup(&b); /* cleanup twice is harmless */
    assert_null(b.data);
}

static void test_cap_enforced(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append_str(&b, "12345"), SLIMY_OK);
    assert_buf(&b, "12345", 5);

    /* 5 + 6 = 11 > 10: refused whole, nothing appended. */
    assert_int_equal(buf_append_str(&b, "678901"), SLIMY_ETOOBIG);
    assert_buf(&b, "12345", 5);
    assert_int_equal(buf_printf(&b, "%s", "abcdef"), SLIMY_ETOOBIG);
    assert_buf(&b, "12345", 5);

    /* Exactly up to the cap is allowed. */
    assert_int_equal(buf_append(&b, "67890", 5), SLIMY_OK);
    assert_buf(&b, "1234567890", 10);

    /* At the cap: one more byte fails, zero bytes succeed. */
    assert_int_equal(buf_append(&b, "x", 1), SLIMY_ETOOBIG);
    assert_int_equal(buf_printf(&b, "%d", 7), SLIMY_ETOOBIG);
    assert_int_equal(buf_append(&b, "", 0), SLIMY_OK);
    assert_int_equal(buf_printf(&b, "%s", ""), SLIMY_OK);
    assert_buf(&b, "1234567890", 10);
    buf_cleanup(&b);
}

/* A cap of zero admits only empty appends. */
static void test_zero_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_append_str(&b, "a"), SLIMY_ETOOBIG);
    assert_int_equal(b.len, 0);
    char *s = buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    buf_cleanup(&b);
}

/* Binary data with NUL bytes inside counts in len; the terminator follows it. */
static void test_binary_and_termination(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    static const char bytes[] = {'a', '\0', 'b', '\0', 'c'};
    assert_int_equal(buf_append(&b, bytes, sizeof bytes), SLIMY_OK);
    assert_buf(&b, bytes, sizeof bytes);
    assert_int_equal(buf_append_str(&b, "xy"), SLIMY_OK);
    assert_buf(&b, "a\0b\0cxy", 7);
    buf_cleanup(&b);
}

/* Growth across the first 256-byte allocation, by one big printf and by many small ones. */
static void test_printf_growth(void **state)
{
    (void)state;
    char big[301];
    memset(big, 'q', 300);
    big[300] = '\0';

    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_printf(&b, "<%s>", big), SLIMY_OK);
    assert_int_equal(b.len, 302);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[301], '>');
    assert_int_equal(b.data[302], '\0');
    assert_int_equal(strspn(b.data + 1, "q"), 300);
    buf_cleanup(&b);

    /* 200 appends of "NNN," = 800 bytes, crossing 256 and 512. */
    char expected[801];
    size_t used = 0;
    for (int i = 0; i < 200; i++)
        used += (size_t)snprintf(expected + used, sizeof expected - used, "%03d,", i);
    assert_int_equal(used, 800);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(buf_printf(&b, "%03d,", i), SLIMY_OK);
        assert_int_equal(b.len, (size_t)(i + 1) * 4);
        assert_int_equal(b.data[b.len], '\0');
    }
    assert_buf(&b, expected, 800);
    buf_cleanup(&b);
}

/* Exactly 255 bytes fit the first allocation with the terminator; 256 must grow. */
static void test_boundary_256(void **state)
{
    (void)state;
    char text[257];
    memset(text, 'z', 256);
    text[256] = '\0';
    struct buf b;
    buf_init(&b, 1000);
    assert_int_equal(buf_append(&b, text, 255), SLIMY_OK);
    assert_buf(&b, text, 255);
    assert_int_equal(buf_append(&b, "z", 1), SLIMY_OK);
    assert_buf(&b, text, 256);
    buf_cleanup(&b);
}

static void test_detach(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 50);

    /* Empty: "" rather than NULL. */
    char *s = buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);

    assert_int_equal(buf_append_str(&b, "hello"), SLIMY_OK);
    s = buf_detach(&b);
    assert_string_equal(s, "hello");
    /* The buffer is empty again and keeps its cap; the string is the caller's. */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max_bytes, 50);
    assert_int_equal(buf_append_str(&b, "again"), SLIMY_OK);
    assert_buf(&b, "again", 5);
    assert_string_equal(s, "hello");
    free(s);
    buf_cleanup(&b);
}

static void test_cleanup_reuse(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    assert_int_equal(buf_append_str(&b, "12345678"), SLIMY_OK);
    buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max_bytes, 8);
    /* The full cap is available again after cleanup... */
    assert_int_equal(buf_append_str(&b, "abcdefgh"), SLIMY_OK);
    assert_buf(&b, "abcdefgh", 8);
    /* ...and still enforced. */
    assert_int_equal(buf_append_str(&b, "i"), SLIMY_ETOOBIG);
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_is_empty), cmocka_unit_test(test_cap_enforced),
        cmocka_unit_test(test_zero_cap),      cmocka_unit_test(test_binary_and_termination),
        cmocka_unit_test(test_printf_growth), cmocka_unit_test(test_boundary_256),
        cmocka_unit_test(test_detach),        cmocka_unit_test(test_cleanup_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
