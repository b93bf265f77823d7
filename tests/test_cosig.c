/* C2SP tlog-cosignature cosignature/v1, with a third-party known answer. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

#include "cosig.h"
#include "enc.h"
#include "note.h"
#include "tap.h"

/* A vector made with github.com/transparency-dev/formats v0.1.1
 * (note.NewSignerForCosignatureV1) and golang.org/x/mod/sumdb/note, as
 * published in the tests of a public TypeScript implementation (r2notary):
 * a log key, a witness key (type 0x04) from a fixed seed, a checkpoint, the
 * log's signature and the witness's cosignature at time 1791014171. */
static const char LOG_VKEY[] = "example.com/vector-log+4516a1da+ARGkVJ4QEa2MOOLGBO6i7NVSJ1FQ97tIX+w+Ku0RZ6Em";
static const char WIT_VKEY[] = "witness.example.com/vector+416f103d+BK/QmJFVP3SKJOqAMhFxBQPtylo3sjwWibyFDAlZKK8B";
static const char WIT_SKEY_B64[] = "BJEX3xv88eoQIKT4E+GkxZcXaJCYlQfi/GJ3NDFmZIW8"; /* 0x04 || seed */
static const char TEXT[] = "example.com/vector-log\n1234\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n";
static const char LOG_LINE[] = "\xe2\x80\x94 example.com/vector-log RRah2qlLrSlk6J8DA1HmNewppUM15Quhs5cAIb1KjBsV3otVirJTW8AFVsQtJkTW1Zny7GuoAxZpI6bUPcpM68QOIgE=\n";
static const char WIT_LINE[] = "\xe2\x80\x94 witness.example.com/vector QW8QPQAAAABqwLUbDdj7sDNRIVjmjYgqFI6y4UJhPg/UAA8J8wAdqSd3q4PedRhkgXA4xFN/Jg5uWn7ZkBA+H/UHQs5d9hITdXmQAA==\n";
#define WIT_TIME 1791014171u

static void note_of(struct buf *b, const char *text, const char *l1, const char *l2)
{
	buf_reset(b);
	buf_printf(b, "%s\n%s%s", text, l1, l2);
}

/* The line with one byte of its decoded blob flipped. */
static void flip(const char *line, size_t at, struct buf *out)
{
	const char *sp = strrchr(line, ' ');
	uint8_t raw[NOTE_SIG_BLOB_MAX];
	size_t rn;
	char b64[NOTE_SIG_BLOB_MAX * 2];
	b64_decode(sp + 1, strlen(sp + 1) - 1, raw, sizeof raw, &rn);
	raw[at] ^= 1;
	b64_encode(raw, rn, b64);
	buf_reset(out);
	buf_printf(out, "%.*s %s\n", (int)(sp - line), line, b64);
}

