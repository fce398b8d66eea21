/* test_ask_slimy.c — the "Ask Slimy" message command through the real dispatcher
 * (tests/unit/support/harness.h), with the scripted fake HTTP server as the OpenAI-compatible
 * API: the target message's text (data.resolved.messages) goes through the /chat flow (same
 * framing, same persona prompt, same per-channel history as /chat); a message without text is
 * refused without a request; a picture request is answered with an attached PNG; a refused
 * request is worded; without AI the command is refused at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_http.h"
#include "harness.h"

#define COMMAND "Ask Slimy"
#define MESSAGE_ID "600000000000000006"
#define CHAT_MODEL "chat-test-model"
#define PNG_BASE64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

struct fixture {
    struct harness *h;
    struct fake_http *f;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->f = fake_http_start()))
        return -1;
    fx->h = harness_start(&(struct harness_options){.openai_base_url = fake_http_url(fx->f)});
    *state = fx;
    return fx->h ? 0 : -1;
}

static int setup_no_ai(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->h = harness_start(NULL);
    *state = fx;
    return fx->h ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    harness_stop(fx->h);
    fake_http_stop(fx->f);
    free(fx);
    return 0;
}

static void queue_chat(struct fake_http *f, const char *content)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *choice = cJSON_CreateObject();
    cJSON *message = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(message, "role", "assistant");
    cJSON_AddStringToObject(message, "content", content);
    cJSON_AddStringToObject(choice, "finish_reason", "stop");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
    char *text = cJSON_PrintUnformatted(root);
    fake_http_reply(f, 200, NULL, text);
    free(text);
    cJSON_Delete(root);
}

/* Right-click → Apps → Ask Slimy on a message whose JSON fields (after the id) are `fields`. */
static int ask(struct harness *h, const char *fields, struct harness_reply *r)
{
    char resolved[2048];
    snprintf(resolved, sizeof resolved,
             "{\"messages\":{\"" MESSAGE_ID "\":{\"id\":\"" MESSAGE_ID "\",\"channel_id\":\"" HARNESS_CHANNEL "\","
             "\"author\":{\"id\":\"100000000000000077\",\"username\":\"friend\"}%s%s}}}",
             fields ? "," : "", fields ? fields : "");
    return harness_call(
        h, &(struct harness_call){.name = COMMAND, .command_type = 3, .target_id = MESSAGE_ID, .resolved = resolved},
        r);
}

static cJSON *request_json(struct fake_http *f, size_t i, const char *path)
{
    const struct fake_http_request *req = fake_http_request(f, i);
    assert_non_null(req);
    assert_string_equal(req->path, path);
    cJSON *root = cJSON_ParseWithLength(req->body, req->body_len);
    assert_non_null(root);
    return root;
}

static const char *str_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void the_target_messages_text_is_answered_like_a_chat(void **state)
{
    struct fixture *fx = *state;
    queue_chat(fx->f, "A snail is a gastropod.");
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"what is a snail?\"", &r), 0);
    assert_int_equal(r.type, 5);
    assert_true(r.is_delivered);
    assert_false(r.flags & 64);
    assert_string_equal(r.content, "**tester:** what is a snail?\n\n**slimy.ai:** A snail is a gastropod.");
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->f), 1);
    cJSON *body = request_json(fx->f, 0, "/chat/completions");
    assert_string_equal(str_at(body, "model"), CHAT_MODEL);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 2);
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 0), "role"), "system");
    assert_non_null(strstr(str_at(cJSON_GetArrayItem(messages, 0), "content"), "slimy.ai")); /* the persona */
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 1), "role"), "user");
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 1), "content"), "what is a snail?");
    cJSON_Delete(body);
}

static void it_continues_the_conversation_started_with_chat(void **state)
{
    struct fixture *fx = *state;
    queue_chat(fx->f, "Hi!");
    queue_chat(fx->f, "Still here.");
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

    cJSON *body = request_json(fx->f, 1, "/chat/completions");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 4);
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 1), "content"), "hello from chat");
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 2), "role"), "assistant");
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 2), "content"), "Hi!");
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 3), "content"), "are you there?");
    cJSON_Delete(body);
}

static void a_message_without_text_is_refused(void **state)
{
    struct fixture *fx = *state;
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
    assert_int_equal(harness_call(fx->h,
                                  &(struct harness_call){.name = COMMAND,
                                                         .command_type = 3,
                                                         .user_id = "100000000000000078",
                                                         .target_id = MESSAGE_ID,
                                                         .resolved = "{\"messages\":{\"" MESSAGE_ID
                                                                     "\":{\"id\":\"" MESSAGE_ID "\"}}}"},
                                  &r),
                     0);
    assert_string_equal(r.content, "❌ That message has no text for me to answer.");
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
}

static void a_picture_request_is_answered_with_an_attached_png(void **state)
{
    struct fixture *fx = *state;
    fake_http_reply(fx->f, 200, NULL, "{\"data\":[{\"b64_json\":\"" PNG_BASE64 "\"}]}");
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"please draw a happy slime\"", &r), 0);
    assert_string_equal(r.content, "🖼️ Prompt: please draw a happy slime");
    assert_int_equal(r.n_files, 1);
    assert_true(strncmp(r.files[0].name, "slimy-auto-image-", strlen("slimy-auto-image-")) == 0);
    assert_string_equal(r.files[0].content_type, "image/png");
    assert_int_equal(r.files[0].len, 70);
    harness_reply_cleanup(&r);
    cJSON *body = request_json(fx->f, 0, "/images/generations");
    assert_non_null(strstr(str_at(body, "prompt"), "please draw a happy slime"));
    cJSON_Delete(body);
}

static void a_refused_request_is_explained(void **state)
{
    struct fixture *fx = *state;
    fake_http_reply(fx->f, 400, NULL,
                    "{\"error\":{\"message\":\"Invalid model.\",\"type\":\"invalid_request_error\",\"code\":null}}");
    struct harness_reply r;
    assert_int_equal(ask(fx->h, "\"content\":\"hello\"", &r), 0);
    assert_string_equal(
        r.content, "😵 I couldn't get an answer from my AI right now (Invalid model.). Please try again in a moment.");
    harness_reply_cleanup(&r);
}

static void without_ai_it_is_refused_at_once(void **state)
{
    struct fixture *fx = *state;
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
        cmocka_unit_test_setup_teardown(the_target_messages_text_is_answered_like_a_chat, setup, teardown),
        cmocka_unit_test_setup_teardown(it_continues_the_conversation_started_with_chat, setup, teardown),
        cmocka_unit_test_setup_teardown(a_message_without_text_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_picture_request_is_answered_with_an_attached_png, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_request_is_explained, setup, teardown),
        cmocka_unit_test_setup_teardown(without_ai_it_is_refused_at_once, setup_no_ai, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
