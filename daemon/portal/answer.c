#include "answer.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enc.h"
#include "entry.h"
#include "fileio.h"
#include "filestore.h"
#include "logger.h"
#include "merkle.h"
#include "mp.h"
#include "note.h"
#include "portal.h"
#include "proof.h"
#include "receiptjson.h"
#include "rules_hook.h"
#include "server.h"

#define UA_MAX_CHARS 1000
#define PAGE_MAX_BYTES (4u << 20)	/* a stored page read back for a receipt */

/* The form's fields; each at most once, no other. */
enum field { F_DECISION, F_REASON, F_NAME, F_TITLE, F_CSRF, F_SHOWN, F_LANG, F_COUNT };
static const char *const FIELDS[F_COUNT] = { PAGE_F_DECISION, PAGE_F_REASON, PAGE_F_NAME, PAGE_F_TITLE,
					     PAGE_F_CSRF, PAGE_F_SHOWN, PAGE_F_LANG };

struct form {
	const char *v[F_COUNT];	/* NUL-terminated, in the decoded body; NULL: absent */
	size_t n[F_COUNT];
};

/* One answer waiting for its commit.  Owned by the portal's list from
 * enqueue to done (or answers_drop); the request is evhttp's. */
struct answer {
	struct commit_sink sink;	/* first: the sink is the answer */
	struct portal *p;
	struct evhttp_request *req;
	struct route r;
	char project[ENTRY_PROJECT_MAX];
	size_t plen;
	uint64_t link;
	struct ledger_result res;
	bool has_res;
	struct page_answer typed;	/* what was sent, for the form again */
	struct answer *prev, *next;
};

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes [s, s+n) in place (%XX, '+' is a space); the decoded length, or
 * -1 for a bad escape or a NUL. */
static long url_decode(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int h, l;
			if (i + 2 >= n || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (c == '\0')
			return -1;
		s[o++] = c;
	}
	s[o] = '\0';
	return (long)o;
}

/* body (NUL-terminated, modified) into f; NULL, or what is wrong. */
static const char *parse_form(char *body, size_t len, struct form *f)
{
	memset(f, 0, sizeof *f);
	if (len == 0)
		return "the form is empty";
	for (char *p = body, *end = body + len; p < end;) {
		char *amp = memchr(p, '&', (size_t)(end - p));
		char *stop = amp ? amp : end;
		char *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq == NULL)
			return "a form field has no '='";
		*eq = '\0';
		*stop = '\0';
		long kn = url_decode(p, (size_t)(eq - p)), vn = url_decode(eq + 1, (size_t)(stop - eq - 1));
		if (kn < 0 || vn < 0)
			return "a form field is not URL-encoded text";
		int i = 0;
		while (i < F_COUNT && strcmp(FIELDS[i], p) != 0)
			i++;
		if (i == F_COUNT)
			return "the form has an unknown field";
		if (f->v[i])
			return "the form has a field twice";
		if (!utf8_valid((const uint8_t *)eq + 1, (size_t)vn))
			return "a form field is not UTF-8";
		f->v[i] = eq + 1;
		f->n[i] = (size_t)vn;
		p = stop + 1;
	}
	return NULL;
}

/* The user agent as recorded: control characters and bytes that are not
 * UTF-8 become spaces, cut after UA_MAX_CHARS characters; "-" for none. */
static void sanitize_ua(const char *ua, struct buf *out)
{
	size_t chars = 0;
	const uint8_t *s = (const uint8_t *)(ua ? ua : "");
	size_t n = strlen((const char *)s);
	for (size_t i = 0; i < n && chars < UA_MAX_CHARS; chars++) {
		size_t len = s[i] < 0x80 ? 1 : (s[i] & 0xe0) == 0xc0 ? 2 : (s[i] & 0xf0) == 0xe0 ? 3 : (s[i] & 0xf8) == 0xf0 ? 4 : 0;
		if (len > 1 && i + len <= n && utf8_valid(s + i, len)) {
			buf_add(out, s + i, len);
			i += len;
			continue;
		}
		buf_addc(out, (s[i] < 0x20 || s[i] >= 0x7f) ? ' ' : (char)s[i]);
		i++;
	}
	if (out->len == 0)
		buf_adds(out, "-");
}

struct kvf {
	const char *key;
	const char *str;	/* text, or NULL for num */
	size_t n;
	uint64_t num;
};

static void add_str(struct kvf *k, size_t *nk, const char *key, const char *v, size_t n)
{
	if (v && n)
		k[(*nk)++] = (struct kvf){ key, v, n, 0 };
}

