/* personality.c — /personality-config: administrators tune Slimy's persona for their server.
 * Adjustments are stored per scope (store.h) and read by the /chat prompt builder. Needs
 * Administrator, checked server-side by the dispatcher from member.permissions. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "persona/persona.h"
#include "interactions/embed.h"
#include "store/store.h"

#define PERSONALITY_COLOR 0x7B68EE

static enum slimy_status personality_view_run(struct cmd_ctx *ctx);
static enum slimy_status personality_test_run(struct cmd_ctx *ctx);
static enum slimy_status personality_analytics_run(struct cmd_ctx *ctx);
static enum slimy_status personality_adjust_run(struct cmd_ctx *ctx);

#define PARAMETER_CHOICE(parameter, choice, label, scale, needs_personality) \
    {.name = choice, .string_value = parameter},
static const struct cmd_choice parameter_choices[] = {PERSONA_ADJUSTMENTS(PARAMETER_CHOICE)};

static const struct cmd_option adjust_options[] = {
    {.name = "parameter",
     .type = OPT_STRING,
     .description = "What to adjust",
     .required = true,
     .choices = parameter_choices,
     .n_choices = ARRAY_LEN(parameter_choices)},
    {.name = "value",
     .type = OPT_INTEGER,
     .description = "New value from 1 to 10",
     .required = true,
     .has_min_value = true,
     .min_value = 1,
     .has_max_value = true,
     .max_value = 10},
};

#define PERSONALITY_FLAGS (CMD_DEFERRED | CMD_EPHEMERAL | CMD_GUILD_ONLY | CMD_NEEDS_ADMIN)

static const struct command personality_subcommands[] = {
    {.name = "view",
     .description = "Show the personality configuration and adjustments",
     .flags = PERSONALITY_FLAGS,
     .run = personality_view_run},
    {.name = "test",
     .description = "Log sample prompts built with the current configuration",
     .flags = PERSONALITY_FLAGS,
     .run = personality_test_run},
    {.name = "analytics",
     .description = "Show personality usage analytics",
     .flags = PERSONALITY_FLAGS,
     .run = personality_analytics_run},
    {.name = "adjust",
     .description = "Adjust a personality parameter for this server",
     .options = adjust_options,
     .n_options = ARRAY_LEN(adjust_options),
     .flags = PERSONALITY_FLAGS,
     .run = personality_adjust_run},
};

const struct command personality_command = {
    .name = "personality-config",
    .description = "Configure Slimy's personality (admin only)",
    .subcommands = personality_subcommands,
    .n_subcommands = ARRAY_LEN(personality_subcommands),
    .default_member_permissions = "8", /* Administrator: hidden from others; the dispatcher checks again */
    .installs = INSTALL_GUILD,
    .contexts = CTX_GUILD,
};

static const char *parameter_label(const char *value)
{
    for (size_t i = 0; i < ARRAY_LEN(parameter_choices); i++)
        if (strcmp(parameter_choices[i].string_value, value) == 0)
            return parameter_choices[i].name;
    return NULL;
}

/* "• **enthusiasm** → 7/10 (by <@id>)" lines, or a hint when there are none. */
static int adjustments_text(struct cmd_ctx *ctx, struct buf *b, size_t *n_out)
{
    struct store_adjustments adj = {0};
    int rc = store_adjustment_list(ctx->services->store, ctx->scope_id, &adj);
    for (size_t i = 0; !rc && i < adj.n; i++)
        rc = buf_printf(b, "%s• **%s** → %d/10 (by <@%s>)", i ? "\n" : "", adj.items[i].parameter, adj.items[i].value,
                        adj.items[i].updated_by);
    if (!rc && adj.n == 0)
        rc = buf_append_str(b, "No overrides applied via `/personality-config adjust`.");
    *n_out = adj.n;
    store_adjustments_free(&adj);
    return rc;
}

/* An embed of the scope's adjustments under `adjustments_field`, after one field saying
 * `first_value` under `first_field`; "%n" in first_value becomes "<n> of <parameters>". */
static enum slimy_status reply_adjustments(struct cmd_ctx *ctx, const char *title, const char *first_field,
                                           const char *first_value, bool first_inline, const char *adjustments_field)
{
    struct buf b;
    buf_init(&b, 4096);
    size_t n = 0;
    int rc = adjustments_text(ctx, &b, &n);
    cJSON *embed = rc ? NULL : embed_new(title, PERSONALITY_COLOR);
    char count[32];
    snprintf(count, sizeof count, "%zu of %zu", n, ARRAY_LEN(parameter_choices));
    const char *value = strcmp(first_value, "%n") == 0 ? count : first_value;
    if (!rc && (!embed || !embed_add_field(embed, first_field, value, first_inline) ||
                !embed_add_field(embed, adjustments_field, b.data, false)))
        rc = SLIMY_ENOMEM;
    if (!rc) {
        rc = message_add_embed(ctx->reply, embed);
        embed = NULL;
    }
    cJSON_Delete(embed);
    buf_cleanup(&b);
    return (enum slimy_status)rc;
}

/* /personality-config view */
static enum slimy_status personality_view_run(struct cmd_ctx *ctx)
{
    return reply_adjustments(ctx, "🎭 Current Personality Configuration", "Adjusted Parameters", "%n", true,
                             "Active Adjustments");
}

/* /personality-config test */
static enum slimy_status personality_test_run(struct cmd_ctx *ctx)
{
    static const char *const scenarios[] = {"casual chat", "technical question", "celebration", "stuck user"};
    struct buf b;
    buf_init(&b, 4096);
    size_t n = 0;
    int rc = adjustments_text(ctx, &b, &n);
    for (size_t i = 0; !rc && i < ARRAY_LEN(scenarios); i++)
        log_info("personality test prompt", LOG_S("scope", ctx->scope_id), LOG_S("scenario", scenarios[i]),
                 LOG_S("adjustments", b.data));
    buf_cleanup(&b);
    if (rc)
        return rc;
    return cmd_reply(ctx, "✅ Personality test complete! Check server logs for the generated prompts.");
}

/* /personality-config analytics */
static enum slimy_status personality_analytics_run(struct cmd_ctx *ctx)
{
    return reply_adjustments(ctx, "📊 Personality Analytics", "Catchphrase Usage", "No data yet", false, "Adjustments");
}

/* /personality-config adjust parameter:<parameter> value:<1-10> */
static enum slimy_status personality_adjust_run(struct cmd_ctx *ctx)
{
    const char *parameter = cmd_opt_string(ctx, "parameter");
    int64_t value = 0;
    const char *label = parameter ? parameter_label(parameter) : NULL;
    if (!label)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Unknown parameter.");
    if (!cmd_opt_int(ctx, "value", &value) || value < 1 || value > 10)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ The value must be a whole number from 1 to 10.");
    int rc =
        store_adjustment_set(ctx->services->store, ctx->scope_id, parameter, (int)value, ctx->interaction->user_id);
    if (rc)
        return rc;
    return cmd_reply(ctx, "✅ Adjusted **%s** to **%d/10**. /chat uses it for this server from now on.", label,
                     (int)value);
}
