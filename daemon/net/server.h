/*
 * server: the daemon's event loop.  Owns the listener, the TLS context, the
 * role map, the open ledger, every connection, the group-commit queue and
 * the signal handlers.  server_run() returns when SIGTERM/SIGINT has been
 * handled: in-flight appends committed and answered, connections closed.
 */
#ifndef SCOPE_SERVER_H
#define SCOPE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "conn.h"
#include "ledger.h"
#include "note.h"
#include "roles.h"
#include "stats.h"

struct pending;
struct backup_job;

/* Limits that are not configuration: they bound memory per connection. */
#define CONN_OUT_HIGH	(4u << 20)	/* stop reading while more output is queued */
#define CONN_OUT_LOW	(1u << 20)	/* ... and resume below this */
#define CONN_MAX_PENDING 1024		/* appends waiting for a commit, per connection */
#define SERVER_MAX_PENDING 16384	/* appends waiting for a commit, in all */
#define SERVER_MAX_QUEUE_BYTES (64u << 20)	/* their bytes; reading pauses beyond */
/* Event priorities (lower runs first): reading and the commit deadline
 * outrank the commit itself, so a commit takes everything already read. */
#define SERVER_PRIO_IO 0
#define SERVER_PRIO_COMMIT 1
#define SERVER_NPRIO 2
#define COMMIT_MAX_DELAY_US 1000	/* an append waits at most this long for its commit to start */

struct server {
	struct event_base *base;
	struct evconnlistener *listener;
	struct ssl_ctx_st *tls;
	struct role_map *roles;
	struct ledger *ledger;
	struct note_signer *signer;
	struct note_signer *signer_next;	/* during a key rotation (signing_key_next) */
	struct note_verifier verifier;
	char verifier_key[NOTE_VKEY_MAX];
	struct config cfg;
	const char *conf_path;

	struct conn_list conns;		/* authenticated: OPEN and CLOSING (conn.h) */
	struct conn_list handshakes;	/* the handshake pool, oldest first (conn.h) */
	struct event *handshake_timer;	/* the oldest handshake's deadline */
	uint64_t next_conn_id;

	struct pending **queue;		/* group-commit queue */
	size_t nqueue, capqueue;
	size_t queue_bytes;		/* bytes held by the queue */
	struct event *commit_ev;	/* low priority: runs when nothing is left to read */
	struct event *commit_deadline;	/* high priority: the wait is bounded */

	struct event *sig_term, *sig_int, *sig_hup, *stop_timer;
	bool stopping;
	struct buf out;			/* scratch for building replies */
	struct stats stats;		/* for info; see stats.h */
	struct backup_job *backup;	/* the one online backup, if any (backup.h) */
	bool log_level_fixed;		/* --log-level given: a reload keeps it */
};

struct server_overrides {
	const char *listen;
	const char *log_level;
};

/* Runs the daemon in the foreground; returns a process exit code. */
int server_main(const char *conf_path, const struct server_overrides *ov);
/* Called when a connection has gone, so that the server can stop once the
 * last one closes after SIGTERM. */
void server_conn_gone(struct server *s);

#endif
