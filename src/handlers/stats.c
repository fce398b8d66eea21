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
#include "core/utf8.h"
#include "handlers/registry.h"
#include "interactions/embed.h"
#include "store/store.h"

#define STATS_COLOR 0x5865F2
#define DAY_MS (24LL * 60 * 60 * 1000)
#define NAME_MAX_BYTES 128 /* Discord names are at most 32 characters */
#define PERIOD_DEFAULT "30d"

static enum slimy_status stats_run(struct cmd_ctx *ctx);

/* The periods, in choice order: X(value, choice name, days back from now). The value is also
 * the title's label. The one list: the choices and find_period() both come from it. */
#define STATS_PERIODS(X)         \
    X("7d", "Last 7 days", 7)    \
    X("30d", "Last 30 days", 30) \
    X("90d", "Last 90 days", 90) \
    X("1y", "Last year", 365)

struct period {
    const char *value;
    int64_t days;
};

#define PERIOD_ROW(value_, name_, days_) {.value = value_, .days = days_},
static const struct period periods[] = {STATS_PERIODS(PERIOD_ROW)};

#define PERIOD_CHOICE(value_, name_, days_) {.name = name_, .string_value = value_},
static const struct cmd_choice stats_period_choices[] = {STATS_PERIODS(PERIOD_CHOICE)};

static const struct cmd_option stats_options[] = {
    {.name = "user", .type = OPT_USER, .description = "Whose stats to show (default: yours)"},
    {.name = "period",
     .type = OPT_STRING,
     .description = "Time period (default: 30 days)",
     .autocomplete = true,
     .choices = stats_period_choices,
     .n_choices = ARRAY_LEN(stats_period_choices)},
};

const struct command stats_command = {
    .name = "stats",
    .description = "Show your Slimy usage stats (messages, images, commands)",
    .options = stats_options,
    .n_options = ARRAY_LEN(stats_options),
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = stats_run,
};

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
static bool can_view_others(const struct cmd_ctx *ctx)
{
    const struct interaction *it = ctx->interaction;
    if (it->member_permissions & PERMISSION_ADMINISTRATOR)
        return true;
    if (!it->guild_id)
        return false;
    struct cmd_role role;
    for (size_t i = 0; cmd_member_role(ctx, i, &role); i++)
        if (contains_ignoring_case(role.name, "mod") || contains_ignoring_case(role.name, "club"))
            return true;
    return false;
}

/* The name for the title: the invoker's display name, or the target's global name or
 * username from data.resolved.users, else the bare id. */
static void target_name(const struct cmd_ctx *ctx, const char *user_id, char *out, size_t cap)
{
    const struct interaction *it = ctx->interaction;
    struct cmd_user user;
    const char *name = user_id;
    if (strcmp(user_id, it->user_id) == 0 && it->user_name[0])
        name = it->user_name;
    else if (cmd_resolved_user(ctx, user_id, &user) && (*user.global_name || *user.username))
        name = *user.global_name ? user.global_name : user.username;
    /* A name longer than out is cut on a character boundary: never inside one. */
    size_t keep = utf8_prefix_bytes(name, strlen(name), cap - 1);
    memcpy(out, name, keep);
    out[keep] = '\0';
}

static int add_count(cJSON *embed, const char *name, uint64_t count)
{
    char value[32];
    snprintf(value, sizeof value, "%llu", (unsigned long long)count);
    return embed_add_field(embed, name, value, true) ? SLIMY_OK : SLIMY_ENOMEM;
}

/* /stats [user:<@user>] [period:<7d|30d|90d|1y>] */
static enum slimy_status stats_run(struct cmd_ctx *ctx)
{
    const struct interaction *it = ctx->interaction;
    struct cmd_user target;
    const char *user_id = cmd_opt_user(ctx, "user", &target) ? target.id : it->user_id;
    const char *period_value = cmd_opt_string(ctx, "period");
    const struct period *period = find_period(period_value ? period_value : PERIOD_DEFAULT);
    if (!period)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Unknown period. Choose 7d, 30d, 90d or 1y.");
    if (strcmp(user_id, it->user_id) != 0 && !can_view_others(ctx))
        return cmd_fail(ctx, SLIMY_EPERM,
                        "❌ You can only view your own stats (viewing others needs Administrator or a mod/club role).");

    int64_t since_ms = (int64_t)clock_wall_ms() - period->days * DAY_MS;
    struct store_user_stats stats;
    int rc = store_user_stats(ctx->services->store, user_id, ctx->scope_id, since_ms, &stats);
    if (rc)
        return rc;

    char name[NAME_MAX_BYTES], title[NAME_MAX_BYTES + 64], last_active[48];
    target_name(ctx, user_id, name, sizeof name);
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
