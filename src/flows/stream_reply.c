/* stream_reply.c — an answer shown while it is being written; see stream_reply.h. Four events
 * move one small state machine under its lock: text arrived, an edit ended, a timer fired, the
 * call ended. Each asks next_action() what the time calls for, then acts with the lock released
 * (an edit's done may run inside cmd_edit_original() itself). */
#include "flows/stream_reply.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/fetch.h"
#include "core/log.h"

struct stream_reply {
    pthread_mutex_t lock;
    unsigned refs; /* one for the call until done has run, one per timer scheduled */
    struct cmd_ctx *ctx;
    struct fetch *engine;
    stream_render_fn render;
    stream_reply_done_fn done;
    uint64_t interval_ms;
    struct buf text;          /* the answer so far */
    size_t shown;             /* bytes of it the last edit showed */
    uint64_t first_text_ms;   /* when text first came; 0 = none yet */
    uint64_t edit_ended_ms;   /* when the last edit ended; 0 = none yet */
    bool has_sentence;        /* the text holds a whole sentence: the first edit need not wait */
    bool is_editing;          /* an edit is in flight */
    uint64_t timer_due_ms;    /* the earliest timer scheduled and not yet run; 0 = none */
    bool is_edits_off;        /* an edit failed, or could not be rendered: no more interim edits */
    bool is_done;             /* done has been called: the run is no longer ours to touch */
    struct ai_result *result; /* the call's, once it ended, until handed to done */
};

enum action {
    ACT_NONE,
    ACT_EDIT,   /* send todo.edit */
    ACT_FINISH, /* hand todo.result to done */
};

struct todo {
    enum action action;
    struct message edit;
    struct ai_result *result;
};

static void on_timer(void *arg);
static void on_timer_dropped(void *arg);

static void destroy(struct stream_reply *s)
{
    buf_cleanup(&s->text);
    ai_result_free(s->result);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void release(struct stream_reply *s)
{
    pthread_mutex_lock(&s->lock);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->lock);
    if (last)
        destroy(s);
}

/* When the next step is due: the final one once the call ended, else the next edit (0 = none). */
static uint64_t due_at(const struct stream_reply *s, uint64_t now)
{
    if (s->result) {
        uint64_t due = s->edit_ended_ms ? s->edit_ended_ms + s->interval_ms : now;
        return due > s->ctx->deadline_mono_ms ? now : due; /* never hold the answer past the deadline */
    }
    if (s->is_edits_off || s->text.len == s->shown)
        return 0;
    if (s->edit_ended_ms)
        return s->edit_ended_ms + s->interval_ms;
    return s->has_sentence ? now : s->first_text_ms + STREAM_FIRST_EDIT_MS;
}

/* With the lock held: what the time calls for. A step not yet due gets a timer. */
static void next_action(struct stream_reply *s, struct todo *todo)
{
    todo->action = ACT_NONE;
    if (s->is_done || s->is_editing)
        return;
    uint64_t now = clock_mono_ms();
    uint64_t due = due_at(s, now);
    if (!due)
        return;
    if (due > now) {
        if (s->timer_due_ms && s->timer_due_ms <= due)
            return; /* a timer will look again in time */
        if (fetch_at_owned(s->engine, due, on_timer, on_timer_dropped, s) == SLIMY_OK) {
            s->timer_due_ms = due;
            s->refs++;
            return;
        }
        s->is_edits_off = true; /* the engine is stopping: no more waiting on it */
        if (!s->result)
            return;
    }
    if (s->result) {
        todo->action = ACT_FINISH;
        todo->result = s->result;
        s->result = NULL;
        s->is_done = true;
        return;
    }
    message_init(&todo->edit);
    if (s->render(s->ctx, s->text.data, s->text.len, &todo->edit) != SLIMY_OK) {
        message_cleanup(&todo->edit);
        s->is_edits_off = true;
        return;
    }
    todo->action = ACT_EDIT;
    s->shown = s->text.len;
    s->is_editing = true;
}

static void on_edited(const struct discord_delivery_result *result, void *arg);

