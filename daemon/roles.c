#include "roles.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entry.h"
#include "mp.h"

struct line {
	char *identity;
	struct role_grant g;
};

struct role_map {
	struct line *lines;
	size_t n;
};

static void grant_free(struct role_grant *g)
{
	for (size_t i = 0; i < g->nprojects; i++)
		free(g->projects[i]);
	free(g->projects);
}

void roles_free(struct role_map *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->lines[i].identity);
		grant_free(&m->lines[i].g);
	}
	free(m->lines);
	free(m);
}

/* Splits the next field: whitespace-separated, or in double quotes. */
static char *field(char **p)
{
	char *s = *p;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0' || *s == '#')
		return NULL;
	char *start;
	if (*s == '"') {
		start = ++s;
		while (*s && *s != '"')
			s++;
		if (*s != '"')
			return NULL;
	} else {
		start = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
	if (*s)
		*s++ = '\0';
	*p = s;
	return start;
}

static int parse_roles(const char *s, unsigned *out)
{
	*out = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned r = role_parse(tok);
		if (r == 0)
			return -1;
		*out |= r;
	}
	return *out ? 0 : -1;
}

static int parse_projects(char *s, struct role_grant *g, struct err *e)
{
	if (strcmp(s, "*") == 0) {
		g->all_projects = true;
		return 0;
	}
	if (strcmp(s, "-") == 0)
		return 0;	/* the role, but no project yet */
	for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (entry_check_project(tok, strlen(tok), e) || tok[0] == '\0')
			return -1;
		char **np = realloc(g->projects, (g->nprojects + 1) * sizeof *np);
		if (np == NULL)
			return err_set(e, "out of memory");
		g->projects = np;
		if ((g->projects[g->nprojects] = strdup(tok)) == NULL)
			return err_set(e, "out of memory");
		g->nprojects++;
	}
	return 0;
}

#define STR_(x) #x
#define STR(x) STR_(x)

const char *roles_cn_problem(const char *cn, size_t n)
{
	if (n == 0)
		return "is empty";
	if (n > ROLES_CN_MAX)
		return "is longer than " STR(ROLES_CN_MAX) " bytes";
	if (!utf8_valid((const uint8_t *)cn, n))
		return "is not valid UTF-8";
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)cn[i] < 0x20 || cn[i] == 0x7f)
			return "holds a control character";
	if (n == 6 && strncasecmp(cn, "scoped", 6) == 0)
		return "is reserved for the entries scoped records itself";
	if (n >= 6 && strncasecmp(cn, "local:", 6) == 0)
		return "begins with \"local:\", reserved for entries an operator writes on the server";
	if (n >= 7 && strncasecmp(cn, "sha256:", 7) == 0)
		return "begins with \"sha256:\", reserved for certificates known by their fingerprint";
	return NULL;
}

static bool identity_ok(const char *s)
{
	if (strncmp(s, "cn:", 3) == 0)
		return true;	/* the name is checked by roles_cn_problem */
	if (strncmp(s, "sha256:", 7) == 0) {
		if (strlen(s + 7) != 64)
			return false;
		for (const char *p = s + 7; *p; p++)
			if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
				return false;
		return true;
	}
	return false;
}

int roles_load(struct role_map **out, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, "role file %s: %s", path, strerror(errno));
	struct role_map *m = calloc(1, sizeof *m);
	char line[4096];
	unsigned lineno = 0;
	int rc = 0;
	if (m == NULL) {
		fclose(f);
		return err_set(e, "out of memory");
	}
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line, *id = field(&p);
		if (id == NULL)
			continue;	/* blank or comment */
		char *roles = field(&p), *projects = field(&p);
		if (field(&p) != NULL) {
			rc = err_set(e, "%s:%u: too many fields", path, lineno);
			break;
		}
		struct line l = { 0 };
		if (!identity_ok(id)) {
			rc = err_set(e, "%s:%u: identity must be cn:NAME or sha256:<64 lowercase hex>", path, lineno);
			break;
		}
		const char *why = strncmp(id, "cn:", 3) == 0 ? roles_cn_problem(id + 3, strlen(id + 3)) : NULL;
		if (why) {
			rc = err_set(e, "%s:%u: identity %.80s: the name %s; no certificate may use it", path,
				     lineno, id, why);
			break;
		}
		l.g.by_fingerprint = id[0] == 's';
		if (roles == NULL || parse_roles(roles, &l.g.roles)) {
			rc = err_set(e, "%s:%u: roles must be a comma-separated list of lead, approver, "
				     "finance, auditor, client, admin", path, lineno);
			break;
		}
		if (parse_projects(projects ? projects : (char *)"*", &l.g, e)) {
			grant_free(&l.g);
			rc = err_prefix(e, "%s:%u: projects", path, lineno);
			break;
		}
		struct line *nl = realloc(m->lines, (m->n + 1) * sizeof *nl);
		if (nl == NULL || (l.identity = strdup(id)) == NULL) {
			if (nl)
				m->lines = nl;
			grant_free(&l.g);
			rc = err_set(e, "out of memory");
			break;
		}
		m->lines = nl;
		m->lines[m->n++] = l;
	}
	fclose(f);
	if (rc) {
		roles_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

static const struct role_grant NONE = { 0, false, false, NULL, 0 };

const struct role_grant *roles_lookup(const struct role_map *m, const char *cn,
				      const char *fingerprint)
{
	const struct role_grant *by_cn = NULL;
	if (m == NULL)
		return &NONE;
	for (size_t i = 0; i < m->n; i++) {
		const char *id = m->lines[i].identity;
		if (fingerprint && strncmp(id, "sha256:", 7) == 0 && strcmp(id + 7, fingerprint) == 0)
			return &m->lines[i].g;
		if (cn && by_cn == NULL && strncmp(id, "cn:", 3) == 0 && strcmp(id + 3, cn) == 0)
			by_cn = &m->lines[i].g;
	}
	return by_cn ? by_cn : &NONE;
}

bool grant_has_project(const struct role_grant *g, const char *project, size_t n)
{
	if (g->all_projects)
		return true;
	for (size_t i = 0; i < g->nprojects; i++)
		if (strlen(g->projects[i]) == n && memcmp(g->projects[i], project, n) == 0)
			return true;
	return false;
}

bool roles_reads_all(const struct role_grant *g)
{
	return (g->roles & (ROLE_ADMIN | ROLE_AUDITOR)) && g->all_projects;
}
