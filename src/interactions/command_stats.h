/* command_stats.h — per-command counters for /diag: runs, failures and time spent.
 * In-process for now (this replica); a later issue sums them across replicas in Redis.
 * Thread-safe. Command paths are the registry's static strings, so the table is small. */
#ifndef SLIMY_INTERACTIONS_COMMAND_STATS_H
#define SLIMY_INTERACTIONS_COMMAND_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COMMAND_STATS_MAX 64 /* distinct command paths tracked */
#define COMMAND_PATH_MAX 64

struct command_stats;

struct command_stat {
    char path[COMMAND_PATH_MAX]; /* "snail calc" */
    uint64_t count;              /* runs finished */
    uint64_t failures;           /* runs that returned a failure status */
    uint64_t total_ms;           /* summed run time, for the average */
};

struct command_stats_summary {
    uint64_t total, failures;
    struct command_stat top[3]; /* most used first */
    size_t n_top;
};

int command_stats_new(struct command_stats **out);
void command_stats_free(struct command_stats *s);
/* Records one finished run of path. Paths past COMMAND_STATS_MAX distinct ones are dropped. */
void command_stats_record(struct command_stats *s, const char *path, bool ok, uint64_t elapsed_ms);
void command_stats_summarize(struct command_stats *s, struct command_stats_summary *out);

#endif
