/* command_stats.c — a small locked table of per-command counters; see command_stats.h. */
#include "interactions/command_stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

struct command_stats {
    pthread_mutex_t lock;
    struct command_stat stats[COMMAND_STATS_MAX];
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

void command_stats_record(struct command_stats *s, const char *path, bool ok, uint64_t elapsed_ms)
{
    pthread_mutex_lock(&s->lock);
    struct command_stat *st = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->stats[i].path, path) == 0)
            st = &s->stats[i];
    if (!st && s->n < COMMAND_STATS_MAX) {
        st = &s->stats[s->n++];
        snprintf(st->path, sizeof st->path, "%s", path);
    }
    if (st) {
        st->count++;
        st->failures += !ok;
        st->total_ms += elapsed_ms;
    }
    pthread_mutex_unlock(&s->lock);
}

void command_stats_summarize(struct command_stats *s, struct command_stats_summary *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++) {
        const struct command_stat *st = &s->stats[i];
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
    pthread_mutex_unlock(&s->lock);
}
