/* image.c — one image generation with its log row and attachment; see image.h. */
#include "flows/image.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "flows/await.h"
#include "modes/modes.h"
#include "persona/image_intent.h"
#include "store/store.h"

enum slimy_status image_job_start(struct cmd_ctx *ctx, struct image_job *job, const char *style_suffix,
                                  const char *style, unsigned modes, cmd_run_fn next)
{
    job->style = style;
    job->rating = modes_rating(modes);
    const char *guideline = image_rating_guideline(job->rating);
    struct buf full;
    buf_init(&full, 8192);
    if (buf_printf(&full, "%s%s%s%s%s", job->prompt, *style_suffix ? " " : "", style_suffix, *guideline ? " " : "",
                   guideline))
        return SLIMY_ENOMEM;
    job->full_prompt = buf_detach(&full);
    struct ai_image_request req = {.prompt = job->full_prompt,
                                   .deadline_mono_ms = ctx->deadline_mono_ms,
                                   .interaction_id = ctx->interaction->id};
    return cmd_await_image(ctx, &req, next);
}

enum slimy_status image_job_finish(struct cmd_ctx *ctx, struct image_job *job, const char *file_prefix)
{
    const struct ai_result *r = ctx->result;
    job->error = r->status ? (r->error ? r->error : "unknown error") : NULL;
    struct store_image_log_new entry = {.user_id = ctx->interaction->user_id,
                                        .scope_id = ctx->scope_id,
                                        .channel_id = ctx->interaction->channel_id,
                                        .prompt = job->prompt,
                                        .enhanced_prompt = job->full_prompt,
                                        .style = job->style,
                                        .rating = job->rating,
                                        .model = ctx->services->config->image_model,
                                        .success = r->status == SLIMY_OK,
                                        .error_message = job->error};
    if (store_image_log_add(ctx->services->store, &entry))
        log_warn("image log row not written", LOG_S("interaction_id", ctx->interaction->id));
    if (r->status)
        return (enum slimy_status)r->status;
    char name[96];
    snprintf(name, sizeof name, "%s-%llu.png", file_prefix, (unsigned long long)clock_wall_ms());
    return (enum slimy_status)message_attach(ctx->reply, name, "image/png", r->image, r->image_len);
}

void image_job_cleanup(struct image_job *job)
{
    free(job->prompt);
    free(job->full_prompt);
}
