/* conversation.c — one /chat turn; see conversation.h. The state lives in ctx->state from the
 * start until the reply is written; the OpenAI callback only parks the result and resumes. */
#include "ai/conversation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/image_intent.h"
#include "ai/openai.h"
#include "ai/persona.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "interactions/split.h"
#include "kv/kv.h"
#include "modes/channel_modes.h"
#include "modes/modes.h"

#define CHAT_TEMPERATURE 0.8
#define CHAT_MAX_TOKENS 1000
#define IMAGE_PROMPT_ECHO_MAX_CHARS 1800
#define HISTORY_KEY_MAX 96

struct turn {
    char *message;               /* the user's text */
    char key[HISTORY_KEY_MAX];   /* "channel:user" */
    unsigned modes;              /* effective channel modes */
    char *image_prompt;          /* set on the image path */
    struct ai_result *result;    /* parked by the callback */
};

static void turn_free(void *state)
{
    struct turn *t = state;
    if (!t)
        return;
    free(t->message);
    free(t->image_prompt);
    ai_result_free(t->result);
    free(t);
}

static int reply_done(struct cmd_ctx *ctx);
static int image_done(struct cmd_ctx *ctx);

/* Engine thread: park the result and resume on a worker. */
static void on_reply(struct ai_result *result, void *arg)
{
    struct cmd_ctx *ctx = arg;
    ((struct turn *)ctx->state)->result = result;
    cmd_continue(ctx, reply_done);
}

static void on_image(struct ai_result *result, void *arg)
{
    struct cmd_ctx *ctx = arg;
    ((struct turn *)ctx->state)->result = result;
    cmd_continue(ctx, image_done);
}

/* ---- the image path (B §6.2) ---- */

static const char *safer_prompt(const char *rating)
{
    if (strcmp(rating, "unrated") == 0)
        return "Colorful arcade-style frog hero racing atop a turbo snail, bold lighting, comic panel framing.";
    if (strcmp(rating, "pg13") == 0)
        return "Cheerful cartoon frog adventurer riding a giant snail under neon lights, playful indie-game vibe.";
    return "Friendly frog explorer on a giant snail in a bright indie-game scene, whimsical and upbeat.";
}

static int start_image(struct cmd_ctx *ctx, struct turn *t)
{
    const char *guideline = image_rating_guideline(modes_rating(t->modes));
    struct buf prompt;
    buf_init(&prompt, 8192);
    if (buf_printf(&prompt, "%s%s%s", t->message, *guideline ? " " : "", guideline))
        return SLIMY_ENOMEM;
    t->image_prompt = buf_detach(&prompt);
    struct ai_image_request req = {.prompt = t->image_prompt,
                                   .deadline_mono_ms = ctx->deadline_mono_ms,
                                   .interaction_id = ctx->interaction->id};
    int rc = ai_image_start(ctx->services->ai, &req, on_image, ctx);
    return rc ? rc : CMD_PENDING;
}

static void log_image(struct cmd_ctx *ctx, const struct turn *t, bool success, const char *error)
{
    if (!ctx->services->store)
        return;
    struct store_image_log_new entry = {.user_id = ctx->interaction->user_id,
                                        .scope_id = ctx->scope_id,
                                        .channel_id = ctx->interaction->channel_id,
                                        .prompt = t->message,
                                        .enhanced_prompt = t->image_prompt,
                                        .style = "auto",
                                        .rating = modes_rating(t->modes),
                                        .model = ctx->services->config->image_model,
                                        .success = success,
                                        .error_message = error};
    store_image_log_add(ctx->services->store, &entry);
}

static int image_done(struct cmd_ctx *ctx)
{
    struct turn *t = ctx->state;
    const struct ai_result *r = t->result;
    log_image(ctx, t, r->status == SLIMY_OK, r->error);
    if (r->status)
        return cmd_fail(ctx, r->status,
                        "⚠️ Unable to generate that image automatically. Try a safer prompt such as:\n`%s`\n(%s)",
                        safer_prompt(modes_rating(t->modes)), r->error ? r->error : "unknown error");
    char name[64];
    snprintf(name, sizeof name, "slimy-auto-image-%llu.png", (unsigned long long)clock_wall_ms());
    int rc = message_attach(ctx->reply, name, "image/png", r->image, r->image_len);
    if (rc)
        return rc;
    size_t len = strlen(t->message);
    size_t keep = split_prefix_len(t->message, len, IMAGE_PROMPT_ECHO_MAX_CHARS);
    return cmd_reply(ctx, "🖼️ Prompt: %.*s%s", (int)keep, t->message, keep < len ? "…" : "");
}

