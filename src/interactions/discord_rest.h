/* discord_rest.h — Slimy's client for Discord's REST API (libcurl).
 *
 * Follow-ups: discord_reply_deliver() completes a deferred interaction by editing
 * @original (PATCH /webhooks/{app}/{token}/messages/@original), then posting the rest of a
 * long text as follow-ups (POST /webhooks/{app}/{token}) of at most 2000 characters each.
 * Files go as multipart/form-data (payload_json + files[n]). Webhook routes carry no bot
 * token: the interaction token in the path is the credential, and it never reaches a log.
 * It runs asynchronously on the shared outbound engine (fetch.h) and honours Discord's rate
 * limits: 429 waits `retry_after` (a global 429 pauses every delivery), a bucket with
 * X-RateLimit-Remaining 0 waits X-RateLimit-Reset-After — each wait at most FETCH_WAIT_MAX_MS
 * (60 s) and the time left before the deadline, whatever was asked — 5xx and network errors back off
 * exponentially, and a 404 right after the defer (Discord's known race) is retried a few times.
 * All of it stops at the interaction's deadline, 15 minutes after its signed timestamp; a
 * reply that cannot make it is dropped with a log line.
 *
 * Registering commands (`slimy register`) is blocking and lives in discord_register.h. */
#ifndef SLIMY_INTERACTIONS_DISCORD_REST_H
#define SLIMY_INTERACTIONS_DISCORD_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/fetch.h"
#include "interactions/message.h"

struct discord_rest;

/* Result of a delivery, passed to its callback. */
struct discord_delivery_result {
    int status;        /* SLIMY_OK, or why the reply was dropped */
    long http_status;  /* last HTTP status from Discord, 0 if none */
    unsigned attempts; /* HTTP requests made, retries included */
};

/* Runs exactly once on the engine thread when a delivery ends (sent or dropped). */
typedef void (*discord_delivered_fn)(const struct discord_delivery_result *result, void *arg);

/* A client bound to cfg->api_base; cfg and engine are borrowed and must outlive it. */
int discord_rest_new(const struct slimy_config *cfg, struct fetch *engine, struct discord_rest **out);
void discord_rest_free(struct discord_rest *rest);

/* What to deliver and where. Strings are copied; the message is taken over. The webhook URL is
 * built from the interaction's fields, so they are checked first and the delivery refused
 * (SLIMY_EINVAL, a log line, no request) unless: the application id equals
 * DISCORD_APPLICATION_ID when that is set (it is then the one used; NULL or "" takes it), or else
 * is a snowflake (digits); and the token is 1 to 500 of Discord's characters (letters, digits,
 * '-', '_', '.'; no leading '.', no ".."). Each segment is URL-escaped as well. */
struct discord_delivery {
    const char *application_id;  /* the interaction's application_id; NULL or "" = the configured one */
    const char *token;           /* interaction token (secret) */
    const char *interaction_id;  /* for log lines */
    uint64_t expires_at_wall_ms; /* token end: signed timestamp + 15 min */
    bool ephemeral;              /* follow-up POSTs carry flag 64 */
};

/* Starts delivering *msg (its contents are moved out; *msg is left empty). Thread-safe.
 * done(result, arg) runs once when it ends; if this returns an error it never runs (and *msg is
 * the caller's still). Text that is not valid UTF-8 (content, file names, embeds) is sent with
 * '?' for each malformed byte, with a warning, rather than refused by Discord. */
int discord_reply_deliver(struct discord_rest *rest, const struct discord_delivery *where, struct message *msg,
                          discord_delivered_fn done, void *arg);

/* The User-Agent Discord requires: "DiscordBot (<url>, <version>)". */
extern const char DISCORD_USER_AGENT[];

#endif
