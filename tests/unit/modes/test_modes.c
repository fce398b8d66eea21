/* test_modes.c — the mode rules of modes/modes.c: profile parsing, the replace operation's
 * rating rules, inheritance, and the no_personality fix (no_personality wins over personality). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modes/modes.h"

static void parse_list_drops_unknown_names(void **state)
{
    unsigned m = 0;
    assert_true(modes_parse_list("chat|personality|rating_pg13", &m));
    assert_int_equal(m, MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13);
    assert_true(modes_parse_list("bogus|super_snail", &m));
    assert_int_equal(m, MODE_SUPER_SNAIL);
    assert_false(modes_parse_list("bogus|", &m));
    assert_false(modes_parse_list("", &m));
    assert_false(modes_parse_list("chatty", &m)); /* prefixes do not count */
}

static void replace_adds_personality_with_a_rating(void **state)
{
    /* Every "No Personality" profile carries a rating, so personality comes along. */
    assert_int_equal(modes_replace(MODE_CHAT | MODE_NO_PERSONALITY | MODE_RATING_PG13),
                     MODE_CHAT | MODE_NO_PERSONALITY | MODE_PERSONALITY | MODE_RATING_PG13);
}

static void replace_drops_ratings_without_chat_or_snail(void **state)
{
    assert_int_equal(modes_replace(MODE_PERSONALITY | MODE_RATING_UNRATED), MODE_PERSONALITY);
    assert_int_equal(modes_replace(MODE_ADMIN | MODE_RATING_PG13), MODE_ADMIN | MODE_PERSONALITY);
}

static void replace_keeps_unrated_when_both_ratings(void **state)
{
    assert_int_equal(modes_replace(MODE_CHAT | MODE_RATING_UNRATED | MODE_RATING_PG13),
                     MODE_CHAT | MODE_PERSONALITY | MODE_RATING_UNRATED);
}

static void effective_is_the_union_of_ancestors(void **state)
{
    assert_int_equal(modes_effective(MODE_CHAT, MODE_SUPER_SNAIL, MODE_RATING_PG13),
                     MODE_CHAT | MODE_SUPER_SNAIL | MODE_RATING_PG13);
    assert_int_equal(modes_effective(0, 0, 0), 0);
}

static void no_personality_wins_and_ratings_resolve(void **state)
{
    assert_false(modes_use_personality(MODE_PERSONALITY | MODE_NO_PERSONALITY));
    assert_true(modes_use_personality(MODE_PERSONALITY));
    assert_true(modes_use_personality(0));
    assert_string_equal(modes_rating(MODE_RATING_PG13 | MODE_RATING_UNRATED), "unrated");
    assert_string_equal(modes_rating(MODE_RATING_PG13), "pg13");
    assert_string_equal(modes_rating(MODE_CHAT), "default");
}

static void state_text_lists_all_seven_in_order(void **state)
{
    char text[MODES_STATE_TEXT_MAX];
    modes_format_state(MODE_CHAT | MODE_RATING_PG13, text, sizeof text);
    assert_string_equal(text, "admin: ❌ | chat: ✅ | personality: ❌ | no_personality: ❌ | super_snail: ❌ | "
                              "rating_unrated: ❌ | rating_pg13: ✅");
}

static void profiles_and_filters(void **state)
{
    size_t n = 0;
    const struct mode_profile *p = modes_profiles(&n);
    assert_int_equal(n, 9);
    assert_string_equal(p[n - 1].value, "clear");
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned m = 0;
        assert_true(modes_parse_list(p[i].value, &m));
    }
    unsigned flag = 99;
    const char *label = NULL;
    assert_true(modes_filter_parse("all", &flag, &label));
    assert_int_equal(flag, 0);
    assert_string_equal(label, "All configurations");
    assert_true(modes_filter_parse("rating_unrated", &flag, &label));
    assert_int_equal(flag, MODE_RATING_UNRATED);
    assert_false(modes_filter_parse("admin", &flag, &label));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_list_drops_unknown_names),
        cmocka_unit_test(replace_adds_personality_with_a_rating),
        cmocka_unit_test(replace_drops_ratings_without_chat_or_snail),
        cmocka_unit_test(replace_keeps_unrated_when_both_ratings),
        cmocka_unit_test(effective_is_the_union_of_ancestors),
        cmocka_unit_test(no_personality_wins_and_ratings_resolve),
        cmocka_unit_test(state_text_lists_all_seven_in_order),
        cmocka_unit_test(profiles_and_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
