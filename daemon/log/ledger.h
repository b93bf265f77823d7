/*
 * ledger: the append-only log on top of the store.  Assigns sequence
 * numbers, commit times and prev links, encodes entries canonically,
 * extends the Merkle tree, signs a checkpoint per committed batch, answers
 * reads and proofs, and verifies the whole stored state.
 *
 * It knows no kind of entry but its own key and anchor entries (keys.h,
 * anchors.h): the rules of
 * every other kind plug in at open (struct ledger_rules), and run inside
 * the append's transaction.  Without rules every entry is recorded as
 * sent.  Never includes a scope/ header: the daemon joins the two
 * (daemon/rules_hook.c).
 *
 * A write handle holds an exclusive lock on DIR/scoped.lock, so exactly one
 * process appends to a data directory.  Read-only handles take no lock and
 * read LMDB snapshots.
 *
 * In-memory state (size, compact range, last leaf, last time, the last
 * signed checkpoint) changes only after a commit returned success, so a
 * failed batch leaves both disk and memory exactly as they were.
 *
 * Threads: a write handle may write its batches on another thread than
 * the one that reads (the daemon's writer thread, commit.h):
 * ledger_write_batch runs there and changes no in-memory state, and
 * ledger_publish, on the reading thread, moves the state once the commit is
 * handed back; the caller orders the two (a mutex hand-off) and runs one
 * write at a time.  Reads (the functions below that take a read
 * transaction) run on the reading thread and see the published state: the
 * size, the checkpoint, entries and tree nodes up to it, never a batch the
 * store already holds but that is not published yet.  The size and the
 * checkpoint are the in-memory published ones; everything read from the
 * store (entries, nodes, and the derived state the rules' readers and the
 * daemon's read: status, reports, links) is read at the same state because
 * the reading thread reads through the store's published snapshot
 * (store_snapshot_enable), which the caller moves right after
 * ledger_publish (store_snapshot_publish).  Without a snapshot (one thread
 * writes and reads) the newest commit is the published one.  The reads
 * that take a size still clamp to the published size, a second guard.  The
 * map grows (store_grow) only with no transaction open in the process but
 * the snapshot's: a write on another thread hands a full map back instead
 * (ledger_write_batch).
 */
#ifndef SCOPE_LEDGER_H
#define SCOPE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "merkle.h"
#include "note.h"
#include "store.h"

struct ledger;

#define LEDGER_MAX_SIGNERS 2
#define LEDGER_KEY_AUTHOR "scoped"	/* the author of key entries */

/* The rules of the entries' kinds: a hook the log calls in the append's
 * write transaction, for each entry in turn. */
struct ledger_rules {
	void *ctx;
	/* Checks entry en against the derived state in t (the entries before
	 * it applied) and writes there what it implies.  Live (replay false):
	 * en holds the body as sent, with its seq and time; out gets the body
	 * to record, with the fields the rules assign.  Replay (reindex,
	 * verify): en is the stored entry, whose assigned fields must be what
	 * the rules assign; out gets the body as the client sent it (for the
	 * request-id digest).  checked: live, the mark check gave for this
	 * very body when ledger_check_append() checked it, so the rules need
	 * not check its schema again; else (and in replay) NULL.  0, or -1
	 * refused with the reason in e: the log then drops every write the
	 * rules made (a nested transaction). */
	int (*apply)(void *ctx, struct store_txn *t, const struct entry *en, bool as_client, bool replay,
		     const void *checked, struct buf *out, struct err *e);
	/* Names a derived-state key of the rules' for a message ("change
	 * c/pr-site/3"); false, adding nothing, when it is none of theirs. */
	bool (*name_key)(void *ctx, const uint8_t *k, size_t n, struct buf *out);
	/* Checks a body (canonical) against its kind's schema alone, no state:
	 * ledger_check_append's part of the rules.  0 with *mark set to what
	 * apply takes as checked for this body (NULL: nothing), or -1 with the
	 * reason in e.  NULL: none. */
	int (*check)(void *ctx, const char *kind, size_t kind_len, const uint8_t *body, size_t n, const void **mark,
		     struct err *e);
};

struct ledger_opts {
	const char *dir;		/* data directory (LMDB files, lock) */
	const char *origin;		/* checkpoint origin; NULL = whatever is stored */
	struct note_signer *signer;	/* borrowed; required for writing */
	size_t map_initial, map_max;	/* bytes; 0 = defaults */
	bool read_only;
	struct note_signer *signer_next;	/* borrowed, optional: a rotation's new key */
	const struct ledger_rules *rules;	/* borrowed; NULL: no rules, entries as sent */
	/* borrowed, optional: a follower's copy of the log this key signs.
	 * It writes (and takes the lock) without a signer, only through
	 * ledger_follow_store; ledger_append_batch refuses. */
	const struct note_verifier *replica_of;
};

