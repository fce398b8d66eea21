/* test_chat.c — /chat through the real dispatcher (tests/unit/support/harness.h), with the
 * scripted fake HTTP server as the OpenAI-compatible API: the reply is framed
 * "**user:** message\n\n**slimy.ai:** answer"; the request carries the chat model, the persona
 * system prompt (from a test personality file, with the channel's modes and the server's
 * adjustments) and the user's text; the second turn carries the first as history, reset forgets
 * it, and history is per user; a message asking for a picture goes to /images/generations and
 * comes back as an attached PNG; failures are worded; without AI the command is refused at once.
 * /chat has a 5 s cooldown per user, so tests that need two turns of one user run a copy of the
 * real command without the cooldown (same handler, same flags otherwise); the cooldown itself is
 * checked with the real registry. */
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
#include "flows/stream_reply.h"
#include "handlers/registry.h"
#include "modes/modes.h"
#include "text_file.h"

#define CHAT_MODEL "chat-test-model"
#define IMAGE_MODEL "image-test-model"
#define OTHER_USER "100000000000000077"


static const char PERSONA[] = "## Base Personality\nYou are TEST-SLIMY-BASE.\n\n"
                              "## Tone: PG-13\nTONE-PG13-MARKER\n\n"
                              "## Tone: Unrated\nTONE-UNRATED-MARKER\n\n"
                              "## Tone: Professional\nTONE-PROFESSIONAL-MARKER\n";

struct fixture {
    struct ai_fixture ai;
    char persona_path[64];
    struct command quick_chat; /* the real /chat without its cooldown */
    const struct command *commands[1];
};

/* The registry's command named name, or NULL. */
static const struct command *registry_find(const char *name)
{
    for (size_t i = 0; i < registry_count; i++)
        if (strcmp(registry_commands[i]->name, name) == 0)
            return registry_commands[i];
    return NULL;
}

static int start(void **state, bool with_ai, bool no_cooldown)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    *state = fx;
    snprintf(fx->persona_path, sizeof fx->persona_path, "/tmp/slimy-chat-persona.XXXXXX");
    if (!text_file_write_temp(fx->persona_path, PERSONA))
        return -1;
    struct ai_fixture_options opt = {.no_ai = !with_ai, .harness = {.personality_file = fx->persona_path}};
    if (no_cooldown) {
        const struct command *real = registry_find("chat");
        if (!real)
            return -1;
        fx->quick_chat = *real;
        fx->quick_chat.cooldown_ms = 0;
        fx->commands[0] = &fx->quick_chat;
        opt.harness.commands = fx->commands;
        opt.harness.n_commands = 1;
    }
    return ai_fixture_start(&fx->ai, &opt);
}

static int setup(void **state)
{
    return start(state, true, false);
}

static int setup_no_cooldown(void **state)
{
    return start(state, true, true);
}

static int setup_no_ai(void **state)
{
    return start(state, false, false);
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    ai_fixture_stop(&fx->ai);
    if (fx->persona_path[0])
        unlink(fx->persona_path);
    free(fx);
    return 0;
}

/* ---- helpers ---- */

/* /chat message:<text> [reset:<bool>] as user (NULL = HARNESS_USER); checks the deferred reply came. */
static void chat(struct fixture *fx, const char *message, const char *reset, const char *user, const char *channel_id,
                 const char *channel, struct harness_reply *r)
{
    char *text = harness_string_options("message", message, NULL);
    char options[8192];
    size_t len = strlen(text);
    snprintf(options, sizeof options, "%.*s%s%s%s]", (int)(len - 1), text,
             reset ? ",{\"name\":\"reset\",\"type\":5,\"value\":" : "", reset ? reset : "", reset ? "}" : "");
    free(text);
    harness_call_deferred(fx->ai.h,
                          &(struct harness_call){.name = "chat",
                                                 .options = options,
                                                 .user_id = user,
                                                 .channel_id = channel_id,
                                                 .channel = channel},
                          r);
}

/* ---- tests ---- */

