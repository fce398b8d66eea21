/* test_snail_costs.c — unit tests of src/snail/snail_costs.c: the 300 golden vectors made by the
 * original JavaScript (tests/data/supersnail-vectors.jsonl), the specification's worked examples,
 * Math.round edge cases, and the levels parser, range check and number formatter of /snail calc. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/status.h"
#include "snail/snail_costs.h"

#define VECTORS_PATH SLIMY_TEST_DATA_DIR "/supersnail-vectors.jsonl"
#define VECTORS_COUNT 300

/* ---- helpers ---- */

/* One calculation with default modifiers unless the caller changes *in afterwards. */
static void input_init(struct snail_calc_input *in, int tier, const double levels[SNAIL_LEVELS], bool dragon)
{
    snail_calc_input_defaults(in);
    in->tier = tier;
    memcpy(in->levels, levels, sizeof(in->levels));
    in->dragon = dragon;
}

/* Runs *in and checks every value against expected (n values), printing all of them on a mismatch. */
static void assert_calc(const struct snail_calc_input *in, const double *expected, size_t n)
{
    struct snail_calc_result out;
    assert_int_equal(snail_costs_calc(in, &out), SLIMY_OK);
    bool is_equal = out.n == n;
    for (size_t k = 0; is_equal && k < n; k++)
        is_equal = out.values[k] == expected[k];
    if (!is_equal) {
        fprintf(stderr, "T%d: got", in->tier);
        for (size_t k = 0; k < out.n; k++)
            fprintf(stderr, " %.17g", out.values[k]);
        fprintf(stderr, ", expected");
        for (size_t k = 0; k < n; k++)
            fprintf(stderr, " %.17g", expected[k]);
        fprintf(stderr, "\n");
    }
    assert_true(is_equal);
}

/* Hours when only the T5 ritual is left and timemoda is 0: ((0*120) - Bh) - Fh, i.e. -F/60,
 * so flattime sets the value Math.round sees exactly. */
static double ritual_hours(double flattime)
{
    static const double levels[SNAIL_LEVELS] = {10, 10, 10, 3, 10, 10, 10, 0};
    struct snail_calc_input in;
    struct snail_calc_result out;
    input_init(&in, 5, levels, false);
    in.timemoda = 0;
    in.flattime = flattime;
    assert_int_equal(snail_costs_calc(&in, &out), SLIMY_OK);
    assert_int_equal(out.n, 3);
    return out.values[2];
}

static double json_number(const cJSON *doc, const char *name, size_t line_no)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, name);
    if (!cJSON_IsNumber(item))
        fail_msg("line %zu: \"%s\" is missing or not a number", line_no, name);
    return item->valuedouble;
}

/* ---- the calculator ---- */

