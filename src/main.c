/* main.c — the `slimy` command line: serve, commands, register, migrate, check, version.
 * Start-up order for serve: config → logging → outbound engine and alerts → store → shared state (kv) →
 * dispatcher (job stream, workers) → HTTP listener → ready. Shutdown runs the same list backwards after a drain.
 * The engine comes first so that a dependency failing at start still reaches ERROR_WEBHOOK_URL. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <sodium.h>

#include "core/alert.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/fetch.h"
#include "core/log.h"
#include "core/process.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "ai/openai.h"
#include "cli/check.h"
#include "persona/persona.h"
#include "http/server.h"
#include "kv/kv.h"
#include "interactions/discord_rest.h"
#include "interactions/discord_register.h"
#include "interactions/dispatch.h"
#include "interactions/reply_sink.h"
#include "interactions/registration.h"
#include "store/migrations.h"
#include "store/store.h"

#define EXIT_USAGE 2

static const char USAGE[] =
    "Usage: slimy <command> [options]\n"
    "\n"
    "Slimy is a Discord HTTP interactions server.\n"
    "\n"
    "Commands:\n"
    "  serve [--dev]           run the server (PORT, BIND). --dev creates a local signing key\n"
    "                          under DATA_DIR when DISCORD_PUBLIC_KEY is not set\n"
    "  commands                print the command registration JSON\n"
    "  register [--guild ID]   publish the commands to Discord (needs DISCORD_TOKEN and\n"
    "                          DISCORD_APPLICATION_ID; a guild updates instantly)\n"
    "  migrate [--status]      apply pending database migrations (or list them)\n"
    "  check                   check the configuration, database, Redis, OpenAI and secrets\n"
    "  version                 print the version and git commit\n"
    "  help                    show this text\n"
    "\n"
    "Configuration comes from the environment and an optional ./.env file (see .env.example).\n";

static int fail_config(const char *err)
{
    fprintf(stderr, "slimy: configuration error: %s\n", err);
    return EXIT_USAGE;
}

/* Loads .env (ENV_FILE overrides the path) then the environment. */
static int load_config(struct slimy_config *cfg, bool require_public_key)
{
    char err[CONFIG_ERROR_MAX] = "";
    return config_load_with_env_file(cfg, require_public_key, err, sizeof err) ? fail_config(err) : 0;
}

/* ---- serve --dev: a local keypair so the server can run without a Discord application ---- */

/* Reads a hex key file. Only a regular file is read: a symbolic link (O_NOFOLLOW) or a FIFO,
 * device or directory at the path is SLIMY_EPERM, never followed or waited on. SLIMY_ENOTFOUND
 * when nothing is there, SLIMY_EINVAL when it is not len bytes of hex. */
static int read_hex_file(const char *path, unsigned char *out, size_t len, mode_t *mode)
{
    char hex[256] = "";
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SLIMY_ENOTFOUND : errno == ELOOP ? SLIMY_EPERM : SLIMY_EUNAVAILABLE;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return SLIMY_EPERM;
    }
    *mode = st.st_mode & 07777;
    ssize_t n = read(fd, hex, sizeof hex - 1);
    int err = errno;
    close(fd);
    if (n < 0) {
        errno = err; /* for the caller's message */
        return SLIMY_EUNAVAILABLE;
    }
    hex[n] = '\0';
    while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == ' ' || hex[n - 1] == '\r'))
        hex[--n] = '\0';
    size_t bin_len = 0;
    int rc = sodium_hex2bin(out, len, hex, (size_t)n, NULL, &bin_len, NULL) != 0 || bin_len != len ? SLIMY_EINVAL
                                                                                                   : SLIMY_OK;
    sodium_memzero(hex, sizeof hex);
    return rc;
}

/* Creates path with exactly mode and writes data as hex. The file must not exist: O_EXCL and
 * O_NOFOLLOW refuse anything already there, a symbolic link included (even a dangling one), so
 * the key never lands somewhere a link points to and is never readable by others for a moment.
 * Returns 0 or an errno value. */
