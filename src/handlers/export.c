/* export.c — /export: your latest memories in this scope as a JSON file, with a short summary
 * embed when the export is small. Needs no consent: you can always see what is stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/embed.h"
#include "interactions/split.h"
#include "store/store.h"

#define EXPORT_MAX 25
#define EXPORT_COLOR 0x3498DB
#define SUMMARY_MAX_JSON_CHARS 1900 /* the original shows a summary only for small exports */
#define SUMMARY_FIELDS 5
#define SUMMARY_NOTE_CHARS 100

static enum slimy_status export_run(struct cmd_ctx *ctx);

const struct command export_command = {
    .name = "export",
    .description = "Export your memories from this server as a JSON file",
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = export_run,
};

/* Parses stored JSON text back into a value; falls back to the raw text if it is not JSON. */
static cJSON *parsed_or_text(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    return v ? v : cJSON_CreateString(text);
}

static cJSON *export_document(const struct cmd_ctx *ctx, const struct store_memories *mem)
{
    const struct interaction *it = ctx->interaction;
    char stamp[40];
    embed_format_iso8601((int64_t)clock_wall_ms(), stamp, sizeof stamp);
    cJSON *doc = cJSON_CreateObject();
    cJSON *items = doc ? cJSON_CreateArray() : NULL;
    bool ok = items && cJSON_AddStringToObject(doc, "user", it->user_id) &&
              cJSON_AddStringToObject(doc, "username", it->user_name) &&
              cJSON_AddStringToObject(doc, "scope", ctx->scope_id) &&
              cJSON_AddStringToObject(doc, "exportedAt", stamp) &&
              cJSON_AddNumberToObject(doc, "count", (double)mem->n);
    for (size_t i = 0; ok && i < mem->n; i++) {
        const struct store_memory *m = &mem->items[i];
        cJSON *o = cJSON_CreateObject();
        char created[40];
        embed_format_iso8601(m->created_at_ms, created, sizeof created);
        ok = o && cJSON_AddItemToArray(items, o) && cJSON_AddStringToObject(o, "id", m->id) &&
             cJSON_AddStringToObject(o, "note", m->note) &&
             cJSON_AddItemToObject(o, "tags", parsed_or_text(m->tags_json)) &&
             cJSON_AddItemToObject(o, "context", parsed_or_text(m->context_json)) &&
             cJSON_AddStringToObject(o, "created_at", created);
    }
    if (ok) {
        cJSON_AddItemToObject(doc, "memories", items);
        items = NULL;
    }
    cJSON_Delete(items);
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

static int summary_embed(struct cmd_ctx *ctx, const struct store_memories *mem, const char *where)
{
    char text[512];
    cJSON *embed = embed_new("📦 Memory Export", EXPORT_COLOR);
    snprintf(text, sizeof text, "**Scope:** %s\n**Memories:** %zu", where, mem->n);
    bool ok = embed && embed_set_description(embed, text);
    for (size_t i = 0; ok && i < mem->n && i < SUMMARY_FIELDS; i++) {
        const struct store_memory *m = &mem->items[i];
        char date[40], name[128], note[512];
        embed_format_iso8601(m->created_at_ms, date, sizeof date);
        snprintf(name, sizeof name, "#%.8s - %.10s", m->id, date);
        size_t len = strlen(m->note);
        size_t keep = split_prefix_len(m->note, len, SUMMARY_NOTE_CHARS);
        snprintf(note, sizeof note, "%.*s%s", (int)keep, m->note, keep < len ? "..." : "");
        ok = embed_add_field(embed, name, note, false);
    }
    if (ok && mem->n > SUMMARY_FIELDS) {
        snprintf(text, sizeof text, "Showing %d of %zu memories. Download full export below.", SUMMARY_FIELDS, mem->n);
        ok = embed_set_footer(embed, text);
    }
    if (!ok) {
        cJSON_Delete(embed);
        return SLIMY_ENOMEM;
    }
    return message_add_embed(ctx->reply, embed);
}

/* /export */
static enum slimy_status export_run(struct cmd_ctx *ctx)
{
    const struct interaction *it = ctx->interaction;
    const char *where = it->guild_id ? "this server" : "this DM";
    struct store_memories mem = {0};
    cJSON *doc = NULL;
    char *json = NULL;
    int rc = store_memory_list(ctx->services->store, it->user_id, ctx->scope_id, EXPORT_MAX, &mem);
    if (rc)
        goto out;
    if (mem.n == 0) {
        rc = cmd_reply(ctx, "📝 No memories found for %s.\n\nUse `/remember` to save notes!", where);
        goto out;
    }
    rc = SLIMY_ENOMEM;
    if (!(doc = export_document(ctx, &mem)) || !(json = cJSON_Print(doc)))
        goto out;
    char filename[96];
    snprintf(filename, sizeof filename, "slimy-memories-%.40s.json", it->user_id);
    if ((rc = message_attach(ctx->reply, filename, "application/json", json, strlen(json))))
        goto out;
    if (split_count_chars(json, strlen(json)) < SUMMARY_MAX_JSON_CHARS)
        rc = summary_embed(ctx, &mem, where);
    else
        rc = cmd_reply(ctx, "📦 **%zu memories exported**\n\nScope: %s", mem.n, where);
out:
    free(json);
    cJSON_Delete(doc);
    store_memories_free(&mem);
    return rc;
}
