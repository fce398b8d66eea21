/* test_dispatch.c — unit tests of src/interactions/dispatch.c: the real dispatcher, driven with
 * signed request bodies and a table of test commands defined here (immediate, subcommands and a
 * group, guild-only, failing, deferred, awaiting, blocking). Nothing reaches the network:
 * deferred replies go to a recording reply sink, and the store is a fresh SQLite file. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <sodium.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/fetch.h"
#include "core/log.h"
#include "core/status.h"
#include "interactions/command.h"
#include "interactions/dispatch.h"
#include "interactions/reply_sink.h"
#include "store/store.h"

#define BODY_MAX 2048
#define TOKEN_LIFETIME_S (15 * 60) /* Discord: an interaction token lasts 15 minutes */
#define COOLDOWN_MS 3000
#define BLOCK_WINDOW_S 3 /* the blocking job's token ends this long after the test starts it */

/* ---- the test commands ---- */

static atomic_int echo_runs, add_runs, neg_runs, color_runs, serverinfo_runs, fail_runs, later_runs;

struct block_state {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int runs;               /* handler starts */
    bool is_released;       /* the test lets the handler return */
    uint64_t expires_at_ms; /* wall clock: the handler returns only after the job's token ended */
};
static struct block_state block = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};

/* Lets the blocking handler return. */
static void release_block(void)
{
    pthread_mutex_lock(&block.lock);
    block.is_released = true;
    pthread_cond_broadcast(&block.changed);
    pthread_mutex_unlock(&block.lock);
}

/* /echo text:<s> — immediate, ephemeral, with a cooldown. */
static enum slimy_status echo_run(struct cmd_ctx *ctx)
{
    echo_runs++;
    const char *text = cmd_opt_string(ctx, "text");
    return cmd_reply(ctx, "echo: %s", text ? text : "(none)");
}

/* /math add a:<int> b:<int> */
static enum slimy_status math_add_run(struct cmd_ctx *ctx)
{
    add_runs++;
    int64_t a = 0, b = 0;
    if (!cmd_opt_int(ctx, "a", &a) || !cmd_opt_int(ctx, "b", &b))
        return cmd_fail(ctx, SLIMY_EINVAL, "missing a or b");
    return cmd_reply(ctx, "%s=%lld", ctx->path, (long long)(a + b));
}

/* /math neg a:<int> */
static enum slimy_status math_neg_run(struct cmd_ctx *ctx)
{
    neg_runs++;
    int64_t a = 0;
    if (!cmd_opt_int(ctx, "a", &a))
        return cmd_fail(ctx, SLIMY_EINVAL, "missing a");
    return cmd_reply(ctx, "%s=%lld", ctx->path, (long long)-a);
}

/* /cfg set color value:<s> — a leaf inside a subcommand group. */
static enum slimy_status cfg_set_color_run(struct cmd_ctx *ctx)
{
    color_runs++;
    const char *value = cmd_opt_string(ctx, "value");
    return cmd_reply(ctx, "%s:%s", ctx->path, value ? value : "(none)");
}

/* /serverinfo — guild only. */
static enum slimy_status serverinfo_run(struct cmd_ctx *ctx)
{
    serverinfo_runs++;
    return cmd_reply(ctx, "guild %s", ctx->interaction->guild_id ? ctx->interaction->guild_id : "(none)");
}

/* /fail code:<int> [text:<s>] — returns the status `code`, with the text when given. */
static enum slimy_status fail_run(struct cmd_ctx *ctx)
{
    fail_runs++;
    int64_t code = SLIMY_EINTERNAL;
    (void)cmd_opt_int(ctx, "code", &code);
    const char *text = cmd_opt_string(ctx, "text");
    if (text)
        return cmd_fail(ctx, (int)code, "%s", text);
    return (enum slimy_status)code;
}

/* /later, /laterpub — deferred. */
static enum slimy_status later_run(struct cmd_ctx *ctx)
{
    later_runs++;
    return cmd_reply(ctx, "later");
}

/* /await mode:<0|1> — deferred; awaits a result another thread brings, either after the step
 * returned (mode 0, the usual order) or before (mode 1, the race the dispatcher must survive),
 * then a second await, and replies with both results. */
struct await_arg {
    struct cmd_ctx *ctx;
    int value;
    bool is_early; /* resume before the step returns */
};

static void *bring_result(void *p)
{
    struct await_arg *a = p;
    if (!a->is_early) { /* well after the step returned */
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 50000000L};
        nanosleep(&pause, NULL);
    }
    int *result = malloc(sizeof *result);
    *result = a->value;
    cmd_resume(a->ctx, result, free);
    if (!a->is_early)
        free(a);
    return NULL;
}

/* Starts a thread that brings value to the awaiting step (the await helpers' shape). */
static enum slimy_status await_value(struct cmd_ctx *ctx, int value, cmd_run_fn next)
{
    int64_t mode = 0;
    bool is_early = cmd_opt_int(ctx, "mode", &mode) && mode == 1;
    enum slimy_status rc = cmd_await(ctx, next);
    if (rc)
        return rc;
    struct await_arg *a = malloc(sizeof *a);
    *a = (struct await_arg){.ctx = ctx, .value = value, .is_early = is_early};
    pthread_t t;
    pthread_create(&t, NULL, bring_result, a);
    if (is_early) { /* return only once the result is in: the next step must still wait for this one */
        pthread_join(t, NULL);
        free(a);
    } else {
        pthread_detach(t);
    }
    return SLIMY_OK;
}

static atomic_int await_steps;

static enum slimy_status await_last(struct cmd_ctx *ctx)
{
    await_steps++;
    int *first = ctx->state, second = *(int *)ctx->result;
    return cmd_reply(ctx, "got %d and %d", *first, second);
}

static enum slimy_status await_second(struct cmd_ctx *ctx)
{
    await_steps++;
    int *first = ctx->state;
    *first = *(int *)ctx->result;
    return await_value(ctx, 2, await_last);
}

static enum slimy_status await_run(struct cmd_ctx *ctx)
{
    await_steps++;
    if (!cmd_state_new(ctx, sizeof(int), NULL))
        return SLIMY_ENOMEM;
    return await_value(ctx, 1, await_second);
}

/* /block — deferred; waits for the test, then for its token to end so no delivery is tried. */
static enum slimy_status block_run(struct cmd_ctx *ctx)
{
    pthread_mutex_lock(&block.lock);
    block.runs++;
    pthread_cond_broadcast(&block.changed);
    while (!block.is_released)
        pthread_cond_wait(&block.changed, &block.lock);
    uint64_t expires_at_ms = block.expires_at_ms;
    pthread_mutex_unlock(&block.lock);
    while (clock_wall_ms() <= expires_at_ms)
        usleep(10000);
    return cmd_reply(ctx, "unblocked");
}

static const struct cmd_option echo_options[] = {
    {.name = "text", .type = OPT_STRING, .description = "What to say", .required = true},
};

static const struct command echo_command = {
    .name = "echo",
    .description = "Say it back",
    .options = echo_options,
    .n_options = ARRAY_LEN(echo_options),
    .flags = CMD_EPHEMERAL,
    .cooldown_ms = COOLDOWN_MS,
    .run = echo_run,
};

static const struct cmd_option math_add_options[] = {
    {.name = "a", .type = OPT_INTEGER, .description = "First", .required = true},
    {.name = "b", .type = OPT_INTEGER, .description = "Second", .required = true},
};

static const struct cmd_option math_neg_options[] = {
    {.name = "a", .type = OPT_INTEGER, .description = "Number", .required = true},
};

static const struct command math_subcommands[] = {
    {.name = "add",
     .description = "Add",
     .options = math_add_options,
     .n_options = ARRAY_LEN(math_add_options),
     .flags = CMD_EPHEMERAL,
     .cooldown_ms = COOLDOWN_MS,
     .run = math_add_run},
    {.name = "neg",
     .description = "Negate",
     .options = math_neg_options,
     .n_options = ARRAY_LEN(math_neg_options),
     .cooldown_ms = COOLDOWN_MS,
     .run = math_neg_run},
};

static const struct command math_command = {
    .name = "math",
    .description = "Arithmetic",
    .subcommands = math_subcommands,
    .n_subcommands = ARRAY_LEN(math_subcommands),
};

