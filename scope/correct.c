#include "kinds.h"

#include <stdio.h>
#include <string.h>

#include "isotime.h"
#include "mp.h"
#include "text.h"

/* correction: fields of an earlier entry superseded, and what that does to
 * the state */

SCHEMA(S_CORRECTION, "correction",
       FLD("target", F_UINT, true, 0, UINT64_MAX), FLD("reason", F_STR, true, 1, 4096),
       { "set", F_MAP, true, false, 1, 16, NULL, NULL, 0 });

/* The one list of what may be corrected, per kind; every other field of a
 * kind is refused, with the reason in FIXED when there is a particular one.
 * Fields the ledger assigns never change. */
static const struct {
	const char *kind;
	const char *const fields[12];
} CORRECTABLE[] = {
	{ "project",
	  { "client", "title", "amount_minor", "vendor_lead", "client_lead", "acceptance_days", "payment_days" } },
	{ "baseline", { "rule", "documents" } },
	{ "change", { "title", "description", "raised_by", "channel", "occurred_at", "reason", "items", "proceeding" } },
	{ "assessment", { "class", "rationale", "cites" } },
	{ "quote", { "fee_minor", "tax_minor", "effort_hours", "effort_minutes", "schedule_days", "valid_until",
		     "documents" } },
	{ "response", { "respondent", "respondent_title", "channel", "reason", "evidence_sha256",
			"evidence_held_elsewhere" } },
	{ "evidence", { "description" } },
	{ "invoice", { "currency", "issued", "due" } },
	{ "payment", { "amount_minor", "date" } },
};

static const struct {
	const char *kind, *field, *why;
} FIXED[] = {
	{ "project", "currency", "every amount of the project is in it" },
	{ "project", "contract_type", "record it in a note, or cancel the project and create a new one" },
	{ "baseline", "items", "record a new baseline version instead" },
	{ "assessment", "change", "it is the change the assessment answers" },
	{ "quote", "change", "it is the change the quote answers" },
	{ "response", "change", "it is what the response answers" },
	{ "response", "quote", "it is what the response answers" },
	{ "response", "baseline", "it is what the response answers" },
	{ "response", "decision", "a decision is not corrected: record a new response" },
	{ "evidence", "response", "it is the response the evidence is for" },
	{ "evidence", "sha256", "it is the evidence itself: record new evidence" },
	{ "invoice", "number", "it is the invoice's identity" },
	{ "invoice", "lines", "cancel the invoice (scopectl invoice cancel) and issue a new one" },
	{ "payment", "invoice", "it is the invoice the payment pays" },
};

static bool correctable(const char *kind, const char *field, size_t n)
{
	for (size_t i = 0; i < sizeof CORRECTABLE / sizeof CORRECTABLE[0]; i++)
		if (strcmp(CORRECTABLE[i].kind, kind) == 0)
			for (const char *const *f = CORRECTABLE[i].fields; *f; f++)
				if (strlen(*f) == n && memcmp(*f, field, n) == 0)
					return true;
	return false;
}

static void correctable_list(const char *kind, char *out, size_t n)
{
	size_t w = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof CORRECTABLE / sizeof CORRECTABLE[0]; i++)
		if (strcmp(CORRECTABLE[i].kind, kind) == 0)
			for (const char *const *f = CORRECTABLE[i].fields; *f && w < n; f++) {
				int r = snprintf(out + w, n - w, "%s%s", w ? ", " : "", *f);
				w += r > 0 ? (size_t)r : 0;
			}
	if (out[0] == '\0')
		snprintf(out, n, "none");
}

/* One field of the set: correctable for the target's kind, its value as
 * that field's own schema wants it. */
static int check_field(struct ctx *x, const struct kind *tk, const char *k, size_t kn, const uint8_t *vp,
		       size_t vn, struct value *v, const char **name)
{
	char kind[32];
	snprintf(kind, sizeof kind, "%s", tk->name);
	int fi = -1;
	for (size_t i = 0; i < tk->sc->n; i++)
		if (strlen(tk->sc->fields[i].name) == kn && memcmp(tk->sc->fields[i].name, k, kn) == 0)
			fi = (int)i;
	char list[256];
	correctable_list(kind, list, sizeof list);
	if (fi < 0)
		return refuse(x, "%s %s has no field \"%.*s\" (correctable: %s)", text_article(kind, strlen(kind)), kind,
			      (int)(kn > 40 ? 40 : kn), k, list);
	const struct field *f = &tk->sc->fields[fi];
	if (f->assigned)
		return refuse(x, "%s.%s is assigned by the ledger and never changes", kind, f->name);
	if (!correctable(kind, k, kn)) {
		for (size_t i = 0; i < sizeof FIXED / sizeof FIXED[0]; i++)
			if (strcmp(FIXED[i].kind, kind) == 0 && strcmp(FIXED[i].field, f->name) == 0)
				return refuse(x, "%s.%s is not corrected: %s", kind, f->name, FIXED[i].why);
		return refuse(x, "%s.%s is not corrected (correctable: %s)", kind, f->name, list);
	}
	char where[80];
	snprintf(where, sizeof where, "set.%s", f->name);
	*name = f->name;
	/* a payment recorded in error is corrected to 0 (a new one is still 1 or more) */
	struct field fc = *f;
	if (strcmp(kind, "payment") == 0 && strcmp(f->name, "amount_minor") == 0)
		fc.min = 0;
	return schema_check_value(&fc, vp, vn, v, where, x->e);
}

