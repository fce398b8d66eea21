/* registration.c — struct command → Discord application command JSON (see registration.h).
 * Subcommands become options of type 1, containers inside a command become groups (type 2). */
#include "interactions/registration.h"

#include <stdbool.h>

static bool add_option(cJSON *array, const struct cmd_option *o)
{
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddItemToArray(array, obj))
        return cJSON_Delete(obj), false;
    bool ok = cJSON_AddNumberToObject(obj, "type", o->type) && cJSON_AddStringToObject(obj, "name", o->name) &&
              cJSON_AddStringToObject(obj, "description", o->description);
    if (ok && o->required)
        ok = cJSON_AddTrueToObject(obj, "required");
    if (ok && o->autocomplete) /* Discord refuses choices next to it: a definition has one or the other */
        ok = cJSON_AddTrueToObject(obj, "autocomplete");
    if (ok && o->n_choices && !o->autocomplete) {
        cJSON *choices = cJSON_AddArrayToObject(obj, "choices");
        for (size_t i = 0; ok && choices && i < o->n_choices; i++) {
            cJSON *c = cJSON_CreateObject();
            ok = c && cJSON_AddItemToArray(choices, c) && cJSON_AddStringToObject(c, "name", o->choices[i].name) &&
                 (o->choices[i].string_value ? cJSON_AddStringToObject(c, "value", o->choices[i].string_value)
                                             : cJSON_AddNumberToObject(c, "value", o->choices[i].number_value));
        }
        ok = ok && choices;
    }
    if (ok && o->has_min_value)
        ok = cJSON_AddNumberToObject(obj, "min_value", o->min_value);
    if (ok && o->has_max_value)
        ok = cJSON_AddNumberToObject(obj, "max_value", o->max_value);
    if (ok && o->min_length)
        ok = cJSON_AddNumberToObject(obj, "min_length", o->min_length);
    if (ok && o->max_length)
        ok = cJSON_AddNumberToObject(obj, "max_length", o->max_length);
    if (ok && o->channel_types) {
        cJSON *types = cJSON_AddArrayToObject(obj, "channel_types");
        for (int t = 0; ok && types && t < 32; t++)
            if (o->channel_types & (UINT32_C(1) << t))
                ok = cJSON_AddItemToArray(types, cJSON_CreateNumber(t));
        ok = ok && types;
    }
    return ok;
}

/* Adds the options (or nested subcommands) of c to obj["options"]. */
static bool add_children(cJSON *obj, const struct command *c)
{
    if (!c->n_options && !c->n_subcommands)
        return true;
    cJSON *options = cJSON_AddArrayToObject(obj, "options");
    bool ok = options != NULL;
    for (size_t i = 0; ok && i < c->n_subcommands; i++) {
        const struct command *sub = &c->subcommands[i];
        cJSON *so = cJSON_CreateObject();
        ok = so && cJSON_AddItemToArray(options, so) &&
             cJSON_AddNumberToObject(so, "type", sub->n_subcommands ? OPT_SUB_COMMAND_GROUP : OPT_SUB_COMMAND) &&
             cJSON_AddStringToObject(so, "name", sub->name) &&
             cJSON_AddStringToObject(so, "description", sub->description) && add_children(so, sub);
    }
    for (size_t i = 0; ok && i < c->n_options; i++)
        ok = add_option(options, &c->options[i]);
    return ok;
}

/* obj[key] = the numbers of the bits set in bits (below n_bits): contexts, integration_types. */
static bool add_bits(cJSON *obj, const char *key, unsigned bits, int n_bits)
{
    cJSON *array = cJSON_AddArrayToObject(obj, key);
    bool ok = array != NULL;
    for (int bit = 0; ok && bit < n_bits; bit++)
        if (bits & (1u << bit))
            ok = cJSON_AddItemToArray(array, cJSON_CreateNumber(bit));
    return ok;
}

static cJSON *command_json(const struct command *c)
{
    cJSON *obj = cJSON_CreateObject();
    enum command_type type = c->type ? c->type : COMMAND_CHAT_INPUT;
    bool ok = obj && cJSON_AddStringToObject(obj, "name", c->name) && cJSON_AddNumberToObject(obj, "type", type) &&
              cJSON_AddStringToObject(obj, "description", type == COMMAND_CHAT_INPUT ? c->description : "");
    if (ok)
        ok = c->default_member_permissions
                 ? cJSON_AddStringToObject(obj, "default_member_permissions", c->default_member_permissions) != NULL
                 : cJSON_AddNullToObject(obj, "default_member_permissions") != NULL;
    if (ok && c->installs)
        ok = add_bits(obj, "integration_types", c->installs, 2);
    if (ok && c->contexts)
        ok = add_bits(obj, "contexts", c->contexts, 3);
    if (ok)
        ok = add_children(obj, c);
    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

cJSON *registration_json(const struct command *const *commands, size_t n_commands)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array && i < n_commands; i++) {
        cJSON *c = command_json(commands[i]);
        if (!c) {
            cJSON_Delete(array);
            return NULL;
        }
        cJSON_AddItemToArray(array, c);
    }
    return array;
}
