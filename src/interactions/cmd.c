/* cmd.c — the helpers handlers call (command.h): option values, resolved objects, reply text
 * and per-run state. Everything read from the request is checked for type: the signature
 * proves the body came from Discord, not that every field has the shape Discord documents. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "interactions/command.h"

static const cJSON *option_value(const struct cmd_ctx *ctx, const char *name, int type)
{
    const cJSON *opt = interaction_option(ctx->interaction, name);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(opt, "type");
    if (!cJSON_IsNumber(t) || t->valuedouble != (double)type) /* 3.5 is no STRING option */
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(opt, "value");
}

const char *cmd_opt_string(const struct cmd_ctx *ctx, const char *name)
{
    const cJSON *v = option_value(ctx, name, OPT_STRING);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

#define DISCORD_INT_MAX 9007199254740991.0 /* 2^53 - 1: Discord's integer option range */

bool cmd_opt_int(const struct cmd_ctx *ctx, const char *name, int64_t *out)
{
    const cJSON *v = option_value(ctx, name, OPT_INTEGER);
    /* Range first: converting a double outside int64's range (1e25, inf) is undefined. Within
     * ±2^53 the double cJSON holds is exact, so a fraction is the only other thing to refuse. */
    if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) <= DISCORD_INT_MAX) || v->valuedouble != floor(v->valuedouble))
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

bool cmd_opt_number(const struct cmd_ctx *ctx, const char *name, double *out)
{
    const cJSON *v = option_value(ctx, name, OPT_NUMBER);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return false;
    *out = v->valuedouble;
    return true;
}

bool cmd_opt_bool(const struct cmd_ctx *ctx, const char *name, bool *out)
{
    const cJSON *v = option_value(ctx, name, OPT_BOOLEAN);
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

static const struct cmd_option *option_def(const struct command *c, const char *name)
{
    for (size_t i = 0; c && i < c->n_options; i++)
        if (strcmp(c->options[i].name, name) == 0)
            return &c->options[i];
    return NULL;
}

int64_t cmd_opt_int_or(const struct cmd_ctx *ctx, const char *name, int64_t def)
{
    int64_t v;
    if (!cmd_opt_int(ctx, name, &v))
        return def;
    const struct cmd_option *o = option_def(ctx->command, name);
    if (o && o->has_min_value && v < (int64_t)o->min_value)
        v = (int64_t)o->min_value;
    if (o && o->has_max_value && v > (int64_t)o->max_value)
        v = (int64_t)o->max_value;
    return v;
}

/* The resolved object a snowflake option points at: data.resolved.<kind>[value]. */
static const cJSON *option_resolved(const struct cmd_ctx *ctx, const char *name, int type, const char *kind,
                                    const char **id)
{
    const cJSON *v = option_value(ctx, name, type);
    if (!cJSON_IsString(v))
        return NULL;
    *id = v->valuestring;
    return interaction_resolved(ctx->interaction, kind, v->valuestring);
}

static int64_t int_or(const cJSON *obj, const char *key, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) && fabs(v->valuedouble) <= DISCORD_INT_MAX ? (int64_t)v->valuedouble : def;
}

bool cmd_resolved_user(const struct cmd_ctx *ctx, const char *user_id, struct cmd_user *out)
{
    const cJSON *user = interaction_resolved(ctx->interaction, "users", user_id);
    if (!user)
        return false;
    const cJSON *member = interaction_resolved(ctx->interaction, "members", user_id);
    *out = (struct cmd_user){.id = user_id,
                             .username = interaction_str(user, "username", ""),
                             .global_name = interaction_str(user, "global_name", ""),
                             .display_name = interaction_display_name(member, user),
                             .is_bot = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(user, "bot")),
                             .is_member = member != NULL};
    return true;
}

bool cmd_opt_user(const struct cmd_ctx *ctx, const char *name, struct cmd_user *out)
{
    const cJSON *v = option_value(ctx, name, OPT_USER);
    if (!cJSON_IsString(v) || !*v->valuestring)
        return false;
    if (!cmd_resolved_user(ctx, v->valuestring, out)) /* not resolved: only the id */
        *out = (struct cmd_user){.id = v->valuestring, .username = "", .global_name = "", .display_name = ""};
    return true;
}

