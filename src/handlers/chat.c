/* chat.c — /chat: talk with Slimy. The flow (modes, persona, history, image intent) is
 * ai/conversation.c, shared with the "Ask Slimy" message command. */
#include "flows/conversation.h"
#include "handlers/registry.h"

static enum slimy_status chat_run(struct cmd_ctx *ctx);

static const struct cmd_option chat_options[] = {
    {.name = "message",
     .type = OPT_STRING,
     .description = "What do you want to say?",
     .required = true,
     .max_length = 2000},
    {.name = "reset", .type = OPT_BOOLEAN, .description = "Start a fresh conversation"},
};

const struct command chat_command = {
    .name = "chat",
    .description = "Chat with Slimy",
    .options = chat_options,
    .n_options = ARRAY_LEN(chat_options),
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = 5000,
    .installs = INSTALL_GUILD | INSTALL_USER, /* works wherever the user is */
    .contexts = CTX_ANYWHERE,
    .run = chat_run,
};

/* /chat message:<text> [reset:<bool>] */
static enum slimy_status chat_run(struct cmd_ctx *ctx)
{
    bool reset = false;
    cmd_opt_bool(ctx, "reset", &reset);
    return conversation_start(ctx, cmd_opt_string(ctx, "message"), reset);
}
