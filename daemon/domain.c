#include "domain.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "currency.h"
#include "entry.h"
#include "mp.h"
#include "note.h"
#include "schema.h"
#include "state.h"

/* ---- schemas ---- */

static const char *const CONTRACT[] = { "fixed", "tm", NULL };
static const char *const CHANNELS[] = { "meeting", "phone", "email", "chat", "other", NULL };
static const char *const REASONS[] = { "client_request", "design_development", "baseline_ambiguity",
				       "defect", "regulatory", "vendor_proposal", NULL };
static const char *const CLASSES[] = { "in_scope", "minor_revision", "out_of_scope", "unfounded", NULL };
static const char *const DECISIONS[] = { "approved", "rejected", "revise", NULL };
static const char *const KEY_ACTIONS[] = { "add", "retire", NULL };

#define FLD(n, t, req, lo, hi) { n, t, req, false, lo, hi, NULL, NULL, 0 }
#define ASSIGNED(n, t) { n, t, true, true, 0, UINT64_MAX, NULL, NULL, 0 }
#define ENUMF(n, req, list) { n, F_ENUM, req, false, 0, 0, list, NULL, 0 }
#define ARRM(n, req, lo, hi, sub) { n, F_ARRAY, req, false, lo, hi, NULL, sub, 0 }
#define ARRS(n, req, lo, hi, it) { n, F_ARRAY, req, false, lo, hi, NULL, NULL, it }
#define SCHEMA(name, what, ...) \
	static const struct field name##_f[] = { __VA_ARGS__ }; \
	static const struct schema name = { what, name##_f, sizeof name##_f / sizeof name##_f[0] }

SCHEMA(DOC, "document", FLD("name", F_STR, true, 1, 200), FLD("sha256", F_SHA256, true, 0, 0),
       FLD("size", F_UINT, true, 0, 1ull << 53));
SCHEMA(ITEM, "item", FLD("id", F_ID, true, 1, STATE_ITEM_ID_MAX), FLD("text", F_STR, true, 1, 4096));
SCHEMA(LINE, "line", FLD("change", F_CR, true, 0, 0), FLD("amount_minor", F_UINT, true, 1, AMOUNT_MAX));

SCHEMA(S_PROJECT, "project",
       FLD("client", F_STR, true, 1, 200), FLD("title", F_STR, true, 1, 200),
       ENUMF("contract_type", true, CONTRACT), ENUMF("currency", true, CURRENCY_CODES),
       FLD("amount_minor", F_UINT, true, 0, AMOUNT_MAX), FLD("vendor_lead", F_STR, false, 1, 200),
       FLD("client_lead", F_STR, false, 1, 200), FLD("acceptance_days", F_UINT, false, 0, 3650),
       ARRM("documents", false, 0, 100, &DOC));
SCHEMA(S_BASELINE, "baseline",
       ASSIGNED("version", F_UINT), ARRM("items", true, 1, 1000, &ITEM),
       ARRM("documents", false, 0, 100, &DOC), FLD("rule", F_STR, false, 1, 4096));
SCHEMA(S_CHANGE, "change",
       ASSIGNED("number", F_CR), FLD("title", F_STR, true, 1, 200),
       FLD("description", F_STR, false, 1, 65536), FLD("raised_by", F_STR, true, 1, 200),
       ENUMF("channel", true, CHANNELS), FLD("occurred_at", F_UINT, false, 0, UINT64_MAX),
       ENUMF("reason", true, REASONS), ARRS("items", false, 0, 1000, F_ID),
       FLD("proceeding", F_BOOL, false, 0, 1));
SCHEMA(S_ASSESSMENT, "assessment",
       FLD("change", F_CR, true, 0, 0), ENUMF("class", true, CLASSES),
       FLD("rationale", F_STR, true, 1, 65536), ARRS("cites", false, 0, 100, F_UINT));
SCHEMA(S_QUOTE, "quote",
       FLD("change", F_CR, true, 0, 0), ASSIGNED("revision", F_UINT),
       FLD("fee_minor", F_UINT, true, 0, AMOUNT_MAX), FLD("tax_minor", F_UINT, false, 0, AMOUNT_MAX),
       FLD("effort_hours", F_UINT, true, 0, 10000000), FLD("schedule_days", F_UINT, false, 0, 3650),
       FLD("valid_until", F_DATE, false, 0, 0), ARRM("documents", false, 0, 10, &DOC),
       ENUMF("currency", false, CURRENCY_CODES));
SCHEMA(S_RESPONSE, "response",
       FLD("change", F_CR, false, 0, 0), FLD("quote", F_UINT, false, 1, UINT32_MAX),
       FLD("baseline", F_UINT, false, 1, UINT32_MAX), ENUMF("decision", true, DECISIONS),
       FLD("reason", F_STR, false, 1, 4096), FLD("respondent", F_STR, true, 1, 200),
       FLD("respondent_title", F_STR, false, 1, 200), ENUMF("channel", true, CHANNELS),
       FLD("evidence_sha256", F_SHA256, false, 0, 0), ASSIGNED("on_behalf", F_BOOL));
SCHEMA(S_EVIDENCE, "evidence",
       FLD("response", F_UINT, true, 0, UINT64_MAX), FLD("sha256", F_SHA256, true, 0, 0),
       FLD("description", F_STR, false, 1, 4096));
SCHEMA(S_INVOICE, "invoice",
       FLD("number", F_ID, true, 1, STATE_INVOICE_MAX), ARRM("lines", true, 1, 100, &LINE),
       ENUMF("currency", false, CURRENCY_CODES));
SCHEMA(S_PAYMENT, "payment",
       FLD("invoice", F_ID, true, 1, STATE_INVOICE_MAX), FLD("amount_minor", F_UINT, true, 1, AMOUNT_MAX),
       FLD("date", F_DATE, true, 0, 0), ENUMF("currency", false, CURRENCY_CODES));
SCHEMA(S_VOID, "void", FLD("target", F_UINT, true, 0, UINT64_MAX), FLD("reason", F_STR, true, 1, 4096));
SCHEMA(S_NOTE, "note", FLD("text", F_STR, true, 1, 65536));
SCHEMA(S_KEY, "key", ENUMF("action", true, KEY_ACTIONS), FLD("verifier_key", F_STR, true, 1, NOTE_VKEY_MAX - 1));

/* ---- the apply context ---- */

struct ctx {
	struct store_txn *t;
	const struct domain_in *in;
	bool replay;
	const struct schema *sc;
	struct value v[16];
	struct proj proj;
	struct buf *out;
	/* assigned fields to add (live) or check (replay) */
	const char *add_name;
	enum field_type add_type;
	uint64_t add_u;
	const char *add_name2;
	bool add_b2;
	struct err *e;
};

static const struct value *val(const struct ctx *x, const char *name)
{
	int i = schema_index(x->sc, name);
	return i >= 0 ? &x->v[i] : NULL;
}

static bool has(const struct ctx *x, const char *name)
{
	const struct value *v = val(x, name);
	return v && v->present;
}

static int refuse(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct ctx *x, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(x->e, "%s", msg);
}

#define P(x) (int)(x)->in->project_len, (x)->in->project

static int load_change(struct ctx *x, uint64_t number, struct chg *c, struct key *k)
{
	key_init(k, 'c', x->in->project, x->in->project_len);
	key_u64(k, number);
	int rc = LOAD(x->t, k, CHG, c, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "CR-%llu does not exist in project %.*s", (unsigned long long)number, P(x));
	if (strcmp(c->status, "withdrawn") == 0)
		return refuse(x, "CR-%llu was withdrawn (voided)", (unsigned long long)number);
	return 0;
}

static int check_currency(struct ctx *x)
{
	const struct value *c = val(x, "currency");
	if (c && c->present && (c->len != 3 || memcmp(c->s, x->proj.currency, 3) != 0))
		return refuse(x, "currency %.*s differs from the project's %s", (int)c->len, c->s,
			      x->proj.currency);
	return 0;
}

/* Reads an entry and its kind and project (for references by seq). */
static int referenced(struct ctx *x, uint64_t seq, struct entry *en, const char *what)
{
	const uint8_t *p;
	size_t n;
	struct err tmp;
	if (seq >= x->in->seq)
		return refuse(x, "%s: entry %llu does not exist yet", what, (unsigned long long)seq);
	if (store_entry_get(x->t, seq, &p, &n, &tmp) || entry_decode(p, n, en, &tmp))
		return refuse(x, "%s: entry %llu cannot be read", what, (unsigned long long)seq);
	if (en->project_len != x->in->project_len ||
	    memcmp(en->project, x->in->project, en->project_len) != 0)
		return refuse(x, "%s: entry %llu belongs to another project", what, (unsigned long long)seq);
	return 0;
}

/* ---- kinds ---- */

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
		if (store_state_put(x->t, ik.b, ik.n, "", 0, x->e))
			return -1;
	}
	key_init(&k, 'b', x->in->project, x->in->project_len);
	key_u64(&k, version);
	if (SAVE(x->t, &k, BASE, &b, x->e))
		return -1;
	x->proj.baseline = version;
	x->proj.baseline_confirmed = false;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