static void channel_from(const cJSON *channel, const char *id, struct cmd_channel *out)
{
    *out = (struct cmd_channel){.id = id,
                                .name = interaction_str(channel, "name", ""),
                                .type = (enum discord_channel_type)int_or(channel, "type", CHANNEL_GUILD_TEXT),
                                .parent_id = interaction_str(channel, "parent_id", "")};
}

bool cmd_opt_channel(const struct cmd_ctx *ctx, const char *name, struct cmd_channel *out)
{
    const char *id = NULL;
    const cJSON *channel = option_resolved(ctx, name, OPT_CHANNEL, "channels", &id);
    if (!id)
        return false;
    channel_from(channel, id, out); /* not resolved: only the id, a text channel */
    return true;
}

bool cmd_here_channel(const struct cmd_ctx *ctx, struct cmd_channel *out)
{
    const struct interaction *it = ctx->interaction;
    const cJSON *channel = cJSON_GetObjectItemCaseSensitive(it->root, "channel");
    if (!it->channel_id)
        return false;
    channel_from(cJSON_IsObject(channel) ? channel : NULL, it->channel_id, out); /* no object: only the id */
    return true;
}

bool cmd_opt_role(const struct cmd_ctx *ctx, const char *name, struct cmd_role *out)
{
    const char *id = NULL;
    const cJSON *role = option_resolved(ctx, name, OPT_ROLE, "roles", &id);
    if (!id)
        return false;
    *out = (struct cmd_role){.id = id, .name = interaction_str(role, "name", "")};
    return true;
}

bool cmd_member_role(const struct cmd_ctx *ctx, size_t n, struct cmd_role *out)
{
    const struct interaction *it = ctx->interaction;
    const cJSON *roles =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(it->root, "member"), "roles");
    const cJSON *id = cJSON_IsArray(roles) && n < (size_t)cJSON_GetArraySize(roles) ? cJSON_GetArrayItem(roles, (int)n)
                                                                                    : NULL;
    if (!cJSON_IsString(id))
        return false;
    *out = (struct cmd_role){.id = id->valuestring,
                             .name = interaction_str(interaction_resolved(it, "roles", id->valuestring), "name", "")};
    return true;
}

static bool attachment_from(const cJSON *a, struct cmd_attachment *out)
{
    const char *url = interaction_str(a, "url", NULL);
    if (!url)
        return false;
    *out = (struct cmd_attachment){.id = interaction_str(a, "id", ""),
                                   .filename = interaction_str(a, "filename", ""),
                                   .url = url,
                                   .content_type = interaction_str(a, "content_type", ""),
                                   .size = int_or(a, "size", 0)};
    return true;
}

bool cmd_opt_attachment(const struct cmd_ctx *ctx, const char *name, struct cmd_attachment *out)
{
    const char *id;
    const cJSON *a = option_resolved(ctx, name, OPT_ATTACHMENT, "attachments", &id);
    return a && attachment_from(a, out);
}

bool cmd_target_attachment(const struct cmd_ctx *ctx, size_t n, struct cmd_attachment *out)
{
    const cJSON *message = interaction_target_message(ctx->interaction);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(message, "attachments");
    const cJSON *a = cJSON_IsArray(list) && n < (size_t)cJSON_GetArraySize(list) ? cJSON_GetArrayItem(list, (int)n)
                                                                                 : NULL;
    return cJSON_IsObject(a) && attachment_from(a, out);
}

const char *cmd_target_content(const struct cmd_ctx *ctx)
{
    const char *text = interaction_str(interaction_target_message(ctx->interaction), "content", NULL);
    return text && *text ? text : NULL;
}

enum slimy_status cmd_reply(struct cmd_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = message_set_textv(ctx->reply, fmt, ap);
    va_end(ap);
    return (enum slimy_status)rc;
}

enum slimy_status cmd_fail(struct cmd_ctx *ctx, int rc, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        message_set_textv(ctx->reply, fmt, ap);
        va_end(ap);
    }
    return rc ? (enum slimy_status)rc : SLIMY_EINTERNAL;
}

void *cmd_state_new(struct cmd_ctx *ctx, size_t size, cmd_free_fn cleanup)
{
    void *state = calloc(1, size);
    if (!state)
        return NULL;
    ctx->state = state;
    ctx->state_free = cleanup;
    return state;
}