/* The response (or accept) body for link l from form f. */
static int build_body(const struct lnk *l, const struct form *f, const struct route *r, const char *ua,
		      size_t ual, const char page_hex[65], enum page_lang lang, const char **kind, struct buf *out,
		      struct err *e)
{
	struct kvf k[16];
	size_t nk = 0;
	char item[40], link[40];
	snprintf(link, sizeof link, "LNK-%llu", (unsigned long long)l->number);
	bool dlv = strcmp(l->what, "delivery") == 0;
	*kind = dlv ? "accept" : "response";
	if (strcmp(l->what, "change") == 0) {
		snprintf(item, sizeof item, "CR-%llu", (unsigned long long)l->item);
		add_str(k, &nk, "change", item, strlen(item));
		k[nk++] = (struct kvf){ "quote", NULL, 0, l->quote };
	} else if (strcmp(l->what, "baseline") == 0) {
		k[nk++] = (struct kvf){ "baseline", NULL, 0, l->item };
	} else if (strcmp(l->what, "amendment") == 0 || strcmp(l->what, "notice") == 0 || dlv) {
		snprintf(item, sizeof item, "%s-%llu", dlv ? "DLV" : l->what[0] == 'a' ? "AMD" : "NTC",
			 (unsigned long long)l->item);
		add_str(k, &nk, l->what, item, strlen(item));
	} else {
		return err_set(e, "a %s link is not answered", l->what);
	}
	add_str(k, &nk, dlv ? "outcome" : "decision", f->v[F_DECISION], f->n[F_DECISION]);
	add_str(k, &nk, "reason", f->v[F_REASON], f->n[F_REASON]);
	/* the name as typed (the form prefills the link's to); none sent: the link's to */
	if (f->v[F_NAME] && f->n[F_NAME])
		add_str(k, &nk, "respondent", f->v[F_NAME], f->n[F_NAME]);
	else
		add_str(k, &nk, "respondent", l->to, strlen(l->to));
	add_str(k, &nk, "respondent_title", f->v[F_TITLE], f->n[F_TITLE]);
	add_str(k, &nk, "channel", "portal", 6);
	add_str(k, &nk, "link", link, strlen(link));
	add_str(k, &nk, "address", r->address, strlen(r->address));
	add_str(k, &nk, "user_agent", ua, ual);
	add_str(k, &nk, "page_sha256", page_hex, 64);
	add_str(k, &nk, "page_lang", page_lang_code(lang), 2);
	struct buf raw;
	buf_init(&raw);
	mp_pack_map(&raw, (uint32_t)nk);
	for (size_t i = 0; i < nk; i++) {
		mp_pack_cstr(&raw, k[i].key);
		if (k[i].str)
			mp_pack_str(&raw, k[i].str, k[i].n);
		else
			mp_pack_uint(&raw, k[i].num);
	}
	int rc = buf_failed(&raw) ? err_set(e, "out of memory")
				  : mp_canonicalize(raw.data, raw.len, NULL, MP_NO_BIN, out, e);
	buf_free(&raw);
	return rc;
}

/* The POST's work inside one read transaction. */
struct post {
	struct portal *p;
	struct evhttp_request *req;
	const struct route *r;
	const struct form *f;
	enum page_lang lang;
	bool found, replied, gone;
	char project[ENTRY_PROJECT_MAX];
	size_t plen;
	struct lnk link;
	const char *kind;
	struct buf body, page;
	uint8_t page_sha[32];
};

/* The form's answer fields, for the form shown again after a refusal. */
static void typed_of(const struct form *f, struct page_answer *t)
{
	static const struct {
		enum field f;
		size_t off, size;
	} T[] = {
		{ F_DECISION, offsetof(struct page_answer, decision), sizeof t->decision },
		{ F_REASON, offsetof(struct page_answer, reason), sizeof t->reason },
		{ F_NAME, offsetof(struct page_answer, name), sizeof t->name },
		{ F_TITLE, offsetof(struct page_answer, title), sizeof t->title },
	};
	for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
		size_t n = f->v[T[i].f] ? f->n[T[i].f] : 0;
		snprintf((char *)t + T[i].off, T[i].size, "%.*s", (int)(n < T[i].size ? n : T[i].size - 1),
			 n ? f->v[T[i].f] : "");
	}
}

