#include "amend.h"

#include <stdio.h>
#include <string.h>

#include "mp.h"

/* amendments and signatories */

static const char *const ACTIONS[] = { "add", "remove", NULL };

SCHEMA(AMD_LINE, "line", FLD("change", F_CR, true, 0, 0), FLD("amount_minor", F_UINT, true, 0, AMOUNT_MAX));
SCHEMA(S_AMENDMENT, "amendment",
       ASSIGNED("number", F_AMD), ARRM("lines", true, 1, 100, &AMD_LINE),
       FLD("title", F_STR, false, 1, 200), FLD("effective", F_DATE, false, 0, 0),
       ARRM("documents", false, 0, 10, &SCHEMA_DOC));
SCHEMA(S_SIGNATORY, "signatory",
       ENUMF("action", true, ACTIONS), FLD("name", F_STR, true, 1, 40), FLD("title", F_STR, false, 1, 100),
       FLD("limit_minor", F_UINT, false, 0, AMOUNT_MAX), FLD("reason", F_STR, false, 1, 4096));

static bool approved_like(const char *st)
{
	return !strcmp(st, "approved") || !strcmp(st, "approved_no_charge") || !strcmp(st, "partly_invoiced") ||
	       !strcmp(st, "invoiced") || !strcmp(st, "paid");
}

static void amd_key(struct ctx *x, uint64_t number, struct key *k)
{
	key_init(k, 'a', x->in->project, x->in->project_len);
	key_u64(k, number);
}

static void line_key(struct ctx *x, uint64_t number, uint64_t cr, struct key *k)
{
	key_init(k, 'n', x->in->project, x->in->project_len);
	key_u64(k, number);
	key_u64(k, cr);
}

static const char *amd_state_text(const struct amd *a)
{
	return strcmp(a->state, "signed") == 0 ? "signed" : "still awaiting its answer";
}

