/* test_snail.c — /snail through the real dispatcher (tests/unit/support/harness.h):
 *   - calc and test: the exact numbers, checked against the golden vectors the original
 *     JavaScript produced (tests/data/supersnail-vectors.jsonl, all 300 of them sent as options)
 *     and the specification's worked example for /snail test; the refusals of bad levels;
 *   - sheet: the saved rows of a user in this server as an embed, or the "no stats" text;
 *   - analyze: the screenshot is downloaded from the scripted fake server (allowed through
 *     ATTACHMENT_HOSTS), sent to the vision model, the answer becomes the analysis embed and a
 *     snail_stats row; a non-image, a host not allowed, a refused download, a failed or
 *     unreadable vision answer, and a server without AI are each refused in words.
 * Expected numbers are written out here (the formatter is only trusted for grouping digits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ai_fixture.h"
#include "core/config.h"

#define VECTORS_PATH SLIMY_TEST_DATA_DIR "/supersnail-vectors.jsonl"
#define VISION_MODEL "vision-test-model"
#define CHAT_MODEL "chat-test-model"

/* What the model answers: TECH unknown, two of three equipment slots, notes. */
static const char VISION_ANSWER[] =
    "{\"stats\":{\"hp\":1234567,\"atk\":23456,\"def\":34567,\"rush\":4567,\"fame\":5678,\"tech\":null,"
    "\"art\":7890,\"civ\":8901,\"fth\":9012},\"equipment\":{\"weapon\":\"Laser Sword\",\"armor\":null,"
    "\"accessory\":\"Lucky Charm\"},\"confidence\":\"high\",\"notes\":\"Tech was blurry.\"}";

/* ---- calc and test ---- */

static void snail(struct harness *h, const char *sub, const char *options, struct harness_reply *r)
{
    char opts[1024];
    snprintf(opts, sizeof opts, "[{\"name\":\"%s\",\"type\":1%s%s}]", sub, options ? ",\"options\":" : "",
             options ? options : "");
    assert_int_equal(harness_call(h, &(struct harness_call){.name = "snail", .options = opts}, r), 0);
    assert_int_equal(r->http_status, 200);
}

static void test_answers_the_specifications_worked_example(void **state)
{
    struct harness_reply r;
    snail(*state, "test", NULL, &r);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "✅ **/snail test**\n**Tier:** 6\n**Form Cells:** 1,963,000\n**BTADs:** 8,645,000\n"
                                   "**Hours:** 4,088");
    harness_reply_cleanup(&r);
}

static void calc_answers_the_reference_numbers_at_once(void **state)
{
    struct harness_reply r;
    /* Vector: tier 6, all levels 0, default modifiers → [2125000, 9185000, 4968]. */
    snail(*state, "calc",
          "[{\"name\":\"tier\",\"type\":4,\"value\":6},{\"name\":\"levels\",\"type\":3,\"value\":\"0,0,0,0,0,0,0,0\"}]",
          &r);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🧮 **Supersnail T6**\n• **Form Cells:** 2,125,000\n• **BTADs:** 9,185,000\n"
                                   "• **Hours:** 4,968");
    harness_reply_cleanup(&r);

    /* Vector: tier 6, levels 5,8,7,0,6,4,3,0, timemoda 0.5, timemodb 60, flattime 30, btadmod 0.7,
     * cellmod 0.9 → [1339200, 4200000, 1843]. */
    snail(*state, "calc",
          "[{\"name\":\"tier\",\"type\":4,\"value\":6},{\"name\":\"levels\",\"type\":3,\"value\":\"5,8,7,0,6,4,3,0\"},"
          "{\"name\":\"timemoda\",\"type\":10,\"value\":0.5},{\"name\":\"timemodb\",\"type\":10,\"value\":60},"
          "{\"name\":\"flattime\",\"type\":10,\"value\":30},{\"name\":\"btadmod\",\"type\":10,\"value\":0.7},"
          "{\"name\":\"cellmod\",\"type\":10,\"value\":0.9}]",
          &r);
    assert_string_equal(r.content, "🧮 **Supersnail T6**\n• **Form Cells:** 1,339,200\n• **BTADs:** 4,200,000\n"
                                   "• **Hours:** 1,843");
    harness_reply_cleanup(&r);

    /* Vector: tier 7 dragon, levels 8,4,9,1,10,1,3,1, timemoda 1.25, timemodb 60, flattime 1,
     * btadmod 0.975, cellmod 0.925 → [1509600, 1499425, 1017500, 2355975, 1655750, 28899000, 17129]. */
    snail(*state, "calc",
          "[{\"name\":\"tier\",\"type\":4,\"value\":7},{\"name\":\"levels\",\"type\":3,\"value\":\"8,4,9,1,10,1,3,1\"},"
          "{\"name\":\"timemoda\",\"type\":10,\"value\":1.25},{\"name\":\"timemodb\",\"type\":10,\"value\":60},"
          "{\"name\":\"flattime\",\"type\":10,\"value\":1},{\"name\":\"btadmod\",\"type\":10,\"value\":0.975},"
          "{\"name\":\"cellmod\",\"type\":10,\"value\":0.925},{\"name\":\"dragon\",\"type\":5,\"value\":true}]",
          &r);
    assert_string_equal(r.content, "🧮 **Supersnail T7 (dragon mode)**\n• **Zombie Cells:** 1,509,600\n"
                                   "• **Demon Cells:** 1,499,425\n• **Angel Cells:** 1,017,500\n"
                                   "• **Mutant Cells:** 2,355,975\n• **Mecha Cells:** 1,655,750\n"
                                   "• **BTADs:** 28,899,000\n• **Hours:** 17,129");
    harness_reply_cleanup(&r);
}

