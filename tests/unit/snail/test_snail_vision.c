/* test_snail_vision.c — unit tests of src/snail/snail_vision.c: reading the vision model's answer
 * (bare and fenced JSON, prose around it, nulls, numeric strings with commas, missing keys, invalid
 * JSON) and the texts made from it (summary, Stats, Confidence and Equipment fields, sheet line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/status.h"
#include "snail/snail_vision.h"

/* The answer fake_openai.py gives, as the model would fence it. */
#define FAKE_ANSWER                                                                                   \
    "```json\n"                                                                                       \
    "{\"stats\": {\"hp\": 1234567, \"atk\": 89012, \"def\": 34567, \"rush\": 1234, \"fame\": 5678, "  \
    "\"tech\": null, \"art\": 910, \"civ\": 1112, \"fth\": 1314}, "                                   \
    "\"equipment\": {\"weapon\": \"Laser Sword\", \"armor\": null, \"accessory\": \"Lucky Charm\"}, " \
    "\"confidence\": \"high\", \"notes\": \"fake vision\"}\n"                                         \
    "```"

/* ---- helpers ---- */

static int parse(const char *text, struct snail_vision *v)
{
    return snail_vision_parse(text, strlen(text), v);
}

typedef int (*format_fn)(const struct snail_vision *v, struct buf *out);

/* Runs a formatter into a fresh buffer and compares the whole text. */
static void assert_format(format_fn fn, const struct snail_vision *v, const char *expected)
{
    struct buf out;
    buf_init(&out, 8192);
    assert_int_equal(fn(v, &out), SLIMY_OK);
    assert_string_equal(out.data ? out.data : "", expected);
    buf_cleanup(&out);
}

static int stats_field(const struct snail_vision *v, struct buf *out)
{
    return snail_vision_stats_field(v->stats, v->has_stat, out);
}

static int stats_line(const struct snail_vision *v, struct buf *out)
{
    return snail_vision_stats_line(v->stats, v->has_stat, out);
}

/* ---- reading the answer ---- */

static void test_parse_fenced_answer(void **state)
{
    (void)state;
    struct snail_vision v;
    assert_int_equal(parse(FAKE_ANSWER, &v), SLIMY_OK);
    static const int64_t expected[SNAIL_STATS] = {1234567, 89012, 34567, 1234, 5678, 0, 910, 1112, 1314};
    for (size_t i = 0; i < SNAIL_STATS; i++) {
        assert_int_equal(v.has_stat[i], i != 5); /* tech is null */
        if (v.has_stat[i])
            assert_int_equal(v.stats[i], expected[i]);
    }
    assert_string_equal(v.equipment[0], "Laser Sword");
    assert_null(v.equipment[1]);
    assert_string_equal(v.equipment[2], "Lucky Charm");
    assert_string_equal(v.confidence, "high");
    assert_string_equal(v.notes, "fake vision");
    snail_vision_cleanup(&v);
    assert_null(v.notes);
    snail_vision_cleanup(&v); /* twice is harmless */
}

static void test_parse_unfenced_and_other_fences(void **state)
{
    (void)state;
    static const char *const answers[] = {
        "{\"stats\":{\"hp\":42}}",
        "  \n{\"stats\":{\"hp\":42}}\n\n",
        "```\n{\"stats\":{\"hp\":42}}\n```",
        "```JSON {\"stats\":{\"hp\":42}} ```",
        "```json\n{\"stats\":{\"hp\":42}}", /* the closing fence cut off */
        "Here is the analysis:\n```json\n{\"stats\":{\"hp\":42}}\n```\nHope this helps!",
        "Sure! {\"stats\":{\"hp\":42}} Let me know.", /* no fence: the outermost braces */
    };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        struct snail_vision v;
        if (parse(answers[i], &v) != SLIMY_OK)
            fail_msg("answer %zu not read: %s", i, answers[i]);
        assert_true(v.has_stat[0]);
        assert_int_equal(v.stats[0], 42);
        for (size_t k = 1; k < SNAIL_STATS; k++)
            assert_false(v.has_stat[k]);
        snail_vision_cleanup(&v);
    }
}

