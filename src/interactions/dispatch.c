/* dispatch.c — routes verified interactions to command handlers; see dispatch.h.
 * Order matters: verify before parsing (the signature covers the raw bytes), and admit (dedupe,
 * cooldown, queueing: one kv round trip) before anything runs, so a duplicate or a limited user
 * costs us nothing but a reply. Deferred jobs come back from the job stream on any replica and
 * run in dispatch_run.c. */
#include "interactions/dispatch.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/status.h"
#include "interactions/dispatch_internal.h"
#include "interactions/reply_sink.h"
#include "interactions/response.h"
#include "interactions/verify.h"
#include "jobs/job_stream.h"
#include "kv/kv.h"

#define DEFAULT_CLAIM_IDLE_MS 15000 /* JOB_CLAIM_IDLE_MS's default, for a config not read by config_load */
#define BUSY_TEXT "😵 I'm very busy right now. Please try again in a minute."

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

/* Makes c (and the leaves under it) known to the metrics, so each shows 0 before its first run. */
static void register_leaves(const struct command *c, const char *prefix)
{
    char path[COMMAND_PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? " " : "", c->name);
    if (c->run)
        metrics_command_register(path);
    for (size_t i = 0; i < c->n_subcommands; i++)
        register_leaves(&c->subcommands[i], path);
    for (size_t i = 0; i < c->n_components; i++) {
        snprintf(path, sizeof path, "%s:%s", c->name, c->components[i].name);
        metrics_command_register(path);
    }
}

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
    for (size_t i = 0; i < n_commands; i++)
        register_leaves(commands[i], "");
    for (int r = VERIFY_MISSING_HEADER; r <= VERIFY_BAD_SIGNATURE; r++)
        metrics_signature_reason((unsigned)r, verify_result_name((enum verify_result)r));
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
        .decode = dispatch_decode_job,
        .tick = flush_stats,
        .arg = d,
    };
    if (!rc)
        rc = command_stats_new(&d->stats);
    if (!rc)
        rc = job_stream_new(d->kv, &stream_cfg, &d->stream);
    if (!rc)
        rc = jobs_new(cfg->worker_threads, cfg->job_queue_max, dispatch_run_job, on_job_finished, d, &d->jobs);
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

/* ---- the request path ---- */

/* Runs an immediate command on the request thread and answers type 4 (7 for a component that
 * updates its message). */
static void run_immediate(struct dispatch *d, const struct command *leaf, const char *path,
                          const struct interaction *it, struct dispatch_reply *out)
{
    struct message reply;
    message_init(&reply);
    dispatch_run_now(d, leaf, path, it, &reply);
    if (message_is_empty(&reply))
        message_set_text(&reply, "✅ Done."); /* Discord rejects an empty message */
    enum response_type type = (leaf->flags & CMD_UPDATE) ? RESPONSE_UPDATE_MESSAGE : RESPONSE_CHANNEL_MESSAGE;
    reply_json(out, 200, response_message_json_typed(&reply, type));
    message_cleanup(&reply);
}

/* A deferred leaf's acknowledgement: "thinking…" (type 5), or type 6 for a component that will
 * edit its own message. */
static char *ack_json(const struct command *leaf)
{
    if (leaf->flags & CMD_UPDATE)
        return response_deferred_update_json();
    return response_deferred_json((leaf->flags & CMD_EPHEMERAL) != 0);
}

static enum metrics_interaction_type kind_of(int type)
{
    switch (type) {
    case INTERACTION_PING: return METRICS_INTERACTION_PING;
    case INTERACTION_APPLICATION_COMMAND: return METRICS_INTERACTION_COMMAND;
    case INTERACTION_AUTOCOMPLETE: return METRICS_INTERACTION_AUTOCOMPLETE;
    case INTERACTION_MESSAGE_COMPONENT: return METRICS_INTERACTION_COMPONENT;
    case INTERACTION_MODAL_SUBMIT: return METRICS_INTERACTION_MODAL;
    default: return METRICS_INTERACTION_UNKNOWN;
    }
}