/* "-1,234,567" for an integral value. */
static void grouped(double v, char *out, size_t cap)
{
    long long n = (long long)v;
    unsigned long long m = n < 0 ? (unsigned long long)-n : (unsigned long long)n;
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%llu", m);
    size_t o = 0;
    if (n < 0)
        out[o++] = '-';
    for (int i = 0; i < len && o + 2 < cap; i++) {
        if (i && (len - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

/* JSON cannot carry the sign of a zero (JSON.stringify(-0) is "0"), while the calculator, like
 * the original, shows a negative zero as "-0": a "0" expected where "-0" came is a match. */
static bool same_but_signed_zeros(const char *got, const char *want)
{
    while (*got && *want) {
        if (strncmp(got, ":** -0\n", 7) == 0 && strncmp(want, ":** 0\n", 6) == 0) {
            got += 7;
            want += 6;
        } else if (strcmp(got, ":** -0") == 0 && strcmp(want, ":** 0") == 0) {
            return true;
        } else if (*got++ != *want++) {
            return false;
        }
    }
    return *got == *want;
}

/* A tier no int64 holds (Discord's choices make it impossible, a forged body does not) is a clean
 * refusal, not an undefined conversion. */
/* /snail is user-installable: in a DM between users or a group DM (context 2), with no member
 * and only the user's install, the calculator answers as anywhere else. */
static void calc_works_where_only_the_user_installed_slimy(void **state)
{
    static const int contexts[] = {1, 2};
    for (size_t i = 0; i < sizeof contexts / sizeof contexts[0]; i++) {
        struct harness_reply r;
        assert_int_equal(harness_call(*state,
                                      &(struct harness_call){.name = "snail",
                                                             .in_dm = true,
                                                             .context = contexts[i],
                                                             .owners = "{\"1\":\"" HARNESS_USER "\"}",
                                                             .options = "[{\"name\":\"calc\",\"type\":1,\"options\":["
                                                                        "{\"name\":\"tier\",\"type\":4,\"value\":6},"
                                                                        "{\"name\":\"levels\",\"type\":3,"
                                                                        "\"value\":\"0,0,0,0,0,0,0,0\"}]}]"},
                                      &r),
                         0);
        assert_int_equal(r.type, 4);
        assert_true(r.flags & 64);
        assert_string_equal(r.content,
                            "🧮 **Supersnail T6**\n• **Form Cells:** 2,125,000\n• **BTADs:** 9,185,000\n"
                            "• **Hours:** 4,968");
        harness_reply_cleanup(&r);
    }
}

static void calc_refuses_a_tier_out_of_every_range(void **state)
{
    static const char *const tiers[] = {"1e25", "-1e25", "9007199254740993", "6.5", "1e308"};
    for (size_t i = 0; i < sizeof tiers / sizeof tiers[0]; i++) {
        char options[256];
        snprintf(options, sizeof options,
                 "[{\"name\":\"tier\",\"type\":4,\"value\":%s},"
                 "{\"name\":\"levels\",\"type\":3,\"value\":\"0,0,0,0,0,0,0,0\"}]",
                 tiers[i]);
        struct harness_reply r;
        snail(*state, "calc", options, &r);
        assert_int_equal(r.type, 4);
        assert_true(r.flags & 64);
        assert_string_equal(r.content, "❌ Error: Tier must be 5, 6, 7, or 8");
        harness_reply_cleanup(&r);
    }
}

static void calc_matches_every_golden_vector(void **state)
{
    static const char *const labels3[] = {"Form Cells", "BTADs", "Hours"};
    static const char *const labels7[] = {"Zombie Cells", "Demon Cells", "Angel Cells", "Mutant Cells",
                                          "Mecha Cells",  "BTADs",       "Hours"};
    static const char *const modifiers[] = {"timemoda", "timemodb", "flattime", "btadmod", "cellmod"};
    FILE *fp = fopen(VECTORS_PATH, "r");
    assert_non_null(fp);
    char line[4096];
    size_t n = 0, failed = 0;
    while (fgets(line, sizeof line, fp)) {
        cJSON *v = cJSON_Parse(line);
        assert_non_null(v);
        const cJSON *levels = cJSON_GetObjectItemCaseSensitive(v, "levels");
        const cJSON *expected = cJSON_GetObjectItemCaseSensitive(v, "expected");
        int tier = cJSON_GetObjectItemCaseSensitive(v, "tier")->valueint;
        bool dragon = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "dragon"));
        char opts[1024];
        int o = snprintf(opts, sizeof opts,
                         "[{\"name\":\"tier\",\"type\":4,\"value\":%d},"
                         "{\"name\":\"levels\",\"type\":3,\"value\":\"",
                         tier);
        for (int k = 0; k < cJSON_GetArraySize(levels); k++)
            o += snprintf(opts + o, sizeof opts - (size_t)o, "%s%.17g", k ? "," : "",
                          cJSON_GetArrayItem(levels, k)->valuedouble);
        o += snprintf(opts + o, sizeof opts - (size_t)o, "\"}");
        for (size_t k = 0; k < sizeof modifiers / sizeof modifiers[0]; k++)
            o += snprintf(opts + o, sizeof opts - (size_t)o, ",{\"name\":\"%s\",\"type\":10,\"value\":%.17g}",
                          modifiers[k], cJSON_GetObjectItemCaseSensitive(v, modifiers[k])->valuedouble);
        snprintf(opts + o, sizeof opts - (size_t)o, ",{\"name\":\"dragon\",\"type\":5,\"value\":%s}]",
                 dragon ? "true" : "false");

        char want[1024];
        int w = snprintf(want, sizeof want, "🧮 **Supersnail T%d%s**", tier, dragon ? " (dragon mode)" : "");
        for (int k = 0; k < cJSON_GetArraySize(expected); k++) {
            char num[64];
            grouped(cJSON_GetArrayItem(expected, k)->valuedouble, num, sizeof num);
            w += snprintf(want + w, sizeof want - (size_t)w, "\n• **%s:** %s", dragon ? labels7[k] : labels3[k], num);
        }
        struct harness_reply r;
        snail(*state, "calc", opts, &r);
        if (strcmp(r.content, want) != 0 && !same_but_signed_zeros(r.content, want)) {
            if (failed++ < 3)
                print_error("vector %zu: got\n%s\nwant\n%s\n", n + 1, r.content, want);
        }
        harness_reply_cleanup(&r);
        cJSON_Delete(v);
        n++;
    }
    fclose(fp);
    assert_int_equal(n, 300);
    assert_int_equal(failed, 0);
}

static void calc_refuses_malformed_and_out_of_range_levels(void **state)
{
    struct harness_reply r;
    snail(*state, "calc",
          "[{\"name\":\"tier\",\"type\":4,\"value\":5},{\"name\":\"levels\",\"type\":3,\"value\":\"1,2,3\"}]", &r);
    assert_string_equal(r.content,
                        "❌ Error: Levels must be 8 comma-separated numbers: l1,r1,l2,compass,r2,l3,r3,ritual");
    harness_reply_cleanup(&r);

    snail(
        *state, "calc",
        "[{\"name\":\"tier\",\"type\":4,\"value\":5},{\"name\":\"levels\",\"type\":3,\"value\":\"11,0,0,4,0,0,0,2\"}]",
        &r);
    assert_string_equal(r.content, "❌ Invalid values: l1, compass(0-3), ritual(0-1)");
    harness_reply_cleanup(&r);

    /* T7 allows a compass of 5. */
    snail(*state, "calc",
          "[{\"name\":\"tier\",\"type\":4,\"value\":7},{\"name\":\"levels\",\"type\":3,\"value\":\"0,0,0,6,0,0,0,0\"}]",
          &r);
    assert_string_equal(r.content, "❌ Invalid values: compass(0-5)");
    harness_reply_cleanup(&r);

    snail(*state, "calc",
          "[{\"name\":\"tier\",\"type\":4,\"value\":9},{\"name\":\"levels\",\"type\":3,\"value\":\"0,0,0,0,0,0,0,0\"}]",
          &r);
    assert_string_equal(r.content, "❌ Error: Tier must be 5, 6, 7, or 8");
    harness_reply_cleanup(&r);
}

/* ---- sheet ---- */

static void add_row(struct harness *h, const char *user, const char *scope, const int64_t stats[9], const bool known[9],
                    const char *interaction_id)
{
    struct store_snail_stats_new row = {.user_id = user,
                                        .user_name = "tester",
                                        .scope_id = scope,
                                        .stats = stats,
                                        .has_stat = known,
                                        .interaction_id = interaction_id};
    int64_t id = 0;
    assert_int_equal(store_snail_stats_add(harness_store(h), &row, &id), 0);
}

static void sheet_without_rows_says_so(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    snail(h, "sheet", NULL, &r);
    assert_int_equal(r.type, 5);
    assert_true(r.is_delivered);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "📊 No saved stats found for **tester** yet.\n\nUse `/snail analyze` to record new "
                                   "data.");
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
}

static void sheet_lists_the_newest_rows_of_the_user_in_this_server(void **state)
{
    struct harness *h = *state;
    static const int64_t older[9] = {1000, 200, 300, 40, 5, 6, 7, 8, 9};
    static const int64_t newer[9] = {1234567, 23456, 34567, 4567, 5678, 0, 7890, 8901, 9012};
    static const bool some[9] = {true, true, true, true, true, false, true, true, true};
    add_row(h, HARNESS_USER, HARNESS_GUILD, older, NULL, "800000000000000001");
    add_row(h, HARNESS_USER, HARNESS_GUILD, newer, some, "800000000000000002");
    add_row(h, HARNESS_USER, "999999999999999999", older, NULL, "800000000000000003");  /* another server */
    add_row(h, "100000000000000077", HARNESS_GUILD, older, NULL, "800000000000000004"); /* another user */

    struct harness_reply r;
    snail(h, "sheet", NULL, &r);
    assert_true(r.is_delivered);
    assert_true(r.flags & 64);
    assert_int_equal(cJSON_GetArraySize(r.embeds), 1);
    assert_string_equal(harness_embed_title(&r, 0), "🐌 Super Snail Stats - tester");
    assert_string_equal(harness_embed_description(&r, 0), "Showing 2 most recent entries");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r.embeds, 0), "fields");
    assert_int_equal(cJSON_GetArraySize(fields), 2);
    const cJSON *first = cJSON_GetArrayItem(fields, 0), *second = cJSON_GetArrayItem(fields, 1);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(first, "value")->valuestring,
                        "HP: 1,234,567 • ATK: 23,456 • DEF: 34,567 • RUSH: 4,567 • FAME: 5,678 • TECH: ??? • "
                        "ART: 7,890 • CIV: 8,901 • FTH: 9,012");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(second, "value")->valuestring,
                        "HP: 1,000 • ATK: 200 • DEF: 300 • RUSH: 40 • FAME: 5 • TECH: 6 • ART: 7 • CIV: 8 • FTH: 9");
    assert_true(strncmp(cJSON_GetObjectItemCaseSensitive(first, "name")->valuestring, "📅 <t:", strlen("📅 <t:")) == 0);
    harness_reply_cleanup(&r);

    snail(h, "sheet", "[{\"name\":\"limit\",\"type\":4,\"value\":1}]", &r);
    assert_string_equal(harness_embed_description(&r, 0), "Showing 1 most recent entry");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r.embeds, 0), "fields")),
                     1);
    harness_reply_cleanup(&r);
}

