/* config.c — environment and .env parsing into struct slimy_config; see config.h.
 * Each variable has one parse call in config_load(), so the list of names lives in one place. */
#include "core/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "core/status.h"

#define DEFAULT_API_BASE "https://discord.com/api/v10"

static void fail(char *err, size_t err_len, const char *fmt, const char *name, const char *value)
{
    snprintf(err, err_len, fmt, name, value ? value : "");
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return (v && *v) ? v : NULL;
}

/* Unsigned integer in [min, max]; absent → def. */
static int parse_uint(const char *name, unsigned long def, unsigned long min, unsigned long max, unsigned long *out,
                      char *err, size_t err_len)
{
    const char *v = env(name);
    if (!v) {
        *out = def;
        return SLIMY_OK;
    }
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || *end || v[0] == '-' || n < min || n > max) {
        char fmt[160];
        snprintf(fmt, sizeof fmt, "%%s must be a whole number from %lu to %lu (got \"%%s\")", min, max);
        fail(err, err_len, fmt, name, v);
        return SLIMY_EINVAL;
    }
    *out = n;
    return SLIMY_OK;
}

static bool is_ip_literal(const char *s)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static bool is_snowflake(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int parse_snowflake(const char *name, const char *alias, char out[32], char *err, size_t err_len)
{
    const char *used = name;
    const char *v = env(name);
    if (!v && alias) {
        v = env(alias);
        used = alias;
    }
    out[0] = '\0';
    if (!v)
        return SLIMY_OK;
    if (!is_snowflake(v)) {
        fail(err, err_len, "%s must be a Discord id (digits only, got \"%s\")", used, v);
        return SLIMY_EINVAL;
    }
    snprintf(out, 32, "%s", v);
    return SLIMY_OK;
}

/* Decodes a 64-hex-char Ed25519 public key. */
static bool config_parse_public_key(const char *hex, unsigned char out[32])
{
    size_t n = 0;
    const char *end = NULL;
    if (strlen(hex) != 64)
        return false;
    return sodium_hex2bin(out, 32, hex, 64, NULL, &n, &end) == 0 && n == 32 && *end == '\0';
}

static char *dup_or(const char *v, const char *def)
{
    const char *s = v ? v : def;
    return s ? strdup(s) : NULL;
}

/* DISCORD_*: the public key, the ids and the API base. */
static int load_discord(struct slimy_config *cfg, bool require_public_key, char *err, size_t err_len)
{
    const char *key = env("DISCORD_PUBLIC_KEY");
    if (key) {
        if (!config_parse_public_key(key, cfg->public_key)) {
            fail(err, err_len, "%s must be 64 hex characters (the application's public key)%s", "DISCORD_PUBLIC_KEY",
                 "");
            return SLIMY_EINVAL;
        }
        cfg->has_public_key = true;
    } else if (require_public_key) {
        fail(err, err_len, "%s is not set: copy it from the Developer Portal (or run `slimy serve --dev`)%s",
             "DISCORD_PUBLIC_KEY", "");
        return SLIMY_EINVAL;
    }
    int rc = parse_snowflake("DISCORD_APPLICATION_ID", "DISCORD_CLIENT_ID", cfg->application_id, err, err_len);
    if (!rc)
        rc = parse_snowflake("DISCORD_GUILD_ID", NULL, cfg->guild_id, err, err_len);
    if (rc)
        return rc;
    const char *base = env("DISCORD_API_BASE");
    if (base && strncmp(base, "https://", 8) != 0 && strncmp(base, "http://", 7) != 0) {
        fail(err, err_len, "%s must start with https:// or http:// (got \"%s\")", "DISCORD_API_BASE", base);
        return SLIMY_EINVAL;
    }
    cfg->api_base = dup_or(base, DEFAULT_API_BASE);
    cfg->bot_token = dup_or(env("DISCORD_TOKEN"), NULL);
    return SLIMY_OK;
}

/* The text settings: paths, the database, the AI server, the download allowlist. */
static int load_text(struct slimy_config *cfg, char *err, size_t err_len)
{
    const char *log_dir = getenv("LOG_DIR"); /* set but empty means stdout only */
    cfg->log_dir = dup_or(log_dir, "./logs");
    cfg->data_dir = dup_or(env("DATA_DIR"), "./data");
    cfg->sqlite_path = dup_or(env("SQLITE_PATH"), "./data/slimy.db");
    cfg->db_host = dup_or(env("DB_HOST"), NULL);
    cfg->db_user = dup_or(env("DB_USER"), "slimy");
    cfg->db_password = dup_or(getenv("DB_PASSWORD"), "");
    cfg->db_name = dup_or(env("DB_NAME"), "slimy");
    const char *openai_base = env("OPENAI_BASE_URL");
    if (openai_base && strncmp(openai_base, "https://", 8) != 0 && strncmp(openai_base, "http://", 7) != 0) {
        fail(err, err_len, "%s must start with https:// or http:// (got \"%s\")", "OPENAI_BASE_URL", openai_base);
        return SLIMY_EINVAL;
    }
    cfg->has_openai_base_url = openai_base != NULL;
    cfg->openai_base_url = dup_or(openai_base, "https://api.openai.com/v1");
    cfg->openai_api_key = dup_or(env("OPENAI_API_KEY"), NULL);
    cfg->openai_model = dup_or(env("OPENAI_MODEL"), "gpt-4o");
    cfg->vision_model = dup_or(env("VISION_MODEL"), "gpt-4o");
    cfg->image_model = dup_or(env("IMAGE_MODEL"), "dall-e-3");
    cfg->personality_file = dup_or(env("PERSONALITY_FILE"), "./bot-personality.md");
    cfg->attachment_hosts = dup_or(env("ATTACHMENT_HOSTS"), "cdn.discordapp.com,media.discordapp.net");
    if (!cfg->api_base || !cfg->log_dir || !cfg->data_dir || !cfg->sqlite_path || !cfg->db_user || !cfg->db_password ||
        !cfg->db_name || !cfg->openai_base_url || !cfg->openai_model || !cfg->vision_model || !cfg->image_model ||
        !cfg->personality_file || !cfg->attachment_hosts) {
        snprintf(err, err_len, "out of memory while reading the configuration");
        return SLIMY_ENOMEM;
    }
    for (char *url = cfg->api_base; url; url = url == cfg->api_base ? cfg->openai_base_url : NULL) {
        size_t blen = strlen(url);
        while (blen > 0 && url[blen - 1] == '/')
            url[--blen] = '\0';
    }
    return SLIMY_OK;
}

/* Reads variable `name` as an unsigned integer in [min, max] (def when unset) into field. */
#define LOAD_UINT(name, def, min, max, field)                             \
    do {                                                                  \
        unsigned long value_;                                             \
        int rc_ = parse_uint(name, def, min, max, &value_, err, err_len); \
        if (rc_)                                                          \
            return rc_;                                                   \
        (field) = (__typeof__(field))value_;                              \
    } while (0)

/* Where to listen, what to log, and the sizes and timeouts. */
static int load_serving(struct slimy_config *cfg, char *err, size_t err_len)
{
    LOAD_UINT("PORT", 8080, 1, 65535, cfg->port);
    const char *bind = env("BIND");
    snprintf(cfg->bind, sizeof cfg->bind, "%s", bind ? bind : "0.0.0.0");
    if (!is_ip_literal(cfg->bind)) {
        fail(err, err_len, "%s must be an IPv4 or IPv6 address such as 0.0.0.0 or 127.0.0.1 (got \"%s\")", "BIND",
             cfg->bind);
        return SLIMY_EINVAL;
    }
    const char *level = env("LOG_LEVEL");
    cfg->log_level = LOG_INFO;
    if (level && !log_level_parse(level, &cfg->log_level)) {
        fail(err, err_len, "%s must be one of debug, info, warn, error, critical (got \"%s\")", "LOG_LEVEL", level);
        return SLIMY_EINVAL;
    }
    LOAD_UINT("SIGNATURE_MAX_AGE_S", 300, 1, 86400, cfg->signature_max_age_s);
    LOAD_UINT("HTTP_THREADS", 0, 0, 256, cfg->http_threads);
    LOAD_UINT("WORKER_THREADS", 4, 1, 256, cfg->worker_threads);
    LOAD_UINT("JOB_QUEUE_MAX", 10000, 1, 1000000, cfg->job_queue_max);
    LOAD_UINT("DRAIN_TIMEOUT_S", 30, 0, 900, cfg->drain_timeout_s);
    LOAD_UINT("DB_PORT", 3306, 1, 65535, cfg->db_port);
    LOAD_UINT("DB_CONNECTION_LIMIT", 10, 1, 1000, cfg->db_connection_limit);
    /* Past a few edits a second Discord's webhook limits bite; past a minute nothing streams. */
    LOAD_UINT("STREAM_EDIT_INTERVAL_MS", 1000, 250, 60000, cfg->stream_interval_ms);
    return SLIMY_OK;
}

/* Operations: the metrics token and where alerts go. */
static int load_operations(struct slimy_config *cfg, char *err, size_t err_len)
{
    cfg->metrics_token = dup_or(env("METRICS_TOKEN"), NULL);
    const char *webhook = env("ERROR_WEBHOOK_URL");
    if (webhook && strncmp(webhook, "https://", 8) != 0 && strncmp(webhook, "http://", 7) != 0) {
        /* The URL is a secret (it carries the webhook's token): the message never shows it. */
        fail(err, err_len, "%s must be an https:// URL (a Discord webhook URL)%s", "ERROR_WEBHOOK_URL", "");
        return SLIMY_EINVAL;
    }
    cfg->error_webhook_url = dup_or(webhook, NULL);
    const char *warnings = env("WEBHOOK_INCLUDE_WARNINGS");
    if (warnings && strcmp(warnings, "true") != 0 && strcmp(warnings, "false") != 0) {
        fail(err, err_len, "%s must be true or false (got \"%s\")", "WEBHOOK_INCLUDE_WARNINGS", warnings);
        return SLIMY_EINVAL;
    }
    cfg->webhook_include_warnings = warnings && strcmp(warnings, "true") == 0;
    if ((env("METRICS_TOKEN") && !cfg->metrics_token) || (webhook && !cfg->error_webhook_url)) {
        snprintf(err, err_len, "out of memory while reading the configuration");
        return SLIMY_ENOMEM;
    }
    return SLIMY_OK;
}

/* REDIS_*: shared state across replicas, and how long a job claim lasts. */
static int load_redis(struct slimy_config *cfg, char *err, size_t err_len)
{
    const char *redis = env("REDIS_URL");
    int rc = redis ? redis_url_parse(redis, &cfg->redis, err, err_len) : SLIMY_OK;
    if (rc)
        return rc;
    cfg->has_redis = redis != NULL;
    const char *prefix = getenv("REDIS_KEY_PREFIX"); /* set but empty: no prefix */
    if (prefix && strlen(prefix) >= sizeof cfg->redis_key_prefix) {
        fail(err, err_len, "%s must be shorter than 128 bytes (got \"%s\")", "REDIS_KEY_PREFIX", prefix);
        return SLIMY_EINVAL;
    }
    snprintf(cfg->redis_key_prefix, sizeof cfg->redis_key_prefix, "%s", prefix ? prefix : "slimy:");
    /* A claim must outlive the refresh period (a quarter of it) by a wide margin, and be taken
     * over long before the 15-minute token ends. */
    LOAD_UINT("JOB_CLAIM_IDLE_MS", 15000, 1000, 300000, cfg->job_claim_idle_ms);
    return SLIMY_OK;
}

int config_load(struct slimy_config *cfg, bool require_public_key, char *err, size_t err_len)
{
    memset(cfg, 0, sizeof *cfg);
    int rc = load_discord(cfg, require_public_key, err, err_len);
    if (!rc)
        rc = load_text(cfg, err, err_len);
    if (!rc)
        rc = load_serving(cfg, err, err_len);
    if (!rc)
        rc = load_redis(cfg, err, err_len);
    if (!rc)
        rc = load_operations(cfg, err, err_len);
    if (rc)
        config_cleanup(cfg);
    return rc;
}

const char *config_env_file(void)
{
    const char *path = getenv("ENV_FILE");
    return path && *path ? path : ".env";
}

int config_load_with_env_file(struct slimy_config *cfg, bool require_public_key, char *err, size_t err_len)
{
    int rc = config_load_dotenv(config_env_file(), err, err_len);
    return rc ? rc : config_load(cfg, require_public_key, err, err_len);
}

void config_cleanup(struct slimy_config *cfg)
{
    free(cfg->api_base);
    if (cfg->bot_token)
        sodium_memzero(cfg->bot_token, strlen(cfg->bot_token));
    free(cfg->bot_token);
    free(cfg->log_dir);
    free(cfg->data_dir);
    free(cfg->sqlite_path);
    free(cfg->db_host);
    free(cfg->db_user);
    if (cfg->db_password)
        sodium_memzero(cfg->db_password, strlen(cfg->db_password));
    free(cfg->db_password);
    free(cfg->db_name);
    if (cfg->openai_api_key)
        sodium_memzero(cfg->openai_api_key, strlen(cfg->openai_api_key));
    free(cfg->openai_api_key);
    free(cfg->openai_base_url);
    free(cfg->openai_model);
    free(cfg->vision_model);
    free(cfg->image_model);
    free(cfg->personality_file);
    sodium_memzero(cfg->redis.password, sizeof cfg->redis.password);
    free(cfg->attachment_hosts);
    if (cfg->metrics_token)
        sodium_memzero(cfg->metrics_token, strlen(cfg->metrics_token));
    free(cfg->metrics_token);
    if (cfg->error_webhook_url)
        sodium_memzero(cfg->error_webhook_url, strlen(cfg->error_webhook_url));
    free(cfg->error_webhook_url);
    cfg->openai_api_key = cfg->openai_base_url = cfg->openai_model = cfg->vision_model = NULL;
    cfg->image_model = cfg->personality_file = cfg->attachment_hosts = NULL;
    cfg->api_base = cfg->bot_token = cfg->log_dir = cfg->data_dir = NULL;
    cfg->sqlite_path = cfg->db_host = cfg->db_user = cfg->db_password = cfg->db_name = NULL;
}

/* ---- .env ---- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

#define DOTENV_LINE_MAX_BYTES (64 * 1024) /* a longer line is refused, never split into two settings */

int config_load_dotenv(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return SLIMY_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    int rc = SLIMY_OK;
    /* Whole lines of any length up to the cap: a fixed buffer would read the rest of a long line
     * as a line of its own. */
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len > DOTENV_LINE_MAX_BYTES) {
            snprintf(err, err_len, "%s:%d: line longer than %d bytes", path, lineno, DOTENV_LINE_MAX_BYTES);
            rc = SLIMY_EINVAL;
            break;
        }
        if (memchr(line, '\0', (size_t)len)) {
            snprintf(err, err_len, "%s:%d: NUL byte in the line", path, lineno);
            rc = SLIMY_EINVAL;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            snprintf(err, err_len, "%s:%d: expected KEY=VALUE", path, lineno);
            rc = SLIMY_EINVAL;
            break;
        }
        *eq = '\0';
        char *name = trim(s);
        char *value = trim(eq + 1);
        /* A quoted value may be followed by spaces and a comment: KEY="a b" # note */
        char *close = (value[0] == '"' || value[0] == '\'') ? strchr(value + 1, value[0]) : NULL;
        char *rest = close ? close + 1 : NULL;
        while (rest && (*rest == ' ' || *rest == '\t'))
            rest++;
        if (rest && (*rest == '\0' || *rest == '#')) {
            *close = '\0';
            value++;
        } else {
            char *hash = strstr(value, " #"); /* inline comment after an unquoted value */
            if (hash)
                *hash = '\0';
            value = trim(value);
        }
        setenv(name, value, 0);
    }
    if (rc == SLIMY_OK && ferror(f)) {
        snprintf(err, err_len, "%s: cannot be read: %s", path, strerror(errno));
        rc = SLIMY_EUNAVAILABLE;
    }
    if (line)
        sodium_memzero(line, cap); /* it may have held a secret (DISCORD_TOKEN=...) */
    free(line);
    fclose(f);
    return rc;
}
