#include "delivery.h"

#include <stdio.h>
#include <string.h>

#include "amend.h"
#include "isotime.h"
#include "kinds.h"
#include "mp.h"
#include "text.h"

/* deliveries, their inspection and deemed acceptance (検収) */

#define DAY_US 86400000000ull
/* A failure says what fails: at least this many characters. */
#define FAIL_REASON_MIN 30

static const char *const OUTCOMES[] = { "passed", "failed", NULL };

SCHEMA(S_DELIVERY, "delivery",
       ASSIGNED("number", F_DLV), FLD("deliverable", F_STR, true, 1, 200),
       ARRM("documents", false, 0, 10, &SCHEMA_DOC), ARRS("items", false, 0, 1000, F_ID),
       ARRS("changes", false, 0, 100, F_CR));
SCHEMA(S_ACCEPT, "accept",
       FLD("delivery", F_DLV, true, 0, 0), ENUMF("outcome", true, OUTCOMES), FLD("reason", F_STR, false, 1, 4096),
       FLD("respondent", F_STR, true, 1, 200), FLD("respondent_title", F_STR, false, 1, 200),
       ENUMF("channel", false, CHANNELS), FLD("evidence_sha256", F_SHA256, false, 0, 0),
       ASSIGNED("on_behalf", F_BOOL), FLD("evidence_held_elsewhere", F_BOOL, false, 0, 1), PORTAL_ANSWER_FIELDS);
SCHEMA(S_DEEMED, "deemed_passed", FLD("delivery", F_DLV, true, 0, 0), FLD("deadline_us", F_UINT, true, 0, UINT64_MAX));

static void dlv_key(struct ctx *x, uint64_t number, struct key *k)
{
	key_init(k, 'd', x->in->project, x->in->project_len);
	key_u64(k, number);
}

static void window_key(const char *project, size_t plen, uint64_t deadline, uint64_t number, struct key *k)
{
	key_init(k, 'w', "", 0);
	key_u64(k, deadline);
	key_u64(k, number);
	key_str(k, project, plen);
}

static void day_of(uint64_t us, char out[11])
{
	time_days_date((int64_t)(us / DAY_US), out);
}

