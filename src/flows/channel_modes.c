/* channel_modes.c — effective modes from the interaction's channel data; see channel_modes.h. */
#include "flows/channel_modes.h"

#include "modes/modes.h"
#include "store/store.h"

int channel_modes_effective(const struct cmd_ctx *ctx, unsigned *modes)
{
    *modes = 0;
    const char *guild_id = ctx->interaction->guild_id;
    struct cmd_channel here;
    if (!guild_id || !cmd_here_channel(ctx, &here))
        return SLIMY_OK;
    struct store *st = ctx->services->store;
    bool is_thread = channel_type_is_thread(here.type);
    unsigned own = 0, inherited = 0;
    int rc = store_mode_get(st, guild_id, is_thread ? TARGET_THREAD : TARGET_CHANNEL, here.id, &own);
    if (!rc && *here.parent_id)
        rc = store_mode_get(st, guild_id, is_thread ? TARGET_CHANNEL : TARGET_CATEGORY, here.parent_id, &inherited);
    if (!rc)
        *modes = modes_effective(own, inherited, 0);
    return rc;
}
