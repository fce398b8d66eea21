/* test_export.c — /export through the real dispatcher (tests/unit/support/harness.h): the
 * user's memories of this scope (newest first, at most 25) come back as an attached JSON file,
 * with a summary embed when the export is small and a one-line text when it is not; nobody
 * else's memories and no other scope's are in it; nothing stored is an explanation, not a file.
 *
 * The harness records an attachment's name, type and size but not its bytes, so the file's
 * contents are checked by size: the test builds the document the export format describes
 * (user, username, scope, exportedAt, count, memories[id, note, tags, context, created_at])
 * from the rows it expects and compares the printed length, which differs as soon as one
 * memory too many or too few, or another note, is in the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "interactions/embed.h"

#define DM_SCOPE "dm:" HARNESS_CHANNEL
#define OTHER_USER "100000000000000009"
#define FILE_NAME "slimy-memories-" HARNESS_USER ".json"

static void seed(struct harness *h, const char *user_id, const char *scope_id, const char *note, const char *tags)
{
    static unsigned n;
    char interaction_id[32], id[STORE_ID_MAX];
    snprintf(interaction_id, sizeof interaction_id, "81000000000000%04u", ++n);
    struct store_memory_new m = {.user_id = user_id,
                                 .user_name = "tester",
                                 .scope_id = scope_id,
                                 .note = note,
                                 .tags_json = tags,
                                 .context_json = "{\"channelId\":\"" HARNESS_CHANNEL "\"}",
                                 .interaction_id = interaction_id};
    assert_int_equal(store_memory_add(harness_store(h), &m, id), 0);
}

/* /export as the default user; asserts the deferred, ephemeral shape. */
static void export(struct harness *h, bool in_dm, struct harness_reply *r)
{
    harness_call_deferred(h, &(struct harness_call){.name = "export", .in_dm = in_dm}, r);
    assert_true(r->flags & 64);
}

static cJSON *parsed(const char *text)
{
    cJSON *v = cJSON_Parse(text);
    return v ? v : cJSON_CreateString(text);
}

/* The printed length of the export document holding the user's newest `max` memories of scope. */
static size_t expected_json_len(struct harness *h, const char *scope_id, size_t max)
{
    struct store_memories mem = {0};
    assert_int_equal(store_memory_list(harness_store(h), HARNESS_USER, scope_id, max, &mem), 0);
    char stamp[40];
    embed_format_iso8601(1700000000123, stamp, sizeof stamp); /* every stamp has this length */
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "user", HARNESS_USER);
    cJSON_AddStringToObject(doc, "username", "tester");
    cJSON_AddStringToObject(doc, "scope", scope_id);
    cJSON_AddStringToObject(doc, "exportedAt", stamp);
    cJSON_AddNumberToObject(doc, "count", (double)mem.n);
    cJSON *items = cJSON_AddArrayToObject(doc, "memories");
    for (size_t i = 0; i < mem.n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(items, o);
        cJSON_AddStringToObject(o, "id", mem.items[i].id);
        cJSON_AddStringToObject(o, "note", mem.items[i].note);
        cJSON_AddItemToObject(o, "tags", parsed(mem.items[i].tags_json));
        cJSON_AddItemToObject(o, "context", parsed(mem.items[i].context_json));
        cJSON_AddStringToObject(o, "created_at", stamp);
    }
    char *text = cJSON_Print(doc);
    size_t len = strlen(text);
    free(text);
    cJSON_Delete(doc);
    store_memories_free(&mem);
    return len;
}

/* The summary field of memory number i (newest first): "#<8 chars of id> - <date>" → value. */
static const char *summary_value(struct harness *h, const struct harness_reply *r, const char *scope_id, size_t i)
{
    struct store_memories mem = {0};
    assert_int_equal(store_memory_list(harness_store(h), HARNESS_USER, scope_id, 100, &mem), 0);
    assert_true(i < mem.n);
    char date[40], name[64];
    embed_format_iso8601(mem.items[i].created_at_ms, date, sizeof date);
    snprintf(name, sizeof name, "#%.8s - %.10s", mem.items[i].id, date);
    store_memories_free(&mem);
    return harness_embed_field(r, 0, name);
}

static void nothing_stored_is_explained_without_a_file(void **state)
{
    struct harness *h = *state;
    seed(h, OTHER_USER, HARNESS_GUILD, "someone else's", NULL);
    seed(h, HARNESS_USER, DM_SCOPE, "in a DM", NULL);
    struct harness_reply r;
    export(h, false, &r);
    assert_string_equal(r.content, "📝 No memories found for this server.\n\nUse `/remember` to save notes!");
    assert_int_equal(r.n_files, 0);
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
}

static void nothing_stored_in_a_dm_says_this_dm(void **state)
{
    struct harness *h = *state;
    seed(h, HARNESS_USER, HARNESS_GUILD, "in the server", NULL);
    struct harness_reply r;
    export(h, true, &r);
    assert_string_equal(r.content, "📝 No memories found for this DM.\n\nUse `/remember` to save notes!");
    assert_int_equal(r.n_files, 0);
    harness_reply_cleanup(&r);
}

