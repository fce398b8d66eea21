/* test_forget.c — /forget through the real dispatcher (tests/unit/support/harness.h): one
 * memory by id, or ALL of the user's memories in the scope, which first asks (two buttons) and
 * deletes only when its asker presses "Delete all"; an unknown id, another user's memory and a
 * memory of another scope are "not found" and stay stored; no consent is needed to delete. The
 * id field suggests the caller's own memories here as they type. Memories are seeded straight
 * into the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "utf8_check.h"

#define DM_SCOPE "dm:" HARNESS_CHANNEL
#define OTHER_USER "100000000000000009"

/* Stores a memory and writes its id into id. */
static void seed(struct harness *h, const char *user_id, const char *scope_id, const char *note, char id[STORE_ID_MAX])
{
    static unsigned n;
    char interaction_id[32];
    snprintf(interaction_id, sizeof interaction_id, "80000000000000%04u", ++n);
    struct store_memory_new m = {.user_id = user_id,
                                 .user_name = "someone",
                                 .scope_id = scope_id,
                                 .note = note,
                                 .interaction_id = interaction_id};
    assert_int_equal(store_memory_add(harness_store(h), &m, id), 0);
}

/* /forget id:<id> as the default user; asserts the deferred, ephemeral shape. */
static void forget(struct harness *h, const char *id, bool in_dm, struct harness_reply *r)
{
    char opts[256];
    snprintf(opts, sizeof opts, "[{\"name\":\"id\",\"type\":3,\"value\":\"%s\"}]", id);
    harness_call_deferred(h, &(struct harness_call){.name = "forget", .options = opts, .in_dm = in_dm}, r);
    assert_true(r->flags & 64);
}

static void forgetting_one_id_deletes_that_memory_only(void **state)
{
    struct harness *h = *state;
    char keep[STORE_ID_MAX], drop[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "keep me", keep);
    seed(h, HARNESS_USER, HARNESS_GUILD, "drop me", drop);

    struct harness_reply r;
    forget(h, drop, false, &r); /* no consent stored: deleting your own data never needs it */
    char expected[128];
    snprintf(expected, sizeof expected, "Memory `%s` has been removed", drop);
    assert_string_equal(harness_embed_title(&r, 0), "✅ Memory Deleted");
    assert_string_equal(harness_embed_description(&r, 0), expected);
    harness_reply_cleanup(&r);

    struct store_memories mem = {0};
    assert_int_equal(store_memory_list(harness_store(h), HARNESS_USER, HARNESS_GUILD, 10, &mem), 0);
    assert_int_equal(mem.n, 1);
    assert_string_equal(mem.items[0].id, keep);
    store_memories_free(&mem);
}

static void forgetting_the_same_id_twice_is_not_found_the_second_time(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "once", id);
    struct harness_reply r;
    forget(h, id, false, &r);
    assert_string_equal(harness_embed_title(&r, 0), "✅ Memory Deleted");
    harness_reply_cleanup(&r);
    forget(h, id, false, &r);
    char expected[160];
    snprintf(expected, sizeof expected, "❌ Memory `%s` not found or you don't have permission to delete it.", id);
    assert_string_equal(r.content, expected);
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
}

static void an_unknown_id_is_not_found(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "still here", id);
    struct harness_reply r;
    forget(h, "00000000-0000-4000-8000-000000000000", false, &r);
    assert_string_equal(r.content, "❌ Memory `00000000-0000-4000-8000-000000000000` not found or you don't have "
                                   "permission to delete it.");
    harness_reply_cleanup(&r);

    /* An id longer than any stored id cannot exist: not found too, not a generic failure. */
    char long_id[61];
    memset(long_id, 'f', 60);
    long_id[60] = '\0';
    forget(h, long_id, false, &r);
    char expected[160];
    snprintf(expected, sizeof expected, "❌ Memory `%s` not found or you don't have permission to delete it.", long_id);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
}

/* The echoed id is cut at 64 bytes on a character boundary: a cut inside "é" would make the reply
 * invalid UTF-8, which Discord refuses. */
