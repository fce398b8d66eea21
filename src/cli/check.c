/* check.c — `slimy check`; see check.h. The checks are a table of small functions, run in order;
 * those that need the configuration are skipped (WARN, "not checked") when it did not load.
 * Each writes one short text and returns its result; the runner prints and counts them. */
#include "cli/check.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "ai/openai.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/fetch.h"
#include "core/fetch_http.h"
#include "core/log.h"
#include "core/redis_url.h"
#include "core/status.h"
#include "kv/kv.h"
#include "store/migrations.h"
#include "store/store.h"

#define TEXT_MAX 768
#define NAME_WIDTH 11
#define AI_TIMEOUT_MS 5000L
#define AI_RESPONSE_MAX (256 * 1024)

extern char **environ;

struct check_ctx {
    const char *env_file; /* the .env serve reads: ENV_FILE, else ./.env */
    struct slimy_config cfg;
    bool config_ok;
};

typedef enum check_result (*check_fn)(struct check_ctx *c, char *text, size_t len);

struct check {
    const char *name;
    bool needs_config;
    check_fn run;
};

/* ---- output ---- */

int check_format_line(char *out, size_t cap, enum check_result result, const char *name, const char *text, bool colour)
{
    static const char *const words[] = {"PASS", "WARN", "FAIL"};
    static const char *const colours[] = {"\033[32m", "\033[33m", "\033[31m"};
    unsigned r = (unsigned)result <= CHECK_FAIL ? (unsigned)result : CHECK_FAIL;
    if (colour)
        return snprintf(out, cap, "%s%s\033[0m  %-*s %s\n", colours[r], words[r], NAME_WIDTH, name, text);
    return snprintf(out, cap, "%s  %-*s %s\n", words[r], NAME_WIDTH, name, text);
}

void check_redact_url(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *s = NULL;
    if (u && url && !curl_url_set(u, CURLUPART_URL, url, 0) && !curl_url_set(u, CURLUPART_USER, NULL, 0) &&
        !curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) && !curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) &&
        !curl_url_set(u, CURLUPART_QUERY, NULL, 0) && !curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) &&
        !curl_url_get(u, CURLUPART_URL, &s, 0))
        snprintf(out, cap, "%s", s);
    else
        snprintf(out, cap, "(invalid URL)");
    curl_free(s);
    curl_url_cleanup(u);
}

