/* fuzz_interaction.c — interaction_parse() and every option getter of command.h on what it
 * parsed: the input is an interaction body (JSON). The fake command has one option of every
 * type; each getter is asked for each of those names (right and wrong types) and for every name
 * the input's own options carry. The resolved-object helpers (members' roles, the target
 * message, the channel here) and the scope id run too, and so do the component getters (the
 * custom_id's fields, a select menu's values, the pressed message's text) and autocomplete's
 * (the focused option, suggestions from it and from the declared choices). Nothing is expected
 * of the values but that reading them is safe and that suggestions stay within Discord's limits. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/status.h"
#include "core/utf8.h"
#include "interactions/command.h"
#include "interactions/component.h"
#include "interactions/interaction.h"
#include "interactions/message.h"

static const struct cmd_choice CHOICES[] = {{.name = "Alpha", .string_value = "alpha"},
                                            {.name = "Beta 🌟", .string_value = "beta"},
                                            {.name = "gamma", .string_value = "g"}};

static const struct cmd_option OPTIONS[] = {
    {.name = "text",
     .type = OPT_STRING,
     .description = "a string",
     .min_length = 1,
     .max_length = 100,
     .autocomplete = true,
     .choices = CHOICES,
     .n_choices = ARRAY_LEN(CHOICES)},
    {.name = "count",
     .type = OPT_INTEGER,
     .description = "an integer",
     .has_min_value = true,
     .min_value = -5,
     .has_max_value = true,
     .max_value = 1000},
    {.name = "big", .type = OPT_INTEGER, .description = "an unbounded integer"},
    {.name = "flag", .type = OPT_BOOLEAN, .description = "a boolean"},
    {.name = "user", .type = OPT_USER, .description = "a user"},
    {.name = "channel", .type = OPT_CHANNEL, .description = "a channel"},
    {.name = "role", .type = OPT_ROLE, .description = "a role"},
    {.name = "who", .type = OPT_MENTIONABLE, .description = "a mentionable"},
    {.name = "ratio", .type = OPT_NUMBER, .description = "a number", .has_min_value = true, .min_value = 0.5},
    {.name = "file", .type = OPT_ATTACHMENT, .description = "an attachment"},
};

static const struct command COMMAND = {
    .name = "fuzz", .description = "every option type", .options = OPTIONS, .n_options = ARRAY_LEN(OPTIONS)};

/* Touches every byte of a string the getters returned, so ASan sees a dangling or unterminated one. */
static size_t sink_len;
static void touch(const char *s)
{
    if (s)
        sink_len += strlen(s);
}

static void every_getter(struct cmd_ctx *ctx, const char *name)
{
    touch(cmd_opt_string(ctx, name));
    int64_t i;
    if (cmd_opt_int(ctx, name, &i))
        sink_len += (size_t)i;
    sink_len += (size_t)cmd_opt_int_or(ctx, name, 7);
    double d;
    if (cmd_opt_number(ctx, name, &d))
        sink_len += (size_t)(d != d);
    bool b;
    if (cmd_opt_bool(ctx, name, &b))
        sink_len += b;
    struct cmd_user u;
    if (cmd_opt_user(ctx, name, &u)) {
        touch(u.id), touch(u.username), touch(u.global_name), touch(u.display_name);
        struct cmd_user again;
        if (cmd_resolved_user(ctx, u.id, &again))
            touch(again.display_name);
    }
    struct cmd_channel c;
    if (cmd_opt_channel(ctx, name, &c))
        touch(c.id), touch(c.name), touch(c.parent_id), sink_len += (size_t)c.type;
    struct cmd_role r;
    if (cmd_opt_role(ctx, name, &r))
        touch(r.id), touch(r.name);
    struct cmd_attachment a;
    if (cmd_opt_attachment(ctx, name, &a))
        touch(a.id), touch(a.filename), touch(a.url), touch(a.content_type), sink_len += (size_t)a.size;
}

/* A component press's getters, and autocomplete's: what a component leaf and a suggestion
 * function read, and the suggestions list they build (checked against Discord's limits). */
