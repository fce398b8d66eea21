/* test_interaction.c — unit tests of src/interactions/interaction.c: parsing Discord interaction
 * bodies (guild and DM users, display names, permissions, subcommands and groups, resolved data,
 * message context menus, PING), rejecting bodies that are not an interaction, parsing from a buffer
 * that is not NUL-terminated, and the permission-string parser. Fixtures follow the shapes in
 * Discord's "Interaction Structure" and application-command docs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/status.h"
#include "interactions/interaction.h"

/* ---- helpers ---- */

/* Parses json from an exact-size heap copy with no terminator, so every parse goes through the
 * explicit length and ASan flags a read past it. */
static int parse_exact(const char *json, struct interaction *it)
{
    size_t len = strlen(json);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, json, len);
    int rc = interaction_parse(copy, len, it);
    free(copy); /* the interaction's strings live in its cJSON tree, not in the body */
    return rc;
}

static void parse_ok(const char *json, struct interaction *it)
{
    int rc = parse_exact(json, it);
    if (rc != SLIMY_OK)
        fail_msg("parse failed (%d) for: %s", rc, json);
    assert_non_null(it->root);
}

static const char *option_string(const struct interaction *it, const char *name)
{
    const cJSON *opt = interaction_option(it, name);
    assert_non_null(opt);
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(opt, "value");
    assert_true(cJSON_IsString(value));
    return value->valuestring;
}

static const char *json_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

/* ---- fixtures ---- */

static const char GUILD_COMMAND[] =
    "{\"id\":\"1100000000000000001\",\"application_id\":\"1200000000000000002\",\"type\":2,"
    "\"token\":\"aW50ZXJhY3Rpb24tdG9rZW4\",\"version\":1,\"guild_id\":\"1300000000000000003\","
    "\"channel_id\":\"1400000000000000004\",\"channel\":{\"id\":\"1400000000000000004\",\"type\":0},"
    "\"context\":0,\"locale\":\"en-US\",\"guild_locale\":\"en-US\",\"app_permissions\":\"2248473465835073\","
    "\"entitlements\":[],\"authorizing_integration_owners\":{\"0\":\"1300000000000000003\"},"
    "\"member\":{\"user\":{\"id\":\"1500000000000000005\",\"username\":\"snailfan\",\"discriminator\":\"0\","
    "\"global_name\":\"Snail Fan\",\"avatar\":null},\"nick\":\"Escargot\",\"roles\":[\"1\"],"
    "\"joined_at\":\"2021-01-01T00:00:00.000000+00:00\",\"premium_since\":null,\"deaf\":false,"
    "\"mute\":false,\"flags\":0,\"pending\":false,\"permissions\":\"2147483647\"},"
    "\"data\":{\"id\":\"1600000000000000006\",\"name\":\"ask\",\"type\":1,"
    "\"options\":[{\"name\":\"prompt\",\"type\":3,\"value\":\"hello \\\"snail\\\"\"},"
    "{\"name\":\"private\",\"type\":5,\"value\":true}]}}";

static const char DM_COMMAND[] =
    "{\"id\":\"1100000000000000011\",\"application_id\":\"1200000000000000002\",\"type\":2,"
    "\"token\":\"dG9rZW4tZG0\",\"version\":1,\"channel_id\":\"1400000000000000014\","
    "\"channel\":{\"id\":\"1400000000000000014\",\"type\":1},\"context\":1,\"locale\":\"fr\","
    "\"app_permissions\":\"0\",\"authorizing_integration_owners\":{\"0\":\"0\"},"
    "\"user\":{\"id\":\"1500000000000000015\",\"username\":\"dmuser\",\"discriminator\":\"0\","
    "\"global_name\":\"DM User\",\"avatar\":null},"
    "\"data\":{\"id\":\"1600000000000000006\",\"name\":\"ask\",\"type\":1}}";

/* ---- guild and DM ---- */

