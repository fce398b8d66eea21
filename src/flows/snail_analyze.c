/* snail_analyze.c — the Super Snail screenshot analysis flow; see snail_analyze.h. Three steps on
 * workers joined by two network waits (flows/await.h): start (checks, download) → downloaded
 * (data URI, vision request) → answered (parse, store, embed).
 * Reading the answer and wording the stats are snail_vision.c; this file is the glue. */
#include "flows/snail_analyze.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/attachment.h"
#include "flows/await.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "interactions/embed.h"
#include "snail/snail_vision.h"
#include "store/store.h"

#define ANALYSIS_COLOR 0x00FF00
#define VISION_MAX_TOKENS 1000
#define MIME_MAX 64                  /* "image/png"; longer declared types are refused */
#define TEXT_MAX_BYTES 16384         /* the summary and each field text; embed.h cuts them further */
#define SCREENSHOT_URL_MAX_BYTES 500 /* the snail_stats.screenshot_url column; a longer URL is not stored */

#define NOT_IMAGE_TEXT "⚠️ Please provide an image file (PNG, JPG, WEBP)."
#define NOT_ALLOWED_TEXT "❌ I can only read images uploaded to Discord."
#define TOO_BIG_TEXT "❌ That image is too big for me to analyze (the limit is 10 MB). Please send a smaller screenshot."

/* What the model is told to return; snail_vision_parse() reads exactly this shape, and is lenient
 * where models are sloppy (fences, numbers with commas). */
static const char SYSTEM_PROMPT[] =
    "You are a Super Snail game stats analyzer. You read screenshots of the mobile game Super Snail and "
    "report the snail's stats.\n"
    "Reply with ONLY one JSON object, no code fences and no other text, of exactly this shape:\n"
    "{\"stats\": {\"hp\": number|null, \"atk\": number|null, \"def\": number|null, \"rush\": number|null, "
    "\"fame\": number|null, \"tech\": number|null, \"art\": number|null, \"civ\": number|null, \"fth\": number|null}, "
    "\"equipment\": {\"weapon\": string|null, \"armor\": string|null, \"accessory\": string|null}, "
    "\"confidence\": \"high\"|\"medium\"|\"low\", \"notes\": string}\n"
    "Rules:\n"
    "- Write every number as plain digits without commas, spaces or suffixes: 1234567, not 1,234,567.\n"
    "- Use null for any value you cannot read with certainty. Never guess.\n"
    "- HP, ATK, DEF and RUSH are in the bottom section of the stats screen.\n"
    "- FAME, TECH, ART, CIV and FTH are on the pentagon chart.\n"
    "- Equipment names are the item names shown for the weapon, armor and accessory slots; null when not visible.\n"
    "- confidence is how sure you are of the numbers overall.\n"
    "- notes is one short sentence about anything unclear or unusual, or an empty string.";

static const char USER_PROMPT[] = "Analyze this Super Snail screenshot. Return ONLY the JSON object.";

struct analysis {
    char *url;           /* the attachment URL (copy): downloaded, shown in the embed, stored */
    char mime[MIME_MAX]; /* the attachment's declared type, e.g. "image/png" */
};

static enum slimy_status downloaded(struct cmd_ctx *ctx);
static enum slimy_status answered(struct cmd_ctx *ctx);

static void analysis_cleanup(void *state)
{
    free(((struct analysis *)state)->url);
}

/* ---- step 1: checks and download ---- */

/* Writes the media type of an image content type ("image/png; x=y" → "image/png", lower case)
 * into mime. false when it is not image/<token> or does not fit. */
static bool image_mime(const char *content_type, char mime[MIME_MAX])
{
    static const char prefix[] = "image/";
    size_t n = 0;
    for (const char *p = content_type; *p && *p != ';' && *p != ' '; p++) {
        char c = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        bool is_token = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '.' || c == '+' ||
                        c == '-';
        if (!is_token || n + 1 >= MIME_MAX)
            return false; /* it goes into the data URI verbatim: keep it to token characters */
        mime[n++] = c;
    }
    mime[n] = '\0';
    return n > sizeof prefix - 1 && strncmp(mime, prefix, sizeof prefix - 1) == 0 &&
           !strchr(mime + sizeof prefix - 1, '/');
}