static void sheet_of_another_user_uses_their_resolved_name(void **state)
{
    struct harness *h = *state;
    static const int64_t stats[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const char *other = "100000000000000077";
    char resolved[256];
    snprintf(resolved, sizeof resolved,
             "{\"users\":{\"%s\":{\"id\":\"%s\",\"username\":\"snailfan\",\"global_name\":\"Snail*Lord\"}}}", other,
             other);
    char opts[256];
    snprintf(opts, sizeof opts,
             "[{\"name\":\"sheet\",\"type\":1,\"options\":[{\"name\":\"user\",\"type\":6,"
             "\"value\":\"%s\"}]}]",
             other);
    struct harness_reply r;
    assert_int_equal(
        harness_call(h, &(struct harness_call){.name = "snail", .options = opts, .resolved = resolved}, &r), 0);
    /* The name goes into bold text, so its markdown is escaped. */
    assert_string_equal(r.content, "📊 No saved stats found for **Snail\\*Lord** yet.\n\nUse `/snail analyze` to record "
                                   "new data.");
    harness_reply_cleanup(&r);

    add_row(h, other, HARNESS_GUILD, stats, NULL, "800000000000000005");
    assert_int_equal(
        harness_call(h, &(struct harness_call){.name = "snail", .options = opts, .resolved = resolved}, &r), 0);
    assert_string_equal(harness_embed_title(&r, 0), "🐌 Super Snail Stats - Snail*Lord");
    assert_string_equal(harness_embed_description(&r, 0), "Showing 1 most recent entry");
    harness_reply_cleanup(&r);
}

static void sheet_setup_explains_where_stats_live(void **state)
{
    struct harness_reply r;
    snail(*state, "sheet-setup", NULL, &r);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_non_null(strstr(r.content, "Every `/snail analyze` result is stored in Slimy's database."));
    harness_reply_cleanup(&r);
}

/* ---- analyze ---- */

/* /snail analyze with one attachment (url may be NULL for the fake's /attachments/snail.png). */
static int analyze(struct ai_fixture *fx, const char *url, const char *content_type, const char *user,
                   struct harness_reply *r)
{
    char default_url[128], resolved[512];
    snprintf(default_url, sizeof default_url, "%s/attachments/snail.png", fake_http_url(fx->f));
    snprintf(resolved, sizeof resolved,
             "{\"attachments\":{\"700\":{\"id\":\"700\",\"filename\":\"snail.png\",\"url\":\"%s\","
             "\"content_type\":\"%s\",\"size\":%zu}}}",
             url ? url : default_url, content_type, sizeof ai_png);
    return harness_call(fx->h,
                        &(struct harness_call){.name = "snail",
                                               .user_id = user,
                                               .options = "[{\"name\":\"analyze\",\"type\":1,\"options\":["
                                                          "{\"name\":\"screenshot\",\"type\":11,\"value\":\"700\"}]}]",
                                               .resolved = resolved},
                        r);
}

static void analyze_reads_the_screenshot_and_saves_the_stats(void **state)
{
    struct ai_fixture *fx = *state;
    const struct slimy_config *cfg = harness_services(fx->h)->config;
    ai_queue_png(fx->f);
    ai_queue_chat(fx->f, VISION_ANSWER);
    struct harness_reply r;
    assert_int_equal(analyze(fx, NULL, "image/png", NULL, &r), 0);
    assert_int_equal(r.type, 5);
    assert_true(r.is_delivered);
    assert_false(r.flags & 64); /* the analysis is shown to the channel */
    assert_string_equal(r.content, "✅ Screenshot analyzed!");
    assert_int_equal(cJSON_GetArraySize(r.embeds), 1);
    assert_string_equal(harness_embed_title(&r, 0), "📊 Super Snail Analysis");
    assert_string_equal(harness_embed_description(&r, 0),
                        "Automated analysis complete. Missing stats: TECH. Tech was blurry.");
    assert_string_equal(harness_embed_field(&r, 0, "Stats"),
                        "**Primary**\nHP: 1,234,567 • ATK: 23,456 • DEF: 34,567 • RUSH: 4,567\n\n"
                        "**Pentagon**\nFAME: 5,678 • TECH: ??? • ART: 7,890 • CIV: 8,901 • FTH: 9,012");
    assert_string_equal(harness_embed_field(&r, 0, "Confidence"), "✅ HIGH\nNotes: Tech was blurry.");
    assert_string_equal(harness_embed_field(&r, 0, "Equipment"), "• WEAPON: Laser Sword\n• ACCESSORY: Lucky Charm");
    const cJSON *embed = cJSON_GetArrayItem(r.embeds, 0);
    char url[128], footer[128];
    snprintf(url, sizeof url, "%s/attachments/snail.png", fake_http_url(fx->f));
    assert_string_equal(ai_str(cJSON_GetObjectItemCaseSensitive(embed, "image"), "url"), url);
    snprintf(footer, sizeof footer, "Stats saved • Analyzed with %s", VISION_MODEL);
    assert_string_equal(ai_str(cJSON_GetObjectItemCaseSensitive(embed, "footer"), "text"), footer);
    harness_reply_cleanup(&r);

    /* The download, then the vision request with the vision model and the image inline. */
    assert_int_equal(fake_http_count(fx->f), 2);
    const struct fake_http_request *get = fake_http_request(fx->f, 0);
    assert_string_equal(get->method, "GET");
    assert_string_equal(get->path, "/attachments/snail.png");
    cJSON *body = ai_request_json(fx->f, 1, "/chat/completions");
    assert_string_equal(cfg->vision_model, VISION_MODEL);
    assert_string_equal(ai_str(body, "model"), VISION_MODEL);
    const cJSON *messages = cJSON_GetObjectItemCaseSensitive(body, "messages");
    assert_int_equal(cJSON_GetArraySize(messages), 2);
    const cJSON *system = cJSON_GetArrayItem(messages, 0), *user = cJSON_GetArrayItem(messages, 1);
    assert_string_equal(ai_str(system, "role"), "system");
    assert_non_null(strstr(ai_str(system, "content"), "Super Snail"));
    assert_non_null(strstr(ai_str(system, "content"), "\"stats\""));
    assert_string_equal(ai_str(user, "role"), "user");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(user, "content");
    assert_int_equal(cJSON_GetArraySize(parts), 2);
    const cJSON *text = cJSON_GetArrayItem(parts, 0), *image = cJSON_GetArrayItem(parts, 1);
    assert_string_equal(ai_str(text, "type"), "text");
    assert_non_null(strstr(ai_str(text, "text"), "Super Snail screenshot"));
    assert_string_equal(ai_str(image, "type"), "image_url");
    const cJSON *image_url = cJSON_GetObjectItemCaseSensitive(image, "image_url");
    assert_string_equal(ai_str(image_url, "url"), "data:image/png;base64," AI_PNG_BASE64);
    assert_string_equal(ai_str(image_url, "detail"), "high");
    cJSON_Delete(body);

    /* One row, with TECH unknown. */
    struct store_snail_stats_list rows = {0};
    assert_int_equal(store_snail_stats_list(harness_store(fx->h), HARNESS_USER, HARNESS_GUILD, 10, &rows), 0);
    assert_int_equal(rows.n, 1);
    static const int64_t want[9] = {1234567, 23456, 34567, 4567, 5678, 0, 7890, 8901, 9012};
    for (size_t k = 0; k < 9; k++) {
        assert_int_equal(rows.items[0].has_stat[k], k != 5);
        if (k != 5)
            assert_int_equal(rows.items[0].stats[k], want[k]);
    }
    store_snail_stats_list_free(&rows);
}

/* Refused before admission, from the resolved data alone: an immediate ephemeral answer, nothing
 * deferred, delivered or downloaded. */
static void assert_refused_at_once(struct ai_fixture *fx, struct harness_reply *r, const char *text)
{
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->type, 4);
    assert_true(r->flags & 64);
    assert_false(r->is_delivered);
    assert_string_equal(r->content, text);
    harness_reply_cleanup(r);
    assert_int_equal(harness_deliveries(fx->h), 0);
    assert_int_equal(fake_http_count(fx->f), 0);
}

