/* buf.h — a growable byte buffer with a cap fixed at birth (curl's dynbuf).
 * Always NUL-terminated after the data so text can be used as a C string.
 * Not thread-safe: a buffer belongs to one owner at a time. */
#ifndef SLIMY_CORE_BUF_H
#define SLIMY_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char *data;       /* NULL until the first append; NUL-terminated after that */
    size_t len;       /* bytes used, excluding the terminator */
    size_t cap;       /* bytes allocated */
    size_t max_bytes; /* appends that would exceed this fail with SLIMY_ETOOBIG */
};

/* Prepares caller storage; allocates nothing. */
void buf_init(struct buf *b, size_t max_bytes);
/* Frees the data and leaves *b empty (still usable with the same cap). */
void buf_cleanup(struct buf *b);
/* Appends len bytes. SLIMY_ETOOBIG past the cap (nothing appended), SLIMY_ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
/* Appends printf-formatted text. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Hands the data to the caller (free with free()); *b becomes empty. Never NULL on
 * success: an empty buffer yields "". Returns NULL only when out of memory. */
char *buf_detach(struct buf *b);

#endif
