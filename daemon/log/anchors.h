/*
 * anchors: the log's own entries of kind "anchor": an RFC 3161 time-stamp
 * token over a checkpoint, recorded by scoped itself (proto/FORMAT.md,
 * anchor entries).  The body is {root: the tree's root at `size` (hex),
 * size, token: the TimeStampToken (DER, standard base64), tsa_time_us: the
 * token's genTime}.  Checked live and in replay without the TSA's CA: the
 * token's imprint is SHA-256 of the checkpoint text of (origin, size,
 * root), root is the tree's root at size, the stated time is the token's,
 * and each anchor covers more entries than the one before.  The state
 * record 'A', NUL, NUL -> the size the last anchor covers and its own seq
 * (u64 BE each).
 */
#ifndef SCOPE_ANCHORS_H
#define SCOPE_ANCHORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "store.h"

#define ANCHORS_KIND "anchor"

bool anchors_is_anchor(const char *kind, size_t n);
/* Checks the anchor entry en (the tree read from nodes, which holds the
 * tree up to en's seq) and records the size it covers in t; -1 refused. */
int anchors_apply(struct store_txn *t, struct store_txn *nodes, const char *origin, const struct entry *en,
		  struct err *e);
/* The size the last anchor covers in *size, its own seq in *seq: 1, or 0
 * when none; -1 error. */
int anchors_last(struct store_txn *t, uint64_t *size, uint64_t *seq, struct err *e);
/* Names the anchor record for a message; false when k is none. */
bool anchors_name(const uint8_t *k, size_t n, struct buf *out);

#endif