static const struct cmd_option cfg_color_options[] = {
    {.name = "value", .type = OPT_STRING, .description = "Colour", .required = true},
};

static const struct command cfg_set_subcommands[] = {
    {.name = "color",
     .description = "Set the colour",
     .options = cfg_color_options,
     .n_options = ARRAY_LEN(cfg_color_options),
     .flags = CMD_EPHEMERAL,
     .run = cfg_set_color_run},
};

static const struct command cfg_groups[] = {
    {.name = "set",
     .description = "Change a setting",
     .subcommands = cfg_set_subcommands,
     .n_subcommands = ARRAY_LEN(cfg_set_subcommands)},
};

static const struct command cfg_command = {
    .name = "cfg",
    .description = "Settings",
    .subcommands = cfg_groups,
    .n_subcommands = ARRAY_LEN(cfg_groups),
};

static const struct command serverinfo_command = {
    .name = "serverinfo",
    .description = "About this server",
    .flags = CMD_GUILD_ONLY | CMD_EPHEMERAL,
    .run = serverinfo_run,
};

static const struct cmd_option fail_options[] = {
    {.name = "code", .type = OPT_INTEGER, .description = "Status to return", .required = true},
    {.name = "text", .type = OPT_STRING, .description = "Own failure text"},
};

static const struct command fail_command = {
    .name = "fail",
    .description = "Fails on purpose",
    .options = fail_options,
    .n_options = ARRAY_LEN(fail_options),
    .run = fail_run,
};

static const struct command later_command = {
    .name = "later",
    .description = "Deferred, ephemeral",
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = later_run,
};

static const struct command laterpub_command = {
    .name = "laterpub",
    .description = "Deferred, public",
    .flags = CMD_DEFERRED,
    .run = later_run,
};

static const struct cmd_option await_options[] = {
    {.name = "mode", .type = OPT_INTEGER, .description = "0 late result, 1 early result"},
};

static const struct command await_command = {
    .name = "await",
    .description = "Deferred, awaits twice",
    .options = await_options,
    .n_options = ARRAY_LEN(await_options),
    .flags = CMD_DEFERRED,
    .run = await_run,
};

/* /echoawait — immediate, and (wrongly) tries to await. */
static enum slimy_status echoawait_run(struct cmd_ctx *ctx)
{
    return await_value(ctx, 1, await_last);
}

static const struct command echoawait_command = {
    .name = "echoawait",
    .description = "Immediate, tries to await",
    .run = echoawait_run,
};

static const struct command block_command = {
    .name = "block",
    .description = "Deferred, blocks its worker",
    .flags = CMD_DEFERRED | CMD_EPHEMERAL,
    .run = block_run,
};

/* /checked n:<int> — deferred, public, with a cooldown and a check: n < 0 is refused in words,
 * n == 0 without words; /checknow is the same check on an immediate command without a cooldown. */
static atomic_int check_runs, checked_runs;

static enum slimy_status checked_check(struct cmd_ctx *ctx)
{
    check_runs++;
    int64_t n = 0;
    (void)cmd_opt_int(ctx, "n", &n);
    if (n < 0)
        return cmd_fail(ctx, SLIMY_EINVAL, "n must not be negative");
    if (n == 0)
        return SLIMY_EINVAL;
    return SLIMY_OK;
}

static enum slimy_status checked_run(struct cmd_ctx *ctx)
{
    checked_runs++;
    int64_t n = 0;
    (void)cmd_opt_int(ctx, "n", &n);
    return cmd_reply(ctx, "%s %lld", ctx->path, (long long)n);
}

static const struct cmd_option checked_options[] = {
    {.name = "n", .type = OPT_INTEGER, .description = "A number", .required = true},
};

static const struct command checked_command = {
    .name = "checked",
    .description = "Deferred, with a check",
    .options = checked_options,
    .n_options = ARRAY_LEN(checked_options),
    .flags = CMD_DEFERRED,
    .cooldown_ms = COOLDOWN_MS,
    .check = checked_check,
    .run = checked_run,
};

static const struct command checknow_command = {
    .name = "checknow",
    .description = "Immediate, with a check",
    .options = checked_options,
    .n_options = ARRAY_LEN(checked_options),
    .check = checked_check,
    .run = checked_run,
};

/* /tap pick:<colour> — a command whose messages carry buttons (custom_id "tap:<action>:<arg>"):
 * "press" answers at once and replaces its message (type 7), "slow" is deferred and edits it
 * (type 6), "new" answers with a new message (type 4), "shared" uses /echo's cooldown; a check
 * refuses the arg "bad". "pick" autocompletes from its declared choices. /suggest has its own
 * autocomplete: it offers 30 suggestions (Discord takes 25), or fails after one for q:"fail". */
static atomic_int tap_runs, tap_checks, suggest_runs;

static enum slimy_status tap_check(struct cmd_ctx *ctx)
{
    tap_checks++;
    char arg[16];
    if (cmd_component_arg(ctx, 0, arg, sizeof arg) && strcmp(arg, "bad") == 0)
        return cmd_fail(ctx, SLIMY_EINVAL, "bad arg");
    return SLIMY_OK;
}

static enum slimy_status tap_run(struct cmd_ctx *ctx)
{
    tap_runs++;
    char arg[16] = "(none)";
    (void)cmd_component_arg(ctx, 0, arg, sizeof arg);
    return cmd_reply(ctx, "%s %s", ctx->path, arg);
}

static const struct command tap_components[] = {
    {.name = "press", .flags = CMD_UPDATE, .check = tap_check, .run = tap_run},
    {.name = "slow", .flags = CMD_DEFERRED | CMD_UPDATE, .run = tap_run},
    {.name = "new", .flags = CMD_EPHEMERAL, .run = tap_run},
    {.name = "shared", .flags = CMD_EPHEMERAL, .cooldown_ms = COOLDOWN_MS, .cooldown_as = "echo", .run = tap_run},
};

static const struct cmd_choice tap_colours[] = {
    {.name = "Red", .string_value = "red"},
    {.name = "Green", .string_value = "green"},
    {.name = "Blue", .string_value = "blue"},
};

static const struct cmd_option tap_options[] = {
    {.name = "pick",
     .type = OPT_STRING,
     .description = "Colour",
     .autocomplete = true,
     .choices = tap_colours,
     .n_choices = ARRAY_LEN(tap_colours)},
};

static const struct command tap_command = {
    .name = "tap",
    .description = "Buttons",
    .options = tap_options,
    .n_options = ARRAY_LEN(tap_options),
    .run = tap_run,
    .components = tap_components,
    .n_components = ARRAY_LEN(tap_components),
};

static enum slimy_status suggest_autocomplete(struct cmd_ctx *ctx)
{
    const char *name, *typed;
    if (!cmd_focused(ctx, &name, &typed))
        return SLIMY_OK;
    if (strcmp(typed, "fail") == 0) {
        (void)cmd_suggest(ctx, "first", "1");
        return SLIMY_EUNAVAILABLE;
    }
    for (int i = 0; i < 30; i++) {
        char value[8];
        snprintf(value, sizeof value, "v%d", i);
        if (cmd_suggest(ctx, value, value) == SLIMY_ETOOBIG)
            break;
    }
    return SLIMY_OK;
}

static enum slimy_status suggest_run(struct cmd_ctx *ctx)
{
    suggest_runs++;
    return cmd_reply(ctx, "ran");
}

static const struct cmd_option suggest_options[] = {
    {.name = "q", .type = OPT_STRING, .description = "Query", .autocomplete = true},
};

static const struct command suggest_command = {
    .name = "suggest",
    .description = "Own autocomplete",
    .options = suggest_options,
    .n_options = ARRAY_LEN(suggest_options),
    .run = suggest_run,
    .autocomplete = suggest_autocomplete,
};

static const struct command *const test_commands[] = {
    &await_command, &block_command,      &cfg_command,     &checked_command, &checknow_command,
    &echo_command,  &echoawait_command,  &fail_command,    &later_command,   &laterpub_command,
    &math_command,  &serverinfo_command, &suggest_command, &tap_command,
};

/* ---- fixture ---- */

