/*
 * rules: which roles may record which kind (proto/PROTOCOL.md, "Roles"),
 * read from the kind table (kinds.c).  The role file (daemon/roles.c) can
 * narrow an identity to projects, never widen this.  What the bodies hold
 * and how the lifecycle moves is the kinds' own files' job.
 */
#ifndef SCOPE_RULES_H
#define SCOPE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum role {
	ROLE_LEAD = 1 << 0,
	ROLE_APPROVER = 1 << 1,
	ROLE_FINANCE = 1 << 2,
	ROLE_AUDITOR = 1 << 3,
	ROLE_CLIENT = 1 << 4,
	ROLE_ADMIN = 1 << 5,
};
#define ROLE_ALL (ROLE_LEAD | ROLE_APPROVER | ROLE_FINANCE | ROLE_AUDITOR | ROLE_CLIENT | ROLE_ADMIN)

const char *role_name(enum role r);
/* The role named name ("lead", ...); 0 if none. */
unsigned role_parse(const char *name);
/* "lead,approver" for messages and info replies. */
void roles_format(unsigned roles, char *out, size_t n);
/* "lead, approver": the same for prose (scopectl help). */
void roles_text(unsigned roles, char *out, size_t n);

/* Role bits that may record this kind; 0 if none (an unknown kind). */
unsigned rules_writers(const char *kind, size_t kind_len);

/* Role bits that may correct an entry of this kind: those that may record
 * it; 0 for a correction (a correction is not corrected) or an unknown kind. */
unsigned rules_correctors(const char *kind, size_t kind_len);

#define RULES_KINDS_MAX 512
/* The known kinds, "project, baseline, ...", into out (n bytes). */
void rules_kinds(char *out, size_t n);

#endif