static void components_and_suggestions(struct cmd_ctx *ctx)
{
    char field[COMPONENT_ID_SIZE];
    for (size_t i = 0; i < 8; i++)
        if (cmd_component_arg(ctx, i, field, sizeof field) && strlen(field) >= sizeof field)
            abort();
    for (size_t i = 0; i < 8; i++)
        touch(cmd_component_value(ctx, i));
    touch(cmd_component_message_content(ctx));
    const char *name, *typed;
    if (cmd_focused(ctx, &name, &typed))
        touch(name), touch(typed);
    ctx->suggestions = cJSON_CreateArray();
    if (!ctx->suggestions)
        abort();
    (void)cmd_suggest_declared(ctx);
    const char *text = cmd_opt_string(ctx, "text");
    if (text)
        (void)cmd_suggest(ctx, text, text); /* any bytes as a name: cleaned and cut */
    const cJSON *choice;
    cJSON_ArrayForEach(choice, ctx->suggestions)
    {
        const char *shown = cJSON_GetObjectItemCaseSensitive(choice, "name")->valuestring;
        size_t len = strlen(shown);
        if (!utf8_valid(shown, len) || utf8_count_chars(shown, len) > 100)
            abort(); /* Discord refuses the whole answer for one bad name */
    }
    if (cJSON_GetArraySize(ctx->suggestions) > 25)
        abort();
    cJSON_Delete(ctx->suggestions);
    ctx->suggestions = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: the parser is given a length and must not read past it. */
    char *body = malloc(size ? size : 1);
    if (!body)
        abort();
    if (size)
        memcpy(body, data, size);
    struct interaction it;
    int rc = interaction_parse(body, size, &it);
    free(body); /* every string of it lives in its cJSON tree, not in the body */
    if (rc)
        return 0;

    touch(it.id), touch(it.application_id), touch(it.token), touch(it.guild_id), touch(it.channel_id);
    touch(it.user_id), touch(it.user_name), touch(it.command_name), touch(it.subcommand_group);
    touch(it.subcommand), touch(it.target_id);
    char scope[INTERACTION_SCOPE_MAX];
    interaction_scope_id(&it, scope);
    if (memchr(scope, '\0', sizeof scope) == NULL)
        abort(); /* the scope must be a terminated string */

    struct message reply;
    message_init(&reply);
    struct cmd_ctx ctx = {.interaction = &it, .scope_id = scope, .command = &COMMAND, .path = "fuzz", .reply = &reply};
    for (size_t i = 0; i < ARRAY_LEN(OPTIONS); i++)
        every_getter(&ctx, OPTIONS[i].name);
    /* Every option name the input itself carries, with whatever type it claims. */
    const cJSON *opt;
    size_t n = 0;
    cJSON_ArrayForEach(opt, it.options)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(opt, "name");
        if (cJSON_IsString(name) && n++ < 32)
            every_getter(&ctx, name->valuestring);
    }
    struct cmd_role role;
    for (size_t i = 0; i < 32 && cmd_member_role(&ctx, i, &role); i++)
        touch(role.id), touch(role.name);
    struct cmd_channel here;
    if (cmd_here_channel(&ctx, &here))
        touch(here.id), touch(here.name), touch(here.parent_id);
    struct cmd_attachment att;
    for (size_t i = 0; i < 16 && cmd_target_attachment(&ctx, i, &att); i++)
        touch(att.url), touch(att.filename), touch(att.content_type);
    const char *content = cmd_target_content(&ctx);
    touch(content);
    if (content)
        (void)cmd_reply(&ctx, "%s", content);
    const char *text = cmd_opt_string(&ctx, "text");
    if (text)
        (void)cmd_fail(&ctx, SLIMY_EINVAL, "bad %s", text);
    uint64_t perms;
    if (it.user_name && interaction_parse_permissions(it.user_name, &perms))
        sink_len += (size_t)perms;
    components_and_suggestions(&ctx);
    message_cleanup(&reply);
    interaction_free(&it);
    return 0;
}
