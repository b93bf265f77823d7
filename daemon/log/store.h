/*
 * store: the LMDB environment and its key layout.  The only file that
 * includes lmdb.h.
 *
 * Databases (proto/FORMAT.md, "Storage"):
 *   entries  u64be seq             -> entry bytes, exactly as hashed
 *   nodes    u8 level ‖ u64be idx  -> 32-byte Merkle node hash (level 0 = leaves)
 *   reqids   author ‖ 0x00 ‖ reqid -> u64be seq ‖ request digest (idempotency)
 *   projects project ‖ 0x00 ‖ u64be seq -> "" (entries by project)
 *   state    derived state (the rules', and keys.c's): rebuilt from the log by `scoped reindex`
 *            (with reqids and projects), checked against it by `scoped verify`
 *   meta     name                  -> value (format, size, root, checkpoint, ...)
 *
 * Transactions carry a sticky error: after the first failed call every
 * further call on the transaction fails at once with the same code, so a
 * sequence of puts needs one check at the end.  store_commit() and
 * store_abort() both free the transaction; the caller drops its pointer.
 * A write transaction may hold one nested transaction at a time
 * (store_begin_child).
 *
 * Pointers returned by the get functions point into LMDB's map and are valid
 * only until the transaction ends.  One write transaction at a time
 * (LMDB's rule), and it belongs to the thread that began it.  Read
 * transactions are not tied to a thread's reader slot (MDB_NOTLS): each
 * holds a slot of its own, so a thread may hold several, beside a write
 * transaction of its own.  The daemon writes on its writer thread and
 * reads on the event loop's (commit.h); the fault settings below are plain
 * fields, set before the write they aim at is handed to the writer.
 */
#ifndef SCOPE_STORE_H
#define SCOPE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STORE_FORMAT 1

/* error codes in struct err.code */
enum {
	STORE_E_IO = 1,		/* I/O or other LMDB failure */
	STORE_E_FULL,		/* map at its maximum size, or disk full */
	STORE_E_MAP_FULL,	/* map full but may grow: caller grows and retries */
	STORE_E_CORRUPT,	/* stored data is inconsistent */
	STORE_E_NOTFOUND,
};

struct store;
struct store_txn;

struct store_opts {
	size_t map_initial;	/* bytes; 0 = 64 MiB */
	size_t map_max;		/* bytes; 0 = 1 TiB */
	bool read_only;
};

int store_open(struct store **out, const char *dir, const struct store_opts *o, struct err *e);
void store_close(struct store *s);
/* Doubles the map size (bounded by map_max).  No transaction may be open
 * but the published snapshot's, which it ends and begins again at the
 * newest commit (no handle may be open on it). */
int store_grow(struct store *s, struct err *e);
/* A consistent, compacted copy of the whole environment (one LMDB file) to
 * fd, from a read transaction of its own: safe while another thread or
 * process writes.  While a copy runs in another thread, mark it with
 * store_set_copying so that store_grow refuses instead of moving the map. */
int store_copy(struct store *s, int fd, struct err *e);
void store_set_copying(struct store *s, bool on);
size_t store_map_size(const struct store *s);

struct store_usage {
	size_t used;		/* bytes of the map in use (pages up to the last one written) */
	size_t map_size;	/* bytes mapped now; grows by doubling up to map_max */
	size_t map_max;
};
void store_usage(const struct store *s, struct store_usage *u);

int store_begin(struct store *s, bool write, struct store_txn **t, struct err *e);
/* The published snapshot: what one thread reads while another writes
 * commits it must not see yet (the daemon's event loop, while its writer
 * thread commits a batch that is published only when handed back).  Once
 * enabled, every read transaction that thread begins (store_begin(s, false))
 * is a light handle on one LMDB read transaction the store keeps; its
 * store_abort frees only the handle, and cursors are closed as on any
 * read.  Enable it before any other thread uses the store.  It moves to
 * LMDB's newest commit only:
 *   - at store_snapshot_publish (the caller's write from another thread is
 *     now published, or failed);
 *   - after a write that thread commits itself, unless store_snapshot_hold
 *     says another thread's write is under way (its commit may be in the
 *     newest); that write shows from the next store_snapshot_publish;
 *   - at store_grow, which may run only with no write under way anywhere.
 * A handle open when the snapshot moves keeps the transaction it began on
 * (ended with its last handle), so nothing read through it changes.  When
 * the snapshot cannot be moved (LMDB refused, or out of memory), that
 * thread's reads fail with the reason until a move succeeds (a read tries
 * one itself when no other thread's write is under way).  A read costs a handle's
 * allocation, no LMDB transaction.  While it lags behind a commit, the
 * writer cannot reuse the pages that the published commit freed (LMDB keeps
 * them for its reader): at most one batch's worth of map more. */
int store_snapshot_enable(struct store *s, struct err *e);
void store_snapshot_hold(struct store *s);
int store_snapshot_publish(struct store *s, struct err *e);
int store_commit(struct store_txn *t, struct err *e);
void store_abort(struct store_txn *t);
/* A nested transaction inside write transaction parent, for one step that
 * must be all or nothing (one append of a batch): store_commit() folds its
 * writes into the parent, store_abort() drops them and leaves the parent
 * exactly as it was.  Its sticky error is its own, so a failed step does
 * not spoil the parent; a failed fold does (the parent's commit then
 * fails).  The parent must not be used while the child is open. */
int store_begin_child(struct store_txn *parent, struct store_txn **t, struct err *e);

int store_entry_get(struct store_txn *t, uint64_t seq, const uint8_t **p, size_t *n,
		    struct err *e);