static void a_long_id_is_echoed_cut_at_a_character_boundary(void **state)
{
    struct harness *h = *state;
    char id[80], expected[200];
    memset(id, 'a', 63);
    snprintf(id + 63, sizeof id - 63, "\xc3\xa9"); /* 63 + 2 bytes: é straddles byte 64 */
    struct harness_reply r;
    forget(h, id, false, &r);
    assert_true(utf8_code_points(r.content, strlen(r.content)) != SIZE_MAX);
    id[63] = '\0';
    snprintf(expected, sizeof expected, "❌ Memory `%s` not found or you don't have permission to delete it.", id);
    assert_string_equal(r.content, expected);
    harness_reply_cleanup(&r);
}

static void another_users_memory_is_not_found_and_kept(void **state)
{
    struct harness *h = *state;
    char theirs[STORE_ID_MAX];
    seed(h, OTHER_USER, HARNESS_GUILD, "not yours", theirs);
    struct harness_reply r;
    forget(h, theirs, false, &r);
    assert_non_null(strstr(r.content, "not found or you don't have permission to delete it."));
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, OTHER_USER, HARNESS_GUILD), 1);
}

static void a_memory_of_another_scope_is_not_found_and_kept(void **state)
{
    struct harness *h = *state;
    char in_dm[STORE_ID_MAX];
    seed(h, HARNESS_USER, DM_SCOPE, "saved in a DM", in_dm);
    struct harness_reply r;
    forget(h, in_dm, false, &r); /* asked in the server */
    assert_non_null(strstr(r.content, "not found or you don't have permission to delete it."));
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 1);

    forget(h, in_dm, true, &r); /* asked in the DM it was saved in */
    assert_string_equal(harness_embed_title(&r, 0), "✅ Memory Deleted");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 0);
}

#define QUESTION_SERVER "⚠️ Delete **all** your memories in **this server**? This cannot be undone."
#define QUESTION_DM "⚠️ Delete **all** your memories in **this DM**? This cannot be undone."
#define CONFIRM_ID "forget:confirm:" HARNESS_USER
#define CANCEL_ID "forget:cancel:" HARNESS_USER

/* Checks r carries the question's two buttons, for HARNESS_USER. */
static void assert_question_buttons(const struct harness_reply *r)
{
    assert_int_equal(cJSON_GetArraySize(r->components), 1);
    const cJSON *row = cJSON_GetArrayItem(r->components, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(row, "components")), 2);
    const cJSON *confirm = harness_component(r, CONFIRM_ID);
    const cJSON *cancel = harness_component(r, CANCEL_ID);
    assert_non_null(confirm);
    assert_non_null(cancel);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(confirm, "label")->valuestring, "Delete all");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(confirm, "style")->valueint, 4); /* danger */
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cancel, "label")->valuestring, "Cancel");
}

/* Presses custom_id on the question (in a DM or not) as user (NULL = HARNESS_USER). */
static void press(struct harness *h, const char *custom_id, const char *user, bool in_dm, struct harness_reply *r)
{
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){.type = HARNESS_COMPONENT,
                                                         .custom_id = custom_id,
                                                         .user_id = user,
                                                         .in_dm = in_dm,
                                                         .message = "{\"id\":\"61\",\"content\":\"" QUESTION_SERVER
                                                                    "\",\"flags\":64}"},
                                  r),
                     0);
    assert_int_equal(r->http_status, 200);
}

/* The answer replaced the question and removed its buttons (an empty components array). */
static void assert_buttons_removed(const struct harness_reply *r)
{
    assert_non_null(r->components);
    assert_true(cJSON_IsArray(r->components));
    assert_int_equal(cJSON_GetArraySize(r->components), 0);
}

static void all_asks_first_and_deletes_nothing(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "one", id);
    seed(h, HARNESS_USER, HARNESS_GUILD, "two", id);
    struct harness_reply r;
    forget(h, "all", false, &r); /* ALL in any case */
    assert_string_equal(r.content, QUESTION_SERVER);
    assert_null(r.embeds);
    assert_question_buttons(&r);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 2);

    forget(h, "ALL", true, &r);
    assert_string_equal(r.content, QUESTION_DM);
    assert_question_buttons(&r);
    harness_reply_cleanup(&r);
}

