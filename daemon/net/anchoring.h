/*
 * anchoring: trusted time for the log (RFC 3161).  With tsa_url set, a
 * libevent timer at most every anchor_interval_s, and only when the tree
 * grew since the last anchor (by more than that anchor entry itself), asks the time-stamping authority for a token
 * over the newest checkpoint (proto/tsa.h: SHA-256 over its checkpoint
 * text), POSTed with libevent's HTTP client (plain or TLS, the server
 * checked against tsa_ca), never blocking the loop.  A reply is bounded
 * (TSA_TOKEN_MAX bytes, ANCHORING_TIMEOUT_S seconds) and checked against
 * tsa_ca (status, signature, chain, imprint, nonce); then an `anchor`
 * entry, author scoped, ledger-level, goes through the group commit like
 * any append (daemon/log/anchors.h checks it there).  A TSA that is down,
 * slow or answers garbage is retried with a doubling back-off (capped at
 * the interval), counted for info, and logged once per change of state;
 * appends never wait for it.
 *
 *   server --owns--> anchoring --commit_enqueue--> commit --sink--> anchoring
 */
#ifndef SCOPE_ANCHORING_H
#define SCOPE_ANCHORING_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "commit.h"
#include "err.h"
#include "merkle.h"

struct server;
struct event;
struct evhttp_connection;
struct evdns_base;
struct ssl_ctx_st;

#define ANCHORING_TIMEOUT_S 30	/* a request's whole life, connect to reply */

struct anchoring {
	struct server *s;
	bool enabled;			/* tsa_url is set */
	struct event *timer;		/* next attempt, or the request's deadline */
	struct commit_sink sink;
	struct evdns_base *dns;
	struct ssl_ctx_st *tls;		/* for an https TSA */
	struct evhttp_connection *conn;	/* the request in flight, if any */
	uint64_t interval_s, backoff_s;
	/* the request in flight: what it stamps */
	uint64_t size, nonce, stamped_us;
	uint8_t root[HASH_LEN], imprint[HASH_LEN];
	uint64_t anchored_size;		/* the size the last anchor covers */
	uint64_t quiet_size;		/* the size just after the last anchor entry */
	bool failing;			/* the last attempt failed (logged once) */
	/* for info */
	uint64_t attempts, failures, anchored, last_time_us;
	char last_error[200];
};

/* Sets up the timer (off without tsa_url). */
int anchoring_start(struct anchoring *a, struct server *s, struct err *e);
/* A reload's interval. */
void anchoring_interval(struct anchoring *a, uint64_t interval_s);
/* info's "anchors" member: a map. */
void anchoring_pack_info(const struct anchoring *a, struct buf *out);
/* The one teardown: before the commit queue and the event base go. */
void anchoring_free(struct anchoring *a);

#endif
