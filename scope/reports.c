#include "reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "currency.h"
#include "entry.h"
#include "mp.h"
#include "schema.h"
#include "paging.h"
#include "state.h"

#define DAY_US 86400000000ull

/* Each amount is at most AMOUNT_MAX (schema.h), but a project holds any
 * number of changes, so every sum is checked: a total must fit a signed
 * 64-bit integer (FORMAT.md section 3a), or the answer fails naming it. */
static int add_amount(uint64_t *sum, uint64_t v, const char *what, const char *currency, struct err *e)
{
	uint64_t r;
	if (__builtin_add_overflow(*sum, v, &r) || r > INT64_MAX)
		return err_set(e, "%s in %s add up to more than %lld minor units, beyond what a report can carry",
			       what, currency, (long long)INT64_MAX);
	*sum = r;
	return 0;
}

static void pack_cr(struct buf *b, uint64_t number)
{
	char cr[24];
	snprintf(cr, sizeof cr, "CR-%llu", (unsigned long long)number);
	mp_pack_cstr(b, cr);
}

static bool approved_like(const char *st)
{
	return !strcmp(st, "approved") || !strcmp(st, "partly_invoiced") || !strcmp(st, "invoiced") ||
	       !strcmp(st, "paid");
}

/* ---- status ---- */

struct stctx {
	struct buf changes, proceeding, quotes;
	uint32_t nchanges, nproceeding, nquotes;
	uint64_t approved;
	const char *currency;
	struct {
		char st[24];
		uint32_t n;
	} states[16];
	uint32_t nstates;
};

static int status_change(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k;
	(void)kn;
	struct stctx *s = ctx;
	struct chg c;
	const char *currency = s->currency;
	if (rec_unpack(CHG, CHG_N, v, vn, &c, e))
		return -1;
	uint32_t i;
	for (i = 0; i < s->nstates && strcmp(s->states[i].st, c.status); i++)
		;
	if (i == s->nstates && i < 16) {
		snprintf(s->states[i].st, sizeof s->states[i].st, "%s", c.status);
		s->states[i].n = 0;
		s->nstates++;
	}
	if (i < 16)
		s->states[i].n++;
	if (approved_like(c.status) && add_amount(&s->approved, c.approved, "the approved changes", currency, e))
		return -1;
	mp_pack_map(&s->changes, 10);
	mp_pack_cstr(&s->changes, "change");
	pack_cr(&s->changes, c.number);
	mp_pack_cstr(&s->changes, "title");
	mp_pack_cstr(&s->changes, c.title);
	mp_pack_cstr(&s->changes, "status");
	mp_pack_cstr(&s->changes, c.status);
	mp_pack_cstr(&s->changes, "class");
	mp_pack_cstr(&s->changes, c.cls);
	mp_pack_cstr(&s->changes, "proceeding");
	mp_pack_bool(&s->changes, c.proceeding);
	mp_pack_cstr(&s->changes, "quote_revision");
	mp_pack_uint(&s->changes, c.quote_rev);
	mp_pack_cstr(&s->changes, "fee_minor");
	mp_pack_uint(&s->changes, c.fee);
	mp_pack_cstr(&s->changes, "approved_minor");
	mp_pack_uint(&s->changes, c.approved);
	mp_pack_cstr(&s->changes, "invoiced_minor");
	mp_pack_uint(&s->changes, c.invoiced);
	mp_pack_cstr(&s->changes, "paid_minor");
	mp_pack_uint(&s->changes, c.paid);
	s->nchanges++;
	/* work going on that the client has not approved */
	bool settled = approved_like(c.status) || !strcmp(c.status, "approved_no_charge") ||
		       !strcmp(c.status, "withdrawn") || !strcmp(c.status, "unfounded");
	if (c.proceeding && !settled) {
		mp_pack_map(&s->proceeding, 3);
		mp_pack_cstr(&s->proceeding, "change");
		pack_cr(&s->proceeding, c.number);
		mp_pack_cstr(&s->proceeding, "title");
		mp_pack_cstr(&s->proceeding, c.title);
		mp_pack_cstr(&s->proceeding, "status");
		mp_pack_cstr(&s->proceeding, c.status);
		s->nproceeding++;
	}
	if (!strcmp(c.status, "quoted")) {
		mp_pack_map(&s->quotes, 4);
		mp_pack_cstr(&s->quotes, "change");
		pack_cr(&s->quotes, c.number);
		mp_pack_cstr(&s->quotes, "title");
		mp_pack_cstr(&s->quotes, c.title);
		mp_pack_cstr(&s->quotes, "revision");
		mp_pack_uint(&s->quotes, c.quote_rev);
		mp_pack_cstr(&s->quotes, "fee_minor");
		mp_pack_uint(&s->quotes, c.fee);
		s->nquotes++;
	}
	return 0;
}

