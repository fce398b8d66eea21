/* verify.c — Ed25519 request verification with libsodium; see verify.h.
 * Cheap checks come first (header shape, freshness) so junk never costs a signature check. */
#include "interactions/verify.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SIGNATURE_HEX_LEN (2 * crypto_sign_BYTES)
#define TIMESTAMP_MAX_LEN 20 /* a uint64 in decimal */

/* Discord sends unix seconds as a decimal string; anything else is malformed. */
static bool parse_timestamp(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18)
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

enum verify_result verify_request(const unsigned char public_key[32], const char *signature_hex, const char *timestamp,
                                  const char *body, size_t len, uint64_t now_s, uint32_t max_age_s,
                                  int64_t *signed_at_s)
{
    if (!signature_hex || !*signature_hex || !timestamp || !*timestamp)
        return VERIFY_MISSING_HEADER;

    unsigned char sig[crypto_sign_BYTES];
    size_t sig_len = 0;
    const char *hex_end = NULL;
    if (strlen(signature_hex) != SIGNATURE_HEX_LEN ||
        sodium_hex2bin(sig, sizeof sig, signature_hex, SIGNATURE_HEX_LEN, NULL, &sig_len, &hex_end) != 0 ||
        sig_len != sizeof sig || *hex_end != '\0')
        return VERIFY_MALFORMED;

    int64_t ts;
    size_t ts_len = strlen(timestamp);
    if (ts_len > TIMESTAMP_MAX_LEN || !parse_timestamp(timestamp, &ts))
        return VERIFY_MALFORMED;
    if (max_age_s) {
        int64_t skew = (int64_t)now_s - ts;
        if (skew > (int64_t)max_age_s || skew < -(int64_t)max_age_s)
            return VERIFY_STALE;
    }

#ifdef SLIMY_FUZZ_SKIP_SIGNATURE
    /* !!! FUZZING ONLY — NEVER IN A NORMAL BUILD !!!
     * With SLIMY_FUZZ_SKIP_SIGNATURE every well-formed, fresh request is accepted WITHOUT checking
     * its Ed25519 signature, so the request-path fuzzer (tests/fuzz/fuzz_request.c) reaches the
     * parser and the dispatcher. Only CMake's SLIMY_FUZZ block defines it, and only for the
     * library copy the fuzz targets link (slimy_fuzz_core); the header and freshness checks
     * above still run. A server built this way would obey anyone: the guard below refuses to
     * compile it without libFuzzer's FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION as well. */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#error "SLIMY_FUZZ_SKIP_SIGNATURE is for fuzz builds only (define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)"
#endif
    (void)public_key;
    *signed_at_s = ts;
    return VERIFY_OK;
#endif

    /* The signed message is timestamp ‖ body. Large bodies get a heap copy; the usual
     * interaction (a few KiB) is assembled on the stack. */
    unsigned char stack_msg[16384];
    unsigned char *msg = stack_msg;
    size_t msg_len = ts_len + len;
    if (msg_len > sizeof stack_msg) {
        msg = malloc(msg_len);
        if (!msg)
            return VERIFY_BAD_SIGNATURE;
    }
    memcpy(msg, timestamp, ts_len);
    if (len)
        memcpy(msg + ts_len, body, len);
    int ok = crypto_sign_verify_detached(sig, msg, msg_len, public_key);
    if (msg != stack_msg)
        free(msg);
    if (ok != 0)
        return VERIFY_BAD_SIGNATURE;
    *signed_at_s = ts;
    return VERIFY_OK;
}

const char *verify_result_name(enum verify_result r)
{
    switch (r) {
    case VERIFY_OK: return "ok";
    case VERIFY_MISSING_HEADER: return "missing_header";
    case VERIFY_MALFORMED: return "malformed_header";
    case VERIFY_STALE: return "stale_timestamp";
    case VERIFY_BAD_SIGNATURE: return "bad_signature";
    }
    return "unknown";
}
