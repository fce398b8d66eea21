/* forget.c — /forget: delete one of your memories by id, or ALL of them, in this scope only.
 * Another user's memory, or one saved in another server or DM, is never touched. ALL deletes
 * nothing until the user presses "Delete all" under the (ephemeral) question; "Cancel" keeps
 * everything. The id field suggests the user's own memories here as they type. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/status.h"
#include "core/utf8.h"
#include "handlers/registry.h"
#include "interactions/component.h"
#include "interactions/embed.h"
#include "store/store.h"

#define FORGET_ONE_COLOR 0x00FF00
#define ECHO_MAX_BYTES 64 /* of the id typed, echoed back; cut on a character boundary */
#define FORGET_ALL_COLOR 0xFF6B6B
#define SUGGESTIONS 25 /* Discord shows at most 25 */

static enum slimy_status forget_run(struct cmd_ctx *ctx);
static enum slimy_status forget_suggest(struct cmd_ctx *ctx);
static enum slimy_status owner_check(struct cmd_ctx *ctx);
static enum slimy_status confirm_run(struct cmd_ctx *ctx);
static enum slimy_status cancel_run(struct cmd_ctx *ctx);

static const struct cmd_option forget_options[] = {
    {.name = "id",
     .type = OPT_STRING,
     .description = "Memory ID to delete, or ALL to delete every memory here",
     .required = true,
     .max_length = 64,
     .autocomplete = true},
};

/* The answers to "Delete all?": each replaces the question, so it cannot be pressed twice. */
static const struct command forget_components[] = {
    {.name = "confirm", .flags = CMD_DEFERRED | CMD_UPDATE | CMD_EPHEMERAL, .check = owner_check, .run = confirm_run},
    {.name = "cancel", .flags = CMD_UPDATE | CMD_EPHEMERAL, .check = owner_check, .run = cancel_run},
};

const struct command forget_command = {
    .name = "forget",
    .description = "Delete a memory (or ALL of them)",
    .options = forget_options,
    .n_options = ARRAY_LEN(forget_options),
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = forget_run,
    .autocomplete = forget_suggest,
    .components = forget_components,
    .n_components = ARRAY_LEN(forget_components),
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

static const char *place(const struct cmd_ctx *ctx)
{
    return ctx->interaction->guild_id ? "this server" : "this DM";
}

/* /forget id:ALL asks first: a "Delete all" and a "Cancel" button for this user only. */
static enum slimy_status ask_all(struct cmd_ctx *ctx, const char *where)
{
    const char *user = ctx->interaction->user_id;
    char confirm_id[COMPONENT_ID_SIZE], cancel_id[COMPONENT_ID_SIZE];
    if (component_id(confirm_id, "forget", "confirm", user, NULL) ||
        component_id(cancel_id, "forget", "cancel", user, NULL))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ I can't tell who is asking, so I won't delete anything.");
    cJSON *row = component_row();
    int rc = component_button(row, BUTTON_DANGER, "🗑️", "Delete all", confirm_id);
    rc = rc ? rc : component_button(row, BUTTON_SECONDARY, NULL, "Cancel", cancel_id);
    if (rc) {
        cJSON_Delete(row);
        return rc;
    }
    rc = message_add_row(ctx->reply, row);
    if (rc)
        return (enum slimy_status)rc;
    return cmd_reply(ctx, "⚠️ Delete **all** your memories in **%s**? This cannot be undone.", where);
}

/* /forget id:<memory id | ALL> */
static enum slimy_status forget_run(struct cmd_ctx *ctx)
{
    const char *id = cmd_opt_string(ctx, "id");
    if (!id || !*id)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please give a memory ID, or ALL.");
    struct store *st = ctx->services->store;
    const char *where = place(ctx);
    char text[256];
    if (strcasecmp(id, "ALL") == 0)
        return ask_all(ctx, where);
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

/* ---- the answers to "Delete all?" ---- */

/* On the request thread: the question was the presser's own (ephemeral messages are seen by
 * their user alone, but a custom_id can be sent by anyone). */
static enum slimy_status owner_check(struct cmd_ctx *ctx)
{
    char owner[32];
    if (!cmd_component_arg(ctx, 0, owner, sizeof owner))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ This button is not valid anymore. Nothing was deleted.");
    if (strcmp(owner, ctx->interaction->user_id) != 0)
        return cmd_fail(ctx, SLIMY_EPERM, "🔒 That question was for someone else. Nothing was deleted.");
    return SLIMY_OK;
}

static enum slimy_status confirm_run(struct cmd_ctx *ctx)
{
    uint64_t n = 0;
    int rc = store_memory_delete_all(ctx->services->store, ctx->interaction->user_id, ctx->scope_id, &n);
    if (rc)
        return rc;
    char text[256];
    snprintf(text, sizeof text, "Deleted **%llu %s** from **%s**", (unsigned long long)n,
             n == 1 ? "memory" : "memories", place(ctx));
    rc = message_clear_components(ctx->reply);
    return rc ? rc : reply_embed(ctx, "🧽 All Memories Deleted", FORGET_ALL_COLOR, text);
}

static enum slimy_status cancel_run(struct cmd_ctx *ctx)
{
    if (message_clear_components(ctx->reply))
        return SLIMY_ENOMEM;
    return cmd_reply(ctx, "👍 Cancelled. Nothing was deleted.");
}

/* ---- autocomplete ---- */

/* The id field: the user's own memories here whose note or id holds what was typed, newest
 * first, a preview of the note as the name and the id as the value; and ALL when it fits. */
static enum slimy_status forget_suggest(struct cmd_ctx *ctx)
{
    const char *name, *typed;
    if (!cmd_focused(ctx, &name, &typed) || strcmp(name, "id") != 0)
        return SLIMY_OK;
    size_t typed_len = strlen(typed);
    if (typed_len <= 3 && strncasecmp(typed, "ALL", typed_len) == 0)
        cmd_suggest(ctx, "🧽 ALL: every memory of yours here (asks first)", "ALL");
    struct store_memories found;
    int rc =
        store_memory_find(ctx->services->store, ctx->interaction->user_id, ctx->scope_id, typed, SUGGESTIONS, &found);
    for (size_t i = 0; !rc && i < found.n; i++)
        if (cmd_suggest(ctx, found.items[i].note, found.items[i].id) == SLIMY_ETOOBIG)
            break;
    store_memories_free(&found);
    return rc;
}
