#include "cosig.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "enc.h"

#define COSIG_BLOB_LEN	(4 + 8 + 64)	/* key id, timestamp, signature */
/* "cosignature/v1\n" "time " 19 digits "\n" */
#define COSIG_HEADER_MAX 48

void cosig_key_id(const char *name, const uint8_t pub[32], uint8_t out[4])
{
	note_key_id_typed(name, COSIG_TYPE, pub, out);
}

bool cosig_mldsa_available(void)
{
	EVP_SIGNATURE *sig = EVP_SIGNATURE_fetch(NULL, "ML-DSA-44", NULL);
	EVP_SIGNATURE_free(sig);
	return sig != NULL;
}

/* The key type: the first byte of the key after <name>+<key id>+, read
 * before the whole key, whose length depends on it; -1 if unreadable. */
static int vkey_type(const char *s, size_t n)
{
	const char *p1 = memchr(s, '+', n);
	if (p1 == NULL || (size_t)(p1 - s) + 10 + 4 > n || p1[9] != '+')
		return -1;
	uint8_t raw[3];
	size_t rawn;
	if (b64_decode(p1 + 10, 4, raw, sizeof raw, &rawn) || rawn < 1)
		return -1;
	return raw[0];
}

int cosig_verifier_parse(const char *s, size_t n, struct cosig_verifier *v, struct err *e)
{
	if (vkey_type(s, n) == COSIG_TYPE_MLDSA) {
		const char *name_end = memchr(s, '+', n);
		int nl = (int)(name_end - s > 100 ? 100 : name_end - s);
		if (!cosig_mldsa_available())
			return err_set(e, "verifier key %.*s: an ML-DSA-44 key (subtree/v1, type 0x06), but this "
				       "OpenSSL (%s) has no ML-DSA-44, and Scope Ledger does not implement subtree/v1: "
				       "use the witness's Ed25519 cosignature/v1 key (type 0x04)",
				       nl, s, OpenSSL_version(OPENSSL_VERSION));
		return err_set(e, "verifier key %.*s: an ML-DSA-44 key (subtree/v1, type 0x06): this OpenSSL (%s) "
			       "has ML-DSA-44, but Scope Ledger does not implement subtree/v1 cosignatures yet: use "
			       "the witness's Ed25519 cosignature/v1 key (type 0x04)",
			       nl, s, OpenSSL_version(OPENSSL_VERSION));
	}
	return note_vkey_parse(s, n, COSIG_TYPE, "a cosignature/v1 (timestamped Ed25519) key",
			       v->name, v->key_id, v->pub, e);
}

void cosig_verifier_format(const struct cosig_verifier *v, struct buf *out)
{
	note_vkey_format(v->name, v->key_id, COSIG_TYPE, v->pub, out);
}

int cosig_signer_from_pkey(struct cosig_signer *s, const char *name, void *pkey, struct err *e)
{
	return note_signer_init(&s->key, name, pkey, COSIG_TYPE, e);
}

int cosig_signer_from_seed(struct cosig_signer *s, const char *name, const uint8_t seed[32],
			   struct err *e)
{
	return note_signer_init_seed(&s->key, name, seed, COSIG_TYPE, e);
}

void cosig_signer_adopt(struct cosig_signer *s, struct note_signer *ns)
{
	s->key = *ns;
	memset(ns, 0, sizeof *ns);
	cosig_key_id(s->key.name, s->key.pub, s->key.key_id);
}

void cosig_signer_verifier(const struct cosig_signer *s, struct cosig_verifier *v)
{
	memcpy(v->name, s->key.name, sizeof v->name);
	memcpy(v->key_id, s->key.key_id, 4);
	memcpy(v->pub, s->key.pub, 32);
}

void cosig_signer_free(struct cosig_signer *s)
{
	note_signer_free(&s->key);
}

