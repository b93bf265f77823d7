#include "reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isotime.h"
#include "mp.h"
#include "state.h"

/* The lead's to-do lists: report agreements (every agreement, its state
 * and age) and report notices (every notice, whether it is answered and
 * overdue).  The client picks the rows it shows (--unconfirmed,
 * --older-than, --unacknowledged); the document is the whole set, so a
 * client re-deriving it checks every row. */

#define DAY_US 86400000000ull

struct fctx {
	struct scope_kv *t;
	report_allow_fn allow;
	void *actx;
	int64_t today;		/* days since the epoch of the as-of time */
	uint64_t now_us;
	struct buf rows;
	uint32_t nrows;
	uint64_t count, open, disputed, overdue;	/* the totals */
	char cur_project[80];
	struct proj proj;
	int proj_ok;
};

/* The record's project (plen bytes after the key's type and NUL): 1 when
 * the report covers it (its record in f->proj), 0 when not. */
static int covered(struct fctx *f, const uint8_t *k, size_t plen, struct err *e)
{
	const char *project = (const char *)k + 2;
	if ((f->allow && !f->allow(f->actx, project, plen)) || plen >= sizeof f->cur_project)
		return 0;
	if (strlen(f->cur_project) != plen || memcmp(f->cur_project, project, plen) != 0) {
		struct key pk;
		memcpy(f->cur_project, project, plen);
		f->cur_project[plen] = '\0';
		key_init(&pk, 'p', project, plen);
		f->proj_ok = LOAD(f->t, &pk, PROJ, &f->proj, e);
	}
	return f->proj_ok;
}

static void pack_seq_or_nil(struct buf *b, const char *name, uint64_t seq)
{
	mp_pack_cstr(b, name);
	if (seq)
		mp_pack_uint(b, seq);
	else
		mp_pack_nil(b);
}

static void pack_ref(struct buf *b, const char *name, const char *prefix, uint64_t number)
{
	char ref[32];
	snprintf(ref, sizeof ref, "%s%llu", prefix, (unsigned long long)number);
	mp_pack_cstr(b, name);
	mp_pack_cstr(b, ref);
}

/* A signed effect: +size, -size (down), or nil when there is none. */
static void pack_effect(struct buf *b, const char *name, bool present, uint64_t size, bool down)
{
	mp_pack_cstr(b, name);
	if (!present)
		mp_pack_nil(b);
	else if (down && size)
		mp_pack_int(b, -(int64_t)size);
	else
		mp_pack_uint(b, size);
}

static int agreement_row(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct fctx *f = ctx;
	struct agr a;
	if (kn < 11)
		return 0;
	int in = covered(f, k, kn - 11, e);
	if (in <= 0)
		return in;
	if (rec_unpack(AGR, AGR_N, v, vn, &a, e))
		return -1;
	int64_t age = f->today - time_date_days(a.date);
	f->count++;
	f->open += strcmp(a.state, "confirmed") != 0;
	f->disputed += strcmp(a.state, "disputed") == 0;
	struct buf *b = &f->rows;
	mp_pack_map(b, 10);
	mp_pack_cstr(b, "project");
	mp_pack_str(b, (const char *)k + 2, kn - 11);
	pack_ref(b, "agreement", "AGR-", a.number);
	mp_pack_cstr(b, "seq");
	mp_pack_uint(b, a.seq);
	mp_pack_cstr(b, "date");
	mp_pack_cstr(b, a.date);
	mp_pack_cstr(b, "type");
	mp_pack_cstr(b, a.type);
	mp_pack_cstr(b, "state");
	mp_pack_cstr(b, a.state);
	mp_pack_cstr(b, "age_days");
	mp_pack_uint(b, age > 0 ? (uint64_t)age : 0);
	pack_seq_or_nil(b, "confirmed_seq", a.confirm_seq);
	pack_seq_or_nil(b, "disputed_seq", a.contest_seq);
	mp_pack_cstr(b, "summary");
	mp_pack_cstr(b, a.summary);
	f->nrows++;
	return 0;
}

