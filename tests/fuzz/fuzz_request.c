/* fuzz_request.c — the request path of POST /interactions: headers + raw body through
 * dispatch_interaction() on a dispatcher like the server's (the real registry, the in-process
 * kv, a SQLite store in a temporary directory, a reply sink that drops what it gets).
 *
 * Input: line 1 is X-Signature-Ed25519, line 2 X-Signature-Timestamp, the rest the body.
 * A timestamp line reading exactly "now" is replaced by the current time, so inputs can pass the
 * freshness check; any other line is passed as it is (the format and freshness checks run).
 * The fuzz library is built with SLIMY_FUZZ_SKIP_SIGNATURE (see verify.c): a well-formed,
 * fresh signature header is accepted without the Ed25519 check, so inputs reach the parser,
 * the routing, the permission checks, admission and the immediate handlers. Deferred commands
 * queue jobs that one worker runs against the store; the queue is small and fills up, which is a
 * path too. Everything is drained and freed at exit. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/status.h"
#include "handlers/registry.h"
#include "interactions/dispatch.h"
#include "interactions/reply_sink.h"
#include "store/store.h"

static struct {
    struct slimy_config cfg;
    char dir[64];
    struct store *store;
    struct dispatch *d;
    int ready;
} G;

/* The reply sink: drops the message and says it was delivered. */
static int drop_delivery(void *self, const struct discord_delivery *where, struct message *msg,
                         discord_delivered_fn done, void *arg)
{
    (void)self;
    (void)where;
    message_cleanup(msg);
    message_init(msg);
    struct discord_delivery_result result = {.status = SLIMY_OK, .http_status = 200, .attempts = 1};
    done(&result, arg);
    return SLIMY_OK;
}

static void remove_dir(void)
{
    static const char *const files[] = {"slimy.db", "slimy.db-wal", "slimy.db-shm", "slimy.db-journal"};
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", G.dir, files[i]);
        unlink(path);
    }
    rmdir(G.dir);
}

static void shutdown_all(void)
{
    if (G.d) {
        dispatch_drain(G.d, clock_mono_ms() + 10000);
        dispatch_free(G.d);
        G.d = NULL;
    }
    store_close(G.store);
    G.store = NULL;
    if (G.ready)
        config_cleanup(&G.cfg);
    G.ready = 0;
    if (G.dir[0])
        remove_dir();
    log_close();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (sodium_init() < 0)
        abort();
    snprintf(G.dir, sizeof G.dir, "/tmp/slimy-fuzz.XXXXXX");
    if (!mkdtemp(G.dir))
        abort();
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char pk_hex[2 * sizeof pk + 1], sqlite_path[128];
    sodium_bin2hex(pk_hex, sizeof pk_hex, pk, sizeof pk);
    snprintf(sqlite_path, sizeof sqlite_path, "%s/slimy.db", G.dir);
    static const char *const cleared[] = {"DB_HOST",       "REDIS_URL", "OPENAI_API_KEY",    "OPENAI_BASE_URL",
                                          "DISCORD_TOKEN", "LOG_DIR",   "ERROR_WEBHOOK_URL", "METRICS_TOKEN"};
    for (size_t i = 0; i < sizeof cleared / sizeof cleared[0]; i++)
        unsetenv(cleared[i]);
    setenv("DISCORD_PUBLIC_KEY", pk_hex, 1);
    setenv("DISCORD_APPLICATION_ID", "42", 1);
    setenv("DISCORD_API_BASE", "http://127.0.0.1:9", 1); /* the sink replaces it */
    setenv("SQLITE_PATH", sqlite_path, 1);
    setenv("DATA_DIR", G.dir, 1);
    setenv("WORKER_THREADS", "1", 1);
    setenv("JOB_QUEUE_MAX", "16", 1);
    setenv("PERSONALITY_FILE", SLIMY_SOURCE_DIR "/bot-personality.md", 1);
    setenv("LOG_LEVEL", "critical", 1);
    char err[CONFIG_ERROR_MAX];
    if (config_load(&G.cfg, true, err, sizeof err)) {
        fprintf(stderr, "fuzz_request: config: %s\n", err);
        abort();
    }
    G.ready = 1;
    log_open(LOG_CRITICAL, NULL);
    char serr[256];
    if (store_open(&G.cfg, true, &G.store, serr, sizeof serr)) {
        fprintf(stderr, "fuzz_request: store: %s\n", serr);
        abort();
    }
    struct reply_sink sink = {.deliver = drop_delivery, .self = NULL};
    struct cmd_services deps = {.store = G.store}; /* no AI, no engine: AI commands answer at once */
    int rc = dispatch_new(&G.cfg, registry_commands, registry_count, &sink, &deps, &G.d);
    if (rc) {
        fprintf(stderr, "fuzz_request: dispatch: %s\n", slimy_strerror(rc));
        abort();
    }
    atexit(shutdown_all);
    return 0;
}

/* The next line of data (up to '\n', not included) as a NUL-terminated copy; NULL when there is
 * no newline left (the rest is the body). */
static char *take_line(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    if (!nl)
        return NULL;
    size_t n = (size_t)(nl - *data);
    char *line = malloc(n + 1);
    if (!line)
        abort();
    memcpy(line, *data, n);
    line[n] = '\0';
    *data += n + 1;
    *size -= n + 1;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *signature = take_line(&data, &size);
    char *timestamp = signature ? take_line(&data, &size) : NULL;
    if (timestamp && strcmp(timestamp, "now") == 0) {
        free(timestamp);
        timestamp = malloc(24);
        if (!timestamp)
            abort();
        snprintf(timestamp, 24, "%llu", (unsigned long long)(clock_wall_ms() / 1000u));
    }
    /* The server hands the body over as it read it: an exact-size heap copy, so ASan sees any read
     * past its end. */
    char *body = malloc(size ? size : 1);
    if (!body)
        abort();
    if (size)
        memcpy(body, data, size);
    struct dispatch_reply reply = {0};
    dispatch_interaction(G.d, signature, timestamp, body, size, &reply);
    if (!reply.body || reply.http_status < 100 || reply.http_status > 599)
        abort(); /* the contract: a status and a body, always */
    free(reply.body);
    free(body);
    free(timestamp);
    free(signature);
    return 0;
}
