/* test_fetch_http.c — unit tests of src/core/fetch_http.c: the conversion and cap of a server's
 * wait and the retry decision as tables (no network, no clock), and the request setup and response
 * collector with blocking curl against the scripted fake server (support/fake_http.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/fetch.h"
#include "core/fetch_http.h"
#include "core/status.h"
#include "fake_http.h"

#define NOW 1000000u
#define FAR (NOW + 3600000u)

static const struct fetch_retry_policy POLICY = {
    .server_error_max = 2,
    .backoff_statuses = {408},
    .rate_limit_max = 2,
    .retry_after_max_ms = 10000,
    .soon_status = 404,
    .soon_max = 1,
    .soon_delay_ms = 1000,
};

static struct fetch_decision decide(struct fetch_retry_state *s, CURLcode result, long status, int64_t retry_after_ms,
                                    uint64_t deadline)
{
    struct fetch_outcome o = {.result = result, .http_status = status, .retry_after_ms = retry_after_ms};
    return fetch_retry_decide(&POLICY, s, &o, NOW, deadline);
}

/* ---- the decision ---- */

static void test_success_is_done_and_resets_the_counts(void **state)
{
    (void)state;
    struct fetch_retry_state s = {.server_errors = 2, .rate_limits = 1, .soon = 1};
    struct fetch_decision d = decide(&s, CURLE_OK, 204, -1, FAR);
    assert_int_equal(d.verdict, FETCH_DONE);
    assert_int_equal(d.status, SLIMY_OK);
    assert_int_equal(s.server_errors + s.rate_limits + s.soon, 0);
}

/* 5xx, listed statuses and network errors back off (0.5 s, then 1 s, each + up to 25 %) up to the max. */
static void test_server_errors_back_off_then_give_up(void **state)
{
    (void)state;
    struct fetch_retry_state s = {0};
    struct fetch_decision d = decide(&s, CURLE_OK, 503, -1, FAR);
    assert_int_equal(d.verdict, FETCH_RETRY);
    assert_true(d.retry_at_mono_ms >= NOW + 500 && d.retry_at_mono_ms <= NOW + 625);
    d = decide(&s, CURLE_OK, 408, -1, FAR);
    assert_int_equal(d.verdict, FETCH_RETRY);
    assert_true(d.retry_at_mono_ms >= NOW + 1000 && d.retry_at_mono_ms <= NOW + 1250);
    d = decide(&s, CURLE_OK, 500, -1, FAR);
    assert_int_equal(d.verdict, FETCH_GIVE_UP);
    assert_int_equal(d.status, SLIMY_EUPSTREAM);

    s = (struct fetch_retry_state){.server_errors = 2};
    assert_int_equal(decide(&s, CURLE_COULDNT_CONNECT, 0, -1, FAR).status, SLIMY_EUNAVAILABLE);
    s = (struct fetch_retry_state){.server_errors = 2};
    assert_int_equal(decide(&s, CURLE_OPERATION_TIMEDOUT, 0, -1, FAR).status, SLIMY_ETIMEOUT);
    /* An HTTP status with a failed transfer is not an answer. */
    s = (struct fetch_retry_state){0};
    assert_int_equal(decide(&s, CURLE_RECV_ERROR, 200, -1, FAR).verdict, FETCH_RETRY);
}

/* 429 waits what it was told, or backs off when not told; too long or too often gives up. */
static void test_rate_limits(void **state)
{
    (void)state;
    struct fetch_retry_state s = {0};
    struct fetch_decision d = decide(&s, CURLE_OK, 429, 250, FAR);
    assert_int_equal(d.verdict, FETCH_RETRY);
    assert_int_equal(d.retry_at_mono_ms, NOW + 250);
    d = decide(&s, CURLE_OK, 429, -1, FAR);
    assert_int_equal(d.verdict, FETCH_RETRY);
    assert_true(d.retry_at_mono_ms >= NOW + 1000 && d.retry_at_mono_ms <= NOW + 1250);
    d = decide(&s, CURLE_OK, 429, 0, FAR);
    assert_int_equal(d.verdict, FETCH_GIVE_UP);
    assert_int_equal(d.status, SLIMY_ELIMITED);

    s = (struct fetch_retry_state){0};
    d = decide(&s, CURLE_OK, 429, 10001, FAR);
    assert_int_equal(d.verdict, FETCH_GIVE_UP);
    assert_int_equal(d.status, SLIMY_ELIMITED);

    struct fetch_outcome quota = {.result = CURLE_OK, .http_status = 429, .retry_after_ms = 5, .is_final = true};
    d = fetch_retry_decide(&POLICY, &s, &quota, NOW, FAR);
    assert_int_equal(d.verdict, FETCH_REFUSED);
    assert_int_equal(d.status, SLIMY_ELIMITED);
}

