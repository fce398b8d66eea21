/* test_sse.c — unit tests of src/ai/sse.c (server-sent events) and src/ai/chat_stream.c (a
 * streamed chat completion read from them): a stream cut at every possible place (one cut and
 * every pair of cuts) reads exactly like the stream in one piece; "\r\n", "\r" and "\n" line
 * ends, even a "\r\n" split between two reads; comments and other fields skipped; data lines
 * joined; [DONE] and a finish_reason completing the reply, a stream that stops early staying
 * open; an error event, an event that is not JSON and one past the cap failing it; UTF-8 held
 * back while a character is split (between reads or between two pieces of the reply) and
 * malformed bytes cleaned. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ai/chat_stream.h"
#include "ai/sse.h"
#include "core/status.h"
#include "core/utf8.h"

#define CAP (64 * 1024)

/* ---- the SSE reader ---- */

struct events {
    char text[4096]; /* each event's data followed by '|' */
    size_t n;
};

static int collect(const char *data, size_t len, void *arg)
{
    struct events *e = arg;
    size_t used = strlen(e->text);
    assert_true(used + len + 2 < sizeof e->text);
    assert_int_equal(data[len], '\0'); /* NUL-terminated as promised */
    memcpy(e->text + used, data, len);
    e->text[used + len] = '|';
    e->text[used + len + 1] = '\0';
    e->n++;
    return 0;
}

/* The events of stream fed in pieces cut at `cuts` (ascending offsets, n_cuts of them). */
static void read_events(const char *stream, const size_t *cuts, size_t n_cuts, struct events *e)
{
    memset(e, 0, sizeof *e);
    struct sse_parser p;
    sse_init(&p, CAP);
    size_t len = strlen(stream), at = 0;
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t end = i < n_cuts ? cuts[i] : len;
        assert_int_equal(sse_feed(&p, stream + at, end - at, collect, e), SLIMY_OK);
        at = end;
    }
    sse_cleanup(&p);
}

static void events_of_a_plain_stream(void **state)
{
    (void)state;
    struct events e;
    read_events("data: one\n\ndata:two\n\n", NULL, 0, &e);
    assert_string_equal(e.text, "one|two|");
    assert_int_equal(e.n, 2);
}

static void every_line_end_and_a_split_crlf(void **state)
{
    (void)state;
    struct events e;
    read_events("data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\n\r\n", NULL, 0, &e);
    assert_string_equal(e.text, "a|b|c|d|");
    size_t cut[] = {8}; /* between the "\r" and the "\n" of the first line end */
    read_events("data: a\r\n\r\ndata: b\r\n\r\n", cut, 1, &e);
    assert_string_equal(e.text, "a|b|");
    assert_int_equal(e.n, 2); /* the split "\r\n" is one line end, not an empty line */
}

static void comments_fields_and_multiline_data(void **state)
{
    (void)state;
    struct events e;
    read_events(": keepalive\n\nevent: message\nid: 7\nretry: 10\ndata: first\ndata:second\ndata\n"
                "data:  two spaces\nunknown: x\n\n: only a comment\n\nevent: ping\n\n",
                NULL, 0, &e);
    /* A comment-only or data-less event is no event; data lines are joined by "\n"; "data" with
     * no colon is an empty line of data; only the first space after the colon goes. */
    assert_string_equal(e.text, "first\nsecond\n\n two spaces|");
    assert_int_equal(e.n, 1);
    read_events("\xEF\xBB\xBF"
                "data: after a byte order mark\n\n",
                NULL, 0, &e);
    assert_string_equal(e.text, "after a byte order mark|");
    read_events("data: empty follows\n\ndata:\n\n", NULL, 0, &e);
    assert_string_equal(e.text, "empty follows||");
}

static void an_unfinished_event_is_not_handed_on(void **state)
{
    (void)state;
    struct events e;
    read_events("data: whole\n\ndata: half", NULL, 0, &e);
    assert_string_equal(e.text, "whole|");
    read_events("data: no blank line yet\n", NULL, 0, &e);
    assert_int_equal(e.n, 0);
}

static int stop_at_second(const char *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    return ++*(int *)arg == 2 ? 42 : 0;
}

static void a_callback_stops_the_reader_and_caps_hold(void **state)
{
    (void)state;
    int seen = 0;
    struct sse_parser p;
    sse_init(&p, CAP);
    assert_int_equal(sse_feed(&p, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27, stop_at_second, &seen), 42);
    assert_int_equal(seen, 2);
    sse_cleanup(&p);

    struct events e = {0};
    sse_init(&p, 16);
    assert_int_equal(sse_feed(&p, "data: 0123456789abcdef", 22, collect, &e), SLIMY_ETOOBIG); /* a line */
    sse_cleanup(&p);
    sse_init(&p, 16);
    assert_int_equal(sse_feed(&p, "data: 0123456789\ndata: 0123456789\n", 34, collect, &e), SLIMY_ETOOBIG); /* data */
    sse_cleanup(&p);
    assert_int_equal(e.n, 0);
}

