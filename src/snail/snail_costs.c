/* snail_costs.c — Super Snail form-upgrade costs (T5–T8), the /snail calc levels parser and range
 * check, and JavaScript-compatible rounding and number formatting. Pure functions over the
 * constant tables of snail_tables.h; no Discord, no I/O. Called by src/handlers/snail.c. */
#include "snail/snail_costs.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "snail/snail_tables.h"

#define SNAIL_NODE_TOP 10.0 /* top level of every node but the compass and the ritual */

/* ------------------------------------------------------------------------------------------
 * The calculator
 *
 * Everything here reproduces the original JavaScript bit for bit, so the evaluation order is
 * part of the contract: each term is ((a*(i+c) - s)*A - Bh) - Fh, each node sums its own terms
 * from +0.0 and adds the partial sum with one +=, and nodes are visited in table order. Do not
 * replace the loops with closed forms: T7's c = 0.777 and the inexact table entries (5.4, 6.7,
 * 8.1, 9.4) round differently when regrouped.
 * ------------------------------------------------------------------------------------------ */

/* JavaScript Math.round: nearest integer, halves towards +infinity, sign of zero kept.
 * Not floor(x + 0.5), which turns 0.49999999999999994 into 1, nor C round() (-2.5 -> -3).
 * x - floor(x) is exact for every finite double. */
static double js_round(double x)
{
    double r = floor(x);
    if (x - r >= 0.5)
        r += 1.0;
    if (r == 0.0)
        r = copysign(0.0, x); /* Math.round(-0.3) is -0 */
    return r;
}

static double sum_lin(const struct snail_term *t, double level, double top)
{
    double acc = 0.0;
    for (double i = level + 1; i <= top; i = i + 1)
        acc = acc + ((t->a * (i + t->c)) - t->s);
    return acc;
}

/* A, Bh and Fh are the call's time modifiers, Bh and Fh already in hours. */
static double sum_time(const struct snail_term *t, double level, double top, double A, double Bh, double Fh)
{
    double acc = 0.0;
    for (double i = level + 1; i <= top; i = i + 1)
        acc = acc + ((((t->a * (i + t->c)) - t->s) * A) - Bh) - Fh;
    return acc;
}

/* The original sums values.slice(level): the start is the level truncated towards zero (NaN is 0),
 * a negative start counts from the end, and a start past the end gives an empty sum. */
static double sum_tab(const struct snail_term *t, double level)
{
    double len = (double)t->n_values;
    double start = isnan(level) ? 0.0 : trunc(level);
    if (start < 0) {
        start = len + start;
        if (start < 0)
            start = 0;
    } else if (start > len) {
        start = len;
    }
    double acc = 0.0;
    for (size_t k = (size_t)start; k < t->n_values; k++)
        acc = acc + t->values[k];
    return acc;
}

/* A REM cell matches only an exact integer level 0..n-1; otherwise it contributes nothing at all
 * (not even +0.0). Returns whether it matched. */
static bool lookup_rem(const struct snail_term *t, double level, double *out)
{
    for (size_t k = 0; k < t->n_values; k++) {
        if (level == (double)k) {
            *out = t->values[k];
            return true;
        }
    }
    return false;
}

static const struct snail_tier *find_tier(int tier)
{
    for (size_t k = 0; k < sizeof(snail_tiers) / sizeof(snail_tiers[0]); k++)
        if (snail_tiers[k].tier == tier)
            return &snail_tiers[k];
    return NULL;
}

void snail_calc_input_defaults(struct snail_calc_input *in)
{
    *in = (struct snail_calc_input){
        .tier = 5,
        .timemoda = 1,
        .timemodb = 0,
        .flattime = 0,
        .btadmod = 1,
        .cellmod = 1,
        .dragon = false,
    };
}

