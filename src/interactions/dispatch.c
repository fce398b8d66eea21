/* dispatch.c — routes verified interactions to command handlers; see dispatch.h.
 * Order matters: verify before parsing (the signature covers the raw bytes), and admit (dedupe,
 * cooldown, queueing: one kv round trip) before anything runs, so a duplicate or a limited user
 * costs us nothing but a reply. Deferred jobs come back from the job stream on any replica. */
#include "interactions/dispatch.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "interactions/reply_sink.h"
#include "interactions/response.h"
#include "interactions/verify.h"
#include "jobs/job_stream.h"
#include "kv/kv.h"
#include "store/store.h"

#define DEFAULT_CLAIM_IDLE_MS 15000 /* JOB_CLAIM_IDLE_MS's default, for a config not read by config_load */
#define BUSY_TEXT "😵 I'm very busy right now. Please try again in a minute."

struct dispatch {
    const struct slimy_config *cfg;
    const struct command *const *commands;
    size_t n_commands;
    struct reply_sink sink;
    struct kv *kv;       /* shared state: from deps, or owned_kv */
    struct kv *owned_kv; /* an in-process kv made when deps gave none */
    struct command_stats *stats;
    struct job_stream *stream;
    struct jobs *jobs;
    struct cmd_services services;
    atomic_bool is_draining;
};

static void run_job(struct jobs *jobs, struct job *job, void *arg);
static int decode_job(const struct kv_entry *entry, struct job *job, void *arg);

static void on_job_finished(struct job *job, void *arg)
{
    struct dispatch *d = arg;
    job_stream_on_finished(d->stream, job);
}

/* About once a second on the stream thread: this replica's counters go to the cluster totals. */
static void flush_stats(void *arg)
{
    struct dispatch *d = arg;
    command_stats_flush(d->stats, d->kv);
}

/* ---- lifecycle ---- */

int dispatch_new(const struct slimy_config *cfg, const struct command *const *commands, size_t n_commands,
                 const struct reply_sink *sink, const struct cmd_services *deps, struct dispatch **out)
{
    if (!sink || !deps || !deps->store)
        return SLIMY_EINVAL; /* handlers rely on a store being there */
    struct dispatch *d = calloc(1, sizeof *d);
    if (!d)
        return SLIMY_ENOMEM;
    d->cfg = cfg;
    d->commands = commands;
    d->n_commands = n_commands;
    d->sink = *sink;
    d->kv = deps->kv;
    int rc = SLIMY_OK;
    if (!d->kv) {
        struct kv_options opts;
        kv_options_default(&opts);
        opts.stream_max = cfg->job_queue_max;
        rc = kv_local_new(&opts, &d->owned_kv);
        d->kv = d->owned_kv;
    }
    struct job_stream_config stream_cfg = {
        .claim_idle_ms = cfg->job_claim_idle_ms ? cfg->job_claim_idle_ms : DEFAULT_CLAIM_IDLE_MS,
        .max_held = cfg->job_queue_max,
        .decode = decode_job,
        .tick = flush_stats,
        .arg = d,
    };
    if (!rc)
        rc = command_stats_new(&d->stats);
    if (!rc)
        rc = job_stream_new(d->kv, &stream_cfg, &d->stream);
    if (!rc)
        rc = jobs_new(cfg->worker_threads, cfg->job_queue_max, run_job, on_job_finished, d, &d->jobs);
    if (!rc)
        rc = job_stream_start(d->stream, d->jobs);
    if (rc) {
        dispatch_free(d);
        return rc;
    }
    d->services = (struct cmd_services){.store = deps->store,
                                        .ai = deps->ai,
                                        .engine = deps->engine,
                                        .persona = deps->persona,
                                        .kv = d->kv,
                                        .jobs = d->jobs,
                                        .stream = d->stream,
                                        .stats = d->stats,
                                        .config = cfg,
                                        .started_at_ms = clock_wall_ms()};
    *out = d;
    return SLIMY_OK;
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    /* The stream stops feeding and hands back what it holds before the workers stop; its
     * records outlive the workers, whose last jobs may still report finishing. */
    job_stream_stop(d->stream);
    jobs_free(d->jobs);
    job_stream_free(d->stream);
    command_stats_free(d->stats);
    kv_close(d->owned_kv);
    free(d);
}

