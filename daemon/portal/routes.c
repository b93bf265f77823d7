#include "routes.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answer.h"
#include "enc.h"
#include "filestore.h"
#include "i18n.h"
#include "merkle.h"
#include "portal.h"
#include "rules_hook.h"
#include "server.h"

void routes_reply(struct evhttp_request *req, const struct route *r, int status, const char *ctype,
		  const struct buf *body, const char *attachment)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	for (const struct guard_header *g = GUARD_HEADERS; g->name; g++)
		evhttp_add_header(h, g->name, g->value);
	if (strncmp(ctype, "text/css", 8) != 0)
		evhttp_add_header(h, GUARD_NO_STORE.name, GUARD_NO_STORE.value);
	evhttp_add_header(h, "Content-Type", ctype);
	if (attachment) {
		char cd[160];
		snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", attachment);
		evhttp_add_header(h, "Content-Disposition", cd);
	}
	if (r && !r->has_cookie && r->cookie[0]) {
		char c[128];
		snprintf(c, sizeof c, "%s=%s; Secure; HttpOnly; SameSite=Strict; Path=/", GUARD_COOKIE, r->cookie);
		evhttp_add_header(h, "Set-Cookie", c);
	}
	struct evbuffer *out = evbuffer_new();
	if (out && body && body->len)
		evbuffer_add(out, body->data, body->len);
	evhttp_send_reply(req, status, NULL, out);
	if (out)
		evbuffer_free(out);
}

void routes_refuse(struct portal *p, struct evhttp_request *req, const struct route *r, enum portal_refusal why,
		   int status, const char *detail)
{
	struct buf b;
	buf_init(&b);
	if (why < PREF_COUNT)
		p->st.refused[why]++;
	page_error(r ? r->lang : PAGE_EN, status, detail, &b);
	/* out of memory: the status alone, never half a page */
	routes_reply(req, r, status, "text/html; charset=utf-8", buf_failed(&b) ? NULL : &b, NULL);
	buf_free(&b);
}

void routes_gone(struct portal *p, struct evhttp_request *req, const struct route *r, const struct lnk *l)
{
	routes_refuse(p, req, r, PREF_GONE, 410, tr(r->lang, l->revoke_seq ? "gone.revoked" : "gone.expired"));
}

bool routes_has_file(void *ctx, const char *sha256_hex)
{
	struct has_file_ctx *h = ctx;
	uint8_t sha[32];
	if (strlen(sha256_hex) != 64 || hex_decode(sha256_hex, 64, sha, 32))
		return false;
	if (h->want && strcmp(h->want, sha256_hex) == 0)
		h->cited = true;
	return filestore_holds(h->p->s->cfg.data_dir, h->project, h->plen, sha);
}

static void sha_hex(const struct buf *b, char out[65])
{
	uint8_t d[32];
	sha256(b->data, b->len, d);
	hex_encode(d, sizeof d, out);
}

int routes_page(struct portal *p, struct scope_kv *kv, uint64_t now_us, struct evhttp_request *req,
		const struct route *r, const char *project, size_t plen, const struct lnk *l, const char *error,
		const struct page_answer *typed, int status, struct err *e)
{
	struct page_ctx c = { kv, project, plen, l, r->lang, now_us, r->token, typed };
	struct has_file_ctx hf = { p, project, plen, NULL, false };
	struct buf content, doc;
	bool yes = false;
	char why[512] = "", csrf[65] = "", shown[65] = "";
	if (link_gone(l, now_us)) {
		routes_gone(p, req, r, l);
		return 0;
	}
	buf_init(&content);
	buf_init(&doc);
	int rc = -1;
	if (page_answerable(&c, &yes, why, sizeof why, e) || page_content(&c, routes_has_file, &hf, &content, e))
		goto out;
	if (yes) {
		guard_csrf(p->secret, r->cookie, r->token_sha256, csrf);
		sha_hex(&content, shown);
	}
	if (page_document(&c, &content, yes, why, csrf, shown, error, &doc, e))
		goto out;
	routes_reply(req, r, status, "text/html; charset=utf-8", &doc, NULL);
	rc = 0;
out:
	buf_free(&content);
	buf_free(&doc);
	return rc;
}

