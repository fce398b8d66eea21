/* snail_tables.h — the game data of the Super Snail form calculator (tiers T5–T8): which sum each
 * node adds to each accumulator, and the ritual constants. Included only by snail_costs.c, which
 * defines the sums (LIN, TIME, TAB, REM) these rows name. Immutable, so any thread may read them.
 * The tables are normative: they transcribe the specification's §7 row for row, quirks included
 * (T5_MIX on left1 in T5 and T6, T7_U ending in 10, compass feeding angel+mecha in T5 only). */
#ifndef SLIMY_SNAIL_SNAIL_TABLES_H
#define SLIMY_SNAIL_SNAIL_TABLES_H

#include <stddef.h>

/* Accumulators, in the order of the specification's §2. */
enum snail_acc {
    ACC_BTADS,
    ACC_HOURS,
    ACC_FORM,
    ACC_ZOMBIE,
    ACC_DEMON,
    ACC_ANGEL,
    ACC_MUTANT,
    ACC_MECHA,
    ACC_COUNT
};

/* Nodes with a table row, in visiting order; the index is also the node's place in the levels
 * string. The ritual (index 7) has constants instead of a row. */
enum snail_node_index {
    NODE_LEFT1,
    NODE_RIGHT1,
    NODE_LEFT2,
    NODE_COMPASS,
    NODE_RIGHT2,
    NODE_LEFT3,
    NODE_RIGHT3,
    NODE_RITUAL,
    NODE_ROWS = NODE_RITUAL /* nodes that have a row */
};

enum snail_term_kind {
    TERM_NONE = 0, /* the node does not touch this accumulator */
    TERM_LIN,      /* sum of a*(i+c) - s over the levels still to reach */
    TERM_TIME,     /* sum of ((a*(i+c) - s)*A - Bh) - Fh over the levels still to reach, in hours */
    TERM_TAB,      /* sum of values[k] from the current level to the end */
    TERM_REM,      /* values[current level] if the level is exactly 0..n_values-1, else nothing */
};

/* One cell of a tier table. */
struct snail_term {
    enum snail_term_kind kind; /* which sum; TERM_NONE for an empty cell */
    double a, c, s;            /* LIN/TIME: per-level cost a*(i+c) - s for reaching level i */
    const double *values;      /* TAB: cost of level k -> k+1; REM: total still owed at level k */
    size_t n_values;           /* entries in values */
};

/* The row of one node: one cell per accumulator. */
struct snail_row {
    struct snail_term terms[ACC_COUNT]; /* indexed by enum snail_acc */
};

/* Added once when the ritual level is exactly 0. */
struct snail_ritual {
    double btads;      /* BTADs (thousands) */
    double hours_base; /* R: base duration in hours; the step costs A*R - Bh - Fh */
    double form;       /* form cells (thousands) */
    double mutant;     /* mutant cells (thousands) */
    double mecha;      /* mecha cells (thousands) */
};

struct snail_tier {
    int tier;                         /* 5..8 */
    double compass_top;               /* 3 (T5, T6) or 5 (T7, T8) */
    struct snail_row rows[NODE_ROWS]; /* left1 .. right3, indexed by enum snail_node_index */
    struct snail_ritual ritual;       /* what an undone ritual still costs */
};

/* ---- named per-level tables (index 0 = cost of level 0 -> 1) ---- */