static int k_change(struct ctx *x)
{
	struct key k;
	struct chg c;
	uint64_t number = x->proj.next_cr;
	const struct value *occ = val(x, "occurred_at");
	if (occ->present && occ->u > x->in->time_us + 86400000000ull)
		return refuse(x, "occurred_at lies in the future");
	/* affected items must be in the current baseline */
	const struct value *items = val(x, "items");
	if (items->present && items->count > 0) {
		if (x->proj.baseline == 0)
			return refuse(x, "the change names baseline items but the project has no baseline");
		struct mp_cur c2;
		uint32_t n;
		mp_cur_init(&c2, items->p, items->plen);
		mp_get_array(&c2, &n, x->e);
		for (uint32_t i = 0; i < n; i++) {
			const char *id;
			size_t idn;
			const uint8_t *v;
			size_t vn;
			mp_get_str(&c2, &id, &idn, x->e);
			struct key ik;
			key_init(&ik, 'k', x->in->project, x->in->project_len);
			key_u64(&ik, x->proj.baseline);
			key_str(&ik, id, idn);
			int rc = store_state_get(x->t, ik.b, ik.n, &v, &vn, x->e);
			if (rc < 0)
				return -1;
			if (rc == 0)
				return refuse(x, "item %.*s is not in baseline version %llu", (int)idn, id,
					      (unsigned long long)x->proj.baseline);
		}
	}
	x->add_name = "number";
	x->add_type = F_CR;
	x->add_u = number;
	memset(&c, 0, sizeof c);
	c.seq = x->in->seq;
	c.number = number;
	c.raised_at = x->in->time_us;
	c.proceeding = has(x, "proceeding") && val(x, "proceeding")->u;
	snprintf(c.status, sizeof c.status, "raised");
	const struct value *title = val(x, "title");
	snprintf(c.title, sizeof c.title, "%.*s", (int)(title->len > 200 ? 200 : title->len), title->s);
	key_init(&k, 'c', x->in->project, x->in->project_len);
	key_u64(&k, number);
	if (SAVE(x->t, &k, CHG, &c, x->e))
		return -1;
	x->proj.next_cr = number + 1;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

static int k_assessment(struct ctx *x)
{
	struct key k;
	struct chg c;
	uint64_t number = val(x, "change")->u;
	if (load_change(x, number, &c, &k))
		return -1;
	if (c.assessed)
		return refuse(x, "CR-%llu is already assessed (%s); the lifecycle only moves forward",
			      (unsigned long long)number, c.cls);
	const struct value *cites = val(x, "cites");
	if (cites->present) {
		struct mp_cur cc;
		uint32_t n;
		mp_cur_init(&cc, cites->p, cites->plen);
		mp_get_array(&cc, &n, x->e);
		for (uint32_t i = 0; i < n; i++) {
			uint64_t seq;
			struct entry en;
			mp_get_uint(&cc, &seq, x->e);
			if (referenced(x, seq, &en, "cites"))
				return -1;
		}
	}
	const struct value *cls = val(x, "class");
	snprintf(c.cls, sizeof c.cls, "%.*s", (int)cls->len, cls->s);
	c.assessed = true;
	if (strcmp(c.cls, "out_of_scope") == 0)
		snprintf(c.status, sizeof c.status, "assessed");
	else if (strcmp(c.cls, "unfounded") == 0)
		snprintf(c.status, sizeof c.status, "unfounded");
	else
		snprintf(c.status, sizeof c.status, "no_charge");
	return SAVE(x->t, &k, CHG, &c, x->e);
}

static int k_quote(struct ctx *x)
{
	struct key k;
	struct chg c;
	uint64_t number = val(x, "change")->u;
	if (check_currency(x) || load_change(x, number, &c, &k))
		return -1;
	if (!c.assessed)
		return refuse(x, "CR-%llu has not been assessed yet; only an out-of-scope change is quoted",
			      (unsigned long long)number);
	if (strcmp(c.cls, "out_of_scope") != 0)
		return refuse(x, "CR-%llu is assessed %s: no quote for a change that is not out of scope",
			      (unsigned long long)number, c.cls);
	if (strcmp(c.status, "assessed") && strcmp(c.status, "quoted") && strcmp(c.status, "revise_requested"))
		return refuse(x, "CR-%llu is %s: it can no longer be quoted", (unsigned long long)number,
			      c.status);
	c.quote_rev++;
	c.quote_seq = x->in->seq;
	c.fee = val(x, "fee_minor")->u;
	c.tax = has(x, "tax_minor") ? val(x, "tax_minor")->u : 0;
	snprintf(c.status, sizeof c.status, "quoted");
	x->add_name = "revision";
	x->add_type = F_UINT;
	x->add_u = c.quote_rev;
	return SAVE(x->t, &k, CHG, &c, x->e);
}

/* A response taken on the client's behalf, without evidence in force. */
static int unconfirmed_put(struct ctx *x, uint64_t response)
{
	struct key k;
	key_init(&k, 'u', x->in->project, x->in->project_len);
	key_u64(&k, response);
	return store_state_put(x->t, k.b, k.n, "", 0, x->e);
}

static int mark_unconfirmed(struct ctx *x)
{
	/* replay: the recorded fact stands, whatever roles are mapped now */
	bool on_behalf = x->replay ? val(x, "on_behalf")->u != 0 : !x->in->as_client;
	x->add_name2 = "on_behalf";
	x->add_b2 = on_behalf;
	if (!on_behalf || has(x, "evidence_sha256"))
		return 0;
	return unconfirmed_put(x, x->in->seq);
}

static int k_response(struct ctx *x)
{
	struct key k;
	const struct value *decision = val(x, "decision");
	bool approved = decision->len == 8 && memcmp(decision->s, "approved", 8) == 0;
	bool rejected = decision->len == 8 && memcmp(decision->s, "rejected", 8) == 0;
	if (rejected && !has(x, "reason"))
		return refuse(x, "a rejection needs a reason");
	if (has(x, "change") == has(x, "baseline"))
		return refuse(x, "a response answers either a change (with its quote) or a baseline version");
	if (has(x, "baseline")) {
		struct base b;
		uint64_t version = val(x, "baseline")->u;
		if (has(x, "quote"))
			return refuse(x, "a response to a baseline cites no quote");
		if (version != x->proj.baseline)
			return refuse(x, "baseline version %llu is not the current one (%llu)",
				      (unsigned long long)version, (unsigned long long)x->proj.baseline);
		key_init(&k, 'b', x->in->project, x->in->project_len);
		key_u64(&k, version);
		if (LOAD(x->t, &k, BASE, &b, x->e) != 1)
			return refuse(x, "baseline version %llu does not exist", (unsigned long long)version);
		if (b.confirmed)
			return refuse(x, "baseline version %llu is already confirmed", (unsigned long long)version);
		if (mark_unconfirmed(x))
			return -1;
		if (!approved)
			return 0;
		b.confirmed = true;
		x->proj.baseline_confirmed = true;
		if (SAVE(x->t, &k, BASE, &b, x->e))
			return -1;
		key_init(&k, 'p', x->in->project, x->in->project_len);
		return SAVE(x->t, &k, PROJ, &x->proj, x->e);
	}
	struct chg c;
	uint64_t number = val(x, "change")->u;
	if (load_change(x, number, &c, &k))
		return -1;
	if (!c.assessed)
		return refuse(x, "CR-%llu has not been assessed yet", (unsigned long long)number);
	if (strcmp(c.cls, "out_of_scope") == 0) {
		if (!has(x, "quote"))
			return refuse(x, "CR-%llu is out of scope: the response must cite its current quote revision",
				      (unsigned long long)number);
		if (strcmp(c.status, "quoted") != 0)
			return refuse(x, "CR-%llu is %s: there is no open quote to answer", (unsigned long long)number,
				      c.status);
		if (val(x, "quote")->u != c.quote_rev)
			return refuse(x, "quote revision %llu is not the current one (%llu)",
				      (unsigned long long)val(x, "quote")->u, (unsigned long long)c.quote_rev);
		if (approved) {
			snprintf(c.status, sizeof c.status, "approved");
			c.approved = c.fee;
			c.approved_at = x->in->time_us;
		} else {
			snprintf(c.status, sizeof c.status, rejected ? "rejected" : "revise_requested");
		}
	} else if (strcmp(c.status, "no_charge") == 0) {
		if (has(x, "quote"))
			return refuse(x, "CR-%llu is %s: it has no quote", (unsigned long long)number, c.cls);
		if (approved) {
			snprintf(c.status, sizeof c.status, "approved_no_charge");
			c.approved_at = x->in->time_us;
		} else if (rejected) {
			snprintf(c.status, sizeof c.status, "rejected");
		}
	} else {
		return refuse(x, "CR-%llu is %s: there is nothing to answer", (unsigned long long)number, c.status);
	}
	c.response_seq = x->in->seq;
	if (mark_unconfirmed(x))
		return -1;
	return SAVE(x->t, &k, CHG, &c, x->e);
}

/* e: project, response, evidence seq -> "" (evidence in force for it) */
static void evidence_key(struct ctx *x, uint64_t response, uint64_t evidence, struct key *k)
{
	key_init(k, 'e', x->in->project, x->in->project_len);
	key_u64(k, response);
	key_u64(k, evidence);
}

static int k_evidence(struct ctx *x)
{
	struct entry en;
	uint64_t target = val(x, "response")->u;
	if (referenced(x, target, &en, "response"))
		return -1;
	if (en.kind_len != 8 || memcmp(en.kind, "response", 8) != 0)
		return refuse(x, "entry %llu is a %.*s, not a response", (unsigned long long)target,
			      (int)en.kind_len, en.kind);
	struct key k;
	key_init(&k, 'u', x->in->project, x->in->project_len);
	key_u64(&k, target);
	if (store_state_del(x->t, k.b, k.n, x->e))
		return -1;
	evidence_key(x, target, x->in->seq, &k);
	return store_state_put(x->t, k.b, k.n, "", 0, x->e);
}

static int found_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k, (void)kn, (void)v, (void)vn, (void)e;
	*(bool *)ctx = true;
	return 1;
}

