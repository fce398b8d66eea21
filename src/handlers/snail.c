/* snail.c — /snail: the Super Snail form-upgrade cost calculator (`calc`) and its self-check
 * (`test`), screenshot analysis (`analyze`), the saved stats (`sheet`) and `sheet-setup`, which
 * explains that stats live in Slimy's database (Google Sheets is not part of this server).
 * Only the glue lives here: the maths and number formatting are src/snail/snail_costs.c, the
 * analysis flow is src/snail/snail_analyze.c and the stats texts src/snail/snail_vision.c. */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/status.h"
#include "interactions/command.h"
#include "interactions/embed.h"
#include "flows/snail_analyze.h"
#include "snail/snail_costs.h"
#include "snail/snail_vision.h"
#include "store/store.h"

#define SHEET_COLOR 0x00AE86
#define SHEET_LIMIT_MIN 1
#define SHEET_LIMIT_MAX 10
#define SHEET_LIMIT_DEFAULT 5
#define SHEET_NAME_MAX_BYTES 256 /* a display name as shown; Discord's are far shorter */
#define SHEET_LINE_MAX_BYTES 1024
#define MARKDOWN_CHARS "\\*_~`|>" /* escaped with a backslash inside names in message text */

static enum slimy_status snail_test_run(struct cmd_ctx *ctx);
static enum slimy_status snail_calc_run(struct cmd_ctx *ctx);
static enum slimy_status snail_analyze_check_input(struct cmd_ctx *ctx);
static enum slimy_status snail_analyze_run(struct cmd_ctx *ctx);
static enum slimy_status snail_sheet_run(struct cmd_ctx *ctx);
static enum slimy_status snail_sheet_setup_run(struct cmd_ctx *ctx);

#define TIER_CHOICE(n) {.name = "T" #n, .number_value = n},
static const struct cmd_choice snail_tier_choices[] = {SNAIL_TIERS(TIER_CHOICE)};

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

static const struct cmd_option snail_analyze_options[] = {
    {.name = "screenshot",
     .type = OPT_ATTACHMENT,
     .description = "A screenshot of your snail's stats page (PNG, JPG or WEBP)",
     .required = true},
};

static const struct cmd_option snail_sheet_options[] = {
    {.name = "user", .type = OPT_USER, .description = "Whose stats to show (default: you)"},
    {.name = "limit",
     .type = OPT_INTEGER,
     .description = "How many entries to show (1-10, default 5)",
     .has_min_value = true,
     .min_value = SHEET_LIMIT_MIN,
     .has_max_value = true,
     .max_value = SHEET_LIMIT_MAX},
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
    {
        .name = "analyze",
        .description = "Read your snail's stats from a screenshot and save them",
        .options = snail_analyze_options,
        .n_options = ARRAY_LEN(snail_analyze_options),
        .flags = CMD_DEFERRED | CMD_NEEDS_AI,
        .cooldown_ms = 5000,
        .check = snail_analyze_check_input,
        .run = snail_analyze_run,
    },
    {
        .name = "sheet",
        .description = "Show saved Super Snail stats",
        .options = snail_sheet_options,
        .n_options = ARRAY_LEN(snail_sheet_options),
        .flags = CMD_DEFERRED | CMD_EPHEMERAL,
        .run = snail_sheet_run,
    },
    {
        .name = "sheet-setup",
        .description = "Where your Super Snail stats are kept",
        .flags = CMD_EPHEMERAL,
        .run = snail_sheet_setup_run,
    },
};

const struct command snail_command = {
    .name = "snail",
    .description = "Supersnail costs calculator (T5–T8)",
    .installs = INSTALL_GUILD | INSTALL_USER, /* works wherever the user is */
    .contexts = CTX_ANYWHERE,
    .subcommands = snail_subcommands,
    .n_subcommands = ARRAY_LEN(snail_subcommands),
};

/* /snail test */
static enum slimy_status snail_test_run(struct cmd_ctx *ctx)
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
    return cmd_reply(ctx, "✅ **/snail test**\n**Tier:** %d\n**Form Cells:** %s\n**BTADs:** %s\n**Hours:** %s", in.tier,
                     form, btads, hours);
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
static enum slimy_status snail_calc_run(struct cmd_ctx *ctx)
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
        return cmd_reply(ctx, "🧮 **Supersnail T%d**\n• **Form Cells:** %s\n• **BTADs:** %s\n• **Hours:** %s",
                         in.tier, v[0], v[1], v[2]);
    return cmd_reply(ctx,
                     "🧮 **Supersnail T%d (dragon mode)**\n• **Zombie Cells:** %s\n• **Demon Cells:** %s\n"
                     "• **Angel Cells:** %s\n• **Mutant Cells:** %s\n• **Mecha Cells:** %s\n• **BTADs:** %s\n"
                     "• **Hours:** %s",
                     in.tier, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
}

/* /snail analyze, before admission: a missing, non-image or oversized attachment is refused at
 * once (ephemeral), from data.resolved alone. */
