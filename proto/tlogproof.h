/*
 * tlogproof: the C2SP tlog-proof text format (c2sp.org/tlog-proof@v1), an
 * inclusion proof that carries its signed checkpoint, so that transparency
 * log tooling can check one entry offline:
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]          (never written; read and ignored: unauthenticated)
 *   index <decimal, no leading zeroes>
 *   <base64 SHA-256>          (the RFC 6962 audit path, leaf side first; 0 or more)
 *   <empty line>
 *   <the checkpoint, a signed note, verbatim>
 */
#ifndef SCOPE_TLOGPROOF_H
#define SCOPE_TLOGPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "merkle.h"

#define TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"

/* Appends the proof of leaf `index`, with the signed checkpoint note. */
void tlog_proof_format(uint64_t index, const uint8_t proof[][HASH_LEN], size_t len, const char *note,
		       size_t note_len, struct buf *out);
/* Parses s (n bytes): *index, the hashes into proof (*len of them, at most
 * MERKLE_MAX_PROOF), and where the checkpoint note starts (*note, *note_len:
 * pointing into s).  An error names the line that is wrong. */
int tlog_proof_parse(const char *s, size_t n, uint64_t *index, uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN],
		     size_t *len, const char **note, size_t *note_len, struct err *e);

#endif
