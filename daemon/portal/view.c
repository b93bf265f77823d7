#include "view.h"

#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "html.h"
#include "i18n.h"

/* The project and each item a link is for: what the client reads to
 * decide it, in plain words. */

const char *view_tr(const struct view *v, const char *key)
{
	return tr(v->c->lang, key);
}

int view_load(const struct view *v, char type, uint64_t number, const struct rfield *f, size_t nf, void *obj,
	      size_t size)
{
	struct key k;
	key_init(&k, type, v->c->project, v->c->plen);
	key_u64(&k, number);
	return state_load(v->c->kv, &k, f, nf, obj, size, v->e);
}

int view_begin(struct view *v)
{
	struct key k;
	key_init(&k, 'p', v->c->project, v->c->plen);
	int rc = LOAD(v->c->kv, &k, PROJ, &v->proj, v->e);
	if (rc == 0)
		return err_set(v->e, "project %.*s does not exist", (int)v->c->plen, v->c->project);
	return rc < 0 ? -1 : 0;
}

static void money(struct view *v, uint64_t minor)
{
	html_money(v->b, v->c->lang, minor, v->proj.exp, v->proj.currency);
}

static void heading(struct view *v, const char *what, const char *ref, const char *title, size_t tn)
{
	buf_printf(v->b, "<section class=\"item\">\n<h2>%s", view_tr(v, what));
	if (ref)
		buf_printf(v->b, " %s", ref);
	if (tn) {
		buf_adds(v->b, ": ");
		html_esc(v->b, title, tn);
	}
	buf_adds(v->b, "</h2>\n");
}

/* A fact whose value is the plain words for an enum value. */
static void word_fact(struct view *v, const char *label, const char *value, size_t n)
{
	char key[40];
	snprintf(key, sizeof key, "%.*s", (int)(n < sizeof key ? n : sizeof key - 1), value);
	html_dt(v->b, view_tr(v, label));
	html_escs(v->b, view_tr(v, key));
	html_dd_end(v->b);
}

/* A long text, kept as written (line breaks shown by the stylesheet). */
static void text_fact(struct view *v, const char *label, const char *s, size_t n)
{
	html_dt(v->b, view_tr(v, label));
	buf_adds(v->b, "<span class=\"text\">");
	html_esc(v->b, s, n);
	buf_adds(v->b, "</span>");
	html_dd_end(v->b);
}

static void time_fact(struct view *v, const char *label, uint64_t us)
{
	html_dt(v->b, view_tr(v, label));
	html_time(v->b, v->c->lang, us);
	html_dd_end(v->b);
}

static int failed(struct view *v)
{
	return buf_failed(v->b) ? err_set(v->e, "out of memory") : 0;
}

/* The answer in force for an item (seq 0: none yet). */
int view_answered(struct view *v, uint64_t seq)
{
	if (seq == 0)
		return 0;
	buf_printf(v->b, "<h3>%s</h3>\n", view_tr(v, "record.answers"));
	return view_answer(v, seq);
}

/* "Corrected" in a section's facts when its entry's body was (fld_entry_shown). */
static void corrected_fact(struct view *v, const struct buf *body)
{
	if (body->len)
		html_fact(v->b, view_tr(v, "record.corrected"), view_tr(v, "record.corrected.yes"),
			  strlen(view_tr(v, "record.corrected.yes")));
}

int view_project(struct view *v)
{
	struct entry en;
	struct buf body;
	const char *s;
	size_t n;
	buf_init(&body);
	if (fld_entry_shown(v->c->kv, v->proj.seq, &en, &body, v->e)) {
		buf_free(&body);
		return -1;
	}
	buf_printf(v->b, "<header class=\"project\">\n<p class=\"kicker\">%s</p>\n<h1>", view_tr(v, "project"));
	fld_str(&en, "title", &s, &n);
	html_esc(v->b, s, n);
	buf_adds(v->b, "</h1>\n<dl>\n");
	if (fld_str(&en, "client", &s, &n))
		html_fact(v->b, view_tr(v, "project.client"), s, n);
	if (fld_str(&en, "client_lead", &s, &n))
		html_fact(v->b, view_tr(v, "project.client_lead"), s, n);
	if (fld_str(&en, "vendor_lead", &s, &n))
		html_fact(v->b, view_tr(v, "project.vendor"), s, n);
	if (fld_str(&en, "contract_type", &s, &n)) {
		char key[24];
		snprintf(key, sizeof key, "contract.%.*s", (int)(n < 8 ? n : 8), s);
		html_fact(v->b, view_tr(v, "project.type"), view_tr(v, key), strlen(view_tr(v, key)));
	}
	html_dt(v->b, view_tr(v, "project.contract"));
	money(v, v->proj.amount);
	html_dd_end(v->b);
	corrected_fact(v, &body);
	buf_adds(v->b, "</dl>\n</header>\n");
	buf_free(&body);
	return failed(v);
}

