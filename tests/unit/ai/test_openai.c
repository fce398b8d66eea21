/* test_openai.c — unit tests of src/ai/openai.c: the real client on the real outbound engine,
 * talking real HTTP to a scripted fake server (support/fake_http.h) through OPENAI_BASE_URL.
 * Covers the request shape (chat with an image part, images), parsing a success, the retry rules
 * (429 waits retry-after-ms / Retry-After, 5xx backs off, insufficient_quota and other refusals
 * are final with a user-fit reason) and the deadline; and streamed chats (ai_chat_stream_start()
 * with src/ai/chat_stream.c, the fake sending text/event-stream bodies in timed pieces): the reply
 * passed on as it grows and whole at the end, a server that ignores "stream", a stream broken
 * after text (cut off, not retried) and before any (retried like a network failure), an error
 * event, a 429 before the stream, the deadline in the middle of a stream, and a character split
 * between two reads. Waits are kept short: retry-after values of tens of milliseconds, and one
 * 5xx backoff (0.5 s) per test that needs it. The last test checks that the API key never
 * reached the log. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
#include "log_capture.h"

#define API_KEY "sk-test-secret-0123456789"
#define WAIT_MS 10000 /* a result that takes longer is a hang */
#define CUT_OFF "the answer was cut off"
#define CHAT_OK \
    "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Hi there\"},\"finish_reason\":\"stop\"}]}"

struct fixture {
    struct fake_http *server;
    struct slimy_config cfg;
    struct fetch *engine;
    struct ai_client *ai;
    pthread_mutex_t lock;
    struct ai_result *result; /* set by on_result */
    int n_results;
    /* What a streamed call's on_text saw: */
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
    f->cfg.openai_api_key = strdup(API_KEY);
    f->cfg.openai_model = strdup("gpt-test");
    f->cfg.image_model = strdup("dall-e-3");
    if (!f->cfg.openai_base_url || !f->cfg.openai_api_key || !f->cfg.openai_model || !f->cfg.image_model)
        return -1;
    return fetch_start(&f->engine) || ai_client_new(&f->cfg, f->engine, &f->ai) ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    fetch_free(f->engine);
    ai_client_free(f->ai);
    fake_http_stop(f->server);
    ai_result_free(f->result);
    free(f->cfg.openai_base_url);
    free(f->cfg.openai_api_key);
    free(f->cfg.openai_model);
    free(f->cfg.image_model);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

/* ---- running a call ---- */

static void on_result(struct ai_result *result, void *arg)
{
    struct fixture *f = arg;
    pthread_mutex_lock(&f->lock);
    ai_result_free(f->result);
    f->result = result;
    f->n_results++;
    pthread_mutex_unlock(&f->lock);
}

/* Waits for the call's callback; fails the test if it never comes. */
static struct ai_result *wait_result(struct fixture *f)
{
    uint64_t until = clock_mono_ms() + WAIT_MS;
    pthread_mutex_lock(&f->lock);
    while (f->n_results == 0 && clock_mono_ms() < until) {
        pthread_mutex_unlock(&f->lock);
        usleep(2000);
        pthread_mutex_lock(&f->lock);
    }
    int n = f->n_results;
    pthread_mutex_unlock(&f->lock);
    if (n != 1)
        fail_msg("expected one result, got %d", n);
    return f->result;
}

/* Starts a one-message chat (deadline ms from now) and waits for its result. */
static struct ai_result *chat(struct fixture *f, uint64_t deadline_ms)
{
    const struct ai_message message = {.role = AI_USER, .text = "hello"};
    struct ai_chat_request req = {
        .messages = &message,
        .n_messages = 1,
        .temperature = -1,
        .deadline_mono_ms = clock_mono_ms() + deadline_ms,
        .interaction_id = "1001",
    };
    assert_int_equal(ai_chat_start(f->ai, &req, on_result, f), SLIMY_OK);
    return wait_result(f);
}


static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* ---- tests ---- */

/* A chat with a system message and a user message with an image: the request OpenAI expects, and
 * the reply's content and finish_reason. */
static void test_chat_request_and_success(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 200, NULL,
                    "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                    "\"Hi there\"},\"finish_reason\":\"stop\"}],\"usage\":{\"total_tokens\":9}}");
    const struct ai_message messages[] = {
        {.role = AI_SYSTEM, .text = "be nice"},
        {.role = AI_USER, .text = "what is this?", .image_data_uri = "data:image/png;base64,AAAA"},
    };
    struct ai_chat_request req = {
        .model = "gpt-vision",
        .messages = messages,
        .n_messages = 2,
        .temperature = 0.5,
        .max_tokens = 100,
        .image_detail = "low",
        .deadline_mono_ms = clock_mono_ms() + WAIT_MS,
    };
    assert_int_equal(ai_chat_start(f->ai, &req, on_result, f), SLIMY_OK);
    struct ai_result *r = wait_result(f);
    assert_int_equal(r->status, SLIMY_OK);
    assert_int_equal(r->http_status, 200);
    assert_string_equal(r->text, "Hi there");
    assert_string_equal(r->finish_reason, "stop");
    assert_null(r->error);

