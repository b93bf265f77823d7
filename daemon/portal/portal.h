/*
 * portal: the client portal's HTTPS listener (PROTOCOL.md, "The portal"),
 * off unless portal_listen is set.  evhttp on the daemon's event base, each
 * connection an OpenSSL bufferevent from the portal's own SSL_CTX (a
 * server certificate only: no client certificate is asked); shares nothing
 * with the mutual-TLS port but the ledger and the commit queue.
 *
 *   server -> portal (start, stop, free, stats)
 *   portal -> routes (every request) -> pages (HTML), answer (POST)
 *   answer -> commit (commit_enqueue); results to the answer's own sink
 *
 * The connections are bounded (connbound.h): from PORTAL_EVICT_AT on, each
 * new one ends the oldest of the address holding the most, PORTAL_PER_ADDRESS
 * from one address (none behind portal_proxy), each request whole within
 * PORTAL_TIMEOUT_S, so connections held open (slow headers) never lock other
 * browsers out.  At most PORTAL_MAX_CONNECTIONS are open: at that limit
 * (ended ones not yet closed) the listener stops accepting (the kernel's
 * backlog holds the rest, using no descriptor) until one closes, so the
 * portal can never take the descriptors the mutual-TLS port needs.
 */
#ifndef SCOPE_PORTAL_H
#define SCOPE_PORTAL_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "connbound.h"
#include "err.h"
#include "guard.h"

#define PORTAL_MAX_CONNECTIONS 256
#define PORTAL_EVICT_AT (PORTAL_MAX_CONNECTIONS - 32)
#define PORTAL_PER_ADDRESS 64
#define PORTAL_TIMEOUT_S 10		/* a request (from the handshake on) must arrive whole within this */
#define PORTAL_MAX_HEADERS 8192		/* bytes of the request line and headers */

struct server;
struct evhttp;
struct evhttp_bound_socket;
struct ssl_ctx_st;
struct answer;

struct portal {
	struct server *s;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct ssl_ctx_st *tls;
	char url[1024];			/* portal_url, or https:// and the address bound */
	char origin[1024];		/* its scheme://host[:port], the one Origin a form may come from */
	struct connbound bound_conns;	/* the connections open and their bounds */
	bool stopping;
	uint8_t secret[32];		/* the CSRF key, new at every start */
	struct answer *answers;		/* answers waiting for their commit (answer.h) */
	struct rate_table rate;
	struct portal_stats st;
};

/* Starts the portal of s->cfg (nothing when portal_listen is empty):
 * s->portal set.  A configuration or bind failure is an error (e). */
int portal_start(struct server *s, struct err *e);
/* SIGTERM: no new connection; answers still waiting are answered when
 * their commit returns (server's commit_drain), the rest closes at free. */
void portal_stop(struct server *s);
/* Frees everything (also when never started). */
void portal_free(struct server *s);
/* The public base URL of links (info's portal_url): portal_url, or by
 * default https:// and the address the portal is bound to; "" when off. */
const char *portal_url(const struct server *s);
/* HOST:PORT (or [IPv6]:PORT) of option into host and port (also the
 * tiles listener's, daemon/tiles/). */
/* Sets TCP_NODELAY on a listening socket (accepted sockets inherit it):
 * evhttp writes a reply's headers and body apart, and without it the body
 * waits for the client's delayed ACK, 40 ms a request. */
void portal_nodelay(int fd);
int portal_split_listen(const char *option, const char *listen, char *host, size_t hn, uint16_t *port,
			struct err *e);
/* info's "portal" member under stats: a msgpack map. */
void portal_pack_stats(const struct server *s, struct buf *out);

#endif
