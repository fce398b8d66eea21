/* fuzz_snail.c — the two text parsers of the Super Snail room: snail_vision_parse() (a vision
 * model's answer: JSON, fenced or in prose) followed by every formatter of its result, and the
 * /snail calc levels parser snail_levels_parse() followed, as /snail calc does, by the range check
 * and, when it passes, the calculator and the number formatter on its results.
 *
 * Input: all of it is the model's answer and, NUL-terminated, the levels text. Its first byte
 * also picks the tier (5-8) and, when the input is 8 bytes or more, its first 8 bytes are one
 * double for snail_format_number(). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/status.h"
#include "snail/snail_costs.h"
#include "snail/snail_vision.h"

static void vision(const char *text, size_t len)
{
    struct snail_vision v;
    int rc = snail_vision_parse(text, len, &v);
    if (rc == SLIMY_OK) {
        struct buf out;
        buf_init(&out, 64 * 1024);
        snail_vision_summary(&v, &out);
        buf_cleanup(&out);
        snail_vision_stats_field(v.stats, v.has_stat, &out);
        buf_cleanup(&out);
        snail_vision_stats_line(v.stats, v.has_stat, &out);
        buf_cleanup(&out);
        snail_vision_confidence_field(&v, &out);
        buf_cleanup(&out);
        snail_vision_equipment_field(&v, &out);
        buf_cleanup(&out);
    }
    snail_vision_cleanup(&v); /* safe after any return */
}

static void format(double v)
{
    char out[SNAIL_NUMBER_MAX];
    snail_format_number(v, out, sizeof out);
    if (!memchr(out, '\0', sizeof out))
        abort();
    char small[8]; /* truncation */
    snail_format_number(v, small, sizeof small);
    if (!memchr(small, '\0', sizeof small))
        abort();
}

static void levels(const char *text, int tier)
{
    double lv[SNAIL_LEVELS];
    if (snail_levels_parse(text, lv) != SLIMY_OK)
        return;
    char labels[SNAIL_LABELS_MAX];
    size_t failures = snail_levels_check(tier, lv, labels, sizeof labels);
    if (!memchr(labels, '\0', sizeof labels))
        abort();
    char tiny[5];
    snail_levels_check(tier, lv, tiny, sizeof tiny);
    if (failures)
        return;
    struct snail_calc_input in;
    snail_calc_input_defaults(&in);
    in.tier = tier;
    memcpy(in.levels, lv, sizeof lv);
    in.dragon = tier & 1;
    struct snail_calc_result r;
    if (snail_costs_calc(&in, &r) != SLIMY_OK)
        abort(); /* checked levels must calculate */
    for (size_t i = 0; i < r.n; i++)
        format(r.values[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exact-size copies: the vision parser gets a length, the levels parser a C string. */
    char *text = malloc(size ? size : 1);
    char *cstr = malloc(size + 1);
    if (!text || !cstr)
        abort();
    memcpy(text, data, size);
    memcpy(cstr, data, size);
    cstr[size] = '\0';
    vision(text, size);
    levels(cstr, 5 + (size ? data[0] % 4 : 0));
    if (size >= 8) {
        double v;
        memcpy(&v, data, sizeof v);
        format(v);
    }
    free(text);
    free(cstr);
    return 0;
}