/* The signed message: header, timestamp line, body.  Caller frees. */
static int message(uint64_t when, const char *body, size_t n, struct buf *m, struct err *e)
{
	buf_init(m);
	buf_printf(m, "cosignature/v1\ntime %llu\n", (unsigned long long)when);
	buf_add(m, body, n);
	if (buf_failed(m)) {
		buf_free(m);
		return err_set(e, "out of memory");
	}
	return 0;
}

static void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int cosig_sign(const struct cosig_signer *s, const char *body, size_t n, uint64_t when,
	       struct buf *out, struct err *e)
{
	struct checkpoint cp;
	if (when == 0 || when > COSIG_TIME_MAX)
		return err_set(e, "cosignature time %llu is not between 1 and 2^63-1",
			       (unsigned long long)when);
	if (note_text_check(body, n, e) || checkpoint_parse(body, n, &cp, e))
		return err_prefix(e, "cannot cosign");
	struct buf m;
	if (message(when, body, n, &m, e))
		return -1;
	uint8_t blob[COSIG_BLOB_LEN];
	memcpy(blob, s->key.key_id, 4);
	be64_put(blob + 4, when);
	int rc = note_ed25519_sign(&s->key, m.data, m.len, blob + 12);
	buf_free(&m);
	if (rc)
		return err_set(e, "Ed25519 signing failed");
	note_sig_line_add(out, s->key.name, blob, sizeof blob);
	if (buf_failed(out))
		return err_set(e, "out of memory");
	return 0;
}

/* Verifies a parsed line that claims v's name and key id. */
static int verify_sig(const struct cosig_verifier *v, const char *body, size_t n,
		      const struct note_sig *sig, uint64_t *when, struct err *e)
{
	if (sig->bloblen != COSIG_BLOB_LEN)
		return err_set(e, "cosignature by %s is %zu bytes, not %d", v->name, sig->bloblen,
			       COSIG_BLOB_LEN);
	uint64_t t = be64_get(sig->blob + 4);
	if (t > COSIG_TIME_MAX)
		return err_set(e, "cosignature by %s has a timestamp above 2^63-1", v->name);
	struct buf m;
	if (message(t, body, n, &m, e))
		return -1;
	bool good = note_ed25519_verify(v->pub, m.data, m.len, sig->blob + 12);
	buf_free(&m);
	if (!good)
		return err_set(e, "cosignature by trusted witness %s does not verify: "
			       "the checkpoint or the cosignature was altered", v->name);
	*when = t;
	return 0;
}

int cosig_verify_line(const struct cosig_verifier *v, const char *body, size_t n,
		      const char *line, size_t len, uint64_t *when, struct err *e)
{
	char tmp[NOTE_NAME_MAX + 2 * NOTE_SIG_BLOB_MAX + 16];
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len + 1 > sizeof tmp)
		return err_set(e, "cosignature line is too long");
	memcpy(tmp, line, len);
	tmp[len] = '\n';
	struct note_sig sig;
	size_t pos = 0;
	if (note_sig_next(tmp, len + 1, &pos, 1, &sig, e))
		return err_prefix(e, "cosignature");
	if (!note_sig_is(&sig, v->name, v->key_id))
		return err_set(e, "cosignature line is not by %s (name or key id differ)", v->name);
	return verify_sig(v, body, n, &sig, when, e);
}

int cosig_check(const char *msg, size_t n, const struct cosig_verifier *ws, size_t nw,
		struct cosig_seen *seen, size_t *count, struct err *e)
{
	size_t split;
	if (note_split(msg, n, &split, e))
		return -1;
	memset(seen, 0, nw * sizeof *seen);
	size_t p = split + 1, nsigs = 0;
	while (p < n) {
		struct note_sig sig;
		size_t start = p;
		if (note_sig_next(msg, n, &p, ++nsigs, &sig, e))
			return -1;
		for (size_t k = 0; k < nw; k++) {
			uint64_t t;
			if (!note_sig_is(&sig, ws[k].name, ws[k].key_id))
				continue;
			if (verify_sig(&ws[k], msg, split, &sig, &t, e))
				return -1;
			if (!seen[k].ok || t > seen[k].when) {
				seen[k].when = t;
				seen[k].line = start;
				seen[k].line_len = p - start;
			}
			seen[k].ok = true;
		}
	}
	size_t c = 0;
	for (size_t k = 0; k < nw; k++) {
		bool dup = false;
		for (size_t j = 0; j < k && !dup; j++)
			dup = seen[j].ok && memcmp(ws[j].pub, ws[k].pub, 32) == 0;
		c += seen[k].ok && !dup;
	}
	*count = c;
	return 0;
}

