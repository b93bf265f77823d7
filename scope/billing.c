#include "kinds.h"

#include <stdio.h>
#include <string.h>

#include "currency.h"
#include "mp.h"

/* billing: invoices and payments */

SCHEMA(LINE, "line", FLD("change", F_CR, true, 0, 0), FLD("amount_minor", F_UINT, true, 1, AMOUNT_MAX));
SCHEMA(S_INVOICE, "invoice",
       FLD("number", F_ID, true, 1, STATE_INVOICE_MAX), ARRM("lines", true, 1, 100, &LINE),
       ENUMF("currency", false, CURRENCY_CODES));
SCHEMA(S_PAYMENT, "payment",
       FLD("invoice", F_ID, true, 1, STATE_INVOICE_MAX), FLD("amount_minor", F_UINT, true, 1, AMOUNT_MAX),
       FLD("date", F_DATE, true, 0, 0), ENUMF("currency", false, CURRENCY_CODES));
SCHEMA(S_CREDIT, "credit",
       FLD("invoice", F_ID, true, 1, STATE_INVOICE_MAX), FLD("reason", F_STR, true, 1, 4096));

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
		change_billing_status(&chgs[j]);
		key_init(&lk, 'l', x->in->project, x->in->project_len);
		key_str(&lk, num->s, num->len);
		key_u64(&lk, lines[j].cr);
		uint8_t amt[8];
		for (int b = 0; b < 8; b++)
			amt[b] = (uint8_t)(lines[j].amount >> (56 - 8 * b));
		if (SAVE(x->t, &ck[j], CHG, &chgs[j], x->e) || kv_put(x->t, lk.b, lk.n, amt, 8, x->e))
			return -1;
	}
	return 0;
}

void change_billing_status(struct chg *c)
{
	const char *st = c->invoiced == 0		? "approved"
			 : c->invoiced < c->approved	? "partly_invoiced"
			 : c->paid == c->approved	? "paid"
							: "invoiced";
	snprintf(c->status, sizeof c->status, "%s", st);
}

/* One line of an invoice (key: project, invoice, cr; value: amount) and
 * what it does to its change: paid, unpaid, or cancelled. */
enum line_op { LINE_PAID, LINE_UNPAID, LINE_CANCELLED };
struct line_walk {
	struct ctx *x;
	enum line_op op;
};

static int line_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct line_walk *w = ctx;
	struct ctx *x = w->x;
	if (kn < 8 || vn != 8)
		return err_setc(e, SCOPE_E_CORRUPT, "invoice line record is damaged");
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
		return err_setc(e, SCOPE_E_CORRUPT, "invoice names a missing change");
	if (w->op == LINE_PAID)
		c.paid += amount;
	else if (w->op == LINE_UNPAID)
		c.paid -= amount < c.paid ? amount : c.paid;
	else
		c.invoiced -= amount < c.invoiced ? amount : c.invoiced;
	change_billing_status(&c);
	if (w->op == LINE_CANCELLED && kv_del(x->t, k, kn, e))
		return -1;
	return SAVE(x->t, &ck, CHG, &c, e);
}

static int invoice_lines(struct ctx *x, const char *num, size_t n, enum line_op op)
{
	struct key lk;
	struct line_walk w = { x, op };
	key_init(&lk, 'l', x->in->project, x->in->project_len);
	key_str(&lk, num, n);
	lk.b[lk.n++] = 0;
	return kv_scan(x->t, lk.b, lk.n, line_one, &w, x->e) < 0 ? -1 : 0;
}

int invoice_lines_paid(struct ctx *x, const char *num, size_t n, bool paid)
{
	return invoice_lines(x, num, n, paid ? LINE_PAID : LINE_UNPAID);
}

/* The invoice (its key in *k) exists and was not cancelled. */
static int load_invoice(struct ctx *x, const struct value *num, struct inv *inv, struct key *k)
{
	key_init(k, 'i', x->in->project, x->in->project_len);
	key_str(k, num->s, num->len);
	int rc = LOAD(x->t, k, INV, inv, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "invoice %.*s does not exist in project %.*s", (int)num->len, num->s, P(x));
	struct key rk;
	uint64_t by;
	key_init(&rk, 'r', x->in->project, x->in->project_len);
	key_str(&rk, num->s, num->len);
	rc = state_get_seq(x->t, &rk, &by, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "invoice %.*s was cancelled by entry %llu", (int)num->len, num->s,
			      (unsigned long long)by);
	return 0;
}

static int k_payment(struct ctx *x)
{
	struct key k;
	struct inv inv;
	const struct value *num = val(x, "invoice");
	uint64_t amount = val(x, "amount_minor")->u;
	if (check_currency(x) || load_invoice(x, num, &inv, &k))
		return -1;
	if (amount > inv.total - inv.paid)
		return refuse(x, "payment of %llu exceeds what is open on invoice %.*s (%llu of %llu)",
			      (unsigned long long)amount, (int)num->len, num->s,
			      (unsigned long long)(inv.total - inv.paid), (unsigned long long)inv.total);
	inv.paid += amount;
	if (SAVE(x->t, &k, INV, &inv, x->e))
		return -1;
	/* fully paid: its lines count as paid on their changes */
	return inv.paid < inv.total ? 0 : invoice_lines_paid(x, num->s, num->len, true);
}

/* A credit note: the invoice is cancelled, its lines go back to their changes. */
static int k_credit(struct ctx *x)
{
	struct key k;
	struct inv inv;
	const struct value *num = val(x, "invoice");
	if (load_invoice(x, num, &inv, &k))
		return -1;
	if (inv.paid > 0)
		return refuse(x, "invoice %.*s has payments of %llu recorded: a paid invoice is not cancelled "
			      "(if a payment was recorded in error, correct it: scopectl correct)",
			      (int)num->len, num->s, (unsigned long long)inv.paid);
	if (invoice_lines(x, num->s, num->len, LINE_CANCELLED))
		return -1;
	key_init(&k, 'r', x->in->project, x->in->project_len);
	key_str(&k, num->s, num->len);
	return state_put_seq(x->t, &k, x->in->seq, x->e);
}

const struct kind KIND_invoice = { "invoice", &S_INVOICE, ROLE_FINANCE, false, false, k_invoice, NULL };
const struct kind KIND_payment = { "payment", &S_PAYMENT, ROLE_FINANCE, false, false, k_payment, NULL };
const struct kind KIND_credit = { "credit", &S_CREDIT, ROLE_FINANCE, false, false, k_credit, NULL };
