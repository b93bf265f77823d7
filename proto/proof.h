/*
 * proof: the JSON forms of proofs (proto/FORMAT.md, "Proofs"), written and
 * read.
 *   {"tree_size":n,"leaf_index":i,"leaf_hash":"<hex>","root_hash":"<hex>","proof":["<hex>",...]}
 *   {"old_size":m,"new_size":n,"old_root":"<hex>","new_root":"<hex>","proof":["<hex>",...]}
 */
#ifndef SCOPE_PROOF_H
#define SCOPE_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "merkle.h"

struct inclusion_proof {
	uint64_t tree_size, leaf_index;
	uint8_t leaf_hash[HASH_LEN], root_hash[HASH_LEN];
	uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN];
	size_t len;
};

struct consistency_proof {
	uint64_t old_size, new_size;
	uint8_t old_root[HASH_LEN], new_root[HASH_LEN];
	uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN];
	size_t len;
};

void inclusion_to_json(const struct inclusion_proof *p, struct buf *out);
void consistency_to_json(const struct consistency_proof *p, struct buf *out);
int inclusion_from_json(const char *s, size_t n, struct inclusion_proof *p, struct err *e);
/* The same from a msgpack map (e.g. the "proof" member of a receipt). */
int inclusion_from_msgpack(const uint8_t *m, size_t n, struct inclusion_proof *p, struct err *e);
int consistency_from_json(const char *s, size_t n, struct consistency_proof *p, struct err *e);

#endif