static void a_small_export_attaches_the_users_memories_and_summarises_them(void **state)
{
    struct harness *h = *state;
    seed(h, HARNESS_USER, HARNESS_GUILD, "older note", "[\"a\",\"b\"]");
    seed(h, HARNESS_USER, HARNESS_GUILD, "newer note", NULL);
    seed(h, OTHER_USER, HARNESS_GUILD, "someone else's note that must not be exported", NULL);
    seed(h, HARNESS_USER, DM_SCOPE, "a note of another scope that must not be exported", NULL);

    struct harness_reply r;
    export(h, false, &r); /* no consent stored: you can always see your own data */
    assert_int_equal(r.n_files, 1);
    assert_string_equal(r.files[0].name, FILE_NAME);
    assert_string_equal(r.files[0].content_type, "application/json");
    assert_int_equal(r.files[0].len, expected_json_len(h, HARNESS_GUILD, 25));

    assert_string_equal(harness_embed_title(&r, 0), "📦 Memory Export");
    assert_string_equal(harness_embed_description(&r, 0), "**Scope:** this server\n**Memories:** 2");
    assert_string_equal(summary_value(h, &r, HARNESS_GUILD, 0), "newer note");
    assert_string_equal(summary_value(h, &r, HARNESS_GUILD, 1), "older note");
    assert_null(harness_embed_footer(&r, 0)); /* every memory is shown */
    const char *text = harness_reply_text(&r);
    assert_null(strstr(text, "must not be exported"));
    harness_reply_cleanup(&r);
}

static void in_a_dm_only_the_dm_memories_are_exported(void **state)
{
    struct harness *h = *state;
    seed(h, HARNESS_USER, DM_SCOPE, "dm note", NULL);
    seed(h, HARNESS_USER, HARNESS_GUILD, "server note", NULL);
    struct harness_reply r;
    export(h, true, &r);
    assert_int_equal(r.n_files, 1);
    assert_string_equal(r.files[0].name, FILE_NAME);
    assert_int_equal(r.files[0].len, expected_json_len(h, DM_SCOPE, 25));
    assert_string_equal(harness_embed_description(&r, 0), "**Scope:** this DM\n**Memories:** 1");
    assert_string_equal(summary_value(h, &r, DM_SCOPE, 0), "dm note");
    harness_reply_cleanup(&r);
}

static void the_summary_shows_five_memories_and_cuts_long_notes(void **state)
{
    struct harness *h = *state;
    char long_note[151];
    memset(long_note, 'x', 150);
    long_note[150] = '\0';
    seed(h, HARNESS_USER, HARNESS_GUILD, long_note, NULL);
    for (int i = 0; i < 5; i++)
        seed(h, HARNESS_USER, HARNESS_GUILD, "n", NULL);
    struct harness_reply r;
    export(h, false, &r);
    assert_int_equal(r.n_files, 1);
    assert_int_equal(r.files[0].len, expected_json_len(h, HARNESS_GUILD, 25));
    assert_string_equal(harness_embed_description(&r, 0), "**Scope:** this server\n**Memories:** 6");
    assert_string_equal(harness_embed_footer(&r, 0), "Showing 5 of 6 memories. Download full export below.");
    const cJSON *fields = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r.embeds, 0), "fields");
    assert_int_equal(cJSON_GetArraySize(fields), 5);
    harness_reply_cleanup(&r);

    /* The long note, once it is among the five newest, is cut at 100 characters. */
    assert_int_equal(store_memory_delete_all(harness_store(h), HARNESS_USER, HARNESS_GUILD, &(uint64_t){0}), 0);
    seed(h, HARNESS_USER, HARNESS_GUILD, long_note, NULL);
    export(h, false, &r);
    char cut[104];
    snprintf(cut, sizeof cut, "%.100s...", long_note);
    assert_string_equal(summary_value(h, &r, HARNESS_GUILD, 0), cut);
    harness_reply_cleanup(&r);
}

static void a_large_export_is_a_file_and_a_line_of_text_with_the_newest_25(void **state)
{
    struct harness *h = *state;
    char note[201];
    memset(note, 'l', 200);
    note[200] = '\0';
    for (int i = 0; i < 30; i++)
        seed(h, HARNESS_USER, HARNESS_GUILD, note, NULL);
    struct harness_reply r;
    export(h, false, &r);
    assert_int_equal(r.n_files, 1);
    assert_string_equal(r.files[0].name, FILE_NAME);
    assert_string_equal(r.files[0].content_type, "application/json");
    assert_int_equal(r.files[0].len, expected_json_len(h, HARNESS_GUILD, 25));
    assert_string_equal(r.content, "📦 **25 memories exported**\n\nScope: this server");
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(nothing_stored_is_explained_without_a_file),
        HARNESS_TEST(nothing_stored_in_a_dm_says_this_dm),
        HARNESS_TEST(a_small_export_attaches_the_users_memories_and_summarises_them),
        HARNESS_TEST(in_a_dm_only_the_dm_memories_are_exported),
        HARNESS_TEST(the_summary_shows_five_memories_and_cuts_long_notes),
        HARNESS_TEST(a_large_export_is_a_file_and_a_line_of_text_with_the_newest_25),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
