/* test_cmd.c — unit tests of src/interactions/cmd.c, the getters handlers read options with:
 * each returns a value only when the option has the right type and shape, integers never go
 * through undefined conversions, declared ranges are applied, and resolved objects come back
 * with "" (never NULL) for what Discord did not send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/status.h"
#include "interactions/command.h"

static const struct cmd_option limit_options[] = {
    {.name = "limit",
     .type = OPT_INTEGER,
     .description = "x",
     .has_min_value = true,
     .min_value = 5,
     .has_max_value = true,
     .max_value = 50},
};

static const struct command leaf = {.name = "t", .options = limit_options, .n_options = 1};

struct parsed {
    struct interaction it;
    struct cmd_ctx ctx;
};

/* Parses an interaction whose data.options are `options` and data.resolved is `resolved`. */
static void parse(struct parsed *p, const char *options, const char *resolved, const char *extra)
{
    char body[4096];
    snprintf(body, sizeof body,
             "{\"type\":2,\"id\":\"1\",\"guild_id\":\"9\",\"channel_id\":\"77\",%s"
             "\"member\":{\"user\":{\"id\":\"5\",\"username\":\"me\"},\"roles\":[\"r1\",\"r2\"],\"permissions\":\"0\"},"
             "\"data\":{\"name\":\"t\",\"type\":1,\"options\":%s,\"resolved\":%s}}",
             extra ? extra : "", options, resolved ? resolved : "{}");
    assert_int_equal(interaction_parse(body, strlen(body), &p->it), SLIMY_OK);
    p->ctx = (struct cmd_ctx){.interaction = &p->it, .command = &leaf};
}

static void integers_outside_discords_range_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"1e25", "-1e25", "9007199254740993", "1.5", "\"3\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char options[128];
        snprintf(options, sizeof options, "[{\"name\":\"n\",\"type\":4,\"value\":%s}]", bad[i]);
        struct parsed p;
        parse(&p, options, NULL, NULL);
        int64_t v = 42;
        if (cmd_opt_int(&p.ctx, "n", &v))
            fail_msg("%s was accepted as %lld", bad[i], (long long)v);
        assert_int_equal(v, 42);
        interaction_free(&p.it);
    }
    struct parsed p;
    parse(&p, "[{\"name\":\"n\",\"type\":4,\"value\":-9007199254740991}]", NULL, NULL);
    int64_t v = 0;
    assert_true(cmd_opt_int(&p.ctx, "n", &v));
    assert_int_equal(v, -9007199254740991LL);
    assert_false(cmd_opt_int(&p.ctx, "missing", &v));
    interaction_free(&p.it);
}

static void an_option_of_another_type_is_absent(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p, "[{\"name\":\"s\",\"type\":4,\"value\":3},{\"name\":\"b\",\"type\":3,\"value\":\"true\"}]", NULL, NULL);
    bool b = false;
    double d = 0;
    assert_null(cmd_opt_string(&p.ctx, "s"));
    assert_false(cmd_opt_bool(&p.ctx, "b", &b));
    assert_false(cmd_opt_number(&p.ctx, "s", &d));
    interaction_free(&p.it);
}

static void the_declared_range_and_default_apply(void **state)
{
    (void)state;
    static const struct {
        const char *value;
        int64_t expected;
    } cases[] = {{"1", 5}, {"7", 7}, {"500", 50}, {"1e300", 10}, {"\"x\"", 10}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char options[128];
        snprintf(options, sizeof options, "[{\"name\":\"limit\",\"type\":4,\"value\":%s}]", cases[i].value);
        struct parsed p;
        parse(&p, options, NULL, NULL);
        assert_int_equal(cmd_opt_int_or(&p.ctx, "limit", 10), cases[i].expected);
        interaction_free(&p.it);
    }
}

