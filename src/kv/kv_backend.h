/* kv_backend.h — constructors of the kv.h backends other than the in-process one, for kv.c,
 * the tests and the benchmarks. Everything else goes through kv_open() in kv.h. */
#ifndef SLIMY_KV_KV_BACKEND_H
#define SLIMY_KV_KV_BACKEND_H

#include "kv/kv.h"
#include "core/redis_url.h"

/* The Redis backend on hiredis. Every key starts with key_prefix (copied). Connects lazily
 * (one pooled connection per concurrent caller), so it opens even while Redis is down; each
 * call then answers SLIMY_EUNAVAILABLE. A call whose connection broke is tried once more on a
 * fresh one, so a Redis restart costs no error. Lua scripts are loaded on first use and again
 * after NOSCRIPT; the consumer group is created again after NOGROUP (Redis came back empty). */
int kv_redis_open(const struct redis_url *url, const char *key_prefix, const struct kv_options *opts, struct kv **out);

/* Redis first, the in-process backend while Redis does not answer (see kv.h). Takes ownership
 * of both, even on failure. A monitor thread probes Redis while it is down and switches back
 * when it answers. where names Redis in log lines ("host:port/db"; never the password). */
int kv_failover_new(struct kv *redis, struct kv *local, const char *where, struct kv **out);

#endif
