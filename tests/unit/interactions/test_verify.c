/* test_verify.c — unit tests of src/interactions/verify.c: Ed25519 request verification over
 * X-Signature-Timestamp ‖ raw body. Covers the RFC 8032 §7.1 test vectors (checked against
 * libsodium directly, since verify_request always prepends a non-empty decimal timestamp), Discord-style
 * requests signed here with libsodium, every malformed or missing header, the freshness window,
 * tampering, bodies with NUL bytes, bodies past the 16 KiB stack buffer, and verify_result_name(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "interactions/verify.h"

#define SIG_HEX_LEN (2 * crypto_sign_BYTES) /* 128 */
#define NOW_S UINT64_C(1700000000)
#define NOW_TS "1700000000"
#define MAX_AGE_S 300
#define PING_BODY "{\"type\":1}"

/* ---- helpers ---- */

struct keypair {
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    unsigned char secret_key[crypto_sign_SECRETKEYBYTES];
};

/* Decodes exactly n bytes of lowercase or uppercase hex; fails the test on anything else. */
static void hex_decode(const char *hex, unsigned char *out, size_t n)
{
    size_t out_len = 0;
    assert_int_equal(strlen(hex), 2 * n);
    assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &out_len, NULL), 0);
    assert_int_equal(out_len, n);
}

static void keypair_random(struct keypair *kp)
{
    assert_int_equal(crypto_sign_keypair(kp->public_key, kp->secret_key), 0);
}

static void keypair_from_seed_hex(struct keypair *kp, const char *seed_hex)
{
    unsigned char seed[crypto_sign_SEEDBYTES];
    hex_decode(seed_hex, seed, sizeof seed);
    assert_int_equal(crypto_sign_seed_keypair(kp->public_key, kp->secret_key, seed), 0);
}

/* Signs timestamp ‖ body[0..len) the way Discord does, independently of verify.c, and writes
 * the lowercase hex signature (128 chars + NUL) to sig_hex. */
static void sign_request(const struct keypair *kp, const char *timestamp, const void *body, size_t len,
                         char sig_hex[SIG_HEX_LEN + 1])
{
    size_t ts_len = strlen(timestamp);
    unsigned char *msg = malloc(ts_len + len + 1);
    assert_non_null(msg);
    memcpy(msg, timestamp, ts_len);
    if (len)
        memcpy(msg + ts_len, body, len);
    unsigned char sig[crypto_sign_BYTES];
    assert_int_equal(crypto_sign_detached(sig, NULL, msg, ts_len + len, kp->secret_key), 0);
    free(msg);
    sodium_bin2hex(sig_hex, SIG_HEX_LEN + 1, sig, sizeof sig);
}

/* verify_request with the usual clock and window; returns the result and the signed time. */
static enum verify_result verify_at(const struct keypair *kp, const char *sig_hex, const char *timestamp,
                                    const char *body, size_t len, uint64_t now_s, uint32_t max_age_s,
                                    int64_t *signed_at_s)
{
    int64_t ignored = -1;
    return verify_request(kp->public_key, sig_hex, timestamp, body, len, now_s, max_age_s,
                          signed_at_s ? signed_at_s : &ignored);
}

/* Signs (timestamp, PING_BODY) correctly, so that only the header shape can be rejected. */
static enum verify_result verify_signed_ts(const struct keypair *kp, const char *timestamp, uint32_t max_age_s)
{
    char sig_hex[SIG_HEX_LEN + 1];
    sign_request(kp, timestamp, PING_BODY, strlen(PING_BODY), sig_hex);
    return verify_at(kp, sig_hex, timestamp, PING_BODY, strlen(PING_BODY), NOW_S, max_age_s, NULL);
}

static int setup_sodium(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* ---- RFC 8032 §7.1 ---- */

struct rfc8032_vector {
    const char *name;
    const char *seed_hex;   /* "SECRET KEY" in the RFC: the 32-byte seed */
    const char *public_hex; /* "PUBLIC KEY" */
    const char *message_hex;
    const char *signature_hex;
};

static const struct rfc8032_vector rfc8032_vectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595"
     "bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb"
     "4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e97"
     "16ed28dc027beceea1ec40a"},
    /* TEST SHA(abc): the message is SHA-512("abc") (FIPS 180-2 example), checked below. */
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643"
     "ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138"
     "ac17ad9bef1177331a704"},
};

