#include "witnessing.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enc.h"
#include "logger.h"
#include "tls.h"
#include "mp.h"
#include "note.h"
#include "server.h"
#include "stats.h"
#include "store.h"

#define MAX_SKIP 8
#define QUORUM_META "witness_quorum"

static const char *const CAUSES[WC_COUNT] = { "transport", "forbidden", "not_found", "conflict",
					      "unprocessable", "http", "bad_reply", "ahead", "timeout" };

static void meta_name(const struct witness_peer *p, char *out, size_t n)
{
	snprintf(out, n, "witness:%s", p->key.name);
}

/* On the loop thread, which waits for LMDB's write lock while the writer
 * commits a batch; the loop's reads see the record at once when no batch is
 * in the writer, else once that batch is published (commit.h).  What this
 * file serves comes from memory: only the next start reads the record. */
static int meta_put(struct witnessing *w, const char *name, const struct buf *v, struct err *e)
{
	struct store_txn *t = NULL;
	if (store_begin(ledger_store(w->s->ledger), true, &t, e))
		return -1;
	store_meta_put(t, name, v->data, v->len, e);
	return store_commit(t, e);
}

static void failed(struct witness_peer *p, enum witness_cause c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void failed(struct witness_peer *p, enum witness_cause c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->last_error, sizeof p->last_error, fmt, ap);
	va_end(ap);
	p->failures[c]++;
	/* a size beyond the log's is an error every time it changes: another
	 * history under this log's key, or a witness that lies */
	enum log_level lvl = c == WC_AHEAD && p->ahead == 0 ? LOG_ERROR : p->failing ? LOG_DEBUG : LOG_WARN;
	log_msg(lvl, "witness %s: %s (%s); retrying with back-off", p->key.name, p->last_error, CAUSES[c]);
	p->failing = true;
	p->skip = p->backoff;
	p->backoff = p->backoff ? (p->backoff * 2 > MAX_SKIP ? MAX_SKIP : p->backoff * 2) : 1;
}

/* The peers that cosigned exactly the checkpoint p did, with their lines:
 * kept as the quorum checkpoint once there are enough of them. */
static void check_quorum(struct witnessing *w, const struct witness_peer *p)
{
	struct buf q;
	size_t count = 0;
	buf_init(&q);
	buf_add(&q, p->note.data, p->note_len);
	for (size_t i = 0; i < w->n; i++) {
		const struct witness_peer *o = &w->peers[i];
		if (o->size == p->size && o->note_len == p->note_len &&
		    memcmp(o->note.data, p->note.data, p->note_len) == 0) {
			buf_add(&q, o->note.data + o->note_len, o->note.len - o->note_len);
			count++;
		}
	}
	struct err e = { 0 };
	if (!buf_failed(&q) && config_quorum_met(&w->s->cfg, (const char *)q.data, q.len, count) &&
	    p->size >= w->quorum_size && meta_put(w, QUORUM_META, &q, &e) == 0) {
		if (p->size > w->quorum_size || w->quorum_note.len == 0)
			log_msg(LOG_INFO, "witnesses: checkpoint %llu carries %zu cosignatures (quorum %zu)",
				(unsigned long long)p->size, count, w->quorum);
		buf_reset(&w->quorum_note);
		buf_add(&w->quorum_note, q.data, q.len);
		w->quorum_size = p->size;
	} else if (e.msg[0]) {
		log_msg(LOG_ERROR, "witnesses: cannot keep the cosigned checkpoint: %s", e.msg);
	}
	buf_free(&q);
}

