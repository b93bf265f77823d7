/*
 * tiles: the C2SP tlog-tiles listener (proto/PROTOCOL.md, "Tiles"), off
 * unless tiles_listen is set.  evhttp on the daemon's event base, each
 * connection an OpenSSL bufferevent from the tiles' own SSL_CTX, which
 * asks for a client certificate (verified against tls_ca and tls_crl)
 * but lets a client without one in; what a request may read depends on
 * that certificate's grant (tile_serve.c).
 *
 *   server -> tiles (start, reload, stop, free, stats)
 *   tiles -> tile_serve (every request) -> the ledger (read transactions)
 *
 * The resources are read from the stored tree nodes and entries on
 * demand: nothing is written, nothing is cached in memory.  The
 * connections are bounded as the portal's (connbound.h): at most
 * TILES_MAX_CONNECTIONS, from TILES_EVICT_AT on each new one ends the
 * oldest of the address holding the most, TILES_PER_ADDRESS from one
 * address, each request whole within TILES_TIMEOUT_S.
 */
#ifndef SCOPE_TILES_H
#define SCOPE_TILES_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "connbound.h"
#include "err.h"
#include "guard.h"

#define TILES_MAX_CONNECTIONS 256
#define TILES_EVICT_AT (TILES_MAX_CONNECTIONS - 32)
#define TILES_PER_ADDRESS 64
#define TILES_TIMEOUT_S 10		/* a request (from the handshake on) must arrive whole within this */
#define TILES_MAX_HEADERS 8192		/* bytes of the request line and headers */

/* Why the tiles listener refused a request (the names are info's). */
enum tiles_refusal {
	TREF_RATE,		/* 429: tiles_rate_per_min passed, or the rate table full */
	TREF_FORBIDDEN,		/* 403: no certificate, or no auditor/admin grant on all projects */
	TREF_BAD_PATH,		/* 400: not a tiles path (leading zeros, no x, W out of 1..255, ...) */
	TREF_NOT_FOUND,		/* 404: beyond the tree, or a bundle with an entry past 65535 bytes */
	TREF_METHOD,		/* 405: not GET or HEAD */
	TREF_ERROR,		/* 500: the ledger could not be read */
	TREF_CONNECTIONS,	/* connections: the busiest address's oldest, ended for a new one */
	TREF_ADDRESS_LIMIT,	/* connections: an address's oldest, past TILES_PER_ADDRESS */
	TREF_DEADLINE,		/* connections: no whole request within TILES_TIMEOUT_S */
	TREF_COUNT
};

struct tiles_stats {
	uint64_t requests, checkpoints, tiles, bundles, bytes;
	uint64_t refused[TREF_COUNT];
};

struct server;
struct evhttp;
struct evhttp_bound_socket;
struct ssl_ctx_st;

struct tiles {
	struct server *s;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct ssl_ctx_st *tls;
	struct connbound bound_conns;	/* the connections open and their bounds */
	bool stopping;
	struct rate_table rate;
	struct tiles_stats st;
};

/* Starts the listener of s->cfg (nothing when tiles_listen is empty):
 * s->tiles set.  A configuration or bind failure is an error (e). */
int tiles_start(struct server *s, struct err *e);
/* SIGHUP, after s->cfg's TLS files were reloaded: a new context for new
 * connections (a revoked certificate is refused from now on); on failure
 * the old one stays and e says why. */
int tiles_reload(struct server *s, struct err *e);
void tiles_stop(struct server *s);
void tiles_free(struct server *s);
/* info's "tiles" member under stats: a msgpack map. */
void tiles_pack_stats(const struct server *s, struct buf *out);

#endif
