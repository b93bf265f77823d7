/*
 * signer: the checkpoint signing key on disk.  A PEM PKCS#8 Ed25519 private
 * key (the format `openssl genpkey -algorithm ed25519` writes), mode 0600.
 * A key file that group or others can read is refused.
 */
#ifndef SCOPE_SIGNER_H
#define SCOPE_SIGNER_H

#include "err.h"
#include "note.h"

/* Creates a new key file (fails if it exists). */
int signer_generate(const char *path, struct err *e);
/* Loads the key; `name` becomes the signed-note key name (the origin). */
int signer_load(struct note_signer *s, const char *path, const char *name, struct err *e);

#endif
