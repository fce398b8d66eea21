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

#include "ai_fixture.h"

#define COMMAND "Analyze Snail Stats"
#define VISION_MODEL "vision-test-model"

static const char VISION_ANSWER[] =
    "```json\n{\"stats\":{\"hp\":\"2,000,000\",\"atk\":100,\"def\":200,\"rush\":300,\"fame\":400,\"tech\":500,"
    "\"art\":600,\"civ\":700,\"fth\":800},\"equipment\":{\"weapon\":null,\"armor\":null,\"accessory\":null},"
    "\"confidence\":\"medium\",\"notes\":\"\"}\n```";

/* Right-click → Apps → Analyze Snail Stats on a message with the given attachments JSON array. */
static int analyze_message(struct harness *h, const char *attachments, struct harness_reply *r)
{
    char message[2048];
    snprintf(message, sizeof message,
             "\"channel_id\":\"" HARNESS_CHANNEL "\",\"content\":\"my snail\","
             "\"author\":{\"id\":\"100000000000000077\",\"username\":\"player\"},\"attachments\":%s",
             attachments);
    return harness_call_on_message(h, COMMAND, NULL, message, r);
}

static void the_first_image_attachment_is_analyzed_and_saved(void **state)
{
    struct ai_fixture *fx = *state;
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
    ai_queue_png(fx->f);
    ai_queue_chat(fx->f, VISION_ANSWER);

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
    cJSON *body = ai_request_json(fx->f, 1, "/chat/completions");
    assert_string_equal(ai_str(body, "model"), VISION_MODEL);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_string_equal(ai_str(cJSON_GetArrayItem(messages, 0), "role"), "system");
    assert_non_null(strstr(ai_str(cJSON_GetArrayItem(messages, 0), "content"), "Super Snail"));
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(messages, 1), "content");
    const cJSON *image_url = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(parts, 1), "image_url");
    /* The declared type is normalised to lower case in the data URI. */
    assert_string_equal(ai_str(image_url, "url"), "data:image/png;base64," AI_PNG_BASE64);
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
    struct ai_fixture *fx = *state;
    char attachments[512];
    snprintf(attachments, sizeof attachments,
             "[{\"id\":\"1\",\"filename\":\"notes.txt\",\"url\":\"%s/attachments/notes.txt\","
             "\"content_type\":\"text/plain\",\"size\":10}]",
             fake_http_url(fx->f));
    struct harness_reply r;
    /* Refused before admission, from the resolved message alone: an immediate ephemeral answer,
     * nothing deferred, delivered or downloaded, and no cooldown used (the same user again). */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(analyze_message(fx->h, attachments, &r), 0);
        assert_int_equal(r.type, 4);
        assert_true(r.flags & 64);
        assert_string_equal(r.content, "⚠️ That message has no image attachment to analyze.");
        harness_reply_cleanup(&r);
    }

    assert_int_equal(harness_call_on_message(fx->h, COMMAND, "100000000000000078", "\"content\":\"just text\"", &r), 0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "⚠️ That message has no image attachment to analyze.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(fx->h), 0);
    assert_int_equal(fake_http_count(fx->f), 0);
}

static void an_image_on_a_host_not_allowed_is_not_downloaded(void **state)
{
    struct ai_fixture *fx = *state;
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
    assert_int_equal(harness_counts(fx->h).snail_stats, 0);
}

static void a_refused_vision_request_is_worded(void **state)
{
    struct ai_fixture *fx = *state;
    char attachments[512];
    snprintf(attachments, sizeof attachments,
             "[{\"id\":\"2\",\"filename\":\"snail.png\",\"url\":\"%s/attachments/snail.png\","
             "\"content_type\":\"image/png\",\"size\":70}]",
             fake_http_url(fx->f));
    ai_queue_png(fx->f);
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
        AI_TEST_ATTACHMENTS(the_first_image_attachment_is_analyzed_and_saved),
        AI_TEST_ATTACHMENTS(a_message_without_an_image_is_refused),
        AI_TEST_ATTACHMENTS(an_image_on_a_host_not_allowed_is_not_downloaded),
        AI_TEST_ATTACHMENTS(a_refused_vision_request_is_worded),
        HARNESS_TEST(without_ai_it_is_refused_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
