/* config.h — Slimy's configuration, read from the environment (optionally seeded from a
 * `.env` file). Every variable is listed in .env.example and README; a unit test checks that.
 * A bad value is a one-line error naming the variable; nothing is silently defaulted.
 * Loaded once at start-up, then read-only: any thread may read it. */
#ifndef SLIMY_CORE_CONFIG_H
#define SLIMY_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "core/redis_url.h"

#define CONFIG_ERROR_MAX 512

struct slimy_config {
    unsigned char public_key[32]; /* DISCORD_PUBLIC_KEY, decoded */
    bool has_public_key;
    char application_id[32];       /* DISCORD_APPLICATION_ID (alias DISCORD_CLIENT_ID); "" if unset */
    char *bot_token;               /* DISCORD_TOKEN, owned; NULL if unset. Never log it. */
    char guild_id[32];             /* DISCORD_GUILD_ID; "" = global registration */
    char *api_base;                /* DISCORD_API_BASE, owned, no trailing slash */
    uint16_t port;                 /* PORT */
    char bind[64];                 /* BIND: an IPv4 or IPv6 literal */
    enum log_level log_level;      /* LOG_LEVEL */
    char *log_dir;                 /* LOG_DIR, owned; "" = stdout only */
    uint32_t signature_max_age_s;  /* SIGNATURE_MAX_AGE_S: freshness window for the timestamp */
    unsigned http_threads;         /* HTTP_THREADS: libmicrohttpd thread pool size (0 = one per core) */
    unsigned worker_threads;       /* WORKER_THREADS: job workers */
    unsigned job_queue_max;        /* JOB_QUEUE_MAX: queued jobs beyond this are refused with a message */
    uint32_t drain_timeout_s;      /* DRAIN_TIMEOUT_S: how long SIGTERM waits for queued jobs */
    char *data_dir;                /* DATA_DIR: dev keys; owned */
    char *sqlite_path;             /* SQLITE_PATH: the embedded store (used when DB_HOST is unset); owned */
    char *db_host;                 /* DB_HOST: MariaDB host; NULL = SQLite; owned */
    uint16_t db_port;              /* DB_PORT */
    char *db_user;                 /* DB_USER; owned */
    char *db_password;             /* DB_PASSWORD; owned; never logged */
    char *db_name;                 /* DB_NAME; owned */
    unsigned db_connection_limit;  /* DB_CONNECTION_LIMIT: MariaDB pool size */
    char *openai_api_key;          /* OPENAI_API_KEY; owned; NULL if unset; never logged */
    char *openai_base_url;         /* OPENAI_BASE_URL, no trailing slash; owned */
    bool has_openai_base_url;      /* OPENAI_BASE_URL was set explicitly (a local server needs no key) */
    char *openai_model;            /* OPENAI_MODEL; owned */
    char *vision_model;            /* VISION_MODEL; owned */
    char *image_model;             /* IMAGE_MODEL; owned */
    char *personality_file;        /* PERSONALITY_FILE; owned */
    char *attachment_hosts;        /* ATTACHMENT_HOSTS: comma list of allowed download hosts; owned */
    uint32_t stream_interval_ms;   /* STREAM_EDIT_INTERVAL_MS: least time between edits of a streamed reply */
    bool has_redis;                /* REDIS_URL is set: shared state across replicas */
    struct redis_url redis;        /* REDIS_URL, parsed; its password is never logged */
    char redis_key_prefix[128];    /* REDIS_KEY_PREFIX: every Redis key starts with it */
    uint32_t job_claim_idle_ms;    /* JOB_CLAIM_IDLE_MS: a job held this long without a refresh is taken over */
    char *metrics_token;           /* METRICS_TOKEN: Bearer token /metrics requires; NULL = open; owned; never logged */
    char *error_webhook_url;       /* ERROR_WEBHOOK_URL: Discord webhook for alerts; NULL = none; owned; never logged */
    bool webhook_include_warnings; /* WEBHOOK_INCLUDE_WARNINGS: warnings are alerted too */
};

/* Reads `path` (KEY=VALUE lines, # comments, optional quotes) into the environment without
 * overriding variables already set. A missing file is not an error. On a malformed line
 * returns SLIMY_EINVAL with a message naming the file and line in err. */
int config_load_dotenv(const char *path, char *err, size_t err_len);

/* The .env file Slimy reads: ENV_FILE when set and not empty, else "./.env". */
const char *config_env_file(void);

/* What serve, check and every other command do: config_load_dotenv(config_env_file()), then
 * config_load(). Errors as those two. */
int config_load_with_env_file(struct slimy_config *cfg, bool require_public_key, char *err, size_t err_len);

/* Fills *cfg from the environment. `require_public_key` makes a missing DISCORD_PUBLIC_KEY an
 * error. Returns SLIMY_OK, or SLIMY_EINVAL with one line in err naming the variable.
 * On success release with config_cleanup(). */
int config_load(struct slimy_config *cfg, bool require_public_key, char *err, size_t err_len);
void config_cleanup(struct slimy_config *cfg);

#endif
