/* mode.c — /mode: per-channel behaviour flags (chat, personality or not, rating, Super Snail)
 * set by profiles on a channel, thread or category, and what a channel inherits.
 * Needs Manage Server (hidden from others by default_member_permissions and re-checked by the
 * dispatcher). The rules live in modes/modes.c; this file resolves targets and words replies.
 * Inheritance comes from the interaction's channel data: a channel inherits from its
 * category (parent_id); a thread from its parent channel. A thread's grandparent category is
 * not in that data, so a thread does not see category modes. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/status.h"
#include "core/utf8.h"
#include "handlers/registry.h"
#include "modes/modes.h"
#include "store/store.h"

/* Text channels, announcement channels, threads and forums: what can hold a mode. */
#define CHANNEL_TYPES_TARGETABLE                                                                             \
    ((1u << CHANNEL_GUILD_TEXT) | (1u << CHANNEL_GUILD_ANNOUNCEMENT) | (1u << CHANNEL_ANNOUNCEMENT_THREAD) | \
     (1u << CHANNEL_PUBLIC_THREAD) | (1u << CHANNEL_PRIVATE_THREAD) | (1u << CHANNEL_GUILD_FORUM))

static enum slimy_status mode_set_run(struct cmd_ctx *ctx);
static enum slimy_status mode_view_run(struct cmd_ctx *ctx);
static enum slimy_status mode_list_run(struct cmd_ctx *ctx);
static enum slimy_status mode_clear_run(struct cmd_ctx *ctx);

/* The choices come from the lists in modes.h, so the command offers exactly what modes.c reads. */
#define PROFILE_CHOICE(value, label) {.name = label, .string_value = value},
static const struct cmd_choice mode_profile_choices[] = {MODES_PROFILES(PROFILE_CHOICE)};

#define FILTER_CHOICE(name_, flag, label) {.name = label, .string_value = name_},
static const struct cmd_choice mode_filter_choices[] = {MODES_FILTERS(FILTER_CHOICE)};

static const struct cmd_option mode_set_options[] = {
    {.name = "profile",
     .type = OPT_STRING,
     .description = "Mode profile to apply",
     .required = true,
     .autocomplete = true,
     .choices = mode_profile_choices,
     .n_choices = ARRAY_LEN(mode_profile_choices)},
    {.name = "channel",
     .type = OPT_CHANNEL,
     .description = "Channel or thread (default: this one)",
     .channel_types = CHANNEL_TYPES_TARGETABLE},
    {.name = "category",
     .type = OPT_CHANNEL,
     .description = "Category (overrides channel)",
     .channel_types = 1u << CHANNEL_GUILD_CATEGORY},
};

static const struct cmd_option mode_channel_option[] = {
    {.name = "channel", .type = OPT_CHANNEL, .description = "Channel, thread or category (default: this one)"},
};

static const struct cmd_option mode_list_options[] = {
    {.name = "filter",
     .type = OPT_STRING,
     .description = "Only targets with this mode",
     .choices = mode_filter_choices,
     .n_choices = ARRAY_LEN(mode_filter_choices)},
};

#define MODE_FLAGS (CMD_DEFERRED | CMD_EPHEMERAL | CMD_GUILD_ONLY | CMD_NEEDS_MANAGE_GUILD)

static const struct command mode_subcommands[] = {
    {.name = "set",
     .description = "Apply a mode profile to a channel or category",
     .options = mode_set_options,
     .n_options = ARRAY_LEN(mode_set_options),
     .flags = MODE_FLAGS,
     .run = mode_set_run},
    {.name = "view",
     .description = "Show the modes of a channel (direct, inherited, effective)",
     .options = mode_channel_option,
     .n_options = ARRAY_LEN(mode_channel_option),
     .flags = MODE_FLAGS,
     .run = mode_view_run},
    {.name = "list",
     .description = "List the configured channels and categories",
     .options = mode_list_options,
     .n_options = ARRAY_LEN(mode_list_options),
     .flags = MODE_FLAGS,
     .run = mode_list_run},
    {.name = "clear",
     .description = "Remove all modes from a channel or category",
     .options = mode_channel_option,
     .n_options = ARRAY_LEN(mode_channel_option),
     .flags = MODE_FLAGS,
     .run = mode_clear_run},
};