static void test_guild_command(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok(GUILD_COMMAND, &it);
    assert_int_equal(it.type, INTERACTION_APPLICATION_COMMAND);
    assert_string_equal(it.id, "1100000000000000001");
    assert_string_equal(it.application_id, "1200000000000000002");
    assert_string_equal(it.token, "aW50ZXJhY3Rpb24tdG9rZW4");
    assert_string_equal(it.guild_id, "1300000000000000003");
    assert_string_equal(it.channel_id, "1400000000000000004");
    assert_int_equal(it.context, 0);
    assert_true(it.has_member);
    assert_string_equal(it.user_id, "1500000000000000005"); /* member.user.id */
    assert_string_equal(it.user_name, "Escargot");          /* the nick wins */
    assert_true(it.member_permissions == UINT64_C(2147483647));
    assert_true((it.member_permissions & PERMISSION_ADMINISTRATOR) != 0);
    assert_true((it.member_permissions & PERMISSION_MANAGE_GUILD) != 0);

    assert_string_equal(it.command_name, "ask");
    assert_int_equal(it.command_type, 1);
    assert_null(it.subcommand_group);
    assert_null(it.subcommand);
    assert_non_null(it.options);
    assert_int_equal(cJSON_GetArraySize(it.options), 2);
    assert_null(it.resolved);
    assert_null(it.target_id);
    assert_null(interaction_target_message(&it));

    /* Options by name; values keep their JSON types. */
    assert_string_equal(option_string(&it, "prompt"), "hello \"snail\"");
    const cJSON *private_opt = interaction_option(&it, "private");
    assert_non_null(private_opt);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(private_opt, "value")));
    assert_null(interaction_option(&it, "missing"));
    assert_null(interaction_option(&it, "Prompt")); /* names are case-sensitive */
    assert_null(interaction_option(&it, ""));

    interaction_free(&it);
    assert_null(it.root);
}

static void test_dm_command(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok(DM_COMMAND, &it);
    assert_int_equal(it.type, INTERACTION_APPLICATION_COMMAND);
    assert_false(it.has_member);
    assert_null(it.guild_id);
    assert_string_equal(it.channel_id, "1400000000000000014");
    assert_string_equal(it.user_id, "1500000000000000015"); /* top-level user */
    assert_string_equal(it.user_name, "DM User");           /* global_name */
    assert_true(it.member_permissions == 0);
    assert_int_equal(it.context, 1);
    assert_string_equal(it.command_name, "ask");
    assert_null(it.options); /* no options at all */
    assert_null(interaction_option(&it, "prompt"));
    assert_null(interaction_resolved(&it, "attachments", "1"));
    interaction_free(&it);
}

/* user_name: member.nick, then global_name, then username; null and "" do not count. */
static void test_display_name_fallbacks(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *expected;
    } cases[] = {
        /* guild: nick null → global_name */
        {"{\"type\":2,\"member\":{\"nick\":null,\"permissions\":\"0\",\"user\":{\"id\":\"5\",\"username\":\"u\","
         "\"global_name\":\"Global\"}}}",
         "Global"},
        /* guild: nick "" → global_name */
        {"{\"type\":2,\"member\":{\"nick\":\"\",\"user\":{\"id\":\"5\",\"username\":\"u\",\"global_name\":\"G\"}}}",
         "G"},
        /* guild: no nick, global_name null → username */
        {"{\"type\":2,\"member\":{\"user\":{\"id\":\"5\",\"username\":\"plain\",\"global_name\":null}}}", "plain"},
        /* DM: global_name "" → username */
        {"{\"type\":2,\"user\":{\"id\":\"5\",\"username\":\"dm_plain\",\"global_name\":\"\"}}", "dm_plain"},
        /* DM: global_name absent → username */
        {"{\"type\":2,\"user\":{\"id\":\"5\",\"username\":\"dm_only\"}}", "dm_only"},
        /* DM: a nick outside a member is not a member nick */
        {"{\"type\":2,\"nick\":\"NotMe\",\"user\":{\"id\":\"5\",\"username\":\"dm\",\"global_name\":\"DMG\"}}", "DMG"},
        /* nothing at all → "" */
        {"{\"type\":2,\"user\":{\"id\":\"5\"}}", ""},
        {"{\"type\":2}", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct interaction it;
        parse_ok(cases[i].json, &it);
        assert_non_null(it.user_name);
        if (strcmp(it.user_name, cases[i].expected) != 0)
            fail_msg("case %zu: user_name \"%s\", expected \"%s\"", i, it.user_name, cases[i].expected);
        interaction_free(&it);
    }
}

/* In a guild the user is member.user even if a top-level user were present; without a member
 * there are no permissions; an unparseable permission string grants nothing. */
