#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "mp.h"
#include "reports.h"

/* report links: every client link, what it is for, whom, when it was made
 * and expires, its state at the as-of time and the answer given through it. */

struct lctx {
	struct scope_kv *t;
	report_allow_fn allow;
	void *actx;
	uint64_t now_us;
	struct buf rows;
	uint32_t nrows;
	uint64_t count[5];	/* by state, in STATES order */
};

static const char *const STATES[5] = { "open", "used", "expired", "revoked", "superseded" };

/* CR-1, the baseline version, AMD-1, NTC-1, DLV-1; "" for a project link */
static void item_text(const struct lnk *l, char out[48])
{
	static const struct { const char *what, *prefix; } F[] = {
		{ "change", "CR-" }, { "baseline", "" }, { "amendment", "AMD-" }, { "notice", "NTC-" },
		{ "delivery", "DLV-" },
	};
	out[0] = '\0';
	for (size_t i = 0; i < sizeof F / sizeof F[0]; i++)
		if (strcmp(l->what, F[i].what) == 0)
			snprintf(out, 48, "%s%llu", F[i].prefix, (unsigned long long)l->item);
}

static void opt_seq(struct buf *b, const char *name, uint64_t seq)
{
	mp_pack_cstr(b, name);
	if (seq)
		mp_pack_uint(b, seq);
	else
		mp_pack_nil(b);
}

static int link_row(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct lctx *a = ctx;
	if (kn < 11)
		return 0;
	size_t plen = kn - 2 - 9;
	if (a->allow && !a->allow(a->actx, (const char *)k + 2, plen))
		return 0;
	struct lnk l;
	if (rec_unpack(LNK, LNK_N, v, vn, &l, e))
		return -1;
	const uint8_t *p;
	size_t n;
	struct entry en;
	if (kv_entry(a->t, l.seq, &p, &n, e) || entry_decode(p, n, &en, e))
		return -1;
	const char *st = link_state(&l, a->now_us);
	for (size_t i = 0; i < 5; i++)
		a->count[i] += strcmp(st, STATES[i]) == 0;
	char ref[32], item[48];
	snprintf(ref, sizeof ref, "LNK-%llu", (unsigned long long)l.number);
	item_text(&l, item);
	mp_pack_map(&a->rows, 13);
	mp_pack_cstr(&a->rows, "project");
	mp_pack_str(&a->rows, (const char *)k + 2, plen);
	mp_pack_cstr(&a->rows, "link");
	mp_pack_cstr(&a->rows, ref);
	mp_pack_cstr(&a->rows, "for");
	mp_pack_cstr(&a->rows, l.what);
	mp_pack_cstr(&a->rows, "item");
	mp_pack_cstr(&a->rows, item);
	mp_pack_cstr(&a->rows, "quote");
	if (l.quote)
		mp_pack_uint(&a->rows, l.quote);
	else
		mp_pack_nil(&a->rows);
	mp_pack_cstr(&a->rows, "to");
	mp_pack_cstr(&a->rows, l.to);
	mp_pack_cstr(&a->rows, "seq");
	mp_pack_uint(&a->rows, l.seq);
	mp_pack_cstr(&a->rows, "created_at_us");
	mp_pack_uint(&a->rows, en.time_us);
	mp_pack_cstr(&a->rows, "expires_at_us");
	mp_pack_uint(&a->rows, l.expires_at);
	mp_pack_cstr(&a->rows, "state");
	mp_pack_cstr(&a->rows, st);
	opt_seq(&a->rows, "answer_seq", l.used_seq);
	opt_seq(&a->rows, "revoke_seq", l.revoke_seq);
	opt_seq(&a->rows, "superseded_seq", l.superseded_seq);
	a->nrows++;
	return 0;
}

int report_links(struct scope_kv *t, const char *project, size_t plen, report_allow_fn allow, void *actx,
		 uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next, struct err *e)
{
	struct lctx *a = calloc(1, sizeof *a);
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
		rc = state_scan_prefix(t, 'q', project, plen, &k, e);
	if (rc == 0)
		rc = pager_scan(pg, t, k.b, k.n, link_row, a, e);
	if (rc == 0) {
		mp_pack_map(&tot, 5);
		for (size_t i = 0; i < 5; i++) {
			char name[24];
			snprintf(name, sizeof name, "%s_count", STATES[i]);
			mp_pack_cstr(&tot, name);
			mp_pack_uint(&tot, a->count[i]);
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
