/* dispatch_run.c — running handlers for the dispatcher (dispatch_internal.h): the context a
 * handler sees, the failure words it did not write, consent, usage records; and deferred runs on
 * workers: steps, awaits (cmd_await/cmd_resume), and handing the reply to the reply sink. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "interactions/component.h"
#include "interactions/dispatch_internal.h"
#include "interactions/response.h"
#include "jobs/job_stream.h"
#include "store/store.h"

/* Finds a top-level command by name and type (1 chat input, 2 user, 3 message). */
static const struct command *find_command(const struct command *const *commands, size_t n, const char *name, int type)
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

/* ---- routing ---- */

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

/* The component leaf a custom_id names: "dream:reroll:..." runs the component "reroll" of the
 * top-level command "dream", path "dream:reroll". */
static const struct command *resolve_component(const struct command *const *commands, size_t n, const char *custom_id,
                                               char *path, size_t path_len)
{
    char name[COMMAND_PATH_MAX], action[COMMAND_PATH_MAX];
    if (!custom_id || !component_id_field(custom_id, 0, name, sizeof name) ||
        !component_id_field(custom_id, 1, action, sizeof action))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(commands[i]->name, name) != 0)
            continue;
        for (size_t k = 0; k < commands[i]->n_components; k++) {
            const struct command *leaf = &commands[i]->components[k];
            if (strcmp(leaf->name, action) == 0 && leaf->run) {
                snprintf(path, path_len, "%s:%s", name, action);
                return leaf;
            }
        }
    }
    return NULL;
}

const struct command *dispatch_resolve(const struct dispatch *d, const struct interaction *it, char *path,
                                       size_t path_len)
{
    if (it->type == INTERACTION_MESSAGE_COMPONENT)
        return resolve_component(d->commands, d->n_commands, it->custom_id, path, path_len);
    const struct command *top = find_command(d->commands, d->n_commands, it->command_name, it->command_type);
    return top ? resolve_leaf(top, it, path, path_len) : NULL;
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
int dispatch_decode_job(const struct kv_entry *entry, struct job *job, void *arg)
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
    const struct command *leaf = dispatch_resolve(d, &df->interaction, df->path, sizeof df->path);
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

/* Frees the handler's state (cmd_state_new). A check or an autocomplete keeps none, but one that
 * made some must not leak it. */
static void drop_state(struct cmd_ctx *ctx)
{
    if (ctx->state && ctx->state_free)
        ctx->state_free(ctx->state);
    free(ctx->state);
    ctx->state = NULL;
    ctx->state_free = NULL;
}

/* Records the run and makes sure the reply says something useful. */
static void after_run(struct dispatch *d, struct cmd_ctx *ctx, enum slimy_status rc, uint64_t elapsed_ms)
{
    const struct interaction *it = ctx->interaction;
    command_stats_record(d->stats, ctx->path, rc == SLIMY_OK, elapsed_ms);
    metrics_command_done(ctx->path, rc, elapsed_ms * 1000u);
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
    drop_state(ctx);
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
    struct job *job = arg; /* the delivery logged its own outcome */
    if (result->status)
        metrics_job_dropped(METRICS_DROP_DELIVERY_FAILED);
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

/* Where a job's replies go: its interaction's webhook. */
static struct discord_delivery delivery_of(const struct job *job)
{
    const struct deferred *df = job->payload;
    const struct interaction *it = &df->interaction;
    return (struct discord_delivery){
        /* The body's own id, never chosen over ours: the REST client uses DISCORD_APPLICATION_ID
         * when it is set and refuses a body naming another application (discord_rest.h). */
        .application_id = it->application_id,
        .token = it->token,
        .interaction_id = it->id,
        .expires_at_wall_ms = job->expires_at_wall_ms,
        .ephemeral = (df->command->flags & CMD_EPHEMERAL) != 0,
    };
}

int cmd_edit_original(struct cmd_ctx *ctx, struct message *msg, discord_delivered_fn done, void *arg)
{
    if (!(ctx->command->flags & CMD_DEFERRED))
        return SLIMY_EINTERNAL; /* an immediate answer is the HTTP response itself */
    struct run *run = run_of(ctx);
    struct discord_delivery where = delivery_of(run->job);
    if (ctx->command->flags & CMD_EPHEMERAL)
        msg->flags |= MESSAGE_FLAG_EPHEMERAL;
    return run->d->sink.deliver(run->d->sink.self, &where, msg, done, arg);
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
    struct discord_delivery where = delivery_of(job);
    job->run_state = NULL;
    int drc = d->sink.deliver(d->sink.self, &where, &run->reply, on_delivered, job);
    if (drc) {
        log_error("could not start reply delivery", LOG_S("interaction_id", it->id), LOG_S("command", df->path),
                  LOG_S("status", slimy_strerror(drc)));
        metrics_job_dropped(METRICS_DROP_DELIVERY_FAILED);
        jobs_finish(job->owner, job);
    }
    message_cleanup(&run->reply);
    free(run);
}

/* Worker thread: run (or resume) a deferred command, then send its reply through the webhook. */
void dispatch_run_job(struct jobs *jobs, struct job *job, void *arg)
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
            metrics_job_dropped(METRICS_DROP_EXPIRED);
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

/* ---- immediate runs ---- */

void dispatch_run_now(struct dispatch *d, const struct command *leaf, const char *path, const struct interaction *it,
                      struct message *reply)
{
    struct cmd_ctx ctx;
    char scope_id[INTERACTION_SCOPE_MAX];
    init_ctx(d, &ctx, leaf, path, it, reply, scope_id);
    uint64_t started = clock_mono_ms();
    enum slimy_status rc = leaf->run(&ctx);
    after_run(d, &ctx, rc, clock_mono_ms() - started);
}

enum slimy_status dispatch_run_check(struct dispatch *d, const struct command *leaf, const char *path,
                                     const struct interaction *it, struct message *reply)
{
    struct cmd_ctx ctx;
    char scope_id[INTERACTION_SCOPE_MAX];
    init_ctx(d, &ctx, leaf, path, it, reply, scope_id);
    enum slimy_status rc = leaf->check(&ctx);
    drop_state(&ctx);
    return rc;
}

/* ---- autocomplete ---- */

char *dispatch_suggest(struct dispatch *d, const struct command *leaf, const char *path, const struct interaction *it)
{
    struct message unused;
    message_init(&unused);
    struct cmd_ctx ctx;
    char scope_id[INTERACTION_SCOPE_MAX];
    init_ctx(d, &ctx, leaf, path, it, &unused, scope_id);
    ctx.suggestions = cJSON_CreateArray();
    if (ctx.suggestions) {
        enum slimy_status rc = leaf->autocomplete ? leaf->autocomplete(&ctx) : cmd_suggest_declared(&ctx);
        if (rc) /* whatever was added still goes out: a partial list beats none */
            log_info("autocomplete failed", LOG_S("interaction_id", it->id), LOG_S("command", path),
                     LOG_S("status", slimy_strerror(rc)));
    }
    char *json = response_suggestions_json(ctx.suggestions);
    cJSON_Delete(ctx.suggestions);
    drop_state(&ctx);
    message_cleanup(&unused);
    return json;
}
