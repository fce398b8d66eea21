/* await.h — the network steps a deferred command can wait on, without ceremony: each starts
 * its request and names the step that runs, on a worker, once the result is in.
 *
 *     static enum slimy_status dream_run(struct cmd_ctx *ctx)
 *     {
 *         ...
 *         return cmd_await_image(ctx, &req, dream_done);
 *     }
 *     static enum slimy_status dream_done(struct cmd_ctx *ctx)
 *     {
 *         const struct ai_result *r = ctx->result;
 *         ...
 *     }
 *
 * A step that awaits must return what the helper returned and touch nothing of ctx afterwards.
 * ctx->result is valid in the next step until it starts another await or returns. A failure to
 * start is returned as the status (the next step is not run). Deferred commands only. */
#ifndef SLIMY_FLOWS_AWAIT_H
#define SLIMY_FLOWS_AWAIT_H

#include <stddef.h>

#include "ai/openai.h"
#include "core/status.h"
#include "flows/stream_reply.h"
#include "interactions/command.h"

/* An AI chat completion or image; ctx->result is a struct ai_result (its status says whether
 * the call succeeded). Needs services->ai (CMD_NEEDS_AI guarantees it). */
enum slimy_status cmd_await_chat(struct cmd_ctx *ctx, const struct ai_chat_request *req, cmd_run_fn next);
enum slimy_status cmd_await_image(struct cmd_ctx *ctx, const struct ai_image_request *req, cmd_run_fn next);

/* A chat completion streamed into the deferred reply while it is written (flows/stream_reply.h:
 * render words the interim edits, the pacing is there); next runs once the stream and the last
 * edit have ended, with ctx->result a struct ai_result exactly as cmd_await_chat() gives it.
 * next words the final reply, which replaces the interim text. */
enum slimy_status cmd_await_chat_stream(struct cmd_ctx *ctx, const struct ai_chat_request *req, stream_render_fn render,
                                        cmd_run_fn next);

/* A user-supplied file from an allowed host (ATTACHMENT_HOSTS), at most max_bytes (0 = the
 * default cap); ctx->result is a struct cmd_download. */
struct cmd_download {
    enum slimy_status status; /* as attachment.h documents */
    unsigned char *bytes;     /* on SLIMY_OK: len bytes */
    size_t len;
    char *content_type; /* the response's Content-Type, or NULL */
};
enum slimy_status cmd_await_download(struct cmd_ctx *ctx, const char *url, size_t max_bytes, cmd_run_fn next);

#endif
