/* test_consent.c — /consent through the real dispatcher (tests/unit/support/harness.h): the
 * flag is per user and per scope, and what the user reads says which way it went. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

static void consent(struct harness *h, const char *sub, const char *options, bool in_dm, struct harness_reply *r)
{
    char opts[256];
    snprintf(opts, sizeof opts, "[{\"name\":\"%s\",\"type\":1%s%s}]", sub, options ? ",\"options\":" : "",
             options ? options : "");
    assert_int_equal(harness_call(h, &(struct harness_call){.name = "consent", .options = opts, .in_dm = in_dm}, r), 0);
    assert_int_equal(r->http_status, 200);
    assert_int_equal(r->type, 5); /* deferred, so the store is never touched on the request thread */
    assert_true(r->flags & 64);   /* ephemeral */
}

static void off_until_set_then_on(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    consent(h, "status", NULL, false, &r);
    assert_string_equal(r.content, "❌ Memory OFF here.");
    harness_reply_cleanup(&r);

    consent(h, "set", "[{\"name\":\"allow\",\"type\":5,\"value\":true}]", false, &r);
    assert_string_equal(r.content, "✅ Memory ON for this server.");
    harness_reply_cleanup(&r);

    consent(h, "status", NULL, false, &r);
    assert_string_equal(r.content, "✅ Memory ON here.");
    harness_reply_cleanup(&r);

    bool allowed = false;
    assert_int_equal(store_consent_get(harness_store(h), HARNESS_USER, HARNESS_GUILD, &allowed), 0);
    assert_true(allowed);
}

static void a_dm_is_its_own_scope(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    consent(h, "set", "[{\"name\":\"allow\",\"type\":5,\"value\":true}]", false, &r);
    harness_reply_cleanup(&r);
    consent(h, "status", NULL, true, &r);
    assert_string_equal(r.content, "❌ Memory OFF here.");
    harness_reply_cleanup(&r);
    consent(h, "set", "[{\"name\":\"allow\",\"type\":5,\"value\":false}]", true, &r);
    assert_string_equal(r.content, "🛑 Memory OFF for this DM.");
    harness_reply_cleanup(&r);
}

static void a_missing_choice_is_explained(void **state)
{
    struct harness *h = *state;
    struct harness_reply r;
    consent(h, "set", "[{\"name\":\"allow\",\"type\":3,\"value\":\"yes\"}]", false, &r);
    assert_string_equal(r.content, "❌ Please choose `allow: True` or `allow: False`.");
    harness_reply_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        HARNESS_TEST(off_until_set_then_on),
        HARNESS_TEST(a_dm_is_its_own_scope),
        HARNESS_TEST(a_missing_choice_is_explained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
