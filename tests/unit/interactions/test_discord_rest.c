/* test_discord_rest.c — unit tests of the Discord REST client: webhook delivery
 * (src/interactions/discord_rest.c) on the real outbound engine, and the blocking command
 * registration (src/interactions/discord_register.c), both talking real HTTP to a scripted fake
 * server (support/fake_http.h) through DISCORD_API_BASE.
 * Delivery: PATCH @original then follow-up POSTs for a long text, multipart with files, 429
 * waits retry_after (a global one pauses every delivery), an exhausted bucket waits
 * X-RateLimit-Reset-After, the 404 right after a defer is retried, 5xx backs off, and everything
 * stops at the token's deadline. Registration: the PUT, and one line for the operator on failure.
 * Waits are short (retry_after of tens of milliseconds); the 5xx backoff (0.5 s) and the 404
 * retry delay (1 s) are the client's real ones, so those tests take that long. The last test
 * checks that no token reached the log. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/fetch.h"
#include "core/log.h"
#include "core/status.h"
#include "core/utf8.h"
#include "fake_http.h"
#include "log_capture.h"
#include "interactions/discord_register.h"
#include "interactions/discord_rest.h"
#include "interactions/message.h"

#define APP_ID "42"
#define TOKEN "aW50ZXJhY3Rpb246MTIzOnNlY3JldA-token"
#define BOT_TOKEN "Bot.Token.Secret-987654321"
#define WAIT_MS 10000     /* a delivery that takes longer is a hang */
#define LIFETIME_MS 60000 /* a token end far enough away not to matter */
#define MAX_RESULTS 16

struct fixture {
    struct fake_http *server;
    struct slimy_config cfg;
    struct fetch *engine;
    struct discord_rest *rest;
    pthread_mutex_t lock;
    struct discord_delivery_result results[MAX_RESULTS];
    int n_results;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    pthread_mutex_init(&f->lock, NULL);
    if (!(f->server = fake_http_start()))
        return -1;
    char base[128];
    snprintf(base, sizeof base, "%s/api/v10", fake_http_url(f->server));
    f->cfg.api_base = strdup(base);
    f->cfg.bot_token = strdup(BOT_TOKEN);
    snprintf(f->cfg.application_id, sizeof f->cfg.application_id, APP_ID);
    if (!f->cfg.api_base || !f->cfg.bot_token)
        return -1;
    return fetch_start(&f->engine) || discord_rest_new(&f->cfg, f->engine, &f->rest) ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    fetch_free(f->engine);
    discord_rest_free(f->rest);
    fake_http_stop(f->server);
    free(f->cfg.api_base);
    free(f->cfg.bot_token);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return 0;
}

/* ---- delivering ---- */

static void on_delivered(const struct discord_delivery_result *result, void *arg)
{
    struct fixture *f = arg;
    pthread_mutex_lock(&f->lock);
    if (f->n_results < MAX_RESULTS)
        f->results[f->n_results] = *result;
    f->n_results++;
    pthread_mutex_unlock(&f->lock);
}

/* Starts delivering msg (emptied) with the token ending lifetime_ms from now. */
static void start(struct fixture *f, struct message *msg, bool ephemeral, uint64_t lifetime_ms)
{
    struct discord_delivery where = {
        .application_id = APP_ID,
        .token = TOKEN,
        .interaction_id = "9001",
        .expires_at_wall_ms = clock_wall_ms() + lifetime_ms,
        .ephemeral = ephemeral,
    };
    assert_int_equal(discord_reply_deliver(f->rest, &where, msg, on_delivered, f), SLIMY_OK);
    assert_true(message_is_empty(msg));
}

/* Waits until n deliveries have ended; fails the test if they do not. */
static void wait_results(struct fixture *f, int n)
{
    uint64_t until = clock_mono_ms() + WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&f->lock);
        int have = f->n_results;
        pthread_mutex_unlock(&f->lock);
        if (have >= n)
            break;
        if (clock_mono_ms() >= until)
            fail_msg("%d of %d deliveries ended", have, n);
        usleep(2000);
    }
    usleep(20000); /* a second callback for the same delivery would show up here */
    assert_int_equal(f->n_results, n);
}

