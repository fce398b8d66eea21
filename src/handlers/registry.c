/* registry.c — the list of commands.
 *
 * How to add a command:
 *   1. write src/handlers/<name>.c defining `const struct command <name>_command` (definition
 *      first, then the handler; see remember.c for a short one and snail.c for subcommands);
 *   2. declare it in registry.h and add `&<name>_command,` below, keeping the list sorted;
 *   3. run `slimy commands` to see the JSON and `slimy register` to publish it.
 * tests/unit/handlers/test_registry.c checks this list against the files and Discord's limits. */
#include "handlers/registry.h"

const struct command *const registry_commands[] = {
    &analyze_snail_stats_command,
    &ask_slimy_command,
    &chat_command,
    &consent_command,
    &diag_command,
    &dream_command,
    &export_command,
    &forget_command,
    &leaderboard_command,
    &mode_command,
    &personality_command,
    &remember_command,
    &snail_command,
    &stats_command,
};

const size_t registry_count = ARRAY_LEN(registry_commands);
