#include "rules.h"

#include <string.h>

#include "roles.h"

static bool is(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(k, want, n) == 0;
}

unsigned rules_writers(const char *kind, size_t kind_len)
{
	static const struct {
		const char *kind;
		unsigned roles;
	} W[] = {
		{ "project", ROLE_ADMIN | ROLE_LEAD },
		{ "baseline", ROLE_LEAD },
		{ "change", ROLE_LEAD | ROLE_CLIENT },
		{ "assessment", ROLE_APPROVER },
		{ "quote", ROLE_LEAD },
		{ "response", ROLE_CLIENT | ROLE_LEAD },
		{ "evidence", ROLE_CLIENT | ROLE_LEAD },
		{ "invoice", ROLE_FINANCE },
		{ "payment", ROLE_FINANCE },
		{ "void", ROLE_LEAD },
		{ "note", ROLE_LEAD | ROLE_APPROVER | ROLE_FINANCE | ROLE_CLIENT | ROLE_ADMIN },
	};
	for (size_t i = 0; i < sizeof W / sizeof W[0]; i++)
		if (is(kind, kind_len, W[i].kind))
			return W[i].roles;
	return 0;
}