/* ---- the chat path ---- */

static int start_chat(struct cmd_ctx *ctx, struct turn *t)
{
    const struct cmd_services *svc = ctx->services;
    struct store_adjustments adj = {0};
    if (svc->store && store_adjustment_list(svc->store, ctx->scope_id, &adj))
        adj.n = 0; /* a persona without adjustments beats no answer */
    struct persona_prompt_input in = {.effective_modes = t->modes,
                                      .adjustments = &adj,
                                      .include_snail_layer = (t->modes & MODE_SUPER_SNAIL) != 0};
    char *system = persona_build_prompt(svc->persona, &in);
    store_adjustments_free(&adj);
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
        messages[n++] = (struct ai_message){.role = AI_USER, .text = t->message};
        struct ai_chat_request req = {.messages = messages,
                                      .n_messages = n,
                                      .temperature = CHAT_TEMPERATURE,
                                      .max_tokens = CHAT_MAX_TOKENS,
                                      .deadline_mono_ms = ctx->deadline_mono_ms,
                                      .interaction_id = ctx->interaction->id};
        rc = ai_chat_start(svc->ai, &req, on_reply, ctx);
    }
    chat_turns_free(&past);
    free(system);
    return rc ? rc : CMD_PENDING;
}

static int reply_done(struct cmd_ctx *ctx)
{
    struct turn *t = ctx->state;
    const struct ai_result *r = t->result;
    if (r->status)
        return cmd_fail(ctx, r->status, "😵 I couldn't get an answer from my AI right now (%s). Please try again in a moment.",
                        r->error ? r->error : "unknown error");
    const char *answer = r->text && *r->text ? r->text : "No response.";
    struct chat_turn exchange[] = {{.role = AI_USER, .text = t->message}, {.role = AI_ASSISTANT, .text = (char *)answer}};
    if (kv_history_append(ctx->services->kv, t->key, exchange, 2))
        log_warn("chat history not saved", LOG_S("interaction_id", ctx->interaction->id));

    /* "**user:** message" (cut to 400) + blank line + "**slimy.ai:** answer", all within 2000. */
    size_t mlen = strlen(t->message);
    size_t mkeep = split_prefix_len(t->message, mlen, CONVERSATION_ECHO_MAX_CHARS);
    struct buf head;
    buf_init(&head, 8192);
    if (buf_printf(&head, "**%s:** %.*s%s\n\n**%s:** ", ctx->interaction->user_name, (int)mkeep, t->message,
                   mkeep < mlen ? "…" : "", persona_display_name(t->modes)))
        return SLIMY_ENOMEM;
    size_t head_chars = split_count_chars(head.data, head.len);
    size_t room = head_chars < MESSAGE_CONTENT_MAX_CHARS ? MESSAGE_CONTENT_MAX_CHARS - head_chars : 0;
    size_t alen = strlen(answer);
    bool cut = split_count_chars(answer, alen) > room;
    size_t akeep = split_prefix_len(answer, alen, cut && room ? room - 1 : room);
    int rc = cmd_reply(ctx, "%s%.*s%s", head.data, (int)akeep, answer, cut ? "…" : "");
    buf_cleanup(&head);
    return rc;
}

int conversation_start(struct cmd_ctx *ctx, const char *message, bool reset)
{
    const struct cmd_services *svc = ctx->services;
    const struct interaction *it = ctx->interaction;
    if (!message || !*message)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please give me a message to reply to.");
    struct turn *t = calloc(1, sizeof *t);
    if (!t || !(t->message = strdup(message))) {
        turn_free(t);
        return SLIMY_ENOMEM;
    }
    ctx->state = t;
    ctx->state_free = turn_free;
    snprintf(t->key, sizeof t->key, "%s:%s", it->channel_id ? it->channel_id : ctx->scope_id, it->user_id);
    if (reset && kv_history_reset(svc->kv, t->key))
        log_warn("chat history not reset", LOG_S("interaction_id", it->id));
    int rc = channel_modes_effective(svc->store, it, &t->modes);
    if (rc) {
        log_warn("channel modes unavailable; using defaults", LOG_S("interaction_id", it->id),
                 LOG_S("status", slimy_strerror(rc)));
        t->modes = 0;
    }
    return image_intent_detect(message) ? start_image(ctx, t) : start_chat(ctx, t);
}