/* What the recording sink got. */
struct delivered {
    char interaction_id[32];
    char content[256];
    bool is_ephemeral;
};

struct fixture {
    struct slimy_config cfg;
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
    char dir[64];
    struct store *store;
    struct dispatch *d;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct delivered delivered[16];
    size_t n_delivered;
};

static int record(void *self, const struct discord_delivery *where, struct message *msg, discord_delivered_fn done,
                  void *arg)
{
    struct fixture *f = self;
    pthread_mutex_lock(&f->lock);
    if (f->n_delivered < ARRAY_LEN(f->delivered)) {
        struct delivered *d = &f->delivered[f->n_delivered++];
        snprintf(d->interaction_id, sizeof d->interaction_id, "%s", where->interaction_id);
        snprintf(d->content, sizeof d->content, "%s", msg->content.data ? msg->content.data : "");
        d->is_ephemeral = where->ephemeral && (msg->flags & MESSAGE_FLAG_EPHEMERAL);
    }
    pthread_cond_broadcast(&f->changed);
    pthread_mutex_unlock(&f->lock);
    message_cleanup(msg);
    message_init(msg);
    struct discord_delivery_result result = {.status = SLIMY_OK, .http_status = 200, .attempts = 1};
    done(&result, arg);
    return SLIMY_OK;
}

/* Waits up to 5 s for the n-th delivery (1-based) and returns it. */
static struct delivered *wait_delivered(struct fixture *f, size_t n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&f->lock);
    while (f->n_delivered < n)
        if (pthread_cond_timedwait(&f->changed, &f->lock, &until) != 0)
            break;
    struct delivered *d = f->n_delivered >= n ? &f->delivered[n - 1] : NULL;
    pthread_mutex_unlock(&f->lock);
    if (!d)
        fail_msg("delivery %zu never came", n);
    return d;
}

static int group_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    log_open(LOG_ERROR, NULL); /* keep expected warnings (unknown command, expired job) quiet */
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    log_close();
    return 0;
}

static int start(void **state, uint32_t signature_max_age_s, unsigned job_queue_max)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    memset(&f->cfg, 0, sizeof f->cfg);
    crypto_sign_keypair(f->cfg.public_key, f->secret_key);
    f->cfg.has_public_key = true;
    f->cfg.worker_threads = 1;
    f->cfg.job_queue_max = job_queue_max;
    f->cfg.signature_max_age_s = signature_max_age_s;
    snprintf(f->dir, sizeof f->dir, "/tmp/slimy-test-dispatch.XXXXXX");
    char path[128];
    snprintf(path, sizeof path, "%s/slimy.db", mkdtemp(f->dir) ? f->dir : "/nonexistent");
    f->cfg.sqlite_path = strdup(path);
    snprintf(f->cfg.application_id, sizeof f->cfg.application_id, "42");
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    echo_runs = add_runs = neg_runs = color_runs = serverinfo_runs = fail_runs = later_runs = await_steps = 0;
    check_runs = checked_runs = 0;
    tap_runs = tap_checks = suggest_runs = 0;
    pthread_mutex_lock(&block.lock);
    block.runs = 0;
    block.is_released = false;
    block.expires_at_ms = 0;
    pthread_mutex_unlock(&block.lock);
    *state = f;
    char err[256];
    struct reply_sink sink = {.deliver = record, .self = f};
    if (!f->cfg.sqlite_path || store_open(&f->cfg, true, &f->store, err, sizeof err))
        return -1;
    struct cmd_services deps = {.store = f->store};
    if (dispatch_new(&f->cfg, test_commands, ARRAY_LEN(test_commands), &sink, &deps, &f->d))
        return -1;
    return 0;
}

static int setup(void **state)
{
    return start(state, 300, 4);
}

/* Freshness check off, so a request signed 16 minutes ago passes and its job is already expired. */
static int setup_old_signatures(void **state)
{
    return start(state, 0, 4);
}

static int setup_queue_of_two(void **state)
{
    return start(state, 0, 2);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (!f)
        return 0;
    /* A failed test may have left the blocking handler waiting. */
    release_block();
    bool is_drained = !f->d || dispatch_drain(f->d, clock_mono_ms() + 10000);
    dispatch_free(f->d);
    store_close(f->store);
    if (f->cfg.sqlite_path) {
        char path[160];
        static const char *const suffixes[] = {"", "-wal", "-shm"};
        for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
            snprintf(path, sizeof path, "%s%s", f->cfg.sqlite_path, suffixes[i]);
            unlink(path);
        }
        rmdir(f->dir);
    }
    free(f->cfg.sqlite_path);
    pthread_cond_destroy(&f->changed);
    pthread_mutex_destroy(&f->lock);
    free(f);
    return is_drained ? 0 : -1;
}

/* ---- requests ---- */

static int64_t now_s(void)
{
    return (int64_t)(clock_wall_ms() / 1000u);
}

/* Signs body at timestamp ts with sk (Discord: Ed25519 over timestamp ‖ body). */
static void sign(const unsigned char *sk, int64_t ts, const char *body, char ts_text[24],
                 char sig_hex[2 * crypto_sign_BYTES + 1])
{
    snprintf(ts_text, 24, "%lld", (long long)ts);
    size_t ts_len = strlen(ts_text), len = strlen(body);
    unsigned char *msg = malloc(ts_len + len);
    assert_non_null(msg);
    memcpy(msg, ts_text, ts_len);
    memcpy(msg + ts_len, body, len);
    unsigned char sig[crypto_sign_BYTES];
    assert_int_equal(crypto_sign_detached(sig, NULL, msg, ts_len + len, sk), 0);
    free(msg);
    sodium_bin2hex(sig_hex, 2 * crypto_sign_BYTES + 1, sig, sizeof sig);
}

/* Sends body signed at ts; returns the parsed JSON answer and its HTTP status. */
static cJSON *send_at(struct fixture *f, const char *body, int64_t ts, int *http_status)
{
    char ts_text[24], sig[2 * crypto_sign_BYTES + 1];
    sign(f->secret_key, ts, body, ts_text, sig);
    struct dispatch_reply out = {0};
    dispatch_interaction(f->d, sig, ts_text, body, strlen(body), &out);
    assert_non_null(out.body);
    assert_int_equal(out.len, strlen(out.body));
    cJSON *json = cJSON_Parse(out.body);
    if (!json)
        fail_msg("answer is not JSON: %s", out.body);
    free(out.body);
    *http_status = out.http_status;
    return json;
}

/* Sends body signed now and expects a 200. */
static cJSON *send_ok(struct fixture *f, const char *body)
{
    int http;
    cJSON *json = send_at(f, body, now_s(), &http);
    assert_int_equal(http, 200);
    return json;
}

/* Every body gets its own interaction id, as Discord's do: the dispatcher runs an id once. */
static atomic_uint next_interaction_id = 9000;

/* A slash command used in a guild by user_id; data is the JSON of the interaction's `data`. */
static void guild_body(char *out, const char *user_id, const char *data)
{
    int n = snprintf(out, BODY_MAX,
                     "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"tok-secret\",\"type\":2,"
                     "\"guild_id\":\"555\",\"channel_id\":\"666\",\"context\":0,"
                     "\"member\":{\"user\":{\"id\":\"%s\",\"username\":\"tester\"},\"permissions\":\"0\"},"
                     "\"data\":%s}",
                     ++next_interaction_id, user_id, data);
    assert_true(n > 0 && n < BODY_MAX);
}

/* The same in a DM with the bot: no guild_id, `user` at the top level. */
static void dm_body(char *out, const char *user_id, const char *data)
{
    int n = snprintf(out, BODY_MAX,
                     "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"tok-secret\",\"type\":2,"
                     "\"channel_id\":\"777\",\"context\":1,"
                     "\"user\":{\"id\":\"%s\",\"username\":\"tester\"},\"data\":%s}",
                     ++next_interaction_id, user_id, data);
    assert_true(n > 0 && n < BODY_MAX);
}

