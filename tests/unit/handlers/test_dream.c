/* test_dream.c — /dream through the real dispatcher (tests/unit/support/harness.h), with the
 * scripted fake HTTP server as the OpenAI-compatible image API: the chosen style's suffix and the
 * channel rating's guideline are appended to the prompt sent to /images/generations with the
 * image model; the image comes back as dream-<style>-<ms>.png; every attempt, failed ones
 * included, adds an image_log row (store.h can only count them: store_counts().images); a
 * refused request and a blank prompt are worded; without AI the command is refused at once.
 * /dream has a 10 s cooldown per user, so a test making two dreams uses two users.
 * The reply carries a reroll button and a style menu; pressing either (as the dream's owner, on a
 * message stating the prompt) runs the same flow again under /dream's cooldown; anyone else's
 * press, or a custom_id or message Slimy did not write, is refused at once without a request. */
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

/* ---- the buttons ---- */

#define OWNER "100000000000000055"
#define STRANGER "100000000000000066"
#define ANIME_SUFFIX \
    " in anime art style with expressive characters, vibrant colors and dynamic composition " GENERAL_GUIDELINE
/* The dream message the buttons are on, as Slimy wrote it. */
#define DREAM_MESSAGE                                                                                   \
    "{\"id\":\"61\",\"content\":\"🎌 **Dream Created!**\\n**Style:** Anime\\n**Prompt:** a castle\"," \
    "\"attachments\":[]}"

/* A press of custom_id by user on message (values: a select menu's choice, or NULL). */
static void press(struct ai_fixture *fx, const char *custom_id, const char *values, const char *user,
                  const char *message, struct harness_reply *r)
{
    assert_int_equal(harness_call(fx->h,
                                  &(struct harness_call){.type = HARNESS_COMPONENT,
                                                         .custom_id = custom_id,
                                                         .component_type = values ? 3 : 2,
                                                         .values = values,
                                                         .user_id = user,
                                                         .message = message},
                                  r),
                     0);
    assert_int_equal(r->http_status, 200);
}

static const char *str_member(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static void the_reply_carries_a_reroll_button_and_a_style_menu(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_image(fx->f);
    struct harness_reply r;
    dream(fx, "a castle", "anime", NULL, &r);
    assert_int_equal(cJSON_GetArraySize(r.components), 2);
    const cJSON *button = harness_component(&r, "dream:reroll:" HARNESS_USER ":anime");
    assert_non_null(button);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(button, "type")->valueint, 2);
    assert_string_equal(str_member(button, "label"), "Reroll");
    assert_string_equal(str_member(cJSON_GetObjectItemCaseSensitive(button, "emoji"), "name"), "🔁");
    const cJSON *menu = harness_component(&r, "dream:style:" HARNESS_USER);
    assert_non_null(menu);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(menu, "type")->valueint, 3);
    /* Each row holds one of them: a select menu fills its row. */
    assert_int_equal(
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r.components, 1), "components")), 1);
    const cJSON *options = cJSON_GetObjectItemCaseSensitive(menu, "options");
    assert_int_equal(cJSON_GetArraySize(options), 10);
    int defaults = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, options)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "default"))) {
            defaults++;
            assert_string_equal(str_member(o, "value"), "anime");
            assert_string_equal(str_member(o, "label"), "Anime");
        }
    }
    assert_int_equal(defaults, 1); /* the style used is the one shown as chosen */
    assert_string_equal(str_member(cJSON_GetArrayItem(options, 0), "value"), "standard");
    harness_reply_cleanup(&r);
}

static void a_failed_dream_has_no_buttons(void **state)
{
    struct ai_fixture *fx = *state;
    fake_http_reply(fx->f, 400, NULL, "{\"error\":{\"message\":\"no\",\"type\":\"invalid_request_error\"}}");
    struct harness_reply r;
    dream(fx, "something", NULL, NULL, &r);
    assert_null(r.components);
    harness_reply_cleanup(&r);
}

static void the_owner_rerolls_the_same_prompt_and_style(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_image(fx->f);
    struct harness_reply r;
    press(fx, "dream:reroll:" OWNER ":anime", NULL, OWNER, DREAM_MESSAGE, &r);
    assert_int_equal(r.type, 5); /* a new message: the old dream stays as it was */
    assert_true(r.is_delivered);
    assert_false(r.flags & 64);
    assert_string_equal(r.content, "🎌 **Dream Created!**\n**Style:** Anime\n**Prompt:** a castle");
    assert_int_equal(r.n_files, 1);
    assert_file_name(r.files[0].name, "dream-anime");
    assert_non_null(harness_component(&r, "dream:reroll:" OWNER ":anime")); /* the new one can be rerolled */
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 1);
    char *prompt = sent_prompt(fx->f, 0);
    assert_string_equal(prompt, "a castle" ANIME_SUFFIX);
    free(prompt);
    assert_int_equal(harness_counts(fx->h).images, 1);
}

static void the_style_menu_dreams_again_in_the_chosen_style(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_image(fx->f);
    struct harness_reply r;
    press(fx, "dream:style:" OWNER, "[\"neon\"]", OWNER, DREAM_MESSAGE, &r);
    assert_int_equal(r.type, 5);
    assert_string_equal(r.content, "🌟 **Dream Created!**\n**Style:** Neon Dreams\n**Prompt:** a castle");
    assert_file_name(r.files[0].name, "dream-neon");
    /* The new menu shows neon as chosen, and the new button rerolls neon. */
    assert_non_null(harness_component(&r, "dream:reroll:" OWNER ":neon"));
    harness_reply_cleanup(&r);
    char *prompt = sent_prompt(fx->f, 0);
    assert_string_equal(prompt, "a castle in a cyberpunk style with glowing neon lights, dark backgrounds and electric "
                                "colors " GENERAL_GUIDELINE);
    free(prompt);
}

