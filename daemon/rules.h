/*
 * rules: which roles may record which kind (proto/PROTOCOL.md, "Roles").
 * The role file can narrow an identity to projects, never widen this.
 * What the bodies hold and how the lifecycle moves is domain.c's job.
 */
#ifndef SCOPE_RULES_H
#define SCOPE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Role bits (enum role in roles.h) that may record this kind; 0 if none. */
unsigned rules_writers(const char *kind, size_t kind_len);

#endif
