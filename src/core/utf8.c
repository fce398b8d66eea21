/* utf8.c — UTF-8 cutting and checking; see utf8.h. */
#include "core/utf8.h"

#include <string.h>

static bool is_continuation(unsigned char c)
{
    return (c & 0xC0) == 0x80;
}

size_t utf8_count_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += !is_continuation((unsigned char)s[i]);
    return n;
}

size_t utf8_prefix_chars(const char *s, size_t len, size_t max_chars)
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

size_t utf8_prefix_bytes(const char *s, size_t len, size_t max_bytes)
{
    if (len <= max_bytes)
        return len;
    size_t cut = max_bytes;
    /* s[cut] is the first byte left out: back up while it continues the character before it. */
    while (cut > 0 && is_continuation((unsigned char)s[cut]))
        cut--;
    return cut;
}

/* Length of the well-formed sequence starting at s[i] (1-4), or 0 when it is malformed. */
static size_t sequence_len(const unsigned char *s, size_t len, size_t i)
{
    unsigned char c = s[i];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* the allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (i + n > len || s[i + 1] < lo || s[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (!is_continuation(s[i + k]))
            return 0;
    return n;
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t n = sequence_len(u, len, i);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t utf8_copy_clean(char *out, size_t cap, const char *src, size_t len)
{
    if (cap == 0)
        return 0;
    const unsigned char *u = (const unsigned char *)src;
    size_t used = 0;
    for (size_t i = 0; i < len;) {
        size_t n = sequence_len(u, len, i);
        const char *piece = n ? src + i : "?";
        size_t piece_len = n ? n : 1;
        if (used + piece_len > cap - 1)
            break;
        memcpy(out + used, piece, piece_len);
        used += piece_len;
        i += n ? n : 1;
    }
    out[used] = '\0';
    return used;
}