static int k_delivery(struct ctx *x)
{
	if (!x->proj.acceptance_set)
		return refuse(x, "project %.*s names no inspection period: set it with scopectl correct -p %.*s "
			      "%llu --set acceptance_days=N --reason TEXT (N days from a delivery to its inspection "
			      "deadline)", P(x), P(x), (unsigned long long)x->proj.seq);
	if (x->proj.acceptance_days == 0)
		return refuse(x, "project %.*s gives the client 0 days to inspect a delivery: it would be deemed passed "
			      "at once; set at least 1 with scopectl correct -p %.*s %llu --set acceptance_days=N "
			      "--reason TEXT", P(x), P(x), (unsigned long long)x->proj.seq);
	if (check_items(x, val(x, "items")))
		return -1;
	const struct value *ch = val(x, "changes");
	if (ch->present) {
		struct mp_cur c;
		uint32_t n;
		mp_cur_init(&c, ch->p, ch->plen);
		mp_get_array(&c, &n, x->e);
		for (uint32_t i = 0; i < n; i++) {
			const char *s;
			size_t sn;
			uint64_t number = 0;
			struct chg chg;
			struct key ck;
			mp_get_str(&c, &s, &sn, x->e);
			for (size_t j = 3; j < sn; j++)
				number = number * 10 + (uint64_t)(s[j] - '0');
			if (load_change(x, number, &chg, &ck))
				return -1;
		}
	}
	struct dlv d;
	struct key k;
	memset(&d, 0, sizeof d);
	d.seq = x->in->seq;
	d.number = x->proj.deliveries + 1;
	d.delivered_at = x->in->time_us;
	d.deadline_us = x->in->time_us + x->proj.acceptance_days * DAY_US;
	snprintf(d.outcome, sizeof d.outcome, "open");
	const struct value *what = val(x, "deliverable");
	snprintf(d.deliverable, sizeof d.deliverable, "%.*s", (int)what->len, what->s);
	dlv_key(x, d.number, &k);
	if (SAVE(x->t, &k, DLV, &d, x->e))
		return -1;
	window_key(x->in->project, x->in->project_len, d.deadline_us, d.number, &k);
	if (kv_put(x->t, k.b, k.n, "", 0, x->e))
		return -1;
	x->add_name = "number";
	x->add_type = F_DLV;
	x->add_u = d.number;
	x->proj.deliveries = d.number;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

/* DLV-number of this project, still open at this entry's time, into *d. */
static int open_delivery(struct ctx *x, uint64_t number, struct dlv *d, struct key *k)
{
	dlv_key(x, number, k);
	int rc = LOAD(x->t, k, DLV, d, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "DLV-%llu does not exist in project %.*s", (unsigned long long)number, P(x));
	char day[11];
	day_of(d->deadline_us, day);
	if (strcmp(d->outcome, "deemed_passed") == 0) {
		char on[11];
		struct entry en;
		day_of(referenced(x, d->outcome_seq, &en, "deemed_passed") == 0 ? en.time_us : d->deadline_us, on);
		return refuse(x, "DLV-%llu was deemed passed by entry %llu on %s (its inspection deadline %s "
			      "passed with no outcome): it takes no other outcome",
			      (unsigned long long)number, (unsigned long long)d->outcome_seq, on, day);
	}
	if (strcmp(d->outcome, "open") != 0)
		return refuse(x, "DLV-%llu already has its outcome (%s, entry %llu): a delivery is inspected once; "
			      "a fixed delivery is a new delivery", (unsigned long long)number, d->outcome,
			      (unsigned long long)d->outcome_seq);
	return 0;
}

static int close_window(struct ctx *x, struct dlv *d, const struct key *k, const char *outcome)
{
	struct key wk;
	snprintf(d->outcome, sizeof d->outcome, "%s", outcome);
	d->outcome_seq = x->in->seq;
	window_key(x->in->project, x->in->project_len, d->deadline_us, d->number, &wk);
	return kv_del(x->t, wk.b, wk.n, x->e) || SAVE(x->t, k, DLV, d, x->e) ? -1 : 0;
}

static int k_accept(struct ctx *x)
{
	struct dlv d;
	struct key k;
	uint64_t number = val(x, "delivery")->u;
	const struct value *outcome = val(x, "outcome"), *reason = val(x, "reason");
	bool passed = outcome->len == 6 && memcmp(outcome->s, "passed", 6) == 0;
	if (link_answer(x) || open_delivery(x, number, &d, &k))
		return -1;
	if (x->in->time_us >= d.deadline_us) {
		char when[40];
		time_format(d.deadline_us, true, false, when);
		return refuse(x, "DLV-%llu's inspection deadline was %s (delivered with %llu days to inspect): "
			      "after it the delivery is deemed passed, as the contract provides, and takes no other "
			      "outcome", (unsigned long long)number, when, (unsigned long long)
			      ((d.deadline_us - d.delivered_at) / DAY_US));
	}
	if (!passed) {
		uint64_t chars = 0;
		for (size_t i = 0; reason->present && i < reason->len; i++)
			chars += ((unsigned char)reason->s[i] & 0xc0) != 0x80;
		if (chars < FAIL_REASON_MIN)
			return refuse(x, "a failed inspection needs a reason of at least %d characters that says "
				      "specifically what fails (which function, screen or document, and how)%s",
				      FAIL_REASON_MIN, reason->present ? "" : "; none was given");
	}
	char what[24];
	snprintf(what, sizeof what, "DLV-%llu", (unsigned long long)number);
	if (signatory_allows(x, false, 0, what) || mark_unconfirmed(x))
		return -1;
	return close_window(x, &d, &k, passed ? "passed" : "failed");
}

static int k_deemed(struct ctx *x)
{
	struct dlv d;
	struct key k;
	uint64_t number = val(x, "delivery")->u, deadline = val(x, "deadline_us")->u;
	size_t an = strlen(DOMAIN_DAEMON_AUTHOR);
	if (x->in->author_len != an || memcmp(x->in->author, DOMAIN_DAEMON_AUTHOR, an) != 0)
		return refuse(x, "deemed_passed entries are recorded by scoped itself when an inspection deadline "
			      "passes; record an inspection with scopectl accept");
	if (open_delivery(x, number, &d, &k))
		return -1;
	if (deadline != d.deadline_us)
		return refuse(x, "DLV-%llu's inspection deadline is %llu, not %llu", (unsigned long long)number,
			      (unsigned long long)d.deadline_us, (unsigned long long)deadline);
	if (x->in->time_us < deadline)
		return refuse(x, "DLV-%llu's inspection deadline has not passed yet", (unsigned long long)number);
	return close_window(x, &d, &k, "deemed_passed");
}

/* ---- what the daemon's timer needs ---- */

struct due {
	uint64_t now;
	size_t left;
	delivery_due_fn fn;
	void *ctx;
};

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int due_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v, (void)vn;
	struct due *d = ctx;
	/* 'w', NUL, "", NUL, deadline, NUL, number, NUL, project */
	if (kn < 2 + 9 + 9 + 2)
		return err_setc(e, SCOPE_E_CORRUPT, "an inspection deadline record is damaged (run scoped reindex)");
	uint64_t deadline = be64_at(k + 3), number = be64_at(k + 12);
	if (deadline > d->now || d->left == 0)
		return 1;	/* in deadline order: the rest are later */
	d->left--;
	return d->fn(d->ctx, (const char *)k + 21, kn - 21, number, deadline, e) ? -1 : 0;
}

int delivery_due(struct scope_kv *t, uint64_t now_us, size_t max, delivery_due_fn fn, void *ctx, struct err *e)
{
	struct due d = { now_us, max, fn, ctx };
	static const uint8_t W[3] = { 'w', 0, 0 };
	return kv_scan(t, W, sizeof W, due_one, &d, e) < 0 ? -1 : 0;
}

void delivery_deemed_body(uint64_t number, uint64_t deadline_us, struct buf *out)
{
	char ref[32];
	snprintf(ref, sizeof ref, "DLV-%llu", (unsigned long long)number);
	mp_pack_map(out, 2);
	mp_pack_cstr(out, "deadline_us");	/* canonical: keys in order */
	mp_pack_uint(out, deadline_us);
	mp_pack_cstr(out, "delivery");
	mp_pack_cstr(out, ref);
}

const struct kind KIND_delivery = { "delivery", &S_DELIVERY, ROLE_LEAD, false, false, k_delivery, NULL };
const struct kind KIND_accept = { "accept", &S_ACCEPT, ROLE_CLIENT | ROLE_LEAD, false, false, k_accept, NULL };
/* no role records it: only scoped, with its own author (dispatch refuses it from clients) */
const struct kind KIND_deemed_passed = { "deemed_passed", &S_DEEMED, 0, false, false, k_deemed, NULL };
