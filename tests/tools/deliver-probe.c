/* deliver-probe.c — drives the real Discord REST client (discord_rest.h) from the command line,
 * so the integration tests can check what no command produces yet: long text split into
 * follow-ups, and files sent as multipart.
 *   deliver-probe API_BASE APP_ID TOKEN TEXT_FILE [--attach FILE] [--ephemeral] [--deadline-ms N]
 * Prints "status=<slimy status> http=<code> attempts=<n>" and exits 0 when the reply was delivered. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/fetch.h"
#include "core/log.h"
#include "core/status.h"
#include "interactions/discord_rest.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static struct discord_delivery_result outcome;
static int finished;

static void on_done(const struct discord_delivery_result *r, void *arg)
{
    pthread_mutex_lock(&lock);
    outcome = *r;
    finished++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&lock);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) {
        data[n] = '\0';
        *len = (size_t)n;
    }
    return data;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: deliver-probe API_BASE APP_ID TOKEN TEXT_FILE [--attach FILE] [--ephemeral]\n");
        return 2;
    }
    const char *attach = NULL;
    bool ephemeral = false;
    uint64_t deadline_ms = 60000;
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "--attach") == 0 && i + 1 < argc)
            attach = argv[++i];
        else if (strcmp(argv[i], "--ephemeral") == 0)
            ephemeral = true;
        else if (strcmp(argv[i], "--deadline-ms") == 0 && i + 1 < argc)
            deadline_ms = strtoull(argv[++i], NULL, 10);
    }
    log_open(LOG_DEBUG, NULL);
    struct slimy_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.api_base = argv[1];

    struct message msg;
    message_init(&msg);
    size_t len = 0;
    char *text = slurp(argv[4], &len);
    if (!text || buf_append(&msg.content, text, len)) {
        fprintf(stderr, "deliver-probe: cannot read %s\n", argv[4]);
        return 2;
    }
    free(text);
    if (attach) {
        char *data = slurp(attach, &len);
        const char *name = strrchr(attach, '/');
        if (!data || message_attach(&msg, name ? name + 1 : attach, "application/octet-stream", data, len)) {
            fprintf(stderr, "deliver-probe: cannot read %s\n", attach);
            return 2;
        }
        free(data);
    }

    struct fetch *engine = NULL;
    struct discord_rest *rest = NULL;
    if (fetch_start(&engine) || discord_rest_new(&cfg, engine, &rest))
        return 1;
    struct discord_delivery where = {.application_id = argv[2],
                                     .token = argv[3],
                                     .interaction_id = "probe",
                                     .expires_at_wall_ms = clock_wall_ms() + deadline_ms,
                                     .ephemeral = ephemeral};
    if (discord_reply_deliver(rest, &where, &msg, on_done, NULL))
        return 1;
    pthread_mutex_lock(&lock);
    while (!finished)
        pthread_cond_wait(&done_cond, &lock);
    pthread_mutex_unlock(&lock);
    printf("status=%s http=%ld attempts=%u\n", slimy_strerror(outcome.status), outcome.http_status, outcome.attempts);
    fetch_free(engine);
    discord_rest_free(rest);
    message_cleanup(&msg);
    return outcome.status == SLIMY_OK && finished == 1 ? 0 : 1;
}