static int read_post(void *ctx, struct scope_kv *kv, uint64_t now_us, struct err *e)
{
	struct post *x = ctx;
	int f = link_by_token(kv, x->r->token_sha256, x->project, &x->plen, &x->link, e);
	if (f <= 0)
		return f;
	x->found = true;
	if (link_gone(&x->link, now_us)) {
		x->gone = true;
		return 0;
	}
	struct route r = *x->r;
	r.lang = x->lang;
	struct page_ctx c = { kv, x->project, x->plen, &x->link, x->lang, now_us, r.token, NULL };
	struct has_file_ctx hf = { x->p, x->project, x->plen, NULL, false };
	bool yes;
	char why[512] = "", hex[65];
	if (page_answerable(&c, &yes, why, sizeof why, e) || page_content(&c, routes_has_file, &hf, &x->page, e))
		return -1;
	sha256(x->page.data, x->page.len, x->page_sha);
	hex_encode(x->page_sha, sizeof x->page_sha, hex);
	if (!yes || x->f->n[F_SHOWN] != 64 || memcmp(hex, x->f->v[F_SHOWN], 64) != 0) {
		x->p->st.refused[PREF_CHANGED]++;
		struct page_answer typed;
		typed_of(x->f, &typed);
		/* replied only when sent: a page that failed is answered 500 */
		int rc = routes_page(x->p, kv, now_us, x->req, &r, x->project, x->plen, &x->link,
				     yes ? "the page changed since it was shown: read it again and answer again" : NULL,
				     yes ? &typed : NULL, 409, e);
		x->replied = rc == 0;
		return rc;
	}
	struct buf ua;
	buf_init(&ua);
	sanitize_ua(evhttp_find_header(evhttp_request_get_input_headers(x->req), "User-Agent"), &ua);
	int rc = buf_failed(&ua) ? err_set(e, "out of memory")
				 : build_body(&x->link, x->f, x->r, (const char *)ua.data, ua.len, hex, x->lang,
					      &x->kind, &x->body, e);
	buf_free(&ua);
	return rc;
}

static void unlink_answer(struct answer *a)
{
	struct portal *p = a->p;
	if (a->prev)
		a->prev->next = a->next;
	else
		p->answers = a->next;
	if (a->next)
		a->next->prev = a->prev;
}

/* The latest signed checkpoint and entry seq's inclusion proof in it. */
static int prove(struct portal *p, uint64_t seq, struct buf *raw, struct inclusion_proof *pr, struct buf *note,
		 struct err *e)
{
	struct server *s = p->s;
	struct checkpoint cp;
	size_t tlen, by;
	if (ledger_get(s->ledger, seq, raw, e) || ledger_checkpoint(s->ledger, note, e) ||
	    note_open((const char *)note->data, note->len, &s->verifier, 1, &tlen, &by, e) ||
	    checkpoint_parse((const char *)note->data, tlen, &cp, e))
		return -1;
	memset(pr, 0, sizeof *pr);
	pr->tree_size = cp.size;
	pr->leaf_index = seq;
	return ledger_inclusion(s->ledger, seq, cp.size, pr->leaf_hash, pr->root_hash, pr->proof, &pr->len, e);
}

struct receipt_read {
	struct answer *a;
	uint64_t seq;
	const uint8_t *leaf;
	const struct buf *proof, *note;
	const char *error;	/* the rules' refusal: the form again */
};

static int read_done(void *ctx, struct scope_kv *kv, uint64_t now_us, struct err *e)
{
	struct receipt_read *x = ctx;
	struct answer *a = x->a;
	struct lnk l;
	if (link_load(kv, a->project, a->plen, a->link, &l, e) != 1)
		return err_set(e, "LNK-%llu is gone", (unsigned long long)a->link);
	if (x->error)
		return routes_page(a->p, kv, now_us, a->req, &a->r, a->project, a->plen, &l, x->error, &a->typed, 422, e);
	struct page_ctx c = { kv, a->project, a->plen, &l, a->r.lang, now_us, a->r.token, NULL };
	struct buf out;
	buf_init(&out);
	int rc = page_receipt(&c, x->seq, x->leaf, x->proof, x->note, &out, e);
	if (rc == 0)
		routes_reply(a->req, &a->r, 200, "text/html; charset=utf-8", &out, NULL);
	buf_free(&out);
	return rc;
}

static void on_result(struct commit_sink *k, uint64_t req_id, const struct ledger_result *r)
{
	(void)req_id;
	struct answer *a = (struct answer *)k;
	a->res = *r;
	a->has_res = true;
}

