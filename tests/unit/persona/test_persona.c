/* test_persona.c — the persona of ai/persona.c: which sections each channel mode gets
 * (and the no_personality fix: no_personality wins), adjustment lines, reloading on change,
 * the built-in fallback, and the shipped bot-personality.md. Temp files live under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "persona/persona.h"
#include "modes/modes.h"
#include "core/log.h"

#define TEMP_TEMPLATE "/tmp/slimy-persona-test-XXXXXX"
#define THIS_FILE_SUFFIX "tests/unit/persona/test_persona.c"

/* One marker per section, plus text the parser must ignore. */
static const char marked_persona[] = "# Title line, ignored NOTE_MARK\n"
                                     "intro text before any section INTRO_MARK\n"
                                     "\n"
                                     "## Base Personality\n"
                                     "You are slimy.ai BASE_MARK.\n"
                                     "\n"
                                     "## tone: pg-13\n"
                                     "PG13_MARK\n"
                                     "## Tone: Unrated\n"
                                     "UNRATED_MARK\n"
                                     "## Tone: Professional\n"
                                     "PRO_MARK\n"
                                     "## Traits\n"
                                     "UNKNOWN_MARK\n"
                                     "## Catchphrases\n"
                                     "- CATCH_MARK\n"
                                     "## Context Behaviours\n"
                                     "### Celebrating wins\n"
                                     "CTX_MARK\n"
                                     "### Super Snail\n"
                                     "SNAIL_MARK\n"
                                     "### Technical questions\n"
                                     "TECH_MARK\n"
                                     "## Adaptation Rules\n"
                                     "- ADAPT_MARK\n"
                                     "```\n"
                                     "## Crisis Response\n"
                                     "FENCED_MARK\n"
                                     "```\n"
                                     "## Forbidden Behaviors ##\n"
                                     "- FORBID_MARK\n"
                                     "## Crisis Response\n"
                                     "CRISIS_MARK 988\n"
                                     "## CATCHPHRASES\n"
                                     "- CATCH2_MARK\n";

struct fixture {
    char dir[sizeof TEMP_TEMPLATE];
    char path[sizeof TEMP_TEMPLATE + 32];
    struct persona *persona;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    memcpy(fx->dir, TEMP_TEMPLATE, sizeof TEMP_TEMPLATE);
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/persona.md", fx->dir);
    write_file(fx->path, marked_persona);
    if (persona_open(fx->path, &fx->persona) != 0) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    persona_close(fx->persona);
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static char *build_with(struct persona *p, unsigned modes, const struct persona_adjustment *adj, size_t n, bool snail)
{
    struct persona_prompt_input in = {.effective_modes = modes,
                                      .adjustments = adj,
                                      .n_adjustments = n,
                                      .include_snail_layer = snail};
    char *prompt = persona_build_prompt(p, &in);
    assert_non_null(prompt);
    return prompt;
}

static void assert_has(const char *prompt, const char *needle)
{
    if (!strstr(prompt, needle))
        fail_msg("expected \"%s\" in prompt:\n%s", needle, prompt);
}

static void assert_lacks(const char *prompt, const char *needle)
{
    if (strstr(prompt, needle))
        fail_msg("did not expect \"%s\" in prompt:\n%s", needle, prompt);
}

/* Everything every prompt carries, whatever the modes. */
static void assert_common(const char *prompt)
{
    assert_has(prompt, "CTX_MARK");
    assert_has(prompt, "TECH_MARK");
    assert_has(prompt, "ADAPT_MARK");
    assert_has(prompt, "FORBID_MARK");
    assert_has(prompt, "CRISIS_MARK");
    assert_lacks(prompt, "NOTE_MARK");
    assert_lacks(prompt, "INTRO_MARK");
    assert_lacks(prompt, "UNKNOWN_MARK");
}

static void personality_mode_gets_base_pg13_and_catchphrases(void **state)
{
    struct fixture *fx = *state;
    /* PG-13 is the default rating: with rating_pg13, and with no rating mode at all. */
    const unsigned cases[] = {MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13, MODE_CHAT | MODE_PERSONALITY, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *prompt = build_with(fx->persona, cases[i], NULL, 0, false);
        assert_common(prompt);
        assert_true(strncmp(prompt, "You are slimy.ai BASE_MARK.", 27) == 0); /* base opens the prompt */
        assert_has(prompt, "## Tone: PG-13\nPG13_MARK");
        assert_has(prompt, "CATCH_MARK");
        assert_lacks(prompt, "UNRATED_MARK");
        assert_lacks(prompt, "PRO_MARK");
        assert_lacks(prompt, "Server adjustments");
        assert_true(strstr(prompt, "BASE_MARK") < strstr(prompt, "PG13_MARK"));
        assert_true(strstr(prompt, "CATCH_MARK") < strstr(prompt, "CTX_MARK"));
        assert_true(strstr(prompt, "FORBID_MARK") < strstr(prompt, "CRISIS_MARK"));
        assert_string_equal(persona_display_name(cases[i]), "slimy.ai");
        free(prompt);
    }
}

static void unrated_replaces_pg13(void **state)
{
    struct fixture *fx = *state;
    char *prompt =
        build_with(fx->persona, MODE_CHAT | MODE_PERSONALITY | MODE_RATING_UNRATED | MODE_RATING_PG13, NULL, 0, false);
    assert_common(prompt);
    assert_has(prompt, "BASE_MARK");
    assert_has(prompt, "## Tone: Unrated\nUNRATED_MARK");
    assert_has(prompt, "CATCH_MARK");
    assert_lacks(prompt, "PG13_MARK");
    assert_lacks(prompt, "PRO_MARK");
    free(prompt);
}

static void no_personality_wins_and_gets_professional(void **state)
{
    struct fixture *fx = *state;
    const unsigned cases[] = {MODE_CHAT | MODE_NO_PERSONALITY,
                              MODE_CHAT | MODE_PERSONALITY | MODE_NO_PERSONALITY | MODE_RATING_UNRATED};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *prompt = build_with(fx->persona, cases[i], NULL, 0, false);
        assert_common(prompt);
        assert_has(prompt, "PRO_MARK");
        assert_lacks(prompt, "BASE_MARK");
        assert_lacks(prompt, "CATCH_MARK");
        assert_lacks(prompt, "PG13_MARK");
        assert_lacks(prompt, "UNRATED_MARK");
        assert_string_equal(persona_display_name(cases[i]), "slimy.ai (no personality)");
        free(prompt);
    }
}