static int notice_row(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct fctx *f = ctx;
	struct ntc n;
	if (kn < 11)
		return 0;
	int in = covered(f, k, kn - 11, e);
	if (in <= 0)
		return in;
	if (rec_unpack(NTC, NTC_N, v, vn, &n, e))
		return -1;
	bool open = n.response_seq == 0;
	int64_t late = n.respond_by[0] ? f->today - time_date_days(n.respond_by) : 0;
	bool overdue = open && late > 0;	/* answered by the respond_by day: on time */
	f->count++;
	f->open += open;
	f->disputed += strcmp(n.state, "disputed") == 0;
	f->overdue += overdue;
	struct buf *b = &f->rows;
	mp_pack_map(b, 17);
	mp_pack_cstr(b, "project");
	mp_pack_str(b, (const char *)k + 2, kn - 11);
	mp_pack_cstr(b, "currency");
	mp_pack_cstr(b, f->proj.currency);
	mp_pack_cstr(b, "exponent");
	mp_pack_uint(b, f->proj.exp);
	pack_ref(b, "notice", "NTC-", n.number);
	mp_pack_cstr(b, "seq");
	mp_pack_uint(b, n.seq);
	mp_pack_cstr(b, "type");
	mp_pack_cstr(b, n.type);
	mp_pack_cstr(b, "state");
	mp_pack_cstr(b, n.state);
	mp_pack_cstr(b, "noticed_at_us");
	mp_pack_uint(b, n.at);
	mp_pack_cstr(b, "age_days");
	mp_pack_uint(b, f->now_us > n.at ? (f->now_us - n.at) / DAY_US : 0);
	mp_pack_cstr(b, "respond_by");
	if (n.respond_by[0])
		mp_pack_cstr(b, n.respond_by);
	else
		mp_pack_nil(b);
	mp_pack_cstr(b, "overdue");
	mp_pack_bool(b, overdue);
	mp_pack_cstr(b, "days_overdue");
	mp_pack_uint(b, overdue ? (uint64_t)late : 0);
	pack_effect(b, "fee_effect", n.has_fee, n.fee, n.fee_down);
	pack_effect(b, "schedule_days", n.has_days, n.days, n.gain);
	if (n.change) {
		pack_ref(b, "change", "CR-", n.change);
	} else {
		mp_pack_cstr(b, "change");
		mp_pack_nil(b);
	}
	pack_seq_or_nil(b, "response_seq", n.response_seq);
	mp_pack_cstr(b, "text");
	mp_pack_cstr(b, n.text);
	f->nrows++;
	return 0;
}

/* report agreements (notices false) or notices, of project or of every
 * project the allow function admits. */
int report_followups(struct scope_kv *t, bool notices, const char *project, size_t plen, report_allow_fn allow,
		     void *actx, uint64_t now_us, const struct page_req *req, struct buf *out, struct buf *next,
		     struct err *e)
{
	struct fctx *f = calloc(1, sizeof *f);
	struct pager *pg = calloc(1, sizeof *pg);
	struct buf tot;
	buf_init(&tot);
	if (f == NULL || pg == NULL) {
		free(f);
		free(pg);
		return err_set(e, "out of memory");
	}
	f->t = t;
	f->allow = allow;
	f->actx = actx;
	buf_init(&f->rows);
	int rc = pager_init(pg, req, now_us, e);
	f->now_us = pg->as_of;
	f->today = (int64_t)(f->now_us / DAY_US);
	pager_section(pg, &f->rows, &f->nrows);
	struct key k;
	char type = notices ? 't' : 'm';
	if (rc == 0)
		rc = state_scan_prefix(t, type, project, plen, &k, e);
	if (rc == 0)
		rc = pager_scan(pg, t, k.b, k.n, notices ? notice_row : agreement_row, f, e);
	if (rc == 0) {
		mp_pack_map(&tot, notices ? 4 : 3);
		mp_pack_cstr(&tot, notices ? "notices_count" : "agreements_count");
		mp_pack_uint(&tot, f->count);
		mp_pack_cstr(&tot, notices ? "unacknowledged_count" : "unconfirmed_count");
		mp_pack_uint(&tot, f->open);
		mp_pack_cstr(&tot, "disputed_count");
		mp_pack_uint(&tot, f->disputed);
		if (notices) {
			mp_pack_cstr(&tot, "overdue_count");
			mp_pack_uint(&tot, f->overdue);
		}
		rc = pager_finish(pg, tot.data, tot.len, e);
	}
	if (rc == 0) {
		char day[11];
		time_days_date(f->today, day);
		mp_pack_map(out, 4);
		mp_pack_cstr(out, "rows");
		mp_pack_array(out, f->nrows);
		buf_add(out, f->rows.data, f->rows.len);
		mp_pack_cstr(out, "totals");
		buf_add(out, tot.data, tot.len);
		mp_pack_cstr(out, "as_of_us");
		mp_pack_uint(out, f->now_us);
		mp_pack_cstr(out, "as_of_date");
		mp_pack_cstr(out, day);
		pager_next(pg, next);
	}
	pager_free(pg);
	buf_free(&tot);
	buf_free(&f->rows);
	free(f);
	free(pg);
	return rc;
}

/* The unconfirmed agreements (not confirmed: unconfirmed or disputed) and
 * the unanswered notices of a project, for its status. */
static int count_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k, (void)kn;
	uint64_t *n = ctx;
	struct agr a;
	struct ntc t;
	if (k[0] == 'm') {
		if (rec_unpack(AGR, AGR_N, v, vn, &a, e))
			return -1;
		*n += strcmp(a.state, "confirmed") != 0;
	} else {
		if (rec_unpack(NTC, NTC_N, v, vn, &t, e))
			return -1;
		*n += t.response_seq == 0;
	}
	return 0;
}

int report_followup_counts(struct scope_kv *t, const char *project, size_t plen, uint64_t *agreements,
			   uint64_t *notices, struct err *e)
{
	struct key k;
	*agreements = *notices = 0;
	key_init(&k, 'm', project, plen);
	k.b[k.n++] = 0;
	if (kv_scan(t, k.b, k.n, count_one, agreements, e) < 0)
		return -1;
	key_init(&k, 't', project, plen);
	k.b[k.n++] = 0;
	return kv_scan(t, k.b, k.n, count_one, notices, e) < 0 ? -1 : 0;
}