/* Voiding evidence: a response taken on the client's behalf (without
 * evidence_sha256) that has no other evidence in force is unconfirmed again. */
static int void_evidence(struct ctx *x, const struct entry *ev, uint64_t ev_seq)
{
	struct mp_cur c;
	struct mp_item it;
	struct entry resp;
	struct key k;
	uint64_t response;
	bool other = false;
	if (mp_map_find(ev->body, ev->body_len, "response", &c, x->e) != 1 || mp_get_uint(&c, &response, x->e))
		return refuse(x, "entry %llu: evidence without a response", (unsigned long long)ev_seq);
	evidence_key(x, response, ev_seq, &k);
	if (store_state_del(x->t, k.b, k.n, x->e))
		return -1;
	k.n -= 9;	/* the response's evidence records */
	if (store_state_scan(x->t, k.b, k.n, found_one, &other, x->e) < 0 ||
	    referenced(x, response, &resp, "evidence"))
		return -1;
	if (other || mp_map_find(resp.body, resp.body_len, "evidence_sha256", &c, x->e) == 1 ||
	    mp_map_find(resp.body, resp.body_len, "on_behalf", &c, x->e) != 1 || mp_next(&c, &it, x->e) ||
	    it.type != MP_BOOL || !it.b)
		return 0;
	return unconfirmed_put(x, response);
}