struct ulist {
	struct buf b;
	uint32_t n;
};

static int unconfirmed_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v;
	(void)vn;
	(void)e;
	struct ulist *u = ctx;
	uint64_t seq = 0;
	for (size_t i = kn - 8; i < kn; i++)
		seq = seq << 8 | k[i];
	mp_pack_uint(&u->b, seq);
	u->n++;
	return 0;
}

/* "closure": open, closed or cancelled; "closure_reason": why (a closure entry). */
static int pack_closure(struct scope_kv *t, const char *project, size_t plen, struct buf *hdr, struct err *e)
{
	struct key k;
	uint64_t seq;
	const uint8_t *p;
	size_t n;
	struct entry en;
	struct mp_cur c;
	const char *s = "open", *r = "";
	size_t sn = 4, rn = 0;
	key_init(&k, 'z', project, plen);
	int rc = state_get_seq(t, &k, &seq, e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if (kv_entry(t, seq, &p, &n, e) || entry_decode(p, n, &en, e) ||
		    mp_map_find(en.body, en.body_len, "outcome", &c, e) != 1 || mp_get_str(&c, &s, &sn, e) ||
		    mp_map_find(en.body, en.body_len, "reason", &c, e) != 1 || mp_get_str(&c, &r, &rn, e))
			return err_setc(e, SCOPE_E_CORRUPT, "closure entry %llu cannot be read", (unsigned long long)seq);
	}
	mp_pack_cstr(hdr, "closure");
	mp_pack_str(hdr, s, sn);
	mp_pack_cstr(hdr, "closure_reason");
	mp_pack_str(hdr, r, rn);
	mp_pack_cstr(hdr, "closure_seq");
	mp_pack_uint(hdr, rc == 1 ? seq : 0);
	return 0;
}

