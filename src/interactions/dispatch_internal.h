/* dispatch_internal.h — what the two halves of the dispatcher share: dispatch.c (lifecycle and
 * the request path) and dispatch_run.c (running handlers: immediate ones, and deferred ones on
 * workers with their awaits and reply delivery). Private to src/interactions/. */
#ifndef SLIMY_INTERACTIONS_DISPATCH_INTERNAL_H
#define SLIMY_INTERACTIONS_DISPATCH_INTERNAL_H

#include <stdatomic.h>

#include "interactions/dispatch.h"
#include "interactions/reply_sink.h"
#include "jobs/jobs.h"
#include "kv/kv.h"

struct dispatch {
    const struct slimy_config *cfg;
    const struct command *const *commands;
    size_t n_commands;
    struct reply_sink sink;
    struct kv *kv;       /* shared state: from deps, or owned_kv */
    struct kv *owned_kv; /* an in-process kv made when deps gave none */
    struct command_stats *stats;
    struct job_stream *stream;
    struct jobs *jobs;
    struct cmd_services services;
    atomic_bool is_draining;
};

/* The leaf an interaction runs: a command's (sub)command from its names, writing "snail calc"
 * into path, or a component leaf from its custom_id, writing "dream:reroll". NULL when the
 * request names a leaf this build does not have. */
const struct command *dispatch_resolve(const struct dispatch *d, const struct interaction *it, char *path,
                                       size_t path_len);

/* Runs an immediate command's handler on this thread into reply, and records the run. */
void dispatch_run_now(struct dispatch *d, const struct command *leaf, const char *path, const struct interaction *it,
                      struct message *reply);

/* Runs the leaf's check (command.h) on this thread into reply; returns its status. */
enum slimy_status dispatch_run_check(struct dispatch *d, const struct command *leaf, const char *path,
                                     const struct interaction *it, struct message *reply);

/* Runs the leaf's autocomplete on this thread; returns the type-8 response (free() it), or NULL
 * when out of memory. A leaf without one suggests nothing. */
char *dispatch_suggest(struct dispatch *d, const struct command *leaf, const char *path, const struct interaction *it);

/* The job stream's decode hook: an entry queued by kv_admit (on any replica) becomes a job. */
int dispatch_decode_job(const struct kv_entry *entry, struct job *job, void *arg);

/* The worker pool's run hook: runs (or resumes) a deferred command, then delivers its reply. */
void dispatch_run_job(struct jobs *jobs, struct job *job, void *arg);

#endif
