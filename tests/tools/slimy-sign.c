/* slimy-sign: test and development helper that signs interaction request bodies exactly like
 * Discord does (Ed25519 detached signature over `timestamp || body`, hex-encoded), and makes
 * dev key pairs. Run `slimy-sign --help` for usage. Needs only libsodium.
 */
#include <sodium.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum {
    EXIT_USAGE = 2,
    EXIT_RUNTIME = 1
};

#define SK_HEX_LEN (crypto_sign_SECRETKEYBYTES * 2) /* 128 */
#define PK_HEX_LEN (crypto_sign_PUBLICKEYBYTES * 2) /* 64 */
#define SIG_HEX_LEN (crypto_sign_BYTES * 2)         /* 128 */
#define MAX_KEY_FILE 4096
#define MAX_BODY (256u * 1024u * 1024u)

static const char usage_text[] =
    "slimy-sign: sign request bodies like Discord does (Ed25519 over timestamp || body)\n"
    "\n"
    "Usage:\n"
    "  slimy-sign keygen\n"
    "      Print a new key pair as two lines: secret=<128 hex> and public=<64 hex>.\n"
    "  slimy-sign keygen --out DIR\n"
    "      Write DIR/dev-secret.key (hex, mode 0600) and DIR/dev-public.key (hex), creating DIR\n"
    "      if needed (existing files are overwritten). Prints the public key hex.\n"
    "  slimy-sign sign (--key FILE | --key-hex HEX) [--timestamp TS] [--body STRING | --body-file F]\n"
    "      Print the signature (128 lowercase hex) on line 1 and the timestamp used on line 2.\n"
    "  slimy-sign headers (--key FILE | --key-hex HEX) [--timestamp TS] [--body STRING | --body-file F]\n"
    "      Print 'X-Signature-Ed25519: <sig>' and 'X-Signature-Timestamp: <ts>' (for curl -H @-).\n"
    "  slimy-sign --help\n"
    "\n"
    "Options:\n"
    "  --key FILE       file holding the 64-byte libsodium secret key as 128 hex chars\n"
    "                   (surrounding whitespace ignored)\n"
    "  --key-hex HEX    the secret key hex given directly\n"
    "  --timestamp TS   timestamp string to sign (default: current unix time in seconds)\n"
    "  --body STRING    the request body\n"
    "  --body-file F    read the raw body bytes from F ('-' = stdin)\n"
    "                   with neither --body nor --body-file, the body is read from stdin\n"
    "\n"
    "Exit status: 0 ok, 1 runtime failure (I/O, out of memory), 2 bad arguments or bad key.\n";

static void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

static void fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("slimy-sign: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static bool is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strcmp(s, "help") == 0;
}

static void print_help_and_exit(void)
{
    fputs(usage_text, stdout);
    if (fflush(stdout) != 0 || ferror(stdout))
        exit(EXIT_RUNTIME);
    exit(0);
}

static void finish_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        fail(EXIT_RUNTIME, "cannot write to stdout: %s", strerror(errno));
}

/* Reads a whole stream into a malloc'd buffer (NUL-terminated for convenience). */
static unsigned char *read_stream(FILE *f, size_t max, size_t *out_len, const char *what)
{
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap + 1);
    if (!buf)
        fail(EXIT_RUNTIME, "out of memory");
    for (;;) {
        if (len == cap) {
            if (cap >= max)
                fail(EXIT_USAGE, "%s is too large (limit %zu bytes)", what, max);
            size_t ncap = cap * 2 > max ? max : cap * 2;
            unsigned char *nb = realloc(buf, ncap + 1);
            if (!nb)
                fail(EXIT_RUNTIME, "out of memory");
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f))
                fail(EXIT_USAGE, "cannot read %s: %s", what, strerror(errno));
            break;
        }
    }
    buf[len] = '\0';
    *out_len = len;
    return buf;
}

static unsigned char *read_file(const char *path, size_t max, size_t *out_len, const char *what)
{
    if (strcmp(path, "-") == 0)
        return read_stream(stdin, max, out_len, what);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail(EXIT_USAGE, "cannot open %s '%s': %s", what, path, strerror(errno));
    unsigned char *buf = read_stream(f, max, out_len, what);
    fclose(f);
    return buf;
}

/* Decodes a hex secret key (whitespace around it is ignored) and checks that its public half
 * matches its seed half, so a truncated or hand-edited key is caught instead of making bad
 * signatures. */