static void snail_block_only_with_the_snail_layer(void **state)
{
    struct fixture *fx = *state;
    char *plain = build_with(fx->persona, MODE_CHAT, NULL, 0, false);
    char *snail = build_with(fx->persona, MODE_CHAT | MODE_SUPER_SNAIL, NULL, 0, true);
    assert_lacks(plain, "SNAIL_MARK");
    assert_has(plain, "### Technical questions\nTECH_MARK"); /* the block after it survives */
    assert_has(snail, "### Super Snail\nSNAIL_MARK");
    assert_common(snail);
    free(plain);
    free(snail);
}

static void fences_and_repeated_titles(void **state)
{
    struct fixture *fx = *state;
    char *prompt = build_with(fx->persona, MODE_CHAT, NULL, 0, false);
    /* "## Crisis Response" inside a code fence is adaptation-rule text, not a section. */
    const char *fenced = strstr(prompt, "FENCED_MARK");
    assert_non_null(fenced);
    assert_true(fenced > strstr(prompt, "ADAPT_MARK"));
    assert_true(fenced < strstr(prompt, "FORBID_MARK"));
    assert_has(prompt, "## Forbidden Behaviors\n- FORBID_MARK"); /* closing "##" dropped */
    /* A title given twice continues its section, in file order. */
    assert_has(prompt, "- CATCH_MARK\n\n- CATCH2_MARK\n\n## Context Behaviors");
    free(prompt);
}

