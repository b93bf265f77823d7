/*
 * The group commit without sockets: a real ledger on LMDB in a temporary
 * directory, an event base, and sinks that record what they are told.
 * Results come only after the commit is durable, in queue order, then each
 * sink is told once; a cancelled sink is never called; a sink told after a
 * commit may enqueue, wait or cancel another; a failed commit refuses every
 * append and still tells every sink.  The batch is written on the writer
 * thread: while it holds one (test_hold_us), the next waits in the queue and
 * reads see the published size, checkpoint and entries, and the store's
 * records at the published state (the published snapshot, store.h): a write
 * the loop commits itself meanwhile shows with the next publish, a read
 * begun before a publish keeps its state; a full map comes back, grows on
 * the loop's thread (the snapshot ended and begun again), and the same batch
 * is written again.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commit.h"
#include "json.h"
#include "ledger.h"
#include "signer.h"
#include "store.h"
#include "tap.h"

#define ORIGIN "test.example/commit"

static struct commit_queue q;
static struct ledger *led;
static struct buf told;		/* what the sinks were told, in order */

struct probe {
	struct commit_sink sink;
	char name;
	uint64_t size_at_result;	/* the ledger's size when the last result came */
	unsigned dones;
	struct probe *cancel_on_done;	/* done cancels this one */
	bool enqueue_on_done;		/* done queues one more append */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char s[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	buf_add(&told, s, strlen(s));
}

static int enqueue(struct probe *p, uint64_t id, const char *request_id)
{
	struct buf body;
	struct err e = { 0 };
	buf_init(&body);
	if (json_to_canonical("{\"text\":\"t\"}", 12, &body, &e))
		abort();
	struct ledger_append a = { "note", 4, "", 0, "lead", 4, request_id, strlen(request_id),
				   body.data, body.len, false, NULL, NULL };
	int rc = commit_enqueue(&q, &p->sink, id, &a, &e);
	buf_free(&body);
	return rc;
}

static void on_result(struct commit_sink *k, uint64_t req_id, const struct ledger_result *r)
{
	struct probe *p = (struct probe *)(void *)k;
	p->size_at_result = ledger_size(led);
	say("%c%llu:%s ", p->name, (unsigned long long)req_id,
	    r->status == LEDGER_APPENDED ? "ok" : r->status == LEDGER_DUPLICATE ? "dup" : "refused");
}

static void on_done(struct commit_sink *k)
{
	struct probe *p = (struct probe *)(void *)k;
	p->dones++;
	say("%c.done(%u) ", p->name, k->pending);
	if (p->cancel_on_done)
		commit_cancel(&q, &p->cancel_on_done->sink);
	if (p->enqueue_on_done) {
		p->enqueue_on_done = false;
		enqueue(p, 99, "again");
	}
}

static void probe_init(struct probe *p, char name)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	p->sink.result = on_result;
	p->sink.done = on_done;
}

/* Runs the loop until the batch in the writer is handed back and answered
 * (the next may be in the writer then). */
static void wait_commit(struct event_base *eb)
{
	uint64_t before = q.stats->commits;
	while (q.stats->commits == before)
		event_base_loop(eb, EVLOOP_ONCE);
}

/* The loop's reads of the store: the size record (the read kept open in
 * *keep when keep is not NULL), a derived-state record of the loop's own. */
static uint64_t stored_size(struct store_txn **keep)
{
	struct store_txn *t;
	struct err e = { 0 };
	uint64_t n = UINT64_MAX;
	if (store_begin(ledger_store(led), false, &t, &e) == 0 && store_meta_get_u64(t, "size", &n, &e) != 1)
		n = UINT64_MAX;
	if (keep)
		*keep = t;
	else
		store_abort(t);
	return n;
}

static int loop_write(const char *key)
{
	struct store_txn *t;
	struct err e = { 0 };
	if (store_begin(ledger_store(led), true, &t, &e))
		return -1;
	store_state_put(t, key, strlen(key), "1", 1, &e);
	return store_commit(t, &e);
}

static bool loop_sees(const char *key)
{
	struct store_txn *t;
	struct err e = { 0 };
	const uint8_t *v;
	size_t n;
	if (store_begin(ledger_store(led), false, &t, &e))
		return false;
	int rc = store_state_get(t, key, strlen(key), &v, &n, &e);
	store_abort(t);
	return rc == 1;
}

static const char *told_now(void)
{
	static char s[512];
	snprintf(s, sizeof s, "%.*s", (int)told.len, (const char *)told.data);
	buf_reset(&told);
	return s;
}

