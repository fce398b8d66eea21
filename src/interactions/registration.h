/* registration.h — the JSON Discord's bulk-overwrite endpoint takes, generated from the
 * command definitions themselves (there is no second list to keep in sync). Pure. */
#ifndef SLIMY_INTERACTIONS_REGISTRATION_H
#define SLIMY_INTERACTIONS_REGISTRATION_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "interactions/command.h"

/* Returns a new JSON array of application command objects, or NULL when out of memory. */
cJSON *registration_json(const struct command *const *commands, size_t n_commands);

#endif
