#include "rules.h"

#include <stdio.h>
#include <string.h>

#include "kinds.h"

static const struct { const char *name; enum role r; } ROLES[] = {
	{ "lead", ROLE_LEAD }, { "approver", ROLE_APPROVER }, { "finance", ROLE_FINANCE },
	{ "auditor", ROLE_AUDITOR }, { "client", ROLE_CLIENT }, { "admin", ROLE_ADMIN },
};

const char *role_name(enum role r)
{
	for (size_t i = 0; i < sizeof ROLES / sizeof ROLES[0]; i++)
		if (ROLES[i].r == r)
			return ROLES[i].name;
	return "?";
}

unsigned role_parse(const char *name)
{
	for (size_t i = 0; i < sizeof ROLES / sizeof ROLES[0]; i++)
		if (strcmp(name, ROLES[i].name) == 0)
			return ROLES[i].r;
	return 0;
}

static void roles_list(unsigned roles, const char *sep, char *out, size_t n)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof ROLES / sizeof ROLES[0]; i++)
		if (roles & ROLES[i].r) {
			int w = snprintf(out + len, n - len, "%s%s", len ? sep : "", ROLES[i].name);
			if (w < 0 || (size_t)w >= n - len)
				return;
			len += (size_t)w;
		}
}

void roles_format(unsigned roles, char *out, size_t n) { roles_list(roles, ",", out, n); }
void roles_text(unsigned roles, char *out, size_t n) { roles_list(roles, ", ", out, n); }

unsigned rules_writers(const char *kind, size_t kind_len)
{
	const struct kind *k = kind_find(kind, kind_len);
	return k ? k->writers : 0;
}

unsigned rules_correctors(const char *kind, size_t kind_len)
{
	return kind_len == 10 && memcmp(kind, "correction", 10) == 0 ? 0 : rules_writers(kind, kind_len);
}

void rules_kinds(char *out, size_t n)
{
	size_t w = 0;
	out[0] = '\0';
	for (size_t i = 0; kind_at(i) && w < n; i++) {
		int r = snprintf(out + w, n - w, "%s%s", i ? ", " : "", kind_at(i)->name);
		w += r > 0 ? (size_t)r : 0;
	}
}
