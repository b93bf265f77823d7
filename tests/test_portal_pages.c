/*
 * The portal's pages (daemon/portal/pages.h) over a scope_mem state built
 * by recording real entries through the rules: for each kind of link the
 * content holds the facts a client decides on, in Japanese and English;
 * hostile entry text is escaped; the content is the same bytes for the
 * same state and changes with it; no document has a script, an inline
 * style or an event attribute; the form carries its hidden fields (and a
 * signatory's name and title); a used link shows its answer without a
 * form; the language is picked from Accept-Language.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "entry.h"
#include "json.h"
#include "kv.h"
#include "link.h"
#include "pages.h"
#include "tap.h"

static struct scope_mem *M;
static struct scope_kv KV;
static uint64_t next_seq;
static const uint64_t T0 = 1767225600000000ull;	/* 2026-01-01 */
#define DAY_US 86400000000ull
static const char *TOKEN = "tok_Abc-123";
static const char *SHA_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/* Records one entry as the daemon would; its seq, or exits (the test's
 * own entries are all valid). */
static uint64_t rec(const char *kind, const char *project, bool as_client, const char *json)
{
	struct buf body, out, raw;
	struct err e = { 0 };
	buf_init(&body);
	buf_init(&out);
	buf_init(&raw);
	if (json_to_canonical(json, strlen(json), &body, &e)) {
		printf("# bad test JSON: %s: %s\n", json, e.msg);
		exit(2);
	}
	struct domain_in in = { kind, strlen(kind), project, strlen(project), body.data, body.len, as_client,
				next_seq, T0 + next_seq * 1000000, "someone", 7, NULL };
	struct entry en = { .version = ENTRY_VERSION, .seq = next_seq, .time_us = in.time_us, .kind = kind,
			    .kind_len = strlen(kind), .project = project, .project_len = strlen(project),
			    .author = "someone", .author_len = 7, .request_id = "r", .request_id_len = 1 };
	if (domain_apply(&KV, &in, false, &out, &e) == 0) {
		en.body = out.data;
		en.body_len = out.len;
		if (entry_encode(&en, &raw, &e) == 0)
			scope_mem_add_entry(M, next_seq, raw.data, raw.len, &e);
	}
	if (e.msg[0]) {
		printf("# %s refused: %s\n", kind, e.msg);
		exit(2);
	}
	buf_free(&body);
	buf_free(&out);
	buf_free(&raw);
	return next_seq++;
}

static struct lnk link_for(const char *what, uint64_t item, uint64_t quote, const char *to)
{
	struct lnk l;
	memset(&l, 0, sizeof l);
	l.seq = 1;
	l.number = 1;
	l.expires_at = T0 + 30 * DAY_US;
	l.item = item;
	l.quote = quote;
	snprintf(l.what, sizeof l.what, "%s", what);
	snprintf(l.to, sizeof l.to, "%s", to);
	memset(l.token, 'b', 64);
	return l;
}

static struct page_ctx ctx_for(const char *project, const struct lnk *l, enum page_lang lang)
{
	struct page_ctx c = { &KV, project, strlen(project), l, lang, T0 + 60000000, TOKEN, NULL };
	return c;
}

static bool file_a(void *ctx, const char *hex)
{
	(void)ctx;
	return strcmp(hex, SHA_A) == 0;
}

