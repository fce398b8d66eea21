/* test_dream.c — /dream through the real dispatcher (tests/unit/support/harness.h), with the
 * scripted fake HTTP server as the OpenAI-compatible image API: the chosen style's suffix and the
 * channel rating's guideline are appended to the prompt sent to /images/generations with the
 * image model; the image comes back as dream-<style>-<ms>.png; every attempt, failed ones
 * included, adds an image_log row (store.h can only count them: store_counts().images); a
 * refused request and a blank prompt are worded; without AI the command is refused at once.
 * /dream has a 10 s cooldown per user, so a test making two dreams uses two users. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ai_fixture.h"
#include "modes/modes.h"

#define IMAGE_MODEL "image-test-model"
#define GENERAL_GUIDELINE "Content guidelines: Keep imagery appropriate for a general audience."
#define PG13_GUIDELINE "Content guidelines: Keep imagery appropriate for ages 13+; avoid explicit content."

/* /dream prompt:<prompt> [style:<style>] as user (NULL = HARNESS_USER). */
static void dream(struct ai_fixture *fx, const char *prompt, const char *style, const char *user,
                  struct harness_reply *r)
{
    char options[1024];
    snprintf(options, sizeof options, "[{\"name\":\"prompt\",\"type\":3,\"value\":\"%s\"}%s%s%s]", prompt,
             style ? ",{\"name\":\"style\",\"type\":3,\"value\":\"" : "", style ? style : "", style ? "\"}" : "");
    harness_call_deferred(fx->h, &(struct harness_call){.name = "dream", .options = options, .user_id = user}, r);
}

/* The prompt of the i-th request, which must be an image generation with the image model. */
static char *sent_prompt(struct fake_http *f, size_t i)
{
    cJSON *body = ai_request_json(f, i, "/images/generations");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(body, "model");
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(body, "prompt");
    assert_true(cJSON_IsString(model) && cJSON_IsString(prompt));
    assert_string_equal(model->valuestring, IMAGE_MODEL);
    char *out = strdup(prompt->valuestring);
    cJSON_Delete(body);
    return out;
}

/* "<prefix>-<digits>.png" */
static void assert_file_name(const char *name, const char *prefix)
{
    size_t n = strlen(prefix), len = strlen(name);
    assert_true(strncmp(name, prefix, n) == 0);
    assert_true(name[n] == '-');
    assert_true(len > n + 1 + 4);
    assert_string_equal(name + len - 4, ".png");
    for (size_t i = n + 1; i < len - 4; i++)
        assert_true(isdigit((unsigned char)name[i]));
}

static void a_styled_dream_sends_the_suffix_and_attaches_the_png(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_image(fx->f);
    struct harness_reply r;
    dream(fx, "  a castle in the clouds \\n", "anime", NULL, &r);
    assert_false(r.flags & 64);
    assert_string_equal(r.content, "🎌 **Dream Created!**\n**Style:** Anime\n**Prompt:** a castle in the clouds");
    assert_int_equal(r.n_files, 1);
    assert_file_name(r.files[0].name, "dream-anime");
    assert_string_equal(r.files[0].content_type, "image/png");
    assert_int_equal(r.files[0].len, AI_PNG_LEN);
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->f), 1);
    char *prompt = sent_prompt(fx->f, 0);
    assert_string_equal(prompt, "a castle in the clouds in anime art style with expressive characters, vibrant colors "
                                "and dynamic composition " GENERAL_GUIDELINE);
    free(prompt);
    assert_int_equal(harness_counts(fx->h).images, 1);
}

static void without_a_style_the_dream_is_standard(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_image(fx->f);
    ai_queue_image(fx->f);
    struct harness_reply r;
    dream(fx, "a cat", NULL, NULL, &r);
    assert_string_equal(r.content, "✨ **Dream Created!**\n**Style:** Standard\n**Prompt:** a cat");
    assert_int_equal(r.n_files, 1);
    assert_file_name(r.files[0].name, "dream-standard");
    harness_reply_cleanup(&r);
    char *prompt = sent_prompt(fx->f, 0);
    assert_string_equal(prompt, "a cat " GENERAL_GUIDELINE); /* no suffix, one space */
    free(prompt);

    /* An unknown style value falls back to Standard. */
    dream(fx, "a dog", "crayon", "100000000000000077", &r);
    assert_string_equal(r.content, "✨ **Dream Created!**\n**Style:** Standard\n**Prompt:** a dog");
    assert_file_name(r.files[0].name, "dream-standard");
    harness_reply_cleanup(&r);
}

