/* test_registry.c — the command list against the handler files, and every definition against
 * Discord's limits for application commands (names, descriptions, option and choice counts,
 * required-first, the 8000-character total, commands per type, autocomplete, install types) and
 * the dispatcher's rules for component leaves, plus the registration JSON made from the
 * definitions (who may install each command, and where it may be used). A definition that breaks a limit makes `slimy register` fail with a 400
 * for every command at once, so it is caught here instead. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "handlers/registry.h"
#include "interactions/command.h"
#include "interactions/command_stats.h"
#include "interactions/registration.h"
#include "text_file.h"

/* tests/data is two levels below the source root. */
#define SOURCE_ROOT SLIMY_TEST_DATA_DIR "/../.."
#define HANDLERS_DIR SOURCE_ROOT "/src/handlers"

/* Discord's limits (application commands). */
#define NAME_MAX_CHARS 32
#define DESCRIPTION_MAX_CHARS 100
#define OPTIONS_MAX 25
#define CHOICES_MAX 25
#define CHOICE_NAME_MAX_CHARS 100
#define CHOICE_VALUE_MAX_CHARS 100
#define COMMAND_TOTAL_MAX_CHARS 8000
#define CHAT_INPUT_COMMANDS_MAX 100
#define USER_COMMANDS_MAX 15
#define MESSAGE_COMMANDS_MAX 15
#define STRING_LENGTH_MAX 6000

#define MAX_SYMBOLS 256
#define SYMBOL_MAX 128

/* ---- small text helpers ---- */

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

struct symbols {
    char name[MAX_SYMBOLS][SYMBOL_MAX];
    size_t n;
};

static void symbols_add(struct symbols *s, const char *start, size_t len)
{
    assert_true(len > 0 && len < SYMBOL_MAX);
    assert_true(s->n < MAX_SYMBOLS);
    memcpy(s->name[s->n], start, len);
    s->name[s->n][len] = '\0';
    s->n++;
}

static bool symbols_has(const struct symbols *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->name[i], name) == 0)
            return true;
    return false;
}

/* For each line of text that starts (after indentation) with prefix followed by an identifier
 * and then `after` (e.g. " =" or ","), adds the identifier. */
static void scan_lines(struct symbols *out, const char *text, const char *prefix, const char *after)
{
    size_t plen = strlen(prefix), alen = strlen(after);
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if ((size_t)(end - p) > plen && strncmp(p, prefix, plen) == 0) {
            const char *id = p + plen;
            const char *q = id;
            while (is_ident_char(*q))
                q++;
            const char *r = q;
            while (*r == ' ' && *after != ' ')
                r++;
            if (q > id && strncmp(r, after, alen) == 0)
                symbols_add(out, id, (size_t)(q - id));
        }
        line = *end ? end + 1 : end;
    }
}

/* ---- the list matches the files ---- */

static void test_registry_matches_files(void **state)
{
    (void)state;
    static struct symbols defined, listed;
    memset(&defined, 0, sizeof defined);
    memset(&listed, 0, sizeof listed);
    int problems = 0;

    DIR *dir = opendir(HANDLERS_DIR);
    if (!dir)
        fail_msg("cannot open %s", HANDLERS_DIR);
    size_t n_files = 0;
    for (struct dirent *e = readdir(dir); e; e = readdir(dir)) {
        if (!ends_with(e->d_name, ".c") || strcmp(e->d_name, "registry.c") == 0)
            continue;
        n_files++;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", HANDLERS_DIR, e->d_name);
        char *text = text_file_read(path);
        struct symbols here = {0};
        scan_lines(&here, text, "const struct command ", " =");
        free(text);

        /* <file>.c defines exactly one `const struct command <file>_command`. */
        char expected[SYMBOL_MAX];
        snprintf(expected, sizeof expected, "%.*s_command", (int)(strlen(e->d_name) - 2), e->d_name);
        if (here.n != 1 || strcmp(here.name[0], expected) != 0) {
            fprintf(stderr, "src/handlers/%s: expected one definition `const struct command %s`, found %zu:", e->d_name,
                    expected, here.n);
            for (size_t i = 0; i < here.n; i++)
                fprintf(stderr, " %s", here.name[i]);
            fprintf(stderr, "\n");
            problems++;
        }
        for (size_t i = 0; i < here.n; i++)
            symbols_add(&defined, here.name[i], strlen(here.name[i]));
    }
    closedir(dir);
    assert_true(n_files >= 1);

    /* registry.c lists `X(<name>)` for each <name>_command. */
    char *registry = text_file_read(HANDLERS_DIR "/registry.c");
    static struct symbols names;
    memset(&names, 0, sizeof names);
    scan_lines(&names, registry, "X(", ")");
    free(registry);
    for (size_t i = 0; i < names.n; i++) {
        char symbol[SYMBOL_MAX + sizeof "_command"];
        snprintf(symbol, sizeof symbol, "%s_command", names.name[i]);
        symbols_add(&listed, symbol, strlen(symbol));
    }

    for (size_t i = 0; i < defined.n; i++)
        if (!symbols_has(&listed, defined.name[i])) {
            fprintf(stderr, "%s is defined but not listed in registry.c\n", defined.name[i]);
            problems++;
        }
    for (size_t i = 0; i < listed.n; i++) {
        if (!symbols_has(&defined, listed.name[i])) {
            fprintf(stderr, "registry.c lists %s, which no handler file defines\n", listed.name[i]);
            problems++;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(listed.name[i], listed.name[j]) == 0) {
                fprintf(stderr, "registry.c lists %s twice\n", listed.name[i]);
                problems++;
            }
    }
    /* The text we parsed is the array that was compiled. */
    if (listed.n != registry_count) {
        fprintf(stderr, "registry.c has %zu `X(name)` lines but registry_count is %zu\n", listed.n, registry_count);
        problems++;
    }
    assert_int_equal(problems, 0);
}

