#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delivery.h"
#include "isotime.h"
#include "mp.h"
#include "state.h"

/* report acceptance: every delivery, its inspection deadline, the days
 * left and its outcome (open, passed, failed, deemed_passed). */

#define DAY_US 86400000000ull

struct actx {
	struct scope_kv *t;
	report_allow_fn allow;
	void *actx;
	uint64_t now_us;
	struct buf rows;
	uint32_t nrows;
	uint64_t open, passed, failed, deemed, overdue;
};

static int acceptance_row(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct actx *a = ctx;
	if (kn < 11)
		return 0;
	size_t plen = kn - 2 - 9;
	if (a->allow && !a->allow(a->actx, (const char *)k + 2, plen))
		return 0;
	struct dlv d;
	if (rec_unpack(DLV, DLV_N, v, vn, &d, e))
		return -1;
	bool open = strcmp(d.outcome, "open") == 0;
	char day[11];
	time_days_date((int64_t)(d.deadline_us / DAY_US), day);
	/* whole days left, rounded down; negative once the deadline has passed */
	int64_t left = (int64_t)(d.deadline_us / DAY_US) - (int64_t)(a->now_us / DAY_US);
	a->open += open;
	a->overdue += open && d.deadline_us <= a->now_us;
	a->passed += strcmp(d.outcome, "passed") == 0;
	a->failed += strcmp(d.outcome, "failed") == 0;
	a->deemed += strcmp(d.outcome, "deemed_passed") == 0;
	mp_pack_map(&a->rows, 10);
	mp_pack_cstr(&a->rows, "project");
	mp_pack_str(&a->rows, (const char *)k + 2, plen);
	mp_pack_cstr(&a->rows, "delivery");
	char ref[32];
	snprintf(ref, sizeof ref, "DLV-%llu", (unsigned long long)d.number);
	mp_pack_cstr(&a->rows, ref);
	mp_pack_cstr(&a->rows, "deliverable");
	mp_pack_cstr(&a->rows, d.deliverable);
	mp_pack_cstr(&a->rows, "seq");
	mp_pack_uint(&a->rows, d.seq);
	mp_pack_cstr(&a->rows, "delivered_at_us");
	mp_pack_uint(&a->rows, d.delivered_at);
	mp_pack_cstr(&a->rows, "deadline_us");
	mp_pack_uint(&a->rows, d.deadline_us);
	mp_pack_cstr(&a->rows, "deadline");
	mp_pack_cstr(&a->rows, day);
	mp_pack_cstr(&a->rows, "days_left");
	if (!open)
		mp_pack_nil(&a->rows);
	else if (left < 0)
		mp_pack_int(&a->rows, left);
	else
		mp_pack_uint(&a->rows, (uint64_t)left);
	mp_pack_cstr(&a->rows, "outcome");
	mp_pack_cstr(&a->rows, d.outcome);
	mp_pack_cstr(&a->rows, "outcome_seq");
	if (open)
		mp_pack_nil(&a->rows);
	else
		mp_pack_uint(&a->rows, d.outcome_seq);
	a->nrows++;
	return 0;
}

int report_acceptance(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow, void *actx,
		      uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next,
		      struct err *e)
{
	struct actx *a = calloc(1, sizeof *a);
	struct pager *pg = calloc(1, sizeof *pg);
	struct buf tot;
	buf_init(&tot);
	if (a == NULL || pg == NULL) {
		free(a);
		free(pg);
		return err_set(e, "out of memory");
	}
	a->t = t;
	a->allow = allow;
	a->actx = actx;
	buf_init(&a->rows);
	int rc = pager_init(pg, req, now_us, e);
	a->now_us = pg->as_of;
	pager_section(pg, &a->rows, &a->nrows);
	struct key k;
	if (rc == 0)
		rc = state_scan_prefix(t, 'd', project, plen, &k, e);
	if (rc == 0)
		rc = pager_scan(pg, t, k.b, k.n, acceptance_row, a, e);
	if (rc == 0) {
		const struct { const char *name; uint64_t v; } T[] = {
			{ "open_count", a->open }, { "overdue_count", a->overdue }, { "passed_count", a->passed },
			{ "failed_count", a->failed }, { "deemed_passed_count", a->deemed },
		};
		mp_pack_map(&tot, 5);
		for (size_t i = 0; i < 5; i++) {
			mp_pack_cstr(&tot, T[i].name);
			mp_pack_uint(&tot, T[i].v);
		}
		rc = pager_finish(pg, tot.data, tot.len, e);
	}
	if (rc == 0) {
		mp_pack_map(out, 3);
		mp_pack_cstr(out, "rows");
		mp_pack_array(out, a->nrows);
		buf_add(out, a->rows.data, a->rows.len);
		mp_pack_cstr(out, "totals");
		buf_add(out, tot.data, tot.len);
		mp_pack_cstr(out, "as_of_us");
		mp_pack_uint(out, a->now_us);
		pager_next(pg, next);
	}
	pager_free(pg);
	buf_free(&tot);
	buf_free(&a->rows);
	free(a);
	free(pg);
	return rc;
}