    assert_int_equal(fake_http_count(f->server), 1);
    const struct fake_http_request *http = fake_http_request(f->server, 0);
    assert_string_equal(http->method, "POST");
    assert_string_equal(http->path, "/v1/chat/completions");
    char value[256];
    assert_true(fake_http_header(http, "Authorization", value, sizeof value));
    assert_string_equal(value, "Bearer " API_KEY);
    assert_true(fake_http_header(http, "Content-Type", value, sizeof value));
    assert_string_equal(value, "application/json");
    assert_true(fake_http_header(http, "User-Agent", value, sizeof value));
    assert_memory_equal(value, "Slimy/", 6);

    cJSON *body = fake_http_json(f->server, 0);
    assert_string_equal(json_string(body, "model"), "gpt-vision");
    assert_true(cJSON_GetObjectItemCaseSensitive(body, "temperature")->valuedouble == 0.5);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(body, "max_tokens")->valueint, 100);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 2);
    assert_string_equal(json_string(cJSON_GetArrayItem(msgs, 0), "role"), "system");
    assert_string_equal(json_string(cJSON_GetArrayItem(msgs, 0), "content"), "be nice");
    const cJSON *user = cJSON_GetArrayItem(msgs, 1);
    assert_string_equal(json_string(user, "role"), "user");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(user, "content");
    assert_int_equal(cJSON_GetArraySize(parts), 2);
    assert_string_equal(json_string(cJSON_GetArrayItem(parts, 0), "type"), "text");
    assert_string_equal(json_string(cJSON_GetArrayItem(parts, 0), "text"), "what is this?");
    const cJSON *image = cJSON_GetArrayItem(parts, 1);
    assert_string_equal(json_string(image, "type"), "image_url");
    const cJSON *image_url = cJSON_GetObjectItemCaseSensitive(image, "image_url");
    assert_string_equal(json_string(image_url, "url"), "data:image/png;base64,AAAA");
    assert_string_equal(json_string(image_url, "detail"), "low");
    cJSON_Delete(body);
}

/* A local server without a key: no Authorization header; the default model; optional fields left
 * out; a null content and no finish_reason are a success with no text. */
static void test_chat_without_key_and_null_content(void **state)
{
    struct fixture *f = *state;
    free(f->cfg.openai_api_key);
    f->cfg.openai_api_key = NULL;
    fake_http_reply(f->server, 200, NULL, "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null}}]}");
    struct ai_result *r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_null(r->text);
    assert_null(r->finish_reason);
    char value[256];
    assert_false(fake_http_header(fake_http_request(f->server, 0), "Authorization", value, sizeof value));
    cJSON *body = fake_http_json(f->server, 0);
    assert_string_equal(json_string(body, "model"), "gpt-test");
    assert_null(cJSON_GetObjectItemCaseSensitive(body, "temperature"));
    assert_null(cJSON_GetObjectItemCaseSensitive(body, "max_tokens"));
    assert_string_equal(
        json_string(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(body, "messages"), 0), "content"), "hello");
    cJSON_Delete(body);
}

