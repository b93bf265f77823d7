#include "cosigners.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "isotime.h"
#include "json.h"

int cosigners_add(struct cosigners *w, const char *vkey, struct err *e)
{
	if (w->n == COSIG_MAX_COSIGNERS)
		return err_set(e, "more than %d witnesses", COSIG_MAX_COSIGNERS);
	if (cosig_verifier_parse(vkey, strlen(vkey), &w->k[w->n], e))
		return -1;
	w->n++;
	return 0;
}

int cosigners_set_quorum(struct cosigners *w, const char *arg)
{
	char *end;
	unsigned long q = strtoul(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end || q > COSIG_MAX_COSIGNERS)
		return -1;
	w->quorum = q;
	return 0;
}

int cosigners_use_policy(struct cosigners *w, const char *path, struct err *e)
{
	if (w->policy)
		return err_set(e, "--policy is given twice");
	struct policy *p = malloc(sizeof *p);
	if (p == NULL)
		return err_set(e, "out of memory for the policy");
	if (policy_load(path, p, e)) {
		free(p);
		return -1;
	}
	/* shown and matched under each key's own name; the policy's names are for its groups */
	for (size_t i = 0; i < p->nwitnesses; i++)
		w->k[i] = p->witness[i].key;
	w->n = p->nwitnesses;
	w->policy = p;
	return 0;
}

void cosigners_free(struct cosigners *w)
{
	free(w->policy);
	w->policy = NULL;
}

int cosigners_check(struct cosigners *w, const char *note, size_t n, struct err *e)
{
	size_t count;
	if (w->policy ? policy_check(w->policy, note, n, e)
		      : cosig_quorum(note, n, w->k, w->n, w->quorum ? w->quorum : w->n, e))
		return -1;
	return cosig_check(note, n, w->k, w->n, w->seen, &count, e);
}

void cosigners_print(const struct cosigners *w, const char *indent)
{
	for (size_t i = 0; i < w->n; i++) {
		char t[40] = "";
		if (w->seen[i].ok)
			args_time(w->seen[i].when * 1000000, t);
		printf("%s%s: witness %s %s%s\n", indent, w->seen[i].ok ? "ok" : "note", w->k[i].name,
		       w->seen[i].ok ? "cosigned the checkpoint at " : "did not cosign the checkpoint", t);
	}
}

void cosigners_json(const struct cosigners *w, struct buf *out)
{
	buf_add(out, "[", 1);
	for (size_t i = 0; i < w->n; i++) {
		char t[40];
		buf_add(out, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
		json_put_str(out, w->k[i].name, strlen(w->k[i].name));
		buf_printf(out, ",\"cosigned\":%s", w->seen[i].ok ? "true" : "false");
		if (w->seen[i].ok) {
			time_format(w->seen[i].when * 1000000, true, false, t);
			buf_printf(out, ",\"time_s\":%llu,\"time\":\"%s\"", (unsigned long long)w->seen[i].when, t);
		}
		buf_add(out, "}", 1);
	}
	buf_add(out, "]", 1);
}

bool cosigners_has(const struct cosigners *w, const char *name, size_t namelen, const uint8_t key_id[4])
{
	for (size_t i = 0; i < w->n; i++)
		if (strlen(w->k[i].name) == namelen && memcmp(w->k[i].name, name, namelen) == 0 &&
		    memcmp(w->k[i].key_id, key_id, 4) == 0)
			return true;
	return false;
}
