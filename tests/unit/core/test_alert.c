/* test_alert.c — unit tests of src/core/alert.c through the logger, as the server uses it: log
 * lines become Discord webhook POSTs to the scripted fake server (support/fake_http.h) on a real
 * outbound engine. The wall clock is injected, so crossing the one-minute window takes no time.
 * Checked: the body (one embed: title, description with the fields but no secret, colour, footer,
 * timestamp), the per-kind limit and its "+ N more since" note, warnings only when enabled, the
 * warnings that alert as critical, the burst of failed commands, one retry and no alert about a
 * failed alert, LOG_LEVEL not hiding alerts, a bounded flush, and the URL never logged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "core/alert.h"
#include "core/fetch.h"
#include "core/log.h"
#include "core/status.h"
#include "fake_http.h"
#include "log_capture.h"

#define WEBHOOK_PATH "/api/webhooks/42/SECRET-webhook-token"
#define T0_MS 1714564800000ull /* 2024-05-01T12:00:00Z */
#define RED 15158332
#define ORANGE 15105570

static _Atomic uint64_t now_ms = T0_MS;
static uint64_t fake_wall_ms(void)
{
    return atomic_load(&now_ms);
}

struct fixture {
    struct fake_http *server;
    struct fetch *engine;
    struct alert *alert;
};

static struct fixture *fixture_new(bool include_warnings)
{
    static struct fixture fx;
    atomic_store(&now_ms, T0_MS);
    fx.server = fake_http_start();
    assert_non_null(fx.server);
    assert_int_equal(fetch_start(&fx.engine), SLIMY_OK);
    char url[160];
    snprintf(url, sizeof url, "%s%s", fake_http_url(fx.server), WEBHOOK_PATH);
    struct alert_options o = {.webhook_url = url,
                              .include_warnings = include_warnings,
                              .host = "test-host",
                              .wall_ms = fake_wall_ms};
    assert_int_equal(alert_new(fx.engine, &o, &fx.alert), SLIMY_OK);
    alert_attach(fx.alert);
    return &fx;
}

static int setup(void **state)
{
    *state = fixture_new(false);
    return 0;
}

static int setup_with_warnings(void **state)
{
    *state = fixture_new(true);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    alert_flush(fx->alert, 15000);
    alert_detach(fx->alert);
    fetch_stop(fx->engine);
    alert_free(fx->alert);
    fetch_free(fx->engine);
    fake_http_stop(fx->server);
    return 0;
}

/* Flushes and checks that exactly n POSTs reached the webhook. */
static void expect_posts(struct fixture *fx, size_t n)
{
    assert_true(alert_flush(fx->alert, 15000));
    assert_int_equal(fake_http_count(fx->server), n);
}

static const char *embed_string(cJSON *body, const char *key)
{
    cJSON *embed = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "embeds"), 0);
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(embed, key));
    assert_non_null(s);
    return s;
}

static int embed_color(cJSON *body)
{
    cJSON *embed = cJSON_GetArrayItem(cJSON_GetObjectItem(body, "embeds"), 0);
    return (int)cJSON_GetNumberValue(cJSON_GetObjectItem(embed, "color"));
}

static void test_payload_is_one_embed(void **state)
{
    struct fixture *fx = *state;
    atomic_store(&now_ms, T0_MS + 4250);
    log_critical("cannot open the database", LOG_S("error", "connection refused"), LOG_I("port", 3306),
                 LOG_S("api_key", "sk-SECRET-1"), LOG_S("interaction_token", "tok-SECRET-2"));
    expect_posts(fx, 1);

    const struct fake_http_request *r = fake_http_request(fx->server, 0);
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, WEBHOOK_PATH);
    char ctype[64];
    assert_true(fake_http_header(r, "Content-Type", ctype, sizeof ctype));
    assert_string_equal(ctype, "application/json");

    cJSON *body = fake_http_json(fx->server, 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(body, "embeds")), 1);
    assert_null(cJSON_GetObjectItem(body, "content"));
    cJSON *parse = cJSON_GetObjectItem(cJSON_GetObjectItem(body, "allowed_mentions"), "parse");
    assert_true(cJSON_IsArray(parse));
    assert_int_equal(cJSON_GetArraySize(parse), 0);
    assert_string_equal(embed_string(body, "title"), "cannot open the database");
    assert_string_equal(embed_string(body, "description"),
                        "**critical**: cannot open the database\n**error**: connection refused\n**port**: 3306");
    assert_int_equal(embed_color(body), RED);
    assert_string_equal(embed_string(body, "timestamp"), "2024-05-01T12:00:04.250Z");
    cJSON *footer = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(body, "embeds"), 0), "footer");
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(footer, "text")), "test-host · slimy " SLIMY_VERSION);
    assert_null(strstr(r->body, "SECRET"));
    cJSON_Delete(body);
}

