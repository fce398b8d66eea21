/* test_response.c — unit tests of src/interactions/response.c and message.c: the type-4 message
 * response (content, flags, allowed_mentions, embeds, no inline files, the 2000-character cut with
 * "…"), the type-5 and PONG bodies, webhook payloads (attachments, flags, with_extras, escaping),
 * and the message builder's limits. JSON is parsed back with cJSON rather than compared as text,
 * except where Discord's docs give the exact body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../support/utf8_check.h"

#include "core/buf.h"
#include "core/status.h"
#include "interactions/component.h"
#include "interactions/message.h"
#include "interactions/response.h"

#define ELLIPSIS "\xE2\x80\xA6" /* U+2026 HORIZONTAL ELLIPSIS */

/* ---- helpers ---- */


/* Repeats unit `times` times into a new NUL-terminated string. */
static char *repeat(const char *unit, size_t times)
{
    size_t unit_len = strlen(unit);
    char *s = malloc(unit_len * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * unit_len, unit, unit_len);
    s[unit_len * times] = '\0';
    return s;
}

/* Parses and frees a JSON string returned by the code under test. */
static cJSON *parse_owned(char *json)
{
    assert_non_null(json);
    cJSON *doc = cJSON_Parse(json);
    if (!doc)
        fail_msg("not valid JSON: %s", json);
    free(json);
    return doc;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        fail_msg("missing key \"%s\"", key);
    return v;
}

