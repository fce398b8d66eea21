/* ask_slimy.c — "Ask Slimy", a message context-menu command: the target message's text goes
 * through the /chat flow (same persona, same per-channel history). It replaces the original
 * bot's @mention replies, which need the gateway. */
#include "flows/conversation.h"
#include "core/status.h"
#include "handlers/registry.h"

static enum slimy_status ask_slimy_run(struct cmd_ctx *ctx);

const struct command ask_slimy_command = {
    .name = "Ask Slimy",
    .type = COMMAND_MESSAGE,
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = 5000,
    .installs = INSTALL_GUILD | INSTALL_USER, /* works wherever the user is */
    .contexts = CTX_ANYWHERE,
    .run = ask_slimy_run,
};

/* Right-click a message → Apps → Ask Slimy */
static enum slimy_status ask_slimy_run(struct cmd_ctx *ctx)
{
    const char *content = cmd_target_content(ctx);
    if (!content)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ That message has no text for me to answer.");
    return conversation_start(ctx, content, false);
}
