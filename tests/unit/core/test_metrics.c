/* test_metrics.c — unit tests of src/core/metrics.c: every family of the catalogue has its
 * # HELP and # TYPE lines before its samples, label values are escaped, histogram buckets are
 * cumulative and end with +Inf equal to _count, the enum labels map HTTP statuses as documented,
 * counts are exact after concurrent increments (and concurrent registration of the same paths
 * makes one series each), the command table refuses what it cannot hold, and /metrics.json has
 * the original bot's shape. Each test starts from metrics_reset(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <pthread.h>

#include "core/buf.h"
#include "core/metrics.h"
#include "core/status.h"

static const struct metrics_view VIEW = {
    .uptime_s = 42, .jobs_queued = 3, .jobs_in_flight = 2, .shared_state = METRICS_SHARED_MEMORY};

static int reset(void **state)
{
    (void)state;
    metrics_reset();
    return 0;
}

/* The whole exposition as a string the caller frees. */
static char *render_text(void)
{
    struct buf b;
    buf_init(&b, 4 * 1024 * 1024);
    assert_int_equal(metrics_render_text(&VIEW, &b), SLIMY_OK);
    char *text = buf_detach(&b);
    assert_non_null(text);
    return text;
}

/* The value of the sample whose name and labels are exactly series; fails when it is absent. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, series, n) == 0 && line[n] == ' ')
            return strtod(line + n + 1, NULL);
    fail_msg("no sample %s", series);
    return -1;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return true;
    return false;
}

static const struct {
    const char *name, *type;
} CATALOGUE[] = {
    {"slimy_build_info", "gauge"},
    {"slimy_uptime_seconds", "gauge"},
    {"slimy_process_resident_memory_bytes", "gauge"},
    {"slimy_http_connections_open", "gauge"},
    {"slimy_interactions_total", "counter"},
    {"slimy_signature_failures_total", "counter"},
    {"slimy_commands_total", "counter"},
    {"slimy_command_duration_seconds", "histogram"},
    {"slimy_cooldown_hits_total", "counter"},
    {"slimy_dedupe_hits_total", "counter"},
    {"slimy_jobs_queued", "gauge"},
    {"slimy_jobs_in_flight", "gauge"},
    {"slimy_jobs_retried_total", "counter"},
    {"slimy_jobs_dropped_total", "counter"},
    {"slimy_discord_requests_total", "counter"},
    {"slimy_discord_rate_limited_total", "counter"},
    {"slimy_openai_requests_total", "counter"},
    {"slimy_openai_request_duration_seconds", "histogram"},
    {"slimy_store_errors_total", "counter"},
    {"slimy_store_up", "gauge"},
    {"slimy_redis_errors_total", "counter"},
    {"slimy_shared_state", "gauge"},
};

/* The family a sample belongs to: its name, less _bucket/_sum/_count for a histogram's. */
static void family_of(const char *line, const char *last_family, char *out, size_t cap)
{
    size_t n = strcspn(line, "{ ");
    snprintf(out, cap, "%.*s", (int)n, line);
    size_t fam = strlen(last_family);
    if (fam && strncmp(out, last_family, fam) == 0 &&
        (strcmp(out + fam, "_bucket") == 0 || strcmp(out + fam, "_sum") == 0 || strcmp(out + fam, "_count") == 0))
        out[fam] = '\0';
}

