#include "kinds.h"

#include <stdio.h>
#include <string.h>

#include "amend.h"
#include "currency.h"
#include "isotime.h"
#include "mp.h"
#include "text.h"

/* changes and what answers them: assessments, quotes, responses and evidence */

const char *const CHANNELS[] = { "meeting", "phone", "email", "chat", "other", "portal", NULL };
const char *const PAGE_LANGS[] = { "ja", "en", NULL };
static const char *const REASONS[] = { "client_request", "design_development", "baseline_ambiguity",
				       "defect", "regulatory", "vendor_proposal", NULL };
static const char *const CLASSES[] = { "in_scope", "minor_revision", "out_of_scope", "unfounded", NULL };
/* acknowledged and disputed answer notices only; the others never do */
static const char *const DECISIONS[] = { "approved", "rejected", "revise", "acknowledged", "disputed", NULL };

SCHEMA(S_CHANGE, "change",
       ASSIGNED("number", F_CR), FLD("title", F_STR, true, 1, 200),
       FLD("description", F_STR, false, 1, 65536), FLD("raised_by", F_STR, true, 1, 200),
       ENUMF("channel", true, CHANNELS), FLD("occurred_at", F_UINT, false, 0, UINT64_MAX),
       ENUMF("reason", true, REASONS), ARRS("items", false, 0, 1000, F_ID),
       FLD("proceeding", F_BOOL, false, 0, 1));
SCHEMA(S_ASSESSMENT, "assessment",
       FLD("change", F_CR, true, 0, 0), ENUMF("class", true, CLASSES),
       FLD("rationale", F_STR, true, 1, 65536), ARRS("cites", false, 0, 100, F_UINT),
       FLD("reassess", F_BOOL, false, 0, 1));
SCHEMA(S_QUOTE, "quote",
       FLD("change", F_CR, true, 0, 0), ASSIGNED("revision", F_UINT),
       FLD("fee_minor", F_UINT, true, 0, AMOUNT_MAX), FLD("tax_minor", F_UINT, false, 0, AMOUNT_MAX),
       FLD("effort_hours", F_UINT, true, 0, 10000000), FLD("effort_minutes", F_UINT, false, 0, 59),
       FLD("schedule_days", F_UINT, false, 0, 3650),
       FLD("valid_until", F_DATE, false, 0, 0), ARRM("documents", false, 0, 10, &SCHEMA_DOC),
       ENUMF("currency", false, CURRENCY_CODES));
SCHEMA(S_RESPONSE, "response",
       FLD("change", F_CR, false, 0, 0), FLD("quote", F_UINT, false, 1, UINT32_MAX),
       FLD("baseline", F_UINT, false, 1, UINT32_MAX), FLD("amendment", F_AMD, false, 0, 0),
       ENUMF("decision", true, DECISIONS),
       FLD("reason", F_STR, false, 1, 4096), FLD("respondent", F_STR, true, 1, 200),
       FLD("respondent_title", F_STR, false, 1, 200), ENUMF("channel", true, CHANNELS),
       FLD("evidence_sha256", F_SHA256, false, 0, 0), ASSIGNED("on_behalf", F_BOOL),
       FLD("agreement", F_AGR, false, 0, 0), FLD("notice", F_NTC, false, 0, 0), FLD("evidence_held_elsewhere", F_BOOL, false, 0, 1),
       PORTAL_ANSWER_FIELDS);
SCHEMA(S_EVIDENCE, "evidence",
       FLD("response", F_UINT, false, 0, UINT64_MAX), FLD("sha256", F_SHA256, true, 0, 0),
       FLD("description", F_STR, false, 1, 4096), FLD("name", F_STR, false, 1, 200),
       FLD("size", F_UINT, false, 0, 1ull << 53), FLD("media_type", F_STR, false, 1, 200),
       FLD("held_elsewhere", F_BOOL, false, 0, 1));