/* Runs the leaf's check (command.h) on this thread. true when it passed; otherwise the refusal,
 * ephemeral, is in out and nothing was admitted, queued or cooled down. */
static bool passes_check(struct dispatch *d, const struct command *leaf, const char *path, const struct interaction *it,
                         struct dispatch_reply *out)
{
    if (!leaf->check)
        return true;
    struct message reply;
    message_init(&reply);
    enum slimy_status rc = dispatch_run_check(d, leaf, path, it, &reply);
    if (rc == SLIMY_OK) {
        message_cleanup(&reply);
        return true;
    }
    log_info("command refused by its check", LOG_S("interaction_id", it->id), LOG_S("command", path),
             LOG_S("status", slimy_strerror(rc)));
    reply.flags = MESSAGE_FLAG_EPHEMERAL;
    if (message_is_empty(&reply))
        message_set_text(&reply, "❌ I can't run `/%s` with what was given. Please check the options and try again.",
                         path);
    reply_json(out, 200, response_message_json(&reply));
    message_cleanup(&reply);
    return false;
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

/* The leaf's flags that need no shared state: true when it may go on; otherwise the refusal is
 * in out. */
static bool passes_flags(struct dispatch *d, const struct command *leaf, const char *path, const struct interaction *it,
                         struct dispatch_reply *out)
{
    bool needs_perms = (leaf->flags & (CMD_NEEDS_ADMIN | CMD_NEEDS_MANAGE_GUILD)) != 0;
    if ((leaf->flags & CMD_GUILD_ONLY || needs_perms) && !it->guild_id) {
        reply_ephemeral(out, "🏠 `/%s` only works in a server, not in DMs.", path);
        return false;
    }
    if ((leaf->flags & CMD_GUILD_ONLY || needs_perms) && !it->is_guild_install) {
        reply_ephemeral(out, "🏠 `/%s` only works in servers that have added Slimy.", path);
        return false;
    }
    /* Discord's default_member_permissions only hides a command, and server admins can change
     * it, so the permission is checked here again from member.permissions. */
    uint64_t perms = it->member_permissions;
    if ((leaf->flags & CMD_NEEDS_ADMIN) && !(perms & PERMISSION_ADMINISTRATOR)) {
        reply_ephemeral(out, "❌ This command requires Administrator permissions.");
        return false;
    }
    if ((leaf->flags & CMD_NEEDS_MANAGE_GUILD) && !(perms & (PERMISSION_ADMINISTRATOR | PERMISSION_MANAGE_GUILD))) {
        reply_ephemeral(out, "❌ This command requires the Manage Server permission.");
        return false;
    }
    if ((leaf->flags & CMD_NEEDS_AI) && !d->services.ai) {
        reply_ephemeral(out,
                        "🤖 AI is not configured on this server, so `/%s` is unavailable. "
                        "An admin can set OPENAI_API_KEY (or OPENAI_BASE_URL for a local model).",
                        path);
        return false;
    }
    return true;
}

/* The answer to a request naming a leaf this build does not have. */
static void reply_unknown(const struct interaction *it, struct dispatch_reply *out)
{
    if (it->type == INTERACTION_MESSAGE_COMPONENT) {
        /* An old message's button, a command removed since, or a custom_id we never wrote. */
        log_info("unknown component", LOG_S("interaction_id", it->id));
        reply_ephemeral(out, "❌ This button or menu is no longer active.");
        return;
    }
    log_info("unknown command", LOG_S("interaction_id", it->id), LOG_S("command", it->command_name));
    reply_ephemeral(out, "❌ Unknown command. It may have been removed; try `/` to see what I can do.");
}

/* A command or a component press: the checks that need no shared state; then either the answer
 * (NULL returned) or a wait that takes over *it. */
static struct dispatch_wait *handle_run(struct dispatch *d, struct interaction *it, int64_t signed_at_s,
                                        const char *body, size_t len, struct dispatch_reply *out)
{
    char path[COMMAND_PATH_MAX];
    const struct command *leaf = dispatch_resolve(d, it, path, sizeof path);
    if (!leaf) {
        reply_unknown(it, out);
        return NULL;
    }
    if (!passes_flags(d, leaf, path, it, out))
        return NULL;
    /* The command's own check of its input (CPU only): a refusal costs no admission, no cooldown. */
    if (!passes_check(d, leaf, path, it, out))
        return NULL;
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
                                         .command_path = leaf->cooldown_as ? leaf->cooldown_as : w->path,
                                         .cooldown_ms = leaf->cooldown_ms,
                                         .job = is_deferred ? &w->job : NULL};
    return w;
}

