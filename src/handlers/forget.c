/* forget.c — /forget: delete one of your memories by id, or ALL of them, in this scope only.
 * Another user's memory, or one saved in another server or DM, is never touched. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/status.h"
#include "core/utf8.h"
#include "handlers/registry.h"
#include "interactions/embed.h"
#include "store/store.h"

#define FORGET_ONE_COLOR 0x00FF00
#define ECHO_MAX_BYTES 64 /* of the id typed, echoed back; cut on a character boundary */
#define FORGET_ALL_COLOR 0xFF6B6B

static enum slimy_status forget_run(struct cmd_ctx *ctx);

static const struct cmd_option forget_options[] = {
    {.name = "id",
     .type = OPT_STRING,
     .description = "Memory ID to delete, or ALL to delete every memory here",
     .required = true,
     .max_length = 64},
};

const struct command forget_command = {
    .name = "forget",
    .description = "Delete a memory (or ALL of them)",
    .options = forget_options,
    .n_options = ARRAY_LEN(forget_options),
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = forget_run,
};

static int reply_embed(struct cmd_ctx *ctx, const char *title, uint32_t color, const char *description)
{
    cJSON *embed = embed_new(title, color);
    if (!embed || !embed_set_description(embed, description)) {
        cJSON_Delete(embed);
        return SLIMY_ENOMEM;
    }
    return message_add_embed(ctx->reply, embed);
}

/* /forget id:<memory id | ALL> */
static enum slimy_status forget_run(struct cmd_ctx *ctx)
{
    const char *id = cmd_opt_string(ctx, "id");
    if (!id || !*id)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please give a memory ID, or ALL.");
    struct store *st = ctx->services->store;
    const char *where = ctx->interaction->guild_id ? "this server" : "this DM";
    char text[256];
    if (strcasecmp(id, "ALL") == 0) {
        uint64_t n = 0;
        int rc = store_memory_delete_all(st, ctx->interaction->user_id, ctx->scope_id, &n);
        if (rc)
            return rc;
        snprintf(text, sizeof text, "Deleted **%llu %s** from **%s**", (unsigned long long)n,
                 n == 1 ? "memory" : "memories", where);
        return reply_embed(ctx, "🧽 All Memories Deleted", FORGET_ALL_COLOR, text);
    }
    /* Discord refuses a reply that is not valid UTF-8: never cut inside a character. */
    int echo_len = (int)utf8_prefix_bytes(id, strlen(id), ECHO_MAX_BYTES);
    int rc = store_memory_delete(st, ctx->interaction->user_id, ctx->scope_id, id);
    if (rc == SLIMY_ENOTFOUND || rc == SLIMY_EINVAL) /* an id that cannot exist is not found either */
        return cmd_reply(ctx, "❌ Memory `%.*s` not found or you don't have permission to delete it.", echo_len, id);
    if (rc)
        return rc;
    snprintf(text, sizeof text, "Memory `%.*s` has been removed", echo_len, id);
    return reply_embed(ctx, "✅ Memory Deleted", FORGET_ONE_COLOR, text);
}