static void test_registry_sorted(void **state)
{
    (void)state;
    assert_true(registry_count >= 1);
    for (size_t i = 0; i < registry_count; i++) {
        assert_non_null(registry_commands[i]);
        assert_non_null(registry_commands[i]->name);
        if (i > 0 && strcmp(registry_commands[i - 1]->name, registry_commands[i]->name) >= 0)
            fail_msg("registry_commands is not sorted: \"%s\" before \"%s\"", registry_commands[i - 1]->name,
                     registry_commands[i]->name);
    }
}

/* ---- Discord's limits ---- */

struct checker {
    int errors;
    size_t total_chars; /* characters of the top-level command being checked */
};

static void report(struct checker *ck, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(struct checker *ck, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  %s: ", where);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    ck->errors++;
}

/* Discord counts characters, not bytes: count UTF-8 code points. */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* CHAT_INPUT command and option names: ^[-_'\p{L}\p{N}]{1,32}$, lower case where a letter has a
 * lower case form. Our names are ASCII, so the subset [-_a-z0-9] is what we accept. */
static void check_name(struct checker *ck, const char *where, const char *name)
{
    if (!name) {
        report(ck, where, "name is NULL");
        return;
    }
    size_t n = utf8_chars(name);
    if (n < 1 || n > NAME_MAX_CHARS)
        report(ck, where, "name \"%s\" has %zu characters (1-%d)", name, n, NAME_MAX_CHARS);
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) {
            report(ck, where, "name \"%s\" has '%c': only a-z, 0-9, - and _", name, *p);
            break;
        }
    ck->total_chars += n;
}

static void check_description(struct checker *ck, const char *where, const char *description)
{
    if (!description) {
        report(ck, where, "description is NULL");
        return;
    }
    size_t n = utf8_chars(description);
    if (n < 1 || n > DESCRIPTION_MAX_CHARS)
        report(ck, where, "description has %zu characters (1-%d)", n, DESCRIPTION_MAX_CHARS);
    ck->total_chars += n;
}

static void check_choices(struct checker *ck, const char *where, const struct cmd_option *o)
{
    if (o->n_choices == 0) {
        if (o->choices)
            report(ck, where, "choices set but n_choices is 0");
        return;
    }
    if (!o->choices) {
        report(ck, where, "n_choices is %zu but choices is NULL", o->n_choices);
        return;
    }
    if (o->type != OPT_STRING && o->type != OPT_INTEGER && o->type != OPT_NUMBER) {
        report(ck, where, "choices are only for STRING, INTEGER and NUMBER options");
        return;
    }
    if (o->n_choices > CHOICES_MAX)
        report(ck, where, "%zu choices (at most %d)", o->n_choices, CHOICES_MAX);
    for (size_t i = 0; i < o->n_choices; i++) {
        const struct cmd_choice *c = &o->choices[i];
        if (!c->name) {
            report(ck, where, "choice %zu has no name", i);
            continue;
        }
        size_t n = utf8_chars(c->name);
        if (n < 1 || n > CHOICE_NAME_MAX_CHARS)
            report(ck, where, "choice \"%s\" name has %zu characters (1-%d)", c->name, n, CHOICE_NAME_MAX_CHARS);
        ck->total_chars += n;
        if (o->type == OPT_STRING) {
            if (!c->string_value) {
                report(ck, where, "choice \"%s\" of a STRING option has no string_value", c->name);
                continue;
            }
            size_t v = utf8_chars(c->string_value);
            if (v > CHOICE_VALUE_MAX_CHARS)
                report(ck, where, "choice \"%s\" value has %zu characters (at most %d)", c->name, v,
                       CHOICE_VALUE_MAX_CHARS);
            ck->total_chars += v;
        } else {
            if (c->string_value)
                report(ck, where, "choice \"%s\" of a numeric option has a string_value", c->name);
            if (o->type == OPT_INTEGER && c->number_value != (double)(int64_t)c->number_value)
                report(ck, where, "choice \"%s\" of an INTEGER option is not whole", c->name);
            char value[64];
            ck->total_chars += (size_t)snprintf(value, sizeof value, "%.17g", c->number_value);
        }
    }
}

static void check_option(struct checker *ck, const char *parent, const struct cmd_option *o)
{
    char where[256];
    snprintf(where, sizeof where, "%.200s option %.40s", parent, o->name ? o->name : "(null)");
    check_name(ck, where, o->name);
    check_description(ck, where, o->description);
    if (o->type < OPT_STRING || o->type > OPT_ATTACHMENT)
        report(ck, where, "type %d is not an option type (subcommands are struct command nodes)", (int)o->type);
    check_choices(ck, where, o);
    bool is_numeric = o->type == OPT_INTEGER || o->type == OPT_NUMBER;
    if ((o->has_min_value || o->has_max_value) && !is_numeric)
        report(ck, where, "min_value/max_value are only for INTEGER and NUMBER options");
    if (o->has_min_value && o->has_max_value && o->min_value > o->max_value)
        report(ck, where, "min_value > max_value");
    if ((o->min_length || o->max_length) && o->type != OPT_STRING)
        report(ck, where, "min_length/max_length are only for STRING options");
    if (o->min_length > STRING_LENGTH_MAX || o->max_length > STRING_LENGTH_MAX)
        report(ck, where, "min_length/max_length above %d", STRING_LENGTH_MAX);
    if (o->max_length && o->min_length > o->max_length)
        report(ck, where, "min_length > max_length");
    if (o->channel_types && o->type != OPT_CHANNEL)
        report(ck, where, "channel_types is only for CHANNEL options");
    if (o->autocomplete && o->type != OPT_STRING && o->type != OPT_INTEGER && o->type != OPT_NUMBER)
        report(ck, where, "autocomplete is only for STRING, INTEGER and NUMBER options");
}

/* A node at depth 0 (the command), 1 (subcommand or group) or 2 (subcommand of a group). */
static void check_node(struct checker *ck, const char *parent, const struct command *c, int depth)
{
    char where[256];
    snprintf(where, sizeof where, "%.200s%s%.40s", parent, *parent ? " " : "", c->name ? c->name : "(null)");
    check_name(ck, where, c->name);
    check_description(ck, where, c->description);
    if (depth > 0) {
        if (c->type != 0)
            report(ck, where, "only top-level commands set a type");
        if (c->default_member_permissions || c->contexts || c->installs)
            report(ck, where, "default_member_permissions, contexts and installs belong to the top-level command");
        if (c->n_components || c->components)
            report(ck, where, "components belong to the top-level command (their custom_id names it)");
    }
    if (c->n_options && !c->options)
        report(ck, where, "n_options is %zu but options is NULL", c->n_options);
    if (c->n_subcommands && !c->subcommands)
        report(ck, where, "n_subcommands is %zu but subcommands is NULL", c->n_subcommands);
    if (c->n_options > OPTIONS_MAX)
        report(ck, where, "%zu options (at most %d)", c->n_options, OPTIONS_MAX);
    if (c->n_subcommands > OPTIONS_MAX)
        report(ck, where, "%zu subcommands (at most %d)", c->n_subcommands, OPTIONS_MAX);
    if (c->n_options + c->n_subcommands > OPTIONS_MAX)
        report(ck, where, "%zu options and subcommands together (at most %d)", c->n_options + c->n_subcommands,
               OPTIONS_MAX);

    if (c->n_subcommands) {
        /* A container: Discord allows command → group → subcommand, nothing deeper. */
        if (depth >= 2)
            report(ck, where, "subcommands nest at most two levels (group, then subcommand)");
        if (c->run)
            report(ck, where, "a node with subcommands is a container and must not have run");
        if (c->n_options)
            report(ck, where, "a node with subcommands must not have options");
        if (c->flags || c->cooldown_ms)
            report(ck, where, "flags and cooldown_ms are read from the leaf; set them there, not on a container");
        if (c->autocomplete || c->cooldown_as)
            report(ck, where, "autocomplete and cooldown_as are read from the leaf, not from a container");
    } else if (!c->run) {
        report(ck, where, "a leaf must have run");
    }

    bool seen_optional = false;
    for (size_t i = 0; c->options && i < c->n_options; i++) {
        const struct cmd_option *o = &c->options[i];
        check_option(ck, where, o);
        /* Discord sends no choices with autocomplete: the leaf's function or the declared
         * choices (filtered) are all a user will ever be offered. */
        if (o->autocomplete && !c->autocomplete && !o->n_choices)
            report(ck, where, "option %s autocompletes, but the leaf has no autocomplete and it no choices",
                   o->name ? o->name : "(null)");
        if (!o->required)
            seen_optional = true;
        else if (seen_optional)
            report(ck, where, "required option %s comes after an optional one", o->name ? o->name : "(null)");
    }

    /* Sibling names are unique, subcommands and options together. */
    size_t n = c->n_options + c->n_subcommands;
    for (size_t i = 0; i < n; i++) {
        const char *a = i < c->n_subcommands ? c->subcommands[i].name : c->options[i - c->n_subcommands].name;
        for (size_t j = i + 1; a && j < n; j++) {
            const char *b = j < c->n_subcommands ? c->subcommands[j].name : c->options[j - c->n_subcommands].name;
            if (b && strcmp(a, b) == 0)
                report(ck, where, "two children are named \"%s\"", a);
        }
    }

    for (size_t i = 0; c->subcommands && i < c->n_subcommands; i++)
        check_node(ck, where, &c->subcommands[i], depth + 1);
}

/* Component leaves (command.h): reached by the custom_id "command:action:...", so an action name
 * is non-empty and holds no ':'; each runs like a leaf but is never registered with Discord, so it
 * has no options, subcommands or top-level settings. */
static void check_components(struct checker *ck, const struct command *c)
{
    const char *top = c->name ? c->name : "(null)";
    if (c->n_components && !c->components) {
        report(ck, top, "n_components is %zu but components is NULL", c->n_components);
        return;
    }
    if (c->components && !c->n_components)
        report(ck, top, "components set but n_components is 0");
    for (size_t i = 0; i < c->n_components; i++) {
        const struct command *leaf = &c->components[i];
        char where[256];
        snprintf(where, sizeof where, "%.40s component %.40s", top, leaf->name ? leaf->name : "(null)");
        if (!leaf->name || !*leaf->name)
            report(ck, where, "a component leaf needs a name (its action in the custom_id)");
        else if (strchr(leaf->name, ':'))
            report(ck, where, "a component name must not hold ':', the custom_id separator");
        else if (strlen(top) + 1 + strlen(leaf->name) >= COMMAND_PATH_MAX)
            report(ck, where, "\"%s:%s\" does not fit a command path", top, leaf->name);
        if (!leaf->run)
            report(ck, where, "a component leaf must have run");
        if (leaf->n_options || leaf->options || leaf->n_subcommands || leaf->subcommands)
            report(ck, where, "a component leaf has no options or subcommands");
        if (leaf->contexts || leaf->installs || leaf->default_member_permissions || leaf->type)
            report(ck, where, "contexts, installs, permissions and type belong to the top-level command");
        if (leaf->n_components || leaf->components || leaf->autocomplete)
            report(ck, where, "a component leaf has no components or autocomplete of its own");
        for (size_t j = 0; j < i; j++)
            if (leaf->name && c->components[j].name && strcmp(leaf->name, c->components[j].name) == 0)
                report(ck, where, "two components share this name");
    }
}

static void check_top(struct checker *ck, const struct command *c)
{
    ck->total_chars = 0;
    enum command_type type = c->type ? c->type : COMMAND_CHAT_INPUT;
    if (type == COMMAND_CHAT_INPUT) {
        check_node(ck, "", c, 0);
    } else if (type == COMMAND_USER || type == COMMAND_MESSAGE) {
        /* Context menus: a name of 1-32 characters (any case, spaces allowed), no description, no options. */
        const char *where = c->name ? c->name : "(null)";
        size_t n = c->name ? utf8_chars(c->name) : 0;
        if (n < 1 || n > NAME_MAX_CHARS)
            report(ck, where, "name has %zu characters (1-%d)", n, NAME_MAX_CHARS);
        if (c->description && *c->description)
            report(ck, where, "USER and MESSAGE commands have no description");
        if (c->n_options || c->n_subcommands)
            report(ck, where, "USER and MESSAGE commands have no options");
        if (!c->run)
            report(ck, where, "a leaf must have run");
        ck->total_chars += n;
    } else {
        report(ck, c->name ? c->name : "(null)", "type %d is not a command type", (int)c->type);
    }
    if (c->default_member_permissions) {
        const char *p = c->default_member_permissions;
        bool is_decimal = *p != '\0' && strlen(p) <= 20;
        for (; *p; p++)
            is_decimal = is_decimal && *p >= '0' && *p <= '9';
        if (!is_decimal)
            report(ck, c->name, "default_member_permissions \"%s\" is not a decimal bit set",
                   c->default_member_permissions);
    }
    if (c->contexts & ~(unsigned)(CTX_GUILD | CTX_BOT_DM | CTX_PRIVATE_CHANNEL))
        report(ck, c->name ? c->name : "(null)", "contexts has unknown bits");
    if (c->installs & ~(unsigned)(INSTALL_GUILD | INSTALL_USER))
        report(ck, c->name ? c->name : "(null)", "installs has unknown bits");
    check_components(ck, c);
    if (ck->total_chars > COMMAND_TOTAL_MAX_CHARS)
        report(ck, c->name ? c->name : "(null)", "%zu characters in total (at most %d)", ck->total_chars,
               COMMAND_TOTAL_MAX_CHARS);
}

/* Checks a whole list as `slimy register` would send it; returns the number of problems. */
static int check_commands(const struct command *const *commands, size_t n)
{
    struct checker ck = {0};
    size_t per_type[4] = {0};
    for (size_t i = 0; i < n; i++) {
        check_top(&ck, commands[i]);
        enum command_type type = commands[i]->type ? commands[i]->type : COMMAND_CHAT_INPUT;
        if (type >= COMMAND_CHAT_INPUT && type <= COMMAND_MESSAGE)
            per_type[type]++;
        for (size_t j = 0; j < i; j++) {
            enum command_type other = commands[j]->type ? commands[j]->type : COMMAND_CHAT_INPUT;
            if (other == type && commands[i]->name && commands[j]->name &&
                strcmp(commands[i]->name, commands[j]->name) == 0)
                report(&ck, commands[i]->name, "two commands of the same type share this name");
        }
    }
    if (per_type[COMMAND_CHAT_INPUT] > CHAT_INPUT_COMMANDS_MAX)
        report(&ck, "registry", "%zu CHAT_INPUT commands (at most %d)", per_type[COMMAND_CHAT_INPUT],
               CHAT_INPUT_COMMANDS_MAX);
    if (per_type[COMMAND_USER] > USER_COMMANDS_MAX)
        report(&ck, "registry", "%zu USER commands (at most %d)", per_type[COMMAND_USER], USER_COMMANDS_MAX);
    if (per_type[COMMAND_MESSAGE] > MESSAGE_COMMANDS_MAX)
        report(&ck, "registry", "%zu MESSAGE commands (at most %d)", per_type[COMMAND_MESSAGE], MESSAGE_COMMANDS_MAX);
    return ck.errors;
}

static void test_definitions_within_limits(void **state)
{
    (void)state;
    fprintf(stderr, "checking %zu commands against Discord's limits\n", registry_count);
    assert_int_equal(check_commands(registry_commands, registry_count), 0);
}

/* ---- the checker itself catches what it should ---- */

static enum slimy_status dummy_run(struct cmd_ctx *ctx)
{
    (void)ctx;
    return 0;
}

static int check_one(const struct command *c)
{
    const struct command *list[] = {c};
    return check_commands(list, 1);
}

static void expect_rejected(const char *what, const struct command *c)
{
    fprintf(stderr, "expect a problem (%s):\n", what);
    if (check_one(c) == 0)
        fail_msg("the checker accepted a command with %s", what);
}

static void test_checker_catches_bad_definitions(void **state)
{
    (void)state;
    static const struct cmd_option one_option[] = {{.name = "x", .type = OPT_STRING, .description = "X"}};
    const struct command good = {.name = "good",
                                 .description = "Fine",
                                 .options = one_option,
                                 .n_options = 1,
                                 .run = dummy_run};
    assert_int_equal(check_one(&good), 0);

    /* 100 two-byte characters are 100 characters: accepted. */
    char accents[201];
    for (int i = 0; i < 100; i++)
        memcpy(accents + 2 * i, "\xc3\xa9", 2);
    accents[200] = '\0';
    struct command c = good;
    c.description = accents;
    assert_int_equal(check_one(&c), 0);

    char long_text[200];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';

    c = good;
    long_text[33] = '\0';
    c.name = long_text;
    expect_rejected("a 33-character name", &c);
    long_text[33] = 'a';
    c.name = "Good";
    expect_rejected("an upper case name", &c);
    c.name = "good one";
    expect_rejected("a space in the name", &c);
    c.name = "";
    expect_rejected("an empty name", &c);

    c = good;
    c.description = "";
    expect_rejected("an empty description", &c);
    long_text[101] = '\0';
    c.description = long_text;
    expect_rejected("a 101-character description", &c);
    long_text[101] = 'a';

    struct cmd_option options[30];
    for (int i = 0; i < 30; i++) {
        static char names[30][8];
        snprintf(names[i], sizeof names[i], "o%d", i);
        options[i] = (struct cmd_option){.name = names[i], .type = OPT_STRING, .description = "O"};
    }
    c = good;
    c.options = options;
    c.n_options = 26;
    expect_rejected("26 options", &c);

    struct cmd_option order[2] = {{.name = "a", .type = OPT_STRING, .description = "A"},
                                  {.name = "b", .type = OPT_STRING, .description = "B", .required = true}};
    c = good;
    c.options = order;
    c.n_options = 2;
    expect_rejected("a required option after an optional one", &c);

    struct cmd_option twins[2] = {{.name = "a", .type = OPT_STRING, .description = "A"},
                                  {.name = "a", .type = OPT_INTEGER, .description = "A"}};
    c.options = twins;
    expect_rejected("two options with one name", &c);

    struct cmd_choice choices[30];
    for (int i = 0; i < 30; i++)
        choices[i] = (struct cmd_choice){.name = "c", .string_value = "v"};
    struct cmd_option with_choices = {.name = "pick",
                                      .type = OPT_STRING,
                                      .description = "P",
                                      .choices = choices,
                                      .n_choices = 26};
    c.options = &with_choices;
    c.n_options = 1;
    expect_rejected("26 choices", &c);
    with_choices.n_choices = 1;
    assert_int_equal(check_one(&c), 0);
    choices[0].name = long_text; /* 199 characters */
    expect_rejected("a 199-character choice name", &c);
    choices[0].name = "c";
    with_choices.type = OPT_BOOLEAN;
    expect_rejected("choices on a BOOLEAN option", &c);
    with_choices.type = OPT_INTEGER;
    expect_rejected("a string choice on an INTEGER option", &c);

    /* 2 options x 25 choices x (100 + 100 characters) = 10000 characters. */
    char hundred[101];
    memset(hundred, 'h', 100);
    hundred[100] = '\0';
    struct cmd_choice big_choices[25];
    for (int i = 0; i < 25; i++)
        big_choices[i] = (struct cmd_choice){.name = hundred, .string_value = hundred};
    struct cmd_option big[2] = {
        {.name = "p", .type = OPT_STRING, .description = "P", .choices = big_choices, .n_choices = 25},
        {.name = "q", .type = OPT_STRING, .description = "Q", .choices = big_choices, .n_choices = 25}};
    c.options = big;
    c.n_options = 1;
    assert_int_equal(check_one(&c), 0); /* 5000 characters is fine */
    c.n_options = 2;
    expect_rejected("10000 characters in total", &c);

    /* Containers and leaves. */
    const struct command leaf = {.name = "leaf", .description = "L", .run = dummy_run};
    struct command container = {.name = "box", .description = "B", .subcommands = &leaf, .n_subcommands = 1};
    assert_int_equal(check_one(&container), 0);
    container.run = dummy_run;
    expect_rejected("a container with run", &container);
    container.run = NULL;
    container.flags = CMD_EPHEMERAL;
    expect_rejected("flags on a container", &container);
    container.flags = 0;
    const struct command no_run = {.name = "leaf", .description = "L"};
    container.subcommands = &no_run;
    expect_rejected("a leaf without run", &container);
    const struct command group = {.name = "grp", .description = "G", .subcommands = &leaf, .n_subcommands = 1};
    const struct command deep = {.name = "deep", .description = "D", .subcommands = &group, .n_subcommands = 1};
    container.subcommands = &deep;
    expect_rejected("subcommands three levels deep", &container);
    container.subcommands = &group;
    assert_int_equal(check_one(&container), 0);
    const struct command typed = {.name = "leaf", .type = COMMAND_CHAT_INPUT, .description = "L", .run = dummy_run};
    container.subcommands = &typed;
    expect_rejected("a type on a subcommand", &container);

    /* Context menus. */
    const struct command menu = {.name = "Summarize Message", .type = COMMAND_MESSAGE, .run = dummy_run};
    assert_int_equal(check_one(&menu), 0);
    struct command menu_desc = menu;
    menu_desc.description = "Not allowed";
    expect_rejected("a description on a MESSAGE command", &menu_desc);

    c = good;
    c.default_member_permissions = "0x20";
    expect_rejected("default_member_permissions not in decimal", &c);

    /* Autocomplete. */
    struct cmd_option typing = {.name = "q", .type = OPT_STRING, .description = "Q", .autocomplete = true};
    c = good;
    c.options = &typing;
    c.n_options = 1;
    expect_rejected("an autocomplete option with neither choices nor a leaf autocomplete", &c);
    c.autocomplete = dummy_run;
    assert_int_equal(check_one(&c), 0);
    typing.type = OPT_BOOLEAN;
    expect_rejected("autocomplete on a BOOLEAN option", &c);
    typing.type = OPT_INTEGER;
    assert_int_equal(check_one(&c), 0);
    struct cmd_choice colours[] = {{.name = "Red", .string_value = "red"}};
    struct cmd_option declared =
        {.name = "q", .type = OPT_STRING, .description = "Q", .autocomplete = true, .choices = colours, .n_choices = 1};
    c = good;
    c.options = &declared;
    assert_int_equal(check_one(&c), 0); /* declared choices are suggested */

    /* Installs. */
    c = good;
    c.installs = INSTALL_GUILD | INSTALL_USER;
    c.contexts = CTX_ANYWHERE;
    assert_int_equal(check_one(&c), 0);
    c.installs = 1u << 2;
    expect_rejected("an unknown install type", &c);
    container.subcommands = &leaf;
    struct command installed_leaf = leaf;
    installed_leaf.installs = INSTALL_USER;
    container.subcommands = &installed_leaf;
    expect_rejected("installs on a subcommand", &container);

    /* Component leaves. */
    struct command press = {.name = "press", .run = dummy_run};
    c = good;
    c.components = &press;
    c.n_components = 1;
    assert_int_equal(check_one(&c), 0);
    press.name = "pre:ss";
    expect_rejected("a component name with ':'", &c);
    press.name = "";
    expect_rejected("an empty component name", &c);
    press.name = NULL;
    expect_rejected("a component without a name", &c);
    press.name = "press";
    press.run = NULL;
    expect_rejected("a component without run", &c);
    press.run = dummy_run;
    press.options = one_option;
    press.n_options = 1;
    expect_rejected("a component with options", &c);
    press.options = NULL;
    press.n_options = 0;
    press.subcommands = &leaf;
    press.n_subcommands = 1;
    expect_rejected("a component with subcommands", &c);
    press.subcommands = NULL;
    press.n_subcommands = 0;
    press.contexts = CTX_GUILD;
    expect_rejected("contexts on a component", &c);
    press.contexts = 0;
    press.installs = INSTALL_USER;
    expect_rejected("installs on a component", &c);
    press.installs = 0;
    struct command twins_pressed[2] = {press, press};
    c.components = twins_pressed;
    c.n_components = 2;
    expect_rejected("two components with one name", &c);
    c.components = NULL;
    expect_rejected("n_components without components", &c);
    struct command with_components = leaf;
    with_components.components = &press;
    with_components.n_components = 1;
    container.subcommands = &with_components;
    expect_rejected("components on a subcommand", &container);

    /* 101 slash commands. */
    static char names[101][8];
    static struct command many[101];
    static const struct command *list[101];
    for (int i = 0; i < 101; i++) {
        snprintf(names[i], sizeof names[i], "c%03d", i);
        many[i] = (struct command){.name = names[i], .description = "C", .run = dummy_run};
        list[i] = &many[i];
    }
    assert_int_equal(check_commands(list, 100), 0);
    fprintf(stderr, "expect a problem (101 commands):\n");
    assert_true(check_commands(list, 101) > 0);
    list[1] = &many[0];
    fprintf(stderr, "expect a problem (a name used twice):\n");
    assert_true(check_commands(list, 2) > 0);
}

/* ---- registration JSON ---- */

static const cJSON *child(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static const cJSON *find_named(const cJSON *array, const char *name)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, array)
    {
        const cJSON *n = child(item, "name");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return item;
    }
    return NULL;
}

