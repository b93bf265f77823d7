/*
 * buf: a growable byte buffer.  Owns its memory; buf_free() is its one
 * teardown.  Allocation failure is sticky: after it, every append is a no-op
 * and buf_failed() is true, so callers check once at the end.
 */
#ifndef SCOPE_BUF_H
#define SCOPE_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool failed;
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);		/* len = 0, keeps the memory */
bool buf_reserve(struct buf *b, size_t extra);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline bool buf_failed(const struct buf *b) { return b->failed; }
/* NUL-terminates (not counted in len) and returns data as a string. */
const char *buf_cstr(struct buf *b);

#endif
