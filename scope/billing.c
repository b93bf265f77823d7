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

#define DAY_US 86400000000ull

/* A date (what) no later than the day after the entry's time (time zones
 * ahead of UTC): a payment or an invoice is not recorded before it happens. */
static int not_future(struct ctx *x, const char *what, const struct value *date)
{
	char today[11];
	time_days_date((int64_t)(x->in->time_us / DAY_US), today);
	if ((uint64_t)time_date_days(date->s) * DAY_US > x->in->time_us + DAY_US)
		return refuse(x, "%s %.*s lies in the future (today is %s): record it when it has happened", what,
			      (int)date->len, date->s, today);
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
	schema_check(&LINE, start, (size_t)(c->p - start), false, v, x->e);
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
		uint8_t amt[8];
		for (int b = 0; b < 8; b++)
			amt[b] = (uint8_t)(total >> (56 - 8 * b));
		if (kv_put(x->t, lk.b, lk.n, amt, 8, x->e))
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
		snprintf(chgs[j].status, sizeof chgs[j].status,
			 chgs[j].invoiced == chgs[j].approved ? "invoiced" : "partly_invoiced");
		if (SAVE(x->t, &ck[j], CHG, &chgs[j], x->e))
			return -1;
	}
	return 0;
}

static int pay_line(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct ctx *x = ctx;
	if (kn < 8 || vn != 8)
		return err_setc(e, SCOPE_E_CORRUPT, "invoice line record is damaged");
	uint64_t cr = 0, amount = 0;
	for (int i = 0; i < 8; i++) {
		cr = cr << 8 | k[kn - 8 + (size_t)i];
		amount = amount << 8 | v[i];
	}
	struct chg c;
	struct key ck;
	if (cr == 0) {	/* the base contract */
		x->proj.contract_paid += amount;
		key_init(&ck, 'p', x->in->project, x->in->project_len);
		return SAVE(x->t, &ck, PROJ, &x->proj, e);
	}
	key_init(&ck, 'c', x->in->project, x->in->project_len);
	key_u64(&ck, cr);
	if (LOAD(x->t, &ck, CHG, &c, e) != 1)
		return err_setc(e, SCOPE_E_CORRUPT, "invoice names a missing change");
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
	if (check_currency(x) || not_future(x, "the payment date", val(x, "date")))
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
	return kv_scan(x->t, lk.b, lk.n, pay_line, x, x->e);
}


const struct kind KIND_invoice = { "invoice", &S_INVOICE, ROLE_FINANCE, false, false, k_invoice, NULL };
const struct kind KIND_payment = { "payment", &S_PAYMENT, ROLE_FINANCE, false, false, k_payment, NULL };