const struct command mode_command = {
    .name = "mode",
    .description = "Configure Slimy's modes for channels and categories",
    .subcommands = mode_subcommands,
    .n_subcommands = ARRAY_LEN(mode_subcommands),
    .default_member_permissions = "32", /* Manage Guild */
    .installs = INSTALL_GUILD,
    .contexts = CTX_GUILD,
};

/* ---- targets ---- */

struct target {
    enum store_target_type type;
    char id[STORE_ID_MAX];
    char parent_id[STORE_ID_MAX]; /* category of a channel, channel of a thread; "" if none */
    char name[101];               /* category name when known */
};

static enum store_target_type target_type_of(enum discord_channel_type channel_type)
{
    if (channel_type == CHANNEL_GUILD_CATEGORY)
        return TARGET_CATEGORY;
    if (channel_type_is_thread(channel_type))
        return TARGET_THREAD;
    return TARGET_CHANNEL;
}

/* The channel of the option named `option`, else the channel the command was used in. */
static bool resolve_target(const struct cmd_ctx *ctx, const char *option, struct target *t)
{
    struct cmd_channel c;
    if (!cmd_opt_channel(ctx, option, &c) && !cmd_here_channel(ctx, &c))
        return false;
    memset(t, 0, sizeof *t);
    t->type = target_type_of(c.type);
    snprintf(t->id, sizeof t->id, "%s", c.id);
    snprintf(t->parent_id, sizeof t->parent_id, "%s", c.parent_id);
    /* A category name is up to 100 characters: keep what fits, cut on a character boundary. */
    size_t keep = utf8_prefix_bytes(c.name, strlen(c.name), sizeof t->name - 1);
    memcpy(t->name, c.name, keep);
    t->name[keep] = '\0';
    return true;
}

static void target_text(const struct target *t, char *out, size_t cap)
{
    if (t->type == TARGET_CATEGORY)
        snprintf(out, cap, t->name[0] ? "category **%s**" : "category <#%s>", t->name[0] ? t->name : t->id);
    else
        snprintf(out, cap, "<#%s>", t->id);
}

/* Writes the Direct / Inherited / Effective lines for t into b. */
static int describe(struct cmd_ctx *ctx, const struct target *t, struct buf *b)
{
    struct store *st = ctx->services->store;
    const char *guild = ctx->interaction->guild_id;
    unsigned own = 0, parent = 0;
    int rc = store_mode_get(st, guild, t->type, t->id, &own);
    enum store_target_type parent_type = t->type == TARGET_THREAD ? TARGET_CHANNEL : TARGET_CATEGORY;
    bool has_parent = t->type != TARGET_CATEGORY && t->parent_id[0];
    if (!rc && has_parent)
        rc = store_mode_get(st, guild, parent_type, t->parent_id, &parent);
    if (rc)
        return rc;
    char state[MODES_STATE_TEXT_MAX];
    modes_format_state(own, state, sizeof state);
    rc = buf_printf(b, "**Direct:** %s\n**Inherited:**", state);
    if (!rc && parent) {
        modes_format_state(parent, state, sizeof state);
        rc = buf_printf(b, "\n• %s <#%s>: %s", parent_type == TARGET_CATEGORY ? "category" : "channel", t->parent_id,
                        state);
    } else if (!rc) {
        rc = buf_append_str(b, " none");
    }
    modes_format_state(modes_effective(own, parent, 0), state, sizeof state);
    if (!rc)
        rc = buf_printf(b, "\n**Effective:** %s", state);
    return rc;
}

static int reply_buf(struct cmd_ctx *ctx, struct buf *b, int rc)
{
    if (!rc)
        rc = cmd_reply(ctx, "%s", b->data);
    buf_cleanup(b);
    return rc;
}

/* ---- subcommands ---- */

