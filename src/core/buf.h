/*
 * buf: a growable byte buffer with a hard size cap, the one way muster builds
 * strings of unknown length (HTTP bodies, pages, mail, URLs). Every append
 * checks the cap; once an append fails the buffer stays failed, so a caller may
 * append many pieces and check once at the end (buf_failed). The data is always
 * NUL-terminated after a successful append. The buffer owns its memory:
 * buf_release frees it, buf_detach hands it to the caller.
 */
#ifndef MUSTER_CORE_BUF_H
#define MUSTER_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_DEFAULT_LIMIT (64u * 1024u * 1024u)

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit; /* appends that would pass this many bytes fail */
    int failed;
};

#define BUF_INIT {NULL, 0, 0, BUF_DEFAULT_LIMIT, 0}

void buf_init(struct buf *b, size_t limit);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
/* Appends n bytes for the caller to fill in: returns where they go (the
 * length already counts them and a NUL follows them), or NULL when the append
 * fails like any other. For writers that know their output size, so that
 * they grow the buffer once instead of once per byte. */
char *buf_extend(struct buf *b, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Returns the contents as a C string ("" when empty); never NULL. */
const char *buf_cstr(const struct buf *b);
static inline int buf_failed(const struct buf *b)
{
    return b->failed;
}
void buf_reset(struct buf *b);
/* Returns the malloc'd contents (caller frees) and empties the buffer. */
char *buf_detach(struct buf *b);
void buf_release(struct buf *b);

#endif
