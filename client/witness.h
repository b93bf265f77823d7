/*
 * witness: the client's memory of checkpoints.  Every checkpoint scopectl
 * is shown must be signed by a trusted key and consistent with the latest
 * one it remembers for that origin (a consistency proof is asked for and
 * checked); a newer one is then remembered.  A server that forks or
 * rewrites its log is reported with both checkpoints.
 *
 * The memory lives in $XDG_STATE_HOME/scopectl/ (default
 * ~/.local/state/scopectl/), one file per origin holding the signed note.
 */
#ifndef SCOPECTL_WITNESS_H
#define SCOPECTL_WITNESS_H

#include "buf.h"
#include "err.h"
#include "net.h"
#include "note.h"

/* With witnesses in the profile (witness, quorum), every checkpoint
 * accepted must also carry the quorum of valid cosignatures
 * (proto/cosig.h); a request whose answer carries a checkpoint asks for the
 * cosigned one: witness_ask_cosigned() adds "cosigned": true (1 field) or
 * nothing (0) and says how many. */
#define WITNESS_WAIT_S 30	/* how long prove waits for a cosigned checkpoint to cover an entry */
uint32_t witness_cosigned_fields(const struct session *s);
void witness_ask_cosigned(struct session *s);

/* Asks the server for its latest checkpoint and accepts it as above. */
int witness_latest(struct session *s, struct checkpoint *cp, struct buf *note, struct err *e);
/* The same, but a checkpoint older than the remembered one is refused
 * (CTL_EXIT_VERIFY), not noted: for an answer that must be the latest the
 * client knows of (status and report --verify). */
int witness_newest(struct session *s, struct checkpoint *cp, struct buf *note, struct err *e);
/* Accepts a checkpoint note that came with another answer. */
int witness_accept(struct session *s, const char *note, size_t n, struct checkpoint *cp,
		   struct err *e);
/* Checks with a consistency proof from the server that the tree of size
 * `size` with root `root` is a prefix of the (already accepted) cp. */
int witness_prefix(struct session *s, uint64_t size, const uint8_t root[HASH_LEN],
		   const struct checkpoint *cp, struct err *e);
/* Asks for the consistency proof from size m (root r1) to n (root r2) into
 * proof (*plen hashes) and checks it. */
int witness_consistency(struct session *s, uint64_t m, uint64_t n, const uint8_t r1[HASH_LEN],
			const uint8_t r2[HASH_LEN], uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN], size_t *plen,
			struct err *e);

#endif
