/* cooldown.c — in-process cooldown table: a chained hash of "user\0command" keys with expiry
 * times. Each lookup prunes the expired entries of its bucket, which keeps chains short
 * without a sweeper thread. */
#include "kv/cooldown.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

#define BUCKETS 4096 /* power of two */

struct entry {
    struct entry *next;
    uint64_t expires_at_ms;
    size_t key_len;
    char key[]; /* user_id, NUL, command_path */
};

struct cooldowns {
    pthread_mutex_t lock;
    size_t n_entries;
    struct entry *buckets[BUCKETS];
};

int cooldowns_new(struct cooldowns **out)
{
    struct cooldowns *c = calloc(1, sizeof *c);
    if (!c)
        return SLIMY_ENOMEM;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return SLIMY_OK;
}

void cooldowns_free(struct cooldowns *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < BUCKETS; i++) {
        struct entry *e = c->buckets[i];
        while (e) {
            struct entry *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* FNV-1a: short keys, no adversarial control beyond user ids that Discord assigns. */
static uint32_t hash(const char *key, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

/* Builds the "user\0command" key, on the stack when it fits. NULL when out of memory. */
static char *make_key(const char *user_id, const char *command_path, char *stack_key, size_t stack_len, size_t *key_len)
{
    size_t ulen = strlen(user_id), clen = strlen(command_path);
    *key_len = ulen + 1 + clen;
    char *key = *key_len <= stack_len ? stack_key : malloc(*key_len);
    if (!key)
        return NULL;
    memcpy(key, user_id, ulen);
    key[ulen] = '\0';
    memcpy(key + ulen + 1, command_path, clen);
    return key;
}

/* Prunes the expired entries of key's bucket and returns key's live entry, or NULL. Lock held. */
static struct entry *find_live(struct cooldowns *c, const char *key, size_t key_len, uint64_t now_ms)
{
    struct entry **link = &c->buckets[hash(key, key_len) & (BUCKETS - 1)], *found = NULL;
    while (*link) {
        struct entry *e = *link;
        if (e->expires_at_ms <= now_ms) {
            *link = e->next;
            free(e);
            c->n_entries--;
            continue;
        }
        if (e->key_len == key_len && memcmp(e->key, key, key_len) == 0)
            found = e;
        link = &e->next;
    }
    return found;
}

int cooldown_check(struct cooldowns *c, const char *user_id, const char *command_path, uint32_t cooldown_ms,
                   uint64_t now_ms, uint64_t *remaining_ms)
{
    if (cooldown_ms == 0)
        return SLIMY_OK;
    char stack_key[128];
    size_t key_len;
    char *key = make_key(user_id, command_path, stack_key, sizeof stack_key, &key_len);
    if (!key)
        return SLIMY_ENOMEM;

    int rc = SLIMY_OK;
    pthread_mutex_lock(&c->lock);
    struct entry *found = find_live(c, key, key_len, now_ms);
    if (found) {
        *remaining_ms = found->expires_at_ms - now_ms;
        rc = SLIMY_ELIMITED;
    } else {
        struct entry *e = malloc(sizeof *e + key_len);
        if (e) {
            uint32_t b = hash(key, key_len) & (BUCKETS - 1);
            e->expires_at_ms = now_ms + cooldown_ms;
            e->key_len = key_len;
            memcpy(e->key, key, key_len);
            e->next = c->buckets[b];
            c->buckets[b] = e;
            c->n_entries++;
        } else {
            rc = SLIMY_ENOMEM;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (key != stack_key)
        free(key);
    return rc;
}

uint64_t cooldown_remaining(struct cooldowns *c, const char *user_id, const char *command_path, uint64_t now_ms)
{
    char stack_key[128];
    size_t key_len;
    char *key = make_key(user_id, command_path, stack_key, sizeof stack_key, &key_len);
    if (!key)
        return 0;
    pthread_mutex_lock(&c->lock);
    struct entry *found = find_live(c, key, key_len, now_ms);
    uint64_t left = found ? found->expires_at_ms - now_ms : 0;
    pthread_mutex_unlock(&c->lock);
    if (key != stack_key)
        free(key);
    return left;
}

size_t cooldowns_size(struct cooldowns *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->n_entries;
    pthread_mutex_unlock(&c->lock);
    return n;
}