/* The totals as the game shows them: units ×1000, rounded like JavaScript's Math.round. */
static void round_result(const double acc[ACC_COUNT], bool dragon, struct snail_calc_result *out)
{
    const double btads = js_round(acc[ACC_BTADS] * 1000);
    const double hours = js_round(acc[ACC_HOURS]);
    if (dragon) {
        out->n = 7;
        out->values[0] = js_round(acc[ACC_ZOMBIE] * 1000);
        out->values[1] = js_round(acc[ACC_DEMON] * 1000);
        out->values[2] = js_round(acc[ACC_ANGEL] * 1000);
        out->values[3] = js_round(acc[ACC_MUTANT] * 1000);
        out->values[4] = js_round(acc[ACC_MECHA] * 1000);
        out->values[5] = btads;
        out->values[6] = hours;
    } else {
        out->n = 3;
        out->values[0] = js_round(acc[ACC_FORM] * 1000);
        out->values[1] = btads;
        out->values[2] = hours;
        for (size_t k = 3; k < 7; k++)
            out->values[k] = 0;
    }
}

int snail_costs_calc(const struct snail_calc_input *in, struct snail_calc_result *out)
{
    const struct snail_tier *tier = find_tier(in->tier);
    if (!tier)
        return SLIMY_EINVAL;
    for (size_t n = 0; n < SNAIL_LEVELS; n++)
        if (in->levels[n] < SNAIL_LEVEL_MIN)
            return SLIMY_EINVAL; /* also -Infinity, on which the original never returns */

    const double A = in->timemoda;
    const double Bh = in->timemodb / 3600; /* seconds -> hours, once per call */
    const double Fh = in->flattime / 60;   /* minutes -> hours, once per call */
    double acc[ACC_COUNT] = {0};

    for (size_t n = 0; n < NODE_ROWS; n++) {
        const struct snail_row *row = &tier->rows[n];
        const double level = in->levels[n];
        const double top = n == NODE_COMPASS ? tier->compass_top : SNAIL_NODE_TOP;
        /* Nodes at or above their top (and NaN levels) add nothing, except REM cells, which
         * the original evaluates unguarded; they match no level >= top anyway. */
        const bool is_open = level < top;

        for (size_t a = 0; a < ACC_COUNT; a++) {
            const struct snail_term *t = &row->terms[a];
            double partial;
            switch (t->kind) {
            case TERM_NONE: break;
            case TERM_REM:
                if (lookup_rem(t, level, &partial))
                    acc[a] += partial;
                break;
            case TERM_LIN:
                if (is_open)
                    acc[a] += sum_lin(t, level, top);
                break;
            case TERM_TIME:
                if (is_open)
                    acc[a] += sum_time(t, level, top, A, Bh, Fh);
                break;
            case TERM_TAB:
                if (is_open)
                    acc[a] += sum_tab(t, level);
                break;
            }
        }
    }

    /* The ritual is one step, counted only while its level is exactly 0 (-0 included). */
    if (in->levels[NODE_RITUAL] == 0) {
        const struct snail_ritual *r = &tier->ritual;
        acc[ACC_BTADS] += r->btads;
        acc[ACC_HOURS] += ((A * r->hours_base) - Bh) - Fh;
        acc[ACC_FORM] += r->form;
        acc[ACC_MUTANT] += r->mutant;
        acc[ACC_MECHA] += r->mecha;
    }

    /* Modifier first, then x1000: two roundings, as in the original. */
    acc[ACC_BTADS] = acc[ACC_BTADS] * in->btadmod;
    for (size_t a = ACC_FORM; a <= ACC_MECHA; a++)
        acc[a] = acc[a] * in->cellmod;

    round_result(acc, in->dragon, out);
    return SLIMY_OK;
}

/* ------------------------------------------------------------------------------------------
 * Levels: parsing with JavaScript Number() semantics, and the range check of /snail calc
 * ------------------------------------------------------------------------------------------ */

