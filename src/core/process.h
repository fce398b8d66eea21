/* process.h — facts about this process for /health and /diag. Thread-safe. */
#ifndef SLIMY_CORE_PROCESS_H
#define SLIMY_CORE_PROCESS_H

#include <stdint.h>

/* Resident set size in bytes from /proc/self/statm; 0 if unavailable. */
uint64_t process_rss_bytes(void);

/* Raises this process's soft limit on open descriptors to its hard limit: a server needs one per
 * connection, inbound and outbound, and the soft default of 1024 is meant for a shell. Returns
 * the soft limit in force afterwards (0 if unknown). Call once at start, before any thread. */
uint64_t process_raise_fd_limit(void);

/* Formats a duration as "1d 2h 3m 4s" into out. */
void process_format_uptime(uint64_t seconds, char *out, unsigned long cap);

#endif
