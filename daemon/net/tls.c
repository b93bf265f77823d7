#include "tls.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "enc.h"

void tls_drain_errors(char *out, size_t n)
{
	size_t len = 0;
	unsigned long code;
	out[0] = '\0';
	while ((code = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(code, one, sizeof one);
		int w = snprintf(out + len, n - len, "%s%s", len ? "; " : "", one);
		if (w > 0 && (size_t)w < n - len)
			len += (size_t)w;
	}
	if (len == 0)
		snprintf(out, n, "no details");
}

int tls_check_key_file(const char *path, const char *what, struct err *e)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set(e, "%s %s: %s", what, path, strerror(errno));
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return err_set(e, "%s %s is accessible by group or others (mode %03o); run: chmod 600 %s",
			       what, path, (unsigned)(st.st_mode & 0777), path);
	return 0;
}

static int load_crls(SSL_CTX *ctx, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, "CRL file %s: %s", path, strerror(errno));
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	int n = 0;
	X509_CRL *crl;
	while ((crl = PEM_read_X509_CRL(f, NULL, NULL, NULL)) != NULL) {
		X509_STORE_add_crl(store, crl);
		X509_CRL_free(crl);
		n++;
	}
	ERR_clear_error();	/* end of file */
	fclose(f);
	if (n == 0)
		return err_set(e, "CRL file %s holds no CRL", path);
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

/* A server context with its certificate chain and key, minimum version
 * min (12 or 13), no renegotiation. */
static SSL_CTX *ctx_with_pair(const char *cert, const char *key, int min, struct err *e)
{
	char why[512];
	if (tls_check_key_file(key, "TLS private key", e))
		return NULL;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		err_set(e, "cannot create TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, min == 12 ? TLS1_2_VERSION : TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		tls_drain_errors(why, sizeof why);
		err_set(e, "TLS certificate %s: %s", cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		tls_drain_errors(why, sizeof why);
		err_set(e, "TLS private key %s: %s", key, why);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

int tls_portal_ctx(struct ssl_ctx_st **out, const char *cert, const char *key, struct err *e)
{
	SSL_CTX *ctx = ctx_with_pair(cert, key, 12, e);
	if (ctx == NULL)
		return -1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	static const unsigned char sid[] = "scoped-portal";
	SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
	*out = ctx;
	return 0;
}

/* A context that asks for a client certificate signed by o->ca (and not
 * revoked by o->crl); verify is the SSL_VERIFY_ mode. */
static int ctx_verifying(struct ssl_ctx_st **out, const struct tls_opts *o, int verify,
			 const char *sid_text, struct err *e)
{
	char why[512];
	SSL_CTX *ctx = ctx_with_pair(o->cert, o->key, o->min_version, e);
	if (ctx == NULL)
		return -1;
	if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
		tls_drain_errors(why, sizeof why);
		err_set(e, "TLS CA file %s: %s", o->ca, why);
		goto fail;
	}
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->ca);
	if (names == NULL) {
		tls_drain_errors(why, sizeof why);
		err_set(e, "TLS CA file %s holds no certificate: %s", o->ca, why);
		goto fail;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	if (o->crl && o->crl[0] && load_crls(ctx, o->crl, e))
		goto fail;
	SSL_CTX_set_verify(ctx, verify, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)sid_text, (unsigned)strlen(sid_text));
	/* Resumption: one stateless ticket per handshake, valid two hours.
	 * The ticket keys belong to this context, so a reload (SIGHUP, e.g.
	 * after revoking a certificate) invalidates every ticket issued. */
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_timeout(ctx, TLS_TICKET_LIFETIME_S);
	*out = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -1;
}

int tls_server_ctx(struct ssl_ctx_st **out, const struct tls_opts *o, struct err *e)
{
	return ctx_verifying(out, o, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, "scoped", e);
}

int tls_tiles_ctx(struct ssl_ctx_st **out, const struct tls_opts *o, struct err *e)
{
	return ctx_verifying(out, o, SSL_VERIFY_PEER, "scoped-tiles", e);
}

void tls_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);	/* live connections keep their own reference */
}

struct ssl_st *tls_new_ssl(struct ssl_ctx_st *ctx)
{
	return SSL_new(ctx);
}

int tls_peer_recheck(struct ssl_ctx_st *ctx, struct ssl_st *ssl, struct err *e)
{
	X509 *cert = SSL_get0_peer_certificate(ssl);
	if (cert == NULL)
		return err_set(e, "no client certificate");
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	if (sc == NULL)
		return err_set(e, "out of memory");
	/* the server side's peer chain excludes the leaf, and is empty for a
	 * resumed session: the CA file supplies the rest */
	int rc = 0;
	if (X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(ctx), cert, SSL_get_peer_cert_chain(ssl)) != 1 ||
	    X509_STORE_CTX_set_purpose(sc, X509_PURPOSE_SSL_CLIENT) != 1) {
		rc = err_set(e, "cannot check the certificate");
	} else if (X509_verify_cert(sc) != 1) {
		rc = err_set(e, "%s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
	}
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return rc;
}

int tls_peer_identity(struct ssl_st *ssl, char *cn, size_t cnlen, size_t *cn_n, char fp[65],
		      struct err *e)
{
	X509 *cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		return err_set(e, "no client certificate");
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		X509_free(cert);
		return err_set(e, "client certificate not verified");
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		X509_free(cert);
		return err_set(e, "cannot fingerprint the client certificate");
	}
	hex_encode(md, 32, fp);
	cn[0] = '\0';
	*cn_n = TLS_NO_CN;
	X509_NAME *subj = X509_get_subject_name(cert);
	int idx = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
	int rc = 0;
	if (idx >= 0) {
		ASN1_STRING *data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
		unsigned char *utf8 = NULL;
		int n = ASN1_STRING_to_UTF8(&utf8, data);
		if (n < 0) {
			rc = err_set(e, "the client certificate's CN cannot be read as UTF-8");
		} else {
			*cn_n = (size_t)n;
			size_t keep = (size_t)n < cnlen ? (size_t)n : cnlen - 1;
			memcpy(cn, utf8, keep);
			cn[keep] = '\0';
		}
		OPENSSL_free(utf8);
	}
	X509_free(cert);
	return rc;
}

struct bufferevent *tls_client_bev(struct event_base *base, struct ssl_ctx_st *tls, const char *host)
{
	if (tls == NULL)
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	SSL *ssl = SSL_new(tls);
	if (ssl == NULL)
		return NULL;
	SSL_set_tlsext_host_name(ssl, host);
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1 && X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}
