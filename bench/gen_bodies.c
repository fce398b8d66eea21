/* gen_bodies.c — writes pre-signed Discord interaction bodies for bench/admit.sh and bench/perf.sh,
 * one request per line: "<signature hex>\t<timestamp>\t<body>\n" (the bodies are single-line JSON
 * without tabs). The signature is Discord's: Ed25519 (libsodium) over timestamp || body, with the
 * secret key file written by `slimy-sign keygen --out DIR` (DIR/dev-secret.key, 128 hex characters).
 *
 *   gen_bodies KEY_FILE TIMESTAMP ping                 one PING ({"type":1})
 *   gen_bodies KEY_FILE TIMESTAMP ping-bad             one PING signed with another key (a bad
 *                                                      signature: Slimy answers 401)
 *   gen_bodies KEY_FILE TIMESTAMP consent COUNT FIRST  COUNT `/consent status` commands numbered
 *                                                      FIRST .. FIRST+COUNT-1 (deferred)
 *   gen_bodies KEY_FILE TIMESTAMP calc COUNT FIRST     `/snail calc` (immediate, no cooldown), with
 *                                                      the fields a real guild interaction carries
 *                                                      (about 1.5 KB)
 *   gen_bodies KEY_FILE TIMESTAMP chat COUNT FIRST     `/chat message:...` (deferred, needs the AI);
 *                                                      the message ends in "zzend-<number>", so the
 *                                                      reply that quotes it is the final one
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

/* The command's "data" object. */
static const char *command_data(const char *kind, unsigned long long i, char *out, size_t size)
{
    if (strcmp(kind, "calc") == 0)
        snprintf(out, size,
                 "{\"id\":\"11\",\"name\":\"snail\",\"type\":1,\"options\":[{\"name\":\"calc\",\"type\":1,"
                 "\"options\":[{\"name\":\"tier\",\"type\":4,\"value\":7},{\"name\":\"levels\",\"type\":3,"
                 "\"value\":\"3,3,2,1,0,0,0,1\"},{\"name\":\"timemoda\",\"type\":10,\"value\":0.9},"
                 "{\"name\":\"cellmod\",\"type\":10,\"value\":1.1}]}]}");
    else if (strcmp(kind, "chat") == 0)
        snprintf(out, size,
                 "{\"id\":\"12\",\"name\":\"chat\",\"type\":1,\"options\":[{\"name\":\"message\",\"type\":3,"
                 "\"value\":\"hello slimy, how are the snails today? zzend-%llu\"}]}",
                 i);
    else
        snprintf(out, size,
                 "{\"id\":\"9\",\"name\":\"consent\",\"type\":1,\"options\":[{\"name\":\"status\",\"type\":1}]}");
    return out;
}

/* One application command as Discord sends it from a guild channel. The immediate command carries
 * the fields a real one has (guild, channel, roles, locales, entitlements: about 1.5 KB), the
 * others the fields Slimy reads. */
static int command_body(char *body, size_t size, const char *kind, unsigned long long id, const char *ts,
                        unsigned long long i, unsigned long long user_id)
{
    char data[512];
    command_data(kind, i, data, sizeof data);
    const char *extra =
        strcmp(kind, "calc") != 0
            ? ""
            : ",\"app_permissions\":\"562949953421311\",\"authorizing_integration_owners\":{\"0\":\"300\"},"
              "\"context\":0,\"entitlement_sku_ids\":[],\"entitlements\":[],\"locale\":\"en-US\","
              "\"guild_locale\":\"en-US\",\"guild\":{\"id\":\"300\",\"locale\":\"en-US\","
              "\"features\":[\"COMMUNITY\",\"NEWS\",\"WELCOME_SCREEN_ENABLED\",\"MEMBER_VERIFICATION_GATE_ENABLED\"]},"
              "\"channel\":{\"id\":\"400\",\"type\":0,\"guild_id\":\"300\",\"name\":\"snail-talk\","
              "\"parent_id\":\"401\",\"position\":3,\"flags\":0,\"last_message_id\":\"1234567890123456789\","
              "\"nsfw\":false,\"permissions\":\"2251799813685247\",\"rate_limit_per_user\":0,"
              "\"topic\":\"Super Snail talk, builds and questions\"},\"attachment_size_limit\":26214400";
    const char *roles = strcmp(kind, "calc") != 0
                            ? ""
                            : "\"roles\":[\"1100000000000000001\",\"1100000000000000002\","
                              "\"1100000000000000003\"],\"joined_at\":\"2023-04-01T12:00:00.000000+00:00\","
                              "\"premium_since\":null,\"deaf\":false,\"mute\":false,\"pending\":false,"
                              "\"nick\":null,\"avatar\":null,\"flags\":0,\"communication_disabled_until\":null,"
                              "\"unusual_dm_activity_until\":null,";
    return snprintf(body, size,
                    "{\"type\":2,\"id\":\"%llu\",\"application_id\":\"%s\",\"token\":\"bench-%s-%llu\","
                    "\"version\":1,\"guild_id\":\"300\",\"channel_id\":\"400\","
                    "\"member\":{%s\"user\":{\"id\":\"%llu\",\"username\":\"bench%llu\",\"global_name\":\"Bench %llu\","
                    "\"avatar\":\"0123456789abcdef0123456789abcdef\",\"discriminator\":\"0\",\"public_flags\":0},"
                    "\"permissions\":\"2147483647\"},"
                    "\"data\":%s%s}",
                    id, APP_ID, ts, i, roles, user_id, i, i, data, extra);
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
        int len =
            snprintf(body, sizeof body, "{\"type\":1,\"id\":\"1\",\"application_id\":\"%s\",\"version\":1}", APP_ID);
        return emit(sk, ts, body, (size_t)len, msg) ? die("write failed") : 0;
    }
    if (strcmp(argv[3], "ping-bad") == 0) {
        /* Signed with a key of its own: well formed and fresh, but not the application's. */
        unsigned char other_pk[crypto_sign_PUBLICKEYBYTES], other_sk[crypto_sign_SECRETKEYBYTES];
        crypto_sign_keypair(other_pk, other_sk);
        int len =
            snprintf(body, sizeof body, "{\"type\":1,\"id\":\"1\",\"application_id\":\"%s\",\"version\":1}", APP_ID);
        return emit(other_sk, ts, body, (size_t)len, msg) ? die("write failed") : 0;
    }
    const char *kind = argv[3];
    if ((strcmp(kind, "consent") != 0 && strcmp(kind, "calc") != 0 && strcmp(kind, "chat") != 0) || argc != 6)
        return die("usage: gen_bodies KEY_FILE TIMESTAMP consent|calc|chat COUNT FIRST");

    unsigned long long count = strtoull(argv[4], NULL, 10), first = strtoull(argv[5], NULL, 10);
    /* Snowflake-sized numbers: the timestamp keeps runs apart, the index keeps bodies apart
     * (interaction ids ts*1e9 + i, user ids ts*1e9 + 5e8 + i, so i must stay below 5e8). */
    unsigned long long base = tsn * 1000000000ULL;
    if (first + count > 500000000ULL)
        return die("FIRST + COUNT must stay below 500000000");
    for (unsigned long long i = first; i < first + count; i++) {
        int len = command_body(body, sizeof body, kind, base + i, ts, i, base + 500000000ULL + i);
        if (len <= 0 || (size_t)len >= sizeof body)
            return die("body too long");
        if (emit(sk, ts, body, (size_t)len, msg))
            return die("write failed");
    }
    return fflush(stdout) == 0 ? 0 : die("write failed");
}