static void test_member_user_and_permissions(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":2,\"guild_id\":\"9\",\"member\":{\"permissions\":\"40\",\"user\":{\"id\":\"111\","
             "\"username\":\"m\"}},\"user\":{\"id\":\"222\",\"username\":\"top\"}}",
             &it);
    assert_string_equal(it.user_id, "111");
    assert_string_equal(it.user_name, "m");
    assert_true(it.member_permissions == 40);
    assert_true((it.member_permissions & PERMISSION_MANAGE_GUILD) != 0);
    assert_true((it.member_permissions & PERMISSION_ADMINISTRATOR) != 0);
    interaction_free(&it);

    /* Fail closed: "-1" would be all bits if wrapped. */
    static const char *const bad_perms[] = {
        "{\"type\":2,\"member\":{\"permissions\":\"-1\",\"user\":{\"id\":\"1\"}}}",
        "{\"type\":2,\"member\":{\"permissions\":\"18446744073709551616\",\"user\":{\"id\":\"1\"}}}",
        "{\"type\":2,\"member\":{\"permissions\":2147483647,\"user\":{\"id\":\"1\"}}}", /* number, not string */
        "{\"type\":2,\"member\":{\"permissions\":null,\"user\":{\"id\":\"1\"}}}",
        "{\"type\":2,\"member\":{\"user\":{\"id\":\"1\"}}}",
    };
    for (size_t i = 0; i < sizeof bad_perms / sizeof bad_perms[0]; i++) {
        parse_ok(bad_perms[i], &it);
        assert_true(it.has_member);
        if (it.member_permissions != 0)
            fail_msg("case %zu: permissions %llu, expected 0", i, (unsigned long long)it.member_permissions);
        interaction_free(&it);
    }

    /* A DM never has member permissions, even with a stray permissions field on the user. */
    parse_ok("{\"type\":2,\"user\":{\"id\":\"1\",\"permissions\":\"8\"}}", &it);
    assert_false(it.has_member);
    assert_true(it.member_permissions == 0);
    interaction_free(&it);
}

/* ---- command shapes ---- */

/* /snail calc tier:5 levels:"10,10,10" */
static void test_subcommand(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":2,\"id\":\"1\",\"data\":{\"id\":\"2\",\"name\":\"snail\",\"type\":1,\"options\":["
             "{\"name\":\"calc\",\"type\":1,\"options\":[{\"name\":\"tier\",\"type\":4,\"value\":5},"
             "{\"name\":\"levels\",\"type\":3,\"value\":\"10,10,10\"}]}]}}",
             &it);
    assert_string_equal(it.command_name, "snail");
    assert_null(it.subcommand_group);
    assert_non_null(it.subcommand);
    assert_string_equal(it.subcommand, "calc");
    assert_non_null(it.options);
    assert_int_equal(cJSON_GetArraySize(it.options), 2); /* calc's options, not data.options */
    const cJSON *tier = interaction_option(&it, "tier");
    assert_non_null(tier);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(tier, "value")->valueint, 5);
    assert_string_equal(option_string(&it, "levels"), "10,10,10");
    assert_null(interaction_option(&it, "calc")); /* the subcommand is not a parameter */
    interaction_free(&it);

    /* A subcommand without parameters: no leaf options. */
    parse_ok("{\"type\":2,\"data\":{\"name\":\"snail\",\"type\":1,\"options\":[{\"name\":\"help\",\"type\":1}]}}", &it);
    assert_string_equal(it.subcommand, "help");
    assert_null(it.options);
    assert_null(interaction_option(&it, "help"));
    interaction_free(&it);

    /* ...or with an empty parameter list. */
    parse_ok("{\"type\":2,\"data\":{\"name\":\"snail\",\"type\":1,\"options\":[{\"name\":\"help\",\"type\":1,"
             "\"options\":[]}]}}",
             &it);
    assert_string_equal(it.subcommand, "help");
    assert_int_equal(cJSON_GetArraySize(it.options), 0);
    assert_null(interaction_option(&it, "help"));
    interaction_free(&it);
}

