/* test_remember.c — /remember through the real dispatcher (tests/unit/support/harness.h): the
 * dispatcher refuses it until the user consented in the scope; with consent the note is stored
 * with its tags and context in that scope (a server, or the DM itself) and the embed says what
 * was saved; an empty note, a note past the store's cap and a second call within the cooldown
 * are refused without storing anything; a repeated interaction stores the note once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define DM_SCOPE "dm:" HARNESS_CHANNEL
#define CONSENT_REQUIRED "❌ Memory consent required.\n\nEnable it with `/consent set allow:true`."
#define TOO_LONG "❌ That note is too long to save."

/* /remember as the default user; asserts the deferred, ephemeral shape every run has. */
static void remember(struct harness *h, const char *note, const char *tags, bool in_dm, struct harness_reply *r)
{
    char *opts = harness_string_options("note", note, "tags", tags, NULL);
    harness_call_deferred(h, &(struct harness_call){.name = "remember", .options = opts, .in_dm = in_dm}, r);
    free(opts);
    assert_true(r->flags & 64);
}

static void allow(struct harness *h, const char *scope_id)
{
    assert_int_equal(store_consent_set(harness_store(h), HARNESS_USER, "tester", scope_id, true), 0);
}

static void without_consent_the_note_is_refused_and_nothing_is_stored(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    remember(h, "buy milk", NULL, false, &r);
    assert_string_equal(r.content, CONSENT_REQUIRED);
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, NULL), 0);
}

static void consent_turned_off_still_refuses(void **state)
{
    struct harness *h = *state;
    assert_int_equal(store_consent_set(harness_store(h), HARNESS_USER, "tester", HARNESS_GUILD, false), 0);
    struct harness_reply r;
    remember(h, "buy milk", NULL, false, &r);
    assert_string_equal(r.content, CONSENT_REQUIRED);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, NULL), 0);
}

static void with_consent_the_note_is_stored_with_its_tags(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    struct harness_reply r;
    remember(h, "buy *milk*", " groceries, urgent ,, ", false, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    assert_string_equal(harness_embed_description(&r, 0), "**Note:** buy *milk*");
    assert_string_equal(harness_embed_field(&r, 0, "Scope"), "This server");
    assert_string_equal(harness_embed_field(&r, 0, "Tags"), "`groceries` `urgent`");
    assert_string_equal(harness_embed_footer(&r, 0), "Use /export to view all memories or /forget to delete");

    struct store_memories mem = {0};
    assert_int_equal(store_memory_list(harness_store(h), HARNESS_USER, HARNESS_GUILD, 10, &mem), 0);
    assert_int_equal(mem.n, 1);
    assert_string_equal(mem.items[0].note, "buy *milk*");
    assert_string_equal(mem.items[0].scope_id, HARNESS_GUILD);
    assert_string_equal(mem.items[0].tags_json, "[\"groceries\",\"urgent\"]");
    cJSON *context = cJSON_Parse(mem.items[0].context_json);
    const cJSON *channel = cJSON_GetObjectItemCaseSensitive(context, "channelId");
    assert_true(cJSON_IsString(channel));
    assert_string_equal(channel->valuestring, HARNESS_CHANNEL);
    assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(context, "timestamp")));
    cJSON_Delete(context);

    /* The id shown is the id stored, so /forget can use it. */
    char shown[STORE_ID_MAX + 2];
    snprintf(shown, sizeof shown, "`%s`", mem.items[0].id);
    assert_string_equal(harness_embed_field(&r, 0, "Memory ID"), shown);
    store_memories_free(&mem);
    harness_reply_cleanup(&r);
}

static void a_note_without_tags_stores_an_empty_list_and_shows_no_tags_field(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    struct harness_reply r;
    remember(h, "water the snails", NULL, false, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    assert_null(harness_embed_field(&r, 0, "Tags"));
    harness_reply_cleanup(&r);

    struct store_memories mem = {0};
    assert_int_equal(store_memory_list(harness_store(h), HARNESS_USER, HARNESS_GUILD, 10, &mem), 0);
    assert_int_equal(mem.n, 1);
    assert_string_equal(mem.items[0].note, "water the snails");
    assert_string_equal(mem.items[0].tags_json, "[]");
    store_memories_free(&mem);
}

static void in_a_dm_the_note_goes_to_the_dm_scope(void **state)
{
    struct harness *h = *state;
    allow(h, DM_SCOPE);
    struct harness_reply r;
    remember(h, "dm secret", "x", true, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    assert_string_equal(harness_embed_field(&r, 0, "Scope"), "This DM");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 1);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 0);
}

