/* alert.c — error alerts to a Discord webhook; see alert.h.
 * report() runs on whichever thread logged (through the log hook): it classifies the line, applies the per-kind
 * limit under a short lock, builds the body with no lock held and hands a send to the engine
 * with fetch_at(). Each send is a small state machine on the engine thread (attempt → done →
 * maybe one retry → finish). Sends in flight sit on a list so that a flush can wait for them and
 * alert_free() can reclaim what a stopped engine abandoned. */
#include "core/alert.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "core/clock.h"
#include "core/fetch_http.h"
#include "core/status.h"

#define KIND_MAX 256         /* Discord's embed title limit */
#define KINDS_MAX 64         /* kinds remembered for the per-kind limit */
#define DESCRIPTION_MAX 3800 /* under Discord's 4096, with room for the suppressed note */
#define VALUE_MAX 300        /* one field's value in the description */
#define ATTEMPT_TIMEOUT_MS 5000L
#define RETRY_AFTER_MAX_MS 5000u
#define COLOR_RED 15158332    /* 0xE74C3C */
#define COLOR_ORANGE 15105570 /* 0xE67E22 */

#define KIND_BURST "repeated command failures"
#define MSG_COMMAND_FAILED "command failed"
#define MSG_NOT_SENT "alert not sent"

/* Warnings that mean the service is degraded: they alert as critical, included warnings or not.
 * Prefixes of the log messages (discord_rest.c, kv_failover.c, main.c), so a reworded tail still
 * matches. */
static const char *const critical_prefixes[] = {
    "reply dropped",        /* discord_rest.c: a reply given up (deadline passed, or refused) */
    "Redis unreachable",    /* kv_failover.c: lost at run time, or at start */
    "database unreachable", /* main.c: /ready answers 503 (an error already; named critical) */
};

/* Field keys that may name a secret: such fields never reach the webhook. */
static const char *const secret_keys[] = {"token", "key", "secret", "password", "auth", "cookie", "webhook", "url"};

struct kind_slot {
    char kind[KIND_MAX];
    bool used, sent_once;
    uint64_t last_sent_ms; /* wall clock */
    uint64_t suppressed;   /* held back since last_sent_ms */
};

struct send {
    struct alert *a;
    struct send *prev, *next; /* on a->sends, under a->lock */
    CURL *easy;
    char *body;
    struct fetch_response resp;
    struct fetch_retry_state retry;
    unsigned attempts;
    uint64_t deadline_mono_ms;
    char kind[KIND_MAX];
};

struct alert {
    struct fetch *engine;
    char *url; /* secret */
    struct curl_slist *headers;
    bool include_warnings;
    char host[256];
    uint64_t window_ms;
    uint64_t (*wall_ms)(void);
    struct log_hook hook;
    bool attached;

    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t idle;  /* signalled when a send ends */
    struct kind_slot kinds[KINDS_MAX];
    uint64_t failures[ALERT_BURST_FAILURES]; /* wall times of recent "command failed", a ring */
    size_t n_failures, next_failure;
    struct send *sends;
    size_t pending;
    struct alert_counts counts;
};

static uint64_t real_wall_ms(void)
{
    return clock_wall_ms();
}

/* ---- the body ---- */

/* A bounded text under construction; what does not fit is dropped on a UTF-8 boundary. */
struct text {
    char s[DESCRIPTION_MAX + 1];
    size_t len;
};

/* The longest prefix of s (which has more than n bytes) of at most n bytes that ends on a
 * character boundary: s[n] must not continue a character. */
