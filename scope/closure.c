#include "kinds.h"

#include <string.h>

#include "isotime.h"

/* closure: a project closed (its work done) or cancelled (it should not
 * have been, or will not be, carried out).  After it only corrections,
 * notes and complaint cases are recorded in the project (domain.c,
 * project_closed). */

static const char *const OUTCOMES[] = { "closed", "cancelled", NULL };

SCHEMA(S_CLOSURE, "closure", ENUMF("outcome", true, OUTCOMES), FLD("reason", F_STR, true, 1, 4096));

/* An invoice with an open balance: its number into the context. */
struct open_inv {
	struct ctx *x;
	char number[STATE_INVOICE_MAX + 1];
	uint64_t open;
};

static int open_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct open_inv *o = ctx;
	struct inv inv;
	struct key rk;
	uint64_t by;
	size_t plen = o->x->in->project_len, nlen = kn - 3 - plen;
	if (kn < 3 + plen || nlen > STATE_INVOICE_MAX || rec_unpack(INV, INV_N, v, vn, &inv, e))
		return err_setc(e, SCOPE_E_CORRUPT, "invoice record is damaged");
	if (inv.paid >= inv.total)
		return 0;
	key_init(&rk, 'o', o->x->in->project, plen);
	key_str(&rk, (const char *)k + 3 + plen, nlen);
	int rc = state_get_seq(o->x->t, &rk, &by, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;	/* cancelled: nothing is open */
	memcpy(o->number, k + 3 + plen, nlen);
	o->number[nlen] = '\0';
	o->open = inv.total - inv.paid;
	return 1;
}

/* A delivery still awaiting the client's inspection: its record. */
struct open_dlv {
	struct dlv d;
	bool found;
};

static int open_window(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct open_dlv *o = ctx;
	(void)k, (void)kn;
	if (rec_unpack(DLV, DLV_N, v, vn, &o->d, e))
		return -1;
	o->found = strcmp(o->d.outcome, "open") == 0;
	return o->found;
}

static int k_closure(struct ctx *x)
{
	struct key k;
	struct open_inv o = { x, "", 0 };
	key_init(&k, 'i', x->in->project, x->in->project_len);
	k.b[k.n++] = 0;
	if (kv_scan(x->t, k.b, k.n, open_one, &o, x->e) < 0)
		return -1;
	if (o.number[0])
		return refuse(x, "invoice %s has an open balance of %llu: record its payments, or cancel it "
			      "(scopectl invoice cancel), before the project is closed",
			      o.number, (unsigned long long)o.open);
	struct open_dlv w = { .found = false };
	key_init(&k, 'd', x->in->project, x->in->project_len);
	k.b[k.n++] = 0;
	if (kv_scan(x->t, k.b, k.n, open_window, &w, x->e) < 0)
		return -1;
	if (w.found) {
		char day[11];
		time_days_date((int64_t)(w.d.deadline_us / 86400000000ull), day);
		return refuse(x, "DLV-%llu awaits the client's inspection until %s: a project is closed once every "
			      "delivery has its outcome (accepted, failed, or deemed passed at the deadline)",
			      (unsigned long long)w.d.number, day);
	}
	key_init(&k, 'z', x->in->project, x->in->project_len);
	return state_put_seq(x->t, &k, x->in->seq, x->e);
}

const struct kind KIND_closure = { "closure", &S_CLOSURE, ROLE_LEAD | ROLE_ADMIN, false, false, k_closure, NULL };