static void assert_string_field(const cJSON *obj, const char *key, const char *expected)
{
    const cJSON *v = child(obj, key);
    if (!cJSON_IsString(v))
        fail_msg("\"%s\" is not a string", key);
    assert_string_equal(v->valuestring, expected);
}

static int int_field(const cJSON *obj, const char *key)
{
    const cJSON *v = child(obj, key);
    if (!cJSON_IsNumber(v))
        fail_msg("\"%s\" is not a number", key);
    return v->valueint;
}

static bool is_required(const cJSON *option)
{
    return cJSON_IsTrue(child(option, "required"));
}

static void test_registration_snail(void **state)
{
    (void)state;
    cJSON *array = registration_json(registry_commands, registry_count);
    assert_non_null(array);
    assert_true(cJSON_IsArray(array));
    assert_int_equal(cJSON_GetArraySize(array), (int)registry_count);

    const cJSON *snail = find_named(array, "snail");
    assert_non_null(snail);
    assert_int_equal(int_field(snail, "type"), 1);
    assert_true(cJSON_IsString(child(snail, "description")));
    assert_true(strlen(child(snail, "description")->valuestring) > 0);
    /* Unset permissions are an explicit null: everyone may use it. */
    assert_true(cJSON_IsNull(child(snail, "default_member_permissions")));

    const cJSON *subs = child(snail, "options");
    assert_true(cJSON_IsArray(subs));
    assert_int_equal(cJSON_GetArraySize(subs), 5);
    assert_non_null(find_named(subs, "analyze"));
    assert_non_null(find_named(subs, "sheet"));
    assert_non_null(find_named(subs, "sheet-setup"));
    const cJSON *screenshot = find_named(child(find_named(subs, "analyze"), "options"), "screenshot");
    assert_non_null(screenshot);
    assert_int_equal(int_field(screenshot, "type"), 11); /* ATTACHMENT */
    const cJSON *test = find_named(subs, "test");
    const cJSON *calc = find_named(subs, "calc");
    assert_non_null(test);
    assert_non_null(calc);
    assert_int_equal(int_field(test, "type"), 1); /* SUB_COMMAND */
    assert_int_equal(int_field(calc, "type"), 1);
    assert_true(cJSON_IsString(child(calc, "description")));
    const cJSON *test_options = child(test, "options");
    assert_true(!test_options || cJSON_GetArraySize(test_options) == 0);

    const cJSON *calc_options = child(calc, "options");
    assert_true(cJSON_IsArray(calc_options));
    const cJSON *tier = find_named(calc_options, "tier");
    assert_non_null(tier);
    assert_int_equal(int_field(tier, "type"), 4); /* INTEGER */
    assert_true(is_required(tier));
    const cJSON *choices = child(tier, "choices");
    assert_true(cJSON_IsArray(choices));
    assert_int_equal(cJSON_GetArraySize(choices), 4);
    for (int t = 5; t <= 8; t++) {
        char name[4];
        snprintf(name, sizeof name, "T%d", t);
        const cJSON *choice = find_named(choices, name);
        if (!choice)
            fail_msg("no choice %s", name);
        assert_int_equal(int_field(choice, "value"), t);
    }
    const cJSON *levels = find_named(calc_options, "levels");
    assert_non_null(levels);
    assert_int_equal(int_field(levels, "type"), 3); /* STRING */
    assert_true(is_required(levels));
    const cJSON *dragon = find_named(calc_options, "dragon");
    assert_non_null(dragon);
    assert_int_equal(int_field(dragon, "type"), 5); /* BOOLEAN */
    assert_false(is_required(dragon));

    /* Required options first in the JSON too. */
    bool seen_optional = false;
    const cJSON *o;
    cJSON_ArrayForEach(o, calc_options)
    {
        if (!is_required(o))
            seen_optional = true;
        else
            assert_false(seen_optional);
    }
    cJSON_Delete(array);
}

