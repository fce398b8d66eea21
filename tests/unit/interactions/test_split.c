/* test_split.c — unit tests of src/interactions/split.c: counting code points, character-boundary
 * prefixes, and cutting long text into Discord-sized chunks (2000 characters) that prefer a newline,
 * then a space, in the chunk's second half, never cut inside a UTF-8 sequence, and reassemble to
 * the input exactly. Expected values come from an independent strict UTF-8 decoder in this file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../support/utf8_check.h"

#include "interactions/split.h"

#define DISCORD_MAX_CHARS 2000

/* UTF-8 of é (2 bytes), € (3 bytes) and 😀 (4 bytes). */
#define E_ACUTE "\xC3\xA9"
#define EURO "\xE2\x82\xAC"
#define GRIN "\xF0\x9F\x98\x80"

/* ---- helpers ---- */


/* Byte length of the first `chars` code points of valid UTF-8 s[0..len) (all of it if shorter). */
static size_t utf8_prefix_bytes(const char *s, size_t len, size_t chars)
{
    size_t i = 0;
    for (size_t n = 0; n < chars && i < len; n++) {
        unsigned char c = (unsigned char)s[i];
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    }
    return i < len ? i : len;
}

/* A growable test string. */
struct text {
    char *data;
    size_t len, cap;
};

static void text_add(struct text *t, const char *s, size_t times)
{
    size_t n = strlen(s);
    for (size_t k = 0; k < times; k++) {
        if (t->len + n + 1 > t->cap) {
            size_t cap = t->cap ? t->cap * 2 : 256;
            while (cap < t->len + n + 1)
                cap *= 2;
            t->data = realloc(t->data, cap);
            assert_non_null(t->data);
            t->cap = cap;
        }
        memcpy(t->data + t->len, s, n);
        t->len += n;
        t->data[t->len] = '\0';
    }
}

/* Cuts s[0..len) into chunks of at most max_chars characters and checks each one: not empty,
 * within the limit, valid UTF-8 on its own, not shorter than half the hard cut when more text
 * follows, and the chunks concatenate back to the input. Returns the number of chunks. */
static size_t check_chunks(const char *s, size_t len, size_t max_chars)
{
    assert_true(max_chars > 0);
    char *joined = malloc(len + 1);
    assert_non_null(joined);
    size_t joined_len = 0, chunks = 0, pos = 0;
    while (pos < len) {
        size_t n = split_chunk_len(s + pos, len - pos, max_chars);
        if (n == 0 || n > len - pos)
            fail_msg("chunk %zu at byte %zu: length %zu of %zu bytes left", chunks, pos, n, len - pos);
        size_t chars = utf8_code_points(s + pos, n);
        if (chars == SIZE_MAX)
            fail_msg("chunk %zu at byte %zu (%zu bytes) is not valid UTF-8", chunks, pos, n);
        if (chars > max_chars)
            fail_msg("chunk %zu has %zu characters, max %zu", chunks, chars, max_chars);
        if (pos + n < len) {
            size_t hard = utf8_prefix_bytes(s + pos, len - pos, max_chars);
            if (n * 2 < hard)
                fail_msg("chunk %zu is %zu bytes; the hard cut was %zu", chunks, n, hard);
        }
        memcpy(joined + joined_len, s + pos, n);
        joined_len += n;
        pos += n;
        chunks++;
    }
    assert_int_equal(joined_len, len);
    if (len)
        assert_memory_equal(joined, s, len);
    free(joined);
    return chunks;
}

/* ---- split_count_chars ---- */

