#include "note.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "enc.h"
#include "mp.h"

static const char EMDASH_SP[] = "\xe2\x80\x94 ";	/* U+2014 and a space */

#define STR_(x) #x
#define STR(x) STR_(x)

const char *note_name_problem(const char *s, size_t n)
{
	if (n == 0)
		return "is empty";
	if (n > NOTE_NAME_MAX)
		return "is longer than " STR(NOTE_NAME_MAX) " bytes";
	if (!utf8_valid((const uint8_t *)s, n))
		return "is not valid UTF-8";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		/* no '+', no ASCII space or control characters; non-ASCII
		 * spaces are refused by rejecting the common ones below */
		if (c <= 0x20 || c == 0x7f || c == '+')
			return "holds a space, a control character or '+'";
	}
	/* U+00A0, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000 */
	for (size_t i = 0; i + 1 < n; i++) {
		const unsigned char *p = (const unsigned char *)s + i;
		if ((p[0] == 0xc2 && p[1] == 0xa0) ||
		    (i + 2 < n && p[0] == 0xe2 && p[1] == 0x80 &&
		     ((p[2] >= 0x80 && p[2] <= 0x8a) || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) ||
		    (i + 2 < n && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) ||
		    (i + 2 < n && p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80))
			return "holds a Unicode space";
	}
	return NULL;
}

bool note_name_valid(const char *s, size_t n)
{
	return note_name_problem(s, n) == NULL;
}

void note_key_id_typed(const char *name, uint8_t type, const uint8_t pub[32], uint8_t out[4])
{
	size_t n = strlen(name);
	uint8_t tmp[NOTE_NAME_MAX + 2 + 32], h[HASH_LEN];
	memcpy(tmp, name, n);
	tmp[n] = '\n';
	tmp[n + 1] = type;
	memcpy(tmp + n + 2, pub, 32);
	sha256(tmp, n + 2 + 32, h);
	memcpy(out, h, 4);
}

void note_key_id(const char *name, const uint8_t pub[32], uint8_t out[4])
{
	note_key_id_typed(name, NOTE_TYPE_ED25519, pub, out);
}

int note_vkey_parse(const char *s, size_t n, uint8_t type, const char *what,
		    char name[NOTE_NAME_MAX + 1], uint8_t key_id[4], uint8_t pub[32], struct err *e)
{
	/* name+hex8+base64; the base64 part may itself contain '+' */
	const char *p1 = memchr(s, '+', n);
	if (p1 == NULL)
		return err_set(e, "verifier key: expected <name>+<key id>+<key>");
	size_t namelen = (size_t)(p1 - s);
	const char *rest = p1 + 1;
	size_t restn = n - namelen - 1;
	if (restn < 10 || rest[8] != '+')
		return err_set(e, "verifier key: expected <name>+<8 hex digits>+<key>");
	if (!note_name_valid(s, namelen))
		return err_set(e, "verifier key: invalid key name");
	uint8_t id[4], raw[40];
	size_t rawn;
	for (int k = 0; k < 8; k++)
		if (!((rest[k] >= '0' && rest[k] <= '9') || (rest[k] >= 'a' && rest[k] <= 'f')))
			return err_set(e, "verifier key: key id must be 8 lowercase hex digits");
	if (hex_decode(rest, 8, id, 4))
		return err_set(e, "verifier key: key id must be 8 lowercase hex digits");
	if (b64_decode(rest + 9, restn - 9, raw, sizeof raw, &rawn))
		return err_set(e, "verifier key: key is not valid base64");
	if (rawn != 33 || raw[0] != type)
		return err_set(e, "verifier key: not %s (type 0x%02x, 32 bytes)", what, type);
	memcpy(name, s, namelen);
	name[namelen] = '\0';
	memcpy(pub, raw + 1, 32);
	note_key_id_typed(name, type, pub, key_id);
	if (memcmp(key_id, id, 4) != 0)
		return err_set(e, "verifier key: key id does not match the name and key");
	return 0;
}

