#include "rules.h"

#include <stdio.h>

#include "kinds.h"

unsigned rules_writers(const char *kind, size_t kind_len)
{
	const struct kind *k = kind_find(kind, kind_len);
	return k ? k->writers : 0;
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
