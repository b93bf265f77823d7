/*
 * policy: parsing and checking C2SP tlog-policy files (policy.h).
 */
#include "policy.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"

#define MAX_TOKENS	(2 + POLICY_MAX_WITNESSES + POLICY_MAX_GROUPS + 1)

struct tok {
	const char *p;
	size_t n;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool tok_is(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

/* Splits a line at spaces and tabs; -1 when it has too many items. */
static int split(const char *line, size_t n, struct tok *t, size_t *nt)
{
	*nt = 0;
	size_t i = 0;
	while (i < n) {
		while (i < n && is_space(line[i]))
			i++;
		if (i == n)
			break;
		size_t start = i;
		while (i < n && !is_space(line[i]))
			i++;
		if (*nt == MAX_TOKENS)
			return -1;
		t[(*nt)++] = (struct tok){ line + start, i - start };
	}
	return 0;
}

#define UNDEFINED	(-2000)

/* The witness or group called t, POLICY_NONE for `none`, or UNDEFINED. */
static int lookup(const struct policy *p, const struct tok *t)
{
	if (tok_is(t, "none"))
		return POLICY_NONE;
	for (size_t i = 0; i < p->nwitnesses; i++)
		if (tok_is(t, p->witness[i].name))
			return (int)i;
	for (size_t i = 0; i < p->ngroups; i++)
		if (tok_is(t, p->group[i].name))
			return -(int)i - 1;
	return UNDEFINED;
}

static int take_name(const struct policy *p, const struct tok *t, char out[NOTE_NAME_MAX + 1], unsigned line,
		     struct err *e)
{
	if (t->n > NOTE_NAME_MAX)
		return err_set(e, "policy line %u: the name is longer than %d bytes", line, NOTE_NAME_MAX);
	if (lookup(p, t) != UNDEFINED)
		return err_set(e, "policy line %u: \"%.*s\" is %s; give each witness and group its own name", line,
			       (int)t->n, t->p, tok_is(t, "none") ? "reserved" : "defined already");
	memcpy(out, t->p, t->n);
	out[t->n] = '\0';
	return 0;
}

static int take_url(const struct tok *t, char out[POLICY_URL_MAX], unsigned line, struct err *e)
{
	if (t->n >= POLICY_URL_MAX)
		return err_set(e, "policy line %u: the URL is longer than %d bytes", line, POLICY_URL_MAX - 1);
	memcpy(out, t->p, t->n);
	out[t->n] = '\0';
	return 0;
}

static int parse_log(struct policy *p, const struct tok *t, size_t nt, unsigned line, struct err *e)
{
	if (nt < 2 || nt > 3)
		return err_set(e, "policy line %u: write a log as \"log <vkey> [<url>]\"", line);
	if (p->nlogs == POLICY_MAX_LOGS)
		return err_set(e, "policy line %u: more than %d logs", line, POLICY_MAX_LOGS);
	struct policy_log *l = &p->log[p->nlogs];
	struct err why = { 0 };
	if (note_verifier_parse(t[1].p, t[1].n, &l->key, &why))
		return err_set(e, "policy line %u: the log key: %s", line, why.msg);
	for (size_t i = 0; i < p->nlogs; i++)
		if (memcmp(p->log[i].key.pub, l->key.pub, 32) == 0)
			return err_set(e, "policy line %u: the log key %s is listed twice", line,
				       p->log[i].key.name);
	l->url[0] = '\0';
	if (nt == 3 && take_url(&t[2], l->url, line, e))
		return -1;
	p->nlogs++;
	return 0;
}

static int parse_witness(struct policy *p, const struct tok *t, size_t nt, unsigned line, struct err *e)
{
	if (nt < 3 || nt > 4)
		return err_set(e, "policy line %u: write a witness as \"witness <name> <vkey> [<url>]\"", line);
	if (p->nwitnesses == POLICY_MAX_WITNESSES)
		return err_set(e, "policy line %u: more than %d witnesses", line, POLICY_MAX_WITNESSES);
	struct policy_witness *w = &p->witness[p->nwitnesses];
	if (take_name(p, &t[1], w->name, line, e))
		return -1;
	struct err why = { 0 };
	if (cosig_verifier_parse(t[2].p, t[2].n, &w->key, &why))
		return err_set(e, "policy line %u: witness %s's key: %s", line, w->name, why.msg);
	for (size_t i = 0; i < p->nwitnesses; i++)
		if (memcmp(p->witness[i].key.pub, w->key.pub, 32) == 0)
			return err_set(e, "policy line %u: witness %s has the key of witness %s; a key is listed once",
				       line, w->name, p->witness[i].name);
	w->url[0] = '\0';
	if (nt == 4 && take_url(&t[3], w->url, line, e))
		return -1;
	p->nwitnesses++;
	return 0;
}

static bool member_used(const struct policy *p, int m)
{
	for (size_t g = 0; g < p->ngroups; g++)
		for (size_t i = 0; i < p->group[g].n; i++)
			if (p->group[g].member[i] == m)
				return true;
	return false;
}

static int parse_group(struct policy *p, const struct tok *t, size_t nt, unsigned line, struct err *e)
{
	if (nt < 4)
		return err_set(e, "policy line %u: write a group as \"group <name> all|any|<k> <member>...\"", line);
	if (p->ngroups == POLICY_MAX_GROUPS)
		return err_set(e, "policy line %u: more than %d groups", line, POLICY_MAX_GROUPS);
	struct policy_group *g = &p->group[p->ngroups];
	if (take_name(p, &t[1], g->name, line, e))
		return -1;
	g->n = nt - 3;
	for (size_t i = 0; i < g->n; i++) {
		const struct tok *m = &t[3 + i];
		int id = lookup(p, m);
		if (id == POLICY_NONE)
			return err_set(e, "policy line %u: none cannot be a member of a group", line);
		if (id == UNDEFINED)
			return err_set(e, "policy line %u: \"%.*s\" is not a witness or group defined on an earlier "
				       "line", line, (int)m->n, m->p);
		for (size_t j = 0; j < i; j++)
			if (g->member[j] == id)
				return err_set(e, "policy line %u: \"%.*s\" is listed twice", line, (int)m->n, m->p);
		if (member_used(p, id))
			return err_set(e, "policy line %u: \"%.*s\" is a member of an earlier group already; a "
				       "witness or group counts in one group only", line, (int)m->n, m->p);
		g->member[i] = id;
	}
	if (tok_is(&t[2], "all"))
		g->k = g->n;
	else if (tok_is(&t[2], "any"))
		g->k = 1;
	else {
		size_t k = 0;
		for (size_t i = 0; i < t[2].n; i++) {
			if (t[2].p[i] < '0' || t[2].p[i] > '9' || k > 1000)
				return err_set(e, "policy line %u: the threshold \"%.*s\" is not all, any or a number",
					       line, (int)t[2].n, t[2].p);
			k = k * 10 + (size_t)(t[2].p[i] - '0');
		}
		if (k < 1 || k > g->n)
			return err_set(e, "policy line %u: the threshold %zu is not from 1 to the %zu members", line, k,
				       g->n);
		g->k = k;
	}
	p->ngroups++;
	return 0;
}

static int parse_line(struct policy *p, const char *s, size_t n, unsigned line, bool *quorum, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return err_set(e, "policy line %u: byte 0x%02x is not allowed (only tab, newline and printable "
				       "characters%s)", line, c, c == '\r' ? "; convert CRLF line ends to LF" : "");
	}
	struct tok t[MAX_TOKENS];
	size_t nt;
	if (split(s, n, t, &nt))
		return err_set(e, "policy line %u: too many items", line);
	if (nt == 0 || t[0].p[0] == '#')
		return 0;
	if (tok_is(&t[0], "log"))
		return parse_log(p, t, nt, line, e);
	if (tok_is(&t[0], "witness"))
		return parse_witness(p, t, nt, line, e);
	if (tok_is(&t[0], "group"))
		return parse_group(p, t, nt, line, e);
	if (tok_is(&t[0], "quorum")) {
		if (*quorum)
			return err_set(e, "policy line %u: a second quorum line; a policy has exactly one", line);
		if (nt != 2)
			return err_set(e, "policy line %u: write the quorum as \"quorum <name>\"", line);
		int id = lookup(p, &t[1]);
		if (id == UNDEFINED)
			return err_set(e, "policy line %u: \"%.*s\" is not none or a witness or group defined on an "
				       "earlier line", line, (int)t[1].n, t[1].p);
		p->quorum = id;
		*quorum = true;
		return 0;
	}
	return err_set(e, "policy line %u: \"%.*s\" is not log, witness, group or quorum", line,
		       (int)(t[0].n > 40 ? 40 : t[0].n), t[0].p);
}

int policy_parse(const char *text, size_t n, struct policy *p, struct err *e)
{
	memset(p, 0, sizeof *p);
	p->quorum = POLICY_NONE;
	if (n > POLICY_MAX_BYTES)
		return err_set(e, "the policy is larger than %d bytes", POLICY_MAX_BYTES);
	bool quorum = false;
	unsigned line = 0;
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(text + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - text) : n;
		if (parse_line(p, text + i, end - i, ++line, &quorum, e))
			return -1;
		i = end + 1;
	}
	if (!quorum)
		return err_set(e, "the policy has no quorum line (\"quorum <name>\", or \"quorum none\")");
	return 0;
}

