#include "verify.h"

#include <string.h>

#include "enc.h"

void lverify_init(struct lverify *v)
{
	memset(v, 0, sizeof *v);
	merkle_cr_init(&v->cr);
}

void lverify_set_checkpoint(struct lverify *v, const struct checkpoint *cp)
{
	v->have_cp = true;
	v->cp = *cp;
	v->cp_met = false;
}

static int fail(struct lverify *v, uint64_t seq, struct err *e)
{
	v->failed = true;
	v->bad_seq = seq;
	(void)e;
	return -1;
}

static int check_cp(struct lverify *v, struct err *e)
{
	if (!v->have_cp || v->cp_met || v->count != v->cp.size)
		return 0;
	uint8_t root[HASH_LEN];
	merkle_cr_root(&v->cr, root);
	if (memcmp(root, v->cp.root, HASH_LEN) != 0) {
		char got[65], want[65];
		hex_encode(root, HASH_LEN, got);
		hex_encode(v->cp.root, HASH_LEN, want);
		err_set(e, "entries 0..%llu hash to root %s but the signed checkpoint for size %llu says %s: "
			   "the log was rewritten",
			(unsigned long long)(v->count - 1), got, (unsigned long long)v->cp.size, want);
		return fail(v, v->count - 1, e);
	}
	v->cp_met = true;
	return 0;
}

int lverify_prepare(const uint8_t *p, size_t n, struct entry *en, uint8_t leaf[HASH_LEN], struct err *e)
{
	if (entry_decode(p, n, en, e))
		return -1;
	merkle_leaf_hash(p, n, leaf);
	return 0;
}

int lverify_bad_entry(struct lverify *v, struct err *e)
{
	err_prefix(e, "entry %llu", (unsigned long long)v->count);
	return fail(v, v->count, e);
}

int lverify_fold(struct lverify *v, const struct entry *en, const uint8_t leaf[HASH_LEN], struct err *e)
{
	return lverify_fold_known(v, en, leaf, NULL, NULL, e);
}

int lverify_fold_known(struct lverify *v, const struct entry *en, const uint8_t leaf[HASH_LEN],
		       merkle_known_fn known, void *kctx, struct err *e)
{
	uint64_t seq = v->count;

	if (en->seq != seq) {
		err_set(e, "entry at position %llu carries seq %llu: entries are missing, repeated or reordered",
			(unsigned long long)seq, (unsigned long long)en->seq);
		return fail(v, seq, e);
	}
	if (seq == 0) {
		static const uint8_t zero[HASH_LEN];
		if (memcmp(en->prev, zero, HASH_LEN) != 0) {
			err_set(e, "entry 0: prev must be 32 zero bytes");
			return fail(v, 0, e);
		}
	} else if (memcmp(en->prev, v->last_leaf, HASH_LEN) != 0) {
		/* Entry seq records what entry seq-1 hashed to when seq was
		 * written; seq-1 no longer hashes to that. */
		char got[65], want[65];
		hex_encode(v->last_leaf, HASH_LEN, got);
		hex_encode(en->prev, HASH_LEN, want);
		err_set(e, "entry %llu hashes to %s but entry %llu records prev %s: entry %llu was altered "
			   "(or the prev field of entry %llu was)",
			(unsigned long long)(seq - 1), got, (unsigned long long)seq, want,
			(unsigned long long)(seq - 1), (unsigned long long)seq);
		return fail(v, seq - 1, e);
	}
	if (en->time_us < v->last_time) {
		err_set(e, "entry %llu: commit time goes backwards", (unsigned long long)seq);
		return fail(v, seq, e);
	}
	if (merkle_cr_append_known(&v->cr, leaf, known, kctx, v->emit, v->emit_ctx, e)) {
		err_prefix(e, "entry %llu", (unsigned long long)seq);
		return fail(v, seq, e);
	}
	memcpy(v->last_leaf, leaf, HASH_LEN);
	v->last_time = en->time_us;
	v->count++;
	return check_cp(v, e);
}

int lverify_entry(struct lverify *v, const uint8_t *p, size_t n, struct entry *en_out,
		  uint8_t leaf_out[HASH_LEN], struct err *e)
{
	struct entry en;
	uint8_t leaf[HASH_LEN];

	if (v->failed)
		return err_set(e, "verification already failed at entry %llu",
			       (unsigned long long)v->bad_seq);
	if (lverify_prepare(p, n, &en, leaf, e))
		return lverify_bad_entry(v, e);
	if (lverify_fold(v, &en, leaf, e))
		return -1;
	if (en_out)
		*en_out = en;
	if (leaf_out)
		memcpy(leaf_out, leaf, HASH_LEN);
	return 0;
}

int lverify_finish(struct lverify *v, struct err *e)
{
	if (v->failed)
		return err_set(e, "verification failed at entry %llu", (unsigned long long)v->bad_seq);
	if (v->have_cp && v->cp.size == 0 && v->count == 0) {
		uint8_t root[HASH_LEN];
		merkle_empty_root(root);
		if (memcmp(root, v->cp.root, HASH_LEN) != 0)
			return err_set(e, "checkpoint for size 0 does not carry the empty-tree root");
		v->cp_met = true;
	}
	if (v->have_cp && !v->cp_met)
		return err_set(e, "the entries end at size %llu but the checkpoint covers %llu entries: "
			       "entries are missing", (unsigned long long)v->count,
			       (unsigned long long)v->cp.size);
	return 0;
}

void lverify_root(const struct lverify *v, uint8_t out[HASH_LEN])
{
	merkle_cr_root(&v->cr, out);
}
