/* test_redis_url.c — unit tests of src/core/redis_url.c: every URL form redis_url.h documents
 * parses into the right fields (percent-escapes in the password decoded, IPv6 unbracketed), the
 * forms it refuses are refused with a one-line "REDIS_URL ..." error, and no error text or log
 * description ever contains the password. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"
#include "core/redis_url.h"

/* Parses text, which must succeed; fills every byte first so unset fields are noticed. */
static struct redis_url parse_ok(const char *text)
{
    struct redis_url u;
    memset(&u, 0x5a, sizeof u);
    char err[256] = "";
    int rc = redis_url_parse(text, &u, err, sizeof err);
    if (rc != SLIMY_OK)
        fail_msg("redis_url_parse(\"%s\"): %s: %s", text, slimy_strerror(rc), err);
    return u;
}

static void expect_tcp(const struct redis_url *u, const char *host, unsigned port, const char *user,
                       const char *password, unsigned db)
{
    assert_string_equal(u->host, host);
    assert_int_equal(u->port, port);
    assert_string_equal(u->unix_path, "");
    assert_string_equal(u->user, user);
    assert_string_equal(u->password, password);
    assert_int_equal(u->db, db);
}

/* A refused URL: SLIMY_EINVAL, one line starting "REDIS_URL", without secret in it. */
static void expect_refused(const char *text, const char *secret)
{
    struct redis_url u;
    char err[512] = "";
    int rc = redis_url_parse(text, &u, err, sizeof err);
    if (rc != SLIMY_EINVAL)
        fail_msg("redis_url_parse(\"%s\") answered %s, expected SLIMY_EINVAL", text, slimy_strerror(rc));
    if (strncmp(err, "REDIS_URL", 9) != 0)
        fail_msg("error for \"%s\" does not start with REDIS_URL: \"%s\"", text, err);
    if (strchr(err, '\n'))
        fail_msg("error for \"%s\" is more than one line: \"%s\"", text, err);
    if (secret && strstr(err, secret))
        fail_msg("error for \"%s\" contains the password: \"%s\"", text, err);
}

static void expect_description_hides(const struct redis_url *u, const char *secret, const char *must_contain)
{
    char out[512];
    memset(out, 0x5a, sizeof out);
    redis_url_describe(u, out, sizeof out);
    assert_non_null(memchr(out, '\0', sizeof out));
    if (secret && strstr(out, secret))
        fail_msg("redis_url_describe contains the password: \"%s\"", out);
    if (!strstr(out, must_contain))
        fail_msg("redis_url_describe gave \"%s\", which does not name \"%s\"", out, must_contain);
}

static void test_host_only(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://cache.internal");
    expect_tcp(&u, "cache.internal", 6379, "", "", 0);
    u = parse_ok("redis://127.0.0.1");
    expect_tcp(&u, "127.0.0.1", 6379, "", "", 0);
    /* A bare trailing slash is database 0. */
    u = parse_ok("redis://127.0.0.1/");
    expect_tcp(&u, "127.0.0.1", 6379, "", "", 0);
}

static void test_port_and_db(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://host:6380/2");
    expect_tcp(&u, "host", 6380, "", "", 2);
    u = parse_ok("redis://host:1/0");
    expect_tcp(&u, "host", 1, "", "", 0);
    u = parse_ok("redis://host:65535");
    expect_tcp(&u, "host", 65535, "", "", 0);
}

static void test_password_only(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://:pass@host");
    expect_tcp(&u, "host", 6379, "", "pass", 0);
    expect_description_hides(&u, "pass", "host");
}

/* User and password, with the password's '@' percent-escaped, decoded once. */
static void test_user_and_escaped_password(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://user:p%40ss@host:1/3");
    expect_tcp(&u, "host", 1, "user", "p@ss", 3);
    expect_description_hides(&u, "p@ss", "host");
    expect_description_hides(&u, "p%40ss", "host");
    /* A '/' in a password, escaped, does not end the authority. */
    u = parse_ok("redis://:a%2Fb@host:7000/5");
    expect_tcp(&u, "host", 7000, "", "a/b", 5);
}