/* Delivers text (and the file, when given) and returns the result. */
static struct discord_delivery_result deliver(struct fixture *f, const char *text, bool ephemeral,
                                              const char *file_name, uint64_t lifetime_ms)
{
    struct message msg;
    message_init(&msg);
    assert_int_equal(message_set_text(&msg, "%s", text), SLIMY_OK);
    if (file_name)
        assert_int_equal(message_attach(&msg, file_name, "text/plain", "file body\n", 10), SLIMY_OK);
    /* Counted before the start: a delivery that ends at once (a passed deadline) may finish
     * before start() returns. */
    pthread_mutex_lock(&f->lock);
    int expected = f->n_results + 1;
    pthread_mutex_unlock(&f->lock);
    start(f, &msg, ephemeral, lifetime_ms);
    message_cleanup(&msg);
    wait_results(f, expected);
    pthread_mutex_lock(&f->lock);
    struct discord_delivery_result r = f->results[expected - 1];
    pthread_mutex_unlock(&f->lock);
    return r;
}


static uint64_t gap_ms(struct fixture *f, size_t i, size_t j)
{
    return fake_http_request(f->server, j)->received_mono_ms - fake_http_request(f->server, i)->received_mono_ms;
}

#define ORIGINAL_PATH "/api/v10/webhooks/" APP_ID "/" TOKEN "/messages/@original"
#define FOLLOW_UP_PATH "/api/v10/webhooks/" APP_ID "/" TOKEN

/* ---- delivery tests ---- */

/* A short reply is one PATCH of @original: JSON, Discord's User-Agent, no bot token. */
static void test_short_reply_edits_original(void **state)
{
    struct fixture *f = *state;
    struct discord_delivery_result r = deliver(f, "hello there", true, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    assert_int_equal(r.http_status, 200);
    assert_int_equal(r.attempts, 1);
    assert_int_equal(fake_http_count(f->server), 1);
    const struct fake_http_request *http = fake_http_request(f->server, 0);
    assert_string_equal(http->method, "PATCH");
    assert_string_equal(http->path, ORIGINAL_PATH);
    char value[256];
    assert_true(fake_http_header(http, "User-Agent", value, sizeof value));
    assert_string_equal(value, DISCORD_USER_AGENT);
    assert_true(fake_http_header(http, "Content-Type", value, sizeof value));
    assert_string_equal(value, "application/json");
    assert_false(fake_http_header(http, "Authorization", value, sizeof value));
    cJSON *body = fake_http_json(f->server, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "content")->valuestring, "hello there");
    cJSON_Delete(body);
}

/* 4,500 characters: PATCH @original with the first 2,000, then two follow-up POSTs; together they
 * are the text. Ephemeral follow-ups carry flag 64. */