static int k_amendment(struct ctx *x)
{
	struct {
		uint64_t cr, amount;
		struct chg c;
		struct key k;
	} lines[100];
	uint32_t n = 0, count;
	struct amd a;
	memset(&a, 0, sizeof a);
	a.number = x->proj.amendments + 1;
	const struct value *lv = val(x, "lines");
	struct mp_cur c;
	mp_cur_init(&c, lv->p, lv->plen);
	mp_get_array(&c, &count, x->e);
	_Static_assert(100 * AMOUNT_MAX <= INT64_MAX, "an amendment total fits");
	for (uint32_t i = 0; i < count; i++, n++) {
		const uint8_t *start = c.p;
		struct value lvals[2];
		mp_skip(&c, 4, x->e);
		schema_read(&AMD_LINE, start, (size_t)(c.p - start), lvals, x->e);	/* checked with the body */
		lines[n].cr = lvals[0].u;
		lines[n].amount = lvals[1].u;
		for (uint32_t j = 0; j < n; j++)
			if (lines[j].cr == lines[n].cr)
				return refuse(x, "CR-%llu is listed twice: an amendment lists each change once",
					      (unsigned long long)lines[n].cr);
		struct chg *ch = &lines[n].c;
		if (load_change(x, lines[n].cr, ch, &lines[n].k))
			return -1;
		if (!approved_like(ch->status))
			return refuse(x, "CR-%llu is %s: only an approved change is put in an amendment",
				      (unsigned long long)lines[n].cr, ch->status);
		if (ch->amendment) {
			struct amd held;
			struct key hk;
			amd_key(x, ch->amendment, &hk);
			if (LOAD(x->t, &hk, AMD, &held, x->e) != 1)
				return refuse(x, "CR-%llu names AMD-%llu, which does not exist",
					      (unsigned long long)lines[n].cr, (unsigned long long)ch->amendment);
			return refuse(x, "CR-%llu is already in AMD-%llu (%s)", (unsigned long long)lines[n].cr,
				      (unsigned long long)ch->amendment, amd_state_text(&held));
		}
		if (lines[n].amount != ch->approved)
			return refuse(x, "CR-%llu: the line binds %llu but the change's approved total is %llu; "
				      "an amendment binds each change at its approved total",
				      (unsigned long long)lines[n].cr, (unsigned long long)lines[n].amount,
				      (unsigned long long)ch->approved);
		a.total += lines[n].amount;
	}
	a.seq = x->in->seq;
	snprintf(a.state, sizeof a.state, "awaiting");
	if (has(x, "effective"))
		snprintf(a.effective, sizeof a.effective, "%.10s", val(x, "effective")->s);
	struct key k;
	amd_key(x, a.number, &k);
	if (SAVE(x->t, &k, AMD, &a, x->e))
		return -1;
	for (uint32_t j = 0; j < n; j++) {
		uint8_t amt[8];
		for (int b = 0; b < 8; b++)
			amt[b] = (uint8_t)(lines[j].amount >> (56 - 8 * b));
		lines[j].c.amendment = a.number;
		line_key(x, a.number, lines[j].cr, &k);
		if (SAVE(x->t, &lines[j].k, CHG, &lines[j].c, x->e) || kv_put(x->t, k.b, k.n, amt, 8, x->e))
			return -1;
	}
	x->add_name = "number";
	x->add_type = F_AMD;
	x->add_u = a.number;
	x->proj.amendments = a.number;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

/* ---- answering an amendment ---- */

struct answer {
	struct ctx *x;
	uint64_t number;
	bool check;	/* first pass: every change still at the bound amount */
	bool approved;
};

static int answer_line(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct answer *an = ctx;
	struct ctx *x = an->x;
	uint64_t cr = 0, amount = 0;
	(void)e;
	if (kn < 8 || vn != 8)
		return refuse(x, "AMD-%llu: a line record is damaged (run scoped reindex)",
			      (unsigned long long)an->number);
	for (size_t i = kn - 8; i < kn; i++)
		cr = cr << 8 | k[i];
	for (size_t i = 0; i < 8; i++)
		amount = amount << 8 | v[i];
	struct chg c;
	struct key ck;
	if (load_change(x, cr, &c, &ck))
		return -1;
	if (an->check)
		return an->approved && c.approved != amount
			       ? refuse(x, "CR-%llu's approved total is now %llu, not the %llu AMD-%llu binds: "
					"AMD-%llu can no longer be signed; reject it and put the change in a new amendment",
					(unsigned long long)cr, (unsigned long long)c.approved,
					(unsigned long long)amount, (unsigned long long)an->number,
					(unsigned long long)an->number)
			       : 0;
	if (an->approved)
		c.amended = true;
	else
		c.amendment = 0;
	return SAVE(x->t, &ck, CHG, &c, x->e);
}

int amendment_answer(struct ctx *x, uint64_t number, bool approved, bool rejected)
{
	struct amd a;
	struct key k;
	amd_key(x, number, &k);
	int rc = LOAD(x->t, &k, AMD, &a, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "AMD-%llu does not exist in project %.*s", (unsigned long long)number, P(x));
	if (strcmp(a.state, "awaiting") != 0)
		return refuse(x, "AMD-%llu is already answered (%s, entry %llu): an amendment is answered once",
			      (unsigned long long)number, a.state, (unsigned long long)a.response_seq);
	if (!approved && !rejected)
		return refuse(x, "AMD-%llu: an amendment is approved (signed) or rejected; a revision is a new "
			      "amendment", (unsigned long long)number);
	char what[32];
	snprintf(what, sizeof what, "AMD-%llu", (unsigned long long)number);
	if (signatory_allows(x, approved, a.total, what))
		return -1;
	struct answer an = { x, number, true, approved };
	struct key lk;
	key_init(&lk, 'n', x->in->project, x->in->project_len);
	key_u64(&lk, number);
	if (kv_scan(x->t, lk.b, lk.n, answer_line, &an, x->e) < 0)
		return -1;
	an.check = false;
	if (kv_scan(x->t, lk.b, lk.n, answer_line, &an, x->e) < 0)
		return -1;
	snprintf(a.state, sizeof a.state, approved ? "signed" : "rejected");
	a.response_seq = x->in->seq;
	return SAVE(x->t, &k, AMD, &a, x->e) || response_in_force(x, what, 0);
}

/* ---- the signatory register ---- */

static void sig_key(struct ctx *x, const char *name, size_t n, struct key *k)
{
	key_init(k, 'g', x->in->project, x->in->project_len);
	key_str(k, name, n);
}

struct names {
	char list[512];
	size_t n;
};

static int name_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v, (void)vn, (void)e;
	struct names *nm = ctx;
	const uint8_t *name = memchr(k + 2, 0, kn - 2);
	size_t len = name ? (size_t)(k + kn - name - 1) : 0, used = strlen(nm->list);
	if (name == NULL)
		return 0;
	if (used + len + 8 >= sizeof nm->list) {
		if (!strstr(nm->list, "..."))
			snprintf(nm->list + used, sizeof nm->list - used, ", ...");
		return 0;
	}
	snprintf(nm->list + used, sizeof nm->list - used, "%s%.*s", nm->n++ ? ", " : "", (int)len, name + 1);
	return 0;
}