struct line {
	uint64_t cr, amount;
};

static int k_invoice(struct ctx *x)
{
	struct key k;
	struct inv inv;
	const struct value *num = val(x, "number");
	if (check_currency(x))
		return -1;
	key_init(&k, 'i', x->in->project, x->in->project_len);
	key_str(&k, num->s, num->len);
	int rc = LOAD(x->t, &k, INV, &inv, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "invoice %.*s already exists (entry %llu)", (int)num->len, num->s,
			      (unsigned long long)inv.seq);
	/* gather lines, summing per change, and check each against what was
	 * approved.  No sum here can overflow: an invoice has at most 100 lines
	 * of at most AMOUNT_MAX; a change's invoiced amount never exceeds its
	 * approved one (at most AMOUNT_MAX), its paid amount never exceeds what
	 * was invoiced, and an invoice's paid amount never exceeds its total.
	 * Sums over many changes are the reports' (checked there). */
	_Static_assert(100 * AMOUNT_MAX <= INT64_MAX, "an invoice total fits");
	struct line lines[100];
	uint32_t n = 0, count;
	const struct value *lv = val(x, "lines");
	struct mp_cur c;
	mp_cur_init(&c, lv->p, lv->plen);
	mp_get_array(&c, &count, x->e);
	memset(&inv, 0, sizeof inv);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *start = c.p;
		mp_skip(&c, 4, x->e);
		struct value lvals[2];
		schema_check(&LINE, start, (size_t)(c.p - start), false, lvals, x->e);
		uint32_t j;
		for (j = 0; j < n && lines[j].cr != lvals[0].u; j++)
			;
		if (j == n)
			lines[n++] = (struct line){ lvals[0].u, 0 };
		lines[j].amount += lvals[1].u;
		inv.total += lvals[1].u;
	}
	struct chg chgs[100];
	struct key ck[100];
	for (uint32_t j = 0; j < n; j++) {
		struct chg *ch = &chgs[j];
		if (load_change(x, lines[j].cr, ch, &ck[j]))
			return -1;
		if (strcmp(ch->status, "approved") && strcmp(ch->status, "partly_invoiced"))
			return refuse(x, "CR-%llu is %s: only an approved change is invoiced",
				      (unsigned long long)lines[j].cr, ch->status);
		if (lines[j].amount > ch->approved - ch->invoiced)
			return refuse(x, "CR-%llu: invoicing %llu would exceed the approved %llu (already invoiced %llu)",
				      (unsigned long long)lines[j].cr, (unsigned long long)lines[j].amount,
				      (unsigned long long)ch->approved, (unsigned long long)ch->invoiced);
	}
	inv.seq = x->in->seq;
	if (SAVE(x->t, &k, INV, &inv, x->e))
		return -1;
	for (uint32_t j = 0; j < n; j++) {
		struct key lk;
		chgs[j].invoiced += lines[j].amount;
		snprintf(chgs[j].status, sizeof chgs[j].status,
			 chgs[j].invoiced == chgs[j].approved ? "invoiced" : "partly_invoiced");
		key_init(&lk, 'l', x->in->project, x->in->project_len);
		key_str(&lk, num->s, num->len);
		key_u64(&lk, lines[j].cr);
		uint8_t amt[8];
		for (int b = 0; b < 8; b++)
			amt[b] = (uint8_t)(lines[j].amount >> (56 - 8 * b));
		if (SAVE(x->t, &ck[j], CHG, &chgs[j], x->e) || store_state_put(x->t, lk.b, lk.n, amt, 8, x->e))
			return -1;
	}
	return 0;
}