int report_status(struct scope_kv *t, const char *project, size_t plen, const struct page_req *req,
		  struct buf *out, struct buf *next, struct err *e)
{
	struct key k;
	struct proj p;
	key_init(&k, 'p', project, plen);
	int rc = LOAD(t, &k, PROJ, &p, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, "project %.*s does not exist", (int)plen, project);
	struct stctx s;
	struct ulist u;
	struct pager pg;
	struct buf hdr;
	memset(&s, 0, sizeof s);
	memset(&u, 0, sizeof u);
	buf_init(&s.changes);
	buf_init(&s.proceeding);
	buf_init(&s.quotes);
	buf_init(&u.b);
	s.currency = p.currency;
	buf_init(&hdr);
	rc = pager_init(&pg, req, 0, e);
	pager_section(&pg, &s.changes, &s.nchanges);
	pager_section(&pg, &s.proceeding, &s.nproceeding);
	pager_section(&pg, &s.quotes, &s.nquotes);
	pager_section(&pg, &u.b, &u.n);
	key_init(&k, 'c', project, plen);
	k.b[k.n++] = 0;
	if (rc == 0)
		rc = pager_scan(&pg, t, k.b, k.n, status_change, &s, e);
	key_init(&k, 'u', project, plen);
	k.b[k.n++] = 0;
	if (rc == 0)
		rc = pager_scan(&pg, t, k.b, k.n, unconfirmed_one, &u, e);
	uint64_t value = p.amount;
	if (rc == 0)
		rc = add_amount(&value, s.approved, "the contract and its approved changes", p.currency, e);
	if (rc == 0) {
		mp_pack_cstr(&hdr, "project");
		mp_pack_str(&hdr, project, plen);
		mp_pack_cstr(&hdr, "currency");
		mp_pack_cstr(&hdr, p.currency);
		mp_pack_cstr(&hdr, "exponent");
		mp_pack_uint(&hdr, p.exp);
		mp_pack_cstr(&hdr, "contract_minor");
		mp_pack_uint(&hdr, p.amount);
		mp_pack_cstr(&hdr, "approved_changes_minor");
		mp_pack_uint(&hdr, s.approved);
		mp_pack_cstr(&hdr, "contract_value_minor");
		mp_pack_uint(&hdr, value);
		mp_pack_cstr(&hdr, "baseline_version");
		mp_pack_uint(&hdr, p.baseline);
		mp_pack_cstr(&hdr, "baseline_confirmed");
		mp_pack_bool(&hdr, p.baseline_confirmed);
		rc = pack_closure(t, project, plen, &hdr, e);
		mp_pack_cstr(&hdr, "by_state");
		mp_pack_map(&hdr, s.nstates);
		for (uint32_t i = 0; i < s.nstates; i++) {
			mp_pack_cstr(&hdr, s.states[i].st);
			mp_pack_uint(&hdr, s.states[i].n);
		}
	}
	if (rc == 0)
		rc = pager_finish(&pg, hdr.data, hdr.len, e);
	if (rc == 0) {
		mp_pack_map(out, 16);
		buf_add(out, hdr.data, hdr.len);
		mp_pack_cstr(out, "changes");
		mp_pack_array(out, s.nchanges);
		buf_add(out, s.changes.data, s.changes.len);
		mp_pack_cstr(out, "proceeding_unapproved");
		mp_pack_array(out, s.nproceeding);
		buf_add(out, s.proceeding.data, s.proceeding.len);
		mp_pack_cstr(out, "open_quotes");
		mp_pack_array(out, s.nquotes);
		buf_add(out, s.quotes.data, s.quotes.len);
		mp_pack_cstr(out, "unconfirmed_responses");
		mp_pack_array(out, u.n);
		buf_add(out, u.b.data, u.b.len);
		pager_next(&pg, next);
	}
	pager_free(&pg);
	buf_free(&hdr);
	buf_free(&s.changes);
	buf_free(&s.proceeding);
	buf_free(&s.quotes);
	buf_free(&u.b);
	return rc;
}

/* ---- reports across projects ---- */

struct total {
	char currency[4];
	uint64_t exp, a, b, c, d;
};

struct rctx {
	struct scope_kv *t;
	report_allow_fn allow;
	void *actx;
	uint64_t now_us;
	bool unbilled;
	struct buf rows;
	uint32_t nrows;
	struct total totals[CURRENCY_COUNT];	/* one per currency */
	uint32_t ntotals;
	char cur_project[80];
	struct proj proj;
	bool proj_ok;
};

/* the records paged (c and u keys: type, NUL, project, NUL, u64) always fit a cursor */
_Static_assert(2 + ENTRY_PROJECT_MAX + 1 + 8 <= PAGE_KEY_MAX, "a paged record key fits the cursor");

static struct total *total_for(struct rctx *r, const struct proj *p)
{
	for (uint32_t i = 0; i < r->ntotals; i++)
		if (!strcmp(r->totals[i].currency, p->currency))
			return &r->totals[i];
	if (r->ntotals == CURRENCY_COUNT)
		return NULL;	/* a currency the ledger does not accept */
	struct total *t = &r->totals[r->ntotals++];
	memset(t, 0, sizeof *t);
	memcpy(t->currency, p->currency, 4);
	t->exp = p->exp;
	return t;
}