static void confirming_deletes_every_memory_of_the_user_in_this_scope_only(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "one", id);
    seed(h, HARNESS_USER, HARNESS_GUILD, "two", id);
    seed(h, HARNESS_USER, HARNESS_GUILD, "three", id);
    seed(h, HARNESS_USER, DM_SCOPE, "in a DM", id);
    seed(h, OTHER_USER, HARNESS_GUILD, "someone else's", id);

    struct harness_reply r;
    press(h, CONFIRM_ID, NULL, false, &r);
    assert_int_equal(r.type, 6); /* deferred: the question is edited once the rows are gone */
    assert_true(r.is_delivered);
    assert_true(r.flags & 64);
    assert_string_equal(harness_embed_title(&r, 0), "🧽 All Memories Deleted");
    assert_string_equal(harness_embed_description(&r, 0), "Deleted **3 memories** from **this server**");
    assert_buttons_removed(&r);
    harness_reply_cleanup(&r);

    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 0);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 1);
    assert_int_equal(harness_count_memories(h, OTHER_USER, HARNESS_GUILD), 1);
}

static void confirming_in_a_dm_with_one_memory_says_one_memory(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, DM_SCOPE, "only one", id);
    seed(h, HARNESS_USER, HARNESS_GUILD, "server one", id);
    struct harness_reply r;
    press(h, CONFIRM_ID, NULL, true, &r);
    assert_int_equal(r.type, 6);
    assert_string_equal(harness_embed_title(&r, 0), "🧽 All Memories Deleted");
    assert_string_equal(harness_embed_description(&r, 0), "Deleted **1 memory** from **this DM**");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 0);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
}

static void confirming_with_nothing_stored_deletes_zero(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    press(h, CONFIRM_ID, NULL, false, &r);
    assert_int_equal(r.type, 6);
    assert_string_equal(harness_embed_description(&r, 0), "Deleted **0 memories** from **this server**");
    harness_reply_cleanup(&r);
}

static void cancelling_deletes_nothing_and_removes_the_buttons(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "keep", id);
    struct harness_reply r;
    press(h, CANCEL_ID, NULL, false, &r);
    assert_int_equal(r.type, 7); /* at once: the question replaced */
    assert_false(r.is_delivered);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "👍 Cancelled. Nothing was deleted.");
    assert_buttons_removed(&r);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
    assert_int_equal(harness_deliveries(h), 0);
}

/* Anyone can send a custom_id: another user's press, or a mangled one, deletes nothing. */
static void only_the_asker_may_confirm(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "mine", id);
    seed(h, OTHER_USER, HARNESS_GUILD, "theirs", id);
    struct harness_reply r;
    press(h, CONFIRM_ID, OTHER_USER, false, &r);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, "🔒 That question was for someone else. Nothing was deleted.");
    assert_null(r.components); /* a new message: the question stays as it was */
    harness_reply_cleanup(&r);
    press(h, CANCEL_ID, OTHER_USER, false, &r);
    assert_string_equal(r.content, "🔒 That question was for someone else. Nothing was deleted.");
    harness_reply_cleanup(&r);

    static const char *const tampered[] = {"forget:confirm", "forget:confirm:", "forget:cancel"};
    for (size_t i = 0; i < sizeof tampered / sizeof tampered[0]; i++) {
        press(h, tampered[i], NULL, false, &r);
        assert_int_equal(r.type, 4);
        assert_true(r.flags & 64);
        assert_string_equal(r.content, "❌ This button is not valid anymore. Nothing was deleted.");
        harness_reply_cleanup(&r);
    }
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
    assert_int_equal(harness_count_memories(h, OTHER_USER, HARNESS_GUILD), 1);
    assert_int_equal(harness_deliveries(h), 0);
}

/* ---- autocomplete ---- */

