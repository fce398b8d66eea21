/* command.h — what a Slimy command is: its Discord definition and its handler, in one struct.
 * Each file in src/handlers/ defines one `const struct command`; registry.c lists them all.
 * The dispatcher (dispatch.c) reads the flags and enforces them before `run` is called,
 * so handlers never deal with cooldowns, deferral or guild-only checks themselves.
 * Definitions are immutable and shared by every thread; a cmd_ctx belongs to one run. */
#ifndef SLIMY_INTERACTIONS_COMMAND_H
#define SLIMY_INTERACTIONS_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"
#include "interactions/discord_rest.h"
#include "interactions/interaction.h"
#include "interactions/message.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Discord application command option types (values are Discord's). */
enum cmd_option_type {
    OPT_SUB_COMMAND = 1,
    OPT_SUB_COMMAND_GROUP = 2,
    OPT_STRING = 3,
    OPT_INTEGER = 4, /* -2^53+1 .. 2^53-1 */
    OPT_BOOLEAN = 5,
    OPT_USER = 6,
    OPT_CHANNEL = 7,
    OPT_ROLE = 8,
    OPT_MENTIONABLE = 9,
    OPT_NUMBER = 10, /* double */
    OPT_ATTACHMENT = 11,
};

/* Discord application command types. */
enum command_type {
    COMMAND_CHAT_INPUT = 1, /* slash command; the default when .type is 0 */
    COMMAND_USER = 2,       /* user context menu */
    COMMAND_MESSAGE = 3,    /* message context menu; target in data.target_id */
};

/* One choice of a STRING, INTEGER or NUMBER option. */
struct cmd_choice {
    const char *name;         /* shown to the user, 1-100 chars */
    const char *string_value; /* the value for STRING options; NULL for numeric ones */
    double number_value;      /* the value for INTEGER/NUMBER options */
};

/* One option (parameter) of a command. Required options must come before optional ones. */
struct cmd_option {
    const char *name; /* 1-32 chars, lower case */
    enum cmd_option_type type;
    const char *description; /* 1-100 chars */
    bool required;
    const struct cmd_choice *choices; /* NULL or up to 25 */
    size_t n_choices;
    bool has_min_value, has_max_value; /* INTEGER/NUMBER bounds are sent only when set */
    double min_value, max_value;
    unsigned min_length, max_length; /* STRING length bounds; 0 means unset */
    uint32_t channel_types;          /* CHANNEL options: bit n allows Discord channel type n; 0 = any */
    /* Suggestions as the user types (autocomplete): from the leaf's `autocomplete`, or, for a
     * leaf without one, `choices` filtered by what was typed. Choices are then not registered
     * (Discord takes one or the other), so the handler must check the value it gets. */
    bool autocomplete;
};

/* Command flags: the dispatcher applies each one before `run` (and before `check`, below).
 *   CMD_DEFERRED   answer Discord at once with type 5 ("thinking…"), run the handler on a worker,
 *                  and deliver its reply by editing @original through the webhook. Without it the
 *                  handler runs on the request thread and must be CPU-only and fast (type 4).
 *   CMD_EPHEMERAL  every reply is visible to the invoking user only (message flag 64).
 *   CMD_GUILD_ONLY refused with an ephemeral message when used in a DM.
 *   CMD_NEEDS_MANAGE_GUILD / CMD_NEEDS_ADMIN
 *                  checked server-side from member.permissions before anything runs (Discord's
 *                  default_member_permissions only hides a command; server admins can change it).
 *   CMD_NEEDS_CONSENT
 *                  the user must have turned memory consent on for this scope (/consent set);
 *                  checked on the worker, so it needs CMD_DEFERRED.
 *   CMD_NEEDS_AI   answered at once (ephemeral) with "AI is not configured" when the server has
 *                  neither OPENAI_API_KEY nor an explicit OPENAI_BASE_URL.
 *
 * The check (struct command's optional `check`): after the flags above pass, the dispatcher
 * runs it on the request thread, before admission (dedupe, cooldown, queueing), with the same
 * cmd_ctx a handler gets. It refuses input that is wrong from the request alone (a missing or
 * non-image attachment in data.resolved, say), so the user hears it at once instead of after a
 * deferral. CPU only and fast: no store, no kv, no network, no cmd_state_new(), no await.
 * SLIMY_OK lets the command go on (anything it wrote to ctx->reply is dropped); a failure status,
 * worded with cmd_fail() (the dispatcher words an unworded one), is answered at once as an
 * ephemeral type-4 message: nothing is admitted or queued, no cooldown is used, `run` never
 * runs. The handler may still check the same things: a check is not a security boundary for
 * code that reaches the handler another way. */