/* The checks on what Discord said of the attachment; fills mime when it is an image. */
static enum slimy_status check_attachment(struct cmd_ctx *ctx, const struct cmd_attachment *attachment,
                                          char mime[MIME_MAX])
{
    if (!attachment || !image_mime(attachment->content_type, mime))
        return cmd_fail(ctx, SLIMY_EINVAL, NOT_IMAGE_TEXT);
    if (attachment->size > (int64_t)ATTACHMENT_MAX_BYTES)
        return cmd_fail(ctx, SLIMY_ETOOBIG, TOO_BIG_TEXT); /* Discord said so: no need to download it */
    return SLIMY_OK;
}

enum slimy_status snail_analyze_check(struct cmd_ctx *ctx, const struct cmd_attachment *attachment)
{
    char mime[MIME_MAX];
    return check_attachment(ctx, attachment, mime);
}

enum slimy_status snail_analyze_start(struct cmd_ctx *ctx, const struct cmd_attachment *attachment)
{
    /* The commands' checks refused these before admission already; checked again here for any
     * path that reaches the flow without them. */
    char mime[MIME_MAX];
    enum slimy_status rc = check_attachment(ctx, attachment, mime);
    if (rc)
        return rc;

    struct analysis *a = cmd_state_new(ctx, sizeof *a, analysis_cleanup);
    if (!a || !(a->url = strdup(attachment->url)))
        return SLIMY_ENOMEM;
    memcpy(a->mime, mime, sizeof a->mime);
    rc = cmd_await_download(ctx, a->url, ATTACHMENT_MAX_BYTES, downloaded);
    return rc == SLIMY_EPERM ? cmd_fail(ctx, rc, NOT_ALLOWED_TEXT) : rc;
}

/* ---- step 2: the vision request ---- */

static enum slimy_status download_failed(struct cmd_ctx *ctx, int status)
{
    switch (status) {
    case SLIMY_ETOOBIG: return cmd_fail(ctx, status, TOO_BIG_TEXT);
    case SLIMY_ENOTFOUND:
        return cmd_fail(ctx, status,
                        "❌ I couldn't download that image: the link has expired or the file was "
                        "deleted. Please upload it again.");
    case SLIMY_ETIMEOUT: return cmd_fail(ctx, status, "⌛ Downloading that image took too long. Please try again.");
    case SLIMY_ENOMEM: return status; /* the dispatcher's generic text */
    default:
        return cmd_fail(ctx, status, "❌ I couldn't download that image (%s). Please try again in a moment.",
                        slimy_strerror(status));
    }
}

/* "data:image/png;base64,…" of the downloaded bytes; NULL when out of memory. Free with free(). */
static char *data_uri(const char *mime, const unsigned char *bytes, size_t len)
{
    char prefix[MIME_MAX + 16];
    int prefix_len = snprintf(prefix, sizeof prefix, "data:%s;base64,", mime);
    size_t b64_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL); /* with the NUL */
    char *uri = malloc((size_t)prefix_len + b64_len);
    if (!uri)
        return NULL;
    memcpy(uri, prefix, (size_t)prefix_len);
    sodium_bin2base64(uri + prefix_len, b64_len, bytes, len, sodium_base64_VARIANT_ORIGINAL);
    return uri;
}

static enum slimy_status downloaded(struct cmd_ctx *ctx)
{
    struct analysis *a = ctx->state;
    struct cmd_download *file = ctx->result;
    if (file->status)
        return download_failed(ctx, file->status);
    if (file->len == 0)
        return cmd_fail(ctx, SLIMY_EINVAL, "⚠️ That image file is empty. Please send the screenshot again.");
    if (!ctx->services->ai)
        return SLIMY_EUNAVAILABLE; /* CMD_NEEDS_AI makes this unreachable */
    char *uri = data_uri(a->mime, file->bytes, file->len);
    free(file->bytes); /* the URI holds the image now; do not keep both while waiting */
    file->bytes = NULL;
    if (!uri)
        return SLIMY_ENOMEM;
    const struct ai_message messages[] = {
        {.role = AI_SYSTEM, .text = SYSTEM_PROMPT},
        {.role = AI_USER, .text = USER_PROMPT, .image_data_uri = uri},
    };
    struct ai_chat_request req = {.model = ctx->services->config->vision_model,
                                  .messages = messages,
                                  .n_messages = sizeof messages / sizeof messages[0],
                                  .temperature = -1, /* the model's default, as the original bot did */
                                  .max_tokens = VISION_MAX_TOKENS,
                                  .image_detail = "high",
                                  .deadline_mono_ms = ctx->deadline_mono_ms,
                                  .interaction_id = ctx->interaction->id};
    enum slimy_status rc = cmd_await_chat(ctx, &req, answered);
    free(uri); /* copied into the request body */
    return rc;
}

