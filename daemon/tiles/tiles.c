#include "tiles.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "connbound.h"
#include "logger.h"
#include "mp.h"
#include "portal.h"
#include "server.h"
#include "tile_serve.h"
#include "tls.h"

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct tiles *t = arg;
	return connbound_new_bev(&t->bound_conns, base, t->tls);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	connbound_arrived(req);
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
	struct tiles *t = calloc(1, sizeof *t);
	if (t == NULL)
		return err_set(e, "out of memory");
	s->tiles = t;
	t->s = s;
	static const struct connbound_limits lim = { TILES_MAX_CONNECTIONS, TILES_EVICT_AT, TILES_PER_ADDRESS,
						     TILES_TIMEOUT_S };
	if (connbound_init(&t->bound_conns, "tiles", &lim, e))
		return -1;
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
	connbound_listening(&t->bound_conns, evhttp_bound_socket_get_listener(t->bound));
	portal_nodelay(evhttp_bound_socket_get_fd(t->bound));
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
	connbound_stop(&t->bound_conns);
}

void tiles_free(struct server *s)
{
	struct tiles *t = s->tiles;
	if (t == NULL)
		return;
	t->stopping = true;
	if (t->http)
		evhttp_free(t->http);	/* closes every connection: their SSLs count out */
	connbound_release(&t->bound_conns);
	SSL_CTX_free(t->tls);
	free(t);
	s->tiles = NULL;
}

static const char *tiles_refusal_name(enum tiles_refusal r)
{
	static const char *const N[TREF_COUNT] = { "rate", "forbidden", "bad_path", "not_found", "method",
						   "error", "connections", "address_limit",
						   "deadline" };
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
	mp_pack_uint(out, t ? t->bound_conns.nconns : 0);
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
	const struct connbound_stats *cs = t ? &t->bound_conns.st : NULL;
	for (int r = 0; r < TREF_COUNT; r++) {
		uint64_t n = r == TREF_CONNECTIONS ? (cs ? cs->evicted : 0)
			     : r == TREF_ADDRESS_LIMIT ? (cs ? cs->address : 0)
			     : r == TREF_DEADLINE ? (cs ? cs->deadline : 0) : st->refused[r];
		mp_pack_cstr(out, tiles_refusal_name((enum tiles_refusal)r));
		mp_pack_uint(out, n);
	}
}