static void adjustments_become_lines(void **state)
{
    struct fixture *fx = *state;
    const struct persona_adjustment items[] = {
        {.parameter = "catchphrase_freq", .value = 2},
        {.parameter = "enthusiasm", .value = 8},
        {.parameter = "formality", .value = 3},
        {.parameter = "mystery", .value = 5}, /* unknown: skipped */
        {.parameter = "technical_depth", .value = 9},
        {.parameter = "enthusiasm", .value = 11}, /* out of range: skipped */
    };
    size_t n = sizeof items / sizeof items[0];

    char *prompt = build_with(fx->persona, MODE_CHAT | MODE_PERSONALITY, items, n, false);
    assert_has(prompt, "\nEnthusiasm level: 8/10 (1 = calm, 10 = very excited)");
    assert_has(prompt, "\nCatchphrase frequency: 2/10");
    assert_has(prompt, "\nTechnical depth: 9/10");
    assert_has(prompt, "\nFormality: 3/10");
    assert_lacks(prompt, "mystery");
    assert_lacks(prompt, "11/10");
    assert_true(strstr(prompt, "CRISIS_MARK") < strstr(prompt, "Enthusiasm level"));
    free(prompt);

    /* No catchphrases in professional mode, so no frequency either. */
    prompt = build_with(fx->persona, MODE_NO_PERSONALITY, items, n, false);
    assert_has(prompt, "\nEnthusiasm level: 8/10");
    assert_has(prompt, "\nFormality: 3/10");
    assert_lacks(prompt, "Catchphrase frequency");
    free(prompt);

    prompt = build_with(fx->persona, MODE_CHAT, items, 0, false);
    assert_lacks(prompt, "Server adjustments");
    free(prompt);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void changed_file_is_reloaded(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->path, "## Base Personality\nNEW_BASE_MARK\n## Crisis Response\nNEW_CRISIS_MARK\n");
    struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = time(NULL) + 3600}};
    assert_int_equal(utimensat(AT_FDCWD, fx->path, times, 0), 0);

    sleep_ms(1100); /* the file is looked at no more than once per second */
    char *prompt = build_with(fx->persona, MODE_CHAT, NULL, 0, false);
    assert_has(prompt, "NEW_BASE_MARK");
    assert_has(prompt, "NEW_CRISIS_MARK");
    assert_lacks(prompt, "BASE_MARK.");
    assert_lacks(prompt, "CATCH_MARK"); /* gone from the new file: left out */
    free(prompt);

    /* Deleting the file keeps the last good persona. */
    assert_int_equal(unlink(fx->path), 0);
    sleep_ms(1100);
    prompt = build_with(fx->persona, MODE_CHAT, NULL, 0, false);
    assert_has(prompt, "NEW_BASE_MARK");
    free(prompt);

    /* ... and a file that comes back is read again. */
    write_file(fx->path, "## Base Personality\nBACK_MARK\n");
    sleep_ms(1100);
    prompt = build_with(fx->persona, MODE_CHAT, NULL, 0, false);
    assert_has(prompt, "BACK_MARK");
    free(prompt);
}

static void assert_fallback_prompts(struct persona *p)
{
    char *prompt = build_with(p, MODE_CHAT | MODE_PERSONALITY, NULL, 0, false);
    assert_true(strlen(prompt) > 0);
    assert_has(prompt, "slimy.ai");
    assert_has(prompt, "988");
    assert_has(prompt, "741741");
    free(prompt);
    prompt = build_with(p, MODE_NO_PERSONALITY, NULL, 0, false);
    assert_has(prompt, "professional");
    assert_has(prompt, "988");
    free(prompt);
}

static void missing_or_useless_file_falls_back(void **state)
{
    struct persona *p = NULL;
    assert_int_equal(persona_open("/nonexistent/slimy/bot-personality.md", &p), 0);
    assert_non_null(p);
    assert_fallback_prompts(p);
    persona_close(p);

    assert_int_equal(persona_open(NULL, &p), 0);
    assert_fallback_prompts(p);
    persona_close(p);

    /* A file without one section we read is as good as missing. */
    struct fixture *fx = *state;
    write_file(fx->path, "# Just a title\n## Traits\nnothing we read\n");
    assert_int_equal(persona_open(fx->path, &p), 0);
    assert_fallback_prompts(p);
    char *prompt = build_with(p, MODE_CHAT, NULL, 0, false);
    assert_lacks(prompt, "nothing we read");
    free(prompt);
    persona_close(p);

    /* A file lacking its opening section still names the bot. */
    write_file(fx->path, "## Crisis Response\nCRISIS_ONLY_MARK\n");
    assert_int_equal(persona_open(fx->path, &p), 0);
    prompt = build_with(p, MODE_NO_PERSONALITY, NULL, 0, false);
    assert_has(prompt, "slimy.ai");
    assert_has(prompt, "CRISIS_ONLY_MARK");
    free(prompt);
    persona_close(p);
}

/* A FIFO (or any file that is not a regular one) at PERSONALITY_FILE is refused without blocking:
 * with no writer, a plain open() would wait forever. Run in a child with an alarm, so a
 * regression fails the test instead of hanging the build. */
