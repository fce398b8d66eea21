/* dream.c — /dream: turn a prompt into an image in one of ten styles. The channel's rating
 * (from /mode) adds a content guideline; every attempt is written to the image-generation log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/image_intent.h"
#include "ai/openai.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "modes/channel_modes.h"
#include "modes/modes.h"
#include "store/store.h"

static int dream_run(struct cmd_ctx *ctx);

struct dream_style {
    const char *value, *name, *emoji, *suffix;
};

static const struct dream_style styles[] = {
    {"standard", "Standard", "✨", ""},
    {"poster", "Poster Art", "🎨", "in the style of a bold graphic design poster with vibrant colors and strong composition"},
    {"neon", "Neon Dreams", "🌟", "in a cyberpunk style with glowing neon lights, dark backgrounds and electric colors"},
    {"photoreal", "Photo-Real", "📷", "photorealistic, with ultra-detailed textures, natural lighting and a lifelike look"},
    {"anime", "Anime", "🎌", "in anime art style with expressive characters, vibrant colors and dynamic composition"},
    {"watercolor", "Watercolor", "🖌️", "as a delicate watercolor painting with soft edges, flowing colors and visible brush strokes"},
    {"3d-render", "3D Render", "🎬", "as a high-quality 3D render with realistic materials, professional lighting and CGI polish"},
    {"pixel", "Pixel Art", "🕹️", "as detailed pixel art in a retro 8/16-bit style with crisp pixels"},
    {"sketch", "Pencil Sketch", "✏️", "as a detailed pencil sketch with crosshatching and careful shading"},
    {"cinematic", "Cinematic", "🎥", "with cinematic composition, dramatic lighting, film grain and a movie-poster look"},
};

static const struct cmd_choice style_choices[] = {
    {.name = "✨ Standard", .string_value = "standard"},   {.name = "🎨 Poster Art", .string_value = "poster"},
    {.name = "🌟 Neon Dreams", .string_value = "neon"},    {.name = "📷 Photo-Real", .string_value = "photoreal"},
    {.name = "🎌 Anime", .string_value = "anime"},         {.name = "🖌️ Watercolor", .string_value = "watercolor"},
    {.name = "🎬 3D Render", .string_value = "3d-render"}, {.name = "🕹️ Pixel Art", .string_value = "pixel"},
    {.name = "✏️ Pencil Sketch", .string_value = "sketch"}, {.name = "🎥 Cinematic", .string_value = "cinematic"},
};

static const struct cmd_option dream_options[] = {
    {.name = "prompt", .type = OPT_STRING, .description = "Describe what you want to see", .required = true,
     .max_length = 1000},
    {.name = "style", .type = OPT_STRING, .description = "Art style (default: Standard)", .choices = style_choices,
     .n_choices = ARRAY_LEN(style_choices)},
};

const struct command dream_command = {
    .name = "dream",
    .description = "Bring your ideas to life with AI image generation",
    .options = dream_options,
    .n_options = ARRAY_LEN(dream_options),
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = 10000,
    .run = dream_run,
};

struct dream {
    const struct dream_style *style;
    char *prompt;          /* the user's prompt, trimmed */
    char *full_prompt;     /* prompt + style suffix + rating guideline: what is sent */
    const char *rating;
    struct ai_result *result;
};

static void dream_free(void *state)
{
    struct dream *d = state;
    if (!d)
        return;
    free(d->prompt);
    free(d->full_prompt);
    ai_result_free(d->result);
    free(d);
}

static int dream_done(struct cmd_ctx *ctx);

static void on_image(struct ai_result *result, void *arg)
{
    struct cmd_ctx *ctx = arg;
    ((struct dream *)ctx->state)->result = result;
    cmd_continue(ctx, dream_done);
}

static const struct dream_style *find_style(const char *value)
{
    for (size_t i = 0; value && i < ARRAY_LEN(styles); i++)
        if (strcmp(styles[i].value, value) == 0)
            return &styles[i];
    return &styles[0];
}

/* /dream prompt:<text> [style:<style>] */
static int dream_run(struct cmd_ctx *ctx)
{
    const char *prompt = cmd_opt_string(ctx, "prompt");
    while (prompt && (*prompt == ' ' || *prompt == '\t' || *prompt == '\n'))
        prompt++;
    if (!prompt || !*prompt)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please describe what you want me to dream up.");
    struct dream *d = calloc(1, sizeof *d);
    if (!d || !(d->prompt = strdup(prompt))) {
        dream_free(d);
        return SLIMY_ENOMEM;
    }
    ctx->state = d;
    ctx->state_free = dream_free;
    size_t len = strlen(d->prompt);
    while (len && (d->prompt[len - 1] == ' ' || d->prompt[len - 1] == '\n' || d->prompt[len - 1] == '\t'))
        d->prompt[--len] = '\0';
    d->style = find_style(cmd_opt_string(ctx, "style"));

    unsigned modes = 0;
    if (channel_modes_effective(ctx->services->store, ctx->interaction, &modes))
        modes = 0; /* no store: the default (general audience) guideline applies */
    d->rating = modes_rating(modes);
    const char *guideline = image_rating_guideline(d->rating);
    struct buf full;
    buf_init(&full, 8192);
    if (buf_printf(&full, "%s%s%s%s%s", d->prompt, *d->style->suffix ? " " : "", d->style->suffix,
                   *guideline ? " " : "", guideline))
        return SLIMY_ENOMEM;
    d->full_prompt = buf_detach(&full);
    struct ai_image_request req = {.prompt = d->full_prompt,
                                   .deadline_mono_ms = ctx->deadline_mono_ms,
                                   .interaction_id = ctx->interaction->id};
    int rc = ai_image_start(ctx->services->ai, &req, on_image, ctx);
    return rc ? rc : CMD_PENDING;
}

static int dream_done(struct cmd_ctx *ctx)
{
    struct dream *d = ctx->state;
    const struct ai_result *r = d->result;
    if (ctx->services->store) {
        struct store_image_log_new entry = {.user_id = ctx->interaction->user_id,
                                            .scope_id = ctx->scope_id,
                                            .channel_id = ctx->interaction->channel_id,
                                            .prompt = d->prompt,
                                            .enhanced_prompt = d->full_prompt,
                                            .style = d->style->value,
                                            .rating = d->rating,
                                            .model = ctx->services->config->image_model,
                                            .success = r->status == SLIMY_OK,
                                            .error_message = r->status ? r->error : NULL};
        if (store_image_log_add(ctx->services->store, &entry))
            log_warn("image log row not written", LOG_S("interaction_id", ctx->interaction->id));
    }
    if (r->status)
        return cmd_fail(ctx, r->status, "❌ Image generation failed: %s", r->error ? r->error : "unknown error");
    char name[96];
    snprintf(name, sizeof name, "dream-%s-%llu.png", d->style->value, (unsigned long long)clock_wall_ms());
    int rc = message_attach(ctx->reply, name, "image/png", r->image, r->image_len);
    if (rc)
        return rc;
    return cmd_reply(ctx, "%s **Dream Created!**\n**Style:** %s\n**Prompt:** %s", d->style->emoji, d->style->name,
                     d->prompt);
}