/* The JSON mirrors every definition: a node's children, in order, with the right types. */
static void compare_option(const cJSON *j, const struct cmd_option *o)
{
    assert_string_field(j, "name", o->name);
    assert_string_field(j, "description", o->description);
    assert_int_equal(int_field(j, "type"), (int)o->type);
    assert_int_equal(is_required(j), o->required);
    assert_int_equal(cJSON_IsTrue(child(j, "autocomplete")), o->autocomplete);
    const cJSON *choices = child(j, "choices");
    /* Discord refuses choices next to autocomplete: such an option registers none. */
    size_t n_choices = o->autocomplete ? 0 : o->n_choices;
    assert_int_equal(choices ? cJSON_GetArraySize(choices) : 0, (int)n_choices);
    for (size_t i = 0; i < n_choices; i++) {
        const cJSON *c = cJSON_GetArrayItem(choices, (int)i);
        assert_string_field(c, "name", o->choices[i].name);
        if (o->choices[i].string_value)
            assert_string_field(c, "value", o->choices[i].string_value);
        else
            assert_true(cJSON_IsNumber(child(c, "value")) &&
                        child(c, "value")->valuedouble == o->choices[i].number_value);
    }
    if (o->has_min_value)
        assert_true(child(j, "min_value") && child(j, "min_value")->valuedouble == o->min_value);
    else
        assert_null(child(j, "min_value"));
    if (o->has_max_value)
        assert_true(child(j, "max_value") && child(j, "max_value")->valuedouble == o->max_value);
    else
        assert_null(child(j, "max_value"));
    if (o->max_length)
        assert_int_equal(int_field(j, "max_length"), (int)o->max_length);
    if (o->min_length)
        assert_int_equal(int_field(j, "min_length"), (int)o->min_length);
    /* channel_types: bit n of the definition is Discord channel type n. */
    uint32_t bits = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, child(j, "channel_types")) bits |= UINT32_C(1) << t->valueint;
    assert_int_equal(bits, o->channel_types);
}