int store_entry_put(struct store_txn *t, uint64_t seq, const uint8_t *p, size_t n,
		    struct err *e);
/* Calls fn for each entry with from <= seq < to, in order; fn returns 0 to
 * go on, 1 to stop, -1 to stop with an error. */
int store_entry_scan(struct store_txn *t, uint64_t from, uint64_t to,
		     int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e),
		     void *ctx, struct err *e);
/* Number of stored entries and the highest key, for consistency checks. */
int store_entry_stat(struct store_txn *t, uint64_t *count, uint64_t *last, struct err *e);

int store_node_get(struct store_txn *t, unsigned level, uint64_t index, uint8_t out[32],
		   struct err *e);
int store_node_put(struct store_txn *t, unsigned level, uint64_t index, const uint8_t h[32],
		   struct err *e);
/* store_node_get for reads that go up one index at a time within each
 * level (a verification's walk): one LMDB cursor per level steps to the
 * next record instead of searching the tree for each node.  Any order
 * works; only the next index of a level is a step.  Owned by the caller,
 * closed before t ends. */
struct store_node_reader;
int store_node_reader_open(struct store_txn *t, struct store_node_reader **out, struct err *e);
int store_node_read(struct store_node_reader *r, unsigned level, uint64_t index, uint8_t out[32],
		    struct err *e);
void store_node_reader_close(struct store_node_reader *r);

/* 1 found, 0 absent, -1 error */
int store_meta_get(struct store_txn *t, const char *name, const uint8_t **p, size_t *n,
		   struct err *e);
int store_meta_put(struct store_txn *t, const char *name, const void *p, size_t n,
		   struct err *e);
int store_meta_get_u64(struct store_txn *t, const char *name, uint64_t *v, struct err *e);
int store_meta_put_u64(struct store_txn *t, const char *name, uint64_t v, struct err *e);

/* The request-id index: (author, request id) -> the entry's seq and a
 * digest of the request's content.  1 found, 0 absent, -1 error. */
int store_reqid_get(struct store_txn *t, const char *author, size_t alen, const char *reqid,
		    size_t rlen, uint64_t *seq, uint8_t digest[32], struct err *e);
int store_reqid_put(struct store_txn *t, const char *author, size_t alen, const char *reqid,
		    size_t rlen, uint64_t seq, const uint8_t digest[32], struct err *e);

int store_project_put(struct store_txn *t, const char *project, size_t plen, uint64_t seq,
		      struct err *e);
/* Calls fn(ctx, seq) for the project's entries with seq >= from, in order,
 * until fn returns 1 (stop) or -1 (error). */
int store_project_scan(struct store_txn *t, const char *project, size_t plen, uint64_t from,
		       int (*fn)(void *ctx, uint64_t seq, struct err *e), void *ctx, struct err *e);

/* Derived state: 1 found, 0 absent, -1 error. */
int store_state_get(struct store_txn *t, const void *key, size_t klen, const uint8_t **v,
		    size_t *vlen, struct err *e);
int store_state_put(struct store_txn *t, const void *key, size_t klen, const void *v, size_t vlen,
		    struct err *e);
int store_state_del(struct store_txn *t, const void *key, size_t klen, struct err *e);
/* Calls fn for every state record whose key starts with prefix, in key
 * order; fn returns 0 to go on, 1 to stop, -1 on error. */
int store_state_scan(struct store_txn *t, const void *prefix, size_t plen,
		     int (*fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
			       struct err *e),
		     void *ctx, struct err *e);

/* ---- rebuilding what the log implies, for verification ---- */

enum store_db { STORE_DB_ENTRIES, STORE_DB_NODES, STORE_DB_REQIDS, STORE_DB_PROJECTS, STORE_DB_STATE,
		STORE_DB_META };

/* A scratch environment with the same databases: a temporary LMDB file
 * under $TMPDIR (else /tmp), unlinked as soon as it is open, so nothing is
 * left behind.  Written without syncing; close it with store_close(). */
int store_open_scratch(struct store **out, size_t map_initial, struct err *e);
/* From now on the entry reads on t (store_entry_get, _scan, _stat) read
 * log instead: a scratch transaction rebuilding state from a real log. */
void store_txn_entries_from(struct store_txn *t, struct store_txn *log);
/* Calls fn for every record of database db in key order; fn returns 0 to
 * go on, 1 to stop, -1 on error. */
int store_walk(struct store_txn *t, enum store_db db,
	       int (*fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e),
	       void *ctx, struct err *e);
/* The first key, in key order, where database db differs between a and
 * b: 0 when both hold the same records byte for byte, 1 with the
 * difference in *d (values point into the maps, valid until the
 * transactions end), -1 on error. */
struct store_diff {
	uint8_t key[512];
	size_t klen;
	const uint8_t *a, *b;	/* NULL: the key is absent on that side */
	size_t alen, blen;
};
int store_diff(struct store_txn *a, struct store_txn *b, enum store_db db, struct store_diff *d,
	       struct err *e);
/* Empties one database (for reindex). */
int store_clear(struct store_txn *t, enum store_db db, struct err *e);

/* Fault injection for tests: the n-th put from now (1 = the next one) fails
 * with the given code (STORE_E_MAP_FULL, STORE_E_FULL or STORE_E_IO);
 * n = 0 turns it off. */
void store_fault_put(struct store *s, unsigned n, int code);
/* The next top-level write transaction's commit fails with code (as
 * above; 0 turns it off) and writes nothing, as a failed sync would. */
void store_fault_commit(struct store *s, int code);

#endif