static void test_long_reply_is_followed_up(void **state)
{
    struct fixture *f = *state;
    char text[4501];
    for (size_t i = 0; i < 4500; i++)
        text[i] = (char)('a' + i % 26);
    text[4500] = '\0';
    struct discord_delivery_result r = deliver(f, text, true, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    assert_int_equal(r.attempts, 3);
    assert_int_equal(fake_http_count(f->server), 3);
    char joined[4501] = "";
    size_t joined_len = 0;
    for (size_t i = 0; i < 3; i++) {
        const struct fake_http_request *http = fake_http_request(f->server, i);
        assert_string_equal(http->method, i == 0 ? "PATCH" : "POST");
        assert_string_equal(http->path, i == 0 ? ORIGINAL_PATH : FOLLOW_UP_PATH);
        cJSON *body = fake_http_json(f->server, i);
        const char *content = cJSON_GetObjectItemCaseSensitive(body, "content")->valuestring;
        size_t len = strlen(content);
        assert_true(len <= 2000 && joined_len + len <= 4500);
        memcpy(joined + joined_len, content, len);
        joined_len += len;
        const cJSON *flags = cJSON_GetObjectItemCaseSensitive(body, "flags");
        if (i > 0)
            assert_int_equal(flags->valueint, 64);
        cJSON_Delete(body);
    }
    joined[joined_len] = '\0';
    assert_string_equal(joined, text);
}

/* With a file, @original is edited with multipart/form-data: payload_json plus files[0]. */
static void test_files_go_multipart(void **state)
{
    struct fixture *f = *state;
    struct discord_delivery_result r = deliver(f, "here is your export", false, "export.txt", LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    const struct fake_http_request *http = fake_http_request(f->server, 0);
    assert_string_equal(http->method, "PATCH");
    assert_string_equal(http->path, ORIGINAL_PATH);
    char value[256];
    assert_true(fake_http_header(http, "Content-Type", value, sizeof value));
    assert_memory_equal(value, "multipart/form-data; boundary=", 30);
    assert_non_null(memmem(http->body, http->body_len, "name=\"payload_json\"", 19));
    assert_non_null(memmem(http->body, http->body_len, "here is your export", 19));
    assert_non_null(memmem(http->body, http->body_len, "name=\"files[0]\"; filename=\"export.txt\"", 38));
    assert_non_null(memmem(http->body, http->body_len, "Content-Type: text/plain", 24));
    assert_non_null(memmem(http->body, http->body_len, "file body\n", 10));
}

/* A 429 waits the body's retry_after (finer than the Retry-After header), then succeeds. */
static void test_rate_limited_waits_retry_after(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 429, "Retry-After: 2\nX-RateLimit-Scope: user",
                    "{\"message\":\"You are being rate limited.\",\"retry_after\":0.08,\"global\":false}");
    struct discord_delivery_result r = deliver(f, "hi", false, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    assert_int_equal(r.attempts, 2);
    assert_true(gap_ms(f, 0, 1) >= 80 && gap_ms(f, 0, 1) < 1500);
}

/* A global 429 pauses every delivery, not just the one that met it. */
static void test_global_rate_limit_pauses_everyone(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 429, "X-RateLimit-Global: true",
                    "{\"message\":\"You are being rate limited.\",\"retry_after\":0.3,\"global\":true}");
    struct message a, b;
    message_init(&a);
    message_init(&b);
    message_set_text(&a, "first");
    message_set_text(&b, "second");
    start(f, &a, false, LIFETIME_MS);
    assert_true(fake_http_wait(f->server, 1, WAIT_MS));
    usleep(50000); /* the 429 has been read by now */
    start(f, &b, false, LIFETIME_MS);
    wait_results(f, 2);
    assert_int_equal(f->results[0].status, SLIMY_OK);
    assert_int_equal(f->results[1].status, SLIMY_OK);
    assert_int_equal(fake_http_count(f->server), 3);
    assert_true(gap_ms(f, 0, 1) >= 300);
    assert_true(gap_ms(f, 0, 2) >= 300);
}

/* A 429 asking for an absurd wait (retry_after 1e300 in the body, 1e15 s in Retry-After, a body
 * number past the double range), global or not, cannot stop later deliveries: every wait is capped
 * at 60 s and at the token's end, so the one that met it is dropped at its deadline and the global
 * pause ends there too. nan, inf or a negative Retry-After counts as not said (a second). */
static void test_hostile_rate_limit_cannot_poison(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *headers, *body;
    } cases[] = {
        {"X-RateLimit-Global: true", "{\"message\":\"rate limited\",\"retry_after\":1e300,\"global\":true}"},
        {"Retry-After: 1e15\nX-RateLimit-Global: true", "{\"global\":true}"},
        {NULL, "{\"retry_after\":1e999,\"global\":true}"},
        {"Retry-After: 1e300", "{\"retry_after\":-1e300,\"global\":true}"},
        {"Retry-After: inf\nX-RateLimit-Global: true", "{}"},
        {"Retry-After: nan\nX-RateLimit-Global: true", "{}"},
        {"Retry-After: -5\nX-RateLimit-Global: true", "{}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t before = fake_http_count(f->server);
        fake_http_reply(f->server, 429, cases[i].headers, cases[i].body);
        uint64_t t0 = clock_mono_ms();
        struct discord_delivery_result r = deliver(f, "first", false, NULL, 300);
        assert_int_equal(r.status, SLIMY_ETIMEOUT);
        assert_int_equal(r.http_status, 429);
        assert_int_equal(r.attempts, 1);
        assert_true(clock_mono_ms() - t0 < 1000);
        /* The next delivery waits out the rest of that pause at most, then goes through. */
        r = deliver(f, "second", false, NULL, LIFETIME_MS);
        assert_int_equal(r.status, SLIMY_OK);
        assert_int_equal(r.attempts, 1);
        assert_int_equal(fake_http_count(f->server), before + 2);
        assert_true(gap_ms(f, before, before + 1) < 1000);
    }
}

/* Text that is not valid UTF-8 (a bug upstream) is cleaned before it is sent, not refused by
 * Discord with the whole reply: malformed bytes become '?'. So are a file's name and embeds. */
static void test_invalid_utf8_is_cleaned_before_sending(void **state)
{
    struct fixture *f = *state;
    struct discord_delivery_result r = deliver(f, "bad \xff\xfe text \xe2\x82", false, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    const struct fake_http_request *http = fake_http_request(f->server, 0);
    assert_true(utf8_valid(http->body, http->body_len));
    cJSON *body = fake_http_json(f->server, 0);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(body, "content")->valuestring, "bad ?? text ??");
    cJSON_Delete(body);

    struct message msg;
    message_init(&msg);
    assert_int_equal(message_set_text(&msg, "caf\xc3\xa9 ok"), SLIMY_OK);
    cJSON *embed = cJSON_CreateObject();
    cJSON_AddStringToObject(embed, "title", "ti\xc3tle");
    assert_int_equal(message_add_embed(&msg, embed), SLIMY_OK);
    assert_int_equal(message_attach(&msg, "r\xe9sum\xe9.txt", "text/plain", "x", 1), SLIMY_OK);
    start(f, &msg, false, LIFETIME_MS);
    message_cleanup(&msg);
    wait_results(f, 2);
    assert_int_equal(f->results[1].status, SLIMY_OK);
    http = fake_http_request(f->server, 1);
    assert_true(utf8_valid(http->body, http->body_len));
    assert_non_null(memmem(http->body, http->body_len, "caf\xc3\xa9 ok", 7));
    assert_non_null(memmem(http->body, http->body_len, "ti?tle", 6));
    assert_non_null(memmem(http->body, http->body_len, "filename=\"r?sum?.txt\"", 20));
}

/* The webhook URL is built only from an application id that is ours (digits; DISCORD_APPLICATION_ID
 * when set) and a token of Discord's characters (letters, digits, '-', '_', '.'; 1..500): anything
 * else is refused before any request, so a signed body cannot point the request elsewhere. */
static void test_unsafe_webhook_fields_are_refused(void **state)
{
    struct fixture *f = *state;
    char long_token[1001];
    memset(long_token, 'a', 1000);
    long_token[1000] = '\0';
    const char *tokens[] = {"x/../../channels/1/messages",
                            "..",
                            ".",
                            "a..b",
                            "x%2F..%2Fy",
                            "x?y=1",
                            "x#y",
                            "x y",
                            "x\\y",
                            "tok\xc3\xa9n",
                            "",
                            long_token,
                            NULL};
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        struct message msg;
        message_init(&msg);
        message_set_text(&msg, "hi");
        struct discord_delivery where = {.application_id = APP_ID,
                                         .token = tokens[i],
                                         .interaction_id = "9001",
                                         .expires_at_wall_ms = clock_wall_ms() + LIFETIME_MS};
        assert_int_not_equal(discord_reply_deliver(f->rest, &where, &msg, on_delivered, f), SLIMY_OK);
        message_cleanup(&msg);
    }
    const char *apps[] = {"43", "42/../43", "4 2", "-42", "042", "", NULL};
    for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++) {
        struct message msg;
        message_init(&msg);
        message_set_text(&msg, "hi");
        struct discord_delivery where = {.application_id = apps[i],
                                         .token = TOKEN,
                                         .interaction_id = "9001",
                                         .expires_at_wall_ms = clock_wall_ms() + LIFETIME_MS};
        int rc = discord_reply_deliver(f->rest, &where, &msg, on_delivered, f);
        if (apps[i] && apps[i][0]) /* "" and NULL: the configured id is used */
            assert_int_not_equal(rc, SLIMY_OK);
        else
            assert_int_equal(rc, SLIMY_OK);
        message_cleanup(&msg);
    }
    wait_results(f, 2);
    assert_int_equal(f->results[0].status, SLIMY_OK);
    assert_int_equal(f->results[1].status, SLIMY_OK);
    assert_int_equal(fake_http_count(f->server), 2);
    assert_string_equal(fake_http_request(f->server, 0)->path, ORIGINAL_PATH);
    assert_string_equal(fake_http_request(f->server, 1)->path, ORIGINAL_PATH);

    /* Without DISCORD_APPLICATION_ID the interaction's own id is used, if it is a snowflake. */
    f->cfg.application_id[0] = '\0';
    struct message msg;
    message_init(&msg);
    message_set_text(&msg, "hi");
    struct discord_delivery where = {.application_id = "77",
                                     .token = "a.b-c_D9",
                                     .interaction_id = "9001",
                                     .expires_at_wall_ms = clock_wall_ms() + LIFETIME_MS};
    assert_int_equal(discord_reply_deliver(f->rest, &where, &msg, on_delivered, f), SLIMY_OK);
    where.application_id = "";
    assert_int_not_equal(discord_reply_deliver(f->rest, &where, &msg, on_delivered, f), SLIMY_OK);
    where.application_id = "7a";
    assert_int_not_equal(discord_reply_deliver(f->rest, &where, &msg, on_delivered, f), SLIMY_OK);
    message_cleanup(&msg);
    wait_results(f, 3);
    assert_int_equal(f->results[2].status, SLIMY_OK);
    assert_int_equal(fake_http_count(f->server), 3);
    assert_string_equal(fake_http_request(f->server, 2)->path, "/api/v10/webhooks/77/a.b-c_D9/messages/@original");
}

