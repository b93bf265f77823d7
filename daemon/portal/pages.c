#include "pages.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "html.h"
#include "i18n.h"
#include "view.h"

/* The functions of pages.h: the language, whether a link's item can be
 * answered, the content, the whole document with its form, the receipt
 * and the error pages. */

const char *page_lang_code(enum page_lang l)
{
	return l == PAGE_JA ? "ja" : "en";
}

/* One range of Accept-Language, [p, end): its language (ja, en) and its
 * quality in thousandths; false for any other language or a bad q. */
static bool lang_range(const char *p, const char *end, enum page_lang *l, int *q)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *tag = p;
	while (p < end && (isalnum((unsigned char)*p) || *p == '-'))
		p++;
	size_t primary = strcspn(tag, "-;, \t");
	if (primary > (size_t)(p - tag))
		primary = (size_t)(p - tag);
	if (primary == 2 && strncasecmp(tag, "ja", 2) == 0)
		*l = PAGE_JA;
	else if (primary == 2 && strncasecmp(tag, "en", 2) == 0)
		*l = PAGE_EN;
	else
		return false;
	*q = 1000;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return true;
	if (*p != ';')
		return false;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 3 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=')
		return false;
	p += 2;
	if (*p != '0' && *p != '1')
		return false;
	int v = (*p++ - '0') * 1000, scale = 100;
	if (p < end && *p == '.')
		for (p++; p < end && isdigit((unsigned char)*p) && scale; p++, scale /= 10)
			v += (*p - '0') * scale;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p != end || v > 1000)
		return false;
	*q = v;
	return true;
}

enum page_lang page_lang_pick(const char *accept_language)
{
	enum page_lang best = PAGE_EN;
	int best_q = 0;
	if (accept_language == NULL)
		return PAGE_EN;
	for (const char *p = accept_language; *p;) {
		const char *end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		enum page_lang l;
		int q;
		if (lang_range(p, end, &l, &q) && q > best_q) {
			best = l;
			best_q = q;
		}
		p = *end ? end + 1 : end;
	}
	return best;
}

static void set_why(char *why, size_t whylen, const char *s)
{
	if (whylen)
		snprintf(why, whylen, "%s", s);
}

/* The project's closure, if any: 1 closed, 0 open. */
static int closed(const struct page_ctx *c, struct err *e)
{
	struct key k;
	uint64_t seq;
	key_init(&k, 'z', c->project, c->plen);
	return state_get_seq(c->kv, &k, &seq, e);
}

/* Whether a response to baseline version is in force (the 'r' records). */
struct baseline_answer {
	char answered[40];
	bool found;
};

static int baseline_answer_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)k, (void)kn;
	struct baseline_answer *b = ctx;
	struct resp r;
	if (rec_unpack(RESP, RESP_N, v, vn, &r, e))
		return -1;
	if (strcmp(r.answered, b->answered) == 0) {
		b->found = true;
		return 1;
	}
	return 0;
}

/* 1 when the item still awaits this link's answer, 0 (why's key in
 * *key) when not, -1 on error. */
