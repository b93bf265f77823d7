/*
 * merkle: RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their
 * verification (proto/FORMAT.md, "Merkle tree").
 *
 *   leaf hash  = SHA-256(0x00 || entry bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 *
 * Storage is abstract: proof generation reads "complete subtree" hashes
 * through a callback.  Node (level L, index k) is the root of the perfect
 * subtree over leaves [k * 2^L, (k+1) * 2^L); level 0 holds the leaf hashes.
 * Only such nodes are ever stored; every other hash is computed from them
 * with O(log n) reads.
 */
#ifndef SCOPE_MERKLE_H
#define SCOPE_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HASH_LEN	32
#define MERKLE_MAX_PROOF 64	/* enough for any 64-bit tree size */

typedef int (*merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
			      uint8_t out[HASH_LEN], struct err *e);

void sha256(const void *p, size_t n, uint8_t out[HASH_LEN]);
void merkle_leaf_hash(const void *p, size_t n, uint8_t out[HASH_LEN]);
void merkle_node_hash(const uint8_t l[HASH_LEN], const uint8_t r[HASH_LEN],
		      uint8_t out[HASH_LEN]);
void merkle_empty_root(uint8_t out[HASH_LEN]);

/* Root of the tree of the first n leaves. */
int merkle_root(merkle_node_fn get, void *ctx, uint64_t n, uint8_t out[HASH_LEN],
		struct err *e);
/* Audit path for leaf i in the tree of size n, leaf-side first (RFC 9162
 * 2.1.3.1).  *len receives the number of hashes. */
int merkle_inclusion_proof(merkle_node_fn get, void *ctx, uint64_t i, uint64_t n,
			   uint8_t proof[][HASH_LEN], size_t *len, struct err *e);
/* Consistency proof from size m to size n, 0 < m <= n (RFC 9162 2.1.4.1).
 * m == n gives an empty proof. */
int merkle_consistency_proof(merkle_node_fn get, void *ctx, uint64_t m, uint64_t n,
			     uint8_t proof[][HASH_LEN], size_t *len, struct err *e);

/* RFC 9162 2.1.3.2.  0 if the proof is valid. */
int merkle_verify_inclusion(uint64_t i, uint64_t n, const uint8_t leaf[HASH_LEN],
			    const uint8_t proof[][HASH_LEN], size_t len,
			    const uint8_t root[HASH_LEN], struct err *e);
/* RFC 9162 2.1.4.2, plus: m == 0 is refused; m == n needs an empty proof
 * and equal roots.  0 if the proof is valid. */
int merkle_verify_consistency(uint64_t m, uint64_t n, const uint8_t root1[HASH_LEN],
			      const uint8_t root2[HASH_LEN], const uint8_t proof[][HASH_LEN],
			      size_t len, struct err *e);

/*
 * Multi-leaf inclusion proof (FORMAT.md section 6a): proves the leaves at
 * idx[0] < idx[1] < ... < idx[count-1] (count >= 1, all < n) at once.  The
 * proof is the hashes of the maximal subtrees, in the RFC 9162 split, that
 * hold none of those leaves, in the order a depth-first, left-to-right walk
 * meets them.  A contiguous range needs at most 2 log2(n) hashes; k
 * scattered leaves at most k log2(n).  proof must hold
 * merkle_multi_proof_len() hashes (0 for a bad index list).
 */
size_t merkle_multi_proof_len(uint64_t n, const uint64_t *idx, size_t count);
int merkle_multi_proof(merkle_node_fn get, void *ctx, uint64_t n, const uint64_t *idx,
		       size_t count, uint8_t proof[][HASH_LEN], size_t *len, struct err *e);
/* 0 if the proof shows that leaves[i] is leaf idx[i] of the tree with root
 * `root` and size n, for every i. */
int merkle_verify_multi(uint64_t n, const uint64_t *idx, const uint8_t leaves[][HASH_LEN],
			size_t count, const uint8_t proof[][HASH_LEN], size_t len,
			const uint8_t root[HASH_LEN], struct err *e);

/*
 * Compact range: the roots of the perfect subtrees that make up a tree of
 * `size` leaves (one per set bit of size, largest first).  Enough to append
 * leaves and compute the root in O(log n) memory; used for streaming
 * verification and by the daemon to extend the stored tree.
 */
struct merkle_cr {
	uint64_t size;
	unsigned n;			/* number of subtree roots held */
	uint8_t h[64][HASH_LEN];
};

/* Called for every complete node a leaf append creates (the leaf itself
 * first, level 0), so the caller can store or compare them. */
typedef int (*merkle_emit_fn)(void *ctx, unsigned level, uint64_t index,
			      const uint8_t h[HASH_LEN], struct err *e);

void merkle_cr_init(struct merkle_cr *cr);
/* Loads the compact range of a stored tree of size n through `get`. */
int merkle_cr_load(struct merkle_cr *cr, merkle_node_fn get, void *ctx, uint64_t n,
		   struct err *e);
int merkle_cr_append(struct merkle_cr *cr, const uint8_t leaf[HASH_LEN],
		     merkle_emit_fn emit, void *ctx, struct err *e);
/* The hash of the interior node (level >= 1, index), if the caller has it
 * already, else NULL. */
typedef const uint8_t *(*merkle_known_fn)(void *ctx, unsigned level, uint64_t index);
/* merkle_cr_append taking each interior node it completes from `known` when
 * that has it (computed elsewhere from the same leaves, e.g. on another
 * thread) instead of hashing it; emit still sees every node, in order. */
int merkle_cr_append_known(struct merkle_cr *cr, const uint8_t leaf[HASH_LEN], merkle_known_fn known,
			   void *kctx, merkle_emit_fn emit, void *ctx, struct err *e);
void merkle_cr_root(const struct merkle_cr *cr, uint8_t out[HASH_LEN]);

#endif