static size_t utf8_prefix(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static void text_put(struct text *t, const char *s, size_t n)
{
    size_t room = DESCRIPTION_MAX - t->len;
    if (n > room)
        n = utf8_prefix(s, room);
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void text_str(struct text *t, const char *s)
{
    text_put(t, s, strlen(s));
}

static bool is_secret_key(const char *key)
{
    for (size_t i = 0; i < sizeof secret_keys / sizeof secret_keys[0]; i++)
        if (strcasestr(key, secret_keys[i]))
            return true;
    return false;
}

/* One field's value as text, a string cut to VALUE_MAX bytes on a character boundary. */
static void field_value(const struct log_field *f, char out[VALUE_MAX + 1])
{
    switch (f->type) {
    case LOG_FIELD_STR:
        if (f->s) {
            size_t n = strlen(f->s);
            if (n > VALUE_MAX)
                n = utf8_prefix(f->s, VALUE_MAX);
            memcpy(out, f->s, n);
            out[n] = '\0';
        } else {
            snprintf(out, VALUE_MAX + 1, "null");
        }
        break;
    case LOG_FIELD_INT: snprintf(out, VALUE_MAX + 1, "%lld", f->i); break;
    case LOG_FIELD_BOOL: snprintf(out, VALUE_MAX + 1, "%s", f->i ? "true" : "false"); break;
    case LOG_FIELD_DOUBLE: snprintf(out, VALUE_MAX + 1, "%.3f", f->d); break;
    default: snprintf(out, VALUE_MAX + 1, "null"); break;
    }
}

static void describe_fields(struct alert *a, struct text *t, const struct log_field *fields, size_t n_fields)
{
    for (size_t i = 0; i < n_fields; i++) {
        const struct log_field *f = &fields[i];
        if (!f->key || is_secret_key(f->key))
            continue;
        char value[VALUE_MAX + 1];
        field_value(f, value);
        if (strstr(value, a->url))
            continue; /* belt and braces: the webhook's own URL never travels in an alert */
        text_str(t, "\n**");
        text_str(t, f->key);
        text_str(t, "**: ");
        text_str(t, value);
    }
}

static void format_time(uint64_t wall_ms, const char *fmt, char *out, size_t out_len)
{
    time_t secs = (time_t)(wall_ms / 1000u);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(out, out_len, fmt, &tm);
}

/* What one alert says, decided under the lock and formatted outside it. */
struct alert_event {
    enum log_level level;
    const char *kind;
    const char *lead; /* the description's first line after the level; NULL = the kind */
    const struct log_field *fields;
    size_t n_fields;
    uint64_t wall_ms;
    uint64_t suppressed;        /* held back since the last one was sent */
    uint64_t last_sent_wall_ms; /* when that was */
};

static const char *level_name(enum log_level level)
{
    static const char *const names[] = {"debug", "info", "warning", "error", "critical"};
    return level <= LOG_CRITICAL ? names[level] : "critical";
}

static char *build_body(struct alert *a, const struct alert_event *e)
{
    struct text desc = {.len = 0};
    text_str(&desc, "**");
    text_str(&desc, level_name(e->level));
    text_str(&desc, "**: ");
    text_str(&desc, e->lead ? e->lead : e->kind);
    describe_fields(a, &desc, e->fields, e->n_fields);
    char note[96] = "";
    if (e->suppressed) {
        char since[16];
        format_time(e->last_sent_wall_ms, "%H:%M:%S", since, sizeof since);
        snprintf(note, sizeof note, "\n+ %llu more since %s UTC", (unsigned long long)e->suppressed, since);
    }
    char ts[40], footer[320];
    format_time(e->wall_ms, "%Y-%m-%dT%H:%M:%S", ts, sizeof ts);
    snprintf(ts + strlen(ts), sizeof ts - strlen(ts), ".%03uZ", (unsigned)(e->wall_ms % 1000u));
    snprintf(footer, sizeof footer, "%s · slimy %s", a->host, SLIMY_VERSION);

    char description[DESCRIPTION_MAX + sizeof note];
    snprintf(description, sizeof description, "%s%s", desc.s, note);
    cJSON *root = cJSON_CreateObject();
    cJSON *mentions = cJSON_AddObjectToObject(root, "allowed_mentions");
    cJSON_AddArrayToObject(mentions, "parse"); /* an empty list: an "@everyone" in a log line pings nobody */
    cJSON *embed = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "embeds"), embed);
    char title[KIND_MAX];
    size_t title_len = strlen(e->kind);
    if (title_len >= sizeof title)
        title_len = utf8_prefix(e->kind, sizeof title - 1);
    memcpy(title, e->kind, title_len);
    title[title_len] = '\0';
    cJSON_AddStringToObject(embed, "title", title);
    cJSON_AddStringToObject(embed, "description", description);
    cJSON_AddNumberToObject(embed, "color", e->level >= LOG_ERROR ? COLOR_RED : COLOR_ORANGE);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(embed, "footer"), "text", footer);
    cJSON_AddStringToObject(embed, "timestamp", ts);
    char *body = cJSON_PrintUnformatted(root); /* NULL if any allocation above failed */
    cJSON_Delete(root);
    return body;
}

