/* alert.h — error alerts to a Discord webhook (ERROR_WEBHOOK_URL), so someone hears about a
 * failing replica without reading its logs.
 *
 * What is sent. One POST to the webhook URL per alert, a JSON body with one embed:
 *     {"allowed_mentions": {"parse": []},
 *      "embeds": [{"title": "cannot open the database",              <- the kind: the log line's msg
 *                  "description": "**critical**: cannot open the database\n**error**: ...\n"
 *                                 "+ 7 more since 12:03:00 UTC",   <- only after suppressed ones
 *                  "color": 15158332,                              <- red; orange for warnings
 *                  "footer": {"text": "host-1 · slimy 0.1.0"},     <- replica host and version
 *                  "timestamp": "2024-05-01T12:04:10.000Z"}]}      <- when it was logged
 * The description is the log message and its fields, each value cut to a few hundred bytes.
 * Fields whose key names a secret (token, key, secret, password, auth, cookie, webhook, url)
 * are left out, and so is any value holding the webhook URL; nobody can be pinged.
 *
 * When. alert_attach() hooks the logger (log_set_hook): every line at error or critical becomes
 * an alert of its kind, the line's msg, whatever LOG_LEVEL says. Warnings become alerts only with
 * include_warnings (WEBHOOK_INCLUDE_WARNINGS), except those that mean the service is degraded,
 * which always alert, as critical (matched by prefix): "reply dropped" (discord_rest.c: a reply
 * given up at its deadline or refused), "Redis unreachable" (kv_failover.c: Redis lost, at run
 * time or at start) and "database unreachable" (main.c, an error already). Five "command failed"
 * warnings within the window alert once as the critical kind "repeated command failures" (the
 * count then starts over). Each kind is sent at most once per window (a minute): later ones are
 * counted, and the next one sent after the window says how many were held back since the last
 * was sent. Kinds are kept in a small table; when it is full the kind sent longest ago is
 * forgotten.
 *
 * Delivery. On the logging thread the alerter only decides and builds the body; the POST runs on
 * the outbound engine (fetch.h), so no caller waits and nothing on the request path blocks. One
 * attempt and one retry after a network error, a 5xx or a 429 (waiting at most what Retry-After
 * asks, up to 5 s), all within 10 s. A failed send is logged at warn as "alert not sent" with the
 * kind and the reason, and that line never becomes an alert itself (no loop through the logger).
 * alert_flush() waits, bounded, for the sends in flight: on the way out, so that an alert about
 * a start-up failure leaves before the process does.
 *
 * Threads. Any thread may log, the engine's included: the hook takes the alerter's own lock for a
 * moment and the engine's timer lock, and logs nothing while holding either. The send callbacks
 * run on the engine thread.
 *
 * Secrets. The webhook URL carries the webhook's token: it is copied once, handed to curl, never
 * logged nor put in any error or alert, and wiped when freed.
 *
 * Lifetime: alert_new → alert_attach → ... → alert_flush → alert_detach → stop the engine
 * (fetch_stop or fetch_free) → alert_free. */
#ifndef SLIMY_CORE_ALERT_H
#define SLIMY_CORE_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fetch.h"
#include "core/log.h"

#define ALERT_WINDOW_MS 60000u       /* one alert per kind per this */
#define ALERT_BURST_FAILURES 5       /* "command failed" lines within the window that alert */
#define ALERT_SEND_DEADLINE_MS 10000 /* a send (attempt and retry) ends by then */

struct alert;

struct alert_options {
    const char *webhook_url; /* required; copied; never logged */
    bool include_warnings;   /* warnings alert too (orange) */
    const char *host;        /* the footer's replica name; NULL = gethostname() */
    uint64_t window_ms;      /* the per-kind limit's window; 0 = ALERT_WINDOW_MS */
    /* The wall clock in ms, for the window, the "since" time and the timestamp; NULL = the real
     * one. Tests pass their own to cross a window without waiting a minute. */
    uint64_t (*wall_ms)(void);
};

/* What the alerter did so far; for tests and diagnostics. */
struct alert_counts {
    uint64_t queued;     /* alerts handed to the engine */
    uint64_t suppressed; /* held back by the per-kind limit */
    uint64_t sent;       /* answered 2xx */
    uint64_t failed;     /* given up ("alert not sent") */
};

/* A new alerter sending on engine (borrowed; it must outlive the sends, see the lifetime above).
 * SLIMY_OK, SLIMY_EINVAL without a webhook URL, SLIMY_ENOMEM. Not attached yet. */
int alert_new(struct fetch *engine, const struct alert_options *options, struct alert **out);
/* Hooks the logger: from now on log lines become alerts as described above. */
void alert_attach(struct alert *a);
/* Unhooks the logger; on return no thread is inside the alerter through it. NULL is fine. */
void alert_detach(struct alert *a);

/* Waits until every alert queued so far has been sent or given up, at most timeout_ms. True if
 * none is left. NULL is fine (true). */
bool alert_flush(struct alert *a, unsigned timeout_ms);

struct alert_counts alert_counts(struct alert *a);

/* Detaches, then frees the alerter and whatever sends the stopped engine left unfinished. Call
 * only once the engine is stopped or after alert_flush() returned true. NULL is fine. */
void alert_free(struct alert *a);

#endif
