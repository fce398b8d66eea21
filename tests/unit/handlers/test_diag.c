/* test_diag.c — /diag through the real dispatcher (tests/unit/support/harness.h): one ephemeral
 * embed with the version and commit, uptime, memory, the worker pool, the shared state, the
 * store's status and row counts, and the command statistics of the runs so far. It is for server
 * managers: Manage Server or Administrator, in a server only (a DM is refused like every admin
 * command), with a per-user cooldown; the README lists it as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define DIAG_TITLE "🔧 Slimy Diagnostics v" SLIMY_VERSION
#define IN_PROCESS "In-process (one replica; set REDIS_URL to run several)"

#define MANAGE_GUILD "32"
#define OTHER_MANAGER "100000000000000042"

/* /diag as user_id (NULL = HARNESS_USER) with Manage Server; asserts the deferred, ephemeral shape. */
static void diag_as(struct harness *h, const char *user_id, struct harness_reply *r)
{
    harness_call_deferred(h, &(struct harness_call){.name = "diag", .user_id = user_id, .permissions = MANAGE_GUILD},
                          r);
    assert_true(r->flags & 64);
    assert_int_equal(cJSON_GetArraySize(r->embeds), 1);
}

static void diag(struct harness *h, struct harness_reply *r)
{
    diag_as(h, NULL, r);
}

static bool starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = s ? strlen(s) : 0, m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void the_embed_has_every_field_on_a_fresh_replica(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    diag(h, &r);
    assert_string_equal(harness_embed_title(&r, 0), DIAG_TITLE);
    assert_string_equal(harness_embed_field(&r, 0, "📝 Version"), "v" SLIMY_VERSION " (commit " SLIMY_GIT_COMMIT ")");

    const char *uptime = harness_embed_field(&r, 0, "⏱️ Uptime");
    assert_true(starts_with(uptime, "0d 0h 0m ")); /* the harness started a moment ago */
    assert_true(ends_with(uptime, "s"));

    const char *memory = harness_embed_field(&r, 0, "💾 Memory");
    assert_true(starts_with(memory, "RSS: "));
    assert_true(ends_with(memory, " MB"));
    assert_string_not_equal(memory, "RSS: 0.00 MB");

    /* The diag job itself is the one in flight. */
    assert_string_equal(harness_embed_field(&r, 0, "🧵 Jobs (this replica)"),
                        "Queued: 0\nIn flight: 1\nTaken over: 0\nExpired: 0");
    assert_string_equal(harness_embed_field(&r, 0, "🔗 Shared State"), IN_PROCESS);
    assert_string_equal(harness_embed_field(&r, 0, "🗄️ Database"),
                        "✅ Connected (sqlite)\nMemories: 0\nImages: 0\nSnails: 0");
    assert_string_equal(harness_embed_field(&r, 0, "📊 Command Statistics"),
                        "Total: 0\nSuccess Rate: 100.0%\nErrors: 0");
    assert_string_equal(harness_embed_field(&r, 0, "🔥 Top Commands"), "No commands executed yet");
    assert_string_equal(harness_embed_field(&r, 0, "🏥 Health Endpoints"),
                        "`GET /health` (liveness)\n`GET /ready` (readiness)\n`GET /metrics` (Prometheus)");
    /* This process, by host name and pid, so an operator knows which replica answered. */
    char host[128] = "", replica[200];
    assert_int_equal(gethostname(host, sizeof host - 1), 0);
    snprintf(replica, sizeof replica, "`%s` (pid %ld)", host, (long)getpid());
    assert_string_equal(harness_embed_field(&r, 0, "🆔 Replica"), replica);
    const cJSON *stamp = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(r.embeds, 0), "timestamp");
    assert_true(cJSON_IsString(stamp));
    harness_reply_cleanup(&r);
}

static void the_database_field_counts_the_stored_rows(void **state)
{
    struct harness *h = *state;
    struct store *st = harness_store(h);
    char id[STORE_ID_MAX];
    struct store_memory_new m = {.user_id = HARNESS_USER, .scope_id = HARNESS_GUILD, .note = "a"};
    m.interaction_id = "830000000000000001";
    assert_int_equal(store_memory_add(st, &m, id), 0);
    m.interaction_id = "830000000000000002";
    assert_int_equal(store_memory_add(st, &m, id), 0);
    struct store_image_log_new image = {.user_id = HARNESS_USER,
                                        .scope_id = HARNESS_GUILD,
                                        .channel_id = HARNESS_CHANNEL,
                                        .prompt = "a snail",
                                        .style = "standard",
                                        .model = "test",
                                        .success = true};
    assert_int_equal(store_image_log_add(st, &image), 0);
    static const char *const analyses[] = {"830000000000000011", "830000000000000012", "830000000000000013"};
    for (size_t i = 0; i < 3; i++) {
        struct store_snail_stats_new s = {.user_id = HARNESS_USER,
                                          .scope_id = HARNESS_GUILD,
                                          .interaction_id = analyses[i]};
        int64_t row = 0;
        assert_int_equal(store_snail_stats_add(st, &s, &row), 0);
    }
    struct harness_reply r;
    diag(h, &r);
    assert_string_equal(harness_embed_field(&r, 0, "🗄️ Database"),
                        "✅ Connected (sqlite)\nMemories: 2\nImages: 1\nSnails: 3");
    harness_reply_cleanup(&r);
}