static void test_golden_vectors(void **state)
{
    (void)state;
    FILE *f = fopen(VECTORS_PATH, "r");
    if (!f)
        fail_msg("cannot open %s", VECTORS_PATH);

    char *line = NULL;
    size_t line_cap = 0, line_no = 0, n_vectors = 0, n_failed = 0;
    while (getline(&line, &line_cap, f) != -1) {
        line_no++;
        if (strspn(line, " \t\r\n") == strlen(line))
            continue;
        cJSON *doc = cJSON_Parse(line);
        if (!doc)
            fail_msg("line %zu: not JSON", line_no);

        struct snail_calc_input in;
        snail_calc_input_defaults(&in);
        in.tier = (int)json_number(doc, "tier", line_no);
        const cJSON *levels = cJSON_GetObjectItemCaseSensitive(doc, "levels");
        const cJSON *expected = cJSON_GetObjectItemCaseSensitive(doc, "expected");
        const cJSON *dragon = cJSON_GetObjectItemCaseSensitive(doc, "dragon");
        if (cJSON_GetArraySize(levels) != SNAIL_LEVELS || !cJSON_IsArray(expected) || !cJSON_IsBool(dragon))
            fail_msg("line %zu: bad levels, expected or dragon", line_no);
        for (int k = 0; k < SNAIL_LEVELS; k++)
            in.levels[k] = cJSON_GetArrayItem(levels, k)->valuedouble;
        in.timemoda = json_number(doc, "timemoda", line_no);
        in.timemodb = json_number(doc, "timemodb", line_no);
        in.flattime = json_number(doc, "flattime", line_no);
        in.btadmod = json_number(doc, "btadmod", line_no);
        in.cellmod = json_number(doc, "cellmod", line_no);
        in.dragon = cJSON_IsTrue(dragon);

        struct snail_calc_result out;
        int rc = snail_costs_calc(&in, &out);
        size_t n_expected = (size_t)cJSON_GetArraySize(expected);
        bool is_equal = rc == SLIMY_OK && out.n == n_expected;
        for (size_t k = 0; is_equal && k < n_expected; k++)
            is_equal = out.values[k] == cJSON_GetArrayItem(expected, (int)k)->valuedouble; /* -0 == 0 */
        if (!is_equal) {
            n_failed++;
            fprintf(stderr, "line %zu: rc %d, got", line_no, rc);
            for (size_t k = 0; rc == SLIMY_OK && k < out.n; k++)
                fprintf(stderr, " %.17g", out.values[k]);
            fprintf(stderr, ", expected");
            for (size_t k = 0; k < n_expected; k++)
                fprintf(stderr, " %.17g", cJSON_GetArrayItem(expected, (int)k)->valuedouble);
            fprintf(stderr, "\n");
        }
        n_vectors++;
        cJSON_Delete(doc);
    }
    free(line);
    fclose(f);
    print_message("%zu golden vectors, %zu failed\n", n_vectors, n_failed);
    assert_int_equal(n_failed, 0);
    assert_int_equal(n_vectors, VECTORS_COUNT);
}

/* Specification §11. */
static void test_worked_examples(void **state)
{
    (void)state;
    static const double all_zero[SNAIL_LEVELS] = {0};
    static const double test_levels[SNAIL_LEVELS] = {3, 3, 2, 0, 0, 0, 0, 1};
    static const double t8_levels[SNAIL_LEVELS] = {10, 10, 9, 5, 10, 10, 10, 1};
    static const double ritual_only[SNAIL_LEVELS] = {10, 10, 10, 3, 10, 10, 10, 0};
    static const double t7_levels[SNAIL_LEVELS] = {10, 10, 8, 5, 10, 10, 10, 1};
    struct snail_calc_input in;

    input_init(&in, 5, all_zero, false);
    assert_calc(&in, (const double[]){1765000, 2287500, 1800}, 3);
    input_init(&in, 5, all_zero, true);
    assert_calc(&in, (const double[]){449100, 451800, 630000, 496600, 676600, 2287500, 1800}, 7);

    input_init(&in, 6, test_levels, false);
    assert_calc(&in, (const double[]){1963000, 8645000, 4088}, 3);

    /* Hours ties: 2399.5 -> 2400, -0.5 -> -0, -1.5 -> -1. */
    input_init(&in, 8, t8_levels, false);
    in.timemodb = 1800;
    assert_calc(&in, (const double[]){360000, 9000000, 2400}, 3);
    in.timemoda = 0;
    struct snail_calc_result out;
    assert_int_equal(snail_costs_calc(&in, &out), SLIMY_OK);
    assert_true(out.values[2] == 0 && signbit(out.values[2]));
    in.timemodb = 5400;
    assert_calc(&in, (const double[]){360000, 9000000, -1}, 3);

    /* BTADs tie: 75 * -0.0005 * 1000 = -37.5 -> -37. */
    input_init(&in, 5, ritual_only, false);
    in.btadmod = -0.0005;
    assert_calc(&in, (const double[]){30000, -37, 120}, 3);

    /* T7 form cells with c = 0.777, then cellmod applied before the x1000. */
    input_init(&in, 7, t7_levels, false);
    assert_calc(&in, (const double[]){369972, 2000000, 1008}, 3);
    in.cellmod = 0.3;
    assert_calc(&in, (const double[]){110992, 2000000, 1008}, 3);
}