int note_verifier_parse(const char *s, size_t n, struct note_verifier *v, struct err *e)
{
	return note_vkey_parse(s, n, NOTE_TYPE_ED25519, "an Ed25519 key", v->name, v->key_id,
			       v->pub, e);
}

void note_vkey_format(const char *name, const uint8_t key_id[4], uint8_t type,
		      const uint8_t pub[32], struct buf *out)
{
	char hex[9], b64[64];
	uint8_t raw[33];
	raw[0] = type;
	memcpy(raw + 1, pub, 32);
	hex_encode(key_id, 4, hex);
	b64_encode(raw, sizeof raw, b64);
	buf_printf(out, "%s+%s+%s", name, hex, b64);
}

void note_verifier_format(const struct note_verifier *v, struct buf *out)
{
	note_vkey_format(v->name, v->key_id, NOTE_TYPE_ED25519, v->pub, out);
}

int note_signer_init(struct note_signer *s, const char *name, void *pkey, uint8_t type,
		     struct err *e)
{
	memset(s, 0, sizeof *s);
	size_t publen = 32;
	if (!note_name_valid(name, strlen(name))) {
		EVP_PKEY_free(pkey);
		return err_set(e, "key name \"%.64s\" is not valid (no spaces or '+')", name);
	}
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519 ||
	    !EVP_PKEY_get_raw_public_key(pkey, s->pub, &publen) || publen != 32) {
		EVP_PKEY_free(pkey);
		return err_set(e, "signing key is not an Ed25519 key");
	}
	snprintf(s->name, sizeof s->name, "%s", name);
	note_key_id_typed(s->name, type, s->pub, s->key_id);
	s->pkey = pkey;
	return 0;
}

int note_signer_from_pkey(struct note_signer *s, const char *name, void *pkey, struct err *e)
{
	return note_signer_init(s, name, pkey, NOTE_TYPE_ED25519, e);
}

int note_ed25519_sign(const struct note_signer *s, const void *msg, size_t n, uint8_t sig[64])
{
	size_t siglen = 64;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->pkey) == 1 &&
		 EVP_DigestSign(ctx, sig, &siglen, msg, n) == 1 && siglen == 64;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

void note_sig_line_add(struct buf *out, const char *name, const uint8_t *blob, size_t n)
{
	char b64[NOTE_SIG_BLOB_MAX * 4 / 3 + 8];
	if (n > NOTE_SIG_BLOB_MAX) {
		out->failed = true;
		return;
	}
	b64_encode(blob, n, b64);
	buf_adds(out, EMDASH_SP);
	buf_printf(out, "%s %s\n", name, b64);
}

int note_signer_init_seed(struct note_signer *s, const char *name, const uint8_t seed[32],
			  uint8_t type, struct err *e)
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pk == NULL)
		return err_set(e, "cannot create Ed25519 key");
	return note_signer_init(s, name, pk, type, e);
}

int note_signer_from_seed(struct note_signer *s, const char *name, const uint8_t seed[32],
			  struct err *e)
{
	return note_signer_init_seed(s, name, seed, NOTE_TYPE_ED25519, e);
}

void note_signer_verifier(const struct note_signer *s, struct note_verifier *v)
{
	memcpy(v->name, s->name, sizeof v->name);
	memcpy(v->key_id, s->key_id, 4);
	memcpy(v->pub, s->pub, 32);
}

void note_signer_free(struct note_signer *s)
{
	EVP_PKEY_free(s->pkey);
	OPENSSL_cleanse(s, sizeof *s);
}

