/* test_openai_stream.c — unit tests of ai_chat_stream_start() (src/ai/openai.c with
 * src/ai/chat_stream.c): the real client on the real outbound engine against the scripted fake
 * server (support/fake_http.h) sending text/event-stream bodies in timed pieces. Covers the
 * request ("stream": true), the reply passed on as it grows and whole at the end, a server that
 * ignores "stream", a stream broken after text (cut off, not retried) and before any (retried
 * like a network failure), an error event, a 429 before the stream, the deadline in the middle
 * of a stream, and a character split between two reads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "ai/openai.h"
#include "ai_fixture.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fetch.h"
#include "core/log.h"
#include "core/status.h"
#include "core/utf8.h"
#include "fake_http.h"

#define WAIT_MS 10000 /* a result that takes longer is a hang */
#define CUT_OFF "the answer was cut off"

struct fixture {
    struct fake_http *server;
    struct slimy_config cfg;
    struct fetch *engine;
    struct ai_client *ai;
    pthread_mutex_t lock;
    struct ai_result *result; /* set by on_result */
    int n_results;
    /* What on_text saw: */
    int n_texts;
    char first[256], last[256];
    bool is_all_valid, is_all_growing, came_after_done;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    pthread_mutex_init(&f->lock, NULL);
    f->is_all_valid = f->is_all_growing = true;
    if (!(f->server = fake_http_start()))
        return -1;
    char base[128];
    snprintf(base, sizeof base, "%s/v1", fake_http_url(f->server));
    f->cfg.openai_base_url = strdup(base);
    f->cfg.has_openai_base_url = true;
    f->cfg.openai_model = strdup("gpt-test");
    if (!f->cfg.openai_base_url || !f->cfg.openai_model)
        return -1;
    return fetch_start(&f->engine) || ai_client_new(&f->cfg, f->engine, &f->ai) ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fetch_free(f->engine);
    ai_client_free(f->ai);
    fake_http_stop(f->server);
    ai_result_free(f->result);
    free(f->cfg.openai_base_url);
    free(f->cfg.openai_model);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

/* ---- running a call ---- */

/* On the engine thread: records what it saw (cmocka's checks belong to the test thread). */
static void on_text(const char *text, size_t len, void *arg)
{
    struct fixture *f = arg;
    pthread_mutex_lock(&f->lock);
    f->came_after_done = f->came_after_done || f->n_results > 0;
    f->is_all_valid = f->is_all_valid && utf8_valid(text, len) && text[len] == '\0';
    size_t last_len = strlen(f->last);
    f->is_all_growing = f->is_all_growing && len > last_len && memcmp(text, f->last, last_len) == 0;
    snprintf(f->last, sizeof f->last, "%.*s", (int)len, text);
    if (f->n_texts++ == 0)
        snprintf(f->first, sizeof f->first, "%.*s", (int)len, text);
    pthread_mutex_unlock(&f->lock);
}

static void on_result(struct ai_result *result, void *arg)
{
    struct fixture *f = arg;
    pthread_mutex_lock(&f->lock);
    ai_result_free(f->result);
    f->result = result;
    f->n_results++;
    pthread_mutex_unlock(&f->lock);
}

/* Streams a one-message chat (deadline ms from now) and waits for its result. */
static struct ai_result *stream(struct fixture *f, uint64_t deadline_ms)
{
    const struct ai_message message = {.role = AI_USER, .text = "hello"};
    struct ai_chat_request req = {.messages = &message,
                                  .n_messages = 1,
                                  .temperature = -1,
                                  .deadline_mono_ms = clock_mono_ms() + deadline_ms,
                                  .interaction_id = "1001"};
    assert_int_equal(ai_chat_stream_start(f->ai, &req, on_text, on_result, f), SLIMY_OK);
    uint64_t until = clock_mono_ms() + WAIT_MS;
    pthread_mutex_lock(&f->lock);
    while (f->n_results == 0 && clock_mono_ms() < until) {
        pthread_mutex_unlock(&f->lock);
        usleep(2000);
        pthread_mutex_lock(&f->lock);
    }
    pthread_mutex_unlock(&f->lock);
    usleep(20000); /* a second result (a bug) would show up by now */
    pthread_mutex_lock(&f->lock);
    int n = f->n_results;
    bool after = f->came_after_done;
    pthread_mutex_unlock(&f->lock);
    if (n != 1)
        fail_msg("expected one result, got %d", n);
    assert_false(after);
    assert_true(f->is_all_valid);
    assert_true(f->is_all_growing);
    return f->result;
}

static const char *const PIECES[] = {"Hello", ", snail", " friend", "!"};

/* ---- tests ---- */

static void a_streamed_reply_grows_then_comes_whole(void **state)
{
    struct fixture *f = *state;
    ai_queue_chat_stream(f->server, PIECES, 4, 80, AI_STREAM_COMPLETE);
    struct ai_result *r = stream(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_int_equal(r->http_status, 200);
    assert_string_equal(r->text, "Hello, snail friend!");
    assert_string_equal(r->finish_reason, "stop");
    assert_null(r->error);
    assert_true(f->n_texts >= 3); /* the pieces came 80 ms apart: each was passed on */
    assert_string_equal(f->first, "Hello");
    assert_int_equal(fake_http_count(f->server), 1);
    cJSON *body = fake_http_json(f->server, 0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream")));
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "model")->valuestring, "gpt-test");
    cJSON_Delete(body);
}

static void an_ordinary_answer_is_read_whole(void **state)
{
    struct fixture *f = *state;
    ai_queue_chat(f->server, "Not streamed, still fine.");
    struct ai_result *r = stream(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_string_equal(r->text, "Not streamed, still fine.");
    assert_string_equal(r->finish_reason, "stop");
    assert_int_equal(f->n_texts, 0);
}

static void a_stream_broken_after_text_is_cut_off(void **state)
{
    struct fixture *f = *state;
    ai_queue_chat_stream(f->server, PIECES, 2, 50, AI_STREAM_BROKEN);
    ai_queue_chat(f->server, "a retry would get this");
    struct ai_result *r = stream(f, WAIT_MS);
    assert_int_not_equal(r->status, SLIMY_OK);
    assert_string_equal(r->error, CUT_OFF);
    assert_null(r->text); /* never half an answer presented as whole */
    assert_true(f->n_texts >= 1);
    assert_int_equal(fake_http_count(f->server), 1); /* text was shown: no retry */
}

static void a_stream_broken_before_text_is_retried(void **state)
{
    struct fixture *f = *state;
    static const char *const keepalive[] = {": keepalive\n\n"};
    fake_http_queue(f->server, &(struct fake_http_response){.headers = "Content-Type: text/event-stream",
                                                            .chunks = keepalive,
                                                            .n_chunks = 1});
    ai_queue_chat_stream(f->server, PIECES, 4, 0, AI_STREAM_COMPLETE);
    struct ai_result *r = stream(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_string_equal(r->text, "Hello, snail friend!");
    assert_int_equal(fake_http_count(f->server), 2); /* like a network failure: backed off, tried again */
}

static void an_error_event_ends_the_call(void **state)
{
    struct fixture *f = *state;
    static const char *const events[] = {
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
        "data: {\"error\":{\"message\":\"The model is overloaded\",\"type\":\"server_error\"}}\n\n"};
    fake_http_queue(f->server, &(struct fake_http_response){.headers = "Content-Type: text/event-stream",
                                                            .chunks = events,
                                                            .n_chunks = 2,
                                                            .chunk_delay_ms = 50});
    struct ai_result *r = stream(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_EUPSTREAM);
    assert_string_equal(r->error, "The model is overloaded");
    assert_null(r->text);
    assert_int_equal(fake_http_count(f->server), 1);
}

static void a_429_before_the_stream_is_retried(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 429, "retry-after-ms: 30",
                    "{\"error\":{\"message\":\"Rate limit reached\",\"code\":\"rate_limit_exceeded\"}}");
    ai_queue_chat_stream(f->server, PIECES, 4, 0, AI_STREAM_COMPLETE);
    struct ai_result *r = stream(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_string_equal(r->text, "Hello, snail friend!");
    assert_int_equal(fake_http_count(f->server), 2);
}

static void the_deadline_cuts_a_slow_stream(void **state)
{
    struct fixture *f = *state;
    ai_queue_chat_stream(f->server, PIECES, 4, 1500, AI_STREAM_COMPLETE);
    uint64_t started = clock_mono_ms();
    struct ai_result *r = stream(f, 600);
    assert_true(clock_mono_ms() - started < 1400);
    assert_int_equal(r->status, SLIMY_ETIMEOUT);
    assert_string_equal(r->error, CUT_OFF);
    assert_string_equal(f->last, "Hello");
}

static void a_character_split_between_reads_is_held_back(void **state)
{
    struct fixture *f = *state;
    static const char *const parts[] = {
        "data: {\"choices\":[{\"delta\":{\"content\":\"Snail \xF0\x9F",
        "\x90\x8C\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\" \xC3",
        "\xA9t\xC3\xA9\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"};
    fake_http_queue(f->server, &(struct fake_http_response){.headers = "Content-Type: text/event-stream",
                                                            .chunks = parts,
                                                            .n_chunks = 3,
                                                            .chunk_delay_ms = 50});
    struct ai_result *r = stream(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_string_equal(r->text, "Snail 🐌 été");
    assert_string_equal(f->first, "Snail 🐌");
}

int main(void)
{
    log_open(LOG_CRITICAL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_streamed_reply_grows_then_comes_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(an_ordinary_answer_is_read_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stream_broken_after_text_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stream_broken_before_text_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(an_error_event_ends_the_call, setup, teardown),
        cmocka_unit_test_setup_teardown(a_429_before_the_stream_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(the_deadline_cuts_a_slow_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(a_character_split_between_reads_is_held_back, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    log_close();
    return failed;
}