int view_documents(struct view *v, const struct entry *en)
{
	struct mp_cur c;
	uint32_t n;
	buf_printf(v->b, "<h3>%s</h3>\n", view_tr(v, "documents"));
	if (!fld_array(en, "documents", &c, &n) || n == 0) {
		buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, "documents.none"));
		return failed(v);
	}
	buf_adds(v->b, "<ul class=\"docs\">\n");
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p;
		size_t pn, nn, hn;
		const char *name, *sha;
		uint64_t size;
		if (fld_next_map(&c, &p, &pn, v->e))
			return -1;
		fld_map_str(p, pn, "name", &name, &nn);
		fld_map_str(p, pn, "sha256", &sha, &hn);
		fld_map_u64(p, pn, "size", &size);
		char hex[65];
		snprintf(hex, sizeof hex, "%.*s", (int)(hn < 64 ? hn : 64), sha);
		buf_adds(v->b, "<li><span class=\"doc-name\">");
		html_esc(v->b, name, nn);
		buf_printf(v->b, "</span> <span class=\"doc-size\">%llu%s</span><br><code class=\"hash\">SHA-256 ",
			   (unsigned long long)size, view_tr(v, "document.size"));
		html_escs(v->b, hex);
		buf_adds(v->b, "</code>");
		if (v->has_file && v->has_file(v->fctx, hex)) {
			/* relative to the document's base, /l/TOKEN/: the content names no token */
			buf_adds(v->b, "<br><a class=\"download\" href=\"doc/");
			html_escs(v->b, hex);
			buf_printf(v->b, "\" download>%s</a>", view_tr(v, "document.download"));
		} else if (fld_map_bool(p, pn, "held_elsewhere")) {
			buf_printf(v->b, " <span class=\"note\">%s</span>", view_tr(v, "document.elsewhere"));
		}
		buf_adds(v->b, "</li>\n");
	}
	buf_adds(v->b, "</ul>\n");
	return failed(v);
}

/* The baseline version in force just before entry seq: the newest
 * recorded before it; 0 if none. */
static int baseline_at(struct view *v, uint64_t seq, uint64_t *version, struct base *b)
{
	for (uint64_t ver = v->proj.baseline; ver > 0; ver--) {
		int rc = VIEW_LOAD(v, 'b', ver, BASE, b);
		if (rc < 0)
			return -1;
		if (rc == 1 && b->seq < seq) {
			*version = ver;
			return 0;
		}
	}
	*version = 0;
	return 0;
}

/* The text of item id (n bytes) in baseline entry bl; false if it has none. */
static bool item_text(const struct entry *bl, const char *id, size_t n, const char **s, size_t *sn, struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	if (!fld_array(bl, "items", &c, &count))
		return false;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p;
		size_t pn, idn;
		const char *iid;
		if (fld_next_map(&c, &p, &pn, e))
			return false;
		if (fld_map_str(p, pn, "id", &iid, &idn) && idn == n && memcmp(iid, id, n) == 0)
			return fld_map_str(p, pn, "text", s, sn);
	}
	return false;
}

