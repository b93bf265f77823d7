#include "quorum.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "enc.h"
#include "merkle.h"

static const char EMDASH_SP[] = "\xe2\x80\x94 ";	/* U+2014 and a space */

static void key_id(const char *name, const uint8_t pub[32], uint8_t out[4])
{
	size_t n = strlen(name);
	uint8_t tmp[NOTE_NAME_MAX + 2 + 32], h[HASH_LEN];
	memcpy(tmp, name, n);
	tmp[n] = '\n';
	tmp[n + 1] = 0x04;	/* cosignature/v1 */
	memcpy(tmp + n + 2, pub, 32);
	sha256(tmp, n + 2 + 32, h);
	memcpy(out, h, 4);
}

int witness_key_parse(const char *s, size_t n, struct witness_key *k, struct err *e)
{
	const char *p1 = memchr(s, '+', n);
	size_t namelen = p1 ? (size_t)(p1 - s) : n;
	const char *why = note_name_problem(s, namelen);
	if (p1 == NULL || n - namelen < 10 || p1[9] != '+')
		return err_set(e, "witness key \"%.80s\": expected <name>+<8 hex digits>+<base64 key>", s);
	if (why)
		return err_set(e, "witness key: the name %s", why);
	uint8_t id[4], raw[40];
	size_t rawn;
	for (int i = 1; i <= 8; i++)
		if (!((p1[i] >= '0' && p1[i] <= '9') || (p1[i] >= 'a' && p1[i] <= 'f')))
			return err_set(e, "witness key: the key id must be 8 lowercase hex digits");
	hex_decode(p1 + 1, 8, id, 4);
	if (b64_decode(p1 + 10, n - namelen - 10, raw, sizeof raw, &rawn))
		return err_set(e, "witness key: the key is not valid base64");
	if (rawn != 33 || raw[0] != 0x04)
		return err_set(e, "witness key: not a cosignature/v1 key (type 0x04 and 32 bytes of Ed25519)");
	memcpy(k->name, s, namelen);
	k->name[namelen] = '\0';
	memcpy(k->pub, raw + 1, 32);
	key_id(k->name, k->pub, k->key_id);
	if (memcmp(k->key_id, id, 4) != 0)
		return err_set(e, "witness key: the key id does not match the name and key");
	return 0;
}

void witness_key_format(const struct witness_key *k, struct buf *out)
{
	char hex[9], b64[64];
	uint8_t raw[33];
	raw[0] = 0x04;
	memcpy(raw + 1, k->pub, 32);
	hex_encode(k->key_id, 4, hex);
	b64_encode(raw, sizeof raw, b64);
	buf_printf(out, "%s+%s+%s", k->name, hex, b64);
}

static bool verify(const struct witness_key *k, uint64_t t, const char *text, size_t tn, const uint8_t sig[64])
{
	char head[64];
	int hn = snprintf(head, sizeof head, "cosignature/v1\ntime %llu\n", (unsigned long long)t);
	struct buf m;
	buf_init(&m);
	buf_add(&m, head, (size_t)hn);
	buf_add(&m, text, tn);
	EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = !buf_failed(&m) && pk && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
		  EVP_DigestVerify(ctx, sig, 64, m.data, m.len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	buf_free(&m);
	return ok;
}

int cosig_find(const char *msg, size_t n, const struct witness_key *k, uint64_t *time, const char **line,
	       size_t *line_len, struct err *e)
{
	const char *sep = NULL;
	for (size_t i = 0; i + 1 < n && sep == NULL; i++)
		if (msg[i] == '\n' && msg[i + 1] == '\n')
			sep = msg + i;
	if (sep == NULL)
		return err_set(e, "not a signed note (no blank line after the text)");
	size_t tn = (size_t)(sep - msg) + 1, nl = strlen(k->name);
	const char *p = sep + 2, *end = msg + n;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			return err_set(e, "a signature line does not end in a newline");
		size_t ln = (size_t)(eol - p);
		if (ln > 4 + nl && memcmp(p, EMDASH_SP, 4) == 0 && memcmp(p + 4, k->name, nl) == 0 &&
		    p[4 + nl] == ' ') {
			uint8_t raw[80];
			size_t rn;
			const char *b = p + 5 + nl;
			if (b64_decode(b, (size_t)(eol - b), raw, sizeof raw, &rn) == 0 && rn >= 4 &&
			    memcmp(raw, k->key_id, 4) == 0) {
				uint64_t t = 0;
				for (int i = 0; i < 8 && rn == 76; i++)
					t = t << 8 | raw[4 + i];
				if (rn != 76 || t == 0 || t >> 63 || !verify(k, t, msg, tn, raw + 12))
					return err_set(e, "the cosignature of %s does not verify", k->name);
				*time = t;
				*line = p;
				*line_len = ln + 1;
				return 1;
			}
		}
		p = eol + 1;
	}
	return 0;
}

int quorum_check(const char *msg, size_t n, const struct witness_key *keys, size_t nk, size_t quorum,
		 struct quorum_result *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	struct buf missing;
	buf_init(&missing);
	for (size_t i = 0; i < nk && i < QUORUM_MAX_WITNESSES; i++) {
		const char *line;
		size_t ln;
		struct err ce = { 0 };
		int rc = cosig_find(msg, n, &keys[i], &r->time[i], &line, &ln, &ce);
		r->cosigned[i] = rc == 1;
		r->count += rc == 1;
		if (rc != 1)
			buf_printf(&missing, "%s%s%s%s", missing.len ? ", " : "", keys[i].name,
				   rc < 0 ? ": " : "", rc < 0 ? ce.msg : "");
	}
	int rc = 0;
	if (r->count < quorum)
		rc = err_set(e, "the checkpoint carries %zu of the %zu witness cosignatures required; not cosigned "
			     "by: %.*s", r->count, quorum, (int)missing.len, missing.len ? (const char *)missing.data : "");
	buf_free(&missing);
	return rc;
}
