/* fetch.h — the outbound HTTP engine every client shares (Discord REST, OpenAI, attachments).
 * One thread runs a curl multi handle: thousands of transfers and retry timers can be in
 * flight without an OS thread each, and connections to the same host are reused.
 * Clients own their CURL easy handles and drive them as small state machines:
 *   fetch_at()  (any thread)          run fn(arg) on the engine thread at a monotonic time;
 *   fetch_add() (engine thread only)  start a configured easy handle; done() runs when it ends.
 * Callbacks run exactly once on the engine thread, or not at all if the call returned an error
 * or the engine was stopped first. They must not block.
 * Request setup, response collection and the retry decision live in fetch_http.h. */
#ifndef SLIMY_CORE_FETCH_H
#define SLIMY_CORE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

struct fetch;

typedef void (*fetch_timer_fn)(void *arg);
/* easy has been removed from the engine and belongs to the caller again; result is curl's. */
typedef void (*fetch_done_fn)(CURL *easy, CURLcode result, void *arg);

/* Calls curl_global_init() once per process; thread-safe. fetch_start() does it; a blocking
 * client that runs without the engine (`slimy register`) calls it first. */
void fetch_global_init(void);

/* Starts the engine thread. Calls fetch_global_init(). */
int fetch_start(struct fetch **out);
/* Stops the thread: no callback runs after this returns, and later fetch_at() calls fail with
 * SLIMY_EUNAVAILABLE (so threads still running may call it safely). Pending timers are dropped
 * and running transfers abandoned without their callbacks: drain your work first (jobs_drain)
 * when callbacks matter. Idempotent; NULL is fine. */
void fetch_stop(struct fetch *f);
/* Stops (if needed) and frees the engine; nothing may use it afterwards. NULL is fine. */
void fetch_free(struct fetch *f);

/* Schedules fn(arg) on the engine thread once clock_mono_ms() >= due_mono_ms (0 = now).
 * Thread-safe. SLIMY_ENOMEM, or SLIMY_EUNAVAILABLE after fetch_stop() began. */
int fetch_at(struct fetch *f, uint64_t due_mono_ms, fetch_timer_fn fn, void *arg);

/* fetch_at() for a timer whose arg it owns: if the engine stops before the timer is due,
 * drop(arg) runs instead of fn, on the thread calling fetch_stop() once the engine thread has
 * ended, so what arg holds is released either way. */
int fetch_at_owned(struct fetch *f, uint64_t due_mono_ms, fetch_timer_fn fn, fetch_timer_fn drop, void *arg);

/* Starts the transfer configured on easy. Engine thread only (from a timer or done callback).
 * The engine uses CURLOPT_PRIVATE; do not set it. */
int fetch_add(struct fetch *f, CURL *easy, fetch_done_fn done, void *arg);

/* The wait before retry number `retry` (0 for the first) after a server error or a network
 * failure: 0.5 s doubling to 8 s, plus up to a quarter of random jitter so many replicas do not
 * retry in step. The one backoff policy every outbound client uses. Thread-safe. */
uint64_t fetch_backoff_ms(unsigned retry);

/* Timers plus transfers not yet finished; for /diag and the drain. Thread-safe. */
size_t fetch_pending(struct fetch *f);

#endif