static void the_channel_rating_sets_the_guideline(void **state)
{
    struct ai_fixture *fx = *state;
    struct store *st = harness_store(fx->h);
    ai_queue_image(fx->f);
    ai_queue_image(fx->f);
    struct harness_reply r;
    assert_int_equal(store_mode_put(st, HARNESS_GUILD, TARGET_CHANNEL, HARNESS_CHANNEL,
                                    MODE_CHAT | MODE_PERSONALITY | MODE_RATING_UNRATED),
                     0);
    dream(fx, "a dragon", "neon", NULL, &r);
    harness_reply_cleanup(&r);
    char *prompt = sent_prompt(fx->f, 0);
    assert_string_equal(prompt, "a dragon in a cyberpunk style with glowing neon lights, dark backgrounds and electric "
                                "colors"); /* unrated: no guideline, no trailing space */
    free(prompt);

    assert_int_equal(store_mode_put(st, HARNESS_GUILD, TARGET_CHANNEL, HARNESS_CHANNEL,
                                    MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13),
                     0);
    dream(fx, "a dragon", "pixel", "100000000000000077", &r);
    harness_reply_cleanup(&r);
    prompt = sent_prompt(fx->f, 1);
    assert_string_equal(prompt,
                        "a dragon as detailed pixel art in a retro 8/16-bit style with crisp pixels " PG13_GUIDELINE);
    free(prompt);
    assert_int_equal(harness_counts(fx->h).images, 2);
}

static void a_refused_generation_is_worded_and_still_logged(void **state)
{
    struct ai_fixture *fx = *state;
    fake_http_reply(fx->f, 400, NULL,
                    "{\"error\":{\"message\":\"Your request was rejected as a result of our safety system.\","
                    "\"type\":\"invalid_request_error\",\"code\":\"content_policy_violation\"}}");
    struct harness_reply r;
    dream(fx, "something", "sketch", NULL, &r);
    assert_string_equal(r.content,
                        "❌ Image generation failed: Your request was rejected as a result of our safety system.");
    assert_int_equal(r.n_files, 0);
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 1); /* a 400 is not retried */
    assert_int_equal(harness_counts(fx->h).images, 1);
}

static void a_blank_prompt_is_refused_without_a_request(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    dream(fx, "   ", NULL, NULL, &r);
    assert_string_equal(r.content, "❌ Please describe what you want me to dream up.");
    assert_int_equal(r.n_files, 0);
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
    assert_int_equal(harness_counts(fx->h).images, 0);
}

static void without_ai_dream_is_refused_at_once(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    assert_int_equal(harness_call(fx->h,
                                  &(struct harness_call){.name = "dream",
                                                         .options = "[{\"name\":\"prompt\",\"type\":3,"
                                                                    "\"value\":\"a cat\"}]"},
                                  &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🤖 AI is not configured on this server, so `/dream` is unavailable. "
                                   "An admin can set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model).");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(fx->h), 0);
}

int main(void)
{
    setenv("IMAGE_MODEL", IMAGE_MODEL, 1); /* the harness keeps the environment's model settings */
    const struct CMUnitTest tests[] = {
        AI_TEST(a_styled_dream_sends_the_suffix_and_attaches_the_png),
        AI_TEST(without_a_style_the_dream_is_standard),
        AI_TEST(the_channel_rating_sets_the_guideline),
        AI_TEST(a_refused_generation_is_worded_and_still_logged),
        AI_TEST(a_blank_prompt_is_refused_without_a_request),
        AI_TEST_NO_AI(without_ai_dream_is_refused_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