/* Images: /images/generations with b64_json for dall-e (not for gpt-image), decoded bytes back. */
static void test_image_request_and_success(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 200, NULL, "{\"created\":1,\"data\":[{\"b64_json\":\"UE5HIQ==\"}]}");
    struct ai_image_request req = {.prompt = "a snail", .deadline_mono_ms = clock_mono_ms() + WAIT_MS};
    assert_int_equal(ai_image_start(f->ai, &req, on_result, f), SLIMY_OK);
    struct ai_result *r = wait_result(f);
    assert_int_equal(r->status, SLIMY_OK);
    assert_int_equal(r->image_len, 4);
    assert_memory_equal(r->image, "PNG!", 4);

    const struct fake_http_request *http = fake_http_request(f->server, 0);
    assert_string_equal(http->method, "POST");
    assert_string_equal(http->path, "/v1/images/generations");
    cJSON *body = fake_http_json(f->server, 0);
    assert_string_equal(json_string(body, "model"), "dall-e-3");
    assert_string_equal(json_string(body, "prompt"), "a snail");
    assert_string_equal(json_string(body, "size"), "1024x1024");
    assert_string_equal(json_string(body, "response_format"), "b64_json");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(body, "n")->valueint, 1);
    cJSON_Delete(body);

    /* gpt-image models reject response_format; no image data is a failure. */
    f->n_results = 0;
    fake_http_reply(f->server, 200, NULL, "{\"data\":[{\"url\":\"https://example.com/x.png\"}]}");
    req.model = "gpt-image-1";
    req.size = "512x512";
    assert_int_equal(ai_image_start(f->ai, &req, on_result, f), SLIMY_OK);
    r = wait_result(f);
    assert_int_equal(r->status, SLIMY_EUPSTREAM);
    assert_string_equal(r->error, "the AI server returned no image data");
    body = fake_http_json(f->server, 1);
    assert_string_equal(json_string(body, "model"), "gpt-image-1");
    assert_string_equal(json_string(body, "size"), "512x512");
    assert_null(cJSON_GetObjectItemCaseSensitive(body, "response_format"));
    cJSON_Delete(body);
}

/* 429s wait what the server asked for (retry-after-ms, then Retry-After seconds), then succeed. */
static void test_rate_limited_then_success(void **state)
{
    struct fixture *f = *state;
    const char *limited =
        "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":\"rate_limit_exceeded\"}}";
    fake_http_reply(f->server, 429, "retry-after-ms: 60\nRetry-After: 30", limited);
    fake_http_reply(f->server, 429, "Retry-After: 0.08", limited);
    fake_http_reply(f->server, 200, NULL, CHAT_OK);
    struct ai_result *r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_string_equal(r->text, "Hi there");
    assert_int_equal(fake_http_count(f->server), 3);
    uint64_t t0 = fake_http_request(f->server, 0)->received_mono_ms;
    uint64_t t1 = fake_http_request(f->server, 1)->received_mono_ms;
    uint64_t t2 = fake_http_request(f->server, 2)->received_mono_ms;
    assert_true(t1 - t0 >= 60 && t1 - t0 < 5000); /* retry-after-ms won over Retry-After: 30 */
    assert_true(t2 - t1 >= 80);
}

/* A 5xx backs off (0.5 s and some jitter) and tries again. */
static void test_server_error_then_success(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 503, NULL, "{\"error\":{\"message\":\"overloaded\"}}");
    fake_http_reply(f->server, 200, NULL, CHAT_OK);
    struct ai_result *r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_int_equal(fake_http_count(f->server), 2);
    uint64_t gap =
        fake_http_request(f->server, 1)->received_mono_ms - fake_http_request(f->server, 0)->received_mono_ms;
    assert_true(gap >= 500 && gap < 2000);
}

