/* history.c — in-process chat history: a locked list of conversations, each a ring of the
 * newest turns. Expired conversations are dropped whenever the table is touched, so memory
 * follows the number of active conversations. */
#include "kv/history.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

struct conversation {
    struct conversation *next;
    char *key;
    uint64_t touched_at_ms;
    struct chat_turn turns[CHAT_HISTORY_MAX]; /* oldest first */
    size_t n;
};

struct chat_history {
    pthread_mutex_t lock;
    uint64_t idle_ms;
    struct conversation *head;
};

int chat_history_new(uint64_t idle_ms, struct chat_history **out)
{
    struct chat_history *h = calloc(1, sizeof *h);
    if (!h)
        return SLIMY_ENOMEM;
    h->idle_ms = idle_ms;
    pthread_mutex_init(&h->lock, NULL);
    *out = h;
    return SLIMY_OK;
}

static void conversation_free(struct conversation *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->turns[i].text);
    free(c->key);
    free(c);
}

void chat_history_free(struct chat_history *h)
{
    if (!h)
        return;
    while (h->head) {
        struct conversation *next = h->head->next;
        conversation_free(h->head);
        h->head = next;
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
}

/* Drops expired conversations and returns the one for key, or NULL. Lock held. */
static struct conversation *find(struct chat_history *h, const char *key, uint64_t now_ms)
{
    struct conversation **link = &h->head, *found = NULL;
    while (*link) {
        struct conversation *c = *link;
        if (now_ms - c->touched_at_ms >= h->idle_ms) {
            *link = c->next;
            conversation_free(c);
            continue;
        }
        if (strcmp(c->key, key) == 0)
            found = c;
        link = &c->next;
    }
    return found;
}

int chat_history_get(struct chat_history *h, const char *key, uint64_t now_ms, struct chat_turns *out)
{
    memset(out, 0, sizeof *out);
    int rc = SLIMY_OK;
    pthread_mutex_lock(&h->lock);
    struct conversation *c = find(h, key, now_ms);
    for (size_t i = 0; c && i < c->n; i++) {
        out->items[i].role = c->turns[i].role;
        if (!(out->items[i].text = strdup(c->turns[i].text))) {
            rc = SLIMY_ENOMEM;
            break;
        }
        out->n++;
    }
    pthread_mutex_unlock(&h->lock);
    if (rc)
        chat_turns_free(out);
    return rc;
}

int chat_history_append(struct chat_history *h, const char *key, enum ai_role role, const char *text, uint64_t now_ms)
{
    char *copy = strdup(text);
    if (!copy)
        return SLIMY_ENOMEM;
    pthread_mutex_lock(&h->lock);
    struct conversation *c = find(h, key, now_ms);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (c && !(c->key = strdup(key))) {
            free(c);
            c = NULL;
        }
        if (c) {
            c->next = h->head;
            h->head = c;
        }
    }
    if (!c) {
        pthread_mutex_unlock(&h->lock);
        free(copy);
        return SLIMY_ENOMEM;
    }
    if (c->n == CHAT_HISTORY_MAX) {
        free(c->turns[0].text);
        memmove(&c->turns[0], &c->turns[1], (CHAT_HISTORY_MAX - 1) * sizeof c->turns[0]);
        c->n--;
    }
    c->turns[c->n++] = (struct chat_turn){.role = role, .text = copy};
    c->touched_at_ms = now_ms;
    pthread_mutex_unlock(&h->lock);
    return SLIMY_OK;
}

void chat_history_reset(struct chat_history *h, const char *key)
{
    pthread_mutex_lock(&h->lock);
    struct conversation **link = &h->head;
    while (*link) {
        struct conversation *c = *link;
        if (strcmp(c->key, key) == 0) {
            *link = c->next;
            conversation_free(c);
            continue;
        }
        link = &c->next;
    }
    pthread_mutex_unlock(&h->lock);
}

void chat_turns_free(struct chat_turns *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->items[i].text);
    t->n = 0;
}