/* 200: the body holds signature lines; ours must verify on what was sent. */
static void take_cosignature(struct witness_peer *p, const char *body, size_t n)
{
	struct buf all, rec;
	buf_init(&all);
	buf_init(&rec);
	buf_add(&all, p->sent.data, p->sent.len);
	buf_add(&all, body, n);
	struct cosig_seen seen;
	size_t count = 0;
	struct err e = { 0 };
	int rc = buf_failed(&all) ? err_set(&e, "out of memory")
				  : cosig_check((const char *)all.data, all.len, &p->key, 1, &seen, &count, &e);
	if (rc == 0 && count == 0)
		err_set(&e, "its reply holds no cosignature/v1 line for its key");
	rc = rc == 0 && count == 1;
	if (rc == 1) {
		char name[NOTE_NAME_MAX + 16];
		uint8_t sz[8];
		for (int i = 0; i < 8; i++)
			sz[i] = (uint8_t)(p->sent_size >> (56 - 8 * i));
		buf_add(&rec, sz, 8);
		buf_add(&rec, p->sent.data, p->sent.len);
		buf_add(&rec, all.data + seen.line, seen.line_len);
		meta_name(p, name, sizeof name);
		if (buf_failed(&rec) || meta_put(p->w, name, &rec, &e) == 0) {
			buf_reset(&p->note);
			buf_add(&p->note, rec.data + 8, rec.len - 8);
			p->note_len = p->sent.len;
			p->size = p->old = p->sent_size;
			p->cosigned++;
			p->last_ok_s = seen.when;
			p->backoff = 0;
			log_msg(p->failing ? LOG_INFO : LOG_DEBUG, "witness %s cosigned checkpoint %llu%s", p->key.name,
				(unsigned long long)p->size, p->failing ? " (it answers again)" : "");
			p->failing = false;
			p->ahead = 0;
			p->last_error[0] = '\0';
			check_quorum(p->w, p);
			rc = 2;
		}
	}
	if (rc == 1)
		log_msg(LOG_ERROR, "witness %s: cannot keep its cosignature: %s", p->key.name, e.msg);
	else if (rc != 2)
		failed(p, WC_BAD_REPLY, "%s", e.msg);
	buf_free(&all);
	buf_free(&rec);
}

static int submit(struct witness_peer *p, struct err *e);

/* 409: the witness says which size it cosigned last. */
static void take_conflict(struct witness_peer *p, struct evhttp_request *req, const char *body, size_t n)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	uint64_t size = 0;
	size_t i = 0;
	while (i < n && i < 20 && body[i] >= '0' && body[i] <= '9')
		size = size * 10 + (uint64_t)(body[i++] - '0');
	if (ct == NULL || strncmp(ct, "text/x.tlog.size", 16) != 0 || i == 0 || i + 1 != n || body[i] != '\n' ||
	    (body[0] == '0' && i > 1)) {
		failed(p, WC_CONFLICT, "409 without a text/x.tlog.size body");
		return;
	}
	uint64_t have = ledger_size(p->w->s->ledger);
	if (size > have) {	/* never a base for a proof: this log has no such tree */
		if (p->ahead != size)
			p->ahead = 0;	/* a new claim is logged as an error */
		failed(p, WC_AHEAD, "409: it says it cosigned size %llu, but this log has only %llu entries: another "
		       "history under this log's key, or a witness that lies; check its latest cosigned checkpoint "
		       "and the signing key's custody", (unsigned long long)size, (unsigned long long)have);
		p->ahead = size;
		return;
	}
	if (size > p->sent_size) {
		failed(p, WC_CONFLICT, "it has cosigned size %llu, beyond the submitted %llu", (unsigned long long)size,
		       (unsigned long long)p->sent_size);
		p->old = size;	/* the next round starts from it */
		return;
	}
	if (p->retried) {
		failed(p, WC_CONFLICT, "it answered 409 twice in one round (size %llu)", (unsigned long long)size);
		return;
	}
	p->retried = true;
	p->old = size;
	struct err e = { 0 };
	if (submit(p, &e))
		failed(p, WC_TRANSPORT, "%s", e.msg);
}

/* The first line of a refusal's body, as "; it says: ...", printable
 * ASCII only and cut short: for the log and info, from a peer. */
static const char *reason(const char *body, size_t n)
{
	static char out[72];
	size_t k = 0, o = snprintf(out, sizeof out, "; it says: ");
	size_t start = o;
	for (; k < n && body[k] != '\n' && o + 1 < sizeof out; k++)
		out[o++] = body[k] >= 0x20 && body[k] < 0x7f ? body[k] : '?';
	out[o] = '\0';
	return o > start ? out : "";
}

