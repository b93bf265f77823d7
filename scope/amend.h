/*
 * amend: contract amendments (the model contract's 変更契約) and the
 * register of who may sign for the client (amend.c), and what a response
 * (change.c) asks of them.  Internal to scope/.
 */
#ifndef SCOPE_AMEND_H
#define SCOPE_AMEND_H

#include <stdbool.h>
#include <stdint.h>

#include "kinds.h"

/* Once the project has a register, the respondent must be on it, and an
 * approval of total minor units (what, e.g. "the quote of CR-3") within
 * the signatory's limit.  0 allowed, -1 refused. */
int signatory_allows(struct ctx *x, bool approving, uint64_t total, const char *what);
/* A response answering amendment AMD-number: approved signs it, rejected
 * frees its changes; a revision request is refused. */
int amendment_answer(struct ctx *x, uint64_t number, bool approved, bool rejected);
/* on_behalf assigned: a response (or accept) recorded by someone without
 * the client role is unconfirmed until evidence is given. */
int mark_unconfirmed(struct ctx *x);
/* A response answering agreement AGR-number: approved confirms it,
 * rejected disputes it; a revision request is refused (agreement.c). */
int agreement_answer(struct ctx *x, uint64_t number, bool approved, bool rejected);
/* A response answering notice NTC-number: acknowledged, or disputed
 * (notice.c). */
int notice_answer(struct ctx *x, uint64_t number, bool acknowledged);
/* Records this response as in force (who answered what), replacing the
 * earlier one at seq replaces (0: none). */
int response_in_force(struct ctx *x, const char *answered, uint64_t replaces);

#endif