/* An exhausted bucket (X-RateLimit-Remaining: 0) waits X-RateLimit-Reset-After before the next part. */
static void test_exhausted_bucket_waits_reset_after(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 200, "X-RateLimit-Limit: 5\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset-After: 0.25",
                    "{\"id\":\"1\"}");
    char text[2501];
    memset(text, 'x', 2500);
    text[2500] = '\0';
    struct discord_delivery_result r = deliver(f, text, false, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    assert_int_equal(fake_http_count(f->server), 2);
    assert_true(gap_ms(f, 0, 1) >= 250);
}

/* A 404 on @original right after the defer is Discord's race: retried after a second. A 404 on a
 * follow-up is final. */
static void test_not_found_after_defer_is_retried(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 404, NULL, "{\"message\":\"Unknown Webhook\",\"code\":10015}");
    struct discord_delivery_result r = deliver(f, "late", false, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    assert_int_equal(r.attempts, 2);
    assert_true(gap_ms(f, 0, 1) >= 1000);

    fake_http_reply(f->server, 200, NULL, "{}");
    fake_http_reply(f->server, 404, NULL, "{\"message\":\"Unknown Webhook\",\"code\":10015}");
    char text[2501];
    memset(text, 'y', 2500);
    text[2500] = '\0';
    r = deliver(f, text, false, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_ENOTFOUND);
    assert_int_equal(r.http_status, 404);
    assert_int_equal(r.attempts, 2);
}