static void command_statistics_count_earlier_runs_and_failures(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    /* Two /forget runs (one succeeds, one fails on its input) and one /export. */
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){.name = "forget",
                                                         .options = "[{\"name\":\"id\",\"type\":3,\"value\":\"ALL\"}]"},
                                  &r),
                     0);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_call(h,
                                  &(struct harness_call){.name = "forget",
                                                         .options = "[{\"name\":\"id\",\"type\":3,\"value\":\"\"}]"},
                                  &r),
                     0);
    assert_string_equal(r.content, "❌ Please give a memory ID, or ALL.");
    harness_reply_cleanup(&r);
    assert_int_equal(harness_call(h, &(struct harness_call){.name = "export"}, &r), 0);
    harness_reply_cleanup(&r);

    diag(h, &r);
    assert_string_equal(harness_embed_field(&r, 0, "📊 Command Statistics"), "Total: 3\nSuccess Rate: 66.7%\nErrors: 1");
    const char *top = harness_embed_field(&r, 0, "🔥 Top Commands");
    assert_true(starts_with(top, "`/forget`: 2 ("));
    assert_non_null(strstr(top, "ms)\n`/export`: 1 ("));
    assert_true(ends_with(top, "ms)"));
    harness_reply_cleanup(&r);

    /* The first /diag is counted by the next one (another manager's: this one is cooling down). */
    diag_as(h, OTHER_MANAGER, &r);
    assert_string_equal(harness_embed_field(&r, 0, "📊 Command Statistics"), "Total: 4\nSuccess Rate: 75.0%\nErrors: 1");
    harness_reply_cleanup(&r);
}

/* An immediate, ephemeral refusal: nothing was deferred or delivered. */
static void assert_refused(struct harness *h, const struct harness_call *call, const char *text)
{
    struct harness_reply r;
    size_t before = harness_deliveries(h);
    assert_int_equal(harness_call(h, call, &r), 0);
    assert_int_equal(r.http_status, 200);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_string_equal(r.content, text);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_deliveries(h), before);
}

static void only_server_managers_may_use_it(void **state)
{
    struct harness *h = *state;
    /* No permission, or only others (Send Messages, Manage Messages). */
    static const char *const not_enough[] = {"0", "2048", "8192"};
    for (size_t i = 0; i < sizeof not_enough / sizeof not_enough[0]; i++)
        assert_refused(h, &(struct harness_call){.name = "diag", .permissions = not_enough[i]},
                       "❌ This command requires the Manage Server permission.");
    /* In a DM there are no server permissions to have. */
    assert_refused(h, &(struct harness_call){.name = "diag", .in_dm = true},
                   "🏠 `/diag` only works in a server, not in DMs.");

    /* Administrator is enough too. */
    struct harness_reply r;
    harness_call_deferred(
        h, &(struct harness_call){.name = "diag", .permissions = HARNESS_ADMIN_PERMISSIONS, .user_id = OTHER_MANAGER},
        &r);
    assert_string_equal(harness_embed_title(&r, 0), DIAG_TITLE);
    harness_reply_cleanup(&r);
    /* Refusals are not runs: nothing was recorded for the refused user. */
    struct store_user_stats s;
    assert_int_equal(store_user_stats(harness_store(h), HARNESS_USER, HARNESS_GUILD, 0, &s), 0);
    assert_int_equal(s.commands, 0);
}

static void it_has_a_cooldown(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    diag(h, &r);
    harness_reply_cleanup(&r);
    assert_int_equal(harness_call(h, &(struct harness_call){.name = "diag", .permissions = MANAGE_GUILD}, &r), 0);
    assert_int_equal(r.type, 4);
    assert_true(r.flags & 64);
    assert_non_null(strstr(r.content, "Slow down"));
    assert_non_null(strstr(r.content, "`/diag`"));
    harness_reply_cleanup(&r);
    /* Another manager is not limited by it. */
    diag_as(h, OTHER_MANAGER, &r);
    harness_reply_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(the_embed_has_every_field_on_a_fresh_replica),
        HARNESS_TEST(the_database_field_counts_the_stored_rows),
        HARNESS_TEST(command_statistics_count_earlier_runs_and_failures),
        HARNESS_TEST(only_server_managers_may_use_it),
        HARNESS_TEST(it_has_a_cooldown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
