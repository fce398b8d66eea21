/* test_component.c — unit tests of src/interactions/component.c: the JSON of action rows, buttons
 * and string selects as Discord's "Message Components" docs describe them, the refusals of values
 * Discord would reject (empty labels, over-long custom_ids, a 26th option), custom_id building
 * ("command:action:arg...", no empty part, no ':' inside a part, at most 100 characters) and
 * reading a field back with component_id_field(). JSON is read back with cJSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/status.h"
#include "interactions/component.h"

/* ---- helpers ---- */

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        fail_msg("missing key \"%s\"", key);
    return v;
}

static int get_int(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);
    assert_true(cJSON_IsNumber(v));
    return v->valueint;
}

static const char *get_string(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* A string of n copies of c. */
static void fill(char *out, size_t n, char c)
{
    memset(out, c, n);
    out[n] = '\0';
}

/* ---- builders ---- */

static void test_row_and_buttons(void **state)
{
    (void)state;
    cJSON *row = component_row();
    assert_non_null(row);
    assert_int_equal(get_int(row, "type"), 1);
    const cJSON *children = get(row, "components");
    assert_true(cJSON_IsArray(children));
    assert_int_equal(cJSON_GetArraySize(children), 0);

    assert_int_equal(component_button(row, BUTTON_DANGER, "🗑️", "Delete all", "forget:confirm:1"), SLIMY_OK);
    assert_int_equal(component_button(row, BUTTON_SECONDARY, NULL, "Cancel", "forget:cancel:1"), SLIMY_OK);
    assert_int_equal(cJSON_GetArraySize(children), 2);

    const cJSON *b = cJSON_GetArrayItem(children, 0);
    assert_int_equal(get_int(b, "type"), 2);
    assert_int_equal(get_int(b, "style"), 4);
    assert_string_equal(get_string(b, "label"), "Delete all");
    assert_string_equal(get_string(b, "custom_id"), "forget:confirm:1");
    assert_string_equal(get_string(get(b, "emoji"), "name"), "🗑️");
    /* No emoji: no "emoji" member at all (Discord refuses an empty one). */
    b = cJSON_GetArrayItem(children, 1);
    assert_int_equal(get_int(b, "style"), 2);
    assert_null(cJSON_GetObjectItemCaseSensitive(b, "emoji"));

    /* Refused: nothing is added. */
    char id[COMPONENT_ID_SIZE + 1];
    fill(id, COMPONENT_ID_SIZE, 'x'); /* 101 characters */
    assert_int_equal(component_button(row, BUTTON_PRIMARY, NULL, "Go", id), SLIMY_EINVAL);
    fill(id, COMPONENT_ID_SIZE - 1, 'x'); /* exactly 100: fine */
    assert_int_equal(component_button(row, BUTTON_PRIMARY, NULL, "Go", id), SLIMY_OK);
    assert_int_equal(component_button(row, BUTTON_PRIMARY, NULL, "", "a:b"), SLIMY_EINVAL);
    assert_int_equal(component_button(row, BUTTON_PRIMARY, NULL, NULL, "a:b"), SLIMY_EINVAL);
    assert_int_equal(component_button(row, BUTTON_PRIMARY, NULL, "Go", NULL), SLIMY_EINVAL);
    assert_int_equal(component_button(NULL, BUTTON_PRIMARY, NULL, "Go", "a:b"), SLIMY_EINVAL);
    assert_int_equal(cJSON_GetArraySize(children), 3);
    cJSON_Delete(row);
}

static void test_select_menu(void **state)
{
    (void)state;
    cJSON *row = component_row();
    cJSON *menu = component_select(row, "dream:style:1", "Pick one");
    assert_non_null(menu);
    assert_int_equal(cJSON_GetArraySize(get(row, "components")), 1);
    assert_true(cJSON_GetArrayItem(get(row, "components"), 0) == menu); /* borrowed from the row */
    assert_int_equal(get_int(menu, "type"), 3);
    assert_string_equal(get_string(menu, "custom_id"), "dream:style:1");
    assert_string_equal(get_string(menu, "placeholder"), "Pick one");

    assert_int_equal(component_select_option(menu, "Anime", "anime", "🎌", true), SLIMY_OK);
    assert_int_equal(component_select_option(menu, "Standard", "standard", NULL, false), SLIMY_OK);
    const cJSON *options = get(menu, "options");
    const cJSON *o = cJSON_GetArrayItem(options, 0);
    assert_string_equal(get_string(o, "label"), "Anime");
    assert_string_equal(get_string(o, "value"), "anime");
    assert_string_equal(get_string(get(o, "emoji"), "name"), "🎌");
    assert_true(cJSON_IsTrue(get(o, "default")));
    o = cJSON_GetArrayItem(options, 1);
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "default")); /* only the default says so */
    assert_null(cJSON_GetObjectItemCaseSensitive(o, "emoji"));

    /* Empty label or value, a value past 100 characters: refused. */
    char value[102];
    fill(value, 101, 'v');
    assert_int_equal(component_select_option(menu, "", "x", NULL, false), SLIMY_EINVAL);
    assert_int_equal(component_select_option(menu, "X", "", NULL, false), SLIMY_EINVAL);
    assert_int_equal(component_select_option(menu, "X", value, NULL, false), SLIMY_EINVAL);
    assert_int_equal(component_select_option(NULL, "X", "x", NULL, false), SLIMY_EINVAL);
    /* Discord's 25 options: the 26th is refused. */
    for (int i = 2; i < 25; i++) {
        char v[8];
        snprintf(v, sizeof v, "v%d", i);
        assert_int_equal(component_select_option(menu, v, v, NULL, false), SLIMY_OK);
    }
    assert_int_equal(cJSON_GetArraySize(options), 25);
    assert_int_equal(component_select_option(menu, "26th", "v25", NULL, false), SLIMY_EINVAL);
    assert_int_equal(cJSON_GetArraySize(options), 25);

    /* No placeholder: none sent. A custom_id past 100 characters: no menu. */
    cJSON *plain = component_select(row, "a:b", NULL);
    assert_non_null(plain);
    assert_null(cJSON_GetObjectItemCaseSensitive(plain, "placeholder"));
    char id[COMPONENT_ID_SIZE + 1];
    fill(id, COMPONENT_ID_SIZE, 'x');
    assert_null(component_select(row, id, NULL));
    assert_null(component_select(NULL, "a:b", NULL));
    assert_int_equal(cJSON_GetArraySize(get(row, "components")), 2);
    cJSON_Delete(row);
}

