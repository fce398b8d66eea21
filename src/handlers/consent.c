/* consent.c — /consent: whether Slimy may store memories for you in this scope (this server,
 * or this DM). Only /remember needs it (CMD_NEEDS_CONSENT); /export and /forget never do. */
#include "core/status.h"
#include "handlers/registry.h"
#include "store/store.h"

static enum slimy_status consent_set_run(struct cmd_ctx *ctx);
static enum slimy_status consent_status_run(struct cmd_ctx *ctx);

static const struct cmd_option consent_set_options[] = {
    {.name = "allow",
     .type = OPT_BOOLEAN,
     .description = "Allow Slimy to remember notes you save here",
     .required = true},
};

static const struct command consent_subcommands[] = {
    {
        .name = "set",
        .description = "Turn memory on or off for this server",
        .options = consent_set_options,
        .n_options = ARRAY_LEN(consent_set_options),
        .flags = CMD_DEFERRED | CMD_EPHEMERAL,
        .run = consent_set_run,
    },
    {
        .name = "status",
        .description = "Show whether memory is on here",
        .flags = CMD_DEFERRED | CMD_EPHEMERAL,
        .run = consent_status_run,
    },
};

const struct command consent_command = {
    .name = "consent",
    .description = "Manage memory consent",
    .subcommands = consent_subcommands,
    .n_subcommands = ARRAY_LEN(consent_subcommands),
};

static const char *scope_name(const struct cmd_ctx *ctx)
{
    return ctx->interaction->guild_id ? "this server" : "this DM";
}

/* /consent set allow:<true|false> */
static enum slimy_status consent_set_run(struct cmd_ctx *ctx)
{
    bool allow = false;
    if (!cmd_opt_bool(ctx, "allow", &allow))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please choose `allow: True` or `allow: False`.");
    const struct interaction *it = ctx->interaction;
    int rc = store_consent_set(ctx->services->store, it->user_id, it->user_name, ctx->scope_id, allow);
    if (rc)
        return rc;
    return allow ? cmd_reply(ctx, "✅ Memory ON for %s.", scope_name(ctx))
                 : cmd_reply(ctx, "🛑 Memory OFF for %s.", scope_name(ctx));
}

/* /consent status */
static enum slimy_status consent_status_run(struct cmd_ctx *ctx)
{
    bool allowed = false;
    int rc = store_consent_get(ctx->services->store, ctx->interaction->user_id, ctx->scope_id, &allowed);
    if (rc)
        return rc;
    return cmd_reply(ctx, allowed ? "✅ Memory ON here." : "❌ Memory OFF here.");
}