/* The content of c, as a string (static: the caller copies it to keep it). */
static char *content(const struct page_ctx *c)
{
	static char *s;
	struct buf b;
	struct err e = { 0 };
	buf_init(&b);
	free(s);
	if (page_content(c, file_a, NULL, &b, &e)) {
		printf("# page_content: %s\n", e.msg);
		buf_free(&b);
		return s = strdup("ERROR");
	}
	s = strdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

/* The whole document of c (answerable as page_answerable says). */
static char *document(const struct page_ctx *c, const char *error)
{
	static char *s;
	struct buf b, d;
	struct err e = { 0 };
	bool yes;
	char why[256];
	buf_init(&b);
	buf_init(&d);
	free(s);
	if (page_content(c, file_a, NULL, &b, &e) || page_answerable(c, &yes, why, sizeof why, &e) ||
	    page_document(c, &b, yes, why, "CSRF\"<v>", "0123abcd", error, &d, &e)) {
		printf("# page_document: %s\n", e.msg);
		s = strdup("ERROR");
	} else {
		s = strdup(buf_cstr(&d));
	}
	buf_free(&b);
	buf_free(&d);
	return s;
}

/* No <script, no style= and no on...= attribute in any tag of html. */
static const char *unsafe(const char *html)
{
	for (const char *p = html; *p; p++) {
		if (*p != '<')
			continue;
		const char *end = strchr(p, '>');
		if (end == NULL)
			return "an unclosed tag";
		if (strncasecmp(p, "<script", 7) == 0)
			return "a script";
		for (const char *q = p; q < end; q++) {
			if (!isspace((unsigned char)*q))
				continue;
			const char *a = q + 1;
			if (strncasecmp(a, "style=", 6) == 0 || strncasecmp(a, "style ", 6) == 0)
				return "an inline style";
			if ((a[0] == 'o' || a[0] == 'O') && (a[1] == 'n' || a[1] == 'N')) {
				const char *r = a + 2;
				while (isalpha((unsigned char)*r))
					r++;
				if (r > a + 2 && *r == '=')
					return "an event attribute";
			}
		}
		p = end;
	}
	return NULL;
}

static void safe(const char *what, const char *html)
{
	const char *why = unsafe(html);
	ok(why == NULL, "%s: no script, inline style or event attribute%s%s", what, why ? ": " : "", why ? why : "");
}

static uint64_t cr2_answer;

static void build(void)
{
	rec("project", "pr-site", false,
	    "{\"client\":\"C & <Co>\",\"title\":\"PR <script>alert(1)</script> site\",\"contract_type\":\"fixed\","
	    "\"currency\":\"JPY\",\"amount_minor\":1500000,\"vendor_lead\":\"V \\\"lead\\\"\",\"client_lead\":\"Ms. C\","
	    "\"acceptance_days\":10}");
	rec("baseline", "pr-site", false,
	    "{\"items\":[{\"id\":\"design\",\"text\":\"Design along reference site A & <b>\"},"
	    "{\"id\":\"pages\",\"text\":\"Five pages\"}],\"rule\":\"Changing it is an additional order with a fee\"}");
	rec("change", "pr-site", true,
	    "{\"title\":\"Redesign like site B <script>x</script>\",\"description\":\"Make another design & 'free'\","
	    "\"raised_by\":\"Client's \\\"PM\\\"\",\"channel\":\"email\",\"reason\":\"client_request\","
	    "\"items\":[\"design\"]}");
	rec("assessment", "pr-site", false,
	    "{\"change\":\"CR-1\",\"class\":\"out_of_scope\",\"rationale\":\"The definition names site A <img "
	    "src=x onerror=alert(1)>\"}");
	rec("quote", "pr-site", false,
	    "{\"change\":\"CR-1\",\"fee_minor\":800000,\"tax_minor\":80000,\"effort_hours\":120,\"effort_minutes\":30,"
	    "\"schedule_days\":20,\"valid_until\":\"2026-02-28\",\"documents\":[{\"name\":\"quote <v1> & \\\"x\\\".pdf\","
	    "\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"size\":12345},"
	    "{\"name\":\"spec.pdf\",\"sha256\":\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\","
	    "\"size\":99}]}");
	/* CR-2: quoted and approved, in an amendment and a delivery */
	rec("change", "pr-site", true,
	    "{\"title\":\"Contact form\",\"raised_by\":\"Ms. C\",\"channel\":\"meeting\",\"reason\":\"client_request\"}");
	rec("assessment", "pr-site", false, "{\"change\":\"CR-2\",\"class\":\"out_of_scope\",\"rationale\":\"New page\"}");
	rec("quote", "pr-site", false, "{\"change\":\"CR-2\",\"fee_minor\":100000,\"tax_minor\":10000,\"effort_hours\":8}");
	cr2_answer = rec("response", "pr-site", true,
			 "{\"change\":\"CR-2\",\"quote\":1,\"decision\":\"approved\",\"respondent\":\"Ms. <C>\","
			 "\"channel\":\"email\"}");
	rec("amendment", "pr-site", false,
	    "{\"lines\":[{\"change\":\"CR-2\",\"amount_minor\":110000}],\"title\":\"Amendment <1>\"}");
	rec("notice", "pr-site", false,
	    "{\"type\":\"delay_risk\",\"text\":\"The server arrives late & <soon>\",\"fee_effect_minor\":50000,"
	    "\"fee_effect_sign\":\"increase\",\"schedule_days\":5,\"schedule_effect\":\"delay\","
	    "\"respond_by\":\"2026-01-20\"}");
	rec("delivery", "pr-site", false,
	    "{\"deliverable\":\"Top page <v1>\",\"items\":[\"pages\"],\"changes\":[\"CR-2\"]}");
	/* a USD project with a signatory register */
	rec("project", "us-site", false,
	    "{\"client\":\"U Corp\",\"title\":\"US site\",\"contract_type\":\"tm\",\"currency\":\"USD\","
	    "\"amount_minor\":123450}");
	rec("signatory", "us-site", false, "{\"action\":\"add\",\"name\":\"Tanaka \\\"T\\\"\",\"title\":\"部長 & <CFO>\"}");
	rec("baseline", "us-site", false, "{\"items\":[{\"id\":\"a\",\"text\":\"Everything\"}]}");
}

static void test_change(void)
{
	struct lnk l = link_for("change", 1, 1, "Ms. C");
	struct page_ctx c = ctx_for("pr-site", &l, PAGE_EN);
	char *en = strdup(content(&c));
	like(en, "<main lang=\"en\">", "change: one <main> fragment in English");
	like(en, "800,000 JPY", "change: the fee, JPY without decimals");
	like(en, "80,000 JPY", "change: the tax");
	like(en, "880,000 JPY", "change: the total");
	like(en, "Outside the contract: an additional paid order", "change: the class in plain words");
	like(en, "The definition names site A &lt;img src=x onerror=alert(1)&gt;", "change: the rationale, escaped");
	like(en, "2026-02-28", "change: valid until");
	like(en, "120 h 30 min", "change: the effort");
	like(en, "<dd>20 days later</dd>", "change: the schedule impact");
	like(en, "Design along reference site A &amp; &lt;b&gt;", "change: the baseline item's text, escaped");
	like(en, "Redesign like site B &lt;script&gt;x&lt;/script&gt;", "change: the title, escaped");
	like(en, "Make another design &amp; &#39;free&#39;", "change: the description, escaped");
	like(en, "Client&#39;s &quot;PM&quot;", "change: who raised it, escaped");
	like(en, "e-mail", "change: the channel");
	like(en, "2026-01-01 00:00 UTC", "change: when it was raised (UTC in English)");
	like(en, "PR &lt;script&gt;alert(1)&lt;/script&gt; site", "project: the title, escaped");
	like(en, "C &amp; &lt;Co&gt;", "project: the client, escaped");
	like(en, "V &quot;lead&quot;", "project: the vendor's lead, escaped");
	like(en, "quote &lt;v1&gt; &amp; &quot;x&quot;.pdf", "document: the name, escaped");
	like(en, "12345 bytes", "document: the size");
	like(en, "SHA-256 aaaaaaaa", "document: the hash");
	char dl[160];
	snprintf(dl, sizeof dl, "href=\"doc/%s\"", SHA_A);
	like(en, dl, "document: a download link when the evidence store holds it, relative to the page's base");
	ok(strstr(en, TOKEN) == NULL, "content: the link's token is nowhere in it (it is hashed, stored and put in receipts)");
	ok(strstr(en, "/doc/cccc") == NULL, "document: no download link for a file not held");
	safe("change content", en);

	c.lang = PAGE_JA;
	char *ja = strdup(content(&c));
	like(ja, "<main lang=\"ja\">", "change: in Japanese");
	like(ja, "変更依頼 CR-1", "change: 変更依頼");
	like(ja, "税込合計", "change: 税込合計");
	like(ja, "880,000円", "change: the total in Japanese, in yen as Japanese writes it");
	like(ja, "契約の範囲外", "change: the class in Japanese");
	like(ja, "見積有効期限", "change: 見積有効期限");
	like(ja, "<dd>120時間30分</dd>", "change: the effort in Japanese");
	like(ja, "<dd>20日の遅れ</dd>", "change: the schedule impact in Japanese");
	like(ja, "2026年1月1日 09:00（日本時間）", "change: the time in Japan time");
	ok(strstr(ja, "Outside the contract") == NULL, "change: no English in the Japanese page's words");

	c.lang = PAGE_EN;
	ok(strcmp(content(&c), en) == 0, "determinism: the same state gives the same bytes");
	c.now_us += 10 * DAY_US;
	ok(strcmp(content(&c), en) == 0, "determinism: the clock does not change the content");
	free(ja);
	free(en);
}

static void test_items(void)
{
	struct lnk l = link_for("baseline", 1, 0, "Ms. C");
	struct page_ctx c = ctx_for("pr-site", &l, PAGE_EN);
	char *s = content(&c);
	like(s, "Agreed scope (baseline) (Version 1)", "baseline: its version");
	like(s, "Five pages", "baseline: its items");
	like(s, "Changing it is an additional order with a fee", "baseline: its rule");
	safe("baseline content", s);

	l = link_for("amendment", 1, 0, "Ms. C");
	s = content(&c);
	like(s, "Amendment &lt;1&gt;", "amendment: its title, escaped");
	like(s, "CR-2: Contact form", "amendment: its lines name the changes");
	like(s, "110,000 JPY", "amendment: the amount");
	like(s, "awaiting your answer", "amendment: its state");

	l = link_for("notice", 1, 0, "Ms. C");
	s = content(&c);
	like(s, "a risk of delay", "notice: its type in plain words");
	like(s, "The server arrives late &amp; &lt;soon&gt;", "notice: its text, escaped");
	like(s, "increase 50,000 JPY", "notice: the fee effect");
	like(s, "<dd>5 days later</dd>", "notice: the schedule effect");
	like(s, "2026-01-20", "notice: respond by");
	c.lang = PAGE_JA;
	s = content(&c);
	like(s, "遅延のおそれ", "notice: its type in Japanese");
	like(s, "ご回答期限", "notice: respond by, in Japanese");
	c.lang = PAGE_EN;

	l = link_for("delivery", 1, 0, "Ms. C");
	s = content(&c);
	like(s, "Top page &lt;v1&gt;", "delivery: the deliverable, escaped");
	like(s, "Five pages", "delivery: its items with their text");
	like(s, "CR-2: Contact form", "delivery: its changes");
	like(s, "Inspection deadline", "delivery: the inspection deadline");
	like(s, "2026-01-11 00:00 UTC", "delivery: the deadline's time (10 days)");
	c.lang = PAGE_JA;
	like(content(&c), "検収期限", "delivery: 検収期限");
	c.lang = PAGE_EN;

	l = link_for("project", 0, 0, "Ms. C");
	s = content(&c);
	like(s, "Every change request", "project: every change");
	like(s, "Redesign like site B", "project: CR-1");
	like(s, "quoted, awaiting your answer", "project: CR-1's state");
	like(s, "approved", "project: CR-2's state");
	like(s, "Ms. &lt;C&gt;", "project: who answered CR-2");
	like(s, "e-mail (the client's own answer)", "project: through which channel, and not on their behalf");
	like(s, "The server arrives late", "project: the open notice");
	like(s, "Top page", "project: the delivery under inspection");
	like(s, "Five pages", "project: the baseline");
	safe("project content", s);

	struct lnk u = link_for("baseline", 1, 0, "Tanaka \"T\"");
	struct page_ctx uc = ctx_for("us-site", &u, PAGE_EN);
	like(content(&uc), "1,234.50 USD", "money: USD with two decimals");
}

static void test_document(void)
{
	struct lnk l = link_for("change", 1, 1, "Ms. C");
	struct page_ctx c = ctx_for("pr-site", &l, PAGE_EN);
	char *s = document(&c, NULL);
	like(s, "<meta name=\"viewport\"", "document: a viewport for phones");
	like(s, "<link rel=\"stylesheet\" href=\"/static/portal.css\">", "document: the stylesheet");
	like(s, "<form class=\"answer\" method=\"post\" action=\"/l/tok_Abc-123\">", "document: the form posts to the link");
	like(s, "name=\"csrf\" value=\"CSRF&quot;&lt;v&gt;\"", "document: csrf hidden, escaped");
	like(s, "type=\"hidden\" name=\"shown\" value=\"0123abcd\"", "document: shown hidden");
	like(s, "name=\"lang\" value=\"en\"", "document: the language hidden");
	like(s, "value=\"approved\"", "document: approve");
	like(s, "value=\"rejected\"", "document: reject");
	like(s, "value=\"revise\"", "document: ask for a revision");
	like(s, "needs a reason", "document: the reason is said to be required");
	like(s, "href=\"/l/tok_Abc-123?lang=ja\"", "document: the language switch");
	like(s, "as they will be recorded with your answer", "document: without a register, a name and title as typed");
	ok(strstr(s, "id=\"respondent_title\" name=\"respondent_title\" maxlength") != NULL,
	   "document: without a register the title is optional");
	safe("change document", s);
	s = document(&c, "The page changed <reload>");
	like(s, "The page changed &lt;reload&gt;", "document: the error shown, escaped");

	l = link_for("notice", 1, 0, "Ms. C");
	s = document(&c, NULL);
	like(s, "value=\"acknowledged\"", "notice form: acknowledge");
	like(s, "value=\"disputed\"", "notice form: dispute");
	l = link_for("delivery", 1, 0, "Ms. C");
	s = document(&c, NULL);
	like(s, "value=\"passed\"", "delivery form: passed");
	like(s, "value=\"failed\"", "delivery form: failed");
	like(s, "at least 30 characters", "delivery form: what a failure needs");

	struct lnk u = link_for("baseline", 1, 0, "Tanaka \"T\"");
	struct page_ctx uc = ctx_for("us-site", &u, PAGE_JA);
	s = document(&uc, NULL);
	like(s, "name=\"respondent\" required maxlength=\"200\" autocomplete=\"name\" value=\"Tanaka &quot;T&quot;\"",
	     "signatory: the name to confirm, prefilled");
	like(s, "value=\"部長 &amp; &lt;CFO&gt;\"", "signatory: the title, prefilled from the register");
	like(s, "お名前", "signatory: in Japanese");
	like(s, "承認する", "signatory: the choices in Japanese");
	safe("signatory document", s);

	/* CR-2 was answered: a link for it, used by that answer */
	l = link_for("change", 2, 1, "Ms. C");
	l.used_seq = cr2_answer;
	s = document(&c, NULL);
	ok(strstr(s, "<form") == NULL, "used link: no form");
	like(s, "This link has already been used to answer.", "used link: why");
	like(s, "Ms. &lt;C&gt;", "used link: who answered");
	like(s, "href=\"/l/tok_Abc-123/receipt\"", "used link: the receipt link");
	safe("used document", s);
	l.used_seq = 0;
	l.expires_at = T0;
	s = document(&c, NULL);
	ok(strstr(s, "<form") == NULL, "expired link: no form");
	like(s, "has expired unanswered", "expired link: why, and that nothing was answered");
	l = link_for("change", 2, 1, "Ms. C");
	s = document(&c, NULL);
	ok(strstr(s, "<form") == NULL, "an item answered another way: no form");
	like(s, "already been answered", "an item answered another way: why");
	l = link_for("project", 0, 0, "Ms. C");
	s = document(&c, NULL);
	ok(strstr(s, "<form") == NULL, "project link: read only");
	safe("project document", s);
}

/* A link recorded as a real entry, found by its token's hash: the page
 * is the one for the link struct built by hand. */
static void test_recorded_link(void)
{
	struct lnk hand = link_for("change", 1, 1, "Ms. C"), l;
	struct page_ctx c = ctx_for("pr-site", &hand, PAGE_EN);
	char *want = strdup(content(&c));
	char json[512], project[ENTRY_PROJECT_MAX];
	uint8_t tok[32];
	size_t plen;
	struct err e = { 0 };
	snprintf(json, sizeof json, "{\"for\":\"change\",\"change\":\"CR-1\",\"quote\":1,\"to\":\"Ms. C\","
		 "\"expires_at\":%llu,\"token_sha256\":\"%s\"}", (unsigned long long)(T0 + 30 * DAY_US),
		 "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
	rec("link", "pr-site", false, json);
	memset(tok, 0xdd, sizeof tok);
	is_int(link_by_token(&KV, tok, project, &plen, &l, &e), 1, "recorded link: found by its token's hash");
	c.link = &l;
	c.project = project;
	c.plen = plen;
	bool yes = false;
	char why[200];
	is_int(page_answerable(&c, &yes, why, sizeof why, &e), 0, "recorded link: answerability read");
	ok(yes, "recorded link: CR-1's quote can be answered through it");
	ok(strcmp(content(&c), want) == 0, "recorded link: the same content as the link it records");
	free(want);
}

static void test_state_changes(void)
{
	struct lnk l = link_for("change", 1, 1, "Ms. C");
	struct page_ctx c = ctx_for("pr-site", &l, PAGE_EN);
	char *before = strdup(content(&c));
	rec("quote", "pr-site", false, "{\"change\":\"CR-1\",\"fee_minor\":700000,\"tax_minor\":70000,\"effort_hours\":100}");
	char *after = content(&c);
	ok(strcmp(before, after) != 0, "determinism: a different state gives different bytes");
	like(after, "770,000 JPY", "a new quote revision: its total");
	like(after, "(revision 1) has been replaced", "a new quote revision: the old link's page says so");
	free(before);
}

static void test_receipt_error(void)
{
	struct lnk l = link_for("change", 2, 1, "Ms. C");
	struct page_ctx c = ctx_for("pr-site", &l, PAGE_EN);
	uint8_t leaf[32];
	struct buf proof, cp, out;
	struct err e = { 0 };
	memset(leaf, 0xab, sizeof leaf);
	buf_init(&proof);
	buf_init(&cp);
	buf_init(&out);
	buf_adds(&proof, "{\"hashes\":[\"<h1>\"]}");
	buf_adds(&cp, "scope-ledger\n42\nROOT=\n\n— sig\n");
	is_int(page_receipt(&c, cr2_answer, leaf, &proof, &cp, &out, &e), 0, "receipt: made");
	const char *s = buf_cstr(&out);
	char seq[64];
	snprintf(seq, sizeof seq, "<dd>%llu</dd>", (unsigned long long)cr2_answer);
	like(s, seq, "receipt: the entry's seq");
	like(s, "abababababababababababababababababababababababababababababababab", "receipt: the entry's hash");
	like(s, "{&quot;hashes&quot;:[&quot;&lt;h1&gt;&quot;]}", "receipt: the proof, escaped");
	like(s, "scope-ledger\n42\n", "receipt: the checkpoint");
	like(s, "href=\"/l/tok_Abc-123/receipt\" download", "receipt: the download");
	like(s, "approved", "receipt: what was answered");
	safe("receipt", s);
	buf_free(&out);
	buf_free(&proof);
	buf_free(&cp);

	static const int STATUS[] = { 400, 403, 404, 410, 413, 429, 500, 503 };
	for (size_t i = 0; i < sizeof STATUS / sizeof STATUS[0]; i++) {
		struct buf ja, en;
		buf_init(&ja);
		buf_init(&en);
		page_error(PAGE_JA, STATUS[i], "<bad>", &ja);
		page_error(PAGE_EN, STATUS[i], "<bad>", &en);
		char code[16];
		snprintf(code, sizeof code, "(%d)", STATUS[i]);
		const char *j = buf_cstr(&ja), *n = buf_cstr(&en);
		ok(strstr(j, code) && strstr(j, "。") && strstr(j, "&lt;bad&gt;") && strstr(j, "<html lang=\"ja\">") &&
			   !strstr(j, "error."),
		   "error %d: Japanese, with the detail escaped", STATUS[i]);
		ok(strstr(n, code) && strstr(n, "&lt;bad&gt;") && strstr(n, "<html lang=\"en\">") && !strstr(n, "error.") &&
			   strcmp(strstr(j, "<main"), strstr(n, "<main")) != 0,
		   "error %d: English, its own words", STATUS[i]);
		safe("error page", buf_cstr(&en));
		buf_free(&ja);
		buf_free(&en);
	}
	struct buf b;
	buf_init(&b);
	page_error(PAGE_EN, 429, NULL, &b);
	like(buf_cstr(&b), "wait a minute", "error 429: wait a minute");
	buf_free(&b);
}

/* Deletes every 'y' record of project pr-rev whose key ends with seq (0: all). */
static uint64_t drop_seq;
static int drop_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)ctx, (void)v, (void)vn;
	uint64_t seq = 0;
	for (size_t i = kn - 8; i < kn; i++)
		seq = seq << 8 | k[i];
	return drop_seq == 0 || seq == drop_seq ? KV.del(KV.ctx, k, kn, e) : 0;
}

