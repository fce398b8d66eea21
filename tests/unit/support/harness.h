/* harness.h — runs commands through the real dispatcher for unit tests, and records replies.
 *
 * A harness is a whole Slimy minus the HTTP server and the network: the real dispatcher, a
 * fresh SQLite store in a temporary directory, in-process shared state, the worker pool, and a
 * recording reply sink in place of Discord's webhook. A test builds an interaction (who, where,
 * which command, which options), harness_call() signs and dispatches it like Discord would and
 * returns the reply: the type-4 answer of an immediate command, or the message a deferred one
 * delivered to the sink. AI commands talk to whatever OpenAI-compatible server
 * harness_options.openai_base_url names (a scripted fake in tests).
 *
 *     struct harness *h = harness_start(NULL);          (the real command registry)
 *     struct harness_reply r;
 *     harness_call(h, &(struct harness_call){.name = "remember",
 *                  .options = "[{\"name\":\"note\",\"type\":3,\"value\":\"milk\"}]"}, &r);
 *     assert_string_equal(r.content, "...");
 *     harness_reply_cleanup(&r);
 *     harness_stop(h);
 *
 * Each call gets a fresh interaction id, so dedupe never merges two calls; the user defaults to
 * HARNESS_USER, the guild to HARNESS_GUILD and the channel to HARNESS_CHANNEL.
 *
 * Buttons, select menus and autocomplete go the same way: .type = HARNESS_COMPONENT with the
 * .custom_id (and .values, .message) Discord would send back, or .type = HARNESS_AUTOCOMPLETE with
 * the options (one of them "focused"); the reply then holds the message's components or the
 * suggested choices. */
#ifndef SLIMY_TESTS_HARNESS_H
#define SLIMY_TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "interactions/command.h"
#include "store/store.h"

#define HARNESS_USER "100000000000000001"
#define HARNESS_GUILD "200000000000000002"
#define HARNESS_CHANNEL "300000000000000003"
#define HARNESS_ADMIN_PERMISSIONS "8" /* Administrator */

/* harness_call.type: Discord's interaction types (0 means an application command). */
#define HARNESS_COMPONENT 3
#define HARNESS_AUTOCOMPLETE 4
#define HARNESS_MODAL_SUBMIT 5
/* harness_call.context: leave "context" out of the body. */
#define HARNESS_NO_CONTEXT (-1)

struct harness_options {
    const struct command *const *commands; /* NULL = the real registry */
    size_t n_commands;
    const char *openai_base_url;  /* NULL = AI not configured */
    const char *attachment_hosts; /* NULL = the default (Discord's CDN) */
    const char *personality_file; /* NULL = the repository's bot-personality.md */
    unsigned worker_threads;      /* 0 = 2 */
};

struct harness;

/* NULL when anything failed to start (the reason is printed). */
struct harness *harness_start(const struct harness_options *opt);
void harness_stop(struct harness *h);

/* The services handlers get (store for seeding and checking rows, config...). */
const struct cmd_services *harness_services(struct harness *h);
struct store *harness_store(struct harness *h);

/* One interaction. Unset fields take the defaults above; JSON fields are inserted verbatim. */
struct harness_call {
    const char *name;        /* data.name */
    int command_type;        /* 0 = 1 (chat input); 2 user, 3 message */
    const char *options;     /* data.options JSON array, or NULL (subcommands nest their own) */
    const char *resolved;    /* data.resolved JSON object, or NULL */
    const char *target_id;   /* data.target_id (user and message commands) */
    const char *user_id;     /* NULL = HARNESS_USER */
    const char *user_name;   /* NULL = "tester" */
    bool in_dm;              /* no guild, no member: a DM with the bot */
    const char *guild_id;    /* NULL = HARNESS_GUILD (ignored in a DM) */
    const char *channel_id;  /* NULL = HARNESS_CHANNEL */
    const char *channel;     /* the interaction's channel object JSON, or NULL for {"id":..,"type":0} */
    const char *permissions; /* member.permissions; NULL = "0" */
    const char *id;          /* the interaction id; NULL = a fresh one */

    int type;              /* the interaction type: 0 = 2 (application command); HARNESS_COMPONENT, ... */
    const char *custom_id; /* components: data.custom_id (no data.name is sent) */
    int component_type;    /* components: data.component_type; 0 = 2 (button), 3 = string select */
    const char *values;    /* components: data.values JSON array (a select menu's choice), or NULL */
    const char *message;   /* components: the message carrying the component, JSON object, or NULL */
    int context;           /* 0 = as before (0 in a server, 1 in a DM); HARNESS_NO_CONTEXT; else sent as is */
    const char *owners;    /* authorizing_integration_owners JSON object; NULL = absent (a guild install) */
};