static void test_help_and_type_for_every_family(void **state)
{
    (void)state;
    assert_int_equal(metrics_command_register("chat"), SLIMY_OK);
    metrics_signature_reason(4, "bad_signature");
    char *text = render_text();
    for (size_t i = 0; i < sizeof CATALOGUE / sizeof CATALOGUE[0]; i++) {
        char line[160];
        snprintf(line, sizeof line, "# TYPE %s %s", CATALOGUE[i].name, CATALOGUE[i].type);
        assert_true(has_line(text, line));
        snprintf(line, sizeof line, "# HELP %s ", CATALOGUE[i].name);
        assert_non_null(strstr(text, line));
    }
    /* Every sample follows the # TYPE of its own family, and no family is declared twice. */
    char family[128] = "", name[128];
    size_t n_types = 0;
    for (char *line = text; *line; line = strchr(line, '\n') + 1) {
        if (strncmp(line, "# TYPE ", 7) == 0) {
            size_t len = strcspn(line + 7, " ");
            snprintf(family, sizeof family, "%.*s", (int)len, line + 7);
            n_types++;
        } else if (line[0] != '#') {
            family_of(line, family, name, sizeof name);
            assert_string_equal(name, family);
        }
        assert_non_null(strchr(line, '\n')); /* the text ends with a newline */
    }
    assert_int_equal(n_types, sizeof CATALOGUE / sizeof CATALOGUE[0]);
    assert_true(sample(text, "slimy_uptime_seconds") == 42);
    assert_true(sample(text, "slimy_jobs_queued") == 3);
    assert_true(sample(text, "slimy_jobs_in_flight") == 2);
    assert_true(sample(text, "slimy_process_resident_memory_bytes") > 0);
    assert_non_null(strstr(text, "slimy_build_info{version=\"" SLIMY_VERSION "\",commit=\""));
    free(text);
}

static void test_label_values_escaped(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 256);
    assert_int_equal(metrics_escape_label("a\"b\\c\nd", &b), SLIMY_OK);
    assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
    buf_cleanup(&b);

    metrics_command_done("say \"hi\"\\now\n", SLIMY_OK, 1000);
    char *text = render_text();
    assert_true(sample(text, "slimy_commands_total{command=\"say \\\"hi\\\"\\\\now\\n\",outcome=\"ok\"}") == 1);
    assert_true(sample(text, "slimy_command_duration_seconds_count{command=\"say \\\"hi\\\"\\\\now\\n\"}") == 1);
    assert_null(strstr(text, "say \"hi\"")); /* never raw */
    free(text);
}

static void test_histogram_buckets_cumulative(void **state)
{
    (void)state;
    metrics_command_done("snail calc", SLIMY_OK, 1000);           /* 0.005 */
    metrics_command_done("snail calc", SLIMY_OK, 7000);           /* 0.01 */
    metrics_command_done("snail calc", SLIMY_OK, 7000);           /* 0.01 */
    metrics_command_done("snail calc", SLIMY_EINVAL, 100000);     /* le is inclusive: 0.1 */
    metrics_command_done("snail calc", SLIMY_ETIMEOUT, 90000000); /* past 60 s: +Inf only */
    char *text = render_text();
    static const struct {
        const char *le;
        double want;
    } buckets[] = {{"0.005", 1}, {"0.01", 3}, {"0.025", 3}, {"0.05", 3}, {"0.1", 4}, {"0.25", 4}, {"0.5", 4},
                   {"1", 4},     {"2.5", 4},  {"5", 4},     {"10", 4},   {"30", 4},  {"60", 4},   {"+Inf", 5}};
    for (size_t i = 0; i < sizeof buckets / sizeof buckets[0]; i++) {
        char series[160];
        snprintf(series, sizeof series, "slimy_command_duration_seconds_bucket{command=\"snail calc\",le=\"%s\"}",
                 buckets[i].le);
        assert_true(sample(text, series) == buckets[i].want);
    }
    assert_true(has_line(text, "slimy_command_duration_seconds_sum{command=\"snail calc\"} 90.115000"));
    assert_true(sample(text, "slimy_command_duration_seconds_count{command=\"snail calc\"}") == 5);
    assert_true(sample(text, "slimy_commands_total{command=\"snail calc\",outcome=\"ok\"}") == 3);
    assert_true(sample(text, "slimy_commands_total{command=\"snail calc\",outcome=\"failed\"}") == 2);

    /* The OpenAI histogram has its own buckets, per kind. */
    assert_true(sample(text, "slimy_openai_request_duration_seconds_bucket{kind=\"chat\",le=\"+Inf\"}") == 0);
    free(text);
    metrics_openai_request(METRICS_AI_IMAGE, 200, 300000);  /* 0.5 */
    metrics_openai_request(METRICS_AI_IMAGE, 0, 200000000); /* +Inf */
    metrics_openai_request(METRICS_AI_CHAT, 429, 100000);   /* 0.1 */
    text = render_text();
    assert_true(sample(text, "slimy_openai_request_duration_seconds_bucket{kind=\"image\",le=\"0.25\"}") == 0);
    assert_true(sample(text, "slimy_openai_request_duration_seconds_bucket{kind=\"image\",le=\"0.5\"}") == 1);
    assert_true(sample(text, "slimy_openai_request_duration_seconds_bucket{kind=\"image\",le=\"120\"}") == 1);
    assert_true(sample(text, "slimy_openai_request_duration_seconds_bucket{kind=\"image\",le=\"+Inf\"}") == 2);
    assert_true(sample(text, "slimy_openai_request_duration_seconds_count{kind=\"image\"}") == 2);
    assert_true(sample(text, "slimy_openai_request_duration_seconds_bucket{kind=\"chat\",le=\"0.1\"}") == 1);
    assert_true(sample(text, "slimy_openai_requests_total{kind=\"image\",status=\"2xx\"}") == 1);
    assert_true(sample(text, "slimy_openai_requests_total{kind=\"image\",status=\"error\"}") == 1);
    assert_true(sample(text, "slimy_openai_requests_total{kind=\"chat\",status=\"429\"}") == 1);
    assert_true(sample(text, "slimy_openai_requests_total{kind=\"chat\",status=\"4xx\"}") == 0);
    free(text);
}

