/* text_file.c — whole files for tests; see text_file.h. */
#include "text_file.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

char *text_file_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    char *text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    return text;
}

bool text_file_write_temp(char *path_template, const char *text)
{
    int fd = mkstemp(path_template);
    if (fd < 0)
        return false;
    size_t len = strlen(text);
    bool written = write(fd, text, len) == (ssize_t)len;
    return close(fd) == 0 && written;
}