/* Specification §8.1: fractional and out-of-range levels. */
static void test_fractional_levels(void **state)
{
    (void)state;
    struct snail_calc_input in;

    input_init(&in, 6, (const double[]){2.5, 10, 10, 3, 10, 10, 10, 1}, true);
    assert_calc(&in, (const double[]){152000, 213000, 0, 0, 0, 831250, 392}, 7);
    input_init(&in, 6, (const double[]){2, 10, 10, 3, 10, 10, 10, 1}, true);
    assert_calc(&in, (const double[]){152000, 213000, 0, 0, 0, 950000, 448}, 7);
    input_init(&in, 6, (const double[]){10, 10, 10, 1.5, 10, 10, 10, 1}, false);
    assert_calc(&in, (const double[]){0, 0, 288}, 3);
    input_init(&in, 8, (const double[]){10, 10, 10, 1.5, 10, 10, 10, 1}, true);
    assert_calc(&in, (const double[]){0, 0, 2400000, 2400000, 0, 0, 10050}, 7);
    input_init(&in, 6, (const double[]){10, 10, 10, 3, 10, 10, 10, 0.5}, false);
    assert_calc(&in, (const double[]){0, 0, 0}, 3);

    /* L = -1: LIN/TIME run from i = 0 (2.5 * 88 BTADs, 3 * 66 hours), TAB takes the last entry
     * only (T5_MIX[9] = 26 zombie, T5_A[9] = 17 demon). */
    input_init(&in, 5, (const double[]){-1, 10, 10, 3, 10, 10, 10, 1}, true);
    assert_calc(&in, (const double[]){26000, 17000, 0, 0, 0, 220000, 198}, 7);
    /* Above the top adds nothing; a T6 compass of 4 too. */
    input_init(&in, 6, (const double[]){11, 10, 10, 4, 10, 10, 10, 1}, false);
    assert_calc(&in, (const double[]){0, 0, 0}, 3);
}

static void test_calc_rejects(void **state)
{
    (void)state;
    static const double all_zero[SNAIL_LEVELS] = {0};
    struct snail_calc_input in;
    struct snail_calc_result out = {.n = 42};

    input_init(&in, 4, all_zero, false);
    assert_int_equal(snail_costs_calc(&in, &out), SLIMY_EINVAL);
    in.tier = 9;
    assert_int_equal(snail_costs_calc(&in, &out), SLIMY_EINVAL);
    in.tier = 8;
    in.levels[2] = -INFINITY;
    assert_int_equal(snail_costs_calc(&in, &out), SLIMY_EINVAL);
    assert_int_equal(out.n, 42); /* untouched */

    snail_calc_input_defaults(&in);
    assert_int_equal(in.tier, 5);
    assert_true(in.timemoda == 1 && in.timemodb == 0 && in.flattime == 0);
    assert_true(in.btadmod == 1 && in.cellmod == 1 && !in.dragon);
    for (size_t k = 0; k < SNAIL_LEVELS; k++)
        assert_true(in.levels[k] == 0);
}

/* JavaScript Math.round, observed through the hours of a ritual-only T5 call (hours = -F/60). */
static void test_js_round(void **state)
{
    (void)state;
    assert_true(ritual_hours(-150) == 3);         /* 2.5 -> 3 */
    assert_true(ritual_hours(150) == -2);         /* -2.5 -> -2 (C round() gives -3) */
    assert_true(ritual_hours(90) == -1);          /* -1.5 -> -1 */
    assert_true(ritual_hours(-90) == 2);          /* 1.5 -> 2 */
    assert_true(ritual_hours(-210) == 4);         /* 3.5 -> 4 */
    double h = ritual_hours(-29.999999999999996); /* 0.49999999999999994 -> 0, not floor(x + 0.5) = 1 */
    assert_true(h == 0 && !signbit(h));
    h = ritual_hours(30); /* -0.5 -> -0 */
    assert_true(h == 0 && signbit(h));
    h = ritual_hours(18); /* -0.3 -> -0 */
    assert_true(h == 0 && signbit(h));
    assert_true(ritual_hours(-6) == 0 && !signbit(ritual_hours(-6))); /* 0.1 -> +0 */
}

/* ---- levels ---- */

