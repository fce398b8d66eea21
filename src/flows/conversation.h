/* conversation.h — the /chat flow shared by /chat and the "Ask Slimy" message command: channel
 * modes → image intent or a chat completion with the persona prompt and the history of this
 * (channel, user), framed as "**user:** message" / "**slimy.ai:** reply" within 2000 characters.
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