static int pay_line(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct ctx *x = ctx;
	if (kn < 8 || vn != 8)
		return err_setc(e, STORE_E_CORRUPT, "invoice line record is damaged");
	uint64_t cr = 0, amount = 0;
	for (int i = 0; i < 8; i++) {
		cr = cr << 8 | k[kn - 8 + (size_t)i];
		amount = amount << 8 | v[i];
	}
	struct chg c;
	struct key ck;
	key_init(&ck, 'c', x->in->project, x->in->project_len);
	key_u64(&ck, cr);
	if (LOAD(x->t, &ck, CHG, &c, e) != 1)
		return err_setc(e, STORE_E_CORRUPT, "invoice names a missing change");
	c.paid += amount;
	if (c.paid == c.approved)
		snprintf(c.status, sizeof c.status, "paid");
	return SAVE(x->t, &ck, CHG, &c, e);
}

static int k_payment(struct ctx *x)
{
	struct key k;
	struct inv inv;
	const struct value *num = val(x, "invoice");
	uint64_t amount = val(x, "amount_minor")->u;
	if (check_currency(x))
		return -1;
	key_init(&k, 'i', x->in->project, x->in->project_len);
	key_str(&k, num->s, num->len);
	int rc = LOAD(x->t, &k, INV, &inv, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "invoice %.*s does not exist in project %.*s", (int)num->len, num->s, P(x));
	if (amount > inv.total - inv.paid)
		return refuse(x, "payment of %llu exceeds what is open on invoice %.*s (%llu of %llu)",
			      (unsigned long long)amount, (int)num->len, num->s,
			      (unsigned long long)(inv.total - inv.paid), (unsigned long long)inv.total);
	inv.paid += amount;
	if (SAVE(x->t, &k, INV, &inv, x->e))
		return -1;
	if (inv.paid < inv.total)
		return 0;
	/* fully paid: its lines count as paid on their changes */
	struct key lk;
	key_init(&lk, 'l', x->in->project, x->in->project_len);
	key_str(&lk, num->s, num->len);
	lk.b[lk.n++] = 0;
	return store_state_scan(x->t, lk.b, lk.n, pay_line, x, x->e);
}

