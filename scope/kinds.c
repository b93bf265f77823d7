#include "kinds.h"

#include <string.h>

/* The only list of kinds, in the order they are named to users.  Each
 * name X is defined as `const struct kind KIND_X` in its family's file
 * (project.c, change.c, billing.c, void.c); a new kind is a definition
 * there, or in a new family file, and one row here. */
#define KINDS(X)                                                                                       \
	X(project) X(baseline)                                  /* project.c */                       \
	X(change) X(assessment) X(quote) X(response) X(evidence) /* change.c */                       \
	X(invoice) X(payment) X(credit)                         /* billing.c */                       \
	X(void) X(note)                                         /* void.c */                          \
	X(correction)                                           /* correct.c */                       \
	X(closure)                                              /* closure.c */                       \
	X(amendment) X(signatory)                               /* amend.c */                         \
	X(complaint) X(investigation) X(determination) X(reply) /* complaint.c */                    \
	X(delivery) X(accept) X(deemed_passed)                  /* delivery.c */                      \
	X(agreement) X(confirmation) X(contest)                 /* agreement.c */                     \
	X(notice)                                               /* notice.c */                        \
	X(link) X(revoke)                                       /* link.c */

#define DECLARE(n) extern const struct kind KIND_##n;
KINDS(DECLARE)
#define ROW(n) &KIND_##n,
static const struct kind *const TABLE[] = { KINDS(ROW) };

const struct kind *kind_at(size_t i)
{
	return i < sizeof TABLE / sizeof TABLE[0] ? TABLE[i] : NULL;
}

const struct kind *kind_find(const char *name, size_t n)
{
	/* the first letter first: most names differ there, and a lookup need
	 * not measure every name of the table */
	for (size_t i = 0; n && i < sizeof TABLE / sizeof TABLE[0]; i++)
		if (TABLE[i]->name[0] == name[0] && strlen(TABLE[i]->name) == n && memcmp(TABLE[i]->name, name, n) == 0)
			return TABLE[i];
	return NULL;
}
