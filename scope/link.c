#include "link.h"

#include <stdio.h>
#include <string.h>

#include "enc.h"
#include "kinds.h"
#include "mp.h"

/* the client's links (LNK-N): one person's single-use way to answer one
 * item through the portal, or to read the project's record; their
 * revocation; and what answering through one, and superseding one, means */

#define DAY_US 86400000000ull
#define ITEM_DAYS_MAX 90	/* an item link lives at most this long */
#define PROJECT_DAYS_MAX 400	/* a project link */

#define RU(f) { #f, R_U64, offsetof(struct lnk, f), 0 }
#define RS(f) { #f, R_STR, offsetof(struct lnk, f), sizeof(((struct lnk *)0)->f) }
const struct rfield LNK[] = { RU(seq), RU(number), RU(expires_at), RU(item), RU(quote), RU(used_seq),
			      RU(revoke_seq), RU(superseded_seq), RS(what), RS(to), RS(token) };
const size_t LNK_N = sizeof LNK / sizeof LNK[0];

/* what a link may be for; each but project names the field of its item */
static const char *const FOR[] = { "change", "baseline", "amendment", "notice", "delivery", "project", NULL };
#define ITEM_KINDS 5

SCHEMA(S_LINK, "link",
       ASSIGNED("number", F_LNK), ENUMF("for", true, FOR),
       FLD("change", F_CR, false, 0, 0), FLD("quote", F_UINT, false, 1, UINT32_MAX),
       FLD("baseline", F_UINT, false, 1, UINT32_MAX), FLD("amendment", F_AMD, false, 0, 0),
       FLD("notice", F_NTC, false, 0, 0), FLD("delivery", F_DLV, false, 0, 0),
       FLD("to", F_STR, true, 1, 200), FLD("expires_at", F_UINT, true, 0, UINT64_MAX),
       FLD("token_sha256", F_SHA256, true, 0, 0));
SCHEMA(S_REVOKE, "revoke", FLD("link", F_LNK, true, 0, 0), FLD("reason", F_STR, false, 1, 4096));

/* ---- the records ---- */

static void lnk_key(const char *project, size_t plen, uint64_t number, struct key *k)
{
	key_init(k, 'q', project, plen);
	key_u64(k, number);
}

static void token_key(const uint8_t sha[32], struct key *k)
{
	key_init(k, 'j', "", 0);
	key_str(k, (const char *)sha, 32);
}

int link_load(struct scope_kv *kv, const char *project, size_t plen, uint64_t number, struct lnk *out,
	      struct err *e)
{
	struct key k;
	if (plen > ENTRY_PROJECT_MAX)
		return 0;
	lnk_key(project, plen, number, &k);
	return LOAD(kv, &k, LNK, out, e);
}

int link_by_token(struct scope_kv *kv, const uint8_t token_sha256[32], char project[ENTRY_PROJECT_MAX],
		  size_t *plen, struct lnk *out, struct err *e)
{
	struct key k;
	const uint8_t *v;
	size_t vn;
	token_key(token_sha256, &k);
	int rc = kv_get(kv, k.b, k.n, &v, &vn, e);
	if (rc != 1)
		return rc;
	if (vn < 8 || vn - 8 > ENTRY_PROJECT_MAX)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a link token record is damaged (run scoped reindex)");
	uint64_t number = 0;
	for (size_t i = vn - 8; i < vn; i++)
		number = number << 8 | v[i];
	*plen = vn - 8;
	memcpy(project, v, *plen);
	rc = link_load(kv, project, *plen, number, out, e);
	if (rc == 0)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a link token names a missing link (run scoped reindex)");
	return rc;
}

const char *link_state(const struct lnk *l, uint64_t now_us)
{
	if (l->revoke_seq)
		return "revoked";
	if (l->used_seq)
		return "used";
	if (l->superseded_seq)
		return "superseded";
	return now_us >= l->expires_at ? "expired" : "open";
}

