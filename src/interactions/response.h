/* response.h — the JSON Slimy sends to Discord: interaction responses (the HTTP answer to
 * Discord's POST) and webhook message payloads (the body of a PATCH @original or follow-up).
 * Every message carries allowed_mentions {"parse":[]}: Slimy echoes user and model text, and
 * must never ping @everyone or a role because someone typed it. Pure; thread-safe. */
#ifndef SLIMY_INTERACTIONS_RESPONSE_H
#define SLIMY_INTERACTIONS_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "interactions/message.h"

/* Interaction callback types (Discord's values). */
enum response_type {
    RESPONSE_PONG = 1,
    RESPONSE_CHANNEL_MESSAGE = 4,
    RESPONSE_DEFERRED_CHANNEL_MESSAGE = 5,
    RESPONSE_DEFERRED_UPDATE_MESSAGE = 6, /* components: ack now, edit the message later */
    RESPONSE_UPDATE_MESSAGE = 7,          /* components: replace the message carrying the component */
    RESPONSE_AUTOCOMPLETE_RESULT = 8,
};

/* The PONG body, a static string: {"type":1}. */
extern const char RESPONSE_PONG_JSON[];

/* Returns a new JSON string (free with free()) for a type-4 response carrying m. Content past
 * 2000 characters is cut and ends with "…" (immediate replies cannot be split). NULL on ENOMEM. */
char *response_message_json(const struct message *m);

/* The same with another message-carrying type (RESPONSE_UPDATE_MESSAGE). */
char *response_message_json_typed(const struct message *m, enum response_type type);

/* Returns a new JSON string for a type-5 response; ephemeral adds flags 64. NULL on ENOMEM. */
char *response_deferred_json(bool ephemeral);
/* {"type":6}: a component acknowledged; its message is edited through the webhook later. */
char *response_deferred_update_json(void);
/* {"type":8,"data":{"choices":[...]}} with a copy of choices (NULL: none). NULL on ENOMEM. */
char *response_suggestions_json(const cJSON *choices);

/* Builds the webhook payload object for one message of a reply: `content` (len bytes, may be
 * empty), and when with_extras is set the message's embeds and the `attachments` list tying
 * files[n] to their names. `flags` is written when non-zero (follow-up POSTs need 64 for
 * ephemeral; PATCH @original must not send it). Returns a new cJSON object or NULL. */
cJSON *response_webhook_payload(const struct message *m, const char *content, size_t len, bool with_extras,
                                unsigned flags);

#endif