static void a_reply_quotes_the_user_and_answers_as_slimy(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat(fx->ai.f, "Hello there! 🐌");
    struct harness_reply r;
    chat(fx, "hi slimy", NULL, NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "**tester:** hi slimy\n\n**slimy.ai:** Hello there! 🐌");
    assert_false(r.flags & 64);
    assert_int_equal(r.n_files, 0);
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->ai.f), 1);
    cJSON *body = ai_request_json(fx->ai.f, 0, "/chat/completions");
    assert_string_equal(ai_str(body, "model"), CHAT_MODEL);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 2);
    ai_assert_message(messages, 0, "system", NULL);
    const char *system = ai_str(cJSON_GetArrayItem(messages, 0), "content");
    assert_non_null(strstr(system, "You are TEST-SLIMY-BASE."));
    assert_non_null(strstr(system, "TONE-PG13-MARKER")); /* the default tone */
    assert_null(strstr(system, "TONE-PROFESSIONAL-MARKER"));
    ai_assert_message(messages, 1, "user", "hi slimy");
    cJSON_Delete(body);
}

static void the_second_turn_sends_the_first_as_history(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat(fx->ai.f, "answer one");
    ai_queue_chat(fx->ai.f, "answer two");
    struct harness_reply r;
    chat(fx, "first question", NULL, NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "**tester:** first question\n\n**slimy.ai:** answer one");
    harness_reply_cleanup(&r);
    chat(fx, "second question", NULL, NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "**tester:** second question\n\n**slimy.ai:** answer two");
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->ai.f), 2);
    cJSON *body = ai_request_json(fx->ai.f, 1, "/chat/completions");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 4);
    ai_assert_message(messages, 0, "system", NULL);
    ai_assert_message(messages, 1, "user", "first question");
    ai_assert_message(messages, 2, "assistant", "answer one");
    ai_assert_message(messages, 3, "user", "second question");
    cJSON_Delete(body);
}

/* A huge answer is remembered only as far as a message can show it (2000 characters), so it is
 * not sent back to the model on every later turn. */
static void history_keeps_at_most_a_message_of_a_huge_answer(void **state)
{
    struct fixture *fx = *state;
    size_t n = 3000;
    char *huge = malloc(n * 2 + 1);
    assert_non_null(huge);
    for (size_t i = 0; i < n; i++)
        memcpy(huge + 2 * i, "\xC3\xA9", 2); /* "é": 2 bytes, 1 character */
    huge[n * 2] = '\0';
    ai_queue_chat(fx->ai.f, huge);
    ai_queue_chat(fx->ai.f, "short");
    free(huge);
    struct harness_reply r;
    chat(fx, "first question", NULL, NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    chat(fx, "second question", NULL, NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    cJSON *body = ai_request_json(fx->ai.f, 1, "/chat/completions");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, 2), "content");
    assert_true(cJSON_IsString(content));
    assert_int_equal(strlen(content->valuestring), 2000 * 2); /* 2000 characters, cut between them */
    cJSON_Delete(body);
}

static void reset_starts_a_fresh_conversation(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat(fx->ai.f, "answer one");
    ai_queue_chat(fx->ai.f, "answer two");
    ai_queue_chat(fx->ai.f, "answer three");
    struct harness_reply r;
    chat(fx, "remember the number 7", NULL, NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    chat(fx, "what was it?", "true", NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "**tester:** what was it?\n\n**slimy.ai:** answer two");
    harness_reply_cleanup(&r);
    chat(fx, "and now?", "false", NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);

    cJSON *body = ai_request_json(fx->ai.f, 1, "/chat/completions");
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 2);
    ai_assert_message(messages, 1, "user", "what was it?");
    cJSON_Delete(body);
    /* The turn after the reset remembers only what came after it. */
    body = ai_request_json(fx->ai.f, 2, "/chat/completions");
    messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 4);
    ai_assert_message(messages, 1, "user", "what was it?");
    ai_assert_message(messages, 2, "assistant", "answer two");
    ai_assert_message(messages, 3, "user", "and now?");
    cJSON_Delete(body);
}

