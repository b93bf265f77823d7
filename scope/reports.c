#include "reports.h"

#include "delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "currency.h"
#include "entry.h"
#include "isotime.h"
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

static void pack_ref(struct buf *b, const char *prefix, uint64_t number)
{
	char ref[32];
	snprintf(ref, sizeof ref, "%s%llu", prefix, (unsigned long long)number);
	mp_pack_cstr(b, ref);
}

static void pack_cr(struct buf *b, uint64_t number)
{
	pack_ref(b, "CR-", number);
}

/* <what>fee_minor, <what>tax_minor and <what>total_minor (fee plus tax;
 * each at most AMOUNT_MAX, so the sum fits) */
static void pack_fee_tax(struct buf *b, const char *what, uint64_t fee, uint64_t tax)
{
	static const char *const NAMES[] = { "fee_minor", "tax_minor", "total_minor" };
	const uint64_t v[] = { fee, tax, fee + tax };
	for (int i = 0; i < 3; i++) {
		char name[40];
		snprintf(name, sizeof name, "%s%s", what, NAMES[i]);
		mp_pack_cstr(b, name);
		mp_pack_uint(b, v[i]);
	}
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
	uint64_t approved, approved_tax;
	struct buf amendments, signatories, off_register;
	uint32_t namendments, nsignatories, noff_register;
	uint64_t amended, unamended, nunamended;	/* signed amendments' total; approved changes in none */
	struct buf cases;
	uint32_t ncases, open_cases;
	struct scope_kv *t;
	const char *project;
	size_t plen;
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
	if (approved_like(c.status) &&
	    (add_amount(&s->approved, c.approved, "the approved changes", currency, e) ||
	     add_amount(&s->approved_tax, c.approved_tax, "the approved changes' tax", currency, e)))
		return -1;
	if ((approved_like(c.status) || !strcmp(c.status, "approved_no_charge")) && !c.amended) {
		s->nunamended++;
		if (add_amount(&s->unamended, c.approved, "the approved changes in no signed amendment", currency, e))
			return -1;
	}
	mp_pack_map(&s->changes, 15);
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
	pack_fee_tax(&s->changes, "", c.fee, c.tax);
	mp_pack_cstr(&s->changes, "approved_minor");
	mp_pack_uint(&s->changes, c.approved);
	mp_pack_cstr(&s->changes, "approved_tax_minor");
	mp_pack_uint(&s->changes, c.approved_tax);
	mp_pack_cstr(&s->changes, "invoiced_minor");
	mp_pack_uint(&s->changes, c.invoiced);
	mp_pack_cstr(&s->changes, "invoiced_tax_minor");
	mp_pack_uint(&s->changes, c.invoiced_tax);
	mp_pack_cstr(&s->changes, "paid_minor");
	mp_pack_uint(&s->changes, c.paid);
	mp_pack_cstr(&s->changes, "amendment");
	if (c.amendment)
		pack_ref(&s->changes, "AMD-", c.amendment);
	else
		mp_pack_nil(&s->changes);
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
		mp_pack_map(&s->quotes, 6);
		mp_pack_cstr(&s->quotes, "change");
		pack_cr(&s->quotes, c.number);
		mp_pack_cstr(&s->quotes, "title");
		mp_pack_cstr(&s->quotes, c.title);
		mp_pack_cstr(&s->quotes, "revision");
		mp_pack_uint(&s->quotes, c.quote_rev);
		pack_fee_tax(&s->quotes, "", c.fee, c.tax);
		s->nquotes++;
	}
	return 0;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

struct lines {
	struct buf *b;
	uint32_t n;
};

static int amendment_line(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct lines *l = ctx;
	if (kn < 8 || vn != 8)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a damaged amendment line (run scoped reindex)");
	mp_pack_map(l->b, 2);
	mp_pack_cstr(l->b, "change");
	pack_cr(l->b, be64(k + kn - 8));
	mp_pack_cstr(l->b, "amount_minor");
	mp_pack_uint(l->b, be64(v));
	l->n++;
	return 0;
}

