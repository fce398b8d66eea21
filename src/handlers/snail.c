/* snail.c — /snail: the Super Snail form-upgrade cost calculator (`calc`) and its self-check
 * (`test`). Only the glue lives here: options in, text out; the maths, levels parsing and number
 * formatting are src/snail/snail_costs.c. analyze, sheet and sheet-setup are not ported yet. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "interactions/command.h"
#include "snail/snail_costs.h"

static int snail_test_run(struct cmd_ctx *ctx);
static int snail_calc_run(struct cmd_ctx *ctx);

static const struct cmd_choice snail_tier_choices[] = {
    {.name = "T5", .number_value = 5},
    {.name = "T6", .number_value = 6},
    {.name = "T7", .number_value = 7},
    {.name = "T8", .number_value = 8},
};

static const struct cmd_option snail_calc_options[] = {
    {.name = "tier",
     .type = OPT_INTEGER,
     .description = "Form tier",
     .required = true,
     .choices = snail_tier_choices,
     .n_choices = ARRAY_LEN(snail_tier_choices)},
    {.name = "levels",
     .type = OPT_STRING,
     .description = "Current levels l1,r1,l2,compass,r2,l3,r3,ritual e.g. 3,3,2,0,0,0,0,1",
     .required = true},
    {.name = "timemoda", .type = OPT_NUMBER, .description = "Multiplier on each upgrade's duration (default 1)"},
    {.name = "timemodb", .type = OPT_NUMBER, .description = "Seconds taken off each upgrade's duration (default 0)"},
    {.name = "flattime", .type = OPT_NUMBER, .description = "Minutes taken off each upgrade's duration (default 0)"},
    {.name = "btadmod", .type = OPT_NUMBER, .description = "Multiplier on the BTAD total (default 1)"},
    {.name = "cellmod", .type = OPT_NUMBER, .description = "Multiplier on every cell total (default 1)"},
    {.name = "dragon", .type = OPT_BOOLEAN, .description = "Show cells per species instead of form cells"},
};

static const struct command snail_subcommands[] = {
    {
        .name = "test",
        .description = "Self-check: the T6 example with default modifiers",
        .flags = CMD_EPHEMERAL,
        .run = snail_test_run,
    },
    {
        .name = "calc",
        .description = "Remaining form upgrade costs (cells, BTADs, hours) for T5-T8",
        .options = snail_calc_options,
        .n_options = ARRAY_LEN(snail_calc_options),
        .flags = CMD_EPHEMERAL,
        .run = snail_calc_run,
    },
};

const struct command snail_command = {
    .name = "snail",
    .description = "Supersnail costs calculator (T5–T8)",
    .subcommands = snail_subcommands,
    .n_subcommands = ARRAY_LEN(snail_subcommands),
};

/* /snail test */
static int snail_test_run(struct cmd_ctx *ctx)
{
    static const double levels[SNAIL_LEVELS] = {3, 3, 2, 0, 0, 0, 0, 1};
    struct snail_calc_input in;
    struct snail_calc_result out;
    char form[SNAIL_NUMBER_MAX], btads[SNAIL_NUMBER_MAX], hours[SNAIL_NUMBER_MAX];

    snail_calc_input_defaults(&in);
    in.tier = 6;
    for (size_t k = 0; k < SNAIL_LEVELS; k++)
        in.levels[k] = levels[k];
    int rc = snail_costs_calc(&in, &out);
    if (rc)
        return rc; /* cannot happen: tier 6 and the levels are constants */
    snail_format_number(out.values[0], form, sizeof(form));
    snail_format_number(out.values[1], btads, sizeof(btads));
    snail_format_number(out.values[2], hours, sizeof(hours));
    return cmd_reply(ctx, "✅ **/snail test**\n**Tier:** %d\n**Form Cells:** %s\n**BTADs:** %s\n**Hours:** %s",
                     in.tier, form, btads, hours);
}

/* Reads an optional number option; absent keeps *out (its default), an explicit 0 is kept. */
static void read_modifier(const struct cmd_ctx *ctx, const char *name, double *out)
{
    double v;
    if (cmd_opt_number(ctx, name, &v))
        *out = v;
}

/* /snail calc tier:<5-8> levels:<l1,r1,l2,compass,r2,l3,r3,ritual> [timemoda] [timemodb] [flattime]
 *             [btadmod] [cellmod] [dragon] */
static int snail_calc_run(struct cmd_ctx *ctx)
{
    struct snail_calc_input in;
    struct snail_calc_result out;
    int64_t tier = 0;

    snail_calc_input_defaults(&in);
    (void)cmd_opt_int(ctx, "tier", &tier); /* required; a missing one ends as a bad tier below */
    in.tier = tier < INT_MIN ? INT_MIN : tier > INT_MAX ? INT_MAX : (int)tier;

    /* The original's order: parse the levels, check their ranges, then pick the tier. */
    const char *levels = cmd_opt_string(ctx, "levels");
    if (snail_levels_parse(levels ? levels : "", in.levels) != SLIMY_OK)
        return cmd_reply(ctx, "❌ Error: Levels must be 8 comma-separated numbers: l1,r1,l2,compass,r2,l3,r3,ritual");
    char failed[SNAIL_LABELS_MAX];
    if (snail_levels_check(in.tier, in.levels, failed, sizeof(failed)) > 0)
        return cmd_reply(ctx, "❌ Invalid values: %s", failed);

    read_modifier(ctx, "timemoda", &in.timemoda);
    read_modifier(ctx, "timemodb", &in.timemodb);
    read_modifier(ctx, "flattime", &in.flattime);
    read_modifier(ctx, "btadmod", &in.btadmod);
    read_modifier(ctx, "cellmod", &in.cellmod);
    bool is_dragon;
    if (cmd_opt_bool(ctx, "dragon", &is_dragon))
        in.dragon = is_dragon;

    /* Levels passed the range check, so only the tier can be refused (Discord's choices make it
     * unreachable in practice). */
    if (snail_costs_calc(&in, &out) != SLIMY_OK)
        return cmd_reply(ctx, "❌ Error: Tier must be 5, 6, 7, or 8");

    char v[7][SNAIL_NUMBER_MAX];
    for (size_t k = 0; k < out.n; k++)
        snail_format_number(out.values[k], v[k], sizeof(v[k]));
    if (!in.dragon)
        return cmd_reply(ctx, "🧮 **Supersnail T%d**\n• **Form Cells:** %s\n• **BTADs:** %s\n• **Hours:** %s", in.tier,
                         v[0], v[1], v[2]);
    return cmd_reply(ctx,
                     "🧮 **Supersnail T%d (dragon mode)**\n• **Zombie Cells:** %s\n• **Demon Cells:** %s\n"
                     "• **Angel Cells:** %s\n• **Mutant Cells:** %s\n• **Mecha Cells:** %s\n• **BTADs:** %s\n"
                     "• **Hours:** %s",
                     in.tier, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
}