static void test_count_chars(void **state)
{
    (void)state;
    assert_int_equal(split_count_chars("", 0), 0);
    assert_int_equal(split_count_chars(NULL, 0), 0);
    assert_int_equal(split_count_chars("abc", 3), 3);
    assert_int_equal(split_count_chars("abc", 2), 2);
    assert_int_equal(split_count_chars("a b\n", 4), 4);
    assert_int_equal(split_count_chars(E_ACUTE, 2), 1);
    assert_int_equal(split_count_chars(EURO, 3), 1);
    assert_int_equal(split_count_chars(GRIN, 4), 1);
    assert_int_equal(split_count_chars("a" E_ACUTE EURO GRIN "z", 1 + 2 + 3 + 4 + 1), 5);
    /* NUL is a character like any other. */
    assert_int_equal(split_count_chars("a\0b", 3), 3);
    /* Against the independent decoder on a longer text. */
    static const char sample[] = "Hello, " E_ACUTE "t" E_ACUTE "! " EURO "5 " GRIN GRIN
                                 "\n\xE6\x97\xA5\xE6\x9C\xAC"; /* 20 characters */
    assert_int_equal(split_count_chars(sample, sizeof sample - 1), utf8_code_points(sample, sizeof sample - 1));
    assert_int_equal(split_count_chars(sample, sizeof sample - 1), 20);
}

/* ---- split_prefix_len ---- */

static void test_prefix_len(void **state)
{
    (void)state;
    assert_int_equal(split_prefix_len("abc", 3, 0), 0);
    assert_int_equal(split_prefix_len("abc", 3, 1), 1);
    assert_int_equal(split_prefix_len("abc", 3, 2), 2);
    assert_int_equal(split_prefix_len("abc", 3, 3), 3);
    assert_int_equal(split_prefix_len("abc", 3, 1000), 3);
    assert_int_equal(split_prefix_len("", 0, 5), 0);
    assert_int_equal(split_prefix_len(NULL, 0, 5), 0);
    /* Multi-byte characters are kept whole. */
    assert_int_equal(split_prefix_len("a" E_ACUTE, 3, 1), 1);
    assert_int_equal(split_prefix_len("a" E_ACUTE, 3, 2), 3);
    assert_int_equal(split_prefix_len(E_ACUTE "a", 3, 1), 2);
    assert_int_equal(split_prefix_len(EURO EURO, 6, 1), 3);
    assert_int_equal(split_prefix_len(GRIN GRIN GRIN, 12, 2), 8);
    assert_int_equal(split_prefix_len(GRIN GRIN GRIN, 12, 0), 0);
    assert_int_equal(split_prefix_len("a" E_ACUTE EURO GRIN "z", 11, 4), 10);
    assert_int_equal(split_prefix_len("a" E_ACUTE EURO GRIN "z", 11, 3), 6);
}

/* ---- split_chunk_len ---- */

static void test_chunk_fits(void **state)
{
    (void)state;
    assert_int_equal(split_chunk_len("hello", 5, DISCORD_MAX_CHARS), 5);
    assert_int_equal(split_chunk_len("hello world\nbye", 15, 15), 15); /* fits: no preference applies */

    struct text t = {0};
    text_add(&t, "a", 2000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 2000); /* exactly 2000: one chunk */
    assert_int_equal(check_chunks(t.data, t.len, DISCORD_MAX_CHARS), 1);
    text_add(&t, "a", 1);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 2000); /* 2001: cut at 2000 */
    assert_int_equal(check_chunks(t.data, t.len, DISCORD_MAX_CHARS), 2);
    free(t.data);

    /* 2000 characters of 2 and 4 bytes fit in one chunk too. */
    t = (struct text){0};
    text_add(&t, E_ACUTE, 2000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 4000);
    text_add(&t, E_ACUTE, 1);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 4000);
    free(t.data);
    t = (struct text){0};
    text_add(&t, GRIN, 2000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 8000);
    text_add(&t, GRIN, 1);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 8000);
    free(t.data);
}