int view_items(struct view *v, const struct entry *en, const char *label)
{
	struct mp_cur c;
	uint32_t n;
	struct base b;
	struct entry bl;
	uint64_t version;
	buf_printf(v->b, "<h3>%s</h3>\n", view_tr(v, label));
	if (!fld_array(en, "items", &c, &n) || n == 0) {
		buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, "change.no_items"));
		return failed(v);
	}
	if (baseline_at(v, en->seq, &version, &b) || (version && fld_entry(v->c->kv, b.seq, &bl, v->e)))
		return -1;
	buf_adds(v->b, "<dl class=\"items\">\n");
	for (uint32_t i = 0; i < n; i++) {
		const char *id, *text;
		size_t idn, tn;
		if (mp_get_str_checked(&c, &id, &idn, v->e))
			return -1;
		buf_adds(v->b, "<dt>");
		html_esc(v->b, id, idn);
		buf_adds(v->b, "</dt><dd><span class=\"text\">");
		if (version && item_text(&bl, id, idn, &text, &tn, v->e))
			html_esc(v->b, text, tn);
		else
			buf_adds(v->b, view_tr(v, "item.missing"));
		buf_adds(v->b, "</span></dd>\n");
	}
	buf_adds(v->b, "</dl>\n");
	return failed(v);
}

static void effort(struct view *v, uint64_t hours, uint64_t minutes)
{
	buf_printf(v->b, "%llu%s", (unsigned long long)hours, view_tr(v, "hours"));
	if (minutes)
		buf_printf(v->b, "%s%llu%s", v->c->lang == PAGE_JA ? "" : " ", (unsigned long long)minutes,
			   view_tr(v, "minutes"));
}

static void days(struct view *v, bool present, uint64_t n, bool earlier)
{
	if (!present || n == 0)
		buf_adds(v->b, view_tr(v, "days.none"));
	else
		buf_printf(v->b, "%llu%s", (unsigned long long)n, view_tr(v, earlier ? "days.earlier" : "days.later"));
}

int view_quote_facts(struct view *v, uint64_t seq, bool rev_fact)
{
	struct entry q;
	struct buf body;
	uint64_t u, m, fee, tax;
	const char *s;
	size_t n;
	buf_init(&body);
	if (fld_entry_shown(v->c->kv, seq, &q, &body, v->e)) {
		buf_free(&body);
		return -1;
	}
	buf_adds(v->b, "<dl class=\"money\">\n");
	if (rev_fact) {
		html_dt(v->b, view_tr(v, "quote.revision"));
		fld_u64(&q, "revision", &u);
		buf_printf(v->b, "%llu", (unsigned long long)u);
		html_dd_end(v->b);
	}
	fld_u64(&q, "fee_minor", &fee);
	fld_u64(&q, "tax_minor", &tax);
	html_dt(v->b, view_tr(v, "quote.fee"));
	money(v, fee);
	html_dd_end(v->b);
	html_dt(v->b, view_tr(v, "quote.tax"));
	money(v, tax);
	html_dd_end(v->b);
	buf_printf(v->b, "<dt class=\"total\">%s</dt><dd class=\"total\">", view_tr(v, "quote.total"));
	money(v, fee + tax);	/* each at most AMOUNT_MAX: no overflow */
	html_dd_end(v->b);
	fld_u64(&q, "effort_hours", &u);
	fld_u64(&q, "effort_minutes", &m);
	html_dt(v->b, view_tr(v, "quote.effort"));
	effort(v, u, m);
	html_dd_end(v->b);
	html_dt(v->b, view_tr(v, "quote.schedule"));
	bool has_days = fld_u64(&q, "schedule_days", &u);
	days(v, has_days, u, false);
	html_dd_end(v->b);
	if (fld_str(&q, "valid_until", &s, &n))
		html_fact(v->b, view_tr(v, "quote.valid_until"), s, n);
	if (body.len)
		html_fact(v->b, view_tr(v, "quote.corrected"), view_tr(v, "quote.corrected.yes"),
			  strlen(view_tr(v, "quote.corrected.yes")));
	buf_adds(v->b, "</dl>\n");
	int rc = view_documents(v, &q);
	buf_free(&body);
	return rc;
}

/* The quote in force, as corrected: fee, tax, total, effort, schedule,
 * validity, documents. */
static int quote(struct view *v, const struct chg *ch, uint64_t rev)
{
	buf_printf(v->b, "<h3>%s</h3>\n", view_tr(v, "quote"));
	if (ch->quote_rev == 0 || ch->quote_seq == 0 || strcmp(ch->cls, "out_of_scope") != 0) {
		buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, "quote.none"));
		return failed(v);
	}
	if (rev && rev != ch->quote_rev) {
		buf_printf(v->b, "<p class=\"warning\">%s%llu%s</p>\n", view_tr(v, "quote.replaced"),
			   (unsigned long long)rev, view_tr(v, "quote.replaced.end"));
	}
	return view_quote_facts(v, ch->quote_seq, true);
}

