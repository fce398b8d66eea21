/* cmd.c — the helpers handlers call (command.h): option values and reply text. */
#include <stdarg.h>
#include <string.h>

#include "core/status.h"
#include "interactions/command.h"

static const cJSON *option_value(const struct cmd_ctx *ctx, const char *name, int type)
{
    const cJSON *opt = interaction_option(ctx->interaction, name);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(opt, "type");
    if (!cJSON_IsNumber(t) || t->valueint != type)
        return NULL;
    return cJSON_GetObjectItemCaseSensitive(opt, "value");
}

const char *cmd_opt_string(const struct cmd_ctx *ctx, const char *name)
{
    const cJSON *v = option_value(ctx, name, OPT_STRING);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool cmd_opt_int(const struct cmd_ctx *ctx, const char *name, int64_t *out)
{
    const cJSON *v = option_value(ctx, name, OPT_INTEGER);
    /* Discord's integers stay within ±2^53, so the double cJSON holds is exact. */
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int64_t)v->valuedouble)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

bool cmd_opt_number(const struct cmd_ctx *ctx, const char *name, double *out)
{
    const cJSON *v = option_value(ctx, name, OPT_NUMBER);
    if (!cJSON_IsNumber(v))
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

int cmd_reply(struct cmd_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = message_set_textv(ctx->reply, fmt, ap);
    va_end(ap);
    return rc;
}

int cmd_fail(struct cmd_ctx *ctx, int rc, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        message_set_textv(ctx->reply, fmt, ap);
        va_end(ap);
    }
    return rc ? rc : SLIMY_EINTERNAL;
}