static void a_fifo_is_refused_without_blocking(void **state)
{
    struct fixture *fx = *state;
    char fifo[sizeof fx->dir + 16];
    snprintf(fifo, sizeof fifo, "%s/fifo.md", fx->dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    fflush(NULL);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        alarm(5); /* the default action ends the child: a hang becomes a failure */
        struct persona *p = NULL;
        if (persona_open(fifo, &p) != 0 || !p)
            _exit(2);
        char *prompt =
            persona_build_prompt(p, &(struct persona_prompt_input){.effective_modes = MODE_CHAT | MODE_PERSONALITY});
        int code = prompt && strstr(prompt, "slimy.ai") && strstr(prompt, "988") ? 0 : 3;
        free(prompt);
        persona_close(p);
        _exit(code);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    unlink(fifo);
    if (WIFSIGNALED(status))
        fail_msg("persona_open blocked on a FIFO (killed by signal %d)", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The shipped persona: every section the parser reads is present, and the help lines are real. */
static void project_persona_file_is_complete(void **state)
{
    static const char *const titles[] = {
        "Base Personality",  "Tone: PG-13",      "Tone: Unrated",       "Tone: Professional", "Catchphrases",
        "Context Behaviors", "Adaptation Rules", "Forbidden Behaviors", "Crisis Response",
    };
    char path[4096];
    size_t root_len = strlen(__FILE__) - strlen(THIS_FILE_SUFFIX);
    assert_true(strlen(__FILE__) > strlen(THIS_FILE_SUFFIX));
    assert_string_equal(__FILE__ + root_len, THIS_FILE_SUFFIX);
    snprintf(path, sizeof path, "%.*sbot-personality.md", (int)root_len, __FILE__);

    /* Every title appears as a "## " heading in the file itself. */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    bool seen[sizeof titles / sizeof titles[0]] = {0};
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
            if (strncmp(line, "## ", 3) == 0 && strcasecmp(line + 3, titles[i]) == 0)
                seen[i] = true;
    }
    fclose(f);
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (!seen[i])
            fail_msg("bot-personality.md lacks \"## %s\"", titles[i]);

    /* And the parser picks each of them up: each mode's prompt carries its headings. */
    struct persona *p = NULL;
    assert_int_equal(persona_open(path, &p), 0);
    char *pg13 = build_with(p, MODE_CHAT | MODE_PERSONALITY | MODE_RATING_PG13, NULL, 0, true);
    char *unrated = build_with(p, MODE_CHAT | MODE_PERSONALITY | MODE_RATING_UNRATED, NULL, 0, false);
    char *pro = build_with(p, MODE_CHAT | MODE_NO_PERSONALITY, NULL, 0, false);
    assert_has(pg13, "slimy.ai");
    assert_has(pg13, "## Tone: PG-13\n");
    assert_has(pg13, "## Catchphrases\n");
    assert_has(pg13, "### Super Snail");
    assert_has(unrated, "## Tone: Unrated\n");
    assert_lacks(unrated, "### Super Snail");
    assert_has(pro, "## Tone: Professional\n");
    assert_lacks(pro, "## Catchphrases");
    const char *const prompts[] = {pg13, unrated, pro};
    for (size_t i = 0; i < 3; i++) {
        assert_has(prompts[i], "## Context Behaviors\n");
        assert_has(prompts[i], "## Adaptation Rules\n");
        assert_has(prompts[i], "## Forbidden Behaviors\n");
        assert_has(prompts[i], "## Crisis Response\n");
        assert_has(prompts[i], "988");
        assert_has(prompts[i], "741741");
        assert_has(prompts[i], "findahelpline.com");
        assert_has(prompts[i], "CAN");              /* it can create images, and says so */
        assert_lacks(prompts[i], "`## ` sections"); /* the file's own note stays out */
    }
    free(pg13);
    free(unrated);
    free(pro);
    persona_close(p);
}

int main(void)
{
    log_open(LOG_ERROR, NULL); /* the fallback tests warn on purpose */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(personality_mode_gets_base_pg13_and_catchphrases, setup, teardown),
        cmocka_unit_test_setup_teardown(unrated_replaces_pg13, setup, teardown),
        cmocka_unit_test_setup_teardown(no_personality_wins_and_gets_professional, setup, teardown),
        cmocka_unit_test_setup_teardown(snail_block_only_with_the_snail_layer, setup, teardown),
        cmocka_unit_test_setup_teardown(fences_and_repeated_titles, setup, teardown),
        cmocka_unit_test_setup_teardown(adjustments_become_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(changed_file_is_reloaded, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_or_useless_file_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(a_fifo_is_refused_without_blocking, setup, teardown),
        cmocka_unit_test(project_persona_file_is_complete),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    log_close();
    return failed;
}
