/* reply_sink.c — the production reply sink: Discord's webhook through discord_rest.h. */
#include "interactions/reply_sink.h"

static int deliver_to_discord(void *self, const struct discord_delivery *where, struct message *msg,
                              discord_delivered_fn done, void *arg)
{
    return discord_reply_deliver(self, where, msg, done, arg);
}

struct reply_sink reply_sink_discord(struct discord_rest *rest)
{
    return (struct reply_sink){.deliver = deliver_to_discord, .self = rest};
}