static int awaits(const struct page_ctx *c, const struct view *v, const char **key, struct err *e)
{
	const struct lnk *l = c->link;
	int rc = 1;
	*key = "closed.not_awaiting";
	if (strcmp(l->what, "change") == 0) {
		struct chg ch;
		rc = VIEW_LOAD(v, 'c', l->item, CHG, &ch);
		if (rc == 1 && (strcmp(ch.status, "quoted") != 0 || ch.quote_rev != l->quote)) {
			if (ch.response_seq && ch.quote_rev == l->quote)
				*key = "closed.answered";
			rc = 0;
		}
	} else if (strcmp(l->what, "baseline") == 0) {
		struct base b;
		rc = VIEW_LOAD(v, 'b', l->item, BASE, &b);
		if (rc == 1 && (b.confirmed || v->proj.baseline != l->item)) {
			*key = b.confirmed ? "closed.answered" : "closed.not_awaiting";
			rc = 0;
		} else if (rc == 1) {
			struct baseline_answer ba = { "", false };
			struct key k;
			snprintf(ba.answered, sizeof ba.answered, "baseline %llu", (unsigned long long)l->item);
			key_init(&k, 'r', c->project, c->plen);
			k.b[k.n++] = 0;
			if (kv_scan(c->kv, k.b, k.n, baseline_answer_one, &ba, e) < 0)
				return -1;
			if (ba.found) {
				*key = "closed.answered";
				rc = 0;
			}
		}
	} else if (strcmp(l->what, "amendment") == 0) {
		struct amd a;
		rc = VIEW_LOAD(v, 'a', l->item, AMD, &a);
		if (rc == 1 && strcmp(a.state, "awaiting") != 0) {
			*key = "closed.answered";
			rc = 0;
		}
	} else if (strcmp(l->what, "notice") == 0) {
		struct ntc t;
		rc = VIEW_LOAD(v, 't', l->item, NTC, &t);
		if (rc == 1 && t.response_seq) {
			*key = "closed.answered";
			rc = 0;
		}
	} else if (strcmp(l->what, "delivery") == 0) {
		struct dlv d;
		rc = VIEW_LOAD(v, 'd', l->item, DLV, &d);
		if (rc == 1 && (strcmp(d.outcome, "open") != 0 || c->now_us >= d.deadline_us)) {
			*key = strcmp(d.outcome, "open") != 0 ? "closed.answered" : "closed.not_awaiting";
			rc = 0;
		}
	} else {
		*key = "closed.project";
		rc = 0;
	}
	return rc;
}

/* 1 when the project has no signatory register or the link's to is on
 * it, 0 when a register no longer names them (the link answers nothing). */
static int signatory_on(const struct page_ctx *c, struct err *e)
{
	struct key k;
	struct proj p;
	key_init(&k, 'p', c->project, c->plen);
	if (LOAD(c->kv, &k, PROJ, &p, e) != 1)
		return -1;
	if (p.signatories == 0)
		return 1;
	return state_signatory(c->kv, c->project, c->plen, c->link->to, strlen(c->link->to), NULL, e);
}

int page_answerable(const struct page_ctx *c, bool *yes, char *why, size_t whylen, struct err *e)
{
	struct view v = { c, NULL, NULL, NULL, { 0 }, e };
	const char *state = link_state(c->link, c->now_us), *key;
	char k[40];
	*yes = false;
	if (strcmp(c->link->what, "project") == 0) {
		set_why(why, whylen, tr(c->lang, "closed.project"));
		return 0;
	}
	if (strcmp(state, "open") != 0) {
		snprintf(k, sizeof k, "closed.%s", state);
		set_why(why, whylen, tr(c->lang, k));
		return 0;
	}
	if (view_begin(&v))
		return -1;
	int rc = closed(c, e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		set_why(why, whylen, tr(c->lang, "closed.project_closed"));
		return 0;
	}
	rc = awaits(c, &v, &key, e);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		if ((rc = signatory_on(c, e)) < 0)
			return -1;
		if (rc == 0)
			key = "closed.not_signatory";
	}
	*yes = rc == 1;
	set_why(why, whylen, rc == 1 ? "" : tr(c->lang, key));
	return 0;
}