static int status_amendment(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k, (void)kn;
	struct stctx *s = ctx;
	struct amd a;
	struct buf lb;
	struct key lk;
	struct lines l = { &lb, 0 };
	if (rec_unpack(AMD, AMD_N, v, vn, &a, e))
		return -1;
	if (!strcmp(a.state, "signed") && add_amount(&s->amended, a.total, "the signed amendments", s->currency, e))
		return -1;
	buf_init(&lb);
	key_init(&lk, 'n', s->project, s->plen);
	key_u64(&lk, a.number);
	int rc = kv_scan(s->t, lk.b, lk.n, amendment_line, &l, e) < 0 ? -1 : 0;
	if (rc == 0) {
		mp_pack_map(&s->amendments, 7);
		mp_pack_cstr(&s->amendments, "amendment");
		pack_ref(&s->amendments, "AMD-", a.number);
		mp_pack_cstr(&s->amendments, "seq");
		mp_pack_uint(&s->amendments, a.seq);
		mp_pack_cstr(&s->amendments, "state");
		mp_pack_cstr(&s->amendments, a.state);
		mp_pack_cstr(&s->amendments, "total_minor");
		mp_pack_uint(&s->amendments, a.total);
		mp_pack_cstr(&s->amendments, "effective");
		if (a.effective[0])
			mp_pack_cstr(&s->amendments, a.effective);
		else
			mp_pack_nil(&s->amendments);
		mp_pack_cstr(&s->amendments, "response_seq");
		if (a.response_seq)
			mp_pack_uint(&s->amendments, a.response_seq);
		else
			mp_pack_nil(&s->amendments);
		mp_pack_cstr(&s->amendments, "lines");
		mp_pack_array(&s->amendments, l.n);
		buf_add(&s->amendments, lb.data, lb.len);
		s->namendments++;
	}
	buf_free(&lb);
	return rc;
}

static int status_signatory(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct stctx *s = ctx;
	struct sig g;
	size_t at = 2 + s->plen + 1;
	if (kn < at || rec_unpack(SIG, SIG_N, v, vn, &g, e))
		return kn < at ? 0 : -1;
	mp_pack_map(&s->signatories, 4);
	mp_pack_cstr(&s->signatories, "name");
	mp_pack_str(&s->signatories, (const char *)k + at, kn - at);
	mp_pack_cstr(&s->signatories, "title");
	mp_pack_cstr(&s->signatories, g.title);
	mp_pack_cstr(&s->signatories, "limit_minor");
	if (g.has_limit)
		mp_pack_uint(&s->signatories, g.limit);
	else
		mp_pack_nil(&s->signatories);
	mp_pack_cstr(&s->signatories, "seq");
	mp_pack_uint(&s->signatories, g.seq);
	s->nsignatories++;
	return 0;
}

/* A complaint case as a row (status, and report cases with its project
 * and age_days). */
static void pack_case(struct buf *b, const struct cas *cs, const char *project, size_t plen, uint64_t now_us)
{
	mp_pack_map(b, project ? 12 : 10);
	if (project) {
		mp_pack_cstr(b, "project");
		mp_pack_str(b, project, plen);
		mp_pack_cstr(b, "age_days");
		mp_pack_uint(b, now_us > cs->opened_at ? (now_us - cs->opened_at) / DAY_US : 0);
	}
	mp_pack_cstr(b, "case");
	pack_ref(b, "CASE-", cs->number);
	mp_pack_cstr(b, "title");
	mp_pack_cstr(b, cs->title);
	mp_pack_cstr(b, "stage");
	mp_pack_cstr(b, cs->stage);
	mp_pack_cstr(b, "outcome");
	mp_pack_cstr(b, cs->outcome);
	mp_pack_cstr(b, "change");
	if (cs->change)
		pack_cr(b, cs->change);
	else
		mp_pack_nil(b);
	mp_pack_cstr(b, "seq");
	mp_pack_uint(b, cs->seq);
	mp_pack_cstr(b, "opened_at_us");
	mp_pack_uint(b, cs->opened_at);
	mp_pack_cstr(b, "stage_seq");
	mp_pack_uint(b, cs->stage_seq);
	mp_pack_cstr(b, "stage_at_us");
	mp_pack_uint(b, cs->stage_at);
	mp_pack_cstr(b, "waiting_approver");
	mp_pack_bool(b, !strcmp(cs->stage, "investigated") || !strcmp(cs->stage, "escalated"));
}

static int status_case(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k, (void)kn;
	struct stctx *s = ctx;
	struct cas cs;
	if (rec_unpack(CAS, CAS_N, v, vn, &cs, e))
		return -1;
	s->open_cases += strcmp(cs.stage, "closed") != 0;
	pack_case(&s->cases, &cs, NULL, 0, 0);
	s->ncases++;
	return 0;
}