/* One line per check: control characters in a driver's or curl's message become spaces. */
static void flatten(char *text)
{
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

/* ---- configuration and Discord ---- */

static enum check_result check_config(struct check_ctx *c, char *text, size_t len)
{
    /* The same loading as serve: the .env first, the environment wins. */
    char err[CONFIG_ERROR_MAX] = "";
    if (config_load_with_env_file(&c->cfg, false, err, sizeof err)) {
        snprintf(text, len, "%s", err);
        return CHECK_FAIL;
    }
    c->config_ok = true;
    if (access(c->env_file, F_OK) == 0)
        snprintf(text, len, "valid (the environment and %s)", c->env_file);
    else
        snprintf(text, len, "valid (the environment; no %s)", c->env_file);
    return CHECK_PASS;
}

static enum check_result check_public_key(struct check_ctx *c, char *text, size_t len)
{
    if (!c->cfg.has_public_key) {
        snprintf(text, len, "DISCORD_PUBLIC_KEY is not set: serve needs it (serve --dev keys are for testing only)");
        return CHECK_FAIL;
    }
    snprintf(text, len, "DISCORD_PUBLIC_KEY is set");
    return CHECK_PASS;
}

static enum check_result check_register(struct check_ctx *c, char *text, size_t len)
{
    bool app = c->cfg.application_id[0] != '\0', token = c->cfg.bot_token != NULL;
    if (app && token) {
        snprintf(text, len, "DISCORD_APPLICATION_ID and DISCORD_TOKEN are set");
        return CHECK_PASS;
    }
    snprintf(text, len, "%s%s%s not set: `slimy register` needs %s (serving works without)",
             app ? "" : "DISCORD_APPLICATION_ID", !app && !token ? " and " : "", token ? "" : "DISCORD_TOKEN",
             !app && !token ? "them" : "it");
    return CHECK_WARN;
}

/* ---- the store ---- */

/* Compares the migrations the database has applied with those compiled in. */
static enum check_result migrations_verdict(struct store *st, char *text, size_t len)
{
    char **applied = NULL;
    size_t n_applied = 0, n_all = 0, pending = 0, known = 0;
    int rc = store_migrations_applied(st, &applied, &n_applied);
    if (rc) {
        snprintf(text, len, "%s: cannot read schema_migrations: %s", st->ops->name, slimy_strerror(rc));
        return CHECK_FAIL;
    }
    const struct migration *all = migrations_list(st->ops->name, &n_all);
    for (size_t i = 0; i < n_all; i++) {
        bool done = false;
        for (size_t j = 0; j < n_applied && !done; j++)
            done = strcmp(applied[j], all[i].name) == 0;
        pending += !done;
        known += done;
    }
    store_names_free(applied, n_applied);
    enum check_result r = CHECK_PASS;
    if (pending) {
        snprintf(text, len, "%s: reachable, %zu of %zu migrations pending: run `slimy migrate`", st->ops->name, pending,
                 n_all);
        r = CHECK_WARN;
    } else if (n_applied > known) {
        snprintf(text, len, "%s: reachable, %zu migrations applied that this build does not know (an older binary?)",
                 st->ops->name, n_applied - known);
        r = CHECK_WARN;
    } else {
        snprintf(text, len, "%s: reachable, all %zu migrations applied", st->ops->name, n_all);
    }
    return r;
}

static enum check_result check_store(struct check_ctx *c, char *text, size_t len)
{
    struct stat sb;
    if (!c->cfg.db_host && stat(c->cfg.sqlite_path, &sb) != 0 && errno == ENOENT) {
        /* Opening would create an empty file: a check leaves that to migrate and serve. */
        snprintf(text, len, "sqlite: %s does not exist yet: run `slimy migrate` (serve creates it too)",
                 c->cfg.sqlite_path);
        return CHECK_WARN;
    }
    struct store *st = NULL;
    char err[512] = "";
    int rc = store_open(&c->cfg, false, &st, err, sizeof err);
    if (rc) {
        snprintf(text, len, "database unreachable: %s", err[0] ? err : slimy_strerror(rc));
        return CHECK_FAIL;
    }
    enum check_result r;
    if ((rc = store_ping(st))) {
        snprintf(text, len, "%s database does not answer: %s", st->ops->name, slimy_strerror(rc));
        r = CHECK_FAIL;
    } else {
        r = migrations_verdict(st, text, len);
    }
    store_close(st);
    return r;
}

/* ---- Redis ---- */

static enum check_result check_redis(struct check_ctx *c, char *text, size_t len)
{
    if (!c->cfg.has_redis) {
        snprintf(text, len, "not configured (state in memory; set REDIS_URL to share it across replicas)");
        return CHECK_PASS;
    }
    char where[160], err[256] = "";
    redis_url_describe(&c->cfg.redis, where, sizeof where);
    struct kv *kv = NULL;
    int rc = kv_open(&c->cfg, &kv, err, sizeof err);
    if (rc) {
        snprintf(text, len, "Redis at %s: %s", where, err[0] ? err : slimy_strerror(rc));
        return CHECK_FAIL;
    }
    rc = kv_ping(kv);
    kv_close(kv);
    if (rc) {
        snprintf(text, len, "Redis at %s does not answer (%s): serve would fall back to this process's memory", where,
                 slimy_strerror(rc));
        return CHECK_FAIL;
    }
    snprintf(text, len, "Redis at %s answers (state shared across replicas)", where);
    return CHECK_PASS;
}

/* ---- the OpenAI-compatible server ---- */

/* The verdict on GET {base}/models; where is the base URL without credentials. */
static enum check_result ai_verdict(const struct fetch_response *resp, CURLcode cc, bool has_key, const char *where,
                                    char *text, size_t len)
{
    long status = resp->http_status;
    if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(text, len, "%s did not answer within %ld s", where, AI_TIMEOUT_MS / 1000);
        return CHECK_FAIL;
    }
    if (cc != CURLE_OK) {
        snprintf(text, len, "cannot reach %s: %s", where, curl_easy_strerror(cc));
        return CHECK_FAIL;
    }
    if (status == 401) {
        snprintf(text, len,
                 has_key ? "OPENAI_API_KEY refused: %s answered 401"
                         : "%s answered 401: it needs an API key (set OPENAI_API_KEY)",
                 where);
        return CHECK_FAIL;
    }
    if (status < 200 || status > 299) {
        snprintf(text, len, "%s answered HTTP %ld to GET /models", where, status);
        return CHECK_FAIL;
    }
    cJSON *body = cJSON_ParseWithLength(fetch_response_text(resp), resp->body.len);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(body, "data");
    if (cJSON_IsArray(data))
        snprintf(text, len, "%s answers (%d models listed)", where, cJSON_GetArraySize(data));
    else
        snprintf(text, len, "%s answers (HTTP %ld)", where, status);
    cJSON_Delete(body);
    return CHECK_PASS;
}