int page_content(const struct page_ctx *c, bool (*has_file)(void *ctx, const char *sha256_hex), void *fctx,
		 struct buf *out, struct err *e)
{
	struct buf b;
	buf_init(&b);
	struct view v = { c, has_file, fctx, &b, { 0 }, e };
	const struct lnk *l = c->link;
	int rc = view_begin(&v);
	if (rc == 0) {
		buf_printf(&b, "<main lang=\"%s\">\n", page_lang_code(c->lang));
		rc = view_project(&v);
	}
	if (rc)
		;
	else if (strcmp(l->what, "change") == 0)
		rc = view_change(&v, l->item, l->quote);
	else if (strcmp(l->what, "baseline") == 0)
		rc = view_baseline(&v, l->item);
	else if (strcmp(l->what, "amendment") == 0)
		rc = view_amendment(&v, l->item);
	else if (strcmp(l->what, "notice") == 0)
		rc = view_notice(&v, l->item);
	else if (strcmp(l->what, "delivery") == 0)
		rc = view_delivery(&v, l->item);
	else if (strcmp(l->what, "project") == 0)
		rc = view_record(&v);
	else
		rc = err_set(e, "LNK-%llu is for \"%s\", which the portal does not know", (unsigned long long)l->number,
			     l->what);
	buf_adds(&b, "</main>\n");
	if (rc == 0 && buf_failed(&b))
		rc = err_set(e, "out of memory");
	if (rc == 0)
		buf_add(out, b.data, b.len);
	buf_free(&b);
	return rc;
}

static void link_path(struct buf *b, const struct page_ctx *c, const char *tail)
{
	buf_adds(b, "/l/");
	html_escs(b, c->token);
	buf_adds(b, tail);
}

/* The link's base path, /l/TOKEN/: the content's document links are
 * relative to it, so the content hashed, stored as evidence and put in
 * receipts never holds the token. */
static void base_path(const struct page_ctx *c, char out[160])
{
	snprintf(out, 160, "/l/%.150s/", c->token);
}

/* The language switch of the link's page, /l/TOKEN?lang=... */
static void lang_switch(struct buf *b, const struct page_ctx *c)
{
	char path[160];
	snprintf(path, sizeof path, "/l/%.150s", c->token);
	html_lang_switch(b, c->lang, path);
}

static void hidden(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	html_escs(b, value);
	buf_adds(b, "\">\n");
}

/* The form's choices for the link's item, and the note on the reason. */
static void choices(struct buf *b, const struct page_ctx *c)
{
	static const struct {
		const char *what, *values[3], *note;
	} C[] = {
		{ "change", { "approved", "rejected", "revise" }, "form.reason_change" },
		{ "baseline", { "approved", "rejected", NULL }, "form.reason_plain" },
		{ "amendment", { "approved", "rejected", NULL }, "form.reason_plain" },
		{ "notice", { "acknowledged", "disputed", NULL }, "form.reason_notice" },
		{ "delivery", { "passed", "failed", NULL }, "form.reason_delivery" },
	};
	for (size_t i = 0; i < sizeof C / sizeof C[0]; i++) {
		if (strcmp(C[i].what, c->link->what) != 0)
			continue;
		buf_printf(b, "<fieldset>\n<legend>%s</legend>\n", tr(c->lang, "form"));
		for (size_t j = 0; j < 3 && C[i].values[j]; j++) {
			char key[40];
			snprintf(key, sizeof key, "form.%s", C[i].values[j]);
			bool was = c->typed && strcmp(c->typed->decision, C[i].values[j]) == 0;
			buf_printf(b, "<label class=\"choice\"><input type=\"radio\" name=\"%s\" value=\"%s\"%s%s> %s</label>\n",
				   PAGE_F_DECISION, C[i].values[j], j == 0 ? " required" : "", was ? " checked" : "",
				   tr(c->lang, key));
		}
		buf_printf(b, "</fieldset>\n<label class=\"field\" for=\"reason\">%s</label>\n<p class=\"note\" "
			   "id=\"reason-note\">%s</p>\n<textarea id=\"reason\" name=\"%s\" maxlength=\"4096\" "
			   "aria-describedby=\"reason-note\">",
			   tr(c->lang, "form.reason"), tr(c->lang, C[i].note), PAGE_F_REASON);
		if (c->typed)
			html_escs(b, c->typed->reason);
		buf_adds(b, "</textarea>\n");
	}
}

/* Who answers: the name (prefilled with the link's to) and title, recorded
 * as typed.  For a link to a signatory they are confirmed against the
 * register (the title prefilled from it, both required). */