static void parse_secret_key(const char *text, size_t len, unsigned char sk[crypto_sign_SECRETKEYBYTES],
                             const char *origin)
{
    while (len > 0 && (text[0] == ' ' || text[0] == '\t' || text[0] == '\n' || text[0] == '\r')) {
        text++;
        len--;
    }
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    if (len != SK_HEX_LEN)
        fail(EXIT_USAGE, "%s: secret key must be %d hex chars, got %zu", origin, (int)SK_HEX_LEN, len);
    size_t bin_len = 0;
    const char *end = NULL;
    if (sodium_hex2bin(sk, crypto_sign_SECRETKEYBYTES, text, len, NULL, &bin_len, &end) != 0 ||
        bin_len != crypto_sign_SECRETKEYBYTES || end != text + len)
        fail(EXIT_USAGE, "%s: secret key is not valid hex", origin);

    unsigned char seed[crypto_sign_SEEDBYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk2[crypto_sign_SECRETKEYBYTES];
    crypto_sign_ed25519_sk_to_seed(seed, sk);
    crypto_sign_seed_keypair(pk, sk2, seed);
    bool same = sodium_memcmp(sk, sk2, sizeof sk2) == 0;
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(sk2, sizeof sk2);
    if (!same)
        fail(EXIT_USAGE, "%s: secret key is inconsistent (public half does not match the seed)", origin);
}

/* ---- keygen ---------------------------------------------------------------------------- */

static void mkdir_p(const char *dir)
{
    size_t n = strlen(dir);
    char *path = malloc(n + 1);
    if (!path)
        fail(EXIT_RUNTIME, "out of memory");
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            fail(EXIT_RUNTIME, "cannot create directory '%s': %s", path, strerror(errno));
        path[i] = saved;
    }
    free(path);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        fail(EXIT_RUNTIME, "'%s' is not a directory", dir);
}

static char *join_path(const char *dir, const char *name)
{
    size_t dl = strlen(dir), nl = strlen(name);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    char *p = malloc(dl + 1 + nl + 1);
    if (!p)
        fail(EXIT_RUNTIME, "out of memory");
    memcpy(p, dir, dl);
    p[dl] = '/';
    memcpy(p + dl + 1, name, nl + 1);
    return p;
}

static void write_text_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        fail(EXIT_RUNTIME, "cannot open '%s' for writing: %s", path, strerror(errno));
    /* The file may have existed with looser permissions. */
    if (fchmod(fd, mode) != 0)
        fail(EXIT_RUNTIME, "cannot chmod '%s': %s", path, strerror(errno));
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fail(EXIT_RUNTIME, "cannot write '%s': %s", path, strerror(errno));
        }
        off += (size_t)w;
    }
    if (close(fd) != 0)
        fail(EXIT_RUNTIME, "cannot close '%s': %s", path, strerror(errno));
}

static int cmd_keygen(int argc, char **argv)
{
    const char *out_dir = NULL;
    for (int i = 0; i < argc; i++) {
        if (is_help(argv[i]))
            print_help_and_exit();
        if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                fail(EXIT_USAGE, "--out needs a directory");
            if (out_dir)
                fail(EXIT_USAGE, "--out given twice");
            out_dir = argv[++i];
        } else {
            fail(EXIT_USAGE, "keygen: unknown argument '%s' (try --help)", argv[i]);
        }
    }

    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    char pk_hex[PK_HEX_LEN + 1];
    char sk_hex[SK_HEX_LEN + 2]; /* + '\n' */
    crypto_sign_keypair(pk, sk);
    sodium_bin2hex(pk_hex, sizeof pk_hex, pk, sizeof pk);
    sodium_bin2hex(sk_hex, SK_HEX_LEN + 1, sk, sizeof sk);
    sodium_memzero(sk, sizeof sk);

    if (!out_dir) {
        printf("secret=%s\npublic=%s\n", sk_hex, pk_hex);
    } else {
        mkdir_p(out_dir);
        char *sk_path = join_path(out_dir, "dev-secret.key");
        char *pk_path = join_path(out_dir, "dev-public.key");
        char pk_line[PK_HEX_LEN + 2];
        sk_hex[SK_HEX_LEN] = '\n';
        sk_hex[SK_HEX_LEN + 1] = '\0';
        memcpy(pk_line, pk_hex, PK_HEX_LEN);
        pk_line[PK_HEX_LEN] = '\n';
        pk_line[PK_HEX_LEN + 1] = '\0';
        write_text_file(sk_path, sk_hex, 0600);
        write_text_file(pk_path, pk_line, 0644);
        free(sk_path);
        free(pk_path);
        printf("%s\n", pk_hex);
    }
    sodium_memzero(sk_hex, sizeof sk_hex);
    finish_stdout();
    return 0;
}

/* ---- sign / headers -------------------------------------------------------------------- */

