/* channel_modes.c — effective modes from the interaction's channel data; see channel_modes.h. */
#include "modes/channel_modes.h"

#include "modes/modes.h"

int channel_modes_effective(struct store *st, const struct interaction *it, unsigned *modes)
{
    *modes = 0;
    if (!it->guild_id || !it->channel_id || !st)
        return SLIMY_OK;
    const cJSON *channel = cJSON_GetObjectItemCaseSensitive(it->root, "channel");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(channel, "type");
    const cJSON *parent = cJSON_GetObjectItemCaseSensitive(channel, "parent_id");
    int t = cJSON_IsNumber(type) ? type->valueint : 0;
    bool is_thread = t == 10 || t == 11 || t == 12;
    unsigned own = 0, inherited = 0;
    int rc = store_mode_get(st, it->guild_id, is_thread ? TARGET_THREAD : TARGET_CHANNEL, it->channel_id, &own);
    if (!rc && cJSON_IsString(parent))
        rc = store_mode_get(st, it->guild_id, is_thread ? TARGET_CHANNEL : TARGET_CATEGORY, parent->valuestring,
                            &inherited);
    if (!rc)
        *modes = modes_effective(own, inherited, 0);
    return rc;
}