static void analyze_refuses_a_file_that_is_not_an_image(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    static const char *const not_images[] = {"text/plain", "application/pdf", "", "image/", "imagex/png"};
    for (size_t i = 0; i < sizeof not_images / sizeof not_images[0]; i++) {
        assert_int_equal(analyze(fx, NULL, not_images[i], NULL, &r), 0);
        assert_refused_at_once(fx, &r, "⚠️ Please provide an image file (PNG, JPG, WEBP).");
    }
    /* A refusal uses no cooldown: the same user's image right after is analyzed. */
    ai_queue_png(fx->f);
    ai_queue_chat(fx->f, VISION_ANSWER);
    assert_int_equal(analyze(fx, NULL, "image/png", NULL, &r), 0);
    assert_int_equal(r.type, 5);
    assert_true(r.is_delivered);
    assert_string_equal(r.content, "✅ Screenshot analyzed!");
    harness_reply_cleanup(&r);
}

static void analyze_without_an_attachment_is_refused_at_once(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    /* The option names an attachment data.resolved does not have, or there is no option at all. */
    static const char *const options[] = {
        "[{\"name\":\"analyze\",\"type\":1,\"options\":[{\"name\":\"screenshot\",\"type\":11,\"value\":\"700\"}]}]",
        "[{\"name\":\"analyze\",\"type\":1}]",
    };
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        assert_int_equal(harness_call(fx->h, &(struct harness_call){.name = "snail", .options = options[i]}, &r), 0);
        assert_refused_at_once(fx, &r, "⚠️ Please provide an image file (PNG, JPG, WEBP).");
    }
}