/* An IPv6 literal comes back bare (hiredis takes it unbracketed). */
static void test_ipv6(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://[::1]:6379");
    expect_tcp(&u, "::1", 6379, "", "", 0);
    u = parse_ok("redis://[::1]");
    expect_tcp(&u, "::1", 6379, "", "", 0);
    expect_description_hides(&u, NULL, "::1");
}

static void test_unix_socket(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("unix:///tmp/r.sock");
    assert_string_equal(u.unix_path, "/tmp/r.sock");
    assert_string_equal(u.host, "");
    assert_string_equal(u.password, "");
    assert_string_equal(u.user, "");
    assert_int_equal(u.db, 0);
    expect_description_hides(&u, NULL, "/tmp/r.sock");

    u = parse_ok("unix:///tmp/r.sock?db=4");
    assert_string_equal(u.unix_path, "/tmp/r.sock");
    assert_int_equal(u.db, 4);
}

/* rediss:// (TLS) must fail loudly rather than send the password in clear. */
static void test_refuses_tls(void **state)
{
    (void)state;
    expect_refused("rediss://:secret-tls@host:6380", "secret-tls");
    expect_refused("rediss://host", NULL);
}

static void test_refuses_other_schemes(void **state)
{
    (void)state;
    expect_refused("http://host:6379", NULL);
    expect_refused("host:6379", NULL);
    expect_refused("", NULL);
}

static void test_refuses_bad_ports(void **state)
{
    (void)state;
    expect_refused("redis://host:0", NULL);
    expect_refused("redis://host:70000", NULL);
    expect_refused("redis://host:65536", NULL);
    expect_refused("redis://:hunter2-port@host:0", "hunter2-port");
}

static void test_refuses_bad_db(void **state)
{
    (void)state;
    expect_refused("redis://host/abc", NULL);
    expect_refused("redis://host/-1", NULL);
    expect_refused("redis://host/1x", NULL);
    expect_refused("redis://:hunter2-db@host/abc", "hunter2-db");
    expect_refused("unix:///tmp/r.sock?db=x", NULL);
    expect_refused("unix:///tmp/r.sock?foo=1", NULL);
}

/* A user without a password would silently authenticate as nobody. */
static void test_refuses_user_without_password(void **state)
{
    (void)state;
    expect_refused("redis://user@host", NULL);
    expect_refused("redis://user:@host", NULL);
}

static void test_refuses_relative_unix_path(void **state)
{
    (void)state;
    expect_refused("unix://relative", NULL);
    expect_refused("unix://relative/r.sock", NULL);
    expect_refused("unix://", NULL);
}

static void test_refuses_missing_host(void **state)
{
    (void)state;
    expect_refused("redis://", NULL);
    expect_refused("redis://:hunter2-host@", "hunter2-host");
}

/* The description names where to connect, never credentials, even for a user and password
 * that appear nowhere else. */
static void test_describe(void **state)
{
    (void)state;
    struct redis_url u = parse_ok("redis://admin:Sup3r-S3cret@cache.internal:6390/7");
    expect_description_hides(&u, "Sup3r-S3cret", "cache.internal");
    expect_description_hides(&u, "Sup3r-S3cret", "6390");
    /* A small buffer truncates, still NUL-terminated. */
    char small[8];
    memset(small, 0x5a, sizeof small);
    redis_url_describe(&u, small, sizeof small);
    assert_non_null(memchr(small, '\0', sizeof small));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_only),
        cmocka_unit_test(test_port_and_db),
        cmocka_unit_test(test_password_only),
        cmocka_unit_test(test_user_and_escaped_password),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_refuses_tls),
        cmocka_unit_test(test_refuses_other_schemes),
        cmocka_unit_test(test_refuses_bad_ports),
        cmocka_unit_test(test_refuses_bad_db),
        cmocka_unit_test(test_refuses_user_without_password),
        cmocka_unit_test(test_refuses_relative_unix_path),
        cmocka_unit_test(test_refuses_missing_host),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