/* A press of the component custom_id on a message in a guild, by user_id. */
static void component_body(char *out, const char *user_id, const char *custom_id)
{
    int n = snprintf(out, BODY_MAX,
                     "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"tok-secret\",\"type\":3,"
                     "\"guild_id\":\"555\",\"channel_id\":\"666\",\"context\":0,"
                     "\"member\":{\"user\":{\"id\":\"%s\",\"username\":\"tester\"},\"permissions\":\"0\"},"
                     "\"message\":{\"id\":\"77\",\"content\":\"the message\"},"
                     "\"data\":{\"custom_id\":\"%s\",\"component_type\":2}}",
                     ++next_interaction_id, user_id, custom_id);
    assert_true(n > 0 && n < BODY_MAX);
}

/* An autocomplete request in a guild; data is the JSON of its `data`. */
static void autocomplete_body(char *out, const char *data)
{
    int n = snprintf(out, BODY_MAX,
                     "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"t\",\"type\":4,\"guild_id\":\"555\","
                     "\"member\":{\"user\":{\"id\":\"100\"},\"permissions\":\"0\"},\"data\":%s}",
                     ++next_interaction_id, data);
    assert_true(n > 0 && n < BODY_MAX);
}

/* Checks a type-4 answer and returns its content (borrowed from root). */
static const char *message_content(const cJSON *root, bool is_ephemeral)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    assert_true(cJSON_IsNumber(type));
    assert_int_equal(type->valueint, 4);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    assert_true(cJSON_IsObject(data));
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(data, "flags");
    int flag_bits = cJSON_IsNumber(flags) ? flags->valueint : 0;
    if (is_ephemeral)
        assert_int_equal(flag_bits, 64);
    else
        assert_int_equal(flag_bits & 64, 0);
    /* Slimy never lets echoed text ping anyone. */
    const cJSON *mentions = cJSON_GetObjectItemCaseSensitive(data, "allowed_mentions");
    const cJSON *parse = cJSON_GetObjectItemCaseSensitive(mentions, "parse");
    assert_true(cJSON_IsArray(parse));
    assert_int_equal(cJSON_GetArraySize(parse), 0);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(data, "content");
    assert_true(cJSON_IsString(content));
    return content->valuestring;
}

/* Sends a guild command from user_id and returns a copy of the reply text. */
static char *run_guild(struct fixture *f, const char *user_id, const char *data, bool is_ephemeral)
{
    char body[BODY_MAX];
    guild_body(body, user_id, data);
    cJSON *root = send_ok(f, body);
    char *text = strdup(message_content(root, is_ephemeral));
    assert_non_null(text);
    cJSON_Delete(root);
    return text;
}

static void assert_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("\"%s\" does not contain \"%s\"", text, part);
}

#define ECHO_HELLO \
    "{\"id\":\"1\",\"name\":\"echo\",\"type\":1,\"options\":[{\"name\":\"text\",\"type\":3,\"value\":\"hello\"}]}"
#define MATH_ADD                                                                                         \
    "{\"id\":\"2\",\"name\":\"math\",\"type\":1,\"options\":[{\"name\":\"add\",\"type\":1,\"options\":[" \
    "{\"name\":\"a\",\"type\":4,\"value\":2},{\"name\":\"b\",\"type\":4,\"value\":3}]}]}"
#define MATH_NEG                                                                                         \
    "{\"id\":\"2\",\"name\":\"math\",\"type\":1,\"options\":[{\"name\":\"neg\",\"type\":1,\"options\":[" \
    "{\"name\":\"a\",\"type\":4,\"value\":7}]}]}"

/* ---- signature and parsing ---- */

static void test_ping(void **state)
{
    struct fixture *f = *state;
    char ts[24], sig[2 * crypto_sign_BYTES + 1];
    const char *body = "{\"type\":1,\"id\":\"1\",\"application_id\":\"42\",\"token\":\"t\"}";
    sign(f->secret_key, now_s(), body, ts, sig);
    struct dispatch_reply out = {0};
    dispatch_interaction(f->d, sig, ts, body, strlen(body), &out);
    assert_int_equal(out.http_status, 200);
    assert_string_equal(out.body, "{\"type\":1}");
    assert_int_equal(out.len, 10);
    free(out.body);
}

static void expect_401(struct fixture *f, const char *sig, const char *ts, const char *body)
{
    struct dispatch_reply out = {0};
    dispatch_interaction(f->d, sig, ts, body, strlen(body), &out);
    assert_int_equal(out.http_status, 401);
    assert_non_null(out.body);
    free(out.body);
}

static void test_bad_signature(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"type\":1}";
    char ts[24], sig[2 * crypto_sign_BYTES + 1];

    /* Signed by another key. */
    unsigned char other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(other_pk, other_sk);
    sign(other_sk, now_s(), body, ts, sig);
    expect_401(f, sig, ts, body);

    /* Right key, but the body or the timestamp changed after signing. */
    sign(f->secret_key, now_s(), body, ts, sig);
    expect_401(f, sig, ts, "{\"type\":2}");
    char other_ts[24];
    snprintf(other_ts, sizeof other_ts, "%lld", (long long)now_s() + 1);
    expect_401(f, sig, other_ts, body);

    /* Missing or malformed headers. */
    expect_401(f, NULL, ts, body);
    expect_401(f, sig, NULL, body);
    expect_401(f, "", ts, body);
    expect_401(f, "abcd", ts, body);

    /* Outside the 300 s freshness window, either way. */
    sign(f->secret_key, now_s() - 400, body, ts, sig);
    expect_401(f, sig, ts, body);
    sign(f->secret_key, now_s() + 400, body, ts, sig);
    expect_401(f, sig, ts, body);

    assert_int_equal(echo_runs + add_runs + serverinfo_runs + fail_runs, 0);
}

static void test_not_json(void **state)
{
    struct fixture *f = *state;
    static const char *const bodies[] = {"not json", "[1,2]", "{}", "{\"type\":\"2\"}", "{\"type\":1.5}", ""};
    for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
        char ts[24], sig[2 * crypto_sign_BYTES + 1];
        sign(f->secret_key, now_s(), bodies[i], ts, sig);
        struct dispatch_reply out = {0};
        dispatch_interaction(f->d, sig, ts, bodies[i], strlen(bodies[i]), &out);
        if (out.http_status != 400)
            fail_msg("body \"%s\": HTTP %d, expected 400", bodies[i], out.http_status);
        assert_non_null(out.body);
        free(out.body);
    }
}

/* Only Discord's five interaction types are answered; any other `type`, however it is written, is
 * a 400 and runs nothing. */
static void test_unknown_interaction_type(void **state)
{
    struct fixture *f = *state;
    static const char *const types[] = {"-1",         "0",      "6",     "99",  "-2147483648", "2147483647",
                                        "2147483648", "-1e300", "1e300", "2.5", "-0.5",        "1e-300"};
    for (size_t i = 0; i < ARRAY_LEN(types); i++) {
        char body[BODY_MAX];
        snprintf(body, sizeof body,
                 "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"t\",\"type\":%s,\"guild_id\":\"555\","
                 "\"member\":{\"user\":{\"id\":\"100\"},\"permissions\":\"0\"},"
                 "\"data\":{\"id\":\"1\",\"name\":\"echo\",\"type\":1,\"options\":["
                 "{\"name\":\"text\",\"type\":3,\"value\":\"hi\"}]}}",
                 ++next_interaction_id, types[i]);
        int http = 0;
        cJSON *root = send_at(f, body, now_s(), &http);
        if (http != 400)
            fail_msg("type %s: HTTP %d, expected 400", types[i], http);
        cJSON_Delete(root);
    }
    assert_int_equal(echo_runs, 0);
}

/* ---- routing ---- */