static void test_enum_labels(void **state)
{
    (void)state;
    metrics_interaction(METRICS_INTERACTION_PING, 200);
    metrics_interaction(METRICS_INTERACTION_UNKNOWN, 401);
    metrics_interaction(METRICS_INTERACTION_UNKNOWN, 413);
    metrics_interaction(METRICS_INTERACTION_COMMAND, 500);
    metrics_interaction((enum metrics_interaction_type)99, 200); /* out of range: unknown */
    metrics_signature_failure(4, "bad_signature");
    metrics_signature_failure(4, "other name"); /* the first name stays */
    metrics_signature_failure(99, "ignored");
    metrics_discord_request(METRICS_ROUTE_ORIGINAL, 204);
    metrics_discord_request(METRICS_ROUTE_ORIGINAL, 404);
    metrics_discord_request(METRICS_ROUTE_FOLLOWUP, 429);
    metrics_discord_request(METRICS_ROUTE_FOLLOWUP, 503);
    metrics_discord_request(METRICS_ROUTE_FOLLOWUP, 0);
    metrics_discord_request(METRICS_ROUTE_FOLLOWUP, 302);
    metrics_discord_rate_limited(METRICS_RATE_LIMIT_GLOBAL);
    metrics_job_dropped(METRICS_DROP_QUEUE_FULL);
    metrics_job_retried();
    metrics_dedupe_hit();
    metrics_cooldown_hit("chat");
    metrics_store_error(METRICS_STORE_MARIADB);
    metrics_redis_error();
    metrics_set_store_up(true);
    metrics_connection_opened();
    metrics_connection_opened();
    metrics_connection_closed();
    char *text = render_text();
    assert_true(sample(text, "slimy_interactions_total{type=\"ping\",outcome=\"ok\"}") == 1);
    assert_true(sample(text, "slimy_interactions_total{type=\"unknown\",outcome=\"rejected\"}") == 2);
    assert_true(sample(text, "slimy_interactions_total{type=\"unknown\",outcome=\"ok\"}") == 1);
    assert_true(sample(text, "slimy_interactions_total{type=\"command\",outcome=\"error\"}") == 1);
    assert_true(sample(text, "slimy_interactions_total{type=\"modal\",outcome=\"ok\"}") == 0);
    assert_true(sample(text, "slimy_signature_failures_total{reason=\"bad_signature\"}") == 2);
    assert_null(strstr(text, "other name"));
    assert_null(strstr(text, "ignored"));
    assert_true(sample(text, "slimy_discord_requests_total{route=\"original\",status=\"2xx\"}") == 1);
    assert_true(sample(text, "slimy_discord_requests_total{route=\"original\",status=\"4xx\"}") == 1);
    assert_true(sample(text, "slimy_discord_requests_total{route=\"followup\",status=\"429\"}") == 1);
    assert_true(sample(text, "slimy_discord_requests_total{route=\"followup\",status=\"5xx\"}") == 1);
    assert_true(sample(text, "slimy_discord_requests_total{route=\"followup\",status=\"error\"}") == 1);
    assert_true(sample(text, "slimy_discord_requests_total{route=\"followup\",status=\"3xx\"}") == 1);
    assert_true(sample(text, "slimy_discord_requests_total{route=\"register\",status=\"2xx\"}") == 0);
    assert_true(sample(text, "slimy_discord_rate_limited_total{scope=\"global\"}") == 1);
    assert_true(sample(text, "slimy_discord_rate_limited_total{scope=\"bucket\"}") == 0);
    assert_true(sample(text, "slimy_jobs_dropped_total{reason=\"queue_full\"}") == 1);
    assert_true(sample(text, "slimy_jobs_dropped_total{reason=\"expired\"}") == 0);
    assert_true(sample(text, "slimy_jobs_retried_total") == 1);
    assert_true(sample(text, "slimy_dedupe_hits_total") == 1);
    assert_true(sample(text, "slimy_cooldown_hits_total{command=\"chat\"}") == 1);
    assert_true(sample(text, "slimy_store_errors_total{backend=\"mariadb\"}") == 1);
    assert_true(sample(text, "slimy_store_errors_total{backend=\"sqlite\"}") == 0);
    assert_true(sample(text, "slimy_store_up") == 1);
    assert_true(sample(text, "slimy_redis_errors_total") == 1);
    assert_true(sample(text, "slimy_http_connections_open") == 1);
    assert_true(sample(text, "slimy_shared_state{state=\"memory\"}") == 1);
    assert_true(sample(text, "slimy_shared_state{state=\"redis\"}") == 0);
    assert_true(sample(text, "slimy_shared_state{state=\"memory_fallback\"}") == 0);
    free(text);
}