static bool has(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

static const char *get_string(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double get_number(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

/* allowed_mentions must be exactly {"parse":[]}: nothing typed by a user or a model pings. */
static void assert_no_mentions(const cJSON *data)
{
    const cJSON *am = get(data, "allowed_mentions");
    assert_true(cJSON_IsObject(am));
    const cJSON *parse = get(am, "parse");
    assert_true(cJSON_IsArray(parse));
    assert_int_equal(cJSON_GetArraySize(parse), 0);
    assert_int_equal(cJSON_GetArraySize(am), 1);
}

/* Builds the type-4 response for m and returns its "data" object (the root is in *root). */
static const cJSON *message_response(const struct message *m, cJSON **root)
{
    *root = parse_owned(response_message_json(m));
    assert_int_equal((int)get_number(*root, "type"), 4);
    assert_int_equal(cJSON_GetArraySize(*root), 2); /* type and data, nothing else */
    const cJSON *data = get(*root, "data");
    assert_true(cJSON_IsObject(data));
    return data;
}

static cJSON *embed(const char *title)
{
    cJSON *e = cJSON_CreateObject();
    assert_non_null(e);
    assert_non_null(cJSON_AddStringToObject(e, "title", title));
    return e;
}

/* ---- fixed bodies ---- */

static void test_fixed_bodies(void **state)
{
    (void)state;
    assert_string_equal(RESPONSE_PONG_JSON, "{\"type\":1}");

    char *deferred = response_deferred_json(false);
    assert_non_null(deferred);
    assert_string_equal(deferred, "{\"type\":5}");
    free(deferred);

    deferred = response_deferred_json(true);
    assert_non_null(deferred);
    assert_string_equal(deferred, "{\"type\":5,\"data\":{\"flags\":64}}");
    free(deferred);

    assert_int_equal(RESPONSE_PONG, 1);
    assert_int_equal(RESPONSE_CHANNEL_MESSAGE, 4);
    assert_int_equal(RESPONSE_DEFERRED_CHANNEL_MESSAGE, 5);
    assert_int_equal(MESSAGE_FLAG_EPHEMERAL, 64);
}

/* ---- type-4 responses ---- */

static void test_message_response_text(void **state)
{
    (void)state;
    struct message m;
    message_init(&m);
    assert_int_equal(message_set_text(&m, "hello %s", "@everyone"), SLIMY_OK);

    cJSON *root;
    const cJSON *data = message_response(&m, &root);
    assert_string_equal(get_string(data, "content"), "hello @everyone");
    assert_false(has(data, "flags")); /* not ephemeral: no flags at all */
    assert_false(has(data, "embeds"));
    assert_false(has(data, "attachments"));
    assert_no_mentions(data);
    cJSON_Delete(root);

    /* Ephemeral. */
    m.flags = MESSAGE_FLAG_EPHEMERAL;
    data = message_response(&m, &root);
    assert_int_equal((int)get_number(data, "flags"), 64);
    assert_string_equal(get_string(data, "content"), "hello @everyone");
    assert_no_mentions(data);
    cJSON_Delete(root);

    /* The message is not changed by serialising it. */
    assert_int_equal(m.content.len, strlen("hello @everyone"));
    assert_string_equal(m.content.data, "hello @everyone");
    message_cleanup(&m);
}

static void test_message_response_embeds_and_files(void **state)
{
    (void)state;
    struct message m;
    message_init(&m);
    assert_int_equal(message_set_text(&m, "see below"), SLIMY_OK);
    assert_int_equal(message_add_embed(&m, embed("First")), SLIMY_OK);
    cJSON *second = embed("Second");
    assert_non_null(cJSON_AddStringToObject(second, "description", "more"));
    assert_non_null(cJSON_AddNumberToObject(second, "color", 0x57F287));
    assert_int_equal(message_add_embed(&m, second), SLIMY_OK);

    cJSON *root;
    const cJSON *data = message_response(&m, &root);
    const cJSON *embeds = get(data, "embeds");
    assert_true(cJSON_IsArray(embeds));
    assert_int_equal(cJSON_GetArraySize(embeds), 2);
    assert_string_equal(get_string(cJSON_GetArrayItem(embeds, 0), "title"), "First");
    assert_string_equal(get_string(cJSON_GetArrayItem(embeds, 1), "description"), "more");
    assert_int_equal((int)get_number(cJSON_GetArrayItem(embeds, 1), "color"), 0x57F287);
    cJSON_Delete(root);

    /* A file can never travel in an inline response: no attachments key, the rest unchanged. */
    static const char png[] = "\x89PNG\r\n\x1a\n";
    assert_int_equal(message_attach(&m, "image.png", "image/png", png, sizeof png - 1), SLIMY_OK);
    data = message_response(&m, &root);
    assert_false(has(data, "attachments"));
    assert_string_equal(get_string(data, "content"), "see below");
    assert_int_equal(cJSON_GetArraySize(get(data, "embeds")), 2);
    assert_no_mentions(data);
    cJSON_Delete(root);

    /* The message still owns its embeds (they were copied, not moved). */
    assert_int_equal(cJSON_GetArraySize(m.embeds), 2);
    message_cleanup(&m);
}

/* Checks that the content of the type-4 response for `text` is exactly `expected`. */
static void assert_response_content(const char *text, const char *expected)
{
    struct message m;
    message_init(&m);
    assert_int_equal(message_set_text(&m, "%s", text), SLIMY_OK);
    cJSON *root;
    const cJSON *data = message_response(&m, &root);
    const char *content = get_string(data, "content");
    size_t len = strlen(content);
    size_t chars = utf8_code_points(content, len);
    if (chars == SIZE_MAX)
        fail_msg("content is not valid UTF-8");
    assert_true(chars <= MESSAGE_CONTENT_MAX_CHARS);
    if (strcmp(content, expected) != 0)
        fail_msg("content of %zu bytes / %zu chars differs from the expected %zu bytes / %zu chars", len, chars,
                 strlen(expected), utf8_code_points(expected, strlen(expected)));
    cJSON_Delete(root);
    message_cleanup(&m);
}

/* Over 2000 characters, the inline content becomes the first 1999 characters and "…": 2000 code
 * points in all. Characters are code points, not bytes. */
static void test_message_response_cut(void **state)
{
    (void)state;
    /* Exactly 2000 characters fit untouched, whatever their byte length. */
    char *text = repeat("a", 2000);
    assert_response_content(text, text);
    free(text);
    text = repeat("\xC3\xA9", 2000); /* é, 2 bytes: 4000 bytes */
    assert_response_content(text, text);
    free(text);
    text = repeat("\xF0\x9F\x98\x80", 2000); /* 😀, 4 bytes: 8000 bytes */
    assert_response_content(text, text);
    free(text);

    static const char *const units[] = {"a", "\xC3\xA9", "\xE2\x82\xAC" /* € */, "\xF0\x9F\x98\x80"};
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        static const size_t lengths[] = {2001, 2002, 4000, 9000};
        for (size_t l = 0; l < sizeof lengths / sizeof lengths[0]; l++) {
            text = repeat(units[u], lengths[l]);
            char *kept = repeat(units[u], 1999);
            size_t kept_len = strlen(kept);
            char *expected = malloc(kept_len + sizeof ELLIPSIS);
            assert_non_null(expected);
            memcpy(expected, kept, kept_len);
            memcpy(expected + kept_len, ELLIPSIS, sizeof ELLIPSIS);
            assert_int_equal(utf8_code_points(expected, strlen(expected)), 2000);
            assert_response_content(text, expected);
            free(expected);
            free(kept);
            free(text);
        }
    }

    /* Mixed widths: each unit is 3 characters in 7 bytes ("aé😀" and its rotations). 700 units are
     * 2100 characters; the first 1999 are 666 whole units (1998 characters) and the unit's first
     * character, so the cut falls after a 1-, 2- and 4-byte character in turn. */
    static const struct {
        const char *unit;
        const char *first;
    } mixed[] = {
        {"a\xC3\xA9\xF0\x9F\x98\x80", "a"},
        {"\xC3\xA9\xF0\x9F\x98\x80"
         "a",
         "\xC3\xA9"},
        {"\xF0\x9F\x98\x80"
         "a\xC3\xA9",
         "\xF0\x9F\x98\x80"},
    };
    for (size_t u = 0; u < sizeof mixed / sizeof mixed[0]; u++) {
        assert_int_equal(strlen(mixed[u].unit), 7);
        text = repeat(mixed[u].unit, 700);
        char *kept = repeat(mixed[u].unit, 666);
        char expected[666 * 7 + 4 + sizeof ELLIPSIS];
        int n = snprintf(expected, sizeof expected, "%s%s%s", kept, mixed[u].first, ELLIPSIS);
        assert_true(n > 0 && (size_t)n < sizeof expected);
        assert_int_equal(utf8_code_points(expected, strlen(expected)), 2000);
        assert_response_content(text, expected);
        free(kept);
        free(text);
    }
}

/* Quotes, backslashes, newlines, control characters and non-ASCII survive JSON encoding. */
static void test_content_escaping_round_trip(void **state)
{
    (void)state;
    static const char tricky[] = "say \"hi\"\n\\path\\to\\file\t</script>\r\n\x01\x1f end: "
                                 "\xC3\xBCn\xC3\xAF \xF0\x9F\x90\x8C {\"type\":1} \\u0041 '";
    struct message m;
    message_init(&m);
    assert_int_equal(message_set_text(&m, "%s", tricky), SLIMY_OK);
    cJSON *root;
    const cJSON *data = message_response(&m, &root);
    assert_string_equal(get_string(data, "content"), tricky);
    cJSON_Delete(root);

    cJSON *payload = response_webhook_payload(&m, tricky, strlen(tricky), true, 0);
    assert_non_null(payload);
    char *printed = cJSON_PrintUnformatted(payload);
    assert_non_null(printed);
    cJSON_Delete(payload);
    cJSON *reparsed = parse_owned(printed);
    assert_string_equal(get_string(reparsed, "content"), tricky);
    cJSON_Delete(reparsed);
    message_cleanup(&m);
}

/* ---- webhook payloads ---- */

static void test_webhook_payload(void **state)
{
    (void)state;
    struct message m;
    message_init(&m);
    assert_int_equal(message_set_text(&m, "Here you go"), SLIMY_OK);
    assert_int_equal(message_add_embed(&m, embed("Result")), SLIMY_OK);
    assert_int_equal(message_attach(&m, "image.png", "image/png", "\x89PNG", 4), SLIMY_OK);
    assert_int_equal(message_attach(&m, "export.json", "application/json", "{}", 2), SLIMY_OK);

    /* With extras and no flags: content, embeds, attachments tying files[n] to names, no flags. */
    cJSON *p = response_webhook_payload(&m, m.content.data, m.content.len, true, 0);
    assert_non_null(p);
    assert_string_equal(get_string(p, "content"), "Here you go");
    assert_no_mentions(p);
    assert_false(has(p, "flags"));
    assert_int_equal(cJSON_GetArraySize(get(p, "embeds")), 1);
    assert_string_equal(get_string(cJSON_GetArrayItem(get(p, "embeds"), 0), "title"), "Result");
    const cJSON *atts = get(p, "attachments");
    assert_true(cJSON_IsArray(atts));
    assert_int_equal(cJSON_GetArraySize(atts), 2);
    for (int i = 0; i < 2; i++) {
        const cJSON *a = cJSON_GetArrayItem(atts, i);
        const cJSON *id = get(a, "id");
        assert_true(cJSON_IsNumber(id)); /* {"id": n} matches files[n] */
        assert_true(id->valuedouble == (double)i);
        assert_string_equal(get_string(a, "filename"), i == 0 ? "image.png" : "export.json");
    }
    cJSON_Delete(p);

    /* Flags only when non-zero. */
    p = response_webhook_payload(&m, "x", 1, true, MESSAGE_FLAG_EPHEMERAL);
    assert_non_null(p);
    assert_int_equal((int)get_number(p, "flags"), 64);
    cJSON_Delete(p);

    /* Without extras (a later chunk of a split reply): content only. */
    p = response_webhook_payload(&m, "part two", 8, false, 0);
    assert_non_null(p);
    assert_string_equal(get_string(p, "content"), "part two");
    assert_false(has(p, "embeds"));
    assert_false(has(p, "attachments"));
    assert_false(has(p, "flags"));
    assert_no_mentions(p);
    cJSON_Delete(p);
    p = response_webhook_payload(&m, "part two", 8, false, MESSAGE_FLAG_EPHEMERAL);
    assert_non_null(p);
    assert_false(has(p, "embeds"));
    assert_false(has(p, "attachments"));
    assert_int_equal((int)get_number(p, "flags"), 64);
    cJSON_Delete(p);

    /* The content is exactly len bytes of a buffer that need not end there. */
    static const char chunked[] = "first chunk|second chunk";
    p = response_webhook_payload(&m, chunked, 11, false, 0);
    assert_non_null(p);
    assert_string_equal(get_string(p, "content"), "first chunk");
    cJSON_Delete(p);
    /* NULL or empty content gives "". */
    p = response_webhook_payload(&m, NULL, 0, true, 0);
    assert_non_null(p);
    assert_string_equal(get_string(p, "content"), "");
    assert_int_equal(cJSON_GetArraySize(get(p, "attachments")), 2);
    cJSON_Delete(p);
    message_cleanup(&m);

    /* A plain message has neither embeds nor attachments even with extras. */
    message_init(&m);
    p = response_webhook_payload(&m, "plain", 5, true, 0);
    assert_non_null(p);
    assert_false(has(p, "embeds"));
    assert_false(has(p, "attachments"));
    cJSON_Delete(p);
    message_cleanup(&m);
}

/* ---- message builder ---- */

static void test_message_limits(void **state)
{
    (void)state;
    struct message m;
    message_init(&m);
    for (int i = 0; i < MESSAGE_MAX_EMBEDS; i++) {
        char title[16];
        snprintf(title, sizeof title, "e%d", i);
        assert_int_equal(message_add_embed(&m, embed(title)), SLIMY_OK);
    }
    assert_int_equal(cJSON_GetArraySize(m.embeds), 10);
    /* The 11th is refused and freed (LeakSanitizer checks it is not leaked). */
    assert_int_equal(message_add_embed(&m, embed("e10")), SLIMY_ETOOBIG);
    assert_int_equal(cJSON_GetArraySize(m.embeds), 10);
    assert_int_not_equal(message_add_embed(&m, NULL), SLIMY_OK);
    assert_int_equal(cJSON_GetArraySize(m.embeds), 10);

    char payload[8] = "abcdefg";
    for (int i = 0; i < MESSAGE_MAX_FILES; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d.txt", i);
        assert_int_equal(message_attach(&m, name, "text/plain", payload, (size_t)i % 8), SLIMY_OK);
    }
    assert_int_equal(m.n_files, 10);
    assert_int_equal(message_attach(&m, "f10.txt", "text/plain", payload, 3), SLIMY_ETOOBIG);
    assert_int_equal(m.n_files, 10);

    /* Files hold copies. */
    payload[0] = 'X';
    assert_string_equal(m.files[3].filename, "f3.txt");
    assert_string_equal(m.files[3].content_type, "text/plain");
    assert_int_equal(m.files[3].len, 3);
    assert_memory_equal(m.files[3].data, "abc", 3);
    assert_int_equal(m.files[0].len, 0);

    /* The text cap: exactly MESSAGE_TEXT_MAX_BYTES fits, one byte more does not. */
    assert_int_equal(message_set_text(&m, "%*s", MESSAGE_TEXT_MAX_BYTES, ""), SLIMY_OK);
    assert_int_equal(m.content.len, MESSAGE_TEXT_MAX_BYTES);
    assert_int_equal(message_set_text(&m, "%*s", MESSAGE_TEXT_MAX_BYTES + 1, ""), SLIMY_ETOOBIG);
    /* Setting text replaces it. */
    assert_int_equal(message_set_text(&m, "one"), SLIMY_OK);
    assert_int_equal(message_set_text(&m, "two"), SLIMY_OK);
    assert_string_equal(m.content.data, "two");
    assert_int_equal(m.content.len, 3);
    message_cleanup(&m);
    assert_int_equal(m.n_files, 0);
    assert_null(m.embeds);
}

static void test_message_is_empty(void **state)
{
    (void)state;
    struct message m;
    message_init(&m);
    assert_true(message_is_empty(&m));
    assert_int_equal(message_set_text(&m, "%s", ""), SLIMY_OK);
    assert_true(message_is_empty(&m)); /* empty text is no content */
    m.flags = MESSAGE_FLAG_EPHEMERAL;
    assert_true(message_is_empty(&m)); /* flags alone are not a message */
    assert_int_equal(message_set_text(&m, " "), SLIMY_OK);
    assert_false(message_is_empty(&m));
    message_cleanup(&m);
    assert_true(message_is_empty(&m));

    assert_int_equal(message_add_embed(&m, embed("only an embed")), SLIMY_OK);
    assert_false(message_is_empty(&m));
    message_cleanup(&m);
    assert_true(message_is_empty(&m));

    assert_int_equal(message_attach(&m, "empty.txt", "text/plain", "", 0), SLIMY_OK);
    assert_false(message_is_empty(&m)); /* a file, even an empty one */
    message_cleanup(&m);
    assert_true(message_is_empty(&m));
}

/* ---- components and the component/autocomplete responses ---- */

/* A row with one button, as component.h builds it. */
static cJSON *button_row(const char *custom_id)
{
    cJSON *row = component_row();
    assert_non_null(row);
    assert_int_equal(component_button(row, BUTTON_PRIMARY, NULL, "Go", custom_id), SLIMY_OK);
    return row;
}

static const char *row_button_id(const cJSON *components, int row)
{
    const cJSON *button = cJSON_GetArrayItem(get(cJSON_GetArrayItem(components, row), "components"), 0);
    return get_string(button, "custom_id");
}

static void test_component_bodies(void **state)
{
    (void)state;
    char *json = response_deferred_update_json();
    assert_non_null(json);
    assert_string_equal(json, "{\"type\":6}");
    free(json);

    /* Autocomplete: the choices copied; none is an empty list, never a missing one. */
    json = response_suggestions_json(NULL);
    assert_non_null(json);
    assert_string_equal(json, "{\"type\":8,\"data\":{\"choices\":[]}}");
    free(json);
    cJSON *choices = cJSON_Parse("[{\"name\":\"A \\\"quoted\\\" one\",\"value\":\"a\"}]");
    assert_non_null(choices);
    cJSON *root = parse_owned(response_suggestions_json(choices));
    assert_int_equal((int)get_number(root, "type"), 8);
    const cJSON *got = get(get(root, "data"), "choices");
    assert_int_equal(cJSON_GetArraySize(got), 1);
    assert_string_equal(get_string(cJSON_GetArrayItem(got, 0), "name"), "A \"quoted\" one");
    assert_string_equal(get_string(cJSON_GetArrayItem(got, 0), "value"), "a");
    cJSON_Delete(root);
    assert_int_equal(cJSON_GetArraySize(choices), 1); /* a copy: the caller's list is untouched */
    cJSON_Delete(choices);

    assert_int_equal(RESPONSE_DEFERRED_UPDATE_MESSAGE, 6);
    assert_int_equal(RESPONSE_UPDATE_MESSAGE, 7);
    assert_int_equal(RESPONSE_AUTOCOMPLETE_RESULT, 8);
}

static void test_components_serialised(void **state)
{
    (void)state;
    struct message m;
    message_init(&m);
    assert_int_equal(message_set_text(&m, "Pick"), SLIMY_OK);
    assert_int_equal(message_add_row(&m, button_row("a:one")), SLIMY_OK);
    assert_int_equal(message_add_row(&m, button_row("a:two")), SLIMY_OK);

    /* Type 4 and type 7 carry the rows in data, in order. */
    cJSON *root = NULL;
    const cJSON *data = message_response(&m, &root);
    const cJSON *components = get(data, "components");
    assert_int_equal(cJSON_GetArraySize(components), 2);
    assert_string_equal(row_button_id(components, 0), "a:one");
    assert_string_equal(row_button_id(components, 1), "a:two");
    cJSON_Delete(root);
    root = parse_owned(response_message_json_typed(&m, RESPONSE_UPDATE_MESSAGE));
    assert_int_equal((int)get_number(root, "type"), 7);
    assert_string_equal(get_string(get(root, "data"), "content"), "Pick");
    assert_int_equal(cJSON_GetArraySize(get(get(root, "data"), "components")), 2);
    cJSON_Delete(root);

    /* The webhook payload: with the extras only (a later chunk of a split reply has no buttons). */
    cJSON *p = response_webhook_payload(&m, "Pick", 4, true, 0);
    assert_non_null(p);
    assert_string_equal(row_button_id(get(p, "components"), 1), "a:two");
    cJSON_Delete(p);
    p = response_webhook_payload(&m, "more", 4, false, 0);
    assert_non_null(p);
    assert_false(has(p, "components"));
    cJSON_Delete(p);

    /* Cleared: an empty array, which is what removes the buttons of the message replaced. */
    assert_int_equal(message_clear_components(&m), SLIMY_OK);
    p = response_webhook_payload(&m, "Done", 4, true, 0);
    assert_true(cJSON_IsArray(get(p, "components")));
    assert_int_equal(cJSON_GetArraySize(get(p, "components")), 0);
    cJSON_Delete(p);
    root = parse_owned(response_message_json_typed(&m, RESPONSE_UPDATE_MESSAGE));
    assert_int_equal(cJSON_GetArraySize(get(get(root, "data"), "components")), 0);
    cJSON_Delete(root);
    message_cleanup(&m);

    /* Never set: no "components" at all (an edit would otherwise remove the message's buttons). */
    message_init(&m);
    assert_int_equal(message_set_text(&m, "plain"), SLIMY_OK);
    data = message_response(&m, &root);
    assert_false(has(data, "components"));
    cJSON_Delete(root);
    p = response_webhook_payload(&m, "plain", 5, true, 0);
    assert_false(has(p, "components"));
    cJSON_Delete(p);
    message_cleanup(&m);
}

static void test_message_rows_limit(void **state)
{
    (void)state;
    struct message m;
    message_init(&m);
    for (int i = 0; i < MESSAGE_MAX_ROWS; i++)
        assert_int_equal(message_add_row(&m, button_row("a:b")), SLIMY_OK);
    /* The 6th row is refused and freed (LeakSanitizer checks it), and a NULL row is refused. */
    assert_int_equal(message_add_row(&m, button_row("a:c")), SLIMY_ETOOBIG);
    assert_int_not_equal(message_add_row(&m, NULL), SLIMY_OK);
    assert_int_equal(cJSON_GetArraySize(m.components), MESSAGE_MAX_ROWS);
    message_cleanup(&m);
    assert_null(m.components);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_bodies),
        cmocka_unit_test(test_message_response_text),
        cmocka_unit_test(test_message_response_embeds_and_files),
        cmocka_unit_test(test_message_response_cut),
        cmocka_unit_test(test_content_escaping_round_trip),
        cmocka_unit_test(test_webhook_payload),
        cmocka_unit_test(test_message_limits),
        cmocka_unit_test(test_message_is_empty),
        cmocka_unit_test(test_component_bodies),
        cmocka_unit_test(test_components_serialised),
        cmocka_unit_test(test_message_rows_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
