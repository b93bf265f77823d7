/*
 * resume: TLS session tickets kept between scopectl runs.  A ticket the
 * server sends is written to the state directory; the next command for the
 * same server with the same client certificate offers it and, if the
 * server still accepts it, skips the certificate exchange of a full
 * handshake.  A missing, stale or refused ticket only costs a full
 * handshake.
 */
#ifndef SCOPECTL_RESUME_H
#define SCOPECTL_RESUME_H

#include <stddef.h>

#include "profile.h"

struct ssl_session_st;

/* The ticket file for this profile: named after SHA-256 of the server
 * address and name and the contents of the CA, certificate and key files,
 * so a ticket is only offered by the profile that earned it with a full
 * handshake: never for another identity, server or key.  0 or -1. */
int resume_path(const struct profile *p, char *out, size_t n);
/* The remembered session if it is still within its lifetime, else NULL. */
struct ssl_session_st *resume_load(const char *path);
/* Remembers sess (mode 0600; no fsync: losing it costs one handshake). */
void resume_save(const char *path, struct ssl_session_st *sess);

#endif