static void test_command_table_limits(void **state)
{
    (void)state;
    char path[METRICS_PATH_MAX + 8];
    assert_int_equal(metrics_command_register(NULL), SLIMY_EINVAL);
    assert_int_equal(metrics_command_register(""), SLIMY_EINVAL);
    memset(path, 'x', METRICS_PATH_MAX);
    path[METRICS_PATH_MAX] = '\0';
    assert_int_equal(metrics_command_register(path), SLIMY_EINVAL);
    path[METRICS_PATH_MAX - 1] = '\0'; /* exactly the longest allowed */
    assert_int_equal(metrics_command_register(path), SLIMY_OK);
    assert_int_equal(metrics_command_register(path), SLIMY_OK); /* known already */
    for (int i = 1; i < METRICS_COMMANDS_MAX; i++) {
        snprintf(path, sizeof path, "cmd %d", i);
        assert_int_equal(metrics_command_register(path), SLIMY_OK);
    }
    assert_int_equal(metrics_command_register("one too many"), SLIMY_ETOOBIG);
    metrics_command_done("one too many", SLIMY_OK, 1); /* not counted, no crash */
    assert_int_equal(metrics_command_register("cmd 7"), SLIMY_OK);
    char *text = render_text();
    assert_null(strstr(text, "one too many"));
    assert_true(sample(text, "slimy_commands_total{command=\"cmd 7\",outcome=\"ok\"}") == 0);
    free(text);
}

/* ---- concurrency ---- */

#define THREADS 8
#define ROUNDS 20000
#define SHARED_PATHS 16