static void on_done(struct commit_sink *k)
{
	struct answer *a = (struct answer *)k;
	struct portal *p = a->p;
	struct err e = { 0 };
	struct buf raw, note, proof;
	struct inclusion_proof pr;
	if (a->sink.pending)
		return;	/* not ours yet */
	buf_init(&raw);
	buf_init(&note);
	buf_init(&proof);
	unlink_answer(a);
	struct receipt_read x = { a, a->res.seq, a->res.leaf, &proof, &note, NULL };
	int rc;
	if (!a->has_res) {
		rc = err_set(&e, "the answer was not committed");
	} else if (a->res.status == LEDGER_REJECTED) {
		x.error = a->res.err.msg;
		rc = ledger_read(p->s->ledger, read_done, &x, &e);
	} else {
		if (a->res.status == LEDGER_APPENDED)
			p->st.answers++;
		rc = prove(p, a->res.seq, &raw, &pr, &note, &e);
		if (rc == 0) {
			inclusion_to_json(&pr, &proof);
			rc = ledger_read(p->s->ledger, read_done, &x, &e);
		}
	}
	if (rc) {
		log_msg(LOG_ERROR, "portal: answering LNK-%llu of %.*s: %s", (unsigned long long)a->link, (int)a->plen,
			a->project, e.msg);
		routes_refuse(p, a->req, &a->r, PREF_COUNT, 500, NULL);
	}
	buf_free(&raw);
	buf_free(&note);
	buf_free(&proof);
	free(a);
}

static void enqueue(struct post *x)
{
	struct portal *p = x->p;
	struct err e = { 0 };
	char reqid[ENTRY_REQID_MAX + 1];
	_Static_assert(sizeof "portal." + ENTRY_PROJECT_MAX + sizeof ".LNK-2147483647" <= sizeof reqid,
		       "the request id fits");
	int n = snprintf(reqid, sizeof reqid, "portal.%.*s.LNK-%llu", (int)x->plen, x->project,
			 (unsigned long long)x->link.number);
	if (filestore_put(p->s->cfg.data_dir, x->project, x->plen, x->page.data, x->page.len, x->page_sha, &e)) {
		log_msg(LOG_ERROR, "portal: storing the page of LNK-%llu: %s", (unsigned long long)x->link.number, e.msg);
		routes_refuse(p, x->req, x->r, PREF_COUNT, 503, NULL);
		return;
	}
	struct answer *a = calloc(1, sizeof *a);
	if (a == NULL) {
		routes_refuse(p, x->req, x->r, PREF_COUNT, 503, NULL);
		return;
	}
	a->sink.result = on_result;
	a->sink.done = on_done;
	a->p = p;
	a->req = x->req;
	a->r = *x->r;
	a->r.lang = x->lang;
	memcpy(a->project, x->project, x->plen);
	a->plen = x->plen;
	a->link = x->link.number;
	typed_of(x->f, &a->typed);
	struct ledger_append ap = { x->kind, strlen(x->kind), x->project, x->plen, LEDGER_KEY_AUTHOR,
				    strlen(LEDGER_KEY_AUTHOR), reqid, (size_t)n, x->body.data, x->body.len, true, NULL, NULL };
	if (commit_enqueue(&p->s->commit, &a->sink, 0, &ap, &e)) {
		free(a);
		routes_refuse(p, x->req, x->r, PREF_COUNT, 503, NULL);
		return;
	}
	a->next = p->answers;
	if (p->answers)
		p->answers->prev = a;
	p->answers = a;
}

/* Whether a POST comes from the portal's own page.  Under Referrer-Policy
 * no-referrer a browser sends "Origin: null" even for its own form; it then
 * also says Sec-Fetch-Site: same-origin (Fetch Metadata), which a page of
 * another site cannot make it say.  A Sec-Fetch-Site naming another site
 * refuses whatever the Origin.  Without either header (an old browser, a
 * script) the SameSite=Strict cookie and its HMAC field decide alone. */
static bool same_origin(const struct portal *p, struct evkeyvalq *in)
{
	const char *origin = evhttp_find_header(in, "Origin");
	const char *site = evhttp_find_header(in, "Sec-Fetch-Site");
	if (site && strcmp(site, "same-origin") != 0)
		return false;
	if (origin == NULL || strcmp(origin, p->origin) == 0)
		return true;
	return strcmp(origin, "null") == 0 && site != NULL;
}