/* A 5xx backs off (0.5 s and some jitter) and tries again; a 4xx is final. */
static void test_server_error_backs_off_and_refusal_is_final(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 502, NULL, "bad gateway");
    struct discord_delivery_result r = deliver(f, "hi", false, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_OK);
    assert_int_equal(r.attempts, 2);
    assert_true(gap_ms(f, 0, 1) >= 500 && gap_ms(f, 0, 1) < 2000);

    fake_http_reply(f->server, 400, NULL, "{\"message\":\"Invalid Form Body\",\"code\":50035}");
    r = deliver(f, "hi", false, NULL, LIFETIME_MS);
    assert_int_equal(r.status, SLIMY_EUPSTREAM);
    assert_int_equal(r.http_status, 400);
    assert_int_equal(r.attempts, 1);
}

/* Everything stops at the token's end: 5xx until then is given up when the next backoff would
 * pass it, and a token already ended makes no request at all. */
static void test_gives_up_at_the_deadline(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < 4; i++)
        fake_http_reply(f->server, 503, NULL, "unavailable");
    uint64_t t0 = clock_mono_ms();
    struct discord_delivery_result r = deliver(f, "hi", false, NULL, 900);
    assert_int_equal(r.status, SLIMY_ETIMEOUT);
    assert_int_equal(r.http_status, 503);
    assert_int_equal(r.attempts, 2);
    assert_true(clock_mono_ms() - t0 < 1500);

    r = deliver(f, "too late", false, NULL, 0);
    assert_int_equal(r.status, SLIMY_ETIMEOUT);
    assert_int_equal(r.attempts, 0);
    assert_int_equal(fake_http_count(f->server), 2);

    /* A slow server is cut at the deadline too. */
    fake_http_queue(f->server, &(struct fake_http_response){.status = 200, .body = "{}", .delay_ms = 3000});
    t0 = clock_mono_ms();
    r = deliver(f, "slow", false, NULL, 400);
    assert_int_equal(r.status, SLIMY_ETIMEOUT);
    assert_true(clock_mono_ms() - t0 < 2000);
}

/* ---- registration tests ---- */

#define COMMANDS "[{\"name\":\"ping\",\"description\":\"Ping\"},{\"name\":\"chat\",\"description\":\"Chat\"}]"

