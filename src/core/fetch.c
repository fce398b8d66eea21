/* fetch.c — one curl multi loop with a timer heap; see fetch.h.
 * Other threads only touch the timer heap (under the mutex) and wake the loop with
 * curl_multi_wakeup(); everything curl happens on the engine thread. */
#include "core/fetch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/status.h"

#include <sodium.h>

#define POLL_MAX_MS 1000
#define BACKOFF_START_MS 500
#define BACKOFF_MAX_MS 8000
#define FETCH_HOST_CONNECTIONS_MIN 16L
#define FETCH_HOST_CONNECTIONS_MAX 512L

struct timer {
    uint64_t due_mono_ms;
    uint64_t seq; /* FIFO order among timers due at the same millisecond */
    fetch_timer_fn fn;
    fetch_timer_fn drop; /* NULL, or releases arg when the engine stops first */
    void *arg;
};

struct transfer {
    fetch_done_fn done;
    void *arg;
};

struct fetch {
    CURLM *multi;
    pthread_t thread;
    pthread_mutex_t lock; /* guards the heap fields and stopping */
    struct timer *heap;   /* binary min-heap by (due, seq) */
    size_t n_timers, cap_timers;
    uint64_t next_seq;
    bool stopping;
    bool joined; /* the engine thread has exited */
    atomic_size_t n_transfers;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_global(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool timer_before(const struct timer *a, const struct timer *b)
{
    return a->due_mono_ms < b->due_mono_ms || (a->due_mono_ms == b->due_mono_ms && a->seq < b->seq);
}

static void heap_swap(struct timer *h, size_t i, size_t j)
{
    struct timer t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void heap_push(struct fetch *f, struct timer t)
{
    size_t i = f->n_timers++;
    f->heap[i] = t;
    while (i > 0 && timer_before(&f->heap[i], &f->heap[(i - 1) / 2])) {
        heap_swap(f->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct timer heap_pop(struct fetch *f)
{
    struct timer top = f->heap[0];
    f->heap[0] = f->heap[--f->n_timers];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < f->n_timers && timer_before(&f->heap[l], &f->heap[m]))
            m = l;
        if (r < f->n_timers && timer_before(&f->heap[r], &f->heap[m]))
            m = r;
        if (m == i)
            break;
        heap_swap(f->heap, i, m);
        i = m;
    }
    return top;
}

int fetch_at(struct fetch *f, uint64_t due_mono_ms, fetch_timer_fn fn, void *arg)
{
    return fetch_at_owned(f, due_mono_ms, fn, NULL, arg);
}

int fetch_at_owned(struct fetch *f, uint64_t due_mono_ms, fetch_timer_fn fn, fetch_timer_fn drop, void *arg)
{
    pthread_mutex_lock(&f->lock);
    if (f->stopping) {
        pthread_mutex_unlock(&f->lock);
        return SLIMY_EUNAVAILABLE;
    }
    if (f->n_timers == f->cap_timers) {
        size_t cap = f->cap_timers ? f->cap_timers * 2 : 64;
        struct timer *h = realloc(f->heap, cap * sizeof *h);
        if (!h) {
            pthread_mutex_unlock(&f->lock);
            return SLIMY_ENOMEM;
        }
        f->heap = h;
        f->cap_timers = cap;
    }
    heap_push(f, (struct timer){.due_mono_ms = due_mono_ms, .seq = f->next_seq++, .fn = fn, .drop = drop, .arg = arg});
    pthread_mutex_unlock(&f->lock);
    curl_multi_wakeup(f->multi);
    return SLIMY_OK;
}

int fetch_add(struct fetch *f, CURL *easy, fetch_done_fn done, void *arg)
{
    struct transfer *t = malloc(sizeof *t);
    if (!t)
        return SLIMY_ENOMEM;
    t->done = done;
    t->arg = arg;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    if (curl_multi_add_handle(f->multi, easy) != CURLM_OK) {
        free(t);
        return SLIMY_EINTERNAL;
    }
    atomic_fetch_add(&f->n_transfers, 1);
    return SLIMY_OK;
}

size_t fetch_pending(struct fetch *f)
{
    pthread_mutex_lock(&f->lock);
    size_t n = f->n_timers;
    pthread_mutex_unlock(&f->lock);
    return n + atomic_load(&f->n_transfers);
}

/* Runs every timer that is due; returns ms until the next one (capped). */
static long run_due_timers(struct fetch *f)
{
    for (;;) {
        pthread_mutex_lock(&f->lock);
        if (f->stopping || f->n_timers == 0) {
            pthread_mutex_unlock(&f->lock);
            return POLL_MAX_MS;
        }
        uint64_t now = clock_mono_ms();
        if (f->heap[0].due_mono_ms > now) {
            uint64_t wait = f->heap[0].due_mono_ms - now;
            pthread_mutex_unlock(&f->lock);
            return wait < POLL_MAX_MS ? (long)wait : POLL_MAX_MS;
        }
        struct timer t = heap_pop(f);
        pthread_mutex_unlock(&f->lock);
        t.fn(t.arg);
    }
}

static void finish_transfers(struct fetch *f)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(f->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        struct transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(f->multi, easy);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        atomic_fetch_sub(&f->n_transfers, 1);
        if (t) {
            fetch_done_fn done = t->done;
            void *arg = t->arg;
            free(t);
            done(easy, result, arg);
        }
    }
}

static void *engine_main(void *arg)
{
    struct fetch *f = arg;
    for (;;) {
        long timeout_ms = run_due_timers(f);
        int running = 0;
        curl_multi_perform(f->multi, &running);
        finish_transfers(f);
        pthread_mutex_lock(&f->lock);
        bool stop = f->stopping;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            break;
        long curl_timeout = -1;
        curl_multi_timeout(f->multi, &curl_timeout);
        if (curl_timeout >= 0 && curl_timeout < timeout_ms)
            timeout_ms = curl_timeout;
        if (timeout_ms > 0)
            curl_multi_poll(f->multi, NULL, 0, (int)timeout_ms, NULL);
    }
    return NULL;
}

void fetch_global_init(void)
{
    pthread_once(&curl_once, curl_global);
}

/* Connections to one host at once: an eighth of the descriptor limit, so inbound connections
 * keep the rest, between FETCH_HOST_CONNECTIONS_MIN and _MAX. */
static long host_connection_cap(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return FETCH_HOST_CONNECTIONS_MIN;
    rlim_t eighth = rl.rlim_cur == RLIM_INFINITY ? FETCH_HOST_CONNECTIONS_MAX : rl.rlim_cur / 8;
    if (eighth < FETCH_HOST_CONNECTIONS_MIN)
        return FETCH_HOST_CONNECTIONS_MIN;
    return eighth > FETCH_HOST_CONNECTIONS_MAX ? FETCH_HOST_CONNECTIONS_MAX : (long)eighth;
}

int fetch_start(struct fetch **out)
{
    fetch_global_init();
    struct fetch *f = calloc(1, sizeof *f);
    if (!f)
        return SLIMY_ENOMEM;
    f->multi = curl_multi_init();
    if (!f->multi) {
        free(f);
        return SLIMY_ENOMEM;
    }
    /* Discord webhooks all go to one host, and so does every OpenAI call: a thousand slow
     * answers over HTTP/1.1 must not queue behind a few dozen connections (HTTP/2 servers
     * multiplex anyway). A few stay warm between bursts. */
    curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS, host_connection_cap());
    curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, 64L);
    pthread_mutex_init(&f->lock, NULL);
    if (pthread_create(&f->thread, NULL, engine_main, f) != 0) {
        curl_multi_cleanup(f->multi);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return SLIMY_EUNAVAILABLE;
    }
    *out = f;
    return SLIMY_OK;
}

void fetch_stop(struct fetch *f)
{
    if (!f || f->joined)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = true;
    pthread_mutex_unlock(&f->lock);
    curl_multi_wakeup(f->multi);
    pthread_join(f->thread, NULL);
    f->joined = true;
    if (atomic_load(&f->n_transfers) || f->n_timers)
        log_warn("outbound engine stopped with work pending", LOG_I("transfers", atomic_load(&f->n_transfers)),
                 LOG_I("timers", f->n_timers));
    /* The engine thread is gone: no timer runs any more, and the owned ones let go of their args. */
    for (size_t i = 0; i < f->n_timers; i++)
        if (f->heap[i].drop)
            f->heap[i].drop(f->heap[i].arg);
    f->n_timers = 0;
}

void fetch_free(struct fetch *f)
{
    if (!f)
        return;
    fetch_stop(f);
    /* Transfers still attached are abandoned: their owners were told by the drain. */
    curl_multi_cleanup(f->multi);
    pthread_mutex_destroy(&f->lock);
    free(f->heap);
    free(f);
}

uint64_t fetch_backoff_ms(unsigned retry)
{
    uint64_t ms = BACKOFF_START_MS;
    for (unsigned i = 0; i < retry && ms < BACKOFF_MAX_MS; i++)
        ms *= 2;
    if (ms > BACKOFF_MAX_MS)
        ms = BACKOFF_MAX_MS;
    return ms + randombytes_uniform((uint32_t)(ms / 4 + 1));
}