static int report_change(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct rctx *r = ctx;
	if (kn < 11)
		return 0;
	const char *project = (const char *)k + 2;
	size_t plen = kn - 2 - 9;
	if (r->allow && !r->allow(r->actx, project, plen))
		return 0;
	if (plen >= sizeof r->cur_project)
		return 0;
	if (strlen(r->cur_project) != plen || memcmp(r->cur_project, project, plen) != 0) {
		struct key pk;
		memcpy(r->cur_project, project, plen);
		r->cur_project[plen] = '\0';
		key_init(&pk, 'p', project, plen);
		int rc = LOAD(r->t, &pk, PROJ, &r->proj, e);
		if (rc < 0)
			return -1;
		r->proj_ok = rc == 1;
	}
	if (!r->proj_ok)
		return 0;
	struct chg c;
	if (rec_unpack(CHG, CHG_N, v, vn, &c, e))
		return -1;
	bool open = !strcmp(c.status, "raised") ||
		    (!strcmp(c.cls, "out_of_scope") &&
		     (!strcmp(c.status, "assessed") || !strcmp(c.status, "quoted") ||
		      !strcmp(c.status, "revise_requested")));
	if (r->unbilled ? !(approved_like(c.status) && c.approved > c.invoiced) : !open)
		return 0;	/* not in this report: no row, no total */
	struct total *t = total_for(r, &r->proj);
	if (t == NULL)	/* never with the accepted codes: a row is never left out */
		return err_set(e, "project %s has a currency (%s) the ledger does not accept", r->cur_project,
			       r->proj.currency);
	if (r->unbilled) {
		uint64_t unbilled = c.approved - c.invoiced;
		uint64_t age = r->now_us > c.approved_at ? (r->now_us - c.approved_at) / DAY_US : 0;
		if (add_amount(&t->a, unbilled, "the unbilled amounts", t->currency, e) ||
		    add_amount(age <= 30 ? &t->b : age <= 60 ? &t->c : &t->d, unbilled,
			       "the unbilled amounts of one age", t->currency, e))
			return -1;
		mp_pack_map(&r->rows, 10);
		mp_pack_cstr(&r->rows, "project");
		mp_pack_str(&r->rows, project, plen);
		mp_pack_cstr(&r->rows, "change");
		pack_cr(&r->rows, c.number);
		mp_pack_cstr(&r->rows, "title");
		mp_pack_cstr(&r->rows, c.title);
		mp_pack_cstr(&r->rows, "approved_minor");
		mp_pack_uint(&r->rows, c.approved);
		mp_pack_cstr(&r->rows, "invoiced_minor");
		mp_pack_uint(&r->rows, c.invoiced);
		mp_pack_cstr(&r->rows, "unbilled_minor");
		mp_pack_uint(&r->rows, unbilled);
		mp_pack_cstr(&r->rows, "currency");
		mp_pack_cstr(&r->rows, r->proj.currency);
		mp_pack_cstr(&r->rows, "exponent");
		mp_pack_uint(&r->rows, r->proj.exp);
		mp_pack_cstr(&r->rows, "age_days");
		mp_pack_uint(&r->rows, age);
		mp_pack_cstr(&r->rows, "approved_at_us");
		mp_pack_uint(&r->rows, c.approved_at);
	} else {
		uint64_t quoted = c.quote_rev ? c.fee : 0;
		if (c.proceeding)
			t->a++;
		else
			t->c++;
		if (add_amount(c.proceeding ? &t->b : &t->d, quoted, "the quoted fees", t->currency, e))
			return -1;
		mp_pack_map(&r->rows, 9);
		mp_pack_cstr(&r->rows, "project");
		mp_pack_str(&r->rows, project, plen);
		mp_pack_cstr(&r->rows, "change");
		pack_cr(&r->rows, c.number);
		mp_pack_cstr(&r->rows, "title");
		mp_pack_cstr(&r->rows, c.title);
		mp_pack_cstr(&r->rows, "status");
		mp_pack_cstr(&r->rows, c.status);
		mp_pack_cstr(&r->rows, "class");
		mp_pack_cstr(&r->rows, c.cls);
		mp_pack_cstr(&r->rows, "proceeding");
		mp_pack_bool(&r->rows, c.proceeding);
		mp_pack_cstr(&r->rows, "quoted_minor");
		mp_pack_uint(&r->rows, quoted);
		mp_pack_cstr(&r->rows, "currency");
		mp_pack_cstr(&r->rows, r->proj.currency);
		mp_pack_cstr(&r->rows, "exponent");
		mp_pack_uint(&r->rows, r->proj.exp);
	}
	r->nrows++;
	return 0;
}

