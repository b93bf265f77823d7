/*
 * cosig: C2SP tlog-cosignature, the Ed25519 form `cosignature/v1`
 * (signed-note signature type 0x04).
 *
 *   key id       = SHA-256(name || 0x0A || 0x04 || public key)[:4]
 *   verifier key = <name>+<hex key id>+<base64(0x04 || public key)>
 *   signed text  = "cosignature/v1\ntime <T>\n" || checkpoint body
 *   line         = "— <name> base64(key id || u64be T || Ed25519 signature)\n"
 *
 * A cosignature says: at time T, this checkpoint is the largest consistent
 * tree head the cosigner has seen for its origin.  The ML-DSA-44 form
 * (`subtree/v1`, type 0x06) is not implemented: a verifier key of that type
 * is refused, naming whether the OpenSSL in use has ML-DSA-44 at all
 * (asked at run time, cosig_mldsa_available).
 */
#ifndef SCOPE_COSIG_H
#define SCOPE_COSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "note.h"

#define COSIG_TYPE		0x04
#define COSIG_TYPE_MLDSA	0x06	/* subtree/v1, ML-DSA-44: refused (see above) */
#define COSIG_TIME_MAX		UINT64_C(0x7fffffffffffffff)	/* 2^63 - 1 */
/* The most cosigners a verifier is configured with. */
#define COSIG_MAX_COSIGNERS	32

struct cosig_verifier {
	char name[NOTE_NAME_MAX + 1];
	uint8_t key_id[4];	/* the type 0x04 key id */
	uint8_t pub[32];
};

/* A cosigning key; key.key_id is the type 0x04 key id, so it must never be
 * handed to note_sign().  cosig_signer_free() is its one teardown. */
struct cosig_signer {
	struct note_signer key;
};

void cosig_key_id(const char *name, const uint8_t pub[32], uint8_t out[4]);
/* A cosignature/v1 verifier key.  One of type 0x06 (ML-DSA-44) is refused
 * with a message saying why: this OpenSSL (named with its version) has no
 * ML-DSA-44, or it has but Scope Ledger does not implement subtree/v1. */
int cosig_verifier_parse(const char *s, size_t n, struct cosig_verifier *v, struct err *e);
void cosig_verifier_format(const struct cosig_verifier *v, struct buf *out);

int cosig_signer_from_seed(struct cosig_signer *s, const char *name, const uint8_t seed[32],
			   struct err *e);
/* Takes ownership of an Ed25519 EVP_PKEY. */
int cosig_signer_from_pkey(struct cosig_signer *s, const char *name, void *pkey, struct err *e);
/* Moves a loaded signing key (signer_load) into s: same key, the type 0x04 id. */
void cosig_signer_adopt(struct cosig_signer *s, struct note_signer *ns);
void cosig_signer_verifier(const struct cosig_signer *s, struct cosig_verifier *v);
void cosig_signer_free(struct cosig_signer *s);

/* Appends one cosignature line over a checkpoint body (the note text with
 * its final newline, no signatures), timestamped `when` (1 .. 2^63-1). */
int cosig_sign(const struct cosig_signer *s, const char *body, size_t n, uint64_t when,
	       struct buf *out, struct err *e);

/* Verifies one signature line (with or without its final newline) by v
 * over body; on success *when is its timestamp. */
int cosig_verify_line(const struct cosig_verifier *v, const char *body, size_t n,
		      const char *line, size_t len, uint64_t *when, struct err *e);

/* Which trusted cosigners validly cosigned a signed checkpoint note. */
struct cosig_seen {
	bool ok;
	uint64_t when;		/* the latest valid timestamp, if ok */
	size_t line, line_len;	/* where that line is in the note, with its '\n' */
};

/* Reads every signature line of the note (the log's signature is not
 * checked here: use checkpoint_open); seen[k] tells about ws[k].  Lines of
 * unknown keys are ignored; a line that claims a trusted name and key id
 * but does not verify fails the whole note.  *count is the number of
 * distinct public keys that cosigned. */
int cosig_check(const char *msg, size_t n, const struct cosig_verifier *ws, size_t nw,
		struct cosig_seen *seen, size_t *count, struct err *e);
/* cosig_check and at least `quorum` distinct cosigners; the error names
 * the missing ones. */
int cosig_quorum(const char *msg, size_t n, const struct cosig_verifier *ws, size_t nw,
		 size_t quorum, struct err *e);

/* Whether the OpenSSL in use provides ML-DSA-44 signatures
 * (EVP_SIGNATURE_fetch), asked once per call. */
bool cosig_mldsa_available(void);

/* The majority rule: a quorum of `quorum` of n witnesses (quorum 0: all n)
 * that is not more than half of them lets two disjoint sets of witnesses
 * each reach it on a different history (a split view).  Then writes a
 * warning saying so and the smallest majority into out and returns true. */
bool cosig_quorum_is_minority(size_t quorum, size_t n, char *out, size_t outn);

/* Appends signature lines (a witness's answer: one or more complete
 * "— name sig\n" lines) to a signed note in *note, each checked for form;
 * lines already in the note are not added twice.  All or nothing. */
int cosig_append(struct buf *note, const char *lines, size_t n, struct err *e);

#endif