static int k_void(struct ctx *x)
{
	struct entry en;
	struct key k;
	uint64_t target = val(x, "target")->u;
	if (referenced(x, target, &en, "target"))
		return -1;
	key_init(&k, 'v', "", 0);
	key_u64(&k, target);
	const uint8_t *v;
	size_t vn;
	int rc = store_state_get(x->t, k.b, k.n, &v, &vn, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "entry %llu is already voided", (unsigned long long)target);
#define KIND_IS(s) (en.kind_len == strlen(s) && memcmp(en.kind, s, en.kind_len) == 0)
	if (KIND_IS("change")) {
		struct mp_cur c;
		uint64_t number = 0;
		const char *cr;
		size_t crn;
		if (mp_map_find(en.body, en.body_len, "number", &c, x->e) != 1 || mp_get_str(&c, &cr, &crn, x->e))
			return refuse(x, "entry %llu: change without a number", (unsigned long long)target);
		for (size_t i = 3; i < crn; i++)
			number = number * 10 + (uint64_t)(cr[i] - '0');
		struct chg ch;
		struct key ck;
		if (load_change(x, number, &ch, &ck))
			return -1;
		static const char *const APPROVED[] = { "approved", "approved_no_charge", "partly_invoiced",
							"invoiced", "paid" };
		bool approved = false;
		for (size_t i = 0; i < sizeof APPROVED / sizeof APPROVED[0]; i++)
			approved |= strcmp(ch.status, APPROVED[i]) == 0;
		if (approved)
			return refuse(x, "CR-%llu is %s: an approved change cannot be voided; record a "
				      "correcting entry (a note, or a new change) instead",
				      (unsigned long long)number, ch.status);
		snprintf(ch.status, sizeof ch.status, "withdrawn");
		if (SAVE(x->t, &ck, CHG, &ch, x->e))
			return -1;
	} else if (KIND_IS("evidence")) {
		if (void_evidence(x, &en, target))
			return -1;
	} else if (!KIND_IS("note")) {
		return refuse(x, "a %.*s cannot be voided; record a correcting entry instead",
			      (int)en.kind_len, en.kind);
	}
#undef KIND_IS
	uint8_t by[8];
	for (int i = 0; i < 8; i++)
		by[i] = (uint8_t)(x->in->seq >> (56 - 8 * i));
	return store_state_put(x->t, k.b, k.n, by, 8, x->e);
}