int main(void)
{
	struct err e = { 0 };
	char base[256], kp[300];
	const char *tmp = getenv("TMPDIR");
	snprintf(base, sizeof base, "%s/scope-commit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(kp, sizeof kp, "%s/signing.key", base);
	struct note_signer signer;
	if (signer_generate(kp, &e) || signer_load(&signer, kp, ORIGIN, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	struct ledger_opts o = { .dir = base, .origin = ORIGIN, .signer = &signer };
	struct event_base *eb = event_base_new();
	if (ledger_open(&led, &o, &e) || eb == NULL || event_base_priority_init(eb, COMMIT_NPRIO)) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	buf_init(&told);
	struct stats st;
	stats_init(&st);
	/* as the daemon's primary does: before the writer starts */
	ok(store_snapshot_enable(ledger_store(led), &e) == 0 && commit_init(&q, eb, led, &st, &e) == 0,
	   "a commit queue on an event base, the loop's reads on the published snapshot");

	struct probe a, b, c, d;
	probe_init(&a, 'A');
	probe_init(&b, 'B');
	probe_init(&c, 'C');
	probe_init(&d, 'D');
	commit_drain(&q);
	is_str(told_now(), "", "a commit of an empty queue tells nobody anything");

	enqueue(&a, 1, "a1");
	enqueue(&b, 10, "b10");
	enqueue(&a, 2, "a2");
	enqueue(&c, 20, "c20");
	enqueue(&c, 21, "c21");
	ok(a.sink.pending == 2 && b.sink.pending == 1 && c.sink.pending == 2 && q.nqueue == 5,
	   "five appends from three sinks wait, each sink counting its own");
	commit_cancel(&q, &c.sink);
	commit_wait(&q, &d.sink);
	is_int(ledger_size(led), 0, "nothing is written before the commit");
	/* the event loop hands the batch to the writer; its hand-back wakes
	 * the loop, which answers */
	event_base_loop(eb, EVLOOP_ONCE);
	ok(commit_busy(&q), "the loop hands the queue to the writer");
	wait_commit(eb);
	is_str(told_now(), "A1:ok B10:ok A2:ok D.done(0) B.done(0) A.done(0) ",
	       "the loop commits: results in queue order, then each sink told once");
	is_int(ledger_size(led), 5, "  the cancelled sink's appends are committed too");
	ok(a.size_at_result == 5 && b.size_at_result == 5, "  results come after the whole batch is in the ledger");
	ok(c.dones == 0 && c.size_at_result == 0, "  the cancelled sink is never called");
	ok(q.nqueue == 0 && q.queue_bytes == 0, "  the queue is empty");

	/* a sink told may cancel another not yet told, and enqueue again */
	enqueue(&b, 11, "b11");
	enqueue(&a, 3, "a1");
	a.cancel_on_done = &b;
	a.enqueue_on_done = true;
	commit_run(&q);
	wait_commit(eb);
	a.cancel_on_done = NULL;
	is_str(told_now(), "B11:ok A3:dup A.done(0) ",
	       "a repeated request is a duplicate; a sink cancelled by one told before it is not told");
	ok(q.nqueue == 0 && commit_busy(&q) && a.sink.pending == 1,
	   "  an append queued while told goes to the writer at once, as the next batch");
	wait_commit(eb);
	is_str(told_now(), "A99:ok A.done(0) ", "  which answers it and tells its sink");

	/* while the writer holds a batch, the loop reads the published state
	 * and queues the next batch: the store holds the batch, reads do not
	 * show it before it is handed back */
	q.test_hold_us = 300000;
	uint64_t size = ledger_size(led);
	struct buf cp0, cp1, got;
	buf_init(&cp0);
	buf_init(&cp1);
	buf_init(&got);
	ledger_checkpoint(led, &cp0, &e);
	enqueue(&a, 5, "a5");
	commit_run(&q);
	enqueue(&b, 13, "b13");
	commit_run(&q);
	usleep(150000);	/* the writer commits (in a few ms) and holds it back */
	ledger_checkpoint(led, &cp1, &e);
	ok(commit_busy(&q) && q.nqueue == 1 && ledger_size(led) == size && cp0.len == cp1.len &&
	   memcmp(cp0.data, cp1.data, cp0.len) == 0,
	   "during a commit: the next append waits in the queue, the size and checkpoint are the published ones");
	ok(ledger_get(led, size, &got, &e) == -1 && e.code == STORE_E_NOTFOUND,
	   "  and the entry being written is not there yet");
	struct store_txn *kept = NULL;
	is_int(stored_size(&kept), size, "  the store's records read on the loop are the published ones, not the held batch's");
	ok(loop_write("loop-1") == 0 && !loop_sees("loop-1"),
	   "  a write the loop commits meanwhile does not show yet (its commit holds the batch too)");
	q.test_hold_us = 0;
	wait_commit(eb);
	is_str(told_now(), "A5:ok B.done(1) A.done(0) ",
	       "  the first batch is answered alone (B, waiting for the next, is told too)");
	ok(stored_size(NULL) == size + 1 && loop_sees("loop-1"),
	   "  once it is published, the loop reads it and the loop's own write");
	uint64_t kept_size = 0;
	ok(store_meta_get_u64(kept, "size", &kept_size, &e) == 1 && kept_size == size,
	   "  a read begun before the publish still reads what it began with");
	ok(store_grow(ledger_store(led), &e) == -1, "  and the map cannot grow under it");
	store_abort(kept);
	buf_reset(&cp1);
	ledger_checkpoint(led, &cp1, &e);
	ok(ledger_size(led) == size + 1 && commit_busy(&q) && (cp1.len != cp0.len || memcmp(cp0.data, cp1.data, cp0.len)),
	   "  then published (size and checkpoint), and the next batch is in the writer");
	wait_commit(eb);
	is_str(told_now(), "B13:ok B.done(0) ", "  which is answered after it");
	ok(ledger_get(led, size, &got, &e) == 0, "  the entry is readable once published");
	ok(loop_write("loop-2") == 0 && loop_sees("loop-2") && stored_size(NULL) == size + 2,
	   "with no batch in the writer, a write the loop commits shows at once");
	buf_free(&cp0);
	buf_free(&cp1);
	buf_free(&got);

	/* the batch in the writer counts toward the queue's bounds: what the
	 * daemon holds for appends stays bounded while a commit is under way */
	q.test_hold_us = 300000;
	struct probe e1;
	probe_init(&e1, 'E');
	size_t idle_bytes = q.queue_bytes;
	enqueue(&e1, 40, "e40");
	size_t one = q.queue_bytes - idle_bytes;
	commit_run(&q);
	usleep(50000);
	ok(commit_busy(&q) && q.nqueue == 0 && q.queue_bytes == idle_bytes + one,
	   "a batch in the writer still counts in the queue's bytes");
	size_t taken = 0;
	while (taken < COMMIT_MAX_PENDING && enqueue(&e1, 41, "e41") == 0)
		taken++;
	is_int(taken, COMMIT_MAX_PENDING - 1, "  and in the appends held: the queue takes one fewer than the bound");
	commit_cancel(&q, &e1.sink);	/* their results are dropped; they are still written */
	q.test_hold_us = 0;
	wait_commit(eb);
	wait_commit(eb);
	ok(q.nqueue == 0 && !commit_busy(&q) && q.queue_bytes == 0, "  both batches answered, nothing held");
	told_now();

	/* a commit that fails writes nothing and refuses every append */
	enqueue(&a, 4, "a4");
	enqueue(&b, 12, "b12");
	store_fault_put(ledger_store(led), 1, STORE_E_IO);
	size = ledger_size(led);
	commit_drain(&q);
	is_str(told_now(), "A4:refused B12:refused B.done(0) A.done(0) ",
	       "a failed commit refuses every append and still tells each sink");
	is_int(ledger_size(led), size, "  nothing is written");
	store_fault_put(ledger_store(led), 0, 0);
	q.test_fail_at = q.commits + 1;
	enqueue(&a, 6, "a6");
	commit_drain(&q);
	is_str(told_now(), "A6:refused A.done(0) ", "a commit whose sync fails refuses its appends");
	is_int(ledger_size(led), size, "  nothing is published");
	enqueue(&a, 7, "a6");
	commit_drain(&q);
	is_str(told_now(), "A7:ok A.done(0) ", "  and the same request commits in the next batch");
	is_int(ledger_size(led), size + 1, "  once");

	/* a full map comes back from the writer, grows on the loop, and the
	 * same batch is written again */
	size_t map = store_map_size(ledger_store(led));
	store_fault_commit(ledger_store(led), STORE_E_MAP_FULL);
	enqueue(&a, 8, "a8");
	enqueue(&b, 14, "b14");
	wait_commit(eb);
	is_str(told_now(), "A8:ok B14:ok B.done(0) A.done(0) ", "a full map: the batch is written again after the map grew");
	ok(store_map_size(ledger_store(led)) == 2 * map && ledger_size(led) == size + 3, "  the map doubled, each entry once");

	/* the queue's bound, and a teardown with appends still queued */
	int rc = 0;
	char rq[32];
	for (unsigned i = 0; i < COMMIT_MAX_PENDING && rc == 0; i++) {
		snprintf(rq, sizeof rq, "many-%u", i);
		rc = enqueue(&a, i, rq);
	}
	rc = rc ? rc : enqueue(&a, 0, "one-too-many");
	ok(rc == -1 && q.nqueue == COMMIT_MAX_PENDING, "the %d-th waiting append is refused: server busy",
	   COMMIT_MAX_PENDING + 1);
	commit_cancel(&q, &a.sink);
	commit_free(&q);
	ok(q.nqueue == 0 && q.queue == NULL, "freeing the queue drops what waits in it");

	ledger_close(led);
	event_base_free(eb);
	note_signer_free(&signer);
	buf_free(&told);
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
	if (system(cmd) != 0)
		diag("could not remove %s", base);
	return done_testing();
}