/* The value of field (of entry target, whose body is en's) as corrected by
 * the corrections recorded so far: the latest one wins. */
struct latest {
	struct ctx *x;
	const char *field;
	uint64_t u;
	bool found;
};

static int latest_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v, (void)vn;
	struct latest *l = ctx;
	uint64_t seq = 0;
	struct entry en;
	struct mp_cur c, s;
	if (kn < 8)
		return err_setc(e, SCOPE_E_CORRUPT, "correction record is damaged");
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | k[kn - 8 + (size_t)i];
	if (referenced(l->x, seq, &en, "correction"))
		return -1;
	if (mp_map_find(en.body, en.body_len, "set", &s, e) != 1)
		return err_setc(e, SCOPE_E_CORRUPT, "entry %llu: correction without a set", (unsigned long long)seq);
	if (mp_map_find(s.p, mp_left(&s), l->field, &c, e) == 1 && mp_get_uint(&c, &l->u, e) == 0)
		l->found = true;
	return 0;
}

static int current_u64(struct ctx *x, uint64_t target, const struct entry *en, const char *field, uint64_t *u)
{
	struct mp_cur c;
	struct key k;
	struct latest l = { x, field, 0, false };
	if (mp_map_find(en->body, en->body_len, field, &c, x->e) == 1 && mp_get_uint(&c, &l.u, x->e) == 0)
		l.found = true;
	key_init(&k, 'x', x->in->project, x->in->project_len);
	key_u64(&k, target);
	k.b[k.n++] = 0;
	if (kv_scan(x->t, k.b, k.n, latest_one, &l, x->e) < 0)
		return -1;
	*u = l.u;
	return 0;
}

static int str_of(struct ctx *x, const struct entry *en, const char *field, const char **s, size_t *n)
{
	struct mp_cur c;
	if (mp_map_find(en->body, en->body_len, field, &c, x->e) != 1 || mp_get_str(&c, s, n, x->e))
		return refuse(x, "entry %llu lacks %s", (unsigned long long)en->seq, field);
	return 0;
}

static int change_of(struct ctx *x, const struct entry *en, const char *field, struct chg *c, struct key *k)
{
	const char *cr;
	size_t n;
	uint64_t number = 0;
	if (str_of(x, en, field, &cr, &n))
		return -1;
	for (size_t i = 3; i < n; i++)
		number = number * 10 + (uint64_t)(cr[i] - '0');
	return load_change(x, number, c, k);
}

/* the new values, by field name */
struct fixes {
	const char *name[16];
	struct value v[16];
	uint32_t n;
};

static const struct value *fix(const struct fixes *f, const char *name)
{
	for (uint32_t i = 0; i < f->n; i++)
		if (strcmp(f->name[i], name) == 0)
			return &f->v[i];
	return NULL;
}

/* The invoices that bill change number, named into out; 0 if none. */
struct billed {
	uint64_t cr;
	char names[256];
	size_t n;
};

static int billed_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v, (void)vn, (void)e;
	struct billed *b = ctx;
	uint64_t cr = 0;
	if (kn < 9)
		return 0;
	for (int i = 0; i < 8; i++)
		cr = cr << 8 | k[kn - 8 + (size_t)i];
	const uint8_t *num = memchr(k + 2, 0, kn - 2);
	if (cr != b->cr || num == NULL)
		return 0;
	num++;
	int w = snprintf(b->names + strlen(b->names), sizeof b->names - strlen(b->names), "%s%.*s",
			 b->n ? ", " : "", (int)(k + kn - 9 - num), (const char *)num);
	(void)w;
	b->n++;
	return 0;
}

/* A closed or cancelled project's money and dates are settled: there its
 * entries are corrected only in what they say (titles, texts, names), never
 * in what they count. */
