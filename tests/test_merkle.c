/*
 * RFC 6962 / 9162 Merkle math against an independent, naive recursive
 * implementation written here from the RFC's definitions.
 */
#include <stdint.h>

#include "enc.h"
#include "merkle.h"
#include "tap.h"

#define N 300

static uint8_t leaves[N][32];

/* ---- naive reference: straight from RFC 9162 section 2.1 ---- */

static uint64_t k_of(uint64_t n)
{
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	return k;
}

static void mth(uint64_t a, uint64_t b, uint8_t out[32])
{
	if (b - a == 1) {
		memcpy(out, leaves[a], 32);
		return;
	}
	uint64_t k = k_of(b - a);
	uint8_t l[32], r[32];
	mth(a, a + k, l);
	mth(a + k, b, r);
	merkle_node_hash(l, r, out);
}

/* PATH(m, D[a:b]) appended to p */
static void path(uint64_t m, uint64_t a, uint64_t b, uint8_t p[][32], size_t *len)
{
	if (b - a <= 1)
		return;
	uint64_t k = k_of(b - a);
	if (m < k) {
		path(m, a, a + k, p, len);
		mth(a + k, b, p[(*len)++]);
	} else {
		path(m - k, a + k, b, p, len);
		mth(a, a + k, p[(*len)++]);
	}
}

static void subproof(uint64_t m, uint64_t a, uint64_t b, int whole, uint8_t p[][32], size_t *len)
{
	if (m == b - a) {
		if (!whole)
			mth(a, b, p[(*len)++]);
		return;
	}
	uint64_t k = k_of(b - a);
	if (m <= k) {
		subproof(m, a, a + k, whole, p, len);
		mth(a + k, b, p[(*len)++]);
	} else {
		subproof(m - k, a + k, b, 0, p, len);
		mth(a, a + k, p[(*len)++]);
	}
}

/* the multi-leaf proof of FORMAT.md section 6a, from its definition */
static void multi(const uint64_t *idx, size_t count, uint64_t a, uint64_t b, uint8_t p[][32], size_t *len)
{
	bool any = false;
	for (size_t i = 0; i < count; i++)
		any |= idx[i] >= a && idx[i] < b;
	if (!any) {
		mth(a, b, p[(*len)++]);
		return;
	}
	if (b - a == 1)
		return;
	uint64_t k = k_of(b - a);
	multi(idx, count, a, a + k, p, len);
	multi(idx, count, a + k, b, p, len);
}

/* ---- in-memory node store filled through merkle_cr_append's emit ---- */

static uint8_t nodes[10][N][32];
static uint8_t have[10][N];

static int emit(void *ctx, unsigned level, uint64_t index, const uint8_t h[32], struct err *e)
{
	(void)ctx;
	(void)e;
	memcpy(nodes[level][index], h, 32);
	have[level][index] = 1;
	return 0;
}

static int get(void *ctx, unsigned level, uint64_t index, uint8_t out[32], struct err *e)
{
	(void)ctx;
	if (level >= 10 || index >= N || !have[level][index])
		return err_set(e, "no node %u/%llu", level, (unsigned long long)index);
	memcpy(out, nodes[level][index], 32);
	return 0;
}

static int known_calls, known_wrong;

static const uint8_t *known(void *ctx, unsigned level, uint64_t index)
{
	static const uint8_t wrong[32] = { 1 };
	(void)ctx;
	known_calls++;
	if (known_wrong && level == 3)
		return wrong;
	return level < 10 && index < N && have[level][index] ? nodes[level][index] : NULL;
}

