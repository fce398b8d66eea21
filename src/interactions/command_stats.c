/* command_stats.c — a small locked table of per-command counters, with the part not yet added
 * to the cluster totals kept beside each; see command_stats.h. */
#include "interactions/command_stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

struct command_stats {
    pthread_mutex_t lock;
    struct kv_counter totals[COMMAND_STATS_MAX];    /* since start */
    struct kv_counter unflushed[COMMAND_STATS_MAX]; /* same paths, since the last flush */
    size_t n;
};

int command_stats_new(struct command_stats **out)
{
    struct command_stats *s = calloc(1, sizeof *s);
    if (!s)
        return SLIMY_ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return SLIMY_OK;
}

void command_stats_free(struct command_stats *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* The slot of path, added if new; -1 when the table is full. Lock held. */
static int slot(struct command_stats *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->totals[i].path, path) == 0)
            return (int)i;
    if (s->n == COMMAND_STATS_MAX)
        return -1;
    /* The precision bounds the copy for the compiler too (paths are the registry's, shorter). */
    snprintf(s->totals[s->n].path, sizeof s->totals[s->n].path, "%.*s", COMMAND_PATH_MAX - 1, path);
    memcpy(s->unflushed[s->n].path, s->totals[s->n].path, sizeof s->unflushed[s->n].path);
    return (int)s->n++;
}

static void add(struct kv_counter *c, uint64_t count, uint64_t failures, uint64_t total_ms)
{
    c->count += count;
    c->failures += failures;
    c->total_ms += total_ms;
}

void command_stats_record(struct command_stats *s, const char *path, bool ok, uint64_t elapsed_ms)
{
    pthread_mutex_lock(&s->lock);
    int i = slot(s, path);
    if (i >= 0) {
        add(&s->totals[i], 1, !ok, elapsed_ms);
        add(&s->unflushed[i], 1, !ok, elapsed_ms);
    }
    pthread_mutex_unlock(&s->lock);
}

void command_stats_summarize_counters(const struct kv_counter *items, size_t n, struct command_stats_summary *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const struct kv_counter *st = &items[i];
        if (st->count == 0)
            continue;
        out->total += st->count;
        out->failures += st->failures;
        /* Insert into the top three, most used first. */
        size_t pos = out->n_top;
        while (pos > 0 && out->top[pos - 1].count < st->count)
            pos--;
        if (pos < 3) {
            size_t last = out->n_top < 3 ? out->n_top : 2;
            memmove(&out->top[pos + 1], &out->top[pos], (last - pos) * sizeof out->top[0]);
            out->top[pos] = *st;
            if (out->n_top < 3)
                out->n_top++;
        }
    }
}

void command_stats_summarize(struct command_stats *s, struct command_stats_summary *out)
{
    pthread_mutex_lock(&s->lock);
    command_stats_summarize_counters(s->totals, s->n, out);
    pthread_mutex_unlock(&s->lock);
}

int command_stats_flush(struct command_stats *s, struct kv *kv)
{
    struct kv_counter deltas[COMMAND_STATS_MAX];
    size_t n = 0;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++) {
        if (s->unflushed[i].count) {
            deltas[n++] = s->unflushed[i];
            s->unflushed[i].count = s->unflushed[i].failures = s->unflushed[i].total_ms = 0;
        }
    }
    pthread_mutex_unlock(&s->lock);
    int rc = kv_counters_add(kv, deltas, n);
    if (rc) { /* keep them for the next flush */
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < n; i++) {
            int j = slot(s, deltas[i].path);
            if (j >= 0)
                add(&s->unflushed[j], deltas[i].count, deltas[i].failures, deltas[i].total_ms);
        }
        pthread_mutex_unlock(&s->lock);
    }
    return rc;
}