static void compare_node(const cJSON *j, const struct command *c)
{
    assert_string_field(j, "name", c->name);
    const cJSON *options = child(j, "options");
    size_t n = c->n_subcommands + c->n_options;
    assert_int_equal(options ? cJSON_GetArraySize(options) : 0, (int)n);
    for (size_t i = 0; i < c->n_subcommands; i++) {
        const cJSON *s = cJSON_GetArrayItem(options, (int)i);
        const struct command *sub = &c->subcommands[i];
        assert_int_equal(int_field(s, "type"), sub->n_subcommands ? 2 : 1); /* GROUP or SUB_COMMAND */
        assert_string_field(s, "description", sub->description);
        compare_node(s, sub);
    }
    for (size_t i = 0; i < c->n_options; i++)
        compare_option(cJSON_GetArrayItem(options, (int)(c->n_subcommands + i)), &c->options[i]);
}

static void test_registration_mirrors_definitions(void **state)
{
    (void)state;
    cJSON *array = registration_json(registry_commands, registry_count);
    assert_non_null(array);
    for (size_t i = 0; i < registry_count; i++) {
        const struct command *c = registry_commands[i];
        const cJSON *j = cJSON_GetArrayItem(array, (int)i);
        assert_non_null(j);
        int type = c->type ? (int)c->type : COMMAND_CHAT_INPUT;
        assert_int_equal(int_field(j, "type"), type);
        assert_string_field(j, "description", type == COMMAND_CHAT_INPUT ? c->description : "");
        const cJSON *perms = child(j, "default_member_permissions");
        if (c->default_member_permissions)
            assert_string_field(j, "default_member_permissions", c->default_member_permissions);
        else
            assert_true(cJSON_IsNull(perms));
        const cJSON *contexts = child(j, "contexts");
        unsigned bits = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, contexts) bits |= 1u << v->valueint;
        assert_int_equal(bits, c->contexts);
        const cJSON *installs = child(j, "integration_types");
        if (!c->installs)
            assert_null(installs); /* Discord's default */
        bits = 0;
        cJSON_ArrayForEach(v, installs) bits |= 1u << v->valueint;
        assert_int_equal(bits, c->installs);
        compare_node(j, c);
        /* compare_node counts every option: a component leaf registered as one would show. */
    }
    cJSON_Delete(array);
}

