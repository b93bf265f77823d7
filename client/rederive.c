#include "rederive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docdiff.h"
#include "domain.h"
#include "entry.h"
#include "isotime.h"
#include "json.h"
#include "kv.h"
#include "mp.h"
#include "offline.h"
#include "reports.h"
#include "result.h"
#include "show.h"
#include "witness.h"

/* ---- the server's answer, at a size that held still ---- */

static int pinned(struct session *s, const struct rederive_ask *q, struct buf *doc, struct checkpoint *cp,
		  struct err *e)
{
	struct buf note;
	buf_init(&note);
	int rc = 1;
	for (int i = 0; rc == 1 && i < REDERIVE_ATTEMPTS; i++) {
		struct checkpoint after;
		rc = witness_newest(s, cp, &note, e) ||
		     pages_doc(s, q->op, q->params, q->nparams, q->op, q->sections, doc, e) ? -1 : 1;
		buf_reset(&note);
		if (rc == 1 && witness_newest(s, &after, &note, e))
			rc = -1;
		else if (rc == 1 && after.size == cp->size && memcmp(after.root, cp->root, HASH_LEN) == 0)
			rc = 0;	/* the same tree before and after the answer */
		else if (rc == 1 && after.size == cp->size)
			rc = err_setc(e, CTL_EXIT_VERIFY, "two checkpoints of size %llu with different roots",
				      (unsigned long long)cp->size);
		buf_reset(&note);
	}
	buf_free(&note);
	if (rc == 1)
		rc = err_setc(e, CTL_EXIT_CONN, "the log grew while the %s was read, %d times: it can only be "
			      "checked at a size that holds still; try again", q->op, REDERIVE_ATTEMPTS);
	return rc;
}

/* ---- the proven entries ---- */

struct held {
	uint64_t seq;
	uint8_t *p;
	size_t n;
};

struct haul {
	const char *project;	/* from the whole log: only this project's; NULL: every project's */
	struct held *v;
	size_t n, cap;
};

static int keep(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct haul *h = ctx;
	struct entry en;
	if (entry_decode(p, n, &en, e))
		return -1;
	/* the log's own entries and ledger-level notes: no project's state */
	if (en.project_len == 0 || (h->project && (en.project_len != strlen(h->project) ||
						   memcmp(en.project, h->project, en.project_len) != 0)))
		return 0;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 256;
		struct held *v = realloc(h->v, cap * sizeof *v);
		if (v == NULL)
			return err_setc(e, CTL_EXIT_USAGE, "out of memory");
		h->v = v;
		h->cap = cap;
	}
	uint8_t *c = malloc(n);
	if (c == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	memcpy(c, p, n);
	h->v[h->n++] = (struct held){ seq, c, n };
	return 0;
}

int rederive_granted(struct session *s, bool *all, struct buf *names, struct err *e)
{
	const uint8_t *res;
	size_t len;
	struct mp_cur c;
	struct mp_item it;
	sess_begin(s, "info", 0);
	if (sess_call(s, 2, &res, &len, e))
		return -1;
	if (mp_map_find(res, len, "projects", &c, NULL) != 1 || mp_next(&c, &it, NULL) ||
	    (it.type != MP_ARRAY && it.type != MP_STR))
		return err_setc(e, CTL_EXIT_CONN, "server response lacks \"projects\"");
	if (it.type == MP_STR && !(it.n == 1 && it.p[0] == '*'))
		return err_setc(e, CTL_EXIT_CONN, "server response: \"projects\" is neither \"*\" nor a list");
	*all = it.type == MP_STR;
	for (uint32_t i = 0; it.type == MP_ARRAY && i < it.n; i++) {
		const char *p;
		size_t n;
		if (mp_get_str(&c, &p, &n, NULL) || entry_check_project(p, n, e) || n == 0)
			return err_setc(e, CTL_EXIT_CONN, "server response: \"projects\" holds a name that is not a "
					"project id");
		buf_add(names, p, n);
		buf_addc(names, '\0');
	}
	return 0;
}

static int fetch(struct session *s, const struct rederive_ask *q, const struct checkpoint *cp, struct haul *h,
		 bool *whole, struct err *e)
{
	struct buf names;
	bool all = false;
	buf_init(&names);
	int rc = rederive_granted(s, &all, &names, e);
	*whole = all;
	h->project = q->project;
	if (rc == 0 && all)
		rc = pages_entries(s, NULL, 0, cp->size, cp, keep, h, e);
	else if (rc == 0 && q->project)
		rc = pages_entries(s, q->project, 0, cp->size, cp, keep, h, e);
	for (size_t at = 0; rc == 0 && !all && !q->project && at < names.len;
	     at += strlen((const char *)names.data + at) + 1)
		rc = pages_entries(s, (const char *)names.data + at, 0, cp->size, cp, keep, h, e);
	buf_free(&names);
	return rc;
}

