/* conversation.c — one /chat turn; see conversation.h. The turn lives in ctx->state from the
 * start until the reply is written; OpenAI's answer streams into interim edits framed like the
 * final reply (flows/stream_reply.h) and arrives whole as ctx->result (flows/await.h). */
#include "flows/conversation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/status.h"
#include "core/utf8.h"
#include "flows/await.h"
#include "flows/channel_modes.h"
#include "flows/image.h"
#include "interactions/split.h"
#include "kv/kv.h"
#include "modes/modes.h"
#include "persona/image_intent.h"
#include "persona/persona.h"
#include "store/store.h"

#define CHAT_TEMPERATURE 0.8
#define CHAT_MAX_TOKENS 1000
#define IMAGE_PROMPT_ECHO_MAX_CHARS 1800 /* the prompt as quoted back under a generated image */
#define HISTORY_KEY_MAX 96
#define STREAM_MARKER "▌" /* after the text of an interim edit: more is coming */

struct turn {
    char key[HISTORY_KEY_MAX]; /* "channel:user" */
    unsigned modes;            /* effective channel modes */
    struct image_job image;    /* image.prompt is the user's text, on both paths */
};

static void turn_cleanup(void *state)
{
    image_job_cleanup(&((struct turn *)state)->image);
}

/* ---- the image path: a message asking for a picture gets one ---- */

static const char *safer_prompt(const char *rating)
{
    if (strcmp(rating, "unrated") == 0)
        return "Colorful arcade-style frog hero racing atop a turbo snail, bold lighting, comic panel framing.";
    if (strcmp(rating, "pg13") == 0)
        return "Cheerful cartoon frog adventurer riding a giant snail under neon lights, playful indie-game vibe.";
    return "Friendly frog explorer on a giant snail in a bright indie-game scene, whimsical and upbeat.";
}

static enum slimy_status image_done(struct cmd_ctx *ctx)
{
    struct turn *t = ctx->state;
    enum slimy_status rc = image_job_finish(ctx, &t->image, "slimy-auto-image");
    if (rc)
        return cmd_fail(ctx, rc,
                        "⚠️ Unable to generate that image automatically. Try a safer prompt such as:\n`%s`\n(%s)",
                        safer_prompt(t->image.rating), t->image.error ? t->image.error : slimy_strerror(rc));
    const char *message = t->image.prompt;
    size_t len = strlen(message);
    size_t keep = split_prefix_len(message, len, IMAGE_PROMPT_ECHO_MAX_CHARS);
    return cmd_reply(ctx, "🖼️ Prompt: %.*s%s", (int)keep, message, keep < len ? "…" : "");
}

/* ---- the chat path ---- */

/* The persona prompt for the channel's modes and the scope's adjustments. NULL when out of memory. */
static char *system_prompt(const struct cmd_ctx *ctx, unsigned modes)
{
    struct store_adjustments stored = {0};
    if (store_adjustment_list(ctx->services->store, ctx->scope_id, &stored))
        stored.n = 0; /* a persona without adjustments beats no answer */
    struct persona_adjustment *adjustments = calloc(stored.n + 1, sizeof *adjustments);
    size_t n = adjustments ? stored.n : 0;
    for (size_t i = 0; i < n; i++)
        adjustments[i] =
            (struct persona_adjustment){.parameter = stored.items[i].parameter, .value = stored.items[i].value};
    struct persona_prompt_input in = {.effective_modes = modes,
                                      .adjustments = adjustments,
                                      .n_adjustments = n,
                                      .include_snail_layer = (modes & MODE_SUPER_SNAIL) != 0};
    char *system = persona_build_prompt(ctx->services->persona, &in);
    free(adjustments);
    store_adjustments_free(&stored);
    return system;
}

/* The reply: "**user:** message" (cut to 400) + blank line + "**slimy.ai:** answer", all within
 * 2000 characters, into out. The final one (marker NULL) ends a cut answer with "…"; an interim
 * one, while the answer is being written, ends with marker. */
static enum slimy_status frame(const struct cmd_ctx *ctx, const char *answer, size_t alen, const char *marker,
                               struct buf *out)
{
    const struct turn *t = ctx->state;
    const char *message = t->image.prompt;
    size_t mlen = strlen(message);
    size_t mkeep = split_prefix_len(message, mlen, CONVERSATION_ECHO_MAX_CHARS);
    if (buf_printf(out, "**%s:** %.*s%s\n\n**%s:** ", ctx->interaction->user_name, (int)mkeep, message,
                   mkeep < mlen ? "…" : "", persona_display_name(t->modes)))
        return SLIMY_ENOMEM;
    size_t head_chars = split_count_chars(out->data, out->len);
    size_t room = head_chars < MESSAGE_CONTENT_MAX_CHARS ? MESSAGE_CONTENT_MAX_CHARS - head_chars : 0;
    size_t mark_chars = marker ? split_count_chars(marker, strlen(marker)) : 1; /* "…" */
    bool cut = split_count_chars(answer, alen) > room;
    size_t keep_chars = cut || marker ? (room > mark_chars ? room - mark_chars : 0) : room;
    size_t akeep = split_prefix_len(answer, alen, keep_chars);
    const char *end = marker ? marker : cut ? "…" : "";
    return buf_printf(out, "%.*s%s", (int)akeep, answer, end) ? SLIMY_ENOMEM : SLIMY_OK;
}