int main(void)
{
	struct err e = { 0 };
	uint8_t root[32], want[32];
	char hex[65];

	merkle_empty_root(root);
	hex_encode(root, 32, hex);
	is_str(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	       "empty tree root is SHA-256 of nothing");
	/* leaf hash of the empty string, RFC 6962 test vector */
	merkle_leaf_hash("", 0, root);
	hex_encode(root, 32, hex);
	is_str(hex, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	       "leaf hash of the empty entry");

	struct merkle_cr cr;
	merkle_cr_init(&cr);
	int roots_ok = 1, stored_ok = 1, cr_ok = 1;
	for (int i = 0; i < N; i++) {
		uint8_t data[8] = { (uint8_t)i, (uint8_t)(i >> 8), 'x' };
		merkle_leaf_hash(data, (size_t)(i % 7), leaves[i]);
		data[0] ^= 0;
		if (merkle_cr_append(&cr, leaves[i], emit, NULL, &e))
			cr_ok = 0;
		mth(0, (uint64_t)i + 1, want);
		merkle_cr_root(&cr, root);
		if (memcmp(root, want, 32) != 0)
			roots_ok = 0;
		if (merkle_root(get, NULL, (uint64_t)i + 1, root, &e) || memcmp(root, want, 32) != 0)
			stored_ok = 0;
	}
	ok(cr_ok, "compact range accepts %d appends", N);
	ok(roots_ok, "compact-range root equals the naive root for every size 1..%d", N);
	ok(stored_ok, "root from stored nodes equals the naive root for every size 1..%d", N);

	int emitted_ok = 1;
	for (unsigned l = 0; l < 10; l++)
		for (uint64_t k = 0; (k + 1) << l <= N; k++) {
			mth(k << l, (k + 1) << l, want);
			if (!have[l][k] || memcmp(nodes[l][k], want, 32) != 0)
				emitted_ok = 0;
		}
	ok(emitted_ok, "every complete subtree node was emitted with the right hash");

	/* the interior nodes from elsewhere (here the stored ones): the same
	 * roots and emits; a wrong one shows it was taken, not recomputed */
	struct merkle_cr kr;
	merkle_cr_init(&kr);
	int known_ok = 1;
	for (int i = 0; i < N; i++) {
		if (merkle_cr_append_known(&kr, leaves[i], known, NULL, emit, NULL, &e))
			known_ok = 0;
		mth(0, (uint64_t)i + 1, want);
		merkle_cr_root(&kr, root);
		if (memcmp(root, want, 32) != 0)
			known_ok = 0;
	}
	ok(known_ok && known_calls > 0, "merkle_cr_append_known with known nodes: the same root at every size");
	merkle_cr_init(&kr);
	known_wrong = 1;
	for (int i = 0; i < 8; i++)
		merkle_cr_append_known(&kr, leaves[i], known, NULL, NULL, NULL, &e);
	known_wrong = 0;
	mth(0, 8, want);
	merkle_cr_root(&kr, root);
	ok(memcmp(root, want, 32) != 0, "  a known node is used as given");

	struct merkle_cr loaded;
	ok(merkle_cr_load(&loaded, get, NULL, 237, &e) == 0, "load a compact range from stored nodes");
	mth(0, 237, want);
	merkle_cr_root(&loaded, root);
	ok(memcmp(root, want, 32) == 0 && loaded.size == 237, "  it gives the right root");

	/* inclusion proofs: all (i, n) up to N */
	uint8_t p[64][32], q[64][32];
	size_t len, qlen;
	long bad_gen = 0, bad_ver = 0, bad_mut = 0, total = 0;
	for (uint64_t n = 1; n <= N; n++) {
		uint8_t r[32];
		mth(0, n, r);
		for (uint64_t i = 0; i < n; i++) {
			total++;
			if (merkle_inclusion_proof(get, NULL, i, n, p, &len, &e)) {
				bad_gen++;
				continue;
			}
			if (n <= 64) {
				qlen = 0;
				path(i, 0, n, q, &qlen);
				if (qlen != len || memcmp(p, q, 32 * len) != 0)
					bad_gen++;
			}
			if (merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[32])p, len, r, &e))
				bad_ver++;
			/* mutations that must fail */
			/* (a size whose path has the same shape, e.g. n+1, can verify
			 * legitimately; doubling always needs one more hash) */
			if (merkle_verify_inclusion(i, 2 * n, leaves[i], (const uint8_t(*)[32])p, len, r, &e) == 0)
				bad_mut++;
			if (len > 0) {
				p[(i * 7) % len][i % 32] ^= 1;
				if (merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[32])p, len, r, &e) == 0)
					bad_mut++;
				p[(i * 7) % len][i % 32] ^= 1;
				if (merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[32])p, len - 1, r, &e) == 0)
					bad_mut++;
			}
			if (n > 1 && merkle_verify_inclusion((i + 1) % n, n, leaves[i], (const uint8_t(*)[32])p,
							     len, r, &e) == 0)
				bad_mut++;
			r[0] ^= 0x80;
			if (merkle_verify_inclusion(i, n, leaves[i], (const uint8_t(*)[32])p, len, r, &e) == 0)
				bad_mut++;
			r[0] ^= 0x80;
		}
	}
	is_int(bad_gen, 0, "inclusion proofs for all %ld (i, n), n <= %d, match the naive PATH (n <= 64)", total, N);
	is_int(bad_ver, 0, "every inclusion proof verifies");
	is_int(bad_mut, 0, "changed hash, truncated proof, wrong index, wrong root: all fail");

	/* consistency proofs: all (m, n) up to N */
	bad_gen = bad_ver = bad_mut = total = 0;
	for (uint64_t n = 1; n <= N; n++) {
		uint8_t r2[32];
		mth(0, n, r2);
		for (uint64_t m = 1; m <= n; m++) {
			uint8_t r1[32];
			mth(0, m, r1);
			total++;
			if (merkle_consistency_proof(get, NULL, m, n, p, &len, &e)) {
				bad_gen++;
				continue;
			}
			if (n <= 64) {
				qlen = 0;
				if (m < n)
					subproof(m, 0, n, 1, q, &qlen);
				if (qlen != len || memcmp(p, q, 32 * len) != 0)
					bad_gen++;
			}
			if (merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])p, len, &e))
				bad_ver++;
			if (len > 0) {
				p[m % len][(m + n) % 32] ^= 4;
				if (merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])p, len, &e) == 0)
					bad_mut++;
				p[m % len][(m + n) % 32] ^= 4;
			}
			r1[5] ^= 1;
			if (merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])p, len, &e) == 0)
				bad_mut++;
			r1[5] ^= 1;
			r2[9] ^= 1;
			if (merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])p, len, &e) == 0)
				bad_mut++;
			r2[9] ^= 1;
			if (merkle_verify_consistency(m, 2 * n, r1, r2, (const uint8_t(*)[32])p, len, &e) == 0)
				bad_mut++;
		}
	}
	is_int(bad_gen, 0, "consistency proofs for all %ld (m, n), n <= %d, match the naive SUBPROOF (n <= 64)", total, N);
	is_int(bad_ver, 0, "every consistency proof verifies");
	is_int(bad_mut, 0, "changed hash, changed old or new root, wrong size: all fail");

	/* multi-leaf proofs: every contiguous range for n <= 40, and scattered
	 * sets for every n <= N */
	{
		static uint8_t mp[N * 10][32], mq[N * 10][32], ml[N][32];
		uint64_t idx[N];
		size_t mlen, mqlen;
		long mbad_gen = 0, mbad_ver = 0, mbad_mut = 0, mbad_len = 0, mtotal = 0;
		unsigned seed = 7;
		for (uint64_t n = 1; n <= N; n++) {
			uint8_t r[32];
			mth(0, n, r);
			for (int round = 0; round < (n <= 40 ? (int)(n * (n + 1) / 2) : 6); round++) {
				size_t count = 0;
				if (n <= 40) {	/* round -> the range [a, b) */
					uint64_t a = 0, rest = (uint64_t)round;
					while (rest >= n - a) {
						rest -= n - a;
						a++;
					}
					for (uint64_t i = a; i <= a + rest; i++)
						idx[count++] = i;
				} else {
					for (uint64_t i = 0; i < n; i++)
						if ((seed = seed * 1103515245u + 12345u) >> 16 & 1 << round % 4)
							idx[count++] = i;
					if (count == 0)
						idx[count++] = n / 2;
				}
				mtotal++;
				for (size_t i = 0; i < count; i++)
					memcpy(ml[i], leaves[idx[i]], 32);
				if (merkle_multi_proof(get, NULL, n, idx, count, mp, &mlen, &e)) {
					mbad_gen++;
					continue;
				}
				mqlen = 0;
				multi(idx, count, 0, n, mq, &mqlen);
				if (mqlen != mlen || memcmp(mp, mq, 32 * mlen) != 0 ||
				    merkle_multi_proof_len(n, idx, count) != mlen)
					mbad_gen++;
				if (n <= 40 && mlen > 2 * 6)	/* a range: two edges of at most log2(n) */
					mbad_len++;
				if (merkle_verify_multi(n, idx, (const uint8_t(*)[32])ml, count,
							(const uint8_t(*)[32])mp, mlen, r, &e))
					mbad_ver++;
				if (mlen > 0) {
					mp[mtotal % mlen][3] ^= 1;
					if (merkle_verify_multi(n, idx, (const uint8_t(*)[32])ml, count,
								(const uint8_t(*)[32])mp, mlen, r, &e) == 0)
						mbad_mut++;
					mp[mtotal % mlen][3] ^= 1;
					if (merkle_verify_multi(n, idx, (const uint8_t(*)[32])ml, count,
								(const uint8_t(*)[32])mp, mlen - 1, r, &e) == 0)
						mbad_mut++;
				}
				if (merkle_verify_multi(n, idx, (const uint8_t(*)[32])ml, count,
							(const uint8_t(*)[32])mp, mlen + 1, r, &e) == 0)
					mbad_mut++;
				ml[count - 1][0] ^= 2;
				if (merkle_verify_multi(n, idx, (const uint8_t(*)[32])ml, count,
							(const uint8_t(*)[32])mp, mlen, r, &e) == 0)
					mbad_mut++;
				ml[count - 1][0] ^= 2;
				if (idx[count - 1] + 1 < n) {	/* the same hashes claimed one place later */
					idx[count - 1]++;
					if (merkle_verify_multi(n, idx, (const uint8_t(*)[32])ml, count,
								(const uint8_t(*)[32])mp, mlen, r, &e) == 0)
						mbad_mut++;
					idx[count - 1]--;
				}
				if (merkle_verify_multi(2 * n, idx, (const uint8_t(*)[32])ml, count,
							(const uint8_t(*)[32])mp, mlen, r, &e) == 0)
					mbad_mut++;
			}
		}
		is_int(mbad_gen, 0, "multi-leaf proofs for %ld leaf sets, n <= %d, match the definition", mtotal, N);
		is_int(mbad_len, 0, "  a contiguous range needs at most 2 log2(n) hashes");
		is_int(mbad_ver, 0, "  every one verifies");
		is_int(mbad_mut, 0, "  changed, missing or extra hash, changed leaf, shifted index, wrong size: all fail");
		idx[0] = 3;
		idx[1] = 3;
		ok(merkle_verify_multi(10, idx, (const uint8_t(*)[32])ml, 2, (const uint8_t(*)[32])mp, 0, want, &e) != 0,
		   "a repeated leaf index is refused");
		like(e.msg, "must increase", "  naming the problem");
		ok(merkle_multi_proof(get, NULL, 10, idx, 0, mp, &mlen, &e) != 0, "an empty leaf set is refused");
	}
	ok(merkle_consistency_proof(get, NULL, 0, 5, p, &len, &e) != 0, "no consistency proof from size 0");
	ok(merkle_inclusion_proof(get, NULL, 5, 5, p, &len, &e) != 0, "no inclusion proof for an index beyond the tree");
	like(e.msg, "not in a tree of size 5", "  names the problem");
	return done_testing();
}
