#include "deadlines.h"

#include <event2/event.h>
#include <string.h>

#include "logger.h"
#include "rules_hook.h"
#include "server.h"

static void on_result(struct commit_sink *k, uint64_t req_id, const struct ledger_result *r)
{
	(void)req_id;
	(void)k;
	/* a refusal is logged by the commit; a duplicate is an earlier check's */
	if (r->status == LEDGER_APPENDED)
		log_msg(LOG_INFO, "inspection deadline passed: deemed passed, entry %llu", (unsigned long long)r->seq);
}

static void on_done(struct commit_sink *k)
{
	(void)k;
}

static int enqueue(void *ctx, const struct ledger_append *a, struct err *e)
{
	struct deadlines *d = ctx;
	return commit_enqueue(&d->s->commit, &d->sink, 0, a, e);
}

static void check(struct deadlines *d)
{
	struct err e = { 0 };
	if (d->s->stopping || d->sink.pending)
		return;	/* the last check's appends are not committed yet */
	if (ledger_due_deemed(d->s->ledger, DEADLINES_BATCH, enqueue, d, &e))
		log_msg(LOG_ERROR, "checking inspection deadlines: %s", e.msg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	check(arg);
}

void deadlines_interval(struct deadlines *d, uint64_t interval_s)
{
	struct timeval tv = { (time_t)interval_s, 0 };
	d->interval_s = interval_s;
	evtimer_add(d->timer, &tv);	/* a pending timer is rescheduled */
}

int deadlines_start(struct deadlines *d, struct server *s, uint64_t interval_s, struct err *e)
{
	memset(d, 0, sizeof *d);
	d->s = s;
	d->sink.result = on_result;
	d->sink.done = on_done;
	d->timer = event_new(s->base, -1, EV_PERSIST, on_timer, d);
	if (d->timer == NULL)
		return err_set(e, "cannot set up the inspection deadline timer");
	deadlines_interval(d, interval_s);
	check(d);
	return 0;
}

void deadlines_free(struct deadlines *d)
{
	if (d->s)
		commit_cancel(&d->s->commit, &d->sink);
	if (d->timer)
		event_free(d->timer);
	memset(d, 0, sizeof *d);
}