/* A change's section; its quote in force (for a link to revision rev), or
 * every revision with its answers (all). */
/* The change and its assessment as corrected; their bodies in cb and ab. */
static int change_body(struct view *v, uint64_t number, uint64_t rev, bool all, struct buf *cb, struct buf *ab)
{
	struct chg ch;
	struct entry en, as;
	const char *s;
	size_t n;
	uint64_t u, aseq;
	char ref[32];
	int rc = VIEW_LOAD(v, 'c', number, CHG, &ch);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(v->e, "CR-%llu does not exist", (unsigned long long)number);
	if (fld_entry_shown(v->c->kv, ch.seq, &en, cb, v->e))
		return -1;
	snprintf(ref, sizeof ref, "CR-%llu", (unsigned long long)number);
	heading(v, "for.change", ref, ch.title, strlen(ch.title));
	buf_adds(v->b, "<dl>\n");
	word_fact(v, "change.state", ch.status, strlen(ch.status));
	if (fld_str(&en, "description", &s, &n))
		text_fact(v, "change.description", s, n);
	if (fld_str(&en, "raised_by", &s, &n))
		html_fact(v->b, view_tr(v, "change.raised_by"), s, n);
	time_fact(v, "change.raised_at", ch.raised_at);
	if (fld_u64(&en, "occurred_at", &u))
		time_fact(v, "change.occurred_at", u);
	if (fld_str(&en, "channel", &s, &n))
		word_fact(v, "change.channel", s, n);
	if (fld_str(&en, "reason", &s, &n))
		word_fact(v, "change.reason", s, n);
	corrected_fact(v, cb);
	buf_adds(v->b, "</dl>\n");
	if (view_items(v, &en, "change.items"))
		return -1;
	buf_printf(v->b, "<h3>%s</h3>\n", view_tr(v, "assessment"));
	struct key ak;
	key_init(&ak, 's', v->c->project, v->c->plen);
	key_u64(&ak, number);
	rc = ch.assessed ? state_get_seq(v->c->kv, &ak, &aseq, v->e) : 0;
	if (rc < 0 || (rc == 1 && fld_entry_shown(v->c->kv, aseq, &as, ab, v->e)))
		return -1;
	if (rc == 1) {
		buf_adds(v->b, "<dl>\n");
		word_fact(v, "assessment.class", ch.cls, strlen(ch.cls));
		if (fld_str(&as, "rationale", &s, &n))
			text_fact(v, "assessment.rationale", s, n);
		corrected_fact(v, ab);
		buf_adds(v->b, "</dl>\n");
	} else {
		buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, "assessment.none"));
	}
	if (all ? view_revisions(v, &ch) : (quote(v, &ch, rev) || view_answered(v, ch.response_seq)))
		return -1;
	buf_adds(v->b, "</section>\n");
	return failed(v);
}

static int change_section(struct view *v, uint64_t number, uint64_t rev, bool all)
{
	struct buf cb, ab;
	buf_init(&cb);
	buf_init(&ab);
	int rc = change_body(v, number, rev, all, &cb, &ab);
	buf_free(&cb);
	buf_free(&ab);
	return rc;
}

int view_change(struct view *v, uint64_t number, uint64_t rev)
{
	return change_section(v, number, rev, false);
}

int view_change_record(struct view *v, uint64_t number)
{
	return change_section(v, number, 0, true);
}