static int write_hex_file(const char *path, const unsigned char *data, size_t len, mode_t mode)
{
    char hex[256];
    sodium_bin2hex(hex, sizeof hex, data, len);
    size_t n = strlen(hex);
    hex[n++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        int err = errno;
        sodium_memzero(hex, sizeof hex);
        return err;
    }
    int err = fchmod(fd, mode) == 0 ? 0 : errno; /* exactly mode, whatever the umask */
    for (size_t done = 0; !err && done < n;) {
        ssize_t w = write(fd, hex + done, n - done);
        if (w < 0 && errno != EINTR)
            err = errno;
        else if (w > 0)
            done += (size_t)w;
    }
    sodium_memzero(hex, sizeof hex);
    if (close(fd) != 0 && !err)
        err = errno;
    return err;
}

static int dev_keypair(struct slimy_config *cfg)
{
    char secret_path[4096], public_path[4096];
    snprintf(secret_path, sizeof secret_path, "%s/dev-secret.key", cfg->data_dir);
    snprintf(public_path, sizeof public_path, "%s/dev-public.key", cfg->data_dir);
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    mode_t mode = 0;
    int rc = read_hex_file(secret_path, sk, sizeof sk, &mode);
    if (rc == SLIMY_ENOTFOUND) {
        if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "slimy: cannot create DATA_DIR %s: %s\n", cfg->data_dir, strerror(errno));
            return EXIT_FAILURE;
        }
        crypto_sign_keypair(cfg->public_key, sk);
        int err = write_hex_file(secret_path, sk, sizeof sk, 0600);
        if (err) {
            sodium_memzero(sk, sizeof sk);
            fprintf(stderr, "slimy: cannot create the dev key %s: %s%s\n", secret_path, strerror(err),
                    err == EEXIST ? " (something appeared at that path meanwhile; remove it and try again)" : "");
            return EXIT_FAILURE;
        }
        /* The public key is only a convenience copy: a stale one (a link included) is replaced. */
        if (unlink(public_path) != 0 && errno != ENOENT)
            err = errno;
        if (!err)
            err = write_hex_file(public_path, cfg->public_key, 32, 0644);
        if (err) {
            sodium_memzero(sk, sizeof sk);
            fprintf(stderr, "slimy: cannot write the dev public key to %s: %s\n", public_path, strerror(err));
            return EXIT_FAILURE;
        }
    } else if (rc == SLIMY_EPERM) {
        fprintf(stderr,
                "slimy: %s is not a regular file (a symbolic link, FIFO, device or directory); refusing to use it "
                "as the dev key. Remove it to make a new key.\n",
                secret_path);
        return EXIT_FAILURE;
    } else if (rc == SLIMY_EUNAVAILABLE) {
        fprintf(stderr, "slimy: cannot read the dev key %s: %s\n", secret_path, strerror(errno));
        return EXIT_FAILURE;
    } else if (rc) {
        sodium_memzero(sk, sizeof sk);
        fprintf(stderr, "slimy: %s is not a hex Ed25519 secret key; delete it to make a new one\n", secret_path);
        return EXIT_FAILURE;
    } else {
        crypto_sign_ed25519_sk_to_pk(cfg->public_key, sk);
        if (mode & 077)
            fprintf(stderr, "slimy: warning: the dev key %s is readable by others (mode %03o); chmod 600 it\n",
                    secret_path, (unsigned)mode);
    }
    sodium_memzero(sk, sizeof sk);
    cfg->has_public_key = true;
    char pk_hex[65];
    sodium_bin2hex(pk_hex, sizeof pk_hex, cfg->public_key, 32);
    fprintf(stderr,
            "slimy: dev mode: using the local key in %s (public key %s)\n"
            "  Send a signed PING with the project's signing helper:\n"
            "    body='{\"type\":1}'\n"
            "    build/slimy-sign headers --key %s --body \"$body\" |\n"
            "      curl -s -H @- -H 'Content-Type: application/json' -d \"$body\" http://127.0.0.1:%u/interactions\n",
            secret_path, pk_hex, secret_path, cfg->port);
    return 0;
}

/* ---- serve ---- */

#define READINESS_CHECK_MS 2000

/* Waits for SIGTERM/SIGINT; meanwhile checks the database every couple of seconds so /ready
 * says 503 while it is down (the check never runs on an HTTP thread), and reopens the log files
 * on SIGHUP (logrotate renamed them). Returns the signal that stops the server. */
