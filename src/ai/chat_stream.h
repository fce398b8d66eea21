/* chat_stream.h — reading a streamed chat completion ("stream": true on /chat/completions): the
 * bytes of the text/event-stream answer go in as they arrive, and out come the reply so far, as
 * valid UTF-8, and whether the stream is complete, still open, or failed.
 *
 * Each event (sse.h) is "data: {json}" carrying choices[0].delta.content, a piece of the reply;
 * a finish_reason in choices[0] or the event "data: [DONE]" completes the stream. Events without
 * choices (a usage summary), a role-only or null delta are read and skipped. An event holding an
 * error ({"error":{"message":..}}, {"error":"text"} or the flat {"object":"error","message":..})
 * fails the stream with the server's message; so does an event that is not JSON. Nothing after the
 * stream completed or failed changes it.
 *
 * Text is kept valid UTF-8 whatever the server sends: a character whose bytes are split across
 * two pieces (or two reads) is held back until it is whole, and malformed bytes become '?'.
 * Pure; one reader belongs to one thread at a time. */
#ifndef SLIMY_AI_CHAT_STREAM_H
#define SLIMY_AI_CHAT_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "ai/sse.h"
#include "core/buf.h"

#define CHAT_STREAM_ERROR_MAX 300 /* bytes of an error message kept, cut on a character boundary */

enum chat_stream_state {
    CHAT_STREAM_OPEN,     /* reading: the reply may still grow */
    CHAT_STREAM_COMPLETE, /* a finish_reason or [DONE] came: the reply is whole */
    CHAT_STREAM_FAILED,   /* an error event, an event that is not JSON, or past the caps: see error */
};

struct chat_stream {
    struct sse_parser sse;
    struct buf text;       /* the reply so far: valid UTF-8, NUL-terminated once not empty */
    unsigned char held[4]; /* the first bytes of a character whose rest has not come yet */
    size_t n_held;         /* 0-3 */
    char *finish_reason;   /* as sent (cleaned of malformed UTF-8), or NULL */
    enum chat_stream_state state;
    bool is_cleaned;                       /* malformed UTF-8 was replaced with '?' */
    char error[CHAT_STREAM_ERROR_MAX + 1]; /* FAILED: why, fit to show a user */
};

/* Prepares s (allocates nothing). max_bytes caps the reply and each event alike. */
void chat_stream_init(struct chat_stream *s, size_t max_bytes);
/* Reads len more bytes of the answer; returns the state afterwards. */
enum chat_stream_state chat_stream_feed(struct chat_stream *s, const char *bytes, size_t len);
/* The answer ended: a character still held back incomplete becomes '?'. */
void chat_stream_end(struct chat_stream *s);
/* The reply so far ("" when none) and its length in bytes. */
const char *chat_stream_text(const struct chat_stream *s, size_t *len);
/* Frees what s holds and prepares it for another answer with the same cap. */
void chat_stream_reset(struct chat_stream *s);
void chat_stream_cleanup(struct chat_stream *s);

#endif