/* Autocomplete: the leaf's suggestions, at once (type 8); none for a leaf we do not have. */
static void suggest(struct dispatch *d, const struct interaction *it, struct dispatch_reply *out)
{
    char path[COMMAND_PATH_MAX];
    const struct command *leaf = dispatch_resolve(d, it, path, sizeof path);
    if (!leaf) {
        reply_json(out, 200, response_suggestions_json(NULL));
        return;
    }
    reply_json(out, 200, dispatch_suggest(d, leaf, path, it));
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
        metrics_dedupe_hit();
        /* fall through */
    case KV_ADMITTED:
        if (is_deferred)
            reply_json(out, 200, ack_json(leaf));
        else
            run_immediate(d, leaf, path, it, out);
        break;
    case KV_COOLING_DOWN: {
        /* Round up to a tenth so "0.0s" is never shown while still limited. */
        uint64_t tenths = (w->result.cooldown_remaining_ms + 99) / 100;
        const char *cooled = leaf->cooldown_as ? leaf->cooldown_as : path;
        metrics_cooldown_hit(cooled);
        reply_ephemeral(out, "⏳ Slow down! Please wait %llu.%llus before using `/%s` again.",
                        (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10), cooled);
        break;
    }
    case KV_QUEUE_FULL:
        log_warn("job refused: the queue is full", LOG_S("interaction_id", it->id), LOG_S("command", path));
        metrics_job_dropped(METRICS_DROP_QUEUE_FULL);
        reply_ephemeral(out, "%s", BUSY_TEXT);
        break;
    }
out:
    metrics_interaction(kind_of(it->type), out->http_status);
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
        metrics_signature_failure((unsigned)v, verify_result_name(v));
        reply_error(out, 401, "invalid request signature");
        metrics_interaction(METRICS_INTERACTION_UNKNOWN, out->http_status);
        return NULL;
    }
    struct interaction it;
    int rc = interaction_parse(body, len, &it);
    if (rc) {
        reply_error(out, rc == SLIMY_ENOMEM ? 500 : 400,
                    rc == SLIMY_ENOMEM ? "out of memory" : "body must be a JSON object with an integer type");
        metrics_interaction(METRICS_INTERACTION_UNKNOWN, out->http_status);
        return NULL;
    }
    bool is_counted = false; /* by dispatch_wait_finish, for a request that waits on its admission */
    switch (it.type) {
    case INTERACTION_PING: reply_json(out, 200, strdup(RESPONSE_PONG_JSON)); break;
    case INTERACTION_APPLICATION_COMMAND:
    case INTERACTION_MESSAGE_COMPONENT:
        w = handle_run(d, &it, signed_at_s, body, len, out);
        is_counted = w != NULL;
        /* In memory the answer is at hand: no need to make the caller wait for it. */
        if (w && kv_state(d->kv) != KV_STATE_SHARED) {
            finish_now(w, out);
            w = NULL;
        }
        break;
    case INTERACTION_AUTOCOMPLETE: suggest(d, &it, out); break;
    case INTERACTION_MODAL_SUBMIT:
        /* Slimy opens no forms, so any submission is from something it never sent. */
        reply_ephemeral(out, "❌ This form is no longer active.");
        break;
    default:
        /* Not one of Discord's interaction types: nothing to answer it with. */
        log_debug("unknown interaction type", LOG_I("type", it.type));
        reply_error(out, 400, "unknown interaction type");
        break;
    }
    if (!is_counted)
        metrics_interaction(kind_of(it.type), out->http_status);
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
