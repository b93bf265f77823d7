#include "profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fileio.h"

int trust_parse(const char *arg, struct note_verifier *v, struct err *e)
{
	if (note_verifier_parse(arg, strlen(arg), v, NULL) == 0)
		return 0;
	struct buf b;
	buf_init(&b);
	if (read_file(arg, 4096, &b, e)) {
		buf_free(&b);
		return err_set(e, "trust: \"%.80s\" is neither a verifier key nor a readable file", arg);
	}
	size_t n = 0;
	while (n < b.len && b.data[n] != '\n' && b.data[n] != '\r')
		n++;
	int rc = note_verifier_parse((const char *)b.data, n, v, e);
	buf_free(&b);
	if (rc)
		return err_prefix(e, "trust %s", arg);
	return 0;
}

static int set_path(char *dst, size_t n, const char *value, const char *base, struct err *e)
{
	int w;
	if (value[0] == '/' || base == NULL)
		w = snprintf(dst, n, "%s", value);
	else
		w = snprintf(dst, n, "%s/%s", base, value);
	if (w < 0 || (size_t)w >= n)
		return err_set(e, "path too long: %.80s", value);
	return 0;
}

int profile_set(struct profile *p, const char *name, const char *value, const char *base,
		struct err *e)
{
	if (strcmp(name, "server") == 0) {
		const char *colon = strrchr(value, ':');
		if (colon == NULL || colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1))
			return err_set(e, "server must be HOST:PORT, not \"%.80s\"", value);
		size_t hl = (size_t)(colon - value);
		if (hl >= sizeof p->host || strlen(colon + 1) >= sizeof p->port)
			return err_set(e, "server too long");
		memcpy(p->host, value, hl);
		p->host[hl] = '\0';
		if (p->host[0] == '[') {
			memmove(p->host, p->host + 1, strlen(p->host));
			p->host[strcspn(p->host, "]")] = '\0';
		}
		snprintf(p->port, sizeof p->port, "%s", colon + 1);
		if (!p->server_name[0])
			snprintf(p->server_name, sizeof p->server_name, "%s", p->host);
		return 0;
	}
	if (strcmp(name, "server_name") == 0) {
		if (strlen(value) >= sizeof p->server_name)
			return err_set(e, "server_name too long");
		snprintf(p->server_name, sizeof p->server_name, "%s", value);
		return 0;
	}
	if (strcmp(name, "cert") == 0)
		return set_path(p->cert, sizeof p->cert, value, base, e);
	if (strcmp(name, "key") == 0)
		return set_path(p->key, sizeof p->key, value, base, e);
	if (strcmp(name, "ca") == 0)
		return set_path(p->ca, sizeof p->ca, value, base, e);
	if (strcmp(name, "tsa_ca") == 0)
		return set_path(p->tsa_ca, sizeof p->tsa_ca, value, base, e);
	if (strcmp(name, "trust") == 0) {
		if (p->ntrust == PROFILE_MAX_TRUST)
			return err_set(e, "more than %d trusted keys", PROFILE_MAX_TRUST);
		char tmp[4200];
		/* a key file named relative to the profile */
		if (note_verifier_parse(value, strlen(value), &p->trust[p->ntrust], NULL) != 0 && base &&
		    value[0] != '/') {
			snprintf(tmp, sizeof tmp, "%s/%s", base, value);
			value = tmp;
		}
		if (trust_parse(value, &p->trust[p->ntrust], e))
			return -1;
		p->ntrust++;
		return 0;
	}
	if (strcmp(name, "witness") == 0) {
		if (p->nwitnesses == COSIG_MAX_COSIGNERS)
			return err_set(e, "more than %d witnesses", COSIG_MAX_COSIGNERS);
		if (cosig_verifier_parse(value, strlen(value), &p->witnesses[p->nwitnesses], e))
			return err_prefix(e, "witness");
		for (size_t i = 0; i < p->nwitnesses; i++)
			if (strcmp(p->witnesses[i].name, p->witnesses[p->nwitnesses].name) == 0)
				return err_set(e, "witness %s: given twice", p->witnesses[i].name);
		p->nwitnesses++;
		return 0;
	}
	if (strcmp(name, "quorum") == 0) {
		char *end;
		unsigned long v = strtoul(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || *end || v > COSIG_MAX_COSIGNERS)
			return err_set(e, "quorum: \"%.40s\" is not a number from 0 to %d", value, COSIG_MAX_COSIGNERS);
		p->quorum = v;
		return 0;
	}
	if (strcmp(name, "policy") == 0) {
		char path[4096];
		if (set_path(path, sizeof path, value, base, e) || policy_load(path, &p->policy, e))
			return err_prefix(e, "policy");
		p->has_policy = true;
		return 0;
	}
	if (strcmp(name, "upload") == 0) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
			return err_set(e, "upload is yes or no, not \"%.80s\"", value);
		p->upload = strcmp(value, "yes") == 0;
		return 0;
	}
	return err_set(e, "unknown profile setting \"%s\"", name);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