static void drop_revisions(uint64_t seq)
{
	struct err e = { 0 };
	uint8_t prefix[] = "y\0pr-rev";
	drop_seq = seq;
	KV.scan(KV.ctx, prefix, sizeof prefix, drop_one, NULL, &e);	/* with the NUL after the project */
}

/* Every quote revision with its own answers on the project's record, each
 * quote as corrected; the change's link shows its quote as corrected too. */
static void test_revisions(void)
{
	rec("project", "pr-rev", false,
	    "{\"client\":\"R Corp\",\"title\":\"Revisions\",\"contract_type\":\"fixed\",\"currency\":\"JPY\","
	    "\"amount_minor\":1000000}");
	rec("change", "pr-rev", true,
	    "{\"title\":\"A gallery\",\"raised_by\":\"Ms. R\",\"channel\":\"email\",\"reason\":\"client_request\"}");
	rec("assessment", "pr-rev", false, "{\"change\":\"CR-1\",\"class\":\"out_of_scope\",\"rationale\":\"New page\"}");
	rec("quote", "pr-rev", false,
	    "{\"change\":\"CR-1\",\"fee_minor\":100000,\"tax_minor\":10000,\"effort_hours\":10,\"schedule_days\":5,"
	    "\"valid_until\":\"2026-03-31\",\"documents\":[{\"name\":\"q1.pdf\",\"sha256\":"
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"size\":11}]}");
	rec("response", "pr-rev", true,
	    "{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"revise\",\"reason\":\"Cheaper, please\","
	    "\"respondent\":\"Ms. R\",\"channel\":\"phone\"}");
	uint64_t q2 = rec("quote", "pr-rev", false,
	    "{\"change\":\"CR-1\",\"fee_minor\":90000,\"tax_minor\":9000,\"effort_hours\":9,\"schedule_days\":4,"
	    "\"valid_until\":\"2026-04-30\",\"documents\":[{\"name\":\"q2.pdf\",\"sha256\":"
	    "\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\",\"size\":22}]}");
	char json[600];
	snprintf(json, sizeof json,
		 "{\"target\":%llu,\"reason\":\"typed wrong\",\"set\":{\"fee_minor\":85000,\"effort_hours\":7,"
		 "\"effort_minutes\":15,\"schedule_days\":3,\"valid_until\":\"2026-05-15\",\"documents\":[{\"name\":"
		 "\"q2-fixed.pdf\",\"sha256\":\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\",\"size\":33}]}}",
		 (unsigned long long)q2);
	rec("correction", "pr-rev", false, json);

	/* the change's link, for revision 2: its quote as corrected */
	struct lnk l = link_for("change", 1, 2, "Ms. R");
	struct page_ctx c = ctx_for("pr-rev", &l, PAGE_EN);
	char *s = content(&c);
	like(s, "94,000 JPY", "corrected quote: the total of the corrected fee and the tax");
	like(s, "<dd>7 h 15 min</dd>", "corrected quote: the corrected effort");
	like(s, "<dd>3 days later</dd>", "corrected quote: the corrected schedule");
	like(s, "2026-05-15", "corrected quote: the corrected validity");
	like(s, "q2-fixed.pdf", "corrected quote: the corrected documents");
	ok(strstr(s, "9 h") == NULL && strstr(s, "2026-04-30") == NULL && strstr(s, "q2.pdf") == NULL,
	   "corrected quote: none of the values it replaced");
	like(s, "the values shown are the corrected ones", "corrected quote: said to be corrected");

	rec("response", "pr-rev", true,
	    "{\"change\":\"CR-1\",\"quote\":2,\"decision\":\"approved\",\"respondent\":\"Mr. A\",\"channel\":\"meeting\"}");
	l = link_for("project", 0, 0, "Ms. R");
	char *rec_en = strdup(content(&c));
	s = rec_en;
	like(s, "Every quote revision and its answers", "revisions: listed on the project's record");
	const char *r1 = strstr(s, "<h4>Quote revision 1</h4>"), *r2 = strstr(s, "<h4>Quote revision 2</h4>");
	const char *revise = strstr(s, "Cheaper, please"), *approved = strstr(s, "Mr. A");
	ok(r1 && r2 && revise && approved && r1 < revise && revise < r2 && r2 < approved,
	   "revisions: revision 1, its answer, revision 2, its answer, in that order");
	ok(r1 && r2 && strstr(r1, "110,000 JPY") && strstr(r1, "110,000 JPY") < r2, "revisions: revision 1's own total");
	ok(r1 && r2 && strstr(r1, "q1.pdf") && strstr(r1, "q1.pdf") < r2, "revisions: revision 1's own documents");
	ok(revise && r2 && strstr(r1, "a revised quote asked for") < r2 && strstr(r1, "Ms. R") < r2 &&
		   strstr(r1, "phone") < r2,
	   "revisions: revision 1's answer, by whom and how");
	ok(r1 && r2 && strstr(r1, "replaced by revision 2") && strstr(r1, "replaced by revision 2") < r2,
	   "revisions: revision 1 says it was replaced");
	ok(r2 && strstr(r2, "94,000 JPY") && strstr(r2, "7 h 15 min") && strstr(r2, "q2-fixed.pdf") &&
		   !strstr(r2, "q2.pdf"),
	   "revisions: revision 2 as corrected");
	ok(r2 && strstr(r2, "approved") && strstr(r2, "a meeting"), "revisions: revision 2's answer and its channel");
	ok(strstr(s, "Earlier revisions are not listed") == NULL, "revisions: none missing");
	safe("revisions", s);

	/* a data directory whose revision 2 quote predates the records: the quote in force stands in */
	drop_revisions(q2);
	s = content(&c);
	r2 = strstr(s, "<h4>Quote revision 2</h4>");
	ok(r2 && strstr(r2, "94,000 JPY") && strstr(r2, "Mr. A"), "revisions: an unrecorded quote in force is still shown");
	/* none recorded (before scoped reindex): the quote in force and its answer */
	drop_revisions(0);
	s = content(&c);
	r2 = strstr(s, "<h4>Quote revision 2</h4>");
	ok(r2 && strstr(r2, "94,000 JPY") && strstr(r2, "Mr. A") && strstr(r2, "approved"),
	   "revisions, none recorded: the quote in force and its answer");
	like(s, "Earlier revisions are not listed", "revisions, none recorded: the earlier ones said to be missing");
	ok(strstr(s, "<h4>Quote revision 1</h4>") == NULL, "revisions, none recorded: no revision 1");
	free(rec_en);
}