static void test_parse_nulls_and_numeric_strings(void **state)
{
    (void)state;
    struct snail_vision v;
    assert_int_equal(parse("{\"stats\":{\"hp\":\"1,234,567\",\"atk\":\" 89012 \",\"def\":null,\"rush\":\"12.6\","
                           "\"fame\":5678.4,\"tech\":\"unknown\",\"art\":\"1.2M\",\"civ\":true,\"fth\":\"1,,2\"},"
                           "\"equipment\":{\"weapon\":null,\"armor\":\"  \",\"accessory\":42},"
                           "\"confidence\":null,\"notes\":\"\"}",
                           &v),
                     SLIMY_OK);
    assert_true(v.has_stat[0]);
    assert_int_equal(v.stats[0], 1234567);
    assert_true(v.has_stat[1]);
    assert_int_equal(v.stats[1], 89012);
    assert_false(v.has_stat[2]); /* null */
    assert_true(v.has_stat[3]);
    assert_int_equal(v.stats[3], 13); /* rounded */
    assert_true(v.has_stat[4]);
    assert_int_equal(v.stats[4], 5678);
    assert_false(v.has_stat[5]); /* words */
    assert_false(v.has_stat[6]); /* a suffix is not a number */
    assert_false(v.has_stat[7]); /* a boolean */
    assert_false(v.has_stat[8]); /* commas must sit between digits */
    for (size_t i = 0; i < SNAIL_EQUIPMENT; i++)
        assert_null(v.equipment[i]); /* null, blank and non-strings */
    assert_null(v.confidence);
    assert_null(v.notes);
    snail_vision_cleanup(&v);

    /* Too large to be exact in a double, or not finite: unknown rather than wrong. */
    assert_int_equal(parse("{\"stats\":{\"hp\":9007199254740992,\"atk\":9007199254740991,\"def\":-5,"
                           "\"rush\":\"99,999,999,999,999,999,999\",\"fame\":1e400}}",
                           &v),
                     SLIMY_OK);
    assert_false(v.has_stat[0]);
    assert_true(v.has_stat[1]);
    assert_int_equal(v.stats[1], INT64_C(9007199254740991));
    assert_true(v.has_stat[2]);
    assert_int_equal(v.stats[2], -5);
    assert_false(v.has_stat[3]);
    assert_false(v.has_stat[4]);
    snail_vision_cleanup(&v);
}

static void test_parse_missing_keys(void **state)
{
    (void)state;
    static const char *const answers[] = {"{}", "{\"stats\":null,\"equipment\":[]}", "{\"stats\":[1,2,3]}",
                                          "{\"other\":{\"hp\":1}}"};
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        struct snail_vision v;
        assert_int_equal(parse(answers[i], &v), SLIMY_OK);
        for (size_t k = 0; k < SNAIL_STATS; k++)
            assert_false(v.has_stat[k]);
        for (size_t k = 0; k < SNAIL_EQUIPMENT; k++)
            assert_null(v.equipment[k]);
        assert_null(v.confidence);
        assert_null(v.notes);
        snail_vision_cleanup(&v);
    }
}

static void test_parse_invalid_json(void **state)
{
    (void)state;
    static const char *const answers[] = {
        "not json",
        "",
        "   ",
        "```json\n```",
        "{\"stats\": {\"hp\": 1",   /* cut off by max_tokens */
        "[{\"stats\":{\"hp\":1}}]", /* an array, not an object */
        "42",
        "\"{}\"",
        "{\"stats\":{}} and {\"x\":1}", /* two objects: the outermost braces hold no single one */
        "I cannot read this screenshot.",
    };
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
        struct snail_vision v;
        if (parse(answers[i], &v) != SLIMY_EINVAL)
            fail_msg("answer %zu was read: %s", i, answers[i]);
        for (size_t k = 0; k < SNAIL_STATS; k++)
            assert_false(v.has_stat[k]); /* left empty */
        assert_null(v.notes);
        snail_vision_cleanup(&v);
    }
    struct snail_vision v;
    assert_int_equal(snail_vision_parse(NULL, 0, &v), SLIMY_EINVAL);
    /* Not NUL-terminated: only len bytes are read. */
    assert_int_equal(snail_vision_parse("{\"stats\":{\"hp\":7}}garbage", 18, &v), SLIMY_OK);
    assert_int_equal(v.stats[0], 7);
    snail_vision_cleanup(&v);
}

/* ---- writing for people ---- */

static void test_summary(void **state)
{
    (void)state;
    struct snail_vision v;
    assert_int_equal(parse(FAKE_ANSWER, &v), SLIMY_OK);
    assert_format(snail_vision_summary, &v, "Automated analysis complete. Missing stats: TECH. fake vision");
    snail_vision_cleanup(&v);

    assert_int_equal(parse("{\"stats\":{\"hp\":1,\"atk\":2,\"def\":3,\"rush\":4,\"fame\":5,\"tech\":6,\"art\":7,"
                           "\"civ\":8,\"fth\":9}}",
                           &v),
                     SLIMY_OK);
    assert_format(snail_vision_summary, &v, "Automated analysis complete.");
    snail_vision_cleanup(&v);

    assert_int_equal(parse("{\"stats\":{\"hp\":1,\"tech\":null},\"notes\":\"  blurry top  \"}", &v), SLIMY_OK);
    assert_format(snail_vision_summary, &v,
                  "Automated analysis complete. Missing stats: ATK, DEF, RUSH, FAME, TECH, ART, CIV, FTH. blurry top");
    snail_vision_cleanup(&v);
}