bool dispatch_drain(struct dispatch *d, uint64_t deadline_mono_ms)
{
    atomic_store(&d->is_draining, true);
    bool is_drained = job_stream_drain(d->stream, deadline_mono_ms);
    return jobs_drain(d->jobs, deadline_mono_ms) && is_drained;
}

enum kv_state dispatch_kv_state(struct dispatch *d)
{
    return kv_state(d->kv);
}

const struct cmd_services *dispatch_services(struct dispatch *d)
{
    return &d->services;
}

size_t dispatch_jobs_queued(struct dispatch *d)
{
    return jobs_queued(d->jobs);
}

size_t dispatch_jobs_in_flight(struct dispatch *d)
{
    return jobs_in_flight(d->jobs);
}

/* Finds a top-level command by name and type (1 chat input, 2 user, 3 message). */
static const struct command *dispatch_find(const struct command *const *commands, size_t n, const char *name, int type)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int t = commands[i]->type ? (int)commands[i]->type : COMMAND_CHAT_INPUT;
        if (t == type && strcmp(commands[i]->name, name) == 0)
            return commands[i];
    }
    return NULL;
}

/* ---- replies ---- */

static void reply_json(struct dispatch_reply *out, int http_status, char *body)
{
    if (!body) {
        http_status = 500;
        body = strdup("{\"error\":\"out of memory\"}");
    }
    out->http_status = http_status;
    out->body = body;
    out->len = body ? strlen(body) : 0;
}

static void reply_error(struct dispatch_reply *out, int http_status, const char *error)
{
    char text[160];
    snprintf(text, sizeof text, "{\"error\":\"%s\"}", error);
    reply_json(out, http_status, strdup(text));
}

