/* dispatch.c — routes verified interactions to command handlers; see dispatch.h.
 * Order matters: verify before parsing (the signature covers the raw bytes), and check the
 * cooldown before anything is queued so a limited user costs us nothing but a reply. */
#include "interactions/dispatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"
#include "interactions/response.h"
#include "interactions/verify.h"
#include "kv/cooldown.h"
#include "store/store.h"

struct dispatch {
    const struct slimy_config *cfg;
    const struct command *const *commands;
    size_t n_commands;
    struct discord_rest *rest;
    struct cooldowns *cooldowns;
    struct command_stats *stats;
    struct jobs *jobs;
    struct cmd_services services;
};

static void run_job(struct jobs *jobs, struct job *job, void *arg);

/* ---- lifecycle ---- */

int dispatch_new(const struct slimy_config *cfg, const struct command *const *commands, size_t n_commands,
                 struct discord_rest *rest, struct store *store, struct dispatch **out)
{
    struct dispatch *d = calloc(1, sizeof *d);
    if (!d)
        return SLIMY_ENOMEM;
    d->cfg = cfg;
    d->commands = commands;
    d->n_commands = n_commands;
    d->rest = rest;
    int rc = cooldowns_new(&d->cooldowns);
    if (!rc)
        rc = command_stats_new(&d->stats);
    if (!rc)
        rc = jobs_new(cfg->worker_threads, cfg->job_queue_max, run_job, d, &d->jobs);
    if (rc) {
        dispatch_free(d);
        return rc;
    }
    d->services = (struct cmd_services){
        .store = store,
        .jobs = d->jobs, .stats = d->stats, .config = cfg, .started_at_ms = clock_wall_ms()};
    *out = d;
    return SLIMY_OK;
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    jobs_free(d->jobs);
    command_stats_free(d->stats);
    cooldowns_free(d->cooldowns);
    free(d);
}

bool dispatch_drain(struct dispatch *d, uint64_t deadline_mono_ms)
{
    return jobs_drain(d->jobs, deadline_mono_ms);
}

size_t dispatch_jobs_queued(struct dispatch *d)
{
    return jobs_queued(d->jobs);
}

size_t dispatch_jobs_in_flight(struct dispatch *d)
{
    return jobs_in_flight(d->jobs);
}

const struct command *dispatch_find(const struct command *const *commands, size_t n, const char *name, int type)
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

/* Runs the handler and makes sure the reply says something useful. Returns the status. */
static int run_handler(struct dispatch *d, const struct command *leaf, const char *path,
                       const struct interaction *it, struct message *reply)
{
    char scope_id[INTERACTION_SCOPE_MAX];
    interaction_scope_id(it, scope_id);
    struct cmd_ctx ctx = {.interaction = it,
                          .scope_id = scope_id,
                          .command = leaf,
                          .path = path,
                          .services = &d->services,
                          .reply = reply};
    uint64_t started = clock_mono_ms();
    int rc = leaf->run(&ctx);
    uint64_t elapsed = clock_mono_ms() - started;
    command_stats_record(d->stats, path, rc == SLIMY_OK, elapsed);
    if (rc) {
        log_warn("command failed", LOG_S("interaction_id", it->id), LOG_S("command", path),
                 LOG_S("status", slimy_strerror(rc)), LOG_I("latency_ms", elapsed));
        if (reply->content.len == 0)
            message_set_text(reply, "%s", failure_text(rc));
    } else {
        log_debug("command done", LOG_S("interaction_id", it->id), LOG_S("command", path),
                  LOG_I("latency_ms", elapsed));
    }
    if (leaf->flags & CMD_EPHEMERAL)
        reply->flags |= MESSAGE_FLAG_EPHEMERAL;
    return rc;
}

/* CMD_NEEDS_CONSENT: SLIMY_OK when the user allowed memory in this scope; otherwise the
 * reply already says why and the status is returned. */