static enum check_result check_ai(struct check_ctx *c, char *text, size_t len)
{
    const struct slimy_config *cfg = &c->cfg;
    if (!ai_configured(cfg)) {
        snprintf(text, len,
                 "not configured: /chat, /dream and /snail analyze say AI is off (set OPENAI_API_KEY or "
                 "OPENAI_BASE_URL)");
        return CHECK_WARN;
    }
    char where[512], url[2048];
    check_redact_url(cfg->openai_base_url, where, sizeof where);
    snprintf(url, sizeof url, "%s/models", cfg->openai_base_url);
    fetch_global_init();
    struct buf auth;
    buf_init(&auth, 8192);
    struct fetch_response resp;
    fetch_response_init(&resp, AI_RESPONSE_MAX, true);
    CURL *easy = curl_easy_init();
    struct curl_slist *headers = NULL;
    enum check_result r = CHECK_FAIL;
    snprintf(text, len, "out of memory");
    if (!easy || (cfg->openai_api_key && (buf_printf(&auth, "Authorization: Bearer %s", cfg->openai_api_key) ||
                                          !(headers = curl_slist_append(NULL, auth.data)))))
        goto out;
    struct fetch_request req = {
        .url = url,
        .headers = headers,
        .user_agent = "Slimy/" SLIMY_VERSION,
        .timeout_ms = AI_TIMEOUT_MS,
    };
    if (fetch_request_setup(easy, &req, &resp))
        goto out;
    CURLcode cc = curl_easy_perform(easy);
    fetch_response_read(&resp, easy, cc);
    r = ai_verdict(&resp, cc, cfg->openai_api_key != NULL, where, text, len);
out:
    fetch_headers_free_wiped(headers); /* and our own copy of the credential below */
    if (easy)
        curl_easy_cleanup(easy);
    if (auth.data)
        sodium_memzero(auth.data, auth.len);
    buf_cleanup(&auth);
    fetch_response_cleanup(&resp);
    return r;
}

/* ---- secrets on disk ---- */

static enum check_result check_env_mode(struct check_ctx *c, char *text, size_t len)
{
    struct stat sb;
    if (stat(c->env_file, &sb) != 0) {
        if (errno == ENOENT) {
            snprintf(text, len, "no .env file (%s)", c->env_file);
            return CHECK_PASS;
        }
        snprintf(text, len, "cannot read %s: %s", c->env_file, strerror(errno));
        return CHECK_WARN;
    }
    unsigned mode = (unsigned)(sb.st_mode & 0777);
    if (mode & 077) {
        snprintf(text, len, "%s is open to group or others (mode %03o): chmod 600 %s", c->env_file, mode, c->env_file);
        return CHECK_WARN;
    }
    snprintf(text, len, "%s is private (mode %03o)", c->env_file, mode);
    return CHECK_PASS;
}

/* Runs argv (looked up in PATH) with no input and its output discarded; returns its exit status,
 * or -1 when it could not be started. */
static int run_quiet(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa))
        return -1;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static enum check_result check_git(struct check_ctx *c, char *text, size_t len)
{
    int in_tree = run_quiet((char *const[]){"git", "rev-parse", "--is-inside-work-tree", NULL});
    if (in_tree != 0) {
        snprintf(text, len, in_tree < 0 ? "git is not installed" : "not a git checkout");
        return CHECK_PASS;
    }
    const char *paths[] = {".env", c->env_file, "data/*.key"};
    char tracked[256] = "";
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        if (i == 1 && strcmp(paths[1], paths[0]) == 0)
            continue;
        char *argv[] = {"git", "ls-files", "--error-unmatch", "--", (char *)paths[i], NULL};
        if (run_quiet(argv) == 0) {
            size_t used = strlen(tracked);
            snprintf(tracked + used, sizeof tracked - used, "%s%s", used ? ", " : "", paths[i]);
        }
    }
    if (tracked[0]) {
        snprintf(text, len, "tracked by git: %s: untrack with `git rm --cached` and rotate the secrets", tracked);
        return CHECK_FAIL;
    }
    snprintf(text, len, "no .env or data/*.key tracked by git");
    return CHECK_PASS;
}

/* ---- the runner ---- */

static const struct check checks[] = {
    {"config", false, check_config},      {"public key", true, check_public_key},
    {"register", true, check_register},   {"database", true, check_store},
    {"redis", true, check_redis},         {"openai", true, check_ai},
    {".env mode", false, check_env_mode}, {"git", false, check_git},
};

static int usage(FILE *out, int code)
{
    fputs("Usage: slimy check\n"
          "  Checks the configuration (environment and .env), the Discord keys, the database, Redis,\n"
          "  the OpenAI-compatible server and that no secret is readable by others or tracked by git.\n"
          "  One line per check: PASS, WARN or FAIL. Exits 1 when any check fails.\n",
          out);
    return code;
}

int check_main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0)
            return usage(stdout, 0);
        fprintf(stderr, "slimy check: unknown option %s (try --help)\n", argv[i]);
        return 2;
    }
    log_open(LOG_CRITICAL, NULL); /* the drivers' own warnings would only repeat the lines below */
    struct check_ctx c = {.env_file = config_env_file()};
    const char *no_colour = getenv("NO_COLOR");
    bool colour = isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
    size_t counts[3] = {0};
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        char text[TEXT_MAX] = "", line[TEXT_MAX + 64];
        enum check_result r = CHECK_WARN;
        if (checks[i].needs_config && !c.config_ok)
            snprintf(text, sizeof text, "not checked: the configuration is invalid");
        else
            r = checks[i].run(&c, text, sizeof text);
        flatten(text);
        check_format_line(line, sizeof line, r, checks[i].name, text, colour);
        fputs(line, stdout);
        fflush(stdout);
        counts[r]++;
    }
    printf("%zu passed, %zu warned, %zu failed\n", counts[CHECK_PASS], counts[CHECK_WARN], counts[CHECK_FAIL]);
    if (c.config_ok)
        config_cleanup(&c.cfg);
    log_close();
    return counts[CHECK_FAIL] ? 1 : 0;
}