static void test_unknown_command(void **state)
{
    struct fixture *f = *state;
    static const char *const datas[] = {
        "{\"id\":\"1\",\"name\":\"nope\",\"type\":1}",
        /* A known name with another command type (a user context menu). */
        "{\"id\":\"1\",\"name\":\"echo\",\"type\":2,\"target_id\":\"5\"}",
        /* Unknown subcommand, unknown leaf in a group, and containers named without a leaf. */
        "{\"id\":\"2\",\"name\":\"math\",\"type\":1,\"options\":[{\"name\":\"mul\",\"type\":1,\"options\":[]}]}",
        "{\"id\":\"3\",\"name\":\"cfg\",\"type\":1,\"options\":[{\"name\":\"set\",\"type\":2,\"options\":["
        "{\"name\":\"size\",\"type\":1}]}]}",
        "{\"id\":\"3\",\"name\":\"cfg\",\"type\":1,\"options\":[{\"name\":\"get\",\"type\":2,\"options\":["
        "{\"name\":\"color\",\"type\":1}]}]}",
        "{\"id\":\"2\",\"name\":\"math\",\"type\":1}",
        "{\"id\":\"3\",\"name\":\"cfg\",\"type\":1,\"options\":[{\"name\":\"set\",\"type\":1}]}",
    };
    for (size_t i = 0; i < ARRAY_LEN(datas); i++) {
        char *text = run_guild(f, "100", datas[i], true);
        assert_contains(text, "Unknown command");
        free(text);
    }
    assert_int_equal(echo_runs + add_runs + neg_runs + color_runs, 0);
}

static void test_immediate_command(void **state)
{
    struct fixture *f = *state;
    char *text = run_guild(f, "100", ECHO_HELLO, true);
    assert_string_equal(text, "echo: hello");
    free(text);
    assert_int_equal(echo_runs, 1);
}

static void test_subcommand_routing(void **state)
{
    struct fixture *f = *state;
    char *text = run_guild(f, "100", MATH_ADD, true);
    assert_string_equal(text, "math add=5");
    free(text);
    /* neg is not ephemeral: the flag comes from the leaf. */
    text = run_guild(f, "100", MATH_NEG, false);
    assert_string_equal(text, "math neg=-7");
    free(text);
    text = run_guild(f, "100",
                     "{\"id\":\"3\",\"name\":\"cfg\",\"type\":1,\"options\":[{\"name\":\"set\",\"type\":2,"
                     "\"options\":[{\"name\":\"color\",\"type\":1,\"options\":["
                     "{\"name\":\"value\",\"type\":3,\"value\":\"red\"}]}]}]}",
                     true);
    assert_string_equal(text, "cfg set color:red");
    free(text);
    assert_int_equal(add_runs, 1);
    assert_int_equal(neg_runs, 1);
    assert_int_equal(color_runs, 1);
    assert_int_equal(echo_runs, 0);
}

static void test_guild_only(void **state)
{
    struct fixture *f = *state;
    const char *data = "{\"id\":\"4\",\"name\":\"serverinfo\",\"type\":1}";
    char body[BODY_MAX];
    dm_body(body, "100", data);
    cJSON *root = send_ok(f, body);
    const char *text = message_content(root, true);
    assert_true(strlen(text) > 0);
    assert_contains(text, "server");
    cJSON_Delete(root);
    assert_int_equal(serverinfo_runs, 0);

    /* The same command in a guild runs. */
    char *reply = run_guild(f, "100", data, true);
    assert_string_equal(reply, "guild 555");
    free(reply);
    assert_int_equal(serverinfo_runs, 1);

    /* Other commands work in DMs. */
    dm_body(body, "100", ECHO_HELLO);
    root = send_ok(f, body);
    assert_string_equal(message_content(root, true), "echo: hello");
    cJSON_Delete(root);
}

/* ---- cooldowns ---- */

/* Finds "N.Ns" in text and returns N.N; fails if there is none. */
static double seconds_left(const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9' || (p > text && p[-1] >= '0' && p[-1] <= '9'))
            continue;
        const char *q = p;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q[0] == '.' && q[1] >= '0' && q[1] <= '9' && q[2] == 's')
            return strtod(p, NULL);
    }
    fail_msg("no \"N.Ns\" in \"%s\"", text);
    return -1;
}

static void assert_slow_down(char *text)
{
    assert_contains(text, "Slow down");
    double left = seconds_left(text);
    if (left < 0.1 || left > 3.0)
        fail_msg("%.1f s left is outside 0.1..3.0: \"%s\"", left, text);
    free(text);
}

static void test_cooldown(void **state)
{
    struct fixture *f = *state;
    char *text = run_guild(f, "100", ECHO_HELLO, true);
    assert_string_equal(text, "echo: hello");
    free(text);

    /* Same user, same command, well within 3 s. */
    assert_slow_down(run_guild(f, "100", ECHO_HELLO, true));
    assert_int_equal(echo_runs, 1);

    /* Another user is not limited. */
    text = run_guild(f, "200", ECHO_HELLO, true);
    assert_string_equal(text, "echo: hello");
    free(text);
    assert_int_equal(echo_runs, 2);

    /* The same user with other commands, and other subcommands of one command, is not limited. */
    text = run_guild(f, "100", MATH_ADD, true);
    assert_string_equal(text, "math add=5");
    free(text);
    text = run_guild(f, "100", MATH_NEG, false);
    assert_string_equal(text, "math neg=-7");
    free(text);
    /* math add is now cooling down for that user; the answer is ephemeral even though neg's is not. */
    assert_slow_down(run_guild(f, "100", MATH_ADD, true));
    assert_int_equal(add_runs, 1);

    /* In a DM the user comes from the top-level `user`, and is limited the same way. */
    char body[BODY_MAX];
    dm_body(body, "300", ECHO_HELLO);
    cJSON *root = send_ok(f, body);
    assert_string_equal(message_content(root, true), "echo: hello");
    cJSON_Delete(root);
    dm_body(body, "300", ECHO_HELLO); /* a new interaction: the same body again would be a duplicate */
    root = send_ok(f, body);
    char *again = strdup(message_content(root, true));
    cJSON_Delete(root);
    assert_slow_down(again);
    assert_int_equal(echo_runs, 3);
}

/* ---- failures ---- */

static void test_failing_handler(void **state)
{
    struct fixture *f = *state;
    for (int rc = 1; rc <= SLIMY_STATUS_COUNT; rc++) {
        int code = rc < SLIMY_STATUS_COUNT ? rc : 999; /* and one the dispatcher does not know */
        char data[256];
        snprintf(
            data, sizeof data,
            "{\"id\":\"5\",\"name\":\"fail\",\"type\":1,\"options\":[{\"name\":\"code\",\"type\":4,\"value\":%d}]}",
            code);
        char *text = run_guild(f, "100", data, false);
        if (strlen(text) == 0)
            fail_msg("status %d: empty reply", code);
        if (strstr(text, "SLIMY_") || strstr(text, "unknown status") || strcmp(text, slimy_strerror(code)) == 0)
            fail_msg("status %d: the reply is the raw status: \"%s\"", code, text);
        if (code == SLIMY_EUNAVAILABLE && strstr(text, slimy_strerror(SLIMY_EUNAVAILABLE)))
            fail_msg("status %d: the reply names the status: \"%s\"", code, text);
        free(text);
    }
    assert_int_equal(fail_runs, SLIMY_STATUS_COUNT);

    /* A handler's own words win. */
    char *text = run_guild(f, "100",
                           "{\"id\":\"5\",\"name\":\"fail\",\"type\":1,\"options\":["
                           "{\"name\":\"code\",\"type\":4,\"value\":5},"
                           "{\"name\":\"text\",\"type\":3,\"value\":\"The weather service is down.\"}]}",
                           false);
    assert_string_equal(text, "The weather service is down.");
    free(text);
}

/* ---- other interaction types ---- */

static void test_autocomplete(void **state)
{
    struct fixture *f = *state;
    const char *body = "{\"id\":\"9003\",\"application_id\":\"42\",\"token\":\"t\",\"type\":4,\"guild_id\":\"555\","
                       "\"member\":{\"user\":{\"id\":\"100\"},\"permissions\":\"0\"},"
                       "\"data\":{\"id\":\"1\",\"name\":\"echo\",\"type\":1,\"options\":["
                       "{\"name\":\"text\",\"type\":3,\"value\":\"he\",\"focused\":true}]}}";
    cJSON *root = send_ok(f, body);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    assert_true(cJSON_IsNumber(type));
    assert_int_equal(type->valueint, 8);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), "choices");
    assert_true(cJSON_IsArray(choices));
    cJSON_Delete(root);
    assert_int_equal(echo_runs, 0); /* autocomplete never runs the command */
}