/* A PUT of the whole list with the bot token; the count is what Discord echoed. */
static void test_register_puts_the_commands(void **state)
{
    struct fixture *f = *state;
    fake_http_reply(f->server, 200, NULL, COMMANDS);
    fake_http_reply(f->server, 200, NULL, "[{\"name\":\"ping\"}]");
    char err[512];
    size_t n = 0;
    assert_int_equal(discord_commands_register(&f->cfg, NULL, COMMANDS, &n, err, sizeof err), SLIMY_OK);
    assert_int_equal(n, 2);
    assert_int_equal(discord_commands_register(&f->cfg, "77", COMMANDS, &n, err, sizeof err), SLIMY_OK);
    assert_int_equal(n, 1);

    const struct fake_http_request *http = fake_http_request(f->server, 0);
    assert_string_equal(http->method, "PUT");
    assert_string_equal(http->path, "/api/v10/applications/" APP_ID "/commands");
    char value[256];
    assert_true(fake_http_header(http, "Authorization", value, sizeof value));
    assert_string_equal(value, "Bot " BOT_TOKEN);
    assert_true(fake_http_header(http, "Content-Type", value, sizeof value));
    assert_string_equal(value, "application/json");
    assert_true(fake_http_header(http, "User-Agent", value, sizeof value));
    assert_string_equal(value, DISCORD_USER_AGENT);
    assert_string_equal(http->body, COMMANDS);
    assert_string_equal(fake_http_request(f->server, 1)->path, "/api/v10/applications/" APP_ID "/guilds/77/commands");
}

/* Failures are one line for the operator: 401 names the token (never shows it), 429 says when,
 * others quote Discord; missing settings are caught before any request. */
static void test_register_failures_explain_themselves(void **state)
{
    struct fixture *f = *state;
    char err[512];
    size_t n = 0;
    fake_http_reply(f->server, 401, NULL, "{\"message\":\"401: Unauthorized\",\"code\":0}");
    assert_int_equal(discord_commands_register(&f->cfg, NULL, COMMANDS, &n, err, sizeof err), SLIMY_EPERM);
    assert_non_null(strstr(err, "DISCORD_TOKEN"));
    assert_null(strstr(err, BOT_TOKEN));

    fake_http_reply(f->server, 429, "Retry-After: 3",
                    "{\"message\":\"rate limited\",\"retry_after\":2.5,\"global\":false}");
    assert_int_equal(discord_commands_register(&f->cfg, NULL, COMMANDS, &n, err, sizeof err), SLIMY_ELIMITED);
    assert_non_null(strstr(err, "try again in 2.5 s"));

    fake_http_reply(f->server, 400, NULL, "{\"message\":\"Invalid Form Body\",\"code\":50035}");
    assert_int_equal(discord_commands_register(&f->cfg, NULL, COMMANDS, &n, err, sizeof err), SLIMY_EUPSTREAM);
    assert_string_equal(err, "Discord answered 400: Invalid Form Body (code 50035)");
    assert_int_equal(fake_http_count(f->server), 3); /* no retries */

    free(f->cfg.bot_token);
    f->cfg.bot_token = NULL;
    assert_int_equal(discord_commands_register(&f->cfg, NULL, COMMANDS, &n, err, sizeof err), SLIMY_EINVAL);
    assert_non_null(strstr(err, "DISCORD_TOKEN is not set"));
    assert_int_equal(fake_http_count(f->server), 3);

    /* Nothing listening: the operator learns where it tried. */
    free(f->cfg.api_base);
    f->cfg.api_base = strdup("http://127.0.0.1:9/api/v10");
    f->cfg.bot_token = strdup(BOT_TOKEN);
    assert_int_equal(discord_commands_register(&f->cfg, NULL, COMMANDS, &n, err, sizeof err), SLIMY_EUNAVAILABLE);
    assert_non_null(strstr(err, "could not reach Discord at http://127.0.0.1:9/api/v10"));
}

/* Every line the tests above logged went to combined.log: no token is in any of them. */
static void test_tokens_never_logged(void **state)
{
    (void)state;
    log_capture_assert_absent(TOKEN, BOT_TOKEN, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_short_reply_edits_original, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_reply_is_followed_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files_go_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_limited_waits_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_global_rate_limit_pauses_everyone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_rate_limit_cannot_poison, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_is_cleaned_before_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsafe_webhook_fields_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhausted_bucket_waits_reset_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_after_defer_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_error_backs_off_and_refusal_is_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gives_up_at_the_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_puts_the_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_failures_explain_themselves, setup, teardown),
        cmocka_unit_test(test_tokens_never_logged),
    };
    return cmocka_run_group_tests(tests, log_capture_setup, log_capture_teardown);
}