static void on_reply(struct evhttp_request *req, void *arg)
{
	struct witness_peer *p = arg;
	p->conn = NULL;	/* freed by libevent once this returns */
	evtimer_del(p->deadline);
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code == 0) {
		failed(p, WC_TRANSPORT, "%s", p->reply_error[0] ? p->reply_error : "no reply");
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	const char *body = n ? (const char *)evbuffer_pullup(in, -1) : "";
	if (n > WITNESSING_MAX_REPLY || body == NULL) {
		failed(p, WC_BAD_REPLY, "a reply larger than %d bytes", WITNESSING_MAX_REPLY);
		return;
	}
	switch (code) {
	case 200:
		take_cosignature(p, body, n);
		break;
	case 409:
		take_conflict(p, req, body, n);
		break;
	case 403:
		failed(p, WC_FORBIDDEN, "403 Forbidden: it finds no valid signature by a key it trusts for this origin: "
		       "give it this log's verifier key (scoped checkpoint shows it)%s", reason(body, n));
		break;
	case 404:
		failed(p, WC_NOT_FOUND, "404 Not Found: it does not witness this origin, or %.60s is not its submission "
		       "prefix: configure the origin there%s", p->cfg->url, reason(body, n));
		break;
	case 422:
		failed(p, WC_UNPROCESSABLE,
		       "422: it refused checkpoint %llu as inconsistent with size %llu it cosigned%s",
		       (unsigned long long)p->sent_size, (unsigned long long)p->old, reason(body, n));
		break;
	default:
		failed(p, WC_HTTP, "HTTP %d%s", code, reason(body, n));
	}
}

static void on_error(enum evhttp_request_error err, void *arg)
{
	struct witness_peer *p = arg;
	const char *why = "HTTP error";
	switch (err) {
	case EVREQ_HTTP_TIMEOUT: why = "nothing received for the timeout"; break;
	case EVREQ_HTTP_EOF: why = "the witness closed the connection"; break;
	case EVREQ_HTTP_INVALID_HEADER: why = "the connection failed or the reply is malformed"; break;
	case EVREQ_HTTP_BUFFER_ERROR: why = "the connection failed"; break;
	case EVREQ_HTTP_REQUEST_CANCEL: why = "the request was cancelled"; break;
	case EVREQ_HTTP_DATA_TOO_LONG: why = "the reply is too large"; break;
	}
	snprintf(p->reply_error, sizeof p->reply_error, "%s (%.100s)", why, p->cfg->url);
}

/* The request's whole life is over with no whole reply: a witness that
 * trickles bytes keeps libevent's inactivity timeout off, not this. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct witness_peer *p = arg;
	if (p->conn == NULL)
		return;
	evhttp_connection_free(p->conn);	/* the request with it, and no callback */
	p->conn = NULL;
	failed(p, WC_TIMEOUT, "no whole reply within %d seconds from %.100s: the witness or the network is too slow",
	       WITNESSING_TIMEOUT_S, p->cfg->url);
}

/* The add-checkpoint body: "old N", the proof from N, a blank line, the note. */
static int request_body(struct witness_peer *p, struct evbuffer *out, struct err *e)
{
	uint8_t r1[HASH_LEN], r2[HASH_LEN], proof[MERKLE_MAX_PROOF][HASH_LEN];
	size_t len = 0;
	if (p->old > 0 && p->old < p->sent_size &&
	    ledger_consistency(p->w->s->ledger, p->old, p->sent_size, r1, r2, proof, &len, e))
		return err_prefix(e, "the consistency proof from %llu", (unsigned long long)p->old);
	evbuffer_add_printf(out, "old %llu\n", (unsigned long long)p->old);
	for (size_t i = 0; i < len; i++) {
		char b64[48];
		b64_encode(proof[i], HASH_LEN, b64);
		evbuffer_add_printf(out, "%s\n", b64);
	}
	evbuffer_add(out, "\n", 1);
	evbuffer_add(out, p->sent.data, p->sent.len);
	return 0;
}

