#include "kinds.h"

#include <stdio.h>
#include <string.h>

#include "currency.h"
#include "isotime.h"
#include "mp.h"

/* billing: invoices and payments */

SCHEMA(LINE, "line", FLD("change", F_CR, false, 0, 0), FLD("contract", F_BOOL, false, 0, 1),
       FLD("amount_minor", F_UINT, true, 1, AMOUNT_MAX), FLD("tax_minor", F_UINT, false, 0, AMOUNT_MAX));
SCHEMA(S_INVOICE, "invoice",
       FLD("number", F_ID, true, 1, STATE_INVOICE_MAX), ARRM("lines", true, 1, 100, &LINE),
       ENUMF("currency", false, CURRENCY_CODES), FLD("issued", F_DATE, false, 0, 0),
       FLD("due", F_DATE, false, 0, 0));
SCHEMA(S_PAYMENT, "payment",
       FLD("invoice", F_ID, true, 1, STATE_INVOICE_MAX), FLD("amount_minor", F_UINT, true, 1, AMOUNT_MAX),
       FLD("date", F_DATE, true, 0, 0), ENUMF("currency", false, CURRENCY_CODES));
SCHEMA(S_CREDIT, "credit",
       FLD("invoice", F_ID, true, 1, STATE_INVOICE_MAX), FLD("reason", F_STR, true, 1, 4096));

#define DAY_US 86400000000ull

/* A date (what) no later than the day after the entry's time (time zones
 * ahead of UTC): a payment or an invoice is not recorded before it happens. */
int not_future(struct ctx *x, const char *what, const struct value *date)
{
	char today[11];
	time_days_date((int64_t)(x->in->time_us / DAY_US), today);
	if ((uint64_t)time_date_days(date->s) * DAY_US > x->in->time_us + DAY_US)
		return refuse(x, "%s %.*s lies in the future (today is %s): record it when it has happened", what,
			      (int)date->len, date->s, today);
	return 0;
}

/* A payment's date: not in the future, not before its invoice's issue. */
int payment_date_check(struct ctx *x, const struct value *date, const struct inv *inv, const char *num, size_t n)
{
	if (not_future(x, "the payment date", date))
		return -1;
	if (time_date_days(date->s) < time_date_days(inv->issued))
		return refuse(x, "the payment date %.*s is before invoice %.*s's issue date %s", (int)date->len,
			      date->s, (int)n, num, inv->issued);
	return 0;
}

/* One invoice line, or the sum of an invoice's lines for one change (cr 0:
 * the base contract). */
struct line {
	uint64_t cr, fee, tax;
};

static int line_read(struct ctx *x, struct mp_cur *c, struct line *l)
{
	const uint8_t *start = c->p;
	struct value v[4];
	mp_skip(c, 4, x->e);
	schema_read(&LINE, start, (size_t)(c->p - start), v, x->e);	/* checked with the body */
	if (v[0].present == (v[1].present && v[1].u))
		return refuse(x, "an invoice line names exactly one of \"change\" (a CR-N) or \"contract\": true");
	*l = (struct line){ v[0].present ? v[0].u : 0, v[2].u, v[3].present ? v[3].u : 0 };
	return 0;
}

/* The lines for changes: each part within what is left of the approved. */
static int line_check_change(struct ctx *x, const struct line *l, struct chg *ch, struct key *k)
{
	unsigned long long cr = (unsigned long long)l->cr;
	if (load_change(x, l->cr, ch, k))
		return -1;
	if (strcmp(ch->status, "approved") && strcmp(ch->status, "partly_invoiced"))
		return refuse(x, "CR-%llu is %s: only an approved change is invoiced", cr, ch->status);
	uint64_t fee = ch->approved - ch->approved_tax, fee_done = ch->invoiced - ch->invoiced_tax;
	if (l->fee > fee - fee_done)
		return refuse(x, "CR-%llu: invoicing a fee of %llu would exceed the approved fee %llu (already "
			      "invoiced %llu)", cr, (unsigned long long)l->fee, (unsigned long long)fee,
			      (unsigned long long)fee_done);
	if (l->tax > ch->approved_tax - ch->invoiced_tax)
		return refuse(x, "CR-%llu: invoicing tax of %llu would exceed the approved tax %llu (already "
			      "invoiced %llu)", cr, (unsigned long long)l->tax,
			      (unsigned long long)ch->approved_tax, (unsigned long long)ch->invoiced_tax);
	return 0;
}