/* ---- sending, on the engine thread ---- */

static void send_free(struct send *s)
{
    if (s->easy)
        curl_easy_cleanup(s->easy);
    fetch_response_cleanup(&s->resp);
    cJSON_free(s->body);
    free(s);
}

/* Takes s off the list and frees it; logs a failure first (outside the lock; the hook ignores
 * that line). Nothing touches a after the unlock: a flush may free it at once. */
static void send_finish(struct send *s, enum slimy_status status)
{
    struct alert *a = s->a;
    if (status)
        log_warn(MSG_NOT_SENT, LOG_S("kind", s->kind), LOG_S("reason", slimy_strerror(status)),
                 LOG_I("http_status", s->resp.http_status), LOG_I("attempts", s->attempts));
    pthread_mutex_lock(&a->lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        a->sends = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (status)
        a->counts.failed++;
    else
        a->counts.sent++;
    a->pending--;
    pthread_cond_broadcast(&a->idle);
    pthread_mutex_unlock(&a->lock);
    send_free(s);
}

static void send_done(CURL *easy, CURLcode result, void *arg);

static void send_attempt(void *arg)
{
    struct send *s = arg;
    struct alert *a = s->a;
    if (!fetch_easy_fresh(&s->easy)) { /* a new handle each attempt: see fetch_http.h */
        send_finish(s, SLIMY_ENOMEM);
        return;
    }
    struct fetch_request req = {.method = "POST",
                                .url = a->url,
                                .headers = a->headers,
                                .body = s->body,
                                .body_len = strlen(s->body),
                                .user_agent = "DiscordBot (" SLIMY_PROJECT_URL ", " SLIMY_VERSION ")",
                                .timeout_ms = ATTEMPT_TIMEOUT_MS,
                                .deadline_mono_ms = s->deadline_mono_ms};
    s->attempts++;
    enum slimy_status rc = fetch_request_setup(s->easy, &req, &s->resp);
    if (!rc)
        rc = fetch_add(a->engine, s->easy, send_done, s);
    if (rc)
        send_finish(s, rc);
}

/* Why an attempt that may not be retried failed. */
static enum slimy_status attempt_status(const struct send *s, CURLcode result)
{
    if (s->resp.http_status == 429)
        return SLIMY_ELIMITED;
    if (s->resp.http_status)
        return SLIMY_EUPSTREAM;
    return fetch_curl_status(result);
}

static void send_done(CURL *easy, CURLcode result, void *arg)
{
    struct send *s = arg;
    fetch_response_read(&s->resp, easy, result);
    /* One retry at most, after a network error, a 5xx or a 429. */
    static const struct fetch_retry_policy policy = {.server_error_max = 1,
                                                     .rate_limit_max = 1,
                                                     .retry_after_max_ms = RETRY_AFTER_MAX_MS};
    struct fetch_outcome o = {.result = result,
                              .http_status = s->resp.http_status,
                              .retry_after_ms = s->resp.retry_after_ms};
    struct fetch_decision d = fetch_retry_decide(&policy, &s->retry, &o, clock_mono_ms(), s->deadline_mono_ms);
    if (d.verdict == FETCH_DONE)
        send_finish(s, SLIMY_OK);
    else if (d.verdict != FETCH_RETRY)
        send_finish(s, d.status);
    else if (s->attempts >= 2)
        send_finish(s, attempt_status(s, result));
    else if (fetch_at(s->a->engine, d.retry_at_mono_ms, send_attempt, s))
        send_finish(s, SLIMY_EUNAVAILABLE);
}

/* ---- deciding ---- */

/* The slot for kind, claiming a free one or the one sent longest ago. Under the lock. */
static struct kind_slot *slot_for(struct alert *a, const char *kind)
{
    struct kind_slot *oldest = &a->kinds[0];
    for (size_t i = 0; i < KINDS_MAX; i++) {
        struct kind_slot *k = &a->kinds[i];
        if (k->used && strncmp(k->kind, kind, KIND_MAX - 1) == 0)
            return k;
        if (!k->used || (oldest->used && k->last_sent_ms < oldest->last_sent_ms))
            oldest = k;
    }
    *oldest = (struct kind_slot){.used = true};
    snprintf(oldest->kind, sizeof oldest->kind, "%s", kind);
    return oldest;
}

/* Applies the per-kind limit to e (filling its suppressed count); true if it is to be sent, and
 * then it is counted pending. */
static bool admit(struct alert *a, struct alert_event *e)
{
    pthread_mutex_lock(&a->lock);
    struct kind_slot *k = slot_for(a, e->kind);
    bool send = !k->sent_once || e->wall_ms - k->last_sent_ms >= a->window_ms || e->wall_ms < k->last_sent_ms;
    if (send) {
        e->suppressed = k->suppressed;
        e->last_sent_wall_ms = k->last_sent_ms;
        k->suppressed = 0;
        k->last_sent_ms = e->wall_ms;
        k->sent_once = true;
        a->pending++;
        a->counts.queued++;
    } else {
        k->suppressed++;
        a->counts.suppressed++;
    }
    pthread_mutex_unlock(&a->lock);
    return send;
}

static void emit(struct alert *a, struct alert_event *e)
{
    if (!admit(a, e))
        return;
    struct send *s = calloc(1, sizeof *s);
    char *body = s ? build_body(a, e) : NULL;
    pthread_mutex_lock(&a->lock);
    if (!body) {
        a->pending--;
        a->counts.failed++;
        pthread_cond_broadcast(&a->idle);
        pthread_mutex_unlock(&a->lock);
        free(s);
        log_warn(MSG_NOT_SENT, LOG_S("kind", e->kind), LOG_S("reason", slimy_strerror(SLIMY_ENOMEM)));
        return;
    }
    s->a = a;
    s->body = body;
    s->deadline_mono_ms = clock_mono_ms() + ALERT_SEND_DEADLINE_MS;
    snprintf(s->kind, sizeof s->kind, "%s", e->kind);
    fetch_response_init(&s->resp, 4096, true);
    s->next = a->sends;
    if (a->sends)
        a->sends->prev = s;
    a->sends = s;
    pthread_mutex_unlock(&a->lock);
    if (fetch_at(a->engine, 0, send_attempt, s))
        send_finish(s, SLIMY_EUNAVAILABLE); /* the engine has stopped: said once, at warn */
}

/* Counts one "command failed"; true when it makes ALERT_BURST_FAILURES within the window (the
 * count then starts over). */
static bool burst(struct alert *a, uint64_t now)
{
    pthread_mutex_lock(&a->lock);
    a->failures[a->next_failure] = now;
    a->next_failure = (a->next_failure + 1) % ALERT_BURST_FAILURES;
    if (a->n_failures < ALERT_BURST_FAILURES)
        a->n_failures++;
    /* With the ring full, next_failure is the oldest of the last ALERT_BURST_FAILURES. */
    bool hit = a->n_failures == ALERT_BURST_FAILURES && now - a->failures[a->next_failure] < a->window_ms;
    if (hit)
        a->n_failures = 0;
    pthread_mutex_unlock(&a->lock);
    return hit;
}

static bool is_promoted(const char *msg)
{
    for (size_t i = 0; i < sizeof critical_prefixes / sizeof critical_prefixes[0]; i++)
        if (strncmp(msg, critical_prefixes[i], strlen(critical_prefixes[i])) == 0)
            return true;
    return false;
}

/* One log line as the hook sees it: level, msg (the kind) and fields. Lines that are not alerts
 * are ignored. */
static void report(struct alert *a, enum log_level level, const char *msg, const struct log_field *fields,
                   size_t n_fields)
{
    if (!a || !msg || level < LOG_WARN || strcmp(msg, MSG_NOT_SENT) == 0)
        return;
    uint64_t now = a->wall_ms();
    if (strcmp(msg, MSG_COMMAND_FAILED) == 0 && burst(a, now)) {
        char lead[96];
        snprintf(lead, sizeof lead, "%d commands failed within %llu s; the last:", ALERT_BURST_FAILURES,
                 (unsigned long long)(a->window_ms / 1000u));
        struct alert_event e = {.level = LOG_CRITICAL,
                                .kind = KIND_BURST,
                                .lead = lead,
                                .fields = fields,
                                .n_fields = n_fields,
                                .wall_ms = now};
        emit(a, &e);
    }
    if (is_promoted(msg))
        level = LOG_CRITICAL;
    if (level < LOG_ERROR && !a->include_warnings)
        return;
    struct alert_event e = {.level = level, .kind = msg, .fields = fields, .n_fields = n_fields, .wall_ms = now};
    emit(a, &e);
}

/* ---- life cycle ---- */

static void on_log_line(void *arg, enum log_level level, const char *msg, const struct log_field *fields,
                        size_t n_fields)
{
    report(arg, level, msg, fields, n_fields);
}

int alert_new(struct fetch *engine, const struct alert_options *o, struct alert **out)
{
    *out = NULL;
    if (!engine || !o || !o->webhook_url || !*o->webhook_url)
        return SLIMY_EINVAL;
    struct alert *a = calloc(1, sizeof *a);
    if (!a)
        return SLIMY_ENOMEM;
    a->engine = engine;
    a->url = strdup(o->webhook_url);
    a->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!a->url || !a->headers) {
        free(a->url);
        curl_slist_free_all(a->headers);
        free(a);
        return SLIMY_ENOMEM;
    }
    a->include_warnings = o->include_warnings;
    if (o->host && *o->host)
        snprintf(a->host, sizeof a->host, "%s", o->host);
    else if (gethostname(a->host, sizeof a->host - 1) != 0 || !a->host[0])
        snprintf(a->host, sizeof a->host, "unknown host");
    a->window_ms = o->window_ms ? o->window_ms : ALERT_WINDOW_MS;
    a->wall_ms = o->wall_ms ? o->wall_ms : real_wall_ms;
    a->hook = (struct log_hook){.fn = on_log_line, .arg = a, .min_level = LOG_WARN};
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->idle, &ca);
    pthread_condattr_destroy(&ca);
    *out = a;
    return SLIMY_OK;
}