static void test_component_and_modal(void **state)
{
    struct fixture *f = *state;
    static const char *const bodies[] = {
        "{\"id\":\"9004\",\"application_id\":\"42\",\"token\":\"t\",\"type\":3,\"guild_id\":\"555\","
        "\"member\":{\"user\":{\"id\":\"100\"},\"permissions\":\"0\"},"
        "\"data\":{\"custom_id\":\"old-button\",\"component_type\":2}}",
        "{\"id\":\"9005\",\"application_id\":\"42\",\"token\":\"t\",\"type\":5,"
        "\"user\":{\"id\":\"100\"},\"data\":{\"custom_id\":\"old-form\",\"components\":[]}}",
    };
    static const char *const words[] = {"This button or menu is no longer active.", "This form is no longer active."};
    for (size_t i = 0; i < ARRAY_LEN(bodies); i++) {
        cJSON *root = send_ok(f, bodies[i]);
        assert_true(strlen(message_content(root, true)) > 0);
        assert_contains(message_content(root, true), words[i]);
        cJSON_Delete(root);
    }
}

/* ---- components and autocomplete ---- */

/* Checks a type-7 answer (the message replaced) and returns a copy of its content. */
static char *update_content(const cJSON *root)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    assert_true(cJSON_IsNumber(type));
    assert_int_equal(type->valueint, 7);
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), "content");
    assert_true(cJSON_IsString(content));
    return strdup(content->valuestring);
}

/* Presses custom_id as user_id; returns the parsed answer (HTTP 200). */
static cJSON *press(struct fixture *f, const char *user_id, const char *custom_id)
{
    char body[BODY_MAX];
    component_body(body, user_id, custom_id);
    return send_ok(f, body);
}

static void test_component_routing(void **state)
{
    struct fixture *f = *state;
    cJSON *root = press(f, "100", "tap:press:x");
    char *text = update_content(root);
    assert_string_equal(text, "tap:press x"); /* the path of a component leaf */
    free(text);
    cJSON_Delete(root);

    /* Without CMD_UPDATE a press answers with a new message. */
    root = press(f, "100", "tap:new:y");
    assert_string_equal(message_content(root, true), "tap:new y");
    cJSON_Delete(root);
    assert_int_equal(tap_runs, 2);

    /* The leaf's check runs first and its refusal is ephemeral, a new message, not an update. */
    root = press(f, "100", "tap:press:bad");
    assert_string_equal(message_content(root, true), "bad arg");
    cJSON_Delete(root);
    assert_int_equal(tap_runs, 2);
    assert_int_equal(tap_checks, 2);
}

/* Any custom_id that names no component leaf of ours, however it is mangled: an ephemeral "no
 * longer active", and nothing runs. */
static void test_unknown_or_tampered_component(void **state)
{
    struct fixture *f = *state;
    static const char *const ids[] = {
        "old-button",    /* no action */
        "tap",           /* the same, with a command we have */
        "nope:press:x",  /* unknown command */
        "tap:explode:x", /* unknown action */
        "echo:press",    /* a command without components */
        "math:add",      /* a subcommand is not a component */
        "",              /* empty */
        ":",             /* empty command and action */
        "tap::x",        /* empty action */
        ":press",        /* empty command */
        "TAP:press",     /* names are case-sensitive */
    };
    for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
        cJSON *root = press(f, "100", ids[i]);
        const char *text = message_content(root, true);
        if (!strstr(text, "no longer active"))
            fail_msg("custom_id \"%s\": \"%s\"", ids[i], text);
        cJSON_Delete(root);
    }
    /* A component press without a custom_id at all, or without data. */
    char body[BODY_MAX];
    snprintf(body, sizeof body,
             "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"t\",\"type\":3,\"guild_id\":\"555\","
             "\"member\":{\"user\":{\"id\":\"100\"},\"permissions\":\"0\"},\"data\":{\"component_type\":2}}",
             ++next_interaction_id);
    cJSON *root = send_ok(f, body);
    assert_contains(message_content(root, true), "no longer active");
    cJSON_Delete(root);
    assert_int_equal(tap_runs + tap_checks + echo_runs + add_runs, 0);
}

/* A deferred update: type 6 at once, then the reply goes to the webhook (an edit of @original,
 * which for a component is the message carrying it). */
static void test_component_deferred_update(void **state)
{
    struct fixture *f = *state;
    char body[BODY_MAX];
    component_body(body, "100", "tap:slow:z");
    char ts[24], sig[2 * crypto_sign_BYTES + 1];
    sign(f->secret_key, now_s(), body, ts, sig);
    struct dispatch_reply out = {0};
    dispatch_interaction(f->d, sig, ts, body, strlen(body), &out);
    assert_int_equal(out.http_status, 200);
    assert_string_equal(out.body, "{\"type\":6}");
    free(out.body);
    struct delivered *d = wait_delivered(f, 1);
    assert_string_equal(d->content, "tap:slow z");
    assert_false(d->is_ephemeral);
    assert_int_equal(tap_runs, 1);
}

/* cooldown_as: a press shares the named command's cooldown, both ways, and the refusal names it. */
static void test_component_shares_cooldown(void **state)
{
    struct fixture *f = *state;
    char *text = run_guild(f, "100", ECHO_HELLO, true);
    free(text);
    cJSON *root = press(f, "100", "tap:shared:a");
    text = strdup(message_content(root, true));
    cJSON_Delete(root);
    assert_contains(text, "`/echo`");
    assert_slow_down(text);
    assert_int_equal(tap_runs, 0);

    /* The other way round, for another user: the press first, then /echo is limited. */
    root = press(f, "200", "tap:shared:b");
    assert_string_equal(message_content(root, true), "tap:shared b");
    cJSON_Delete(root);
    assert_slow_down(run_guild(f, "200", ECHO_HELLO, true));
    assert_int_equal(echo_runs, 1);
    assert_int_equal(tap_runs, 1);
}

/* Returns the choices of a type-8 answer (borrowed from root). */
static const cJSON *choices_of(const cJSON *root)
{
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "type")->valueint, 8);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "data"), "choices");
    assert_true(cJSON_IsArray(choices));
    return choices;
}

/* The values of the choices, joined by ','. */
static void choice_values(const cJSON *choices, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    const cJSON *c;
    cJSON_ArrayForEach(c, choices)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, "value");
        assert_true(cJSON_IsString(v));
        used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", v->valuestring);
    }
}

static void expect_suggestions(struct fixture *f, const char *data, const char *expected)
{
    char body[BODY_MAX], got[512];
    autocomplete_body(body, data);
    cJSON *root = send_ok(f, body);
    choice_values(choices_of(root), got, sizeof got);
    if (strcmp(got, expected) != 0)
        fail_msg("%s: suggested [%s], expected [%s]", data, got, expected);
    cJSON_Delete(root);
}

#define TAP_TYPED(text)                                                                                      \
    "{\"id\":\"1\",\"name\":\"tap\",\"type\":1,\"options\":[{\"name\":\"pick\",\"type\":3,\"value\":\"" text \
    "\",\"focused\":true}]}"

/* A leaf without its own autocomplete suggests its declared choices whose name or value holds
 * what was typed, ignoring case. */
static void test_autocomplete_declared_choices(void **state)
{
    struct fixture *f = *state;
    expect_suggestions(f, TAP_TYPED(""), "red,green,blue");
    expect_suggestions(f, TAP_TYPED("re"), "red,green"); /* "Green" holds "re" too */
    expect_suggestions(f, TAP_TYPED("BLU"), "blue");
    expect_suggestions(f, TAP_TYPED("purple"), "");
    /* Nothing focused, or a focused option the leaf does not declare: nothing. */
    expect_suggestions(f,
                       "{\"id\":\"1\",\"name\":\"tap\",\"type\":1,\"options\":[{\"name\":\"pick\",\"type\":3,"
                       "\"value\":\"re\"}]}",
                       "");
    expect_suggestions(f,
                       "{\"id\":\"1\",\"name\":\"tap\",\"type\":1,\"options\":[{\"name\":\"other\",\"type\":3,"
                       "\"value\":\"re\",\"focused\":true}]}",
                       "");
    /* An unknown command, or a known one with another type: type 8 with no choices. */
    expect_suggestions(f,
                       "{\"id\":\"1\",\"name\":\"nope\",\"type\":1,\"options\":[{\"name\":\"x\",\"type\":3,"
                       "\"value\":\"a\",\"focused\":true}]}",
                       "");
    expect_suggestions(f, "{\"id\":\"1\",\"name\":\"tap\",\"type\":2}", "");
    /* A command without options that autocomplete: nothing either. */
    expect_suggestions(f, ECHO_HELLO, "");
    assert_int_equal(tap_runs + echo_runs, 0); /* autocomplete never runs the command */
}

