/* analyze_snail_stats.c — "Analyze Snail Stats", a message context-menu command: the first image
 * attachment of the target message goes through the /snail analyze flow (snail_analyze.c). It
 * replaces the original bot's automatic detection of screenshots, which needs the gateway. */
#include <stdbool.h>
#include <strings.h>

#include "core/status.h"
#include "handlers/registry.h"
#include "flows/snail_analyze.h"

static enum slimy_status analyze_snail_stats_check(struct cmd_ctx *ctx);
static enum slimy_status analyze_snail_stats_run(struct cmd_ctx *ctx);

const struct command analyze_snail_stats_command = {
    .name = "Analyze Snail Stats",
    .type = COMMAND_MESSAGE,
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = 5000,
    .check = analyze_snail_stats_check,
    .installs = INSTALL_GUILD | INSTALL_USER, /* works wherever the user is */
    .contexts = CTX_ANYWHERE,
    .run = analyze_snail_stats_run,
};

#define NO_IMAGE_TEXT "⚠️ That message has no image attachment to analyze."

/* The first attachment of the target message that says it is an image. */
static bool first_image(const struct cmd_ctx *ctx, struct cmd_attachment *out)
{
    for (size_t i = 0; cmd_target_attachment(ctx, i, out); i++)
        if (strncasecmp(out->content_type, "image/", 6) == 0)
            return true;
    return false;
}

/* Before admission: a message without an image (or with one announced over the cap) is refused
 * at once (ephemeral), from data.resolved.messages alone. */
static enum slimy_status analyze_snail_stats_check(struct cmd_ctx *ctx)
{
    struct cmd_attachment a;
    if (!first_image(ctx, &a))
        return cmd_fail(ctx, SLIMY_EINVAL, NO_IMAGE_TEXT);
    return snail_analyze_check(ctx, &a);
}

/* Right-click a message → Apps → Analyze Snail Stats */
static enum slimy_status analyze_snail_stats_run(struct cmd_ctx *ctx)
{
    struct cmd_attachment a;
    if (!first_image(ctx, &a))
        return cmd_fail(ctx, SLIMY_EINVAL, NO_IMAGE_TEXT);
    return snail_analyze_start(ctx, &a);
}