int policy_load(const char *path, struct policy *p, struct err *e)
{
	struct buf b = { 0 };
	struct err why = { 0 };
	int rc = read_file(path, POLICY_MAX_BYTES, &b, &why);
	if (rc == 0 && (rc = policy_parse((const char *)b.data, b.len, p, &why)) != 0)
		rc = -1;
	buf_free(&b);
	if (rc)
		return err_set(e, "%s: %s", path, why.msg);
	return 0;
}

bool policy_accepts_log(const struct policy *p, const struct note_verifier *v)
{
	if (p->nlogs == 0)
		return true;
	for (size_t i = 0; i < p->nlogs; i++)
		if (memcmp(p->log[i].key.pub, v->pub, 32) == 0)
			return true;
	return false;
}

/* Whether member m has witnessed, given which witnesses cosigned. */
static bool met(const struct policy *p, int m, const bool *cosigned)
{
	if (m == POLICY_NONE)
		return true;
	if (m >= 0)
		return cosigned[m];
	const struct policy_group *g = &p->group[-m - 1];
	size_t c = 0;
	for (size_t i = 0; i < g->n; i++)
		c += met(p, g->member[i], cosigned);
	return c >= g->k;
}

const char *policy_quorum_name(const struct policy *p)
{
	if (p->quorum == POLICY_NONE)
		return "none";
	return p->quorum >= 0 ? p->witness[p->quorum].name : p->group[-p->quorum - 1].name;
}