static void users_channels_roles_and_attachments_resolve(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p,
          "[{\"name\":\"u\",\"type\":6,\"value\":\"11\"},{\"name\":\"c\",\"type\":7,\"value\":\"22\"},"
          "{\"name\":\"r\",\"type\":8,\"value\":\"r2\"},{\"name\":\"a\",\"type\":11,\"value\":\"44\"},"
          "{\"name\":\"ghost\",\"type\":6,\"value\":\"99\"}]",
          "{\"users\":{\"11\":{\"id\":\"11\",\"username\":\"ann\",\"global_name\":\"Ann\"}},"
          "\"members\":{\"11\":{\"nick\":\"Annie\"}},"
          "\"channels\":{\"22\":{\"id\":\"22\",\"name\":\"gen\",\"type\":11,\"parent_id\":\"20\"}},"
          "\"roles\":{\"r2\":{\"id\":\"r2\",\"name\":\"Mods\"}},"
          "\"attachments\":{\"44\":{\"id\":\"44\",\"filename\":\"a.png\",\"url\":\"https://cdn/x\",\"size\":123}}}",
          "\"channel\":{\"id\":\"77\",\"type\":0,\"name\":\"here\"},");
    struct cmd_user u;
    assert_true(cmd_opt_user(&p.ctx, "u", &u));
    assert_string_equal(u.id, "11");
    assert_string_equal(u.username, "ann");
    assert_string_equal(u.global_name, "Ann");
    assert_string_equal(u.display_name, "Annie");
    assert_true(u.is_member);
    assert_false(u.is_bot);
    /* An id Discord did not resolve still names the user. */
    assert_true(cmd_opt_user(&p.ctx, "ghost", &u));
    assert_string_equal(u.id, "99");
    assert_string_equal(u.username, "");

    struct cmd_channel c;
    assert_true(cmd_opt_channel(&p.ctx, "c", &c));
    assert_string_equal(c.name, "gen");
    assert_int_equal(c.type, CHANNEL_PUBLIC_THREAD);
    assert_true(channel_type_is_thread(c.type));
    assert_string_equal(c.parent_id, "20");
    assert_true(cmd_here_channel(&p.ctx, &c));
    assert_string_equal(c.id, "77");
    assert_string_equal(c.name, "here");
    assert_string_equal(c.parent_id, "");

    struct cmd_role r;
    assert_true(cmd_opt_role(&p.ctx, "r", &r));
    assert_string_equal(r.name, "Mods");
    assert_true(cmd_member_role(&p.ctx, 0, &r));
    assert_string_equal(r.id, "r1");
    assert_string_equal(r.name, ""); /* not resolved */
    assert_true(cmd_member_role(&p.ctx, 1, &r));
    assert_string_equal(r.name, "Mods");
    assert_false(cmd_member_role(&p.ctx, 2, &r));

    struct cmd_attachment a;
    assert_true(cmd_opt_attachment(&p.ctx, "a", &a));
    assert_string_equal(a.url, "https://cdn/x");
    assert_string_equal(a.content_type, "");
    assert_int_equal(a.size, 123);
    assert_false(cmd_opt_attachment(&p.ctx, "u", &a));
    interaction_free(&p.it);
}

static void state_is_zeroed_and_owned_by_the_run(void **state)
{
    (void)state;
    struct parsed p;
    parse(&p, "[]", NULL, NULL);
    int *n = cmd_state_new(&p.ctx, sizeof *n * 4, NULL);
    assert_non_null(n);
    assert_ptr_equal(p.ctx.state, n);
    assert_int_equal(n[0] | n[1] | n[2] | n[3], 0);
    free(p.ctx.state); /* what the dispatcher does when the run ends */
    interaction_free(&p.it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(integers_outside_discords_range_are_refused),
        cmocka_unit_test(an_option_of_another_type_is_absent),
        cmocka_unit_test(the_declared_range_and_default_apply),
        cmocka_unit_test(users_channels_roles_and_attachments_resolve),
        cmocka_unit_test(state_is_zeroed_and_owned_by_the_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