void alert_attach(struct alert *a)
{
    if (a && !a->attached) {
        log_set_hook(&a->hook);
        a->attached = true;
    }
}

void alert_detach(struct alert *a)
{
    if (a && a->attached) {
        log_set_hook(NULL);
        a->attached = false;
    }
}

bool alert_flush(struct alert *a, unsigned timeout_ms)
{
    if (!a)
        return true;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000u;
    until.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->lock);
    int rc = 0;
    while (a->pending > 0 && rc == 0)
        rc = pthread_cond_timedwait(&a->idle, &a->lock, &until); /* 0 again after a spurious wake-up */
    bool idle = a->pending == 0;
    pthread_mutex_unlock(&a->lock);
    return idle;
}

struct alert_counts alert_counts(struct alert *a)
{
    pthread_mutex_lock(&a->lock);
    struct alert_counts c = a->counts;
    pthread_mutex_unlock(&a->lock);
    return c;
}

void alert_free(struct alert *a)
{
    if (!a)
        return;
    alert_detach(a);
    /* The engine is stopped: whatever is still listed will never call back. */
    for (struct send *s = a->sends, *next; s; s = next) {
        next = s->next;
        send_free(s);
    }
    curl_slist_free_all(a->headers);
    sodium_memzero(a->url, strlen(a->url));
    free(a->url);
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