static void someone_else_cannot_reroll(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    press(fx, "dream:reroll:" OWNER ":anime", NULL, STRANGER, DREAM_MESSAGE, &r);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🔒 Only the person who dreamed this can reroll it. Use `/dream` to make your own!");
    harness_reply_cleanup(&r);
    press(fx, "dream:style:" OWNER, "[\"neon\"]", STRANGER, DREAM_MESSAGE, &r);
    assert_string_equal(r.content, "🔒 Only the person who dreamed this can reroll it. Use `/dream` to make your own!");
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
    assert_int_equal(harness_deliveries(fx->h), 0);
    assert_int_equal(harness_counts(fx->h).images, 0);

    /* The refusal used no cooldown: the stranger may /dream at once. */
    ai_queue_image(fx->f);
    dream(fx, "my own", NULL, STRANGER, &r);
    assert_int_equal(r.n_files, 1);
    harness_reply_cleanup(&r);
}

/* A custom_id or a message Slimy did not write: refused at once, in words, without a request. */
static void a_tampered_press_is_refused(void **state)
{
    struct ai_fixture *fx = *state;
    static const struct {
        const char *custom_id, *values, *message;
    } cases[] = {
        {"dream:reroll:" OWNER ":crayon", NULL, DREAM_MESSAGE},                          /* unknown style */
        {"dream:reroll:" OWNER, NULL, DREAM_MESSAGE},                                    /* no style */
        {"dream:reroll", NULL, DREAM_MESSAGE},                                           /* no owner */
        {"dream:reroll::anime", NULL, DREAM_MESSAGE},                                    /* empty owner */
        {"dream:style:" OWNER, "[\"crayon\"]", DREAM_MESSAGE},                           /* unknown style chosen */
        {"dream:style:" OWNER, "[]", DREAM_MESSAGE},                                     /* none chosen */
        {"dream:style:" OWNER, "[5]", DREAM_MESSAGE},                                    /* not a string */
        {"dream:reroll:" OWNER ":anime", NULL, "{\"id\":\"61\",\"content\":\"hello\"}"}, /* no prompt */
        {"dream:reroll:" OWNER ":anime", NULL, "{\"id\":\"61\",\"content\":\"x\\n**Prompt:** \"}"}, /* empty */
        {"dream:reroll:" OWNER ":anime", NULL, "{\"id\":\"61\"}"},                                  /* no content */
        {"dream:reroll:" OWNER ":anime", NULL, NULL},                                               /* no message */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct harness_reply r;
        press(fx, cases[i].custom_id, cases[i].values, OWNER, cases[i].message, &r);
        if (r.type != 4 || !(r.flags & 64) ||
            strcmp(r.content, "❌ This button is not valid anymore. Use `/dream` to start a new dream.") != 0)
            fail_msg("case %zu (%s): type %d, flags %u, \"%s\"", i, cases[i].custom_id, r.type, r.flags, r.content);
        harness_reply_cleanup(&r);
    }
    assert_int_equal(fake_http_count(fx->f), 0);
    assert_int_equal(harness_deliveries(fx->h), 0);
}

/* The buttons share /dream's cooldown: a reroll right after a dream waits, and so does a dream
 * right after a reroll. */
static void a_reroll_shares_the_dream_cooldown(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_image(fx->f);
    ai_queue_image(fx->f);
    struct harness_reply r;
    dream(fx, "a castle", "anime", OWNER, &r);
    harness_reply_cleanup(&r);
    press(fx, "dream:reroll:" OWNER ":anime", NULL, OWNER, DREAM_MESSAGE, &r);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_non_null(strstr(r.content, "⏳ Slow down! Please wait "));
    assert_non_null(strstr(r.content, "before using `/dream` again."));
    harness_reply_cleanup(&r);
    press(fx, "dream:style:" OWNER, "[\"neon\"]", OWNER, DREAM_MESSAGE, &r);
    assert_non_null(strstr(r.content, "before using `/dream` again."));
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 1);

    /* The other way round: STRANGER rerolls their own dream, then /dream waits. */
    press(fx, "dream:reroll:" STRANGER ":anime", NULL, STRANGER, DREAM_MESSAGE, &r);
    assert_int_equal(r.type, 5);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_call(fx->h,
                                  &(struct harness_call){.name = "dream",
                                                         .user_id = STRANGER,
                                                         .options = "[{\"name\":\"prompt\",\"type\":3,"
                                                                    "\"value\":\"again\"}]"},
                                  &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_non_null(strstr(r.content, "before using `/dream` again."));
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 2);
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
        AI_TEST(the_reply_carries_a_reroll_button_and_a_style_menu),
        AI_TEST(a_failed_dream_has_no_buttons),
        AI_TEST(the_owner_rerolls_the_same_prompt_and_style),
        AI_TEST(the_style_menu_dreams_again_in_the_chosen_style),
        AI_TEST(someone_else_cannot_reroll),
        AI_TEST(a_tampered_press_is_refused),
        AI_TEST(a_reroll_shares_the_dream_cooldown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
