/* fuzz_openai_response.c — how the OpenAI client reads an answer: a chat completion
 * (choices[0].message.content, finish_reason), an image (data[0].b64_json, decoded), the error
 * bodies in OpenAI's nested and the flat shape (code as a string, a number or null; the
 * insufficient_quota 429), and Retry-After / retry-after-ms.
 *
 * parse_success(), parse_error() and on_done() are static in openai.c, so this target includes
 * openai.c itself, makes a call with its own call_new() and drives the real on_done() after a real
 * curl transfer to a local server thread (fuzz_http.h). The call's deadline is already past, so a retry
 * ends the call instead of scheduling on an engine (there is none). The vision answer is a chat
 * completion too: its content is then read by snail_vision_parse() (fuzz_snail covers that).
 *
 * Input: byte 0 picks the status, byte 1 bit 0 an image call instead of a chat, the rest is
 * "headers\n\nbody". Log lines are written (to /dev/null). */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The real client, static functions and all. */
#include "ai/openai.c"

#include "fuzz_http.h"

static const unsigned STATUSES[] = {200, 201, 400, 401, 403, 404, 408, 409, 429, 500, 502, 503, 0, 1, 299, 999};

static struct slimy_config cfg;
static struct ai_client client;

static void finished(struct ai_result *result, void *arg)
{
    /* Everything the callers read: the text, the reason, the image, the error. */
    size_t n = 0;
    if (result->text)
        n += strlen(result->text);
    if (result->finish_reason)
        n += strlen(result->finish_reason);
    if (result->error)
        n += strlen(result->error);
    for (size_t i = 0; i < result->image_len; i++)
        n += result->image[i];
    *(size_t *)arg = n + 1;
    ai_result_free(result);
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
    cfg.openai_base_url = "http://127.0.0.1:1/v1";
    cfg.openai_api_key = "sk-fuzz";
    client.cfg = &cfg;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned status = size ? (data[0] < 16 ? STATUSES[data[0]] : 100u + data[0] * 2u) : 200;
    bool image = size > 1 && (data[1] & 1);
    size_t skip = size < 2 ? size : 2;
    const uint8_t *rest = data + skip;
    size_t rest_len = size - skip;
    size_t headers_len, body_off;
    fuzz_split_answer(rest, rest_len, &headers_len, &body_off);

    cJSON *body = cJSON_CreateObject();
    if (!body || !cJSON_AddStringToObject(body, "model", image ? "dall-e-3" : "gpt-4o"))
        abort();
    size_t seen = 0;
    struct call *c = call_new(&client, image ? CALL_IMAGE : CALL_CHAT,
                              image ? "/images/generations" : "/chat/completions", body,
                              0 /* past: a retry ends the call */, "900000000000000001", finished, &seen);
    cJSON_Delete(body);
    if (!c)
        abort();
    struct fetch_request req = {.method = "POST",
                                .url = c->url,
                                .headers = c->headers,
                                .body = c->body,
                                .body_len = strlen(c->body),
                                .user_agent = "Slimy/fuzz",
                                .timeout_ms = 5000};
    CURLcode result = fuzz_http_perform(&c->easy, &req, &c->response, status, rest, headers_len, rest + body_off,
                                        rest_len - body_off);
    c->attempts++;
    on_done(c->easy, result, c); /* frees c */
    if (!seen)
        abort(); /* a call that neither finished nor scheduled anything: lost */
    return 0;
}
