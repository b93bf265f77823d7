#include "tile_serve.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "follow.h"
#include "logger.h"
#include "roles.h"
#include "server.h"
#include "stats.h"
#include "tile_path.h"
#include "tiles.h"
#include "tls.h"

#define CACHE_IMMUTABLE "max-age=31536000, immutable"
#define CACHE_CHECKPOINT "max-age=5"	/* the checkpoint changes with every commit */
#define LONG_ENTRY 65535		/* the longest entry a uint16 length holds */

static void reply(struct tiles *t, struct evhttp_request *req, int status, const char *ctype, const char *cache,
		  struct evbuffer *body)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", cache);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (status == HTTP_OK && evhttp_request_get_command(req) == EVHTTP_REQ_GET)
		t->st.bytes += evbuffer_get_length(body);	/* HEAD sends none */
	evhttp_send_reply(req, status, NULL, body);
}

/* A refusal: its status, counted by cause, with a line saying why. */
static void refuse(struct tiles *t, struct evhttp_request *req, enum tiles_refusal why, int status,
		   const char *text)
{
	t->st.refused[why]++;
	struct evbuffer *b = evbuffer_new();
	if (b == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add_printf(b, "%s\n", text);
	if (why == TREF_RATE)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "60");
	reply(t, req, status, "text/plain; charset=utf-8", "no-store", b);
	evbuffer_free(b);
}

/* Whether the request's client certificate (verified at the handshake)
 * has a grant that reads every project: auditor or admin on "*". */
static bool reads_everything(struct tiles *t, struct evhttp_request *req, bool *has_cert, bool *revoked)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	char cn[ROLES_CN_MAX + 1], fp[65];
	size_t cn_n;
	struct err e = { 0 };
	*has_cert = *revoked = false;
	if (ssl == NULL || tls_peer_identity(ssl, cn, sizeof cn, &cn_n, fp, &e))
		return false;
	*has_cert = true;
	/* checked again against the CA and CRL loaded now: a certificate
	 * revoked at a reload reads nothing more on a kept-alive connection */
	if (tls_peer_recheck(t->tls, ssl, &e)) {
		*revoked = true;
		return false;
	}
	if (cn_n == TLS_NO_CN || roles_cn_problem(cn, cn_n))
		cn[0] = '\0';	/* no CN line can match: a fingerprint line may */
	return roles_reads_all(roles_lookup(t->s->roles, cn, fp));
}

static int checkpoint(struct tiles *t, struct evbuffer *out, struct err *e)
{
	struct buf note, lines;
	buf_init(&note);
	buf_init(&lines);
	/* the note exactly as the log signed it, then the cosignature lines
	 * the log (or, on a follower, the copy) holds for exactly that
	 * checkpoint: further signature lines of the same note */
	int rc = ledger_checkpoint(t->s->ledger, &note, e);
	if (rc == 0 && (t->s->follow ? follow_cosig_lines(t->s, note.data, note.len, &lines)
				     : witnessing_lines(&t->s->witnessing, note.data, note.len, &lines)))
		rc = err_set(e, "out of memory");
	if (rc == 0 && (evbuffer_add(out, note.data, note.len) || evbuffer_add(out, lines.data, lines.len)))
		rc = err_set(e, "out of memory");
	buf_free(&note);
	buf_free(&lines);
	return rc;
}

static int hash_tile(struct store_txn *txn, const struct tile_ref *r, struct evbuffer *out, struct err *e)
{
	uint8_t h[TILE_WIDTH][TILE_HASH];
	for (unsigned i = 0; i < r->width; i++)
		if (store_node_get(txn, 8 * r->level, r->index * TILE_WIDTH + i, h[i], e))
			return -1;
	return evbuffer_add(out, h, (size_t)r->width * TILE_HASH) ? err_set(e, "out of memory") : 0;
}

/* The bundle's entries, each after its big-endian length (2 bytes, or 4
 * for entries32); 1 with *long_seq set when an entry does not fit 2. */
static int bundle(struct store_txn *txn, const struct tile_ref *r, struct evbuffer *out, uint64_t *long_seq,
		  size_t *long_n, struct err *e)
{
	bool wide = r->kind == TILE_ENTRIES32;
	for (unsigned i = 0; i < r->width; i++) {
		uint64_t seq = r->index * TILE_WIDTH + i;
		const uint8_t *p;
		size_t n;
		if (store_entry_get(txn, seq, &p, &n, e))
			return -1;
		if (!wide && n > LONG_ENTRY) {
			*long_seq = seq;
			*long_n = n;
			return 1;
		}
		uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
		if (evbuffer_add(out, wide ? len : len + 2, wide ? 4 : 2) || evbuffer_add(out, p, n))
			return err_set(e, "out of memory");
	}
	return 0;
}

/* r read at the ledger's current size: 0 served into out, 1 absent (a
 * long entry: *long_seq), -1 error */
