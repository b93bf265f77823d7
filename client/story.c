#include "story.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enc.h"
#include "json.h"
#include "merkle.h"
#include "mp.h"

/* ---- escaping ---- */

/* Whether the UTF-8 sequence at p (n bytes left) is a control that could
 * rewrite what a reader sees: C0 (but newline and tab), DEL, C1, bidi
 * marks, overrides and isolates, zero-width and invisible characters, line
 * and paragraph separators, the byte order mark.  *cp gets the code point, *len its bytes. */
static bool invisible(const unsigned char *p, size_t n, unsigned *cp, size_t *len)
{
	*len = 1;
	*cp = p[0];
	if (p[0] < 0x20 || p[0] == 0x7f)
		return p[0] != '\n' && p[0] != '\t';
	if (p[0] == 0xc2 && n >= 2 && p[1] >= 0x80 && p[1] <= 0x9f) {
		*len = 2;
		*cp = p[1];
		return true;
	}
	if (p[0] == 0xd8 && n >= 2 && p[1] == 0x9c) {	/* U+061C arabic letter mark */
		*len = 2;
		*cp = 0x61c;
		return true;
	}
	if ((p[0] == 0xe2 || p[0] == 0xef) && n >= 3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
		unsigned u = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
		/* zero width spaces and joiners, marks, separators, overrides,
		 * isolates, invisible operators, the byte order mark */
		if ((u >= 0x200b && u <= 0x200f) || (u >= 0x2028 && u <= 0x202e) || (u >= 0x2060 && u <= 0x2064) ||
		    (u >= 0x2066 && u <= 0x2069) || u == 0xfeff) {
			*len = 3;
			*cp = u;
			return true;
		}
	}
	return false;
}

/* Text from an entry, escaped for f: HTML's five specials as entities;
 * Markdown's ASCII punctuation with a backslash, a newline as a hard break;
 * inside a Markdown code span (span) nothing, a newline as a space;
 * invisible controls as visible \u{XXXX}. */
static void esc_in(enum story_format f, bool span, struct buf *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t len;
		if (invisible(p + i, n - i, &cp, &len)) {
			buf_printf(out, "\\u{%04X}", cp);
			i += len;
			continue;
		}
		char c = (char)p[i++];
		if (span) {
			buf_addc(out, c == '\n' ? ' ' : c);
		} else if (f == STORY_HTML) {
			switch (c) {
			case '&': buf_adds(out, "&amp;"); break;
			case '<': buf_adds(out, "&lt;"); break;
			case '>': buf_adds(out, "&gt;"); break;
			case '"': buf_adds(out, "&quot;"); break;
			case '\'': buf_adds(out, "&#39;"); break;
			default: buf_addc(out, c);
			}
		} else if (c == '\n') {
			buf_adds(out, "\\\n  ");
		} else {
			if (strchr("\\`*_{}[]()<>#+-.!|~&\"'$%,/:;=?@^", c) && c != '\0')
				buf_addc(out, '\\');
			buf_addc(out, c);
		}
	}
}

static void esc(enum story_format f, struct buf *out, const char *s, size_t n)
{
	esc_in(f, false, out, s, n);
}

/* A Markdown code span of s: fenced with one backtick more than its longest
 * run of them, no backslash escapes inside (a code span shows them as they
 * are); invisible controls as \u{XXXX}, a newline as a space. */
static void md_code(struct buf *out, const char *s, size_t n)
{
	size_t run = 0, most = 0;
	for (size_t i = 0; i < n; i++)
		most = (run = s[i] == '`' ? run + 1 : 0) > most ? run : most;
	bool pad = n && (s[0] == '`' || s[n - 1] == '`' || s[0] == ' ');
	for (size_t k = 0; k <= most; k++)
		buf_addc(out, '`');
	if (pad)
		buf_addc(out, ' ');
	esc_in(STORY_MARKDOWN, true, out, s, n);
	if (pad)
		buf_addc(out, ' ');
	for (size_t k = 0; k <= most; k++)
		buf_addc(out, '`');
}

static void escz(enum story_format f, struct buf *out, const char *s)
{
	esc(f, out, s, strlen(s));
}

/* ---- reading bodies ---- */

/* The text at key of body (into t, at most cap-1 bytes), or "". */
static const char *field(const struct entry *en, const char *key, char *t, size_t cap)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	t[0] = '\0';
	if (mp_map_find(en->body, en->body_len, key, &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0 &&
	    n < cap && memchr(s, '\0', n) == NULL) {
		memcpy(t, s, n);
		t[n] = '\0';
	}
	return t;
}