/* insufficient_quota is final: no wait brings quota back. */
static void test_quota_is_final(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 429, "Retry-After: 1",
                    "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\","
                    "\"code\":\"insufficient_quota\"}}");
    struct ai_result *r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_ELIMITED);
    assert_int_equal(r->http_status, 429);
    assert_string_equal(r->error, "the AI account is out of quota");
    assert_int_equal(fake_http_count(f->server), 1);
}

/* Refusals are final, with a reason fit for a user: the server's message in OpenAI's nested shape
 * or a local server's flat one (code a string, a number or null), or a fixed text for 401. */
static void test_refusals(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int status;
        const char *body;
        const char *error;
    } cases[] = {
        {400,
         "{\"error\":{\"message\":\"Invalid value for 'model'\",\"type\":\"invalid_request_error\",\"code\":null}}",
         "Invalid value for 'model'"},
        {404, "{\"object\":\"error\",\"message\":\"The model `x` does not exist.\",\"code\":404}",
         "The model `x` does not exist."},
        {422, "{\"error\":\"bad things\"}", "bad things"},
        {400, "not json at all", "the AI server refused the request"},
        {401, "{\"error\":{\"message\":\"Incorrect API key provided: sk-test***\",\"code\":\"invalid_api_key\"}}",
         "the AI server rejected the API key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->n_results = 0;
        fake_http_reply(f->server, cases[i].status, NULL, cases[i].body);
        struct ai_result *r = chat(f, WAIT_MS);
        assert_int_equal(r->status, SLIMY_EUPSTREAM);
        assert_int_equal(r->http_status, cases[i].status);
        assert_string_equal(r->error, cases[i].error);
        assert_int_equal(fake_http_count(f->server), i + 1); /* no retry */
    }
}

/* A 429 asking for more than two minutes is given up at once; so is a 2xx that is not JSON. */
static void test_long_retry_after_and_malformed_answer(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 429, "Retry-After: 600", "{\"error\":{\"message\":\"slow down\"}}");
    struct ai_result *r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_ELIMITED);
    assert_string_equal(r->error, "the AI server is rate limiting us");
    assert_int_equal(fake_http_count(f->server), 1);

    f->n_results = 0;
    fake_http_reply(f->server, 200, NULL, "<html>oops</html>");
    r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_EUPSTREAM);
    assert_string_equal(r->error, "the AI server returned malformed JSON");
}

/* A Retry-After too large to be a real ask (1e300 s) is no undefined conversion: it counts as
 * longer than two minutes, so it is given up at once. Not a number (nan, inf, negative) counts as
 * not said: the client backs off instead. */
static void test_hostile_retry_after(void **state)
{
    struct fixture *f = *state;
    const char *limited = "{\"error\":{\"message\":\"slow down\"}}";
    fake_http_reply(f->server, 429, "Retry-After: 1e300", limited);
    struct ai_result *r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_ELIMITED);
    assert_string_equal(r->error, "the AI server is rate limiting us");
    assert_int_equal(fake_http_count(f->server), 1);

    static const char *not_numbers[] = {"retry-after-ms: nan", "Retry-After: inf", "Retry-After: -5"};
    for (size_t i = 0; i < sizeof not_numbers / sizeof not_numbers[0]; i++) {
        f->n_results = 0;
        fake_http_reply(f->server, 429, not_numbers[i], limited);
        fake_http_reply(f->server, 200, NULL, CHAT_OK);
        size_t before = fake_http_count(f->server);
        r = chat(f, WAIT_MS);
        assert_int_equal(r->status, SLIMY_OK);
        assert_int_equal(fake_http_count(f->server), before + 2);
        uint64_t gap = fake_http_request(f->server, before + 1)->received_mono_ms -
                       fake_http_request(f->server, before)->received_mono_ms;
        assert_true(gap >= 500 && gap < 2000); /* the first backoff: 0.5 s and some jitter */
    }
}

