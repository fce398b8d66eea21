/* analyze_snail_stats.c — "Analyze Snail Stats", a message context-menu command: the first image
 * attachment of the target message goes through the /snail analyze flow (snail_analyze.c). It
 * replaces the original bot's automatic detection of screenshots, which needs the gateway. */
#include <stdbool.h>
#include <strings.h>

#include "core/status.h"
#include "handlers/registry.h"
#include "snail/snail_analyze.h"

static int analyze_snail_stats_run(struct cmd_ctx *ctx);

const struct command analyze_snail_stats_command = {
    .name = "Analyze Snail Stats",
    .type = COMMAND_MESSAGE,
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = 5000,
    .run = analyze_snail_stats_run,
};

static bool is_image(const cJSON *attachment)
{
    const cJSON *content_type = cJSON_GetObjectItemCaseSensitive(attachment, "content_type");
    return cJSON_IsString(content_type) && strncasecmp(content_type->valuestring, "image/", 6) == 0;
}

/* Right-click a message → Apps → Analyze Snail Stats */
static int analyze_snail_stats_run(struct cmd_ctx *ctx)
{
    const cJSON *target = interaction_target_message(ctx->interaction);
    const cJSON *attachments = cJSON_GetObjectItemCaseSensitive(target, "attachments");
    for (const cJSON *a = cJSON_IsArray(attachments) ? attachments->child : NULL; a; a = a->next)
        if (is_image(a))
            return snail_analyze_start(ctx, a);
    return cmd_fail(ctx, SLIMY_EINVAL, "⚠️ That message has no image attachment to analyze.");
}