enum sub { SUB_PAGE, SUB_RECEIPT, SUB_DOC };

struct get {
	struct portal *p;
	struct evhttp_request *req;
	struct route *r;
	enum sub sub;
	char doc[65];
	bool found;		/* the token names a link */
	int status;		/* a refusal to send after the transaction, or 0 */
	const char *detail;
	char project[ENTRY_PROJECT_MAX];
	size_t plen;
	struct lnk link;
};

/* A document of the item: cited by its page and held by the project. */
static void send_doc(struct get *g)
{
	uint8_t sha[32];
	char path[FILESTORE_PATH_MAX];
	struct err e = { 0 };
	hex_decode(g->doc, 64, sha, 32);
	int fd = -1;
	struct stat st;
	if (filestore_path(g->p->s->cfg.data_dir, sha, path, sizeof path, &e) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		routes_refuse(g->p, g->req, g->r, PREF_COUNT, 404, "the document is not in the evidence store");
		return;
	}
	struct evkeyvalq *h = evhttp_request_get_output_headers(g->req);
	for (const struct guard_header *x = GUARD_HEADERS; x->name; x++)
		evhttp_add_header(h, x->name, x->value);
	evhttp_add_header(h, GUARD_NO_STORE.name, GUARD_NO_STORE.value);
	evhttp_add_header(h, "Content-Type", "application/octet-stream");
	char cd[128];
	snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", g->doc);
	evhttp_add_header(h, "Content-Disposition", cd);
	struct evbuffer *out = evbuffer_new();
	if (out == NULL || evbuffer_add_file(out, fd, 0, st.st_size) != 0) {
		if (out)
			evbuffer_free(out);
		else
			close(fd);
		evhttp_send_error(g->req, 500, NULL);
		return;
	}
	evhttp_send_reply(g->req, 200, "OK", out);
	evbuffer_free(out);
}

static int read_get(void *ctx, struct scope_kv *kv, uint64_t now_us, struct err *e)
{
	struct get *g = ctx;
	int f = link_by_token(kv, g->r->token_sha256, g->project, &g->plen, &g->link, e);
	if (f <= 0)
		return f;
	g->found = true;
	/* a receipt of what was answered through it stays the client's */
	if (link_gone(&g->link, now_us) && !(g->sub == SUB_RECEIPT && g->link.used_seq)) {
		g->status = 410;
		g->detail = tr(g->r->lang, g->link.revoke_seq ? "gone.revoked" : "gone.expired");
		return 0;
	}
	if (g->sub == SUB_PAGE)
		return routes_page(g->p, kv, now_us, g->req, g->r, g->project, g->plen, &g->link, NULL, NULL, 200, e);
	if (g->sub == SUB_DOC) {
		struct page_ctx c = { kv, g->project, g->plen, &g->link, g->r->lang, now_us, g->r->token, NULL };
		struct has_file_ctx hf = { g->p, g->project, g->plen, g->doc, false };
		struct buf content;
		buf_init(&content);
		int rc = page_content(&c, routes_has_file, &hf, &content, e);
		buf_free(&content);
		if (rc)
			return -1;
		uint8_t sha[32];
		hex_decode(g->doc, 64, sha, 32);
		if (!hf.cited || !filestore_holds(g->p->s->cfg.data_dir, g->project, g->plen, sha)) {
			g->status = 404;
			g->detail = "this link's item has no such document in the evidence store";
		}
	}
	return 0;
}