bool link_gone(const struct lnk *l, uint64_t now_us)
{
	return l->revoke_seq != 0 || (strcmp(l->what, "project") == 0 && now_us >= l->expires_at);
}

/* ---- recording a link ---- */

/* The item the link names can be answered now. */
static int answerable(struct ctx *x, const char *what, uint64_t item)
{
	struct key k;
	if (strcmp(what, "change") == 0) {
		struct chg c;
		uint64_t quote = has(x, "quote") ? val(x, "quote")->u : 0;
		if (load_change(x, item, &c, &k))
			return -1;
		if (strcmp(c.status, "quoted") != 0)
			return refuse(x, "CR-%llu is %s: a link answers an open quote, and it has none",
				      (unsigned long long)item, c.status);
		if (quote != c.quote_rev)
			return refuse(x, "quote revision %llu of CR-%llu is not the current one (%llu): a link answers "
				      "the current revision", (unsigned long long)quote, (unsigned long long)item,
				      (unsigned long long)c.quote_rev);
		return 0;
	}
	if (strcmp(what, "baseline") == 0) {
		struct base b;
		if (item != x->proj.baseline)
			return refuse(x, "baseline version %llu is not the current one (%llu)", (unsigned long long)item,
				      (unsigned long long)x->proj.baseline);
		key_init(&k, 'b', x->in->project, x->in->project_len);
		key_u64(&k, item);
		int rc = LOAD(x->t, &k, BASE, &b, x->e);
		if (rc <= 0)
			return rc ? -1 : refuse(x, "baseline version %llu does not exist", (unsigned long long)item);
		return b.confirmed ? refuse(x, "baseline version %llu is already confirmed", (unsigned long long)item)
				   : 0;
	}
	if (strcmp(what, "amendment") == 0) {
		struct amd a;
		key_init(&k, 'a', x->in->project, x->in->project_len);
		key_u64(&k, item);
		int rc = LOAD(x->t, &k, AMD, &a, x->e);
		if (rc <= 0)
			return rc ? -1 : refuse(x, "AMD-%llu does not exist in project %.*s", (unsigned long long)item, P(x));
		return strcmp(a.state, "awaiting") ? refuse(x, "AMD-%llu is already answered (%s, entry %llu)",
							    (unsigned long long)item, a.state,
							    (unsigned long long)a.response_seq)
						    : 0;
	}
	if (strcmp(what, "notice") == 0) {
		struct ntc n;
		key_init(&k, 't', x->in->project, x->in->project_len);
		key_u64(&k, item);
		int rc = LOAD(x->t, &k, NTC, &n, x->e);
		if (rc <= 0)
			return rc ? -1 : refuse(x, "NTC-%llu does not exist in project %.*s", (unsigned long long)item, P(x));
		return n.response_seq ? refuse(x, "NTC-%llu is already answered (%s, entry %llu)",
					       (unsigned long long)item, n.state, (unsigned long long)n.response_seq)
				      : 0;
	}
	struct dlv d;
	key_init(&k, 'd', x->in->project, x->in->project_len);
	key_u64(&k, item);
	int rc = LOAD(x->t, &k, DLV, &d, x->e);
	if (rc <= 0)
		return rc ? -1 : refuse(x, "DLV-%llu does not exist in project %.*s", (unsigned long long)item, P(x));
	if (strcmp(d.outcome, "open") != 0)
		return refuse(x, "DLV-%llu already has its outcome (%s, entry %llu)", (unsigned long long)item,
			      d.outcome, (unsigned long long)d.outcome_seq);
	return x->in->time_us >= d.deadline_us
		       ? refuse(x, "DLV-%llu's inspection deadline has passed", (unsigned long long)item)
		       : 0;
}

static int signatory_named(struct ctx *x, const struct value *to)
{
	if (x->proj.signatories == 0)
		return 0;
	int rc = state_signatory(x->t, x->in->project, x->in->project_len, to->s, to->len, NULL, x->e);
	if (rc < 0)
		return -1;
	return rc ? 0 : refuse(x, "%.*s is not on project %.*s's signatory register: a link is for one signatory "
			       "(scopectl signatory add -p %.*s NAME --title TEXT)", (int)to->len, to->s, P(x), P(x));
}