static int closed_money(struct ctx *x, const struct fixes *f)
{
	static const char *const COUNTED[] = { "amount_minor", "payment_days", "acceptance_days", "class", "fee_minor",
					       "tax_minor", "valid_until", "date", "issued", "due", "proceeding",
					       "items" };
	uint64_t by;
	int rc = project_closure(x, &by);
	if (rc <= 0)
		return rc;
	for (uint32_t i = 0; i < f->n; i++)
		for (size_t j = 0; j < sizeof COUNTED / sizeof COUNTED[0]; j++)
			if (strcmp(f->name[i], COUNTED[j]) == 0)
				return refuse(x, "project %.*s was closed by entry %llu: %s counts in its settled amounts "
					      "and dates and is not corrected after the closure (texts and names still are)",
					      P(x), (unsigned long long)by, f->name[i]);
	return 0;
}

static int fix_project(struct ctx *x, const struct fixes *f)
{
	const struct value *a = fix(f, "amount_minor"), *days = fix(f, "acceptance_days");
	const struct value *pdays = fix(f, "payment_days");
	char was[MONEY_MAX], now[MONEY_MAX];
	if (a == NULL && days == NULL && pdays == NULL)
		return 0;
	if (a && a->u < x->proj.contract_invoiced)
		return refuse(x, "a contract value of %s would be below the %s of it already invoiced (contract "
			      "lines); cancel those invoices first (scopectl invoice cancel)", money(x, a->u, now),
			      money(x, x->proj.contract_invoiced, was));
	struct key k;
	if (a)
		x->proj.amount = a->u;
	if (days) {	/* deliveries already recorded keep their deadlines */
		x->proj.acceptance_days = days->u;
		x->proj.acceptance_set = true;
	}
	if (pdays)
		x->proj.payment_days = pdays->u;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

static int fix_change(struct ctx *x, const struct entry *en, const struct fixes *f)
{
	struct chg c;
	struct key k;
	const struct value *v;
	if (change_of(x, en, "number", &c, &k))
		return -1;
	if ((v = fix(f, "occurred_at")) && v->u > x->in->time_us + 86400000000ull)
		return refuse(x, "set.occurred_at lies in the future");
	if ((v = fix(f, "items")) && check_items(x, v))
		return -1;
	if ((v = fix(f, "title")))
		snprintf(c.title, sizeof c.title, "%.*s", (int)v->len, v->s);
	if ((v = fix(f, "proceeding")))
		c.proceeding = v->u != 0;
	return SAVE(x->t, &k, CHG, &c, x->e);
}

static int fix_assessment(struct ctx *x, uint64_t target, const struct entry *en, const struct fixes *f)
{
	const struct value *cls = fix(f, "class");
	struct chg c;
	struct key k, ak;
	uint64_t in_force;
	if (cls == NULL)
		return 0;
	if (change_of(x, en, "change", &c, &k))
		return -1;
	key_init(&ak, 's', x->in->project, x->in->project_len);
	key_u64(&ak, c.number);
	int rc = state_get_seq(x->t, &ak, &in_force, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0 || in_force != target)
		return refuse(x, "entry %llu is no longer CR-%llu's assessment in force (entry %llu is): correct that one",
			      (unsigned long long)target, (unsigned long long)c.number,
			      (unsigned long long)(rc ? in_force : 0));
	if (strlen(c.cls) == cls->len && memcmp(c.cls, cls->s, cls->len) == 0)
		return 0;
	if (c.amendment)
		return refuse(x, "CR-%llu is in AMD-%llu (%s): its class is not corrected while an amendment binds it; "
			      "the remedy is a new change (or the amendment's rejection, while it awaits its answer)",
			      (unsigned long long)c.number, (unsigned long long)c.amendment,
			      c.amended ? "signed" : "awaiting its answer");
	if (c.invoiced > 0) {
		struct billed b = { c.number, "", 0 };
		key_init(&k, 'l', x->in->project, x->in->project_len);
		k.b[k.n++] = 0;
		if (kv_scan(x->t, k.b, k.n, billed_one, &b, x->e) < 0)
			return -1;
		return refuse(x, "CR-%llu is billed on invoice %s: its class is not corrected while an invoice depends "
			      "on it; cancel the invoice first (scopectl invoice cancel)",
			      (unsigned long long)c.number, b.names);
	}
	change_reclass(&c, cls->s, cls->len);
	return SAVE(x->t, &k, CHG, &c, x->e);
}

static int fix_quote(struct ctx *x, uint64_t target, const struct entry *en, const struct fixes *f)
{
	const struct value *fee = fix(f, "fee_minor"), *tax = fix(f, "tax_minor"), *until = fix(f, "valid_until");
	struct chg c;
	struct key k;
	if (!fee && !tax && !until)
		return 0;
	if (change_of(x, en, "change", &c, &k))
		return -1;
	if (c.quote_seq != target)
		return 0;	/* an earlier revision: what it says no longer counts */
	if (strcmp(c.status, "quoted") != 0)
		return refuse(x, "quote revision %llu of CR-%llu was answered (CR-%llu is %s): its fee, tax and validity "
			      "are what the client answered and are not corrected; the remedy is a new quote revision "
			      "(when one is asked for) or a new change", (unsigned long long)c.quote_rev,
			      (unsigned long long)c.number, (unsigned long long)c.number, c.status);
	if (until)	/* the open quote's expiry */
		snprintf(c.valid_until, sizeof c.valid_until, "%.*s", (int)until->len, until->s);
	if (fee)
		c.fee = fee->u;
	if (tax)
		c.tax = tax->u;
	return SAVE(x->t, &k, CHG, &c, x->e);
}

static int fix_response(struct ctx *x, uint64_t target, const struct fixes *f)
{
	struct key k;
	const struct value *who = fix(f, "respondent");
	if (who) {
		struct resp r;
		if (x->proj.signatories)
			return refuse(x, "project %.*s has a signatory register: who answered is checked against it when "
				      "the answer is recorded and is not corrected; record the answer of the right "
				      "person instead", P(x));
		key_init(&k, 'r', x->in->project, x->in->project_len);
		key_u64(&k, target);
		int rc = LOAD(x->t, &k, RESP, &r, x->e);
		if (rc < 0)
			return -1;
		if (rc == 1) {	/* the response in force names who gave it */
			snprintf(r.respondent, sizeof r.respondent, "%.*s", (int)who->len, who->s);
			if (SAVE(x->t, &k, RESP, &r, x->e))
				return -1;
		}
	}
	if (!fix(f, "evidence_sha256"))
		return 0;
	key_init(&k, 'u', x->in->project, x->in->project_len);
	key_u64(&k, target);
	return kv_del(x->t, k.b, k.n, x->e);
}

/* The invoice named by field of entry en, into *inv (its key in *k). */
static int invoice_of(struct ctx *x, const struct entry *en, const char *field, struct inv *inv, struct key *k,
		      const char **num, size_t *n)
{
	if (str_of(x, en, field, num, n))
		return -1;
	key_init(k, 'i', x->in->project, x->in->project_len);
	key_str(k, *num, *n);
	if (LOAD(x->t, k, INV, inv, x->e) != 1)
		return refuse(x, "invoice %.*s of entry %llu cannot be read", (int)*n, *num,
			      (unsigned long long)en->seq);
	return 0;
}

static int fix_payment(struct ctx *x, uint64_t target, const struct entry *en, const struct fixes *f)
{
	const struct value *a = fix(f, "amount_minor"), *date = fix(f, "date");
	const char *num;
	size_t n;
	uint64_t old;
	struct inv inv;
	struct key k;
	if (a == NULL && date == NULL)
		return 0;
	if (invoice_of(x, en, "invoice", &inv, &k, &num, &n))
		return -1;
	if (date && payment_date_check(x, date, &inv, num, n))
		return -1;
	if (a == NULL)
		return 0;
	if (current_u64(x, target, en, "amount_minor", &old))
		return -1;
	uint64_t paid = inv.paid - old + a->u;
	if (paid > inv.total)
		return refuse(x, "invoice %.*s would be paid %llu, above its total of %llu", (int)n, num,
			      (unsigned long long)paid, (unsigned long long)inv.total);
	bool was = inv.paid == inv.total, now = paid == inv.total;
	inv.paid = paid;
	if (SAVE(x->t, &k, INV, &inv, x->e))
		return -1;
	return was == now ? 0 : invoice_lines_paid(x, num, n, now);
}

/* An invoice's currency (the project's) and its dates: due not before
 * issued, issued not in the future; the invoice record takes them. */
static int fix_invoice(struct ctx *x, const struct entry *en, const struct fixes *f)
{
	const struct value *c = fix(f, "currency"), *issued = fix(f, "issued"), *due = fix(f, "due");
	const char *num;
	size_t n;
	struct inv inv;
	struct key k;
	if (c && (c->len != 3 || memcmp(c->s, x->proj.currency, 3) != 0))
		return refuse(x, "set.currency %.*s differs from the project's %s", (int)c->len, c->s, x->proj.currency);
	if (!issued && !due)
		return 0;
	if (invoice_of(x, en, "number", &inv, &k, &num, &n))
		return -1;
	if (issued && not_future(x, "the issue date", issued))
		return -1;
	if (issued)
		memcpy(inv.issued, issued->s, 10);
	if (due)
		memcpy(inv.due, due->s, 10);
	if (time_date_days(inv.due) < time_date_days(inv.issued))
		return refuse(x, "invoice %.*s: the due date %s would be before the issue date %s", (int)n, num, inv.due,
			      inv.issued);
	return SAVE(x->t, &k, INV, &inv, x->e);
}

/* What the client typed on the portal is theirs: an answer through a link
 * is not corrected, and no answer is corrected into one. */
static int portal_answer(struct ctx *x, const struct entry *en)
{
	struct mp_cur c;
	int rc = mp_map_find(en->body, en->body_len, "link", &c, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "entry %llu is the client's own answer through the portal: what the client gave is "
			      "not corrected; record a note, or a new link for a new answer", (unsigned long long)en->seq);
	const struct value *set = val(x, "set");
	struct mp_cur s;
	const char *ch;
	size_t n;
	rc = mp_map_find(set->p, set->plen, "channel", &s, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1 && mp_get_str(&s, &ch, &n, x->e) == 0 && n == 6 && memcmp(ch, "portal", 6) == 0)
		return refuse(x, "set.channel portal is recorded only by scoped's client portal, when the client "
			      "answers through a link");
	return 0;
}

static int k_correction(struct ctx *x)
{
	struct entry en;
	struct key k;
	uint64_t target = val(x, "target")->u, by;
	if (referenced(x, target, &en, "target"))
		return -1;
	key_init(&k, 'v', "", 0);
	key_u64(&k, target);
	int rc = state_get_seq(x->t, &k, &by, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "entry %llu was voided by entry %llu: a voided entry is not corrected",
			      (unsigned long long)target, (unsigned long long)by);
	if (en.kind_len == 10 && memcmp(en.kind, "correction", 10) == 0)
		return refuse(x, "entry %llu is a correction: a correction is not corrected; correct the original "
			      "entry again", (unsigned long long)target);
	const struct kind *tk = kind_find(en.kind, en.kind_len);
	if (tk == NULL)
		return refuse(x, "entry %llu is of an unknown kind", (unsigned long long)target);
	struct fixes f;
	memset(&f, 0, sizeof f);
	const struct value *set = val(x, "set");
	struct mp_cur c;
	mp_cur_init(&c, set->p, set->plen);
	mp_get_map(&c, &f.n, x->e);
	for (uint32_t i = 0; i < f.n; i++) {
		const char *name;
		size_t nn;
		mp_get_str(&c, &name, &nn, x->e);
		const uint8_t *vp = c.p;
		mp_skip(&c, 8, x->e);
		if (check_field(x, tk, name, nn, vp, (size_t)(c.p - vp), &f.v[i], &f.name[i]))
			return -1;
	}
	if (portal_answer(x, &en) || closed_money(x, &f))
		return -1;
	const char *kn = tk->name;
	if (strcmp(kn, "project") == 0)
		rc = fix_project(x, &f);
	else if (strcmp(kn, "change") == 0)
		rc = fix_change(x, &en, &f);
	else if (strcmp(kn, "assessment") == 0)
		rc = fix_assessment(x, target, &en, &f);
	else if (strcmp(kn, "quote") == 0)
		rc = fix_quote(x, target, &en, &f);
	else if (strcmp(kn, "response") == 0)
		rc = fix_response(x, target, &f);
	else if (strcmp(kn, "payment") == 0)
		rc = fix_payment(x, target, &en, &f);
	else if (strcmp(kn, "invoice") == 0)
		rc = fix_invoice(x, &en, &f);
	else
		rc = 0;	/* baseline, evidence: what they say, not the state */
	if (rc || link_supersede_entry(x, &en))
		return -1;
	key_init(&k, 'x', x->in->project, x->in->project_len);
	key_u64(&k, target);
	key_u64(&k, x->in->seq);
	return kv_put(x->t, k.b, k.n, "", 0, x->e);
}

/* Who may correct depends on the target's kind: checked where the author's
 * roles are known (the daemon's append, correction_writers); in replay the
 * recorded fact stands.  Every role that may record some kind is listed. */
const struct kind KIND_correction = { "correction", &S_CORRECTION,
				      ROLE_LEAD | ROLE_APPROVER | ROLE_FINANCE | ROLE_CLIENT | ROLE_ADMIN, false, false,
				      k_correction, NULL };
