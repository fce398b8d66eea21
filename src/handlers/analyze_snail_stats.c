/* analyze_snail_stats.c — "Analyze Snail Stats", a message context-menu command: the first image
 * attachment of the target message goes through the /snail analyze flow (snail_analyze.c). It
 * replaces the original bot's automatic detection of screenshots, which needs the gateway. */
#include <strings.h>

#include "core/status.h"
#include "handlers/registry.h"
#include "flows/snail_analyze.h"

static enum slimy_status analyze_snail_stats_run(struct cmd_ctx *ctx);

const struct command analyze_snail_stats_command = {
    .name = "Analyze Snail Stats",
    .type = COMMAND_MESSAGE,
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = 5000,
    .run = analyze_snail_stats_run,
};


/* Right-click a message → Apps → Analyze Snail Stats */
static enum slimy_status analyze_snail_stats_run(struct cmd_ctx *ctx)
{
    struct cmd_attachment a;
    for (size_t i = 0; cmd_target_attachment(ctx, i, &a); i++)
        if (strncasecmp(a.content_type, "image/", 6) == 0)
            return snail_analyze_start(ctx, &a);
    return cmd_fail(ctx, SLIMY_EINVAL, "⚠️ That message has no image attachment to analyze.");
}
