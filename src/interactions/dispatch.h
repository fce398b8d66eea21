/* dispatch.h — the request path of /interactions and the worker side of deferred commands.
 *
 * Request path (libmicrohttpd threads, CPU only but for one kv round trip):
 *   verify signature → parse → PING? → find command → guild-only / permission checks →
 *   admit (kv.h: dedupe, cooldown and, for a deferred command, queueing in one step) →
 *   immediate command: run now, answer type 4 | deferred: answer type 5; the job stream
 *   (job_stream.h) of whichever replica is free runs it.
 * Worker side: run the handler, word failures for the user, hand the reply to the Discord
 * REST client, record per-command stats. Only the dispatcher turns a status into the user's
 * message and the HTTP status; handlers just return codes.
 * Thread-safe: one dispatch serves every HTTP thread and worker. */
#ifndef SLIMY_INTERACTIONS_DISPATCH_H
#define SLIMY_INTERACTIONS_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "interactions/command.h"
#include "interactions/command_stats.h"
#include "interactions/reply_sink.h"
#include "jobs/jobs.h"
#include "kv/kv.h"

#define INTERACTION_TOKEN_LIFETIME_MS (15u * 60u * 1000u) /* Discord: tokens last 15 minutes */

struct dispatch;

/* An HTTP answer for the interactions endpoint. */
struct dispatch_reply {
    int http_status; /* 200, 202, 400, 401, ... */
    char *body;      /* owned JSON text (free with free()), never NULL after dispatch_interaction */
    size_t len;      /* bytes in body */
};

/* Creates the dispatcher, its job stream and its worker pool. Deferred replies go to sink
 * (copied; what it points to is borrowed). cfg, commands and the services in deps (store, ai,
 * engine, persona, kv; copied, each borrowed) must outlive it. deps->store is required
 * (SLIMY_EINVAL without it: handlers rely on it); the others may be NULL: AI commands then
 * answer at once that AI is not configured, and without a kv the dispatcher makes an
 * in-process one. It fills in the jobs, stream, stats, config and start time itself. */
int dispatch_new(const struct slimy_config *cfg, const struct command *const *commands, size_t n_commands,
                 const struct reply_sink *sink, const struct cmd_services *deps, struct dispatch **out);
/* Stops workers; call dispatch_drain() first to let queued jobs finish. */
void dispatch_free(struct dispatch *d);

/* Handles one POST /interactions. signature and timestamp are the header values (NULL if
 * absent); body is the complete raw body. Fills *out; never fails. Blocks for the admission's
 * round trip to Redis: the HTTP server uses the three calls below instead. */
void dispatch_interaction(struct dispatch *d, const char *signature, const char *timestamp, const char *body,
                          size_t len, struct dispatch_reply *out);

/* The same in steps, so no HTTP thread waits on Redis. dispatch_interaction_start() fills *out
 * and returns NULL, or returns a wait: the answer needs the admission's round trip. The caller
 * then calls dispatch_wait_run(), whose resume(arg) runs exactly once, on another thread or
 * before it returns, when dispatch_wait_finish() can fill *out without waiting (it frees the
 * wait). body must stay valid until then. */
struct dispatch_wait;
typedef void (*dispatch_resume_fn)(void *arg);
struct dispatch_wait *dispatch_interaction_start(struct dispatch *d, const char *signature, const char *timestamp,
                                                 const char *body, size_t len, struct dispatch_reply *out);
void dispatch_wait_run(struct dispatch_wait *w, dispatch_resume_fn resume, void *arg);
void dispatch_wait_finish(struct dispatch_wait *w, struct dispatch_reply *out);

/* Stops accepting deferred commands and reading shared jobs (other replicas take them), and
 * waits for the jobs this process holds, up to the monotonic deadline. Returns true when all
 * finished. */
bool dispatch_drain(struct dispatch *d, uint64_t deadline_mono_ms);

/* Whether shared state is in Redis, in memory by choice, or in memory because Redis is down. */
enum kv_state dispatch_kv_state(struct dispatch *d);

/* The services handlers get (the deps given to dispatch_new, completed). */
const struct cmd_services *dispatch_services(struct dispatch *d);

/* Jobs waiting + jobs running or delivering. */
size_t dispatch_jobs_queued(struct dispatch *d);
size_t dispatch_jobs_in_flight(struct dispatch *d);


#endif
