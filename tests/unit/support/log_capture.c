/* log_capture.c — a test program's log captured in a temporary directory; see log_capture.h. */
#include "log_capture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "core/status.h"

#define MAX_SECRETS 8

static char log_dir[64];

int log_capture_setup(void **state)
{
    (void)state;
    snprintf(log_dir, sizeof log_dir, "/tmp/slimy-test-log.XXXXXX");
    if (!mkdtemp(log_dir))
        return -1;
    return log_open(LOG_DEBUG, log_dir) == SLIMY_OK ? 0 : -1;
}

int log_capture_teardown(void **state)
{
    (void)state;
    log_close();
    char path[128];
    snprintf(path, sizeof path, "%s/combined.log", log_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/error.log", log_dir);
    unlink(path);
    rmdir(log_dir);
    return 0;
}

void log_capture_assert_absent(const char *secret, ...)
{
    const char *secrets[MAX_SECRETS];
    size_t n = 0;
    va_list ap;
    va_start(ap, secret);
    for (const char *s = secret; s; s = va_arg(ap, const char *)) {
        assert_true(n < MAX_SECRETS);
        secrets[n++] = s;
    }
    va_end(ap);

    char path[128];
    snprintf(path, sizeof path, "%s/combined.log", log_dir);
    FILE *file = fopen(path, "r");
    assert_non_null(file);
    char line[4096];
    int lines = 0;
    while (fgets(line, sizeof line, file)) {
        lines++;
        for (size_t i = 0; i < n; i++)
            assert_null(strstr(line, secrets[i]));
    }
    fclose(file);
    assert_true(lines > 0);
}