static bool kind_is(const struct entry *en, const char *k)
{
	return en->kind_len == strlen(k) && memcmp(en->kind, k, en->kind_len) == 0;
}

static bool has(const struct entry *en, const char *key)
{
	struct mp_cur c;
	return mp_map_find(en->body, en->body_len, key, &c, NULL) == 1;
}

static void doc_hash(const char *s, size_t n, void (*fn)(void *, const char *), void *ctx)
{
	char h[65];
	if (n != 64)
		return;
	memcpy(h, s, 64);
	h[64] = '\0';
	for (size_t i = 0; i < 64; i++)
		if (!strchr("0123456789abcdef", h[i]))
			return;
	fn(ctx, h);
}

void story_docs(const struct entry *en, void (*fn)(void *ctx, const char *sha256), void *ctx)
{
	static const char *const ONE[] = { "sha256", "evidence_sha256", "page_sha256" };
	struct mp_cur c;
	const char *s;
	size_t n;
	uint32_t count;
	for (size_t k = 0; k < sizeof ONE / sizeof ONE[0]; k++)
		if (mp_map_find(en->body, en->body_len, ONE[k], &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0)
			doc_hash(s, n, fn, ctx);
	if (mp_map_find(en->body, en->body_len, "checked_documents", &c, NULL) == 1 && mp_get_array(&c, &count, NULL) == 0)
		for (uint32_t i = 0; i < count && mp_get_str(&c, &s, &n, NULL) == 0; i++)
			doc_hash(s, n, fn, ctx);
	if (mp_map_find(en->body, en->body_len, "documents", &c, NULL) == 1 && mp_get_array(&c, &count, NULL) == 0)
		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *d = c.p;
			struct mp_cur dc;
			if (mp_skip(&c, 4, NULL))
				break;
			if (mp_map_find(d, (size_t)(c.p - d), "sha256", &dc, NULL) == 1 && mp_get_str(&dc, &s, &n, NULL) == 0)
				doc_hash(s, n, fn, ctx);
		}
}

/* ---- topics ---- */

enum topic { T_PROJECT, T_BASELINE, T_CHANGES, T_AGREEMENTS, T_DELIVERIES, T_CASES, T_BILLING, T_OTHER, T_N };

static const char *const TOPIC[T_N] = {
	"The project", "The baseline and the client's confirmation", "Changes: assessment, quote and the client's answer",
	"Agreements, amendments and notices", "Deliveries and acceptance",
	"Complaint cases: intake, investigation, determination, reply", "Invoices and payments", "Other entries",
};
static const char *const TOPIC_ID[T_N] = { "project", "baseline", "changes", "agreements",
					   "deliveries", "cases", "billing", "other" };

struct step {
	struct entry en;
	enum topic topic;
	char group[24];	/* CR-N or CASE-N within its topic, else "" */
};

/* The topic of entry i; an evidence, void or correction goes with the entry
 * it cites (an earlier one, already placed). */
static void place(struct step *v, size_t i, const struct story *s)
{
	struct step *st = &v[i];
	struct entry *en = &st->en;
	st->group[0] = '\0';
	static const struct {
		const char *kind;
		enum topic topic;
	} KINDS[] = {
		{ "project", T_PROJECT }, { "closure", T_PROJECT }, { "signatory", T_PROJECT },
		{ "baseline", T_BASELINE }, { "change", T_CHANGES }, { "assessment", T_CHANGES },
		{ "quote", T_CHANGES }, { "agreement", T_AGREEMENTS }, { "confirmation", T_AGREEMENTS },
		{ "contest", T_AGREEMENTS }, { "notice", T_AGREEMENTS }, { "amendment", T_AGREEMENTS },
		{ "delivery", T_DELIVERIES }, { "accept", T_DELIVERIES }, { "deemed_passed", T_DELIVERIES },
		{ "complaint", T_CASES }, { "investigation", T_CASES }, { "determination", T_CASES },
		{ "reply", T_CASES }, { "invoice", T_BILLING }, { "payment", T_BILLING }, { "credit", T_BILLING },
	};
	st->topic = T_OTHER;
	for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++)
		if (kind_is(en, KINDS[k].kind))
			st->topic = KINDS[k].topic;
	if (kind_is(en, "response"))
		st->topic = has(en, "change") ? T_CHANGES : has(en, "baseline") ? T_BASELINE : T_AGREEMENTS;
	struct mp_cur c;
	uint64_t target;
	if ((kind_is(en, "evidence") || kind_is(en, "void") || kind_is(en, "correction")) &&
	    mp_map_find(en->body, en->body_len, kind_is(en, "evidence") ? "response" : "target", &c, NULL) == 1 &&
	    mp_get_uint(&c, &target, NULL) == 0)
		for (size_t j = 0; j < i; j++)
			if (s->v[j].seq == target) {
				st->topic = v[j].topic;
				memcpy(st->group, v[j].group, sizeof st->group);
				return;
			}
	if (st->topic == T_CHANGES)
		field(en, kind_is(en, "change") ? "number" : "change", st->group, sizeof st->group);
	if (st->topic == T_CASES)
		field(en, kind_is(en, "complaint") ? "number" : "case", st->group, sizeof st->group);
}