/* /config model set name:gpt — group → subcommand → params. */
static void test_subcommand_group(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":2,\"data\":{\"name\":\"config\",\"type\":1,\"options\":[{\"name\":\"model\",\"type\":2,"
             "\"options\":[{\"name\":\"set\",\"type\":1,\"options\":[{\"name\":\"name\",\"type\":3,"
             "\"value\":\"gpt\"},{\"name\":\"temperature\",\"type\":10,\"value\":0.5}]}]}]}}",
             &it);
    assert_string_equal(it.command_name, "config");
    assert_non_null(it.subcommand_group);
    assert_string_equal(it.subcommand_group, "model");
    assert_non_null(it.subcommand);
    assert_string_equal(it.subcommand, "set");
    assert_int_equal(cJSON_GetArraySize(it.options), 2);
    assert_string_equal(option_string(&it, "name"), "gpt");
    const cJSON *temperature = interaction_option(&it, "temperature");
    assert_non_null(temperature);
    assert_true(cJSON_GetObjectItemCaseSensitive(temperature, "value")->valuedouble == 0.5);
    assert_null(interaction_option(&it, "model"));
    assert_null(interaction_option(&it, "set"));
    interaction_free(&it);
}

/* The attachment example of the spec: /ai image prompt:"a cat" file:<attachment>. */
static void test_resolved_attachment(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":2,\"data\":{\"id\":\"1\",\"name\":\"ai\",\"type\":1,\"options\":["
             "{\"name\":\"image\",\"type\":1,\"options\":["
             "{\"name\":\"prompt\",\"type\":3,\"value\":\"a cat\"},"
             "{\"name\":\"file\",\"type\":11,\"value\":\"1111111111111111111\"}]}],"
             "\"resolved\":{\"attachments\":{\"1111111111111111111\":{"
             "\"id\":\"1111111111111111111\",\"filename\":\"a.png\",\"content_type\":\"image/png\","
             "\"size\":12345,\"url\":\"https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&is=2&hm=3\","
             "\"proxy_url\":\"https://media.discordapp.net/x\",\"width\":512,\"height\":512}}}}}",
             &it);
    assert_string_equal(it.subcommand, "image");
    assert_non_null(it.resolved);
    assert_string_equal(option_string(&it, "prompt"), "a cat");
    const char *file_id = option_string(&it, "file");
    assert_string_equal(file_id, "1111111111111111111");

    const cJSON *att = interaction_resolved(&it, "attachments", file_id);
    assert_non_null(att);
    assert_string_equal(json_string(att, "url"), "https://cdn.discordapp.com/attachments/1/2/a.png?ex=1&is=2&hm=3");
    assert_string_equal(json_string(att, "filename"), "a.png");
    assert_string_equal(json_string(att, "content_type"), "image/png");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(att, "size")->valueint, 12345);

    assert_null(interaction_resolved(&it, "attachments", "2222222222222222222"));
    assert_null(interaction_resolved(&it, "users", file_id));
    assert_null(interaction_resolved(&it, "attachments", NULL));
    assert_null(interaction_resolved(&it, "attachments", ""));
    assert_null(interaction_target_message(&it)); /* a chat-input command has no target */
    interaction_free(&it);

    /* Only objects count as resolved entries. */
    parse_ok("{\"type\":2,\"data\":{\"name\":\"ai\",\"resolved\":{\"attachments\":{\"5\":\"not an object\","
             "\"6\":null,\"7\":[]},\"users\":[{\"id\":\"8\"}]}}}",
             &it);
    assert_non_null(it.resolved);
    assert_null(interaction_resolved(&it, "attachments", "5"));
    assert_null(interaction_resolved(&it, "attachments", "6"));
    assert_null(interaction_resolved(&it, "attachments", "7"));
    assert_null(interaction_resolved(&it, "users", "8"));
    interaction_free(&it);

    /* No resolved data at all. */
    parse_ok("{\"type\":2,\"data\":{\"name\":\"ai\",\"resolved\":\"x\"}}", &it);
    assert_null(it.resolved);
    assert_null(interaction_resolved(&it, "attachments", "5"));
    interaction_free(&it);
}