/* One per kind per minute; another kind is not held back; after the window the next one says how
 * many were held back and since when. */
static void test_one_per_kind_per_minute(void **state)
{
    struct fixture *fx = *state;
    atomic_store(&now_ms, T0_MS + 3 * 60000 + 5000); /* 12:03:05 */
    log_error("discord refused the reply", LOG_S("interaction_id", "1"));
    atomic_store(&now_ms, T0_MS + 3 * 60000 + 20000);
    log_error("discord refused the reply", LOG_S("interaction_id", "2"));
    log_error("discord refused the reply", LOG_S("interaction_id", "3"));
    log_error("interaction not admitted", LOG_S("interaction_id", "4"));
    expect_posts(fx, 2);
    cJSON *body = fake_http_json(fx->server, 0);
    assert_string_equal(embed_string(body, "title"), "discord refused the reply");
    assert_null(strstr(embed_string(body, "description"), "more since"));
    cJSON_Delete(body);
    body = fake_http_json(fx->server, 1);
    assert_string_equal(embed_string(body, "title"), "interaction not admitted");
    cJSON_Delete(body);

    atomic_store(&now_ms, T0_MS + 3 * 60000 + 64000); /* 59 s after the first: still held back */
    log_error("discord refused the reply", LOG_S("interaction_id", "5"));
    expect_posts(fx, 2);
    atomic_store(&now_ms, T0_MS + 3 * 60000 + 65000); /* a minute after the first */
    log_error("discord refused the reply", LOG_S("interaction_id", "6"));
    expect_posts(fx, 3);
    body = fake_http_json(fx->server, 2);
    assert_string_equal(embed_string(body, "description"),
                        "**error**: discord refused the reply\n**interaction_id**: 6\n+ 3 more since 12:03:05 UTC");
    cJSON_Delete(body);
    struct alert_counts c = alert_counts(fx->alert);
    assert_int_equal(c.queued, 3);
    assert_int_equal(c.suppressed, 3);
    assert_int_equal(c.sent, 3);
    assert_int_equal(c.failed, 0);
}

static void test_warnings_only_when_enabled(void **state)
{
    struct fixture *fx = *state;
    log_warn("discord rate limited", LOG_F("retry_after_s", 1.5));
    log_info("ready");
    log_debug("command done");
    expect_posts(fx, 0);
}

static void test_warnings_when_enabled_are_orange(void **state)
{
    struct fixture *fx = *state;
    log_warn("discord rate limited", LOG_F("retry_after_s", 1.5));
    log_info("ready");
    expect_posts(fx, 1);
    cJSON *body = fake_http_json(fx->server, 0);
    assert_string_equal(embed_string(body, "description"),
                        "**warning**: discord rate limited\n**retry_after_s**: 1.500");
    assert_int_equal(embed_color(body), ORANGE);
    cJSON_Delete(body);
}

/* The warnings that mean the service is degraded alert as critical even with warnings off. */
static void test_degraded_warnings_alert_as_critical(void **state)
{
    struct fixture *fx = *state;
    log_warn("reply dropped", LOG_S("interaction_id", "7"), LOG_S("reason", "timed out"));
    log_warn("Redis unreachable: serving from this replica's memory (local cooldowns, history and queue) "
             "until it returns",
             LOG_S("redis", "127.0.0.1:6379"));
    log_error("database unreachable: /ready answers 503", LOG_S("backend", "sqlite"));
    expect_posts(fx, 3);
    const char *titles[] = {"reply dropped", "Redis unreachable: serving from this replica's memory",
                            "database unreachable: /ready answers 503"};
    for (size_t i = 0; i < 3; i++) {
        cJSON *body = fake_http_json(fx->server, i);
        assert_non_null(strstr(embed_string(body, "title"), titles[i]));
        assert_true(strncmp(embed_string(body, "description"), "**critical**: ", 14) == 0);
        assert_int_equal(embed_color(body), RED);
        cJSON_Delete(body);
    }
}