static int k_invoice(struct ctx *x)
{
	struct key k;
	struct inv inv;
	const struct value *num = val(x, "number"), *issued = val(x, "issued"), *due = val(x, "due");
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
	memset(&inv, 0, sizeof inv);
	/* dates: issued (else the entry's day), due (else issued plus the
	 * project's payment terms) */
	if (issued->present) {
		if (not_future(x, "the issue date", issued))
			return -1;
		memcpy(inv.issued, issued->s, 10);
	} else {
		time_days_date((int64_t)(x->in->time_us / DAY_US), inv.issued);
	}
	if (due->present && time_date_days(due->s) < time_date_days(inv.issued))
		return refuse(x, "the due date %.*s is before the issue date %s", (int)due->len, due->s, inv.issued);
	if (due->present)
		memcpy(inv.due, due->s, 10);
	else
		time_days_date(time_date_days(inv.issued) + (int64_t)x->proj.payment_days, inv.due);
	/* gather lines, summing per change, and check each against what was
	 * approved.  No sum here can overflow: an invoice has at most 100 lines
	 * of at most AMOUNT_MAX fee and AMOUNT_MAX tax; a change's invoiced
	 * amount never exceeds its approved one (at most 2 AMOUNT_MAX), its paid
	 * amount never exceeds what was invoiced, and an invoice's paid amount
	 * never exceeds its total.  Sums over many changes are the reports'
	 * (checked there). */
	_Static_assert(200 * AMOUNT_MAX <= INT64_MAX, "an invoice total fits");
	struct line lines[100];
	uint32_t n = 0, count;
	const struct value *lv = val(x, "lines");
	struct mp_cur c;
	mp_cur_init(&c, lv->p, lv->plen);
	mp_get_array(&c, &count, x->e);
	for (uint32_t i = 0; i < count; i++) {
		struct line l = { 0, 0, 0 };
		if (line_read(x, &c, &l))
			return -1;
		uint32_t j;
		for (j = 0; j < n && lines[j].cr != l.cr; j++)
			;
		if (j == n)
			lines[n++] = (struct line){ l.cr, 0, 0 };
		lines[j].fee += l.fee;
		lines[j].tax += l.tax;
		inv.total += l.fee + l.tax;
		inv.tax += l.tax;
	}
	struct chg chgs[100];
	struct key ck[100];
	for (uint32_t j = 0; j < n; j++) {
		if (lines[j].cr && line_check_change(x, &lines[j], &chgs[j], &ck[j]))
			return -1;
		if (lines[j].cr == 0 && lines[j].fee > x->proj.amount - x->proj.contract_invoiced)
			return refuse(x, "the contract: invoicing a fee of %llu would exceed the contract value %llu "
				      "(already invoiced %llu)", (unsigned long long)lines[j].fee,
				      (unsigned long long)x->proj.amount,
				      (unsigned long long)x->proj.contract_invoiced);
	}
	inv.seq = x->in->seq;
	if (SAVE(x->t, &k, INV, &inv, x->e))
		return -1;
	for (uint32_t j = 0; j < n; j++) {
		struct key lk;
		uint64_t total = lines[j].fee + lines[j].tax;
		key_init(&lk, 'l', x->in->project, x->in->project_len);
		key_str(&lk, num->s, num->len);
		key_u64(&lk, lines[j].cr);
		uint8_t amt[16];
		for (int b = 0; b < 8; b++) {
			amt[b] = (uint8_t)(total >> (56 - 8 * b));
			amt[8 + b] = (uint8_t)(lines[j].tax >> (56 - 8 * b));
		}
		if (kv_put(x->t, lk.b, lk.n, amt, sizeof amt, x->e))
			return -1;
		if (lines[j].cr == 0) {
			x->proj.contract_invoiced += lines[j].fee;
			key_init(&lk, 'p', x->in->project, x->in->project_len);
			if (SAVE(x->t, &lk, PROJ, &x->proj, x->e))
				return -1;
			continue;
		}
		chgs[j].invoiced += total;
		chgs[j].invoiced_tax += lines[j].tax;
		change_billing_status(&chgs[j]);
		if (SAVE(x->t, &ck[j], CHG, &chgs[j], x->e))
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

/* One line of an invoice (key: project, invoice, cr; value: its total and
 * its tax, u64be each; cr 0: the base contract) and what it does to its
 * change or to the contract: paid, unpaid, or cancelled. */
enum line_op { LINE_PAID, LINE_UNPAID, LINE_CANCELLED };
struct line_walk {
	struct ctx *x;
	enum line_op op;
};

static uint64_t less(uint64_t have, uint64_t minus)
{
	return minus < have ? have - minus : 0;
}

static int line_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct line_walk *w = ctx;
	struct ctx *x = w->x;
	if (kn < 8 || vn != 16)
		return err_setc(e, SCOPE_E_CORRUPT, "invoice line record is damaged");
	uint64_t cr = 0, total = 0, tax = 0;
	for (int i = 0; i < 8; i++) {
		cr = cr << 8 | k[kn - 8 + (size_t)i];
		total = total << 8 | v[i];
		tax = tax << 8 | v[8 + i];
	}
	if (tax > total)
		return err_setc(e, SCOPE_E_CORRUPT, "invoice line record is damaged");
	if (w->op == LINE_CANCELLED && kv_del(x->t, k, kn, e))
		return -1;
	struct chg c;
	struct key ck;
	if (cr == 0) {	/* the base contract */
		if (w->op == LINE_PAID)
			x->proj.contract_paid += total;
		else if (w->op == LINE_UNPAID)
			x->proj.contract_paid = less(x->proj.contract_paid, total);
		else
			x->proj.contract_invoiced = less(x->proj.contract_invoiced, total - tax);
		key_init(&ck, 'p', x->in->project, x->in->project_len);
		return SAVE(x->t, &ck, PROJ, &x->proj, e);
	}
	key_init(&ck, 'c', x->in->project, x->in->project_len);
	key_u64(&ck, cr);
	if (LOAD(x->t, &ck, CHG, &c, e) != 1)
		return err_setc(e, SCOPE_E_CORRUPT, "invoice names a missing change");
	if (w->op == LINE_PAID) {
		c.paid += total;
	} else if (w->op == LINE_UNPAID) {
		c.paid = less(c.paid, total);
	} else {
		c.invoiced = less(c.invoiced, total);
		c.invoiced_tax = less(c.invoiced_tax, tax);
	}
	change_billing_status(&c);
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
	key_init(&rk, 'o', x->in->project, x->in->project_len);
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
	if (check_currency(x) || load_invoice(x, num, &inv, &k) ||
	    payment_date_check(x, val(x, "date"), &inv, num->s, num->len))
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
	key_init(&k, 'o', x->in->project, x->in->project_len);
	key_str(&k, num->s, num->len);
	return state_put_seq(x->t, &k, x->in->seq, x->e);
}

const struct kind KIND_invoice = { "invoice", &S_INVOICE, ROLE_FINANCE, false, false, k_invoice, NULL };
const struct kind KIND_payment = { "payment", &S_PAYMENT, ROLE_FINANCE, false, false, k_payment, NULL };
const struct kind KIND_credit = { "credit", &S_CREDIT, ROLE_FINANCE, false, false, k_credit, NULL };