/* A leaf's own autocomplete: Discord's 25 at most; a failure still sends what was added. */
static void test_autocomplete_own_function(void **state)
{
    struct fixture *f = *state;
    char body[BODY_MAX];
    autocomplete_body(body, "{\"id\":\"1\",\"name\":\"suggest\",\"type\":1,\"options\":[{\"name\":\"q\",\"type\":3,"
                            "\"value\":\"\",\"focused\":true}]}");
    cJSON *root = send_ok(f, body);
    const cJSON *choices = choices_of(root);
    assert_int_equal(cJSON_GetArraySize(choices), 25);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(choices, 24), "value")->valuestring, "v24");
    cJSON_Delete(root);
    expect_suggestions(f,
                       "{\"id\":\"1\",\"name\":\"suggest\",\"type\":1,\"options\":[{\"name\":\"q\",\"type\":3,"
                       "\"value\":\"fail\",\"focused\":true}]}",
                       "1");
    assert_int_equal(suggest_runs, 0);
}

/* A guild-only command in a server whose owners lack "0" (only the user installed Slimy) is
 * refused; with the server's install it runs. */
static void test_guild_only_needs_the_server_install(void **state)
{
    struct fixture *f = *state;
    char body[BODY_MAX];
    snprintf(body, sizeof body,
             "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"t\",\"type\":2,\"guild_id\":\"555\","
             "\"context\":0,\"authorizing_integration_owners\":{\"1\":\"100\"},"
             "\"member\":{\"user\":{\"id\":\"100\"},\"permissions\":\"0\"},"
             "\"data\":{\"id\":\"4\",\"name\":\"serverinfo\",\"type\":1}}",
             ++next_interaction_id);
    cJSON *root = send_ok(f, body);
    assert_contains(message_content(root, true), "servers that have added Slimy");
    cJSON_Delete(root);
    assert_int_equal(serverinfo_runs, 0);

    snprintf(body, sizeof body,
             "{\"id\":\"%u\",\"application_id\":\"42\",\"token\":\"t\",\"type\":2,\"guild_id\":\"555\","
             "\"context\":0,\"authorizing_integration_owners\":{\"0\":\"555\",\"1\":\"100\"},"
             "\"member\":{\"user\":{\"id\":\"100\"},\"permissions\":\"0\"},"
             "\"data\":{\"id\":\"4\",\"name\":\"serverinfo\",\"type\":1}}",
             ++next_interaction_id);
    root = send_ok(f, body);
    assert_string_equal(message_content(root, true), "guild 555");
    cJSON_Delete(root);
    assert_int_equal(serverinfo_runs, 1);
}

/* ---- deferred commands ---- */

static void expect_deferred(struct fixture *f, const char *data, const char *expected)
{
    char body[BODY_MAX];
    guild_body(body, "100", data);
    char ts[24], sig[2 * crypto_sign_BYTES + 1];
    sign(f->secret_key, now_s() - 16 * 60, body, ts, sig);
    struct dispatch_reply out = {0};
    dispatch_interaction(f->d, sig, ts, body, strlen(body), &out);
    assert_int_equal(out.http_status, 200);
    assert_non_null(out.body);
    assert_string_equal(out.body, expected);
    free(out.body);
}

static void test_deferred_ephemeral(void **state)
{
    struct fixture *f = *state;
    expect_deferred(f, "{\"id\":\"6\",\"name\":\"later\",\"type\":1}", "{\"type\":5,\"data\":{\"flags\":64}}");
    /* The token had already expired: the job is finished without running or delivering. */
    assert_true(dispatch_drain(f->d, clock_mono_ms() + 5000));
    assert_int_equal(dispatch_jobs_queued(f->d), 0);
    assert_int_equal(dispatch_jobs_in_flight(f->d), 0);
    assert_int_equal(later_runs, 0);
}

static void test_deferred_public(void **state)
{
    struct fixture *f = *state;
    expect_deferred(f, "{\"id\":\"6\",\"name\":\"laterpub\",\"type\":1}", "{\"type\":5}");
    expect_deferred(f, "{\"id\":\"6\",\"name\":\"later\",\"type\":1}", "{\"type\":5,\"data\":{\"flags\":64}}");
    assert_true(dispatch_drain(f->d, clock_mono_ms() + 5000));
    assert_int_equal(later_runs, 0);
}

/* Signed now, a deferred command runs on a worker and its reply reaches the sink, ephemeral or
 * not as the command says. */
static void test_deferred_reply_delivered(void **state)
{
    struct fixture *f = *state;
    char *body = malloc(BODY_MAX);
    guild_body(body, "100", "{\"id\":\"6\",\"name\":\"later\",\"type\":1}");
    cJSON *root = send_ok(f, body);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "type")->valueint, 5);
    cJSON_Delete(root);
    struct delivered *d = wait_delivered(f, 1);
    assert_string_equal(d->content, "later");
    assert_true(d->is_ephemeral);

    guild_body(body, "100", "{\"id\":\"6\",\"name\":\"laterpub\",\"type\":1}");
    cJSON_Delete(send_ok(f, body));
    d = wait_delivered(f, 2);
    assert_string_equal(d->content, "later");
    assert_false(d->is_ephemeral);
    assert_int_equal(later_runs, 2);
    free(body);
}

#define CHECKED(name, n) \
    "{\"id\":\"7\",\"name\":\"" name "\",\"type\":1,\"options\":[{\"name\":\"n\",\"type\":4,\"value\":" #n "}]}"

/* A command's check runs on the request thread before admission: a refusal is an immediate,
 * ephemeral answer that runs nothing, queues nothing and uses no cooldown. */
static void test_check_refuses_before_admission(void **state)
{
    struct fixture *f = *state;
    char *text = run_guild(f, "100", CHECKED("checked", -1), true);
    assert_string_equal(text, "n must not be negative");
    free(text);
    /* Unworded: the dispatcher's words, never empty. */
    text = run_guild(f, "100", CHECKED("checked", 0), true);
    assert_true(strlen(text) > 0);
    assert_contains(text, "/checked");
    free(text);
    assert_int_equal(check_runs, 2);
    assert_int_equal(checked_runs, 0);
    assert_int_equal(dispatch_jobs_queued(f->d) + dispatch_jobs_in_flight(f->d), 0);

    /* The refusals used no cooldown: the same user's valid call is deferred and runs. */
    char body[BODY_MAX];
    guild_body(body, "100", CHECKED("checked", 3));
    cJSON *root = send_ok(f, body);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "type")->valueint, 5);
    cJSON_Delete(root);
    struct delivered *d = wait_delivered(f, 1);
    assert_string_equal(d->content, "checked 3");
    assert_false(d->is_ephemeral);
    assert_int_equal(checked_runs, 1);

    /* While cooling down, a call its check refuses still gets the check's words. */
    text = run_guild(f, "100", CHECKED("checked", -1), true);
    assert_string_equal(text, "n must not be negative");
    free(text);
    assert_slow_down(run_guild(f, "100", CHECKED("checked", 4), true));

    /* An immediate command: the check, then the handler in the same response. */
    text = run_guild(f, "100", CHECKED("checknow", -5), true);
    assert_string_equal(text, "n must not be negative");
    free(text);
    text = run_guild(f, "100", CHECKED("checknow", 2), false);
    assert_string_equal(text, "checknow 2");
    free(text);
    assert_int_equal(checked_runs, 2);
}

/* A command awaiting two results runs its three steps once each and replies with both, whether
 * a result comes after its step returned or before. */
static void expect_awaits(struct fixture *f, int mode, size_t nth)
{
    char data[160], body[BODY_MAX];
    snprintf(data, sizeof data,
             "{\"id\":\"8\",\"name\":\"await\",\"type\":1,\"options\":[{\"name\":\"mode\",\"type\":4,\"value\":%d}]}",
             mode);
    guild_body(body, "100", data);
    cJSON_Delete(send_ok(f, body));
    assert_string_equal(wait_delivered(f, nth)->content, "got 1 and 2");
}

