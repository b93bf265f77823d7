#include "pki.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static FILE *create(const char *path, int mode, struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		err_set(e, "creating %s: %s", path, strerror(errno));
		return NULL;
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		err_set(e, "creating %s: %s", path, strerror(errno));
	}
	return f;
}

static int write_key(const char *path, EVP_PKEY *k, struct err *e)
{
	FILE *f = create(path, 0600, e);
	if (f == NULL)
		return -1;
	int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	if (!ok) {
		unlink(path);
		return err_set(e, "writing %s failed", path);
	}
	return 0;
}

static int write_crt(const char *path, X509 *x, struct err *e)
{
	FILE *f = create(path, 0644, e);
	if (f == NULL)
		return -1;
	int ok = PEM_write_X509(f, x) == 1;
	ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	if (!ok) {
		unlink(path);
		return err_set(e, "writing %s failed", path);
	}
	return 0;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL)
		return -1;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A certificate skeleton: version 3, random serial, validity, key, subject. */
static X509 *skeleton(EVP_PKEY *key, const char *cn, int days)
{
	X509 *x = X509_new();
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	if (x == NULL || RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f;	/* positive */
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	if (bn == NULL || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) || !X509_set_pubkey(x, key))
		goto fail;
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Scope Ledger",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
		goto fail;
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

static int ossl_fail(struct err *e, const char *what)
{
	unsigned long code = ERR_get_error();
	ERR_clear_error();
	return err_set(e, "%s: %s", what, code ? ERR_reason_error_string(code) : "OpenSSL error");
}

int pki_make_ca(const char *crt, const char *key, const char *cn, int days, struct err *e)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = k ? skeleton(k, cn, days) : NULL;
	int rc = -1;
	if (x == NULL) {
		ossl_fail(e, "creating the CA");
		goto out;
	}
	if (!X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") || !X509_sign(x, k, EVP_sha256())) {
		ossl_fail(e, "creating the CA");
		goto out;
	}
	if (write_key(key, k, e) == 0 && write_crt(crt, x, e) == 0)
		rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static int load_ca(const char *crt, const char *key, X509 **x, EVP_PKEY **k, struct err *e)
{
	FILE *f = fopen(crt, "r");
	*x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(key, "r");
	*k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (*x == NULL || *k == NULL) {
		X509_free(*x);
		EVP_PKEY_free(*k);
		return err_set(e, "cannot read the CA from %s and %s", crt, key);
	}
	return 0;
}

int pki_issue(const char *ca_crt, const char *ca_key, const char *crt, const char *key,
	      const char *cn, bool server, const char *san, int days, struct err *e)
{
	X509 *ca, *x = NULL;
	EVP_PKEY *cak, *k = NULL;
	int rc = -1;
	if (load_ca(ca_crt, ca_key, &ca, &cak, e))
		return -1;
	k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	x = k ? skeleton(k, cn, days) : NULL;
	if (x == NULL || !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(x, ca, NID_key_usage, "critical,digitalSignature") ||
	    add_ext(x, ca, NID_ext_key_usage, server ? "serverAuth" : "clientAuth") ||
	    add_ext(x, ca, NID_authority_key_identifier, "keyid") ||
	    (server && san && add_ext(x, ca, NID_subject_alt_name, san)) ||
	    !X509_sign(x, cak, EVP_sha256())) {
		ossl_fail(e, "issuing a certificate");
		goto out;
	}
	if (write_key(key, k, e) == 0 && write_crt(crt, x, e) == 0)
		rc = 0;
out:
	X509_free(x);
	EVP_PKEY_free(k);
	X509_free(ca);
	EVP_PKEY_free(cak);
	return rc;
}