static int by_seq(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Replays the entries in sequence order as scoped's reindex does: the
 * stored body, nobody's role (what the body records decides). */
static int replay(struct haul *h, struct scope_mem *m, uint64_t *count, struct err *e)
{
	struct scope_kv kv;
	struct buf sent;
	int rc = 0;
	scope_mem_kv(m, &kv);
	buf_init(&sent);
	if (h->n)
		qsort(h->v, h->n, sizeof *h->v, by_seq);
	for (size_t i = 0; rc == 0 && i < h->n; i++) {
		struct entry en;
		if (i && h->v[i].seq == h->v[i - 1].seq)
			continue;	/* a project the server named twice */
		if (entry_decode(h->v[i].p, h->v[i].n, &en, e) ||
		    scope_mem_add_entry(m, h->v[i].seq, h->v[i].p, h->v[i].n, e) ||
		    domain_apply_entry(&kv, &en, false, true, NULL, &sent, e))
			rc = err_setc(e, CTL_EXIT_VERIFY, "the proven entries do not replay through the rules: %s",
				      e->msg);
		else
			++*count;
	}
	buf_free(&sent);
	return rc;
}

/* ---- the document, re-derived ---- */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The receivables' days overdue count to the day asked for: the server's
 * answer must say that day. */
static int as_of_day(const struct rederive_ask *q, const struct buf *doc, uint64_t *at, struct err *e)
{
	const char *asked = NULL, *day;
	size_t n;
	for (size_t i = 0; i < q->nparams; i++)
		if (strcmp(q->params[i].key, "as_of") == 0)
			asked = q->params[i].value;
	if (asked == NULL || !time_date_ok(asked, strlen(asked)))
		return err_setc(e, CTL_EXIT_USAGE, "report receivables is re-derived for a day it names (as_of)");
	if (res_str(doc->data, doc->len, "as_of_date", &day, &n, e))
		return err_setc(e, CTL_EXIT_CONN, "the server's receivables report does not say the day it counts "
				"to (as_of_date): it cannot be re-derived");
	if (n != strlen(asked) || memcmp(day, asked, n) != 0)
		return err_setc(e, CTL_EXIT_VERIFY, "the server counts the receivables to %s, not to %s as asked",
				show(day, n), asked);
	*at = (uint64_t)time_date_days(asked) * 86400000000ull;
	return 0;
}

/* The unbilled, quotes, agreements and notices reports' ages count to the server's as_of_us,
 * which must be about now: else it could shift every age. */
static int as_of(const struct rederive_ask *q, const struct buf *doc, uint64_t *at, struct err *e)
{
	struct mp_cur c;
	*at = 0;
	if (q->report && strcmp(q->report, "receivables") == 0)
		return as_of_day(q, doc, at, e);
	static const char *const AGED[] = { "unbilled", "quotes", "agreements", "notices", "cases",
					    "acceptance", "links" };
	size_t i = 0;
	while (q->report && i < sizeof AGED / sizeof AGED[0] && strcmp(q->report, AGED[i]) != 0)
		i++;
	if (q->report == NULL || i == sizeof AGED / sizeof AGED[0])
		return 0;
	if (mp_map_find(doc->data, doc->len, "as_of_us", &c, NULL) != 1 || mp_get_uint(&c, at, NULL))
		return err_setc(e, CTL_EXIT_CONN, "the server's %s report does not say the time its ages "
				"count to (as_of_us): it cannot be re-derived", q->report);
	uint64_t now = now_us(), off = *at > now ? *at - now : now - *at;
	if (off > REDERIVE_CLOCK_US)
		return err_setc(e, CTL_EXIT_VERIFY, "the server counts the %s ages to a time %llu s from "
				"this machine's clock (more than %llu allowed): its ages cannot be checked",
				q->report, (unsigned long long)(off / 1000000u), (unsigned long long)(REDERIVE_CLOCK_US / 1000000u));
	return 0;
}

static int derive(struct scope_mem *m, const struct rederive_ask *q, uint64_t at, struct buf *out,
		  struct err *e)
{
	struct scope_kv kv;
	size_t plen = q->project ? strlen(q->project) : 0;
	scope_mem_kv(m, &kv);
	/* the map holds only the projects the server's answer covers: no grant to apply */
	int rc = q->report ? report_named(&kv, q->report, q->project, plen, NULL, NULL, at, NULL, out, NULL, e)
			   : report_status(&kv, q->project, plen, NULL, out, NULL, e);
	return rc ? err_setc(e, CTL_EXIT_VERIFY, "the proven entries do not give the %s the server answered: %s",
			     q->op, e->msg) : 0;
}

/* ---- the verdict ---- */

static void value_json(const uint8_t *p, size_t n, struct buf *out)
{
	buf_reset(out);
	if (p == NULL)
		buf_adds(out, "(none)");
	else if (msgpack_to_json(p, n, out, NULL))
		buf_adds(out, "(unreadable)");
}

static void print_diffs(const struct rederive_ask *q, const struct docdiffs *d, const struct rederived *r)
{
	struct buf a, b;
	buf_init(&a);
	buf_init(&b);
	fprintf(stderr, "scopectl: VERIFICATION FAILED: the server's %s%s%s%s is not what the %llu entries proven "
		"up to checkpoint size %llu give (%zu difference%s):\n", q->report ? q->report : q->op,
		q->report ? " report" : "", q->project ? " of " : "", q->project ? showz(q->project) : "",
		(unsigned long long)r->entries, (unsigned long long)r->size, d->total, d->total == 1 ? "" : "s");
	for (size_t i = 0; i < d->kept; i++) {
		value_json(d->d[i].a, d->d[i].an, &a);
		value_json(d->d[i].b, d->d[i].bn, &b);
		fprintf(stderr, "  %s: server %s, re-derived %s\n", showz(d->d[i].path), showz(buf_cstr(&a)),
			showz(buf_cstr(&b)));
	}
	if (d->total > d->kept)
		fprintf(stderr, "  ... and %zu more\n", d->total - d->kept);
	buf_free(&a);
	buf_free(&b);
}

static void verdict_json(const struct docdiffs *d, const struct rederived *r)
{
	struct buf out;
	buf_init(&out);
	buf_printf(&out, "{\"verified\":false,\"entries\":%llu,\"checkpoint_size\":%llu,\"whole_log\":%s,"
		   "\"differences\":[", (unsigned long long)r->entries, (unsigned long long)r->size,
		   r->whole_log ? "true" : "false");
	for (size_t i = 0; i < d->kept; i++) {
		buf_adds(&out, i ? ",{\"path\":" : "{\"path\":");
		json_put_str(&out, d->d[i].path, strlen(d->d[i].path));
		if (d->d[i].a) {
			buf_adds(&out, ",\"server\":");
			msgpack_to_json(d->d[i].a, d->d[i].an, &out, NULL);
		}
		if (d->d[i].b) {
			buf_adds(&out, ",\"rederived\":");
			msgpack_to_json(d->d[i].b, d->d[i].bn, &out, NULL);
		}
		buf_addc(&out, '}');
	}
	buf_printf(&out, "],\"more\":%zu}", d->total - d->kept);
	printf("%s\n", buf_cstr(&out));
	buf_free(&out);
}

int rederive(struct session *s, const struct rederive_ask *q, bool json, struct buf *doc,
	     struct rederived *r, struct err *e)
{
	struct checkpoint cp;
	struct haul h = { 0 };
	struct buf mine;
	struct scope_mem *m = scope_mem_new();
	uint64_t at;
	memset(r, 0, sizeof *r);
	buf_init(&mine);
	if (m == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	int rc = pinned(s, q, doc, &cp, e);
	if (rc == 0) {
		r->size = cp.size;
		rc = as_of(q, doc, &at, e) || fetch(s, q, &cp, &h, &r->whole_log, e) ||
		     replay(&h, m, &r->entries, e) || derive(m, q, at, &mine, e) ? -1 : 0;
	}
	if (rc == 0) {
		struct docdiffs *d = malloc(sizeof *d);
		rc = d == NULL ? err_setc(e, CTL_EXIT_USAGE, "out of memory")
			       : docdiff(doc->data, doc->len, mine.data, mine.len, d);
		if (rc < 0 && d)
			err_setc(e, CTL_EXIT_CONN, "server response: the %s cannot be read", q->op);
		if (rc == 1) {
			print_diffs(q, d, r);
			if (json)
				verdict_json(d, r);
		}
		free(d);
	}
	for (size_t i = 0; i < h.n; i++)
		free(h.v[i].p);
	free(h.v);
	buf_free(&mine);
	scope_mem_free(m);
	return rc;
}

void rederive_mark(const struct buf *doc, const struct rederived *r, struct buf *out)
{
	struct mp_cur c;
	uint32_t n = 0;
	mp_cur_init(&c, doc->data, doc->len);
	mp_get_map(&c, &n, NULL);
	buf_reset(out);
	mp_pack_map(out, n + 1);
	buf_add(out, c.p, mp_left(&c));
	mp_pack_cstr(out, "verified");
	mp_pack_map(out, 3);
	mp_pack_cstr(out, "entries");
	mp_pack_uint(out, r->entries);
	mp_pack_cstr(out, "checkpoint_size");
	mp_pack_uint(out, r->size);
	mp_pack_cstr(out, "whole_log");
	mp_pack_bool(out, r->whole_log);
}

void rederive_note(const struct rederived *r)
{
	fprintf(stderr, "scopectl: verified: re-derived from %llu proven entries up to checkpoint size %llu%s\n",
		(unsigned long long)r->entries, (unsigned long long)r->size,
		r->whole_log ? " (the whole log read: no entry left out)"
			     : " (each project's listing proven; an entry left out of a listing, or a project "
			       "the server did not name, needs a grant for all projects to be seen)");
}
