/* split.c — message splitting by code points; see split.h. */
#include "interactions/split.h"

static int is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t split_count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += !is_continuation((unsigned char)s[i]);
    return n;
}

size_t split_prefix_len(const char *s, size_t len, size_t max_chars)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_continuation((unsigned char)s[i])) {
            if (chars == max_chars)
                return i;
            chars++;
        }
    }
    return len;
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
