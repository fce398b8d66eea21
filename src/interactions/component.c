/* component.c — building components and custom_ids; see component.h. */
#include "interactions/component.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/status.h"

#define LABEL_MAX_BYTES 320 /* 80 characters of Discord's, at most 4 bytes each */
#define SELECT_OPTIONS_MAX 25

cJSON *component_row(void)
{
    cJSON *row = cJSON_CreateObject();
    if (!row || !cJSON_AddNumberToObject(row, "type", COMPONENT_ACTION_ROW) ||
        !cJSON_AddArrayToObject(row, "components")) {
        cJSON_Delete(row);
        return NULL;
    }
    return row;
}

static bool add_emoji(cJSON *obj, const char *emoji)
{
    if (!emoji)
        return true;
    cJSON *e = cJSON_AddObjectToObject(obj, "emoji");
    return e && cJSON_AddStringToObject(e, "name", emoji);
}

static cJSON *new_child(cJSON *row, enum component_type type)
{
    cJSON *children = cJSON_GetObjectItemCaseSensitive(row, "components");
    cJSON *c = cJSON_CreateObject();
    if (!c || !cJSON_AddNumberToObject(c, "type", type)) {
        cJSON_Delete(c);
        return NULL;
    }
    cJSON_AddItemToArray(children, c);
    return c;
}

int component_button(cJSON *row, enum button_style style, const char *emoji, const char *label, const char *custom_id)
{
    if (!row || !label || !*label || strlen(label) > LABEL_MAX_BYTES || !custom_id ||
        strlen(custom_id) >= COMPONENT_ID_SIZE)
        return SLIMY_EINVAL;
    cJSON *b = new_child(row, COMPONENT_BUTTON);
    bool ok = b && cJSON_AddNumberToObject(b, "style", style) && cJSON_AddStringToObject(b, "label", label) &&
              cJSON_AddStringToObject(b, "custom_id", custom_id) && add_emoji(b, emoji);
    return ok ? SLIMY_OK : SLIMY_ENOMEM;
}

cJSON *component_select(cJSON *row, const char *custom_id, const char *placeholder)
{
    if (!row || !custom_id || strlen(custom_id) >= COMPONENT_ID_SIZE)
        return NULL;
    cJSON *s = new_child(row, COMPONENT_STRING_SELECT);
    bool ok = s && cJSON_AddStringToObject(s, "custom_id", custom_id) && cJSON_AddArrayToObject(s, "options") &&
              (!placeholder || cJSON_AddStringToObject(s, "placeholder", placeholder));
    return ok ? s : NULL;
}

int component_select_option(cJSON *select, const char *label, const char *value, const char *emoji, bool is_default)
{
    cJSON *options = cJSON_GetObjectItemCaseSensitive(select, "options");
    if (!options || !label || !*label || !value || !*value || strlen(value) > 100 ||
        cJSON_GetArraySize(options) >= SELECT_OPTIONS_MAX)
        return SLIMY_EINVAL;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return SLIMY_ENOMEM;
    cJSON_AddItemToArray(options, o);
    bool ok = cJSON_AddStringToObject(o, "label", label) && cJSON_AddStringToObject(o, "value", value) &&
              add_emoji(o, emoji) && (!is_default || cJSON_AddTrueToObject(o, "default"));
    return ok ? SLIMY_OK : SLIMY_ENOMEM;
}

static int append_part(char out[COMPONENT_ID_SIZE], size_t *used, const char *part)
{
    if (!part || !*part || strchr(part, COMPONENT_ID_SEP))
        return SLIMY_EINVAL;
    int n = snprintf(out + *used, COMPONENT_ID_SIZE - *used, "%s%s", *used ? ":" : "", part);
    if (n < 0 || (size_t)n >= COMPONENT_ID_SIZE - *used)
        return SLIMY_ETOOBIG;
    *used += (size_t)n;
    return SLIMY_OK;
}

int component_id(char out[COMPONENT_ID_SIZE], const char *command, const char *action, ...)
{
    size_t used = 0;
    int rc = append_part(out, &used, command);
    if (!rc)
        rc = append_part(out, &used, action);
    va_list ap;
    va_start(ap, action);
    for (const char *arg; !rc && (arg = va_arg(ap, const char *));)
        rc = append_part(out, &used, arg);
    va_end(ap);
    if (rc)
        out[0] = '\0';
    return rc;
}

bool component_id_field(const char *custom_id, size_t n, char *out, size_t out_size)
{
    const char *p = custom_id;
    for (size_t i = 0; p && i < n; i++) {
        p = strchr(p, COMPONENT_ID_SEP);
        if (p)
            p++;
    }
    if (!p)
        return false;
    const char *end = strchr(p, COMPONENT_ID_SEP);
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 0 || len >= out_size)
        return false;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}