static const double T5_A[] = {5.4, 6.7, 8.1, 9.4, 10, 12, 13, 14, 16, 17};
static const double T5_B[] = {8.1, 10, 12, 14, 16, 18, 20, 22, 24, 26};
static const double T5_C[] = {10, 13, 16, 18, 21, 24, 27, 29, 32, 35};
static const double T5_D[] = {16, 20, 24, 28, 32, 36, 40, 44, 48, 52};
/* The first entry of T5_A, then entries 2-10 of T5_B: the original's left1 zombie row. */
static const double T5_MIX[] = {5.4, 10, 12, 14, 16, 18, 20, 22, 24, 26};
static const double T6_A[] = {11, 14, 17, 19, 22, 25, 28, 31, 34, 37};
static const double T6_B[] = {17, 21, 25, 29, 34, 38, 42, 47, 51, 55};
static const double T6_C[] = {22, 28, 34, 39, 45, 51, 57, 62, 68, 74};
static const double T6_D[] = {34, 42, 51, 59, 68, 76, 85, 94, 100, 110};
static const double T7_P[] = {45, 56, 67, 78, 90, 100, 110, 120, 130, 140};
static const double T7_Q[] = {30, 37, 45, 52, 60, 67, 75, 82, 90, 97};
static const double T7_R[] = {43, 54, 65, 75, 89, 97, 100, 110, 130, 140};
static const double T7_S[] = {63, 78, 94, 110, 120, 140, 150, 170, 180, 200};
static const double T7_U[] = {31, 39, 47, 55, 63, 71, 78, 86, 94, 10}; /* sic: 10, not 100 */
static const double T7_V[] = {90, 110, 130, 150, 180, 200, 220, 240, 270, 290};
static const double T8_P[] = {120, 160, 200, 240, 280, 320, 360, 400, 440, 480};
static const double T8_Q[] = {81, 100, 130, 160, 180, 210, 240, 270, 290, 320};
static const double T8_S1[] = {180, 220, 280, 340, 390, 450, 510, 560, 620, 680};
static const double T8_S2[] = {180, 240, 300, 360, 420, 480, 540, 600, 660, 720};
static const double T8_M[] = {77, 100, 120, 150, 180, 200, 230, 250, 280, 300};
static const double T8_U[] = {120, 170, 210, 250, 300, 340, 380, 430, 470, 510};
static const double T8_Z3[] = {110, 150, 190, 230, 270, 310, 350, 390, 430, 470};
static const double T8_V1[] = {240, 320, 400, 480, 560, 640, 720, 810, 890, 970};
static const double T8_V2[] = {240, 320, 400, 480, 560, 640, 720, 800, 880, 960};
static const double T8_K[] = {300, 400, 500, 600, 900};

/* ---- compass "remaining" totals by current level (T6-T8 BTADs and form cells) ---- */

static const double T6_COMPASS_BTADS[] = {1080, 960, 600};
static const double T6_COMPASS_FORM[] = {450, 400, 250};
static const double T7_COMPASS_BTADS[] = {6800, 6080, 5040, 3680, 2000};
static const double T7_COMPASS_FORM[] = {680, 608, 504, 368, 200};
static const double T8_COMPASS_BTADS[] = {75000, 70000, 60000, 45000, 25000};
static const double T8_COMPASS_FORM[] = {3000, 2800, 2400, 1800, 1000};

/* Cell constructors, named as in the specification; s defaults to 0. */
#define LIN(a_, c_)                            \
    {                                          \
        .kind = TERM_LIN, .a = (a_), .c = (c_) \
    }
#define TIME(a_, c_)                            \
    {                                           \
        .kind = TERM_TIME, .a = (a_), .c = (c_) \
    }
#define TIME_S(a_, c_, s_)                                 \
    {                                                      \
        .kind = TERM_TIME, .a = (a_), .c = (c_), .s = (s_) \
    }
#define TAB(x_)                                                                    \
    {                                                                              \
        .kind = TERM_TAB, .values = (x_), .n_values = sizeof(x_) / sizeof((x_)[0]) \
    }
#define REM(x_)                                                                    \
    {                                                                              \
        .kind = TERM_REM, .values = (x_), .n_values = sizeof(x_) / sizeof((x_)[0]) \
    }

/* ---- the tiers ---- */

