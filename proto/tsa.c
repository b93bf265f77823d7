#include "tsa.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "enc.h"
#include "isotime.h"
#include "mp.h"
#include "note.h"

void tsa_checkpoint_text(const char *origin, uint64_t size, const uint8_t root[HASH_LEN], struct buf *out)
{
	struct checkpoint cp;
	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", origin);
	cp.size = size;
	memcpy(cp.root, root, HASH_LEN);
	checkpoint_format(&cp, out);
}

void tsa_imprint(const char *origin, uint64_t size, const uint8_t root[HASH_LEN], uint8_t out[HASH_LEN])
{
	struct buf b;
	buf_init(&b);
	tsa_checkpoint_text(origin, size, root, &b);
	sha256(b.data, b.len, out);
	buf_free(&b);
}

/* The reason OpenSSL gives, after what we were doing. */
static int ssl_err(struct err *e, const char *what)
{
	unsigned long code = ERR_get_error();
	char r[160] = "";
	if (code)
		ERR_error_string_n(code, r, sizeof r);
	ERR_clear_error();
	return err_set(e, "%s%s%s", what, r[0] ? ": " : "", r);
}

static TS_REQ *build_req(const uint8_t imprint[HASH_LEN], uint64_t nonce)
{
	TS_REQ *req = TS_REQ_new();
	TS_MSG_IMPRINT *mi = TS_MSG_IMPRINT_new();
	X509_ALGOR *alg = X509_ALGOR_new();
	ASN1_INTEGER *n = ASN1_INTEGER_new();
	bool ok = req && mi && alg && n && X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) &&
		  TS_MSG_IMPRINT_set_algo(mi, alg) && TS_MSG_IMPRINT_set_msg(mi, (unsigned char *)imprint, HASH_LEN) &&
		  TS_REQ_set_version(req, 1) && TS_REQ_set_msg_imprint(req, mi) &&
		  ASN1_INTEGER_set_uint64(n, nonce) && TS_REQ_set_nonce(req, n) && TS_REQ_set_cert_req(req, 1);
	ASN1_INTEGER_free(n);
	X509_ALGOR_free(alg);
	TS_MSG_IMPRINT_free(mi);
	if (!ok) {
		TS_REQ_free(req);
		return NULL;
	}
	return req;
}

int tsa_request(const uint8_t imprint[HASH_LEN], uint64_t nonce, struct buf *der, struct err *e)
{
	TS_REQ *req = build_req(imprint, nonce);
	unsigned char *p = NULL;
	int len = req ? i2d_TS_REQ(req, &p) : -1;
	if (len > 0)
		buf_add(der, p, (size_t)len);
	OPENSSL_free(p);
	TS_REQ_free(req);
	return len > 0 ? 0 : ssl_err(e, "cannot build the time-stamp request");
}

/* The CA certificates the signer's chain must end in. */
static int set_ca(TS_VERIFY_CTX *ctx, const char *ca_file, struct err *e)
{
	X509_STORE *store = X509_STORE_new();
	if (store == NULL)
		return err_set(e, "out of memory");
	TS_VERIFY_CTX_set_store(ctx, store);
	if (X509_STORE_load_file(store, ca_file) != 1) {
		ssl_err(e, "cannot load the TSA CA certificates");
		return err_prefix(e, "%s", ca_file);
	}
	return 0;
}

/* The token's genTime, "YYYYMMDDHHMMSS[.fraction]Z", in microseconds. */
static int gen_time_us(const ASN1_GENERALIZEDTIME *t, uint64_t *us, struct err *e)
{
	const char *s = (const char *)ASN1_STRING_get0_data(t);
	int n = ASN1_STRING_length(t);
	char date[11];
	uint64_t v[6] = { 0 };
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	int i = 0;
	for (int f = 0; f < 6; f++)
		for (int k = 0; k < width[f]; k++, i++) {
			if (i >= n || s[i] < '0' || s[i] > '9')
				return err_set(e, "the token's genTime is not YYYYMMDDHHMMSS[.f]Z");
			v[f] = v[f] * 10 + (uint64_t)(s[i] - '0');
		}
	uint64_t frac = 0, scale = 1000000;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(s[i] - '0') * scale;
			}
	snprintf(date, sizeof date, "%04u-%02u-%02u", (unsigned)v[0], (unsigned)v[1], (unsigned)v[2]);
	int64_t days = time_date_days(date);
	if (i != n - 1 || s[i] != 'Z' || days < 0 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return err_set(e, "the token's genTime is not YYYYMMDDHHMMSS[.f]Z");
	*us = (((uint64_t)days * 24 + v[3]) * 60 + v[4]) * 60 * 1000000 + v[5] * 1000000 + frac;
	return 0;
}