/* The one conversion of a server's wait: range checked before converting, rounded up, saturating
 * at a day; not a finite number >= 0 is -1. Then the cap: 60 s, and the time left before the
 * deadline. */
static void test_wait_conversion_and_cap(void **state)
{
    (void)state;
    assert_int_equal(fetch_wait_ms(1.5, 1000.0), 1500);
    assert_int_equal(fetch_wait_ms(0.0101, 1000.0), 11);
    assert_int_equal(fetch_wait_ms(0, 1000.0), 0);
    assert_int_equal(fetch_wait_ms(42, 1.0), 42);
    assert_int_equal(fetch_wait_ms(1e300, 1000.0), FETCH_WAIT_ASKED_MAX_MS);
    assert_int_equal(fetch_wait_ms(1.7e308, 1e300), FETCH_WAIT_ASKED_MAX_MS); /* the product is inf */
    assert_int_equal(fetch_wait_ms(9223372036854775.808, 1000.0), FETCH_WAIT_ASKED_MAX_MS);
    assert_int_equal(fetch_wait_ms(INFINITY, 1000.0), -1);
    assert_int_equal(fetch_wait_ms(-INFINITY, 1000.0), -1);
    assert_int_equal(fetch_wait_ms(NAN, 1000.0), -1);
    assert_int_equal(fetch_wait_ms(-0.5, 1000.0), -1);
    assert_int_equal(fetch_wait_ms(1, NAN), -1);

    assert_int_equal(fetch_wait_parse("2", 1000.0), 2000);
    assert_int_equal(fetch_wait_parse(" 0.25\r\n", 1000.0), 250);
    assert_int_equal(fetch_wait_parse("1e300", 1000.0), FETCH_WAIT_ASKED_MAX_MS);
    assert_int_equal(fetch_wait_parse("1e999", 1000.0), -1); /* strtod: inf */
    static const char *junk[] = {
        "inf", "-inf", "nan", "NaN(123)", "-1", "", " ", "1s", "abc", "Wed, 21 Oct 2015 07:28:00 GMT", "1 2", NULL};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        assert_int_equal(fetch_wait_parse(junk[i], 1000.0), -1);

    assert_int_equal(fetch_wait_cap(250, NOW, FAR), 250);
    assert_int_equal(fetch_wait_cap(FETCH_WAIT_ASKED_MAX_MS, NOW, FAR), FETCH_WAIT_MAX_MS);
    assert_int_equal(fetch_wait_cap(INT64_MAX, NOW, FAR), 60000);
    assert_int_equal(fetch_wait_cap(INT64_MAX, NOW, 0), 60000); /* no deadline */
    assert_int_equal(fetch_wait_cap(INT64_MAX, NOW, NOW + 500), 500);
    assert_int_equal(fetch_wait_cap(5000, NOW, NOW - 1), 0); /* already past */
    assert_int_equal(fetch_wait_cap(-1, NOW, FAR), 0);
    assert_int_equal(fetch_wait_cap(INT64_MIN, NOW, FAR), 0);
    assert_int_equal(fetch_wait_cap(INT64_MAX, UINT64_MAX - 5, UINT64_MAX), 5);
}

/* Whatever a 429 asked for, the wait taken is at most 60 s (FETCH_WAIT_MAX_MS), and no sum
 * overflows: a policy without a give-up limit waits the cap. */
static void test_rate_limit_wait_is_capped(void **state)
{
    (void)state;
    static const struct fetch_retry_policy uncapped = {.rate_limit_max = 5};
    static const int64_t asks[] = {60001, 90000, FETCH_WAIT_ASKED_MAX_MS, INT64_MAX};
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        struct fetch_retry_state s = {0};
        struct fetch_outcome o = {.result = CURLE_OK, .http_status = 429, .retry_after_ms = asks[i]};
        struct fetch_decision d = fetch_retry_decide(&uncapped, &s, &o, NOW, FAR);
        assert_int_equal(d.verdict, FETCH_RETRY);
        assert_int_equal(d.retry_at_mono_ms, NOW + 60000);
        d = fetch_retry_decide(&uncapped, &s, &o, UINT64_MAX - 10, UINT64_MAX);
        assert_int_equal(d.verdict, FETCH_GIVE_UP);
        assert_int_equal(d.status, SLIMY_ETIMEOUT);
    }
}

