/* verify.h — Discord request signature verification (Ed25519 over timestamp ‖ raw body).
 * IMPLEMENTATION-OF: Discord "Security and Authorization": verify X-Signature-Ed25519 with the
 * application's public key over X-Signature-Timestamp followed by the raw body, and answer 401
 * on any failure. Pure functions; thread-safe once sodium_init() has run. */
#ifndef SLIMY_INTERACTIONS_VERIFY_H
#define SLIMY_INTERACTIONS_VERIFY_H

#include <stddef.h>
#include <stdint.h>

enum verify_result {
    VERIFY_OK = 0,
    VERIFY_MISSING_HEADER, /* a signature header is absent or empty */
    VERIFY_MALFORMED,      /* not 128 hex chars, or the timestamp is not decimal seconds */
    VERIFY_STALE,          /* timestamp outside the freshness window */
    VERIFY_BAD_SIGNATURE,  /* well-formed but does not verify */
};

/* Checks one request. signature_hex and timestamp are the header values (NULL if absent);
 * body/len are the raw bytes as received. max_age_s bounds |now_s - timestamp| (0 disables).
 * On VERIFY_OK, *signed_at_s receives the timestamp. Every result but VERIFY_OK means 401. */
enum verify_result verify_request(const unsigned char public_key[32], const char *signature_hex, const char *timestamp,
                                  const char *body, size_t len, uint64_t now_s, uint32_t max_age_s,
                                  int64_t *signed_at_s);

/* A short name for logs and metrics ("bad_signature"). */
const char *verify_result_name(enum verify_result r);

#endif