/* An interim edit while the answer streams in: the final framing and a cursor after the text. */
static enum slimy_status render_interim(const struct cmd_ctx *ctx, const char *text, size_t len, struct message *out)
{
    struct buf b;
    buf_init(&b, MESSAGE_TEXT_MAX_BYTES);
    enum slimy_status rc = frame(ctx, text, len, STREAM_MARKER, &b);
    if (!rc && message_set_text(out, "%s", b.data))
        rc = SLIMY_ENOMEM;
    buf_cleanup(&b);
    return rc;
}

static enum slimy_status reply_done(struct cmd_ctx *ctx);

static enum slimy_status start_chat(struct cmd_ctx *ctx, struct turn *t)
{
    const struct cmd_services *svc = ctx->services;
    char *system = system_prompt(ctx, t->modes);
    struct chat_turns past = {0};
    int rc = system ? kv_history_get(svc->kv, t->key, &past) : SLIMY_ENOMEM;
    if (rc == SLIMY_EUNAVAILABLE) { /* no memory of the conversation beats no answer */
        log_warn("chat history unavailable; answering without it", LOG_S("interaction_id", ctx->interaction->id));
        rc = SLIMY_OK;
    }
    if (!rc) {
        struct ai_message messages[CHAT_HISTORY_MAX + 2];
        size_t n = 0;
        messages[n++] = (struct ai_message){.role = AI_SYSTEM, .text = system};
        for (size_t i = 0; i < past.n; i++)
            messages[n++] = (struct ai_message){.role = past.items[i].role, .text = past.items[i].text};
        messages[n++] = (struct ai_message){.role = AI_USER, .text = t->image.prompt};
        struct ai_chat_request req = {.messages = messages,
                                      .n_messages = n,
                                      .temperature = CHAT_TEMPERATURE,
                                      .max_tokens = CHAT_MAX_TOKENS,
                                      .deadline_mono_ms = ctx->deadline_mono_ms,
                                      .interaction_id = ctx->interaction->id};
        rc = cmd_await_chat_stream(ctx, &req, render_interim,
                                   reply_done); /* the body is built: past and system may go */
    }
    chat_turns_free(&past);
    free(system);
    return (enum slimy_status)rc;
}

static enum slimy_status reply_done(struct cmd_ctx *ctx)
{
    struct turn *t = ctx->state;
    const struct ai_result *r = ctx->result;
    const char *message = t->image.prompt;
    if (r->status)
        return cmd_fail(ctx, r->status,
                        "😵 I couldn't get an answer from my AI right now (%s). Please try again in a moment.",
                        r->error ? r->error : "unknown error");
    const char *answer = r->text && *r->text ? r->text : "No response.";
    /* History keeps at most what a message can show (2000 characters): a huge answer would
     * otherwise be sent back to the model on every later turn, and kept in Redis for an hour. */
    char *remembered = strndup(answer, utf8_prefix_chars(answer, strlen(answer), MESSAGE_CONTENT_MAX_CHARS));
    struct chat_turn exchange[] = {{.role = AI_USER, .text = (char *)message},
                                   {.role = AI_ASSISTANT, .text = remembered ? remembered : (char *)"No response."}};
    int saved = kv_history_append(ctx->services->kv, t->key, exchange, 2);
    free(remembered);
    if (saved)
        log_warn("chat history not saved", LOG_S("interaction_id", ctx->interaction->id));

    struct buf reply;
    buf_init(&reply, MESSAGE_TEXT_MAX_BYTES);
    enum slimy_status rc = frame(ctx, answer, strlen(answer), NULL, &reply);
    if (!rc)
        rc = cmd_reply(ctx, "%s", reply.data);
    buf_cleanup(&reply);
    return rc;
}

enum slimy_status conversation_start(struct cmd_ctx *ctx, const char *message, bool reset)
{
    const struct cmd_services *svc = ctx->services;
    const struct interaction *it = ctx->interaction;
    if (!message || !*message)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please give me a message to reply to.");
    struct turn *t = cmd_state_new(ctx, sizeof *t, turn_cleanup);
    if (!t || !(t->image.prompt = strdup(message)))
        return SLIMY_ENOMEM;
    snprintf(t->key, sizeof t->key, "%s:%s", it->channel_id ? it->channel_id : ctx->scope_id, it->user_id);
    if (reset && kv_history_reset(svc->kv, t->key))
        log_warn("chat history not reset", LOG_S("interaction_id", it->id));
    int rc = channel_modes_effective(ctx, &t->modes);
    if (rc) {
        log_warn("channel modes unavailable; using defaults", LOG_S("interaction_id", it->id),
                 LOG_S("status", slimy_strerror(rc)));
        t->modes = 0;
    }
    if (image_intent_detect(message))
        return image_job_start(ctx, &t->image, "", "auto", t->modes, image_done);
    return start_chat(ctx, t);
}