int cosig_quorum(const char *msg, size_t n, const struct cosig_verifier *ws, size_t nw,
		 size_t quorum, struct err *e)
{
	struct cosig_seen seen[COSIG_MAX_COSIGNERS];
	size_t count;
	if (nw > COSIG_MAX_COSIGNERS)
		return err_set(e, "more than %d trusted witnesses", COSIG_MAX_COSIGNERS);
	if (cosig_check(msg, n, ws, nw, seen, &count, e))
		return -1;
	if (count >= quorum)
		return 0;
	char missing[ERR_MSG_MAX / 2] = "";
	size_t used = 0;
	for (size_t k = 0; k < nw && used < sizeof missing; k++)
		if (!seen[k].ok)
			used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%s",
						 used ? ", " : "", ws[k].name);
	return err_set(e, "checkpoint is cosigned by %zu of the trusted witnesses, %zu needed "
		       "(no cosignature from: %s)", count, quorum, missing);
}

/* Whether the complete line (with its '\n') is among the signature lines
 * of the note in b (text of length split). */
static bool has_line(const struct buf *b, size_t split, const char *line, size_t len)
{
	const char *s = (const char *)b->data;
	for (size_t p = split + 1; p < b->len;) {
		const char *nl = memchr(s + p, '\n', b->len - p);
		size_t l = (size_t)(nl - (s + p)) + 1;
		if (l == len && memcmp(s + p, line, len) == 0)
			return true;
		p += l;
	}
	return false;
}

int cosig_append(struct buf *note, const char *lines, size_t n, struct err *e)
{
	size_t split;
	if (note_split((const char *)note->data, note->len, &split, e))
		return -1;
	if (n == 0 || lines[n - 1] != '\n')
		return err_set(e, "cosignature lines must be one or more lines ending with a newline");
	struct buf nb;
	buf_init(&nb);
	buf_add(&nb, note->data, note->len);
	size_t nsigs = 0;
	for (size_t p = split + 1; p < note->len; p++)
		nsigs += note->data[p] == '\n';
	for (size_t p = 0, k = 1; p < n; k++) {
		struct note_sig sig;
		size_t start = p;
		if (note_sig_next(lines, n, &p, k, &sig, e)) {
			buf_free(&nb);
			return err_prefix(e, "cosignatures");
		}
		if (has_line(&nb, split, lines + start, p - start))
			continue;
		if (++nsigs > NOTE_MAX_SIGS || nb.len + (p - start) > NOTE_MAX_BYTES) {
			buf_free(&nb);
			return err_set(e, "cosigned note would exceed %d signatures or %d bytes",
				       NOTE_MAX_SIGS, NOTE_MAX_BYTES);
		}
		buf_add(&nb, lines + start, p - start);
	}
	if (buf_failed(&nb)) {
		buf_free(&nb);
		return err_set(e, "out of memory");
	}
	buf_free(note);
	*note = nb;
	return 0;
}

bool cosig_quorum_is_minority(size_t quorum, size_t n, char *out, size_t outn)
{
	size_t q = quorum ? quorum : n;
	if (n == 0 || q * 2 > n)
		return false;
	snprintf(out, outn, "a quorum of %zu of %zu witnesses is not a majority: two disjoint sets of %zu "
		 "witnesses could each cosign a different history of the log (a split view); a quorum of at least "
		 "%zu (more than half) rules that out (SECURITY.md, \"Majority rule\")", q, n, q, n / 2 + 1);
	return true;
}