static void assert_parse(const char *text, const double expected[SNAIL_LEVELS])
{
    double levels[SNAIL_LEVELS];
    int rc = snail_levels_parse(text, levels);
    if (rc != SLIMY_OK)
        fail_msg("\"%s\": rc %d", text, rc);
    for (size_t k = 0; k < SNAIL_LEVELS; k++)
        if (!(levels[k] == expected[k] && signbit(levels[k]) == signbit(expected[k])))
            fail_msg("\"%s\" piece %zu: got %.17g, expected %.17g", text, k, levels[k], expected[k]);
}

static void assert_parse_fails(const char *text)
{
    double levels[SNAIL_LEVELS] = {7, 7, 7, 7, 7, 7, 7, 7};
    if (snail_levels_parse(text, levels) != SLIMY_EINVAL)
        fail_msg("\"%s\" parsed", text);
    for (size_t k = 0; k < SNAIL_LEVELS; k++)
        assert_true(levels[k] == 7); /* untouched */
}

static void test_levels_parse(void **state)
{
    (void)state;
    assert_parse("3,3,2,0,0,0,0,1", (const double[]){3, 3, 2, 0, 0, 0, 0, 1});
    assert_parse("3,,2, ,0,0,0,", (const double[]){3, 0, 2, 0, 0, 0, 0, 0}); /* blank is 0 */
    assert_parse("1e1,+3,0x1F,0b11,0o7,-0,1.,.5", (const double[]){10, 3, 31, 3, 7, -0.0, 1, 0.5});
    assert_parse(" 3 ,\t4\n,0X1f,0B0,0O17,012,+.5,1E-1", (const double[]){3, 4, 31, 0, 15, 12, 0.5, 0.1});
    assert_parse("Infinity,-Infinity,+Infinity,1e400,2.5,9.75,0,0",
                 (const double[]){INFINITY, -INFINITY, INFINITY, INFINITY, 2.5, 9.75, 0, 0});
    /* JavaScript white space beyond ASCII: NBSP, BOM, U+3000, U+2028. */
    assert_parse("\xC2\xA0"
                 "1\xEF\xBB\xBF,\xE3\x80\x80"
                 "2\xE2\x80\xA8,3,4,5,6,7,8",
                 (const double[]){1, 2, 3, 4, 5, 6, 7, 8});
    /* Octal and binary are rounded like any other literal. */
    assert_parse("0b11111111111111111111111111111111111111111111111111111,0o1777777777777777777777,0,0,0,0,0,0",
                 (const double[]){9007199254740991.0, 18446744073709551615.0, 0, 0, 0, 0, 0, 0});

    assert_parse_fails("-0x1,0,0,0,0,0,0,0"); /* no sign before hex */
    assert_parse_fails("+0b1,0,0,0,0,0,0,0");
    assert_parse_fails("abc,0,0,0,0,0,0,0");
    assert_parse_fails("3,3,2,0,0,0,1");     /* 7 pieces */
    assert_parse_fails("3,3,2,0,0,0,0,1,1"); /* 9 pieces */
    assert_parse_fails("");
    assert_parse_fails(NULL);
    static const char *const nan_pieces[] = {"inf", "INFINITY", "nan", ".",   "1e",        "1e+",  "e5",    "+",
                                             "-",   "0x",       "0b",  "0o",  "0b2",       "0o8",  "0xg",   "0x1p3",
                                             "1_0", "1 2",      "--1", "+-1", "Infinityx", "1.5e", "0x1.8", "\xC2"};
    for (size_t k = 0; k < sizeof(nan_pieces) / sizeof(nan_pieces[0]); k++) {
        char text[64];
        snprintf(text, sizeof(text), "0,0,0,0,0,0,0,%s", nan_pieces[k]);
        assert_parse_fails(text);
    }
}

static void assert_check(int tier, const double levels[SNAIL_LEVELS], size_t n_failed, const char *labels)
{
    char text[SNAIL_LABELS_MAX];
    memset(text, 'x', sizeof(text));
    assert_int_equal(snail_levels_check(tier, levels, text, sizeof(text)), n_failed);
    assert_string_equal(text, labels);
}