/* A 5000-character string without spaces or newlines is cut hard at 2000 characters. */
static void test_chunk_no_break(void **state)
{
    (void)state;
    struct text t = {0};
    for (size_t i = 0; i < 5000; i++) {
        char c[2] = {(char)('a' + i % 26), '\0'};
        text_add(&t, c, 1);
    }
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 2000);
    assert_int_equal(split_chunk_len(t.data + 2000, 3000, DISCORD_MAX_CHARS), 2000);
    assert_int_equal(split_chunk_len(t.data + 4000, 1000, DISCORD_MAX_CHARS), 1000);
    assert_int_equal(check_chunks(t.data, t.len, DISCORD_MAX_CHARS), 3);
    free(t.data);

    /* The same with multi-byte characters: the cut lands after a whole character. */
    t = (struct text){0};
    text_add(&t, "a", 1999);
    text_add(&t, GRIN, 1);
    text_add(&t, "b", 10);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 2003);
    free(t.data);
    t = (struct text){0};
    text_add(&t, "a", 1998);
    text_add(&t, EURO, 3);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 1998 + 6);
    free(t.data);
    t = (struct text){0};
    text_add(&t, "a" E_ACUTE EURO GRIN, 1000); /* 4000 characters, 10000 bytes */
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 500 * 10);
    assert_int_equal(check_chunks(t.data, t.len, DISCORD_MAX_CHARS), 2);
    free(t.data);
}

/* A newline in the second half wins, then a space; breaks in the first half are ignored. */
static void test_chunk_prefers_breaks(void **state)
{
    (void)state;
    struct text t = {0};

    /* Newline at character 1500: the chunk ends right after it. */
    text_add(&t, "a", 1500);
    text_add(&t, "\n", 1);
    text_add(&t, "b", 1000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 1501);
    free(t.data);

    /* Space at character 1500. */
    t = (struct text){0};
    text_add(&t, "a", 1500);
    text_add(&t, " ", 1);
    text_add(&t, "b", 1000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 1501);
    free(t.data);

    /* The last newline of the second half, even with a later space. */
    t = (struct text){0};
    text_add(&t, "a", 1100);
    text_add(&t, "\n", 1);
    text_add(&t, "b", 100);
    text_add(&t, "\n", 1);
    text_add(&t, "c", 300);
    text_add(&t, " ", 1);
    text_add(&t, "d", 1000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 1100 + 1 + 100 + 1);
    free(t.data);

    /* The last space of the second half when there is no newline there. */
    t = (struct text){0};
    text_add(&t, "a", 1100);
    text_add(&t, " ", 1);
    text_add(&t, "b", 100);
    text_add(&t, " ", 1);
    text_add(&t, "c", 1000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 1100 + 1 + 100 + 1);
    free(t.data);

    /* A newline in the first half does not beat a space in the second. */
    t = (struct text){0};
    text_add(&t, "a", 500);
    text_add(&t, "\n", 1);
    text_add(&t, "b", 1000);
    text_add(&t, " ", 1);
    text_add(&t, "c", 1000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 500 + 1 + 1000 + 1);
    free(t.data);

    /* Breaks only in the first half: a hard cut at 2000 rather than a tiny chunk. */
    t = (struct text){0};
    text_add(&t, "a", 300);
    text_add(&t, "\n", 1);
    text_add(&t, "b", 300);
    text_add(&t, " ", 1);
    text_add(&t, "c", 2000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 2000);
    free(t.data);

    /* A newline exactly at character 2000 (the last one that fits) ends the chunk there. */
    t = (struct text){0};
    text_add(&t, "a", 1999);
    text_add(&t, "\n", 1);
    text_add(&t, "b", 10);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 2000);
    free(t.data);
    /* A newline just past the limit cannot be used. */
    t = (struct text){0};
    text_add(&t, "a", 2000);
    text_add(&t, "\n", 1);
    text_add(&t, "b", 10);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 2000);
    free(t.data);

    /* Multi-byte text with a space at character 1500: 1500 é + " " + 1000 é. */
    t = (struct text){0};
    text_add(&t, E_ACUTE, 1500);
    text_add(&t, " ", 1);
    text_add(&t, E_ACUTE, 1000);
    assert_int_equal(split_chunk_len(t.data, t.len, DISCORD_MAX_CHARS), 1500 * 2 + 1);
    free(t.data);
}