static void serve_get(struct portal *p, struct evhttp_request *req, struct route *r, enum sub sub, const char *doc)
{
	struct get g = { .p = p, .req = req, .r = r, .sub = sub };
	struct err e = { 0 };
	if (doc)
		snprintf(g.doc, sizeof g.doc, "%s", doc);
	if (ledger_read(p->s->ledger, read_get, &g, &e)) {
		routes_refuse(p, req, r, PREF_COUNT, 500, e.msg);
		return;
	}
	if (!g.found) {
		routes_refuse(p, req, r, PREF_TOKEN, 404, NULL);
		return;
	}
	if (g.status) {
		routes_refuse(p, req, r, g.status == 410 ? PREF_GONE : PREF_COUNT, g.status, g.detail);
		return;
	}
	if (sub == SUB_DOC)
		send_doc(&g);
	else if (sub == SUB_RECEIPT)
		answer_receipt_download(p, req, r, g.project, g.plen, &g.link);
}

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The language: ?lang=ja|en, else Accept-Language. */
static enum page_lang pick_lang(struct evhttp_request *req, const struct evhttp_uri *u)
{
	const char *q = evhttp_uri_get_query(u);
	if (q && (strcmp(q, "lang=ja") == 0 || strcmp(q, "lang=en") == 0))
		return q[5] == 'j' ? PAGE_JA : PAGE_EN;
	return page_lang_pick(evhttp_find_header(evhttp_request_get_input_headers(req), "Accept-Language"));
}

void routes_serve(struct portal *p, struct evhttp_request *req)
{
	struct route r;
	memset(&r, 0, sizeof r);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *peer = NULL;
	ev_uint16_t port = 0;
	p->st.requests++;
	if (evcon)
		evhttp_connection_get_peer(evcon, &peer, &port);
	guard_address(peer ? peer : "", p->s->cfg.portal_proxy, evhttp_find_header(in, "X-Forwarded-For"), r.address);
	/* libevent calls back without a URI for a request it could not read
	 * (an invalid header, a buffer error): it wants the error reply */
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
	if (u == NULL) {
		routes_refuse(p, req, &r, PREF_SIZE, evhttp_request_get_response_code(req) == 413 ? 413 : 400, NULL);
		return;
	}
	r.lang = pick_lang(req, u);
	r.has_cookie = guard_cookie(evhttp_find_header(in, "Cookie"), r.cookie);
	if (!r.has_cookie)
		guard_new_cookie(r.cookie);
	if (p->stopping) {
		routes_refuse(p, req, &r, PREF_COUNT, 503, NULL);
		return;
	}
	if (!rate_allow(&p->rate, r.address, stats_now_us(), p->s->cfg.portal_rate_per_min)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "60");
		routes_refuse(p, req, &r, PREF_RATE, 429, NULL);
		return;
	}
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, POST");
		routes_refuse(p, req, &r, PREF_METHOD, 405, NULL);
		return;
	}
	const char *path = evhttp_uri_get_path(u);
	if (path == NULL)
		path = "";
	if (strcmp(path, "/static/portal.css") == 0) {
		if (m != EVHTTP_REQ_GET) {
			routes_refuse(p, req, &r, PREF_METHOD, 405, NULL);
			return;
		}
		struct buf css = { (uint8_t *)PAGE_CSS, strlen(PAGE_CSS), 0, false };
		r.has_cookie = true;	/* no cookie for the stylesheet */
		routes_reply(req, &r, 200, "text/css; charset=utf-8", &css, NULL);
		return;
	}
	if (strncmp(path, "/l/", 3) != 0) {
		routes_refuse(p, req, &r, PREF_COUNT, 404, NULL);
		return;
	}
	const char *tok = path + 3, *rest = tok + strcspn(tok, "/");
	if (!guard_token_ok(tok, (size_t)(rest - tok))) {
		routes_refuse(p, req, &r, PREF_TOKEN, 404, NULL);
		return;
	}
	memcpy(r.token, tok, GUARD_TOKEN_LEN);
	sha256(r.token, GUARD_TOKEN_LEN, r.token_sha256);
	enum sub sub;
	const char *doc = NULL;
	if (*rest == '\0')
		sub = SUB_PAGE;
	else if (strcmp(rest, "/receipt") == 0)
		sub = SUB_RECEIPT;
	else if (strncmp(rest, "/doc/", 5) == 0 && is_hex64(rest + 5))
		sub = SUB_DOC, doc = rest + 5;
	else {
		routes_refuse(p, req, &r, PREF_COUNT, 404, NULL);
		return;
	}
	if (m == EVHTTP_REQ_POST) {
		if (sub != SUB_PAGE) {
			routes_refuse(p, req, &r, PREF_METHOD, 405, NULL);
			return;
		}
		answer_post(p, req, &r);
		return;
	}
	serve_get(p, req, &r, sub, doc);
}
