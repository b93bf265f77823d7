/*
 * commit: group commit.  Appends from every connection wait in one queue.
 * The commit event has a lower priority than reading, so it runs once the
 * loop has read everything that is ready (libevent's TLS bufferevent reads
 * one TLS record per turn, so this can take several turns); a timer at
 * reading's priority bounds the wait to COMMIT_MAX_DELAY_US.  The commit
 * writes the whole queue in one durable ledger transaction and only then
 * sends the replies, one write per connection.  Appends that arrive while a
 * commit is being written wait for the next one.
 */
#ifndef SCOPE_COMMIT_H
#define SCOPE_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ledger.h"

struct server;
struct conn;

/* Copies the request; returns -1 (message in e) if the queue is full. */
int commit_enqueue(struct server *s, struct conn *c, uint64_t req_id,
		   const struct ledger_append *a, struct err *e);
/* Commits everything queued now and answers (also used at shutdown). */
void commit_run(struct server *s);
/* A connection went away: its queued appends are still committed, their
 * replies dropped. */
void commit_forget_conn(struct server *s, struct conn *c);
void commit_free_all(struct server *s);

#endif