static void history_belongs_to_one_user_in_one_channel(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat(fx->ai.f, "answer one");
    ai_queue_chat(fx->ai.f, "answer two");
    ai_queue_chat(fx->ai.f, "answer three");
    struct harness_reply r;
    chat(fx, "mine", NULL, NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    chat(fx, "theirs", NULL, OTHER_USER, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    chat(fx, "elsewhere", NULL, NULL, "300000000000000099", NULL, &r);
    harness_reply_cleanup(&r);
    for (size_t i = 1; i < 3; i++) {
        cJSON *body = ai_request_json(fx->ai.f, i, "/chat/completions");
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(body, "messages")), 2);
        cJSON_Delete(body);
    }
}

static void a_second_chat_within_the_cooldown_is_refused(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat(fx->ai.f, "answer one");
    struct harness_reply r;
    chat(fx, "one", NULL, NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_call(fx->ai.h,
                                  &(struct harness_call){.name = "chat",
                                                         .options = "[{\"name\":\"message\",\"type\":3,"
                                                                    "\"value\":\"two\"}]"},
                                  &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_true(strncmp(r.content, "⏳ Slow down! Please wait ", strlen("⏳ Slow down! Please wait ")) == 0);
    assert_non_null(strstr(r.content, "before using `/chat` again."));
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->ai.f), 1);
}

static void the_channel_modes_and_server_adjustments_shape_the_prompt(void **state)
{
    struct fixture *fx = *state;
    struct store *st = harness_store(fx->ai.h);
    assert_int_equal(store_mode_put(st, HARNESS_GUILD, TARGET_CHANNEL, HARNESS_CHANNEL,
                                    MODE_CHAT | MODE_PERSONALITY | MODE_NO_PERSONALITY | MODE_RATING_PG13),
                     0);
    assert_int_equal(store_adjustment_set(st, HARNESS_GUILD, "enthusiasm", 8, HARNESS_USER), 0);
    ai_queue_chat(fx->ai.f, "Certainly.");
    struct harness_reply r;
    chat(fx, "status report", NULL, NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "**tester:** status report\n\n**slimy.ai (no personality):** Certainly.");
    harness_reply_cleanup(&r);
    cJSON *body = ai_request_json(fx->ai.f, 0, "/chat/completions");
    const char *system = ai_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(body, "messages"), 0), "content");
    assert_non_null(strstr(system, "TONE-PROFESSIONAL-MARKER"));
    assert_null(strstr(system, "TEST-SLIMY-BASE"));
    assert_non_null(strstr(system, "Enthusiasm level: 8/10"));
    cJSON_Delete(body);
}

static void a_long_message_is_cut_in_the_echo_but_sent_whole(void **state)
{
    struct fixture *fx = *state;
    char message[451];
    memset(message, 'a', 450);
    message[450] = '\0';
    ai_queue_chat(fx->ai.f, "ok");
    struct harness_reply r;
    chat(fx, message, NULL, NULL, NULL, NULL, &r);
    char expected[600];
    snprintf(expected, sizeof expected, "**tester:** %.400s…\n\n**slimy.ai:** ok", message);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
    cJSON *body = ai_request_json(fx->ai.f, 0, "/chat/completions");
    ai_assert_message(cJSON_GetObjectItemCaseSensitive(body, "messages"), 1, "user", message);
    cJSON_Delete(body);
}

static void a_picture_request_is_answered_with_an_attached_png(void **state)
{
    struct fixture *fx = *state;
    ai_queue_image(fx->ai.f);
    struct harness_reply r;
    chat(fx, "draw a snail riding a frog", NULL, NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "🖼️ Prompt: draw a snail riding a frog");
    assert_int_equal(r.n_files, 1);
    assert_true(strncmp(r.files[0].name, "slimy-auto-image-", strlen("slimy-auto-image-")) == 0);
    assert_string_equal(r.files[0].name + strlen(r.files[0].name) - 4, ".png");
    assert_string_equal(r.files[0].content_type, "image/png");
    assert_int_equal(r.files[0].len, AI_PNG_LEN);
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->ai.f), 1); /* no chat completion */
    cJSON *body = ai_request_json(fx->ai.f, 0, "/images/generations");
    assert_string_equal(ai_str(body, "model"), IMAGE_MODEL);
    assert_string_equal(ai_str(body, "prompt"), "draw a snail riding a frog Content guidelines: Keep imagery "
                                                "appropriate for a general audience.");
    cJSON_Delete(body);
    assert_int_equal(harness_counts(fx->ai.h).images, 1);
}