static int check_consent(struct dispatch *d, const struct interaction *it, struct message *reply)
{
    char scope_id[INTERACTION_SCOPE_MAX];
    interaction_scope_id(it, scope_id);
    bool allowed = false;
    int rc = d->services.store ? store_consent_get(d->services.store, it->user_id, scope_id, &allowed)
                               : SLIMY_EUNAVAILABLE;
    if (rc) {
        message_set_text(reply, "%s", failure_text(rc));
        return rc;
    }
    if (!allowed) {
        message_set_text(reply, "❌ Memory consent required.\n\nEnable it with `/consent set allow:true`.");
        reply->flags |= MESSAGE_FLAG_EPHEMERAL;
        return SLIMY_EPERM;
    }
    return SLIMY_OK;
}

/* Command usage feeds /stats and /leaderboard; losing a row is not worth failing a command. */
static void record_usage(struct dispatch *d, const struct interaction *it, const char *path, bool ok,
                         uint64_t elapsed_ms)
{
    if (!d->services.store)
        return;
    char scope_id[INTERACTION_SCOPE_MAX];
    interaction_scope_id(it, scope_id);
    store_command_usage_add(d->services.store, it->user_id, scope_id, path, ok, (int64_t)elapsed_ms);
}

static void on_delivered(const struct discord_delivery_result *result, void *arg)
{
    (void)result; /* the delivery logged its own outcome */
    struct job *job = arg;
    jobs_finish(job->owner, job);
}

/* Worker thread: run a deferred command and send its reply through the webhook. */
static void run_job(struct jobs *jobs, struct job *job, void *arg)
{
    struct dispatch *d = arg;
    const struct interaction *it = &job->interaction;
    if (clock_wall_ms() >= job->expires_at_wall_ms) {
        log_warn("job expired before it ran", LOG_S("interaction_id", it->id), LOG_S("command", job->path));
        jobs_finish(jobs, job);
        return;
    }
    struct message reply;
    message_init(&reply);
    uint64_t started = clock_mono_ms();
    int rc = SLIMY_OK;
    if (job->command->flags & CMD_NEEDS_CONSENT)
        rc = check_consent(d, it, &reply);
    if (!rc)
        rc = run_handler(d, job->command, job->path, it, &reply);
    record_usage(d, it, job->path, rc == SLIMY_OK, clock_mono_ms() - started);
    struct discord_delivery where = {
        .application_id = it->application_id[0] ? it->application_id : d->cfg->application_id,
        .token = it->token,
        .interaction_id = it->id,
        .expires_at_wall_ms = job->expires_at_wall_ms,
        .ephemeral = (job->command->flags & CMD_EPHEMERAL) != 0,
    };
    rc = discord_reply_deliver(d->rest, &where, &reply, on_delivered, job);
    if (rc) {
        log_error("could not start reply delivery", LOG_S("interaction_id", it->id), LOG_S("command", job->path),
                  LOG_S("status", slimy_strerror(rc)));
        jobs_finish(jobs, job);
    }
    message_cleanup(&reply);
}

/* ---- the request path ---- */

static void handle_command(struct dispatch *d, struct interaction *it, int64_t signed_at_s,
                           struct dispatch_reply *out)
{
    const struct command *top = dispatch_find(d->commands, d->n_commands, it->command_name, it->command_type);
    char path[COMMAND_PATH_MAX];
    const struct command *leaf = top ? resolve_leaf(top, it, path, sizeof path) : NULL;
    if (!leaf) {
        log_info("unknown command", LOG_S("interaction_id", it->id), LOG_S("command", it->command_name));
        reply_ephemeral(out, "❌ Unknown command. It may have been removed; try `/` to see what I can do.");
        return;
    }
    bool needs_perms = (leaf->flags & (CMD_NEEDS_ADMIN | CMD_NEEDS_MANAGE_GUILD)) != 0;
    if ((leaf->flags & CMD_GUILD_ONLY || needs_perms) && !it->guild_id) {
        reply_ephemeral(out, "🏠 `/%s` only works in a server, not in DMs.", path);
        return;
    }
    /* Discord's default_member_permissions only hides a command, and server admins can change
     * it, so the permission is checked here again from member.permissions. */
    uint64_t perms = it->member_permissions;
    if ((leaf->flags & CMD_NEEDS_ADMIN) && !(perms & PERMISSION_ADMINISTRATOR)) {
        reply_ephemeral(out, "❌ This command requires Administrator permissions.");
        return;
    }
    if ((leaf->flags & CMD_NEEDS_MANAGE_GUILD) && !(perms & (PERMISSION_ADMINISTRATOR | PERMISSION_MANAGE_GUILD))) {
        reply_ephemeral(out, "❌ This command requires the Manage Server permission.");
        return;
    }
    uint64_t remaining_ms = 0;
    if (cooldown_check(d->cooldowns, it->user_id, path, leaf->cooldown_ms, clock_mono_ms(), &remaining_ms) ==
        SLIMY_ELIMITED) {
        /* Round up to a tenth so "0.0s" is never shown while still limited. */
        uint64_t tenths = (remaining_ms + 99) / 100;
        reply_ephemeral(out, "⏳ Slow down! Please wait %llu.%llus before using `/%s` again.",
                        (unsigned long long)(tenths / 10), (unsigned long long)(tenths % 10), path);
        return;
    }