/* The project, the baseline, the change and its assessment shown as their
 * corrections make them read, and said to be corrected. */
static void test_corrected_records(void)
{
	char json[400];
	uint64_t pr = rec("project", "pr-cor", false,
	    "{\"client\":\"C Corp\",\"title\":\"Old title\",\"contract_type\":\"fixed\",\"currency\":\"JPY\","
	    "\"amount_minor\":1000000}");
	uint64_t bl = rec("baseline", "pr-cor", false,
	    "{\"items\":[{\"id\":\"a\",\"text\":\"Everything\"}],\"rule\":\"Old rule\"}");
	uint64_t ch = rec("change", "pr-cor", true,
	    "{\"title\":\"A form\",\"description\":\"Old description\",\"raised_by\":\"Ms. C\",\"channel\":\"email\","
	    "\"reason\":\"client_request\",\"items\":[\"a\"]}");
	uint64_t as = rec("assessment", "pr-cor", false,
	    "{\"change\":\"CR-1\",\"class\":\"out_of_scope\",\"rationale\":\"Old rationale\"}");
	struct lnk l = link_for("change", 1, 0, "Ms. C");
	struct page_ctx c = ctx_for("pr-cor", &l, PAGE_EN);
	char *s = content(&c);
	ok(strstr(s, "Old description") && strstr(s, "Old rationale") && !strstr(s, "this record was corrected"),
	   "uncorrected: the values as recorded, nothing said of corrections");
	snprintf(json, sizeof json, "{\"target\":%llu,\"reason\":\"typo\",\"set\":{\"description\":\"New description\","
		 "\"raised_by\":\"Mr. D\"}}", (unsigned long long)ch);
	rec("correction", "pr-cor", false, json);
	snprintf(json, sizeof json, "{\"target\":%llu,\"reason\":\"typo\",\"set\":{\"rationale\":\"New rationale\"}}",
		 (unsigned long long)as);
	rec("correction", "pr-cor", false, json);
	snprintf(json, sizeof json, "{\"target\":%llu,\"reason\":\"typo\",\"set\":{\"rule\":\"New rule\"}}",
		 (unsigned long long)bl);
	rec("correction", "pr-cor", false, json);
	snprintf(json, sizeof json, "{\"target\":%llu,\"reason\":\"typo\",\"set\":{\"client\":\"D Corp\"}}",
		 (unsigned long long)pr);
	rec("correction", "pr-cor", false, json);
	s = content(&c);
	ok(strstr(s, "New description") && !strstr(s, "Old description"), "corrected change: its description");
	ok(strstr(s, "Mr. D") && !strstr(s, "Ms. C</dd>"), "corrected change: who raised it");
	ok(strstr(s, "New rationale") && !strstr(s, "Old rationale"), "corrected assessment: its rationale");
	ok(strstr(s, "D Corp") && !strstr(s, "C Corp"), "corrected project: its client");
	const char *said = strstr(s, "this record was corrected");
	ok(said && strstr(said + 1, "this record was corrected") && strstr(s, "New rationale") > said,
	   "the change, the assessment and the project are each said to be corrected");
	l = link_for("baseline", 1, 0, "Ms. C");
	c = ctx_for("pr-cor", &l, PAGE_EN);
	s = content(&c);
	ok(strstr(s, "New rule") && !strstr(s, "Old rule"), "corrected baseline: its rule");
	like(s, "this record was corrected", "corrected baseline: said to be corrected");
	safe("corrected", s);
}

