/* registry.h — every command Slimy offers, in one sorted array (registry.c, which says how to
 * add one). Each handler file includes this header for the command API.
 * `slimy commands` prints their registration JSON; the dispatcher looks them up here. */
#ifndef SLIMY_HANDLERS_REGISTRY_H
#define SLIMY_HANDLERS_REGISTRY_H

#include <stddef.h>

#include "interactions/command.h"

extern const struct command *const registry_commands[];
extern const size_t registry_count;

#endif
