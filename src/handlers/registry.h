/* registry.h — every command Slimy offers, in one sorted array (registry.c).
 * `slimy commands` prints their registration JSON; the dispatcher looks them up here. */
#ifndef SLIMY_HANDLERS_REGISTRY_H
#define SLIMY_HANDLERS_REGISTRY_H

#include <stddef.h>

#include "interactions/command.h"

extern const struct command *const registry_commands[];
extern const size_t registry_count;

/* One per file in src/handlers/. */
extern const struct command analyze_snail_stats_command;
extern const struct command ask_slimy_command;
extern const struct command chat_command;
extern const struct command consent_command;
extern const struct command diag_command;
extern const struct command dream_command;
extern const struct command export_command;
extern const struct command forget_command;
extern const struct command leaderboard_command;
extern const struct command mode_command;
extern const struct command personality_command;
extern const struct command remember_command;
extern const struct command snail_command;
extern const struct command stats_command;

#endif