static void test_stats_texts(void **state)
{
    (void)state;
    struct snail_vision v;
    assert_int_equal(parse(FAKE_ANSWER, &v), SLIMY_OK);
    assert_format(stats_field, &v,
                  "**Primary**\nHP: 1,234,567 • ATK: 89,012 • DEF: 34,567 • RUSH: 1,234\n\n"
                  "**Pentagon**\nFAME: 5,678 • TECH: ??? • ART: 910 • CIV: 1,112 • FTH: 1,314");
    assert_format(stats_line, &v,
                  "HP: 1,234,567 • ATK: 89,012 • DEF: 34,567 • RUSH: 1,234 • FAME: 5,678 • TECH: ??? • ART: 910 • "
                  "CIV: 1,112 • FTH: 1,314");
    snail_vision_cleanup(&v);

    struct snail_vision none = {0};
    assert_format(stats_line, &none,
                  "HP: ??? • ATK: ??? • DEF: ??? • RUSH: ??? • FAME: ??? • TECH: ??? • ART: ??? • CIV: ??? • FTH: ???");
}

static void test_confidence_field(void **state)
{
    (void)state;
    static const struct {
        const char *answer, *expected;
    } cases[] = {
        {"{\"confidence\":\"high\",\"notes\":\"clear\"}", "✅ HIGH\nNotes: clear"},
        {"{\"confidence\":\"Medium\"}", "⚠️ MEDIUM"},
        {"{\"confidence\":\"LOW\",\"notes\":\"dark\"}", "❌ LOW\nNotes: dark"},
        {"{\"confidence\":\"so-so\"}", "ℹ️ SO-SO"},
        {"{}", "ℹ️ UNKNOWN"},
        {"{\"confidence\":\"a very long confidence level that goes on\"}", "ℹ️ A VERY LONG CONFIDENCE LEVEL THA"},
        /* a cut never splits a character: 31 ASCII bytes, then a 2-byte é at bytes 31-32 */
        {"{\"confidence\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaé\"}", "ℹ️ AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct snail_vision v;
        assert_int_equal(parse(cases[i].answer, &v), SLIMY_OK);
        assert_format(snail_vision_confidence_field, &v, cases[i].expected);
        snail_vision_cleanup(&v);
    }
}

static void test_equipment_field(void **state)
{
    (void)state;
    struct snail_vision v;
    assert_int_equal(parse(FAKE_ANSWER, &v), SLIMY_OK);
    assert_format(snail_vision_equipment_field, &v, "• WEAPON: Laser Sword\n• ACCESSORY: Lucky Charm");
    snail_vision_cleanup(&v);
    assert_int_equal(parse("{\"equipment\":{\"armor\":\"Shell Plate\"}}", &v), SLIMY_OK);
    assert_format(snail_vision_equipment_field, &v, "• ARMOR: Shell Plate");
    snail_vision_cleanup(&v);
    assert_int_equal(parse("{\"equipment\":{\"weapon\":null}}", &v), SLIMY_OK);
    assert_format(snail_vision_equipment_field, &v, ""); /* nothing: the field is left out */
    snail_vision_cleanup(&v);
}

static void test_keys_match_the_store_order(void **state)
{
    (void)state;
    static const char *const keys[SNAIL_STATS] = {"hp", "atk", "def", "rush", "fame", "tech", "art", "civ", "fth"};
    for (size_t i = 0; i < SNAIL_STATS; i++)
        assert_string_equal(snail_stat_keys[i], keys[i]);
    assert_string_equal(snail_equipment_keys[0], "weapon");
    assert_string_equal(snail_equipment_keys[1], "armor");
    assert_string_equal(snail_equipment_keys[2], "accessory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_fenced_answer),
        cmocka_unit_test(test_parse_unfenced_and_other_fences),
        cmocka_unit_test(test_parse_nulls_and_numeric_strings),
        cmocka_unit_test(test_parse_missing_keys),
        cmocka_unit_test(test_parse_invalid_json),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_stats_texts),
        cmocka_unit_test(test_confidence_field),
        cmocka_unit_test(test_equipment_field),
        cmocka_unit_test(test_keys_match_the_store_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
