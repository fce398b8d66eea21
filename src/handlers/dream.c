/* dream.c — /dream: turn a prompt into an image in one of ten styles. The channel's rating
 * (from /mode) adds a content guideline; every attempt is written to the image-generation log.
 * The image comes with a "Reroll" button (same prompt and style) and a style menu; pressing
 * either runs the same flow again for the dream's owner, under /dream's cooldown. The prompt is
 * read back from the message the button is on (Slimy wrote it there); the owner and the style
 * travel in the custom_id: "dream:reroll:<owner id>:<style>", "dream:style:<owner id>". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "flows/channel_modes.h"
#include "flows/image.h"
#include "handlers/registry.h"
#include "interactions/component.h"

static enum slimy_status dream_run(struct cmd_ctx *ctx);
static enum slimy_status press_check(struct cmd_ctx *ctx);
static enum slimy_status reroll_run(struct cmd_ctx *ctx);

#define DREAM_COOLDOWN_MS 10000
#define PROMPT_LINE "\n**Prompt:** " /* where the reply states the prompt, for the buttons to read */

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

/* A press makes a new dream message, so the old one stays as it was. */
static const struct command dream_components[] = {
    {.name = "reroll",
     .flags = CMD_DEFERRED | CMD_NEEDS_AI,
     .cooldown_ms = DREAM_COOLDOWN_MS,
     .cooldown_as = "dream",
     .check = press_check,
     .run = reroll_run},
    {.name = "style",
     .flags = CMD_DEFERRED | CMD_NEEDS_AI,
     .cooldown_ms = DREAM_COOLDOWN_MS,
     .cooldown_as = "dream",
     .check = press_check,
     .run = reroll_run},
};

const struct command dream_command = {
    .name = "dream",
    .description = "Bring your ideas to life with AI image generation",
    .options = dream_options,
    .n_options = ARRAY_LEN(dream_options),
    .flags = CMD_DEFERRED | CMD_NEEDS_AI,
    .cooldown_ms = DREAM_COOLDOWN_MS,
    .installs = INSTALL_GUILD | INSTALL_USER,
    .contexts = CTX_ANYWHERE,
    .run = dream_run,
    .components = dream_components,
    .n_components = ARRAY_LEN(dream_components),
};

/* The style named value; NULL when there is none. */
static const struct dream_style *style_named(const char *value)
{
    for (size_t i = 0; value && i < ARRAY_LEN(styles); i++)
        if (strcmp(styles[i].value, value) == 0)
            return &styles[i];
    return NULL;
}

