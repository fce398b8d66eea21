/* fuzz_sse.c — the streamed chat completion reader: src/ai/sse.c (server-sent events) under
 * src/ai/chat_stream.c (the events' JSON, the reply's UTF-8). The same bytes are read twice, in
 * one piece and cut into pieces, and both readings must agree (state, reply, finish_reason,
 * error, and for the SSE reader alone every event); after every piece the reply must be valid
 * UTF-8 and only ever grow. Any disagreement aborts.
 *
 * Input: byte 0 is the step between cuts (1-256), byte 1 picks the cap (small caps reach the
 * too-long paths), the rest is the answer's body. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ai/chat_stream.h"
#include "ai/sse.h"
#include "core/buf.h"
#include "core/status.h"
#include "core/utf8.h"

/* Every event as "<len>:<data>", for comparing two readings. */
static int record(const char *data, size_t len, void *arg)
{
    struct buf *b = arg;
    if (data[len] != '\0')
        abort(); /* events are NUL-terminated */
    buf_printf(b, "%zu:", len);
    buf_append(b, data, len);
    return 0;
}

static int read_events(const char *bytes, size_t len, size_t step, size_t cap, struct buf *out)
{
    struct sse_parser p;
    sse_init(&p, cap);
    int rc = SLIMY_OK;
    for (size_t at = 0; at < len && !rc; at += step)
        rc = sse_feed(&p, bytes + at, len - at < step ? len - at : step, record, out);
    sse_cleanup(&p);
    return rc;
}

/* Reads the answer in pieces of step bytes into s, checking the reply after each piece. */
static void read_reply(struct chat_stream *s, const char *bytes, size_t len, size_t step)
{
    size_t shown = 0;
    char *seen = NULL;
    for (size_t at = 0; at < len; at += step) {
        chat_stream_feed(s, bytes + at, len - at < step ? len - at : step);
        size_t tlen;
        const char *text = chat_stream_text(s, &tlen);
        if (!utf8_valid(text, tlen) || tlen < shown || (shown && memcmp(text, seen, shown) != 0))
            abort();
        free(seen);
        seen = malloc(tlen + 1);
        if (!seen)
            abort();
        memcpy(seen, text, tlen);
        shown = tlen;
    }
    free(seen);
    chat_stream_end(s);
    size_t tlen;
    const char *text = chat_stream_text(s, &tlen);
    if (!utf8_valid(text, tlen))
        abort();
}

static bool same_reply(const struct chat_stream *a, const struct chat_stream *b)
{
    size_t alen, blen;
    const char *at = chat_stream_text(a, &alen), *bt = chat_stream_text(b, &blen);
    const char *ar = a->finish_reason ? a->finish_reason : "", *br = b->finish_reason ? b->finish_reason : "";
    return a->state == b->state && alen == blen && memcmp(at, bt, alen) == 0 && strcmp(ar, br) == 0 &&
           strcmp(a->error, b->error) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t step = (size_t)data[0] + 1;
    static const size_t caps[] = {16, 64, 256, 4096, 64 * 1024};
    size_t cap = caps[data[1] % 5];
    const char *body = (const char *)data + 2;
    size_t len = size - 2;

    struct buf whole, cut;
    buf_init(&whole, 1u << 24);
    buf_init(&cut, 1u << 24);
    int rc_whole = read_events(body, len, len ? len : 1, cap, &whole);
    int rc_cut = read_events(body, len, step, cap, &cut);
    if (rc_whole != rc_cut || whole.len != cut.len || (whole.len && memcmp(whole.data, cut.data, whole.len) != 0))
        abort();
    buf_cleanup(&whole);
    buf_cleanup(&cut);

    struct chat_stream a, b;
    chat_stream_init(&a, cap);
    chat_stream_init(&b, cap);
    read_reply(&a, body, len, len ? len : 1);
    read_reply(&b, body, len, step);
    if (!same_reply(&a, &b))
        abort();
    chat_stream_reset(&a); /* and a reader is reusable */
    read_reply(&a, body, len, step);
    if (!same_reply(&a, &b))
        abort();
    chat_stream_cleanup(&a);
    chat_stream_cleanup(&b);
    return 0;
}
