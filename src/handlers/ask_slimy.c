/* ask_slimy.c — "Ask Slimy", a message context-menu command: the target message's text goes
 * through the /chat flow (same persona, same per-channel history). It replaces the original
 * bot's @mention replies, which need the gateway. */
#include <string.h>

#include "ai/conversation.h"
#include "core/status.h"
#include "handlers/registry.h"

static int ask_slimy_run(struct cmd_ctx *ctx);

const struct command ask_slimy_command = {
    .name = "Ask Slimy",
    .type = COMMAND_MESSAGE,
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = 5000,
    .run = ask_slimy_run,
};

/* Right-click a message → Apps → Ask Slimy */
static int ask_slimy_run(struct cmd_ctx *ctx)
{
    const cJSON *target = interaction_target_message(ctx->interaction);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(target, "content");
    if (!cJSON_IsString(content) || !*content->valuestring)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ That message has no text for me to answer.");
    return conversation_start(ctx, content->valuestring, false);
}
