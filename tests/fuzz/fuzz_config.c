/* fuzz_config.c — the configuration readers: config_load_dotenv() on a .env file holding the
 * input, config_load() on the environment that file produced (every variable Slimy reads can
 * be set by the input, none is set beforehand), and redis_url_parse() + redis_url_describe() on
 * the input's first line and on REDIS_URL when the file set it.
 *
 * The environment is the process's: Initialize clears Slimy's variables and snapshots the rest;
 * after each input every variable that is new or changed is removed or put back, so inputs do
 * not leak into each other. (glibc keeps every distinct NAME=VALUE string setenv() ever made;
 * that growth is glibc's, not a leak of Slimy's, and LeakSanitizer does not see it.) */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/redis_url.h"
#include "core/status.h"

extern char **environ;

static char path[128];
static char **baseline; /* "NAME=VALUE" copies of the environment after Initialize */
static size_t n_baseline;

/* Every variable config.c reads, plus the .env switch. */
static const char *const SLIMY_VARS[] = {"DISCORD_PUBLIC_KEY",
                                         "DISCORD_APPLICATION_ID",
                                         "DISCORD_CLIENT_ID",
                                         "DISCORD_GUILD_ID",
                                         "DISCORD_API_BASE",
                                         "DISCORD_TOKEN",
                                         "LOG_DIR",
                                         "DATA_DIR",
                                         "SQLITE_PATH",
                                         "DB_HOST",
                                         "DB_USER",
                                         "DB_PASSWORD",
                                         "DB_NAME",
                                         "OPENAI_BASE_URL",
                                         "OPENAI_API_KEY",
                                         "OPENAI_MODEL",
                                         "VISION_MODEL",
                                         "IMAGE_MODEL",
                                         "PERSONALITY_FILE",
                                         "ATTACHMENT_HOSTS",
                                         "PORT",
                                         "BIND",
                                         "LOG_LEVEL",
                                         "SIGNATURE_MAX_AGE_S",
                                         "HTTP_THREADS",
                                         "WORKER_THREADS",
                                         "JOB_QUEUE_MAX",
                                         "DRAIN_TIMEOUT_S",
                                         "DB_PORT",
                                         "DB_CONNECTION_LIMIT",
                                         "METRICS_TOKEN",
                                         "ERROR_WEBHOOK_URL",
                                         "WEBHOOK_INCLUDE_WARNINGS",
                                         "REDIS_URL",
                                         "REDIS_KEY_PREFIX",
                                         "JOB_CLAIM_IDLE_MS",
                                         "ENV_FILE"};

static void cleanup_file(void)
{
    unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof SLIMY_VARS / sizeof SLIMY_VARS[0]; i++)
        unsetenv(SLIMY_VARS[i]);
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, sizeof path, "%s/slimy-fuzz-env.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        abort();
    close(fd);
    atexit(cleanup_file);
    for (char **e = environ; *e; e++)
        n_baseline++;
    baseline = calloc(n_baseline + 1, sizeof *baseline);
    for (size_t i = 0; i < n_baseline; i++)
        if (!(baseline[i] = strdup(environ[i])))
            abort();
    return 0;
}

static bool in_baseline(const char *entry)
{
    for (size_t i = 0; i < n_baseline; i++)
        if (strcmp(baseline[i], entry) == 0)
            return true;
    return false;
}

/* Puts the environment back as Initialize left it. */
static void restore_environment(void)
{
    char *names[512];
    size_t n = 0;
    for (char **e = environ; *e && n < sizeof names / sizeof names[0]; e++) {
        if (in_baseline(*e))
            continue;
        const char *eq = strchr(*e, '=');
        size_t len = eq ? (size_t)(eq - *e) : strlen(*e);
        if (!(names[n] = strndup(*e, len)))
            abort();
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        unsetenv(names[i]);
        free(names[i]);
    }
    for (size_t i = 0; i < n_baseline; i++) {
        char *eq = strchr(baseline[i], '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *now = getenv(baseline[i]);
        if (!now || strcmp(now, eq + 1) != 0)
            setenv(baseline[i], eq + 1, 1);
        *eq = '=';
    }
}

static void redis(const char *text)
{
    struct redis_url url;
    char err[256], desc[512];
    if (redis_url_parse(text, &url, err, sizeof err) == SLIMY_OK) {
        redis_url_describe(&url, desc, sizeof desc);
        char tiny[6];
        redis_url_describe(&url, tiny, sizeof tiny);
        if (!memchr(url.host, '\0', sizeof url.host) || !memchr(url.password, '\0', sizeof url.password) ||
            !memchr(url.user, '\0', sizeof url.user) || !memchr(url.unix_path, '\0', sizeof url.unix_path))
            abort();
    } else if (!memchr(err, '\0', sizeof err)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first line, as a REDIS_URL. */
    const uint8_t *nl = memchr(data, '\n', size);
    char *first = strndup((const char *)data, nl ? (size_t)(nl - data) : size);
    if (!first)
        abort();
    redis(first);
    free(first);

    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    char err[CONFIG_ERROR_MAX];
    err[0] = '\0';
    (void)config_load_dotenv(path, err, sizeof err);
    if (!memchr(err, '\0', sizeof err))
        abort();
    const char *redis_env = getenv("REDIS_URL");
    if (redis_env)
        redis(redis_env);
    struct slimy_config cfg;
    memset(&cfg, 0, sizeof cfg);
    err[0] = '\0';
    if (config_load(&cfg, size && (data[0] & 1), err, sizeof err) == SLIMY_OK)
        config_cleanup(&cfg);
    else if (!memchr(err, '\0', sizeof err))
        abort();
    restore_environment();
    return 0;
}