static const struct dream_style *find_style(const char *value)
{
    const struct dream_style *style = style_named(value);
    return style ? style : &styles[0];
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

/* Starts a dream of prompt (trimmed here) in style. */
static enum slimy_status dream_start(struct cmd_ctx *ctx, const char *prompt, size_t prompt_len,
                                     const struct dream_style *style)
{
    while (prompt_len && (*prompt == ' ' || *prompt == '\t' || *prompt == '\n')) {
        prompt++;
        prompt_len--;
    }
    while (prompt_len &&
           (prompt[prompt_len - 1] == ' ' || prompt[prompt_len - 1] == '\n' || prompt[prompt_len - 1] == '\t'))
        prompt_len--;
    if (!prompt_len)
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ Please describe what you want me to dream up.");
    struct dream *d = cmd_state_new(ctx, sizeof *d, dream_cleanup);
    if (!d || !(d->image.prompt = strndup(prompt, prompt_len)))
        return SLIMY_ENOMEM;
    d->style = style;
    unsigned modes = 0;
    if (channel_modes_effective(ctx, &modes))
        modes = 0; /* modes unreadable: the default (general audience) guideline applies */
    return image_job_start(ctx, &d->image, d->style->suffix, d->style->value, modes, dream_done);
}

/* /dream prompt:<text> [style:<style>] */
static enum slimy_status dream_run(struct cmd_ctx *ctx)
{
    const char *prompt = cmd_opt_string(ctx, "prompt");
    return dream_start(ctx, prompt ? prompt : "", prompt ? strlen(prompt) : 0,
                       find_style(cmd_opt_string(ctx, "style")));
}

/* The reroll button and the style menu under a dream of style by the invoker. */
static enum slimy_status add_controls(struct cmd_ctx *ctx, const struct dream_style *style)
{
    const char *owner = ctx->interaction->user_id;
    char reroll_id[COMPONENT_ID_SIZE], style_id[COMPONENT_ID_SIZE];
    if (component_id(reroll_id, "dream", "reroll", owner, style->value, NULL) ||
        component_id(style_id, "dream", "style", owner, NULL))
        return SLIMY_OK; /* an invoker id Discord would not send: the image goes without buttons */
    cJSON *buttons = component_row();
    int rc = component_button(buttons, BUTTON_SECONDARY, "🔁", "Reroll", reroll_id);
    rc = rc ? rc : message_add_row(ctx->reply, buttons);
    if (rc) /* message_add_row took the row */
        return rc;
    cJSON *menu_row = component_row();
    cJSON *menu = component_select(menu_row, style_id, "Dream it again in another style…");
    rc = menu ? SLIMY_OK : SLIMY_ENOMEM;
    for (size_t i = 0; !rc && i < ARRAY_LEN(styles); i++)
        rc = component_select_option(menu, styles[i].name, styles[i].value, styles[i].emoji, &styles[i] == style);
    return rc ? (cJSON_Delete(menu_row), rc) : message_add_row(ctx->reply, menu_row);
}

static enum slimy_status dream_done(struct cmd_ctx *ctx)
{
    struct dream *d = ctx->state;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "dream-%s", d->style->value);
    enum slimy_status rc = image_job_finish(ctx, &d->image, prefix);
    if (rc)
        return cmd_fail(ctx, rc, "❌ Image generation failed: %s", d->image.error ? d->image.error : slimy_strerror(rc));
    rc = cmd_reply(ctx, "%s **Dream Created!**\n**Style:** %s" PROMPT_LINE "%s", d->style->emoji, d->style->name,
                   d->image.prompt);
    return rc ? rc : add_controls(ctx, d->style);
}

/* ---- the buttons ---- */

/* The prompt stated by the dream message a button is on; NULL when it states none. */
static const char *pressed_prompt(const struct cmd_ctx *ctx)
{
    const char *content = cmd_component_message_content(ctx);
    const char *line = content ? strstr(content, PROMPT_LINE) : NULL;
    return line && line[strlen(PROMPT_LINE)] ? line + strlen(PROMPT_LINE) : NULL;
}

/* The style a press asks for: the menu's choice, or the button's own. NULL when unknown. */
static const struct dream_style *pressed_style(const struct cmd_ctx *ctx)
{
    if (strcmp(ctx->command->name, "style") == 0)
        return style_named(cmd_component_value(ctx, 0));
    char value[32];
    return cmd_component_arg(ctx, 1, value, sizeof value) ? style_named(value) : NULL;
}

/* On the request thread: only the dream's owner may press, and the press must be one we made. */
static enum slimy_status press_check(struct cmd_ctx *ctx)
{
    char owner[32];
    if (!cmd_component_arg(ctx, 0, owner, sizeof owner) || !pressed_style(ctx) || !pressed_prompt(ctx))
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ This button is not valid anymore. Use `/dream` to start a new dream.");
    if (strcmp(owner, ctx->interaction->user_id) != 0)
        return cmd_fail(ctx, SLIMY_EPERM,
                        "🔒 Only the person who dreamed this can reroll it. Use `/dream` to make your own!");
    return SLIMY_OK;
}

/* Both controls: the button keeps the style, the menu names another. */
static enum slimy_status reroll_run(struct cmd_ctx *ctx)
{
    const char *prompt = pressed_prompt(ctx);
    const struct dream_style *style = pressed_style(ctx);
    if (!prompt || !style) /* the check saw them: only a job from another build lands here */
        return cmd_fail(ctx, SLIMY_EINVAL, "❌ This button is not valid anymore. Use `/dream` to start a new dream.");
    return dream_start(ctx, prompt, strlen(prompt), style);
}
