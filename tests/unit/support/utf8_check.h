/* utf8_check.h — an independent, strict UTF-8 decoder for tests that check text the code under
 * test cut or built (split.c, response.c, embed.c): it shares no code with them, so a bug there
 * cannot hide itself here. Header-only; include from one test file each. */
#ifndef SLIMY_TESTS_UTF8_CHECK_H
#define SLIMY_TESTS_UTF8_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* Strict UTF-8 decoder (RFC 3629): the number of code points in s[0..len), or SIZE_MAX if it is
 * not well-formed (bad lead byte, truncated sequence, overlong form, surrogate, > U+10FFFF). */
static inline size_t utf8_code_points(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        unsigned char c = p[i];
        size_t extra;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            extra = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return SIZE_MAX;
        }
        if (len - i <= extra)
            return SIZE_MAX;
        for (size_t k = 1; k <= extra; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return SIZE_MAX;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return SIZE_MAX;
        i += extra + 1;
    }
    return n;
}

#endif
