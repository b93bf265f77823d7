/*
 * anchors: the log's `anchor` entries as scopectl checks them (proto/FORMAT.md
 * sections 3a and 7b): an RFC 3161 token over the checkpoint text of a tree
 * size, by which the TSA vouches that entries 0..size-1 existed at its time.
 *
 * Collect them while verifying the log from entry 0 (anchors_feed, each
 * entry after lverify_entry accepted it): each anchor's root is compared
 * with the root scopectl computes itself at that size from the entries fed.
 * Then check each token with the TSA's CA (anchor_verify) and find the
 * anchored time of an entry (anchors_covering).
 *
 * The roots are kept for the last ANCHORS_WINDOW to 2 ANCHORS_WINDOW sizes
 * only (O(log n) memory otherwise): an anchor whose size lies further back
 * than that from its own entry cannot be checked in one pass and is refused
 * by name.  scoped stamps its newest size and records the anchor when the
 * TSA answers, so only the entries appended during one request lie between.
 */
#ifndef SCOPECTL_ANCHORS_H
#define SCOPECTL_ANCHORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"
#include "merkle.h"

#define ANCHORS_WINDOW 4096

struct anchor {
	uint64_t seq;			/* the anchor entry's own seq */
	uint64_t size;			/* it covers entries 0..size-1 */
	uint64_t time_us;		/* the TSA's genTime, as the entry states it */
	uint8_t root[HASH_LEN];		/* the tree's root at size */
	uint8_t *token;			/* the TimeStampToken (DER) */
	size_t token_len;
};

struct anchors {
	struct anchor *a;		/* in log order: growing seq and size */
	size_t n, cap;
	/* the roots scopectl computes: the tree of base.size leaves and the
	 * leaves fed since (fewer than 2 ANCHORS_WINDOW); mid, the tree of
	 * base.size + ANCHORS_WINDOW leaves once that many were fed */
	struct merkle_cr base, mid;
	uint8_t (*leaves)[HASH_LEN];
	size_t nleaves;
};

void anchors_init(struct anchors *x);
void anchors_free(struct anchors *x);

/* Feeds the next entry of the log, in order from seq 0 (en decoded, leaf
 * its leaf hash, both already verified; tree the verifier's tree of the
 * entries so far, en's leaf included: a few of its states are kept, so
 * that the leaves are not hashed into a tree twice).  An anchor entry is read and
 * kept when it is well formed (ledger-level, by scoped, size 1..its seq and
 * beyond the previous anchor's) and its root is the root of the entries
 * fed before at that size; else -1 naming the anchor entry and what is
 * wrong (exit code CTL_EXIT_VERIFY in e->code). */
int anchors_feed(struct anchors *x, const struct entry *en, const uint8_t leaf[HASH_LEN],
		 const struct merkle_cr *tree, struct err *e);

/* Keeps the anchor entry en without comparing its root: for a caller that
 * proved the root otherwise (witness_prefix against a signed checkpoint);
 * the other rules as in anchors_feed. */
int anchors_add(struct anchors *x, const struct entry *en, struct err *e);

/* Checks anchor a whole against the log's origin and the TSA's CA
 * certificates (PEM file): the token's signature, the signer's chain to
 * the CA, its imprint against the checkpoint text of (origin, size, root),
 * and that the stated time is the token's genTime.  -1 saying which
 * failed (the caller names the anchor entry). */
int anchor_verify(const struct anchor *a, const char *origin, const char *ca_file, struct err *e);

/* anchor_verify for every anchor collected; -1 on the first that fails,
 * naming its entry (e->code CTL_EXIT_VERIFY). */
int anchors_check(const struct anchors *x, const char *origin, const char *ca_file, struct err *e);
/* Prints the anchors to stdout: checked, one line each ("anchor entry N:
 * checkpoint size S time-stamped by the TSA at TIME (verified)"); else that
 * tokens were found but not checked and how to check them.  Nothing when
 * there are none. */
void anchors_print(const struct anchors *x, bool checked);

/* The earliest anchor covering entry seq (size > seq), or NULL. */
const struct anchor *anchors_covering(const struct anchors *x, uint64_t seq);

#endif
