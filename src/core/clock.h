/* clock.h — the two clocks Slimy uses, in milliseconds.
 * Wall time for anything compared with Discord's timestamps; monotonic time for
 * timeouts and retry timers, which must not jump when the wall clock is set. */
#ifndef SLIMY_CORE_CLOCK_H
#define SLIMY_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
