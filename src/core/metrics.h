/* metrics.h — this replica's counters, gauges and histograms, rendered for GET /metrics
 * (Prometheus text exposition format 0.0.4) and GET /metrics.json (the original bot's shape).
 *
 * What it is for. Operators scrape every replica; Grafana and the alerts sum over them. The
 * names and labels below are a contract (dashboards are built on them): change none of them
 * without telling whoever owns the dashboards. /diag's cluster-wide command totals are a
 * different thing (interactions/command_stats.h): these are this process's counts since it
 * started, and nothing here is shared with other replicas.
 *
 * The catalogue (one family per line; every family has its # HELP and # TYPE lines):
 *   slimy_build_info{version,commit} 1                       gauge
 *   slimy_uptime_seconds                                     gauge   (metrics_view)
 *   slimy_process_resident_memory_bytes                      gauge   (/proc/self/statm)
 *   slimy_http_connections_open                              gauge   metrics_connection_opened/closed
 *   slimy_interactions_total{type,outcome}                   counter metrics_interaction
 *   slimy_signature_failures_total{reason}                   counter metrics_signature_failure
 *   slimy_commands_total{command,outcome}                    counter metrics_command_done
 *   slimy_command_duration_seconds{command}                  histogram metrics_command_done
 *   slimy_cooldown_hits_total{command}                       counter metrics_cooldown_hit
 *   slimy_dedupe_hits_total                                  counter metrics_dedupe_hit
 *   slimy_jobs_queued, slimy_jobs_in_flight                  gauges  (metrics_view)
 *   slimy_jobs_retried_total                                 counter metrics_job_retried
 *   slimy_jobs_dropped_total{reason}                         counter metrics_job_dropped
 *   slimy_discord_requests_total{route,status}               counter metrics_discord_request
 *   slimy_discord_rate_limited_total{scope}                  counter metrics_discord_rate_limited
 *   slimy_openai_requests_total{kind,status}                 counter metrics_openai_request
 *   slimy_openai_request_duration_seconds{kind}              histogram metrics_openai_request
 *   slimy_store_errors_total{backend}                        counter metrics_store_error
 *   slimy_store_up                                           gauge   metrics_set_store_up
 *   slimy_redis_errors_total                                 counter metrics_redis_error
 *   slimy_shared_state{state}                                gauge   (metrics_view)
 *
 * Labels are a small fixed set, so the number of series is bounded: every label value but the
 * command path comes from an enum here, and a command path is the registry's (the dispatcher
 * records only paths it found there). No interaction token, user id or user text ever becomes a
 * label or a value: callers pass enums, HTTP statuses, durations and status codes.
 *
 * Threads. Every recording function is safe from any thread and takes no lock: each is one or
 * two relaxed atomic additions on a static array indexed by an enum. The command table is a
 * fixed open-addressing table of paths (METRICS_COMMANDS_MAX slots) whose slots are claimed with
 * a compare-and-swap, so finding a command's counters is a hash and a string compare, lock-free.
 * Nothing needs initialising: the storage is static and zero means zero. The renderers read the
 * atomics one by one (a scrape may see a request counted in one family and not yet in another;
 * within one histogram the buckets, +Inf and _count always agree) and may run on any thread.
 * Counters only grow (Prometheus handles the process restart); metrics_reset() is for tests. */
#ifndef SLIMY_CORE_METRICS_H
#define SLIMY_CORE_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"

/* What GET /metrics answers with. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

#define METRICS_COMMANDS_MAX 128    /* distinct command paths; later ones are not counted */
#define METRICS_PATH_MAX 64         /* bytes of a command path, NUL included (KV_PATH_MAX) */
#define METRICS_SIGNATURE_REASONS 8 /* reason codes 0..7 (enum verify_result fits) */
#define METRICS_RECENT_ERRORS 3     /* recentMessages kept per command in /metrics.json */

/* slimy_interactions_total's type label. */
enum metrics_interaction_type {
    METRICS_INTERACTION_PING,
    METRICS_INTERACTION_COMMAND,
    METRICS_INTERACTION_AUTOCOMPLETE,
    METRICS_INTERACTION_COMPONENT,
    METRICS_INTERACTION_MODAL,
    METRICS_INTERACTION_UNKNOWN, /* not parsed yet (bad signature, bad JSON, too big) or a type we do not know */
    METRICS_INTERACTION_TYPE_COUNT
};

/* slimy_jobs_dropped_total's reason label: why a deferred command ran without a reply reaching
 * Discord, or never ran. */
enum metrics_job_drop {
    METRICS_DROP_EXPIRED,         /* its interaction token ended before it ran */
    METRICS_DROP_QUEUE_FULL,      /* refused at admission: the job queue was full */
    METRICS_DROP_UNDECODABLE,     /* a stream entry this build cannot run */
    METRICS_DROP_DELIVERY_FAILED, /* it ran, but its reply never reached Discord */
    METRICS_DROP_COUNT
};

/* slimy_discord_requests_total's route label. */
enum metrics_discord_route {
    METRICS_ROUTE_ORIGINAL, /* PATCH @original */
    METRICS_ROUTE_FOLLOWUP, /* POST a follow-up */
    METRICS_ROUTE_REGISTER, /* PUT the command list (slimy register) */
    METRICS_ROUTE_COUNT
};

/* slimy_discord_rate_limited_total's scope label. */
enum metrics_rate_limit_scope {
    METRICS_RATE_LIMIT_BUCKET,
    METRICS_RATE_LIMIT_GLOBAL,
    METRICS_RATE_LIMIT_COUNT
};

