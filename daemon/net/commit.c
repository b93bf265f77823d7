#include "commit.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "logger.h"
#include "store.h"

struct pending {
	struct commit_sink *sink;	/* NULL once its owner is gone */
	uint64_t req_id;
	uint64_t queued_us;	/* for the latency in info */
	struct ledger_append a;	/* strings point into data */
	uint8_t data[];
};

static char *put(uint8_t **w, const char *s, size_t n)
{
	char *at = (char *)*w;
	memcpy(at, s, n);
	*w += n;
	return at;
}

/* The writer thread and its one slot.  The loop fills the slot while the
 * writer is idle and the writer empties it; every field below mu is
 * touched only under mu, or by the side that owns the slot at the time
 * (the writer between taking a job and setting finished, the loop
 * otherwise). */
struct commit_writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t more;		/* a job, or stop */
	pthread_cond_t finished_cv;	/* the job is done (commit_drain waits on it) */
	int efd;			/* the writer counts each finished job here */
	struct event *ev;		/* the loop's side of efd */
	bool started, has_job, finished, stop;
	struct ledger *ledger;
	uint64_t hold_us;
	/* the job */
	struct ledger_append *as;
	struct ledger_result *rs;
	size_t n;
	/* its outcome */
	struct ledger_commit lc;
	int rc;
	struct err e;
	uint64_t t0, t1;
};

static void *writer_main(void *arg)
{
	struct commit_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->has_job && !w->stop)
			pthread_cond_wait(&w->more, &w->mu);
		if (!w->has_job)
			break;
		pthread_mutex_unlock(&w->mu);
		w->t0 = stats_now_us();
		err_clear(&w->e);
		w->rc = ledger_write_batch(w->ledger, w->as, w->n, w->rs, &w->lc, &w->e);
		w->t1 = stats_now_us();
		if (w->hold_us) {	/* tests: committed, not handed back yet */
			struct timespec ts = { (time_t)(w->hold_us / 1000000u), (long)(w->hold_us % 1000000u) * 1000 };
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
			}
		}
		pthread_mutex_lock(&w->mu);
		w->has_job = false;
		w->finished = true;
		pthread_cond_signal(&w->finished_cv);
		uint64_t one = 1;
		ssize_t r;
		do
			r = write(w->efd, &one, sizeof one);
		while (r < 0 && errno == EINTR);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	commit_run(arg);
}

static void finish(struct commit_queue *q);

static void on_written(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct commit_queue *q = arg;
	uint64_t count;
	if (read(fd, &count, sizeof count) < 0) {
		/* EAGAIN: commit_drain took this hand-back already */
	}
	pthread_mutex_lock(&q->w->mu);
	bool done = q->w->finished;
	pthread_mutex_unlock(&q->w->mu);
	if (q->batch && done)
		finish(q);
}

static int writer_start(struct commit_queue *q, struct event_base *base, struct err *e)
{
	struct commit_writer *w = calloc(1, sizeof *w);
	if (w == NULL)
		return err_set(e, "out of memory");
	q->w = w;
	w->efd = -1;
	w->ledger = q->ledger;
	ledger_commit_init(&w->lc);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->more, NULL);
	pthread_cond_init(&w->finished_cv, NULL);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0)
		return err_set(e, "cannot create the writer's eventfd: %s", strerror(errno));
	w->ev = event_new(base, w->efd, EV_READ | EV_PERSIST, on_written, q);
	/* the hand-back outranks the commit event: the next batch goes to the
	 * writer as soon as it is free */
	if (w->ev == NULL || event_priority_set(w->ev, COMMIT_PRIO_IO) || event_add(w->ev, NULL))
		return err_set(e, "cannot set up the writer's event");
	/* signals go to the loop's thread (libevent's signal events), never
	 * into the writer's sync */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return err_set(e, "cannot start the writer thread");
	w->started = true;
	return 0;
}

static void writer_stop(struct commit_writer *w)
{
	if (w == NULL)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->more);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	if (w->ev)
		event_free(w->ev);
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->more);
	pthread_cond_destroy(&w->finished_cv);
	ledger_commit_free(&w->lc);
	free(w->as);
	free(w->rs);
	free(w);
}

int commit_init(struct commit_queue *q, struct event_base *base, struct ledger *l,
		struct stats *st, struct err *e)
{
	memset(q, 0, sizeof *q);
	q->ledger = l;
	q->stats = st;
	q->ev = event_new(base, -1, 0, on_commit, q);
	q->deadline = evtimer_new(base, on_commit, q);
	if (q->ev == NULL || q->deadline == NULL || event_priority_set(q->ev, COMMIT_PRIO_COMMIT) ||
	    event_priority_set(q->deadline, COMMIT_PRIO_IO))
		return err_set(e, "cannot set up the commit events");
	return writer_start(q, base, e);
}

static void list_push(struct commit_sink **list, struct commit_sink *k)
{
	k->list = list;
	k->prev = NULL;
	k->next = *list;
	if (*list)
		(*list)->prev = k;
	*list = k;
}