/* ---- output ---- */

struct out {
	enum story_format f;
	const struct story *s;
	struct buf *b;
};

static void docs_line(void *ctx, const char *h)
{
	struct out *o = ctx;
	bool held = o->s->held && o->s->held(o->s->held_ctx, h);
	if (o->f == STORY_HTML)
		buf_printf(o->b, held ? "<li><a href=\"files/%s\"><code>%s</code></a></li>\n"
				      : "<li><code>%s</code> (held elsewhere: this dossier has only its hash)</li>\n",
			   h, h);
	else
		buf_printf(o->b, held ? "  - [`%s`](files/%s)\n" : "  - `%s` (held elsewhere: this dossier has only its hash)\n",
			   h, h);
}

static void row(struct out *o, const char *key, const char *val, size_t n, bool code)
{
	if (o->f == STORY_HTML) {
		buf_adds(o->b, "<tr><th>");
		escz(o->f, o->b, key);
		buf_adds(o->b, code ? "</th><td><code>" : "</th><td>");
		esc(o->f, o->b, val, n);
		buf_adds(o->b, code ? "</code></td></tr>\n" : "</td></tr>\n");
	} else {
		buf_adds(o->b, "- ");
		escz(o->f, o->b, key);
		buf_adds(o->b, ": ");
		if (code)
			md_code(o->b, val, n);
		else
			esc(o->f, o->b, val, n);
		buf_addc(o->b, '\n');
	}
}

/* An answer recorded by scoped's client portal, said as such: which link,
 * from which address and browser, and the page shown (files/PAGE_SHA256). */
static void portal_row(struct out *o, const struct entry *en)
{
	char link[16], addr[101], ua[1001], page[65], line[1300];
	if (!*field(en, "link", link, sizeof link) || !*field(en, "page_sha256", page, sizeof page))
		return;
	field(en, "address", addr, sizeof addr);
	field(en, "user_agent", ua, sizeof ua);
	int n = snprintf(line, sizeof line, "the client's answer through the portal, link %s, from address %s, "
			 "browser %s; the page shown: files/%s", link, addr, ua, page);
	row(o, "through the portal", line, n < 0 ? 0 : (size_t)n >= sizeof line ? sizeof line - 1 : (size_t)n, false);
}