static int k_link(struct ctx *x)
{
	const struct value *what = val(x, "for"), *to = val(x, "to"), *tok = val(x, "token_sha256");
	uint64_t expires = val(x, "expires_at")->u, by;
	bool project = what->len == 7 && memcmp(what->s, "project", 7) == 0;
	const char *name = NULL;
	int named = 0;
	for (size_t i = 0; i < ITEM_KINDS; i++)
		if (has(x, FOR[i])) {
			named++;
			if (strlen(FOR[i]) == what->len && memcmp(FOR[i], what->s, what->len) == 0)
				name = FOR[i];
		}
	if (project ? named != 0 : (named != 1 || name == NULL))
		return refuse(x, project ? "a project link names no item" : "a %.*s link names exactly its %.*s and "
			      "no other item", (int)what->len, what->s, (int)what->len, what->s);
	if (has(x, "quote") != (name && strcmp(name, "change") == 0))
		return refuse(x, "a change link names the quote revision it answers (quote); no other link does");
	uint64_t days = project ? PROJECT_DAYS_MAX : ITEM_DAYS_MAX;
	if (expires <= x->in->time_us || expires - x->in->time_us > days * DAY_US)
		return refuse(x, "expires_at must be after the link is recorded and at most %llu days later for %s link",
			      (unsigned long long)days, project ? "a project" : "an item");
	int rc = project ? 0 : project_closure(x, &by);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "project %.*s was closed by entry %llu: its items are no longer answered (a project "
			      "link still shows its record)", P(x), (unsigned long long)by);
	uint64_t item = name ? val(x, name)->u : 0;
	if (name && (answerable(x, name, item) || signatory_named(x, to)))
		return -1;
	uint8_t sha[32];
	struct key k;
	const uint8_t *v;
	size_t vn;
	hex_decode(tok->s, tok->len, sha, sizeof sha);
	token_key(sha, &k);
	rc = kv_get(x->t, k.b, k.n, &v, &vn, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "token_sha256 is already a link's: every link has its own random token");
	struct lnk l;
	memset(&l, 0, sizeof l);
	l.seq = x->in->seq;
	l.number = x->proj.links + 1;
	l.expires_at = expires;
	l.item = item;
	l.quote = has(x, "quote") ? val(x, "quote")->u : 0;
	snprintf(l.what, sizeof l.what, "%.*s", (int)what->len, what->s);
	snprintf(l.to, sizeof l.to, "%.*s", (int)to->len, to->s);
	snprintf(l.token, sizeof l.token, "%.*s", (int)tok->len, tok->s);
	uint8_t ref[ENTRY_PROJECT_MAX + 8];
	memcpy(ref, x->in->project, x->in->project_len);
	for (int i = 0; i < 8; i++)
		ref[x->in->project_len + (size_t)i] = (uint8_t)(l.number >> (56 - 8 * i));
	if (kv_put(x->t, k.b, k.n, ref, x->in->project_len + 8, x->e))
		return -1;
	lnk_key(x->in->project, x->in->project_len, l.number, &k);
	if (SAVE(x->t, &k, LNK, &l, x->e))
		return -1;
	x->add_name = "number";
	x->add_type = F_LNK;
	x->add_u = l.number;
	x->proj.links = l.number;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

static int k_revoke(struct ctx *x)
{
	struct lnk l;
	struct key k;
	uint64_t number = val(x, "link")->u;
	int rc = link_load(x->t, x->in->project, x->in->project_len, number, &l, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "LNK-%llu does not exist in project %.*s", (unsigned long long)number, P(x));
	if (l.revoke_seq)
		return refuse(x, "LNK-%llu is already revoked (entry %llu)", (unsigned long long)number,
			      (unsigned long long)l.revoke_seq);
	l.revoke_seq = x->in->seq;
	lnk_key(x->in->project, x->in->project_len, number, &k);
	return SAVE(x->t, &k, LNK, &l, x->e);
}

