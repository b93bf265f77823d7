/*
 * delivery: deliveries (DLV-N), their inspection (accept) and deemed
 * acceptance (deemed_passed, recorded by the daemon itself when an
 * inspection deadline passes with no outcome): what the daemon's timer and
 * the acceptance report need of them (delivery.c, acceptance.c).
 */
#ifndef SCOPE_DELIVERY_H
#define SCOPE_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "kv.h"
#include "paging.h"
#include "reports.h"

/* A delivery whose inspection deadline has passed with no outcome. */
typedef int (*delivery_due_fn)(void *ctx, const char *project, size_t plen, uint64_t number,
			       uint64_t deadline_us, struct err *e);
/* fn for each open inspection window whose deadline is at or before
 * now_us, soonest first (at most max of them); fn returns 0 to go on. */
int delivery_due(struct scope_kv *t, uint64_t now_us, size_t max, delivery_due_fn fn, void *ctx, struct err *e);
/* The body of the deemed_passed entry for DLV-number (canonical msgpack). */
void delivery_deemed_body(uint64_t number, uint64_t deadline_us, struct buf *out);
/* report acceptance: every delivery with its deadline, days left and
 * outcome (acceptance.c). */
int report_acceptance(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow, void *actx,
		      uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next,
		      struct err *e);

#endif
