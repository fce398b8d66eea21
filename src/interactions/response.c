/* response.c — serialising messages for Discord; see response.h. */
#include "interactions/response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interactions/split.h"

const char RESPONSE_PONG_JSON[] = "{\"type\":1}";

static const char ELLIPSIS[] = "…";

static bool add_no_mentions(cJSON *obj)
{
    cJSON *am = cJSON_AddObjectToObject(obj, "allowed_mentions");
    return am && cJSON_AddArrayToObject(am, "parse");
}

static bool add_content(cJSON *obj, const char *text, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return false;
    memcpy(copy, text, len);
    copy[len] = '\0';
    bool ok = cJSON_AddStringToObject(obj, "content", copy) != NULL;
    free(copy);
    return ok;
}

cJSON *response_webhook_payload(const struct message *m, const char *content, size_t len, bool with_extras,
                                unsigned flags)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj)
        return NULL;
    bool ok = add_content(obj, content ? content : "", content ? len : 0) && add_no_mentions(obj);
    if (ok && with_extras && m->embeds)
        ok = cJSON_AddItemToObject(obj, "embeds", cJSON_Duplicate(m->embeds, 1));
    if (ok && with_extras && m->n_files) {
        cJSON *atts = cJSON_AddArrayToObject(obj, "attachments");
        for (size_t i = 0; ok && atts && i < m->n_files; i++) {
            cJSON *a = cJSON_CreateObject();
            ok = a && cJSON_AddNumberToObject(a, "id", (double)i) &&
                 cJSON_AddStringToObject(a, "filename", m->files[i].filename);
            if (a)
                cJSON_AddItemToArray(atts, a);
        }
        ok = ok && atts;
    }
    if (ok && with_extras && m->components)
        ok = cJSON_AddItemToObject(obj, "components", cJSON_Duplicate(m->components, 1));
    if (ok && flags)
        ok = cJSON_AddNumberToObject(obj, "flags", flags) != NULL;
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

static char *print_response(int type, cJSON *data)
{
    cJSON *root = cJSON_CreateObject();
    char *out = NULL;
    if (root && cJSON_AddNumberToObject(root, "type", type)) {
        if (data) {
            cJSON_AddItemToObject(root, "data", data);
            data = NULL;
        }
        out = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(data);
    cJSON_Delete(root);
    return out;
}

char *response_message_json(const struct message *m)
{
    return response_message_json_typed(m, RESPONSE_CHANNEL_MESSAGE);
}

char *response_message_json_typed(const struct message *m, enum response_type type)
{
    const char *text = m->content.data ? m->content.data : "";
    size_t len = m->content.len;
    char *cut = NULL;
    if (split_count_chars(text, len) > MESSAGE_CONTENT_MAX_CHARS) {
        size_t keep = split_prefix_len(text, len, MESSAGE_CONTENT_MAX_CHARS - 1);
        cut = malloc(keep + sizeof ELLIPSIS);
        if (!cut)
            return NULL;
        memcpy(cut, text, keep);
        memcpy(cut + keep, ELLIPSIS, sizeof ELLIPSIS);
        text = cut;
        len = keep + sizeof ELLIPSIS - 1;
    }
    cJSON *data = response_webhook_payload(m, text, len, true, m->flags);
    free(cut);
    if (!data)
        return NULL;
    /* An inline response cannot carry files; a command that attaches must be CMD_DEFERRED. */
    cJSON_DeleteItemFromObjectCaseSensitive(data, "attachments");
    return print_response(type, data);
}

char *response_deferred_update_json(void)
{
    return strdup("{\"type\":6}");
}

char *response_suggestions_json(const cJSON *choices)
{
    cJSON *data = cJSON_CreateObject();
    cJSON *copy = choices ? cJSON_Duplicate(choices, 1) : cJSON_CreateArray();
    if (!data || !copy || !cJSON_AddItemToObject(data, "choices", copy)) {
        cJSON_Delete(copy);
        cJSON_Delete(data);
        return NULL;
    }
    return print_response(RESPONSE_AUTOCOMPLETE_RESULT, data);
}

char *response_deferred_json(bool ephemeral)
{
    if (!ephemeral)
        return strdup("{\"type\":5}");
    return strdup("{\"type\":5,\"data\":{\"flags\":64}}");
}
