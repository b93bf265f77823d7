#include "kinds.h"

#include <stdio.h>
#include <string.h>

#include "currency.h"
#include "mp.h"

/* projects and baselines */

static const char *const CONTRACT[] = { "fixed", "tm", NULL };

SCHEMA(ITEM, "item", FLD("id", F_ID, true, 1, STATE_ITEM_ID_MAX), FLD("text", F_STR, true, 1, 4096));
SCHEMA(S_PROJECT, "project",
       FLD("client", F_STR, true, 1, 200), FLD("title", F_STR, true, 1, 200),
       ENUMF("contract_type", true, CONTRACT), ENUMF("currency", true, CURRENCY_CODES),
       FLD("amount_minor", F_UINT, true, 0, AMOUNT_MAX), FLD("vendor_lead", F_STR, false, 1, 200),
       FLD("client_lead", F_STR, false, 1, 200), FLD("acceptance_days", F_UINT, false, 0, 3650),
       FLD("payment_days", F_UINT, false, 0, 3650), ARRM("documents", false, 0, 100, &SCHEMA_DOC));
SCHEMA(S_BASELINE, "baseline",
       ASSIGNED("version", F_UINT), ARRM("items", true, 1, 1000, &ITEM),
       ARRM("documents", false, 0, 100, &SCHEMA_DOC), FLD("rule", F_STR, false, 1, 4096));

static int k_project(struct ctx *x)
{
	struct key k;
	struct proj p;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	int rc = LOAD(x->t, &k, PROJ, &p, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "project %.*s already exists (entry %llu)", P(x), (unsigned long long)p.seq);
	if (x->in->project_len == 0)
		return refuse(x, "a project needs a project id");
	const struct value *cur = val(x, "currency");
	memset(&p, 0, sizeof p);
	p.seq = x->in->seq;
	p.amount = val(x, "amount_minor")->u;
	p.exp = (uint64_t)currency_exponent(cur->s, cur->len);
	p.next_cr = 1;
	p.payment_days = has(x, "payment_days") ? val(x, "payment_days")->u : PAYMENT_DAYS_DEFAULT;
	p.acceptance_set = has(x, "acceptance_days");
	p.acceptance_days = p.acceptance_set ? val(x, "acceptance_days")->u : 0;
	memcpy(p.currency, cur->s, 3);
	return SAVE(x->t, &k, PROJ, &p, x->e);
}

static int k_baseline(struct ctx *x)
{
	struct key k;
	struct base b = { x->in->seq, false };
	uint64_t version = x->proj.baseline + 1;
	x->add_name = "version";
	x->add_type = F_UINT;
	x->add_u = version;
	/* item ids unique within the baseline */
	const struct value *items = val(x, "items");
	struct mp_cur c;
	mp_cur_init(&c, items->p, items->plen);
	uint32_t n;
	mp_get_array(&c, &n, x->e);
	static struct { const char *s; size_t n; } ids[1000];
	for (uint32_t i = 0; i < n; i++) {
		struct mp_cur ic;
		const uint8_t *start = c.p;
		mp_skip(&c, 4, x->e);
		if (mp_map_find(start, (size_t)(c.p - start), "id", &ic, x->e) != 1 ||
		    mp_get_str(&ic, &ids[i].s, &ids[i].n, x->e))
			return -1;
		for (uint32_t j = 0; j < i; j++)
			if (ids[j].n == ids[i].n && memcmp(ids[j].s, ids[i].s, ids[i].n) == 0)
				return refuse(x, "baseline item id %.*s appears twice", (int)ids[i].n, ids[i].s);
	}
	/* every check passed: now write */
	for (uint32_t i = 0; i < n; i++) {
		struct key ik;
		key_init(&ik, 'k', x->in->project, x->in->project_len);
		key_u64(&ik, version);
		key_str(&ik, ids[i].s, ids[i].n);
		if (kv_put(x->t, ik.b, ik.n, "", 0, x->e))
			return -1;
	}
	key_init(&k, 'b', x->in->project, x->in->project_len);
	key_u64(&k, version);
	if (SAVE(x->t, &k, BASE, &b, x->e))
		return -1;
	/* a link to the version this one replaces can no longer be answered */
	if (version > 1 && link_supersede(x, "baseline", version - 1))
		return -1;
	x->proj.baseline = version;
	x->proj.baseline_confirmed = false;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}


const struct kind KIND_project = { "project", &S_PROJECT, ROLE_ADMIN | ROLE_LEAD, true, false, k_project, NULL };
const struct kind KIND_baseline = { "baseline", &S_BASELINE, ROLE_LEAD, false, false, k_baseline, NULL };