static int baseline_body(struct view *v, uint64_t version, struct buf *body)
{
	struct base b;
	struct entry en;
	struct mp_cur c;
	uint32_t n;
	const char *s;
	size_t sn;
	char ref[40];
	int rc = version ? VIEW_LOAD(v, 'b', version, BASE, &b) : 0;
	if (rc < 0)
		return -1;
	if (rc == 0) {
		buf_printf(v->b, "<section class=\"item\">\n<h2>%s</h2>\n<p class=\"none\">%s</p>\n</section>\n",
			   view_tr(v, "for.baseline"), view_tr(v, "baseline.none"));
		return failed(v);
	}
	if (fld_entry_shown(v->c->kv, b.seq, &en, body, v->e))
		return -1;
	snprintf(ref, sizeof ref, "(%s %llu)", view_tr(v, "baseline.version"), (unsigned long long)version);
	heading(v, "for.baseline", ref, "", 0);
	buf_adds(v->b, "<dl>\n");
	html_dt(v->b, view_tr(v, "change.state"));
	buf_adds(v->b, view_tr(v, b.confirmed ? "baseline.confirmed" : "baseline.unconfirmed"));
	html_dd_end(v->b);
	time_fact(v, "change.raised_at", en.time_us);
	if (fld_str(&en, "rule", &s, &sn))
		text_fact(v, "baseline.rule", s, sn);
	corrected_fact(v, body);
	buf_printf(v->b, "</dl>\n<h3>%s</h3>\n<dl class=\"items\">\n", view_tr(v, "baseline.items"));
	fld_array(&en, "items", &c, &n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p;
		size_t pn, idn, tn;
		const char *id, *text;
		if (fld_next_map(&c, &p, &pn, v->e))
			return -1;
		fld_map_str(p, pn, "id", &id, &idn);
		fld_map_str(p, pn, "text", &text, &tn);
		buf_adds(v->b, "<dt>");
		html_esc(v->b, id, idn);
		buf_adds(v->b, "</dt><dd><span class=\"text\">");
		html_esc(v->b, text, tn);
		buf_adds(v->b, "</span></dd>\n");
	}
	buf_adds(v->b, "</dl>\n");
	if (view_documents(v, &en))
		return -1;
	buf_adds(v->b, "</section>\n");
	return failed(v);
}

int view_baseline(struct view *v, uint64_t version)
{
	struct buf body;
	buf_init(&body);
	int rc = baseline_body(v, version, &body);
	buf_free(&body);
	return rc;
}

int view_amendment(struct view *v, uint64_t number)
{
	struct amd a;
	struct entry en;
	struct mp_cur c;
	uint32_t n;
	const char *s;
	size_t sn;
	char ref[32];
	int rc = VIEW_LOAD(v, 'a', number, AMD, &a);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(v->e, "AMD-%llu does not exist", (unsigned long long)number);
	if (fld_entry(v->c->kv, a.seq, &en, v->e))
		return -1;
	snprintf(ref, sizeof ref, "AMD-%llu", (unsigned long long)number);
	fld_str(&en, "title", &s, &sn);
	heading(v, "for.amendment", ref, s, sn);
	buf_adds(v->b, "<dl>\n");
	word_fact(v, "change.state", a.state, strlen(a.state));
	if (a.effective[0])
		html_fact(v->b, view_tr(v, "amendment.effective"), a.effective, strlen(a.effective));
	buf_printf(v->b, "</dl>\n<h3>%s</h3>\n<dl class=\"money\">\n", view_tr(v, "amendment.lines"));
	fld_array(&en, "lines", &c, &n);
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p;
		size_t pn, crn;
		const char *cr;
		uint64_t amount;
		struct chg ch;
		if (fld_next_map(&c, &p, &pn, v->e))
			return -1;
		fld_map_str(p, pn, "change", &cr, &crn);
		fld_map_u64(p, pn, "amount_minor", &amount);
		rc = VIEW_LOAD(v, 'c', fld_ref_number(cr, crn), CHG, &ch);
		if (rc < 0)
			return -1;
		buf_adds(v->b, "<dt>");
		html_esc(v->b, cr, crn);
		if (rc == 1) {
			buf_adds(v->b, ": ");
			html_escs(v->b, ch.title);
		}
		buf_adds(v->b, "</dt><dd>");
		money(v, amount);
		html_dd_end(v->b);
	}
	buf_printf(v->b, "<dt class=\"total\">%s</dt><dd class=\"total\">", view_tr(v, "amendment.total"));
	money(v, a.total);
	buf_adds(v->b, "</dd>\n</dl>\n");
	if (view_documents(v, &en) || view_answered(v, a.response_seq))
		return -1;
	buf_adds(v->b, "</section>\n");
	return failed(v);
}