static void list_remove(struct commit_sink *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		*k->list = k->next;
	if (k->next)
		k->next->prev = k->prev;
	k->list = NULL;
	k->prev = k->next = NULL;
}

void commit_wait(struct commit_queue *q, struct commit_sink *k)
{
	if (k->list != &q->notify) {
		if (k->list)
			list_remove(k);
		list_push(&q->notify, k);
	}
}

int commit_enqueue(struct commit_queue *q, struct commit_sink *k, uint64_t req_id,
		   const struct ledger_append *a, struct err *e)
{
	/* the batch in the writer counts too: what the daemon holds for
	 * appends stays within the bounds while a commit is under way */
	if (q->nqueue + q->nbatch >= COMMIT_MAX_PENDING)
		return err_set(e, "server busy: %d appends are waiting for a commit; retry shortly",
			       COMMIT_MAX_PENDING);
	if (q->nqueue == q->capqueue) {
		size_t ncap = q->capqueue ? q->capqueue * 2 : 64;
		struct pending **nq = realloc(q->queue, ncap * sizeof *nq);
		if (nq == NULL)
			return err_set(e, "out of memory");
		q->queue = nq;
		q->capqueue = ncap;
	}
	size_t total = a->kind_len + a->project_len + a->author_len + a->request_id_len + a->body_len;
	struct pending *p = malloc(sizeof *p + total);
	if (p == NULL)
		return err_set(e, "out of memory");
	uint8_t *w = p->data;
	p->sink = k;
	p->req_id = req_id;
	p->queued_us = stats_now_us();
	p->a = *a;
	p->a.kind = put(&w, a->kind, a->kind_len);
	p->a.project = put(&w, a->project, a->project_len);
	p->a.author = put(&w, a->author, a->author_len);
	p->a.request_id = put(&w, a->request_id, a->request_id_len);
	p->a.body = (const uint8_t *)put(&w, (const char *)a->body, a->body_len);
	q->queue[q->nqueue++] = p;
	q->queue_bytes += sizeof *p + total;
	k->pending++;
	commit_wait(q, k);
	if (q->nqueue == 1) {
		struct timeval tv = { 0, COMMIT_MAX_DELAY_US };
		event_active(q->ev, EV_TIMEOUT, 0);
		evtimer_add(q->deadline, &tv);
	}
	return 0;
}

void commit_cancel(struct commit_queue *q, struct commit_sink *k)
{
	for (size_t i = 0; i < q->nqueue; i++)
		if (q->queue[i]->sink == k)
			q->queue[i]->sink = NULL;
	for (size_t i = 0; i < q->nbatch; i++)	/* the writer reads only w->as */
		if (q->batch[i]->sink == k)
			q->batch[i]->sink = NULL;
	if (k->list)
		list_remove(k);
}

bool commit_busy(const struct commit_queue *q)
{
	return q->batch != NULL;
}

/* Hands q->batch to the writer (the loop owns the slot: the writer is idle). */
static void submit(struct commit_queue *q)
{
	struct commit_writer *w = q->w;
	w->hold_us = q->test_hold_us;
	/* from now on the store's newest commit may be this batch: the loop's
	 * reads stay on the published snapshot until finish moves it */
	store_snapshot_hold(ledger_store(q->ledger));
	pthread_mutex_lock(&w->mu);
	w->finished = false;
	w->has_job = true;
	pthread_cond_signal(&w->more);
	pthread_mutex_unlock(&w->mu);
}

void commit_run(struct commit_queue *q)
{
	size_t n = q->nqueue;
	/* whichever of the two commit events fires first does the work */
	event_del(q->deadline);
	event_del(q->ev);
	if (n == 0 || q->batch)
		return;	/* nothing to do, or it goes when the writer hands back */
	struct commit_writer *w = q->w;
	q->batch = q->queue;
	q->nbatch = n;
	q->queue = NULL;
	q->nqueue = q->capqueue = 0;
	q->batch_bytes = q->queue_bytes;	/* still held until the batch is answered */

	free(w->as);
	free(w->rs);
	w->as = malloc(n * sizeof *w->as);
	w->rs = malloc(n * sizeof *w->rs);
	w->n = n;
	if (w->as == NULL || w->rs == NULL) {
		free(w->as);
		free(w->rs);
		w->as = NULL;
		w->rs = NULL;
		w->rc = -1;
		err_set(&w->e, "out of memory; nothing written");
		w->t0 = w->t1 = stats_now_us();
		finish(q);
		return;
	}
	for (size_t i = 0; i < n; i++)
		w->as[i] = q->batch[i]->a;
	if (q->test_fail_at && ++q->commits == q->test_fail_at)
		store_fault_commit(ledger_store(q->ledger), STORE_E_IO);
	submit(q);
}

/* The writer is idle and what it wrote is published (or nothing was
 * written): the newest commit is the published state, and the loop's reads
 * move to it, with what the loop wrote itself meanwhile. */
static void publish_snapshot(struct commit_queue *q)
{
	struct err se = { 0 };
	if (store_snapshot_publish(ledger_store(q->ledger), &se))
		log_msg(LOG_ERROR, "reads cannot move to the published state: %s", se.msg);
}

