/* ai_fixture.h — the fixture of the AI command tests (/chat, Ask Slimy, /dream, /snail analyze,
 * Analyze Snail Stats): a harness (harness.h) whose OpenAI-compatible API is a scripted fake
 * server (fake_http.h), or a harness without AI; the answers those tests queue (a chat
 * completion, a generated image, a screenshot download) and readers of the recorded requests.
 *
 *     const struct CMUnitTest tests[] = {AI_TEST(a_test), AI_TEST_NO_AI(a_test_without_ai)};
 *
 *     struct ai_fixture *fx = *state;
 *     ai_queue_chat(fx->f, "Hello!");
 *     harness_call(fx->h, ...);
 *     cJSON *body = ai_request_json(fx->f, 0, "/chat/completions");
 *     assert_string_equal(ai_str(body, "model"), "...");
 *     cJSON_Delete(body);
 *
 * The harness keeps the environment's model settings (OPENAI_MODEL, IMAGE_MODEL, VISION_MODEL):
 * a test program sets them in main() so the requests show which model was used. */
#ifndef SLIMY_TESTS_AI_FIXTURE_H
#define SLIMY_TESTS_AI_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "fake_http.h"
#include "harness.h"

/* A 1×1 PNG: its bytes (AI_PNG_LEN of them) and the same bytes in standard base64. */
#define AI_PNG_LEN 70
#define AI_PNG_BASE64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
extern const unsigned char ai_png[AI_PNG_LEN];

struct ai_fixture {
    struct harness *h;
    struct fake_http *f; /* the OpenAI-compatible API; NULL without AI */
};

/* How to start one. The harness options other than openai_base_url and attachment_hosts (which
 * the fixture sets) are passed on as given. */
struct ai_fixture_options {
    bool no_ai;       /* no fake server: AI is not configured */
    bool attachments; /* attachments may be downloaded from the fake server (ATTACHMENT_HOSTS) */
    struct harness_options harness;
};

/* Starts fx (zeroed by the caller); 0, or -1 when anything failed (ai_fixture_stop() still frees
 * what did start). */
int ai_fixture_start(struct ai_fixture *fx, const struct ai_fixture_options *opt);
void ai_fixture_stop(struct ai_fixture *fx);

/* cmocka setups: *state becomes an allocated struct ai_fixture, with AI, with AI and attachment
 * downloads from the fake server, or without AI. ai_fixture_teardown() fits all three. */
int ai_fixture_setup(void **state);
int ai_fixture_setup_attachments(void **state);
int ai_fixture_setup_no_ai(void **state);
int ai_fixture_teardown(void **state);
/* Test list entries with those setups. */
#define AI_TEST(f) cmocka_unit_test_setup_teardown(f, ai_fixture_setup, ai_fixture_teardown)
#define AI_TEST_ATTACHMENTS(f) cmocka_unit_test_setup_teardown(f, ai_fixture_setup_attachments, ai_fixture_teardown)
#define AI_TEST_NO_AI(f) cmocka_unit_test_setup_teardown(f, ai_fixture_setup_no_ai, ai_fixture_teardown)

/* Queues a 200 chat completion whose message (role assistant, finish_reason stop) is content. */
void ai_queue_chat(struct fake_http *f, const char *content);
/* Queues a 200 streamed chat completion (text/event-stream): one event per piece of content,
 * sent delay_ms apart, then, for AI_STREAM_COMPLETE, an event with finish_reason "stop" and
 * "data: [DONE]"; AI_STREAM_BROKEN closes the connection after the pieces instead. */
#define AI_STREAM_PIECES_MAX 60
enum ai_stream_end {
    AI_STREAM_COMPLETE,
    AI_STREAM_BROKEN,
};
void ai_queue_chat_stream(struct fake_http *f, const char *const *pieces, size_t n, unsigned delay_ms,
                          enum ai_stream_end end);
/* Queues a 200 image generation answer carrying the PNG above as b64_json. */
void ai_queue_image(struct fake_http *f);
/* Queues the PNG above as a download (Content-Type: image/png). */
void ai_queue_png(struct fake_http *f);

/* The body of the i-th request, which must be a POST to path, parsed; the caller deletes it. */
cJSON *ai_request_json(struct fake_http *f, size_t i, const char *path);
/* obj's string member key, or "" when absent or not a string. */
const char *ai_str(const cJSON *obj, const char *key);
/* Checks messages[i] (of a chat request's "messages") has role and, unless content is NULL,
 * exactly that content. */
void ai_assert_message(const cJSON *messages, int i, const char *role, const char *content);

#endif