/* Message context menu: data.type 3, target_id, resolved.messages[target_id]. */
static void test_message_context_menu(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":2,\"guild_id\":\"3\",\"member\":{\"permissions\":\"0\",\"user\":{\"id\":\"7\","
             "\"username\":\"m\"}},\"data\":{\"id\":\"8\",\"name\":\"Summarize\",\"type\":3,"
             "\"target_id\":\"1900000000000000009\",\"resolved\":{\"messages\":{"
             "\"1900000000000000008\":{\"id\":\"1900000000000000008\",\"content\":\"other\"},"
             "\"1900000000000000009\":{\"id\":\"1900000000000000009\",\"channel_id\":\"4\","
             "\"content\":\"the snail is fast\",\"author\":{\"id\":\"6\",\"username\":\"a\"}}}}}}",
             &it);
    assert_string_equal(it.command_name, "Summarize");
    assert_int_equal(it.command_type, 3);
    assert_string_equal(it.target_id, "1900000000000000009");
    assert_null(it.options);
    const cJSON *msg = interaction_target_message(&it);
    assert_non_null(msg);
    assert_string_equal(json_string(msg, "id"), "1900000000000000009");
    assert_string_equal(json_string(msg, "content"), "the snail is fast");
    interaction_free(&it);

    /* target_id missing from resolved.messages. */
    parse_ok("{\"type\":2,\"data\":{\"name\":\"Summarize\",\"type\":3,\"target_id\":\"5\","
             "\"resolved\":{\"messages\":{\"6\":{\"id\":\"6\"}}}}}",
             &it);
    assert_null(interaction_target_message(&it));
    interaction_free(&it);

    /* A USER command (type 2) has a target, but it is not a message. */
    parse_ok("{\"type\":2,\"data\":{\"name\":\"Profile\",\"type\":2,\"target_id\":\"6\","
             "\"resolved\":{\"users\":{\"6\":{\"id\":\"6\",\"username\":\"t\"}},"
             "\"messages\":{\"6\":{\"id\":\"6\"}}}}}",
             &it);
    assert_int_equal(it.command_type, 2);
    assert_string_equal(it.target_id, "6");
    assert_null(interaction_target_message(&it));
    const cJSON *target_user = interaction_resolved(&it, "users", it.target_id);
    assert_non_null(target_user);
    assert_string_equal(json_string(target_user, "username"), "t");
    interaction_free(&it);
}

/* Autocomplete (type 4) carries command data too; a component (type 3) has no command. */
static void test_autocomplete_and_component(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":4,\"data\":{\"name\":\"ask\",\"type\":1,\"options\":[{\"name\":\"model\",\"type\":3,"
             "\"value\":\"gp\",\"focused\":true}]}}",
             &it);
    assert_int_equal(it.type, INTERACTION_AUTOCOMPLETE);
    assert_string_equal(it.command_name, "ask");
    const cJSON *model = interaction_option(&it, "model");
    assert_non_null(model);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "focused")));
    interaction_free(&it);

    parse_ok("{\"type\":3,\"data\":{\"custom_id\":\"again\",\"component_type\":2,\"name\":\"x\","
             "\"options\":[{\"name\":\"y\",\"type\":3,\"value\":\"z\"}]},"
             "\"message\":{\"id\":\"9\",\"content\":\"hi\"}}",
             &it);
    assert_int_equal(it.type, INTERACTION_MESSAGE_COMPONENT);
    assert_null(it.command_name);
    assert_null(it.options);
    assert_null(interaction_option(&it, "y"));
    assert_null(it.resolved);
    interaction_free(&it);
}

/* A press of a select menu: custom_id, component_type, the chosen values and the message the
 * menu is on; a command's fields stay empty. */
static void test_component_fields(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":3,\"id\":\"7\",\"guild_id\":\"1300000000000000003\",\"context\":0,"
             "\"member\":{\"user\":{\"id\":\"1500000000000000005\"},\"permissions\":\"0\"},"
             "\"data\":{\"custom_id\":\"dream:style:1500000000000000005\",\"component_type\":3,"
             "\"values\":[\"anime\",\"neon\"]},"
             "\"message\":{\"id\":\"9\",\"content\":\"**Prompt:** a cat\",\"components\":[]}}",
             &it);
    assert_int_equal(it.type, INTERACTION_MESSAGE_COMPONENT);
    assert_string_equal(it.custom_id, "dream:style:1500000000000000005");
    assert_int_equal(it.component_type, 3);
    assert_non_null(it.values);
    assert_int_equal(cJSON_GetArraySize(it.values), 2);
    assert_string_equal(cJSON_GetArrayItem(it.values, 1)->valuestring, "neon");
    assert_non_null(it.message);
    assert_string_equal(json_string(it.message, "content"), "**Prompt:** a cat");
    assert_null(it.command_name);
    assert_string_equal(it.user_id, "1500000000000000005");
    interaction_free(&it);

    /* A button: no values; values or message of the wrong JSON type are absent, not trusted. */
    parse_ok("{\"type\":3,\"data\":{\"custom_id\":\"forget:cancel:1\",\"component_type\":2,\"values\":\"x\"},"
             "\"message\":[1]}",
             &it);
    assert_string_equal(it.custom_id, "forget:cancel:1");
    assert_int_equal(it.component_type, 2);
    assert_null(it.values);
    assert_null(it.message);
    interaction_free(&it);

    /* custom_id not a string, component_type missing. */
    parse_ok("{\"type\":3,\"data\":{\"custom_id\":5}}", &it);
    assert_null(it.custom_id);
    assert_int_equal(it.component_type, 0);
    interaction_free(&it);

    /* An application command never gets component fields, even when its data holds them. */
    parse_ok("{\"type\":2,\"data\":{\"name\":\"ask\",\"custom_id\":\"a:b\",\"values\":[\"x\"]},"
             "\"message\":{\"content\":\"x\"}}",
             &it);
    assert_null(it.custom_id);
    assert_null(it.values);
    assert_null(it.message);
    interaction_free(&it);
}