static int submit(struct witness_peer *p, struct err *e)
{
	struct witnessing *w = p->w;
	char url[sizeof p->cfg->url + 32];
	size_t ul = strlen(p->cfg->url);
	snprintf(url, sizeof url, "%.*s/add-checkpoint", (int)(ul && p->cfg->url[ul - 1] == '/' ? ul - 1 : ul),
		 p->cfg->url);
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *host = u ? evhttp_uri_get_host(u) : NULL;
	if (host == NULL) {
		evhttp_uri_free(u);
		return err_set(e, "the URL \"%s\" names no host", p->cfg->url);
	}
	bool tls = strncmp(url, "https://", 8) == 0;
	int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : tls ? 443 : 80;
	struct bufferevent *bev = tls_client_bev(w->s->base, tls ? w->tls : NULL, host);
	p->conn = bev ? evhttp_connection_base_bufferevent_new(w->s->base, w->dns, bev, host, (unsigned short)port)
		      : NULL;
	struct evhttp_request *req = p->conn ? evhttp_request_new(on_reply, p) : NULL;
	int rc = -1;
	p->reply_error[0] = '\0';
	if (req == NULL) {
		if (p->conn)
			evhttp_connection_free(p->conn);
		else if (bev)
			bufferevent_free(bev);
		err_set(e, "cannot set up a connection to %s", p->cfg->url);
	} else if (request_body(p, evhttp_request_get_output_buffer(req), e)) {
		evhttp_request_free(req);
		evhttp_connection_free(p->conn);
	} else {
		evhttp_connection_set_timeout(p->conn, WITNESSING_TIMEOUT_S);
		evhttp_connection_set_max_body_size(p->conn, WITNESSING_MAX_REPLY);
		evhttp_connection_set_max_headers_size(p->conn, 16384);
		evhttp_connection_free_on_completion(p->conn);
		evhttp_request_set_error_cb(req, on_error);
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Host", host);
		evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
		evhttp_add_header(h, "Connection", "close");
		const char *path = evhttp_uri_get_path(u);
		rc = evhttp_make_request(p->conn, req, EVHTTP_REQ_POST, path && path[0] ? path : "/add-checkpoint");
		if (rc) {	/* libevent has freed the request */
			evhttp_connection_free(p->conn);
			err_set(e, "cannot send the request to %s", p->cfg->url);
		} else {
			struct timeval tv = { WITNESSING_TIMEOUT_S, 0 };
			evtimer_add(p->deadline, &tv);
		}
	}
	if (rc)
		p->conn = NULL;
	evhttp_uri_free(u);
	return rc;
}

static void schedule(struct witnessing *w, uint64_t delay_us)
{
	struct timeval tv = { (time_t)(delay_us / 1000000), (suseconds_t)(delay_us % 1000000) };
	evtimer_add(w->timer, &tv);
}

static uint64_t interval_us(const struct witnessing *w)
{
	return w->s->cfg.witness_interval_s * 1000000;
}

/* One round: the newest checkpoint to every witness that has not cosigned
 * it, is not busy and is not backing off. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct witnessing *w = arg;
	struct buf note;
	struct err e = { 0 };
	struct checkpoint cp;
	size_t tlen, by;
	if (w->s->stopping)
		return;
	buf_init(&note);
	if (ledger_checkpoint(w->s->ledger, &note, &e) ||
	    note_open((const char *)note.data, note.len, &w->s->verifier, 1, &tlen, &by, &e) ||
	    checkpoint_parse((const char *)note.data, tlen, &cp, &e)) {
		log_msg(LOG_ERROR, "witnesses: cannot read the newest checkpoint: %s", e.msg);
		cp.size = 0;
	}
	bool sent = false, behind = cp.size == 0 && e.msg[0];
	for (size_t i = 0; i < w->n && cp.size > 0; i++) {
		struct witness_peer *p = &w->peers[i];
		if (p->size >= cp.size)
			continue;
		behind = true;
		if (p->conn)
			continue;
		if (p->skip) {
			p->skip--;
			continue;
		}
		buf_reset(&p->sent);
		buf_add(&p->sent, note.data, note.len);
		p->sent_size = cp.size;
		p->retried = false;
		e.msg[0] = '\0';
		sent = true;
		if (buf_failed(&p->sent))
			failed(p, WC_TRANSPORT, "out of memory");
		else if (submit(p, &e))
			failed(p, WC_TRANSPORT, "%s", e.msg);
	}
	buf_free(&note);
	if (sent) {
		w->rounds++;
		w->last_round_us = stats_now_us();
	}
	if (behind)	/* a witness down, backing off or answering: try again later */
		schedule(w, interval_us(w));
}

void witnessing_grew(void *arg)
{
	struct witnessing *w = arg;
	if (!w->enabled || w->s->stopping || evtimer_pending(w->timer, NULL))
		return;	/* a round is already due, no later than the interval allows */
	uint64_t now = stats_now_us(), due = w->rounds ? w->last_round_us + interval_us(w) : 0;
	schedule(w, due > now ? due - now : 0);
}

