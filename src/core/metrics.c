/* metrics.c — this replica's counters and their two renderings; see metrics.h.
 * Everything is static storage of atomics indexed by enums, so recording is a relaxed
 * atomic_fetch_add and needs no initialisation. The per-command counters live in a fixed
 * open-addressing table whose slots are claimed with a compare-and-swap: the registry's paths
 * arrive once (dispatch_new), after which every lookup only reads. */
#include "core/metrics.h"

#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "core/clock.h"
#include "core/process.h"
#include "core/status.h"

typedef atomic_uint_least64_t counter;

static inline void add(counter *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t get(counter *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- label values ---- */

static const char *const INTERACTION_TYPE_NAMES[METRICS_INTERACTION_TYPE_COUNT] = {
    "ping", "command", "autocomplete", "component", "modal", "unknown"};

enum outcome {
    OUTCOME_OK,
    OUTCOME_REJECTED,
    OUTCOME_ERROR,
    OUTCOME_COUNT
};
static const char *const OUTCOME_NAMES[OUTCOME_COUNT] = {"ok", "rejected", "error"};

static const char *const DROP_NAMES[METRICS_DROP_COUNT] = {"expired", "queue_full", "undecodable", "delivery_failed"};
static const char *const ROUTE_NAMES[METRICS_ROUTE_COUNT] = {"original", "followup", "register"};
static const char *const SCOPE_NAMES[METRICS_RATE_LIMIT_COUNT] = {"bucket", "global"};
static const char *const KIND_NAMES[METRICS_AI_KIND_COUNT] = {"chat", "image"};
static const char *const BACKEND_NAMES[METRICS_STORE_BACKEND_COUNT] = {"sqlite", "mariadb"};
static const char *const SHARED_NAMES[METRICS_SHARED_STATE_COUNT] = {"redis", "memory", "memory_fallback"};

/* An outbound request's status label: its class, 429 on its own, or "error" without an answer. */
enum status_class {
    CLASS_2XX,
    CLASS_3XX,
    CLASS_4XX,
    CLASS_5XX,
    CLASS_429,
    CLASS_ERROR,
    CLASS_COUNT
};
static const char *const CLASS_NAMES[CLASS_COUNT] = {"2xx", "3xx", "4xx", "5xx", "429", "error"};

static enum status_class status_class(long http_status)
{
    if (http_status == 429)
        return CLASS_429;
    if (http_status < 200 || http_status > 599)
        return CLASS_ERROR;
    return (enum status_class)(CLASS_2XX + (http_status / 100 - 2));
}

/* ---- histograms ---- */

#define BUCKETS_MAX 13

struct histogram_spec {
    size_t n;
    uint64_t bound_us[BUCKETS_MAX]; /* le, inclusive, in microseconds */
    const char *le[BUCKETS_MAX];    /* the same bounds as the label shows them */
};

static const struct histogram_spec COMMAND_BUCKETS = {
    13,
    {5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000},
    {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60"},
};
static const struct histogram_spec OPENAI_BUCKETS = {
    11,
    {100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000, 20000000, 30000000, 60000000, 120000000},
    {"0.1", "0.25", "0.5", "1", "2.5", "5", "10", "20", "30", "60", "120"},
};

/* Per-bucket counts (not cumulative: one add per observation), the last one +Inf. */
struct histogram {
    counter buckets[BUCKETS_MAX + 1];
    counter sum_us;
};

static void observe(struct histogram *h, const struct histogram_spec *spec, uint64_t us)
{
    size_t i = 0;
    while (i < spec->n && us > spec->bound_us[i])
        i++;
    add(&h->buckets[i], 1);
    add(&h->sum_us, us);
}

/* ---- the storage ---- */

enum slot_state {
    SLOT_EMPTY,
    SLOT_CLAIMING, /* a thread is writing the path */
    SLOT_READY
};

struct recent_error {
    atomic_int status;
    counter at_ms; /* wall clock; 0 = never written */
};

struct command_slot {
    atomic_int state; /* enum slot_state */
    char path[METRICS_PATH_MAX];
    counter ok, failed;
    struct histogram duration;
    counter cooldown_hits;
    counter last_failed_ms;
    counter failures_seen; /* the ring's write position */
    struct recent_error recent[METRICS_RECENT_ERRORS];
};

static struct {
    counter interactions[METRICS_INTERACTION_TYPE_COUNT][OUTCOME_COUNT];
    counter signature_failures[METRICS_SIGNATURE_REASONS];
    _Atomic(const char *) signature_names[METRICS_SIGNATURE_REASONS];
    counter dedupe_hits;
    counter jobs_retried;
    counter jobs_dropped[METRICS_DROP_COUNT];
    counter discord_requests[METRICS_ROUTE_COUNT][CLASS_COUNT];
    counter discord_rate_limited[METRICS_RATE_LIMIT_COUNT];
    counter openai_requests[METRICS_AI_KIND_COUNT][CLASS_COUNT];
    struct histogram openai_duration[METRICS_AI_KIND_COUNT];
    counter store_errors[METRICS_STORE_BACKEND_COUNT];
    atomic_bool store_up;
    counter redis_errors;
    atomic_llong connections_open;
    struct command_slot commands[METRICS_COMMANDS_MAX];
} m;

_Static_assert((METRICS_COMMANDS_MAX & (METRICS_COMMANDS_MAX - 1)) == 0, "the command table size is a power of two");

void metrics_reset(void)
{
    memset(&m, 0, sizeof m); /* tests only: no thread records meanwhile */
}

/* ---- the command table ---- */

static uint32_t path_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot of path, claiming a free one for it when add is set; NULL when path is not valid or
 * (add) the table is full or (!add) path is unknown. Lock-free: a slot's path is written once,
 * by whoever wins its compare-and-swap, and published by the release store of SLOT_READY. */
static struct command_slot *find_command(const char *path, bool add)
{
    size_t len = path ? strnlen(path, METRICS_PATH_MAX) : 0;
    if (len == 0 || len >= METRICS_PATH_MAX)
        return NULL;
    uint32_t h = path_hash(path);
    for (size_t i = 0; i < METRICS_COMMANDS_MAX; i++) {
        struct command_slot *s = &m.commands[(h + i) & (METRICS_COMMANDS_MAX - 1)];
        int state = atomic_load_explicit(&s->state, memory_order_acquire);
        if (state == SLOT_EMPTY) {
            if (!add)
                return NULL;
            if (atomic_compare_exchange_strong(&s->state, &state, SLOT_CLAIMING)) {
                memcpy(s->path, path, len + 1);
                atomic_store_explicit(&s->state, SLOT_READY, memory_order_release);
                return s;
            }
            /* Lost the race: state now holds the winner's state; see whose path it is. */
        }
        while (state == SLOT_CLAIMING) { /* a few instructions away from READY */
            sched_yield();
            state = atomic_load_explicit(&s->state, memory_order_acquire);
        }
        if (strcmp(s->path, path) == 0)
            return s;
    }
    return NULL;
}

/* ---- recording ---- */

void metrics_interaction(enum metrics_interaction_type type, int http_status)
{
    if ((unsigned)type >= METRICS_INTERACTION_TYPE_COUNT)
        type = METRICS_INTERACTION_UNKNOWN;
    enum outcome o = http_status >= 200 && http_status < 400   ? OUTCOME_OK
                     : http_status >= 400 && http_status < 500 ? OUTCOME_REJECTED
                                                               : OUTCOME_ERROR;
    add(&m.interactions[type][o], 1);
}

void metrics_signature_reason(unsigned reason, const char *name)
{
    if (reason >= METRICS_SIGNATURE_REASONS || !name)
        return;
    const char *expected = NULL;
    atomic_compare_exchange_strong(&m.signature_names[reason], &expected, name);
}

void metrics_signature_failure(unsigned reason, const char *name)
{
    if (reason >= METRICS_SIGNATURE_REASONS)
        return;
    if (!atomic_load_explicit(&m.signature_names[reason], memory_order_acquire))
        metrics_signature_reason(reason, name);
    add(&m.signature_failures[reason], 1);
}

int metrics_command_register(const char *path)
{
    size_t len = path ? strnlen(path, METRICS_PATH_MAX) : 0;
    if (len == 0 || len >= METRICS_PATH_MAX)
        return SLIMY_EINVAL;
    return find_command(path, true) ? SLIMY_OK : SLIMY_ETOOBIG;
}

void metrics_command_done(const char *path, int status, uint64_t elapsed_us)
{
    struct command_slot *s = find_command(path, true);
    if (!s)
        return;
    observe(&s->duration, &COMMAND_BUCKETS, elapsed_us);
    if (status == SLIMY_OK) {
        add(&s->ok, 1);
        return;
    }
    /* The failure path only: the ring of recent errors for /metrics.json. A reader may see an
     * entry half written (the status of one failure with the time of another); both are real. */
    uint64_t now = clock_wall_ms();
    uint64_t n = atomic_fetch_add_explicit(&s->failures_seen, 1, memory_order_relaxed);
    struct recent_error *e = &s->recent[n % METRICS_RECENT_ERRORS];
    atomic_store_explicit(&e->status, status, memory_order_relaxed);
    atomic_store_explicit(&e->at_ms, now, memory_order_relaxed);
    atomic_store_explicit(&s->last_failed_ms, now, memory_order_relaxed);
    add(&s->failed, 1);
}

void metrics_cooldown_hit(const char *path)
{
    struct command_slot *s = find_command(path, true);
    if (s)
        add(&s->cooldown_hits, 1);
}

void metrics_dedupe_hit(void)
{
    add(&m.dedupe_hits, 1);
}

void metrics_job_retried(void)
{
    add(&m.jobs_retried, 1);
}

void metrics_job_dropped(enum metrics_job_drop reason)
{
    if ((unsigned)reason < METRICS_DROP_COUNT)
        add(&m.jobs_dropped[reason], 1);
}

void metrics_discord_request(enum metrics_discord_route route, long http_status)
{
    if ((unsigned)route < METRICS_ROUTE_COUNT)
        add(&m.discord_requests[route][status_class(http_status)], 1);
}

void metrics_discord_rate_limited(enum metrics_rate_limit_scope scope)
{
    if ((unsigned)scope < METRICS_RATE_LIMIT_COUNT)
        add(&m.discord_rate_limited[scope], 1);
}

void metrics_openai_request(enum metrics_ai_kind kind, long http_status, uint64_t elapsed_us)
{
    if ((unsigned)kind >= METRICS_AI_KIND_COUNT)
        return;
    add(&m.openai_requests[kind][status_class(http_status)], 1);
    observe(&m.openai_duration[kind], &OPENAI_BUCKETS, elapsed_us);
}

void metrics_store_error(enum metrics_store_backend backend)
{
    if ((unsigned)backend < METRICS_STORE_BACKEND_COUNT)
        add(&m.store_errors[backend], 1);
}

void metrics_set_store_up(bool up)
{
    atomic_store_explicit(&m.store_up, up, memory_order_relaxed);
}

void metrics_redis_error(void)
{
    add(&m.redis_errors, 1);
}

void metrics_connection_opened(void)
{
    atomic_fetch_add_explicit(&m.connections_open, 1, memory_order_relaxed);
}

void metrics_connection_closed(void)
{
    atomic_fetch_sub_explicit(&m.connections_open, 1, memory_order_relaxed);
}

/* ---- rendering helpers ---- */

/* A buffer with a sticky status: after the first failure every append is skipped. */
struct out {
    struct buf *b;
    int rc;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    o->rc = buf_vprintf(o->b, fmt, ap);
    va_end(ap);
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int metrics_escape_label(const char *value, struct buf *out)
{
    int rc = SLIMY_OK;
    for (const char *p = value ? value : ""; *p && !rc; p++) {
        if (*p == '\\')
            rc = buf_append(out, "\\\\", 2);
        else if (*p == '"')
            rc = buf_append(out, "\\\"", 2);
        else if (*p == '\n')
            rc = buf_append(out, "\\n", 2);
        else
            rc = buf_append(out, p, 1);
    }
    return rc;
}

/* One histogram's series: cumulative buckets, +Inf, _sum (seconds) and _count. labels is the
 * rendered label set without braces ("command=\"chat\""); +Inf and _count are the same sum. */
static void histogram_series(struct out *o, const char *name, const char *labels, struct histogram *h,
                             const struct histogram_spec *spec)
{
    uint64_t cumulative = 0;
    for (size_t i = 0; i < spec->n; i++) {
        cumulative += get(&h->buckets[i]);
        put(o, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, spec->le[i], (unsigned long long)cumulative);
    }
    cumulative += get(&h->buckets[spec->n]);
    uint64_t sum = get(&h->sum_us);
    put(o, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels, (unsigned long long)cumulative);
    put(o, "%s_sum{%s} %llu.%06llu\n", name, labels, (unsigned long long)(sum / 1000000u),
        (unsigned long long)(sum % 1000000u));
    put(o, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cumulative);
}

static int by_path(const void *a, const void *b)
{
    const struct command_slot *x = *(struct command_slot *const *)a, *y = *(struct command_slot *const *)b;
    return strcmp(x->path, y->path);
}

/* The known commands, sorted by path; returns how many. */
static size_t sorted_commands(struct command_slot *out[METRICS_COMMANDS_MAX])
{
    size_t n = 0;
    for (size_t i = 0; i < METRICS_COMMANDS_MAX; i++)
        if (atomic_load_explicit(&m.commands[i].state, memory_order_acquire) == SLOT_READY)
            out[n++] = &m.commands[i];
    qsort(out, n, sizeof *out, by_path);
    return n;
}

/* ---- Prometheus text ---- */

static void render_process(struct out *o, const struct metrics_view *view)
{
    struct buf version, commit;
    buf_init(&version, 256);
    buf_init(&commit, 256);
    if (!o->rc)
        o->rc = metrics_escape_label(SLIMY_VERSION, &version);
    if (!o->rc)
        o->rc = metrics_escape_label(SLIMY_GIT_COMMIT, &commit);
    family(o, "slimy_build_info", "gauge", "Always 1; the labels say which build is running.");
    put(o, "slimy_build_info{version=\"%s\",commit=\"%s\"} 1\n", version.data ? version.data : "",
        commit.data ? commit.data : "");
    buf_cleanup(&version);
    buf_cleanup(&commit);
    family(o, "slimy_uptime_seconds", "gauge", "Seconds since this process started.");
    put(o, "slimy_uptime_seconds %llu\n", (unsigned long long)view->uptime_s);
    family(o, "slimy_process_resident_memory_bytes", "gauge", "Resident set size of this process.");
    put(o, "slimy_process_resident_memory_bytes %llu\n", (unsigned long long)process_rss_bytes());
    long long open = atomic_load_explicit(&m.connections_open, memory_order_relaxed);
    family(o, "slimy_http_connections_open", "gauge", "HTTP connections open on the listener.");
    put(o, "slimy_http_connections_open %lld\n", open > 0 ? open : 0);
}

static void render_requests(struct out *o)
{
    family(o, "slimy_interactions_total", "counter",
           "Answers of POST /interactions by interaction type and outcome (rejected = 4xx, error = 5xx).");
    for (size_t t = 0; t < METRICS_INTERACTION_TYPE_COUNT; t++)
        for (size_t k = 0; k < OUTCOME_COUNT; k++)
            put(o, "slimy_interactions_total{type=\"%s\",outcome=\"%s\"} %llu\n", INTERACTION_TYPE_NAMES[t],
                OUTCOME_NAMES[k], (unsigned long long)get(&m.interactions[t][k]));
    family(o, "slimy_signature_failures_total", "counter", "Requests refused for their signature, by reason.");
    for (size_t r = 0; r < METRICS_SIGNATURE_REASONS; r++) {
        const char *name = atomic_load_explicit(&m.signature_names[r], memory_order_acquire);
        if (name)
            put(o, "slimy_signature_failures_total{reason=\"%s\"} %llu\n", name,
                (unsigned long long)get(&m.signature_failures[r]));
    }
}

static void render_commands(struct out *o, struct command_slot **cmds, size_t n, struct buf *label)
{
    family(o, "slimy_commands_total", "counter", "Finished command runs by command path and outcome.");
    for (size_t i = 0; i < n; i++) {
        buf_cleanup(label);
        if (!o->rc)
            o->rc = metrics_escape_label(cmds[i]->path, label);
        put(o, "slimy_commands_total{command=\"%s\",outcome=\"ok\"} %llu\n", label->data,
            (unsigned long long)get(&cmds[i]->ok));
        put(o, "slimy_commands_total{command=\"%s\",outcome=\"failed\"} %llu\n", label->data,
            (unsigned long long)get(&cmds[i]->failed));
    }
    family(o, "slimy_command_duration_seconds", "histogram", "Time from a command's start to its reply.");
    for (size_t i = 0; i < n; i++) {
        buf_cleanup(label);
        if (!o->rc)
            o->rc = buf_append_str(label, "command=\"");
        if (!o->rc)
            o->rc = metrics_escape_label(cmds[i]->path, label);
        if (!o->rc)
            o->rc = buf_append_str(label, "\"");
        if (!o->rc)
            histogram_series(o, "slimy_command_duration_seconds", label->data, &cmds[i]->duration, &COMMAND_BUCKETS);
    }
    family(o, "slimy_cooldown_hits_total", "counter", "Users refused by a command's cooldown.");
    for (size_t i = 0; i < n; i++) {
        buf_cleanup(label);
        if (!o->rc)
            o->rc = metrics_escape_label(cmds[i]->path, label);
        put(o, "slimy_cooldown_hits_total{command=\"%s\"} %llu\n", label->data,
            (unsigned long long)get(&cmds[i]->cooldown_hits));
    }
    family(o, "slimy_dedupe_hits_total", "counter", "Interactions seen before: answered again, not run again.");
    put(o, "slimy_dedupe_hits_total %llu\n", (unsigned long long)get(&m.dedupe_hits));
}

static void render_jobs(struct out *o, const struct metrics_view *view)
{
    family(o, "slimy_jobs_queued", "gauge", "Deferred jobs waiting for a worker.");
    put(o, "slimy_jobs_queued %llu\n", (unsigned long long)view->jobs_queued);
    family(o, "slimy_jobs_in_flight", "gauge", "Deferred jobs running or delivering their reply.");
    put(o, "slimy_jobs_in_flight %llu\n", (unsigned long long)view->jobs_in_flight);
    family(o, "slimy_jobs_retried_total", "counter", "Jobs taken over from a replica that stopped refreshing them.");
    put(o, "slimy_jobs_retried_total %llu\n", (unsigned long long)get(&m.jobs_retried));
    family(o, "slimy_jobs_dropped_total", "counter", "Deferred jobs whose reply never reached Discord, by reason.");
    for (size_t r = 0; r < METRICS_DROP_COUNT; r++)
        put(o, "slimy_jobs_dropped_total{reason=\"%s\"} %llu\n", DROP_NAMES[r],
            (unsigned long long)get(&m.jobs_dropped[r]));
}

static void render_outbound(struct out *o)
{
    family(o, "slimy_discord_requests_total", "counter", "HTTP requests to Discord by route and status class.");
    for (size_t r = 0; r < METRICS_ROUTE_COUNT; r++)
        for (size_t c = 0; c < CLASS_COUNT; c++)
            put(o, "slimy_discord_requests_total{route=\"%s\",status=\"%s\"} %llu\n", ROUTE_NAMES[r], CLASS_NAMES[c],
                (unsigned long long)get(&m.discord_requests[r][c]));
    family(o, "slimy_discord_rate_limited_total", "counter", "429 answers from Discord by scope.");
    for (size_t s = 0; s < METRICS_RATE_LIMIT_COUNT; s++)
        put(o, "slimy_discord_rate_limited_total{scope=\"%s\"} %llu\n", SCOPE_NAMES[s],
            (unsigned long long)get(&m.discord_rate_limited[s]));
    family(o, "slimy_openai_requests_total", "counter",
           "HTTP requests (attempts) to the OpenAI-compatible API by kind and status class.");
    for (size_t k = 0; k < METRICS_AI_KIND_COUNT; k++)
        for (size_t c = 0; c < CLASS_COUNT; c++)
            put(o, "slimy_openai_requests_total{kind=\"%s\",status=\"%s\"} %llu\n", KIND_NAMES[k], CLASS_NAMES[c],
                (unsigned long long)get(&m.openai_requests[k][c]));
    family(o, "slimy_openai_request_duration_seconds", "histogram",
           "Duration of one HTTP request to the OpenAI-compatible API.");
    for (size_t k = 0; k < METRICS_AI_KIND_COUNT; k++) {
        char labels[32];
        snprintf(labels, sizeof labels, "kind=\"%s\"", KIND_NAMES[k]);
        histogram_series(o, "slimy_openai_request_duration_seconds", labels, &m.openai_duration[k], &OPENAI_BUCKETS);
    }
}

static void render_state(struct out *o, const struct metrics_view *view)
{
    family(o, "slimy_store_errors_total", "counter", "Store operations failed by the database, not the input.");
    for (size_t b = 0; b < METRICS_STORE_BACKEND_COUNT; b++)
        put(o, "slimy_store_errors_total{backend=\"%s\"} %llu\n", BACKEND_NAMES[b],
            (unsigned long long)get(&m.store_errors[b]));
    family(o, "slimy_store_up", "gauge", "1 when the last readiness check reached the database.");
    put(o, "slimy_store_up %d\n", atomic_load_explicit(&m.store_up, memory_order_relaxed) ? 1 : 0);
    family(o, "slimy_redis_errors_total", "counter", "Calls to Redis that failed and were answered from memory.");
    put(o, "slimy_redis_errors_total %llu\n", (unsigned long long)get(&m.redis_errors));
    family(o, "slimy_shared_state", "gauge", "1 for where shared state lives now.");
    for (size_t s = 0; s < METRICS_SHARED_STATE_COUNT; s++)
        put(o, "slimy_shared_state{state=\"%s\"} %d\n", SHARED_NAMES[s], (size_t)view->shared_state == s ? 1 : 0);
}

int metrics_render_text(const struct metrics_view *view, struct buf *out)
{
    struct out o = {out, SLIMY_OK};
    struct command_slot *cmds[METRICS_COMMANDS_MAX];
    size_t n = sorted_commands(cmds);
    struct buf label;
    buf_init(&label, 4 * METRICS_PATH_MAX);
    render_process(&o, view);
    render_requests(&o);
    render_commands(&o, cmds, n, &label);
    render_jobs(&o, view);
    render_outbound(&o);
    render_state(&o, view);
    buf_cleanup(&label);
    return o.rc;
}

/* ---- /metrics.json ---- */

/* "2024-05-01T12:34:56.789Z", like JavaScript's toISOString(). */
static void iso8601(uint64_t wall_ms, char out[32])
{
    time_t secs = (time_t)(wall_ms / 1000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(wall_ms % 1000u));
}

/* "95%": the share rounded to a whole percent. */
static void percent(uint64_t part, uint64_t whole, char out[8])
{
    snprintf(out, 8, "%llu%%", whole ? (unsigned long long)((part * 100u + whole / 2) / whole) : 100ull);
}

static bool add_command_json(cJSON *commands, struct command_slot *s, uint64_t ok, uint64_t failed)
{
    uint64_t count = ok + failed;
    char avg[32], rate[8];
    snprintf(avg, sizeof avg, "%llums", (unsigned long long)((get(&s->duration.sum_us) / count + 500u) / 1000u));
    percent(ok, count, rate);
    cJSON *c = cJSON_AddObjectToObject(commands, s->path);
    return c && cJSON_AddNumberToObject(c, "count", (double)count) &&
           cJSON_AddNumberToObject(c, "successCount", (double)ok) &&
           cJSON_AddNumberToObject(c, "failCount", (double)failed) && cJSON_AddStringToObject(c, "avgTime", avg) &&
           cJSON_AddStringToObject(c, "successRate", rate);
}

/* errors.<path>: the failed runs, the last time one failed and the newest few, newest first. */
static bool add_error_json(cJSON *errors, struct command_slot *s, uint64_t failed)
{
    char when[32];
    iso8601(get(&s->last_failed_ms), when);
    cJSON *e = cJSON_AddObjectToObject(errors, s->path);
    cJSON *recent = e && cJSON_AddNumberToObject(e, "count", (double)failed) &&
                            cJSON_AddStringToObject(e, "lastSeen", when)
                        ? cJSON_AddArrayToObject(e, "recentMessages")
                        : NULL;
    if (!recent)
        return false;
    uint64_t seen = get(&s->failures_seen);
    for (uint64_t k = 0; k < seen && k < METRICS_RECENT_ERRORS; k++) {
        struct recent_error *r = &s->recent[(seen - 1 - k) % METRICS_RECENT_ERRORS];
        uint64_t at = get(&r->at_ms);
        if (!at)
            continue; /* claimed by a failure still being written */
        iso8601(at, when);
        cJSON *item = cJSON_CreateObject();
        if (!item || !cJSON_AddItemToArray(recent, item) ||
            !cJSON_AddStringToObject(item, "message",
                                     slimy_strerror(atomic_load_explicit(&r->status, memory_order_relaxed))) ||
            !cJSON_AddStringToObject(item, "timestamp", when))
            return false;
    }
    return true;
}

int metrics_render_json(const struct metrics_view *view, struct buf *out)
{
    struct command_slot *cmds[METRICS_COMMANDS_MAX];
    size_t n = sorted_commands(cmds);
    cJSON *root = cJSON_CreateObject(); /* keys in the original's order: uptime, commands, errors, summary */
    bool ok = root && cJSON_AddNumberToObject(root, "uptime", (double)view->uptime_s);
    cJSON *commands = ok ? cJSON_AddObjectToObject(root, "commands") : NULL;
    cJSON *errors = commands ? cJSON_AddObjectToObject(root, "errors") : NULL;
    ok = errors != NULL;
    uint64_t total = 0, failures = 0;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t good = get(&cmds[i]->ok), bad = get(&cmds[i]->failed);
        if (good + bad == 0)
            continue; /* registered, never run */
        total += good + bad;
        failures += bad;
        ok = add_command_json(commands, cmds[i], good, bad) && (bad == 0 || add_error_json(errors, cmds[i], bad));
    }
    char rate[8];
    percent(total - failures, total, rate);
    cJSON *summary = ok ? cJSON_AddObjectToObject(root, "summary") : NULL;
    ok = summary && cJSON_AddNumberToObject(summary, "totalCommands", (double)total) &&
         cJSON_AddNumberToObject(summary, "totalErrors", (double)failures) &&
         cJSON_AddStringToObject(summary, "successRate", rate);
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    int rc = text ? buf_append_str(out, text) : SLIMY_ENOMEM;
    free(text);
    return rc;
}
