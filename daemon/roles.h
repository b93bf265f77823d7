/*
 * roles: who may do what.  The role file maps an identity to roles and,
 * optionally, a list of projects:
 *
 *     # identity            roles                projects
 *     cn:alice              lead,approver        pr-site,pr-app
 *     "cn:Bob Smith"        finance              *
 *     sha256:<64 hex>       auditor
 *     cn:client             client               -
 *
 * An identity is "cn:" and the client certificate's subject CN, or "sha256:"
 * and the SHA-256 fingerprint of the certificate (DER), lowercase hex.  A
 * fingerprint line wins over a CN line.  Projects default to "*" (all);
 * "-" grants the roles on no project yet.
 * Identities without a line may connect but hold no role.
 *
 * The author an entry records (FORMAT.md, author) is the CN; "sha256:<fp>"
 * when the grant came from a fingerprint line or the certificate has no CN.
 * So that no certificate can write as another kind of author, a CN that is
 * empty, "scoped" (the daemon's own entries), begins with "local:" (an
 * operator's, written on the server) or "sha256:", or holds a control
 * character is refused, in the role file and at the handshake.
 */
#ifndef SCOPE_ROLES_H
#define SCOPE_ROLES_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "rules.h"	/* enum role */


#define ROLES_CN_MAX	255	/* bytes; with "sha256:<fp>" within ENTRY_AUTHOR_MAX */

struct role_grant {
	unsigned roles;		/* enum role bits; 0 = no mapping */
	bool by_fingerprint;	/* from a sha256: line: the author is sha256:<fp> */
	bool all_projects;
	char **projects;	/* when !all_projects */
	size_t nprojects;
};

struct role_map;

int roles_load(struct role_map **out, const char *path, struct err *e);
void roles_free(struct role_map *m);
/* The grant for a certificate's CN and fingerprint (hex); never NULL. */
const struct role_grant *roles_lookup(const struct role_map *m, const char *cn,
				      const char *fingerprint);
/* Why a certificate CN cannot be an identity (e.g. "is reserved for the
 * daemon's own entries"), or NULL if it can. */
const char *roles_cn_problem(const char *cn, size_t n);
bool grant_has_project(const struct role_grant *g, const char *project, size_t n);
/* Whether g may read the whole ledger (a backup, the entry bundles): the
 * admin or auditor role on all projects. */
bool roles_reads_all(const struct role_grant *g);

#endif