/* Bytes of the JavaScript white space (WhiteSpace or LineTerminator, ECMA-262 §12.2-12.3)
 * starting at p, or 0. Text is UTF-8; the multi-byte ones are NBSP, the BOM and the Zs spaces. */
static size_t space_at(const unsigned char *p, const unsigned char *end)
{
    size_t left = (size_t)(end - p);
    if (left >= 1 && (p[0] == ' ' || (p[0] >= '\t' && p[0] <= '\r')))
        return 1;
    if (left >= 2 && p[0] == 0xC2 && p[1] == 0xA0) /* U+00A0 */
        return 2;
    if (left < 3)
        return 0;
    if ((p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) || /* U+1680 */
        (p[0] == 0xE2 && p[1] == 0x80 &&
         (p[2] <= 0x8A ||                                 /* U+2000-200A */
          p[2] == 0xA8 || p[2] == 0xA9 ||                 /* U+2028, U+2029 */
          p[2] == 0xAF)) ||                               /* U+202F */
        (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) || /* U+205F */
        (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80) || /* U+3000 */
        (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF))   /* U+FEFF */
        return 3;
    return 0;
}

/* Bytes of the JavaScript white space that ends at end, or 0. */
static size_t space_before(const unsigned char *start, const unsigned char *end)
{
    for (size_t n = 1; n <= 3; n++)
        if ((size_t)(end - start) >= n && space_at(end - n, end) == n)
            return n;
    return 0;
}

static int digit_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return 99;
}

/* 0o/0b digits [p, end), already checked: re-encoded as a hexadecimal literal so strtod()
 * rounds the value correctly however long it is, as JavaScript does. */
static double parse_binary_or_octal(const char *p, const char *end, unsigned bits_per_digit)
{
    while (p < end && *p == '0')
        p++;
    size_t n_digits = (size_t)(end - p);
    if (n_digits == 0)
        return 0.0;
    if (n_digits * bits_per_digit > 1100)
        return INFINITY; /* at least 2^1097: past DBL_MAX */

    char hex[2 + 1100 / 4 + 2 + 1]; /* "0x", up to 276 nibbles, NUL */
    size_t pos = sizeof(hex);
    unsigned pending = 0, n_pending = 0;
    hex[--pos] = '\0';
    for (const char *q = end; q > p;) {
        pending |= (unsigned)(*--q - '0') << n_pending;
        n_pending += bits_per_digit;
        while (n_pending >= 4) {
            hex[--pos] = "0123456789abcdef"[pending & 15u];
            pending >>= 4;
            n_pending -= 4;
        }
    }
    if (n_pending > 0)
        hex[--pos] = "0123456789abcdef"[pending & 15u];
    hex[--pos] = 'x';
    hex[--pos] = '0';
    return strtod(&hex[pos], NULL);
}

/* JavaScript StringToNumber on a trimmed piece [p, end) (ECMA-262 StringNumericLiteral).
 * The grammar is checked here because strtod() accepts more ("inf", "nan", "0x1p3", a sign
 * before hex). The text after end is ',', white space or NUL, where strtod() stops too. */
