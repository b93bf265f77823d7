/*
 * conn: one client connection.  Its phase is data (enum conn_state), set in
 * one place; conn_free() is its one teardown.
 *
 *   HANDSHAKE --TLS done, identity read--> OPEN --error/EOF/timeout--> freed
 *                                          OPEN --conn_close()--> CLOSING --output flushed--> freed
 *
 * The phase also names the list a connection is on.  Connections in the
 * HANDSHAKE phase are the server's handshake pool (oldest first): at most
 * max_handshakes, max_handshakes_per_address from one source, each freed
 * handshake_timeout_s after its accept however it spends that time.  A new
 * connection is never refused for want of room: the oldest handshake (of its
 * own source, when that source is at its limit) is dropped to admit it.
 * OPEN and CLOSING connections are authenticated, at most max_connections;
 * a handshake that completes beyond that is closed.  So an unauthenticated
 * peer can take no authenticated connection's place.
 *
 * Reading stops while the connection's queued output is above
 * CONN_OUT_HIGH, it has CONN_MAX_PENDING appends waiting for a commit, or
 * the commit queue holds SERVER_MAX_QUEUE_BYTES (the batch being written
 * included), and resumes when they drop
 * (back-pressure on slow or greedy peers): the connection looks again when
 * its output drains (on_write) and when a commit it waits for is over (its
 * sink's done; commit_wait when only the queue's bytes hold it back).
 * The connection goes on reading while the writer thread commits a batch
 * holding its earlier appends (CONN_MAX_PENDING counts both), so the next
 * batch fills meanwhile.  Its sink's done comes after each commit that
 * answered some of its appends, or while more wait for the next.
 * Replies to appends come back through the sink, never from commit walking
 * the connections; conn_free() cancels the sink, so a commit after it
 * touches nothing of the connection.
 */
#ifndef SCOPE_CONN_H
#define SCOPE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "commit.h"

struct server;
struct ssl_ctx_st;
struct err;
struct bufferevent;

enum conn_state { CONN_HANDSHAKE, CONN_OPEN, CONN_CLOSING };

/* A source address as the handshake limits count it: the IPv4 address, or
 * an IPv6 address's /64 (one host usually holds a whole /64). */
struct conn_source {
	uint8_t family;			/* 4 or 6 */
	uint8_t addr[8];
};

struct conn_list {
	struct conn *head, *tail;	/* head: the oldest */
	unsigned n;
};

struct conn {
	struct server *srv;
	struct bufferevent *bev;
	enum conn_state state;
	uint64_t id;			/* for logs */
	uint64_t accepted_us;		/* stats_now_us() at accept: the handshake deadline counts from it */
	struct conn_source source;
	char peer[64];			/* remote address */
	char cn[256];			/* certificate subject CN ("" if none) */
	char fp[65];			/* certificate SHA-256 fingerprint */
	char author[270];		/* what entries record: the CN, or sha256:<fp> */
	char refused[320];		/* why the CN cannot be an identity ("" if it can) */
	struct commit_sink sink;	/* its appends' results come back here (commit.h) */
	struct buf replies;		/* a commit's replies, sent in one write */
	bool paused;
	struct conn *prev, *next;
};

/* The source sa counts as (an unknown family: all zero; also the
 * listeners' bounds, connbound.h). */
void conn_source_of(const struct sockaddr *sa, struct conn_source *src);
/* "1.2.3.4:5" or "[::1]:5". */
void conn_format_addr(const struct sockaddr *sa, char *out, size_t n);
/* Takes ownership of fd. */
void conn_accept(struct server *s, int fd, const struct sockaddr *sa, int salen);
/* Frees every handshake past its deadline and sets the server's handshake
 * timer for the next one (run by that timer, and after a reload). */
void conn_expire_handshakes(struct server *s);
/* Queues bytes for the peer. */
void conn_send(struct conn *c, const void *p, size_t n);
/* Stops reading, flushes what is queued, then frees.  Returns true if the
 * connection was freed at once (the caller must not touch it again). */
bool conn_close(struct conn *c, const char *why);
void conn_free(struct conn *c, const char *why);
/* Checks an open connection's client certificate against ctx (after a
 * reload with a new CA file or CRL): 0 if still accepted, else -1. */
int conn_recheck(struct conn *c, struct ssl_ctx_st *ctx, struct err *e);
/* Re-evaluates back-pressure (after commits or drained output); may handle
 * buffered frames.  Returns false if the connection was freed. */
bool conn_maybe_resume(struct conn *c);

#endif