/* ---- the chat completion read from it ---- */

#define CHUNK(content) \
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" content "\"},\"finish_reason\":null}]}\n\n"

/* Several events, CRLF and LF mixed, a comment, a role-only delta, a usage event, UTF-8 pieces. */
static const char STREAM[] =
    ": keepalive\r\n\r\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}\r\n\r\n" CHUNK(
        "Hello")
        CHUNK(
            ", snail") "data: {\"choices\":[{\"delta\":{\"content\":\" \\u00e9t\u00e9 \xF0\x9F\x90\x8C\"}}]}\n\n"
                       ": still there\n\n" CHUNK(
                           "!\\nBye.") "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                                       "data: {\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n"
                                       "data: [DONE]\n\n";
#define STREAM_TEXT "Hello, snail été 🐌!\nBye."

struct reading {
    enum chat_stream_state state;
    char text[256];
    char finish_reason[32];
    char error[CHAT_STREAM_ERROR_MAX + 1];
};

/* Reads bytes[0..len) cut at `cuts`, checking after each piece that the text is valid UTF-8 and
 * only ever grows; ends the stream when `end` is set. */
static void read_chat(const char *bytes, size_t len, const size_t *cuts, size_t n_cuts, bool end, struct reading *out)
{
    struct chat_stream s;
    chat_stream_init(&s, CAP);
    size_t at = 0, before = 0;
    char seen[256] = "";
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t stop = i < n_cuts ? cuts[i] : len;
        chat_stream_feed(&s, bytes + at, stop - at);
        at = stop;
        size_t tlen;
        const char *text = chat_stream_text(&s, &tlen);
        assert_true(utf8_valid(text, tlen));
        assert_true(tlen >= before);
        assert_memory_equal(text, seen, before); /* what was passed on never changes */
        assert_true(tlen < sizeof seen);
        memcpy(seen, text, tlen);
        before = tlen;
    }
    if (end)
        chat_stream_end(&s);
    size_t tlen;
    const char *text = chat_stream_text(&s, &tlen);
    assert_true(tlen < sizeof out->text);
    memcpy(out->text, text, tlen);
    out->text[tlen] = '\0';
    out->state = s.state;
    snprintf(out->finish_reason, sizeof out->finish_reason, "%s", s.finish_reason ? s.finish_reason : "");
    snprintf(out->error, sizeof out->error, "%s", s.error);
    chat_stream_cleanup(&s);
}

static void a_whole_stream_gives_the_reply(void **state)
{
    (void)state;
    struct reading r;
    read_chat(STREAM, strlen(STREAM), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_COMPLETE);
    assert_string_equal(r.text, STREAM_TEXT);
    assert_string_equal(r.finish_reason, "stop");
}

static void every_cut_reads_the_same(void **state)
{
    (void)state;
    size_t len = strlen(STREAM);
    struct reading r;
    for (size_t i = 0; i <= len; i++) { /* one cut anywhere */
        read_chat(STREAM, len, &i, 1, true, &r);
        assert_int_equal(r.state, CHAT_STREAM_COMPLETE);
        assert_string_equal(r.text, STREAM_TEXT);
        assert_string_equal(r.finish_reason, "stop");
    }
    for (size_t i = 0; i <= len; i += 3) /* two cuts: every third first cut, every second one */
        for (size_t j = i; j <= len; j++) {
            size_t cuts[] = {i, j};
            read_chat(STREAM, len, cuts, 2, true, &r);
            assert_string_equal(r.text, STREAM_TEXT);
            assert_int_equal(r.state, CHAT_STREAM_COMPLETE);
        }
    size_t every[sizeof STREAM]; /* one byte at a time */
    for (size_t i = 0; i < len; i++)
        every[i] = i;
    read_chat(STREAM, len, every, len, true, &r);
    assert_string_equal(r.text, STREAM_TEXT);
}

static void done_alone_or_finish_reason_alone_completes(void **state)
{
    (void)state;
    struct reading r;
    const char done_only[] = CHUNK("Hi") "data: [DONE]\n\n" CHUNK(" ignored after the end");
    read_chat(done_only, strlen(done_only), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_COMPLETE);
    assert_string_equal(r.text, "Hi");
    assert_string_equal(r.finish_reason, "");
    const char reason_only[] =
        CHUNK("Hi") "data: {\"choices\":[{\"delta\":{\"content\":\" there\"},\"finish_reason\":\"length\"}]}\n\n";
    read_chat(reason_only, strlen(reason_only), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_COMPLETE);
    assert_string_equal(r.text, "Hi there"); /* the last piece comes with the reason */
    assert_string_equal(r.finish_reason, "length");
}

