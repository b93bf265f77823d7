/*
 * server: the daemon's event loop.  Owns the listener, the TLS context, the
 * role map, the open ledger, every connection, the group-commit queue and
 * the signal handlers.  server_main() returns when SIGTERM/SIGINT has been
 * handled: in-flight appends committed and answered, connections closed.
 *
 * daemon/net/ calls downward only (a -> b: a calls b; results come back up
 * through function pointers, never calls):
 *
 *   server -> conn, commit, backup, tls, deadlines, portal (daemon/portal/),
 *             tiles (daemon/tiles/)
 *   deadlines -> commit (commit_enqueue); results to its own commit_sink
 *   anchoring -> commit (commit_enqueue); results to its own commit_sink
 *   conn   -> dispatch, commit (commit_wait, commit_cancel), backup (gone), tls
 *   dispatch -> commit (commit_enqueue), backup (request, read)
 *   commit  -> the ledger; results to commit_sink->result/done (conn's)
 *   backup  -> the store (store_copy, on its thread); wakes the loop by a pipe
 *
 * This header is the loop's shared state: conn, dispatch and backup read its
 * fields but call nothing of server.c, and commit.h never includes it.  Only
 * daemon/net/ includes libevent's headers; the rest of the daemon sees the
 * loop through server_main() alone.
 */
#ifndef SCOPE_SERVER_H
#define SCOPE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "anchoring.h"
#include "commit.h"
#include "config.h"
#include "conn.h"
#include "deadlines.h"
#include "ledger.h"
#include "note.h"
#include "roles.h"
#include "stats.h"
#include "witnessing.h"

struct backup_job;
struct follow;
struct portal;
struct tiles;
struct upload;

/* Limits that are not configuration: they bound memory per connection. */
#define CONN_OUT_HIGH	(4u << 20)	/* stop reading while more output is queued */
#define CONN_OUT_LOW	(1u << 20)	/* ... and resume below this */
#define CONN_MAX_PENDING 1024		/* appends waiting for a commit, per connection */
#define SERVER_MAX_QUEUE_BYTES (64u << 20)	/* bytes waiting for or in a commit; reading pauses beyond */

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
	struct source_tally *tally;	/* scratch for counting the pool by source (conn.c) */
	size_t tally_cap;
	uint64_t next_conn_id;

	struct commit_queue commit;	/* group commit (commit.h) */
	struct deadlines deadlines;	/* deemed acceptance (deadlines.h) */
	struct anchoring anchoring;	/* RFC 3161 anchors (anchoring.h) */
	struct witnessing witnessing;	/* witness cosignatures (witnessing.h) */
	struct portal *portal;		/* the client portal, or NULL (daemon/portal/portal.h) */
	struct tiles *tiles;		/* the tlog-tiles listener, or NULL (daemon/tiles/tiles.h) */
	struct follow *follow;		/* scoped follow: the copy's fetcher, else NULL (follow.h) */

	struct event *sig_term, *sig_int, *sig_hup, *stop_timer;
	bool stopping;
	struct buf out;			/* scratch for building replies */
	struct stats stats;		/* for info; see stats.h */
	struct backup_job *backup;	/* the one online backup, if any (backup.h) */
	struct upload *uploads;		/* evidence uploads under way (files.h) */
	unsigned nuploads;
	uint64_t next_upload_id;
	uint64_t files_fail_at;		/* tests: an upload's write past this byte fails (0: never) */
	bool log_level_fixed;		/* --log-level given: a reload keeps it */
};

struct server_overrides {
	const char *listen;
	const char *log_level;
	uint64_t (*clock)(void);	/* NULL: the real clock (only the test build sets one) */
	uint64_t files_fail_at;		/* the test build: a write past this byte of an upload fails */
	const char *follow_from;	/* scoped follow: the primary's tiles URL; NULL: a primary */
	uint64_t commit_hold_us;	/* the test build: the writer holds each committed batch this long */
	unsigned commit_fail_at;	/* the test build: this commit (1 = the first) fails */
};

/* Runs the daemon in the foreground; returns a process exit code. */
int server_main(const char *conf_path, const struct server_overrides *ov);

#endif
