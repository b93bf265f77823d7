/*
 * reports: read-only documents built from the derived state, never from
 * re-reading the log: a project's status, unbilled approved changes, and
 * out-of-scope exposure, over a kv (kv.h): the daemon's storage, or a map
 * in memory re-derived from proven entries.  Each is one msgpack map (proto/PROTOCOL.md,
 * operations "status" and "report"), given a page at a time (paging.h): out
 * gets the document with this page's rows and the whole set's totals, next
 * the cursor of the next page (empty after the last).
 */
#ifndef SCOPE_REPORTS_H
#define SCOPE_REPORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "paging.h"
#include "kv.h"

/* Which projects a report may include (the caller's grant). */
typedef bool (*report_allow_fn)(void *ctx, const char *project, size_t n);

int report_status(struct scope_kv *t, const char *project, size_t plen, const struct page_req *req,
		  struct buf *out, struct buf *next, struct err *e);
/* project NULL: every project the allow function admits. */
int report_unbilled(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow,
		    void *actx, uint64_t now_us, const struct page_req *req, struct buf *out,
		    struct buf *next, struct err *e);
int report_exposure(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow,
		    void *actx, const struct page_req *req, struct buf *out, struct buf *next,
		    struct err *e);

/* report agreements (notices false) or report notices (followups.c):
 * every row, with its age to the as-of time (now_us, or a cursor's). */
int report_followups(struct scope_kv *t, bool notices, const char *project, size_t plen, report_allow_fn allow,
		     void *actx, uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next,
		     struct err *e);
/* report links: every client link with its state at the as-of time
 * (linkreport.c). */
int report_links(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow, void *actx,
		 uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next, struct err *e);
/* A project's agreements not confirmed and notices not answered. */
int report_followup_counts(struct scope_kv *t, const char *project, size_t plen, uint64_t *agreements,
			   uint64_t *notices, struct err *e);

/* The report called name ("unbilled", "exposure", "receivables", "quotes",
 * "agreements" or "notices"; any other is refused).  receivables counts days overdue to the day of
 * req->as_of_us, or of now_us when that is 0. */
int report_named(struct scope_kv *t, const char *name, const char *project, size_t plen, report_allow_fn allow,
		 void *actx, uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next,
		 struct err *e);

#endif