/* What was kept: each witness's record, then the quorum checkpoint if the
 * configured witnesses still make it one. */
static int load(struct witnessing *w, struct err *e)
{
	struct store_txn *t = NULL;
	if (store_begin(ledger_store(w->s->ledger), false, &t, e))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < w->n && rc >= 0; i++) {
		struct witness_peer *p = &w->peers[i];
		char name[NOTE_NAME_MAX + 16];
		const uint8_t *v;
		size_t n;
		meta_name(p, name, sizeof name);
		rc = store_meta_get(t, name, &v, &n, e);
		if (rc != 1 || n < 9)
			continue;
		uint64_t size = 0;
		for (int k = 0; k < 8; k++)
			size = size << 8 | v[k];
		struct cosig_seen seen;
		size_t count = 0;
		/* a record for another key of that name is left unused */
		if (cosig_check((const char *)v + 8, n - 8, &p->key, 1, &seen, &count, NULL) || count != 1)
			continue;
		buf_add(&p->note, v + 8, n - 8);
		p->note_len = seen.line;
		p->size = p->old = size;
		p->last_ok_s = seen.when;
	}
	const uint8_t *q;
	size_t qn;
	if (rc >= 0)
		rc = store_meta_get(t, QUORUM_META, &q, &qn, e);
	struct cosig_verifier keys[CONFIG_MAX_WITNESSES];
	for (size_t i = 0; i < w->n; i++)
		keys[i] = w->peers[i].key;
	struct checkpoint cp;
	size_t tlen, by;
	bool met = rc == 1 && (w->s->cfg.has_policy ? policy_check(&w->s->cfg.policy, (const char *)q, qn, NULL) == 0
						     : cosig_quorum((const char *)q, qn, keys, w->n, w->quorum, NULL) == 0);
	if (met &&
	    note_open((const char *)q, qn, &w->s->verifier, 1, &tlen, &by, NULL) == 0 &&
	    checkpoint_parse((const char *)q, tlen, &cp, NULL) == 0) {
		buf_add(&w->quorum_note, q, qn);
		w->quorum_size = cp.size;
	}
	store_abort(t);
	return rc < 0 ? -1 : 0;
}