static int respondent_fields(struct buf *b, const struct page_ctx *c, struct err *e)
{
	struct key k;
	struct proj p;
	struct sig s;
	int rc = 0;
	key_init(&k, 'p', c->project, c->plen);
	if (LOAD(c->kv, &k, PROJ, &p, e) != 1)
		return -1;
	bool reg = p.signatories != 0;
	if (reg && (rc = state_signatory(c->kv, c->project, c->plen, c->link->to, strlen(c->link->to), &s, e)) < 0)
		return -1;
	buf_printf(b, "<p class=\"note\">%s</p>\n<label class=\"field\" for=\"respondent\">%s</label>\n"
		   "<input type=\"text\" id=\"respondent\" name=\"%s\" required maxlength=\"200\" "
		   "autocomplete=\"name\" value=\"",
		   tr(c->lang, reg ? "form.signatory" : "form.who"), tr(c->lang, "form.name"), PAGE_F_NAME);
	html_escs(b, c->typed && c->typed->name[0] ? c->typed->name : c->link->to);
	buf_printf(b, "\">\n<label class=\"field\" for=\"respondent_title\">%s</label>\n<input type=\"text\" "
		   "id=\"respondent_title\" name=\"%s\"%s maxlength=\"200\" "
		   "autocomplete=\"organization-title\" value=\"",
		   tr(c->lang, "form.title"), PAGE_F_TITLE, reg ? " required" : "");
	if (c->typed && c->typed->title[0])
		html_escs(b, c->typed->title);
	else if (rc == 1)
		html_escs(b, s.title);
	buf_adds(b, "\">\n");
	return 0;
}

int page_document(const struct page_ctx *c, const struct buf *content, bool answerable, const char *why,
		  const char *csrf, const char *shown_hex, const char *error, struct buf *out, struct err *e)
{
	struct buf b;
	char title[64];
	buf_init(&b);
	snprintf(title, sizeof title, "for.%s", c->link->what);
	char base[160];
	base_path(c, base);
	html_open(&b, c->lang, tr(c->lang, strcmp(c->link->what, "project") ? "page.title" : title), base);
	lang_switch(&b, c);
	buf_add(&b, content->data, content->len);
	if (error) {
		buf_printf(&b, "<p class=\"error\" role=\"alert\"><strong>%s</strong><br>%s<br>%s: ",
			   tr(c->lang, "form.error"), tr(c->lang, "form.error.retry"), tr(c->lang, "error.detail"));
		html_escs(&b, error);
		buf_adds(&b, "</p>\n");
	}
	int rc = 0;
	if (answerable) {
		buf_adds(&b, "<form class=\"answer\" method=\"post\" action=\"");
		link_path(&b, c, "");
		buf_adds(&b, "\">\n");
		hidden(&b, PAGE_F_CSRF, csrf ? csrf : "");
		hidden(&b, PAGE_F_SHOWN, shown_hex ? shown_hex : "");
		hidden(&b, PAGE_F_LANG, page_lang_code(c->lang));
		choices(&b, c);
		rc = respondent_fields(&b, c, e);
		buf_printf(&b, "<p class=\"note\">%s</p>\n<button type=\"submit\">%s</button>\n</form>\n",
			   tr(c->lang, "form.record"), tr(c->lang, "form.submit"));
	} else if (strcmp(c->link->what, "project") == 0) {
		buf_printf(&b, "<p class=\"note\">%s</p>\n", tr(c->lang, "closed.project"));
	} else {
		buf_printf(&b, "<section class=\"closed\">\n<h2>%s</h2>\n<p>", tr(c->lang, "closed"));
		html_escs(&b, why ? why : "");
		buf_adds(&b, "</p>\n");
		if (c->link->used_seq) {
			struct view v = { c, NULL, NULL, &b, { 0 }, e };
			buf_printf(&b, "<h3>%s</h3>\n", tr(c->lang, "closed.what"));
			rc = view_begin(&v) || view_answer(&v, c->link->used_seq) ? -1 : 0;
			buf_adds(&b, "<p><a class=\"download\" href=\"");
			link_path(&b, c, "/receipt");
			buf_printf(&b, "\">%s</a></p>\n", tr(c->lang, "receipt.download"));
		}
		buf_adds(&b, "</section>\n");
	}
	html_close(&b);
	if (rc == 0 && buf_failed(&b))
		rc = err_set(e, "out of memory");
	if (rc == 0)
		buf_add(out, b.data, b.len);
	buf_free(&b);
	return rc;
}

