/* stream_reply.h — an answer shown while it is being written. A streamed chat completion
 * (ai_chat_stream_start()) runs for a deferred command, and the text so far replaces the
 * deferred reply ("thinking…") now and then through cmd_edit_original(); once the whole answer
 * is in, `done` gets the call's result and the run's next step words the final reply
 * (cmd_await_chat_stream() in await.h is the way handlers use this).
 *
 * The pacing, which keeps within Discord's limits on editing one message (the REST client still
 * honours any 429):
 *   - the first edit as soon as the text holds a whole sentence (a '.', '!', '?' or a newline),
 *     or STREAM_FIRST_EDIT_MS after the first text came, whichever is first;
 *   - then at most one edit per STREAM_EDIT_INTERVAL_MS (the configuration), counted from the
 *     end of the previous one, and only when the text grew;
 *   - never two edits in flight: text that comes during an edit waits for the next turn;
 *   - an edit that fails ends the interim edits (the final reply is still sent);
 *   - `done` runs once the stream has ended and the last edit's own done has run, and no sooner
 *     than STREAM_EDIT_INTERVAL_MS after that edit ended (unless the run's deadline is nearer),
 *     so the final reply is always what Discord shows last and comes at the same pace.
 * Everything runs on the outbound engine thread: the text arrives there, the waits are engine
 * timers (fetch_at), and no thread sleeps or waits on the stream. A stream that ends before any
 * edit (a short answer, a server that does not stream, a failure) makes no edit at all. */
#ifndef SLIMY_FLOWS_STREAM_REPLY_H
#define SLIMY_FLOWS_STREAM_REPLY_H

#include <stddef.h>

#include "ai/openai.h"
#include "core/status.h"
#include "interactions/command.h"
#include "interactions/message.h"

#define STREAM_FIRST_EDIT_MS 1000 /* the longest the first edit waits for a whole sentence */

/* Writes into out (empty) the interim reply for the answer so far, text[0..len) (valid UTF-8):
 * the framing of the final reply with a sign that more is coming, within
 * MESSAGE_CONTENT_MAX_CHARS. Runs on the engine thread while the run's step may run on a worker:
 * it may read ctx and ctx->state but change nothing. A failure status skips the interim edits. */
typedef enum slimy_status (*stream_render_fn)(const struct cmd_ctx *ctx, const char *text, size_t len,
                                              struct message *out);

/* The stream and its edits have ended: result (taken over; free it with ai_result_free()) is
 * the call's, as ai_chat_start() would give it. Runs once, on the engine thread. */
typedef void (*stream_reply_done_fn)(struct cmd_ctx *ctx, struct ai_result *result);

/* Starts req streamed for the deferred run ctx (services->ai must be set), editing its reply
 * with what render writes. SLIMY_OK, after which done runs exactly once; SLIMY_ENOMEM or the
 * start's error otherwise, and nothing runs. */
enum slimy_status stream_reply_start(struct cmd_ctx *ctx, const struct ai_chat_request *req, stream_render_fn render,
                                     stream_reply_done_fn done);

#endif