/* ---- answering through a link ---- */

static const char *const PORTAL_FIELDS[] = { "link", "address", "user_agent", "page_sha256", "page_lang" };
#define NPORTAL (sizeof PORTAL_FIELDS / sizeof PORTAL_FIELDS[0])

static bool is(const struct value *v, const char *s)
{
	return v && v->present && v->len == strlen(s) && memcmp(v->s, s, v->len) == 0;
}

/* With a signatory register: the signatory the link was made for is still
 * on it, and the answer names them and their title there, byte for byte
 * (the page prefills both from the register). */
static int signatory_answers(struct ctx *x, const struct lnk *l)
{
	const struct value *who = val(x, "respondent"), *title = val(x, "respondent_title");
	unsigned long long number = (unsigned long long)l->number;
	struct sig s;
	int rc = state_signatory(x->t, x->in->project, x->in->project_len, l->to, strlen(l->to), &s, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "LNK-%llu is for %s, who is not on project %.*s's signatory register now: the link "
			      "answers nothing (make a new link for a signatory on it: scopectl link create)", number,
			      l->to, P(x));
	if (strlen(l->to) != who->len || memcmp(l->to, who->s, who->len) != 0)
		return refuse(x, "LNK-%llu is for %s: the signatory it was made for answers through it, not %.*s",
			      number, l->to, (int)who->len, who->s);
	bool same = has(x, "respondent_title") && strlen(s.title) == title->len &&
		    memcmp(s.title, title->s, title->len) == 0;
	if (!same)
		return refuse(x, "LNK-%llu is for %s, whose title on project %.*s's signatory register is \"%s\": the "
			      "answer gives that title exactly, not \"%.*s\"", number, l->to, P(x), s.title,
			      has(x, "respondent_title") ? (int)title->len : 0, has(x, "respondent_title") ? title->s : "");
	return 0;
}

int link_answer(struct ctx *x)
{
	size_t given = 0;
	for (size_t i = 0; i < NPORTAL; i++)
		given += has(x, PORTAL_FIELDS[i]);
	bool portal = is(val(x, "channel"), "portal");
	if (given == 0 && !portal)
		return 0;
	size_t an = strlen(DOMAIN_DAEMON_AUTHOR);
	if (x->in->author_len != an || memcmp(x->in->author, DOMAIN_DAEMON_AUTHOR, an) != 0)
		return refuse(x, "channel portal and the fields link, address, user_agent, page_sha256 and page_lang "
			      "are recorded only by scoped's client portal, when the client answers through a link; "
			      "record an answer given by other means with its own channel and without them");
	if (given != NPORTAL || !portal)
		return refuse(x, "an answer through a link has channel portal, link, address, user_agent, page_sha256 "
			      "and page_lang together");
	uint64_t number = val(x, "link")->u;
	struct lnk l;
	int rc = link_load(x->t, x->in->project, x->in->project_len, number, &l, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "LNK-%llu does not exist in project %.*s", (unsigned long long)number, P(x));
	const char *st = link_state(&l, x->in->time_us);
	if (strcmp(st, "open") != 0)
		return refuse(x, "LNK-%llu is %s: it answers nothing now", (unsigned long long)number, st);
	/* exactly its item: the field that names it, nothing else, the same number */
	bool match = strcmp(l.what, "project") != 0 && has(x, l.what) && val(x, l.what)->u == l.item;
	for (size_t i = 0; i < ITEM_KINDS; i++)
		match = match && (strcmp(FOR[i], l.what) == 0 || !has(x, FOR[i]));
	match = match && !has(x, "agreement") && (strcmp(l.what, "change") != 0 || (has(x, "quote") &&
										 val(x, "quote")->u == l.quote));
	if (!match) {
		if (strcmp(l.what, "project") == 0)
			return refuse(x, "LNK-%llu is a project link: it shows the record and answers nothing",
				      (unsigned long long)number);
		return refuse(x, "LNK-%llu is for %s %llu%s%.0llu, and answers nothing else", (unsigned long long)number,
			      l.what, (unsigned long long)l.item, l.quote ? " quote revision " : "",
			      (unsigned long long)l.quote);
	}
	if (x->proj.signatories && signatory_answers(x, &l))
		return -1;
	struct key k;
	l.used_seq = x->in->seq;
	lnk_key(x->in->project, x->in->project_len, number, &k);
	return SAVE(x->t, &k, LNK, &l, x->e);
}