/* authorizing_integration_owners: a guild install names "0"; a user install only "1". */
static void test_is_guild_install(void **state)
{
    (void)state;
    static const struct {
        const char *owners; /* the member's JSON text, or NULL for none */
        bool is_guild_install;
    } cases[] = {
        {NULL, true}, /* older payloads have no owners: as before, the server's */
        {"{\"0\":\"1300000000000000003\"}", true},
        {"{\"0\":\"1300000000000000003\",\"1\":\"1500000000000000005\"}", true},
        {"{\"0\":\"0\"}", true}, /* a guild install used in the bot's DM */
        {"{\"1\":\"1500000000000000005\"}", false},
        {"{}", false},
        {"[]", true}, /* not an object: as if absent */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"type\":2,\"guild_id\":\"1300000000000000003\"%s%s,\"data\":{\"name\":\"x\"}}",
                 cases[i].owners ? ",\"authorizing_integration_owners\":" : "", cases[i].owners ? cases[i].owners : "");
        struct interaction it;
        parse_ok(body, &it);
        if (it.is_guild_install != cases[i].is_guild_install)
            fail_msg("owners %s: is_guild_install %d", cases[i].owners ? cases[i].owners : "(none)",
                     it.is_guild_install);
        interaction_free(&it);
    }
}

/* The storage scope: the server when it installed Slimy; the user's own scope when only the user
 * did (in a server or a private channel); "dm:<channel>" in the DM with the bot. */
static void test_scope_id(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *scope;
    } cases[] = {
        /* A server that installed Slimy. */
        {"{\"type\":2,\"guild_id\":\"13\",\"channel_id\":\"14\",\"context\":0,"
         "\"authorizing_integration_owners\":{\"0\":\"13\",\"1\":\"15\"},"
         "\"member\":{\"user\":{\"id\":\"15\"}}}",
         "13"},
        /* No owners at all (older payloads): the server's. */
        {"{\"type\":2,\"guild_id\":\"13\",\"channel_id\":\"14\",\"member\":{\"user\":{\"id\":\"15\"}}}", "13"},
        /* A user-installed command in a server that never added Slimy: the user's scope. */
        {"{\"type\":2,\"guild_id\":\"13\",\"channel_id\":\"14\",\"context\":0,"
         "\"authorizing_integration_owners\":{\"1\":\"15\"},\"member\":{\"user\":{\"id\":\"15\"}}}",
         "user:15"},
        /* The DM with the bot, guild or user install alike. */
        {"{\"type\":2,\"channel_id\":\"14\",\"context\":1,\"authorizing_integration_owners\":{\"1\":\"15\"},"
         "\"user\":{\"id\":\"15\"}}",
         "dm:14"},
        {"{\"type\":2,\"channel_id\":\"14\",\"context\":1,\"authorizing_integration_owners\":{\"0\":\"0\"},"
         "\"user\":{\"id\":\"15\"}}",
         "dm:14"},
        /* A DM without a channel id: the user's id stands in for it. */
        {"{\"type\":2,\"context\":1,\"user\":{\"id\":\"15\"}}", "dm:15"},
        /* A group DM or a DM between users (context 2): the user's scope, never the channel's. */
        {"{\"type\":2,\"channel_id\":\"14\",\"context\":2,\"authorizing_integration_owners\":{\"1\":\"15\"},"
         "\"user\":{\"id\":\"15\"}}",
         "user:15"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct interaction it;
        parse_ok(cases[i].body, &it);
        char scope[INTERACTION_SCOPE_MAX];
        memset(scope, 'X', sizeof scope);
        interaction_scope_id(&it, scope);
        if (strcmp(scope, cases[i].scope) != 0)
            fail_msg("case %zu: scope \"%.*s\", expected \"%s\"", i, INTERACTION_SCOPE_MAX, scope, cases[i].scope);
        interaction_free(&it);
    }
}