static void test_await_result_after_the_step(void **state)
{
    struct fixture *f = *state;
    expect_awaits(f, 0, 1);
    assert_int_equal(await_steps, 3);
}

static void test_await_result_before_the_step_returns(void **state)
{
    struct fixture *f = *state;
    expect_awaits(f, 1, 1);
    expect_awaits(f, 1, 2);
    assert_int_equal(await_steps, 6);
}

/* An immediate command cannot await (it answers on the request thread): it fails cleanly. */
static void test_immediate_cannot_await(void **state)
{
    struct fixture *f = *state;
    char *text = run_guild(f, "100", "{\"id\":\"9\",\"name\":\"echoawait\",\"type\":1}", false);
    assert_contains(text, "Command failed");
    free(text);
    assert_int_equal(await_steps, 0);
}

/* Once draining, deferred commands are refused with a message instead of a type 5. */
static void test_deferred_after_drain(void **state)
{
    struct fixture *f = *state;
    assert_true(dispatch_drain(f->d, clock_mono_ms() + 5000));
    char body[BODY_MAX];
    guild_body(body, "100", "{\"id\":\"6\",\"name\":\"later\",\"type\":1}");
    int http;
    cJSON *root = send_at(f, body, now_s() - 16 * 60, &http);
    assert_int_equal(http, 200);
    assert_true(strlen(message_content(root, true)) > 0);
    cJSON_Delete(root);
    assert_int_equal(dispatch_jobs_queued(f->d), 0);
}

static bool wait_for_block_runs(int runs, uint64_t timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    pthread_mutex_lock(&block.lock);
    while (block.runs < runs)
        if (pthread_cond_timedwait(&block.changed, &block.lock, &until) != 0)
            break;
    bool is_done = block.runs >= runs;
    pthread_mutex_unlock(&block.lock);
    return is_done;
}

/* Releases the blocking handler, drains, and checks how many times it ran in all. */
static void release_block_and_drain(struct fixture *f, int expected_runs)
{
    release_block();
    assert_true(dispatch_drain(f->d, clock_mono_ms() + 15000));
    pthread_mutex_lock(&block.lock);
    int runs = block.runs;
    pthread_mutex_unlock(&block.lock);
    assert_int_equal(runs, expected_runs);
}

/* Waits until the worker pool has n jobs waiting (the job stream moves them there). */
static bool wait_for_queued(struct fixture *f, size_t n, uint64_t timeout_ms)
{
    uint64_t until = clock_mono_ms() + timeout_ms;
    while (dispatch_jobs_queued(f->d) != n && clock_mono_ms() < until) {
        struct timespec pause = {.tv_sec = 0, .tv_nsec = 5000000L};
        nanosleep(&pause, NULL);
    }
    return dispatch_jobs_queued(f->d) == n;
}

/* One worker, JOB_QUEUE_MAX 2 (jobs accepted and not finished): a running job, a queued job,
 * then the third is refused. The running job's token ends BLOCK_WINDOW_S after signing, so
 * nothing is ever delivered. */
static void test_queue_full(void **state)
{
    struct fixture *f = *state;
    int64_t ts = now_s() - TOKEN_LIFETIME_S + BLOCK_WINDOW_S;
    pthread_mutex_lock(&block.lock);
    block.expires_at_ms = (uint64_t)(ts + TOKEN_LIFETIME_S) * 1000u;
    pthread_mutex_unlock(&block.lock);

    char body[BODY_MAX];
    guild_body(body, "100", "{\"id\":\"7\",\"name\":\"block\",\"type\":1}");
    int http;
    cJSON *root = send_at(f, body, ts, &http);
    assert_int_equal(http, 200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "type")->valueint, 5);
    cJSON_Delete(root);
    if (!wait_for_block_runs(1, (BLOCK_WINDOW_S - 1) * 1000))
        fail_msg("the worker did not start the first job in time");
    assert_int_equal(dispatch_jobs_in_flight(f->d), 1);
    assert_int_equal(dispatch_jobs_queued(f->d), 0);

    guild_body(body, "200", "{\"id\":\"7\",\"name\":\"block\",\"type\":1}");
    root = send_at(f, body, ts, &http);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "type")->valueint, 5);
    cJSON_Delete(root);
    assert_true(wait_for_queued(f, 1, 2000));

    /* The queue is full: an ephemeral "busy" message, not a type 5. */
    guild_body(body, "300", "{\"id\":\"7\",\"name\":\"block\",\"type\":1}");
    root = send_at(f, body, ts, &http);
    assert_int_equal(http, 200);
    char *busy = strdup(message_content(root, true));
    cJSON_Delete(root);
    assert_non_null(busy);
    assert_true(strlen(busy) > 0);
    assert_int_equal(dispatch_jobs_queued(f->d), 1);

    /* The queued job's token ended while it waited: it never ran. */
    release_block_and_drain(f, 1);

    /* Refused while draining says something else than "busy": retrying soon will work. */
    root = send_at(f, body, ts, &http);
    const char *draining = message_content(root, true);
    assert_true(strlen(draining) > 0);
    if (strcmp(busy, draining) == 0)
        fail_msg("a full queue and a drain give the same answer: \"%s\"", busy);
    cJSON_Delete(root);
    free(busy);
}

/* The same signed interaction three times (a retried POST): the same deferred answer each
 * time, one job. The handler blocks until released, so a second run would show in the count. */
static void test_duplicate_runs_once(void **state)
{
    struct fixture *f = *state;
    int64_t ts = now_s() - TOKEN_LIFETIME_S + BLOCK_WINDOW_S;
    pthread_mutex_lock(&block.lock);
    block.expires_at_ms = (uint64_t)(ts + TOKEN_LIFETIME_S) * 1000u;
    pthread_mutex_unlock(&block.lock);
    char body[BODY_MAX];
    guild_body(body, "100", "{\"id\":\"7\",\"name\":\"block\",\"type\":1}");
    for (int i = 0; i < 3; i++) {
        int http;
        cJSON *root = send_at(f, body, ts, &http);
        assert_int_equal(http, 200);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "type")->valueint, 5);
        cJSON_Delete(root);
    }
    if (!wait_for_block_runs(1, (BLOCK_WINDOW_S - 1) * 1000))
        fail_msg("the worker did not start the job in time");
    struct timespec settle = {.tv_sec = 0, .tv_nsec = 300000000L}; /* time for a second job to show up */
    nanosleep(&settle, NULL);
    assert_int_equal(dispatch_jobs_queued(f->d), 0);
    assert_int_equal(dispatch_jobs_in_flight(f->d), 1);
    release_block_and_drain(f, 1);
}

/* A duplicate of an immediate command with a cooldown is not "slow down": it gets the same
 * answer again (immediate handlers are pure), while a new interaction is limited. */
static void test_duplicate_immediate_is_answered_again(void **state)
{
    struct fixture *f = *state;
    char body[BODY_MAX];
    guild_body(body, "100", ECHO_HELLO);
    for (int i = 0; i < 2; i++) {
        cJSON *root = send_ok(f, body);
        assert_string_equal(message_content(root, true), "echo: hello");
        cJSON_Delete(root);
    }
    char *limited = run_guild(f, "100", ECHO_HELLO, true);
    assert_contains(limited, "Slow down");
    free(limited);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_interaction_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_immediate_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subcommand_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guild_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cooldown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_handler, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autocomplete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_component_and_modal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_component_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_or_tampered_component, setup, teardown),
        cmocka_unit_test_setup_teardown(test_component_deferred_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_component_shares_cooldown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autocomplete_declared_choices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_autocomplete_own_function, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guild_only_needs_the_server_install, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_ephemeral, setup_old_signatures, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_public, setup_old_signatures, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_after_drain, setup_old_signatures, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_reply_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_refuses_before_admission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_await_result_after_the_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_await_result_before_the_step_returns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_immediate_cannot_await, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_full, setup_queue_of_two, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_runs_once, setup_queue_of_two, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_immediate_is_answered_again, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
