/* diag.c — /diag: what this replica knows about itself (version, uptime, memory, jobs,
 * command statistics), as an ephemeral embed. Deferred so it exercises the worker and the
 * webhook path end to end, which is what an operator wants to know works. */
#include <stdio.h>

#include "core/clock.h"
#include "core/process.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/command_stats.h"
#include "jobs/jobs.h"

#define DIAG_COLOR 0x00FF00

static int diag_run(struct cmd_ctx *ctx);

const struct command diag_command = {
    .name = "diag",
    .description = "Show Slimy's health: uptime, memory, jobs and command statistics",
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = diag_run,
};

static int add_field(cJSON *fields, const char *name, const char *value, bool is_inline)
{
    cJSON *f = cJSON_CreateObject();
    if (!f || !cJSON_AddItemToArray(fields, f) || !cJSON_AddStringToObject(f, "name", name) ||
        !cJSON_AddStringToObject(f, "value", value) || !cJSON_AddBoolToObject(f, "inline", is_inline))
        return SLIMY_ENOMEM;
    return SLIMY_OK;
}

/* /diag */
static int diag_run(struct cmd_ctx *ctx)
{
    const struct cmd_services *svc = ctx->services;
    char text[1024];
    int rc = SLIMY_ENOMEM;
    cJSON *embed = cJSON_CreateObject();
    cJSON *fields = embed ? cJSON_AddArrayToObject(embed, "fields") : NULL;
    if (!fields || !cJSON_AddStringToObject(embed, "title", "🔧 Slimy Diagnostics v" SLIMY_VERSION) ||
        !cJSON_AddNumberToObject(embed, "color", DIAG_COLOR))
        goto out;

    uint64_t now = clock_wall_ms();
    process_format_uptime((now - svc->started_at_ms) / 1000u, text, sizeof text);
    if ((rc = add_field(fields, "⏱️ Uptime", text, true)))
        goto out;
    snprintf(text, sizeof text, "RSS: %.2f MB", (double)process_rss_bytes() / (1024.0 * 1024.0));
    if ((rc = add_field(fields, "💾 Memory", text, true)))
        goto out;
    snprintf(text, sizeof text, "Queued: %zu\nIn flight: %zu", jobs_queued(svc->jobs), jobs_in_flight(svc->jobs));
    if ((rc = add_field(fields, "🧵 Jobs", text, true)))
        goto out;

    struct command_stats_summary sum;
    command_stats_summarize(svc->stats, &sum);
    double success = sum.total ? 100.0 * (double)(sum.total - sum.failures) / (double)sum.total : 100.0;
    snprintf(text, sizeof text, "Total: %llu\nSuccess Rate: %.1f%%\nErrors: %llu", (unsigned long long)sum.total,
             success, (unsigned long long)sum.failures);
    if ((rc = add_field(fields, "📊 Command Statistics", text, false)))
        goto out;
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < sum.n_top && used < sizeof text; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s`/%s`: %llu (%llums)", i ? "\n" : "",
                                 sum.top[i].path, (unsigned long long)sum.top[i].count,
                                 (unsigned long long)(sum.top[i].total_ms / sum.top[i].count));
    if ((rc = add_field(fields, "🔥 Top Commands", sum.n_top ? text : "No commands executed yet", false)))
        goto out;
    if ((rc = add_field(fields, "📝 Version", "v" SLIMY_VERSION " (commit " SLIMY_GIT_COMMIT ")", true)))
        goto out;
    if ((rc = add_field(fields, "🏥 Health Endpoints", "`GET /health` (liveness)\n`GET /ready` (readiness)", true)))
        goto out;
    rc = message_add_embed(ctx->reply, embed);
    embed = NULL; /* taken even on failure */
out:
    cJSON_Delete(embed);
    return rc;
}
