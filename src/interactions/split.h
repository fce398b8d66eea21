/* split.h — cutting long text into Discord-sized messages.
 * Discord counts content length in characters; we count Unicode code points and never cut
 * inside a UTF-8 sequence. Pure functions, thread-safe. */
#ifndef SLIMY_INTERACTIONS_SPLIT_H
#define SLIMY_INTERACTIONS_SPLIT_H

#include <stddef.h>

/* Number of code points in s[0..len) (continuation bytes are not counted). */
size_t split_count_chars(const char *s, size_t len);

/* Returns the byte length of the first chunk of s[0..len) holding at most max_chars
 * characters. When the text does not fit, the cut goes after the last newline in the
 * chunk's second half, else after the last space there, else at a character boundary.
 * Returns len when everything fits; never 0 when len > 0 and max_chars > 0. */
size_t split_chunk_len(const char *s, size_t len, size_t max_chars);

/* Byte length of the longest prefix of s[0..len) with at most max_chars characters,
 * cut at a character boundary (for truncating with "…"). */
size_t split_prefix_len(const char *s, size_t len, size_t max_chars);

#endif
