/* sse.h — an incremental reader of server-sent events (text/event-stream), the format a
 * streamed chat completion comes in: bytes go in as the network delivers them, cut anywhere (in
 * the middle of a line, of a "\r\n", of a character), and each complete event comes out once,
 * as the text of its data lines.
 *
 *     struct sse_parser p;
 *     sse_init(&p, 64 * 1024);
 *     while (more bytes)  rc = sse_feed(&p, bytes, len, on_event, arg);
 *     sse_cleanup(&p);
 *
 * The rules kept are the HTML standard's for a client that reads only data: a line ends at
 * "\r\n", "\n" or "\r"; a line starting with ':' is a comment (": keepalive"); "data: x" and
 * "data:x" both give "x" (one space after the colon is dropped); the data lines of one event are
 * joined by "\n"; an empty line ends the event, which is handed on only when it had a data line;
 * other fields (event, id, retry) and a leading byte order mark are ignored. An event still open
 * when the stream ends is never handed on (sse_feed() has no end marker to act on): the caller
 * decides what a stream that stopped early means. Pure and allocation-bounded; one parser belongs
 * to one thread at a time. */
#ifndef SLIMY_AI_SSE_H
#define SLIMY_AI_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

/* One complete event: data[0..len) (NUL-terminated too) is borrowed for the call. Return 0 to
 * go on; anything else stops sse_feed(), which returns it. */
typedef int (*sse_event_fn)(const char *data, size_t len, void *arg);

struct sse_parser {
    struct buf line; /* the line being read, without its end */
    struct buf data; /* the event's data lines so far, each followed by "\n" */
    bool has_data;   /* the event being read had a data line */
    bool after_cr;   /* the last byte ended a line with '\r': a '\n' next is part of that end */
    bool started;    /* a line was read: a byte order mark is only skipped on the first */
};

/* Prepares p (allocates nothing). max_event_bytes caps a line and an event's data alike. */
void sse_init(struct sse_parser *p, size_t max_event_bytes);

/* Reads len more bytes, calling on_event for each event they complete, in order. Returns
 * SLIMY_OK; SLIMY_ETOOBIG when a line or an event grows past the cap; SLIMY_ENOMEM; or the first
 * non-zero value on_event returned. After an error the parser must not be fed again. */
int sse_feed(struct sse_parser *p, const char *bytes, size_t len, sse_event_fn on_event, void *arg);

/* Frees what p holds and leaves it ready to read a new stream with the same cap. */
void sse_cleanup(struct sse_parser *p);

#endif
