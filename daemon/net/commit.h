/*
 * commit: group commit.  Appends from every connection wait in one queue.
 * The commit event has a lower priority than reading, so it runs once the
 * loop has read everything that is ready (libevent's TLS bufferevent reads
 * one TLS record per turn, so this can take several turns); a timer at
 * reading's priority bounds the wait to COMMIT_MAX_DELAY_US.  The commit
 * hands the whole queue to the writer thread, which writes it in one
 * durable ledger transaction (ledger_write_batch: rules, encoding, tree
 * nodes, signing, the sync) while the loop goes on reading, decrypting and
 * checking the next batch into the queue.  At most one batch is in the
 * writer: appends that arrive meanwhile wait for the next one, which starts
 * as soon as this one is handed back.
 *
 * The hand-back: the writer sets its results under a mutex and writes to an
 * eventfd that an event on the loop watches.  (Not event_active from the
 * writer: that needs libevent's locking, evthread_use_pthreads, on every
 * event and buffer operation of the loop, for one wake-up per commit.)  On
 * the loop thread the commit is then published (ledger_publish: only now
 * do reads see the new size and checkpoint), each append's result goes to
 * the sink it came from, and after the last result each sink is told once
 * that the commit is over (so a connection sends its replies in one write
 * and may read again).  A full map comes back unwritten: the loop grows it
 * there, where no transaction is open (LMDB's rule for mdb_env_set_mapsize;
 * the loop opens its read transactions only inside its callbacks, and
 * store_grow ends and begins again the published snapshot), and hands the
 * same batch back to the writer.  A failed commit publishes nothing and
 * refuses every append of the batch.
 *
 * Reads on the loop see the published state and nothing newer: a primary's
 * store keeps its published snapshot (store.h, enabled before commit_init)
 * and every read the loop begins reads that one LMDB transaction.  submit
 * holds it (store_snapshot_hold: the newest commit may be the batch from
 * then on) and finish moves it to the newest commit right after
 * ledger_publish, before the next batch goes to the writer, when the
 * newest commit is the published one.  A write the loop commits itself
 * (the witnesses' cosignatures) shows at once while the writer is idle, and
 * else once the batch under way is published (the newest commit may hold
 * that batch too, before or after the loop's).
 *
 * Knows no connection and no wire format: results go back only through the
 * sinks' function pointers.  Never includes conn.h, dispatch.h or server.h.
 *
 *   server --owns--> commit_queue --owns--> the writer thread
 *   conn --owns--> commit_sink
 *   dispatch --commit_enqueue--> commit --sink->result, sink->done--> (conn)
 *   conn's one teardown --commit_cancel--> commit
 */
#ifndef SCOPE_COMMIT_H
#define SCOPE_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ledger.h"
#include "stats.h"

struct event_base;
struct event;
struct pending;
struct commit_writer;

#define COMMIT_MAX_PENDING 16384	/* appends queued or being written, in all */
#define COMMIT_MAX_DELAY_US 1000	/* an append waits at most this long for its commit to start */
/* Event priorities (lower runs first): reading and the commit deadline
 * outrank the commit itself, so a commit takes everything already read. */
#define COMMIT_PRIO_IO 0
#define COMMIT_PRIO_COMMIT 1
#define COMMIT_NPRIO 2

/* Where the results of one owner's appends go (a connection has one).  The
 * owner sets result and done; the rest is the queue's. */
struct commit_sink {
	/* One append's result, after its commit is durable (or the commit has
	 * failed and nothing was written: r->status is LEDGER_REJECTED).  It
	 * must only record the result: it may not free its owner or cancel any
	 * sink, since the batch being answered is no longer on the queue that
	 * commit_cancel clears (do that in done). */
	void (*result)(struct commit_sink *k, uint64_t req_id, const struct ledger_result *r);
	/* After every result of a commit: once per sink that had appends in
	 * it, has appends waiting for the next one, or asked with
	 * commit_wait.  May enqueue, wait or cancel. */
	void (*done)(struct commit_sink *k);
	unsigned pending;		/* appends queued or being written, not yet answered */
	struct commit_sink **list;	/* the list to be told it is on, or NULL */
	struct commit_sink *prev, *next;
};

struct commit_queue {
	struct ledger *ledger;
	struct stats *stats;
	struct event *ev;		/* low priority: runs when nothing is left to read */
	struct event *deadline;		/* high priority: the wait is bounded */
	struct pending **queue;
	size_t nqueue, capqueue;
	size_t queue_bytes;		/* bytes held by the queue and the batch being written */
	struct commit_writer *w;	/* the thread and the batch it writes */
	struct pending **batch;		/* that batch (NULL: the writer is idle) */
	size_t nbatch;
	size_t batch_bytes;		/* the batch's part of queue_bytes */
	struct commit_sink *notify;	/* to be told after the next commit */
	struct commit_sink *notifying;	/* being told after this one */
	/* Told after a commit that appended, once its results are handed out;
	 * it may only schedule work for later (the witnesses' round). */
	void (*grew)(void *arg);
	void *grew_arg;
	/* tests only (the test build of scoped; 0: off): the writer holds
	 * each batch this long after its commit, before handing it back, and the fail_at-th commit
	 * fails as a failed sync would (store_fault_commit) */
	uint64_t test_hold_us;
	unsigned test_fail_at, commits;
};

/* Sets up an empty queue on base (which has COMMIT_NPRIO priorities) and
 * starts its writer thread. */
int commit_init(struct commit_queue *q, struct event_base *base, struct ledger *l,
		struct stats *st, struct err *e);
/* Copies the request; returns -1 (message in e) if the queue is full. */
int commit_enqueue(struct commit_queue *q, struct commit_sink *k, uint64_t req_id,
		   const struct ledger_append *a, struct err *e);
/* k is told (done) after the next commit even without appends in it: a
 * connection held back by the queue's bytes waits so. */
void commit_wait(struct commit_queue *q, struct commit_sink *k);
/* Hands everything queued now to the writer, unless it is busy (then the
 * queue goes as soon as the batch it writes is handed back). */
void commit_run(struct commit_queue *q);
/* Commits everything queued and being written, and answers, before it
 * returns (shutdown: waits for the writer). */
void commit_drain(struct commit_queue *q);
/* True while a batch is in the writer. */
bool commit_busy(const struct commit_queue *q);
/* k's owner goes away: its queued appends are still committed, their
 * results dropped, and k is never called again. */
void commit_cancel(struct commit_queue *q, struct commit_sink *k);
/* Waits for the batch being written (it is published, its results are
 * dropped), stops the writer, and frees the queue and its events; what is
 * still queued is dropped. */
void commit_free(struct commit_queue *q);

#endif
