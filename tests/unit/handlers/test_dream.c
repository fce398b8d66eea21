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

#include "fake_http.h"
#include "harness.h"
#include "modes/modes.h"

#define IMAGE_MODEL "image-test-model"
#define PNG_BASE64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
#define PNG_LEN 70
#define GENERAL_GUIDELINE "Content guidelines: Keep imagery appropriate for a general audience."
#define PG13_GUIDELINE "Content guidelines: Keep imagery appropriate for ages 13+; avoid explicit content."

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

static void queue_image(struct fake_http *f)
{
    fake_http_reply(f, 200, NULL, "{\"created\":1,\"data\":[{\"b64_json\":\"" PNG_BASE64 "\"}]}");
}

/* /dream prompt:<prompt> [style:<style>] as user (NULL = HARNESS_USER). */
static void dream(struct fixture *fx, const char *prompt, const char *style, const char *user, struct harness_reply *r)
{
    char options[1024];
    snprintf(options, sizeof options, "[{\"name\":\"prompt\",\"type\":3,\"value\":\"%s\"}%s%s%s]", prompt,
             style ? ",{\"name\":\"style\",\"type\":3,\"value\":\"" : "", style ? style : "", style ? "\"}" : "");
    assert_int_equal(
        harness_call(fx->h, &(struct harness_call){.name = "dream", .options = options, .user_id = user}, r), 0);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->type, 5);
    assert_true(r->is_delivered);
}

/* The prompt of the i-th request, which must be an image generation with the image model. */
static char *sent_prompt(struct fake_http *f, size_t i)
{
    const struct fake_http_request *req = fake_http_request(f, i);
    assert_non_null(req);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->path, "/images/generations");
    cJSON *body = cJSON_ParseWithLength(req->body, req->body_len);
    assert_non_null(body);
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

static uint64_t image_log_rows(struct fixture *fx)
{
    struct store_counts counts;
    assert_int_equal(store_counts(harness_store(fx->h), &counts), 0);
    return counts.images;
}

static void a_styled_dream_sends_the_suffix_and_attaches_the_png(void **state)
{
    struct fixture *fx = *state;
    queue_image(fx->f);
    struct harness_reply r;
    dream(fx, "  a castle in the clouds \\n", "anime", NULL, &r);
    assert_false(r.flags & 64);
    assert_string_equal(r.content, "🎌 **Dream Created!**\n**Style:** Anime\n**Prompt:** a castle in the clouds");
    assert_int_equal(r.n_files, 1);
    assert_file_name(r.files[0].name, "dream-anime");
    assert_string_equal(r.files[0].content_type, "image/png");
    assert_int_equal(r.files[0].len, PNG_LEN);
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->f), 1);
    char *prompt = sent_prompt(fx->f, 0);
    assert_string_equal(prompt, "a castle in the clouds in anime art style with expressive characters, vibrant colors "
                                "and dynamic composition " GENERAL_GUIDELINE);
    free(prompt);
    assert_int_equal(image_log_rows(fx), 1);
}

static void without_a_style_the_dream_is_standard(void **state)
{
    struct fixture *fx = *state;
    queue_image(fx->f);
    queue_image(fx->f);
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
    struct fixture *fx = *state;
    struct store *st = harness_store(fx->h);
    queue_image(fx->f);
    queue_image(fx->f);
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
    assert_int_equal(image_log_rows(fx), 2);
}

static void a_refused_generation_is_worded_and_still_logged(void **state)
{
    struct fixture *fx = *state;
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
    assert_int_equal(image_log_rows(fx), 1);
}

static void a_blank_prompt_is_refused_without_a_request(void **state)
{
    struct fixture *fx = *state;
    struct harness_reply r;
    dream(fx, "   ", NULL, NULL, &r);
    assert_string_equal(r.content, "❌ Please describe what you want me to dream up.");
    assert_int_equal(r.n_files, 0);
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
    assert_int_equal(image_log_rows(fx), 0);
}

static void without_ai_dream_is_refused_at_once(void **state)
{
    struct fixture *fx = *state;
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
        cmocka_unit_test_setup_teardown(a_styled_dream_sends_the_suffix_and_attaches_the_png, setup, teardown),
        cmocka_unit_test_setup_teardown(without_a_style_the_dream_is_standard, setup, teardown),
        cmocka_unit_test_setup_teardown(the_channel_rating_sets_the_guideline, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_generation_is_worded_and_still_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(a_blank_prompt_is_refused_without_a_request, setup, teardown),
        cmocka_unit_test_setup_teardown(without_ai_dream_is_refused_at_once, setup_no_ai, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
