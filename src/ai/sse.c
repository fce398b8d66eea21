/* sse.c — the server-sent events reader; see sse.h. Bytes are scanned once: ordinary bytes
 * collect in the line buffer, a line end hands the line to line_done(), which fills the event's
 * data or, on an empty line, hands the event on. */
#include "ai/sse.h"

#include <string.h>

#include "core/status.h"

#define BOM "\xEF\xBB\xBF"

void sse_init(struct sse_parser *p, size_t max_event_bytes)
{
    memset(p, 0, sizeof *p);
    buf_init(&p->line, max_event_bytes);
    buf_init(&p->data, max_event_bytes);
}

void sse_cleanup(struct sse_parser *p)
{
    buf_cleanup(&p->line);
    buf_cleanup(&p->data);
    p->has_data = p->after_cr = p->started = false;
}

/* The event is complete: hands its data on without the last "\n", then forgets it. */
static int dispatch(struct sse_parser *p, sse_event_fn on_event, void *arg)
{
    int rc = SLIMY_OK;
    if (p->has_data) {
        size_t len = p->data.len ? p->data.len - 1 : 0;
        if (p->data.data)
            p->data.data[len] = '\0';
        rc = on_event(p->data.data ? p->data.data : "", len, arg);
    }
    p->data.len = 0;
    if (p->data.data)
        p->data.data[0] = '\0';
    p->has_data = false;
    return rc;
}

/* One whole line, without its end. */
static int line_done(struct sse_parser *p, sse_event_fn on_event, void *arg)
{
    const char *line = p->line.data ? p->line.data : "";
    size_t len = p->line.len;
    p->line.len = 0;
    if (!p->started) {
        p->started = true;
        if (len >= 3 && memcmp(line, BOM, 3) == 0) {
            line += 3;
            len -= 3;
        }
    }
    if (len == 0)
        return dispatch(p, on_event, arg);
    if (line[0] == ':')
        return SLIMY_OK; /* a comment: servers send them to keep the connection alive */
    const char *colon = memchr(line, ':', len);
    size_t name_len = colon ? (size_t)(colon - line) : len;
    if (name_len != 4 || memcmp(line, "data", 4) != 0)
        return SLIMY_OK; /* event, id, retry and unknown fields mean nothing to a data reader */
    const char *value = colon ? colon + 1 : line + len;
    if (value < line + len && *value == ' ')
        value++;
    p->has_data = true;
    int rc = buf_append(&p->data, value, (size_t)(line + len - value));
    return rc ? rc : buf_append(&p->data, "\n", 1);
}

int sse_feed(struct sse_parser *p, const char *bytes, size_t len, sse_event_fn on_event, void *arg)
{
    size_t i = 0;
    while (i < len) {
        char c = bytes[i];
        if (c == '\n' && p->after_cr) { /* the second half of a "\r\n" split across two reads */
            p->after_cr = false;
            i++;
            continue;
        }
        p->after_cr = false;
        if (c == '\r' || c == '\n') {
            p->after_cr = c == '\r';
            i++;
            int rc = line_done(p, on_event, arg);
            if (rc)
                return rc;
            continue;
        }
        /* A run of ordinary bytes goes into the line at once. */
        size_t end = i;
        while (end < len && bytes[end] != '\r' && bytes[end] != '\n')
            end++;
        int rc = buf_append(&p->line, bytes + i, end - i);
        if (rc)
            return rc;
        i = end;
    }
    return SLIMY_OK;
}