/* The batch is back from the writer (which is idle now): on the loop thread,
 * publish, answer, tell the sinks, and start the next batch. */
static void finish(struct commit_queue *q)
{
	struct commit_writer *w = q->w;
	struct pending **batch = q->batch;
	size_t n = q->nbatch;
	if (w->rc && w->e.code == STORE_E_MAP_FULL) {
		/* no transaction is open in the process now: the map may move */
		struct err ge = { 0 };
		if (store_grow(ledger_store(q->ledger), &ge) == 0) {
			log_msg(LOG_INFO, "storage map grown to %zu MiB; writing the batch again",
				store_map_size(ledger_store(q->ledger)) >> 20);
			submit(q);
			return;
		}
		w->e = ge;
		for (size_t i = 0; i < n; i++) {
			w->rs[i].status = LEDGER_REJECTED;
			w->rs[i].err = ge;
		}
	}
	if (w->rc == 0)
		ledger_publish(q->ledger, &w->lc);	/* durable: now reads see it */
	else
		log_msg(LOG_ERROR, "commit of %zu appends failed, nothing written: %s", n, w->e.msg);
	publish_snapshot(q);
	q->batch = NULL;
	q->nbatch = 0;
	q->queue_bytes -= q->batch_bytes;
	q->batch_bytes = 0;
	struct ledger_result oom = { .status = LEDGER_REJECTED };
	oom.err = w->e;
	size_t appended = 0, dups = 0, refused = 0;
	uint64_t t1 = w->t1;
	stats_commit(q->stats, n, w->t1 - w->t0);
	for (size_t i = 0; i < n; i++) {
		struct pending *p = batch[i];
		const struct ledger_result *r = w->rs ? &w->rs[i] : &oom;
		stats_append_latency(q->stats, t1 - p->queued_us);
		if (r->status == LEDGER_APPENDED) {
			appended++;
			log_msg(LOG_DEBUG, "%.*s appended entry %llu (request %.*s)", (int)p->a.author_len,
				p->a.author, (unsigned long long)r->seq, (int)p->a.request_id_len,
				p->a.request_id);
		} else if (r->status == LEDGER_DUPLICATE) {
			dups++;
		} else {
			refused++;
			log_msg(LOG_INFO, "%.*s: append refused (request %.*s): %s", (int)p->a.author_len,
				p->a.author, (int)p->a.request_id_len, p->a.request_id, r->err.msg);
		}
		if (p->sink) {
			p->sink->pending--;
			p->sink->result(p->sink, p->req_id, r);
		}
		free(p);
	}
	q->stats->appended += appended;
	q->stats->duplicates += dups;
	q->stats->rejected += refused;
	log_msg(LOG_DEBUG, "commit: %zu appended, %zu repeated, %zu refused in %llu us; size %llu", appended,
		dups, refused, (unsigned long long)(w->t1 - w->t0), (unsigned long long)ledger_size(q->ledger));
	free(batch);
	if (appended && q->grew)
		q->grew(q->grew_arg);
	/* tell each sink once; one whose appends wait for the next commit
	 * stays on its list; what a sink does when told (enqueue, wait,
	 * cancel itself or another) goes to the next commit's list or takes
	 * the sink off this one */
	q->notifying = q->notify;
	q->notify = NULL;
	for (struct commit_sink *k = q->notifying; k; k = k->next)
		k->list = &q->notifying;
	while (q->notifying) {
		struct commit_sink *k = q->notifying;
		list_remove(k);
		if (k->pending)
			list_push(&q->notify, k);
		k->done(k);
	}
	/* what was read while this batch was written goes now */
	if (q->nqueue)
		commit_run(q);
}

/* Waits for the writer's batch and takes it back (the loop thread only). */
static void wait_written(struct commit_queue *q)
{
	struct commit_writer *w = q->w;
	pthread_mutex_lock(&w->mu);
	while (!w->finished)
		pthread_cond_wait(&w->finished_cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	finish(q);	/* its eventfd count is read, and ignored, by on_written */
}

void commit_drain(struct commit_queue *q)
{
	commit_run(q);
	while (q->batch)
		wait_written(q);	/* which hands on what was queued meanwhile */
}

void commit_free(struct commit_queue *q)
{
	if (q->w && q->w->started && q->batch) {	/* committed, published; nobody is told */
		pthread_mutex_lock(&q->w->mu);
		while (!q->w->finished)
			pthread_cond_wait(&q->w->finished_cv, &q->w->mu);
		pthread_mutex_unlock(&q->w->mu);
		if (q->w->rc == 0)
			ledger_publish(q->ledger, &q->w->lc);
		publish_snapshot(q);
		for (size_t i = 0; i < q->nbatch; i++)
			free(q->batch[i]);
		free(q->batch);
	}
	writer_stop(q->w);
	for (size_t i = 0; i < q->nqueue; i++)
		free(q->queue[i]);
	free(q->queue);
	if (q->ev)
		event_free(q->ev);
	if (q->deadline)
		event_free(q->deadline);
	memset(q, 0, sizeof *q);
}
