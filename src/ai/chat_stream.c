/* chat_stream.c — reading a streamed chat completion; see chat_stream.h. The SSE reader hands
 * each event to on_event(), which reads its JSON; the text pieces go through add_text(), which
 * holds back a character's first bytes until the rest has come. */
#include "ai/chat_stream.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/status.h"
#include "core/utf8.h"

void chat_stream_init(struct chat_stream *s, size_t max_bytes)
{
    memset(s, 0, sizeof *s);
    sse_init(&s->sse, max_bytes);
    buf_init(&s->text, max_bytes);
}

void chat_stream_cleanup(struct chat_stream *s)
{
    sse_cleanup(&s->sse);
    buf_cleanup(&s->text);
    free(s->finish_reason);
    s->finish_reason = NULL;
}

void chat_stream_reset(struct chat_stream *s)
{
    size_t max_bytes = s->text.max_bytes;
    chat_stream_cleanup(s);
    chat_stream_init(s, max_bytes);
}

const char *chat_stream_text(const struct chat_stream *s, size_t *len)
{
    *len = s->text.len;
    return s->text.data ? s->text.data : "";
}

static void fail(struct chat_stream *s, const char *why)
{
    if (s->state == CHAT_STREAM_FAILED)
        return;
    s->state = CHAT_STREAM_FAILED;
    utf8_copy_clean(s->error, sizeof s->error, why, strlen(why));
}

/* Bytes at the end of b[0..len) that begin a multibyte character not yet whole (0-3). Whether
 * they are well-formed is left to the cleaning once the character is complete. */
static size_t incomplete_tail(const unsigned char *b, size_t len)
{
    for (size_t back = 1; back <= 3 && back <= len; back++) {
        unsigned char c = b[len - back];
        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: the character began further back */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

/* Appends b[0..len) as valid UTF-8: malformed bytes become '?'. */
static void append_clean(struct chat_stream *s, const char *b, size_t len)
{
    int rc;
    if (utf8_valid(b, len)) {
        rc = buf_append(&s->text, b, len);
    } else {
        s->is_cleaned = true;
        char *clean = malloc(len + 1); /* one '?' per malformed byte: never longer */
        rc = clean ? buf_append(&s->text, clean, utf8_copy_clean(clean, len + 1, b, len)) : SLIMY_ENOMEM;
        free(clean);
    }
    if (rc)
        fail(s, rc == SLIMY_ETOOBIG ? "the answer was too long" : "out of memory");
}

/* A piece of the reply: what is whole is appended, a character's first bytes are held back. */
static void add_text(struct chat_stream *s, const char *piece, size_t len)
{
    size_t total = s->n_held + len;
    unsigned char *joined = malloc(total ? total : 1);
    if (!joined) {
        fail(s, "out of memory");
        return;
    }
    memcpy(joined, s->held, s->n_held);
    memcpy(joined + s->n_held, piece, len);
    size_t tail = incomplete_tail(joined, total);
    append_clean(s, (const char *)joined, total - tail);
    memcpy(s->held, joined + total - tail, tail);
    s->n_held = tail;
    free(joined);
}

void chat_stream_end(struct chat_stream *s)
{
    if (s->n_held && s->state != CHAT_STREAM_FAILED) {
        s->is_cleaned = true;
        static const char marks[] = "???";
        append_clean(s, marks, s->n_held); /* a character that never became whole */
    }
    s->n_held = 0;
}

/* When root is an error in one of the shapes servers use, words it into s and returns true. */
static bool read_error(struct chat_stream *s, const cJSON *root)
{
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
    const cJSON *object = cJSON_GetObjectItemCaseSensitive(root, "object");
    bool is_flat = cJSON_IsString(object) && strcmp(object->valuestring, "error") == 0;
    if ((!err || cJSON_IsNull(err)) && !is_flat)
        return false;
    const cJSON *holder = cJSON_IsObject(err) ? err : root;
    const cJSON *m = cJSON_IsString(err) ? err : cJSON_GetObjectItemCaseSensitive(holder, "message");
    fail(s, cJSON_IsString(m) && *m->valuestring ? m->valuestring : "the AI server had an error");
    return true;
}

static void read_chunk(struct chat_stream *s, const cJSON *root)
{
    const cJSON *choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(choice, "delta");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
    const cJSON *finish_reason = cJSON_GetObjectItemCaseSensitive(choice, "finish_reason");
    if (cJSON_IsString(content))
        add_text(s, content->valuestring, strlen(content->valuestring));
    if (s->state == CHAT_STREAM_OPEN && cJSON_IsString(finish_reason)) {
        size_t len = strlen(finish_reason->valuestring);
        if (!utf8_valid(finish_reason->valuestring, len))
            s->is_cleaned = true;
        s->finish_reason = malloc(len + 1);
        if (!s->finish_reason) {
            fail(s, "out of memory");
            return;
        }
        utf8_copy_clean(s->finish_reason, len + 1, finish_reason->valuestring, len);
        s->state = CHAT_STREAM_COMPLETE;
    }
}

static int on_event(const char *data, size_t len, void *arg)
{
    struct chat_stream *s = arg;
    if (s->state != CHAT_STREAM_OPEN)
        return -1; /* nothing after the end counts: stop reading */
    if (len == 6 && memcmp(data, "[DONE]", 6) == 0) {
        s->state = CHAT_STREAM_COMPLETE;
        return -1;
    }
    cJSON *root = cJSON_ParseWithLength(data, len);
    if (!root)
        fail(s, "the AI server sent a malformed answer");
    else if (!read_error(s, root))
        read_chunk(s, root);
    cJSON_Delete(root);
    return s->state == CHAT_STREAM_OPEN ? 0 : -1;
}

enum chat_stream_state chat_stream_feed(struct chat_stream *s, const char *bytes, size_t len)
{
    if (s->state != CHAT_STREAM_OPEN)
        return s->state;
    int rc = sse_feed(&s->sse, bytes, len, on_event, s);
    if (rc == SLIMY_ETOOBIG)
        fail(s, "the answer was too long");
    else if (rc == SLIMY_ENOMEM)
        fail(s, "out of memory");
    if (s->state == CHAT_STREAM_COMPLETE)
        chat_stream_end(s);
    return s->state;
}