int signatory_allows(struct ctx *x, bool approving, uint64_t total, const char *what)
{
	if (x->proj.signatories == 0)
		return 0;
	const struct value *who = val(x, "respondent");
	struct sig s;
	struct key k;
	int rc = state_signatory(x->t, x->in->project, x->in->project_len, who->s, who->len, &s, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		struct names nm = { "", 0 };
		key_init(&k, 'g', x->in->project, x->in->project_len);
		k.b[k.n++] = 0;
		if (kv_scan(x->t, k.b, k.n, name_one, &nm, x->e) < 0)
			return -1;
		return refuse(x, "%.*s is not on project %.*s's signatory register (%s); add them with scopectl "
			      "signatory add -p %.*s NAME --title TEXT", (int)who->len, who->s, P(x),
			      nm.n ? nm.list : "nobody is on it now", P(x));
	}
	char lim[MONEY_MAX], tot[MONEY_MAX];
	if (approving && s.has_limit && total > s.limit)
		return refuse(x, "%.*s may approve up to %s (their limit on the signatory register); %s totals %s",
			      (int)who->len, who->s, money(x, s.limit, lim), what, money(x, total, tot));
	return 0;
}

int response_in_force(struct ctx *x, const char *answered, uint64_t replaces)
{
	struct key k;
	struct resp r;
	const struct value *who = val(x, "respondent"), *decision = val(x, "decision");
	memset(&r, 0, sizeof r);
	r.seq = x->in->seq;
	snprintf(r.respondent, sizeof r.respondent, "%.*s", (int)who->len, who->s);
	snprintf(r.answered, sizeof r.answered, "%s", answered);
	snprintf(r.decision, sizeof r.decision, "%.*s", (int)decision->len, decision->s);
	if (replaces) {
		key_init(&k, 'r', x->in->project, x->in->project_len);
		key_u64(&k, replaces);
		if (kv_del(x->t, k.b, k.n, x->e))
			return -1;
	}
	key_init(&k, 'r', x->in->project, x->in->project_len);
	key_u64(&k, x->in->seq);
	return SAVE(x->t, &k, RESP, &r, x->e);
}

static int k_signatory(struct ctx *x)
{
	const struct value *name = val(x, "name"), *action = val(x, "action");
	bool add = action->len == 3;
	struct sig s;
	struct key k;
	sig_key(x, name->s, name->len, &k);
	int rc = LOAD(x->t, &k, SIG, &s, x->e);
	if (rc < 0)
		return -1;
	if (!add) {
		if (rc == 0)
			return refuse(x, "%.*s is not on project %.*s's signatory register", (int)name->len, name->s,
				      P(x));
		if (has(x, "title") || has(x, "limit_minor"))
			return refuse(x, "removing a signatory takes only the name (and a reason)");
		return kv_del(x->t, k.b, k.n, x->e);
	}
	if (rc == 1)
		return refuse(x, "%.*s is already on project %.*s's signatory register (entry %llu); to change the "
			      "title or limit, remove them and add them again", (int)name->len, name->s, P(x),
			      (unsigned long long)s.seq);
	if (!has(x, "title"))
		return refuse(x, "a signatory needs a title (their position at the client)");
	if (has(x, "reason"))
		return refuse(x, "a reason is given when removing a signatory, not when adding one");
	const struct value *title = val(x, "title");
	memset(&s, 0, sizeof s);
	s.seq = x->in->seq;
	s.has_limit = has(x, "limit_minor");
	s.limit = s.has_limit ? val(x, "limit_minor")->u : 0;
	snprintf(s.title, sizeof s.title, "%.*s", (int)title->len, title->s);
	if (SAVE(x->t, &k, SIG, &s, x->e))
		return -1;
	x->proj.signatories++;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

const struct kind KIND_amendment = { "amendment", &S_AMENDMENT, ROLE_LEAD, false, false, k_amendment, NULL };
const struct kind KIND_signatory = { "signatory", &S_SIGNATORY, ROLE_LEAD | ROLE_ADMIN, false, false, k_signatory,
				     NULL };
