/* message.h — a message Slimy sends to Discord: text, embeds, files, components and flags.
 * Handlers fill one in; response.c turns it into an interaction response (type 4) and
 * discord_rest.c into a webhook edit/follow-up (JSON or multipart). The content may be
 * longer than Discord's 2000 characters: the sender splits it (split.h).
 * A message belongs to one thread at a time. */
#ifndef SLIMY_INTERACTIONS_MESSAGE_H
#define SLIMY_INTERACTIONS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/buf.h"

#define MESSAGE_FLAG_EPHEMERAL 64u         /* Discord message flag: only the invoker sees it */
#define MESSAGE_CONTENT_MAX_CHARS 2000     /* Discord's content limit, in characters */
#define MESSAGE_TEXT_MAX_BYTES (64 * 1024) /* cap on the text a handler may produce before splitting */
#define MESSAGE_MAX_FILES 10
#define MESSAGE_MAX_EMBEDS 10
#define MESSAGE_MAX_ROWS 5 /* action rows of components */

struct message_file {
    char *filename;     /* owned, e.g. "export.json" */
    char *content_type; /* owned, e.g. "application/json" */
    char *data;         /* owned bytes */
    size_t len;         /* bytes in data */
};

struct message {
    struct buf content; /* text; may exceed 2000 characters (split on send) */
    cJSON *embeds;      /* owned JSON array of embed objects, or NULL */
    unsigned flags;     /* MESSAGE_FLAG_* bits */
    struct message_file files[MESSAGE_MAX_FILES];
    size_t n_files;
    cJSON *components; /* owned JSON array of action rows (component.h), or NULL: none sent. An
                          empty array removes the components of the message it replaces. */
};

void message_init(struct message *m);
void message_cleanup(struct message *m);

/* Replaces the text with a printf-formatted one. SLIMY_ETOOBIG past MESSAGE_TEXT_MAX_BYTES. */
int message_set_text(struct message *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int message_set_textv(struct message *m, const char *fmt, va_list ap);
/* Appends an embed; takes ownership of `embed` even on failure. SLIMY_ETOOBIG past 10 embeds. */
int message_add_embed(struct message *m, cJSON *embed);
/* Attaches a copy of data as a file. SLIMY_ETOOBIG past MESSAGE_MAX_FILES. */
int message_attach(struct message *m, const char *filename, const char *content_type, const void *data, size_t len);
/* Appends an action row (component.h); takes ownership of `row` even on failure.
 * SLIMY_ETOOBIG past MESSAGE_MAX_ROWS. */
int message_add_row(struct message *m, cJSON *row);
/* Makes the message remove the components of the one it replaces (sends "components": []). */
int message_clear_components(struct message *m);
bool message_is_empty(const struct message *m);

#endif