int note_text_check(const char *t, size_t n, struct err *e)
{
	if (n == 0 || t[n - 1] != '\n')
		return err_set(e, "note text must end with a newline");
	if (n > NOTE_MAX_BYTES)
		return err_set(e, "note text too long");
	if (!utf8_valid((const uint8_t *)t, n))
		return err_set(e, "note text is not valid UTF-8");
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)t[i] < 0x20 && t[i] != '\n')
			return err_set(e, "note text contains a control character");
		if (t[i] == '\n' && i + 1 < n && t[i + 1] == '\n')
			return err_set(e, "note text contains a blank line");
	}
	return 0;
}

int note_sign_multi(const struct note_signer *const *ss, size_t ns, const char *text, size_t n,
		    struct buf *out, struct err *e)
{
	if (note_text_check(text, n, e))
		return -1;
	if (ns == 0 || ns > NOTE_MAX_SIGS)
		return err_set(e, "a note needs 1 to %d signatures", NOTE_MAX_SIGS);
	size_t start = out->len;
	buf_add(out, text, n);
	buf_addc(out, '\n');
	for (size_t i = 0; i < ns; i++) {
		const struct note_signer *s = ss[i];
		uint8_t blob[4 + 64];
		if (note_ed25519_sign(s, text, n, blob + 4)) {
			out->len = start;
			return err_set(e, "Ed25519 signing failed");
		}
		memcpy(blob, s->key_id, 4);
		note_sig_line_add(out, s->name, blob, sizeof blob);
	}
	if (buf_failed(out))
		return err_set(e, "out of memory");
	return 0;
}

int note_sign(const struct note_signer *s, const char *text, size_t n, struct buf *out,
	      struct err *e)
{
	return note_sign_multi(&s, 1, text, n, out, e);
}

