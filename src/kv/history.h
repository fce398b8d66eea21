/* history.h — /chat conversation memory: the last CHAT_HISTORY_MAX messages per
 * (channel, user), dropped after an idle time (CHAT_HISTORY_IDLE_MS) without a new message.
 * This is the in-process table behind kv_local.c; the rest of Slimy goes through kv.h
 * (kv_history_*), which keeps the same shape in Redis so any replica can continue a
 * conversation. Thread-safe. */
#ifndef SLIMY_KV_HISTORY_H
#define SLIMY_KV_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/ai_role.h"

#define CHAT_HISTORY_MAX 16
#define CHAT_HISTORY_IDLE_MS (60u * 60u * 1000u)

struct chat_history;

struct chat_turn {
    enum ai_role role; /* AI_USER or AI_ASSISTANT */
    char *text;        /* owned */
};

struct chat_turns {
    struct chat_turn items[CHAT_HISTORY_MAX]; /* oldest first */
    size_t n;
};

/* idle_ms: a conversation untouched this long is forgotten. */
int chat_history_new(uint64_t idle_ms, struct chat_history **out);
void chat_history_free(struct chat_history *h);

/* Copies the conversation of key ("channel:user") into *out, oldest first; an unknown or
 * expired key gives n == 0. now_ms is wall time. Free with chat_turns_free(). */
int chat_history_get(struct chat_history *h, const char *key, uint64_t now_ms, struct chat_turns *out);
/* Appends one message (copied) and keeps the newest CHAT_HISTORY_MAX. */
int chat_history_append(struct chat_history *h, const char *key, enum ai_role role, const char *text, uint64_t now_ms);
/* Forgets the conversation of key. */
void chat_history_reset(struct chat_history *h, const char *key);
void chat_turns_free(struct chat_turns *t);

#endif
