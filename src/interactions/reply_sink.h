/* reply_sink.h — where the dispatcher sends a deferred command's reply. In production that is
 * Discord's webhook (reply_sink_discord()); a test puts a recorder here to see exactly what a
 * handler answered, without a network. */
#ifndef SLIMY_INTERACTIONS_REPLY_SINK_H
#define SLIMY_INTERACTIONS_REPLY_SINK_H

#include "interactions/discord_rest.h"
#include "interactions/message.h"

struct reply_sink {
    /* Takes over *msg's contents (leaving it empty) and delivers them to `where`. done(result,
     * arg) runs exactly once, on any thread, when the delivery ends, unless this returns an
     * error. The discord_reply_deliver() contract. */
    int (*deliver)(void *self, const struct discord_delivery *where, struct message *msg, discord_delivered_fn done,
                   void *arg);
    void *self;
};

/* A sink delivering through rest (borrowed; it must outlive the sink's users). */
struct reply_sink reply_sink_discord(struct discord_rest *rest);

#endif
