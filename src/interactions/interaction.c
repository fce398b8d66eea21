/* interaction.c — cJSON → struct interaction; see interaction.h.
 * Discord shapes: the user is member.user in guilds and user in DMs; a command's options
 * nest at most command → group → subcommand → params, so descending two levels finds the leaf. */
#include "interactions/interaction.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

const char *interaction_str(const cJSON *obj, const char *key, const char *def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : def;
}

bool interaction_parse_permissions(const char *text, uint64_t *out)
{
    if (!text || !*text || strlen(text) > 20)
        return false;
    for (const char *p = text; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return false;
    *out = (uint64_t)v;
    return true;
}

const char *interaction_display_name(const cJSON *member, const cJSON *user)
{
    const char *nick = interaction_str(member, "nick", NULL);
    if (nick && *nick)
        return nick;
    const char *global = interaction_str(user, "global_name", NULL);
    if (global && *global)
        return global;
    return interaction_str(user, "username", "");
}

/* An integer member that fits an int: the range is checked on the double before any conversion
 * (converting 1e300 or 2^31 to int is undefined), and a fraction is refused. */
static bool int_member(const cJSON *obj, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    if (!(d >= (double)INT_MIN && d <= (double)INT_MAX) || d != floor(d))
        return false;
    *out = (int)d;
    return true;
}

/* Walks data.options down through SUB_COMMAND_GROUP (2) and SUB_COMMAND (1) to the params. */
static void find_leaf(struct interaction *it, const cJSON *options)
{
    for (int depth = 0; depth < 2 && cJSON_IsArray(options); depth++) {
        const cJSON *first = cJSON_GetArrayItem(options, 0);
        int type;
        if (!int_member(first, "type", &type))
            break;
        if (type == 2)
            it->subcommand_group = interaction_str(first, "name", NULL);
        else if (type == 1)
            it->subcommand = interaction_str(first, "name", NULL);
        else
            break;
        options = cJSON_GetObjectItemCaseSensitive(first, "options");
    }
    it->options = cJSON_IsArray(options) ? options : NULL;
}

/* The invoker: member.user in a server, user elsewhere. */
static void parse_user(struct interaction *out, const cJSON *root)
{
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(root, "member");
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "user");
    if (cJSON_IsObject(member)) {
        out->has_member = true;
        user = cJSON_GetObjectItemCaseSensitive(member, "user");
        uint64_t perms = 0;
        if (interaction_parse_permissions(interaction_str(member, "permissions", NULL), &perms))
            out->member_permissions = perms;
    }
    out->user_id = interaction_str(user, "id", "");
    out->user_name = interaction_display_name(member, user);
    const cJSON *owners = cJSON_GetObjectItemCaseSensitive(root, "authorizing_integration_owners");
    out->is_guild_install = !cJSON_IsObject(owners) || cJSON_GetObjectItemCaseSensitive(owners, "0") != NULL;
}

/* data: a command's name and options, or a component's custom_id and values. */
static void parse_data(struct interaction *out, const cJSON *root)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (!cJSON_IsObject(data))
        return;
    if (out->type == INTERACTION_APPLICATION_COMMAND || out->type == INTERACTION_AUTOCOMPLETE) {
        out->command_name = interaction_str(data, "name", NULL);
        int ctype;
        out->command_type = int_member(data, "type", &ctype) ? ctype : 1;
        out->target_id = interaction_str(data, "target_id", NULL);
        const cJSON *resolved = cJSON_GetObjectItemCaseSensitive(data, "resolved");
        out->resolved = cJSON_IsObject(resolved) ? resolved : NULL;
        find_leaf(out, cJSON_GetObjectItemCaseSensitive(data, "options"));
    } else if (out->type == INTERACTION_MESSAGE_COMPONENT) {
        out->custom_id = interaction_str(data, "custom_id", NULL);
        int ctype;
        out->component_type = int_member(data, "component_type", &ctype) ? ctype : 0;
        const cJSON *values = cJSON_GetObjectItemCaseSensitive(data, "values");
        out->values = cJSON_IsArray(values) ? values : NULL;
        const cJSON *message = cJSON_GetObjectItemCaseSensitive(root, "message");
        out->message = cJSON_IsObject(message) ? message : NULL;
    }
}

int interaction_parse(const char *body, size_t len, struct interaction *out)
{
    memset(out, 0, sizeof *out);
    out->context = -1;
    /* The whole body must be one JSON value: trailing bytes are refused, not ignored. */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root) {
        while (end < body + len && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
            end++;
        if (end != body + len) {
            cJSON_Delete(root);
            root = NULL;
        }
    }
    if (!root)
        return SLIMY_EINVAL;
    int type;
    if (!cJSON_IsObject(root) || !int_member(root, "type", &type)) {
        cJSON_Delete(root);
        return SLIMY_EINVAL;
    }
    out->root = root;
    out->type = type; /* any int: the dispatcher answers only the types it knows */
    out->id = interaction_str(root, "id", "");
    out->application_id = interaction_str(root, "application_id", "");
    out->token = interaction_str(root, "token", "");
    out->guild_id = interaction_str(root, "guild_id", NULL);
    out->channel_id = interaction_str(root, "channel_id", NULL);
    if (!out->channel_id)
        out->channel_id = interaction_str(cJSON_GetObjectItemCaseSensitive(root, "channel"), "id", NULL);
    int context;
    if (int_member(root, "context", &context))
        out->context = context;
    parse_user(out, root);
    parse_data(out, root);
    return SLIMY_OK;
}

void interaction_free(struct interaction *it)
{
    cJSON_Delete(it->root);
    memset(it, 0, sizeof *it);
}

const cJSON *interaction_option(const struct interaction *it, const char *name)
{
    const cJSON *opt;
    cJSON_ArrayForEach(opt, it->options)
    {
        const char *n = interaction_str(opt, "name", NULL);
        if (n && strcmp(n, name) == 0)
            return opt;
    }
    return NULL;
}

const cJSON *interaction_resolved(const struct interaction *it, const char *kind, const char *id)
{
    if (!it->resolved || !id)
        return NULL;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(it->resolved, kind);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, id);
    return cJSON_IsObject(v) ? v : NULL;
}

const cJSON *interaction_target_message(const struct interaction *it)
{
    if (it->command_type != 3)
        return NULL;
    return interaction_resolved(it, "messages", it->target_id);
}

void interaction_scope_id(const struct interaction *it, char out[INTERACTION_SCOPE_MAX])
{
    bool in_guild = it->guild_id && *it->guild_id;
    if (in_guild && it->is_guild_install)
        snprintf(out, INTERACTION_SCOPE_MAX, "%s", it->guild_id);
    else if (in_guild || it->context == 2) /* a server without Slimy, or a DM between users */
        snprintf(out, INTERACTION_SCOPE_MAX, "user:%s", it->user_id);
    else
        snprintf(out, INTERACTION_SCOPE_MAX, "dm:%s", it->channel_id ? it->channel_id : it->user_id);
}
