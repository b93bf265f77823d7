/*
 * rederive: a status or report checked without trusting the server
 * (`--verify`).  The server's answer is read between two checkpoints of
 * the same size, so it is the answer at that size (asked again, a few
 * times, while the log grows).  Then every entry of the projects it covers
 * is fetched with its proof in that checkpoint (pages.h), replayed in
 * sequence order through the rules of scope/ on a map in memory, exactly
 * as scoped's reindex replays them, and the document computed from it by
 * the same report functions is compared with the server's, field by field
 * (docdiff.h).
 *
 * Which entries: with a grant for all projects the whole log is read, so
 * no entry can be left out; otherwise each project is listed (the one
 * asked for, or those `info` names), which proves every entry listed but
 * not that none was left out.
 */
#ifndef SCOPECTL_REDERIVE_H
#define SCOPECTL_REDERIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "net.h"
#include "pages.h"

#define REDERIVE_ATTEMPTS 5		/* answers read while the log grew */
#define REDERIVE_CLOCK_US (15 * 60 * 1000000ull) /* the unbilled report's time vs ours */

/* What views.c asks the server. */
struct rederive_ask {
	const char *op;			/* "status" or "report", also the result's key */
	const struct page_param *params;
	size_t nparams;
	const char *const *sections;	/* the paged lists (pages_doc) */
	const char *report;		/* "unbilled", "exposure" or "receivables" (its day: the
				 * param "as_of"); NULL for a status */
	const char *project;		/* the status's project, or the report's; NULL: all the identity sees */
};

struct rederived {
	uint64_t entries;		/* entries replayed */
	uint64_t size;			/* the checkpoint they are proven in */
	bool whole_log;			/* every entry up to size read: none left out */
};

/* 0: identical, doc holds the server's document; 1: they differ, each
 * difference printed (stderr; with json also a verdict on stdout);
 * -1: not checked (e, with the exit code). */
int rederive(struct session *s, const struct rederive_ask *q, bool json, struct buf *doc,
	     struct rederived *r, struct err *e);

/* doc with a member "verified": {entries, checkpoint_size, whole_log}. */
void rederive_mark(const struct buf *doc, const struct rederived *r, struct buf *out);
/* The line that says so on stderr. */
void rederive_note(const struct rederived *r);

/* The projects `info` says the identity sees, NUL-separated into names;
 * *all when it sees every one. */
int rederive_granted(struct session *s, bool *all, struct buf *names, struct err *e);

#endif