struct ledger_append {
	const char *kind;
	size_t kind_len;
	const char *project;
	size_t project_len;
	const char *author;		/* from the authenticated identity, never the request */
	size_t author_len;
	const char *request_id;
	size_t request_id_len;
	const uint8_t *body;		/* canonical msgpack map */
	size_t body_len;
	bool as_client;			/* the author holds the client role */
	/* NULL: ledger_append_batch checks every field (the envelope's rules,
	 * the body's canonical form) before the rules run.  Only
	 * ledger_check_append() sets it, to a token private to the ledger,
	 * after it checked all of that and the kind's schema: the batch then
	 * trusts them.  A copy of the struct (the commit queue's) keeps it;
	 * whoever holds one may move the strings but not change them. */
	const void *checked;
	/* What the rules' check gave for the body (set with checked, NULL
	 * otherwise): handed to the rules' apply only beside checked. */
	const void *rules_checked;
};

enum ledger_status {
	LEDGER_APPENDED = 1,	/* new entry */
	LEDGER_DUPLICATE,	/* same author + request id + content: original returned */
	LEDGER_REJECTED,	/* invalid, or request id reused with other content */
};

enum { LEDGER_E_INVALID = 100, LEDGER_E_CONFLICT, LEDGER_E_CONFIG /* the configuration cannot work */ };

struct ledger_result {
	enum ledger_status status;
	uint64_t seq;
	uint8_t leaf[HASH_LEN];
	struct err err;		/* why, when rejected */
};

int ledger_open(struct ledger **out, const struct ledger_opts *o, struct err *e);
void ledger_close(struct ledger *l);

uint64_t ledger_size(const struct ledger *l);
const char *ledger_origin(const struct ledger *l);
struct store *ledger_store(struct ledger *l);
/* Replaces the clock (microseconds since 1970 UTC); for tests. */
void ledger_set_clock(struct ledger *l, uint64_t (*now_us)(void));
/* The time now by that clock. */
uint64_t ledger_now(const struct ledger *l);

/* The one check of an append from an untrusted peer, before it is queued:
 * the envelope's field rules (kind, project, author, request id), then the
 * body (n bytes of any well-formed msgpack) in canonical form (in place when
 * it already is, else re-encoded into canon, which the caller frees), its
 * limits, and the kind's schema through the rules given at open.  0 with
 * a->body, a->checked and a->rules_checked set; -1 with the reason in e (a
 * body's reason starts with "body: "), a untouched. */
int ledger_check_append(const struct ledger *l, struct ledger_append *a, const uint8_t *body, size_t n,
			struct buf *canon, struct err *e);

/* Appends a batch in one durable transaction (group commit).  Returns 0 when
 * the transaction committed (each result says what happened to its request)
 * and -1 when nothing was written (storage error in *e; every result is
 * LEDGER_REJECTED with that error).  Each append is all or nothing: the
 * rules write the derived state in a nested transaction of the
 * append's own, which is dropped when they or the entry's encoding refuse
 * it (the rest of the batch goes on); a failure in the log's writes after
 * them fails the whole batch.  A full map grows and the batch runs again. */
int ledger_append_batch(struct ledger *l, const struct ledger_append *reqs, size_t n,
			struct ledger_result *res, struct err *e);

/* What ledger_write_batch leaves for ledger_publish: the state after the
 * batch and the checkpoint note signed for it. */
struct ledger_commit {
	uint64_t size, last_time;
	uint8_t last_leaf[HASH_LEN];
	struct merkle_cr cr;
	struct buf note;
	bool appended;		/* false: nothing was written, nothing to publish */
};
void ledger_commit_init(struct ledger_commit *c);
void ledger_commit_free(struct ledger_commit *c);
/* ledger_append_batch in two halves, for a writer on its own thread.
 * ledger_write_batch writes and commits the batch exactly as
 * ledger_append_batch does, starting from the published state, but moves
 * no in-memory state (the new state goes to *c) and never grows the map: a
 * full map returns -1 with STORE_E_MAP_FULL in e (every result refused
 * with it), and the caller grows it where no transaction is open and
 * writes the same batch again.  ledger_publish makes c the published state
 * (after a 0 return; nothing when nothing was appended). */
int ledger_write_batch(struct ledger *l, const struct ledger_append *reqs, size_t n,
		       struct ledger_result *res, struct ledger_commit *c, struct err *e);
void ledger_publish(struct ledger *l, struct ledger_commit *c);

/* A follower's write (opts.replica_of): the next n entries of the primary,
 * exactly as it signed them (ents[i], lens[i]), in one durable
 * transaction: each is checked again (its seq, prev link, time, canonical
 * form) and its derived state rebuilt through the same rules a replay uses
 * (rebuild.h).  note is the primary's checkpoint that covers them (it must
 * verify with replica_of; key entries keep it as their checkpoint); with
 * head, the entries end at its size, the tree must have its root, and it
 * becomes the follower's stored checkpoint (a catch-up stores the entries
 * bound to it by the tiles in steps, the last with head).  Nothing is
 * written when anything is refused. */
