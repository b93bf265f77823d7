/*
 * pages: following answers that come a page at a time (PROTOCOL.md
 * section 5a), never trusting the server to end them: every page must
 * make strict progress and the whole is bounded, else the command fails
 * (exit 1) naming what the server did.
 *
 * Entry listings are proven page by page with a multi-leaf inclusion
 * proof (FORMAT.md section 6a) against an accepted checkpoint before any
 * entry reaches the caller.  Status and report pages are joined into the
 * one document an unpaged answer would be.
 */
#ifndef SCOPECTL_PAGES_H
#define SCOPECTL_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "net.h"
#include "note.h"

#define PAGES_MAX_BYTES (64u << 20)	/* a status or report, all pages joined */
#define PAGES_MAX 10000			/* pages of a status or report */
#define PAGES_RESTARTS 5		/* answers that changed between pages */
#define PAGES_RETRIES 2			/* new connections for a listing, since its last page */

/* Entry listings of all projects keep several pages asked for ahead on the
 * one connection (PROTOCOL.md section 3), so that the server builds and
 * sends the next while the caller works on this one: PAGES_WINDOW, or
 * SCOPECTL_PAGES_IN_FLIGHT (1..PAGES_WINDOW_MAX); fewer while pages are so
 * large that more would hold over PAGES_WINDOW_BYTES of answers. */
#define PAGES_WINDOW 4
#define PAGES_WINDOW_MAX 8
#define PAGES_WINDOW_BYTES (16u << 20)
/* The window; a bad SCOPECTL_PAGES_IN_FLIGHT is -1 (CTL_EXIT_USAGE). */
int pages_window(unsigned *out, struct err *e);

/* 0 to go on, > 0 to stop the listing there (pages_entries returns it; the
 * answers still in flight are left to be skipped by the next sess_call),
 * -1 on failure. */
typedef int (*entry_fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e);

/* Calls fn for the entries from <= seq < to, of one project or (project
 * NULL) all of them, in order.  With cp (to <= cp->size), each page comes
 * with its proof in that checkpoint's tree and is verified first; without,
 * the caller verifies the stream itself.  An unfiltered listing must be
 * contiguous and reach `to`; it is asked for in ranges of WIRE_MAX_LIMIT
 * entries, several in flight, each answer taken in order of its range
 * however the answers arrive (an answer to no request in flight, or to one
 * twice, is the server misbehaving), the rest of a page the server cut
 * short asked again.  A lost connection is reopened (PAGES_RETRIES times
 * since the last page) and what was in flight asked again. */
int pages_entries(struct session *s, const char *project, uint64_t from, uint64_t to,
		  const struct checkpoint *cp, entry_fn fn, void *ctx, struct err *e);
/* pages_entries of all entries, without cp, for a caller that decodes and
 * checks every entry itself (a stream verifier on several threads): here
 * each entry only gives its seq, for the paging checks. */
int pages_entries_unchecked(struct session *s, uint64_t from, uint64_t to, entry_fn fn, void *ctx,
			    struct err *e);

/* A string parameter of a status or report request. */
struct page_param {
	const char *key, *value;
};

/* Asks op (status or report) with the given parameters, follows its pages
 * and joins them: doc gets the document under the result's key `what`,
 * with each paged list (sections, a NULL-terminated list of keys) holding
 * all rows.  An answer that changed between pages is asked again from the
 * first page, up to PAGES_RESTARTS times. */
int pages_doc(struct session *s, const char *op, const struct page_param *params, size_t nparams,
	      const char *what, const char *const *sections, struct buf *doc, struct err *e);

#endif