static void *hammer(void *arg)
{
    (void)arg;
    char path[32];
    for (int i = 0; i < ROUNDS; i++) {
        snprintf(path, sizeof path, "p%d", i % SHARED_PATHS); /* every thread registers the same paths */
        metrics_command_done(path, i % 4 == 0 ? SLIMY_EUPSTREAM : SLIMY_OK, (uint64_t)(i % 3) * 10000);
        metrics_interaction(METRICS_INTERACTION_COMMAND, 200);
        metrics_discord_request(METRICS_ROUTE_FOLLOWUP, 204);
        metrics_openai_request(METRICS_AI_CHAT, 200, 150000);
        metrics_dedupe_hit();
    }
    return NULL;
}

static void test_concurrent_increments(void **state)
{
    (void)state;
    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, hammer, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    char *text = render_text();
    double total = (double)THREADS * ROUNDS;
    assert_true(sample(text, "slimy_interactions_total{type=\"command\",outcome=\"ok\"}") == total);
    assert_true(sample(text, "slimy_discord_requests_total{route=\"followup\",status=\"2xx\"}") == total);
    assert_true(sample(text, "slimy_openai_requests_total{kind=\"chat\",status=\"2xx\"}") == total);
    assert_true(sample(text, "slimy_openai_request_duration_seconds_count{kind=\"chat\"}") == total);
    assert_true(has_line(text, "slimy_openai_request_duration_seconds_sum{kind=\"chat\"} 24000.000000"));
    assert_true(sample(text, "slimy_dedupe_hits_total") == total);
    double per_path = total / SHARED_PATHS, ok = 0, failed = 0;
    for (int p = 0; p < SHARED_PATHS; p++) {
        char series[96];
        snprintf(series, sizeof series, "slimy_command_duration_seconds_count{command=\"p%d\"}", p);
        assert_true(sample(text, series) == per_path);
        snprintf(series, sizeof series, "slimy_commands_total{command=\"p%d\",outcome=\"ok\"}", p);
        ok += sample(text, series);
        snprintf(series, sizeof series, "slimy_commands_total{command=\"p%d\",outcome=\"failed\"}", p);
        failed += sample(text, series);
        /* One series per path, however many threads raced to register it. */
        snprintf(series, sizeof series, "slimy_cooldown_hits_total{command=\"p%d\"} ", p);
        const char *first = strstr(text, series);
        assert_non_null(first);
        assert_null(strstr(first + 1, series));
    }
    assert_true(ok == total * 3 / 4);
    assert_true(failed == total / 4);
    free(text);
}

/* ---- /metrics.json ---- */

static cJSON *render_json(void)
{
    struct buf b;
    buf_init(&b, 1024 * 1024);
    assert_int_equal(metrics_render_json(&VIEW, &b), SLIMY_OK);
    cJSON *root = cJSON_Parse(b.data);
    buf_cleanup(&b);
    assert_non_null(root);
    return root;
}

static const cJSON *item(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        fail_msg("no key %s", key);
    return it;
}

/* "2024-05-01T12:34:56.789Z", like JavaScript's toISOString(). */
static bool is_iso8601(const char *s)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:dd.dddZ"; /* d: any digit */
    if (strlen(s) != sizeof pattern - 1)
        return false;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
            return false;
    return true;
}

static void test_json_empty(void **state)
{
    (void)state;
    metrics_command_register("chat"); /* registered, never run: not listed */
    cJSON *root = render_json();
    assert_int_equal(item(root, "uptime")->valueint, 42);
    assert_int_equal(cJSON_GetArraySize(item(root, "commands")), 0);
    assert_int_equal(cJSON_GetArraySize(item(root, "errors")), 0);
    const cJSON *summary = item(root, "summary");
    assert_int_equal(item(summary, "totalCommands")->valueint, 0);
    assert_int_equal(item(summary, "totalErrors")->valueint, 0);
    assert_string_equal(item(summary, "successRate")->valuestring, "100%");
    /* The keys in the original's order. */
    assert_string_equal(root->child->string, "uptime");
    assert_string_equal(root->child->next->string, "commands");
    assert_string_equal(root->child->next->next->string, "errors");
    assert_string_equal(root->child->next->next->next->string, "summary");
    cJSON_Delete(root);
}

