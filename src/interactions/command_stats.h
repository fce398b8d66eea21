/* command_stats.h — per-command counters for /diag: runs, failures and time spent.
 * This replica counts in memory (a locked table, cheap on the hot path) and
 * command_stats_flush() adds what it counted since the last flush to the cluster totals in
 * kv.h, which /diag reads; a flush that fails keeps its deltas for the next one, so an outage
 * of Redis loses no count. Thread-safe. Command paths are the registry's static strings, so
 * the table is small. */
#ifndef SLIMY_INTERACTIONS_COMMAND_STATS_H
#define SLIMY_INTERACTIONS_COMMAND_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/kv.h"

#define COMMAND_STATS_MAX KV_COUNTERS_MAX /* distinct command paths tracked */
#define COMMAND_PATH_MAX KV_PATH_MAX

struct command_stats;

struct command_stats_summary {
    uint64_t total, failures;
    struct kv_counter top[3]; /* most used first */
    size_t n_top;
};

int command_stats_new(struct command_stats **out);
void command_stats_free(struct command_stats *s);
/* Records one finished run of path. Paths past COMMAND_STATS_MAX distinct ones are dropped. */
void command_stats_record(struct command_stats *s, const char *path, bool ok, uint64_t elapsed_ms);
/* This replica's totals since it started. */
void command_stats_summarize(struct command_stats *s, struct command_stats_summary *out);
/* The same summary over any counters (the cluster totals read from kv). */
void command_stats_summarize_counters(const struct kv_counter *items, size_t n, struct command_stats_summary *out);
/* Adds what was recorded since the last successful flush to kv's totals. */
int command_stats_flush(struct command_stats *s, struct kv *kv);

#endif
