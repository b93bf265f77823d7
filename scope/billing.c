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
		if (SAVE(x->t, &ck[j], CHG, &chgs[j], x->e) || kv_put(x->t, lk.b, lk.n, amt, 8, x->e))
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
	return kv_scan(x->t, lk.b, lk.n, pay_line, x, x->e);
}


const struct kind KIND_invoice = { "invoice", &S_INVOICE, ROLE_FINANCE, false, false, k_invoice, NULL };
const struct kind KIND_payment = { "payment", &S_PAYMENT, ROLE_FINANCE, false, false, k_payment, NULL };