/* slimy_openai_requests_total's kind label. */
enum metrics_ai_kind {
    METRICS_AI_CHAT,
    METRICS_AI_IMAGE,
    METRICS_AI_KIND_COUNT
};

/* slimy_store_errors_total's backend label. */
enum metrics_store_backend {
    METRICS_STORE_SQLITE,
    METRICS_STORE_MARIADB,
    METRICS_STORE_BACKEND_COUNT
};

/* slimy_shared_state's state label (kv.h's enum kv_state, seen from outside core). */
enum metrics_shared_state {
    METRICS_SHARED_REDIS,           /* Redis answering: state shared with the other replicas */
    METRICS_SHARED_MEMORY,          /* no REDIS_URL: this process's memory by choice */
    METRICS_SHARED_MEMORY_FALLBACK, /* REDIS_URL set, Redis unreachable: memory until it returns */
    METRICS_SHARED_STATE_COUNT
};

/* ---- recording (any thread, lock-free) ---- */

/* One answer of POST /interactions, by interaction type and the HTTP status answered: 2xx and
 * 3xx count as outcome "ok", 4xx as "rejected" (bad signature 401, bad JSON 400, too big 413),
 * anything else as "error". */
void metrics_interaction(enum metrics_interaction_type type, int http_status);

/* A request refused for its signature. reason is a small code (0 .. METRICS_SIGNATURE_REASONS-1;
 * others are ignored) and name its label value, a static string (verify_result_name()); the
 * first name given for a code is kept. */
void metrics_signature_failure(unsigned reason, const char *name);
/* Names a reason code without counting, so its series shows 0 before the first failure. */
void metrics_signature_reason(unsigned reason, const char *name);

/* Makes path ("snail calc": a registry path, never request data) known, so its series show 0
 * before its first run. The dispatcher registers every leaf of the registry when it starts.
 * SLIMY_OK (also when already known), SLIMY_EINVAL for NULL, "" or a path of
 * METRICS_PATH_MAX bytes or more, SLIMY_ETOOBIG when the table is full. */
int metrics_command_register(const char *path);
/* One finished run of path: status SLIMY_OK counts as outcome "ok", anything else as "failed"
 * (and as an error of that command in /metrics.json, with slimy_strerror(status) as its
 * message); elapsed_us is the run's time. An unknown path is registered first (bounded by the
 * table). */
void metrics_command_done(const char *path, int status, uint64_t elapsed_us);
/* A user refused by path's cooldown. */
void metrics_cooldown_hit(const char *path);
/* An interaction seen before (dedupe): answered again, nothing run again. */
void metrics_dedupe_hit(void);

/* A job taken over from a replica that stopped refreshing its claim (it died or stalled). */
void metrics_job_retried(void);
void metrics_job_dropped(enum metrics_job_drop reason);

/* One HTTP request to Discord: http_status is the answer's status, 0 when none came (network
 * error, timeout). The status label is its class (2xx, 3xx, 4xx, 5xx), 429 on its own, or
 * "error" for 0 and anything outside 200..599. */
void metrics_discord_request(enum metrics_discord_route route, long http_status);
void metrics_discord_rate_limited(enum metrics_rate_limit_scope scope);

/* One HTTP request (one attempt; retries count again) to the OpenAI-compatible API: its status
 * as for Discord, and how long it took. */
void metrics_openai_request(enum metrics_ai_kind kind, long http_status, uint64_t elapsed_us);

/* A store operation failed for a reason other than its input (the database is unreachable or
 * broken, or memory ran out). */
void metrics_store_error(enum metrics_store_backend backend);
/* The last readiness check of the store: slimy_store_up is 1 after true, 0 after false (and 0
 * until the first check). */
void metrics_set_store_up(bool up);
/* A call to Redis failed (it was answered from memory instead). */
void metrics_redis_error(void);

/* An HTTP connection was accepted / closed (slimy_http_connections_open). */
void metrics_connection_opened(void);
void metrics_connection_closed(void);

/* ---- rendering (any thread) ---- */

/* What only the caller knows, read at scrape time. */
struct metrics_view {
    uint64_t uptime_s;
    uint64_t jobs_queued, jobs_in_flight;
    enum metrics_shared_state shared_state;
};

/* Appends the whole exposition (Prometheus text 0.0.4, families in catalogue order, command
 * series sorted by path) to out. SLIMY_OK, or SLIMY_ENOMEM / SLIMY_ETOOBIG from the buffer
 * (out then holds a partial text: discard it). */
int metrics_render_text(const struct metrics_view *view, struct buf *out);

/* Appends /metrics.json to out: {uptime, commands: {<path>: {count, successCount, failCount,
 * avgTime: "123ms", successRate: "95%"}}, errors: {<path>: {count, lastSeen: ISO 8601,
 * recentMessages: [{message, timestamp}] (newest first, at most METRICS_RECENT_ERRORS)}},
 * summary: {totalCommands, totalErrors, successRate: "NN%" ("100%" with no command)}}.
 * Only commands that ran appear; errors are the failed runs, by command path. Same errors as
 * metrics_render_text. */
int metrics_render_json(const struct metrics_view *view, struct buf *out);

/* Appends value to out escaped as a Prometheus label value (\\, \" and \n). */
int metrics_escape_label(const char *value, struct buf *out);

/* For tests only: zeroes every counter and forgets every command and reason name. Not safe
 * while another thread records. */
void metrics_reset(void);

#endif
