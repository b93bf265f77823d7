#include "view.h"

#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "html.h"
#include "i18n.h"

/* A `project` link's page: the project's objective record (the agreed
 * scope, every change with its state, every quote revision and the answers
 * given to it, what awaits the client), and the answers as recorded. */

static void word(struct view *v, const char *value, size_t n)
{
	char key[40];
	snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), value);
	html_escs(v->b, view_tr(v, key));
}

/* The answer as it now reads: a correction of who answered, their title,
 * the channel or the reason shows (fld_entry_shown). */
static int answer_facts(struct view *v, uint64_t seq, struct buf *body)
{
	struct entry en;
	const char *s;
	size_t n;
	uint64_t u;
	if (fld_entry_shown(v->c->kv, seq, &en, body, v->e))
		return -1;
	bool accept = en.kind_len == 6 && memcmp(en.kind, "accept", 6) == 0;
	bool deemed = en.kind_len == 13 && memcmp(en.kind, "deemed_passed", 13) == 0;
	buf_adds(v->b, "<dl class=\"answer\">\n");
	html_dt(v->b, view_tr(v, "answer.decision"));
	if (deemed)
		buf_adds(v->b, view_tr(v, "deemed_passed"));
	else if (fld_str(&en, accept ? "outcome" : "decision", &s, &n))
		word(v, s, n);
	html_dd_end(v->b);
	if (fld_u64(&en, "quote", &u)) {
		html_dt(v->b, view_tr(v, "answer.quote"));
		buf_printf(v->b, "%llu", (unsigned long long)u);
		html_dd_end(v->b);
	}
	if (fld_str(&en, "respondent", &s, &n)) {
		const char *t;
		size_t tn;
		html_dt(v->b, view_tr(v, "answer.who"));
		html_esc(v->b, s, n);
		if (fld_str(&en, "respondent_title", &t, &tn)) {
			buf_adds(v->b, " (");
			html_esc(v->b, t, tn);
			buf_adds(v->b, ")");
		}
		html_dd_end(v->b);
	}
	html_dt(v->b, view_tr(v, "answer.when"));
	html_time(v->b, v->c->lang, en.time_us);
	html_dd_end(v->b);
	if (fld_str(&en, "channel", &s, &n)) {
		html_dt(v->b, view_tr(v, "answer.channel"));
		word(v, s, n);
		buf_printf(v->b, " (%s)", view_tr(v, fld_bool(&en, "on_behalf") ? "answer.behalf" : "answer.own"));
		html_dd_end(v->b);
	}
	if (fld_str(&en, "reason", &s, &n)) {
		html_dt(v->b, view_tr(v, "answer.reason"));
		buf_adds(v->b, "<span class=\"text\">");
		html_esc(v->b, s, n);
		buf_adds(v->b, "</span>");
		html_dd_end(v->b);
	}
	html_dt(v->b, view_tr(v, "receipt.seq"));
	buf_printf(v->b, "%llu", (unsigned long long)seq);
	html_dd_end(v->b);
	buf_adds(v->b, "</dl>\n");
	return buf_failed(v->b) ? err_set(v->e, "out of memory") : 0;
}

int view_answer(struct view *v, uint64_t seq)
{
	struct buf body;
	buf_init(&body);
	int rc = answer_facts(v, seq, &body);
	buf_free(&body);
	return rc;
}

/* Each record of one type of the project, in number order. */
struct each {
	struct view *v;
	int (*fn)(struct view *v, const uint8_t *rec, size_t n, uint64_t number);
	uint32_t shown;
};

static int each_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *val, size_t vn, struct err *e)
{
	(void)e;
	struct each *x = ctx;
	uint64_t number = 0;
	if (kn < 8)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a damaged record key (run scoped reindex)");
	for (size_t i = kn - 8; i < kn; i++)
		number = number << 8 | k[i];
	int rc = x->fn(x->v, val, vn, number);
	x->shown += rc == 1;
	return rc < 0 ? -1 : 0;
}

static int each(struct view *v, char type, int (*fn)(struct view *, const uint8_t *, size_t, uint64_t),
		const char *heading, const char *none)
{
	struct key k;
	struct each x = { v, fn, 0 };
	key_init(&k, type, v->c->project, v->c->plen);
	k.b[k.n++] = 0;
	buf_printf(v->b, "<section class=\"record\">\n<h2>%s</h2>\n", view_tr(v, heading));
	if (kv_scan(v->c->kv, k.b, k.n, each_one, &x, v->e) < 0)
		return -1;
	if (x.shown == 0)
		buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, none));
	buf_adds(v->b, "</section>\n");
	return buf_failed(v->b) ? err_set(v->e, "out of memory") : 0;
}

static int change_row(struct view *v, const uint8_t *rec, size_t n, uint64_t number)
{
	(void)rec, (void)n;
	return view_change_record(v, number) ? -1 : 1;
}

static int notice_row(struct view *v, const uint8_t *rec, size_t n, uint64_t number)
{
	struct ntc t;
	if (rec_unpack(NTC, NTC_N, rec, n, &t, v->e))
		return -1;
	if (t.response_seq)
		return 0;
	return view_notice(v, number) ? -1 : 1;
}

static int delivery_row(struct view *v, const uint8_t *rec, size_t n, uint64_t number)
{
	struct dlv d;
	if (rec_unpack(DLV, DLV_N, rec, n, &d, v->e))
		return -1;
	if (strcmp(d.outcome, "open") != 0)
		return 0;
	return view_delivery(v, number) ? -1 : 1;
}

int view_record(struct view *v)
{
	buf_printf(v->b, "<section class=\"record\">\n<h2>%s</h2>\n", view_tr(v, "record.baseline"));
	if (view_baseline(v, v->proj.baseline))
		return -1;
	buf_adds(v->b, "</section>\n");
	if (each(v, 'c', change_row, "record.changes", "record.no_changes") ||
	    each(v, 't', notice_row, "record.notices", "record.no_notices") ||
	    each(v, 'd', delivery_row, "record.deliveries", "record.no_deliveries"))
		return -1;
	return 0;
}