static void a_stream_that_stops_early_stays_open(void **state)
{
    (void)state;
    struct reading r;
    const char early[] = CHUNK("Hello") CHUNK(" wor");
    read_chat(early, strlen(early), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_OPEN); /* the caller decides: the answer was cut off */
    assert_string_equal(r.text, "Hello wor");
    read_chat(early, strlen(early) - 3, NULL, 0, true, &r); /* mid-event */
    assert_int_equal(r.state, CHAT_STREAM_OPEN);
    assert_string_equal(r.text, "Hello");
}

static void errors_and_bad_json_fail_the_stream(void **state)
{
    (void)state;
    struct reading r;
    const char nested[] = CHUNK("Hi") "data: {\"error\":{\"message\":\"The server had an error\",\"type\":"
                                      "\"server_error\",\"code\":null}}\n\n" CHUNK(" more");
    read_chat(nested, strlen(nested), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_FAILED);
    assert_string_equal(r.error, "The server had an error");
    assert_string_equal(r.text, "Hi"); /* nothing after the failure */
    const char text_error[] = "data: {\"error\":\"overloaded\"}\n\n";
    read_chat(text_error, strlen(text_error), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_FAILED);
    assert_string_equal(r.error, "overloaded");
    const char flat[] = "data: {\"object\":\"error\",\"message\":\"bad\",\"code\":400}\n\n";
    read_chat(flat, strlen(flat), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_FAILED);
    assert_string_equal(r.error, "bad");
    const char not_json[] = CHUNK("Hi") "data: {\"choices\":[{\"delta\":{\"content\":\"x\"\n\n" CHUNK(" more");
    read_chat(not_json, strlen(not_json), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_FAILED);
    assert_string_equal(r.error, "the AI server sent a malformed answer");
    assert_string_equal(r.text, "Hi");
    const char null_error[] = "data: {\"error\":null,\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\n";
    read_chat(null_error, strlen(null_error), NULL, 0, true, &r);
    assert_int_equal(r.state, CHAT_STREAM_OPEN); /* "error": null is no error */
    assert_string_equal(r.text, "ok");
}

static void an_event_past_the_cap_fails(void **state)
{
    (void)state;
    struct chat_stream s;
    chat_stream_init(&s, 64);
    const char big[] = CHUNK("this piece and its JSON are longer than sixty-four bytes");
    assert_int_equal(chat_stream_feed(&s, big, strlen(big)), CHAT_STREAM_FAILED);
    assert_string_equal(s.error, "the answer was too long");
    chat_stream_cleanup(&s);
}

static void a_character_split_between_pieces_waits(void **state)
{
    (void)state;
    /* Some local servers send a token that ends inside a character: the snail's 4 bytes in two pieces. */
    const char split[] = CHUNK("a\xF0\x9F") CHUNK("\x90\x8C"
                                                  "b") "data: [DONE]\n\n";
    size_t first = strlen(CHUNK("a\xF0\x9F"));
    struct chat_stream s;
    chat_stream_init(&s, CAP);
    chat_stream_feed(&s, split, first);
    size_t len;
    assert_string_equal(chat_stream_text(&s, &len), "a"); /* the half character is held back */
    chat_stream_feed(&s, split + first, strlen(split) - first);
    assert_string_equal(chat_stream_text(&s, &len), "a🐌b");
    assert_int_equal(s.state, CHAT_STREAM_COMPLETE);
    assert_false(s.is_cleaned);
    chat_stream_cleanup(&s);

    struct reading r;
    const char never_whole[] = CHUNK("x\xE2\x82");
    read_chat(never_whole, strlen(never_whole), NULL, 0, true, &r);
    assert_string_equal(r.text, "x??"); /* the stream ended inside it */
    const char malformed[] = CHUNK("\xC0\xAF ok \xFF") CHUNK("\xE2\x82"
                                                             "A");
    read_chat(malformed, strlen(malformed), NULL, 0, false, &r);
    assert_string_equal(r.text, "?? ok ???A");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_of_a_plain_stream),
        cmocka_unit_test(every_line_end_and_a_split_crlf),
        cmocka_unit_test(comments_fields_and_multiline_data),
        cmocka_unit_test(an_unfinished_event_is_not_handed_on),
        cmocka_unit_test(a_callback_stops_the_reader_and_caps_hold),
        cmocka_unit_test(a_whole_stream_gives_the_reply),
        cmocka_unit_test(every_cut_reads_the_same),
        cmocka_unit_test(done_alone_or_finish_reason_alone_completes),
        cmocka_unit_test(a_stream_that_stops_early_stays_open),
        cmocka_unit_test(errors_and_bad_json_fail_the_stream),
        cmocka_unit_test(an_event_past_the_cap_fails),
        cmocka_unit_test(a_character_split_between_pieces_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