int page_receipt(const struct page_ctx *c, uint64_t seq, const uint8_t leaf[32], const struct buf *proof_json,
		 const struct buf *checkpoint, struct buf *out, struct err *e)
{
	struct buf b;
	buf_init(&b);
	struct view v = { c, NULL, NULL, &b, { 0 }, e };
	char base[160];
	base_path(c, base);
	html_open(&b, c->lang, tr(c->lang, "page.receipt"), base);
	lang_switch(&b, c);
	buf_printf(&b, "<main lang=\"%s\" class=\"receipt\">\n", page_lang_code(c->lang));
	int rc = view_begin(&v) || view_project(&v) ? -1 : 0;
	buf_printf(&b, "<section class=\"item\">\n<h2>%s</h2>\n<p>%s</p>\n<h3>%s</h3>\n", tr(c->lang, "page.receipt"),
		   tr(c->lang, "receipt.intro"), tr(c->lang, "receipt.what"));
	if (rc == 0)
		rc = view_answer(&v, seq);
	/* the entry's number is in the answer's view above */
	buf_printf(&b, "<dl>\n<dt>%s</dt><dd><code class=\"hash\">", tr(c->lang, "receipt.hash"));
	for (int i = 0; i < 32; i++)
		buf_printf(&b, "%02x", leaf[i]);
	buf_printf(&b, "</code></dd>\n</dl>\n<h3>%s</h3>\n<pre>", tr(c->lang, "receipt.proof"));
	if (proof_json)
		html_esc(&b, (const char *)proof_json->data, proof_json->len);
	buf_printf(&b, "</pre>\n<h3>%s</h3>\n<pre>", tr(c->lang, "receipt.checkpoint"));
	if (checkpoint)
		html_esc(&b, (const char *)checkpoint->data, checkpoint->len);
	buf_adds(&b, "</pre>\n<p><a class=\"download\" href=\"");
	link_path(&b, c, "/receipt");
	buf_printf(&b, "\" download>%s</a></p>\n<p class=\"note\">%s</p>\n</section>\n</main>\n",
		   tr(c->lang, "receipt.download"), tr(c->lang, "receipt.verify"));
	html_close(&b);
	if (rc == 0 && buf_failed(&b))
		rc = err_set(e, "out of memory");
	if (rc == 0)
		buf_add(out, b.data, b.len);
	buf_free(&b);
	return rc;
}

void page_error(enum page_lang lang, int status, const char *detail, struct buf *out)
{
	static const int KNOWN[] = { 400, 403, 404, 410, 413, 429, 500, 503 };
	char key[24] = "error.other";
	for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
		if (KNOWN[i] == status)
			snprintf(key, sizeof key, "error.%d", status);
	html_open(out, lang, tr(lang, "page.error"), NULL);
	buf_printf(out, "<main lang=\"%s\" class=\"error-page\">\n<h1>%s (%d)</h1>\n<p>%s</p>\n",
		   page_lang_code(lang), tr(lang, "page.error"), status, tr(lang, key));
	if (detail && *detail) {
		buf_printf(out, "<p class=\"note\">%s: ", tr(lang, "error.detail"));
		html_escs(out, detail);
		buf_adds(out, "</p>\n");
	}
	buf_adds(out, "</main>\n");
	html_close(out);
}
