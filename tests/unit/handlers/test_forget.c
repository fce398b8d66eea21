/* test_forget.c — /forget through the real dispatcher (tests/unit/support/harness.h): one
 * memory by id, or ALL of the user's memories in the scope; an unknown id, another user's
 * memory and a memory of another scope are "not found" and stay stored; no consent is needed
 * to delete. Memories are seeded straight into the store. */
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

static void all_deletes_every_memory_of_the_user_in_this_scope_only(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, HARNESS_GUILD, "one", id);
    seed(h, HARNESS_USER, HARNESS_GUILD, "two", id);
    seed(h, HARNESS_USER, HARNESS_GUILD, "three", id);
    seed(h, HARNESS_USER, DM_SCOPE, "in a DM", id);
    seed(h, OTHER_USER, HARNESS_GUILD, "someone else's", id);

    struct harness_reply r;
    forget(h, "all", false, &r); /* ALL in any case */
    assert_string_equal(harness_embed_title(&r, 0), "🧽 All Memories Deleted");
    assert_string_equal(harness_embed_description(&r, 0), "Deleted **3 memories** from **this server**");
    harness_reply_cleanup(&r);

    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 0);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 1);
    assert_int_equal(harness_count_memories(h, OTHER_USER, HARNESS_GUILD), 1);
}

static void all_in_a_dm_with_one_memory_says_one_memory(void **state)
{
    struct harness *h = *state;
    char id[STORE_ID_MAX];
    seed(h, HARNESS_USER, DM_SCOPE, "only one", id);
    seed(h, HARNESS_USER, HARNESS_GUILD, "server one", id);
    struct harness_reply r;
    forget(h, "ALL", true, &r);
    assert_string_equal(harness_embed_title(&r, 0), "🧽 All Memories Deleted");
    assert_string_equal(harness_embed_description(&r, 0), "Deleted **1 memory** from **this DM**");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 0);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
}

static void all_with_nothing_stored_deletes_zero(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    forget(h, "All", false, &r);
    assert_string_equal(harness_embed_description(&r, 0), "Deleted **0 memories** from **this server**");
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
        HARNESS_TEST(all_deletes_every_memory_of_the_user_in_this_scope_only),
        HARNESS_TEST(all_in_a_dm_with_one_memory_says_one_memory),
        HARNESS_TEST(all_with_nothing_stored_deletes_zero),
        HARNESS_TEST(an_empty_id_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