int check_items(struct ctx *x, const struct value *items)
{
	/* affected items must be in the current baseline */
	if (!items->present || items->count == 0)
		return 0;
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
		int rc = kv_get(x->t, ik.b, ik.n, &v, &vn, x->e);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return refuse(x, "item %.*s is not in baseline version %llu", (int)idn, id,
				      (unsigned long long)x->proj.baseline);
	}
	return 0;
}

int change_open(struct ctx *x, const char *title, size_t n, bool proceeding, uint64_t *number)
{
	struct key k;
	struct chg c;
	memset(&c, 0, sizeof c);
	c.seq = x->in->seq;
	c.number = x->proj.next_cr;
	c.raised_at = x->in->time_us;
	c.proceeding = proceeding;
	snprintf(c.status, sizeof c.status, "raised");
	snprintf(c.title, sizeof c.title, "%.*s", (int)(n < sizeof c.title ? n : sizeof c.title - 1), title);
	key_init(&k, 'c', x->in->project, x->in->project_len);
	key_u64(&k, c.number);
	if (SAVE(x->t, &k, CHG, &c, x->e))
		return -1;
	*number = c.number;
	x->proj.next_cr = c.number + 1;
	return 0;
}

static int k_change(struct ctx *x)
{
	struct key k;
	const struct value *occ = val(x, "occurred_at"), *title = val(x, "title");
	if (occ->present && occ->u > x->in->time_us + 86400000000ull)
		return refuse(x, "occurred_at lies in the future");
	if (check_items(x, val(x, "items")))
		return -1;
	x->add_name = "number";
	x->add_type = F_CR;
	if (change_open(x, title->s, title->len, has(x, "proceeding") && val(x, "proceeding")->u, &x->add_u))
		return -1;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

bool change_approved(const struct chg *c)
{
	static const char *const APPROVED[] = { "approved", "approved_no_charge", "partly_invoiced", "invoiced",
						"paid" };
	for (size_t i = 0; i < sizeof APPROVED / sizeof APPROVED[0]; i++)
		if (strcmp(c->status, APPROVED[i]) == 0)
			return true;
	return false;
}

void change_reclass(struct chg *c, const char *cls, size_t n)
{
	snprintf(c->cls, sizeof c->cls, "%.*s", (int)n, cls);
	c->assessed = true;
	c->approved = 0;
	c->approved_tax = 0;
	c->approved_at = 0;
	c->valid_until[0] = '\0';
	/* no quote is open any more: an out-of-scope change needs a new one */
	c->fee = 0;
	c->tax = 0;
	if (strcmp(c->cls, "out_of_scope") == 0)
		snprintf(c->status, sizeof c->status, "assessed");
	else
		snprintf(c->status, sizeof c->status, strcmp(c->cls, "unfounded") == 0 ? "unfounded" : "no_charge");
}

int check_cites(struct ctx *x)
{
	const struct value *cites = val(x, "cites");
	if (!cites->present)
		return 0;
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
	return 0;
}

static int k_assessment(struct ctx *x)
{
	struct key k;
	struct chg c;
	uint64_t number = val(x, "change")->u;
	bool again = has(x, "reassess") && val(x, "reassess")->u;
	if (load_change(x, number, &c, &k))
		return -1;
	if (c.assessed && !again)
		return refuse(x, "CR-%llu is already assessed (%s); to revisit the assessment, scopectl change reassess",
			      (unsigned long long)number, c.cls);
	if (again && !c.assessed)
		return refuse(x, "CR-%llu has not been assessed yet: assess it (scopectl change assess), not reassess",
			      (unsigned long long)number);
	if (again && change_approved(&c))
		return refuse(x, "CR-%llu is %s: an approval depends on its assessment, so it is not reassessed; "
			      "correct the assessment's class instead (scopectl correct -p %.*s SEQ --set class=... "
			      "--reason TEXT), which withdraws the approval",
			      (unsigned long long)number, c.status, P(x));
	if (check_cites(x))
		return -1;
	const struct value *cls = val(x, "class");
	change_reclass(&c, cls->s, cls->len);
	struct key ak;
	key_init(&ak, 's', x->in->project, x->in->project_len);
	key_u64(&ak, number);
	if (state_put_seq(x->t, &ak, x->in->seq, x->e))
		return -1;
	return SAVE(x->t, &k, CHG, &c, x->e);
}

/* y: project, change, quote revision, seq -> "": the quote entry of that
 * revision, then each response that answered it (the portal's project page
 * lists every revision with its own answers). */
static int quote_rev_put(struct ctx *x, uint64_t number, uint64_t rev)
{
	struct key k;
	key_init(&k, 'y', x->in->project, x->in->project_len);
	key_u64(&k, number);
	key_u64(&k, rev);
	key_u64(&k, x->in->seq);
	return kv_put(x->t, k.b, k.n, "", 0, x->e);
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
	if (link_supersede(x, "change", number))
		return -1;
	c.quote_rev++;
	c.quote_seq = x->in->seq;
	c.fee = val(x, "fee_minor")->u;
	c.tax = has(x, "tax_minor") ? val(x, "tax_minor")->u : 0;
	c.quoted_at = x->in->time_us;
	snprintf(c.valid_until, sizeof c.valid_until, "%.*s", has(x, "valid_until") ? 10 : 0,
		 has(x, "valid_until") ? val(x, "valid_until")->s : "");
	snprintf(c.status, sizeof c.status, "quoted");
	x->add_name = "revision";
	x->add_type = F_UINT;
	x->add_u = c.quote_rev;
	if (quote_rev_put(x, number, c.quote_rev))
		return -1;
	return SAVE(x->t, &k, CHG, &c, x->e);
}

/* A response taken on the client's behalf, without evidence in force. */
static int unconfirmed_put(struct ctx *x, uint64_t response)
{
	struct key k;
	key_init(&k, 'u', x->in->project, x->in->project_len);
	key_u64(&k, response);
	return kv_put(x->t, k.b, k.n, "", 0, x->e);
}

int mark_unconfirmed(struct ctx *x)
{
	/* replay: the recorded fact stands, whatever roles are mapped now */
	bool on_behalf = x->replay ? val(x, "on_behalf")->u != 0 : !x->in->as_client;
	x->add_name2 = "on_behalf";
	x->add_b2 = on_behalf;
	if (!on_behalf || has(x, "evidence_sha256"))
		return 0;
	return unconfirmed_put(x, x->in->seq);
}

/* An approval on a day after the quote's valid_until (a quote is valid
 * through that whole day, in UTC). */
static int quote_expired(struct ctx *x, const struct chg *c)
{
	char today[40];
	time_format(x->in->time_us, true, false, today);
	today[10] = '\0';
	if (c->valid_until[0] == '\0' || strcmp(c->valid_until, today) >= 0)
		return 0;
	return refuse(x, "quote revision %llu of CR-%llu was valid until %s and cannot be approved on %s; "
		      "record a new quote revision (scopectl quote) and approve that",
		      (unsigned long long)c->quote_rev, (unsigned long long)c->number, c->valid_until, today);
}

static int k_response(struct ctx *x)
{
	struct key k;
	const struct value *decision = val(x, "decision");
	if (link_answer(x))
		return -1;
	bool approved = decision->len == 8 && memcmp(decision->s, "approved", 8) == 0;
	bool rejected = decision->len == 8 && memcmp(decision->s, "rejected", 8) == 0;
	bool disputed = decision->len == 8 && memcmp(decision->s, "disputed", 8) == 0;
	bool revise = decision->len == 6 && memcmp(decision->s, "revise", 6) == 0;
	bool for_notice = decision->len == 12 || disputed;	/* acknowledged or disputed */
	if ((rejected || disputed) && !has(x, "reason"))
		return refuse(x, "a %s needs a reason", rejected ? "rejection" : "dispute");
	if (has(x, "change") + has(x, "baseline") + has(x, "amendment") + has(x, "agreement") + has(x, "notice") != 1)
		return refuse(x, "a response answers exactly one of a change (with its quote), a baseline version, "
			      "an amendment, an agreement or a notice");
	if (for_notice != has(x, "notice"))
		return refuse(x, "%s", for_notice ? "acknowledged and disputed answer a notice; a change, baseline, "
			      "amendment or agreement is approved or rejected"
			      : "a notice is answered acknowledged or disputed");
	if (has(x, "quote") && !has(x, "change"))
		return refuse(x, "only a response to a change cites a quote");
	/* the item it answers checks the decision and records what it means */
	int done = has(x, "amendment") ? amendment_answer(x, val(x, "amendment")->u, approved, rejected)
		       : has(x, "agreement") ? agreement_answer(x, val(x, "agreement")->u, approved, rejected)
		       : has(x, "notice")    ? notice_answer(x, val(x, "notice")->u, !disputed)
					     : 1;
	if (done <= 0)
		return done || mark_unconfirmed(x) ? -1 : 0;
	if (has(x, "baseline")) {
		struct base b;
		uint64_t version = val(x, "baseline")->u;
		if (version != x->proj.baseline)
			return refuse(x, "baseline version %llu is not the current one (%llu)",
				      (unsigned long long)version, (unsigned long long)x->proj.baseline);
		key_init(&k, 'b', x->in->project, x->in->project_len);
		key_u64(&k, version);
		if (LOAD(x->t, &k, BASE, &b, x->e) != 1)
			return refuse(x, "baseline version %llu does not exist", (unsigned long long)version);
		if (b.confirmed)
			return refuse(x, "baseline version %llu is already confirmed", (unsigned long long)version);
		if (revise)
			return refuse(x, "baseline version %llu is approved or rejected; revise asks for a revised quote "
				      "of a change, and a revised baseline is a new version (scopectl baseline add)",
				      (unsigned long long)version);
		char what[40];
		snprintf(what, sizeof what, "baseline %llu", (unsigned long long)version);
		if (signatory_allows(x, false, 0, what) || mark_unconfirmed(x) || response_in_force(x, what, 0))
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
		if (approved && quote_expired(x, &c))
			return -1;
		if (revise && !has(x, "reason"))
			return refuse(x, "a request for a revised quote needs a reason: what to revise (--reason TEXT)");
		char what[48];
		snprintf(what, sizeof what, "the quote of CR-%llu", (unsigned long long)number);
		if (signatory_allows(x, approved, c.fee + c.tax, what))
			return -1;
		if (quote_rev_put(x, number, c.quote_rev))
			return -1;
		if (approved) {
			snprintf(c.status, sizeof c.status, "approved");
			c.approved = c.fee + c.tax;	/* each at most AMOUNT_MAX: no overflow */
			c.approved_tax = c.tax;
			c.approved_at = x->in->time_us;
		} else {
			snprintf(c.status, sizeof c.status, rejected ? "rejected" : "revise_requested");
		}
	} else if (strcmp(c.status, "no_charge") == 0) {
		if (has(x, "quote"))
			return refuse(x, "CR-%llu is %s: it has no quote", (unsigned long long)number, c.cls);
		if (revise)
			return refuse(x, "CR-%llu is %s: it has no quote to revise; it is approved or rejected",
				      (unsigned long long)number, c.cls);
		char what[24];
		snprintf(what, sizeof what, "CR-%llu", (unsigned long long)number);
		if (signatory_allows(x, approved, 0, what))
			return -1;
		if (approved) {
			snprintf(c.status, sizeof c.status, "approved_no_charge");
			c.approved_at = x->in->time_us;
		} else if (rejected) {
			snprintf(c.status, sizeof c.status, "rejected");
		}
	} else {
		return refuse(x, "CR-%llu is %s: there is nothing to answer", (unsigned long long)number, c.status);
	}
	char answered[24];
	snprintf(answered, sizeof answered, "CR-%llu", (unsigned long long)number);
	if (mark_unconfirmed(x) || response_in_force(x, answered, c.response_seq))
		return -1;
	c.response_seq = x->in->seq;
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
	if (!has(x, "response"))
		return 0;	/* evidence for the project: a file on record, answering nothing */
	uint64_t target = val(x, "response")->u;
	if (referenced(x, target, &en, "response"))
		return -1;
	if ((en.kind_len != 8 || memcmp(en.kind, "response", 8) != 0) &&
	    (en.kind_len != 6 || memcmp(en.kind, "accept", 6) != 0))
		return refuse(x, "entry %llu is %s %.*s, not a response or an accept", (unsigned long long)target,
			      text_article(en.kind, en.kind_len), (int)en.kind_len, en.kind);
	struct key k;
	key_init(&k, 'u', x->in->project, x->in->project_len);
	key_u64(&k, target);
	if (kv_del(x->t, k.b, k.n, x->e))
		return -1;
	evidence_key(x, target, x->in->seq, &k);
	return kv_put(x->t, k.b, k.n, "", 0, x->e);
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
	int found = mp_map_find(ev->body, ev->body_len, "response", &c, x->e);
	if (found == 0)
		return 0;	/* it answered nothing: voiding it changes no response */
	if (found != 1 || mp_get_uint(&c, &response, x->e))
		return refuse(x, "entry %llu: evidence with a malformed response", (unsigned long long)ev_seq);
	evidence_key(x, response, ev_seq, &k);
	if (kv_del(x->t, k.b, k.n, x->e))
		return -1;
	k.n -= 9;	/* the response's evidence records */
	if (kv_scan(x->t, k.b, k.n, found_one, &other, x->e) < 0 ||
	    referenced(x, response, &resp, "evidence"))
		return -1;
	if (other || mp_map_find(resp.body, resp.body_len, "evidence_sha256", &c, x->e) == 1 ||
	    mp_map_find(resp.body, resp.body_len, "on_behalf", &c, x->e) != 1 || mp_next(&c, &it, x->e) ||
	    it.type != MP_BOOL || !it.b)
		return 0;
	return unconfirmed_put(x, response);
}


/* Voiding a change withdraws it, unless it was approved. */
static int void_change(struct ctx *x, const struct entry *en, uint64_t target)
{
	struct mp_cur c;
	uint64_t number = 0;
	const char *cr;
	size_t crn;
	if (mp_map_find(en->body, en->body_len, "number", &c, x->e) != 1 || mp_get_str(&c, &cr, &crn, x->e))
		return refuse(x, "entry %llu: change without a number", (unsigned long long)target);
	for (size_t i = 3; i < crn; i++)
		number = number * 10 + (uint64_t)(cr[i] - '0');
	struct chg ch;
	struct key ck;
	if (load_change(x, number, &ch, &ck))
		return -1;
	bool approved = change_approved(&ch);
	if (approved)
		return refuse(x, "CR-%llu is %s: an approved change cannot be voided; correct it "
			      "(scopectl correct), or record a new change",
			      (unsigned long long)number, ch.status);
	snprintf(ch.status, sizeof ch.status, "withdrawn");
	return SAVE(x->t, &ck, CHG, &ch, x->e);
}

const struct kind KIND_change = { "change", &S_CHANGE, ROLE_LEAD | ROLE_CLIENT, false, false, k_change, void_change };
const struct kind KIND_assessment = { "assessment", &S_ASSESSMENT, ROLE_APPROVER, false, false, k_assessment, NULL };
const struct kind KIND_quote = { "quote", &S_QUOTE, ROLE_LEAD, false, false, k_quote, NULL };
const struct kind KIND_response = { "response", &S_RESPONSE, ROLE_CLIENT | ROLE_LEAD, false, false, k_response, NULL };
const struct kind KIND_evidence = { "evidence", &S_EVIDENCE, ROLE_CLIENT | ROLE_LEAD, false, false, k_evidence,
				    void_evidence };