/* A response in force by someone not on the register (only once it exists). */
static int status_response(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k, (void)kn;
	struct stctx *s = ctx;
	struct resp r;
	if (rec_unpack(RESP, RESP_N, v, vn, &r, e))
		return -1;
	int rc = state_signatory(s->t, s->project, s->plen, r.respondent, strlen(r.respondent), NULL, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	mp_pack_map(&s->off_register, 4);
	mp_pack_cstr(&s->off_register, "seq");
	mp_pack_uint(&s->off_register, r.seq);
	mp_pack_cstr(&s->off_register, "respondent");
	mp_pack_cstr(&s->off_register, r.respondent);
	mp_pack_cstr(&s->off_register, "answered");
	mp_pack_cstr(&s->off_register, r.answered);
	mp_pack_cstr(&s->off_register, "decision");
	mp_pack_cstr(&s->off_register, r.decision);
	s->noff_register++;
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

static int open_window(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k, (void)kn;
	struct dlv d;
	if (rec_unpack(DLV, DLV_N, v, vn, &d, e))
		return -1;
	*(uint64_t *)ctx += strcmp(d.outcome, "open") == 0;
	return 0;
}

/* What the project's invoices (not cancelled) bill and what was received
 * against them, partial payments included. */
struct billed_sum {
	struct scope_kv *t;
	const char *project;
	size_t plen;
	const char *currency;
	uint64_t invoiced, received;
};

static int billed_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct billed_sum *b = ctx;
	struct inv inv;
	struct key ok;
	uint64_t credit;
	size_t head = 3 + b->plen;
	if (kn <= head || kn - head > STATE_INVOICE_MAX || rec_unpack(INV, INV_N, v, vn, &inv, e))
		return err_setc(e, SCOPE_E_CORRUPT, "invoice record is damaged");
	key_init(&ok, 'o', b->project, b->plen);
	key_str(&ok, (const char *)k + head, kn - head);
	int rc = state_get_seq(b->t, &ok, &credit, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;	/* cancelled: it bills nothing */
	return add_amount(&b->invoiced, inv.total, "the invoices' totals", b->currency, e) ||
			       add_amount(&b->received, inv.paid, "the payments received", b->currency, e)
		       ? -1
		       : 0;
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
	buf_init(&s.amendments);
	buf_init(&s.signatories);
	buf_init(&s.off_register);
	buf_init(&s.cases);
	s.currency = p.currency;
	s.t = t;
	s.project = project;
	s.plen = plen;
	buf_init(&hdr);
	rc = pager_init(&pg, req, 0, e);
	pager_section(&pg, &s.changes, &s.nchanges);
	pager_section(&pg, &s.proceeding, &s.nproceeding);
	pager_section(&pg, &s.quotes, &s.nquotes);
	pager_section(&pg, &u.b, &u.n);
	pager_section(&pg, &s.amendments, &s.namendments);
	pager_section(&pg, &s.signatories, &s.nsignatories);
	pager_section(&pg, &s.off_register, &s.noff_register);
	pager_section(&pg, &s.cases, &s.ncases);
	/* in key order (a, c, g, h, r, u): a cursor resumes after a key */
	static const struct {
		char type;
		int (*fn)(void *, const uint8_t *, size_t, const uint8_t *, size_t, struct err *);
	} SCANS[] = { { 'a', status_amendment }, { 'c', status_change }, { 'g', status_signatory },
		      { 'h', status_case },
		      { 'r', status_response } };
	for (size_t i = 0; i < sizeof SCANS / sizeof SCANS[0]; i++) {
		if (SCANS[i].type == 'r' && p.signatories == 0)
			continue;	/* no register: no response is off it */
		key_init(&k, SCANS[i].type, project, plen);
		k.b[k.n++] = 0;
		if (rc == 0)
			rc = pager_scan(&pg, t, k.b, k.n, SCANS[i].fn, &s, e);
	}
	key_init(&k, 'u', project, plen);
	k.b[k.n++] = 0;
	if (rc == 0)
		rc = pager_scan(&pg, t, k.b, k.n, unconfirmed_one, &u, e);
	uint64_t value = p.amount, signed_value = p.amount, open_agreements = 0, open_notices = 0;
	struct billed_sum billed = { t, project, plen, p.currency, 0, 0 };
	if (rc == 0)
		rc = report_followup_counts(t, project, plen, &open_agreements, &open_notices, e);
	key_init(&k, 'i', project, plen);
	k.b[k.n++] = 0;
	if (rc == 0)
		rc = kv_scan(t, k.b, k.n, billed_one, &billed, e);
	if (rc == 0)
		rc = add_amount(&value, s.approved, "the contract and its approved changes", p.currency, e);
	if (rc == 0)
		rc = add_amount(&signed_value, s.amended, "the contract and its signed amendments", p.currency, e);
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
		mp_pack_cstr(&hdr, "approved_changes_tax_minor");
		mp_pack_uint(&hdr, s.approved_tax);
		mp_pack_cstr(&hdr, "contract_invoiced_minor");
		mp_pack_uint(&hdr, p.contract_invoiced);
		mp_pack_cstr(&hdr, "contract_paid_minor");
		mp_pack_uint(&hdr, p.contract_paid);
		mp_pack_cstr(&hdr, "payment_days");
		mp_pack_uint(&hdr, p.payment_days);
		mp_pack_cstr(&hdr, "invoiced_total_minor");
		mp_pack_uint(&hdr, billed.invoiced);
		mp_pack_cstr(&hdr, "received_minor");
		mp_pack_uint(&hdr, billed.received);
		mp_pack_cstr(&hdr, "contract_value_minor");
		mp_pack_uint(&hdr, value);
		mp_pack_cstr(&hdr, "signed_contract_value_minor");
		mp_pack_uint(&hdr, signed_value);
		mp_pack_cstr(&hdr, "amended_minor");
		mp_pack_uint(&hdr, s.amended);
		mp_pack_cstr(&hdr, "unamended_count");
		mp_pack_uint(&hdr, s.nunamended);
		mp_pack_cstr(&hdr, "unamended_minor");
		mp_pack_uint(&hdr, s.unamended);
		mp_pack_cstr(&hdr, "signatory_register");
		mp_pack_bool(&hdr, p.signatories > 0);
		mp_pack_cstr(&hdr, "baseline_version");
		mp_pack_uint(&hdr, p.baseline);
		mp_pack_cstr(&hdr, "baseline_confirmed");
		mp_pack_bool(&hdr, p.baseline_confirmed);
		mp_pack_cstr(&hdr, "open_cases");
		mp_pack_uint(&hdr, s.open_cases);
		mp_pack_cstr(&hdr, "unconfirmed_agreements");
		mp_pack_uint(&hdr, open_agreements);
		mp_pack_cstr(&hdr, "unacknowledged_notices");
		mp_pack_uint(&hdr, open_notices);
		rc = pack_closure(t, project, plen, &hdr, e);
		uint64_t windows = 0;
		key_init(&k, 'd', project, plen);
		k.b[k.n++] = 0;
		if (rc == 0 && kv_scan(t, k.b, k.n, open_window, &windows, e) < 0)
			rc = -1;
		mp_pack_cstr(&hdr, "open_inspection_windows");
		mp_pack_uint(&hdr, windows);
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
		mp_pack_map(out, 35);
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
		mp_pack_cstr(out, "amendments");
		mp_pack_array(out, s.namendments);
		buf_add(out, s.amendments.data, s.amendments.len);
		mp_pack_cstr(out, "signatories");
		mp_pack_array(out, s.nsignatories);
		buf_add(out, s.signatories.data, s.signatories.len);
		mp_pack_cstr(out, "responses_off_register");
		mp_pack_array(out, s.noff_register);
		buf_add(out, s.off_register.data, s.off_register.len);
		mp_pack_cstr(out, "cases");
		mp_pack_array(out, s.ncases);
		buf_add(out, s.cases.data, s.cases.len);
		pager_next(&pg, next);
	}
	pager_free(&pg);
	buf_free(&hdr);
	buf_free(&s.changes);
	buf_free(&s.proceeding);
	buf_free(&s.quotes);
	buf_free(&u.b);
	buf_free(&s.amendments);
	buf_free(&s.signatories);
	buf_free(&s.off_register);
	buf_free(&s.cases);
	return rc;
}

/* ---- reports across projects ---- */

enum rkind { R_EXPOSURE, R_UNBILLED, R_RECEIVABLES, R_QUOTES, R_CASES };

struct total {
	char currency[4];
	uint64_t exp, a, b, c, d, f, g;
};

struct rctx {
	struct scope_kv *t;
	report_allow_fn allow;
	void *actx;
	uint64_t now_us;
	enum rkind kind;
	struct buf rows;
	uint32_t nrows;
	struct buf waiting;		/* report cases: the determinations waiting for an approver */
	uint32_t nwaiting;
	uint64_t stages[5];		/* report cases: cases at each of CASE_STAGES */
	struct total totals[CURRENCY_COUNT];	/* one per currency */
	uint32_t ntotals;
	char cur_project[80];
	struct proj proj;
	bool proj_ok;
};

/* the records paged (c and u keys: type, NUL, project, NUL, u64; i keys:
 * type, NUL, project, NUL, invoice number) always fit a cursor */
_Static_assert(2 + ENTRY_PROJECT_MAX + 1 + 8 <= PAGE_KEY_MAX, "a paged record key fits the cursor");
_Static_assert(2 + ENTRY_PROJECT_MAX + 1 + STATE_INVOICE_MAX <= PAGE_KEY_MAX, "an invoice key fits the cursor");

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

/* The record's project (plen bytes after the key's type and NUL) into
 * r->proj: 1 when the report covers it, 0 when not. */
static int row_project(struct rctx *r, const uint8_t *k, size_t plen, struct err *e)
{
	const char *project = (const char *)k + 2;
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
	return r->proj_ok;
}

static struct total *row_total(struct rctx *r, struct err *e)
{
	struct total *t = total_for(r, &r->proj);
	if (t == NULL)	/* never with the accepted codes: a row is never left out */
		err_set(e, "project %s has a currency (%s) the ledger does not accept", r->cur_project,
			r->proj.currency);
	return t;
}

static void pack_row_head(struct rctx *r, uint32_t n, const uint8_t *k, size_t plen)
{
	mp_pack_map(&r->rows, n);
	mp_pack_cstr(&r->rows, "project");
	mp_pack_str(&r->rows, (const char *)k + 2, plen);
	mp_pack_cstr(&r->rows, "currency");
	mp_pack_cstr(&r->rows, r->proj.currency);
	mp_pack_cstr(&r->rows, "exponent");
	mp_pack_uint(&r->rows, r->proj.exp);
}

/* An open quote: its age and, with a valid_until, the days left (negative:
 * expired).  Totals: the quotes' totals (fee plus tax) in a, a count of
 * quotes and of expired ones in b and c. */
static int quote_row(struct rctx *r, const struct chg *c, struct total *t, const uint8_t *k, size_t plen,
		     struct err *e)
{
	uint64_t total = c->fee + c->tax;
	int64_t today = (int64_t)(r->now_us / DAY_US);
	int64_t left = c->valid_until[0] ? time_date_days(c->valid_until) - today : 0;
	bool expired = c->valid_until[0] && left < 0;
	if (add_amount(&t->a, total, "the open quotes", t->currency, e))
		return -1;
	t->b++;
	t->c += expired;
	pack_row_head(r, 15, k, plen);
	mp_pack_cstr(&r->rows, "change");
	pack_cr(&r->rows, c->number);
	mp_pack_cstr(&r->rows, "title");
	mp_pack_cstr(&r->rows, c->title);
	mp_pack_cstr(&r->rows, "revision");
	mp_pack_uint(&r->rows, c->quote_rev);
	pack_fee_tax(&r->rows, "", c->fee, c->tax);
	mp_pack_cstr(&r->rows, "quoted_at_us");
	mp_pack_uint(&r->rows, c->quoted_at);
	mp_pack_cstr(&r->rows, "age_days");
	mp_pack_uint(&r->rows, r->now_us > c->quoted_at ? (r->now_us - c->quoted_at) / DAY_US : 0);
	mp_pack_cstr(&r->rows, "valid_until");
	if (c->valid_until[0])
		mp_pack_cstr(&r->rows, c->valid_until);
	else
		mp_pack_nil(&r->rows);
	mp_pack_cstr(&r->rows, "days_left");
	if (!c->valid_until[0])
		mp_pack_nil(&r->rows);
	else if (left < 0)
		mp_pack_int(&r->rows, left);
	else
		mp_pack_uint(&r->rows, (uint64_t)left);
	mp_pack_cstr(&r->rows, "expired");
	mp_pack_bool(&r->rows, expired);
	mp_pack_cstr(&r->rows, "seq");
	mp_pack_uint(&r->rows, c->quote_seq);
	r->nrows++;
	return 0;
}

/* A record keyed by project and number (type, NUL, project, NUL, u64):
 * 1 when the report covers its project (loaded into r->proj), 0 when not. */
static int numbered_row(struct rctx *r, const uint8_t *k, size_t kn, struct err *e)
{
	return kn < 11 ? 0 : row_project(r, k, kn - 2 - 9, e);
}

static int report_change(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct rctx *r = ctx;
	size_t plen = kn - 2 - 9;
	int in = numbered_row(r, k, kn, e);
	if (in <= 0)
		return in;
	struct chg c;
	if (rec_unpack(CHG, CHG_N, v, vn, &c, e))
		return -1;
	bool unbilled = r->kind == R_UNBILLED;
	bool open = !strcmp(c.status, "raised") ||
		    (!strcmp(c.cls, "out_of_scope") &&
		     (!strcmp(c.status, "assessed") || !strcmp(c.status, "quoted") ||
		      !strcmp(c.status, "revise_requested")));
	bool shown = unbilled		    ? approved_like(c.status) && c.approved > c.invoiced
		     : r->kind == R_QUOTES ? !strcmp(c.status, "quoted")
					    : open;
	if (!shown)
		return 0;	/* not in this report: no row, no total */
	struct total *t = row_total(r, e);
	if (t == NULL)
		return -1;
	if (r->kind == R_QUOTES)
		return quote_row(r, &c, t, k, plen, e);
	if (unbilled) {
		uint64_t left = c.approved - c.invoiced, tax = c.approved_tax - c.invoiced_tax;
		uint64_t age = r->now_us > c.approved_at ? (r->now_us - c.approved_at) / DAY_US : 0;
		if (add_amount(&t->a, left, "the unbilled amounts", t->currency, e) ||
		    add_amount(age <= 30 ? &t->b : age <= 60 ? &t->c : &t->d, left,
			       "the unbilled amounts of one age", t->currency, e))
			return -1;
		pack_row_head(r, 13, k, plen);
		mp_pack_cstr(&r->rows, "change");
		pack_cr(&r->rows, c.number);
		mp_pack_cstr(&r->rows, "title");
		mp_pack_cstr(&r->rows, c.title);
		mp_pack_cstr(&r->rows, "approved_minor");
		mp_pack_uint(&r->rows, c.approved);
		mp_pack_cstr(&r->rows, "invoiced_minor");
		mp_pack_uint(&r->rows, c.invoiced);
		pack_fee_tax(&r->rows, "unbilled_", left - tax, tax);
		mp_pack_cstr(&r->rows, "unbilled_minor");
		mp_pack_uint(&r->rows, left);
		mp_pack_cstr(&r->rows, "age_days");
		mp_pack_uint(&r->rows, age);
		mp_pack_cstr(&r->rows, "approved_at_us");
		mp_pack_uint(&r->rows, c.approved_at);
	} else {
		uint64_t quoted = c.quote_rev ? c.fee : 0, qtax = c.quote_rev ? c.tax : 0;
		if (c.proceeding)
			t->a++;
		else
			t->c++;
		if (add_amount(c.proceeding ? &t->b : &t->d, quoted, "the quoted fees", t->currency, e))
			return -1;
		pack_row_head(r, 10, k, plen);
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
		mp_pack_cstr(&r->rows, "quoted_tax_minor");
		mp_pack_uint(&r->rows, qtax);
	}
	r->nrows++;
	return 0;
}

static const char *const CASE_STAGES[] = { "open", "investigated", "determined", "escalated", "closed" };

static int report_case(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct rctx *r = ctx;
	size_t plen = kn - 2 - 9;
	int in = numbered_row(r, k, kn, e);
	if (in <= 0)
		return in;
	struct cas cs;
	if (rec_unpack(CAS, CAS_N, v, vn, &cs, e))
		return -1;
	for (size_t i = 0; i < sizeof CASE_STAGES / sizeof CASE_STAGES[0]; i++)
		r->stages[i] += strcmp(cs.stage, CASE_STAGES[i]) == 0;
	bool waiting = !strcmp(cs.stage, "investigated") || !strcmp(cs.stage, "escalated");
	struct buf *b = waiting ? &r->waiting : &r->rows;
	pack_case(b, &cs, (const char *)k + 2, plen, r->now_us);
	*(waiting ? &r->nwaiting : &r->nrows) += 1;
	return 0;
}

/* The aging buckets of receivables, by days past the due date. */
static const char *const BUCKETS[] = { "current", "0-30", "31-60", "61-90", "over_90" };

static int report_invoice(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct rctx *r = ctx;
	const uint8_t *nul = kn > 2 ? memchr(k + 2, 0, kn - 2) : NULL;
	if (nul == NULL)
		return 0;
	size_t plen = (size_t)(nul - k) - 2;
	int in = row_project(r, k, plen, e);
	if (in <= 0)
		return in;
	struct inv inv;
	if (rec_unpack(INV, INV_N, v, vn, &inv, e))
		return -1;
	if (inv.paid >= inv.total)
		return 0;	/* settled: not receivable */
	struct key ok;	/* cancelled by a credit note: not receivable either */
	uint64_t credit;
	key_init(&ok, 'o', (const char *)k + 2, plen);
	key_str(&ok, (const char *)nul + 1, (size_t)(k + kn - nul - 1));
	int cancelled = state_get_seq(r->t, &ok, &credit, e);
	if (cancelled != 0)
		return cancelled < 0 ? -1 : 0;
	if (!time_date_ok(inv.due, strlen(inv.due)))
		return err_setc(e, SCOPE_E_CORRUPT, "invoice record has a bad due date (run scoped reindex)");
	struct total *t = row_total(r, e);
	if (t == NULL)
		return -1;
	uint64_t open = inv.total - inv.paid;
	int64_t overdue = (int64_t)(r->now_us / DAY_US) - time_date_days(inv.due);
	int b = overdue < 0 ? 0 : overdue <= 30 ? 1 : overdue <= 60 ? 2 : overdue <= 90 ? 3 : 4;
	uint64_t *bucket[] = { &t->b, &t->c, &t->d, &t->f, &t->g };
	if (add_amount(&t->a, open, "the outstanding amounts", t->currency, e) ||
	    add_amount(bucket[b], open, "the outstanding amounts of one age", t->currency, e))
		return -1;
	pack_row_head(r, 13, k, plen);
	mp_pack_cstr(&r->rows, "invoice");
	mp_pack_str(&r->rows, (const char *)nul + 1, (size_t)(k + kn - nul - 1));
	mp_pack_cstr(&r->rows, "issued");
	mp_pack_cstr(&r->rows, inv.issued);
	mp_pack_cstr(&r->rows, "due");
	mp_pack_cstr(&r->rows, inv.due);
	pack_fee_tax(&r->rows, "", inv.total - inv.tax, inv.tax);
	mp_pack_cstr(&r->rows, "paid_minor");
	mp_pack_uint(&r->rows, inv.paid);
	mp_pack_cstr(&r->rows, "outstanding_minor");
	mp_pack_uint(&r->rows, open);
	mp_pack_cstr(&r->rows, "days_overdue");
	mp_pack_uint(&r->rows, overdue > 0 ? (uint64_t)overdue : 0);
	mp_pack_cstr(&r->rows, "bucket");
	mp_pack_cstr(&r->rows, BUCKETS[b]);
	r->nrows++;
	return 0;
}

static void pack_totals(const struct rctx *r, struct buf *tot)
{
	if (r->kind == R_CASES) {	/* cases by stage, not money */
		mp_pack_map(tot, sizeof CASE_STAGES / sizeof CASE_STAGES[0]);
		for (size_t i = 0; i < sizeof CASE_STAGES / sizeof CASE_STAGES[0]; i++) {
			mp_pack_cstr(tot, CASE_STAGES[i]);
			mp_pack_uint(tot, r->stages[i]);
		}
		return;
	}
	static const char *const NAMES[][6] = {
		[R_EXPOSURE] = { "proceeding_count", "proceeding_quoted_minor", "waiting_count",
				 "waiting_quoted_minor" },
		[R_UNBILLED] = { "unbilled_minor", "days_0_30_minor", "days_31_60_minor", "days_over_60_minor" },
		[R_RECEIVABLES] = { "outstanding_minor", "current_minor", "days_0_30_minor", "days_31_60_minor",
				    "days_61_90_minor", "days_over_90_minor" },
		[R_QUOTES] = { "total_minor", "quotes_count", "expired_count" },
	};
	uint32_t n = r->kind == R_RECEIVABLES ? 6 : r->kind == R_QUOTES ? 3 : 4;
	mp_pack_array(tot, r->ntotals);
	for (uint32_t i = 0; i < r->ntotals; i++) {
		const struct total *tt = &r->totals[i];
		const uint64_t v[] = { tt->a, tt->b, tt->c, tt->d, tt->f, tt->g };
		mp_pack_map(tot, 2 + n);
		mp_pack_cstr(tot, "currency");
		mp_pack_cstr(tot, tt->currency);
		mp_pack_cstr(tot, "exponent");
		mp_pack_uint(tot, tt->exp);
		for (uint32_t j = 0; j < n; j++) {
			mp_pack_cstr(tot, NAMES[r->kind][j]);
			mp_pack_uint(tot, v[j]);
		}
	}
}

static int run(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow, void *actx,
	       uint64_t now_us, enum rkind kind, const struct page_req *req, struct buf *out, struct buf *next,
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
	r->kind = kind;
	buf_init(&r->rows);
	buf_init(&r->waiting);
	int rc = pager_init(pg, req, now_us, e);
	r->now_us = pg->as_of;
	pager_section(pg, &r->rows, &r->nrows);
	pager_section(pg, &r->waiting, &r->nwaiting);
	struct key k;
	char type = kind == R_RECEIVABLES ? 'i' : kind == R_CASES ? 'h' : 'c';
	if (rc == 0)
		rc = state_scan_prefix(t, type, project, plen, &k, e);
	if (rc == 0)
		rc = pager_scan(pg, t, k.b, k.n,
				kind == R_RECEIVABLES ? report_invoice : kind == R_CASES ? report_case : report_change, r, e);
	if (rc == 0) {
		pack_totals(r, &tot);
		rc = pager_finish(pg, tot.data, tot.len, e);
	}
	if (rc == 0) {
		mp_pack_map(out, kind == R_EXPOSURE ? 2 : kind == R_RECEIVABLES || kind == R_CASES ? 4 : 3);
		if (kind == R_CASES) {
			mp_pack_cstr(out, "waiting_approver");
			mp_pack_array(out, r->nwaiting);
			buf_add(out, r->waiting.data, r->waiting.len);
		}
		mp_pack_cstr(out, "rows");
		mp_pack_array(out, r->nrows);
		buf_add(out, r->rows.data, r->rows.len);
		mp_pack_cstr(out, "totals");
		buf_add(out, tot.data, tot.len);
		if (kind != R_EXPOSURE) {	/* the time the ages count to, for a client re-deriving them */
			mp_pack_cstr(out, "as_of_us");
			mp_pack_uint(out, r->now_us);
		}
		if (kind == R_RECEIVABLES) {
			char day[11];
			time_days_date((int64_t)(r->now_us / DAY_US), day);
			mp_pack_cstr(out, "as_of_date");
			mp_pack_cstr(out, day);
		}
		pager_next(pg, next);
	}
	pager_free(pg);
	buf_free(&tot);
	buf_free(&r->rows);
	buf_free(&r->waiting);
	free(r);
	free(pg);
	return rc;
}

int report_unbilled(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow,
		    void *actx, uint64_t now_us, const struct page_req *req, struct buf *out,
		    struct buf *next, struct err *e)
{
	return run(t, project, plen, allow, actx, now_us, R_UNBILLED, req, out, next, e);
}

int report_exposure(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow,
		    void *actx, const struct page_req *req, struct buf *out, struct buf *next,
		    struct err *e)
{
	return run(t, project, plen, allow, actx, 0, R_EXPOSURE, req, out, next, e);
}

int report_named(struct scope_kv *t, const char *name, const char *project, size_t plen, report_allow_fn allow,
		 void *actx, uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next,
		 struct err *e)
{
	if (strcmp(name, "unbilled") == 0)
		return run(t, project, plen, allow, actx, now_us, R_UNBILLED, req, out, next, e);
	if (strcmp(name, "exposure") == 0)
		return run(t, project, plen, allow, actx, 0, R_EXPOSURE, req, out, next, e);
	if (strcmp(name, "quotes") == 0)
		return run(t, project, plen, allow, actx, now_us, R_QUOTES, req, out, next, e);
	if (strcmp(name, "cases") == 0)
		return run(t, project, plen, allow, actx, now_us, R_CASES, req, out, next, e);
	if (strcmp(name, "acceptance") == 0)
		return report_acceptance(t, project, plen, allow, actx, now_us, req, out, next, e);
	if (strcmp(name, "links") == 0)
		return report_links(t, project, plen, allow, actx, now_us, req, out, next, e);
	if (strcmp(name, "agreements") == 0 || strcmp(name, "notices") == 0)
		return report_followups(t, name[0] == 'n', project, plen, allow, actx, now_us, req, out, next, e);
	if (strcmp(name, "receivables") != 0)
		return err_set(e, "unknown report \"%.40s\" (unbilled, exposure, receivables, quotes, cases, acceptance, "
			       "agreements, notices, links)", name);
	/* the day the overdue days count to: the one asked for, else today's */
	uint64_t day = (req && req->as_of_us ? req->as_of_us : now_us) / DAY_US * DAY_US;
	return run(t, project, plen, allow, actx, day, R_RECEIVABLES, req, out, next, e);
}