static int k_note(struct ctx *x)
{
	(void)x;
	return 0;
}

/* A change of the checkpoint signing keys (ledger-level, recorded by
 * scoped itself; FORMAT.md, key history).  The state remembers each key's
 * last action, so a key is not added twice or retired twice. */
static int k_key(struct ctx *x)
{
	if (x->in->project_len != 0)
		return refuse(x, "a key entry belongs to the ledger, not to a project");
	const struct value *vk = val(x, "verifier_key"), *act = val(x, "action");
	struct note_verifier v;
	struct err ve = { 0 };
	if (note_verifier_parse(vk->s, vk->len, &v, &ve))
		return refuse(x, "verifier_key: %s", ve.msg);
	struct key k;
	key_init(&k, 'K', "", 0);
	key_str(&k, vk->s, vk->len);
	const uint8_t *cur;
	size_t curn;
	int rc = store_state_get(x->t, k.b, k.n, &cur, &curn, x->e);
	if (rc < 0)
		return -1;
	bool adding = act->len == 3 && memcmp(act->s, "add", 3) == 0;
	bool active = rc == 1 && curn == 1 && cur[0] == 'a', retired = rc == 1 && curn == 1 && cur[0] == 'r';
	if (adding && active)
		return refuse(x, "key %.*s is already in use", (int)vk->len, vk->s);
	if (!adding && retired)
		return refuse(x, "key %.*s is already retired", (int)vk->len, vk->s);
	return store_state_put(x->t, k.b, k.n, adding ? "a" : "r", 1, x->e);
}

static const struct kind {
	const char *name;
	const struct schema *sc;
	int (*apply)(struct ctx *);
} KINDS[] = {
	{ "project", &S_PROJECT, k_project }, { "baseline", &S_BASELINE, k_baseline },
	{ "change", &S_CHANGE, k_change }, { "assessment", &S_ASSESSMENT, k_assessment },
	{ "quote", &S_QUOTE, k_quote }, { "response", &S_RESPONSE, k_response },
	{ "evidence", &S_EVIDENCE, k_evidence }, { "invoice", &S_INVOICE, k_invoice },
	{ "payment", &S_PAYMENT, k_payment }, { "void", &S_VOID, k_void }, { "note", &S_NOTE, k_note },
	{ "key", &S_KEY, k_key },
};

