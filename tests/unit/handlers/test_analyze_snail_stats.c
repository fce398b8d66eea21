/* test_analyze_snail_stats.c — the "Analyze Snail Stats" message command through the real
 * dispatcher (tests/unit/support/harness.h): the first image attachment of the target message
 * (data.resolved.messages) is downloaded from the scripted fake server, read by the vision model
 * and saved; a message without an image, an attachment on a host not allowed, a refused vision
 * request and a server without AI are refused in words, without a download where none is due. */
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

#define COMMAND "Analyze Snail Stats"
#define MESSAGE_ID "600000000000000006"
#define VISION_MODEL "vision-test-model"

/* A 1×1 PNG, and the same bytes in standard base64. */
static const unsigned char PNG[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
    0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0xf8, 0xcf, 0x50, 0x0f, 0x00, 0x03, 0x86, 0x01, 0x80,
    0x5a, 0x34, 0x7d, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};
#define PNG_BASE64 "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

static const char VISION_ANSWER[] =
    "```json\n{\"stats\":{\"hp\":\"2,000,000\",\"atk\":100,\"def\":200,\"rush\":300,\"fame\":400,\"tech\":500,"
    "\"art\":600,\"civ\":700,\"fth\":800},\"equipment\":{\"weapon\":null,\"armor\":null,\"accessory\":null},"
    "\"confidence\":\"medium\",\"notes\":\"\"}\n```";

struct fixture {
    struct harness *h;
    struct fake_http *f;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->f = fake_http_start()))
        return -1;
    const struct harness_options opt = {.openai_base_url = fake_http_url(fx->f),
                                        .attachment_hosts = fake_http_url(fx->f)};
    fx->h = harness_start(&opt);
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

static int setup_no_ai(void **state)
{
    *state = harness_start(NULL);
    return *state ? 0 : -1;
}

static int teardown_no_ai(void **state)
{
    harness_stop(*state);
    return 0;
}

static char *chat_answer(const char *content)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *choice = cJSON_CreateObject();
    cJSON *message = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(message, "role", "assistant");
    cJSON_AddStringToObject(message, "content", content);
    cJSON_AddStringToObject(choice, "finish_reason", "stop");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

static void queue_png(struct fake_http *f)
{
    fake_http_queue(f, &(struct fake_http_response){.headers = "Content-Type: image/png",
                                                    .body = (const char *)PNG,
                                                    .body_len = sizeof PNG});
}

static const char *str_at(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Right-click → Apps → Analyze Snail Stats on a message with the given attachments JSON array. */
static int analyze_message(struct harness *h, const char *attachments, struct harness_reply *r)
{
    char resolved[2048];
    snprintf(resolved, sizeof resolved,
             "{\"messages\":{\"" MESSAGE_ID "\":{\"id\":\"" MESSAGE_ID "\",\"channel_id\":\"" HARNESS_CHANNEL "\","
             "\"content\":\"my snail\",\"author\":{\"id\":\"100000000000000077\",\"username\":\"player\"},"
             "\"attachments\":%s}}}",
             attachments);
    return harness_call(
        h, &(struct harness_call){.name = COMMAND, .command_type = 3, .target_id = MESSAGE_ID, .resolved = resolved},
        r);
}

static void the_first_image_attachment_is_analyzed_and_saved(void **state)
{
    struct fixture *fx = *state;
    const char *base = fake_http_url(fx->f);
    char attachments[1024];
    snprintf(attachments, sizeof attachments,
             "[{\"id\":\"1\",\"filename\":\"notes.txt\",\"url\":\"%s/attachments/notes.txt\","
             "\"content_type\":\"text/plain\",\"size\":10},"
             "{\"id\":\"2\",\"filename\":\"snail.png\",\"url\":\"%s/attachments/snail.png\","
             "\"content_type\":\"IMAGE/PNG\",\"size\":70},"
             "{\"id\":\"3\",\"filename\":\"other.png\",\"url\":\"%s/attachments/other.png\","
             "\"content_type\":\"image/png\",\"size\":70}]",
             base, base, base);
    queue_png(fx->f);
    char *answer = chat_answer(VISION_ANSWER);
    fake_http_reply(fx->f, 200, NULL, answer);
    free(answer);

    struct harness_reply r;
    assert_int_equal(analyze_message(fx->h, attachments, &r), 0);
    assert_int_equal(r.type, 5);
    assert_true(r.is_delivered);
    assert_false(r.flags & 64);
    assert_string_equal(r.content, "✅ Screenshot analyzed!");
    assert_string_equal(harness_embed_title(&r, 0), "📊 Super Snail Analysis");
    assert_string_equal(harness_embed_description(&r, 0), "Automated analysis complete.");
    assert_string_equal(harness_embed_field(&r, 0, "Stats"),
                        "**Primary**\nHP: 2,000,000 • ATK: 100 • DEF: 200 • RUSH: 300\n\n"
                        "**Pentagon**\nFAME: 400 • TECH: 500 • ART: 600 • CIV: 700 • FTH: 800");
    assert_string_equal(harness_embed_field(&r, 0, "Confidence"), "⚠️ MEDIUM");
    assert_null(harness_embed_field(&r, 0, "Equipment")); /* no slot known: no field */
    harness_reply_cleanup(&r);

    assert_int_equal(fake_http_count(fx->f), 2);
    assert_string_equal(fake_http_request(fx->f, 0)->path, "/attachments/snail.png");
    const struct fake_http_request *post = fake_http_request(fx->f, 1);
    assert_string_equal(post->path, "/chat/completions");
    cJSON *body = cJSON_ParseWithLength(post->body, post->body_len);
    assert_non_null(body);
    assert_string_equal(str_at(body, "model"), VISION_MODEL);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_string_equal(str_at(cJSON_GetArrayItem(messages, 0), "role"), "system");
    assert_non_null(strstr(str_at(cJSON_GetArrayItem(messages, 0), "content"), "Super Snail"));
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, 1), "content");
    const cJSON *image_url = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(parts, 1), "image_url");
    /* The declared type is normalised to lower case in the data URI. */
    assert_string_equal(str_at(image_url, "url"), "data:image/png;base64," PNG_BASE64);
    cJSON_Delete(body);

    struct store_snail_stats_list rows = {0};
    assert_int_equal(store_snail_stats_list(harness_store(fx->h), HARNESS_USER, HARNESS_GUILD, 10, &rows), 0);
    assert_int_equal(rows.n, 1);
    assert_true(rows.items[0].has_stat[0]);
    assert_int_equal(rows.items[0].stats[0], 2000000);
    assert_int_equal(rows.items[0].stats[8], 800);
    store_snail_stats_list_free(&rows);
}

