/*
 * follow: `scoped follow --from URL`, a verified read-only copy of another
 * scoped's log (proto/PROTOCOL.md, "Followers").  A libevent timer every
 * follow_interval_s fetches the primary's C2SP tlog-tiles: the checkpoint
 * (verified with follow_trust), the level-0 hash tiles of every entry the
 * copy lacks, whose leaves with the copy's own tree must give the
 * checkpoint's root (so the new checkpoint is consistent with everything
 * held), then the entry bundles, each entry's leaf hash checked against
 * its tile, and only then stores them with ledger_follow_store (the
 * primary's bytes, derived state rebuilt by the same rules).  Requests go
 * one at a time over one HTTPS connection with follow_cert (mutual TLS,
 * the server checked against follow_ca), bounded in time and each reply
 * in size by what its resource can hold (a checkpoint note, W hashes, W
 * entries of max_frame), refused as it is read past that; a bundle's
 * entries are checked as it comes and held, verified, until 16 bundles or
 * FOLLOW_HELD_BYTES are stored in one transaction.  A failure is retried
 * with a doubling back-off capped at the interval.
 *
 * A checkpoint that is not consistent with the copy (a fork: another
 * history under the same key) stops the following for good: the two
 * checkpoints are kept in the store (meta follow_fork) and in
 * DATA_DIR/follow-fork.txt, logged at error level at every start and shown
 * by info; the copy keeps serving what it verified.
 *
 * A checkpoint smaller than the one held (a rollback, even a consistent
 * one) is refused: the copy keeps what it holds, logs ROLLBACK, keeps both
 * checkpoints in DATA_DIR/follow-rollback.txt, counts it (info rollbacks,
 * state rolled_back) and asks again every interval.
 *
 * The cosignature lines (cosignature/v1) of the primary's checkpoint are
 * taken apart from the log's note: kept, verified with the witness lines
 * configured if any (else left to the clients), only for exactly the
 * checkpoint the copy holds; the others are counted (cosignatures_refused).
 * The newest held checkpoint with them is kept in meta follow_cosigned and
 * served as the cosigned checkpoint and on the tiles' /checkpoint.
 *
 *   server --owns--> follow --ledger_follow_store--> ledger
 */
#ifndef SCOPE_FOLLOW_H
#define SCOPE_FOLLOW_H

#include <stdbool.h>

#include "buf.h"
#include "err.h"

struct server;

#define FOLLOW_TIMEOUT_S 30		/* one request, connect to reply */
#define FOLLOW_MAX_CHECKPOINT 16384	/* bytes of a checkpoint note */
#define FOLLOW_CHUNK_BUNDLES 16		/* bundles stored per transaction, at most */
#define FOLLOW_HELD_BYTES (32u << 20)	/* verified entries held before they are stored, at most (and one bundle) */

/* Reads follow_trust into s->verifier and s->verifier_key and remembers
 * the primary's URL. */
int follow_trust(struct server *s, const char *from, struct err *e);
/* After the ledger is open: the TLS client, the timer, the first fetch;
 * a recorded fork is reported and nothing is fetched. */
int follow_start(struct server *s, struct err *e);
/* What an append-like operation on a follower answers: NULL when op is a
 * read, else the message naming the primary. */
const char *follow_refusal(const struct server *s, const char *op, char *msg, size_t cap);
/* info's "follow" member (a map); nothing on a primary. */
void follow_pack_info(const struct server *s, struct buf *out);
/* The newest checkpoint the copy holds with the cosignature lines the
 * primary served with it (NULL if none); *size its tree size. */
const struct buf *follow_cosigned(const struct server *s, uint64_t *size);
/* Appends the cosignature lines kept for exactly the signed note
 * note[0..n) (the copy's checkpoint as ledger_checkpoint reads it), if
 * any; -1 out of memory. */
int follow_cosig_lines(const struct server *s, const uint8_t *note, size_t n, struct buf *out);
/* The one teardown. */
void follow_free(struct server *s);

#endif
