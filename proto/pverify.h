/*
 * pverify: lverify on several threads.  The caller feeds entries in order;
 * they are copied into fixed-size chunks, worker threads decode, check and
 * leaf-hash each chunk (lverify_prepare) and hash the interior tree nodes
 * whose leaves all lie in it, and the feeding thread folds the chunks
 * strictly in order (lverify_fold_known: only the few nodes that span
 * chunks are hashed there), so the result, the first bad
 * entry and its message are those of lverify_entry on one thread.  At most
 * a fixed number of chunks is in flight.  With one thread there is no pool:
 * each entry goes straight through lverify_entry.
 */
#ifndef SCOPE_PVERIFY_H
#define SCOPE_PVERIFY_H

#include "verify.h"

#define PVERIFY_MAX_THREADS 8

/* Sees every accepted entry, in order, on the feeding thread. */
typedef int (*pverify_each_fn)(void *ctx, const struct entry *en, const uint8_t leaf[HASH_LEN],
			       struct err *e);

struct pverify;

/* The number of threads: SCOPE_VERIFY_THREADS if set (1..8), else the
 * online CPUs, at most 8.  -1 with a message when the variable is bad. */
int pverify_threads(unsigned *out, struct err *e);
/* v stays the caller's and is folded into; each may be NULL. */
int pverify_new(struct pverify **out, struct lverify *v, unsigned threads, pverify_each_fn each, void *ctx,
		struct err *e);
/* Optional work of the caller's own for each entry, on the worker threads
 * (on the feeding thread with one thread): fn sees each entry that decoded
 * and writes PVERIFY_EXTRA bytes (a digest, say), which pverify_extra()
 * returns while `each` runs for that entry.  Set before the first feed. */
#define PVERIFY_EXTRA 32
typedef void (*pverify_extra_fn)(void *ctx, const struct entry *en, uint8_t out[PVERIFY_EXTRA]);
void pverify_set_extra(struct pverify *pv, pverify_extra_fn fn, void *ctx);
/* The current entry's extra bytes, during `each`; NULL without an extra fn. */
const uint8_t *pverify_extra(const struct pverify *pv);
/* The next entry's bytes (copied).  -1 once an entry already folded failed. */
int pverify_feed(struct pverify *pv, const uint8_t *p, size_t n, struct err *e);
/* Folds everything fed. */
int pverify_end(struct pverify *pv, struct err *e);
void pverify_free(struct pverify *pv);

#endif
