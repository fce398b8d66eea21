/* conversation.h — the /chat flow shared by /chat and the "Ask Slimy" message command: channel
 * modes → image intent or a chat completion with the persona prompt and the history of this
 * (channel, user), framed as "**user:** message" / "**slimy.ai:** reply" within 2000 characters.
 * The reply is streamed: while OpenAI writes it, the deferred reply shows the text so far with a
 * "▌" after it (flows/stream_reply.h paces the edits); the final reply replaces it, and only the
 * final text goes into the history. A stream that breaks ends with the failure message instead.
 * Runs on workers; waits on OpenAI without holding one (flows/await.h). */
#ifndef SLIMY_FLOWS_CONVERSATION_H
#define SLIMY_FLOWS_CONVERSATION_H

#include <stdbool.h>

#include "interactions/command.h"

#define CONVERSATION_ECHO_MAX_CHARS 400 /* the user's message as quoted back in the reply */

/* Starts a turn of the conversation with message (copied). reset forgets the history first.
 * A handler returns what this returns: the reply comes in a later step, or the failure is
 * already worded. */
enum slimy_status conversation_start(struct cmd_ctx *ctx, const char *message, bool reset);

#endif
