/* buf.c — capped growable buffer; see buf.h. */
#include "core/buf.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

void buf_init(struct buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max_bytes = max_bytes;
}

void buf_cleanup(struct buf *b)
{
    free(b->data);
    buf_init(b, b->max_bytes);
}

static int reserve(struct buf *b, size_t extra)
{
    if (extra > b->max_bytes - b->len || b->len + extra >= SIZE_MAX - 1)
        return SLIMY_ETOOBIG;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return SLIMY_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        return SLIMY_ENOMEM;
    b->data = p;
    b->cap = cap;
    return SLIMY_OK;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    int rc = reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return SLIMY_OK;
}

int buf_append_str(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return SLIMY_EINVAL;
    int rc = reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return SLIMY_OK;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *buf_detach(struct buf *b)
{
    char *p = b->data;
    if (!p)
        p = calloc(1, 1);
    buf_init(b, b->max_bytes);
    return p;
}
