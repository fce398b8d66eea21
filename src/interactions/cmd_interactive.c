/* cmd_interactive.c — the helpers (command.h) for component presses and autocomplete: a
 * custom_id's args, a select menu's values, and the suggestions for the option being typed.
 * Like every getter, they check the type of what they read. */
#include <string.h>
#include <strings.h>

#include "core/status.h"
#include "core/utf8.h"
#include "interactions/command.h"
#include "interactions/component.h"

#define SUGGESTIONS_MAX 25       /* Discord's limit on autocomplete choices */
#define SUGGESTION_MAX_CHARS 100 /* for a choice's name and for its value */

bool cmd_component_arg(const struct cmd_ctx *ctx, size_t n, char *out, size_t out_size)
{
    const char *id = ctx->interaction->custom_id;
    return id && component_id_field(id, n + 2, out, out_size);
}

const char *cmd_component_value(const struct cmd_ctx *ctx, size_t n)
{
    const cJSON *v = cJSON_GetArrayItem(ctx->interaction->values, (int)n);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *cmd_component_message_content(const struct cmd_ctx *ctx)
{
    return interaction_str(ctx->interaction->message, "content", NULL);
}

bool cmd_focused(const struct cmd_ctx *ctx, const char **name, const char **typed)
{
    const cJSON *opt;
    cJSON_ArrayForEach(opt, ctx->interaction->options)
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(opt, "focused")))
            continue;
        const char *n = interaction_str(opt, "name", NULL);
        if (!n)
            return false;
        *name = n;
        *typed = interaction_str(opt, "value", ""); /* a number being typed is a string too */
        return true;
    }
    return false;
}

enum slimy_status cmd_suggest(struct cmd_ctx *ctx, const char *name, const char *value)
{
    if (!ctx->suggestions)
        return SLIMY_EINTERNAL; /* not an autocomplete run */
    size_t value_len = value ? strlen(value) : 0;
    if (!name || !*name || !value_len || utf8_prefix_chars(value, value_len, SUGGESTION_MAX_CHARS) < value_len)
        return SLIMY_EINVAL;
    if (cJSON_GetArraySize(ctx->suggestions) >= SUGGESTIONS_MAX)
        return SLIMY_ETOOBIG;
    /* A note's preview can hold anything a user typed: malformed bytes as '?', cut by character. */
    char shown[SUGGESTION_MAX_CHARS * 4 + 1];
    size_t n = utf8_copy_clean(shown, sizeof shown, name, strlen(name));
    shown[utf8_prefix_chars(shown, n, SUGGESTION_MAX_CHARS)] = '\0';
    cJSON *choice = cJSON_CreateObject();
    if (!choice || !cJSON_AddStringToObject(choice, "name", shown) ||
        !cJSON_AddStringToObject(choice, "value", value)) {
        cJSON_Delete(choice);
        return SLIMY_ENOMEM;
    }
    cJSON_AddItemToArray(ctx->suggestions, choice);
    return SLIMY_OK;
}

/* Whether text holds needle, ignoring ASCII case ("" is in everything). */
static bool holds(const char *text, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return n == 0;
}

enum slimy_status cmd_suggest_declared(struct cmd_ctx *ctx)
{
    const char *name, *typed;
    if (!cmd_focused(ctx, &name, &typed))
        return SLIMY_OK;
    const struct cmd_option *opt = NULL;
    for (size_t i = 0; i < ctx->command->n_options; i++)
        if (strcmp(ctx->command->options[i].name, name) == 0)
            opt = &ctx->command->options[i];
    for (size_t i = 0; opt && i < opt->n_choices; i++) {
        const struct cmd_choice *c = &opt->choices[i];
        if (!c->string_value || !(holds(c->name, typed) || holds(c->string_value, typed)))
            continue;
        enum slimy_status rc = cmd_suggest(ctx, c->name, c->string_value);
        if (rc)
            return rc == SLIMY_ETOOBIG ? SLIMY_OK : rc;
    }
    return SLIMY_OK;
}