static const struct kind *find_kind(const char *k, size_t n)
{
	for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
		if (strlen(KINDS[i].name) == n && memcmp(KINDS[i].name, k, n) == 0)
			return &KINDS[i];
	return NULL;
}

int domain_check_shape(const char *kind, size_t kind_len, const uint8_t *body, size_t n, struct err *e)
{
	struct value vals[16];
	const struct kind *k = find_kind(kind, kind_len);
	if (k == NULL)
		return err_set(e, "unknown kind \"%.*s\" (known: project, baseline, change, assessment, quote, "
			       "response, evidence, invoice, payment, void, note, key)", (int)(kind_len > 32 ? 32 : kind_len),
			       kind);
	return schema_check(k->sc, body, n, false, vals, e);
}

int domain_sent_body(const char *kind, size_t kind_len, const uint8_t *body, size_t n, struct buf *out,
		     struct err *e)
{
	const struct kind *k = find_kind(kind, kind_len);
	if (k == NULL)
		return domain_check_shape(kind, kind_len, body, n, e);
	return schema_strip_assigned(k->sc, body, n, out, e);
}

/* Adds the assigned fields to the body (live) and canonicalises it. */
static int emit(struct ctx *x)
{
	const uint8_t *b = x->in->body;
	size_t n = x->in->body_len;
	if (x->replay || (!x->add_name && !x->add_name2)) {
		buf_add(x->out, b, n);
		return 0;
	}
	struct mp_cur c;
	struct mp_item it;
	mp_cur_init(&c, b, n);
	mp_next(&c, &it, NULL);
	struct buf tmp;
	buf_init(&tmp);
	mp_pack_map(&tmp, it.n + (x->add_name ? 1 : 0) + (x->add_name2 ? 1 : 0));
	buf_add(&tmp, c.p, mp_left(&c));
	if (x->add_name) {
		mp_pack_cstr(&tmp, x->add_name);
		if (x->add_type == F_CR) {
			char cr[24];
			snprintf(cr, sizeof cr, "CR-%llu", (unsigned long long)x->add_u);
			mp_pack_cstr(&tmp, cr);
		} else {
			mp_pack_uint(&tmp, x->add_u);
		}
	}
	if (x->add_name2) {
		mp_pack_cstr(&tmp, x->add_name2);
		mp_pack_bool(&tmp, x->add_b2);
	}
	int rc = mp_canonicalize(tmp.data, tmp.len, NULL, MP_NO_BIN, x->out, x->e);
	buf_free(&tmp);
	return rc;
}

/* In replay the stored assigned fields must be what the ledger assigns. */
static int check_assigned(struct ctx *x)
{
	if (!x->replay)
		return 0;
	if (x->add_name) {
		const struct value *v = val(x, x->add_name);
		if (!v->present || v->u != x->add_u)
			return refuse(x, "entry %llu: stored %s differs from the one the rules assign (%llu)",
				      (unsigned long long)x->in->seq, x->add_name, (unsigned long long)x->add_u);
	}
	if (x->add_name2) {
		const struct value *v = val(x, x->add_name2);
		if (!v->present)
			return refuse(x, "entry %llu: %s missing", (unsigned long long)x->in->seq, x->add_name2);
	}
	return 0;
}

int domain_apply(struct store_txn *t, const struct domain_in *in, bool replay, struct buf *out,
		 struct err *e)
{
	struct ctx x;
	memset(&x, 0, sizeof x);
	x.t = t;
	x.in = in;
	x.replay = replay;
	x.out = out;
	x.e = e;
	const struct kind *k = find_kind(in->kind, in->kind_len);
	if (k == NULL)
		return domain_check_shape(in->kind, in->kind_len, in->body, in->body_len, e);
	x.sc = k->sc;
	if (schema_check(k->sc, in->body, in->body_len, replay, x.v, e))
		return -1;
	bool is_project = k->apply == k_project;
	if (!is_project && !((k->apply == k_note || k->apply == k_key) && in->project_len == 0)) {
		struct key pk;
		key_init(&pk, 'p', in->project, in->project_len);
		int rc = LOAD(t, &pk, PROJ, &x.proj, e);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return refuse(&x, "project %.*s does not exist (create it with a project entry first)",
				      (int)in->project_len, in->project);
	}
	if (k->apply(&x) || check_assigned(&x))
		return -1;
	/* on_behalf is recorded for responses even when the value is false */
	return emit(&x);
}
