#include "commit.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "logger.h"

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

static void on_commit(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	commit_run(arg);
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
	return 0;
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
	if (q->nqueue >= COMMIT_MAX_PENDING)
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
	if (k->list)
		list_remove(k);
}

void commit_run(struct commit_queue *q)
{
	size_t n = q->nqueue;
	/* whichever of the two commit events fires first does the work */
	event_del(q->deadline);
	event_del(q->ev);
	if (n == 0)
		return;
	struct pending **batch = q->queue;
	q->queue = NULL;
	q->nqueue = q->capqueue = 0;
	q->queue_bytes = 0;

	uint64_t t0 = stats_now_us();
	struct ledger_append *as = malloc(n * sizeof *as);
	struct ledger_result *rs = malloc(n * sizeof *rs);
	struct ledger_result oom = { .status = LEDGER_REJECTED };
	struct err e = { 0 };
	size_t appended = 0, dups = 0, refused = 0;
	if (as == NULL || rs == NULL) {
		err_set(&oom.err, "out of memory; nothing written");
		log_msg(LOG_ERROR, "commit of %zu appends failed, nothing written: %s", n, oom.err.msg);
	} else {
		for (size_t i = 0; i < n; i++)
			as[i] = batch[i]->a;
		if (ledger_append_batch(q->ledger, as, n, rs, &e))
			log_msg(LOG_ERROR, "commit of %zu appends failed, nothing written: %s", n, e.msg);
	}
	uint64_t t1 = stats_now_us();
	stats_commit(q->stats, n, t1 - t0);
	for (size_t i = 0; i < n; i++) {
		struct pending *p = batch[i];
		const struct ledger_result *r = as && rs ? &rs[i] : &oom;
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
		dups, refused, (unsigned long long)(t1 - t0), (unsigned long long)ledger_size(q->ledger));
	free(batch);
	free(as);
	free(rs);
	if (appended && q->grew)
		q->grew(q->grew_arg);
	/* tell each sink once; what a sink does when told (enqueue, wait,
	 * cancel itself or another) goes to the next commit's list or takes
	 * the sink off this one */
	q->notifying = q->notify;
	q->notify = NULL;
	for (struct commit_sink *k = q->notifying; k; k = k->next)
		k->list = &q->notifying;
	while (q->notifying) {
		struct commit_sink *k = q->notifying;
		list_remove(k);
		k->done(k);
	}
}

void commit_free(struct commit_queue *q)
{
	for (size_t i = 0; i < q->nqueue; i++)
		free(q->queue[i]);
	free(q->queue);
	if (q->ev)
		event_free(q->ev);
	if (q->deadline)
		event_free(q->deadline);
	memset(q, 0, sizeof *q);
}