static enum slimy_status snail_analyze_check_input(struct cmd_ctx *ctx)
{
    struct cmd_attachment a;
    return snail_analyze_check(ctx, cmd_opt_attachment(ctx, "screenshot", &a) ? &a : NULL);
}

/* /snail analyze screenshot:<image> */
static enum slimy_status snail_analyze_run(struct cmd_ctx *ctx)
{
    struct cmd_attachment a;
    bool has_attachment = cmd_opt_attachment(ctx, "screenshot", &a);
    return snail_analyze_start(ctx, has_attachment ? &a : NULL); /* none: the "provide an image" reply */
}

/* ---- /snail sheet ---- */

/* Appends the display name of user_id: global_name or username from data.resolved.users, else the
 * invoker's own name, else a mention (rendered, never pinged: replies allow no mentions). */
static int append_name(const struct cmd_ctx *ctx, const char *user_id, struct buf *out)
{
    struct cmd_user user;
    if (cmd_resolved_user(ctx, user_id, &user) && *user.global_name)
        return buf_append_str(out, user.global_name);
    if (cmd_resolved_user(ctx, user_id, &user) && *user.username)
        return buf_append_str(out, user.username);
    if (strcmp(user_id, ctx->interaction->user_id) == 0 && *ctx->interaction->user_name)
        return buf_append_str(out, ctx->interaction->user_name);
    return buf_printf(out, "<@%s>", user_id);
}

/* Appends text with Discord's markdown characters escaped, for a name inside **bold** text. */
static int append_escaped(const char *text, struct buf *out)
{
    int rc = SLIMY_OK;
    for (const char *p = text; !rc && *p; p++) {
        if (strchr(MARKDOWN_CHARS, *p))
            rc = buf_append(out, "\\", 1);
        if (!rc)
            rc = buf_append(out, p, 1);
    }
    return rc;
}

/* One embed field per stored row, newest first. */
static int add_rows(cJSON *embed, const struct store_snail_stats_list *rows)
{
    int rc = SLIMY_OK;
    for (size_t i = 0; !rc && i < rows->n; i++) {
        const struct store_snail_stats *row = &rows->items[i];
        char name[64];
        snprintf(name, sizeof name, "📅 <t:%lld:f>", (long long)(row->created_at_ms / 1000));
        struct buf line;
        buf_init(&line, SHEET_LINE_MAX_BYTES);
        rc = snail_vision_stats_line(row->stats, row->has_stat, &line);
        if (!rc && !embed_add_field(embed, name, line.data, false))
            rc = SLIMY_ENOMEM;
        buf_cleanup(&line);
    }
    return rc;
}

/* /snail sheet [user:<user>] [limit:<1-10>] */
static enum slimy_status snail_sheet_run(struct cmd_ctx *ctx)
{
    struct cmd_user target;
    const char *user_id = cmd_opt_user(ctx, "user", &target) ? target.id : ctx->interaction->user_id;
    int64_t limit = cmd_opt_int_or(ctx, "limit", SHEET_LIMIT_DEFAULT);

    struct store_snail_stats_list rows = {0};
    struct buf name, text;
    buf_init(&name, SHEET_NAME_MAX_BYTES);
    buf_init(&text, SHEET_NAME_MAX_BYTES * 2 + 256);
    cJSON *embed = NULL;
    int rc = store_snail_stats_list(ctx->services->store, user_id, ctx->scope_id, (size_t)limit, &rows);
    if (!rc)
        rc = append_name(ctx, user_id, &name);
    if (rc)
        goto out;
    if (rows.n == 0) {
        rc = buf_append_str(&text, "📊 No saved stats found for **");
        if (!rc)
            rc = append_escaped(name.data, &text);
        if (!rc)
            rc = cmd_reply(ctx, "%s** yet.\n\nUse `/snail analyze` to record new data.", text.data);
        goto out;
    }
    char description[64];
    snprintf(description, sizeof description, "Showing %zu most recent %s", rows.n, rows.n == 1 ? "entry" : "entries");
    rc = buf_printf(&text, "🐌 Super Snail Stats - %s", name.data);
    if (!rc && (!(embed = embed_new(text.data, SHEET_COLOR)) || !embed_set_description(embed, description)))
        rc = SLIMY_ENOMEM;
    if (!rc)
        rc = add_rows(embed, &rows);
    if (rc)
        goto out;
    rc = message_add_embed(ctx->reply, embed);
    embed = NULL; /* taken even on failure */
out:
    cJSON_Delete(embed);
    buf_cleanup(&name);
    buf_cleanup(&text);
    store_snail_stats_list_free(&rows);
    return rc;
}

/* /snail sheet-setup */
static enum slimy_status snail_sheet_setup_run(struct cmd_ctx *ctx)
{
    return cmd_reply(ctx, "📊 There is nothing to set up: Sheets synchronization is not part of this server. "
                          "Every `/snail analyze` result is stored in Slimy's database.\n\n"
                          "Use `/snail sheet` to see your saved stats.");
}