/* Autocomplete of the id field with typed (plain text, no JSON escapes) as the default user. */
static void suggest(struct harness *h, const char *typed, bool in_dm, struct harness_reply *r)
{
    char opts[256];
    snprintf(opts, sizeof opts, "[{\"name\":\"id\",\"type\":3,\"value\":\"%s\",\"focused\":true}]", typed);
    assert_int_equal(
        harness_call(
            h, &(struct harness_call){.type = HARNESS_AUTOCOMPLETE, .name = "forget", .options = opts, .in_dm = in_dm},
            r),
        0);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->type, 8);
    assert_non_null(r->choices);
}

/* The values suggested, joined by ','. */
static const char *values(const struct harness_reply *r, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; harness_choice_value(r, i); i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? "," : "", harness_choice_value(r, i));
    return out;
}

static void autocomplete_suggests_own_memories_here_matching_the_text(void **state)
{
    struct harness *h = *state;
    char milk[STORE_ID_MAX], mom[STORE_ID_MAX], snail[STORE_ID_MAX], id[STORE_ID_MAX], expected[256], got[512];
    seed(h, HARNESS_USER, HARNESS_GUILD, "buy milk", milk);
    seed(h, HARNESS_USER, HARNESS_GUILD, "call mom", mom);
    seed(h, HARNESS_USER, HARNESS_GUILD, "Milk the snail", snail);
    seed(h, OTHER_USER, HARNESS_GUILD, "milk of someone else", id);
    seed(h, HARNESS_USER, DM_SCOPE, "milk in a DM", id);

    struct harness_reply r;
    suggest(h, "milk", false, &r); /* any case, newest first, only mine and only here */
    snprintf(expected, sizeof expected, "%s,%s", snail, milk);
    assert_string_equal(values(&r, got, sizeof got), expected);
    assert_string_equal(harness_choice_name(&r, 0), "Milk the snail"); /* the note is the name */
    assert_string_equal(harness_choice_name(&r, 1), "buy milk");
    harness_reply_cleanup(&r);

    /* "" suggests ALL first, then everything here; "al" and "AL" too ("call mom" holds "al"). */
    suggest(h, "", false, &r);
    snprintf(expected, sizeof expected, "ALL,%s,%s,%s", snail, mom, milk);
    assert_string_equal(values(&r, got, sizeof got), expected);
    assert_non_null(strstr(harness_choice_name(&r, 0), "ALL"));
    harness_reply_cleanup(&r);
    suggest(h, "al", false, &r);
    snprintf(expected, sizeof expected, "ALL,%s", mom);
    assert_string_equal(values(&r, got, sizeof got), expected);
    harness_reply_cleanup(&r);
    suggest(h, "ALL", false, &r); /* the note matches ignoring case as well */
    assert_string_equal(values(&r, got, sizeof got), expected);
    harness_reply_cleanup(&r);
    suggest(h, "alls", false, &r); /* no longer a prefix of ALL, and in no note */
    assert_string_equal(values(&r, got, sizeof got), "");
    harness_reply_cleanup(&r);

    /* The start of an id finds that memory. */
    char prefix[9];
    memcpy(prefix, mom, 8);
    prefix[8] = '\0';
    suggest(h, prefix, false, &r);
    assert_string_equal(values(&r, got, sizeof got), mom);
    harness_reply_cleanup(&r);

    /* In the DM: the DM's memory only. */
    suggest(h, "milk", true, &r);
    assert_int_equal(cJSON_GetArraySize(r.choices), 1);
    assert_string_equal(harness_choice_name(&r, 0), "milk in a DM");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 3); /* nothing deleted */
}

