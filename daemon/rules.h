/*
 * rules: the ledger's domain rules, checked before an entry is written:
 * which kinds exist, what their bodies hold, and which roles may record
 * them.  (proto/FORMAT.md lists the kinds; proto/PROTOCOL.md the roles.)
 */
#ifndef SCOPE_RULES_H
#define SCOPE_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NOTE_TEXT_MAX (64 * 1024)

/* Checks the body of an entry of this kind (canonical msgpack map). */
int rules_check_body(const char *kind, size_t kind_len, const uint8_t *body, size_t body_len,
		     struct err *e);
/* Role bits (enum role in roles.h) that may record this kind; 0 if none. */
unsigned rules_writers(const char *kind, size_t kind_len);

#endif
