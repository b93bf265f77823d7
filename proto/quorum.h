/*
 * quorum: the witnesses a checkpoint must carry (C2SP tlog-cosignature,
 * cosignature/v1 only: timestamped Ed25519, vkey signature type 0x04).
 *
 *   witness vkey  = <name>+<hex key id>+<base64(0x04 || 32-byte Ed25519 key)>
 *   key id        = SHA-256(<name> || "\n" || 0x04 || key)[:4]
 *   cosignature   = "— <name> " base64(key id || u64be timestamp || signature) "\n"
 *   signed        = "cosignature/v1\ntime <timestamp>\n" || checkpoint text
 *
 * A checkpoint carries the quorum when at least `quorum` of the configured
 * witnesses have a cosignature on it that verifies; a line that names a
 * configured witness and key id but does not verify counts as none.
 * Lines from unknown keys are ignored (the log's own signature among them).
 * ML-DSA (subtree/v1) is not verified: Debian 12's OpenSSL 3.0 has no ML-DSA.
 */
#ifndef SCOPE_QUORUM_H
#define SCOPE_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "note.h"

#define QUORUM_MAX_WITNESSES 16

struct witness_key {
	char name[NOTE_NAME_MAX + 1];
	uint8_t key_id[4];
	uint8_t pub[32];
};

/* A cosignature/v1 verifier key (an error says what is wrong with it). */
int witness_key_parse(const char *s, size_t n, struct witness_key *k, struct err *e);
void witness_key_format(const struct witness_key *k, struct buf *out);

/* The signature lines of note msg (n bytes) cosigned by k: 1 and *time
 * (seconds) for a valid one, 0 for none, -1 (e set) for one that names k
 * but does not verify.  *line, *line_len: where the valid line is in msg. */
int cosig_find(const char *msg, size_t n, const struct witness_key *k, uint64_t *time, const char **line,
	       size_t *line_len, struct err *e);

struct quorum_result {
	size_t count;				/* witnesses with a valid cosignature */
	bool cosigned[QUORUM_MAX_WITNESSES];	/* by index into the keys */
	uint64_t time[QUORUM_MAX_WITNESSES];	/* its timestamp, seconds */
};

/* Checks the cosignatures of note msg against the nk keys; 0 if at least
 * `quorum` of them cosigned, else -1 with e naming those that did not. */
int quorum_check(const char *msg, size_t n, const struct witness_key *keys, size_t nk, size_t quorum,
		 struct quorum_result *r, struct err *e);

#endif