/* The RFC vectors at the libsodium level: the seed gives the RFC public key, signing is
 * deterministic and gives the RFC signature, the RFC signature verifies, and a flipped bit
 * does not. verify_request cannot take these messages unchanged: it signs timestamp ‖ body
 * with a non-empty decimal timestamp, and none of these messages starts with digits. */
static void test_rfc8032_vectors(void **state)
{
    (void)state;
    for (size_t v = 0; v < sizeof rfc8032_vectors / sizeof rfc8032_vectors[0]; v++) {
        const struct rfc8032_vector *vec = &rfc8032_vectors[v];
        struct keypair kp;
        unsigned char expected_pk[crypto_sign_PUBLICKEYBYTES];
        unsigned char expected_sig[crypto_sign_BYTES];
        unsigned char msg[64];
        size_t msg_len = strlen(vec->message_hex) / 2;
        assert_true(msg_len <= sizeof msg);

        keypair_from_seed_hex(&kp, vec->seed_hex);
        hex_decode(vec->public_hex, expected_pk, sizeof expected_pk);
        hex_decode(vec->signature_hex, expected_sig, sizeof expected_sig);
        if (msg_len)
            hex_decode(vec->message_hex, msg, msg_len);

        if (memcmp(kp.public_key, expected_pk, sizeof expected_pk) != 0)
            fail_msg("%s: public key from seed differs from the RFC", vec->name);
        unsigned char sig[crypto_sign_BYTES];
        assert_int_equal(crypto_sign_detached(sig, NULL, msg, msg_len, kp.secret_key), 0);
        if (memcmp(sig, expected_sig, sizeof sig) != 0)
            fail_msg("%s: signature differs from the RFC", vec->name);
        assert_int_equal(crypto_sign_verify_detached(expected_sig, msg, msg_len, expected_pk), 0);

        expected_sig[0] ^= 0x01;
        assert_int_not_equal(crypto_sign_verify_detached(expected_sig, msg, msg_len, expected_pk), 0);
    }

    /* The SHA(abc) message really is SHA-512("abc"). */
    unsigned char digest[crypto_hash_sha512_BYTES];
    unsigned char expected_digest[crypto_hash_sha512_BYTES];
    crypto_hash_sha512(digest, (const unsigned char *)"abc", 3);
    hex_decode(rfc8032_vectors[3].message_hex, expected_digest, sizeof expected_digest);
    assert_memory_equal(digest, expected_digest, sizeof digest);
}

/* TEST 1 signs the empty message, i.e. an empty timestamp and an empty body. The signature is
 * mathematically valid, but Discord always sends a timestamp, so an empty header is rejected
 * before any signature check. */
static void test_rfc8032_test1_empty_timestamp_rejected(void **state)
{
    (void)state;
    const struct rfc8032_vector *vec = &rfc8032_vectors[0];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    hex_decode(vec->public_hex, pk, sizeof pk);
    int64_t signed_at = -1;
    assert_int_equal(verify_request(pk, vec->signature_hex, "", "", 0, NOW_S, 0, &signed_at), VERIFY_MISSING_HEADER);
    assert_int_equal(signed_at, -1);
}

/* A Discord-style request signed with the RFC TEST 1 key pair verifies with its public key. */
static void test_rfc8032_test1_key_signs_discord_request(void **state)
{
    (void)state;
    struct keypair kp;
    unsigned char rfc_pk[crypto_sign_PUBLICKEYBYTES];
    keypair_from_seed_hex(&kp, rfc8032_vectors[0].seed_hex);
    hex_decode(rfc8032_vectors[0].public_hex, rfc_pk, sizeof rfc_pk);

    const char body[] = "{\"id\":\"1\",\"type\":2,\"data\":{\"name\":\"ask\",\"type\":1}}";
    char sig_hex[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, body, strlen(body), sig_hex);
    int64_t signed_at = -1;
    assert_int_equal(verify_request(rfc_pk, sig_hex, NOW_TS, body, strlen(body), NOW_S, MAX_AGE_S, &signed_at),
                     VERIFY_OK);
    assert_int_equal(signed_at, 1700000000);

    /* The RFC's own TEST 1 signature is over the empty message, not over this request. */
    assert_int_equal(verify_request(rfc_pk, rfc8032_vectors[0].signature_hex, NOW_TS, body, strlen(body), NOW_S,
                                    MAX_AGE_S, &signed_at),
                     VERIFY_BAD_SIGNATURE);
}