enum cmd_flags {
    CMD_DEFERRED = 1u << 0,
    CMD_EPHEMERAL = 1u << 1,
    CMD_GUILD_ONLY = 1u << 2,
    CMD_NEEDS_MANAGE_GUILD = 1u << 3,
    CMD_NEEDS_ADMIN = 1u << 4,
    CMD_NEEDS_CONSENT = 1u << 5,
    CMD_NEEDS_AI = 1u << 6,
    CMD_UPDATE = 1u << 7, /* component leaves: the reply replaces the message carrying the component
                             (type 7, or 6 when deferred) instead of being a new message */
};

/* Where a command may be used (Discord interaction context types), as a bit set. 0 = Discord's default. */
enum cmd_contexts {
    CTX_GUILD = 1u << 0,
    CTX_BOT_DM = 1u << 1,
    CTX_PRIVATE_CHANNEL = 1u << 2,
    CTX_ANYWHERE = CTX_GUILD | CTX_BOT_DM | CTX_PRIVATE_CHANNEL,
};

/* Who may install a command (Discord integration types), as a bit set. 0 = Discord's default
 * (servers only). A user-installed command works in any server or DM the user is in; its data
 * then lives in the user's own scope where the place did not install Slimy (interaction.h). */
enum cmd_installs {
    INSTALL_GUILD = 1u << 0,
    INSTALL_USER = 1u << 1,
};

struct cmd_services;
struct cmd_ctx;

/* A handler step. Returns SLIMY_OK when ctx->reply holds the answer, or a failure status after
 * optionally wording it with cmd_fail() (the dispatcher words the rest). A deferred step that
 * must wait on the network ends with one of the cmd_await_*() helpers (flows/await.h), which
 * names the step to run when the result is in; it returns SLIMY_OK and the run goes on later.
 * Runs exactly once per interaction (each step once). */
typedef enum slimy_status (*cmd_run_fn)(struct cmd_ctx *ctx);

typedef void (*cmd_free_fn)(void *p);

/* A command, a subcommand group or a subcommand. A node with `subcommands` is only a
 * container: it has no options and no run. A leaf has `run`. Flags and cooldown are read
 * from the leaf that runs, so /snail calc can be immediate while /snail sheet is deferred.
 *
 * Components (buttons, select menus) a command puts on its messages come back to the same file:
 * their custom_id is "command:action:arg:..." (component.h), and the top-level command's
 * `components` are leaves named by action, run like subcommands (flags, check, cooldown, await;
 * path "command:action"). Anyone who sees a message can press its buttons, so a leaf's check
 * compares the owner written in the custom_id with the presser, and parses the rest strictly. */
struct command {
    const char *name;        /* 1-32 chars; CHAT_INPUT names are lower case */
    enum command_type type;  /* 0 means COMMAND_CHAT_INPUT; only top-level commands set it */
    const char *description; /* 1-100 chars for CHAT_INPUT; must be NULL for USER/MESSAGE */
    const struct cmd_option *options;
    size_t n_options;
    const struct command *subcommands; /* array of n_subcommands nodes, or NULL */
    size_t n_subcommands;
    unsigned flags;                         /* enum cmd_flags */
    uint32_t cooldown_ms;                   /* per user, per command path; 0 = none */
    const char *default_member_permissions; /* decimal bit set string ("32" = Manage Guild); NULL = everyone */
    unsigned contexts;                      /* enum cmd_contexts bit set; 0 = Discord's default */
    unsigned installs;                      /* enum cmd_installs bit set; 0 = Discord's default */
    cmd_run_fn check;                       /* NULL, or refuses bad input before admission (see the flags) */
    cmd_run_fn run;
    /* A leaf with autocomplete options: adds suggestions for the focused one (cmd_focused(),
     * cmd_suggest()), answered at once (type 8) on the request thread. It may make one quick
     * store query; nothing slower. Its return status is only logged: a failure suggests nothing. */
    cmd_run_fn autocomplete;
    const struct command *components; /* top level only: component leaves, by action name */
    size_t n_components;
    const char *cooldown_as; /* NULL, or the command path whose cooldown this leaf shares ("dream") */
};