static void consent_in_the_server_does_not_cover_a_dm(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    struct harness_reply r;
    remember(h, "dm secret", NULL, true, &r);
    assert_string_equal(r.content, CONSENT_REQUIRED);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, NULL), 0);
}

static void an_empty_note_is_refused(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    struct harness_reply r;
    remember(h, "", NULL, false, &r);
    assert_string_equal(r.content, "❌ Please give me something to remember.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, NULL), 0);
}

static void a_note_at_the_option_length_limit_is_stored_whole(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    char note[2001];
    memset(note, 'n', 2000);
    note[2000] = '\0';
    struct harness_reply r;
    remember(h, note, NULL, false, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    harness_reply_cleanup(&r);
    struct store_memories mem = {0};
    assert_int_equal(store_memory_list(harness_store(h), HARNESS_USER, HARNESS_GUILD, 10, &mem), 0);
    assert_int_equal(mem.n, 1);
    assert_int_equal(strlen(mem.items[0].note), 2000);
    store_memories_free(&mem);
}

/* The note option allows 2000 characters (Discord counts characters), and the store's cap is in
 * bytes: 1500 CJK characters (3 bytes each, 4500 bytes) are a note Discord sends, and it must be
 * stored whole. (The cap was once 4000 bytes, which refused it.) */
static void a_note_of_1500_cjk_characters_within_the_option_limit_is_stored(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    static const char cjk[] = "名"; /* 3 UTF-8 bytes, 1 character */
    char note[1500 * 3 + 1];
    for (size_t i = 0; i < 1500; i++)
        memcpy(note + 3 * i, cjk, 3);
    note[1500 * 3] = '\0';
    struct harness_reply r;
    remember(h, note, NULL, false, &r);
    const char *title = harness_embed_title(&r, 0);
    bool is_saved = title && strcmp(title, "📝 Memory Saved") == 0;
    if (!is_saved)
        print_error("reply: %s\n", r.content);
    harness_reply_cleanup(&r); /* before asserting, so a failure leaks nothing */
    assert_true(is_saved);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
}

/* Discord enforces max_length for its own clients only; a note past the store's byte cap is
 * refused in words, not stored cut. */
static void a_note_past_the_store_cap_is_refused(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    char note[STORE_NOTE_MAX_BYTES + 2];
    memset(note, 'n', STORE_NOTE_MAX_BYTES + 1);
    note[STORE_NOTE_MAX_BYTES + 1] = '\0';
    struct harness_reply r;
    remember(h, note, NULL, false, &r);
    assert_string_equal(r.content, TOO_LONG);
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, NULL), 0);
}

/* Tags past the store's cap (only a forged request can send them: the option allows 200
 * characters) are refused too, and nothing is stored. */
static void tags_past_the_store_cap_are_refused(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    char tags[2 * STORE_TAGS_MAX_BYTES];
    size_t used = 0;
    while (used + 2 < sizeof tags) {
        tags[used++] = 't';
        tags[used++] = ',';
    }
    tags[used] = '\0';
    struct harness_reply r;
    remember(h, "short note", tags, false, &r);
    assert_true(strncmp(r.content, "❌", strlen("❌")) == 0);
    assert_null(r.embeds);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, NULL), 0);
}

static void a_second_remember_within_the_cooldown_is_refused(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    struct harness_reply r;
    remember(h, "first", NULL, false, &r);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    harness_reply_cleanup(&r);

    char *opts = harness_string_options("note", "second", NULL);
    assert_int_equal(harness_call(h, &(struct harness_call){.name = "remember", .options = opts}, &r), 0);
    free(opts);
    assert_int_equal(r.type, 4); /* answered at once, nothing queued */
    assert_true(r.flags & 64);
    const char *prefix = "⏳ Slow down! Please wait ";
    const char *suffix = "s before using `/remember` again.";
    assert_true(strncmp(r.content, prefix, strlen(prefix)) == 0);
    size_t len = strlen(r.content);
    assert_true(len > strlen(suffix) && strcmp(r.content + len - strlen(suffix), suffix) == 0);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);

    /* The cooldown is per user: someone else may remember at once. */
    assert_int_equal(store_consent_set(harness_store(h), "100000000000000009", "other", HARNESS_GUILD, true), 0);
    opts = harness_string_options("note", "theirs", NULL);
    assert_int_equal(
        harness_call(h, &(struct harness_call){.name = "remember", .options = opts, .user_id = "100000000000000009"},
                     &r),
        0);
    free(opts);
    assert_int_equal(r.type, 5);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, "100000000000000009", HARNESS_GUILD), 1);
}