static void step(struct out *o, const struct step *st, const struct story_entry *se)
{
	const struct entry *en = &st->en;
	char t[40], hx[65], name[32], kind[40], author[300];
	uint8_t leaf[HASH_LEN];
	merkle_leaf_hash(se->raw, se->len, leaf);
	hex_encode(leaf, HASH_LEN, hx);
	entry_format_time(en->time_us, t);
	snprintf(name, sizeof name, "%06llu", (unsigned long long)se->seq);
	snprintf(kind, sizeof kind, "%.*s", (int)en->kind_len, en->kind);
	snprintf(author, sizeof author, "%.*s", (int)en->author_len, en->author);
	if (o->f == STORY_HTML) {
		buf_printf(o->b, "<div class=\"step\" id=\"e%llu\">\n<h4>#%llu · %s · ", (unsigned long long)se->seq,
			   (unsigned long long)se->seq, kind);
		esc(o->f, o->b, t, strlen(t));
		buf_adds(o->b, "</h4>\n<table>\n");
	} else {
		buf_printf(o->b, "#### #%llu · %s · ", (unsigned long long)se->seq, kind);
		escz(o->f, o->b, t);
		buf_adds(o->b, "\n\n");
	}
	row(o, "recorded", t, strlen(t), false);
	char at[40] = "not anchored";
	if (se->anchored_us)
		entry_format_time(se->anchored_us, at);
	row(o, "anchored", at, strlen(at), false);
	row(o, "author", author, strlen(author), false);
	row(o, "leaf hash", hx, 64, true);
	/* every body field: text as it is, other values as JSON */
	struct mp_cur c;
	uint32_t count;
	mp_cur_init(&c, en->body, en->body_len);
	mp_get_map(&c, &count, NULL);
	for (uint32_t i = 0; i < count; i++) {
		const char *k, *sv;
		size_t kn, sn;
		char key[64];
		if (mp_get_str(&c, &k, &kn, NULL))
			break;
		snprintf(key, sizeof key, "%.*s", (int)kn, k);
		const uint8_t *v = c.p;
		struct mp_cur vc = c;
		if (mp_skip(&c, 16, NULL))
			break;
		if (mp_get_str(&vc, &sv, &sn, NULL) == 0) {
			row(o, key, sv, sn, false);
			continue;
		}
		struct buf j;
		buf_init(&j);
		if (msgpack_to_json(v, (size_t)(c.p - v), &j, NULL) == 0)
			row(o, key, (const char *)j.data, j.len, true);
		buf_free(&j);
	}
	portal_row(o, en);
	if (o->f == STORY_HTML) {
		buf_printf(o->b, "</table>\n<p class=\"links\"><a href=\"entries/%s.json\">entry</a> · "
				 "<a href=\"entries/%s.tlog-proof\">inclusion proof</a></p>\n<ul class=\"files\">\n",
			   name, name);
		story_docs(en, docs_line, o);
		buf_adds(o->b, "</ul>\n</div>\n");
	} else {
		buf_printf(o->b, "- entry: [entries/%s.json](entries/%s.json), inclusion proof "
				 "[entries/%s.tlog-proof](entries/%s.tlog-proof)\n", name, name, name, name);
		size_t before = o->b->len;
		buf_adds(o->b, "- files:\n");
		size_t mark = o->b->len;
		story_docs(en, docs_line, o);
		if (o->b->len == mark)
			o->b->len = before;
		buf_addc(o->b, '\n');
	}
}

static const char CSS[] =
	"@page { size: A4; margin: 16mm 14mm; }\n"
	"body { font-family: \"Noto Sans CJK JP\", \"IPAexGothic\", \"IPAGothic\", \"Hiragino Sans\", "
	"\"Yu Gothic\", sans-serif; font-size: 10.5pt; line-height: 1.45; color: #111; margin: 0 auto; "
	"max-width: 180mm; }\n"
	"h1 { font-size: 18pt; margin: 0 0 4mm; } h2 { font-size: 14pt; border-bottom: 1px solid #888; "
	"margin-top: 8mm; break-after: avoid; } h3 { font-size: 12pt; break-after: avoid; }\n"
	"h4 { font-size: 10.5pt; margin: 0 0 1mm; }\n"
	".step { border-left: 3px solid #888; padding: 1mm 0 1mm 3mm; margin: 3mm 0; break-inside: avoid; }\n"
	"table { border-collapse: collapse; width: 100%; }\n"
	"th { text-align: left; vertical-align: top; width: 32mm; font-weight: normal; color: #444; padding-right: 2mm; }\n"
	"td { white-space: pre-wrap; overflow-wrap: anywhere; }\n"
	"code { font-family: \"DejaVu Sans Mono\", monospace; font-size: 8.5pt; overflow-wrap: anywhere; }\n"
	"table.all td, table.all th { border-bottom: 1px solid #ddd; white-space: normal; width: auto; }\n"
	"table.all tr { break-inside: avoid; }\n"
	".links, .files { font-size: 9pt; margin: 1mm 0; }\n"
	"@media print { a { color: inherit; } }\n";

static void heading(struct out *o, int level, const char *id, const char *text)
{
	if (o->f == STORY_HTML) {
		buf_printf(o->b, id ? "<h%d id=\"%s\">" : "<h%d>", level, id);
		escz(o->f, o->b, text);
		buf_printf(o->b, "</h%d>\n", level);
	} else {
		for (int i = 0; i < level; i++)
			buf_addc(o->b, '#');
		buf_addc(o->b, ' ');
		escz(o->f, o->b, text);
		buf_adds(o->b, "\n\n");
	}
}

static void para(struct out *o, const char *text)
{
	buf_adds(o->b, o->f == STORY_HTML ? "<p>" : "");
	escz(o->f, o->b, text);
	buf_adds(o->b, o->f == STORY_HTML ? "</p>\n" : "\n\n");
}