static double js_number(const char *p, const char *end)
{
    if (p == end)
        return 0.0;

    /* NonDecimalIntegerLiteral: 0x, 0o, 0b, no sign, at least one digit. */
    if (end - p >= 2 && p[0] == '0' && p[1] != '\0' && strchr("xXoObB", p[1])) {
        int radix = (p[1] == 'x' || p[1] == 'X') ? 16 : (p[1] == 'o' || p[1] == 'O') ? 8 : 2;
        const char *digits = p + 2;
        if (digits == end)
            return NAN;
        for (const char *q = digits; q < end; q++)
            if (digit_value(*q) >= radix)
                return NAN;
        if (radix == 16) {
            char *stop;
            double v = strtod(p, &stop);
            return stop == end ? v : NAN;
        }
        return parse_binary_or_octal(digits, end, radix == 8 ? 3 : 1);
    }

    /* StrDecimalLiteral: [+-] (Infinity | digits [. [digits]] | . digits) [(e|E) [+-] digits] */
    const char *q = p;
    bool is_negative = false;
    if (*q == '+' || *q == '-')
        is_negative = *q++ == '-';
    if ((size_t)(end - q) == strlen("Infinity") && memcmp(q, "Infinity", strlen("Infinity")) == 0)
        return is_negative ? -INFINITY : INFINITY;
    size_t n_mantissa_digits = 0;
    while (q < end && *q >= '0' && *q <= '9')
        q++, n_mantissa_digits++;
    if (q < end && *q == '.') {
        q++;
        while (q < end && *q >= '0' && *q <= '9')
            q++, n_mantissa_digits++;
    }
    if (n_mantissa_digits == 0)
        return NAN;
    if (q < end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < end && (*q == '+' || *q == '-'))
            q++;
        const char *exponent = q;
        while (q < end && *q >= '0' && *q <= '9')
            q++;
        if (q == exponent)
            return NAN;
    }
    if (q != end)
        return NAN;
    char *stop;
    double v = strtod(p, &stop);
    return stop == end ? v : NAN;
}

int snail_levels_parse(const char *text, double levels[SNAIL_LEVELS])
{
    if (!text)
        return SLIMY_EINVAL;
    double parsed[SNAIL_LEVELS];
    size_t n = 0;
    const char *piece = text;
    for (;;) {
        const char *comma = strchr(piece, ',');
        const char *end = comma ? comma : piece + strlen(piece);
        if (n == SNAIL_LEVELS)
            return SLIMY_EINVAL; /* a ninth piece */

        const unsigned char *first = (const unsigned char *)piece;
        const unsigned char *last = (const unsigned char *)end;
        for (size_t len; (len = space_at(first, last)) > 0;)
            first += len;
        for (size_t len; (len = space_before(first, last)) > 0;)
            last -= len;
        double v = js_number((const char *)first, (const char *)last);
        if (isnan(v))
            return SLIMY_EINVAL;
        parsed[n++] = v;

        if (!comma)
            break;
        piece = comma + 1;
    }
    if (n != SNAIL_LEVELS)
        return SLIMY_EINVAL;
    memcpy(levels, parsed, sizeof(parsed));
    return SLIMY_OK;
}

size_t snail_levels_check(int tier, const double levels[SNAIL_LEVELS], char *labels, size_t labels_cap)
{
    static const char *const names[SNAIL_LEVELS] = {"l1", "r1", "l2", NULL, "r2", "l3", "r3", "ritual(0-1)"};
    size_t n_failed = 0, len = 0;
    if (labels_cap > 0)
        labels[0] = '\0';

    for (size_t n = 0; n < SNAIL_LEVELS; n++) {
        double max = SNAIL_NODE_TOP;
        const char *label = names[n];
        if (n == NODE_COMPASS) {
            max = tier <= 6 ? 3 : 5;
            label = tier <= 6 ? "compass(0-3)" : "compass(0-5)";
        } else if (n == NODE_RITUAL) {
            max = 1;
        }
        const double v = levels[n];
        if (v >= 0 && v <= max)
            continue;

        if (len + 1 < labels_cap) {
            int written = snprintf(labels + len, labels_cap - len, "%s%s", n_failed ? ", " : "", label);
            if (written > 0)
                len += (size_t)written < labels_cap - len ? (size_t)written : labels_cap - len - 1;
        }
        n_failed++;
    }
    return n_failed;
}

/* ------------------------------------------------------------------------------------------
 * Number formatting: Number.prototype.toLocaleString() in en-US
 *
 * ICU formats the shortest round-trip decimal of the double (what JavaScript prints), rounded to
 * at most 3 fraction digits half away from zero, with a group separator every 3 integer digits.
 * ------------------------------------------------------------------------------------------ */

