/* await.c — the await helpers (await.h): each pairs a client's callback with cmd_resume(). */
#include "flows/await.h"

#include <stdlib.h>
#include <string.h>

#include "core/attachment.h"

static void free_ai_result(void *result)
{
    ai_result_free(result);
}

static void on_ai_result(struct ai_result *result, void *arg)
{
    cmd_resume(arg, result, free_ai_result);
}

enum slimy_status cmd_await_chat(struct cmd_ctx *ctx, const struct ai_chat_request *req, cmd_run_fn next)
{
    enum slimy_status rc = cmd_await(ctx, next);
    if (!rc && (rc = (enum slimy_status)ai_chat_start(ctx->services->ai, req, on_ai_result, ctx)))
        cmd_await_cancel(ctx);
    return rc;
}

static void on_stream_done(struct cmd_ctx *ctx, struct ai_result *result)
{
    cmd_resume(ctx, result, free_ai_result);
}

enum slimy_status cmd_await_chat_stream(struct cmd_ctx *ctx, const struct ai_chat_request *req, stream_render_fn render,
                                        cmd_run_fn next)
{
    enum slimy_status rc = cmd_await(ctx, next);
    if (!rc && (rc = stream_reply_start(ctx, req, render, on_stream_done)))
        cmd_await_cancel(ctx);
    return rc;
}

enum slimy_status cmd_await_image(struct cmd_ctx *ctx, const struct ai_image_request *req, cmd_run_fn next)
{
    enum slimy_status rc = cmd_await(ctx, next);
    if (!rc && (rc = (enum slimy_status)ai_image_start(ctx->services->ai, req, on_ai_result, ctx)))
        cmd_await_cancel(ctx);
    return rc;
}

static void free_download(void *p)
{
    struct cmd_download *d = p;
    free(d->bytes);
    free(d->content_type);
    free(d);
}

static void on_download(int status, unsigned char *bytes, size_t len, const char *content_type, void *arg)
{
    struct cmd_download *d = calloc(1, sizeof *d);
    if (!d) {
        free(bytes);
        static struct cmd_download out_of_memory = {.status = SLIMY_ENOMEM};
        cmd_resume(arg, &out_of_memory, NULL); /* static: nothing to free */
        return;
    }
    *d = (struct cmd_download){.status = (enum slimy_status)status, .bytes = bytes, .len = len};
    if (status == SLIMY_OK && content_type && !(d->content_type = strdup(content_type)))
        d->status = SLIMY_ENOMEM;
    cmd_resume(arg, d, free_download);
}

enum slimy_status cmd_await_download(struct cmd_ctx *ctx, const char *url, size_t max_bytes, cmd_run_fn next)
{
    struct attachment_request req = {.url = url,
                                     .allowed_hosts = ctx->services->config->attachment_hosts,
                                     .max_bytes = max_bytes,
                                     .deadline_mono_ms = ctx->deadline_mono_ms,
                                     .interaction_id = ctx->interaction->id};
    enum slimy_status rc = cmd_await(ctx, next);
    if (!rc && (rc = (enum slimy_status)attachment_download_start(ctx->services->engine, &req, on_download, ctx)))
        cmd_await_cancel(ctx);
    return rc;
}