int witnessing_start(struct witnessing *w, struct server *s, struct err *e)
{
	memset(w, 0, sizeof *w);
	w->s = s;
	buf_init(&w->quorum_note);
	w->n = s->cfg.nwitnesses;
	w->quorum = s->cfg.witness_quorum ? s->cfg.witness_quorum : w->n;
	bool https = false;
	for (size_t i = 0; i < w->n; i++) {
		struct witness_peer *p = &w->peers[i];
		p->w = w;
		p->cfg = &s->cfg.witnesses[i];
		buf_init(&p->note);
		buf_init(&p->sent);
		if (cosig_verifier_parse(p->cfg->vkey, strlen(p->cfg->vkey), &p->key, e))
			return -1;
		https |= strncmp(p->cfg->url, "https://", 8) == 0;
	}
	if (w->n == 0)
		return 0;
	if (s->cfg.has_policy && !policy_accepts_log(&s->cfg.policy, &s->verifier)) {
		struct buf vk;
		buf_init(&vk);
		note_verifier_format(&s->verifier, &vk);
		err_set(e, "witness_policy %s lists logs, but not this log's key: add the line \"log %s\"",
			s->cfg.witness_policy, buf_cstr(&vk));
		buf_free(&vk);
		return -1;
	}
	w->enabled = true;
	if (load(w, e))
		return err_prefix(e, "reading what the witnesses cosigned");
	if (https) {
		w->tls = SSL_CTX_new(TLS_client_method());
		if (w->tls == NULL || SSL_CTX_load_verify_locations(w->tls, s->cfg.witness_ca, NULL) != 1)
			return err_set(e, "witness_ca: cannot load %s to check the witnesses' servers", s->cfg.witness_ca);
		SSL_CTX_set_verify(w->tls, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_min_proto_version(w->tls, TLS1_2_VERSION);
	}
	w->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	w->timer = evtimer_new(s->base, on_timer, w);
	if (w->dns == NULL || w->timer == NULL)
		return err_set(e, "cannot set up the witnesses (DNS or timer)");
	for (size_t i = 0; i < w->n; i++)
		if ((w->peers[i].deadline = evtimer_new(s->base, on_deadline, &w->peers[i])) == NULL)
			return err_set(e, "cannot set up the witnesses (timer)");
	if (s->cfg.has_policy)
		log_msg(LOG_INFO, "witnesses: %zu from witness_policy %s, quorum %s, every %llu s at most", w->n,
			s->cfg.witness_policy, policy_quorum_name(&s->cfg.policy), (unsigned long long)s->cfg.witness_interval_s);
	else
		log_msg(LOG_INFO, "witnesses: %zu configured, quorum %zu, every %llu s at most", w->n, w->quorum,
			(unsigned long long)s->cfg.witness_interval_s);
	char why[600];
	if (config_quorum_minority(&s->cfg, why, sizeof why))
		log_msg(LOG_WARN, "witnesses: %s", why);
	schedule(w, 0);	/* what the log holds and they have not cosigned yet */
	return 0;
}

const struct buf *witnessing_cosigned(const struct witnessing *w, uint64_t *size)
{
	*size = w->quorum_size;
	return w->quorum_note.len ? &w->quorum_note : NULL;
}

int witnessing_lines(const struct witnessing *w, const uint8_t *note, size_t n, struct buf *out)
{
	size_t tlen, plen;
	if (!w->enabled || note_split((const char *)note, n, &tlen, NULL))
		return 0;
	for (size_t i = 0; i < w->n; i++) {
		const struct witness_peer *p = &w->peers[i];
		if (p->note_len == 0 || note_split((const char *)p->note.data, p->note_len, &plen, NULL) ||
		    plen != tlen || memcmp(p->note.data, note, tlen) != 0)
			continue;
		buf_add(out, p->note.data + p->note_len, p->note.len - p->note_len);
	}
	return buf_failed(out) ? -1 : 0;
}

void witnessing_pack_info(const struct witnessing *w, struct buf *out)
{
	mp_pack_cstr(out, "witnesses");
	bool pol = w->s && w->s->cfg.has_policy;
	mp_pack_map(out, 4 + pol);
	mp_pack_cstr(out, "quorum");
	mp_pack_uint(out, w->quorum);
	if (pol) {
		mp_pack_cstr(out, "policy");
		mp_pack_cstr(out, policy_quorum_name(&w->s->cfg.policy));
	}
	mp_pack_cstr(out, "rounds");
	mp_pack_uint(out, w->rounds);
	mp_pack_cstr(out, "cosigned_size");
	mp_pack_uint(out, w->quorum_size);
	mp_pack_cstr(out, "each");
	mp_pack_array(out, (uint32_t)w->n);
	for (size_t i = 0; i < w->n; i++) {
		const struct witness_peer *p = &w->peers[i];
		mp_pack_map(out, 6);
		mp_pack_cstr(out, "name");
		mp_pack_cstr(out, p->key.name);
		mp_pack_cstr(out, "cosigned_size");
		mp_pack_uint(out, p->size);
		mp_pack_cstr(out, "cosigned");
		mp_pack_uint(out, p->cosigned);
		mp_pack_cstr(out, "last_success_s");
		mp_pack_uint(out, p->last_ok_s);
		mp_pack_cstr(out, "failures");
		mp_pack_map(out, WC_COUNT);
		for (int c = 0; c < WC_COUNT; c++) {
			mp_pack_cstr(out, CAUSES[c]);
			mp_pack_uint(out, p->failures[c]);
		}
		mp_pack_cstr(out, "last_error");
		mp_pack_cstr(out, p->last_error);
	}
}

void witnessing_free(struct witnessing *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct witness_peer *p = &w->peers[i];
		if (p->conn)
			evhttp_connection_free(p->conn);
		if (p->deadline)
			event_free(p->deadline);
		buf_free(&p->note);
		buf_free(&p->sent);
	}
	if (w->timer)
		event_free(w->timer);
	if (w->dns)
		evdns_base_free(w->dns, 0);
	SSL_CTX_free(w->tls);
	buf_free(&w->quorum_note);
	memset(w, 0, sizeof *w);
}
