/* leaderboard.c — /leaderboard: this server's Super Snail players ranked by how many analyses
 * Slimy has stored for each (store_leaderboard() counts and ranks; this file words the board).
 * Public and guild only: a DM has no board to compare against. */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/embed.h"
#include "interactions/split.h"
#include "store/store.h"

#define LEADERBOARD_COLOR 0xFFD700
#define LIMIT_MIN 5
#define LIMIT_MAX 50
#define LIMIT_DEFAULT 10
#define NAME_MAX_CHARS 32          /* longer names are cut with "…" so LIMIT_MAX lines fit */
#define DESCRIPTION_MAX_CHARS 4096 /* Discord's embed description limit */
#define LINE_MAX_BYTES 512         /* one ranked line: a cut, escaped name and the numbers */
#define MARKDOWN_CHARS "\\*_~`|>"  /* escaped with a backslash inside names */

static enum slimy_status leaderboard_run(struct cmd_ctx *ctx);

static const struct cmd_option leaderboard_options[] = {
    {.name = "limit",
     .type = OPT_INTEGER,
     .description = "How many players to show (5-50, default 10)",
     .has_min_value = true,
     .min_value = LIMIT_MIN,
     .has_max_value = true,
     .max_value = LIMIT_MAX},
};

const struct command leaderboard_command = {
    .name = "leaderboard",
    .description = "Show this server's Super Snail leaderboard",
    .options = leaderboard_options,
    .n_options = ARRAY_LEN(leaderboard_options),
    .flags = CMD_DEFERRED | CMD_GUILD_ONLY,
    .installs = INSTALL_GUILD,
    .contexts = CTX_GUILD,
    .run = leaderboard_run,
};

static const char *const medals[] = {"🥇 ", "🥈 ", "🥉 "};

/* Appends the display name: the stored name, cut to NAME_MAX_CHARS characters, with Discord's
 * markdown characters escaped so a name like "*snail*" neither turns the rest of the line bold
 * nor breaks it; a user with no stored name is shown as a mention (rendered, never pinged:
 * replies go out with allowed_mentions parse []). */
static int append_name(struct buf *b, const struct store_leaderboard_entry *e)
{
    if (!e->user_name[0])
        return buf_printf(b, "<@%s>", e->user_id);
    size_t len = strlen(e->user_name);
    size_t keep = split_count_chars(e->user_name, len) <= NAME_MAX_CHARS
                      ? len
                      : split_prefix_len(e->user_name, len, NAME_MAX_CHARS - 1);
    int rc = SLIMY_OK;
    for (size_t i = 0; !rc && i < keep; i++) {
        char c = e->user_name[i]; /* never NUL here, which strchr would find */
        if (strchr(MARKDOWN_CHARS, c))
            rc = buf_append(b, "\\", 1);
        if (!rc)
            rc = buf_append(b, &c, 1);
    }
    if (!rc && keep < len)
        rc = buf_append_str(b, "…");
    return rc;
}

/* Writes "🥇 **1.** Name - 3 analyses (Last: <t:1700000000:R>)" for entry rank (from 0) into line. */
static int format_line(struct buf *line, size_t rank, const struct store_leaderboard_entry *e)
{
    int rc = buf_printf(line, "%s**%zu.** ", rank < ARRAY_LEN(medals) ? medals[rank] : "", rank + 1);
    if (!rc)
        rc = append_name(line, e);
    if (!rc)
        rc = buf_printf(line, " - %llu %s (Last: <t:%lld:R>)", (unsigned long long)e->analyses,
                        e->analyses == 1 ? "analysis" : "analyses", (long long)(e->last_at_ms / 1000));
    return rc;
}

/* The ranked lines, one per entry, stopping before Discord's description limit; *n_shown gets
 * how many made it (all of them unless names were unusually long). */
static int build_description(const struct store_leaderboard *board, struct buf *out, size_t *n_shown)
{
    size_t chars = 0;
    int rc = SLIMY_OK;
    *n_shown = 0;
    for (size_t i = 0; !rc && i < board->n; i++) {
        struct buf line;
        buf_init(&line, LINE_MAX_BYTES);
        rc = format_line(&line, i, &board->items[i]);
        size_t line_chars = rc ? 0 : split_count_chars(line.data, line.len) + (i ? 1 : 0);
        if (!rc && chars + line_chars > DESCRIPTION_MAX_CHARS) {
            buf_cleanup(&line);
            break;
        }
        if (!rc && i)
            rc = buf_append_str(out, "\n");
        if (!rc)
            rc = buf_append(out, line.data, line.len);
        buf_cleanup(&line);
        if (!rc) {
            chars += line_chars;
            (*n_shown)++;
        }
    }
    return rc;
}

/* /leaderboard [limit:<5-50>] */
static enum slimy_status leaderboard_run(struct cmd_ctx *ctx)
{
    int64_t limit = cmd_opt_int_or(ctx, "limit", LIMIT_DEFAULT);

    struct store_leaderboard board = {0};
    struct buf text;
    buf_init(&text, 4 * DESCRIPTION_MAX_CHARS); /* a character is at most 4 UTF-8 bytes */
    cJSON *embed = NULL;
    int rc = store_leaderboard(ctx->services->store, ctx->scope_id, (size_t)limit, &board);
    if (rc)
        goto out;
    if (board.n == 0) {
        rc = cmd_reply(ctx, "No Super Snail analyses recorded in this server yet. Use `/snail analyze` to add yours!");
        goto out;
    }
    size_t n_shown = 0;
    rc = build_description(&board, &text, &n_shown);
    if (rc)
        goto out;
    char footer[128] = "Ranked by saved analyses";
    if (n_shown < board.n)
        snprintf(footer, sizeof footer, "Top %zu shown · ranked by saved analyses", n_shown);
    rc = SLIMY_ENOMEM;
    embed = embed_new("🏆 Super Snail Leaderboard", LEADERBOARD_COLOR);
    if (!embed || !embed_set_description(embed, text.data ? text.data : "") || !embed_set_footer(embed, footer))
        goto out;
    rc = message_add_embed(ctx->reply, embed);
    embed = NULL; /* taken even on failure */
out:
    cJSON_Delete(embed);
    buf_cleanup(&text);
    store_leaderboard_free(&board);
    return rc;
}