static int run(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow, void *actx,
	       uint64_t now_us, bool unbilled, const struct page_req *req, struct buf *out, struct buf *next,
	       struct err *e)
{
	struct rctx *r = calloc(1, sizeof *r);
	struct pager *pg = calloc(1, sizeof *pg);
	struct buf tot;
	buf_init(&tot);
	if (r == NULL || pg == NULL) {
		free(r);
		free(pg);
		return err_set(e, "out of memory");
	}
	r->t = t;
	r->allow = allow;
	r->actx = actx;
	r->unbilled = unbilled;
	buf_init(&r->rows);
	int rc = pager_init(pg, req, now_us, e);
	r->now_us = pg->as_of;
	pager_section(pg, &r->rows, &r->nrows);
	struct key k;
	if (rc == 0 && project) {
		struct proj p;
		key_init(&k, 'p', project, plen);
		rc = LOAD(t, &k, PROJ, &p, e);
		if (rc == 0)
			err_set(e, "project %.*s does not exist", (int)plen, project);
		rc = rc == 1 ? 0 : -1;
		key_init(&k, 'c', project, plen);
		k.b[k.n++] = 0;
	} else {
		k.b[0] = 'c';
		k.b[1] = 0;
		k.n = 2;
	}
	if (rc == 0)
		rc = pager_scan(pg, t, k.b, k.n, report_change, r, e);
	if (rc == 0) {
		mp_pack_array(&tot, r->ntotals);
		for (uint32_t i = 0; i < r->ntotals; i++) {
			const struct total *tt = &r->totals[i];
			mp_pack_map(&tot, 6);
			mp_pack_cstr(&tot, "currency");
			mp_pack_cstr(&tot, tt->currency);
			mp_pack_cstr(&tot, "exponent");
			mp_pack_uint(&tot, tt->exp);
			if (unbilled) {
				mp_pack_cstr(&tot, "unbilled_minor");
				mp_pack_uint(&tot, tt->a);
				mp_pack_cstr(&tot, "days_0_30_minor");
				mp_pack_uint(&tot, tt->b);
				mp_pack_cstr(&tot, "days_31_60_minor");
				mp_pack_uint(&tot, tt->c);
				mp_pack_cstr(&tot, "days_over_60_minor");
				mp_pack_uint(&tot, tt->d);
			} else {
				mp_pack_cstr(&tot, "proceeding_count");
				mp_pack_uint(&tot, tt->a);
				mp_pack_cstr(&tot, "proceeding_quoted_minor");
				mp_pack_uint(&tot, tt->b);
				mp_pack_cstr(&tot, "waiting_count");
				mp_pack_uint(&tot, tt->c);
				mp_pack_cstr(&tot, "waiting_quoted_minor");
				mp_pack_uint(&tot, tt->d);
			}
		}
		rc = pager_finish(pg, tot.data, tot.len, e);
	}
	if (rc == 0) {
		mp_pack_map(out, unbilled ? 3 : 2);
		mp_pack_cstr(out, "rows");
		mp_pack_array(out, r->nrows);
		buf_add(out, r->rows.data, r->rows.len);
		mp_pack_cstr(out, "totals");
		buf_add(out, tot.data, tot.len);
		if (unbilled) {	/* the time the ages count to, for a client re-deriving them */
			mp_pack_cstr(out, "as_of_us");
			mp_pack_uint(out, r->now_us);
		}
		pager_next(pg, next);
	}
	pager_free(pg);
	buf_free(&tot);
	buf_free(&r->rows);
	free(r);
	free(pg);
	return rc;
}

int report_unbilled(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow,
		    void *actx, uint64_t now_us, const struct page_req *req, struct buf *out,
		    struct buf *next, struct err *e)
{
	return run(t, project, plen, allow, actx, now_us, true, req, out, next, e);
}

int report_exposure(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow,
		    void *actx, const struct page_req *req, struct buf *out, struct buf *next,
		    struct err *e)
{
	return run(t, project, plen, allow, actx, 0, false, req, out, next, e);
}

int report_named(struct scope_kv *t, const char *name, const char *project, size_t plen, report_allow_fn allow,
		 void *actx, uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next,
		 struct err *e)
{
	bool unbilled = strcmp(name, "unbilled") == 0;
	if (!unbilled && strcmp(name, "exposure") != 0)
		return err_set(e, "unknown report \"%.40s\" (unbilled, exposure)", name);
	return run(t, project, plen, allow, actx, unbilled ? now_us : 0, unbilled, req, out, next, e);
}
