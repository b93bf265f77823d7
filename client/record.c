#include "record.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "enc.h"
#include "mp.h"
#include "offline.h"
#include "online.h"
#include "result.h"

int record_request_id(const char *given, char *out)
{
	if (given) {
		if (strlen(given) > ENTRY_REQID_MAX)
			return -1;
		strcpy(out, given);
		return 0;
	}
	uint8_t rnd[16];
	char hex[33];
	RAND_bytes(rnd, sizeof rnd);
	hex_encode(rnd, sizeof rnd, hex);
	snprintf(out, ENTRY_REQID_MAX + 1, "c-%s", hex);
	return 0;
}

/* The authors scoped may record for our certificate (daemon/net/conn.c,
 * handshake_done, and dispatch): its subject CN as UTF-8 when there is one
 * shorter than 256 bytes without NUL (cn, else empty), and "sha256:" with
 * the certificate's fingerprint (fp), which is the author when the role
 * file knows the certificate by fingerprint or it has no usable CN.  Both
 * name this certificate alone: no certificate's CN may begin with
 * "sha256:" (FORMAT.md, the author field). */
struct own_author {
	char cn[256], fp[72];
};

static int own_author(const char *cert_path, struct own_author *a, struct err *e)
{
	FILE *f = fopen(cert_path, "r");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (cert == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "client certificate %s: cannot read it", cert_path);
	a->cn[0] = '\0';
	X509_NAME *subj = X509_get_subject_name(cert);
	int idx = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
	if (idx >= 0) {
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx)));
		if (n > 0 && (size_t)n < sizeof a->cn && memchr(utf8, 0, (size_t)n) == NULL) {
			memcpy(a->cn, utf8, (size_t)n);
			a->cn[n] = '\0';
		}
		OPENSSL_free(utf8);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = 0;
	char hex[65];
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32) {
		hex_encode(md, 32, hex);
		snprintf(a->fp, sizeof a->fp, "sha256:%s", hex);
	} else {
		rc = err_setc(e, CTL_EXIT_USAGE, "client certificate %s: cannot fingerprint it", cert_path);
	}
	X509_free(cert);
	return rc;
}

/* The stored body without the fields the ledger assigned (those not sent),
 * in its own order: for the entry sent, exactly the canonical body sent. */
static int body_as_sent(const struct entry *en, const uint8_t *sent, size_t sent_len, struct buf *out)
{
	struct mp_cur c;
	uint32_t count, kept = 0;
	struct buf pairs;
	mp_cur_init(&c, en->body, en->body_len);
	if (mp_get_map(&c, &count, NULL))
		return -1;
	buf_init(&pairs);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *start = c.p;
		const char *k;
		size_t kn;
		if (mp_get_str(&c, &k, &kn, NULL) || mp_skip(&c, ENTRY_BODY_DEPTH + 1, NULL)) {
			buf_free(&pairs);
			return -1;
		}
		if (domain_assigned(en->kind, en->kind_len, k, kn)) {
			char key[16];	/* longer than every assigned field's name */
			struct mp_cur v;
			snprintf(key, sizeof key, "%.*s", (int)kn, k);
			if (mp_map_find(sent, sent_len, key, &v, NULL) != 1)
				continue;
		}
		buf_add(&pairs, start, (size_t)(c.p - start));
		kept++;
	}
	mp_pack_map(out, kept);
	buf_add(out, pairs.data, pairs.len);
	buf_free(&pairs);
	return 0;
}

static bool same(const char *a, size_t an, const char *b)
{
	return an == strlen(b) && memcmp(a, b, an) == 0;
}

/* Which part of the entry read back differs from the request; NULL if none. */
static const char *differs(const struct recorded *r, const char *kind, const char *project,
			   const char *request_id, const struct own_author *author, const uint8_t *body,
			   size_t body_len)
{
	const struct entry *en = &r->en;
	if (en->seq != r->seq)
		return "sequence number";
	if (!same(en->kind, en->kind_len, kind))
		return "kind";
	if (!same(en->project, en->project_len, project))
		return "project";
	if (!same(en->request_id, en->request_id_len, request_id))
		return "request id";
	if ((author->cn[0] == '\0' || !same(en->author, en->author_len, author->cn)) &&
	    !same(en->author, en->author_len, author->fp))
		return "author";
	struct buf b;
	buf_init(&b);
	bool equal = body_as_sent(en, body, body_len, &b) == 0 && b.len == body_len &&
		     memcmp(b.data, body, body_len) == 0;
	buf_free(&b);
	return equal ? NULL : "body";
}

int record_append(struct session *s, const char *kind, const char *project, const char *request_id,
		  const uint8_t *body, size_t body_len, struct recorded *r, struct err *e)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->raw);
	buf_init(&r->note);
	struct own_author author;
	if (own_author(s->prof->cert, &author, e))
		return -1;
	sess_begin(s, "append", 4);
	mp_pack_cstr(&s->req, "kind");
	mp_pack_cstr(&s->req, kind);
	mp_pack_cstr(&s->req, "project");
	mp_pack_cstr(&s->req, project);
	mp_pack_cstr(&s->req, "request_id");
	mp_pack_cstr(&s->req, request_id);
	mp_pack_cstr(&s->req, "body");
	buf_add(&s->req, body, body_len);
	const uint8_t *res, *p;
	size_t len, n;
	struct mp_cur dc;
	struct mp_item dup = { 0 };
	if (sess_call(s, 3, &res, &len, e) || res_u64(res, len, "seq", &r->seq, e) ||
	    res_hash(res, len, "leaf_hash", r->leaf, e))
		return -1;
	if (mp_map_find(res, len, "duplicate", &dc, NULL) == 1)
		mp_next(&dc, &dup, NULL);
	r->duplicate = dup.type == MP_BOOL && dup.b;
	/* read it back: the bytes for a receipt, and what the ledger assigned */
	sess_begin(s, "get", 1);
	mp_pack_cstr(&s->req, "seq");
	mp_pack_uint(&s->req, r->seq);
	if (sess_call(s, 2, &res, &len, e) || res_bin(res, len, "entry", &p, &n, e))
		return -1;
	buf_add(&r->raw, p, n);
	uint8_t got[HASH_LEN];
	merkle_leaf_hash(r->raw.data, r->raw.len, got);
	if (memcmp(got, r->leaf, HASH_LEN) != 0 || entry_decode(r->raw.data, r->raw.len, &r->en, NULL))
		return err_setc(e, CTL_EXIT_VERIFY,
				"the entry read back does not hash to the leaf the server acknowledged");
	const char *what = differs(r, kind, project, request_id, &author, body, body_len);
	if (what)
		return err_setc(e, CTL_EXIT_VERIFY,
				"the server acknowledged entry %llu, which is not the entry sent (its %s differs)",
				(unsigned long long)r->seq, what);
	return prove_latest(s, r->seq, r->leaf, &r->pr, &r->cp, &r->note, e);
}

void record_free(struct recorded *r)
{
	buf_free(&r->raw);
	buf_free(&r->note);
}