/* A type-4 ephemeral text answer: unknown command, slow down, busy... */
static void reply_ephemeral(struct dispatch_reply *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_ephemeral(struct dispatch_reply *out, const char *fmt, ...)
{
    struct message m;
    message_init(&m);
    m.flags = MESSAGE_FLAG_EPHEMERAL;
    va_list ap;
    va_start(ap, fmt);
    message_set_textv(&m, fmt, ap);
    va_end(ap);
    reply_json(out, 200, response_message_json(&m));
    message_cleanup(&m);
}

/* The user's words for a failure, used when the handler did not write its own. */
static const char *failure_text(int rc)
{
    switch (rc) {
    case SLIMY_EINVAL: return "❌ That input doesn't look right. Please check it and try again.";
    case SLIMY_EPERM: return "🚫 You don't have permission to do that here.";
    case SLIMY_ENOTFOUND: return "🔍 I couldn't find that.";
    case SLIMY_ELIMITED: return "⏳ I'm being rate limited right now. Please try again in a moment.";
    case SLIMY_EUNAVAILABLE:
        return "😵 Something I depend on (such as my database) is unavailable right now. Please try again in a minute.";
    case SLIMY_ETIMEOUT: return "⌛ That took too long. Please try again.";
    case SLIMY_EUPSTREAM: return "😵 A service I depend on refused the request. Please try again later.";
    default: return "❌ Command failed. The error has been logged.";
    }
}

/* ---- running a handler ---- */

/* Resolves the leaf to run from the interaction's subcommand group and subcommand names.
 * Writes "snail calc" into path. NULL when the request names a leaf we do not have. */
static const struct command *resolve_leaf(const struct command *top, const struct interaction *it, char *path,
                                          size_t path_len)
{
    const struct command *c = top;
    snprintf(path, path_len, "%s", top->name);
    const char *names[2] = {it->subcommand_group, it->subcommand};
    for (size_t level = 0; level < 2; level++) {
        if (!names[level])
            continue;
        const struct command *next = NULL;
        for (size_t i = 0; i < c->n_subcommands; i++)
            if (strcmp(c->subcommands[i].name, names[level]) == 0)
                next = &c->subcommands[i];
        if (!next)
            return NULL;
        c = next;
        size_t used = strlen(path);
        snprintf(path + used, path_len - used, " %s", c->name);
    }
    return c->run ? c : NULL;
}

/* What a job carries for the dispatcher: the parsed request and the leaf it runs. */
struct deferred {
    struct interaction interaction; /* owned */
    const struct command *command;  /* the leaf (static registry data) */
    char path[COMMAND_PATH_MAX];    /* "snail sheet": command and subcommand names */
};

static void deferred_free(void *p)
{
    struct deferred *df = p;
    interaction_free(&df->interaction);
    free(df);
}

/* Job stream thread: an entry queued by kv_admit (on any replica) becomes a runnable job. The
 * body was verified by the replica that admitted it; Redis is inside the trust boundary. */
static int decode_job(const struct kv_entry *entry, struct job *job, void *arg)
{
    struct dispatch *d = arg;
    struct deferred *df = calloc(1, sizeof *df);
    if (!df)
        return SLIMY_ENOMEM;
    job->payload = df; /* freed with the job, whatever happens next */
    job->payload_free = deferred_free;
    int rc = interaction_parse(entry->body, entry->body_len, &df->interaction);
    if (rc)
        return rc;
    const struct interaction *it = &df->interaction;
    const struct command *top = dispatch_find(d->commands, d->n_commands, it->command_name, it->command_type);
    const struct command *leaf = top ? resolve_leaf(top, it, df->path, sizeof df->path) : NULL;
    if (!leaf || !(leaf->flags & CMD_DEFERRED) || strcmp(df->path, entry->path) != 0)
        return SLIMY_EINVAL; /* a command this build does not have (a rolling upgrade) */
    df->command = leaf;
    job->expires_at_wall_ms = entry->expires_at_wall_ms;
    return SLIMY_OK;
}

#define REPLY_MARGIN_MS 30000u /* outbound calls end this long before the token, leaving time for the reply */

static void init_ctx(struct dispatch *d, struct cmd_ctx *ctx, const struct command *leaf, const char *path,
                     const struct interaction *it, struct message *reply, char *scope_id)
{
    interaction_scope_id(it, scope_id);
    *ctx = (struct cmd_ctx){.interaction = it,
                            .scope_id = scope_id,
                            .command = leaf,
                            .path = path,
                            .services = &d->services,
                            .reply = reply};
}

static void drop_result(struct cmd_ctx *ctx)
{
    if (ctx->result && ctx->result_free)
        ctx->result_free(ctx->result);
    ctx->result = NULL;
    ctx->result_free = NULL;
}

/* Records the run and makes sure the reply says something useful. */
static void after_run(struct dispatch *d, struct cmd_ctx *ctx, enum slimy_status rc, uint64_t elapsed_ms)
{
    const struct interaction *it = ctx->interaction;
    command_stats_record(d->stats, ctx->path, rc == SLIMY_OK, elapsed_ms);
    if (rc) {
        log_warn("command failed", LOG_S("interaction_id", it->id), LOG_S("command", ctx->path),
                 LOG_S("status", slimy_strerror(rc)), LOG_I("latency_ms", elapsed_ms));
        if (message_is_empty(ctx->reply))
            message_set_text(ctx->reply, "%s", failure_text(rc));
    } else {
        log_debug("command done", LOG_S("interaction_id", it->id), LOG_S("command", ctx->path),
                  LOG_I("latency_ms", elapsed_ms));
    }
    if (ctx->command->flags & CMD_EPHEMERAL)
        ctx->reply->flags |= MESSAGE_FLAG_EPHEMERAL;
    if (ctx->state && ctx->state_free)
        ctx->state_free(ctx->state);
    free(ctx->state);
    ctx->state = NULL;
    ctx->state_free = NULL;
    drop_result(ctx);
}

/* CMD_NEEDS_CONSENT: SLIMY_OK when the user allowed memory in this scope; otherwise the
 * reply already says why and the status is returned. */
static int check_consent(struct dispatch *d, const struct cmd_ctx *ctx)
{
    bool allowed = false;
    int rc = store_consent_get(d->services.store, ctx->interaction->user_id, ctx->scope_id, &allowed);
    if (rc) {
        message_set_text(ctx->reply, "%s", failure_text(rc));
        return rc;
    }
    if (!allowed) {
        message_set_text(ctx->reply, "❌ Memory consent required.\n\nEnable it with `/consent set allow:true`.");
        ctx->reply->flags |= MESSAGE_FLAG_EPHEMERAL;
        return SLIMY_EPERM;
    }
    return SLIMY_OK;
}

/* Command usage feeds /stats and /leaderboard; losing a row is not worth failing a command. */
static void record_usage(struct dispatch *d, const struct cmd_ctx *ctx, bool ok, uint64_t elapsed_ms)
{
    store_command_usage_add(d->services.store, ctx->interaction->user_id, ctx->scope_id, ctx->path, ok,
                            (int64_t)elapsed_ms);
}

static void on_delivered(const struct discord_delivery_result *result, void *arg)
{
    (void)result; /* the delivery logged its own outcome */
    struct job *job = arg;
    jobs_finish(job->owner, job);
}

/* ---- deferred runs ---- */

/* One deferred run: from the first worker call until the reply is handed to the sink. A run
 * that awaits a result parks here and comes back through jobs_resume().
 *
 * An await has two parties, the step that started it and the callback bringing the result, in
 * either order: each adds one to `arrivals`, and the second to arrive sends the run on (the
 * worker runs the next step at once; the callback queues the job). So the next step never
 * starts while the one before is still returning. */
struct run {
    struct dispatch *d;
    struct job *job;
    struct cmd_ctx ctx; /* handlers see only this; the await calls find the run from it */
    struct message reply;
    char scope_id[INTERACTION_SCOPE_MAX];
    bool is_awaiting;     /* the step being run started an await */
    atomic_uint arrivals; /* of the step's return and the result, for the current await */
    uint64_t started_mono_ms;
};

static struct run *run_of(struct cmd_ctx *ctx)
{
    return (struct run *)((char *)ctx - offsetof(struct run, ctx));
}

enum slimy_status cmd_await(struct cmd_ctx *ctx, cmd_run_fn next)
{
    if (!(ctx->command->flags & CMD_DEFERRED)) {
        log_error("an immediate command tried to await", LOG_S("command", ctx->path));
        return SLIMY_EINTERNAL; /* it answers on the request thread: there is nothing to come back to */
    }
    struct run *run = run_of(ctx);
    drop_result(ctx); /* the step's own result; the await's may arrive before the step returns */
    ctx->next = next;
    run->is_awaiting = true;
    atomic_store(&run->arrivals, 0);
    return SLIMY_OK;
}

void cmd_await_cancel(struct cmd_ctx *ctx)
{
    run_of(ctx)->is_awaiting = false;
    ctx->next = NULL;
}

void cmd_resume(struct cmd_ctx *ctx, void *result, cmd_free_fn result_free)
{
    struct run *run = run_of(ctx);
    ctx->result = result;
    ctx->result_free = result_free;
    if (atomic_fetch_add(&run->arrivals, 1) == 1)
        jobs_resume(run->job->owner, run->job);
}

/* The step has returned SLIMY_OK after starting an await: true when the result is already in
 * and the next step should run now, false when the callback will resume the job. */
static bool step_returned_awaiting(struct run *run)
{
    run->is_awaiting = false;
    return atomic_fetch_add(&run->arrivals, 1) == 1;
}

/* Runs steps until one finishes the run (a status) or parks it (-1). */
static int run_steps(struct run *run, cmd_run_fn step)
{
    for (;;) {
        enum slimy_status rc = step(&run->ctx);
        if (!run->is_awaiting)
            return rc;
        if (rc != SLIMY_OK) /* a bug; the result still comes, so the run goes on with it */
            log_error("command step failed after starting an await", LOG_S("command", run->ctx.path),
                      LOG_S("status", slimy_strerror(rc)));
        if (!step_returned_awaiting(run))
            return -1;
        step = run->ctx.next;
    }
}

static void finish_run(struct run *run, enum slimy_status rc)
{
    struct dispatch *d = run->d;
    struct job *job = run->job;
    const struct deferred *df = job->payload;
    const struct interaction *it = &df->interaction;
    uint64_t elapsed = clock_mono_ms() - run->started_mono_ms;
    after_run(d, &run->ctx, rc, elapsed);
    record_usage(d, &run->ctx, rc == SLIMY_OK, elapsed);
    struct discord_delivery where = {
        .application_id = it->application_id[0] ? it->application_id : d->cfg->application_id,
        .token = it->token,
        .interaction_id = it->id,
        .expires_at_wall_ms = job->expires_at_wall_ms,
        .ephemeral = (df->command->flags & CMD_EPHEMERAL) != 0,
    };
    job->run_state = NULL;
    int drc = d->sink.deliver(d->sink.self, &where, &run->reply, on_delivered, job);
    if (drc) {
        log_error("could not start reply delivery", LOG_S("interaction_id", it->id), LOG_S("command", df->path),
                  LOG_S("status", slimy_strerror(drc)));
        jobs_finish(job->owner, job);
    }
    message_cleanup(&run->reply);
    free(run);
}

/* Worker thread: run (or resume) a deferred command, then send its reply through the webhook. */
static void run_job(struct jobs *jobs, struct job *job, void *arg)
{
    struct dispatch *d = arg;
    struct run *run = job->run_state;
    int rc;
    if (run) {
        rc = run_steps(run, run->ctx.next);
    } else {
        const struct deferred *df = job->payload;
        const struct interaction *it = &df->interaction;
        uint64_t now_wall = clock_wall_ms();
        if (now_wall >= job->expires_at_wall_ms) {
            log_warn("job expired before it ran", LOG_S("interaction_id", it->id), LOG_S("command", df->path));
            jobs_finish(jobs, job);
            return;
        }
        if (!(run = calloc(1, sizeof *run))) {
            log_error("out of memory starting a job", LOG_S("interaction_id", it->id));
            jobs_finish(jobs, job);
            return;
        }
        run->d = d;
        run->job = job;
        run->started_mono_ms = clock_mono_ms();
        message_init(&run->reply);
        init_ctx(d, &run->ctx, df->command, df->path, it, &run->reply, run->scope_id);
        uint64_t left = job->expires_at_wall_ms - now_wall;
        run->ctx.deadline_mono_ms = run->started_mono_ms + (left > REPLY_MARGIN_MS ? left - REPLY_MARGIN_MS : 0);
        job->run_state = run;
        rc = (df->command->flags & CMD_NEEDS_CONSENT) ? check_consent(d, &run->ctx) : SLIMY_OK;
        if (!rc)
            rc = run_steps(run, df->command->run);
    }
    if (rc >= 0)
        finish_run(run, (enum slimy_status)rc);
}

/* ---- the request path ---- */

/* Runs an immediate command on the request thread and answers type 4. */
static void run_immediate(struct dispatch *d, const struct command *leaf, const char *path,
                          const struct interaction *it, struct dispatch_reply *out)
{
    struct message reply;
    struct cmd_ctx ctx;
    char scope_id[INTERACTION_SCOPE_MAX];
    message_init(&reply);
    init_ctx(d, &ctx, leaf, path, it, &reply, scope_id);
    uint64_t started = clock_mono_ms();
    enum slimy_status rc = leaf->run(&ctx);
    after_run(d, &ctx, rc, clock_mono_ms() - started);
    if (message_is_empty(&reply))
        message_set_text(&reply, "✅ Done."); /* Discord rejects an empty message */
    reply_json(out, 200, response_message_json(&reply));
    message_cleanup(&reply);
}

/* An application command between its checks and its answer: waiting for its admission. */
struct dispatch_wait {
    struct dispatch *d;
    struct interaction it; /* owned: the parsed request */
    const struct command *leaf;
    char path[COMMAND_PATH_MAX];
    struct kv_job job;             /* points into it, path and the request body */
    struct kv_admission admission; /* the same */
    int status;                    /* of the admission */
    struct kv_admit_result result;
    dispatch_resume_fn resume;
    void *resume_arg;
};

/* The checks that need no shared state; then either the answer (NULL returned) or a wait that
 * takes over *it. */
static struct dispatch_wait *handle_command(struct dispatch *d, struct interaction *it, int64_t signed_at_s,
                                            const char *body, size_t len, struct dispatch_reply *out)
{
    const struct command *top = dispatch_find(d->commands, d->n_commands, it->command_name, it->command_type);
    char path[COMMAND_PATH_MAX];
    const struct command *leaf = top ? resolve_leaf(top, it, path, sizeof path) : NULL;
    if (!leaf) {
        log_info("unknown command", LOG_S("interaction_id", it->id), LOG_S("command", it->command_name));
        reply_ephemeral(out, "❌ Unknown command. It may have been removed; try `/` to see what I can do.");
        return NULL;
    }
    bool needs_perms = (leaf->flags & (CMD_NEEDS_ADMIN | CMD_NEEDS_MANAGE_GUILD)) != 0;
    if ((leaf->flags & CMD_GUILD_ONLY || needs_perms) && !it->guild_id) {
        reply_ephemeral(out, "🏠 `/%s` only works in a server, not in DMs.", path);
        return NULL;
    }
    /* Discord's default_member_permissions only hides a command, and server admins can change
     * it, so the permission is checked here again from member.permissions. */
    uint64_t perms = it->member_permissions;
    if ((leaf->flags & CMD_NEEDS_ADMIN) && !(perms & PERMISSION_ADMINISTRATOR)) {
        reply_ephemeral(out, "❌ This command requires Administrator permissions.");
        return NULL;
    }
    if ((leaf->flags & CMD_NEEDS_MANAGE_GUILD) && !(perms & (PERMISSION_ADMINISTRATOR | PERMISSION_MANAGE_GUILD))) {
        reply_ephemeral(out, "❌ This command requires the Manage Server permission.");
        return NULL;
    }
    if ((leaf->flags & CMD_NEEDS_AI) && !d->services.ai) {
        reply_ephemeral(out,
                        "🤖 AI is not configured on this server, so `/%s` is unavailable. "
                        "An admin can set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model).",
                        path);
        return NULL;
    }
    bool is_deferred = (leaf->flags & CMD_DEFERRED) != 0;
    if (is_deferred && atomic_load(&d->is_draining)) {
        reply_ephemeral(out, "🔄 I'm restarting. Please try again in a few seconds.");
        return NULL;
    }
    /* An immediate command without a cooldown is pure and answered in this very response, so
     * it needs no admission: a duplicate just gets the same answer again. */
    if (!is_deferred && leaf->cooldown_ms == 0) {
        run_immediate(d, leaf, path, it, out);
        return NULL;
    }
    struct dispatch_wait *w = calloc(1, sizeof *w);
    if (!w) {
        reply_error(out, 500, "out of memory");
        return NULL;
    }
    w->d = d;
    w->it = *it; /* the wait takes the parsed tree */
    memset(it, 0, sizeof *it);
    w->leaf = leaf;
    snprintf(w->path, sizeof w->path, "%s", path);
    w->job = (struct kv_job){.interaction_id = w->it.id,
                             .path = w->path,
                             .body = body,
                             .body_len = len,
                             .expires_at_wall_ms = (uint64_t)signed_at_s * 1000u + INTERACTION_TOKEN_LIFETIME_MS};
    w->admission = (struct kv_admission){.interaction_id = w->it.id,
                                         .user_id = w->it.user_id,
                                         .command_path = w->path,
                                         .cooldown_ms = leaf->cooldown_ms,
                                         .job = is_deferred ? &w->job : NULL};
    return w;
}

void dispatch_wait_finish(struct dispatch_wait *w, struct dispatch_reply *out)
{
    struct dispatch *d = w->d;
    const struct interaction *it = &w->it;
    const struct command *leaf = w->leaf;
    const char *path = w->path;
    bool is_deferred = (leaf->flags & CMD_DEFERRED) != 0;
    if (w->status) {
        log_error("interaction not admitted", LOG_S("interaction_id", it->id), LOG_S("command", path),
                  LOG_S("status", slimy_strerror(w->status)));
        reply_ephemeral(out, "%s", BUSY_TEXT);
        goto out;
    }
    switch (w->result.verdict) {
    case KV_DUPLICATE:
        /* Accepted before, here or on another replica: the same answer as then, and the job
         * (which kv did not queue again) runs nothing again. An immediate handler is pure. */
        log_info("duplicate interaction: already accepted, not run again", LOG_S("interaction_id", it->id),
                 LOG_S("command", path));
        /* fall through */
    case KV_ADMITTED:
        if (is_deferred)
            reply_json(out, 200, response_deferred_json((leaf->flags & CMD_EPHEMERAL) != 0));
        else
            run_immediate(d, leaf, path, it, out);
        break;
    case KV_COOLING_DOWN: {
        /* Round up to a tenth so "0.0s" is never shown while still limited. */
        uint64_t tenths = (w->result.cooldown_remaining_ms + 99) / 100;
        reply_ephemeral(out, "⏳ Slow down! Please wait %llu.%llus before using `/%s` again.",
                        (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10), path);
        break;
    }
    case KV_QUEUE_FULL:
        log_warn("job refused: the queue is full", LOG_S("interaction_id", it->id), LOG_S("command", path));
        reply_ephemeral(out, "%s", BUSY_TEXT);
        break;
    }
out:
    interaction_free(&w->it);
    free(w);
}

/* Admits w now (the in-process backend, or a caller that may wait) and answers. */
static void finish_now(struct dispatch_wait *w, struct dispatch_reply *out)
{
    w->status = kv_admit(w->d->kv, &w->admission, &w->result);
    dispatch_wait_finish(w, out);
}

static void on_admitted(int status, const struct kv_admit_result *result, void *arg)
{
    struct dispatch_wait *w = arg;
    w->status = status;
    if (result)
        w->result = *result;
    w->resume(w->resume_arg);
}

void dispatch_wait_run(struct dispatch_wait *w, dispatch_resume_fn resume, void *arg)
{
    w->resume = resume;
    w->resume_arg = arg;
    kv_admit_async(w->d->kv, &w->admission, on_admitted, w);
}

struct dispatch_wait *dispatch_interaction_start(struct dispatch *d, const char *signature, const char *timestamp,
                                                 const char *body, size_t len, struct dispatch_reply *out)
{
    struct dispatch_wait *w = NULL;
    int64_t signed_at_s = 0;
    enum verify_result v = verify_request(d->cfg->public_key, signature, timestamp, body, len, clock_wall_ms() / 1000u,
                                          d->cfg->signature_max_age_s, &signed_at_s);
    if (v != VERIFY_OK) {
        log_debug("signature rejected", LOG_S("reason", verify_result_name(v)));
        reply_error(out, 401, "invalid request signature");
        return NULL;
    }
    struct interaction it;
    int rc = interaction_parse(body, len, &it);
    if (rc) {
        reply_error(out, rc == SLIMY_ENOMEM ? 500 : 400,
                    rc == SLIMY_ENOMEM ? "out of memory" : "body must be a JSON object with an integer type");
        return NULL;
    }
    switch (it.type) {
    case INTERACTION_PING: reply_json(out, 200, strdup(RESPONSE_PONG_JSON)); break;
    case INTERACTION_APPLICATION_COMMAND:
        w = handle_command(d, &it, signed_at_s, body, len, out);
        /* In memory the answer is at hand: no need to make the caller wait for it. */
        if (w && kv_state(d->kv) != KV_STATE_SHARED) {
            finish_now(w, out);
            w = NULL;
        }
        break;
    case INTERACTION_AUTOCOMPLETE: reply_json(out, 200, strdup("{\"type\":8,\"data\":{\"choices\":[]}}")); break;
    default:
        /* Slimy sends no buttons or modals yet, so any component is from an old message. */
        reply_ephemeral(out, "❌ This button or form is no longer active.");
        break;
    }
    interaction_free(&it);
    return w;
}

void dispatch_interaction(struct dispatch *d, const char *signature, const char *timestamp, const char *body,
                          size_t len, struct dispatch_reply *out)
{
    struct dispatch_wait *w = dispatch_interaction_start(d, signature, timestamp, body, len, out);
    if (w)
        finish_now(w, out);
}