static void test_ping(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"id\":\"1100000000000000001\",\"application_id\":\"1200000000000000002\",\"type\":1,"
             "\"token\":\"cGluZw\",\"version\":1}",
             &it);
    assert_int_equal(it.type, INTERACTION_PING);
    assert_string_equal(it.id, "1100000000000000001");
    assert_string_equal(it.token, "cGluZw");
    assert_null(it.command_name);
    assert_null(it.options);
    assert_null(it.guild_id);
    assert_null(it.channel_id);
    assert_false(it.has_member);
    assert_string_equal(it.user_id, "");
    assert_string_equal(it.user_name, "");
    assert_int_equal(it.context, -1);
    interaction_free(&it);

    /* The minimal PING: every absent string is "" (or NULL where documented). */
    parse_ok("{\"type\":1}", &it);
    assert_int_equal(it.type, INTERACTION_PING);
    assert_string_equal(it.id, "");
    assert_string_equal(it.application_id, "");
    assert_string_equal(it.token, "");
    assert_null(it.guild_id);
    assert_null(it.channel_id);
    interaction_free(&it);
}

/* channel_id falls back to channel.id. */
static void test_channel_from_channel_object(void **state)
{
    (void)state;
    struct interaction it;
    parse_ok("{\"type\":2,\"channel\":{\"id\":\"2000000000000000010\",\"type\":0,\"name\":\"general\"},"
             "\"data\":{\"name\":\"ask\"}}",
             &it);
    assert_non_null(it.channel_id);
    assert_string_equal(it.channel_id, "2000000000000000010");
    assert_int_equal(it.command_type, 1); /* data.type absent: chat input */
    interaction_free(&it);

    /* A channel object without an id leaves it NULL. */
    parse_ok("{\"type\":2,\"channel\":{\"type\":0}}", &it);
    assert_null(it.channel_id);
    interaction_free(&it);
}

/* ---- rejects ---- */

static void test_invalid_bodies(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                     /* empty body */
        "not json",                             /* not JSON */
        "[{\"type\":1}]",                       /* array */
        "[]",                                   /* array */
        "\"type\"",                             /* string */
        "1",                                    /* number */
        "null",                                 /* null */
        "{}",                                   /* no type */
        "{\"id\":\"1\",\"data\":{}}",           /* no type */
        "{\"type\":\"2\"}",                     /* type as a string */
        "{\"type\":1.5}",                       /* not an integer */
        "{\"type\":2.000001}",                  /* not an integer */
        "{\"type\":null}",                      /* null */
        "{\"type\":true}",                      /* boolean */
        "{\"type\":[1]}",                       /* array */
        "{\"type\":{}}",                        /* object */
        "{\"type\":1e300}",                     /* does not fit an int */
        "{\"type\":-1e300}",                    /* does not fit an int */
        "{\"type\":2147483648}",                /* INT_MAX + 1 */
        "{\"type\":-2147483649}",               /* INT_MIN - 1 */
        "{\"type\":1e-300}",                    /* not an integer */
        "{\"type\":2.5}",                       /* not an integer */
        "{\"type\":4294967298}",                /* 2^32+2 must not wrap to 2 */
        "{\"Type\":2}",                         /* keys are case-sensitive */
        "{\"type\":2,\"data\":{",               /* truncated */
        "{\"type\":2",                          /* truncated */
        "{\"type\":",                           /* truncated */
        "{",                                    /* truncated */
        "{\"type\":2,\"data\":{\"name\":\"a}}", /* unterminated string */
        "{\"type\":1}garbage",                  /* trailing bytes after the object */
        "{\"type\":1}{\"type\":2}",             /* two documents */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct interaction it;
        memset(&it, 0xA5, sizeof it); /* the parser must leave it empty, not half-filled */
        int rc = parse_exact(bad[i], &it);
        if (rc != SLIMY_EINVAL)
            fail_msg("\"%s\": got %d, expected SLIMY_EINVAL", bad[i], rc);
        assert_null(it.root);
        assert_null(it.command_name);
        assert_null(it.options);
        interaction_free(&it); /* harmless on an empty interaction */
    }
}

