/*
 * tls: the server's TLS context and peer identity.  The only daemon file,
 * with signer.c and pki.c, that calls OpenSSL; connections see opaque
 * SSL and SSL_CTX pointers.
 *
 * Mutual TLS is mandatory: a client without a certificate signed by the
 * configured CA (and, with a CRL configured, not revoked) fails the
 * handshake.  TLS 1.3 by default; 1.2 only when configured.  A session
 * may be resumed with a ticket for TLS_TICKET_LIFETIME_S, or until the
 * context is replaced (SIGHUP), whichever comes first.
 */
#ifndef SCOPE_TLS_H
#define SCOPE_TLS_H

#include <stddef.h>

#include "err.h"

#define TLS_TICKET_LIFETIME_S 7200

struct ssl_ctx_st;
struct ssl_st;

struct tls_opts {
	const char *cert;	/* PEM chain */
	const char *key;	/* PEM private key, mode 0600 or stricter */
	const char *ca;		/* PEM CA certificates that sign client certificates */
	const char *crl;	/* optional PEM CRLs ("" or NULL: none) */
	int min_version;	/* 12 or 13 */
};

int tls_server_ctx(struct ssl_ctx_st **out, const struct tls_opts *o, struct err *e);
/* The portal's context (daemon/portal/): the server certificate only, no
 * client certificate asked, TLS 1.2 or later. */
int tls_portal_ctx(struct ssl_ctx_st **out, const char *cert, const char *key, struct err *e);
/* The tiles listener's context (daemon/tiles/): like tls_server_ctx, it
 * asks for a client certificate and verifies one against the CA and CRL,
 * but a client without one completes the handshake (and is anonymous). */
int tls_tiles_ctx(struct ssl_ctx_st **out, const struct tls_opts *o, struct err *e);
void tls_ctx_free(struct ssl_ctx_st *ctx);
struct ssl_st *tls_new_ssl(struct ssl_ctx_st *ctx);
/* Verifies an open connection's client certificate again against ctx's CA
 * and CRL (after a reload): 0 if it still verifies, else -1 and why. */
int tls_peer_recheck(struct ssl_ctx_st *ctx, struct ssl_st *ssl, struct err *e);
#define TLS_NO_CN ((size_t)-1)
/* The verified peer's subject CN as UTF-8 (truncated to cnlen - 1 bytes;
 * *cn_n is its whole length, TLS_NO_CN when the subject has no CN) and the
 * SHA-256 fingerprint of its certificate, lowercase hex. */
int tls_peer_identity(struct ssl_st *ssl, char *cn, size_t cnlen, size_t *cn_n, char fp[65],
		      struct err *e);
/* Drains OpenSSL's error queue into one message (for logs). */
void tls_drain_errors(char *out, size_t n);
/* Refuses a private key file that group or others can read. */
int tls_check_key_file(const char *path, const char *what, struct err *e);

struct bufferevent;
struct event_base;
/* A client connection's bufferevent for an HTTP client: plain when tls is
 * NULL, else TLS over tls with SNI and the peer's certificate checked for
 * host (an IP address or a DNS name); NULL on failure. */
struct bufferevent *tls_client_bev(struct event_base *base, struct ssl_ctx_st *tls, const char *host);

#endif
