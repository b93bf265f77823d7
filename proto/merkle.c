#include "merkle.h"

/*
 * Hashing is most of what verification does, so it goes through OpenSSL's
 * low-level SHA-256 (deprecated in OpenSSL 3, still the same assembly):
 * a context on the stack, no algorithm fetch, no allocation.  Through
 * EVP, EVP_DigestInit_ex2 allocates, cleanses and frees the provider's
 * context on every hash: 7% of an offline verification's instructions.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#include "enc.h"

/* SHA-256 of prefix (if >= 0) || a || b. */
static void hash_parts(int prefix, const void *a, size_t an, const void *b, size_t bn,
		       uint8_t out[HASH_LEN])
{
	SHA256_CTX c;
	uint8_t pre = (uint8_t)prefix;
	SHA256_Init(&c);
	if (prefix >= 0)
		SHA256_Update(&c, &pre, 1);
	SHA256_Update(&c, a, an);
	if (bn > 0)
		SHA256_Update(&c, b, bn);
	SHA256_Final(out, &c);
}

void sha256(const void *p, size_t n, uint8_t out[HASH_LEN])
{
	hash_parts(-1, p, n, NULL, 0, out);
}

void merkle_leaf_hash(const void *p, size_t n, uint8_t out[HASH_LEN])
{
	hash_parts(0x00, p, n, NULL, 0, out);
}

void merkle_node_hash(const uint8_t l[HASH_LEN], const uint8_t r[HASH_LEN],
		      uint8_t out[HASH_LEN])
{
	hash_parts(0x01, l, HASH_LEN, r, HASH_LEN, out);
}

void merkle_empty_root(uint8_t out[HASH_LEN])
{
	hash_parts(-1, "", 0, NULL, 0, out);
}

