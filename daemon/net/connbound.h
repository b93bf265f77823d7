/*
 * connbound: the bounds on the TLS connections of an evhttp listener (the
 * portal's, the tiles', scoped witness's), so that connections one address
 * holds open lock no other address out:
 *
 *  - at most max open.  From evict_at on, each new connection ends the
 *    oldest connection of the address holding the most (on a tie, the
 *    oldest of those; connections whose address is not read yet count as
 *    one address, so a burst accepted at once ends its own): a new
 *    connection is never refused for want of room.
 *    Only at max (ended ones not yet closed) does the listener stop
 *    accepting until one closes (the kernel's backlog holds the rest).
 *  - at most per_address from one address (IPv4, or IPv6 /64, as conn.h's
 *    handshake pool counts them): a new one ends that address's oldest.
 *  - each request must have arrived whole (the TLS handshake, the request
 *    line, the headers and the body) within deadline_s of the accept, or
 *    of the previous reply's end on a kept-alive connection, however slowly
 *    its bytes trickle (evhttp's own timeout restarts at every byte).
 *
 * Ending a connection shuts its socket down: libevent sees the end on its
 * next read and frees it.  Each connection's SSL carries its cb_conn, and
 * freeing the SSL (whatever ended the connection) counts it out.  The
 * listener's request callback calls connbound_arrived for every request.
 *
 *   portal, tiles, wserve -> connbound (bevcb, each request, stats)
 */
#ifndef SCOPE_CONNBOUND_H
#define SCOPE_CONNBOUND_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct bufferevent;
struct event_base;
struct evconnlistener;
struct evhttp_request;
struct ssl_ctx_st;
struct cb_conn;

struct connbound_limits {
	unsigned max;			/* connections open at once */
	unsigned evict_at;		/* from this many on, a new one ends the busiest address's oldest */
	unsigned per_address;		/* from one address (a new one ends its oldest) */
	unsigned deadline_s;		/* for each request to arrive whole */
};

/* Connections ended by the bounds, each cause counted (info's counters). */
struct connbound_stats {
	uint64_t evicted;		/* the busiest address's oldest, for a new connection */
	uint64_t address;		/* its address's oldest, past per_address */
	uint64_t deadline;		/* its request not whole within deadline_s */
};

struct connbound {
	const char *name;		/* for the log: "portal", "tiles", "witness" */
	struct connbound_limits lim;
	struct evconnlistener *listener;
	unsigned nconns;		/* open: counted by their SSL's lifetime */
	unsigned nheld;			/* of which not ended by the bounds */
	struct cb_conn *oldest, *newest;	/* every open one */
	bool paused;			/* the listener stopped at max */
	bool stopping;
	int64_t logged_at;		/* the last WARN line on ended connections (one a minute) */
	struct connbound_stats st;
};

/* Sets up b (the process's SSL ex data index the first time). */
int connbound_init(struct connbound *b, const char *name, const struct connbound_limits *lim, struct err *e);
/* After the bind: the listener paused at max. */
void connbound_listening(struct connbound *b, struct evconnlistener *l);
/* evhttp's bevcb: a new connection's OpenSSL bufferevent from ctx, or
 * NULL. */
struct bufferevent *connbound_new_bev(struct connbound *b, struct event_base *base, struct ssl_ctx_st *ctx);
/* A request arrived whole: its connection's deadline stops until the
 * reply is sent, then starts again for the next request. */
void connbound_arrived(struct evhttp_request *req);
/* No new connection from now on (SIGTERM). */
void connbound_stop(struct connbound *b);
/* After evhttp_free: the connections libevent still has to free (its
 * finalizers run as late as event_base_free) are no longer b's. */
void connbound_release(struct connbound *b);

#endif