static void a_picture_request_in_a_pg13_category_gets_its_guideline(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(store_mode_put(harness_store(fx->ai.h), HARNESS_GUILD, TARGET_CATEGORY, "400000000000000004",
                                    MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13),
                     0);
    ai_queue_image(fx->ai.f);
    struct harness_reply r;
    chat(fx, "make a picture of a sunset", NULL, NULL, NULL,
         "{\"id\":\"" HARNESS_CHANNEL "\",\"type\":0,\"parent_id\":\"400000000000000004\"}", &r);
    assert_int_equal(r.n_files, 1);
    harness_reply_cleanup(&r);
    cJSON *body = ai_request_json(fx->ai.f, 0, "/images/generations");
    assert_string_equal(ai_str(body, "prompt"), "make a picture of a sunset Content guidelines: Keep imagery "
                                                "appropriate for ages 13+; avoid explicit content.");
    cJSON_Delete(body);
}

static void a_refused_chat_request_is_explained(void **state)
{
    struct fixture *fx = *state;
    fake_http_reply(fx->ai.f, 400, NULL,
                    "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens.\","
                    "\"type\":\"invalid_request_error\",\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}");
    struct harness_reply r;
    chat(fx, "hello", NULL, NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "😵 I couldn't get an answer from my AI right now (This model's maximum context "
                                   "length is 8192 tokens.). Please try again in a moment.");
    assert_int_equal(r.n_files, 0);
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->ai.f), 1);
}

static void a_refused_picture_suggests_a_safer_prompt(void **state)
{
    struct fixture *fx = *state;
    fake_http_reply(fx->ai.f, 400, NULL,
                    "{\"error\":{\"message\":\"Your request was rejected by the safety system.\","
                    "\"type\":\"invalid_request_error\",\"code\":\"content_policy_violation\"}}");
    struct harness_reply r;
    chat(fx, "draw something scary", NULL, NULL, NULL, NULL, &r);
    assert_string_equal(r.content, "⚠️ Unable to generate that image automatically. Try a safer prompt such as:\n"
                                   "`Friendly frog explorer on a giant snail in a bright indie-game scene, whimsical "
                                   "and upbeat.`\n(Your request was rejected by the safety system.)");
    assert_int_equal(r.n_files, 0);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_counts(fx->ai.h).images, 1); /* a failed attempt is logged too */
}

static void without_ai_chat_is_refused_at_once(void **state)
{
    struct fixture *fx = *state;
    struct harness_reply r;
    assert_int_equal(harness_call(fx->ai.h,
                                  &(struct harness_call){.name = "chat",
                                                         .options = "[{\"name\":\"message\",\"type\":3,"
                                                                    "\"value\":\"hi\"}]"},
                                  &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🤖 AI is not configured on this server, so `/chat` is unavailable. "
                                   "An admin can set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model).");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(fx->ai.h), 0);
}

/* ---- streamed answers ---- */

#define INTERVAL_MS 300 /* STREAM_EDIT_INTERVAL_MS for this program */
#define HEAD "**tester:** tell me\n\n**slimy.ai:** "

static const char *const SENTENCES[] = {"Snails ", "are ", "slow. ", "They ", "carry ", "their ", "homes ", "along."};
#define SENTENCES_TEXT "Snails are slow. They carry their homes along."

/* /chat message:"tell me" with interaction id `id`, waiting for the run to end; r is the final reply. */
static void chat_streamed(struct fixture *fx, const char *id, struct harness_reply *r)
{
    char *options = harness_string_options("message", "tell me", NULL);
    assert_int_equal(harness_call_final(fx->ai.h, &(struct harness_call){.name = "chat", .options = options, .id = id},
                                        r),
                     SLIMY_OK);
    free(options);
    assert_int_equal(r->type, 5);
}

