/* openai.h — Slimy's client for OpenAI-compatible APIs (OpenAI, Ollama, llama.cpp, vLLM):
 * POST {OPENAI_BASE_URL}/chat/completions (text and vision parts) and /images/generations.
 *
 * Calls are asynchronous on the shared outbound engine (fetch.h): start one with a callback,
 * which runs exactly once on the engine thread (never, if the start call returns an error).
 * Retries: 429 waits Retry-After (or retry-after-ms), at most 60 s (FETCH_WAIT_MAX_MS); an ask
 * past two minutes is given up at once, and so is insufficient_quota, which is final;
 * 5xx, 408, 409 and network errors back off exponentially; every retry stays inside the
 * caller's deadline. Text from the server (an error message, a reply) is passed on as valid UTF-8:
 * malformed bytes become '?', and an error message is cut at 300 bytes on a character boundary.
 * A chat may also be streamed (ai_chat_stream_start()): the reply is passed on as it grows.
 * Error bodies are read in OpenAI's nested shape and in the flat shape some
 * local servers use, with `code` as a string, a number or null; `usage` and `finish_reason` are
 * optional and a null `content` is handled. Images are requested as b64_json and decoded.
 * The API key is sent as a Bearer token only when set, and never logged. Thread-safe. */
#ifndef SLIMY_AI_OPENAI_H
#define SLIMY_AI_OPENAI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ai_role.h"
#include "core/config.h"
#include "core/fetch.h"

struct ai_client;

/* True when the configuration enables AI: an OPENAI_API_KEY, or an explicit OPENAI_BASE_URL
 * (local servers need no key). */
bool ai_configured(const struct slimy_config *cfg);

/* A client for cfg's base URL and models; cfg and engine are borrowed and must outlive it. */
int ai_client_new(const struct slimy_config *cfg, struct fetch *engine, struct ai_client **out);
void ai_client_free(struct ai_client *ai);


struct ai_message {
    enum ai_role role;
    const char *text;           /* the text part; may be NULL for an image-only user message */
    const char *image_data_uri; /* user messages only: "data:image/png;base64,..." or NULL */
};

struct ai_chat_request {
    const char *model;                 /* NULL = OPENAI_MODEL */
    const struct ai_message *messages; /* copied into the request body at start */
    size_t n_messages;
    double temperature;         /* < 0 leaves it to the server */
    unsigned max_tokens;        /* 0 = unset; sent as max_tokens, which every server accepts */
    const char *image_detail;   /* "high", "low" or NULL (vLLM rejects detail: leave NULL there) */
    uint64_t deadline_mono_ms;  /* no attempt starts or runs past this */
    const char *interaction_id; /* for log lines */
};

struct ai_image_request {
    const char *model; /* NULL = IMAGE_MODEL */
    const char *prompt;
    const char *size; /* NULL = "1024x1024" */
    uint64_t deadline_mono_ms;
    const char *interaction_id;
};

struct ai_result {
    int status; /* SLIMY_OK, SLIMY_ELIMITED (rate or quota), SLIMY_ETIMEOUT, SLIMY_EUNAVAILABLE, SLIMY_EUPSTREAM */
    long http_status;     /* last HTTP status, 0 if none */
    char *text;           /* chat: the reply content; NULL when the model returned null */
    char *finish_reason;  /* chat: "stop", "length"...; NULL when absent */
    unsigned char *image; /* images: the decoded bytes */
    size_t image_len;
    char *error; /* on failure: a short reason fit to show a user ("rate limited", the server's message) */
};

/* Runs once on the engine thread; the callee owns result and frees it with ai_result_free(). */
typedef void (*ai_done_fn)(struct ai_result *result, void *arg);

int ai_chat_start(struct ai_client *ai, const struct ai_chat_request *req, ai_done_fn done, void *arg);

/* A streamed reply has grown: text[0..len) is the whole reply so far, valid UTF-8 (a character
 * split across reads is held back until it is whole), borrowed for the call. Runs on the engine
 * thread, never after done, and only while the stream is still open: the text of the event that
 * completes it comes whole in done. Must not block. */
typedef void (*ai_text_fn)(const char *text, size_t len, void *arg);

/* ai_chat_start() with "stream": true: the answer is read as it arrives (chat_stream.h, on the
 * engine thread; no thread waits on it) and on_text sees it grow; done runs once at the end with
 * the whole reply, exactly as ai_chat_start()'s would. A server that ignores "stream" and answers
 * an ordinary completion gives the normal result, with no on_text call. Until on_text has run,
 * failures are retried as ai_chat_start() retries them (a stream that breaks before any text
 * counts as a network error); once text was passed on nothing is retried, and a stream that
 * breaks (closed, timed out or failed before [DONE] or a finish_reason, or an event that is not
 * JSON) ends with an error result, "the answer was cut off" or the server's own message, never
 * with the partial text presented as whole. An error event from the server ends the call with
 * its message (SLIMY_EUPSTREAM) without a retry. arg goes to both callbacks. */
int ai_chat_stream_start(struct ai_client *ai, const struct ai_chat_request *req, ai_text_fn on_text, ai_done_fn done,
                         void *arg);
int ai_image_start(struct ai_client *ai, const struct ai_image_request *req, ai_done_fn done, void *arg);
void ai_result_free(struct ai_result *result);

#endif