int tsa_reply_check(const uint8_t *resp, size_t n, const uint8_t imprint[HASH_LEN], uint64_t nonce,
		    const char *ca_file, struct buf *token, struct err *e)
{
	const unsigned char *p = resp;
	if (n > TSA_TOKEN_MAX)
		return err_set(e, "the reply is larger than %d bytes", TSA_TOKEN_MAX);
	TS_RESP *r = d2i_TS_RESP(NULL, &p, (long)n);
	if (r == NULL || p != resp + n) {
		TS_RESP_free(r);
		return err_set(e, "the reply is no RFC 3161 TimeStampResp");
	}
	TS_REQ *req = build_req(imprint, nonce);
	TS_VERIFY_CTX *ctx = req ? TS_REQ_to_TS_VERIFY_CTX(req, NULL) : NULL;
	int rc = -1;
	if (ctx == NULL) {
		err_set(e, "out of memory");
	} else if (set_ca(ctx, ca_file, e) == 0) {
		TS_VERIFY_CTX_add_flags(ctx, TS_VFY_SIGNATURE);
		if (TS_RESP_verify_response(ctx, r) != 1) {
			ssl_err(e, "the TSA's reply does not verify");
		} else {
			unsigned char *d = NULL;
			int len = i2d_PKCS7(TS_RESP_get_token(r), &d);
			if (len > 0 && len <= TSA_TOKEN_MAX) {
				buf_add(token, d, (size_t)len);
				rc = 0;
			} else {
				err_set(e, "the TSA's token is larger than %d bytes", TSA_TOKEN_MAX);
			}
			OPENSSL_free(d);
		}
	}
	TS_VERIFY_CTX_free(ctx);
	TS_REQ_free(req);
	TS_RESP_free(r);
	return rc;
}

static PKCS7 *read_token(const uint8_t *der, size_t n, struct err *e)
{
	const unsigned char *p = der;
	PKCS7 *t = n <= TSA_TOKEN_MAX ? d2i_PKCS7(NULL, &p, (long)n) : NULL;
	if (t == NULL || p != der + n) {
		PKCS7_free(t);
		ERR_clear_error();
		err_set(e, "the token is no RFC 3161 TimeStampToken (DER)");
		return NULL;
	}
	return t;
}

int tsa_token_read(const uint8_t *der, size_t n, uint8_t imprint[HASH_LEN], uint64_t *time_us, struct err *e)
{
	PKCS7 *t = read_token(der, n, e);
	if (t == NULL)
		return -1;
	TS_TST_INFO *info = PKCS7_to_TS_TST_INFO(t);
	PKCS7_free(t);
	if (info == NULL) {
		ERR_clear_error();
		return err_set(e, "the token holds no TSTInfo");
	}
	int rc = -1;
	TS_MSG_IMPRINT *mi = TS_TST_INFO_get_msg_imprint(info);
	const ASN1_OBJECT *alg = NULL;
	X509_ALGOR_get0(&alg, NULL, NULL, TS_MSG_IMPRINT_get_algo(mi));
	ASN1_OCTET_STRING *msg = TS_MSG_IMPRINT_get_msg(mi);
	if (OBJ_obj2nid(alg) != NID_sha256 || ASN1_STRING_length(msg) != HASH_LEN) {
		err_set(e, "the token's imprint is not SHA-256");
	} else if (gen_time_us(TS_TST_INFO_get_time(info), time_us, e) == 0) {
		memcpy(imprint, ASN1_STRING_get0_data(msg), HASH_LEN);
		rc = 0;
	}
	TS_TST_INFO_free(info);
	return rc;
}

int tsa_token_verify(const uint8_t *der, size_t n, const uint8_t imprint[HASH_LEN], const char *ca_file,
		     struct err *e)
{
	PKCS7 *t = read_token(der, n, e);
	if (t == NULL)
		return -1;
	TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new();
	unsigned char *imp = OPENSSL_malloc(HASH_LEN);
	int rc = -1;
	if (ctx == NULL || imp == NULL) {
		OPENSSL_free(imp);
		err_set(e, "out of memory");
	} else {
		memcpy(imp, imprint, HASH_LEN);
		TS_VERIFY_CTX_set_imprint(ctx, imp, HASH_LEN);
		TS_VERIFY_CTX_set_flags(ctx, TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
		if (set_ca(ctx, ca_file, e) == 0)
			rc = TS_RESP_verify_token(ctx, t) == 1 ? 0 : ssl_err(e, "the token does not verify");
	}
	TS_VERIFY_CTX_free(ctx);
	PKCS7_free(t);
	return rc;
}

int tsa_anchor_parse(const uint8_t *body, size_t len, struct tsa_anchor *a, struct err *e)
{
	struct mp_cur c;
	uint32_t n;
	const char *root;
	size_t rn;
	mp_cur_init(&c, body, len);
	if (mp_get_map(&c, &n, e))
		return -1;
	if (n != 4 || mp_expect_key(&c, "root", e) || mp_get_str(&c, &root, &rn, e) ||
	    mp_expect_key(&c, "size", e) || mp_get_uint(&c, &a->size, e) || mp_expect_key(&c, "token", e) ||
	    mp_get_str(&c, &a->token, &a->token_len, e) || mp_expect_key(&c, "tsa_time_us", e) ||
	    mp_get_uint(&c, &a->time_us, e))
		return err_set(e, "anchor: the body is exactly root (hex), size, token (base64) and tsa_time_us");
	if (rn != 2 * HASH_LEN || hex_decode(root, rn, a->root, HASH_LEN) != 0)
		return err_set(e, "anchor: root is not 64 hex digits");
	return 0;
}

int tsa_anchor_token(const struct tsa_anchor *a, uint8_t *der, size_t *dn, struct err *e)
{
	if (b64_decode(a->token, a->token_len, der, TSA_TOKEN_MAX, dn))
		return err_set(e, "anchor: token is not standard base64 of at most %d bytes", TSA_TOKEN_MAX);
	return 0;
}