/* Every message delivered for id before the final one is an interim edit: the final framing
 * with a growing answer and the cursor, no two closer than the interval. Returns how many. */
static size_t check_interim_edits(struct fixture *fx, const char *id, const char *full_answer)
{
    size_t n = harness_deliveries_of(fx->ai.h, id);
    assert_true(n >= 1);
    size_t shown = 0;
    uint64_t previous_ms = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        struct harness_reply r;
        assert_true(harness_delivery(fx->ai.h, id, i, &r));
        size_t len = strlen(r.content), head = strlen(HEAD), mark = strlen("▌");
        assert_true(len > head + mark);
        assert_memory_equal(r.content, HEAD, head);
        assert_string_equal(r.content + len - mark, "▌");
        size_t answer_len = len - head - mark;
        assert_true(answer_len > shown); /* each edit shows more */
        assert_memory_equal(r.content + head, full_answer, answer_len);
        shown = answer_len;
        if (i)
            assert_true(r.delivered_mono_ms - previous_ms >= INTERVAL_MS);
        previous_ms = r.delivered_mono_ms;
        harness_reply_cleanup(&r);
    }
    struct harness_reply last;
    assert_true(harness_delivery(fx->ai.h, id, n - 1, &last));
    if (n > 1)
        assert_true(last.delivered_mono_ms - previous_ms >= INTERVAL_MS); /* the final reply keeps the pace too */
    harness_reply_cleanup(&last);
    return n - 1;
}

static void a_streamed_answer_is_shown_while_written(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat_stream(fx->ai.f, SENTENCES, 8, 150, AI_STREAM_COMPLETE); /* ~1.05 s of text */
    ai_queue_chat(fx->ai.f, "second answer");
    struct harness_reply r;
    chat_streamed(fx, "910000000000000001", &r);
    assert_string_equal(r.content, HEAD SENTENCES_TEXT);
    harness_reply_cleanup(&r);
    size_t edits = check_interim_edits(fx, "910000000000000001", SENTENCES_TEXT);
    assert_true(edits >= 2);
    assert_true(edits <= 1050 / INTERVAL_MS + 1); /* bounded by the interval */

    /* The first edit came with the first sentence ("slow." at ~300 ms), not a second later. */
    struct harness_reply first;
    assert_true(harness_delivery(fx->ai.h, "910000000000000001", 0, &first));
    uint64_t asked_ms = fake_http_request(fx->ai.f, 0)->received_mono_ms;
    assert_true(first.delivered_mono_ms - asked_ms < 900);
    assert_non_null(strstr(first.content, "slow."));
    harness_reply_cleanup(&first);

    /* Only the final text is remembered. */
    chat(fx, "and?", NULL, NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    cJSON *body = ai_request_json(fx->ai.f, 1, "/chat/completions");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream")));
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 4);
    ai_assert_message(messages, 1, "user", "tell me");
    ai_assert_message(messages, 2, "assistant", SENTENCES_TEXT);
    cJSON_Delete(body);
}

static void without_a_sentence_the_first_edit_waits_a_second(void **state)
{
    struct fixture *fx = *state;
    static const char *const words[] = {"one ", "two ", "three ", "four ", "five ", "six ", "seven ", "eight"};
    ai_queue_chat_stream(fx->ai.f, words, 8, 200, AI_STREAM_COMPLETE); /* ~1.4 s, no sentence end */
    struct harness_reply r;
    chat_streamed(fx, "910000000000000002", &r);
    assert_string_equal(r.content, HEAD "one two three four five six seven eight");
    harness_reply_cleanup(&r);
    assert_true(check_interim_edits(fx, "910000000000000002", "one two three four five six seven eight") >= 1);
    struct harness_reply first;
    assert_true(harness_delivery(fx->ai.h, "910000000000000002", 0, &first));
    uint64_t waited = first.delivered_mono_ms - fake_http_request(fx->ai.f, 0)->received_mono_ms;
    assert_true(waited >= STREAM_FIRST_EDIT_MS);
    assert_true(waited < STREAM_FIRST_EDIT_MS + 400);
    harness_reply_cleanup(&first);
}

