/*
 * pki: the private CA and certificates that `scoped init` makes for a
 * trial instance (ECDSA P-256, SHA-256).  Production setups use their own
 * CA (deploy/).  Private keys are written mode 0600, never over an
 * existing file.
 */
#ifndef SCOPE_PKI_H
#define SCOPE_PKI_H

#include <stdbool.h>

#include "err.h"

int pki_make_ca(const char *crt, const char *key, const char *cn, int days, struct err *e);
/* Issues a certificate signed by the CA.  server: serverAuth with the
 * given subjectAltName text (e.g. "DNS:localhost,IP:127.0.0.1");
 * otherwise clientAuth. */
int pki_issue(const char *ca_crt, const char *ca_key, const char *crt, const char *key,
	      const char *cn, bool server, const char *san, int days, struct err *e);

#endif