static void analyze_refuses_a_url_on_a_host_not_allowed(void **state)
{
    struct ai_fixture *fx = *state;
    struct harness_reply r;
    assert_int_equal(analyze(fx, "https://evil.example.com/attachments/snail.png", "image/png", NULL, &r), 0);
    assert_true(r.is_delivered);
    assert_string_equal(r.content, "❌ I can only read images uploaded to Discord.");
    harness_reply_cleanup(&r);
    /* The same port on another address is another origin too. */
    char url[128];
    snprintf(url, sizeof url, "http://localhost:%s/attachments/snail.png", strrchr(fake_http_url(fx->f), ':') + 1);
    assert_int_equal(analyze(fx, url, "image/png", "100000000000000077", &r), 0);
    assert_string_equal(r.content, "❌ I can only read images uploaded to Discord.");
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 0);
}

static void analyze_refuses_an_image_announced_over_the_cap_without_downloading_it(void **state)
{
    struct ai_fixture *fx = *state;
    char resolved[512];
    snprintf(resolved, sizeof resolved,
             "{\"attachments\":{\"700\":{\"id\":\"700\",\"filename\":\"big.png\","
             "\"url\":\"%s/attachments/big.png\",\"content_type\":\"image/png\",\"size\":%d}}}",
             fake_http_url(fx->f), 10 * 1024 * 1024 + 1);
    struct harness_reply r;
    assert_int_equal(harness_call(fx->h,
                                  &(struct harness_call){.name = "snail",
                                                         .options = "[{\"name\":\"analyze\",\"type\":1,\"options\":["
                                                                    "{\"name\":\"screenshot\",\"type\":11,"
                                                                    "\"value\":\"700\"}]}]",
                                                         .resolved = resolved},
                                  &r),
                     0);
    assert_refused_at_once(fx, &r,
                           "❌ That image is too big for me to analyze (the limit is 10 MB). Please send a "
                           "smaller screenshot.");
}

