/* test_ask_slimy.c — the "Ask Slimy" message command through the real dispatcher
 * (tests/unit/support/harness.h), with the scripted fake HTTP server as the OpenAI-compatible
 * API: the target message's text (data.resolved.messages) goes through the /chat flow (same
 * framing, same persona prompt, same per-channel history as /chat); a message without text is
 * refused without a request; a picture request is answered with an attached PNG; a refused
 * request is worded; the answer streams into the reply; without AI the command is refused at
 * once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ai_fixture.h"

#define COMMAND "Ask Slimy"
#define CHAT_MODEL "chat-test-model"

/* Right-click → Apps → Ask Slimy on a message from a friend whose other JSON fields are `fields`. */
static int ask(struct harness *h, const char *fields, struct harness_reply *r)
{
    char message[2048];
    snprintf(message, sizeof message,
             "\"channel_id\":\"" HARNESS_CHANNEL
             "\",\"author\":{\"id\":\"100000000000000077\",\"username\":\"friend\"}%s%s",
             fields ? "," : "", fields ? fields : "");
    return harness_call_on_message(h, COMMAND, NULL, message, r);
}

static void the_target_messages_text_is_answered_like_a_chat(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_chat(fx->f, "A snail is a gastropod.");
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"what is a snail?\"", &r), 0);
    assert_int_equal(r.type, 5);
    assert_true(r.is_delivered);
    assert_false(r.flags & 64);
    assert_string_equal(r.content, "**tester:** what is a snail?\n\n**slimy.ai:** A snail is a gastropod.");
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->f), 1);
    cJSON *body = ai_request_json(fx->f, 0, "/chat/completions");
    assert_string_equal(ai_str(body, "model"), CHAT_MODEL);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 2);
    ai_assert_message(messages, 0, "system", NULL);
    assert_non_null(strstr(ai_str(cJSON_GetArrayItem(messages, 0), "content"), "slimy.ai")); /* the persona */
    ai_assert_message(messages, 1, "user", "what is a snail?");
    cJSON_Delete(body);
}

static void it_continues_the_conversation_started_with_chat(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_chat(fx->f, "Hi!");
    ai_queue_chat(fx->f, "Still here.");
    struct harness_reply r;
    assert_int_equal(harness_call(fx->h,
                                  &(struct harness_call){.name = "chat",
                                                         .options = "[{\"name\":\"message\",\"type\":3,"
                                                                    "\"value\":\"hello from chat\"}]"},
                                  &r),
                     0);
    assert_string_equal(r.content, "**tester:** hello from chat\n\n**slimy.ai:** Hi!");
    harness_reply_cleanup(&r);
    assert_int_equal(ask(fx->h, "\"content\":\"are you there?\"", &r), 0);
    assert_string_equal(r.content, "**tester:** are you there?\n\n**slimy.ai:** Still here.");
    harness_reply_cleanup(&r);

    cJSON *body = ai_request_json(fx->f, 1, "/chat/completions");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 4);
    assert_string_equal(ai_str(cJSON_GetArrayItem(messages, 1), "content"), "hello from chat");
    ai_assert_message(messages, 2, "assistant", "Hi!");
    assert_string_equal(ai_str(cJSON_GetArrayItem(messages, 3), "content"), "are you there?");
    cJSON_Delete(body);
}

static void a_message_without_text_is_refused(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    assert_int_equal(ask(fx->h,
                         "\"content\":\"\",\"attachments\":[{\"id\":\"1\",\"filename\":\"a.png\","
                         "\"url\":\"https://cdn.discordapp.com/a.png\",\"content_type\":\"image/png\",\"size\":70}]",
                         &r),
                     0);
    assert_true(r.is_delivered);
    assert_string_equal(r.content, "❌ That message has no text for me to answer.");
    harness_reply_cleanup(&r);

    /* No content field at all (Discord omits it without the message content intent). */
    assert_int_equal(harness_call_on_message(fx->h, COMMAND, "100000000000000078", NULL, &r), 0);
    assert_string_equal(r.content, "❌ That message has no text for me to answer.");
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
}

static void a_picture_request_is_answered_with_an_attached_png(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_image(fx->f);
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"please draw a happy slime\"", &r), 0);
    assert_string_equal(r.content, "🖼️ Prompt: please draw a happy slime");
    assert_int_equal(r.n_files, 1);
    assert_true(strncmp(r.files[0].name, "slimy-auto-image-", strlen("slimy-auto-image-")) == 0);
    assert_string_equal(r.files[0].content_type, "image/png");
    assert_int_equal(r.files[0].len, AI_PNG_LEN);
    harness_reply_cleanup(&r);
    cJSON *body = ai_request_json(fx->f, 0, "/images/generations");
    assert_non_null(strstr(ai_str(body, "prompt"), "please draw a happy slime"));
    cJSON_Delete(body);
}

static void a_refused_request_is_explained(void **state)
{
    struct ai_fixture *fx = *state;
    fake_http_reply(fx->f, 400, NULL,
                    "{\"error\":{\"message\":\"Invalid model.\",\"type\":\"invalid_request_error\",\"code\":null}}");
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"hello\"", &r), 0);
    assert_string_equal(
        r.content, "😵 I couldn't get an answer from my AI right now (Invalid model.). Please try again in a moment.");
    harness_reply_cleanup(&r);
}

/* The answer streams into the reply like /chat's: the first message Discord gets is an interim
 * edit with the cursor, and more follow until the whole answer is in. */
static void the_answer_is_streamed_like_a_chat(void **state)
{
    struct ai_fixture *fx = *state;
    static const char *const pieces[] = {"Snails ", "are ", "gastropods. ", "They ", "are ", "slow."};
    ai_queue_chat_stream(fx->f, pieces, 6, 150, AI_STREAM_COMPLETE);
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"what is a snail?\"", &r), 0);
    assert_string_equal(r.content, "**tester:** what is a snail?\n\n**slimy.ai:** Snails are gastropods. ▌");
    harness_reply_cleanup(&r);
    for (int i = 0; i < 200 && harness_deliveries(fx->h) < 2; i++)
        usleep(10000);
    assert_true(harness_deliveries(fx->h) >= 2);
}

static void without_ai_it_is_refused_at_once(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"hello\"", &r), 0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🤖 AI is not configured on this server, so `/" COMMAND "` is unavailable. "
                                   "An admin can set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model).");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(fx->h), 0);
}

int main(void)
{
    setenv("OPENAI_MODEL", CHAT_MODEL, 1); /* the harness keeps the environment's model settings */
    const struct CMUnitTest tests[] = {
        AI_TEST(the_target_messages_text_is_answered_like_a_chat),
        AI_TEST(it_continues_the_conversation_started_with_chat),
        AI_TEST(a_message_without_text_is_refused),
        AI_TEST(a_picture_request_is_answered_with_an_attached_png),
        AI_TEST(a_refused_request_is_explained),
        AI_TEST(the_answer_is_streamed_like_a_chat),
        AI_TEST_NO_AI(without_ai_it_is_refused_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
