/* process.c — RSS and uptime formatting; see process.h. */
#include "core/process.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

uint64_t process_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    if (n != 2)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    return (uint64_t)resident * (uint64_t)(page > 0 ? page : 4096);
}

uint64_t process_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit raised = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}

void process_format_uptime(uint64_t seconds, char *out, unsigned long cap)
{
    snprintf(out, cap, "%llud %lluh %llum %llus", (unsigned long long)(seconds / 86400),
             (unsigned long long)(seconds % 86400 / 3600), (unsigned long long)(seconds % 3600 / 60),
             (unsigned long long)(seconds % 60));
}