int main(void)
{
	struct err e = { 0 };
	struct cosig_verifier wit, mine, vs[3];
	struct cosig_signer s, other;
	struct note_verifier log;
	struct checkpoint cp;
	struct cosig_seen seen[3];
	size_t count;
	uint64_t when = 0;
	struct buf b, n, t;
	buf_init(&b);
	buf_init(&n);
	buf_init(&t);

	ok(cosig_verifier_parse(WIT_VKEY, strlen(WIT_VKEY), &wit, &e) == 0, "parse the witness vkey");
	is_str(wit.name, "witness.example.com/vector", "  name");
	cosig_verifier_format(&wit, &b);
	is_str(buf_cstr(&b), WIT_VKEY, "  formats back to the same string");
	ok(note_verifier_parse(LOG_VKEY, strlen(LOG_VKEY), &log, &e) == 0, "parse the log vkey");
	ok(cosig_verifier_parse(LOG_VKEY, strlen(LOG_VKEY), &mine, &e) != 0,
	   "a log key (type 0x01) is not a cosigner key");
	like(e.msg, "type 0x04", "  the error names the type it wants");
	ok(note_verifier_parse(WIT_VKEY, strlen(WIT_VKEY), &log, &e) != 0 &&
	   note_verifier_parse(LOG_VKEY, strlen(LOG_VKEY), &log, &e) == 0,
	   "a cosigner key is not a log key");
	uint8_t id01[4];
	note_key_id(wit.name, wit.pub, id01);
	ok(memcmp(id01, wit.key_id, 4) != 0, "the key id depends on the type byte (0x04, not 0x01)");

	uint8_t raw[40];
	size_t rn;
	ok(b64_decode(WIT_SKEY_B64, strlen(WIT_SKEY_B64), raw, sizeof raw, &rn) == 0 && rn == 33 &&
	   raw[0] == COSIG_TYPE, "decode the witness seed");
	ok(cosig_signer_from_seed(&s, "witness.example.com/vector", raw + 1, &e) == 0, "signer from the seed");
	cosig_signer_verifier(&s, &mine);
	ok(memcmp(mine.pub, wit.pub, 32) == 0 && memcmp(mine.key_id, wit.key_id, 4) == 0,
	   "  derives the same public key and key id 416f103d");
	buf_reset(&b);
	ok(cosig_sign(&s, TEXT, strlen(TEXT), WIT_TIME, &b, &e) == 0, "cosign the vector checkpoint");
	is_str(buf_cstr(&b), WIT_LINE, "  the line equals the third-party cosignature byte for byte");

	ok(cosig_verify_line(&wit, TEXT, strlen(TEXT), WIT_LINE, strlen(WIT_LINE), &when, &e) == 0 &&
	   when == WIT_TIME, "verify the vector line; its time is 1791014171");
	when = 0;
	ok(cosig_verify_line(&wit, TEXT, strlen(TEXT), WIT_LINE, strlen(WIT_LINE) - 1, &when, &e) == 0 &&
	   when == WIT_TIME, "  also without its final newline");
	ok(cosig_verify_line(&wit, TEXT, strlen(TEXT), LOG_LINE, strlen(LOG_LINE), &when, &e) != 0,
	   "the log's line is not a cosignature by the witness");
	like(e.msg, "not by witness.example.com/vector", "  says whose line it is not");

	note_of(&n, TEXT, LOG_LINE, WIT_LINE);
	ok(checkpoint_open((const char *)n.data, n.len, &log, 1, &cp, &e) == 0 && cp.size == 1234,
	   "the cosigned note opens under the log key (the cosignature is ignored)");
	ok(cosig_check((const char *)n.data, n.len, &wit, 1, seen, &count, &e) == 0 && count == 1 &&
	   seen[0].ok && seen[0].when == WIT_TIME, "cosig_check finds the witness and its time");
	note_of(&n, TEXT, LOG_LINE, "");
	ok(cosig_check((const char *)n.data, n.len, &wit, 1, seen, &count, &e) == 0 && count == 0 &&
	   !seen[0].ok, "a note with only the log's signature has no cosigner");

	static const size_t at[] = { 4, 11, 12, 75 };	/* timestamp, signature bytes */
	for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
		flip(WIT_LINE, at[i], &t);
		note_of(&n, TEXT, LOG_LINE, buf_cstr(&t));
		ok(cosig_check((const char *)n.data, n.len, &wit, 1, seen, &count, &e) != 0,
		   "a changed byte %zu of the cosignature fails the note", at[i]);
	}
	like(e.msg, "does not verify", "  the error says the cosignature does not verify");
	flip(WIT_LINE, 0, &t);	/* another key id: an unknown key, ignored */
	note_of(&n, TEXT, LOG_LINE, buf_cstr(&t));
	ok(cosig_check((const char *)n.data, n.len, &wit, 1, seen, &count, &e) == 0 && count == 0,
	   "a line with the witness's name but another key id is ignored");
	note_of(&n, "example.com/vector-log\n1235\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n",
		LOG_LINE, WIT_LINE);
	ok(cosig_check((const char *)n.data, n.len, &wit, 1, seen, &count, &e) != 0,
	   "the cosignature does not verify over another size");

	/* a second witness, a quorum */
	uint8_t seed2[32];
	for (int i = 0; i < 32; i++)
		seed2[i] = (uint8_t)(i + 1);
	ok(cosig_signer_from_seed(&other, "w2.example", seed2, &e) == 0, "a second cosigner");
	vs[0] = wit;
	cosig_signer_verifier(&other, &vs[1]);
	vs[2] = wit;		/* listed twice: still one witness */
	note_of(&n, TEXT, LOG_LINE, WIT_LINE);
	ok(cosig_quorum((const char *)n.data, n.len, vs, 3, 1, &e) == 0, "quorum 1 of 2 is met");
	ok(cosig_quorum((const char *)n.data, n.len, vs, 3, 2, &e) != 0,
	   "quorum 2 is not met by one witness listed twice");
	like(e.msg, "no cosignature from: w2.example", "  the error names the missing witness");
	buf_reset(&t);
	ok(cosig_sign(&other, TEXT, strlen(TEXT), 1700000000, &t, &e) == 0, "the second witness cosigns");
	ok(cosig_append(&n, (const char *)t.data, t.len, &e) == 0, "append its line to the note");
	ok(cosig_quorum((const char *)n.data, n.len, vs, 3, 2, &e) == 0, "  now quorum 2 is met");
	ok(cosig_check((const char *)n.data, n.len, vs, 3, seen, &count, &e) == 0 && count == 2 &&
	   seen[1].when == 1700000000, "  with the second witness's time");

	/* cosig_append */
	note_of(&n, TEXT, LOG_LINE, "");
	ok(cosig_append(&n, WIT_LINE, strlen(WIT_LINE), &e) == 0, "append the vector line to the log's note");
	note_of(&b, TEXT, LOG_LINE, WIT_LINE);
	ok(n.len == b.len && memcmp(n.data, b.data, b.len) == 0, "  gives the vector's cosigned note");
	ok(cosig_append(&n, WIT_LINE, strlen(WIT_LINE), &e) == 0 && n.len == b.len,
	   "appending the same line again adds nothing");
	ok(cosig_append(&n, "garbage\n", 8, &e) != 0 && n.len == b.len,
	   "a line that is not a signature is refused, the note unchanged");
	ok(cosig_append(&n, WIT_LINE, strlen(WIT_LINE) - 1, &e) != 0, "lines must end with a newline");

	/* signing limits */
	buf_reset(&t);
	ok(cosig_sign(&s, TEXT, strlen(TEXT), 0, &t, &e) != 0, "time 0 is refused");
	ok(cosig_sign(&s, TEXT, strlen(TEXT), COSIG_TIME_MAX + 1, &t, &e) != 0, "time 2^63 is refused");
	ok(cosig_sign(&s, "not a checkpoint\n", 17, 5, &t, &e) != 0 && t.len == 0,
	   "a body that is not a checkpoint is refused");

	/* a correctly signed timestamp above 2^63-1 is still refused */
	{
		char msg[256];
		int ml = snprintf(msg, sizeof msg, "cosignature/v1\ntime %llu\n%s",
				  (unsigned long long)(COSIG_TIME_MAX + 1), TEXT);
		uint8_t blob[76];
		memcpy(blob, wit.key_id, 4);
		memset(blob + 4, 0, 8);
		blob[4] = 0x80;
		ok(note_ed25519_sign(&s.key, msg, (size_t)ml, blob + 12) == 0, "sign with time 2^63 by hand");
		buf_reset(&t);
		note_sig_line_add(&t, wit.name, blob, sizeof blob);
		ok(cosig_verify_line(&wit, TEXT, strlen(TEXT), (const char *)t.data, t.len, &when, &e) != 0,
		   "  the cosignature is refused");
		like(e.msg, "2^63-1", "  the error names the limit");
	}

	/* an ML-DSA-44 verifier key (type 0x06, 1312 bytes): refused, saying
	 * whether this OpenSSL has ML-DSA-44, naming its version */
	{
		static uint8_t pqraw[1 + 1312];
		static char vk[2048];
		uint8_t pqid[4];
		pqraw[0] = COSIG_TYPE_MLDSA;
		for (size_t i = 1; i < sizeof pqraw; i++)
			pqraw[i] = (uint8_t)(i * 7);
		note_key_id_typed("pq.example/w", COSIG_TYPE_MLDSA, pqraw + 1, pqid);	/* the first 32 bytes only */
		char hex[9], *b64 = malloc(b64_encoded_len(sizeof pqraw) + 1);
		hex_encode(pqid, 4, hex);
		b64_encode(pqraw, sizeof pqraw, b64);
		snprintf(vk, sizeof vk, "pq.example/w+%s+%s", hex, b64);
		free(b64);
		struct cosig_verifier pq;
		ok(cosig_verifier_parse(vk, strlen(vk), &pq, &e) != 0, "an ML-DSA-44 verifier key is refused");
		like(e.msg, "an ML-DSA-44 key (subtree/v1, type 0x06)", "  saying what it is");
		like(e.msg, "pq.example/w", "  naming the key");
		like(e.msg, OpenSSL_version(OPENSSL_VERSION), "  naming the OpenSSL version");
		if (cosig_mldsa_available())
			like(e.msg, "has ML-DSA-44, but Scope Ledger does not implement subtree/v1",
			     "  this OpenSSL has ML-DSA-44: not implemented by Scope Ledger");
		else
			like(e.msg, "has no ML-DSA-44", "  this OpenSSL has no ML-DSA-44");
		like(e.msg, "cosignature/v1 key (type 0x04)", "  saying what to use");
		/* cut short, type 0x06 all the same: the same answer, not a base64 error */
		vk[strlen(vk) - 8] = '\0';
		ok(cosig_verifier_parse(vk, strlen(vk), &pq, &e) != 0, "a truncated ML-DSA-44 key");
		like(e.msg, "ML-DSA-44", "  is named as one too");
		ok(cosig_verifier_parse(WIT_VKEY, strlen(WIT_VKEY), &pq, &e) == 0, "an Ed25519 key still parses");
	}

	/* the majority rule */
	{
		char why[400];
		ok(!cosig_quorum_is_minority(2, 3, why, sizeof why), "2 of 3 is a majority");
		ok(!cosig_quorum_is_minority(0, 4, why, sizeof why), "0 (all) of 4 is a majority");
		ok(!cosig_quorum_is_minority(1, 1, why, sizeof why), "1 of 1 is a majority");
		ok(!cosig_quorum_is_minority(0, 0, why, sizeof why), "no witnesses: nothing to warn of");
		ok(cosig_quorum_is_minority(1, 2, why, sizeof why), "1 of 2 is not");
		like(why, "a quorum of 1 of 2 witnesses is not a majority", "  saying so");
		ok(cosig_quorum_is_minority(2, 4, why, sizeof why), "2 of 4 is not");
		like(why, "a quorum of at least 3 (more than half)", "  naming the smallest majority");
		ok(!cosig_quorum_is_minority(3, 5, why, sizeof why), "3 of 5 is");
	}

	cosig_signer_free(&s);
	cosig_signer_free(&other);
	buf_free(&b);
	buf_free(&n);
	buf_free(&t);
	return done_testing();
}