/* What Slimy answered. For a deferred command: the deferral type and the delivered message. */
struct harness_reply {
    int http_status;   /* of the POST /interactions */
    int type;          /* the interaction response type: 4 immediate, 5 deferred, 6 deferred update,
                          7 update, 8 autocomplete suggestions */
    bool is_delivered; /* a deferred reply (type 5 or 6) reached the sink */
    char *content;     /* the message text ("" when none) */
    unsigned flags;    /* message flags (64 = ephemeral) */
    cJSON *embeds;     /* owned array, or NULL */
    size_t n_files;
    struct {
        char name[128];
        char content_type[64];
        size_t len;
    } files[10];
    cJSON *components;          /* owned array of action rows (of type 4/7's data, or the delivered message), or NULL */
    cJSON *choices;             /* owned: type 8's data.choices, or NULL */
    char *raw;                  /* the HTTP response body */
    char *text;                 /* harness_reply_text()'s, once asked for */
    uint64_t delivered_mono_ms; /* when the sink got the message (clock_mono_ms()) */
};

/* Dispatches call and waits (up to 10 s) for a deferred reply (type 5 or 6). SLIMY_OK, or SLIMY_ETIMEOUT when a
 * deferred reply never came (r still holds the HTTP answer). */
int harness_call(struct harness *h, const struct harness_call *call, struct harness_reply *r);
void harness_reply_cleanup(struct harness_reply *r);

/* For a run that edits its reply before it ends (cmd_edit_original(): a streamed /chat), where
 * the sink gets several messages for one interaction. harness_call_final() is harness_call()
 * that then waits (up to 10 s) until no job is queued or running and returns the last message
 * delivered for the call: the final reply. harness_deliveries_of() counts the messages the sink
 * got for an interaction id, and harness_delivery() copies the nth (0 = first) into r (cleaned
 * up by the caller); false past the last. */
int harness_call_final(struct harness *h, const struct harness_call *call, struct harness_reply *r);
size_t harness_deliveries_of(struct harness *h, const char *interaction_id);
bool harness_delivery(struct harness *h, const char *interaction_id, size_t n, struct harness_reply *r);

/* Embed helpers: the title, the description, the value of the field named `name` and the footer
 * text of embed number i; NULL when absent. */
const char *harness_embed_title(const struct harness_reply *r, size_t i);
const char *harness_embed_description(const struct harness_reply *r, size_t i);
const char *harness_embed_field(const struct harness_reply *r, size_t i, const char *name);
const char *harness_embed_footer(const struct harness_reply *r, size_t i);

/* Every text of the reply (content, embed titles, descriptions, field names and values)
 * joined by newlines, for "does it mention X" checks. Owned by r. */
const char *harness_reply_text(struct harness_reply *r);

/* Deferred replies delivered so far, in total. */
size_t harness_deliveries(struct harness *h);

/* ---- conveniences for cmocka tests (the ones that check fail the test when the store does) ---- */

/* Setup and teardown for a test that needs only the real registry: *state is the harness. */
int harness_setup(void **state);
int harness_teardown(void **state);
/* A test list entry with that setup and teardown. */
#define HARNESS_TEST(f) cmocka_unit_test_setup_teardown(f, harness_setup, harness_teardown)

/* harness_call(), checking Slimy deferred the call (HTTP 200, type 5) and the reply was delivered. */
void harness_call_deferred(struct harness *h, const struct harness_call *call, struct harness_reply *r);

/* A message command (Apps → name) on the message HARNESS_MESSAGE_ID, as user_id (NULL =
 * HARNESS_USER). fields are the message object's JSON members after its id, or NULL for none:
 *     harness_call_on_message(h, "Ask Slimy", NULL, "\"content\":\"hi\"", &r) */
#define HARNESS_MESSAGE_ID "600000000000000006"
int harness_call_on_message(struct harness *h, const char *name, const char *user_id, const char *fields,
                            struct harness_reply *r);

/* The component of a reply whose custom_id is custom_id (in any row), or NULL. */
const cJSON *harness_component(const struct harness_reply *r, const char *custom_id);
/* Choice i's name and value of a type-8 reply; NULL when absent. */
const char *harness_choice_name(const struct harness_reply *r, size_t i);
const char *harness_choice_value(const struct harness_reply *r, size_t i);

/* The number of memories of user_id in scope_id (NULL = every scope), up to 100. */
size_t harness_count_memories(struct harness *h, const char *user_id, const char *scope_id);
/* store_counts() of the harness's store. */
struct store_counts harness_counts(struct harness *h);

/* A data.options JSON array of string options (type 3), values JSON-escaped, from name, value
 * pairs ended by a NULL name; a pair whose value is NULL is left out. The caller frees it.
 *     harness_string_options("note", "buy milk", "tags", NULL, NULL) */
char *harness_string_options(const char *name, const char *value, ...);

#endif
