/* process.c — RSS and uptime formatting; see process.h. */
#include "core/process.h"

#include <stdio.h>
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

void process_format_uptime(uint64_t seconds, char *out, unsigned long cap)
{
    snprintf(out, cap, "%llud %lluh %llum %llus", (unsigned long long)(seconds / 86400),
             (unsigned long long)(seconds % 86400 / 3600), (unsigned long long)(seconds % 3600 / 60),
             (unsigned long long)(seconds % 60));
}