/* Shortest decimal digits that read back as a (finite, > 0): writes them, without trailing
 * zeros, to digits (at least 20 bytes) and returns the decimal exponent of the first digit. */
static int shortest_digits(double a, char *digits, size_t digits_cap)
{
    uint64_t mantissa = 0;
    int exponent = 0, precision = 0;
    for (precision = 0; precision <= 16; precision++) {
        char text[40];
        snprintf(text, sizeof(text), "%.*e", precision, a);
        /* text is d.ddde±x: collect the digits as one integer. */
        mantissa = 0;
        for (const char *q = text; *q != 'e'; q++)
            if (*q != '.')
                mantissa = mantissa * 10 + (uint64_t)(*q - '0');
        exponent = (int)strtol(strchr(text, 'e') + 1, NULL, 10);
        if (strtod(text, NULL) == a)
            break;
        /* Below a power of two the round-trip interval is narrower underneath, so the nearest
         * candidate can miss while the one above it reads back; JavaScript takes that one. */
        snprintf(text, sizeof(text), "%" PRIu64 "e%d", mantissa + 1, exponent - precision);
        if (strtod(text, NULL) == a) {
            mantissa++;
            break;
        }
    }
    int n = snprintf(digits, digits_cap, "%" PRIu64, mantissa);
    /* mantissa + 1 may have gained a digit (999 -> 1000); the exponent follows the length. */
    int first_exponent = exponent - precision + n - 1;
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
    return first_exponent;
}

/* Formats a finite a >= 0 into out (SNAIL_NUMBER_MAX bytes), without sign. */
static void format_magnitude(double a, char *out)
{
    char digits[32] = "0"; /* room for 4 leading zeros, 17 digits, a carry and the NUL */
    int n_int = 1;         /* digits before the decimal point */
    if (a > 0) {
        char shortest[24];
        int first_exponent = shortest_digits(a, shortest, sizeof(shortest));
        if (first_exponent >= -4) { /* smaller values are < 0.0005 and print as 0 */
            int n_zeros = first_exponent < 0 ? -first_exponent : 0;
            memset(digits, '0', (size_t)n_zeros);
            memcpy(digits + n_zeros, shortest, strlen(shortest) + 1);
            n_int = first_exponent < 0 ? 1 : first_exponent + 1;
        }
    }

    /* Keep 3 fraction digits; the first dropped digit decides (half away from zero). */
    int n = (int)strlen(digits);
    int keep = n_int + 3;
    if (n > keep) {
        bool is_round_up = digits[keep] >= '5';
        n = keep;
        digits[n] = '\0';
        for (int k = n - 1; is_round_up && k >= 0; k--) {
            if (digits[k] == '9') {
                digits[k] = '0';
            } else {
                digits[k]++;
                is_round_up = false;
            }
        }
        if (is_round_up) { /* 9.9996 -> 10.000 */
            memmove(digits + 1, digits, (size_t)n + 1);
            digits[0] = '1';
            n++;
            n_int++;
        }
    }
    while (n > n_int && digits[n - 1] == '0')
        digits[--n] = '\0';

    size_t len = 0;
    for (int k = 0; k < n_int; k++) {
        if (k > 0 && (n_int - k) % 3 == 0)
            out[len++] = ',';
        out[len++] = k < n ? digits[k] : '0';
    }
    if (n > n_int) {
        out[len++] = '.';
        for (int k = n_int; k < n; k++)
            out[len++] = digits[k];
    }
    out[len] = '\0';
}

void snail_format_number(double v, char *out, size_t cap)
{
    if (cap == 0)
        return;
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    char magnitude[SNAIL_NUMBER_MAX];
    if (isinf(v))
        snprintf(magnitude, sizeof(magnitude), "∞");
    else
        format_magnitude(fabs(v), magnitude);
    snprintf(out, cap, "%s%s", signbit(v) ? "-" : "", magnitude);
}