static int wait_for_signal(const sigset_t *signals, struct http_server *server, struct store *store)
{
    bool was_ready = false, first = true;
    for (;;) {
        bool ready = store_ping(store) == SLIMY_OK;
        if (ready != was_ready || first) {
            http_server_set_state(server, ready ? HTTP_READY : HTTP_STARTING);
            if (!ready)
                log_error("database unreachable: /ready answers 503", LOG_S("backend", store->ops->name));
            else if (!first)
                log_info("database reachable again: /ready answers 200");
            was_ready = ready;
            first = false;
        }
        struct timespec wait = {.tv_sec = READINESS_CHECK_MS / 1000, .tv_nsec = 0};
        int sig = sigtimedwait(signals, NULL, &wait);
        if (sig == SIGHUP) {
            if (log_reopen() == SLIMY_OK)
                log_info("log files reopened");
            else
                log_error("cannot reopen the log files: still writing to the old ones");
        } else if (sig > 0) {
            return sig;
        }
    }
}

/* Everything a running server holds, in start order. */
struct server_parts {
    struct fetch *engine;
    struct alert *alert; /* NULL without ERROR_WEBHOOK_URL */
    struct store *store;
    struct kv *kv;
    struct discord_rest *rest;
    struct ai_client *ai;
    struct persona *persona;
    struct dispatch *dispatch;
    struct http_server *server;
};

/* Opens the store and shared state, starts the outbound engine, the dispatcher and the HTTP
 * server. Returns SLIMY_OK, or a status after logging why; parts holds what did start. */
static int start_parts(const struct slimy_config *cfg, uint64_t started_at, struct server_parts *p)
{
    char err[512] = "";
    /* Before anything opens sockets: the HTTP connection limit and the outbound engine's
     * connections per host are both derived from it. */
    uint64_t fds = process_raise_fd_limit();
    log_info("descriptor limit", LOG_I("open_files", (int64_t)(fds > INT64_MAX ? INT64_MAX : fds)));
    int rc = fetch_start(&p->engine);
    if (rc) {
        log_critical("start-up failed", LOG_S("status", slimy_strerror(rc)));
        return rc;
    }
    if (cfg->error_webhook_url) {
        struct alert_options alerts = {.webhook_url = cfg->error_webhook_url,
                                       .include_warnings = cfg->webhook_include_warnings};
        if (alert_new(p->engine, &alerts, &p->alert) == SLIMY_OK)
            alert_attach(p->alert);
        else
            log_error("alerts are off: cannot set up ERROR_WEBHOOK_URL alerts");
    }
    rc = store_open(cfg, true, &p->store, err, sizeof err);
    if (rc) {
        log_critical("cannot open the database", LOG_S("error", err));
        return rc;
    }
    log_info("database open", LOG_S("backend", p->store->ops->name));
    if ((rc = kv_open(cfg, &p->kv, err, sizeof err))) {
        log_critical("cannot set up shared state", LOG_S("error", err));
        return rc;
    }
    rc = discord_rest_new(cfg, p->engine, &p->rest);
    if (!rc && ai_configured(cfg))
        rc = ai_client_new(cfg, p->engine, &p->ai);
    if (!rc)
        rc = persona_open(cfg->personality_file, &p->persona);
    if (!rc) {
        struct cmd_services deps = {.store = p->store,
                                    .ai = p->ai,
                                    .engine = p->engine,
                                    .kv = p->kv,
                                    .persona = p->persona};
        struct reply_sink sink = reply_sink_discord(p->rest);
        rc = dispatch_new(cfg, registry_commands, registry_count, &sink, &deps, &p->dispatch);
    }
    if (!rc && !p->ai)
        log_warn("AI is not configured: /chat, /dream and /snail analyze will say so (set OPENAI_API_KEY or "
                 "OPENAI_BASE_URL)");
    if (!rc)
        rc = http_server_start(cfg, p->dispatch, started_at, &p->server);
    if (rc)
        log_critical("start-up failed", LOG_S("status", slimy_strerror(rc)));
    return rc;
}