static void a_repeated_interaction_stores_the_note_once(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    char *opts = harness_string_options("note", "only once", NULL);
    struct harness_reply r;
    const struct harness_call call = {.name = "remember", .options = opts, .id = "900000000000000777"};
    assert_int_equal(harness_call(h, &call, &r), 0);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    harness_reply_cleanup(&r);
    size_t delivered = harness_deliveries(h);
    assert_int_equal(harness_call(h, &call, &r), 0); /* Discord retrying the same interaction */
    free(opts);
    assert_int_equal(r.type, 5);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(h), delivered); /* not run again */
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 1);
}

#define USER_SCOPE "user:" HARNESS_USER
#define USER_ONLY_INSTALL "{\"1\":\"" HARNESS_USER "\"}"

/* Where only the user installed Slimy (a server that never added it, or a DM between users), data
 * is kept in the user's own scope, never the server's or the channel's. */
static void without_the_server_install_the_note_goes_to_the_users_scope(void **state)
{
    struct harness *h = *state;
    allow(h, USER_SCOPE);
    struct harness_reply r;
    char *opts = harness_string_options("note", "in a foreign server", NULL);
    harness_call_deferred(h, &(struct harness_call){.name = "remember", .options = opts, .owners = USER_ONLY_INSTALL},
                          &r);
    free(opts);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, USER_SCOPE), 1);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, HARNESS_GUILD), 0);
}

/* The server's consent does not cover the user's scope there, and consent given there is the
 * user scope's, not the server's. */
static void consent_without_the_server_install_is_the_users_own(void **state)
{
    struct harness *h = *state;
    allow(h, HARNESS_GUILD);
    struct harness_reply r;
    char *opts = harness_string_options("note", "not covered", NULL);
    harness_call_deferred(h, &(struct harness_call){.name = "remember", .options = opts, .owners = USER_ONLY_INSTALL},
                          &r);
    free(opts);
    assert_string_equal(r.content, CONSENT_REQUIRED);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, NULL), 0);

    harness_call_deferred(h,
                          &(struct harness_call){.name = "consent",
                                                 .owners = USER_ONLY_INSTALL,
                                                 .user_id = "100000000000000009",
                                                 .options = "[{\"name\":\"set\",\"type\":1,\"options\":["
                                                            "{\"name\":\"allow\",\"type\":5,\"value\":true}]}]"},
                          &r);
    harness_reply_cleanup(&r);
    bool allowed = false;
    assert_int_equal(store_consent_get(harness_store(h), "100000000000000009", "user:100000000000000009", &allowed), 0);
    assert_true(allowed);
    assert_int_equal(store_consent_get(harness_store(h), "100000000000000009", HARNESS_GUILD, &allowed), 0);
    assert_false(allowed);
}

/* A DM between users or a group DM (context 2): the user's scope too, not "dm:<channel>". */
static void in_a_private_channel_the_note_goes_to_the_users_scope(void **state)
{
    struct harness *h = *state;
    allow(h, USER_SCOPE);
    struct harness_reply r;
    char *opts = harness_string_options("note", "group chat", NULL);
    harness_call_deferred(h,
                          &(struct harness_call){.name = "remember",
                                                 .options = opts,
                                                 .in_dm = true,
                                                 .context = 2,
                                                 .owners = USER_ONLY_INSTALL},
                          &r);
    free(opts);
    assert_string_equal(harness_embed_title(&r, 0), "📝 Memory Saved");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, USER_SCOPE), 1);
    assert_int_equal(harness_count_memories(h, HARNESS_USER, DM_SCOPE), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(without_consent_the_note_is_refused_and_nothing_is_stored),
        HARNESS_TEST(consent_turned_off_still_refuses),
        HARNESS_TEST(with_consent_the_note_is_stored_with_its_tags),
        HARNESS_TEST(a_note_without_tags_stores_an_empty_list_and_shows_no_tags_field),
        HARNESS_TEST(in_a_dm_the_note_goes_to_the_dm_scope),
        HARNESS_TEST(consent_in_the_server_does_not_cover_a_dm),
        HARNESS_TEST(an_empty_note_is_refused),
        HARNESS_TEST(a_note_at_the_option_length_limit_is_stored_whole),
        HARNESS_TEST(a_note_of_1500_cjk_characters_within_the_option_limit_is_stored),
        HARNESS_TEST(a_note_past_the_store_cap_is_refused),
        HARNESS_TEST(tags_past_the_store_cap_are_refused),
        HARNESS_TEST(a_second_remember_within_the_cooldown_is_refused),
        HARNESS_TEST(a_repeated_interaction_stores_the_note_once),
        HARNESS_TEST(without_the_server_install_the_note_goes_to_the_users_scope),
        HARNESS_TEST(consent_without_the_server_install_is_the_users_own),
        HARNESS_TEST(in_a_private_channel_the_note_goes_to_the_users_scope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
