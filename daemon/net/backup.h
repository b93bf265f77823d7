/*
 * backup: an online backup for a client.  A consistent, compacted copy of
 * the ledger's LMDB environment is written by a thread of its own into an
 * unlinked file in the data directory while the event loop keeps serving;
 * its SHA-256 is computed on the same thread; the event loop learns of the
 * end through a pipe.  The client then reads the copy in chunks
 * (PROTOCOL.md, backup and backup_read).  One backup at a time; it belongs
 * to the connection that asked for it and goes with it.
 */
#ifndef SCOPE_BACKUP_H
#define SCOPE_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct server;
struct conn;

#define BACKUP_CHUNK_MAX (1u << 20)	/* bytes per backup_read */

enum backup_state { BACKUP_COPYING, BACKUP_READY, BACKUP_FAILED };

struct backup_status {
	enum backup_state state;
	uint64_t size;		/* BACKUP_READY */
	uint8_t sha256[32];	/* BACKUP_READY */
	char why[ERR_MSG_MAX];	/* BACKUP_FAILED */
};

/* The backup of c: started now if there is none, else its state.  -2 if
 * another connection's backup is running or being read, -1 if it cannot
 * start (e->msg says why).  A failed backup is reported once and then
 * forgotten. */
int backup_request(struct server *s, struct conn *c, struct backup_status *st, struct err *e);
/* Reads up to n bytes at off of c's finished backup; *got may be 0 at the
 * end.  -1 if c has no finished backup or the read fails. */
int backup_read(struct server *s, struct conn *c, uint64_t off, void *p, size_t n, size_t *got,
		struct err *e);
/* c has gone: its backup is dropped (when the copy finishes, if running). */
void backup_conn_gone(struct server *s, struct conn *c);
/* At shutdown: waits for a running copy and frees everything. */
void backup_shutdown(struct server *s);

#endif