static void analyze_explains_an_expired_attachment(void **state)
{
    struct ai_fixture *fx = *state;
    fake_http_reply(fx->f, 404, NULL, "not found");
    struct harness_reply r;
    assert_int_equal(analyze(fx, NULL, "image/png", NULL, &r), 0);
    assert_string_equal(r.content, "❌ I couldn't download that image: the link has expired or the file was deleted. "
                                   "Please upload it again.");
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 1); /* no vision request */
}

static void analyze_words_a_refused_vision_request(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_png(fx->f);
    fake_http_reply(fx->f, 400, NULL,
                    "{\"error\":{\"message\":\"Invalid image.\",\"type\":\"invalid_request_error\","
                    "\"code\":\"invalid_image\"}}");
    struct harness_reply r;
    assert_int_equal(analyze(fx, NULL, "image/png", NULL, &r), 0);
    assert_string_equal(r.content, "❌ Analysis failed: Invalid image.");
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
    assert_int_equal(fake_http_count(fx->f), 2); /* a 400 is not retried */
    assert_int_equal(harness_counts(fx->h).snail_stats, 0);
}

static void analyze_refuses_an_answer_that_is_not_json(void **state)
{
    struct ai_fixture *fx = *state;
    ai_queue_png(fx->f);
    ai_queue_chat(fx->f, "Sorry, I can't read that screenshot.");
    struct harness_reply r;
    assert_int_equal(analyze(fx, NULL, "image/png", NULL, &r), 0);
    assert_string_equal(r.content, "❌ Analysis failed: the vision model returned invalid JSON.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_counts(fx->h).snail_stats, 0);
}

static void analyze_without_ai_is_refused_at_once(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){
                                      .name = "snail",
                                      .options = "[{\"name\":\"analyze\",\"type\":1,\"options\":["
                                                 "{\"name\":\"screenshot\",\"type\":11,\"value\":\"700\"}]}]",
                                      .resolved = "{\"attachments\":{\"700\":{\"id\":\"700\",\"filename\":\"a.png\","
                                                  "\"url\":\"https://cdn.discordapp.com/a.png\","
                                                  "\"content_type\":\"image/png\",\"size\":70}}}"},
                                  &r),
                     0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🤖 AI is not configured on this server, so `/snail analyze` is unavailable. "
                                   "An admin can set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model).");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(h), 0);
}

