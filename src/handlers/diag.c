/* diag.c — /diag: what this replica knows about itself (version, uptime, memory, jobs, shared
 * state) and the command statistics of every replica, as an ephemeral embed. Deferred so it exercises the worker and the
 * webhook path end to end, which is what an operator wants to know works. */
#include <stdio.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/process.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/command_stats.h"
#include "interactions/embed.h"
#include "store/store.h"
#include "jobs/job_stream.h"
#include "jobs/jobs.h"
#include "kv/kv.h"

#define DIAG_COLOR 0x00FF00

static enum slimy_status diag_run(struct cmd_ctx *ctx);

/* For server managers only (it shows the host, the process and every replica's numbers), and
 * limited per user: each run reads the store and the shared state. */
const struct command diag_command = {
    .name = "diag",
    .description = "Show Slimy's health: uptime, memory, jobs and command statistics",
    .flags = CMD_DEFERRED | CMD_EPHEMERAL | CMD_GUILD_ONLY | CMD_NEEDS_MANAGE_GUILD,
    .cooldown_ms = 10000,
    .default_member_permissions = "32", /* Manage Server; checked again by the dispatcher */
    .installs = INSTALL_GUILD,
    .contexts = CTX_GUILD,
    .run = diag_run,
};

static int add_field(cJSON *embed, const char *name, const char *value, bool is_inline)
{
    return embed_add_field(embed, name, value, is_inline) ? SLIMY_OK : SLIMY_ENOMEM;
}

/* The database line: backend, reachability and the row counts operators ask about. */
static void describe_store(struct store *st, char *text, size_t cap)
{
    struct store_counts counts;
    int rc = store_counts(st, &counts);
    if (rc)
        snprintf(text, cap, "❌ %s: %s", st->ops->name, slimy_strerror(rc));
    else
        snprintf(text, cap, "✅ Connected (%s)\nMemories: %llu\nImages: %llu\nSnails: %llu", st->ops->name,
                 (unsigned long long)counts.memories, (unsigned long long)counts.images,
                 (unsigned long long)counts.snail_stats);
}

static void describe_shared_state(struct kv *kv, char *text, size_t cap)
{
    switch (kv_state(kv)) {
    case KV_STATE_SHARED: snprintf(text, cap, "✅ Redis: cooldowns, history and jobs shared by every replica"); break;
    case KV_STATE_FALLBACK:
        snprintf(text, cap, "⚠️ Redis unreachable: this replica serves from its own memory until it returns");
        break;
    default: snprintf(text, cap, "In-process (one replica; set REDIS_URL to run several)"); break;
    }
}

/* Which replica answered: its host name (a container's id under Docker) and process id. */
static void replica_id(char *text, size_t cap)
{
    char host[128] = "";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        snprintf(host, sizeof host, "unknown host");
    snprintf(text, cap, "`%s` (pid %ld)", host, (long)getpid());
}

/* Every replica's totals when the kv has them (this replica's own are added first), else this
 * replica's. Returns the field title. */
static const char *summarize_commands(const struct cmd_services *svc, struct command_stats_summary *sum)
{
    struct kv_counters all;
    if (command_stats_flush(svc->stats, svc->kv) == SLIMY_OK && kv_counters_read(svc->kv, &all) == SLIMY_OK) {
        command_stats_summarize_counters(all.items, all.n, sum);
        kv_counters_free(&all);
        return kv_state(svc->kv) == KV_STATE_LOCAL ? "📊 Command Statistics" : "📊 Command Statistics (all replicas)";
    }
    command_stats_summarize(svc->stats, sum);
    return "📊 Command Statistics (this replica; Redis unavailable)";
}

/* /diag */
static enum slimy_status diag_run(struct cmd_ctx *ctx)
{
    const struct cmd_services *svc = ctx->services;
    char text[1024];
    int rc = SLIMY_ENOMEM;
    cJSON *embed = embed_new("🔧 Slimy Diagnostics v" SLIMY_VERSION, DIAG_COLOR);
    if (!embed)
        goto out;

    uint64_t now = clock_wall_ms();
    process_format_uptime((now - svc->started_at_ms) / 1000u, text, sizeof text);
    if ((rc = add_field(embed, "⏱️ Uptime", text, true)))
        goto out;
    snprintf(text, sizeof text, "RSS: %.2f MB", (double)process_rss_bytes() / (1024.0 * 1024.0));
    if ((rc = add_field(embed, "💾 Memory", text, true)))
        goto out;
    struct job_stream_stats stream;
    job_stream_stats(svc->stream, &stream);
    snprintf(text, sizeof text, "Queued: %zu\nIn flight: %zu\nTaken over: %llu\nExpired: %llu", jobs_queued(svc->jobs),
             jobs_in_flight(svc->jobs), (unsigned long long)stream.taken_over,
             (unsigned long long)stream.dropped_expired);
    if ((rc = add_field(embed, "🧵 Jobs (this replica)", text, true)))
        goto out;
    describe_shared_state(svc->kv, text, sizeof text);
    if ((rc = add_field(embed, "🔗 Shared State", text, true)))
        goto out;
    describe_store(svc->store, text, sizeof text);
    if ((rc = add_field(embed, "🗄️ Database", text, true)))
        goto out;

    struct command_stats_summary sum;
    const char *stats_title = summarize_commands(svc, &sum);
    double success = sum.total ? 100.0 * (double)(sum.total - sum.failures) / (double)sum.total : 100.0;
    snprintf(text, sizeof text, "Total: %llu\nSuccess Rate: %.1f%%\nErrors: %llu", (unsigned long long)sum.total,
             success, (unsigned long long)sum.failures);
    if ((rc = add_field(embed, stats_title, text, false)))
        goto out;
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < sum.n_top && used < sizeof text; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s`/%s`: %llu (%llums)", i ? "\n" : "",
                                 sum.top[i].path, (unsigned long long)sum.top[i].count,
                                 (unsigned long long)(sum.top[i].total_ms / sum.top[i].count));
    if ((rc = add_field(embed, "🔥 Top Commands", sum.n_top ? text : "No commands executed yet", false)))
        goto out;
    if ((rc = add_field(embed, "📝 Version", "v" SLIMY_VERSION " (commit " SLIMY_GIT_COMMIT ")", true)))
        goto out;
    replica_id(text, sizeof text);
    if ((rc = add_field(embed, "🆔 Replica", text, true)))
        goto out;
    if ((rc = add_field(embed, "🏥 Health Endpoints",
                        "`GET /health` (liveness)\n`GET /ready` (readiness)\n`GET /metrics` (Prometheus)", true)))
        goto out;
    embed_set_timestamp(embed, (int64_t)now);
    rc = message_add_embed(ctx->reply, embed);
    embed = NULL; /* taken even on failure */
out:
    cJSON_Delete(embed);
    return rc;
}
