/*
 * witnessing: the log asks witnesses to cosign its checkpoints (C2SP
 * tlog-witness add-checkpoint, cosignature/v1).  With witness lines in the
 * configuration, a round POSTs the newest checkpoint to each witness that
 * has not cosigned it, with the consistency proof from the size that
 * witness last cosigned ("old N", none from 0).  A round runs at start, and
 * after a commit that grew the log: at once if the last round that sent
 * anything is witness_interval_s old, else when it will be (a libevent
 * timer; the commit's replies never wait for it).  While a witness is
 * behind, the timer comes back every witness_interval_s.  Answers:
 *   200  the cosignature lines, checked against the configured key before
 *        they are kept;
 *   409  the witness's size (text/x.tlog.size): if the log has that size,
 *        the request is sent again from it, once per round; a size beyond
 *        the log's own is counted as "ahead", logged as an error and never
 *        used as the base of a consistency proof;
 *   403, 404, 422, other codes, transport errors: counted per witness and
 *        logged once per change of state; the witness is skipped for a
 *        doubling number of rounds (at most 8).
 * A request has WITNESSING_TIMEOUT_S from connect to the whole reply (a
 * timer per witness, since libevent's own timeout is one of inactivity
 * that a witness trickling bytes would keep off): past it the connection
 * is dropped and counted as "timeout", like the failures above.
 * Per witness, the size and checkpoint it last cosigned are kept in the
 * ledger's meta database ("witness:NAME"); the newest checkpoint cosigned
 * by witness_quorum of them (default: all) is kept as "witness_quorum" and
 * served by checkpoint, prove and consistency with cosigned: true.
 * Appends never wait for any of it.
 *
 *   server --owns--> witnessing --evhttp--> witnesses
 */
#ifndef SCOPE_WITNESSING_H
#define SCOPE_WITNESSING_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "cosig.h"

struct server;
struct event;
struct evhttp_connection;
struct evdns_base;
struct ssl_ctx_st;
struct witnessing;

#define WITNESSING_TIMEOUT_S 30	/* a request's whole life, connect to reply (p->deadline) */
#define WITNESSING_MAX_REPLY 65536

enum witness_cause {
	WC_TRANSPORT, WC_FORBIDDEN, WC_NOT_FOUND, WC_CONFLICT, WC_UNPROCESSABLE, WC_HTTP, WC_BAD_REPLY,
	WC_AHEAD,	/* a 409 naming a size this log never had */
	WC_TIMEOUT,	/* no whole reply within WITNESSING_TIMEOUT_S */
	WC_COUNT
};

struct witness_peer {
	struct witnessing *w;
	const struct config_witness *cfg;
	struct cosig_verifier key;
	struct evhttp_connection *conn;	/* the request in flight, if any */
	struct event *deadline;		/* its whole life: fires WITNESSING_TIMEOUT_S after submit */
	uint64_t size;			/* the size it last cosigned, as far as this log knows */
	uint64_t old;			/* the old size to send: its own size after a 409 */
	struct buf note;		/* the checkpoint it last cosigned, with its cosignature line */
	size_t note_len;		/* the log's note alone: note.data[0..note_len) */
	struct buf sent;		/* the checkpoint in flight */
	uint64_t sent_size;
	bool retried;			/* a 409 was answered once this round */
	unsigned skip, backoff;		/* rounds left to skip, and the next back-off */
	bool failing;
	uint64_t ahead;			/* the last size a 409 claimed beyond this log's, 0 if none */
	char reply_error[160];		/* a transport error, from libevent's callback */
	/* for info */
	uint64_t cosigned, last_ok_s, failures[WC_COUNT];
	char last_error[400];
};

struct witnessing {
	struct server *s;
	bool enabled;
	struct event *timer;
	struct evdns_base *dns;
	struct ssl_ctx_st *tls;
	struct witness_peer peers[CONFIG_MAX_WITNESSES];
	size_t n, quorum;
	struct buf quorum_note;		/* the newest checkpoint with the quorum, or empty */
	uint64_t quorum_size;
	uint64_t rounds;		/* rounds that sent a checkpoint, for info */
	uint64_t last_round_us;		/* when the last of them ran (monotonic) */
};

int witnessing_start(struct witnessing *w, struct server *s, struct err *e);
/* The newest checkpoint note with the quorum of cosignatures (NULL if none
 * yet); *size its tree size. */
/* After a commit that grew the log (commit_queue.grew): a round at once
 * or when the interval allows; arg is the witnessing. */
void witnessing_grew(void *arg);
const struct buf *witnessing_cosigned(const struct witnessing *w, uint64_t *size);
/* Appends the cosignature lines the witnesses gave for exactly the signed
 * note note[0..n) (the same checkpoint text: origin, size, root); -1 out
 * of memory. */
int witnessing_lines(const struct witnessing *w, const uint8_t *note, size_t n, struct buf *out);
/* info's "witnesses" member. */
void witnessing_pack_info(const struct witnessing *w, struct buf *out);
/* The one teardown: before the event base goes. */
void witnessing_free(struct witnessing *w);

#endif