/* Five "command failed" warnings within a minute: one critical alert, with warnings off. Five
 * spread over more than a minute: none. */
static void test_repeated_command_failures(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 5; i++) {
        atomic_store(&now_ms, T0_MS + (uint64_t)i * 20000); /* 0, 20, 40, 60, 80 s: never 5 in 60 s */
        log_warn("command failed", LOG_S("command", "dream"), LOG_S("status", "upstream error"));
    }
    expect_posts(fx, 0);
    atomic_store(&now_ms, T0_MS + 200000);
    for (int i = 0; i < 4; i++)
        log_warn("command failed", LOG_S("command", "chat"), LOG_S("status", "timed out"));
    expect_posts(fx, 0);
    log_warn("command failed", LOG_S("command", "snail calc"), LOG_S("status", "timed out"));
    expect_posts(fx, 1);
    cJSON *body = fake_http_json(fx->server, 0);
    assert_string_equal(embed_string(body, "title"), "repeated command failures");
    assert_string_equal(embed_string(body, "description"), "**critical**: 5 commands failed within 60 s; the last:\n"
                                                           "**command**: snail calc\n**status**: timed out");
    assert_int_equal(embed_color(body), RED);
    cJSON_Delete(body);
    /* The count starts over: four more are not a burst yet. */
    for (int i = 0; i < 4; i++)
        log_warn("command failed", LOG_S("command", "chat"));
    expect_posts(fx, 1);
}

/* A 5xx is retried once; a second one gives up, logged at warn, and that warning (with warnings
 * included) alerts nobody: exactly two POSTs. A 429 then 2xx is sent. */
static void test_one_retry_and_no_alert_about_alerts(void **state)
{
    struct fixture *fx = *state;
    fake_http_reply(fx->server, 503, NULL, "{}");
    fake_http_reply(fx->server, 502, NULL, "{}");
    log_error("could not start reply delivery", LOG_S("status", "out of memory"));
    expect_posts(fx, 2);
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 300000000L};
    nanosleep(&pause, NULL);
    assert_true(alert_flush(fx->alert, 1000));
    assert_int_equal(fake_http_count(fx->server), 2);
    struct alert_counts c = alert_counts(fx->alert);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.sent, 0);

    fake_http_reply(fx->server, 429, "Retry-After: 0.2", "{\"retry_after\":0.2}");
    log_error("another kind");
    expect_posts(fx, 4);
    c = alert_counts(fx->alert);
    assert_int_equal(c.sent, 1);
    assert_int_equal(c.failed, 1);
}

/* LOG_LEVEL=error leaves warnings out of the files, not out of the alerter. */
static void test_log_level_does_not_hide_alerts(void **state)
{
    struct fixture *fx = *state;
    log_open(LOG_ERROR, NULL); /* only the level changes: the captured files stay open */
    log_warn("reply dropped", LOG_S("interaction_id", "8"));
    log_open(LOG_DEBUG, NULL);
    expect_posts(fx, 1);
}

/* The flush is bounded: a webhook that hangs does not hold the process. */
static void test_flush_is_bounded(void **state)
{
    struct fixture *fx = *state;
    fake_http_queue(fx->server, &(struct fake_http_response){.status = 204, .delay_ms = 1500});
    log_critical("start-up failed", LOG_S("status", "unavailable"));
    assert_false(alert_flush(fx->alert, 100));
    assert_true(alert_flush(fx->alert, 10000));
    assert_int_equal(alert_counts(fx->alert).sent, 1);
}

/* Runs last: every line the tests above logged ("alert not sent" included) is free of the URL.
 * (The secrets the first test logs on purpose are there: only the webhook is checked.) */
static void test_the_webhook_url_is_never_logged(void **state)
{
    (void)state;
    log_capture_assert_absent("SECRET-webhook-token", "webhooks/42", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_payload_is_one_embed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_per_kind_per_minute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warnings_only_when_enabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_warnings_when_enabled_are_orange, setup_with_warnings, teardown),
        cmocka_unit_test_setup_teardown(test_degraded_warnings_alert_as_critical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_command_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_retry_and_no_alert_about_alerts, setup_with_warnings, teardown),
        cmocka_unit_test_setup_teardown(test_log_level_does_not_hide_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_is_bounded, setup, teardown),
        cmocka_unit_test(test_the_webhook_url_is_never_logged),
    };
    return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
}
