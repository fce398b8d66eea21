/* discord_register.h — publishing Slimy's commands to Discord (`slimy register`): one blocking
 * bulk overwrite authorised by the bot token. It runs without the outbound engine, on the shared
 * request setup and response collector (core/fetch_http.h). The token is never logged or
 * written into err. */
#ifndef SLIMY_INTERACTIONS_DISCORD_REGISTER_H
#define SLIMY_INTERACTIONS_DISCORD_REGISTER_H

#include <stddef.h>

#include "core/config.h"

/* Blocking bulk overwrite of the application's commands with commands_json (a JSON array):
 * PUT {api}/applications/{app}/commands, or .../guilds/{guild}/commands when guild_id is set.
 * On success returns SLIMY_OK and the number of commands Discord echoed in *n_registered.
 * On failure writes one line for the operator in err (401 → the token, 429 → when to retry,
 * other 4xx → Discord's message and code). */
int discord_commands_register(const struct slimy_config *cfg, const char *guild_id, const char *commands_json,
                              size_t *n_registered, char *err, size_t err_len);

#endif