static int cmd_sign(int argc, char **argv, bool as_headers)
{
    const char *key_file = NULL, *key_hex = NULL, *timestamp = NULL;
    const char *body_str = NULL, *body_file = NULL;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (is_help(a))
            print_help_and_exit();
        else if (strcmp(a, "--key") == 0)
            slot = &key_file;
        else if (strcmp(a, "--key-hex") == 0)
            slot = &key_hex;
        else if (strcmp(a, "--timestamp") == 0)
            slot = &timestamp;
        else if (strcmp(a, "--body") == 0)
            slot = &body_str;
        else if (strcmp(a, "--body-file") == 0)
            slot = &body_file;
        else
            fail(EXIT_USAGE, "%s: unknown argument '%s' (try --help)", as_headers ? "headers" : "sign", a);
        if (i + 1 >= argc)
            fail(EXIT_USAGE, "%s needs a value", a);
        if (*slot)
            fail(EXIT_USAGE, "%s given twice", a);
        *slot = argv[++i];
    }

    if (key_file && key_hex)
        fail(EXIT_USAGE, "give only one of --key and --key-hex");
    if (!key_file && !key_hex)
        fail(EXIT_USAGE, "a key is required: --key FILE or --key-hex HEX");
    if (body_str && body_file)
        fail(EXIT_USAGE, "give only one of --body and --body-file");
    if (body_file && body_file[0] == '\0')
        fail(EXIT_USAGE, "--body-file needs a file name");
    if (key_file && key_file[0] == '\0')
        fail(EXIT_USAGE, "--key needs a file name");

    char ts_buf[32];
    if (timestamp) {
        if (timestamp[0] == '\0')
            fail(EXIT_USAGE, "--timestamp must not be empty");
        if (strpbrk(timestamp, "\r\n"))
            fail(EXIT_USAGE, "--timestamp must not contain line breaks");
    } else {
        time_t now = time(NULL);
        if (now == (time_t)-1)
            fail(EXIT_RUNTIME, "cannot read the clock");
        snprintf(ts_buf, sizeof ts_buf, "%lld", (long long)now);
        timestamp = ts_buf;
    }

    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    if (key_file) {
        size_t klen = 0;
        unsigned char *ktext = read_file(key_file, MAX_KEY_FILE, &klen, "key file");
        parse_secret_key((const char *)ktext, klen, sk, key_file);
        sodium_memzero(ktext, klen);
        free(ktext);
    } else {
        parse_secret_key(key_hex, strlen(key_hex), sk, "--key-hex");
    }

    unsigned char *body = NULL;
    size_t body_len = 0;
    if (body_str) {
        body_len = strlen(body_str);
        body = malloc(body_len + 1);
        if (!body)
            fail(EXIT_RUNTIME, "out of memory");
        memcpy(body, body_str, body_len + 1);
    } else {
        body = read_file(body_file ? body_file : "-", MAX_BODY, &body_len, "body");
    }

    /* The signed message: timestamp bytes immediately followed by the raw body bytes. */
    size_t ts_len = strlen(timestamp);
    if (body_len > SIZE_MAX - ts_len - 1)
        fail(EXIT_USAGE, "body is too large");
    unsigned char *msg = malloc(ts_len + body_len + 1);
    if (!msg)
        fail(EXIT_RUNTIME, "out of memory");
    memcpy(msg, timestamp, ts_len);
    if (body_len > 0)
        memcpy(msg + ts_len, body, body_len);

    unsigned char sig[crypto_sign_BYTES];
    char sig_hex[SIG_HEX_LEN + 1];
    if (crypto_sign_detached(sig, NULL, msg, ts_len + body_len, sk) != 0)
        fail(EXIT_RUNTIME, "signing failed");
    sodium_memzero(sk, sizeof sk);
    sodium_bin2hex(sig_hex, sizeof sig_hex, sig, sizeof sig);
    free(msg);
    free(body);

    if (as_headers)
        printf("X-Signature-Ed25519: %s\nX-Signature-Timestamp: %s\n", sig_hex, timestamp);
    else
        printf("%s\n%s\n", sig_hex, timestamp);
    finish_stdout();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        fail(EXIT_USAGE, "missing command: keygen, sign or headers (try --help)");
    const char *cmd = argv[1];
    if (is_help(cmd))
        print_help_and_exit();
    if (sodium_init() < 0)
        fail(EXIT_RUNTIME, "libsodium initialisation failed");
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc - 2, argv + 2);
    if (strcmp(cmd, "sign") == 0)
        return cmd_sign(argc - 2, argv + 2, false);
    if (strcmp(cmd, "headers") == 0)
        return cmd_sign(argc - 2, argv + 2, true);
    fail(EXIT_USAGE, "unknown command '%s' (try --help)", cmd);
}
