/* verify_ceiling.c — the single-core ceiling for bench/perf.sh: how many Discord signatures one
 * core checks per second with libsodium's crypto_sign_verify_detached, the check Slimy makes on
 * every POST /interactions, over the same pre-signed requests the benchmark sends (lines
 * "<signature hex>\t<timestamp>\t<body>" written by bench/gen_bodies). Nothing else is timed: the
 * requests are decoded before the clock starts, and each check is Ed25519 over timestamp || body.
 *
 *   verify_ceiling PUBLIC_KEY_HEX BODIES_FILE SECONDS
 *
 * Prints one line: "VERIFY verified=N seconds=S per_s=R bodies=B" (exit 1 if a signature does not
 * verify: the bodies or the key are wrong, so the figure would mean nothing).
 *
 * Build: cc -O2 -o verify_ceiling verify_ceiling.c -lsodium
 */
#include <sodium.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BODIES 1000 /* enough to leave the caches as cold as Slimy's are; more adds nothing */
#define MAX_LINE 8192   /* gen_bodies writes a few KiB at most */
#define CHECK_EVERY 64  /* verifications between two looks at the clock */

struct signed_request {
    unsigned char sig[crypto_sign_BYTES];
    unsigned char *msg; /* timestamp || body */
    size_t len;
};

static int die(const char *msg)
{
    fprintf(stderr, "verify_ceiling: %s\n", msg);
    return 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One line into r; -1 when it is not "<128 hex>\t<timestamp>\t<body>". */
static int parse_line(char *line, struct signed_request *r)
{
    char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (!tab2)
        return -1;
    size_t n = strlen(tab2 + 1);
    while (n > 0 && (tab2[n] == '\n' || tab2[n] == '\r'))
        tab2[n--] = '\0';
    size_t sig_len = 0;
    if (sodium_hex2bin(r->sig, sizeof r->sig, line, (size_t)(tab1 - line), NULL, &sig_len, NULL) != 0 ||
        sig_len != sizeof r->sig)
        return -1;
    size_t ts_len = (size_t)(tab2 - tab1 - 1), body_len = strlen(tab2 + 1);
    r->msg = malloc(ts_len + body_len);
    if (!r->msg)
        return -1;
    memcpy(r->msg, tab1 + 1, ts_len);
    memcpy(r->msg + ts_len, tab2 + 1, body_len);
    r->len = ts_len + body_len;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4)
        return die("usage: verify_ceiling PUBLIC_KEY_HEX BODIES_FILE SECONDS");
    if (sodium_init() < 0)
        return die("sodium_init failed");
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    size_t pk_len = 0;
    if (sodium_hex2bin(pk, sizeof pk, argv[1], strlen(argv[1]), NULL, &pk_len, NULL) != 0 || pk_len != sizeof pk)
        return die("the public key must be 64 hex characters");
    double seconds = atof(argv[3]);
    FILE *f = fopen(argv[2], "r");
    if (!f || seconds <= 0)
        return die("cannot read the bodies file, or SECONDS is not positive");

    static struct signed_request reqs[MAX_BODIES];
    static char line[MAX_LINE];
    size_t n = 0;
    while (n < MAX_BODIES && fgets(line, sizeof line, f)) {
        if (parse_line(line, &reqs[n]) != 0)
            return die("a line is not \"<signature hex>\\t<timestamp>\\t<body>\"");
        n++;
    }
    fclose(f);
    if (n == 0)
        return die("no bodies");
    for (size_t i = 0; i < n; i++) /* every one must verify, or the rate would be a bad key's */
        if (crypto_sign_verify_detached(reqs[i].sig, reqs[i].msg, reqs[i].len, pk) != 0)
            return die("a signature does not verify with this key");

    unsigned long long verified = 0;
    double start = now_s(), elapsed = 0;
    size_t next = 0;
    do {
        for (int k = 0; k < CHECK_EVERY; k++) {
            const struct signed_request *r = &reqs[next];
            if (crypto_sign_verify_detached(r->sig, r->msg, r->len, pk) != 0)
                return die("verification failed");
            next = next + 1 < n ? next + 1 : 0;
        }
        verified += CHECK_EVERY;
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    printf("VERIFY verified=%llu seconds=%.3f per_s=%.1f bodies=%zu\n", verified, elapsed, (double)verified / elapsed,
           n);
    for (size_t i = 0; i < n; i++)
        free(reqs[i].msg);
    return 0;
}