/* largest power of two strictly less than n (n >= 2) */
static uint64_t split_point(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

static unsigned log2u(uint64_t v)
{
	unsigned l = 0;
	while (v >>= 1)
		l++;
	return l;
}

/* Hash of leaves [start, end), where start is a multiple of the largest
 * power of two not exceeding end - start (true for every range the RFC
 * algorithms visit). */
static int range_hash(merkle_node_fn get, void *ctx, uint64_t start, uint64_t end,
		      uint8_t out[HASH_LEN], struct err *e)
{
	uint64_t size = end - start;
	if ((size & (size - 1)) == 0) {
		unsigned level = log2u(size);
		return get(ctx, level, start >> level, out, e);
	}
	uint64_t k = split_point(size);
	uint8_t l[HASH_LEN], r[HASH_LEN];
	if (range_hash(get, ctx, start, start + k, l, e) ||
	    range_hash(get, ctx, start + k, end, r, e))
		return -1;
	merkle_node_hash(l, r, out);
	return 0;
}

int merkle_root(merkle_node_fn get, void *ctx, uint64_t n, uint8_t out[HASH_LEN],
		struct err *e)
{
	if (n == 0) {
		merkle_empty_root(out);
		return 0;
	}
	return range_hash(get, ctx, 0, n, out, e);
}

static void reverse(uint8_t proof[][HASH_LEN], size_t len)
{
	for (size_t a = 0, b = len ? len - 1 : 0; a < b; a++, b--) {
		uint8_t t[HASH_LEN];
		memcpy(t, proof[a], HASH_LEN);
		memcpy(proof[a], proof[b], HASH_LEN);
		memcpy(proof[b], t, HASH_LEN);
	}
}

int merkle_inclusion_proof(merkle_node_fn get, void *ctx, uint64_t i, uint64_t n,
			   uint8_t proof[][HASH_LEN], size_t *len, struct err *e)
{
	if (i >= n)
		return err_set(e, "leaf index %llu is not in a tree of size %llu",
			       (unsigned long long)i, (unsigned long long)n);
	/* Walk from the root down; siblings come out root-side first. */
	uint64_t lo = 0, hi = n;
	size_t k = 0;
	while (hi - lo > 1) {
		uint64_t mid = lo + split_point(hi - lo);
		if (i < mid) {
			if (range_hash(get, ctx, mid, hi, proof[k++], e))
				return -1;
			hi = mid;
		} else {
			if (range_hash(get, ctx, lo, mid, proof[k++], e))
				return -1;
			lo = mid;
		}
	}
	reverse(proof, k);
	*len = k;
	return 0;
}

int merkle_consistency_proof(merkle_node_fn get, void *ctx, uint64_t m, uint64_t n,
			     uint8_t proof[][HASH_LEN], size_t *len, struct err *e)
{
	if (m == 0 || m > n)
		return err_set(e, "no consistency proof from size %llu to size %llu",
			       (unsigned long long)m, (unsigned long long)n);
	size_t k = 0;
	uint64_t lo = 0, hi = n;
	bool whole = true;	/* SUBPROOF's b: m covers the whole left edge so far */
	while (m != hi) {
		uint64_t split = split_point(hi - lo);
		uint64_t mid = lo + split;
		if (m - lo <= split) {
			if (range_hash(get, ctx, mid, hi, proof[k++], e))
				return -1;
			hi = mid;
		} else {
			if (range_hash(get, ctx, lo, mid, proof[k++], e))
				return -1;
			lo = mid;
			whole = false;
		}
	}
	if (!whole && range_hash(get, ctx, lo, hi, proof[k++], e))
		return -1;
	reverse(proof, k);
	*len = k;
	return 0;
}

int merkle_verify_inclusion(uint64_t i, uint64_t n, const uint8_t leaf[HASH_LEN],
			    const uint8_t proof[][HASH_LEN], size_t len,
			    const uint8_t root[HASH_LEN], struct err *e)
{
	if (i >= n)
		return err_set(e, "inclusion proof: leaf index %llu is not in a tree of size %llu",
			       (unsigned long long)i, (unsigned long long)n);
	uint64_t fn = i, sn = n - 1;
	uint8_t r[HASH_LEN];
	memcpy(r, leaf, HASH_LEN);
	for (size_t k = 0; k < len; k++) {
		if (sn == 0)
			return err_set(e, "inclusion proof has %zu hashes, more than the tree needs", len);
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[k], r, r);
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(r, proof[k], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return err_set(e, "inclusion proof has %zu hashes, fewer than the tree needs", len);
	if (memcmp(r, root, HASH_LEN) != 0)
		return err_set(e, "inclusion proof does not lead to the expected root");
	return 0;
}

int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root1[HASH_LEN],
			      const uint8_t root2[HASH_LEN], const uint8_t proof[][HASH_LEN],
			      size_t len, struct err *e)
{
	if (m > n)
		return err_set(e, "consistency proof: old size %llu is larger than new size %llu",
			       (unsigned long long)m, (unsigned long long)n);
	if (m == 0)
		return err_set(e, "consistency proof: old size must be at least 1");
	if (m == n) {
		if (len != 0)
			return err_set(e, "consistency proof between equal sizes must be empty");
		if (memcmp(root1, root2, HASH_LEN) != 0)
			return err_set(e, "same tree size %llu but different roots: the log has forked",
				       (unsigned long long)m);
		return 0;
	}
	if (len == 0)
		return err_set(e, "consistency proof is empty");

	/* If m is a power of two, the old root itself starts the path. */
	size_t k = 0;
	const uint8_t *first;
	if ((m & (m - 1)) == 0)
		first = root1;
	else
		first = proof[k++];
	uint64_t fn = m - 1, sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[HASH_LEN], sr[HASH_LEN];
	memcpy(fr, first, HASH_LEN);
	memcpy(sr, first, HASH_LEN);
	for (; k < len; k++) {
		if (sn == 0)
			return err_set(e, "consistency proof has more hashes than the trees need");
		if ((fn & 1) || fn == sn) {
			merkle_node_hash(proof[k], fr, fr);
			merkle_node_hash(proof[k], sr, sr);
			if (!(fn & 1))
				while (fn != 0 && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node_hash(sr, proof[k], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return err_set(e, "consistency proof has fewer hashes than the trees need");
	if (memcmp(fr, root1, HASH_LEN) != 0)
		return err_set(e, "consistency proof does not lead to the old root");
	if (memcmp(sr, root2, HASH_LEN) != 0)
		return err_set(e, "consistency proof does not lead to the new root");
	return 0;
}

void merkle_cr_init(struct merkle_cr *cr)
{
	memset(cr, 0, sizeof *cr);
}

int merkle_cr_load(struct merkle_cr *cr, merkle_node_fn get, void *ctx, uint64_t n,
		   struct err *e)
{
	merkle_cr_init(cr);
	uint64_t start = 0;
	for (int level = 63; level >= 0; level--) {
		uint64_t bit = (uint64_t)1 << level;
		if (!(n & bit))
			continue;
		if (get(ctx, (unsigned)level, start >> level, cr->h[cr->n], e))
			return -1;
		cr->n++;
		start += bit;
	}
	cr->size = n;
	return 0;
}

int merkle_cr_append_known(struct merkle_cr *cr, const uint8_t leaf[HASH_LEN], merkle_known_fn known,
			   void *kctx, merkle_emit_fn emit, void *ctx, struct err *e)
{
	if (cr->size == UINT64_MAX)
		return err_set(e, "tree is full");
	uint64_t index = cr->size;
	unsigned level = 0;
	uint8_t h[HASH_LEN];
	memcpy(h, leaf, HASH_LEN);
	if (emit && emit(ctx, 0, index, h, e))
		return -1;
	/* Each trailing 1 bit of the old size is a subtree to merge with. */
	while (index & 1) {
		level++;
		index >>= 1;
		const uint8_t *k = known ? known(kctx, level, index) : NULL;
		if (k)
			memcpy(h, k, HASH_LEN);
		else
			merkle_node_hash(cr->h[cr->n - 1], h, h);
		cr->n--;
		if (emit && emit(ctx, level, index, h, e))
			return -1;
	}
	memcpy(cr->h[cr->n++], h, HASH_LEN);
	cr->size++;
	return 0;
}

int merkle_cr_append(struct merkle_cr *cr, const uint8_t leaf[HASH_LEN],
		     merkle_emit_fn emit, void *ctx, struct err *e)
{
	return merkle_cr_append_known(cr, leaf, NULL, NULL, emit, ctx, e);
}

void merkle_cr_root(const struct merkle_cr *cr, uint8_t out[HASH_LEN])
{
	if (cr->n == 0) {
		merkle_empty_root(out);
		return;
	}
	uint8_t h[HASH_LEN];
	memcpy(h, cr->h[cr->n - 1], HASH_LEN);
	for (unsigned k = cr->n - 1; k-- > 0;)
		merkle_node_hash(cr->h[k], h, h);
	memcpy(out, h, HASH_LEN);
}

/*
 * Multi-leaf inclusion proofs (FORMAT.md section 6a).  Generation, counting
 * and verification are one walk: the RFC 9162 split of [lo, hi) into
 * [lo, lo + k) and [lo + k, hi), k the largest power of two below hi - lo,
 * left to right.  A range that holds none of the proven leaves is one proof
 * hash; a single proven leaf is its own leaf hash; any other range is split.
 */
struct mwalk {
	const uint64_t *idx;
	size_t count, at;		/* proven leaves, and the next one to meet */
	merkle_node_fn get;		/* generating: stored hashes (NULL: counting) */
	void *ctx;
	uint8_t (*out)[HASH_LEN];	/* generating: where proof hashes go */
	const uint8_t (*leaves)[HASH_LEN];	/* verifying: the leaf hashes */
	const uint8_t (*proof)[HASH_LEN];
	size_t plen, pat;		/* proof hashes used (or written) so far */
};

static int mwalk(struct mwalk *w, uint64_t lo, uint64_t hi, uint8_t out[HASH_LEN], struct err *e)
{
	bool none = w->at == w->count || w->idx[w->at] >= hi;
	if (none) {
		if (w->leaves) {
			if (w->pat == w->plen)
				return err_set(e, "multi-leaf proof has fewer hashes than the tree needs");
			memcpy(out, w->proof[w->pat++], HASH_LEN);
			return 0;
		}
		if (w->get && range_hash(w->get, w->ctx, lo, hi, w->out[w->pat], e))
			return -1;
		w->pat++;
		return 0;
	}
	if (hi - lo == 1) {
		if (w->leaves)
			memcpy(out, w->leaves[w->at], HASH_LEN);
		w->at++;
		return 0;
	}
	uint64_t mid = lo + split_point(hi - lo);
	uint8_t l[HASH_LEN], r[HASH_LEN];
	if (mwalk(w, lo, mid, l, e) || mwalk(w, mid, hi, r, e))
		return -1;
	if (w->leaves)
		merkle_node_hash(l, r, out);
	return 0;
}

static int mcheck(uint64_t n, const uint64_t *idx, size_t count, struct err *e)
{
	if (count == 0)
		return err_set(e, "a multi-leaf proof needs at least one leaf");
	for (size_t i = 0; i < count; i++) {
		if (idx[i] >= n)
			return err_set(e, "leaf index %llu is not in a tree of size %llu",
				       (unsigned long long)idx[i], (unsigned long long)n);
		if (i > 0 && idx[i] <= idx[i - 1])
			return err_set(e, "multi-leaf proof: leaf indexes must increase (%llu after %llu)",
				       (unsigned long long)idx[i], (unsigned long long)idx[i - 1]);
	}
	return 0;
}

size_t merkle_multi_proof_len(uint64_t n, const uint64_t *idx, size_t count)
{
	struct mwalk w = { .idx = idx, .count = count };
	uint8_t unused[HASH_LEN];
	if (mcheck(n, idx, count, NULL))
		return 0;
	mwalk(&w, 0, n, unused, NULL);
	return w.pat;
}

int merkle_multi_proof(merkle_node_fn get, void *ctx, uint64_t n, const uint64_t *idx,
		       size_t count, uint8_t proof[][HASH_LEN], size_t *len, struct err *e)
{
	struct mwalk w = { .idx = idx, .count = count, .get = get, .ctx = ctx, .out = proof };
	uint8_t unused[HASH_LEN];
	if (mcheck(n, idx, count, e) || mwalk(&w, 0, n, unused, e))
		return -1;
	*len = w.pat;
	return 0;
}

int merkle_verify_multi(uint64_t n, const uint64_t *idx, const uint8_t leaves[][HASH_LEN],
			size_t count, const uint8_t proof[][HASH_LEN], size_t len,
			const uint8_t root[HASH_LEN], struct err *e)
{
	struct mwalk w = { .idx = idx, .count = count, .leaves = leaves, .proof = proof, .plen = len };
	uint8_t r[HASH_LEN];
	if (mcheck(n, idx, count, e) || mwalk(&w, 0, n, r, e))
		return -1;
	if (w.pat != len)
		return err_set(e, "multi-leaf proof has %zu hashes, more than the tree needs (%zu)", len,
				w.pat);
	if (memcmp(r, root, HASH_LEN) != 0)
		return err_set(e, "multi-leaf proof does not lead to the expected root");
	return 0;
}