static void a_message_without_an_image_is_refused(void **state)
{
    struct fixture *fx = *state;
    char attachments[512];
    snprintf(attachments, sizeof attachments,
             "[{\"id\":\"1\",\"filename\":\"notes.txt\",\"url\":\"%s/attachments/notes.txt\","
             "\"content_type\":\"text/plain\",\"size\":10}]",
             fake_http_url(fx->f));
    struct harness_reply r;
    assert_int_equal(analyze_message(fx->h, attachments, &r), 0);
    assert_true(r.is_delivered);
    assert_string_equal(r.content, "⚠️ That message has no image attachment to analyze.");
    harness_reply_cleanup(&r);

    assert_int_equal(harness_call(fx->h,
                                  &(struct harness_call){.name = COMMAND,
                                                         .command_type = 3,
                                                         .user_id = "100000000000000078",
                                                         .target_id = MESSAGE_ID,
                                                         .resolved = "{\"messages\":{\"" MESSAGE_ID
                                                                     "\":{\"id\":\"" MESSAGE_ID
                                                                     "\",\"content\":\"just text\"}}}"},
                                  &r),
                     0);
    assert_string_equal(r.content, "⚠️ That message has no image attachment to analyze.");
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
}

static void an_image_on_a_host_not_allowed_is_not_downloaded(void **state)
{
    struct fixture *fx = *state;
    struct harness_reply r;
    assert_int_equal(analyze_message(fx->h,
                                     "[{\"id\":\"2\",\"filename\":\"snail.png\","
                                     "\"url\":\"https://attacker.example.net/snail.png\","
                                     "\"content_type\":\"image/png\",\"size\":70}]",
                                     &r),
                     0);
    assert_true(r.is_delivered);
    assert_string_equal(r.content, "❌ I can only read images uploaded to Discord.");
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
    struct store_counts counts;
    assert_int_equal(store_counts(harness_store(fx->h), &counts), 0);
    assert_int_equal(counts.snail_stats, 0);
}

static void a_refused_vision_request_is_worded(void **state)
{
    struct fixture *fx = *state;
    char attachments[512];
    snprintf(attachments, sizeof attachments,
             "[{\"id\":\"2\",\"filename\":\"snail.png\",\"url\":\"%s/attachments/snail.png\","
             "\"content_type\":\"image/png\",\"size\":70}]",
             fake_http_url(fx->f));
    queue_png(fx->f);
    fake_http_reply(fx->f, 400, NULL,
                    "{\"error\":{\"message\":\"The model does not support images.\","
                    "\"type\":\"invalid_request_error\",\"code\":null}}");
    struct harness_reply r;
    assert_int_equal(analyze_message(fx->h, attachments, &r), 0);
    assert_string_equal(r.content, "❌ Analysis failed: The model does not support images.");
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 2);
}

static void without_ai_it_is_refused_at_once(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    assert_int_equal(analyze_message(h,
                                     "[{\"id\":\"2\",\"filename\":\"snail.png\","
                                     "\"url\":\"https://cdn.discordapp.com/attachments/1/2/snail.png\","
                                     "\"content_type\":\"image/png\",\"size\":70}]",
                                     &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🤖 AI is not configured on this server, so `/" COMMAND "` is unavailable. "
                                   "An admin can set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model).");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(h), 0);
}

int main(void)
{
    setenv("VISION_MODEL", VISION_MODEL, 1); /* the harness keeps the environment's model settings */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_first_image_attachment_is_analyzed_and_saved, setup, teardown),
        cmocka_unit_test_setup_teardown(a_message_without_an_image_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(an_image_on_a_host_not_allowed_is_not_downloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refused_vision_request_is_worded, setup, teardown),
        cmocka_unit_test_setup_teardown(without_ai_it_is_refused_at_once, setup_no_ai, teardown_no_ai),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