static void test_json_shape(void **state)
{
    (void)state;
    metrics_command_done("chat", SLIMY_OK, 100000);
    metrics_command_done("chat", SLIMY_ETIMEOUT, 201000);
    metrics_command_done("dream", SLIMY_EUPSTREAM, 1000);
    metrics_command_done("dream", SLIMY_EUNAVAILABLE, 1000);
    metrics_command_done("dream", SLIMY_EINVAL, 1000);
    metrics_command_done("dream", SLIMY_EPERM, 1000);
    for (int i = 0; i < 17; i++)
        metrics_command_done("snail calc", SLIMY_OK, 2000);
    metrics_command_done("snail calc", SLIMY_EINVAL, 2000);
    metrics_command_done("snail calc", SLIMY_EINVAL, 2000);
    metrics_command_done("snail calc", SLIMY_EINVAL, 2000);
    cJSON *root = render_json();

    const cJSON *commands = item(root, "commands");
    assert_int_equal(cJSON_GetArraySize(commands), 3);
    const cJSON *chat = item(commands, "chat");
    assert_int_equal(item(chat, "count")->valueint, 2);
    assert_int_equal(item(chat, "successCount")->valueint, 1);
    assert_int_equal(item(chat, "failCount")->valueint, 1);
    assert_string_equal(item(chat, "avgTime")->valuestring, "151ms"); /* 150.5 rounds up */
    assert_string_equal(item(chat, "successRate")->valuestring, "50%");
    const cJSON *snail = item(commands, "snail calc");
    assert_string_equal(item(snail, "successRate")->valuestring, "85%");
    assert_string_equal(item(snail, "avgTime")->valuestring, "2ms");
    assert_string_equal(item(item(commands, "dream"), "successRate")->valuestring, "0%");

    const cJSON *errors = item(root, "errors");
    assert_int_equal(cJSON_GetArraySize(errors), 3);
    const cJSON *dream = item(errors, "dream");
    assert_int_equal(item(dream, "count")->valueint, 4);
    assert_true(is_iso8601(item(dream, "lastSeen")->valuestring));
    const cJSON *recent = item(dream, "recentMessages");
    assert_int_equal(cJSON_GetArraySize(recent), METRICS_RECENT_ERRORS);
    /* Newest first, the status's words (never user text); the oldest has gone. */
    assert_string_equal(item(cJSON_GetArrayItem(recent, 0), "message")->valuestring, slimy_strerror(SLIMY_EPERM));
    assert_string_equal(item(cJSON_GetArrayItem(recent, 1), "message")->valuestring, slimy_strerror(SLIMY_EINVAL));
    assert_string_equal(item(cJSON_GetArrayItem(recent, 2), "message")->valuestring,
                        slimy_strerror(SLIMY_EUNAVAILABLE));
    assert_true(is_iso8601(item(cJSON_GetArrayItem(recent, 0), "timestamp")->valuestring));
    const cJSON *chat_errors = item(errors, "chat");
    assert_int_equal(cJSON_GetArraySize(item(chat_errors, "recentMessages")), 1);
    assert_string_equal(item(cJSON_GetArrayItem(item(chat_errors, "recentMessages"), 0), "message")->valuestring,
                        slimy_strerror(SLIMY_ETIMEOUT));

    const cJSON *summary = item(root, "summary");
    assert_int_equal(item(summary, "totalCommands")->valueint, 26);
    assert_int_equal(item(summary, "totalErrors")->valueint, 8);
    assert_string_equal(item(summary, "successRate")->valuestring, "69%"); /* 18 / 26 */
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_help_and_type_for_every_family, reset),
        cmocka_unit_test_setup(test_label_values_escaped, reset),
        cmocka_unit_test_setup(test_histogram_buckets_cumulative, reset),
        cmocka_unit_test_setup(test_enum_labels, reset),
        cmocka_unit_test_setup(test_command_table_limits, reset),
        cmocka_unit_test_setup(test_concurrent_increments, reset),
        cmocka_unit_test_setup(test_json_empty, reset),
        cmocka_unit_test_setup(test_json_shape, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
