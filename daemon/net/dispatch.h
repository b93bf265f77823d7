/*
 * dispatch: one request frame from an authenticated connection -> checks ->
 * ledger -> reply frame.  Knows nothing about sockets or TLS: it reads the
 * connection's identity and writes the reply into a buffer.  Appends are
 * handed to the group-commit queue with the connection's sink (commit.h);
 * once committed, the connection has dispatch_committed() write their
 * replies.  Calls no connection function: conn calls dispatch, never back.
 */
#ifndef SCOPE_DISPATCH_H
#define SCOPE_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct server;
struct conn;
struct ledger_result;

enum dispatch_result {
	DISPATCH_REPLIED,	/* reply frame in out */
	DISPATCH_DEFERRED,	/* queued for the commit; nothing in out */
	DISPATCH_CLOSE,		/* reply (if any) in out, then close */
};

enum dispatch_result dispatch(struct server *s, struct conn *c, const uint8_t *p, size_t n,
			      struct buf *out);
/* Adds to out the reply to the append of frame req_id, now committed (or
 * refused: r->status). */
void dispatch_committed(struct server *s, struct buf *out, uint64_t req_id,
			const struct ledger_result *r);

#endif
