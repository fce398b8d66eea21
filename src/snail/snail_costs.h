/* snail_costs.h — the Super Snail form-upgrade cost calculator (tiers T5–T8), the levels
 * parser and validator of /snail calc, and its number formatter. Pure maths: no Discord, no I/O.
 * Thread-safe: every function works only on its arguments and on constant tables. */
#ifndef SLIMY_SNAIL_SNAIL_COSTS_H
#define SLIMY_SNAIL_SNAIL_COSTS_H

#include <stdbool.h>
#include <stddef.h>

#define SNAIL_LEVELS 8 /* nodes per form: l1, r1, l2, compass, r2, l3, r3, ritual */

/* The tiers the calculator knows, in order: X(tier). /snail calc offers exactly these. */
#define SNAIL_TIERS(X) X(5) X(6) X(7) X(8)

/* Levels below this are refused by snail_costs_calc(): each level below the top costs one loop
 * step, and the original JavaScript never returns for -Infinity. */
#define SNAIL_LEVEL_MIN (-1000000.0)

/* Bytes snail_format_number() needs for any double, terminator included
 * (DBL_MAX has 309 digits and 102 separators). */
#define SNAIL_NUMBER_MAX 448

/* Bytes snail_levels_check() needs to list every failure, terminator included. */
#define SNAIL_LABELS_MAX 64

/* What the player has done so far and the game's modifiers. Start from
 * snail_calc_input_defaults() and change what you need. */
struct snail_calc_input {
    int tier;                    /* 5..8 */
    double levels[SNAIL_LEVELS]; /* current levels: l1,r1,l2,compass,r2,l3,r3,ritual (ritual 0 = not done) */
    double timemoda;             /* factor on each step's base duration; default 1 */
    double timemodb;             /* seconds taken off each step's duration; default 0 */
    double flattime;             /* minutes taken off each step's duration; default 0 */
    double btadmod;              /* factor on the BTAD total; default 1 */
    double cellmod;              /* factor on every cell total; default 1 */
    bool dragon;                 /* true: per-species cells instead of form cells */
};

/* What is still to pay to take every node to its top level. */
struct snail_calc_result {
    size_t n;         /* 3 (form, btads, hours) or 7 (zombie, demon, angel, mutant, mecha, btads, hours) */
    double values[7]; /* rounded integral doubles, JS Math.round semantics; cells and BTADs in units (×1000) */
};

/* ---- the calculator ---- */

/* Fills *in with tier 5, every level 0 and the default modifiers (1, 0, 0, 1, 1, not dragon). */
void snail_calc_input_defaults(struct snail_calc_input *in);

/* Computes the remaining costs for *in into *out, reproducing the original JavaScript bit for bit
 * (loops, per-node partial sums and rounding as in the specification; the build must not fuse
 * multiply-adds, hence -ffp-contract=off). Levels are not range-checked here: fractions, values
 * above the top (nothing left to pay) and small negatives behave as in the original, and NaN
 * levels add nothing. Use snail_levels_check() first for user input.
 * Nothing is clamped: modifiers may make values negative, -0, or infinite.
 * Returns SLIMY_OK, or SLIMY_EINVAL (out untouched) if the tier is not 5..8 or a level is below
 * SNAIL_LEVEL_MIN. */
int snail_costs_calc(const struct snail_calc_input *in, struct snail_calc_result *out);

/* ---- the /snail calc input helpers ---- */

/* Parses "3,3,2,0,0,0,0,1" into levels. The text is split on every comma; each piece is trimmed of
 * JavaScript white space (ASCII, NBSP, BOM, Unicode spaces and line separators, as UTF-8) and
 * converted with JavaScript Number() semantics: a blank piece is 0; decimals, exponents, a leading
 * + or -, "Infinity", and unsigned 0x/0o/0b integers are accepted; anything else is NaN.
 * Assumes the C locale for LC_NUMERIC (the decimal point is '.').
 * Returns SLIMY_OK, or SLIMY_EINVAL (levels untouched) if text is NULL, does not have exactly
 * SNAIL_LEVELS pieces, or any piece is NaN. */
int snail_levels_parse(const char *text, double levels[SNAIL_LEVELS]);

/* Checks the ranges /snail calc allows, in node order: l1, r1, l2 in [0,10]; compass in [0,3] for
 * tier <= 6, else [0,5]; r2, l3, r3 in [0,10]; ritual in [0,1]. A level passes when
 * `v >= 0 && v <= max`, so fractions and -0 pass, NaN and infinities fail.
 * Writes the failing labels ("l1" … "r3", "compass(0-3)" or "compass(0-5)", "ritual(0-1)") joined
 * by ", " into labels, e.g. "l2, compass(0-3), ritual(0-1)", truncated to labels_cap - 1 bytes
 * (SNAIL_LABELS_MAX always fits); "" when all pass. labels may be NULL if labels_cap is 0.
 * Returns the number of failures (0 = valid). */
size_t snail_levels_check(int tier, const double levels[SNAIL_LEVELS], char *labels, size_t labels_cap);

/* Formats v as JavaScript's v.toLocaleString() does in en-US: a comma every three digits and a
 * leading "-" for negatives ("1,963,000", "-1,234", "0", "-0" for negative zero), "∞"/"-∞" for
 * infinities, "NaN". Digits are the shortest round-trip ones, zero-padded, so values >= 2^53
 * print as JavaScript does (1e21 is "1,000,000,000,000,000,000,000"); fractions, which the
 * calculator never returns, get at most 3 decimals rounded half away from zero.
 * Writes at most cap bytes including the terminator, truncating; SNAIL_NUMBER_MAX always fits.
 * Nothing is written if cap is 0. */
void snail_format_number(double v, char *out, size_t cap);

#endif