static void test_levels_check(void **state)
{
    (void)state;
    assert_check(5, (const double[]){3, 3, 11, 4, 0, 0, 0, 2}, 3, "l2, compass(0-3), ritual(0-1)");
    assert_check(7, (const double[]){0, 0, 0, 5, 0, 0, 0, 0}, 0, "");
    assert_check(8, (const double[]){0, 0, 0, 6, 0, 0, 0, 0}, 1, "compass(0-5)");
    assert_check(6, (const double[]){10, 10, 10, 3, 10, 10, 10, 1}, 0, "");
    assert_check(6, (const double[]){0, 0, 0, 3.5, 0, 0, 0, 0}, 1, "compass(0-3)");
    /* Fractions and -0 pass; NaN, infinities and negatives fail. */
    assert_check(5, (const double[]){2.5, -0.0, 9.99, 2.9, 0, 0, 0, 0.5}, 0, "");
    assert_check(8, (const double[]){-1, NAN, INFINITY, -INFINITY, 10.5, -0.1, 1e9, 1.5}, 8,
                 "l1, r1, l2, compass(0-5), r2, l3, r3, ritual(0-1)");

    /* Truncated labels still count every failure. */
    char small[5];
    assert_int_equal(snail_levels_check(5, (const double[]){-1, -1, -1, -1, -1, -1, -1, -1}, small, sizeof(small)), 8);
    assert_string_equal(small, "l1, ");
    assert_int_equal(snail_levels_check(5, (const double[]){-1, 0, 0, 0, 0, 0, 0, 0}, NULL, 0), 1);
}

/* ---- number formatting ---- */

static void assert_format(double v, const char *expected)
{
    char out[SNAIL_NUMBER_MAX];
    memset(out, 'x', sizeof(out));
    snail_format_number(v, out, sizeof(out));
    if (strcmp(out, expected) != 0)
        fail_msg("%.17g: got \"%s\", expected \"%s\"", v, out, expected);
}

static void test_format_number(void **state)
{
    (void)state;
    assert_format(1963000, "1,963,000");
    assert_format(-1234, "-1,234");
    assert_format(0, "0");
    assert_format(-0.0, "-0");
    assert_format(999, "999");
    assert_format(1000, "1,000");
    assert_format(-999999, "-999,999");
    assert_format(100000, "100,000");
    assert_format(INFINITY, "∞");
    assert_format(-INFINITY, "-∞");
    assert_format(NAN, "NaN");
    /* Values as JavaScript's toLocaleString() prints them (checked against Node 20). */
    assert_format(9007199254740991.0, "9,007,199,254,740,991");
    assert_format(9007199254740992.0, "9,007,199,254,740,992");
    assert_format(1152921504606846976.0, "1,152,921,504,606,847,000");   /* 2^60 */
    assert_format(18446744073709551616.0, "18,446,744,073,709,552,000"); /* 2^64 */
    assert_format(1e21, "1,000,000,000,000,000,000,000");
    assert_format(123456.7895, "123,456.79");
    assert_format(1.0005, "1.001");
    assert_format(0.0005, "0.001");
    assert_format(-0.0001, "-0");
    assert_format(9.9995, "10");

    /* Truncation keeps the output a string; cap 0 writes nothing. */
    char out[4] = "abc";
    snail_format_number(1963000, out, sizeof(out));
    assert_string_equal(out, "1,9");
    snail_format_number(1963000, out, 0);
    assert_string_equal(out, "1,9");
    char longest[SNAIL_NUMBER_MAX];
    snail_format_number(-1.7976931348623157e308, longest, sizeof(longest));
    assert_int_equal(strlen(longest), 1 + 309 + 102);
    assert_memory_equal(longest, "-179,769,313,486,231,570,000,", 29);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vectors),    cmocka_unit_test(test_worked_examples),
        cmocka_unit_test(test_fractional_levels), cmocka_unit_test(test_calc_rejects),
        cmocka_unit_test(test_js_round),          cmocka_unit_test(test_levels_parse),
        cmocka_unit_test(test_levels_check),      cmocka_unit_test(test_format_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
