#include "anchoring.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchors.h"
#include "enc.h"
#include "isotime.h"
#include "logger.h"
#include "tls.h"
#include "mp.h"
#include "server.h"
#include "tsa.h"

static void schedule(struct anchoring *a, uint64_t s)
{
	struct timeval tv = { (time_t)s, 0 };
	evtimer_add(a->timer, &tv);
}

static void failed(struct anchoring *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failed(struct anchoring *a, const char *fmt, ...)
{
	char msg[sizeof a->last_error];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	a->failures++;
	memcpy(a->last_error, msg, sizeof msg);
	if (!a->failing)
		log_msg(LOG_WARN, "anchoring: %s; retrying with back-off", a->last_error);
	else
		log_msg(LOG_DEBUG, "anchoring: %s", a->last_error);
	a->failing = true;
	a->backoff_s = a->backoff_s ? a->backoff_s * 2 : 1;
	if (a->backoff_s > a->interval_s)
		a->backoff_s = a->interval_s;
	schedule(a, a->backoff_s);
}

static void on_result(struct commit_sink *k, uint64_t req_id, const struct ledger_result *r)
{
	(void)req_id;
	struct anchoring *a = (struct anchoring *)((char *)k - offsetof(struct anchoring, sink));
	if (r->status == LEDGER_REJECTED) {
		failed(a, "the anchor entry was refused: %s", r->err.msg);
		return;
	}
	char t[40];
	a->last_time_us = a->stamped_us;
	time_format(a->last_time_us, true, false, t);
	a->anchored++;
	a->anchored_size = a->size;
	a->quiet_size = r->seq + 1;
	a->backoff_s = 0;
	log_msg(LOG_INFO, "anchored the checkpoint of size %llu: the TSA vouches for %s, entry %llu%s",
		(unsigned long long)a->size, t, (unsigned long long)r->seq, a->failing ? " (the TSA answers again)" : "");
	a->failing = false;
	a->last_error[0] = '\0';
	schedule(a, a->interval_s);
}

static void on_done(struct commit_sink *k)
{
	(void)k;
}

/* The reply: checked whole, then recorded. */
static void take_reply(struct anchoring *a, struct evhttp_request *req)
{
	struct err e = { 0 };
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code == 0) {
		failed(a, "%s", a->last_error[0] ? a->last_error : "no reply from the TSA");
		return;
	}
	if (code != 200) {
		failed(a, "the TSA answered HTTP %d", code);
		return;
	}
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (ct == NULL || strncmp(ct, "application/timestamp-reply", 27) != 0) {
		failed(a, "the TSA's reply is not application/timestamp-reply (%s)", ct ? ct : "no Content-Type");
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	const uint8_t *p = n <= TSA_TOKEN_MAX ? evbuffer_pullup(in, -1) : NULL;
	struct buf token, body;
	uint8_t imprint[HASH_LEN];
	buf_init(&token);
	buf_init(&body);
	if (p == NULL)
		err_set(&e, "the reply is larger than %d bytes", TSA_TOKEN_MAX);
	if (p && tsa_reply_check(p, n, a->imprint, a->nonce, a->s->cfg.tsa_ca, &token, &e) == 0 &&
	    tsa_token_read(token.data, token.len, imprint, &a->stamped_us, &e) == 0) {
		char root[2 * HASH_LEN + 1], reqid[40];
		char *b64 = malloc(b64_encoded_len(token.len) + 1);
		hex_encode(a->root, HASH_LEN, root);
		if (b64) {
			b64_encode(token.data, token.len, b64);
			mp_pack_map(&body, 4);
			mp_pack_cstr(&body, "root");
			mp_pack_cstr(&body, root);
			mp_pack_cstr(&body, "size");
			mp_pack_uint(&body, a->size);
			mp_pack_cstr(&body, "token");
			mp_pack_cstr(&body, b64);
			mp_pack_cstr(&body, "tsa_time_us");
			mp_pack_uint(&body, a->stamped_us);
		}
		free(b64);
		snprintf(reqid, sizeof reqid, "anchor-%llu", (unsigned long long)a->size);
		struct ledger_append ap = {
			.kind = ANCHORS_KIND, .kind_len = strlen(ANCHORS_KIND), .project = "", .project_len = 0,
			.author = LEDGER_KEY_AUTHOR, .author_len = strlen(LEDGER_KEY_AUTHOR),
			.request_id = reqid, .request_id_len = strlen(reqid), .body = body.data, .body_len = body.len,
		};
		if (b64 == NULL || buf_failed(&body))
			err_set(&e, "out of memory");
		else if (commit_enqueue(&a->s->commit, &a->sink, 0, &ap, &e) == 0)
			e.msg[0] = '\0';
	}
	if (e.msg[0])
		failed(a, "%s", e.msg);
	buf_free(&token);
	buf_free(&body);
}

static void on_reply(struct evhttp_request *req, void *arg)
{
	struct anchoring *a = arg;
	a->conn = NULL;	/* freed by libevent once this returns (free on completion) */
	evtimer_del(a->timer);
	take_reply(a, req);
}

static void on_error(enum evhttp_request_error err, void *arg)
{
	struct anchoring *a = arg;
	static const char *const why[] = { "timed out", "the TSA closed the connection", "the connection failed",
					   "the request was cancelled", "the reply is too large or malformed" };
	unsigned i = (unsigned)err;
	snprintf(a->last_error, sizeof a->last_error, "%s (%.100s)", i < 5 ? why[i] : "HTTP error",
		 a->s->cfg.tsa_url);
}

static int send_request(struct anchoring *a, const struct buf *der, struct err *e)
{
	struct evhttp_uri *u = evhttp_uri_parse(a->s->cfg.tsa_url);
	const char *host = u ? evhttp_uri_get_host(u) : NULL;
	if (host == NULL) {
		evhttp_uri_free(u);
		return err_set(e, "tsa_url \"%s\" names no host", a->s->cfg.tsa_url);
	}
	bool tls = a->tls != NULL;
	int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : tls ? 443 : 80;
	const char *path = evhttp_uri_get_path(u);
	struct bufferevent *bev = tls_client_bev(a->s->base, a->tls, host);
	a->conn = bev ? evhttp_connection_base_bufferevent_new(a->s->base, a->dns, bev, host, (unsigned short)port)
		      : NULL;
	struct evhttp_request *req = a->conn ? evhttp_request_new(on_reply, a) : NULL;
	int rc = -1;
	if (req == NULL) {
		if (a->conn)
			evhttp_connection_free(a->conn);
		else if (bev)
			bufferevent_free(bev);
		a->conn = NULL;
		err_set(e, "cannot set up a connection to the TSA");
	} else {
		evhttp_connection_set_timeout(a->conn, ANCHORING_TIMEOUT_S);
		evhttp_connection_set_max_body_size(a->conn, TSA_TOKEN_MAX);
		evhttp_connection_set_max_headers_size(a->conn, 16384);
		evhttp_connection_free_on_completion(a->conn);
		evhttp_request_set_error_cb(req, on_error);
		struct evkeyvalq *h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Host", host);
		evhttp_add_header(h, "Content-Type", "application/timestamp-query");
		evhttp_add_header(h, "Accept", "application/timestamp-reply");
		evhttp_add_header(h, "Connection", "close");
		evbuffer_add(evhttp_request_get_output_buffer(req), der->data, der->len);
		/* on failure libevent has freed the request */
		rc = evhttp_make_request(a->conn, req, EVHTTP_REQ_POST, path && path[0] ? path : "/");
		if (rc) {
			evhttp_connection_free(a->conn);
			a->conn = NULL;
			err_set(e, "cannot send the request to the TSA");
		}
	}
	evhttp_uri_free(u);
	return rc;
}

static void attempt(struct anchoring *a)
{
	struct err e = { 0 };
	struct buf der;
	struct ledger *l = a->s->ledger;
	if (a->s->stopping)
		return;
	if (a->sink.pending) {	/* the last anchor is not committed yet */
		schedule(a, 1);
		return;
	}
	uint64_t size = ledger_size(l);
	if (size <= a->anchored_size || size <= a->quiet_size) {
		schedule(a, a->interval_s);	/* the tree did not grow but by the last anchor */
		return;
	}
	a->size = size;
	a->last_error[0] = '\0';
	if (RAND_bytes((unsigned char *)&a->nonce, sizeof a->nonce) != 1) {
		failed(a, "%s", "no random nonce");
		return;
	}
	a->nonce >>= 1;	/* a positive INTEGER of 63 bits */
	buf_init(&der);
	a->attempts++;
	if (ledger_root(l, size, a->root, &e) == 0) {
		tsa_imprint(ledger_origin(l), size, a->root, a->imprint);
		if (tsa_request(a->imprint, a->nonce, &der, &e) == 0 && send_request(a, &der, &e) == 0)
			schedule(a, ANCHORING_TIMEOUT_S);	/* the request's deadline */
	}
	buf_free(&der);
	if (a->conn == NULL)
		failed(a, "%s", e.msg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct anchoring *a = arg;
	if (a->conn) {	/* the deadline passed with no reply */
		evhttp_connection_free(a->conn);
		a->conn = NULL;
		failed(a, "no reply from the TSA within %d seconds", ANCHORING_TIMEOUT_S);
		return;
	}
	attempt(a);
}

void anchoring_interval(struct anchoring *a, uint64_t interval_s)
{
	a->interval_s = interval_s;
	if (a->enabled && a->conn == NULL && a->sink.pending == 0)
		schedule(a, interval_s);
}

int anchoring_start(struct anchoring *a, struct server *s, struct err *e)
{
	memset(a, 0, sizeof *a);
	a->s = s;
	a->interval_s = s->cfg.anchor_interval_s;
	a->sink.result = on_result;
	a->sink.done = on_done;
	if (s->cfg.tsa_url[0] == '\0')
		return 0;
	a->enabled = true;
	struct store_txn *t = NULL;
	if (store_begin(ledger_store(s->ledger), false, &t, e))
		return -1;
	uint64_t seq = 0;
	int rc = anchors_last(t, &a->anchored_size, &seq, e);
	a->quiet_size = rc == 1 ? seq + 1 : 0;
	store_abort(t);
	if (rc < 0)
		return -1;
	if (strncmp(s->cfg.tsa_url, "https://", 8) == 0) {
		a->tls = SSL_CTX_new(TLS_client_method());
		if (a->tls == NULL || SSL_CTX_load_verify_locations(a->tls, s->cfg.tsa_ca, NULL) != 1)
			return err_set(e, "tsa_ca: cannot load %s to check the TSA's server", s->cfg.tsa_ca);
		SSL_CTX_set_verify(a->tls, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_min_proto_version(a->tls, TLS1_2_VERSION);
	}
	a->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	a->timer = evtimer_new(s->base, on_timer, a);
	if (a->dns == NULL || a->timer == NULL)
		return err_set(e, "cannot set up anchoring (DNS or timer)");
	log_msg(LOG_INFO, "anchoring every %llu s at most with %s", (unsigned long long)a->interval_s,
		s->cfg.tsa_url);
	schedule(a, a->interval_s);
	return 0;
}

void anchoring_pack_info(const struct anchoring *a, struct buf *out)
{
	mp_pack_cstr(out, "anchors");
	mp_pack_map(out, 7);
	mp_pack_cstr(out, "enabled");
	mp_pack_bool(out, a->enabled);
	static const char *const NAMES[] = { "attempts", "failures", "anchored", "last_size", "last_time_us" };
	const uint64_t v[] = { a->attempts, a->failures, a->anchored, a->anchored_size, a->last_time_us };
	for (size_t i = 0; i < 5; i++) {
		mp_pack_cstr(out, NAMES[i]);
		mp_pack_uint(out, v[i]);
	}
	mp_pack_cstr(out, "last_error");
	mp_pack_cstr(out, a->last_error);
}

void anchoring_free(struct anchoring *a)
{
	if (a->s)
		commit_cancel(&a->s->commit, &a->sink);
	if (a->conn)
		evhttp_connection_free(a->conn);
	if (a->timer)
		event_free(a->timer);
	if (a->dns)
		evdns_base_free(a->dns, 0);
	SSL_CTX_free(a->tls);
	memset(a, 0, sizeof *a);
}
