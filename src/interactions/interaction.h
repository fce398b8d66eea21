/* interaction.h — a Discord interaction parsed from its verified JSON body.
 * Parse only after the signature passed (verify.h): the signature covers the raw bytes.
 * A struct interaction owns its cJSON tree; every string in it is borrowed from that tree
 * and lives until interaction_free(). Read-only after parsing, so threads may share one. */
#ifndef SLIMY_INTERACTIONS_INTERACTION_H
#define SLIMY_INTERACTIONS_INTERACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Interaction types (Discord's values). */
enum interaction_type {
    INTERACTION_PING = 1,
    INTERACTION_APPLICATION_COMMAND = 2,
    INTERACTION_MESSAGE_COMPONENT = 3,
    INTERACTION_AUTOCOMPLETE = 4,
    INTERACTION_MODAL_SUBMIT = 5,
};

/* Discord channel types (Discord's values). */
enum discord_channel_type {
    CHANNEL_GUILD_TEXT = 0,
    CHANNEL_DM = 1,
    CHANNEL_GUILD_VOICE = 2,
    CHANNEL_GROUP_DM = 3,
    CHANNEL_GUILD_CATEGORY = 4,
    CHANNEL_GUILD_ANNOUNCEMENT = 5,
    CHANNEL_ANNOUNCEMENT_THREAD = 10,
    CHANNEL_PUBLIC_THREAD = 11,
    CHANNEL_PRIVATE_THREAD = 12,
    CHANNEL_GUILD_STAGE_VOICE = 13,
    CHANNEL_GUILD_DIRECTORY = 14,
    CHANNEL_GUILD_FORUM = 15,
    CHANNEL_GUILD_MEDIA = 16,
};

static inline bool channel_type_is_thread(enum discord_channel_type t)
{
    return t == CHANNEL_ANNOUNCEMENT_THREAD || t == CHANNEL_PUBLIC_THREAD || t == CHANNEL_PRIVATE_THREAD;
}

/* Discord permission bits we check server-side. */
#define PERMISSION_ADMINISTRATOR (UINT64_C(1) << 3)
#define PERMISSION_MANAGE_GUILD (UINT64_C(1) << 5)

struct interaction {
    cJSON *root;                 /* owned: the whole parsed body */
    int type;                    /* enum interaction_type */
    const char *id;              /* interaction id (snowflake string); "" if absent */
    const char *application_id;  /* used in webhook URLs; "" if absent */
    const char *token;           /* webhook token: a credential, never log it; "" if absent */
    const char *guild_id;        /* NULL in DMs */
    const char *channel_id;      /* NULL if absent */
    const char *user_id;         /* member.user.id in guilds, user.id in DMs; "" if absent */
    const char *user_name;       /* member.nick, global_name or username; "" if absent */
    bool has_member;             /* invoked in a guild (member present) */
    uint64_t member_permissions; /* member.permissions parsed as 64 bits; 0 in DMs */
    int context;                 /* 0 guild, 1 bot DM, 2 private channel; -1 if absent */

    /* Installed where: authorizing_integration_owners names the guild ("0") when the app is
     * installed in the server, the user ("1") when the user installed it to their account. A
     * user-installed command used in a server that never installed Slimy has only "1": the
     * server is not ours to keep data for. true when the field is absent (older payloads). */
    bool is_guild_install;

    /* APPLICATION_COMMAND (and AUTOCOMPLETE) only; NULL/0 otherwise. */
    const char *command_name;     /* data.name */
    int command_type;             /* data.type: 1 chat input, 2 user, 3 message */
    const char *subcommand_group; /* name of the SUB_COMMAND_GROUP option, if any */
    const char *subcommand;       /* name of the SUB_COMMAND option, if any */
    const cJSON *options;         /* the leaf option array (after subcommands), or NULL */
    const cJSON *resolved;        /* data.resolved, or NULL */
    const char *target_id;        /* data.target_id for USER/MESSAGE commands */

    /* MESSAGE_COMPONENT only; NULL/0 otherwise. */
    const char *custom_id; /* data.custom_id: "command:action:..." as Slimy wrote it (component.h) */
    int component_type;    /* data.component_type: 2 button, 3 string select */
    const cJSON *values;   /* data.values: the chosen options of a select menu, or NULL */
    const cJSON *message;  /* the message carrying the component, or NULL */
};

/* Parses body (len bytes, need not be NUL-terminated) into *out.
 * SLIMY_EINVAL when it is not a JSON object or has no integer `type`; *out is then empty.
 * SLIMY_ENOMEM on allocation failure. On success free with interaction_free(). */
int interaction_parse(const char *body, size_t len, struct interaction *out);
void interaction_free(struct interaction *it);

/* Returns the option object {name,type,value} named `name` in the leaf options, or NULL. */
const cJSON *interaction_option(const struct interaction *it, const char *name);

/* Looks up `id` in data.resolved.<kind> ("attachments", "users", "members", "messages",
 * "channels", "roles"). Returns the object or NULL. */
const cJSON *interaction_resolved(const struct interaction *it, const char *kind, const char *id);

/* Returns the target message of a MESSAGE context-menu command, or NULL. */
const cJSON *interaction_target_message(const struct interaction *it);

/* obj[key] when it is a string, else def. */
const char *interaction_str(const cJSON *obj, const char *key, const char *def);

/* What Discord shows for a user: member.nick, else user.global_name, else user.username ("").
 * member may be NULL. */
const char *interaction_display_name(const cJSON *member, const cJSON *user);

#define INTERACTION_SCOPE_MAX 40

/* Writes the storage scope of the interaction into out: the guild id in a server that installed
 * Slimy, "dm:<channel id>" in the user's DM with Slimy, and "user:<user id>" (the user's own
 * scope) for a user-installed command used in a group DM, a DM between users, or a server that
 * never installed Slimy: data is never kept for a place whose owners did not install the app. */
void interaction_scope_id(const struct interaction *it, char out[INTERACTION_SCOPE_MAX]);

/* Parses a Discord permission string ("2147483647") into *out. false if not a decimal uint64. */
bool interaction_parse_permissions(const char *text, uint64_t *out);

#endif
