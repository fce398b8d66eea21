/* image.h — one image generation for a command (/dream, and /chat when a message asks for a
 * picture): the prompt gets the channel's rating guideline, every attempt is written to the
 * image-generation log, and a success becomes a PNG attachment of the reply.
 *
 *     job->prompt = ...;   (the user's words, owned by the job)
 *     return image_job_start(ctx, job, " in anime style", "anime", modes, next);
 *     ...
 *     next: rc = image_job_finish(ctx, job, "dream"); then word the reply (or the failure,
 *           with job->error).
 * Deferred commands only; the job lives in the command's state (cmd_state_new). */
#ifndef SLIMY_FLOWS_IMAGE_H
#define SLIMY_FLOWS_IMAGE_H

#include "core/status.h"
#include "interactions/command.h"

struct image_job {
    char *prompt;       /* the user's prompt; owned (image_job_cleanup frees it) */
    char *full_prompt;  /* what is sent: prompt + style + rating guideline; owned */
    const char *style;  /* the style logged ("auto" for /chat); static */
    const char *rating; /* "pg13", "unrated" or "default"; static */
    const char *error;  /* after finish: why it failed (borrowed from ctx->result), or NULL */
};

/* Starts generating job->prompt + " " + style_suffix (may be "") + the guideline of the rating
 * the channel modes give. next runs when the image (or the failure) is in. */
enum slimy_status image_job_start(struct cmd_ctx *ctx, struct image_job *job, const char *style_suffix,
                                  const char *style, unsigned modes, cmd_run_fn next);

/* In next: logs the attempt (a log row that cannot be written only costs a warning) and, on
 * success, attaches the image as "<file_prefix>-<unix ms>.png". Returns the generation's status. */
enum slimy_status image_job_finish(struct cmd_ctx *ctx, struct image_job *job, const char *file_prefix);

void image_job_cleanup(struct image_job *job);

#endif
