/*
 * docdiff: where two msgpack documents differ (a status or report as the
 * server gave it and as scopectl re-derived it), each difference named by
 * its path (`changes[3].status`, `totals[0].unbilled_minor`) with the
 * value on each side.  Maps are compared by key, arrays element by
 * element, scalars by type and value (not by their encoding).
 */
#ifndef SCOPECTL_DOCDIFF_H
#define SCOPECTL_DOCDIFF_H

#include <stddef.h>
#include <stdint.h>

#define DOCDIFF_KEEP 100	/* differences kept; the rest are only counted */

struct docdiff {
	char path[160];
	const uint8_t *a, *b;	/* the encoded value in each document; NULL where it has none */
	size_t an, bn;
};

struct docdiffs {
	struct docdiff d[DOCDIFF_KEEP];
	size_t kept, total;
};

/* Compares documents a and b (each one msgpack value, already checked to
 * be well formed); out gets the differences in a's order, then those only
 * b has.  0 when they are identical, 1 when not, -1 when either cannot be
 * read.  The pointers in out point into a and b. */
int docdiff(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, struct docdiffs *out);

#endif