/* ---- step 3: the answer ---- */

/* Stores the analysis; false when it could not be saved (the user still gets the analysis). */
static bool save(struct cmd_ctx *ctx, const struct analysis *a, const struct snail_vision *v, const char *summary)
{
    const struct interaction *it = ctx->interaction;
    struct store_snail_stats_new row = {
        .user_id = it->user_id,
        .user_name = it->user_name,
        .scope_id = ctx->scope_id,
        .screenshot_url = strlen(a->url) <= SCREENSHOT_URL_MAX_BYTES ? a->url : NULL,
        .stats = v->stats,
        .has_stat = v->has_stat,
        .analysis_text = summary,
        .interaction_id = it->id[0] ? it->id : NULL, /* a retried job stores one row */
    };
    int64_t id = 0;
    int rc = store_snail_stats_add(ctx->services->store, &row, &id);
    if (rc)
        log_warn("snail stats not saved", LOG_S("interaction_id", it->id), LOG_S("status", slimy_strerror(rc)));
    return rc == SLIMY_OK;
}

/* The "📊 Super Snail Analysis" embed; NULL when out of memory. */
static cJSON *analysis_embed(const struct cmd_ctx *ctx, const struct analysis *a, const struct snail_vision *v,
                             const char *summary, bool is_saved)
{
    struct buf stats, confidence, equipment;
    buf_init(&stats, TEXT_MAX_BYTES);
    buf_init(&confidence, TEXT_MAX_BYTES);
    buf_init(&equipment, TEXT_MAX_BYTES);
    char footer[256];
    snprintf(footer, sizeof footer, "%s • Analyzed with %s", is_saved ? "Stats saved" : "⚠️ Stats not saved",
             ctx->services->config->vision_model);
    cJSON *embed = embed_new("📊 Super Snail Analysis", ANALYSIS_COLOR);
    cJSON *image = embed ? cJSON_AddObjectToObject(embed, "image") : NULL;
    bool is_ok = image && cJSON_AddStringToObject(image, "url", a->url) && embed_set_description(embed, summary) &&
                 !snail_vision_stats_field(v->stats, v->has_stat, &stats) &&
                 !snail_vision_confidence_field(v, &confidence) && !snail_vision_equipment_field(v, &equipment) &&
                 embed_add_field(embed, "Stats", stats.data, true) &&
                 embed_add_field(embed, "Confidence", confidence.data, true) &&
                 (!equipment.len || embed_add_field(embed, "Equipment", equipment.data, true)) &&
                 embed_set_footer(embed, footer) && embed_set_timestamp(embed, (int64_t)clock_wall_ms());
    buf_cleanup(&stats);
    buf_cleanup(&confidence);
    buf_cleanup(&equipment);
    if (!is_ok) {
        cJSON_Delete(embed);
        return NULL;
    }
    return embed;
}

static enum slimy_status answered(struct cmd_ctx *ctx)
{
    struct analysis *a = ctx->state;
    const struct ai_result *r = ctx->result;
    if (r->status)
        return cmd_fail(ctx, r->status, "❌ Analysis failed: %s", r->error ? r->error : slimy_strerror(r->status));
    if (!r->text)
        return cmd_fail(ctx, SLIMY_EUPSTREAM, "❌ Analysis failed: the vision model gave no answer.");

    struct snail_vision v;
    struct buf summary;
    buf_init(&summary, TEXT_MAX_BYTES);
    int rc = snail_vision_parse(r->text, strlen(r->text), &v);
    if (rc == SLIMY_EINVAL) {
        log_warn("vision answer is not the JSON asked for", LOG_S("interaction_id", ctx->interaction->id),
                 LOG_I("bytes", strlen(r->text)));
        rc = cmd_fail(ctx, SLIMY_EUPSTREAM, "❌ Analysis failed: the vision model returned invalid JSON.");
        goto out;
    }
    if (rc || (rc = snail_vision_summary(&v, &summary)))
        goto out;
    bool is_saved = save(ctx, a, &v, summary.data);
    cJSON *embed = analysis_embed(ctx, a, &v, summary.data, is_saved);
    rc = embed ? cmd_reply(ctx, "✅ Screenshot analyzed!") : SLIMY_ENOMEM;
    if (!rc)
        rc = message_add_embed(ctx->reply, embed);
    else
        cJSON_Delete(embed);
out:
    buf_cleanup(&summary);
    snail_vision_cleanup(&v);
    return (enum slimy_status)rc;
}
