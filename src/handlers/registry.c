/* registry.c — the list of commands.
 *
 * How to add a command:
 *   1. write src/handlers/<name>.c defining `const struct command <name>_command` (definition
 *      first, then the handler; see remember.c for a short one and snail.c for subcommands);
 *   2. add `X(<name>)` to COMMANDS below, keeping the list sorted by command name;
 *   3. run `slimy commands` to see the JSON and `slimy register` to publish it.
 * tests/unit/handlers/test_registry.c checks this list against the files and Discord's limits. */
#include "handlers/registry.h"

#define COMMANDS(X)        \
    X(analyze_snail_stats) \
    X(ask_slimy)           \
    X(chat)                \
    X(consent)             \
    X(diag)                \
    X(dream)               \
    X(export)              \
    X(forget)              \
    X(leaderboard)         \
    X(mode)                \
    X(personality)         \
    X(remember)            \
    X(snail)               \
    X(stats)

#define DECLARE(name) extern const struct command name##_command;
COMMANDS(DECLARE)

#define ENTRY(name) &name##_command,
const struct command *const registry_commands[] = {COMMANDS(ENTRY)};

const size_t registry_count = ARRAY_LEN(registry_commands);
