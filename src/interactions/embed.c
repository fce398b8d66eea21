/* embed.c — embed building with Discord's length limits; see embed.h. */
#include "interactions/embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "interactions/split.h"

#define TITLE_MAX 256
#define DESCRIPTION_MAX 4096
#define FIELD_NAME_MAX 256
#define FIELD_VALUE_MAX 1024
#define FOOTER_MAX 2048
#define FIELDS_MAX 25

/* Adds key: text cut to max characters (code points), ending in "…" when cut. */
static bool add_cut(cJSON *obj, const char *key, const char *text, size_t max_chars)
{
    size_t len = strlen(text);
    if (split_count_chars(text, len) <= max_chars)
        return cJSON_AddStringToObject(obj, key, text) != NULL;
    size_t keep = split_prefix_len(text, len, max_chars - 1);
    char *cut = malloc(keep + sizeof "…");
    if (!cut)
        return false;
    memcpy(cut, text, keep);
    memcpy(cut + keep, "…", sizeof "…");
    bool ok = cJSON_AddStringToObject(obj, key, cut) != NULL;
    free(cut);
    return ok;
}

cJSON *embed_new(const char *title, uint32_t color)
{
    cJSON *e = cJSON_CreateObject();
    if (!e || !add_cut(e, "title", title, TITLE_MAX) || !cJSON_AddNumberToObject(e, "color", color)) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

bool embed_set_description(cJSON *embed, const char *text)
{
    cJSON_DeleteItemFromObjectCaseSensitive(embed, "description");
    return add_cut(embed, "description", text, DESCRIPTION_MAX);
}

bool embed_add_field(cJSON *embed, const char *name, const char *value, bool is_inline)
{
    cJSON *fields = cJSON_GetObjectItemCaseSensitive(embed, "fields");
    if (!fields && !(fields = cJSON_AddArrayToObject(embed, "fields")))
        return false;
    if (cJSON_GetArraySize(fields) >= FIELDS_MAX)
        return false;
    cJSON *f = cJSON_CreateObject();
    if (!f || !cJSON_AddItemToArray(fields, f))
        return cJSON_Delete(f), false;
    return add_cut(f, "name", name, FIELD_NAME_MAX) &&
           add_cut(f, "value", *value ? value : "\u200b", FIELD_VALUE_MAX) &&
           cJSON_AddBoolToObject(f, "inline", is_inline);
}

bool embed_set_footer(cJSON *embed, const char *text)
{
    cJSON *footer = cJSON_AddObjectToObject(embed, "footer");
    return footer && add_cut(footer, "text", text, FOOTER_MAX);
}

void embed_format_iso8601(int64_t unix_ms, char *out, size_t cap)
{
    time_t secs = (time_t)(unix_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03dZ", date, (int)(unix_ms % 1000));
}

bool embed_set_timestamp(cJSON *embed, int64_t unix_ms)
{
    char iso[40];
    embed_format_iso8601(unix_ms, iso, sizeof iso);
    return cJSON_AddStringToObject(embed, "timestamp", iso) != NULL;
}