static void autocomplete_takes_pattern_characters_literally(void **state)
{
    struct harness *h = *state;
    char percent[STORE_ID_MAX], under[STORE_ID_MAX], bang[STORE_ID_MAX], id[STORE_ID_MAX], got[512];
    seed(h, HARNESS_USER, HARNESS_GUILD, "100% sure", percent);
    seed(h, HARNESS_USER, HARNESS_GUILD, "snake_case", under);
    seed(h, HARNESS_USER, HARNESS_GUILD, "wow!", bang);
    seed(h, HARNESS_USER, HARNESS_GUILD, "abc snakeXcase plain", id);

    struct harness_reply r;
    suggest(h, "%", false, &r);
    assert_string_equal(values(&r, got, sizeof got), percent);
    harness_reply_cleanup(&r);
    suggest(h, "e_c", false, &r);
    assert_string_equal(values(&r, got, sizeof got), under);
    harness_reply_cleanup(&r);
    suggest(h, "!", false, &r); /* the escape character itself */
    assert_string_equal(values(&r, got, sizeof got), bang);
    harness_reply_cleanup(&r);
}

static void autocomplete_suggests_at_most_25(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    for (int i = 0; i < 30; i++) {
        char note[32];
        snprintf(note, sizeof note, "note %02d", i);
        seed(h, HARNESS_USER, HARNESS_GUILD, note, id);
    }
    struct harness_reply r;
    suggest(h, "", false, &r);
    assert_int_equal(cJSON_GetArraySize(r.choices), 25);
    assert_string_equal(harness_choice_value(&r, 0), "ALL");
    assert_string_equal(harness_choice_name(&r, 1), "note 29"); /* newest first */
    harness_reply_cleanup(&r);
    suggest(h, "note", false, &r);
    assert_int_equal(cJSON_GetArraySize(r.choices), 25);
    assert_string_equal(harness_choice_name(&r, 24), "note 05");
    harness_reply_cleanup(&r);
}

/* A note of 150 characters is shown cut to Discord's 100. */
static void autocomplete_cuts_long_notes(void **state)
{
    struct harness *h = *state;
    char note[151], id[STORE_ID_MAX];
    memset(note, 'n', 150);
    note[150] = '\0';
    seed(h, HARNESS_USER, HARNESS_GUILD, note, id);
    struct harness_reply r;
    suggest(h, "nnn", false, &r);
    assert_int_equal(cJSON_GetArraySize(r.choices), 1);
    assert_int_equal(strlen(harness_choice_name(&r, 0)), 100);
    assert_string_equal(harness_choice_value(&r, 0), id);
    harness_reply_cleanup(&r);
}

static void an_empty_id_is_refused(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "untouched", id);
    struct harness_reply r;
    forget(h, "", false, &r);
    assert_string_equal(r.content, "❌ Please give a memory ID, or ALL.");
    harness_reply_cleanup(&r);

    /* No option at all (a forged request): the same words. */
    assert_int_equal(harness_call(h, &(struct harness_call){.name = "forget"}, &r), 0);
    assert_string_equal(r.content, "❌ Please give a memory ID, or ALL.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(forgetting_one_id_deletes_that_memory_only),
        HARNESS_TEST(forgetting_the_same_id_twice_is_not_found_the_second_time),
        HARNESS_TEST(an_unknown_id_is_not_found),
        HARNESS_TEST(a_long_id_is_echoed_cut_at_a_character_boundary),
        HARNESS_TEST(another_users_memory_is_not_found_and_kept),
        HARNESS_TEST(a_memory_of_another_scope_is_not_found_and_kept),
        HARNESS_TEST(all_asks_first_and_deletes_nothing),
        HARNESS_TEST(confirming_deletes_every_memory_of_the_user_in_this_scope_only),
        HARNESS_TEST(confirming_in_a_dm_with_one_memory_says_one_memory),
        HARNESS_TEST(confirming_with_nothing_stored_deletes_zero),
        HARNESS_TEST(cancelling_deletes_nothing_and_removes_the_buttons),
        HARNESS_TEST(only_the_asker_may_confirm),
        HARNESS_TEST(autocomplete_suggests_own_memories_here_matching_the_text),
        HARNESS_TEST(autocomplete_takes_pattern_characters_literally),
        HARNESS_TEST(autocomplete_suggests_at_most_25),
        HARNESS_TEST(autocomplete_cuts_long_notes),
        HARNESS_TEST(an_empty_id_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