/* SIGTERM/SIGINT: stop taking work, then let queued jobs finish up to DRAIN_TIMEOUT_S. */
static void drain(const struct slimy_config *cfg, struct server_parts *p, int sig)
{
    struct dispatch *d = p->dispatch;
    log_info("shutting down", LOG_S("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
             LOG_I("queued", dispatch_jobs_queued(d)), LOG_I("in_flight", dispatch_jobs_in_flight(d)));
    http_server_set_state(p->server, HTTP_DRAINING);
    http_server_quiesce(p->server);
    if (dispatch_drain(d, clock_mono_ms() + (uint64_t)cfg->drain_timeout_s * 1000u))
        log_info("drained");
    else
        log_error("drain deadline passed with jobs unfinished", LOG_I("queued", dispatch_jobs_queued(d)),
                  LOG_I("in_flight", dispatch_jobs_in_flight(d)));
}

#define ALERT_FLUSH_MS 3000

static void stop_parts(struct server_parts *p)
{
    /* Callbacks stop first, then the workers: a late OpenAI or Discord answer can then never
     * reach a job that is being freed. Alerts already logged (a start-up failure, a failed drain)
     * get a bounded moment to leave before the engine stops; later lines are not alerted. */
    http_server_stop(p->server);
    alert_flush(p->alert, ALERT_FLUSH_MS);
    alert_detach(p->alert);
    fetch_stop(p->engine);
    dispatch_free(p->dispatch);
    fetch_free(p->engine);
    discord_rest_free(p->rest);
    ai_client_free(p->ai);
    kv_close(p->kv);
    persona_close(p->persona);
    store_close(p->store);
    alert_free(p->alert);
}

static int serve(int argc, char **argv)
{
    bool dev = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dev") == 0) {
            dev = true;
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("Usage: slimy serve [--dev]\n  Runs the interactions server on BIND:PORT.\n"
                   "  --dev  without DISCORD_PUBLIC_KEY, create or reuse a local key in DATA_DIR/dev-*.key\n");
            return 0;
        } else {
            fprintf(stderr, "slimy serve: unknown option %s (try --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    struct slimy_config cfg;
    int code = load_config(&cfg, !dev);
    if (code)
        return code;
    if (!cfg.has_public_key && (code = dev_keypair(&cfg))) {
        config_cleanup(&cfg);
        return code;
    }
    if (log_open(cfg.log_level, cfg.log_dir) != SLIMY_OK) {
        fprintf(stderr, "slimy: configuration error: LOG_DIR %s cannot be created or written\n", cfg.log_dir);
        config_cleanup(&cfg);
        return EXIT_USAGE;
    }
    if (!cfg.application_id[0])
        log_warn("DISCORD_APPLICATION_ID is not set: follow-ups use the application_id of each interaction");

    /* Signals are taken by sigwait() below, so every thread started from here blocks them; SIGHUP
     * too, which reopens the log files. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A file-size limit (ulimit -f, LimitFSIZE) must fail the write, not kill the server: SQLite then
     * reports an I/O error the user hears about, and logging carries on where it can. */
    signal(SIGXFSZ, SIG_IGN);

    struct server_parts parts = {0};
    if (start_parts(&cfg, clock_wall_ms(), &parts)) {
        code = EXIT_FAILURE;
    } else {
        log_info("ready", LOG_S("version", SLIMY_VERSION), LOG_S("commit", SLIMY_GIT_COMMIT),
                 LOG_I("workers", cfg.worker_threads), LOG_S("shared_state", kv_state_name(kv_state(parts.kv))),
                 LOG_B("dev", dev));
        drain(&cfg, &parts, wait_for_signal(&signals, parts.server, parts.store));
    }
    stop_parts(&parts);
    log_info("stopped");
    log_close();
    config_cleanup(&cfg);
    return code;
}

/* ---- migrate ---- */

static int do_migrate(int argc, char **argv)
{
    bool status_only = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0) {
            status_only = true;
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("Usage: slimy migrate [--status]\n"
                   "  Applies pending migrations to the configured database (DB_HOST, else SQLITE_PATH).\n"
                   "  --status  only list applied and pending migrations\n");
            return 0;
        } else {
            fprintf(stderr, "slimy migrate: unknown option %s (try --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    struct slimy_config cfg;
    int code = load_config(&cfg, false);
    if (code)
        return code;
    log_open(LOG_WARN, NULL);
    struct store *st = NULL;
    char err[512] = "";
    char **applied = NULL;
    size_t n_applied = 0;
    int rc = store_open(&cfg, !status_only, &st, err, sizeof err);
    if (rc) {
        fprintf(stderr, "slimy migrate: %s\n", err[0] ? err : slimy_strerror(rc));
        code = EXIT_FAILURE;
        goto out;
    }
    if ((rc = store_migrations_applied(st, &applied, &n_applied))) {
        fprintf(stderr, "slimy migrate: cannot read schema_migrations: %s\n", slimy_strerror(rc));
        code = EXIT_FAILURE;
        goto out;
    }
    size_t n = 0;
    const struct migration *all = migrations_list(st->ops->name, &n);
    size_t pending = 0;
    for (size_t i = 0; i < n; i++) {
        bool done = false;
        for (size_t j = 0; j < n_applied && !done; j++)
            done = strcmp(applied[j], all[i].name) == 0;
        pending += !done;
        if (status_only)
            printf("%-8s %s\n", done ? "applied" : "pending", all[i].name);
    }
    if (!status_only)
        printf("%s database is up to date (%zu migrations applied).\n", st->ops->name, n_applied);
    else
        printf("%s: %zu applied, %zu pending\n", st->ops->name, n - pending, pending);
out:
    store_names_free(applied, n_applied);
    store_close(st);
    config_cleanup(&cfg);
    return code;
}

/* ---- commands, register, version ---- */

static char *commands_json(void)
{
    cJSON *array = registration_json(registry_commands, registry_count);
    char *text = array ? cJSON_Print(array) : NULL;
    cJSON_Delete(array);
    return text;
}

static int print_commands(void)
{
    char *text = commands_json();
    if (!text) {
        fprintf(stderr, "slimy: out of memory\n");
        return EXIT_FAILURE;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

static int do_register(int argc, char **argv)
{
    const char *guild = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--guild") == 0 && i + 1 < argc) {
            guild = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            printf("Usage: slimy register [--guild ID]\n"
                   "  Replaces the application's commands on Discord with `slimy commands`.\n"
                   "  Global by default (DISCORD_GUILD_ID or --guild targets one server, instantly).\n");
            return 0;
        } else {
            fprintf(stderr, "slimy register: unknown option %s (try --help)\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    struct slimy_config cfg;
    int code = load_config(&cfg, false);
    if (code)
        return code;
    if (!guild && cfg.guild_id[0])
        guild = cfg.guild_id;
    char *json = commands_json();
    char err[512] = "";
    size_t n = 0;
    int rc = json ? discord_commands_register(&cfg, guild, json, &n, err, sizeof err) : SLIMY_ENOMEM;
    free(json);
    if (rc) {
        fprintf(stderr, "slimy register: %s\n", err[0] ? err : slimy_strerror(rc));
        code = rc == SLIMY_EINVAL ? EXIT_USAGE : EXIT_FAILURE;
    } else if (guild) {
        printf("Registered %zu commands in guild %s.\n", n, guild);
    } else {
        printf("Registered %zu global commands (Discord may take a while to show them everywhere).\n", n);
    }
    config_cleanup(&cfg);
    return code;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "slimy: libsodium failed to initialise\n");
        return EXIT_FAILURE;
    }
    const char *cmd = argc > 1 ? argv[1] : "help";
    if (strcmp(cmd, "serve") == 0)
        return serve(argc - 2, argv + 2);
    if (strcmp(cmd, "commands") == 0)
        return print_commands();
    if (strcmp(cmd, "register") == 0)
        return do_register(argc - 2, argv + 2);
    if (strcmp(cmd, "migrate") == 0)
        return do_migrate(argc - 2, argv + 2);
    if (strcmp(cmd, "check") == 0)
        return check_main(argc - 2, argv + 2);
    if (strcmp(cmd, "version") == 0) {
        printf("slimy %s (commit %s)\n", SLIMY_VERSION, SLIMY_GIT_COMMIT);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    fprintf(stderr, "slimy: unknown command '%s'\n\n%s", cmd, USAGE);
    return EXIT_USAGE;
}