int ledger_follow_store(struct ledger *l, const uint8_t *const *ents, const size_t *lens, size_t n,
			const uint8_t *note, size_t note_len, bool head, struct err *e);
/* The compact range of the committed tree (its subtree roots). */
void ledger_compact_range(const struct ledger *l, struct merkle_cr *cr);
/* A follower's record of a fork (FORMAT.md, "A follower"): the checkpoint
 * that is not consistent with the one it holds, stored durably; 1 and the
 * note in out when one is recorded, 0 when none, -1 on error. */
int ledger_follow_fork(struct ledger *l, const uint8_t *note, size_t note_len, struct err *e);
int ledger_follow_fork_get(struct ledger *l, struct buf *out, struct err *e);
/* The keys a follower's copy checks the primary's checkpoints with: its
 * replica_of (follow_trust) unless the copy's key history retired it, and
 * every key that history has in use, so that a rotation the copy followed
 * (a checkpoint signed by the old and the new key, then by the new alone)
 * is followed. */
#define LEDGER_MAX_TRUSTED 8
int ledger_follow_keys(struct ledger *l, struct note_verifier out[LEDGER_MAX_TRUSTED], size_t *n, struct err *e);

/* Latest signed checkpoint, exactly as signed (the published one on a
 * primary's write handle). */
int ledger_checkpoint(struct ledger *l, struct buf *out, struct err *e);
int ledger_get(struct ledger *l, uint64_t seq, struct buf *out, struct err *e);
/* The sequence numbers of the key entries, oldest first (at most max). */
int ledger_key_history(struct ledger *l, uint64_t *seqs, size_t max, size_t *n, struct err *e);
/* The checkpoint that first covered key entry seq, as it was signed then
 * (by the old and the new key during a rotation). */
int ledger_key_checkpoint(struct ledger *l, uint64_t seq, struct buf *note, struct err *e);
/* Root of the tree at size n (n <= current size). */
int ledger_root(struct ledger *l, uint64_t n, uint8_t root[HASH_LEN], struct err *e);
int ledger_inclusion(struct ledger *l, uint64_t seq, uint64_t size, uint8_t leaf[HASH_LEN],
		     uint8_t root[HASH_LEN], uint8_t proof[][HASH_LEN], size_t *len,
		     struct err *e);
int ledger_consistency(struct ledger *l, uint64_t m, uint64_t n, uint8_t root1[HASH_LEN],
		       uint8_t root2[HASH_LEN], uint8_t proof[][HASH_LEN], size_t *len,
		       struct err *e);
/* The multi-leaf inclusion proof of the entries idx[] (increasing) in the
 * tree of size `size`; proof holds merkle_multi_proof_len() hashes. */
int ledger_multi_proof(struct ledger *l, uint64_t size, const uint64_t *idx, size_t count,
		       uint8_t proof[][HASH_LEN], size_t *len, struct err *e);
/* Calls fn for entries from <= seq < to (clamped to the size); fn returns
 * 0 to go on, 1 to stop, -1 to stop with an error. */
int ledger_export(struct ledger *l, uint64_t from, uint64_t to,
		  int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e),
		  void *ctx, struct err *e);

/* Calls fn for the entries of one project with from <= seq < to, in order;
 * fn returns 0 to go on, 1 to stop, -1 on error. */
int ledger_list_project(struct ledger *l, const char *project, size_t plen, uint64_t from,
			uint64_t to,
			int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e),
			void *ctx, struct err *e);

/* Rebuilds the derived state, the request-id index and the project index
 * from the log (scoped reindex). */
int ledger_reindex(struct ledger *l, struct err *e);
/* SHA-256 over every derived-state record, in key order (for comparing
 * live and rebuilt state). */
int ledger_state_digest(struct ledger *l, uint8_t out[HASH_LEN], struct err *e);

struct ledger_verify_report {
	uint64_t entries;
	uint8_t root[HASH_LEN];
	bool failed;
	uint64_t bad_seq;	/* valid when failed and the fault is tied to an entry */
	bool bad_seq_known;
};
/* Recomputes everything from the stored entries: chain, leaf hashes, every
 * stored tree node, the root, and the stored checkpoint's signature (with
 * the ledger's own key when verifier is NULL; else, for a follower's copy,
 * with the keys ledger_follow_keys names from verifier, each key entry's
 * checkpoint signed by a key reached from verifier); then rebuilds the
 * derived state and both indexes from the log in a scratch store (under
 * $TMPDIR) and compares them with the stored ones byte for byte, checks
 * every metadata key against the log, and refuses stray keys (tree nodes
 * beyond the tree, metadata the ledger does not write).  The first
 * difference is named by database and key. */
int ledger_verify(struct ledger *l, const struct note_verifier *verifier,
		  void (*progress)(void *ctx, uint64_t done, uint64_t total), void *pctx,
		  struct ledger_verify_report *r, struct err *e);

#endif
