/* fuzz_discord_response.c — how the Discord REST client reads an answer: the status, the
 * rate-limit headers (Retry-After, X-RateLimit-Reset-After, -Remaining, -Global), the 429 body
 * ({"retry_after": 1.5, "global": true}) and an error body ({"code", "message"}), then the retry
 * decision.
 *
 * The parsing lives in static functions of discord_rest.c (rate_limit_wait, log_refusal, on_done)
 * and fetch_http.c (header_ms), so this target includes discord_rest.c itself and drives the
 * delivery's real on_done() after a real curl transfer to a local server thread (fuzz_http.h): curl
 * parses the fuzzed answer, fetch_response_read() reads its headers, on_done() decides. The
 * delivery's deadline is already past, so a retry ends the delivery instead of scheduling on an
 * engine (there is none). fetch_retry_decide() is then fuzzed on its own with a live deadline and
 * the input's policy and counts, so its retry branches run too.
 *
 * Input: byte 0 picks the status, byte 1 flags (bit 0: a follow-up part; bits 1-2: 404s already
 * retried; bit 3: ephemeral), bytes 2-9 the pure decision's numbers, the rest is
 * "headers\n\nbody". Log lines are written (to /dev/null) so escaping Discord's message runs. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The real client, static functions and all. */
#include "interactions/discord_rest.c"

#include "fuzz_http.h"

static const unsigned STATUSES[] = {200, 204, 400, 401, 403, 404, 429, 500, 502, 503, 0, 1, 99, 299, 300, 999};

static CURL *easy;
static struct discord_rest fake_rest; /* no engine: nothing may be scheduled */

static void delivered(const struct discord_delivery_result *result, void *arg)
{
    *(int *)arg = result->status + 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int null = open("/dev/null", O_WRONLY);
    if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
        abort();
    close(null);
    log_open(LOG_DEBUG, NULL); /* every line, to /dev/null */
    fetch_global_init();
    if (!(easy = curl_easy_init()))
        abort();
    return 0;
}

static uint64_t byte_at(const uint8_t *data, size_t size, size_t i)
{
    return i < size ? data[i] : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned status = size ? (data[0] < 16 ? STATUSES[data[0]] : 100u + data[0] * 2u) : 200;
    unsigned flags = (unsigned)byte_at(data, size, 1);
    size_t skip = size < 10 ? size : 10;
    const uint8_t *rest = data + skip;
    size_t rest_len = size - skip;
    size_t headers_len, body_off;
    fuzz_split_answer(rest, rest_len, &headers_len, &body_off);

    /* A delivery as discord_reply_deliver() makes one, minus the URL and the engine. */
    struct delivery *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    int done = 0;
    d->rest = &fake_rest;
    d->ephemeral = flags & 8;
    d->done = delivered;
    d->done_arg = &done;
    snprintf(d->interaction_id, sizeof d->interaction_id, "%s", "900000000000000001");
    fetch_response_init(&d->response, RESPONSE_MAX_BYTES, true);
    message_init(&d->msg);
    if (message_set_text(&d->msg, "%s", "a reply in two parts") != SLIMY_OK)
        abort();
    d->part = flags & 1;
    d->retries.soon = (flags >> 1) & 3;
    d->chunk_bytes = 8;      /* part of the text: success goes on to the next part, which ends it */
    d->deadline_mono_ms = 0; /* past: any retry ends the delivery */

    struct fetch_request req = {.method = d->part ? "POST" : "PATCH",
                                .url = "http://127.0.0.1:1/api/webhooks/42/token/messages/@original",
                                .body = "{\"content\":\"x\"}",
                                .body_len = 15,
                                .user_agent = DISCORD_USER_AGENT,
                                .timeout_ms = 5000};
    CURLcode result =
        fuzz_http_perform(&easy, &req, &d->response, status, rest, headers_len, rest + body_off, rest_len - body_off);
    fake_rest.global_until_mono_ms = 0;
    on_done(easy, result, d); /* frees d */
    if (!done)
        abort(); /* a delivery that neither finished nor scheduled anything: lost */

    /* The pure decision, with a live deadline and the input's policy and counts. */
    struct fetch_retry_policy policy = {
        .server_error_max = (unsigned)byte_at(data, size, 2) % 12,
        .backoff_statuses = {408, (long)byte_at(data, size, 3) + 300},
        .rate_limit_max = (unsigned)byte_at(data, size, 4) % 12,
        .retry_after_max_ms = byte_at(data, size, 5) * 1000u,
        .soon_status = byte_at(data, size, 6) & 1 ? 404 : 0,
        .soon_max = 3,
        .soon_delay_ms = 1000,
    };
    struct fetch_retry_state state = {.server_errors = (unsigned)byte_at(data, size, 7) % 16,
                                      .rate_limits = (unsigned)byte_at(data, size, 8) % 16,
                                      .soon = (unsigned)byte_at(data, size, 9) % 5};
    struct fetch_outcome outcome = {.result = result,
                                    .http_status = (long)status,
                                    .retry_after_ms = -1,
                                    .is_final = flags & 16};
    struct fetch_response parsed;
    fetch_response_init(&parsed, RESPONSE_MAX_BYTES, true);
    fetch_response_read(&parsed, easy, result);
    outcome.retry_after_ms = parsed.retry_after_ms;
    fetch_response_cleanup(&parsed);
    uint64_t now = 1000000;
    struct fetch_decision next = fetch_retry_decide(&policy, &state, &outcome, now, now + 900000);
    if (next.verdict == FETCH_RETRY && (next.retry_at_mono_ms < now || next.retry_at_mono_ms >= now + 900000))
        abort(); /* a retry must be scheduled between now and the deadline */
    if (next.verdict != FETCH_RETRY && next.verdict != FETCH_DONE && next.status == SLIMY_OK)
        abort(); /* an ending that is not a success says why */
    return 0;
}
