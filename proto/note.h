/*
 * note: C2SP signed-note (Ed25519) and C2SP tlog-checkpoint.
 *
 *   key id       = SHA-256(name || 0x0A || 0x01 || public key)[:4]
 *   verifier key = <name>+<hex key id>+<base64(0x01 || public key)>
 *   signed note  = text, "\n", then lines "— <name> <base64(key id || sig)>\n"
 *   checkpoint   = note text "<origin>\n<size>\n<base64 root>\n[extensions]"
 *
 * Scope Ledger names its signing key after the log's origin, and a
 * checkpoint is only accepted if its origin equals the name of the key that
 * verified it.
 */
#ifndef SCOPE_NOTE_H
#define SCOPE_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "merkle.h"

/* The longest key name in bytes, and so the longest log origin (the key is
 * named after the origin).  C2SP sets no maximum; every buffer and record
 * that holds an origin or a verifier key is sized from this one constant. */
#define NOTE_NAME_MAX	255
#define NOTE_MAX_BYTES	(64 * 1024)
#define NOTE_MAX_SIGS	100
/* A formatted verifier key and its NUL: name, '+', 8 hex digits, '+' and
 * 44 characters of base64(0x01 || 32-byte key). */
#define NOTE_VKEY_MAX	(NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

struct note_verifier {
	char name[NOTE_NAME_MAX + 1];
	uint8_t key_id[4];
	uint8_t pub[32];
};

/* A signing key.  Owns an OpenSSL key object: note_signer_free() releases
 * it and wipes the struct. */
struct note_signer {
	char name[NOTE_NAME_MAX + 1];
	uint8_t key_id[4];
	uint8_t pub[32];
	void *pkey;		/* EVP_PKEY * */
};

bool note_name_valid(const char *s, size_t n);
/* Why s is not a valid key name (e.g. "is longer than 255 bytes"), or NULL. */
const char *note_name_problem(const char *s, size_t n);
void note_key_id(const char *name, const uint8_t pub[32], uint8_t out[4]);

int note_verifier_parse(const char *s, size_t n, struct note_verifier *v, struct err *e);
/* Appends the verifier key string. */
void note_verifier_format(const struct note_verifier *v, struct buf *out);

/* From a raw 32-byte Ed25519 seed (private key). */
int note_signer_from_seed(struct note_signer *s, const char *name, const uint8_t seed[32],
			  struct err *e);
/* Takes ownership of an Ed25519 EVP_PKEY. */
int note_signer_from_pkey(struct note_signer *s, const char *name, void *pkey, struct err *e);
void note_signer_verifier(const struct note_signer *s, struct note_verifier *v);
void note_signer_free(struct note_signer *s);

/* Signs text (non-empty, ends in '\n', no blank line) and appends the
 * signed note to out. */
int note_sign(const struct note_signer *s, const char *text, size_t n, struct buf *out,
	      struct err *e);
/* The same with one signature line per signer, in the order given (a key
 * rotation signs with the old and the new key). */
int note_sign_multi(const struct note_signer *const *ss, size_t ns, const char *text, size_t n,
		    struct buf *out, struct err *e);

/* Opens a signed note: at least one signature must come from one of the
 * verifiers and verify; a signature that claims a known key but does not
 * verify rejects the note.  On success *text_len is the length of the text
 * (which starts at msg) and *by is the index of the verifier that matched. */
int note_open(const char *msg, size_t n, const struct note_verifier *vs, size_t nv,
	      size_t *text_len, size_t *by, struct err *e);

struct checkpoint {
	char origin[NOTE_NAME_MAX + 1];
	uint64_t size;
	uint8_t root[HASH_LEN];
};

/* Appends the checkpoint body (the text that gets signed). */
void checkpoint_format(const struct checkpoint *cp, struct buf *out);
int checkpoint_parse(const char *text, size_t n, struct checkpoint *cp, struct err *e);
/* note_open + checkpoint_parse + origin == key name. */
int checkpoint_open(const char *msg, size_t n, const struct note_verifier *vs, size_t nv,
		    struct checkpoint *cp, struct err *e);

/* Building blocks for other note signature types (cosig.c).  A type is the
 * signed-note signature type byte; "what" names it in error messages. */
#define NOTE_TYPE_ED25519	0x01
/* The largest decoded signature blob (key id and signature) a line may hold. */
#define NOTE_SIG_BLOB_MAX	128

void note_key_id_typed(const char *name, uint8_t type, const uint8_t pub[32], uint8_t out[4]);
int note_vkey_parse(const char *s, size_t n, uint8_t type, const char *what,
		    char name[NOTE_NAME_MAX + 1], uint8_t key_id[4], uint8_t pub[32], struct err *e);
void note_vkey_format(const char *name, const uint8_t key_id[4], uint8_t type,
		      const uint8_t pub[32], struct buf *out);
/* note_signer_from_pkey with the key id computed for signature type `type`. */
int note_signer_init(struct note_signer *s, const char *name, void *pkey, uint8_t type,
		     struct err *e);
int note_signer_init_seed(struct note_signer *s, const char *name, const uint8_t seed[32],
			  uint8_t type, struct err *e);
int note_ed25519_sign(const struct note_signer *s, const void *msg, size_t n, uint8_t sig[64]);
bool note_ed25519_verify(const uint8_t pub[32], const void *msg, size_t n, const uint8_t sig[64]);
/* Checks a note text: non-empty, ends in '\n', UTF-8, no control
 * characters, no blank line, at most NOTE_MAX_BYTES. */
int note_text_check(const char *t, size_t n, struct err *e);
/* Appends "— <name> <base64(blob)>\n" (n <= NOTE_SIG_BLOB_MAX). */
void note_sig_line_add(struct buf *out, const char *name, const uint8_t *blob, size_t n);
/* Finds the last blank line of a signed note and checks the text before
 * it; *text_len is the text's length (the signatures start one byte later). */
int note_split(const char *msg, size_t n, size_t *text_len, struct err *e);

/* One parsed signature line: name points into the note. */
struct note_sig {
	const char *name;
	size_t namelen;
	uint8_t blob[NOTE_SIG_BLOB_MAX];
	size_t bloblen;		/* at least 5: key id and one byte */
};
/* Parses the signature line at msg + *pos (line number `index`, for errors)
 * and moves *pos past it; a line number above NOTE_MAX_SIGS is refused. */
int note_sig_next(const char *msg, size_t n, size_t *pos, size_t index, struct note_sig *sig,
		  struct err *e);
/* Whether the line claims this key name and key id. */
bool note_sig_is(const struct note_sig *sig, const char *name, const uint8_t key_id[4]);

#endif