int policy_check(const struct policy *p, const char *note, size_t n, struct err *e)
{
	if (p->quorum == POLICY_NONE)
		return 0;
	struct cosig_verifier ws[POLICY_MAX_WITNESSES];
	struct cosig_seen seen[POLICY_MAX_WITNESSES];
	bool cosigned[POLICY_MAX_WITNESSES] = { false };
	size_t count;
	for (size_t i = 0; i < p->nwitnesses; i++)
		ws[i] = p->witness[i].key;
	if (cosig_check(note, n, ws, p->nwitnesses, seen, &count, e))
		return -1;
	for (size_t i = 0; i < p->nwitnesses; i++)
		cosigned[i] = seen[i].ok;
	if (met(p, p->quorum, cosigned))
		return 0;
	char yes[ERR_MSG_MAX / 3] = "", no[ERR_MSG_MAX / 3] = "";
	size_t ny = 0, nn = 0;
	for (size_t i = 0; i < p->nwitnesses; i++) {
		char *to = cosigned[i] ? yes : no;
		size_t *used = cosigned[i] ? &ny : &nn;
		if (*used < sizeof yes)
			*used += (size_t)snprintf(to + *used, sizeof yes - *used, "%s%s", *used ? ", " : "",
						  p->witness[i].name);
	}
	return err_set(e, "the checkpoint does not meet the policy's quorum %s (cosigned by: %s; not by: %s)",
		       policy_quorum_name(p), ny ? yes : "none of its witnesses", nn ? no : "-");
}

/*
 * Split views.  Give each witness to one of two sides, A or B (a witness
 * that cosigns both histories is the one thing a witness must never do);
 * the question is whether both sides can meet the quorum.  Because the
 * groups form a tree with distinct leaves, each member can be computed on
 * its own: the set of outcomes (A meets it, B meets it) some assignment of
 * its witnesses gives, as a 4-bit mask over (a, b) in {0,1}^2.
 */
#define OUT(a, b)	(1u << ((a) * 2 + (b)))

static unsigned outcomes(const struct policy *p, int m)
{
	if (m == POLICY_NONE)
		return OUT(1, 1);
	if (m >= 0)
		return OUT(1, 0) | OUT(0, 1);
	const struct policy_group *g = &p->group[-m - 1];
	enum { N = POLICY_MAX_WITNESSES + POLICY_MAX_GROUPS + 1 };
	/* reach[a][b]: some choice for the members so far has a of them met
	 * by side A and b by side B (both capped at k). */
	static _Thread_local bool reach[N][N], next[N][N];
	unsigned o[N];
	for (size_t i = 0; i < g->n; i++)	/* first: the members' own use of reach */
		o[i] = outcomes(p, g->member[i]);
	size_t k = g->k;
	memset(reach, 0, sizeof reach);
	reach[0][0] = true;
	for (size_t i = 0; i < g->n; i++) {
		memset(next, 0, sizeof next);
		for (size_t a = 0; a <= k; a++)
			for (size_t b = 0; b <= k; b++) {
				if (!reach[a][b])
					continue;
				for (unsigned x = 0; x < 2; x++)
					for (unsigned y = 0; y < 2; y++)
						if (o[i] & OUT(x, y)) {
							size_t na = a + x > k ? k : a + x;
							size_t nb = b + y > k ? k : b + y;
							next[na][nb] = true;
						}
			}
		memcpy(reach, next, sizeof reach);
	}
	unsigned r = 0;
	for (size_t a = 0; a <= k; a++)
		for (size_t b = 0; b <= k; b++)
			if (reach[a][b])
				r |= OUT(a >= k, b >= k);
	return r;
}

bool policy_split_possible(const struct policy *p)
{
	return p->quorum == POLICY_NONE || (outcomes(p, p->quorum) & OUT(1, 1)) != 0;
}