static void test_chunk_edges(void **state)
{
    (void)state;
    /* len 0: nothing to cut, whatever the limit. */
    assert_int_equal(split_chunk_len("", 0, DISCORD_MAX_CHARS), 0);
    assert_int_equal(split_chunk_len(NULL, 0, DISCORD_MAX_CHARS), 0);
    assert_int_equal(split_chunk_len("", 0, 0), 0);
    /* max_chars 0: a chunk of at most 0 characters is empty. */
    assert_int_equal(split_chunk_len("abc", 3, 0), 0);
    assert_int_equal(split_chunk_len(GRIN, 4, 0), 0);
    /* max_chars 1: one whole character per chunk, never 0. */
    assert_int_equal(split_chunk_len("abc", 3, 1), 1);
    assert_int_equal(split_chunk_len(GRIN "a", 5, 1), 4);
    assert_int_equal(split_chunk_len(E_ACUTE E_ACUTE, 4, 1), 2);
    assert_int_equal(split_chunk_len("\n\n", 2, 1), 1);
    assert_int_equal(split_chunk_len("  x", 3, 1), 1);
    assert_int_equal(check_chunks("a" E_ACUTE EURO GRIN " \n", 12, 1), 6);
    /* max_chars 2 with a leading break. */
    assert_int_equal(split_chunk_len(" abc", 4, 2), 2);
    assert_int_equal(split_chunk_len("a\nbc", 4, 2), 2);
}

/* A long mixed text: chunks reassemble exactly and respect every limit. */
static void test_chunk_round_trip(void **state)
{
    (void)state;
    static const char *const words[] = {
        "snail",
        "the",
        "a",
        E_ACUTE "t" E_ACUTE,
        EURO "42",
        GRIN,
        GRIN GRIN GRIN,
        "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", /* 日本語 */
        "https://example.com/a/very/long/path?with=query&and=more",
        "x",
    };
    static const char *const separators[] = {" ", " ", " ", " ", "\n", "\n\n", ", ", ". ", "", "\t"};
    struct text t = {0};
    uint32_t rng = 12345;
    for (size_t i = 0; i < 12000; i++) {
        rng = rng * 1103515245u + 12345u;
        uint32_t r = rng >> 16;
        text_add(&t, words[r % (sizeof words / sizeof words[0])], 1);
        text_add(&t, separators[(r / 16) % (sizeof separators / sizeof separators[0])], 1);
        if (r % 97 == 0) /* now and then a long run without any break */
            text_add(&t, i % 2 ? GRIN : "z", 2500);
    }
    assert_true(utf8_code_points(t.data, t.len) != SIZE_MAX);
    assert_true(utf8_code_points(t.data, t.len) > 10 * DISCORD_MAX_CHARS);

    static const size_t limits[] = {1, 2, 3, 7, 100, 1999, DISCORD_MAX_CHARS, 4000};
    for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
        size_t chunks = check_chunks(t.data, t.len, limits[l]);
        size_t total_chars = utf8_code_points(t.data, t.len);
        /* At least ceil(total / max) chunks, and never one per character unless max is 1. */
        assert_true(chunks >= (total_chars + limits[l] - 1) / limits[l]);
        if (limits[l] == 1)
            assert_int_equal(chunks, total_chars);
    }
    free(t.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_chars),          cmocka_unit_test(test_prefix_len),
        cmocka_unit_test(test_chunk_fits),           cmocka_unit_test(test_chunk_no_break),
        cmocka_unit_test(test_chunk_prefers_breaks), cmocka_unit_test(test_chunk_edges),
        cmocka_unit_test(test_chunk_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