static void test_lang(void)
{
	is_int(page_lang_pick("ja,en;q=0.5"), PAGE_JA, "lang: ja,en;q=0.5 is ja");
	is_int(page_lang_pick("en-US,ja;q=0.9"), PAGE_EN, "lang: en-US,ja;q=0.9 is en");
	is_int(page_lang_pick("en;q=0.3, ja-JP;q=0.8"), PAGE_JA, "lang: the higher quality wins");
	is_int(page_lang_pick("fr"), PAGE_EN, "lang: fr is en");
	is_int(page_lang_pick("fr, ja;q=0.1"), PAGE_JA, "lang: ja after an unknown one");
	is_int(page_lang_pick("ja;q=0"), PAGE_EN, "lang: q=0 is not acceptable");
	is_int(page_lang_pick(NULL), PAGE_EN, "lang: none is en");
	is_int(page_lang_pick(";;,,=q\x01ja;q=x"), PAGE_EN, "lang: garbage is en");
	is_int(page_lang_pick("JA"), PAGE_JA, "lang: case does not matter");
	is_str(page_lang_code(PAGE_JA), "ja", "lang: code ja");
	is_str(page_lang_code(PAGE_EN), "en", "lang: code en");
}

/* A signatory who left the register after their link was made: the page
 * shows the item without a form and says why (the rules refuse the answer). */
static void test_signatory_gone(void)
{
	struct lnk u = link_for("baseline", 1, 0, "Tanaka \"T\"");
	struct page_ctx c = ctx_for("us-site", &u, PAGE_EN);
	ok(strstr(document(&c, NULL), "<form") != NULL, "signatory on the register: the form");
	rec("signatory", "us-site", false, "{\"action\":\"remove\",\"name\":\"Tanaka \\\"T\\\"\",\"reason\":\"left\"}");
	char *s = document(&c, NULL);
	ok(strstr(s, "<form") == NULL, "signatory removed from the register: no form");
	like(s, "is no longer on the client", "signatory removed: why");
	like(s, "Everything", "signatory removed: the item is still shown");
	c.lang = PAGE_JA;
	like(document(&c, NULL), "署名者）として登録されていません", "signatory removed: why, in Japanese");
}

int main(void)
{
	M = scope_mem_new();
	scope_mem_kv(M, &KV);
	build();
	test_change();
	test_items();
	test_document();
	test_receipt_error();
	test_recorded_link();
	test_state_changes();
	test_revisions();
	test_corrected_records();
	test_lang();
	test_signatory_gone();
	scope_mem_free(M);
	return done_testing();
}
