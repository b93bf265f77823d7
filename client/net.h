/*
 * net: one mutual-TLS connection to scoped, and request/response calls
 * over it (blocking, with timeouts).  Errors carry the exit code in
 * e->code: CTL_EXIT_CONN for connection and TLS problems, CTL_EXIT_REFUSED
 * when the server answered with an error (its code is kept in
 * session.server_code).
 */
#ifndef SCOPECTL_NET_H
#define SCOPECTL_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "profile.h"

#define NET_TIMEOUT_S 30
#define NET_MAX_FRAME (64u << 20)
#define NET_OPEN_RETRIES 2
#define NET_CODE_MAX 32		/* an error code from the server */
#define SESSION_MAX_KEYS (PROFILE_MAX_TRUST + 32)

struct session {
	const struct profile *prof;
	bool keep_tickets;	/* set before sess_open: resume TLS sessions across runs */
	char ticket[4200];	/* the ticket file, when keep_tickets */
	char cert_err[256];	/* why loading the certificate or key failed */
	/* the keys checkpoints are checked with: the profile's, plus those the
	 * log's key history introduced under a checkpoint signed by one of
	 * them, less those it retired (witness.c) */
	bool keys_ready;
	struct note_verifier keys[SESSION_MAX_KEYS], known[SESSION_MAX_KEYS];
	size_t nkeys, nknown;	/* active; every key ever trusted (for old checkpoints) */
	void *ctx;		/* SSL_CTX * */
	void *ssl;		/* SSL * */
	int fd;
	uint64_t next_id;
	struct buf req;		/* the request being built */
	size_t req_start;
	uint64_t req_id;
	struct buf resp;	/* the last response frame */
	char server_code[NET_CODE_MAX];
};

/* s starts zeroed; keep_tickets may be set before the first call.  A
 * connection the server refuses or closes at once (as at its connection
 * limit) is tried NET_OPEN_RETRIES more times. */
int sess_open(struct session *s, const struct profile *p, struct err *e);
void sess_close(struct session *s);

/* Starts a request with nparams parameters; pack them with mp_pack_*. */
void sess_begin(struct session *s, const char *op, uint32_t nparams);
/* Sends it and waits for its response; *result is the result map, valid
 * until the next call.  With retries > 0 a connection that fails or is lost
 * (also one the server closes at once, as at its connection limit) is
 * reopened and the same request (same id, same request_id) sent again. */
int sess_call(struct session *s, int retries, const uint8_t **result, size_t *len, struct err *e);

/* Pipelining (PROTOCOL.md section 3): several requests in flight, their
 * answers matched by id, which may come in any order.  sess_send sends the
 * request built with sess_begin (its id is s->req_id) without waiting,
 * connecting first if the connection was dropped.  sess_recv reads the next
 * answer, to whichever request, into frame: *id, and 1 with *result (valid
 * while frame is) or 0 with the server's refusal in e (CTL_EXIT_REFUSED)
 * and its code in code; -1 when the connection failed (CTL_EXIT_CONN).
 * After such a failure, sess_reconnect says so, waits and opens a new
 * connection as retry attempt_no (0-based) of retries does in sess_call;
 * what was in flight is lost and must be asked again. */
int sess_send(struct session *s, struct err *e);
int sess_recv(struct session *s, struct buf *frame, uint64_t *id, const uint8_t **result, size_t *len,
	      char code[NET_CODE_MAX], struct err *e);
int sess_reconnect(struct session *s, int attempt_no, int retries, struct err *e);

#endif
