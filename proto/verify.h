/*
 * verify: checks a ledger as a stream of entries, in order from seq 0,
 * without any storage: the hash chain (every prev link), sequence numbers,
 * non-decreasing commit times, canonical encoding, and the Merkle root at the
 * size of a signed checkpoint.  Memory is O(log n).
 *
 * On the first problem it stops and reports the first bad sequence number
 * (struct lverify.bad_seq) and what is wrong.
 */
#ifndef SCOPE_VERIFY_H
#define SCOPE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "merkle.h"
#include "note.h"

struct lverify {
	uint64_t count;			/* entries accepted so far */
	uint8_t last_leaf[HASH_LEN];	/* leaf hash of the last entry */
	uint64_t last_time;
	struct merkle_cr cr;
	/* optional checkpoint to meet */
	bool have_cp;
	bool cp_met;
	struct checkpoint cp;
	/* result */
	bool failed;
	uint64_t bad_seq;
	merkle_emit_fn emit;		/* optional: sees every complete node */
	void *emit_ctx;
};

void lverify_init(struct lverify *v);
/* The checkpoint (already signature-checked) whose root the stream must
 * reproduce at its size. */
void lverify_set_checkpoint(struct lverify *v, const struct checkpoint *cp);
/* Feeds the next entry's exact bytes.  On success *leaf (if not NULL)
 * receives its leaf hash and *en its decoded fields. */
int lverify_entry(struct lverify *v, const uint8_t *p, size_t n, struct entry *en,
		  uint8_t leaf[HASH_LEN], struct err *e);
/* lverify_entry in two steps, so that the first can run on many threads:
 * lverify_prepare decodes one entry (canonical form, field rules) and
 * computes its leaf hash, touching nothing shared; lverify_fold then takes
 * the prepared entries strictly in order (chain, seq, times, tree,
 * checkpoint).  When lverify_prepare failed for the next entry,
 * lverify_bad_entry records it with e's message, as lverify_entry would. */
int lverify_prepare(const uint8_t *p, size_t n, struct entry *en, uint8_t leaf[HASH_LEN], struct err *e);
int lverify_fold(struct lverify *v, const struct entry *en, const uint8_t leaf[HASH_LEN], struct err *e);
/* lverify_fold taking the interior tree nodes it completes from `known`
 * when that has them (merkle_cr_append_known). */
int lverify_fold_known(struct lverify *v, const struct entry *en, const uint8_t leaf[HASH_LEN],
		       merkle_known_fn known, void *kctx, struct err *e);
int lverify_bad_entry(struct lverify *v, struct err *e);
/* End of stream: checks the checkpoint was reached. */
int lverify_finish(struct lverify *v, struct err *e);
/* Root of everything fed so far. */
void lverify_root(const struct lverify *v, uint8_t out[HASH_LEN]);

#endif