static int resource(struct tiles *t, const struct tile_ref *r, struct evbuffer *out, uint64_t *long_seq,
		    size_t *long_n, struct err *e)
{
	if (r->kind == TILE_CHECKPOINT)
		return checkpoint(t, out, e);
	struct store_txn *txn;
	if (store_begin(ledger_store(t->s->ledger), false, &txn, e))
		return -1;
	int rc = r->kind == TILE_HASH_TILE ? hash_tile(txn, r, out, e) : bundle(txn, r, out, long_seq, long_n, e);
	store_abort(txn);
	return rc;
}

static void index_path(const struct tile_ref *r, char *out, size_t n)
{
	/* N's 3-digit elements, most significant first */
	unsigned d[7];
	int k = 0;
	uint64_t v = r->index;
	do {
		d[k++] = (unsigned)(v % 1000);
		v /= 1000;
	} while (v && k < 7);
	size_t o = 0;
	for (int i = k - 1; i >= 0 && o < n; i--)
		o += (size_t)snprintf(out + o, n - o, i ? "x%03u/" : "%03u", d[i]);
	if (r->width < TILE_WIDTH && o < n)
		snprintf(out + o, n - o, ".p/%u", r->width);
}

void tile_serve(struct tiles *t, struct evhttp_request *req)
{
	struct server *s = t->s;
	t->st.requests++;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		refuse(t, req, TREF_METHOD, 405, "the tiles are read with GET (or HEAD)");
		return;
	}
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *peer = NULL;
	ev_uint16_t port = 0;
	if (conn)
		evhttp_connection_get_peer(conn, &peer, &port);
	if (!rate_allow(&t->rate, peer ? peer : "", stats_now_us(), s->cfg.tiles_rate_per_min)) {
		refuse(t, req, TREF_RATE, 429, "too many requests from this address: wait a minute "
					      "(tiles_rate_per_min)");
		return;
	}
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	struct tile_ref r;
	const char *why;
	if (path == NULL || tile_path_parse(path, &r, &why)) {
		refuse(t, req, TREF_BAD_PATH, 400, path ? why : "a request without a path");
		return;
	}
	bool has_cert, revoked, all = reads_everything(t, req, &has_cert, &revoked);
	bool bundle_kind = r.kind == TILE_ENTRIES || r.kind == TILE_ENTRIES32;
	bool public_kind = !bundle_kind && strcmp(s->cfg.tiles_public, "yes") == 0;
	if (revoked) {
		refuse(t, req, TREF_FORBIDDEN, 403, "this client certificate is no longer accepted (revoked or "
						    "expired since the connection began): connect again with a valid one");
		return;
	}
	if (!all && !public_kind) {
		refuse(t, req, TREF_FORBIDDEN, 403,
		       bundle_kind ? (has_cert ? "entry bundles hold the vendor's and the client's data: this certificate's "
						 "identity needs the auditor or admin role on all projects (*)"
					       : "entry bundles hold the vendor's and the client's data: connect with a client "
						 "certificate of the auditor or admin role on all projects (*)")
			       : (has_cert ? "tiles_public is no: this certificate's identity needs the auditor or admin "
					     "role on all projects (*)"
					   : "tiles_public is no: connect with a client certificate of the auditor or admin "
					     "role on all projects (*)"));
		return;
	}
	uint64_t size = ledger_size(s->ledger);
	if (r.kind != TILE_CHECKPOINT && !tile_exists(&r, size)) {
		char text[160];
		snprintf(text, sizeof text, "not in the tree of size %llu (the latest checkpoint's)",
			 (unsigned long long)size);
		refuse(t, req, TREF_NOT_FOUND, 404, text);
		return;
	}
	struct evbuffer *out = evbuffer_new();
	struct err e = { 0 };
	uint64_t long_seq = 0;
	size_t long_n = 0;
	int rc = out ? resource(t, &r, out, &long_seq, &long_n, &e) : err_set(&e, "out of memory");
	if (rc < 0) {
		refuse(t, req, TREF_ERROR, 500, "the ledger could not be read: see the daemon's log");
		log_msg(LOG_ERROR, "tiles: %s: %s", path, e.msg);
	} else if (rc > 0) {
		char text[400], np[64];
		index_path(&r, np, sizeof np);
		snprintf(text, sizeof text,
			 "entry %llu is %zu bytes, longer than the 65535 a uint16 length holds: this bundle is served "
			 "with uint32 lengths at /tile/entries32/%s (a Scope Ledger extension, proto/PROTOCOL.md, "
			 "\"Tiles\")",
			 (unsigned long long)long_seq, long_n, np);
		refuse(t, req, TREF_NOT_FOUND, 404, text);
	} else if (r.kind == TILE_CHECKPOINT) {
		t->st.checkpoints++;
		reply(t, req, HTTP_OK, "text/plain; charset=utf-8",
		      public_kind ? "public, " CACHE_CHECKPOINT : "private, " CACHE_CHECKPOINT, out);
	} else {
		if (bundle_kind)
			t->st.bundles++;
		else
			t->st.tiles++;
		reply(t, req, HTTP_OK, "application/octet-stream",
		      public_kind ? "public, " CACHE_IMMUTABLE : "private, " CACHE_IMMUTABLE, out);
	}
	if (out)
		evbuffer_free(out);
}