void answer_post(struct portal *p, struct evhttp_request *req, const struct route *r)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	if (!same_origin(p, in)) {
		routes_refuse(p, req, r, PREF_ORIGIN, 403, "the form was sent from another site");
		return;
	}
	if (!r->has_cookie) {
		routes_refuse(p, req, r, PREF_CSRF, 403, "the form was sent without this site's cookie");
		return;
	}
	struct evbuffer *ib = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(ib);
	if (len > p->s->cfg.portal_max_body) {
		routes_refuse(p, req, r, PREF_SIZE, 413, NULL);
		return;
	}
	char *body = malloc(len + 1);
	if (body == NULL) {
		routes_refuse(p, req, r, PREF_COUNT, 503, NULL);
		return;
	}
	evbuffer_copyout(ib, body, len);
	body[len] = '\0';
	struct form f;
	const char *bad = parse_form(body, len, &f);
	if (bad) {
		routes_refuse(p, req, r, PREF_SIZE, 400, bad);
		free(body);
		return;
	}
	if (f.v[F_CSRF] == NULL || !guard_csrf_ok(p->secret, r->cookie, r->token_sha256, f.v[F_CSRF], f.n[F_CSRF])) {
		routes_refuse(p, req, r, PREF_CSRF, 403, "the form's check does not match this browser's cookie");
		free(body);
		return;
	}
	struct post x = { .p = p, .req = req, .r = r, .f = &f, .lang = r->lang };
	if (f.v[F_LANG] && (strcmp(f.v[F_LANG], "ja") == 0 || strcmp(f.v[F_LANG], "en") == 0))
		x.lang = f.v[F_LANG][0] == 'j' ? PAGE_JA : PAGE_EN;
	buf_init(&x.body);
	buf_init(&x.page);
	struct err e = { 0 };
	if (ledger_read(p->s->ledger, read_post, &x, &e)) {
		if (!x.replied)
			routes_refuse(p, req, r, PREF_COUNT, 500, e.msg);
	} else if (!x.found) {
		routes_refuse(p, req, r, PREF_TOKEN, 404, NULL);
	} else if (x.gone) {
		struct route rl = *r;
		rl.lang = x.lang;
		routes_gone(p, req, &rl, &x.link);
	} else if (!x.replied) {
		enqueue(&x);
	}
	buf_free(&x.body);
	buf_free(&x.page);
	free(body);
}

void answer_receipt_download(struct portal *p, struct evhttp_request *req, const struct route *r,
			     const char *project, size_t plen, const struct lnk *l)
{
	struct err e = { 0 };
	struct buf raw, note, page, out;
	struct inclusion_proof pr;
	struct entry en;
	struct mp_cur c;
	const char *hex;
	size_t hn;
	uint8_t sha[32];
	char path[FILESTORE_PATH_MAX];
	bool has_page = false;
	if (l->used_seq == 0) {
		routes_refuse(p, req, r, PREF_COUNT, 404, "nothing has been answered through this link");
		return;
	}
	buf_init(&raw);
	buf_init(&note);
	buf_init(&page);
	buf_init(&out);
	if (prove(p, l->used_seq, &raw, &pr, &note, &e) || entry_decode(raw.data, raw.len, &en, &e)) {
		routes_refuse(p, req, r, PREF_COUNT, 500, NULL);
		goto out;
	}
	if (mp_map_find(en.body, en.body_len, "page_sha256", &c, &e) == 1 && mp_get_str(&c, &hex, &hn, &e) == 0 &&
	    hn == 64 && hex_decode(hex, 64, sha, 32) == 0 && filestore_holds(p->s->cfg.data_dir, project, plen, sha) &&
	    filestore_path(p->s->cfg.data_dir, sha, path, sizeof path, &e) == 0 &&
	    read_file(path, PAGE_MAX_BYTES, &page, &e) == 0)
		has_page = true;
	receipt_json(&raw, &pr, &note, has_page ? &page : NULL, &out);
	char name[64];
	snprintf(name, sizeof name, "receipt-LNK-%llu.json", (unsigned long long)l->number);
	routes_reply(req, r, 200, "application/json", &out, name);
out:
	buf_free(&raw);
	buf_free(&note);
	buf_free(&page);
	buf_free(&out);
}

void answers_drop(struct portal *p)
{
	while (p->answers) {
		struct answer *a = p->answers;
		commit_cancel(&p->s->commit, &a->sink);
		unlink_answer(a);
		routes_refuse(p, a->req, &a->r, PREF_COUNT, 503, NULL);
		free(a);
	}
}