/* Text from the server that reaches a user is valid UTF-8: an error message is cut at 300 bytes
 * on a character boundary, malformed bytes become '?', and so does a reply's content. */
static void test_outside_text_is_valid_utf8(void **state)
{
    struct fixture *f = *state;
    char body[512], expected[301];
    memset(expected, 'a', 299);
    expected[299] = '\0'; /* "é" would straddle byte 300: the cut is before it */
    snprintf(body, sizeof body, "{\"error\":{\"message\":\"%s\xc3\xa9 and more\"}}", expected);
    fake_http_reply(f->server, 400, NULL, body);
    struct ai_result *r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_EUPSTREAM);
    assert_true(utf8_valid(r->error, strlen(r->error)));
    assert_string_equal(r->error, expected);

    f->n_results = 0;
    fake_http_reply(f->server, 400, NULL, "{\"error\":{\"message\":\"bad \xff\xfe key \xe2\x82\"}}");
    r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_EUPSTREAM);
    assert_string_equal(r->error, "bad ?? key ??");

    f->n_results = 0;
    fake_http_reply(f->server, 200, NULL,
                    "{\"choices\":[{\"message\":{\"content\":\"Hi \xc0\xaf there\"},\"finish_reason\":\"st\xffop\"}]}");
    r = chat(f, WAIT_MS);
    assert_int_equal(r->status, SLIMY_OK);
    assert_string_equal(r->text, "Hi ?? there");
    assert_string_equal(r->finish_reason, "st?op");
}

/* A server slower than the deadline: the attempt is cut at the deadline, not after it. */
static void test_deadline_cuts_a_slow_answer(void **state)
{
    struct fixture *f = *state;
    fake_http_queue(f->server, &(struct fake_http_response){.status = 200, .body = CHAT_OK, .delay_ms = 3000});
    uint64_t t0 = clock_mono_ms();
    struct ai_result *r = chat(f, 300);
    uint64_t took = clock_mono_ms() - t0;
    assert_int_equal(r->status, SLIMY_ETIMEOUT);
    assert_string_equal(r->error, "the AI server took too long");
    assert_true(took >= 250 && took < 2000);
}

/* 5xx until the deadline: one backoff fits, the next does not; the last status is kept. */
static void test_server_errors_until_the_deadline(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++)
        fake_http_reply(f->server, 502, NULL, "bad gateway");
    uint64_t t0 = clock_mono_ms();
    struct ai_result *r = chat(f, 900);
    uint64_t took = clock_mono_ms() - t0;
    assert_int_equal(r->status, SLIMY_ETIMEOUT);
    assert_int_equal(r->http_status, 502);
    assert_string_equal(r->error, "the AI server had an error");
    assert_int_equal(fake_http_count(f->server), 2);
    assert_true(took < 900); /* given up when the next wait would pass it, not at it */
}

/* Every line the tests above logged went to combined.log: the API key is in none of them. */
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
    wait_result(f);
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

/* ---- streamed chats (ai_chat_stream_start) ---- */

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

static void test_key_never_logged(void **state)
{
    (void)state;
    log_capture_assert_absent(API_KEY, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chat_request_and_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chat_without_key_and_null_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_image_request_and_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_error_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quota_is_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_retry_after_and_malformed_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_text_is_valid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_cuts_a_slow_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_errors_until_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(a_streamed_reply_grows_then_comes_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(an_ordinary_answer_is_read_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stream_broken_after_text_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stream_broken_before_text_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(an_error_event_ends_the_call, setup, teardown),
        cmocka_unit_test_setup_teardown(a_429_before_the_stream_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(the_deadline_cuts_a_slow_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(a_character_split_between_reads_is_held_back, setup, teardown),
        cmocka_unit_test(test_key_never_logged),
    };
    return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
}
