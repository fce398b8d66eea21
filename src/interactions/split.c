/* split.c — message splitting by code points; see split.h. */
#include "interactions/split.h"

#include "core/utf8.h"

size_t split_count_chars(const char *s, size_t len)
{
    return utf8_count_chars(s, len);
}

size_t split_prefix_len(const char *s, size_t len, size_t max_chars)
{
    return utf8_prefix_chars(s, len, max_chars);
}

size_t split_chunk_len(const char *s, size_t len, size_t max_chars)
{
    size_t cut = split_prefix_len(s, len, max_chars);
    if (cut == len || cut == 0)
        return cut;
    /* Prefer a natural break in the second half so chunks stay reasonably full. */
    size_t floor = cut / 2;
    for (size_t i = cut; i > floor; i--)
        if (s[i - 1] == '\n')
            return i;
    for (size_t i = cut; i > floor; i--)
        if (s[i - 1] == ' ')
            return i;
    return cut;
}
