/* gen_bodies.c — writes pre-signed Discord interaction bodies for bench/admit.sh, one request per
 * line: "<signature hex>\t<timestamp>\t<body>\n" (the bodies are single-line JSON without tabs).
 * The signature is Discord's: Ed25519 (libsodium) over timestamp || body, with the secret key file
 * written by `slimy-sign keygen --out DIR` (DIR/dev-secret.key, 128 hex characters).
 *
 *   gen_bodies KEY_FILE TIMESTAMP ping                 one PING ({"type":1})
 *   gen_bodies KEY_FILE TIMESTAMP consent COUNT FIRST  COUNT `/consent status` commands numbered
 *                                                      FIRST .. FIRST+COUNT-1
 *
 * Every command gets its own interaction id, token and user id (Slimy dedupes by interaction id
 * and keeps cooldowns per user), all derived from the timestamp and the number, so two sets made
 * with different FIRST never overlap. Output goes to stdout.
 *
 * Build: cc -O2 -o gen_bodies gen_bodies.c -lsodium
 */
#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_ID "123456789012345678"

static int die(const char *msg)
{
    fprintf(stderr, "gen_bodies: %s\n", msg);
    return 1;
}

static int emit(const unsigned char *sk, const char *ts, const char *body, size_t body_len, unsigned char *msg)
{
    size_t ts_len = strlen(ts);
    unsigned char sig[crypto_sign_BYTES];
    char hex[crypto_sign_BYTES * 2 + 1];
    memcpy(msg, ts, ts_len);
    memcpy(msg + ts_len, body, body_len);
    crypto_sign_detached(sig, NULL, msg, ts_len + body_len, sk);
    sodium_bin2hex(hex, sizeof hex, sig, sizeof sig);
    return printf("%s\t%s\t%.*s\n", hex, ts, (int)body_len, body) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return die("usage: gen_bodies KEY_FILE TIMESTAMP ping | gen_bodies KEY_FILE TIMESTAMP consent COUNT FIRST");
    if (sodium_init() < 0)
        return die("sodium_init failed");

    char keyhex[256] = {0};
    FILE *kf = fopen(argv[1], "r");
    if (!kf)
        return die("cannot open the key file");
    size_t n = fread(keyhex, 1, sizeof keyhex - 1, kf);
    fclose(kf);
    while (n > 0 && (keyhex[n - 1] == '\n' || keyhex[n - 1] == '\r' || keyhex[n - 1] == ' '))
        keyhex[--n] = '\0';
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    size_t sk_len = 0;
    if (n != crypto_sign_SECRETKEYBYTES * 2 || sodium_hex2bin(sk, sizeof sk, keyhex, n, NULL, &sk_len, NULL) != 0 ||
        sk_len != sizeof sk)
        return die("the key file must hold 128 hex characters (a libsodium Ed25519 secret key)");

    const char *ts = argv[2];
    unsigned long long tsn = strtoull(ts, NULL, 10);
    static unsigned char msg[4096];
    char body[2048];

    if (strcmp(argv[3], "ping") == 0) {
        int len = snprintf(body, sizeof body, "{\"type\":1,\"id\":\"1\",\"application_id\":\"%s\",\"version\":1}", APP_ID);
        return emit(sk, ts, body, (size_t)len, msg) ? die("write failed") : 0;
    }
    if (strcmp(argv[3], "consent") != 0 || argc != 6)
        return die("usage: gen_bodies KEY_FILE TIMESTAMP consent COUNT FIRST");

    unsigned long long count = strtoull(argv[4], NULL, 10), first = strtoull(argv[5], NULL, 10);
    /* Snowflake-sized numbers: the timestamp keeps runs apart, the index keeps bodies apart
     * (interaction ids ts*1e9 + i, user ids ts*1e9 + 5e8 + i, so i must stay below 5e8). */
    unsigned long long base = tsn * 1000000000ULL;
    if (first + count > 500000000ULL)
        return die("FIRST + COUNT must stay below 500000000");
    for (unsigned long long i = first; i < first + count; i++) {
        int len = snprintf(body, sizeof body,
                           "{\"type\":2,\"id\":\"%llu\",\"application_id\":\"%s\",\"token\":\"bench-%s-%llu\","
                           "\"version\":1,\"guild_id\":\"300\",\"channel_id\":\"400\","
                           "\"member\":{\"user\":{\"id\":\"%llu\",\"username\":\"bench%llu\"},"
                           "\"permissions\":\"2147483647\"},"
                           "\"data\":{\"id\":\"9\",\"name\":\"consent\",\"type\":1,"
                           "\"options\":[{\"name\":\"status\",\"type\":1}]}}",
                           base + i, APP_ID, ts, i, base + 500000000ULL + i, i);
        if (len <= 0 || (size_t)len >= sizeof body)
            return die("body too long");
        if (emit(sk, ts, body, (size_t)len, msg))
            return die("write failed");
    }
    return fflush(stdout) == 0 ? 0 : die("write failed");
}
