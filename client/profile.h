/*
 * profile: where and how scopectl connects.  A profile file (as written by
 * `scoped init` into DIR/clients/ROLE.conf) holds "name = value" lines:
 * server (HOST:PORT), server_name (checked against the server certificate),
 * cert, key, ca (paths relative to the file), trust (verifier keys; may
 * repeat), tsa_ca (the TSA's CA certificates, for checking anchor tokens), witness
 * (a witness's cosignature/v1 verifier key; may repeat) and quorum (how many must cosign), or
 * instead of those policy (a C2SP tlog-policy file).  --config FILE, else
 * $SCOPECTL_CONFIG; flags override it.
 */
#ifndef SCOPECTL_PROFILE_H
#define SCOPECTL_PROFILE_H

#include <stddef.h>

#include "cosig.h"
#include "err.h"
#include "note.h"
#include "policy.h"

#define PROFILE_MAX_TRUST 8

struct profile {
	char host[256];
	char port[16];
	char server_name[256];
	char cert[4096];
	char key[4096];
	char ca[4096];
	char tsa_ca[4096];		/* optional */
	struct note_verifier trust[PROFILE_MAX_TRUST];
	size_t ntrust;
	bool upload;	/* upload = yes: every --doc and --evidence file is stored as well as hashed */
	/* witness = NAME+ID+KEY (cosignature/v1; may repeat) and quorum = N (0: all of them):
	 * every checkpoint accepted must carry that many valid cosignatures */
	struct cosig_verifier witnesses[COSIG_MAX_COSIGNERS];
	size_t nwitnesses, quorum;
	/* policy = FILE (C2SP tlog-policy): its witnesses and quorum instead */
	bool has_policy;
	struct policy policy;
};
/* The cosignatures a checkpoint needs: 0 without witnesses (with a policy,
 * 1 unless its quorum is none). */
size_t profile_quorum(const struct profile *p);
/* The signed checkpoint note carries the witnesses' quorum (the policy's,
 * with one): 0, else -1 with e naming those that did not cosign. */
int profile_cosigned(const struct profile *p, const char *note, size_t n, struct err *e);

int profile_load(struct profile *p, const char *path, struct err *e);
/* name is one of server, server_name, cert, key, ca, trust, tsa_ca, upload,
 * witness, quorum, policy. */
int profile_set(struct profile *p, const char *name, const char *value, const char *base,
		struct err *e);
/* Everything needed to connect is there. */
int profile_check(const struct profile *p, struct err *e);
/* A verifier key inline, or the first line of a file. */
int trust_parse(const char *arg, struct note_verifier *v, struct err *e);

#endif
