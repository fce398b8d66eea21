/* cooldown.h — a table of keys that expire: per-user, per-command cooldowns ("you can use
 * /chat again in 3.2 s"), and in kv_local.c also the interaction ids already admitted or
 * delivered. This is the in-process table behind kv_local.c; the rest of Slimy goes through
 * kv.h, whose Redis backend shares the same thing across replicas (SET key 1 PX ms NX).
 * Thread-safe. Expired entries are pruned as the table is used, so memory follows the number
 * of users inside their cooldown window, not the number ever seen. */
#ifndef SLIMY_KV_COOLDOWN_H
#define SLIMY_KV_COOLDOWN_H

#include <stddef.h>
#include <stdint.h>

struct cooldowns;

int cooldowns_new(struct cooldowns **out);
void cooldowns_free(struct cooldowns *c);

/* If (user_id, command_path) is cooling down at now_ms, returns SLIMY_ELIMITED and sets
 * *remaining_ms. Otherwise starts a cooldown of cooldown_ms and returns SLIMY_OK.
 * now_ms is a monotonic clock reading. SLIMY_ENOMEM lets the request through untracked. */
int cooldown_check(struct cooldowns *c, const char *user_id, const char *command_path, uint32_t cooldown_ms,
                   uint64_t now_ms, uint64_t *remaining_ms);

/* The time left on (user_id, command_path) at now_ms, 0 when it is not cooling down; changes
 * nothing but pruning. */
uint64_t cooldown_remaining(struct cooldowns *c, const char *user_id, const char *command_path, uint64_t now_ms);

/* Entries currently held (expired ones not yet pruned included); for tests and /diag. */
size_t cooldowns_size(struct cooldowns *c);

#endif