/* The "soon" status is retried after its fixed delay, soon_max times; other 4xx are refusals. */
static void test_soon_status_and_refusals(void **state)
{
    (void)state;
    struct fetch_retry_state s = {0};
    struct fetch_decision d = decide(&s, CURLE_OK, 404, -1, FAR);
    assert_int_equal(d.verdict, FETCH_RETRY);
    assert_int_equal(d.retry_at_mono_ms, NOW + 1000);
    d = decide(&s, CURLE_OK, 404, -1, FAR);
    assert_int_equal(d.verdict, FETCH_REFUSED);
    assert_int_equal(d.status, SLIMY_EUPSTREAM);
    assert_int_equal(decide(&s, CURLE_OK, 400, -1, FAR).verdict, FETCH_REFUSED);
    assert_int_equal(decide(&s, CURLE_OK, 302, -1, FAR).verdict, FETCH_REFUSED);
}

/* A retry that would not start before the deadline is a give-up, whatever the reason. */
static void test_deadline_comes_first(void **state)
{
    (void)state;
    struct fetch_retry_state s = {0};
    struct fetch_decision d = decide(&s, CURLE_OK, 429, 250, NOW + 250);
    assert_int_equal(d.verdict, FETCH_GIVE_UP);
    assert_int_equal(d.status, SLIMY_ETIMEOUT);
    assert_int_equal(decide(&s, CURLE_OK, 404, -1, NOW + 999).status, SLIMY_ETIMEOUT);
    assert_int_equal(decide(&s, CURLE_OK, 502, -1, NOW + 400).status, SLIMY_ETIMEOUT);
}

/* ---- setup and collector, over HTTP ---- */

/* Runs req with blocking curl and reads the response into resp. */
static CURLcode perform(const struct fetch_request *req, struct fetch_response *resp)
{
    CURL *easy = curl_easy_init();
    assert_non_null(easy);
    assert_int_equal(fetch_request_setup(easy, req, resp), SLIMY_OK);
    CURLcode cc = curl_easy_perform(easy);
    fetch_response_read(resp, easy, cc);
    curl_easy_cleanup(easy);
    return cc;
}

static void test_request_and_response_headers(void **state)
{
    (void)state;
    fetch_global_init();
    struct fake_http *server = fake_http_start();
    assert_non_null(server);
    fake_http_reply(server, 429,
                    "Retry-After: 1.5\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset-After: 0.0101\n"
                    "X-RateLimit-Global: true\nContent-Type: application/json; charset=utf-8",
                    "{\"retry_after\":1.5}");
    fake_http_reply(server, 200, "retry-after-ms: 42\nRetry-After: 7", "ok");
    char url[128];
    snprintf(url, sizeof url, "%s/x?y=1", fake_http_url(server));
    struct curl_slist *headers = curl_slist_append(NULL, "X-Test: yes");
    struct fetch_request req = {.method = "PATCH",
                                .url = url,
                                .headers = headers,
                                .body = "{\"a\":1}",
                                .body_len = 7,
                                .user_agent = "probe/1",
                                .timeout_ms = 5000};
    struct fetch_response resp;
    fetch_response_init(&resp, 1024, false);
    assert_int_equal(perform(&req, &resp), CURLE_OK);
    assert_int_equal(resp.http_status, 429);
    assert_int_equal(resp.retry_after_ms, 1500);
    assert_int_equal(resp.reset_after_ms, 11); /* rounded up */
    assert_int_equal(resp.rate_limit_remaining, 0);
    assert_true(resp.rate_limit_global);
    assert_string_equal(resp.content_type, "application/json; charset=utf-8");
    assert_string_equal(fetch_response_text(&resp), "{\"retry_after\":1.5}");

    const struct fake_http_request *r = fake_http_request(server, 0);
    assert_string_equal(r->method, "PATCH");
    assert_string_equal(r->path, "/x?y=1");
    assert_string_equal(r->body, "{\"a\":1}");
    char value[64];
    assert_true(fake_http_header(r, "X-Test", value, sizeof value));
    assert_string_equal(value, "yes");
    assert_true(fake_http_header(r, "User-Agent", value, sizeof value));
    assert_string_equal(value, "probe/1");

    /* Reused: the fields are reset; retry-after-ms wins over Retry-After. GET sends no body. */
    req = (struct fetch_request){.url = url, .timeout_ms = 5000};
    assert_int_equal(perform(&req, &resp), CURLE_OK);
    assert_int_equal(resp.http_status, 200);
    assert_int_equal(resp.retry_after_ms, 42);
    assert_int_equal(resp.rate_limit_remaining, -1);
    assert_false(resp.rate_limit_global);
    assert_string_equal(fetch_response_text(&resp), "ok");
    assert_string_equal(fake_http_request(server, 1)->method, "GET");

    fetch_response_cleanup(&resp);
    curl_slist_free_all(headers);
    fake_http_stop(server);
}