/* Services a handler may use; all borrowed, valid for the whole run. */
struct cmd_services {
    struct store *store;               /* user data; always present (dispatch_new requires it) */
    struct ai_client *ai;              /* OpenAI-compatible client; NULL when not configured (CMD_NEEDS_AI) */
    struct fetch *engine;              /* the outbound HTTP engine (downloads) */
    struct kv *kv;                     /* shared state: /chat history, counters (kv.h) */
    struct persona *persona;           /* the parsed PERSONALITY_FILE */
    struct jobs *jobs;                 /* the worker pool (depth for /diag) */
    struct job_stream *stream;         /* the job stream feeding it (for /diag) */
    struct command_stats *stats;       /* per-command counters (for /diag) */
    const struct slimy_config *config; /* the loaded configuration */
    uint64_t started_at_ms;            /* process start, wall clock */
};

/* The context of one run. Handlers read the first six fields and use the functions below; the
 * rest belongs to the dispatcher and the await helpers. */
struct cmd_ctx {
    const struct interaction *interaction; /* borrowed; the parsed request */
    const char *scope_id;                  /* guild id, "dm:<channel id>" or "user:<user id>" (interaction.h) */
    const struct command *command;         /* the leaf being run */
    const char *path;                      /* "snail calc": command and subcommand names */
    const struct cmd_services *services;   /* borrowed */
    struct message *reply;                 /* the handler fills this in */
    uint64_t deadline_mono_ms;             /* outbound calls must end by then (token life minus margin) */

    void *state;             /* the handler's own state across steps (cmd_state_new) */
    cmd_free_fn state_free;  /* frees what state points to when the run ends */
    void *result;            /* what the last await produced (cmd_resume) */
    cmd_free_fn result_free; /* frees result at the next await or when the run ends */
    cmd_run_fn next;         /* the step to run once the await completes */
    cJSON *suggestions;      /* autocomplete runs: the choices cmd_suggest() added */
};

/* ---- the ones handlers call ---- */

/* Option values of the leaf being run. Each returns false (or NULL) when the option is absent
 * or has another type; *out is untouched then. Strings are borrowed from the interaction. */
const char *cmd_opt_string(const struct cmd_ctx *ctx, const char *name);
bool cmd_opt_int(const struct cmd_ctx *ctx, const char *name, int64_t *out);   /* exact integers within ±2^53 */
bool cmd_opt_number(const struct cmd_ctx *ctx, const char *name, double *out); /* finite only */
bool cmd_opt_bool(const struct cmd_ctx *ctx, const char *name, bool *out);

/* An INTEGER option clamped to the min_value/max_value its definition declares (Discord checks
 * them, but the request is only as honest as its sender); def when absent or not an integer. */
int64_t cmd_opt_int_or(const struct cmd_ctx *ctx, const char *name, int64_t def);

/* The resolved objects behind USER, CHANNEL, ROLE and ATTACHMENT options (data.resolved).
 * Strings are borrowed from the interaction; a field Discord did not send is "" (never NULL). */
struct cmd_user {
    const char *id;
    const char *username;
    const char *global_name;  /* "" when the user has none */
    const char *display_name; /* the member's nick, else global_name, else username */
    bool is_bot;
    bool is_member; /* data.resolved.members had the user (a USER option in a guild) */
};

struct cmd_channel {
    const char *id;
    const char *name;
    enum discord_channel_type type;
    const char *parent_id; /* a channel's category, a thread's channel; "" when none */
};

struct cmd_role {
    const char *id;
    const char *name;
};

struct cmd_attachment {
    const char *id;
    const char *filename;
    const char *url;
    const char *content_type; /* "" when Discord did not say */
    int64_t size;             /* bytes */
};

bool cmd_opt_user(const struct cmd_ctx *ctx, const char *name, struct cmd_user *out);       /* id only if unresolved */
bool cmd_opt_channel(const struct cmd_ctx *ctx, const char *name, struct cmd_channel *out); /* id only if unresolved */
bool cmd_opt_role(const struct cmd_ctx *ctx, const char *name, struct cmd_role *out);       /* id only if unresolved */
bool cmd_opt_attachment(const struct cmd_ctx *ctx, const char *name, struct cmd_attachment *out);

/* The nth role of the invoker (member.roles, 0-based); its name is "" unless data.resolved has
 * it (Discord resolves only roles the options mention). false past the last one. */