/* ---- Discord-style requests ---- */

static void test_discord_request_ok(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    char sig_hex[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, PING_BODY, strlen(PING_BODY), sig_hex);
    assert_int_equal(strlen(sig_hex), 128);

    int64_t signed_at = -1;
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, PING_BODY, strlen(PING_BODY), NOW_S, MAX_AGE_S, &signed_at),
                     VERIFY_OK);
    assert_int_equal(signed_at, 1700000000);

    /* An empty body is still a signed message (the timestamp alone); NULL is fine with len 0. */
    sign_request(&kp, NOW_TS, "", 0, sig_hex);
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, NULL, 0, NOW_S, MAX_AGE_S, NULL), VERIFY_OK);
}

static void test_missing_headers(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    char sig_hex[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, PING_BODY, strlen(PING_BODY), sig_hex);
    size_t len = strlen(PING_BODY);

    assert_int_equal(verify_at(&kp, NULL, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MISSING_HEADER);
    assert_int_equal(verify_at(&kp, "", NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MISSING_HEADER);
    assert_int_equal(verify_at(&kp, sig_hex, NULL, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MISSING_HEADER);
    assert_int_equal(verify_at(&kp, sig_hex, "", PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MISSING_HEADER);
    assert_int_equal(verify_at(&kp, NULL, NULL, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MISSING_HEADER);
    assert_int_equal(verify_at(&kp, "", "", PING_BODY, len, NOW_S, 0, NULL), VERIFY_MISSING_HEADER);
}

static void test_malformed_signature(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    char good[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, PING_BODY, strlen(PING_BODY), good);
    size_t len = strlen(PING_BODY);
    char sig[SIG_HEX_LEN + 8];

    /* 127 chars: the valid signature minus its last digit. */
    memcpy(sig, good, SIG_HEX_LEN - 1);
    sig[SIG_HEX_LEN - 1] = '\0';
    assert_int_equal(verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MALFORMED);
    /* 126 chars: whole bytes, one short. */
    sig[SIG_HEX_LEN - 2] = '\0';
    assert_int_equal(verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MALFORMED);
    /* 129 and 130 chars: the valid signature with extra digits. */
    snprintf(sig, sizeof sig, "%s0", good);
    assert_int_equal(verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MALFORMED);
    snprintf(sig, sizeof sig, "%s00", good);
    assert_int_equal(verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MALFORMED);
    /* Trailing newline (a header value not trimmed). */
    snprintf(sig, sizeof sig, "%s\n", good);
    assert_int_equal(verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MALFORMED);

    /* 128 chars with one non-hex character at the start, the middle and the end. */
    static const size_t positions[] = {0, 1, 63, 64, 126, 127};
    static const char bad_chars[] = {'g', 'G', 'x', ' ', ':', '-', 'z'};
    for (size_t p = 0; p < sizeof positions / sizeof positions[0]; p++) {
        for (size_t c = 0; c < sizeof bad_chars; c++) {
            memcpy(sig, good, SIG_HEX_LEN + 1);
            sig[positions[p]] = bad_chars[c];
            if (verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL) != VERIFY_MALFORMED)
                fail_msg("'%c' at %zu not reported as malformed", bad_chars[c], positions[p]);
        }
    }
    /* A "0x" prefix keeps the length at 128 but is not hex. */
    snprintf(sig, sizeof sig, "0x%.126s", good);
    assert_int_equal(strlen(sig), 128);
    assert_int_equal(verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_MALFORMED);

    /* Well-formed hex that is not the signature: BAD_SIGNATURE, not MALFORMED. */
    memset(sig, '0', SIG_HEX_LEN);
    sig[SIG_HEX_LEN] = '\0';
    assert_int_equal(verify_at(&kp, sig, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
}

/* Discord sends lowercase hex. Hex case carries no information: uppercase and mixed case decode to
 * the very same 64 signature bytes, and those bytes are what Ed25519 checks, so accepting them cannot
 * admit a forged request. We accept them (sodium_hex2bin is case-insensitive) rather than turning a
 * correct signature into a 401. */
static void test_signature_hex_case(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    char sig[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, PING_BODY, strlen(PING_BODY), sig);
    size_t len = strlen(PING_BODY);

    char upper[SIG_HEX_LEN + 1], mixed[SIG_HEX_LEN + 1];
    for (size_t i = 0; i <= SIG_HEX_LEN; i++) {
        char c = sig[i];
        char up = (c >= 'a' && c <= 'f') ? (char)(c - 'a' + 'A') : c;
        upper[i] = up;
        mixed[i] = (i % 2) ? up : c;
    }
    assert_int_equal(verify_at(&kp, upper, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_OK);
    assert_int_equal(verify_at(&kp, mixed, NOW_TS, PING_BODY, len, NOW_S, MAX_AGE_S, NULL), VERIFY_OK);
}

/* The timestamp must be decimal unix seconds, at most 18 digits. Each request is signed correctly
 * over its own timestamp, so only the header shape can make it fail. */
static void test_malformed_timestamp(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    static const char *const bad[] = {
        "17000000a0",           /* a letter */
        "1700000000s",          /* unit suffix */
        "abc",                  /* no digits */
        "-1700000000",          /* negative */
        "-1",                   /* negative */
        "+1700000000",          /* sign */
        " 1700000000",          /* leading space */
        "1700000000 ",          /* trailing space */
        "17000 00000",          /* inner space */
        "1700000000\t",         /* tab */
        "1.7e9",                /* float notation */
        "1700000000.5",         /* fraction */
        "0x6553f100",           /* hex */
        "1000000000000000000",  /* 19 digits */
        "0001700000000000000",  /* 19 digits with leading zeros */
        "99999999999999999999", /* 20 digits */
        "123456789012345678901234567890",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (verify_signed_ts(&kp, bad[i], 0) != VERIFY_MALFORMED)
            fail_msg("timestamp \"%s\" not reported as malformed (max_age 0)", bad[i]);
        if (verify_signed_ts(&kp, bad[i], MAX_AGE_S) != VERIFY_MALFORMED)
            fail_msg("timestamp \"%s\" not reported as malformed (max_age 300)", bad[i]);
    }

    /* 18 digits is the longest accepted; it must not overflow. */
    char sig_hex[SIG_HEX_LEN + 1];
    const char *ts18 = "999999999999999999";
    sign_request(&kp, ts18, PING_BODY, strlen(PING_BODY), sig_hex);
    int64_t signed_at = -1;
    assert_int_equal(verify_at(&kp, sig_hex, ts18, PING_BODY, strlen(PING_BODY), NOW_S, 0, &signed_at), VERIFY_OK);
    assert_int_equal(signed_at, INT64_C(999999999999999999));
    /* ...but it is far in the future, so a freshness window rejects it. */
    assert_int_equal(verify_at(&kp, sig_hex, ts18, PING_BODY, strlen(PING_BODY), NOW_S, MAX_AGE_S, NULL), VERIFY_STALE);

    /* "0" is decimal seconds (the epoch). */
    assert_int_equal(verify_signed_ts(&kp, "0", 0), VERIFY_OK);
}

static void test_freshness_window(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    struct {
        uint64_t ts;
        uint32_t max_age_s;
        enum verify_result expected;
    } cases[] = {
        {NOW_S, MAX_AGE_S, VERIFY_OK},
        {NOW_S - 300, MAX_AGE_S, VERIFY_OK},    /* exactly at the past edge */
        {NOW_S + 300, MAX_AGE_S, VERIFY_OK},    /* exactly at the future edge */
        {NOW_S - 301, MAX_AGE_S, VERIFY_STALE}, /* one second too old */
        {NOW_S + 301, MAX_AGE_S, VERIFY_STALE}, /* one second too far ahead */
        {NOW_S - 86400, MAX_AGE_S, VERIFY_STALE},
        {0, MAX_AGE_S, VERIFY_STALE},
        {NOW_S - 1, 1, VERIFY_OK},
        {NOW_S - 2, 1, VERIFY_STALE},
        /* max_age 0 disables the check entirely. */
        {NOW_S - 301, 0, VERIFY_OK},
        {NOW_S + 301, 0, VERIFY_OK},
        {0, 0, VERIFY_OK},
        {1, 0, VERIFY_OK},
        {NOW_S * 100, 0, VERIFY_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char ts[32];
        snprintf(ts, sizeof ts, "%llu", (unsigned long long)cases[i].ts);
        char sig_hex[SIG_HEX_LEN + 1];
        sign_request(&kp, ts, PING_BODY, strlen(PING_BODY), sig_hex);
        int64_t signed_at = -1;
        enum verify_result r =
            verify_at(&kp, sig_hex, ts, PING_BODY, strlen(PING_BODY), NOW_S, cases[i].max_age_s, &signed_at);
        if (r != cases[i].expected)
            fail_msg("ts %s max_age %u: got %s, expected %s", ts, (unsigned)cases[i].max_age_s, verify_result_name(r),
                     verify_result_name(cases[i].expected));
        if (r == VERIFY_OK)
            assert_int_equal(signed_at, (int64_t)cases[i].ts);
    }

    /* A server clock at 0 with a current timestamp is just as far off. */
    char sig_hex[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, PING_BODY, strlen(PING_BODY), sig_hex);
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, PING_BODY, strlen(PING_BODY), 0, MAX_AGE_S, NULL), VERIFY_STALE);
}

static void test_tampering(void **state)
{
    (void)state;
    struct keypair kp, other;
    keypair_random(&kp);
    keypair_random(&other);
    const char body[] = "{\"type\":2,\"data\":{\"name\":\"ask\",\"options\":[{\"name\":\"prompt\",\"value\":\"hi\"}]}}";
    size_t len = sizeof body - 1;
    char sig_hex[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, body, len, sig_hex);
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_OK);

    /* Every single-byte change of the body fails. */
    char copy[sizeof body];
    for (size_t i = 0; i < len; i++) {
        memcpy(copy, body, sizeof body);
        copy[i] ^= 0x20;
        if (verify_at(&kp, sig_hex, NOW_TS, copy, len, NOW_S, MAX_AGE_S, NULL) != VERIFY_BAD_SIGNATURE)
            fail_msg("body changed at byte %zu still verifies", i);
    }
    /* One byte fewer or more. */
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, body, len - 1, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, body, len + 1, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
    /* Another timestamp, still fresh. */
    assert_int_equal(verify_at(&kp, sig_hex, "1700000001", body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
    /* Moving bytes between the timestamp and the body changes nothing signed, so it verifies: the
     * signed message is the concatenation. "170000000" + "0{...": same bytes (max_age 0: that
     * timestamp is years old). */
    char shifted[sizeof body + 1];
    shifted[0] = '0';
    memcpy(shifted + 1, body, sizeof body);
    assert_int_equal(verify_at(&kp, sig_hex, "170000000", shifted, len + 1, NOW_S, 0, NULL), VERIFY_OK);
    /* The wrong public key. */
    assert_int_equal(verify_at(&other, sig_hex, NOW_TS, body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
    /* A flipped bit in the signature, in R and in S. */
    static const size_t digits[] = {0, 63, 64, 127};
    for (size_t d = 0; d < sizeof digits / sizeof digits[0]; d++) {
        char bad_sig[SIG_HEX_LEN + 1];
        memcpy(bad_sig, sig_hex, sizeof bad_sig);
        bad_sig[digits[d]] = bad_sig[digits[d]] == '0' ? '1' : '0';
        assert_int_equal(verify_at(&kp, bad_sig, NOW_TS, body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
    }
    /* The signature of another body. */
    char other_sig[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, PING_BODY, strlen(PING_BODY), other_sig);
    assert_int_equal(verify_at(&kp, other_sig, NOW_TS, body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
}

/* The signature covers the raw bytes: a NUL inside the body is data, not the end. */
static void test_body_with_nul_bytes(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    static const char body[] = "{\"type\":1}\0\0tail after NULs\0";
    size_t len = sizeof body - 1; /* 28 bytes: every byte but the literal's terminator */
    assert_int_equal(len, 28);
    char sig_hex[SIG_HEX_LEN + 1];
    sign_request(&kp, NOW_TS, body, len, sig_hex);

    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_OK);
    /* Stopping at the first NUL (strlen) is not the signed message. */
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, body, strlen(body), NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
    /* A change after the NUL is detected. */
    char copy[sizeof body];
    memcpy(copy, body, sizeof body);
    copy[15] = 'T';
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, copy, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);

    /* A body of NULs only. */
    static const char zeros[8] = {0};
    sign_request(&kp, NOW_TS, zeros, sizeof zeros, sig_hex);
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, zeros, sizeof zeros, NOW_S, MAX_AGE_S, NULL), VERIFY_OK);
    assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, zeros, sizeof zeros - 1, NOW_S, MAX_AGE_S, NULL),
                     VERIFY_BAD_SIGNATURE);
}

/* Bodies around and far past the 16 KiB stack buffer (timestamp ‖ body > 16384 bytes goes to the
 * heap). Each body is an exact-size heap block with no terminator, so ASan sees any over-read. */
static void test_large_bodies(void **state)
{
    (void)state;
    struct keypair kp;
    keypair_random(&kp);
    const size_t ts_len = strlen(NOW_TS);
    const size_t sizes[] = {
        16384 - ts_len - 1, /* message one byte under the stack buffer */
        16384 - ts_len,     /* exactly fills it */
        16384 - ts_len + 1, /* one byte over: heap */
        16384,              /* a 16 KiB body */
        16385,
        64 * 1024,
        1024 * 1024,
    };
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t len = sizes[s];
        char *body = malloc(len);
        assert_non_null(body);
        memset(body, ' ', len);
        memcpy(body, "{\"type\":2,\"pad\":\"", 17);
        for (size_t i = 17; i + 2 < len; i++)
            body[i] = (char)('a' + (i * 7) % 26);
        memcpy(body + len - 2, "\"}", 2);

        char sig_hex[SIG_HEX_LEN + 1];
        sign_request(&kp, NOW_TS, body, len, sig_hex);
        int64_t signed_at = -1;
        if (verify_at(&kp, sig_hex, NOW_TS, body, len, NOW_S, MAX_AGE_S, &signed_at) != VERIFY_OK)
            fail_msg("a %zu-byte body does not verify", len);
        assert_int_equal(signed_at, 1700000000);

        /* Tampering with the first or the last byte is still caught. */
        body[len - 1] = '!';
        assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
        body[len - 1] = '}';
        body[0] = '[';
        assert_int_equal(verify_at(&kp, sig_hex, NOW_TS, body, len, NOW_S, MAX_AGE_S, NULL), VERIFY_BAD_SIGNATURE);
        free(body);
    }
}

/* ---- names ---- */

static void test_result_names(void **state)
{
    (void)state;
    const enum verify_result all[] = {VERIFY_OK, VERIFY_MISSING_HEADER, VERIFY_MALFORMED, VERIFY_STALE,
                                      VERIFY_BAD_SIGNATURE};
    const size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *name = verify_result_name(all[i]);
        assert_non_null(name);
        assert_true(name[0] != '\0');
        /* Log and metric friendly: lowercase letters and underscores. */
        for (const char *p = name; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
        for (size_t j = 0; j < i; j++)
            if (strcmp(name, verify_result_name(all[j])) == 0)
                fail_msg("results %zu and %zu share the name \"%s\"", j, i, name);
    }
    assert_string_equal(verify_result_name(VERIFY_OK), "ok");
    assert_string_equal(verify_result_name(VERIFY_BAD_SIGNATURE), "bad_signature");
    /* An out-of-range value still yields a string. */
    assert_non_null(verify_result_name((enum verify_result)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8032_vectors),
        cmocka_unit_test(test_rfc8032_test1_empty_timestamp_rejected),
        cmocka_unit_test(test_rfc8032_test1_key_signs_discord_request),
        cmocka_unit_test(test_discord_request_ok),
        cmocka_unit_test(test_missing_headers),
        cmocka_unit_test(test_malformed_signature),
        cmocka_unit_test(test_signature_hex_case),
        cmocka_unit_test(test_malformed_timestamp),
        cmocka_unit_test(test_freshness_window),
        cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_body_with_nul_bytes),
        cmocka_unit_test(test_large_bodies),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, setup_sodium, NULL);
}
