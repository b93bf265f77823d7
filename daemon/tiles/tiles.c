#include "tiles.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "logger.h"
#include "mp.h"
#include "portal.h"
#include "server.h"
#include "tile_serve.h"
#include "tls.h"

/* Each connection's SSL carries the listener, and freeing it (whatever
 * ended the connection) counts it out; only the live listener counts,
 * since libevent may free an SSL as late as event_base_free. */
static int ex_index = -1;
static struct tiles *live;

static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	struct tiles *t = ptr;
	if (t == NULL || t != live)
		return;
	t->nconns--;
	if (t->paused && !t->stopping && t->nconns < TILES_MAX_CONNECTIONS) {
		t->paused = false;
		evconnlistener_enable(evhttp_bound_socket_get_listener(t->bound));
	}
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct tiles *t = arg;
	SSL *ssl = SSL_new(t->tls);
	if (ssl == NULL)
		return NULL;
	struct bufferevent *bev =
		bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		return NULL;	/* it freed ssl */
	SSL_set_ex_data(ssl, ex_index, t);
	if (++t->nconns >= TILES_MAX_CONNECTIONS && !t->paused) {
		t->paused = true;
		t->st.refused[TREF_CONNECTIONS]++;
		evconnlistener_disable(evhttp_bound_socket_get_listener(t->bound));
		log_msg(LOG_WARN, "tiles: %u connections open: accepting again when one closes", t->nconns);
	}
	return bev;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	tile_serve(arg, req);
}

static int new_ctx(const struct config *c, struct ssl_ctx_st **out, struct err *e)
{
	struct tls_opts o = { c->tls_cert, c->tls_key, c->tls_ca, c->tls_crl,
			      strcmp(c->tls_min_version, "1.2") == 0 ? 12 : 13 };
	if (tls_tiles_ctx(out, &o, e) == 0)
		return 0;
	err_prefix(e, "tiles");
	return -1;
}

int tiles_start(struct server *s, struct err *e)
{
	const struct config *c = &s->cfg;
	char host[256];
	uint16_t port = 0;
	if (c->tiles_listen[0] == '\0')
		return 0;
	if (portal_split_listen("tiles_listen", c->tiles_listen, host, sizeof host, &port, e))
		return -1;
	if (ex_index < 0 && (ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free)) < 0)
		return err_set(e, "tiles: cannot set up TLS connection data");
	struct tiles *t = calloc(1, sizeof *t);
	if (t == NULL)
		return err_set(e, "out of memory");
	s->tiles = t;
	live = t;
	t->s = s;
	uint64_t seed;
	if (RAND_bytes((uint8_t *)&seed, sizeof seed) != 1)
		return err_set(e, "tiles: no random bytes for the rate table");
	rate_init(&t->rate, seed);
	if (new_ctx(c, &t->tls, e))
		return -1;
	t->http = evhttp_new(s->base);
	if (t->http == NULL)
		return err_set(e, "tiles: cannot create the HTTP server");
	evhttp_set_bevcb(t->http, make_bev, t);
	evhttp_set_gencb(t->http, on_request, t);
	evhttp_set_timeout(t->http, TILES_TIMEOUT_S);
	evhttp_set_max_headers_size(t->http, TILES_MAX_HEADERS);
	evhttp_set_max_body_size(t->http, 0);
	/* every method reaches tile_serve, which answers 405 and counts it */
	evhttp_set_allowed_methods(t->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
						     EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	t->bound = evhttp_bind_socket_with_handle(t->http, host, port);
	if (t->bound == NULL)
		return err_set(e, "tiles_listen: cannot listen on %s", c->tiles_listen);
	/* a reply's headers and body leave in separate writes: without
	 * NODELAY (which accepted sockets inherit) the body waits for the
	 * client's delayed ACK, 40 ms a request */
	int one = 1;
	setsockopt(evhttp_bound_socket_get_fd(t->bound), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	char bound[96] = "?";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(evhttp_bound_socket_get_fd(t->bound), (struct sockaddr *)&ss, &sl) == 0)
		conn_format_addr((struct sockaddr *)&ss, bound, sizeof bound);
	log_msg(LOG_INFO, "tiles listening on %s (%s)", bound,
		strcmp(c->tiles_public, "yes") == 0 ? "checkpoint and hash tiles public"
						    : "every request needs an auditor or admin certificate");
	return 0;
}

int tiles_reload(struct server *s, struct err *e)
{
	struct tiles *t = s->tiles;
	struct ssl_ctx_st *ctx;
	if (t == NULL)
		return 0;
	if (new_ctx(&s->cfg, &ctx, e))
		return -1;
	SSL_CTX_free(t->tls);	/* open connections keep a reference */
	t->tls = ctx;
	return 0;
}

void tiles_stop(struct server *s)
{
	struct tiles *t = s->tiles;
	if (t == NULL || t->stopping)
		return;
	t->stopping = true;
	if (t->bound)
		evconnlistener_disable(evhttp_bound_socket_get_listener(t->bound));
}

void tiles_free(struct server *s)
{
	struct tiles *t = s->tiles;
	if (t == NULL)
		return;
	t->stopping = true;
	if (t->http)
		evhttp_free(t->http);	/* closes every connection: their SSLs count out */
	SSL_CTX_free(t->tls);
	live = NULL;
	free(t);
	s->tiles = NULL;
}

static const char *tiles_refusal_name(enum tiles_refusal r)
{
	static const char *const N[TREF_COUNT] = { "rate", "forbidden", "bad_path", "not_found", "method",
						   "error", "connections" };
	return N[r];
}

void tiles_pack_stats(const struct server *s, struct buf *out)
{
	const struct tiles *t = s->tiles;
	static const struct tiles_stats none;
	const struct tiles_stats *st = t ? &t->st : &none;
	mp_pack_map(out, 8);
	mp_pack_cstr(out, "on");
	mp_pack_bool(out, t != NULL);
	mp_pack_cstr(out, "connections");
	mp_pack_uint(out, t ? t->nconns : 0);
	mp_pack_cstr(out, "requests");
	mp_pack_uint(out, st->requests);
	mp_pack_cstr(out, "checkpoints");
	mp_pack_uint(out, st->checkpoints);
	mp_pack_cstr(out, "tiles");
	mp_pack_uint(out, st->tiles);
	mp_pack_cstr(out, "bundles");
	mp_pack_uint(out, st->bundles);
	mp_pack_cstr(out, "bytes");
	mp_pack_uint(out, st->bytes);
	mp_pack_cstr(out, "refused");
	mp_pack_map(out, TREF_COUNT);
	for (int r = 0; r < TREF_COUNT; r++) {
		mp_pack_cstr(out, tiles_refusal_name((enum tiles_refusal)r));
		mp_pack_uint(out, st->refused[r]);
	}
}