static void a_quick_or_unstreamed_answer_makes_no_interim_edit(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat(fx->ai.f, "Plain answer. Not streamed!");
    ai_queue_chat_stream(fx->ai.f, SENTENCES, 8, 0, AI_STREAM_COMPLETE); /* all at once */
    struct harness_reply r;
    chat_streamed(fx, "910000000000000003", &r);
    assert_string_equal(r.content, HEAD "Plain answer. Not streamed!");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries_of(fx->ai.h, "910000000000000003"), 1);
    chat_streamed(fx, "910000000000000004", &r);
    assert_string_equal(r.content, HEAD SENTENCES_TEXT);
    harness_reply_cleanup(&r);
    assert_true(harness_deliveries_of(fx->ai.h, "910000000000000004") <= 2); /* at most one edit, if TCP split it */
}

static void a_broken_stream_ends_with_the_failure_message(void **state)
{
    struct fixture *fx = *state;
    ai_queue_chat_stream(fx->ai.f, SENTENCES, 6, 150, AI_STREAM_BROKEN);
    ai_queue_chat(fx->ai.f, "fresh answer");
    struct harness_reply r;
    chat_streamed(fx, "910000000000000005", &r);
    assert_non_null(strstr(r.content, "couldn't get an answer"));
    assert_non_null(strstr(r.content, "the answer was cut off"));
    assert_null(strstr(r.content, "slow."));
    harness_reply_cleanup(&r);
    assert_true(check_interim_edits(fx, "910000000000000005", SENTENCES_TEXT) >= 1);
    assert_int_equal(fake_http_count(fx->ai.f), 1); /* not retried once text was shown */

    /* Nothing of the broken turn was remembered. */
    chat(fx, "again", NULL, NULL, NULL, NULL, &r);
    harness_reply_cleanup(&r);
    cJSON *body = ai_request_json(fx->ai.f, 1, "/chat/completions");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(body, "messages")), 2);
    cJSON_Delete(body);
}

int main(void)
{
    /* The harness keeps the environment's model settings: name them, so requests show which one. */
    setenv("OPENAI_MODEL", CHAT_MODEL, 1);
    setenv("IMAGE_MODEL", IMAGE_MODEL, 1);
    setenv("STREAM_EDIT_INTERVAL_MS", "300", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_reply_quotes_the_user_and_answers_as_slimy, setup, teardown),
        cmocka_unit_test_setup_teardown(the_second_turn_sends_the_first_as_history, setup_no_cooldown, teardown),
        cmocka_unit_test_setup_teardown(history_keeps_at_most_a_message_of_a_huge_answer, setup_no_cooldown, teardown),
        cmocka_unit_test_setup_teardown(reset_starts_a_fresh_conversation, setup_no_cooldown, teardown),
        cmocka_unit_test_setup_teardown(history_belongs_to_one_user_in_one_channel, setup_no_cooldown, teardown),
        cmocka_unit_test_setup_teardown(a_second_chat_within_the_cooldown_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(the_channel_modes_and_server_adjustments_shape_the_prompt, setup, teardown),
        cmocka_unit_test_setup_teardown(a_long_message_is_cut_in_the_echo_but_sent_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(a_picture_request_is_answered_with_an_attached_png, setup, teardown),
        cmocka_unit_test_setup_teardown(a_picture_request_in_a_pg13_category_gets_its_guideline, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_chat_request_is_explained, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_picture_suggests_a_safer_prompt, setup, teardown),
        cmocka_unit_test_setup_teardown(without_ai_chat_is_refused_at_once, setup_no_ai, teardown),
        cmocka_unit_test_setup_teardown(a_streamed_answer_is_shown_while_written, setup_no_cooldown, teardown),
        cmocka_unit_test_setup_teardown(without_a_sentence_the_first_edit_waits_a_second, setup, teardown),
        cmocka_unit_test_setup_teardown(a_quick_or_unstreamed_answer_makes_no_interim_edit, setup_no_cooldown,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_broken_stream_ends_with_the_failure_message, setup_no_cooldown, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