/* Acts on todo, without the lock. */
static void perform(struct stream_reply *s, struct todo *todo)
{
    if (todo->action == ACT_FINISH) {
        s->done(s->ctx, todo->result);
        release(s);
        return;
    }
    if (todo->action != ACT_EDIT)
        return;
    int rc = cmd_edit_original(s->ctx, &todo->edit, on_edited, s);
    message_cleanup(&todo->edit);
    if (!rc)
        return;
    log_warn("a streamed reply could not be edited", LOG_S("interaction_id", s->ctx->interaction->id),
             LOG_S("status", slimy_strerror(rc)));
    pthread_mutex_lock(&s->lock);
    s->is_editing = false;
    s->is_edits_off = true;
    next_action(s, todo);
    pthread_mutex_unlock(&s->lock);
    perform(s, todo); /* at most a finish now: edits are off */
}

static void on_edited(const struct discord_delivery_result *result, void *arg)
{
    struct stream_reply *s = arg;
    struct todo todo;
    pthread_mutex_lock(&s->lock);
    s->is_editing = false;
    s->edit_ended_ms = clock_mono_ms();
    if (result->status != SLIMY_OK)
        s->is_edits_off = true; /* Discord refused it or it never got through: leave it to the final reply */
    next_action(s, &todo);
    pthread_mutex_unlock(&s->lock);
    perform(s, &todo);
}

/* The engine stopped before the timer came due (a shutdown): its reference goes. A timer can
 * outlive done when the stream ends before it is due. */
static void on_timer_dropped(void *arg)
{
    release(arg);
}

static void on_timer(void *arg)
{
    struct stream_reply *s = arg;
    struct todo todo;
    pthread_mutex_lock(&s->lock);
    if (s->timer_due_ms <= clock_mono_ms())
        s->timer_due_ms = 0; /* timers run in order: this was the earliest */
    s->refs--;               /* the timer's own; the call's keeps s alive until done */
    next_action(s, &todo);
    bool is_orphan = s->refs == 0; /* done ran before this timer came due */
    pthread_mutex_unlock(&s->lock);
    if (is_orphan)
        destroy(s);
    else
        perform(s, &todo);
}

static void on_text(const char *text, size_t len, void *arg)
{
    struct stream_reply *s = arg;
    struct todo todo = {.action = ACT_NONE};
    pthread_mutex_lock(&s->lock);
    if (!s->first_text_ms)
        s->first_text_ms = clock_mono_ms();
    size_t had = s->text.len;
    if (len > had && buf_append(&s->text, text + had, len - had) == SLIMY_OK) {
        for (size_t i = had; i < len && !s->has_sentence; i++)
            s->has_sentence = text[i] == '.' || text[i] == '!' || text[i] == '?' || text[i] == '\n';
        next_action(s, &todo);
    }
    pthread_mutex_unlock(&s->lock);
    perform(s, &todo);
}

static void on_call_done(struct ai_result *result, void *arg)
{
    struct stream_reply *s = arg;
    struct todo todo;
    pthread_mutex_lock(&s->lock);
    s->result = result;
    next_action(s, &todo);
    pthread_mutex_unlock(&s->lock);
    perform(s, &todo);
}

enum slimy_status stream_reply_start(struct cmd_ctx *ctx, const struct ai_chat_request *req, stream_render_fn render,
                                     stream_reply_done_fn done)
{
    struct stream_reply *s = calloc(1, sizeof *s);
    if (!s)
        return SLIMY_ENOMEM;
    pthread_mutex_init(&s->lock, NULL);
    s->refs = 1;
    s->ctx = ctx;
    s->engine = ctx->services->engine;
    s->render = render;
    s->done = done;
    s->interval_ms = ctx->services->config->stream_interval_ms;
    buf_init(&s->text, MESSAGE_TEXT_MAX_BYTES);
    int rc = ai_chat_stream_start(ctx->services->ai, req, on_text, on_call_done, s);
    if (rc)
        release(s);
    return (enum slimy_status)rc;
}