/* Whitespace after the object is part of valid JSON. */
static void test_trailing_whitespace_is_fine(void **state)
{
    (void)state;
    struct interaction it;
    assert_int_equal(interaction_parse("{\"type\":1} \r\n", 13, &it), SLIMY_OK);
    assert_int_equal(it.type, 1);
    interaction_free(&it);
}

/* The body need not be NUL-terminated: bytes past len are not part of it. */
static void test_body_not_nul_terminated(void **state)
{
    (void)state;
    static const char json[] = "{\"type\":2,\"id\":\"42\",\"data\":{\"name\":\"ask\",\"type\":1}}";
    static const char garbage[] = "}}]]\"garbage\xff\xfe";
    size_t len = sizeof json - 1;
    size_t total = len + sizeof garbage - 1;
    char *buffer = malloc(total); /* no terminator anywhere */
    assert_non_null(buffer);
    memcpy(buffer, json, len);
    memcpy(buffer + len, garbage, sizeof garbage - 1);

    struct interaction it;
    assert_int_equal(interaction_parse(buffer, len, &it), SLIMY_OK);
    assert_int_equal(it.type, 2);
    assert_string_equal(it.id, "42");
    assert_string_equal(it.command_name, "ask");
    free(buffer); /* the interaction does not borrow from the body */
    assert_string_equal(it.command_name, "ask");
    interaction_free(&it);

    /* A valid document cut short by len is truncated JSON. */
    buffer = malloc(len);
    assert_non_null(buffer);
    memcpy(buffer, json, len);
    for (size_t cut = 0; cut < len; cut++) {
        memset(&it, 0, sizeof it);
        if (interaction_parse(buffer, cut, &it) != SLIMY_EINVAL)
            fail_msg("the first %zu bytes parsed as an interaction", cut);
        assert_null(it.root);
    }
    free(buffer);
}

/* ---- permissions ---- */

static void test_parse_permissions(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t value;
    } good[] = {
        {"0", 0},
        {"8", 8},
        {"32", 32},
        {"2147483647", UINT64_C(2147483647)},
        {"2248473465835073", UINT64_C(2248473465835073)},
        {"4503599627370496", UINT64_C(1) << 52},
        {"9223372036854775808", UINT64_C(1) << 63},
        {"18446744073709551615", UINT64_MAX},
        {"00000000000000000032", 32}, /* 20 digits with leading zeros */
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t out = 12345;
        if (!interaction_parse_permissions(good[i].text, &out))
            fail_msg("\"%s\" rejected", good[i].text);
        if (out != good[i].value)
            fail_msg("\"%s\" parsed as %llu", good[i].text, (unsigned long long)out);
    }

    static const char *const bad[] = {
        "18446744073709551616", /* 2^64 */
        "99999999999999999999", /* 20 digits, too big */
        "184467440737095516150",
        "-1",
        "-0",
        "+1",
        "",
        " ",
        " 8",
        "8 ",
        "12a",
        "a12",
        "1<<3",
        "0x20",
        "1e3",
        "3.0",
        "1,000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t out = 0;
        if (interaction_parse_permissions(bad[i], &out))
            fail_msg("\"%s\" accepted as %llu", bad[i], (unsigned long long)out);
    }
    uint64_t out = 0;
    assert_false(interaction_parse_permissions(NULL, &out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guild_command),
        cmocka_unit_test(test_dm_command),
        cmocka_unit_test(test_display_name_fallbacks),
        cmocka_unit_test(test_member_user_and_permissions),
        cmocka_unit_test(test_subcommand),
        cmocka_unit_test(test_subcommand_group),
        cmocka_unit_test(test_resolved_attachment),
        cmocka_unit_test(test_message_context_menu),
        cmocka_unit_test(test_autocomplete_and_component),
        cmocka_unit_test(test_component_fields),
        cmocka_unit_test(test_is_guild_install),
        cmocka_unit_test(test_scope_id),
        cmocka_unit_test(test_ping),
        cmocka_unit_test(test_channel_from_channel_object),
        cmocka_unit_test(test_invalid_bodies),
        cmocka_unit_test(test_trailing_whitespace_is_fine),
        cmocka_unit_test(test_body_not_nul_terminated),
        cmocka_unit_test(test_parse_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
