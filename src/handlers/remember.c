/* remember.c — /remember: save a note for later (/export lists it, /forget removes it).
 * Needs consent for the scope (the server, or the DM itself); the dispatcher checks it.
 * A retried job cannot store the note twice: the interaction id is the idempotency key. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/embed.h"
#include "store/store.h"

#define REMEMBER_COLOR 0x00FF00
#define NOTE_MAX_CHARS 2000 /* keeps the saved-note embed inside Discord's 4096 limit */
#define TAGS_MAX_CHARS 200

static enum slimy_status remember_run(struct cmd_ctx *ctx);

static const struct cmd_option remember_options[] = {
    {.name = "note",
     .type = OPT_STRING,
     .description = "What should I remember?",
     .required = true,
     .max_length = NOTE_MAX_CHARS},
    {.name = "tags",
     .type = OPT_STRING,
     .description = "Comma-separated tags (optional)",
     .max_length = TAGS_MAX_CHARS},
};

const struct command remember_command = {
    .name = "remember",
    .description = "Save a note to your memory",
    .options = remember_options,
    .n_options = ARRAY_LEN(remember_options),
    .flags = CMD_DEFERRED | CMD_EPHEMERAL | CMD_NEEDS_CONSENT,
    .cooldown_ms = 3000,
    .run = remember_run,
};

/* "a, b ,,c" → ["a","b","c"] (empty pieces dropped). NULL when out of memory. */
static cJSON *parse_tags(const char *text)
{
    cJSON *tags = cJSON_CreateArray();
    const char *p = text;
    while (tags && p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len) {
            cJSON *tag = cJSON_CreateString("");
            char *copy = tag ? strndup(p, len) : NULL;
            if (!copy || !cJSON_SetValuestring(tag, copy)) {
                cJSON_Delete(tag);
                free(copy);
                cJSON_Delete(tags);
                return NULL;
            }
            free(copy);
            cJSON_AddItemToArray(tags, tag);
        }
        p = end ? end + 1 : NULL;
    }
    return tags;
}

/* The reply: what was saved and how to find it again. */
static int saved_embed(struct cmd_ctx *ctx, const char *note, const char *id, const cJSON *tags)
{
    struct buf text;
    buf_init(&text, 8192);
    int rc = SLIMY_ENOMEM;
    cJSON *embed = embed_new("📝 Memory Saved", REMEMBER_COLOR);
    if (!embed || buf_printf(&text, "**Note:** %s", note) || !embed_set_description(embed, text.data))
        goto out;
    buf_cleanup(&text);
    if (buf_printf(&text, "`%s`", id) || !embed_add_field(embed, "Memory ID", text.data, true) ||
        !embed_add_field(embed, "Scope", ctx->interaction->guild_id ? "This server" : "This DM", true))
        goto out;
    if (cJSON_GetArraySize(tags) > 0) {
        buf_cleanup(&text);
        const cJSON *tag;
        cJSON_ArrayForEach(tag, tags)
        {
            if (buf_printf(&text, "%s`%s`", text.len ? " " : "", tag->valuestring))
                goto out;
        }
        if (!embed_add_field(embed, "Tags", text.data, false))
            goto out;
    }
    if (!embed_set_footer(embed, "Use /export to view all memories or /forget to delete") ||
        !embed_set_timestamp(embed, (int64_t)clock_wall_ms()))
        goto out;
    rc = message_add_embed(ctx->reply, embed);
    embed = NULL;
out:
    cJSON_Delete(embed);
    buf_cleanup(&text);
    return rc;
}

/* /remember note:<text> [tags:<a,b>] */
static enum slimy_status remember_run(struct cmd_ctx *ctx)
{
    const struct interaction *it = ctx->interaction;
    const char *note = cmd_opt_string(ctx, "note");
    if (!note || !*note)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please give me something to remember.");
    const char *tags_text = cmd_opt_string(ctx, "tags");
    char *tags_json = NULL, *context_json = NULL;
    cJSON *tags = parse_tags(tags_text ? tags_text : "");
    cJSON *context = cJSON_CreateObject();
    char stamp[40];
    embed_format_iso8601((int64_t)clock_wall_ms(), stamp, sizeof stamp);
    int rc = SLIMY_ENOMEM;
    if (!tags || !context || !cJSON_AddStringToObject(context, "channelId", it->channel_id ? it->channel_id : "") ||
        !cJSON_AddStringToObject(context, "timestamp", stamp) || !(tags_json = cJSON_PrintUnformatted(tags)) ||
        !(context_json = cJSON_PrintUnformatted(context)))
        goto out;

    struct store_memory_new m = {
        .user_id = it->user_id,
        .user_name = it->user_name,
        .scope_id = ctx->scope_id,
        .note = note,
        .tags_json = tags_json,
        .context_json = context_json,
        .interaction_id = it->id,
    };
    char id[STORE_ID_MAX];
    rc = store_memory_add(ctx->services->store, &m, id);
    if (rc == SLIMY_EINVAL)
        rc = cmd_fail(ctx, rc, "❌ That note is too long to save.");
    if (rc)
        goto out; /* the dispatcher words other failures */
    rc = saved_embed(ctx, note, id, tags);
out:
    cJSON_Delete(tags);
    cJSON_Delete(context);
    free(tags_json);
    free(context_json);
    return rc;
}