    if (!(leaf->flags & CMD_DEFERRED)) {
        struct message reply;
        message_init(&reply);
        run_handler(d, leaf, path, it, &reply);
        if (message_is_empty(&reply))
            message_set_text(&reply, "✅ Done."); /* Discord rejects an empty message */
        reply_json(out, 200, response_message_json(&reply));
        message_cleanup(&reply);
        return;
    }

    struct job *job = job_new();
    if (!job) {
        reply_error(out, 500, "out of memory");
        return;
    }
    job->interaction = *it; /* the job takes the parsed tree */
    memset(it, 0, sizeof *it);
    job->command = leaf;
    snprintf(job->path, sizeof job->path, "%s", path);
    job->expires_at_wall_ms = (uint64_t)signed_at_s * 1000u + INTERACTION_TOKEN_LIFETIME_MS;
    int rc = jobs_submit(d->jobs, job);
    if (rc) {
        log_warn("job refused", LOG_S("interaction_id", job->interaction.id), LOG_S("command", path),
                 LOG_S("status", slimy_strerror(rc)));
        job_free(job);
        reply_ephemeral(out, rc == SLIMY_ELIMITED
                                 ? "😵 I'm very busy right now. Please try again in a minute."
                                 : "🔄 I'm restarting. Please try again in a few seconds.");
        return;
    }
    reply_json(out, 200, response_deferred_json((leaf->flags & CMD_EPHEMERAL) != 0));
}

void dispatch_interaction(struct dispatch *d, const char *signature, const char *timestamp, const char *body,
                          size_t len, struct dispatch_reply *out)
{
    int64_t signed_at_s = 0;
    enum verify_result v = verify_request(d->cfg->public_key, signature, timestamp, body, len,
                                          clock_wall_ms() / 1000u, d->cfg->signature_max_age_s, &signed_at_s);
    if (v != VERIFY_OK) {
        log_debug("signature rejected", LOG_S("reason", verify_result_name(v)));
        reply_error(out, 401, "invalid request signature");
        return;
    }
    struct interaction it;
    int rc = interaction_parse(body, len, &it);
    if (rc) {
        reply_error(out, rc == SLIMY_ENOMEM ? 500 : 400,
                    rc == SLIMY_ENOMEM ? "out of memory" : "body must be a JSON object with an integer type");
        return;
    }
    switch (it.type) {
    case INTERACTION_PING:
        reply_json(out, 200, strdup(RESPONSE_PONG_JSON));
        break;
    case INTERACTION_APPLICATION_COMMAND:
        handle_command(d, &it, signed_at_s, out);
        break;
    case INTERACTION_AUTOCOMPLETE:
        reply_json(out, 200, strdup("{\"type\":8,\"data\":{\"choices\":[]}}"));
        break;
    default:
        /* Slimy sends no buttons or modals yet, so any component is from an old message. */
        reply_ephemeral(out, "❌ This button or form is no longer active.");
        break;
    }
    interaction_free(&it);
}