/* "integration_types" [0,1] and "contexts" [0,1,2], or [0] and [0], as obj says. */
static void assert_numbers(const cJSON *obj, const char *key, const char *expected)
{
    char *text = cJSON_PrintUnformatted(child(obj, key));
    if (!text || strcmp(text, expected) != 0)
        fail_msg("%s is %s, expected %s", key, text ? text : "(absent)", expected);
    free(text);
}

/* Who may install each command and where it works: the personal commands anywhere, by anyone
 * who installed Slimy to their account; the server settings only in servers that added Slimy. */
static void test_registration_installs_and_contexts(void **state)
{
    (void)state;
    cJSON *array = registration_json(registry_commands, registry_count);
    assert_non_null(array);
    static const char *const personal[] = {"chat", "dream", "snail", "Ask Slimy", "Analyze Snail Stats"};
    for (size_t i = 0; i < sizeof personal / sizeof personal[0]; i++) {
        const cJSON *c = find_named(array, personal[i]);
        if (!c)
            fail_msg("no command %s", personal[i]);
        assert_numbers(c, "integration_types", "[0,1]");
        assert_numbers(c, "contexts", "[0,1,2]");
    }
    static const char *const server_only[] = {"mode", "personality-config", "leaderboard", "diag"};
    for (size_t i = 0; i < sizeof server_only / sizeof server_only[0]; i++) {
        const cJSON *c = find_named(array, server_only[i]);
        if (!c)
            fail_msg("no command %s", server_only[i]);
        assert_numbers(c, "integration_types", "[0]");
        assert_numbers(c, "contexts", "[0]");
    }
    /* The autocompleted options: flagged, with no choices. */
    const cJSON *id = find_named(child(find_named(array, "forget"), "options"), "id");
    assert_true(cJSON_IsTrue(child(id, "autocomplete")));
    const cJSON *period = find_named(child(find_named(array, "stats"), "options"), "period");
    assert_true(cJSON_IsTrue(child(period, "autocomplete")));
    assert_null(child(period, "choices"));
    cJSON_Delete(array);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_matches_files),
        cmocka_unit_test(test_registry_sorted),
        cmocka_unit_test(test_definitions_within_limits),
        cmocka_unit_test(test_checker_catches_bad_definitions),
        cmocka_unit_test(test_registration_snail),
        cmocka_unit_test(test_registration_mirrors_definitions),
        cmocka_unit_test(test_registration_installs_and_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
