/* ai_fixture.c — the fixture and helpers of the AI command tests; see ai_fixture.h. */
#include "ai_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

const unsigned char ai_png[AI_PNG_LEN] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
    0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0xf8, 0xcf, 0x50, 0x0f, 0x00, 0x03, 0x86, 0x01, 0x80,
    0x5a, 0x34, 0x7d, 0x6b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
};

/* ---- starting and stopping ---- */

int ai_fixture_start(struct ai_fixture *fx, const struct ai_fixture_options *opt)
{
    struct harness_options hopt = opt->harness;
    if (!opt->no_ai) {
        if (!(fx->f = fake_http_start()))
            return -1;
        hopt.openai_base_url = fake_http_url(fx->f);
        if (opt->attachments)
            hopt.attachment_hosts = fake_http_url(fx->f);
    }
    fx->h = harness_start(&hopt);
    return fx->h ? 0 : -1;
}

void ai_fixture_stop(struct ai_fixture *fx)
{
    harness_stop(fx->h);
    fake_http_stop(fx->f);
    fx->h = NULL;
    fx->f = NULL;
}

static int setup_with(void **state, const struct ai_fixture_options *opt)
{
    struct ai_fixture *fx = calloc(1, sizeof *fx);
    *state = fx;
    return fx ? ai_fixture_start(fx, opt) : -1;
}

int ai_fixture_setup(void **state)
{
    return setup_with(state, &(struct ai_fixture_options){0});
}

int ai_fixture_setup_attachments(void **state)
{
    return setup_with(state, &(struct ai_fixture_options){.attachments = true});
}

int ai_fixture_setup_no_ai(void **state)
{
    return setup_with(state, &(struct ai_fixture_options){.no_ai = true});
}

int ai_fixture_teardown(void **state)
{
    struct ai_fixture *fx = *state;
    if (fx)
        ai_fixture_stop(fx);
    free(fx);
    return 0;
}

/* ---- scripted answers ---- */

void ai_queue_chat(struct fake_http *f, const char *content)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *choice = cJSON_CreateObject();
    cJSON *message = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(message, "role", "assistant");
    cJSON_AddStringToObject(message, "content", content);
    cJSON_AddStringToObject(choice, "finish_reason", "stop");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
    char *text = cJSON_PrintUnformatted(root);
    fake_http_reply(f, 200, NULL, text);
    free(text);
    cJSON_Delete(root);
}

/* One event of a streamed completion: a delta with content (NULL = none) and finish_reason (NULL = null). */
static char *stream_event(const char *content, const char *finish_reason)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "object", "chat.completion.chunk");
    cJSON *choice = cJSON_CreateObject();
    cJSON *delta = cJSON_AddObjectToObject(choice, "delta");
    if (content)
        cJSON_AddStringToObject(delta, "content", content);
    if (finish_reason)
        cJSON_AddStringToObject(choice, "finish_reason", finish_reason);
    else
        cJSON_AddNullToObject(choice, "finish_reason");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "choices"), choice);
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    size_t len = strlen(json) + 16;
    char *event = malloc(len);
    snprintf(event, len, "data: %s\n\n", json);
    free(json);
    return event;
}

void ai_queue_chat_stream(struct fake_http *f, const char *const *pieces, size_t n, unsigned delay_ms,
                          enum ai_stream_end end)
{
    char *chunks[AI_STREAM_PIECES_MAX + 1];
    size_t n_chunks = 0;
    assert_true(n <= AI_STREAM_PIECES_MAX);
    for (size_t i = 0; i < n; i++)
        chunks[n_chunks++] = stream_event(pieces[i], NULL);
    if (end == AI_STREAM_COMPLETE) {
        char *last = stream_event(NULL, "stop");
        size_t len = strlen(last) + 32;
        chunks[n_chunks] = malloc(len);
        snprintf(chunks[n_chunks++], len, "%sdata: [DONE]\n\n", last);
        free(last);
    }
    fake_http_queue(f, &(struct fake_http_response){.headers = "Content-Type: text/event-stream",
                                                    .chunks = (const char *const *)chunks,
                                                    .n_chunks = n_chunks,
                                                    .chunk_delay_ms = delay_ms});
    for (size_t i = 0; i < n_chunks; i++)
        free(chunks[i]);
}

void ai_queue_image(struct fake_http *f)
{
    fake_http_reply(f, 200, NULL, "{\"created\":1,\"data\":[{\"b64_json\":\"" AI_PNG_BASE64 "\"}]}");
}

void ai_queue_png(struct fake_http *f)
{
    fake_http_queue(f, &(struct fake_http_response){.headers = "Content-Type: image/png",
                                                    .body = (const char *)ai_png,
                                                    .body_len = sizeof ai_png});
}

/* ---- reading the requests ---- */

cJSON *ai_request_json(struct fake_http *f, size_t i, const char *path)
{
    const struct fake_http_request *req = fake_http_request(f, i);
    assert_non_null(req);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->path, path);
    return fake_http_json(f, i);
}

const char *ai_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

void ai_assert_message(const cJSON *messages, int i, const char *role, const char *content)
{
    const cJSON *m = cJSON_GetArrayItem(messages, i);
    assert_non_null(m);
    assert_string_equal(ai_str(m, "role"), role);
    if (content)
        assert_string_equal(ai_str(m, "content"), content);
}
