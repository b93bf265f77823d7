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
#include <sys/socket.h>

#include "answer.h"
#include "logger.h"
#include "mp.h"
#include "routes.h"
#include "server.h"
#include "tls.h"

/* One open connection, in the portal's list from the newest to the oldest
 * until it is evicted or closes. */
struct pconn {
	struct portal *p;
	struct bufferevent *bev;
	struct pconn *prev, *next;
	bool listed;
};

static void pconn_unlist(struct pconn *c)
{
	struct portal *p = c->p;
	if (!c->listed)
		return;
	c->listed = false;
	if (c->prev)
		c->prev->next = c->next;
	else
		p->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		p->oldest = c->prev;
}

/* The SSL of each portal connection carries its pconn: freeing the SSL
 * (the connection's end, whatever ended it) counts it out.  libevent may
 * free a bufferevent, and so its SSL, after the portal is gone (its
 * finalizers run as late as event_base_free): only the live portal is
 * counted. */
static int ex_index = -1;
static struct portal *live;

static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	struct pconn *c = ptr;
	if (c == NULL)
		return;
	struct portal *p = c->p;
	if (p == live) {
		pconn_unlist(c);
		p->nconns--;
		if (p->paused && !p->stopping && p->nconns < PORTAL_MAX_CONNECTIONS) {
			p->paused = false;
			evconnlistener_enable(evhttp_bound_socket_get_listener(p->bound));
		}
	}
	free(c);
}

/* From PORTAL_EVICT_AT on, a new connection ends the oldest (its socket
 * shut down: libevent closes it on its next read), so connections held
 * open by one peer never lock the others out; only when evicted ones have
 * not closed yet at PORTAL_MAX_CONNECTIONS does the listener wait. */
static void evict_oldest(struct portal *p)
{
	struct pconn *o = p->oldest;
	if (o == NULL)
		return;
	pconn_unlist(o);
	evutil_socket_t fd = bufferevent_getfd(o->bev);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	p->st.refused[PREF_CONNECTIONS]++;
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct portal *p = arg;
	struct pconn *c = calloc(1, sizeof *c);
	SSL *ssl = c ? SSL_new(p->tls) : NULL;
	if (ssl == NULL) {
		free(c);
		return NULL;
	}
	struct bufferevent *bev =
		bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		free(c);
		return NULL;	/* it freed ssl */
	}
	if (p->nconns >= PORTAL_EVICT_AT)
		evict_oldest(p);
	*c = (struct pconn){ p, bev, NULL, p->conns, true };
	if (p->conns)
		p->conns->prev = c;
	else
		p->oldest = c;
	p->conns = c;
	SSL_set_ex_data(ssl, ex_index, c);
	if (++p->nconns >= PORTAL_MAX_CONNECTIONS && !p->paused) {
		p->paused = true;
		evconnlistener_disable(evhttp_bound_socket_get_listener(p->bound));
		log_msg(LOG_WARN, "portal: %u connections open: accepting again when one closes", p->nconns);
	}
	return bev;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	routes_serve(arg, req);
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
	if (ex_index < 0 && (ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free)) < 0)
		return err_set(e, "portal: cannot set up TLS connection data");
	struct portal *p = calloc(1, sizeof *p);
	if (p == NULL)
		return err_set(e, "out of memory");
	s->portal = p;
	live = p;
	p->s = s;
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
	if (p->bound)
		evconnlistener_disable(evhttp_bound_socket_get_listener(p->bound));
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
	SSL_CTX_free(p->tls);
	OPENSSL_cleanse(p->secret, sizeof p->secret);
	live = NULL;
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
	mp_pack_uint(out, p ? p->nconns : 0);
	mp_pack_cstr(out, "requests");
	mp_pack_uint(out, st->requests);
	mp_pack_cstr(out, "answers");
	mp_pack_uint(out, st->answers);
	mp_pack_cstr(out, "refused");
	mp_pack_map(out, PREF_COUNT);
	for (int r = 0; r < PREF_COUNT; r++) {
		mp_pack_cstr(out, portal_refusal_name((enum portal_refusal)r));
		mp_pack_uint(out, st->refused[r]);
	}
}
