/* utf8.h — cutting and checking UTF-8 text without breaking characters. Discord refuses a message
 * whose text is not valid UTF-8, so every place that shortens text (an echoed id, an upstream's
 * error message, a long reply) cuts here, at a character boundary. Pure; thread-safe. */
#ifndef SLIMY_CORE_UTF8_H
#define SLIMY_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Characters (code points) in s[0..len): bytes that do not continue a sequence. */
size_t utf8_count_chars(const char *s, size_t len);

/* Bytes of the longest prefix of s[0..len) holding at most max_chars characters. */
size_t utf8_prefix_chars(const char *s, size_t len, size_t max_chars);

/* Bytes of the longest prefix of s[0..len) of at most max_bytes bytes that ends on a character
 * boundary (never inside a multibyte sequence). */
size_t utf8_prefix_bytes(const char *s, size_t len, size_t max_bytes);

/* Whether s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/* Copies src[0..len) into out (cap bytes, NUL-terminated) as valid UTF-8 of at most cap - 1 bytes:
 * each malformed byte becomes '?', and the copy ends on a character boundary. Returns the bytes
 * written (without the NUL). For text from outside (an upstream's error message) shown to users. */
size_t utf8_copy_clean(char *out, size_t cap, const char *src, size_t len);

#endif