/* ---- custom_ids ---- */

static void test_component_id(void **state)
{
    (void)state;
    char id[COMPONENT_ID_SIZE];
    assert_int_equal(component_id(id, "dream", "reroll", "123", "anime", NULL), SLIMY_OK);
    assert_string_equal(id, "dream:reroll:123:anime");
    assert_int_equal(component_id(id, "forget", "cancel", NULL), SLIMY_OK);
    assert_string_equal(id, "forget:cancel");

    /* An empty part or one holding the separator would shift every field after it: refused,
     * and out is left empty so a caller ignoring the status sends nothing usable. */
    memcpy(id, "stale", 6);
    assert_int_equal(component_id(id, "dream", "reroll", "", "anime", NULL), SLIMY_EINVAL);
    assert_string_equal(id, "");
    assert_int_equal(component_id(id, "dream", "reroll", "12:3", NULL), SLIMY_EINVAL);
    assert_string_equal(id, "");
    assert_int_equal(component_id(id, "", "reroll", NULL), SLIMY_EINVAL);
    assert_int_equal(component_id(id, "dream", NULL, NULL), SLIMY_EINVAL);
    assert_int_equal(component_id(id, "dream", ":", NULL), SLIMY_EINVAL);

    /* 100 characters fit; 101 do not. "a:" + 98 = 100. */
    char arg[100];
    fill(arg, 96, 'z');
    assert_int_equal(component_id(id, "a", "b", arg, NULL), SLIMY_OK); /* 1+1+1+1+96 = 100 */
    assert_int_equal(strlen(id), 100);
    fill(arg, 97, 'z');
    assert_int_equal(component_id(id, "a", "b", arg, NULL), SLIMY_ETOOBIG);
    assert_string_equal(id, "");
}

static void test_component_id_field(void **state)
{
    (void)state;
    char out[32];
    const char *id = "dream:reroll:123:anime";
    assert_true(component_id_field(id, 0, out, sizeof out));
    assert_string_equal(out, "dream");
    assert_true(component_id_field(id, 1, out, sizeof out));
    assert_string_equal(out, "reroll");
    assert_true(component_id_field(id, 2, out, sizeof out));
    assert_string_equal(out, "123");
    assert_true(component_id_field(id, 3, out, sizeof out));
    assert_string_equal(out, "anime");
    assert_false(component_id_field(id, 4, out, sizeof out)); /* past the last */

    /* A field that does not fit, an empty one (a forged "a::b" or "a:"), none at all. */
    assert_false(component_id_field(id, 1, out, 6)); /* "reroll" needs 7 bytes */
    assert_true(component_id_field(id, 1, out, 7));
    assert_string_equal(out, "reroll");
    assert_false(component_id_field("a::b", 1, out, sizeof out));
    assert_true(component_id_field("a::b", 2, out, sizeof out));
    assert_string_equal(out, "b");
    assert_false(component_id_field("a:", 1, out, sizeof out));
    assert_false(component_id_field("", 0, out, sizeof out));
    assert_false(component_id_field("plain", 1, out, sizeof out));
    assert_true(component_id_field("plain", 0, out, sizeof out));
    assert_string_equal(out, "plain");

    /* What component_id() writes reads back field by field. */
    char built[COMPONENT_ID_SIZE];
    assert_int_equal(component_id(built, "forget", "confirm", "100000000000000001", NULL), SLIMY_OK);
    assert_true(component_id_field(built, 2, out, sizeof out));
    assert_string_equal(out, "100000000000000001");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_row_and_buttons),
        cmocka_unit_test(test_select_menu),
        cmocka_unit_test(test_component_id),
        cmocka_unit_test(test_component_id_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
