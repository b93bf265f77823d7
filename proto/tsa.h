/*
 * tsa: RFC 3161 time-stamp tokens over checkpoints (OpenSSL's TS API).
 * What is stamped is the checkpoint text (note.h: "<origin>\n<size>\n
 * <base64 root>\n", exactly the bytes a checkpoint signature covers): the
 * message imprint is SHA-256 over it (proto/FORMAT.md, anchor entries).
 *
 * The daemon builds requests and checks replies against the TSA's CA;
 * anyone reads a token's imprint and time without the CA (the ledger's
 * replay check), and a verifier holding the CA checks a token whole.
 */
#ifndef SCOPE_TSA_H
#define SCOPE_TSA_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "merkle.h"

#define TSA_TOKEN_MAX 65536	/* bytes of a token (DER) or a whole reply */

/* The checkpoint text of the tree of `size` entries with `root`, and the
 * SHA-256 over it: what an anchor's token stamps. */
void tsa_checkpoint_text(const char *origin, uint64_t size, const uint8_t root[HASH_LEN], struct buf *out);
void tsa_imprint(const char *origin, uint64_t size, const uint8_t root[HASH_LEN], uint8_t out[HASH_LEN]);

/* A TimeStampReq (DER) for the imprint: SHA-256, the nonce, certReq true. */
int tsa_request(const uint8_t imprint[HASH_LEN], uint64_t nonce, struct buf *der, struct err *e);
/* Checks a TimeStampResp against the request (imprint and nonce), the
 * status (granted), the signature and the signer's chain up to the CA
 * certificates in ca_file (PEM); on success puts the token (DER
 * TimeStampToken) in *token. */
int tsa_reply_check(const uint8_t *resp, size_t n, const uint8_t imprint[HASH_LEN], uint64_t nonce,
		    const char *ca_file, struct buf *token, struct err *e);
/* Reads a token without checking its signature: its SHA-256 imprint and
 * its genTime (UTC microseconds).  -1 when it is no token, or not SHA-256. */
int tsa_token_read(const uint8_t *der, size_t n, uint8_t imprint[HASH_LEN], uint64_t *time_us, struct err *e);
/* Checks a token whole: the signature, the signer's chain up to ca_file
 * and the imprint against `imprint`. */
int tsa_token_verify(const uint8_t *der, size_t n, const uint8_t imprint[HASH_LEN], const char *ca_file,
		     struct err *e);

/* The body of an `anchor` entry (proto/FORMAT.md section 3a): exactly
 * root (64 hex), size, token (standard base64 of the DER token) and
 * tsa_time_us, in canonical order.  token points into the body (base64,
 * not decoded).  Checks the shape only; what it claims is for the caller
 * (the daemon's anchors.c, scopectl's client/anchors.c). */
struct tsa_anchor {
	uint64_t size, time_us;
	uint8_t root[HASH_LEN];
	const char *token;
	size_t token_len;
};
int tsa_anchor_parse(const uint8_t *body, size_t n, struct tsa_anchor *a, struct err *e);
/* The token's DER from a parsed body, into der (TSA_TOKEN_MAX bytes). */
int tsa_anchor_token(const struct tsa_anchor *a, uint8_t *der, size_t *dn, struct err *e);

#endif
