/*
 * paging: a list answer (status, report) cut into pages that each fit in a
 * frame, resumed with a cursor (proto/PROTOCOL.md section 5a).
 *
 * Every page is computed from a full scan, so totals always cover the
 * whole set.  The scan also digests the whole answer (every row of every
 * section, then the totals); the digest goes into the cursor, and a later
 * page is refused (PAGE_E_CHANGED) unless the answer it continues is still
 * exactly the same.  So the pages a client joins are always one answer.
 *
 * Cursor (bin): version (16 bytes, the start of that SHA-256) || as_of_us
 * (8 bytes big-endian, the time the answer is computed for) || the state
 * key of the last record the previous page held.
 */
#ifndef SCOPE_PAGING_H
#define SCOPE_PAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "kv.h"

#define PAGE_VERSION_LEN 16
#define PAGE_KEY_MAX 240	/* a paged state key (state.h) */
#define PAGE_CURSOR_MAX (PAGE_VERSION_LEN + 8 + PAGE_KEY_MAX)
#define PAGE_SECTIONS 8

enum { PAGE_E_CURSOR = 300, PAGE_E_CHANGED };

/* What the request asked for. */
struct page_req {
	const uint8_t *cursor;	/* NULL: the first page */
	size_t cursor_len;
	uint64_t limit;		/* records per page; 0: as many as fit */
	size_t budget;		/* bytes of rows per page */
	uint64_t as_of_us;	/* the receivables report's day (0: today) */
};

struct pager {
	struct page_req req;
	uint64_t as_of;		/* the cursor's time, or now for a first page */
	const uint8_t *after;	/* the cursor's key: rows after it go on this page */
	size_t after_len;
	struct {
		struct buf *b;
		uint32_t *n;
		size_t mark_len;
		uint32_t mark_n;
	} sec[PAGE_SECTIONS];
	unsigned nsec;
	void *md;		/* EVP_MD_CTX: the digest of the whole answer */
	size_t used;
	uint64_t records;
	bool full;		/* a record did not fit: there is a next page */
	uint8_t last[PAGE_KEY_MAX];
	size_t last_len;
	uint8_t version[PAGE_VERSION_LEN];
};

/* Reads the cursor (PAGE_E_CURSOR when malformed); r NULL: the whole
 * answer on one page. */
int pager_init(struct pager *p, const struct page_req *r, uint64_t now_us, struct err *e);
void pager_free(struct pager *p);
/* A list the records append rows to, with its row count. */
void pager_section(struct pager *p, struct buf *b, uint32_t *n);
/* kv_scan, with each record's rows kept on this page or dropped. */
int pager_scan(struct pager *p, struct scope_kv *t, const void *prefix, size_t plen,
	       int (*fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
			 struct err *e),
	       void *ctx, struct err *e);
/* After the scans: digests the totals, and refuses a cursor from another
 * answer (PAGE_E_CHANGED). */
int pager_finish(struct pager *p, const uint8_t *totals, size_t n, struct err *e);
/* The cursor of the next page into out (left empty when this is the last;
 * out may be NULL). */
void pager_next(const struct pager *p, struct buf *out);

#endif