bool note_ed25519_verify(const uint8_t pub[32], const void *msg, size_t n, const uint8_t sig[64])
{
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = pk && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		  EVP_DigestVerify(ctx, sig, 64, msg, n) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

int note_split(const char *msg, size_t n, size_t *text_len, struct err *e)
{
	if (n > NOTE_MAX_BYTES)
		return err_set(e, "signed note is larger than %d bytes", NOTE_MAX_BYTES);
	if (n == 0 || msg[n - 1] != '\n')
		return err_set(e, "signed note must end with a newline");
	/* the text ends at the last blank line */
	for (size_t i = n - 1; i-- > 0;)
		if (msg[i] == '\n' && msg[i + 1] == '\n') {
			if (note_text_check(msg, i + 1, e))
				return err_prefix(e, "signed note");
			*text_len = i + 1;
			return 0;
		}
	return err_set(e, "signed note has no blank line before its signatures");
}

int note_sig_next(const char *msg, size_t n, size_t *pos, size_t index, struct note_sig *sig,
		  struct err *e)
{
	const char *line = msg + *pos;
	const char *nl = memchr(line, '\n', n - *pos);
	if (index > NOTE_MAX_SIGS)
		return err_set(e, "signed note has more than %d signatures", NOTE_MAX_SIGS);
	if (nl == NULL)
		return err_set(e, "signature line %zu does not end with a newline", index);
	size_t len = (size_t)(nl - line);
	*pos += len + 1;
	if (len < sizeof EMDASH_SP || memcmp(line, EMDASH_SP, sizeof EMDASH_SP - 1) != 0)
		return err_set(e, "signature line %zu does not start with \"— \"", index);
	const char *name = line + sizeof EMDASH_SP - 1;
	const char *sp = memchr(name, ' ', (size_t)(line + len - name));
	if (sp == NULL)
		return err_set(e, "signature line %zu: expected \"— <name> <signature>\"", index);
	size_t namelen = (size_t)(sp - name);
	if (!note_name_valid(name, namelen))
		return err_set(e, "signature line %zu: invalid key name", index);
	if (b64_decode(sp + 1, (size_t)(line + len - sp - 1), sig->blob, sizeof sig->blob,
		       &sig->bloblen) ||
	    sig->bloblen < 5)
		return err_set(e, "signature line %zu: signature is not valid base64", index);
	sig->name = name;
	sig->namelen = namelen;
	return 0;
}

bool note_sig_is(const struct note_sig *sig, const char *name, const uint8_t key_id[4])
{
	return strlen(name) == sig->namelen && memcmp(name, sig->name, sig->namelen) == 0 &&
	       memcmp(key_id, sig->blob, 4) == 0;
}

int note_open(const char *msg, size_t n, const struct note_verifier *vs, size_t nv,
	      size_t *text_len, size_t *by, struct err *e)
{
	size_t split;
	if (note_split(msg, n, &split, e))
		return -1;
	size_t p = split + 1, nsigs = 0;
	bool verified = false;
	while (p < n) {
		struct note_sig sig;
		if (note_sig_next(msg, n, &p, ++nsigs, &sig, e))
			return -1;
		for (size_t k = 0; k < nv; k++) {
			if (!note_sig_is(&sig, vs[k].name, vs[k].key_id))
				continue;
			if (sig.bloblen != 4 + 64 || !note_ed25519_verify(vs[k].pub, msg, split, sig.blob + 4))
				return err_set(e, "signature by trusted key %s does not verify: the note was altered",
					       vs[k].name);
			if (!verified && by)
				*by = k;
			verified = true;
		}
	}
	if (nsigs == 0)
		return err_set(e, "signed note has no signatures");
	if (!verified)
		return err_set(e, "signed note has no signature from a trusted key");
	*text_len = split;
	return 0;
}

void checkpoint_format(const struct checkpoint *cp, struct buf *out)
{
	char b64[64];
	b64_encode(cp->root, HASH_LEN, b64);
	buf_printf(out, "%s\n%llu\n%s\n", cp->origin, (unsigned long long)cp->size, b64);
}

int checkpoint_parse(const char *text, size_t n, struct checkpoint *cp, struct err *e)
{
	const char *lines[3];
	size_t lens[3];
	size_t p = 0;
	memset(cp, 0, sizeof *cp);
	for (int k = 0; k < 3; k++) {
		const char *nl = p < n ? memchr(text + p, '\n', n - p) : NULL;
		if (nl == NULL)
			return err_set(e, "checkpoint: expected origin, size and root lines");
		lines[k] = text + p;
		lens[k] = (size_t)(nl - lines[k]);
		p += lens[k] + 1;
	}
	/* extension lines may follow; each must be non-empty */
	if (lens[0] == 0 || lens[0] > NOTE_NAME_MAX || !utf8_valid((const uint8_t *)lines[0], lens[0]))
		return err_set(e, "checkpoint: bad origin line");
	memcpy(cp->origin, lines[0], lens[0]);
	if (lens[1] == 0 || lens[1] > 20 || (lens[1] > 1 && lines[1][0] == '0'))
		return err_set(e, "checkpoint: bad tree size line");
	uint64_t v = 0;
	for (size_t i = 0; i < lens[1]; i++) {
		char c = lines[1][i];
		if (c < '0' || c > '9' || v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return err_set(e, "checkpoint: bad tree size line");
		v = v * 10 + (uint64_t)(c - '0');
	}
	cp->size = v;
	size_t rootn;
	if (b64_decode(lines[2], lens[2], cp->root, HASH_LEN, &rootn) || rootn != HASH_LEN)
		return err_set(e, "checkpoint: root line is not a base64 SHA-256 hash");
	return 0;
}

int checkpoint_open(const char *msg, size_t n, const struct note_verifier *vs, size_t nv,
		    struct checkpoint *cp, struct err *e)
{
	size_t tlen, by = 0;
	if (note_open(msg, n, vs, nv, &tlen, &by, e))
		return err_prefix(e, "checkpoint");
	if (checkpoint_parse(msg, tlen, cp, e))
		return -1;
	if (strcmp(cp->origin, vs[by].name) != 0)
		return err_set(e, "checkpoint origin \"%s\" differs from the key name \"%s\"",
			       cp->origin, vs[by].name);
	return 0;
}