static void head(struct out *o)
{
	const struct story *s = o->s;
	char title[400], line[600], root[65];
	snprintf(title, sizeof title, "Dossier of project %s: %s", s->project, s->subject);
	hex_encode(s->cp->root, HASH_LEN, root);
	if (o->f == STORY_HTML) {
		buf_adds(o->b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
		escz(o->f, o->b, title);
		buf_printf(o->b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", CSS);
	}
	heading(o, 1, NULL, title);
	snprintf(line, sizeof line, "%zu entries of the log %s, each proven in its checkpoint of size %llu "
		 "(root %s). Check everything with VERIFY.txt; the formats are in FORMAT.md.", s->n,
		 s->cp->origin, (unsigned long long)s->cp->size, root);
	para(o, line);
	para(o, "Times are the ledger's commit times (UTC); an anchored time is one a time-stamping authority "
		"vouches for. The story shows what was recorded in the ledger, not what happened outside it.");
}

int story_render(const struct story *s, enum story_format f, struct buf *out, struct err *e)
{
	struct step *v = calloc(s->n ? s->n : 1, sizeof *v);
	if (v == NULL)
		return err_set(e, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		if (entry_decode(s->v[i].raw, s->v[i].len, &v[i].en, e)) {
			free(v);
			return err_prefix(e, "entry %llu", (unsigned long long)s->v[i].seq);
		}
		place(v, i, s);
	}
	struct out o = { f, s, out };
	head(&o);
	if (f == STORY_HTML) {
		buf_adds(out, "<nav><ol>\n");
		for (int t = 0; t < T_N; t++) {
			buf_printf(out, "<li><a href=\"#%s\">", TOPIC_ID[t]);
			escz(f, out, TOPIC[t]);
			buf_adds(out, "</a></li>\n");
		}
		buf_adds(out, "<li><a href=\"#all\">Every entry in time order</a></li>\n</ol></nav>\n");
	}
	for (int t = 0; t < T_N; t++) {
		if (f == STORY_HTML)
			buf_printf(out, "<section id=\"%s\">\n", TOPIC_ID[t]);
		heading(&o, 2, TOPIC_ID[t], TOPIC[t]);
		size_t shown = 0;
		/* groups (CR-N, CASE-N) in the order they first appear */
		for (size_t g = 0; g < s->n; g++) {
			if (v[g].topic != (enum topic)t)
				continue;
			bool first = true;
			for (size_t k = 0; k < g && first; k++)
				first = !(v[k].topic == (enum topic)t && strcmp(v[k].group, v[g].group) == 0);
			if (!first)
				continue;
			if (v[g].group[0])
				heading(&o, 3, NULL, v[g].group);
			for (size_t i = g; i < s->n; i++)
				if (v[i].topic == (enum topic)t && strcmp(v[i].group, v[g].group) == 0) {
					step(&o, &v[i], &s->v[i]);
					shown++;
				}
		}
		if (shown == 0)
			para(&o, "No entries.");
		buf_adds(out, f == STORY_HTML ? "</section>\n" : "");
	}
	heading(&o, 2, "all", "Every entry in time order");
	buf_adds(out, f == STORY_HTML ? "<table class=\"all\">\n<tr><th>seq</th><th>recorded (UTC)</th><th>kind</th>"
					"<th>author</th><th>leaf hash</th></tr>\n"
				      : "| seq | recorded (UTC) | kind | author | leaf hash |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < s->n; i++) {
		char t[40], hx[65];
		uint8_t leaf[HASH_LEN];
		merkle_leaf_hash(s->v[i].raw, s->v[i].len, leaf);
		hex_encode(leaf, HASH_LEN, hx);
		entry_format_time(v[i].en.time_us, t);
		unsigned long long q = (unsigned long long)s->v[i].seq;
		if (f == STORY_HTML)
			buf_printf(out, "<tr><td><a href=\"#e%llu\">%llu</a></td><td>%s</td><td>%.*s</td><td>", q, q, t,
				   (int)v[i].en.kind_len, v[i].en.kind);
		else
			buf_printf(out, "| [%llu](entries/%06llu.json) | %s | %.*s | ", q, q, t, (int)v[i].en.kind_len,
				   v[i].en.kind);
		esc(f, out, v[i].en.author, v[i].en.author_len);
		buf_printf(out, f == STORY_HTML ? "</td><td><code>%s</code></td></tr>\n" : " | `%s` |\n", hx);
	}
	buf_adds(out, f == STORY_HTML ? "</table>\n</body>\n</html>\n" : "");
	free(v);
	return buf_failed(out) ? err_set(e, "out of memory") : 0;
}