int profile_load(struct profile *p, const char *path, struct err *e)
{
	char base[4096];
	snprintf(base, sizeof base, "%s", path);
	char *slash = strrchr(base, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(base, ".");
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, "profile %s: %s", path, strerror(errno));
	char line[8192];
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			rc = err_set(e, "%s:%u: expected \"name = value\"", path, lineno);
			break;
		}
		*eq = '\0';
		if (profile_set(p, trim(s), trim(eq + 1), base, e))
			rc = err_prefix(e, "%s:%u", path, lineno);
	}
	fclose(f);
	return rc;
}

int profile_check(const struct profile *p, struct err *e)
{
	if (!p->host[0])
		return err_set(e, "no server: use --config FILE, $SCOPECTL_CONFIG or --server HOST:PORT");
	if (!p->cert[0] || !p->key[0] || !p->ca[0])
		return err_set(e, "a client certificate, its key and the CA are needed (--cert, --key, --ca)");
	if (p->quorum > p->nwitnesses)
		return err_set(e, "quorum is %zu but only %zu witnesses are given (--witness NAME+ID+KEY)", p->quorum,
			       p->nwitnesses);
	if (p->ntrust == 0)
		return err_set(e, "no trusted verifier key (--trust KEY): checkpoints could not be checked");
	if (p->has_policy && (p->nwitnesses || p->quorum))
		return err_set(e, "a policy names the witnesses and the quorum: give it (policy, --policy FILE) "
			       "instead of witness and quorum (--witness, --quorum), not with them");
	for (size_t i = 0; p->has_policy && i < p->ntrust; i++)
		if (!policy_accepts_log(&p->policy, &p->trust[i])) {
			struct buf b;
			buf_init(&b);
			note_verifier_format(&p->trust[i], &b);
			err_set(e, "the policy does not list the trusted log key; add the line \"log %s\" to it",
				buf_cstr(&b));
			buf_free(&b);
			return -1;
		}
	char why[400];
	if (!p->has_policy && cosig_quorum_is_minority(p->quorum, p->nwitnesses, why, sizeof why))	/* a warning, not a refusal */
		fprintf(stderr, "scopectl: warning: --quorum (or quorum in the profile): %s\n", why);
	if (p->has_policy && p->policy.quorum != POLICY_NONE && policy_split_possible(&p->policy))
		fprintf(stderr, "scopectl: warning: the policy: two disjoint sets of its witnesses could each meet its "
			"quorum %s, so a log could show two histories each witnessed as it requires (the majority "
			"rule, SECURITY.md)\n", policy_quorum_name(&p->policy));
	return 0;
}

size_t profile_quorum(const struct profile *p)
{
	if (p->has_policy)
		return p->policy.quorum != POLICY_NONE;
	return p->quorum ? p->quorum : p->nwitnesses;
}

int profile_cosigned(const struct profile *p, const char *note, size_t n, struct err *e)
{
	if (p->has_policy)
		return policy_check(&p->policy, note, n, e);
	return cosig_quorum(note, n, p->witnesses, p->nwitnesses, profile_quorum(p), e);
}
