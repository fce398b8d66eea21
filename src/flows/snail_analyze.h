/* snail_analyze.h — the Super Snail screenshot analysis shared by /snail analyze and the
 * "Analyze Snail Stats" message command: check the attachment is an image, download it from an
 * allowed host (attachment.h), ask VISION_MODEL for the stats (openai.h), read the answer
 * (snail_vision.h), store a snail_stats row and reply with the analysis embed.
 * Runs on workers inside a deferred command; waits on the network without holding one. */
#ifndef SLIMY_FLOWS_SNAIL_ANALYZE_H
#define SLIMY_FLOWS_SNAIL_ANALYZE_H

#include "core/status.h"
#include "interactions/command.h"

/* Starts the analysis of attachment (NULL means none was given). Uses ctx->state for its own
 * state, so the caller must not have set one. A handler returns what this returns: the reply
 * comes in a later step, or the failure is already worded: SLIMY_EINVAL when the attachment is
 * missing or not an image, SLIMY_EPERM when its URL is not on an allowed host, SLIMY_ETOOBIG when
 * its announced size is over the cap; nothing is downloaded in those cases. */
enum slimy_status snail_analyze_start(struct cmd_ctx *ctx, const struct cmd_attachment *attachment);

/* The first checks of snail_analyze_start() alone, from what Discord said of the attachment (NULL
 * means none): SLIMY_OK, or SLIMY_EINVAL (missing, not an image) or SLIMY_ETOOBIG (announced over
 * the cap), worded with cmd_fail(). CPU only and stateless: for a command's check (command.h), so
 * the user is answered at once instead of after a deferral. */
enum slimy_status snail_analyze_check(struct cmd_ctx *ctx, const struct cmd_attachment *attachment);

#endif