/* clang-format off: the rows are aligned as the specification lays them out */
static const struct snail_tier
    snail_tiers[] =
        {
            {
                .tier = 5,
                .compass_top = 3,
                .rows =
                    {
                        [NODE_LEFT1] = {{[ACC_BTADS] = LIN(2.5, 3),
                                         [ACC_HOURS] = TIME(3, 1),
                                         [ACC_FORM] = LIN(2.5, 3),
                                         [ACC_ZOMBIE] = TAB(T5_MIX),
                                         [ACC_DEMON] = TAB(T5_A)}},
                        [NODE_RIGHT1] = {{[ACC_BTADS] = LIN(2.5, 3),
                                          [ACC_HOURS] = TIME(3, 1),
                                          [ACC_FORM] = LIN(2.5, 3),
                                          [ACC_ZOMBIE] = TAB(T5_A),
                                          [ACC_DEMON] = TAB(T5_B)}},
                        [NODE_LEFT2] = {{[ACC_BTADS] = LIN(3.75, 3),
                                         [ACC_HOURS] = TIME(4, 1),
                                         [ACC_FORM] = LIN(3, 3),
                                         [ACC_ANGEL] = TAB(T5_C),
                                         [ACC_MUTANT] = TAB(T5_A)}},
                        [NODE_COMPASS] = {{[ACC_BTADS] = LIN(50, 0),
                                           [ACC_HOURS] = TIME(20, 0),
                                           [ACC_FORM] = LIN(20, 0),
                                           [ACC_ANGEL] = LIN(30, 0),
                                           [ACC_MECHA] = LIN(30, 0)}},
                        [NODE_RIGHT2] = {{[ACC_BTADS] = LIN(3.75, 3),
                                          [ACC_HOURS] = TIME(4, 1),
                                          [ACC_FORM] = LIN(3, 3),
                                          [ACC_ANGEL] = TAB(T5_C),
                                          [ACC_MECHA] = TAB(T5_A)}},
                        [NODE_LEFT3] = {{[ACC_BTADS] = LIN(5, 3),
                                         [ACC_HOURS] = TIME(5, 1),
                                         [ACC_FORM] = LIN(4, 3),
                                         [ACC_ZOMBIE] = TAB(T5_B),
                                         [ACC_MECHA] = TAB(T5_D)}},
                        [NODE_RIGHT3] = {{[ACC_BTADS] = LIN(5, 3),
                                          [ACC_HOURS] = TIME(5, 1),
                                          [ACC_FORM] = LIN(4, 3),
                                          [ACC_DEMON] = TAB(T5_B),
                                          [ACC_MUTANT] = TAB(T5_D)}},
                    },
                .ritual = {.btads = 75, .hours_base = 120, .form = 30, .mutant = 45, .mecha = 45},
            },
            {
                .tier = 6,
                .compass_top = 3,
                .rows =
                    {
                        [NODE_LEFT1] = {{[ACC_BTADS] = LIN(12.5, 3),
                                         [ACC_HOURS] = TIME(8, 0.5),
                                         [ACC_FORM] = LIN(2.5, 3),
                                         [ACC_ZOMBIE] = TAB(T5_MIX),
                                         [ACC_DEMON] = TAB(T6_A)}},
                        [NODE_RIGHT1] = {{[ACC_BTADS] = LIN(12.5, 3),
                                          [ACC_HOURS] = TIME(8, 0.5),
                                          [ACC_FORM] = LIN(2.5, 3),
                                          [ACC_ZOMBIE] = TAB(T6_A),
                                          [ACC_DEMON] = TAB(T6_B)}},
                        [NODE_LEFT2] = {{[ACC_BTADS] = LIN(15, 3),
                                         [ACC_HOURS] = TIME(10, 0.5),
                                         [ACC_FORM] = LIN(3, 3),
                                         [ACC_ANGEL] = TAB(T6_C),
                                         [ACC_MUTANT] = TAB(T6_A)}},
                        [NODE_COMPASS] = {{[ACC_BTADS] = REM(T6_COMPASS_BTADS),
                                           [ACC_HOURS] = TIME_S(144, 0, 72),
                                           [ACC_FORM] = REM(T6_COMPASS_FORM),
                                           [ACC_ANGEL] = LIN(100, 0),
                                           [ACC_MUTANT] = LIN(100, 0)}},
                        [NODE_RIGHT2] = {{[ACC_BTADS] = LIN(15, 3),
                                          [ACC_HOURS] = TIME(10, 0.5),
                                          [ACC_FORM] = LIN(3, 3),
                                          [ACC_ANGEL] = TAB(T6_C),
                                          [ACC_MECHA] = TAB(T6_A)}},
                        [NODE_LEFT3] = {{[ACC_BTADS] = LIN(20, 3),
                                         [ACC_HOURS] = TIME(12, 0.5),
                                         [ACC_FORM] = LIN(4, 3),
                                         [ACC_ZOMBIE] = TAB(T6_B),
                                         [ACC_MECHA] = TAB(T6_D)}},
                        [NODE_RIGHT3] = {{[ACC_BTADS] = LIN(20, 3),
                                          [ACC_HOURS] = TIME(12, 0.5),
                                          [ACC_FORM] = LIN(4, 3),
                                          [ACC_DEMON] = TAB(T6_B),
                                          [ACC_MUTANT] = TAB(T6_D)}},
                    },
                .ritual = {.btads = 30, .hours_base = 720, .form = 60, .mutant = 90, .mecha = 90},
            },
            {
                .tier = 7,
                .compass_top = 5,
                .rows =
                    {
                        [NODE_LEFT1] = {{[ACC_BTADS] = LIN(50, 3),
                                         [ACC_HOURS] = TIME(24, 1),
                                         [ACC_FORM] = LIN(5, 3),
                                         [ACC_ZOMBIE] = TAB(T7_P),
                                         [ACC_DEMON] = TAB(T7_Q)}},
                        [NODE_RIGHT1] = {{[ACC_BTADS] = LIN(50, 3),
                                          [ACC_HOURS] = TIME(24, 1),
                                          [ACC_FORM] = LIN(5, 3),
                                          [ACC_ZOMBIE] = TAB(T7_Q),
                                          [ACC_DEMON] = TAB(T7_R)}},
                        [NODE_LEFT2] = {{[ACC_BTADS] = LIN(80, 3),
                                         [ACC_HOURS] = TIME(48, 1),
                                         [ACC_FORM] = LIN(18, 0.777),
                                         [ACC_ANGEL] = TAB(T7_S),
                                         [ACC_MUTANT] = TAB(T7_Q)}},
                        [NODE_COMPASS] = {{[ACC_BTADS] = REM(T7_COMPASS_BTADS),
                                           [ACC_HOURS] = TIME(192, 0.25),
                                           [ACC_FORM] = REM(T7_COMPASS_FORM),
                                           [ACC_ANGEL] = LIN(50, 1),
                                           [ACC_MUTANT] = LIN(50, 1)}},
                        [NODE_RIGHT2] = {{[ACC_BTADS] = LIN(80, 3),
                                          [ACC_HOURS] = TIME(48, 1),
                                          [ACC_FORM] = LIN(18, 0.777),
                                          [ACC_ANGEL] = TAB(T7_S),
                                          [ACC_MECHA] = TAB(T7_U)}},
                        [NODE_LEFT3] = {{[ACC_BTADS] = LIN(120, 3),
                                         [ACC_HOURS] = TIME(72, 1),
                                         [ACC_FORM] = LIN(12, 3),
                                         [ACC_ZOMBIE] = TAB(T7_P),
                                         [ACC_MECHA] = TAB(T7_V)}},
                        [NODE_RIGHT3] = {{[ACC_BTADS] = LIN(120, 3),
                                          [ACC_HOURS] = TIME(72, 1),
                                          [ACC_FORM] = LIN(12, 3),
                                          [ACC_DEMON] = TAB(T7_P),
                                          [ACC_MUTANT] = TAB(T7_V)}},
                    },
                .ritual = {.btads = 1600, .hours_base = 720, .form = 160, .mutant = 240, .mecha = 240},
            },
            {
                .tier = 8,
                .compass_top = 5,
                .rows =
                    {
                        [NODE_LEFT1] = {{[ACC_BTADS] = LIN(500, 2),
                                         [ACC_HOURS] = TIME(168, 0),
                                         [ACC_FORM] = LIN(20, 2),
                                         [ACC_ZOMBIE] = TAB(T8_P),
                                         [ACC_DEMON] = TAB(T8_Q)}},
                        [NODE_RIGHT1] = {{[ACC_BTADS] = LIN(500, 2),
                                          [ACC_HOURS] = TIME(168, 0),
                                          [ACC_FORM] = LIN(20, 2),
                                          [ACC_ZOMBIE] = TAB(T8_Q),
                                          [ACC_DEMON] = TAB(T8_P)}},
                        [NODE_LEFT2] = {{[ACC_BTADS] = LIN(750, 2),
                                         [ACC_HOURS] = TIME(240, 0),
                                         [ACC_FORM] = LIN(30, 2),
                                         [ACC_ANGEL] = TAB(T8_S1),
                                         [ACC_MUTANT] = TAB(T8_M)}},
                        [NODE_COMPASS] = {{[ACC_BTADS] = REM(T8_COMPASS_BTADS),
                                           [ACC_HOURS] = TIME_S(960, 0, 10),
                                           [ACC_FORM] = REM(T8_COMPASS_FORM),
                                           [ACC_ANGEL] = TAB(T8_K),
                                           [ACC_MUTANT] = TAB(T8_K)}},
                        [NODE_RIGHT2] = {{[ACC_BTADS] = LIN(750, 2),
                                          [ACC_HOURS] = TIME(240, 0),
                                          [ACC_FORM] = LIN(30, 2),
                                          [ACC_ANGEL] = TAB(T8_S2),
                                          [ACC_MECHA] = TAB(T8_U)}},
                        [NODE_LEFT3] = {{[ACC_BTADS] = LIN(1000, 2),
                                         [ACC_HOURS] = TIME(360, 0),
                                         [ACC_FORM] = LIN(40, 2),
                                         [ACC_ZOMBIE] = TAB(T8_Z3),
                                         [ACC_MECHA] = TAB(T8_V1)}},
                        [NODE_RIGHT3] = {{[ACC_BTADS] = LIN(1000, 2),
                                          [ACC_HOURS] = TIME(360, 0),
                                          [ACC_FORM] = LIN(40, 2),
                                          [ACC_DEMON] = TAB(T8_P),
                                          [ACC_MUTANT] = TAB(T8_V2)}},
                    },
                .ritual = {.btads = 12500, .hours_base = 4320, .form = 500, .mutant = 500, .mecha = 12500},
            },
};
/* clang-format on */

#undef LIN
#undef TIME
#undef TIME_S
#undef TAB
#undef REM

#endif