bool cmd_member_role(const struct cmd_ctx *ctx, size_t n, struct cmd_role *out);

/* The user of a resolved id (a message author, a leaderboard entry...), for display names. */
bool cmd_resolved_user(const struct cmd_ctx *ctx, const char *user_id, struct cmd_user *out);
/* The channel the command was used in, from the interaction's channel object (only the id
 * when Discord sent no object). false when the interaction names no channel. */
bool cmd_here_channel(const struct cmd_ctx *ctx, struct cmd_channel *out);
/* The nth attachment of a MESSAGE command's target message (0-based). */
bool cmd_target_attachment(const struct cmd_ctx *ctx, size_t n, struct cmd_attachment *out);
/* The text of a MESSAGE command's target message; NULL when it has none. */
const char *cmd_target_content(const struct cmd_ctx *ctx);

/* ---- components and autocomplete ---- */

/* The nth ':'-separated argument of a component's custom_id after "command:action" (0-based),
 * copied into out (out_size bytes). false when there is none or it does not fit. */
bool cmd_component_arg(const struct cmd_ctx *ctx, size_t n, char *out, size_t out_size);
/* The nth value chosen in a select menu (borrowed), or NULL. */
const char *cmd_component_value(const struct cmd_ctx *ctx, size_t n);
/* The text of the message carrying the component, or NULL. */
const char *cmd_component_message_content(const struct cmd_ctx *ctx);

/* Autocomplete: the option being typed and what has been typed so far (both borrowed; the
 * text is "" when nothing was typed yet). false when no option is focused. */
bool cmd_focused(const struct cmd_ctx *ctx, const char **name, const char **typed);
/* Adds a suggestion: a name shown (cut to 100 characters on a character boundary) and its
 * string value (at most 100 characters, else refused). SLIMY_ETOOBIG past Discord's 25. */
enum slimy_status cmd_suggest(struct cmd_ctx *ctx, const char *name, const char *value);
/* Suggests the focused option's declared choices whose name or value holds what was typed
 * (ignoring ASCII case): what a leaf without its own autocomplete gets. */
enum slimy_status cmd_suggest_declared(struct cmd_ctx *ctx);

/* Sets the reply text (printf format) and returns SLIMY_OK, or a status if it did not fit. */
enum slimy_status cmd_reply(struct cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sets the user-facing failure text and returns rc, so a handler can `return cmd_fail(...)`. */
enum slimy_status cmd_fail(struct cmd_ctx *ctx, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The handler's state across steps: size zeroed bytes owned by the run (freed when it ends,
 * after cleanup(state) when cleanup is not NULL). NULL when out of memory. */
void *cmd_state_new(struct cmd_ctx *ctx, size_t size, cmd_free_fn cleanup);

/* Edits the deferred reply now, while the run goes on: an interim update such as an answer
 * shown while it is being written (flows/stream_reply.h). Takes over *msg's contents (leaving it
 * empty); keep its content within MESSAGE_CONTENT_MAX_CHARS, or the rest goes out as follow-ups.
 * done(result, arg) runs exactly once, on any thread, when the edit ends, unless this returns an
 * error. Any thread. The final reply (ctx->reply, sent when the run ends) is not ordered after
 * an edit still in flight: let the last edit's done run before the step that ends the run, or
 * Discord may show the older text last. Deferred commands only (SLIMY_EINTERNAL otherwise). */
int cmd_edit_original(struct cmd_ctx *ctx, struct message *msg, discord_delivered_fn done, void *arg);

/* ---- for the await helpers (flows/await.h), not for handlers ---- */

/* Awaiting one asynchronous result. cmd_await() is called just before starting the request and
 * names the step to run next; the request's callback later calls cmd_resume() exactly once,
 * from any thread, with its result (taken over: result_free(result) runs after that step). If
 * the request could not start, call cmd_await_cancel() and return its status instead. Deferred
 * commands only; the dispatcher runs `next` on a worker once both the step has returned and
 * the result is in, so a step never races with the one after it. */
enum slimy_status cmd_await(struct cmd_ctx *ctx, cmd_run_fn next); /* SLIMY_EINTERNAL if not CMD_DEFERRED */
void cmd_await_cancel(struct cmd_ctx *ctx);
void cmd_resume(struct cmd_ctx *ctx, void *result, cmd_free_fn result_free);

#endif