/* /mode set profile:<profile> [channel:<#channel>] [category:<category>] */
static enum slimy_status mode_set_run(struct cmd_ctx *ctx)
{
    const char *profile = cmd_opt_string(ctx, "profile");
    struct target t;
    struct cmd_channel category;
    bool has_target = resolve_target(ctx, cmd_opt_channel(ctx, "category", &category) ? "category" : "channel", &t);
    if (!has_target)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Unable to resolve target channel.");
    unsigned requested = 0;
    bool is_clear = profile && strcmp(profile, "clear") == 0;
    if (!is_clear && (!profile || !modes_parse_list(profile, &requested)))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ That is not a mode profile. Pick one of the suggestions.");
    int rc = store_mode_put(ctx->services->store, ctx->interaction->guild_id, t.type, t.id,
                            is_clear ? 0 : modes_replace(requested));
    if (rc)
        return rc;
    char where[160];
    target_text(&t, where, sizeof where);
    if (is_clear)
        return cmd_reply(ctx, "🧹 Cleared all modes for %s.", where);
    const char *label = profile;
    size_t n = 0;
    const struct mode_profile *profiles = modes_profiles(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(profiles[i].value, profile) == 0)
            label = profiles[i].label;
    struct buf b;
    buf_init(&b, 4096);
    rc = buf_printf(&b, "📂 Applied **%s** to %s.\n", label, where);
    if (!rc)
        rc = describe(ctx, &t, &b);
    return reply_buf(ctx, &b, rc);
}

/* /mode view [channel:<#channel>] */
static enum slimy_status mode_view_run(struct cmd_ctx *ctx)
{
    struct target t;
    if (!resolve_target(ctx, "channel", &t))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Unable to resolve target channel.");
    char where[160];
    target_text(&t, where, sizeof where);
    struct buf b;
    buf_init(&b, 4096);
    int rc = buf_printf(&b, "📋 Mode configuration for %s\n", where);
    if (!rc)
        rc = describe(ctx, &t, &b);
    return reply_buf(ctx, &b, rc);
}

/* /mode list [filter:<mode>] */
static enum slimy_status mode_list_run(struct cmd_ctx *ctx)
{
    const char *filter = cmd_opt_string(ctx, "filter");
    unsigned flag = 0;
    const char *label = "All configurations";
    if (filter && !modes_filter_parse(filter, &flag, &label))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Unknown filter.");
    struct store_mode_configs configs = {0};
    int rc = store_mode_list(ctx->services->store, ctx->interaction->guild_id, &configs);
    if (rc)
        return rc;
    struct buf b;
    buf_init(&b, MESSAGE_TEXT_MAX_BYTES);
    size_t shown = 0;
    rc = buf_printf(&b, "📋 Mode configurations (%s)", label);
    for (size_t i = 0; !rc && i < configs.n; i++) {
        const struct store_mode_config *c = &configs.items[i];
        if (flag && !(c->modes & flag))
            continue;
        char state[MODES_STATE_TEXT_MAX];
        modes_format_state(c->modes, state, sizeof state);
        rc = buf_printf(&b, "\n• %s<#%s>: %s", c->target_type == TARGET_CATEGORY ? "category " : "", c->target_id,
                        state);
        shown++;
    }
    store_mode_configs_free(&configs);
    if (!rc && shown == 0) {
        buf_cleanup(&b);
        return cmd_reply(ctx, "📭 No mode configurations found.");
    }
    return reply_buf(ctx, &b, rc);
}

/* /mode clear [channel:<#channel>] */
static enum slimy_status mode_clear_run(struct cmd_ctx *ctx)
{
    struct target t;
    if (!resolve_target(ctx, "channel", &t))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Unable to resolve target channel.");
    int rc = store_mode_put(ctx->services->store, ctx->interaction->guild_id, t.type, t.id, 0);
    if (rc)
        return rc;
    char where[160];
    target_text(&t, where, sizeof where);
    return cmd_reply(ctx, "✅ All modes cleared from %s", where);
}
