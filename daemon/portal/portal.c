#include "portal.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "answer.h"
#include "connbound.h"
#include "logger.h"
#include "mp.h"
#include "routes.h"
#include "server.h"
#include "tls.h"

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct portal *p = arg;
	return connbound_new_bev(&p->bound_conns, base, p->tls);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	connbound_arrived(req);
	routes_serve(arg, req);
}

void portal_nodelay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int portal_split_listen(const char *option, const char *listen, char *host, size_t hn, uint16_t *port,
			struct err *e)
{
	const char *colon = strrchr(listen, ':');
	size_t hl = colon ? (size_t)(colon - listen) : 0;
	char *end;
	unsigned long pn = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (colon == NULL || hl == 0 || hl >= hn || colon[1] == '\0' || *end || pn > 65535)
		return err_set(e, "%s: \"%s\" is not HOST:PORT", option, listen);
	if (listen[0] == '[' && hl > 2 && listen[hl - 1] == ']') {
		memcpy(host, listen + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, listen, hl);
		host[hl] = '\0';
	}
	*port = (uint16_t)pn;
	return 0;
}

int portal_start(struct server *s, struct err *e)
{
	const struct config *c = &s->cfg;
	char host[256];
	uint16_t port = 0;
	if (c->portal_listen[0] == '\0') {
		if (c->portal_url[0])
			log_msg(LOG_WARN, "portal_url is set but portal_listen is not: no portal, and no link can be "
				"made (scopectl link create)");
		return 0;
	}
	if (portal_split_listen("portal_listen", c->portal_listen, host, sizeof host, &port, e))
		return -1;
	struct portal *p = calloc(1, sizeof *p);
	if (p == NULL)
		return err_set(e, "out of memory");
	s->portal = p;
	p->s = s;
	/* behind portal_proxy every connection comes from the proxy: no
	 * per-address limit then (the proxy's own bounds the clients) */
	struct connbound_limits lim = { PORTAL_MAX_CONNECTIONS, PORTAL_EVICT_AT,
					c->portal_proxy[0] ? PORTAL_MAX_CONNECTIONS : PORTAL_PER_ADDRESS,
					PORTAL_TIMEOUT_S };
	if (connbound_init(&p->bound_conns, "portal", &lim, e))
		return -1;
	uint64_t seed;
	if (RAND_bytes(p->secret, sizeof p->secret) != 1 || RAND_bytes((uint8_t *)&seed, sizeof seed) != 1)
		return err_set(e, "portal: no random bytes for the CSRF key");
	rate_init(&p->rate, seed);
	if (tls_portal_ctx(&p->tls, c->portal_cert[0] ? c->portal_cert : c->tls_cert,
			   c->portal_key[0] ? c->portal_key : c->tls_key, e)) {
		err_prefix(e, "portal");
		return -1;
	}
	p->http = evhttp_new(s->base);
	if (p->http == NULL)
		return err_set(e, "portal: cannot create the HTTP server");
	evhttp_set_bevcb(p->http, make_bev, p);
	evhttp_set_gencb(p->http, on_request, p);
	evhttp_set_timeout(p->http, PORTAL_TIMEOUT_S);
	evhttp_set_max_headers_size(p->http, PORTAL_MAX_HEADERS);
	evhttp_set_max_body_size(p->http, (ev_ssize_t)c->portal_max_body);
	evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
						     EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	p->bound = evhttp_bind_socket_with_handle(p->http, host, port);
	if (p->bound == NULL)
		return err_set(e, "portal_listen: cannot listen on %s", c->portal_listen);
	connbound_listening(&p->bound_conns, evhttp_bound_socket_get_listener(p->bound));
	portal_nodelay(evhttp_bound_socket_get_fd(p->bound));
	char bound[96] = "?";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(evhttp_bound_socket_get_fd(p->bound), (struct sockaddr *)&ss, &sl) == 0)
		conn_format_addr((struct sockaddr *)&ss, bound, sizeof bound);
	/* by default the links' URL is https:// and the address bound
	 * (portal_listen, its port chosen when 0); a form may come only from
	 * that URL's origin (scheme://host[:port]) */
	if (c->portal_url[0])
		snprintf(p->url, sizeof p->url, "%s", c->portal_url);
	else
		snprintf(p->url, sizeof p->url, "https://%s", bound);
	size_t scheme = strlen("https://");
	snprintf(p->origin, sizeof p->origin, "%.*s", (int)(scheme + strcspn(p->url + scheme, "/?#")), p->url);
	log_msg(LOG_INFO, "portal listening on %s (links under %s)", bound, p->url);
	return 0;
}

void portal_stop(struct server *s)
{
	struct portal *p = s->portal;
	if (p == NULL || p->stopping)
		return;
	p->stopping = true;
	connbound_stop(&p->bound_conns);
}

void portal_free(struct server *s)
{
	struct portal *p = s->portal;
	if (p == NULL)
		return;
	p->stopping = true;
	answers_drop(p);	/* before the connections their requests belong to */
	if (p->http)
		evhttp_free(p->http);	/* closes every connection: their SSLs count out */
	connbound_release(&p->bound_conns);
	SSL_CTX_free(p->tls);
	OPENSSL_cleanse(p->secret, sizeof p->secret);
	free(p);
	s->portal = NULL;
}

const char *portal_url(const struct server *s)
{
	return s->portal ? s->portal->url : "";
}

void portal_pack_stats(const struct server *s, struct buf *out)
{
	const struct portal *p = s->portal;
	static const struct portal_stats none;
	const struct portal_stats *st = p ? &p->st : &none;
	mp_pack_map(out, 5);
	mp_pack_cstr(out, "on");
	mp_pack_bool(out, p != NULL);
	mp_pack_cstr(out, "connections");
	mp_pack_uint(out, p ? p->bound_conns.nconns : 0);
	mp_pack_cstr(out, "requests");
	mp_pack_uint(out, st->requests);
	mp_pack_cstr(out, "answers");
	mp_pack_uint(out, st->answers);
	mp_pack_cstr(out, "refused");
	mp_pack_map(out, PREF_COUNT);
	const struct connbound_stats *cs = p ? &p->bound_conns.st : NULL;
	for (int r = 0; r < PREF_COUNT; r++) {
		uint64_t n = r == PREF_CONNECTIONS ? (cs ? cs->evicted : 0)
			     : r == PREF_ADDRESS_LIMIT ? (cs ? cs->address : 0)
			     : r == PREF_DEADLINE ? (cs ? cs->deadline : 0) : st->refused[r];
		mp_pack_cstr(out, portal_refusal_name((enum portal_refusal)r));
		mp_pack_uint(out, n);
	}
}
