/* channel_modes.h — the effective modes of the channel an interaction came from: its own
 * record OR its parent's (a channel's category, a thread's channel), read from the store.
 * Used by /chat and /dream. Blocking (store calls): worker threads only. */
#ifndef SLIMY_FLOWS_CHANNEL_MODES_H
#define SLIMY_FLOWS_CHANNEL_MODES_H

#include "interactions/command.h"

/* Writes the effective enum mode_flag bits into *modes; 0 in DMs. Store failures are
 * returned as they come (SLIMY_EUNAVAILABLE...). */
int channel_modes_effective(const struct cmd_ctx *ctx, unsigned *modes);

#endif
