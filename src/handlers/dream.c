/* dream.c — /dream: turn a prompt into an image in one of ten styles. The channel's rating
 * (from /mode) adds a content guideline; every attempt is written to the image-generation log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "flows/channel_modes.h"
#include "flows/image.h"
#include "handlers/registry.h"

static enum slimy_status dream_run(struct cmd_ctx *ctx);

/* The styles, in choice order: X(value, name, emoji, what the prompt gets appended). The one
 * list: the choices and the table find_style() reads both come from it. */
#define DREAM_STYLES(X)                                                                                               \
    X("standard", "Standard", "✨", "")                                                                                \
    X("poster", "Poster Art", "🎨",                                                                                    \
      "in the style of a bold graphic design poster with vibrant colors and strong "                                  \
      "composition")                                                                                                  \
    X("neon", "Neon Dreams", "🌟",                                                                                     \
      "in a cyberpunk style with glowing neon lights, dark backgrounds and electric "                                 \
      "colors")                                                                                                       \
    X("photoreal", "Photo-Real", "📷",                                                                                 \
      "photorealistic, with ultra-detailed textures, natural lighting and a lifelike "                                \
      "look")                                                                                                         \
    X("anime", "Anime", "🎌", "in anime art style with expressive characters, vibrant colors and dynamic composition") \
    X("watercolor", "Watercolor", "🖌️",                                                                          \
      "as a delicate watercolor painting with soft edges, flowing colors and "                                        \
      "visible brush strokes")                                                                                        \
    X("3d-render", "3D Render", "🎬",                                                                                  \
      "as a high-quality 3D render with realistic materials, professional lighting "                                  \
      "and CGI polish")                                                                                               \
    X("pixel", "Pixel Art", "🕹️", "as detailed pixel art in a retro 8/16-bit style with crisp pixels")           \
    X("sketch", "Pencil Sketch", "✏️", "as a detailed pencil sketch with crosshatching and careful shading")      \
    X("cinematic", "Cinematic", "🎥",                                                                                  \
      "with cinematic composition, dramatic lighting, film grain and a movie-poster "                                 \
      "look")

struct dream_style {
    const char *value, *name, *emoji, *suffix;
};

#define STYLE_ROW(value, name, emoji, suffix) {value, name, emoji, suffix},
static const struct dream_style styles[] = {DREAM_STYLES(STYLE_ROW)};

#define STYLE_CHOICE(value, name_, emoji, suffix) {.name = emoji " " name_, .string_value = value},
static const struct cmd_choice style_choices[] = {DREAM_STYLES(STYLE_CHOICE)};

static const struct cmd_option dream_options[] = {
    {.name = "prompt",
     .type = OPT_STRING,
     .description = "Describe what you want to see",
     .required = true,
     .max_length = 1000},
    {.name = "style",
     .type = OPT_STRING,
     .description = "Art style (default: Standard)",
     .choices = style_choices,
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

static const struct dream_style *find_style(const char *value)
{
    for (size_t i = 0; value && i < ARRAY_LEN(styles); i++)
        if (strcmp(styles[i].value, value) == 0)
            return &styles[i];
    return &styles[0];
}

struct dream {
    const struct dream_style *style;
    struct image_job image;
};

static void dream_cleanup(void *state)
{
    image_job_cleanup(&((struct dream *)state)->image);
}

static enum slimy_status dream_done(struct cmd_ctx *ctx);

/* /dream prompt:<text> [style:<style>] */
static enum slimy_status dream_run(struct cmd_ctx *ctx)
{
    const char *prompt = cmd_opt_string(ctx, "prompt");
    while (prompt && (*prompt == ' ' || *prompt == '\t' || *prompt == '\n'))
        prompt++;
    if (!prompt || !*prompt)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please describe what you want me to dream up.");
    struct dream *d = cmd_state_new(ctx, sizeof *d, dream_cleanup);
    if (!d || !(d->image.prompt = strdup(prompt)))
        return SLIMY_ENOMEM;
    size_t len = strlen(d->image.prompt);
    while (len &&
           (d->image.prompt[len - 1] == ' ' || d->image.prompt[len - 1] == '\n' || d->image.prompt[len - 1] == '\t'))
        d->image.prompt[--len] = '\0';
    d->style = find_style(cmd_opt_string(ctx, "style"));

    unsigned modes = 0;
    if (channel_modes_effective(ctx, &modes))
        modes = 0; /* modes unreadable: the default (general audience) guideline applies */
    return image_job_start(ctx, &d->image, d->style->suffix, d->style->value, modes, dream_done);
}

static enum slimy_status dream_done(struct cmd_ctx *ctx)
{
    struct dream *d = ctx->state;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "dream-%s", d->style->value);
    enum slimy_status rc = image_job_finish(ctx, &d->image, prefix);
    if (rc)
        return cmd_fail(ctx, rc, "❌ Image generation failed: %s", d->image.error ? d->image.error : slimy_strerror(rc));
    return cmd_reply(ctx, "%s **Dream Created!**\n**Style:** %s\n**Prompt:** %s", d->style->emoji, d->style->name,
                     d->image.prompt);
}