/* Wait headers that are no sensible number: too large saturates at FETCH_WAIT_ASKED_MAX_MS (never
 * an undefined conversion); nan, inf, negative or not a number at all is absent (-1). */
static void test_hostile_wait_headers(void **state)
{
    (void)state;
    fetch_global_init();
    struct fake_http *server = fake_http_start();
    assert_non_null(server);
    static const struct {
        const char *headers;
        int64_t retry_after_ms, reset_after_ms;
    } cases[] = {
        {"Retry-After: 1e300\nX-RateLimit-Reset-After: 1e15", FETCH_WAIT_ASKED_MAX_MS, FETCH_WAIT_ASKED_MAX_MS},
        {"Retry-After: 9223372036854775.808\nX-RateLimit-Reset-After: 9.3e15", FETCH_WAIT_ASKED_MAX_MS,
         FETCH_WAIT_ASKED_MAX_MS},
        {"retry-after-ms: 1e300\nRetry-After: 1\nX-RateLimit-Reset-After: 86400", FETCH_WAIT_ASKED_MAX_MS,
         FETCH_WAIT_ASKED_MAX_MS},
        {"Retry-After: inf\nX-RateLimit-Reset-After: nan", -1, -1},
        {"Retry-After: -5\nX-RateLimit-Reset-After: -0.5", -1, -1},
        {"Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\nX-RateLimit-Reset-After: 5s", -1, -1},
        {"retry-after-ms: infinity\nRetry-After: 2", 2000, -1},
        {"Retry-After: 0\nX-RateLimit-Reset-After: 0.5 ", 0, 500},
    };
    char url[128];
    snprintf(url, sizeof url, "%s/x", fake_http_url(server));
    struct fetch_response resp;
    fetch_response_init(&resp, 1024, false);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_http_reply(server, 429, cases[i].headers, "{}");
        struct fetch_request req = {.url = url, .timeout_ms = 5000};
        assert_int_equal(perform(&req, &resp), CURLE_OK);
        assert_int_equal(resp.http_status, 429);
        assert_int_equal(resp.retry_after_ms, cases[i].retry_after_ms);
        assert_int_equal(resp.reset_after_ms, cases[i].reset_after_ms);
    }
    fetch_response_cleanup(&resp);
    fake_http_stop(server);
}

/* Past the cap: an aborted transfer, or a body cut at the cap; a passed deadline starts nothing;
 * other schemes are refused. */
static void test_cap_deadline_and_protocols(void **state)
{
    (void)state;
    fetch_global_init();
    struct fake_http *server = fake_http_start();
    assert_non_null(server);
    fake_http_reply(server, 200, NULL, "0123456789abcdef");
    fake_http_reply(server, 200, NULL, "0123456789abcdef");
    struct fetch_request req = {.url = fake_http_url(server), .timeout_ms = 5000};
    struct fetch_response resp;
    fetch_response_init(&resp, 8, false);
    assert_int_equal(perform(&req, &resp), CURLE_WRITE_ERROR);
    assert_true(resp.is_too_big);
    fetch_response_cleanup(&resp);

    fetch_response_init(&resp, 8, true);
    assert_int_equal(perform(&req, &resp), CURLE_OK);
    assert_true(resp.is_too_big);
    assert_int_equal(resp.body.len, 0); /* the chunk that crossed the cap is dropped whole */

    CURL *easy = curl_easy_init();
    req.deadline_mono_ms = clock_mono_ms() - 1;
    assert_int_equal(fetch_request_setup(easy, &req, &resp), SLIMY_ETIMEOUT);
    req = (struct fetch_request){.url = "ftp://127.0.0.1:9/x", .timeout_ms = 1000};
    assert_int_equal(fetch_request_setup(easy, &req, &resp), SLIMY_OK);
    assert_int_equal(curl_easy_perform(easy), CURLE_UNSUPPORTED_PROTOCOL);
    curl_easy_cleanup(easy);
    fetch_response_cleanup(&resp);
    fake_http_stop(server);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_is_done_and_resets_the_counts),
        cmocka_unit_test(test_server_errors_back_off_then_give_up),
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_wait_conversion_and_cap),
        cmocka_unit_test(test_rate_limit_wait_is_capped),
        cmocka_unit_test(test_soon_status_and_refusals),
        cmocka_unit_test(test_deadline_comes_first),
        cmocka_unit_test(test_request_and_response_headers),
        cmocka_unit_test(test_hostile_wait_headers),
        cmocka_unit_test(test_cap_deadline_and_protocols),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
