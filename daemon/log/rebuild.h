/*
 * rebuild: what the log implies beyond the entries themselves.  Each entry
 * implies its derived-state writes (its replay through the rules given at
 * open, or for key and anchor entries the log's own, keys.h, anchors.h),
 * one request-id index record and one project index record
 * (proto/FORMAT.md, "Storage").  `scoped reindex` writes them afresh into
 * the store; `scoped verify` writes them into a scratch store and compares
 * the two, naming the first record that differs.
 */
#ifndef SCOPE_REBUILD_H
#define SCOPE_REBUILD_H

#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "ledger.h"
#include "store.h"

/* SHA-256 of the msgpack array [kind, project, body as the client sent
 * it]: the request-id index's digest. */
void rebuild_request_digest(const char *kind, size_t kind_len, const char *project, size_t project_len,
			    const uint8_t *body, size_t body_len, uint8_t out[32]);

/* The tree the log's own anchor entries are checked against: a
 * transaction holding the tree nodes up to the entry, and the origin. */
struct rebuild_tree {
	struct store_txn *nodes;
	const char *origin;
};

/* The log's own kinds (keys.h, anchors.h): checks en and writes its state
 * in t; 0, -1 refused, or 1 when en is none of them (the rules' then). */
int rebuild_own(struct store_txn *t, const struct rebuild_tree *tree, const struct entry *en, struct err *e);

/* Writes in t what entry seq implies: the rules replayed (the state so far
 * must be what the entries before it imply; rules NULL: none), its
 * request-id and its project index record.  body is scratch space. */
int rebuild_entry(struct store_txn *t, const struct rebuild_tree *tree, const struct ledger_rules *rules,
		  uint64_t seq, const struct entry *en, struct buf *body, struct err *e);
/* The same, given the request digest of en's own body computed ahead
 * (rebuild_request_digest of en->kind, en->project, en->body; on another
 * thread, say): used when the replayed body is en's body byte for byte,
 * else the digest is computed here.  given NULL: always computed here. */
int rebuild_entry_digest(struct store_txn *t, const struct rebuild_tree *tree, const struct ledger_rules *rules,
			 uint64_t seq, const struct entry *en, const uint8_t given[32], struct buf *body,
			 struct err *e);

/* Compares the derived state, the request-id index and the project index
 * of stored with those of implied (rebuilt from the log), byte for byte:
 * 0 when equal, else -1 with the first difference in e, named by database
 * and key (missing, not implied by the log, or a different value); the
 * rules name their own state keys. */
int rebuild_compare(struct store_txn *stored, struct store_txn *implied, const struct ledger_rules *rules,
		    struct err *e);

#endif