int main(void)
{
    /* The harness keeps the model settings of the environment: name them, so the requests
     * show which one was used. */
    setenv("VISION_MODEL", VISION_MODEL, 1);
    setenv("OPENAI_MODEL", CHAT_MODEL, 1);
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(test_answers_the_specifications_worked_example),
        HARNESS_TEST(calc_answers_the_reference_numbers_at_once),
        HARNESS_TEST(calc_works_where_only_the_user_installed_slimy),
        HARNESS_TEST(calc_matches_every_golden_vector),
        HARNESS_TEST(calc_refuses_a_tier_out_of_every_range),
        HARNESS_TEST(calc_refuses_malformed_and_out_of_range_levels),
        HARNESS_TEST(sheet_without_rows_says_so),
        HARNESS_TEST(sheet_lists_the_newest_rows_of_the_user_in_this_server),
        HARNESS_TEST(sheet_of_another_user_uses_their_resolved_name),
        HARNESS_TEST(sheet_setup_explains_where_stats_live),
        AI_TEST_ATTACHMENTS(analyze_reads_the_screenshot_and_saves_the_stats),
        AI_TEST_ATTACHMENTS(analyze_refuses_a_file_that_is_not_an_image),
        AI_TEST_ATTACHMENTS(analyze_without_an_attachment_is_refused_at_once),
        AI_TEST_ATTACHMENTS(analyze_refuses_a_url_on_a_host_not_allowed),
        AI_TEST_ATTACHMENTS(analyze_refuses_an_image_announced_over_the_cap_without_downloading_it),
        AI_TEST_ATTACHMENTS(analyze_explains_an_expired_attachment),
        AI_TEST_ATTACHMENTS(analyze_words_a_refused_vision_request),
        AI_TEST_ATTACHMENTS(analyze_refuses_an_answer_that_is_not_json),
        HARNESS_TEST(analyze_without_ai_is_refused_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
