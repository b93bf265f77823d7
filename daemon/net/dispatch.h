/*
 * dispatch: one request frame from an authenticated connection -> checks ->
 * ledger -> reply frame.  Knows nothing about sockets or TLS: it reads the
 * connection's identity and writes the reply into a buffer.  Appends are
 * handed to the group-commit queue and answered after their commit.
 */
#ifndef SCOPE_DISPATCH_H
#define SCOPE_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct server;
struct conn;

enum dispatch_result {
	DISPATCH_REPLIED,	/* reply frame in out */
	DISPATCH_DEFERRED,	/* queued for the commit; nothing in out */
	DISPATCH_CLOSE,		/* reply (if any) in out, then close */
};

enum dispatch_result dispatch(struct server *s, struct conn *c, const uint8_t *p, size_t n,
			      struct buf *out);

#endif