int view_notice(struct view *v, uint64_t number)
{
	struct ntc t;
	struct entry en;
	const char *s;
	size_t n;
	char ref[32];
	int rc = VIEW_LOAD(v, 't', number, NTC, &t);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(v->e, "NTC-%llu does not exist", (unsigned long long)number);
	if (fld_entry(v->c->kv, t.seq, &en, v->e))
		return -1;
	snprintf(ref, sizeof ref, "NTC-%llu", (unsigned long long)number);
	heading(v, "for.notice", ref, "", 0);
	buf_adds(v->b, "<dl>\n");
	word_fact(v, "notice.type", t.type, strlen(t.type));
	word_fact(v, "change.state", t.state, strlen(t.state));
	time_fact(v, "notice.at", t.at);
	if (fld_str(&en, "text", &s, &n))
		text_fact(v, "notice.text", s, n);
	html_dt(v->b, view_tr(v, "notice.fee"));
	if (t.has_fee) {
		/* the sign as recorded: "increase" and "decrease" (the record's
		 * fee_down cannot tell them apart, both being 8 bytes long) */
		fld_str(&en, "fee_effect_sign", &s, &n);
		buf_printf(v->b, "%s ", view_tr(v, n == 8 && memcmp(s, "decrease", 8) == 0 ? "fee.decrease" : "fee.increase"));
		money(v, t.fee);
	} else {
		buf_adds(v->b, view_tr(v, "days.none"));
	}
	html_dd_end(v->b);
	html_dt(v->b, view_tr(v, "notice.schedule"));
	days(v, t.has_days, t.days, t.gain);
	html_dd_end(v->b);
	if (t.respond_by[0])
		html_fact(v->b, view_tr(v, "notice.respond_by"), t.respond_by, strlen(t.respond_by));
	if (t.change) {
		snprintf(ref, sizeof ref, "CR-%llu", (unsigned long long)t.change);
		html_fact(v->b, view_tr(v, "notice.opens"), ref, strlen(ref));
	}
	buf_adds(v->b, "</dl>\n");
	if (view_documents(v, &en) || view_answered(v, t.response_seq))
		return -1;
	buf_adds(v->b, "</section>\n");
	return failed(v);
}

int view_delivery(struct view *v, uint64_t number)
{
	struct dlv d;
	struct entry en;
	struct mp_cur c;
	uint32_t n;
	char ref[32];
	int rc = VIEW_LOAD(v, 'd', number, DLV, &d);
	if (rc <= 0)
		return rc < 0 ? -1 : err_set(v->e, "DLV-%llu does not exist", (unsigned long long)number);
	if (fld_entry(v->c->kv, d.seq, &en, v->e))
		return -1;
	snprintf(ref, sizeof ref, "DLV-%llu", (unsigned long long)number);
	heading(v, "for.delivery", ref, d.deliverable, strlen(d.deliverable));
	buf_adds(v->b, "<dl>\n");
	html_fact(v->b, view_tr(v, "delivery.deliverable"), d.deliverable, strlen(d.deliverable));
	word_fact(v, "change.state", d.outcome, strlen(d.outcome));
	time_fact(v, "delivery.at", d.delivered_at);
	time_fact(v, "delivery.deadline", d.deadline_us);
	buf_adds(v->b, "</dl>\n");
	if (strcmp(d.outcome, "open") == 0)
		buf_printf(v->b, "<p class=\"note\">%s</p>\n", view_tr(v, "delivery.deadline_note"));
	if (view_items(v, &en, "delivery.items"))
		return -1;
	buf_printf(v->b, "<h3>%s</h3>\n", view_tr(v, "delivery.changes"));
	if (!fld_array(&en, "changes", &c, &n) || n == 0)
		buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, "record.no_changes"));
	else
		buf_adds(v->b, "<ul>\n");
	for (uint32_t i = 0; i < n; i++) {
		const char *cr;
		size_t crn;
		struct chg ch;
		if (mp_get_str_checked(&c, &cr, &crn, v->e))
			return -1;
		rc = VIEW_LOAD(v, 'c', fld_ref_number(cr, crn), CHG, &ch);
		if (rc < 0)
			return -1;
		buf_adds(v->b, "<li>");
		html_esc(v->b, cr, crn);
		if (rc == 1) {
			buf_adds(v->b, ": ");
			html_escs(v->b, ch.title);
		}
		buf_adds(v->b, "</li>\n");
	}
	if (n)
		buf_adds(v->b, "</ul>\n");
	if (view_documents(v, &en) || view_answered(v, d.outcome_seq))
		return -1;
	buf_adds(v->b, "</section>\n");
	return failed(v);
}
