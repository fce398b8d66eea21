/* stats.c — /stats: a user's command use in this server (or DM) over a period: messages,
 * images, commands and when they were last active, counted by store_user_stats() from the rows
 * the dispatcher records for every deferred command. Ephemeral.
 *
 * Anyone may see their own stats. Someone else's need Administrator, or in a server a role
 * whose name contains "mod" or "club" (any case), as in the original bot. An HTTP interaction
 * carries only the ids of the invoker's roles (member.roles); names come from
 * data.resolved.roles, which Discord fills only for roles the command's options mention. So a
 * role counts only when its name is in that data: when the names are not available (the usual
 * case), only Administrator qualifies. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/embed.h"
#include "store/store.h"

#define STATS_COLOR 0x5865F2
#define DAY_MS (24LL * 60 * 60 * 1000)
#define NAME_MAX_BYTES 128 /* Discord names are at most 32 characters */
#define PERIOD_DEFAULT "30d"

static int stats_run(struct cmd_ctx *ctx);

/* What each period choice below means; a period ends now. */
struct period {
    const char *value; /* the choice value, also the title's label */
    int64_t days;      /* how far back the period starts */
};

static const struct period periods[] = {
    {.value = "7d", .days = 7},
    {.value = "30d", .days = 30},
    {.value = "90d", .days = 90},
    {.value = "1y", .days = 365},
};

static const struct cmd_choice stats_period_choices[] = {
    {.name = "Last 7 days", .string_value = "7d"},
    {.name = "Last 30 days", .string_value = "30d"},
    {.name = "Last 90 days", .string_value = "90d"},
    {.name = "Last year", .string_value = "1y"},
};

static const struct cmd_option stats_options[] = {
    {.name = "user", .type = OPT_USER, .description = "Whose stats to show (default: yours)"},
    {.name = "period", .type = OPT_STRING, .description = "Time period (default: 30 days)",
     .choices = stats_period_choices, .n_choices = ARRAY_LEN(stats_period_choices)},
};

const struct command stats_command = {
    .name = "stats",
    .description = "Show your Slimy usage stats (messages, images, commands)",
    .options = stats_options,
    .n_options = ARRAY_LEN(stats_options),
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = stats_run,
};

/* The user id an OPT_USER option holds, or NULL when absent (cmd_opt_* has no user getter). */
static const char *opt_user(const struct cmd_ctx *ctx, const char *name)
{
    const cJSON *opt = interaction_option(ctx->interaction, name);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(opt, "type");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(opt, "value");
    if (!cJSON_IsNumber(type) || type->valueint != OPT_USER || !cJSON_IsString(value) || !*value->valuestring)
        return NULL;
    return value->valuestring;
}

static const struct period *find_period(const char *value)
{
    for (size_t i = 0; i < ARRAY_LEN(periods); i++)
        if (strcmp(periods[i].value, value) == 0)
            return &periods[i];
    return NULL;
}

/* ASCII case-insensitive substring test; bytes of other characters compare as they are. */
static bool contains_ignoring_case(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && tolower((unsigned char)p[i]) == tolower((unsigned char)word[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* Administrator, or (in a server) one of the invoker's roles whose name is known and contains
 * "mod" or "club"; see the file comment on where the names come from. */
static bool can_view_others(const struct interaction *it)
{
    if (it->member_permissions & PERMISSION_ADMINISTRATOR)
        return true;
    if (!it->guild_id)
        return false;
    const cJSON *member = cJSON_GetObjectItemCaseSensitive(it->root, "member");
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(member, "roles");
    const cJSON *role_id;
    cJSON_ArrayForEach(role_id, roles)
    {
        if (!cJSON_IsString(role_id))
            continue;
        const cJSON *role = interaction_resolved(it, "roles", role_id->valuestring);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(role, "name");
        if (cJSON_IsString(name) && (contains_ignoring_case(name->valuestring, "mod") ||
                                     contains_ignoring_case(name->valuestring, "club")))
            return true;
    }
    return false;
}

/* The name for the title: the invoker's display name, or the target's global name or
 * username from data.resolved.users, else the bare id. */
static void target_name(const struct interaction *it, const char *user_id, char *out, size_t cap)
{
    if (strcmp(user_id, it->user_id) == 0 && it->user_name[0]) {
        snprintf(out, cap, "%s", it->user_name);
        return;
    }
    const cJSON *user = interaction_resolved(it, "users", user_id);
    const cJSON *global_name = cJSON_GetObjectItemCaseSensitive(user, "global_name");
    const cJSON *username = cJSON_GetObjectItemCaseSensitive(user, "username");
    if (cJSON_IsString(global_name) && *global_name->valuestring)
        snprintf(out, cap, "%s", global_name->valuestring);
    else if (cJSON_IsString(username) && *username->valuestring)
        snprintf(out, cap, "%s", username->valuestring);
    else
        snprintf(out, cap, "%s", user_id);
}

static int add_count(cJSON *embed, const char *name, uint64_t count)
{
    char value[32];
    snprintf(value, sizeof value, "%llu", (unsigned long long)count);
    return embed_add_field(embed, name, value, true) ? SLIMY_OK : SLIMY_ENOMEM;
}

/* /stats [user:<@user>] [period:<7d|30d|90d|1y>] */
static int stats_run(struct cmd_ctx *ctx)
{
    const struct interaction *it = ctx->interaction;
    const char *user_id = opt_user(ctx, "user");
    if (!user_id)
        user_id = it->user_id;
    const char *period_value = cmd_opt_string(ctx, "period");
    const struct period *period = find_period(period_value ? period_value : PERIOD_DEFAULT);
    if (!period)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Unknown period. Choose 7d, 30d, 90d or 1y.");
    if (strcmp(user_id, it->user_id) != 0 && !can_view_others(it))
        return cmd_fail(ctx, SLIMY_EPERM,
                        "❌ You can only view your own stats (viewing others needs Administrator or a mod/club role).");

    int64_t since_ms = (int64_t)clock_wall_ms() - period->days * DAY_MS;
    struct store_user_stats stats;
    int rc = store_user_stats(ctx->services->store, user_id, ctx->scope_id, since_ms, &stats);
    if (rc)
        return rc;

    char name[NAME_MAX_BYTES], title[NAME_MAX_BYTES + 64], last_active[48];
    target_name(it, user_id, name, sizeof name);
    snprintf(title, sizeof title, "📈 Stats for %s (%s)", name, period->value);
    if (stats.last_active_ms > 0)
        snprintf(last_active, sizeof last_active, "<t:%lld:R>", (long long)(stats.last_active_ms / 1000));
    else
        snprintf(last_active, sizeof last_active, "Never");

    rc = SLIMY_ENOMEM;
    cJSON *embed = embed_new(title, STATS_COLOR);
    if (!embed)
        goto out;
    if ((rc = add_count(embed, "Messages", stats.chats)) || (rc = add_count(embed, "Images Generated", stats.images)) ||
        (rc = add_count(embed, "Commands", stats.commands)))
        goto out;
    rc = SLIMY_ENOMEM;
    if (!embed_add_field(embed, "Last Active", last_active, true) ||
        !embed_set_footer(embed, it->guild_id ? "Counted in this server" : "Counted in this DM"))
        goto out;
    rc = message_add_embed(ctx->reply, embed);
    embed = NULL; /* taken even on failure */
out:
    cJSON_Delete(embed);
    return rc;
}