/* ---- superseding ---- */

struct sup {
	struct ctx *x;
	const char *what;
	uint64_t item;
};

static int supersede_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct sup *s = ctx;
	struct lnk l;
	struct key key;
	if (rec_unpack(LNK, LNK_N, v, vn, &l, e))
		return -1;
	if (strcmp(l.what, s->what) != 0 || l.item != s->item || strcmp(link_state(&l, s->x->in->time_us), "open"))
		return 0;
	l.superseded_seq = s->x->in->seq;
	if (kn > sizeof key.b)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a link record's key is damaged");
	memcpy(key.b, k, kn);
	key.n = kn;
	return SAVE(s->x->t, &key, LNK, &l, e);
}

int link_supersede(struct ctx *x, const char *what, uint64_t item)
{
	struct sup s = { x, what, item };
	struct key k;
	key_init(&k, 'q', x->in->project, x->in->project_len);
	k.b[k.n++] = 0;
	return kv_scan(x->t, k.b, k.n, supersede_one, &s, x->e) < 0 ? -1 : 0;
}

/* The item field (of type t) of a stored body into *item: 1, or 0 if none. */
static int body_ref(const struct entry *en, const char *field, enum field_type t, uint64_t *item)
{
	struct mp_cur c;
	struct value v;
	struct field f = { field, t, false, false, 1, UINT32_MAX, NULL, NULL, 0 };
	if (mp_map_find(en->body, en->body_len, field, &c, NULL) != 1)
		return 0;
	const uint8_t *start = c.p;
	if (mp_skip(&c, 1, NULL) || schema_check_value(&f, start, (size_t)(c.p - start), &v, field, NULL))
		return 0;
	*item = v.u;
	return 1;
}

int link_supersede_entry(struct ctx *x, const struct entry *target)
{
	static const struct { const char *field; enum field_type t; } ITEM[ITEM_KINDS] = {
		{ "change", F_CR }, { "baseline", F_UINT }, { "amendment", F_AMD }, { "notice", F_NTC },
		{ "delivery", F_DLV },
	};
	/* the entries that answer or price an item name it by its field */
	static const char *const ABOUT[] = { "assessment", "quote", "response", "accept" };
	uint64_t item;
	for (size_t i = 0; i < ITEM_KINDS; i++)
		if (strlen(FOR[i]) == target->kind_len && memcmp(FOR[i], target->kind, target->kind_len) == 0)
			return body_ref(target, i == 1 ? "version" : "number", ITEM[i].t, &item)
				       ? link_supersede(x, FOR[i], item) : 0;
	for (size_t a = 0; a < sizeof ABOUT / sizeof ABOUT[0]; a++)
		if (strlen(ABOUT[a]) == target->kind_len && memcmp(ABOUT[a], target->kind, target->kind_len) == 0)
			for (size_t i = 0; i < ITEM_KINDS; i++)
				if (body_ref(target, ITEM[i].field, ITEM[i].t, &item))
					return link_supersede(x, FOR[i], item);
	return 0;
}

const struct kind KIND_link = { "link", &S_LINK, ROLE_LEAD | ROLE_ADMIN, false, false, k_link, NULL };
const struct kind KIND_revoke = { "revoke", &S_REVOKE, ROLE_LEAD | ROLE_ADMIN, false, false, k_revoke, NULL };
