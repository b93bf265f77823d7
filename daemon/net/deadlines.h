/*
 * deadlines: deemed acceptance.  At startup and then every
 * acceptance_check_s seconds (a libevent timer), the open inspection
 * windows whose deadline has passed by the ledger's clock are each given a
 * deemed_passed entry, author scoped, through the group commit like any
 * append (commit.h): one writer, each append all or nothing, the loop never
 * blocked.  Each attempt for a delivery is the same request (author and
 * request id), so a repeat, before or after a restart, is a duplicate and
 * never a second entry; and the rules refuse a delivery already decided.
 *
 *   server --owns--> deadlines --commit_enqueue--> commit --sink--> deadlines
 */
#ifndef SCOPE_DEADLINES_H
#define SCOPE_DEADLINES_H

#include <stdint.h>

#include "commit.h"
#include "err.h"

struct server;
struct event;

#define DEADLINES_BATCH 256	/* deemed acceptances queued per check; the rest wait for the next */

struct deadlines {
	struct server *s;
	struct event *timer;
	struct commit_sink sink;
	uint64_t interval_s;
};

/* Sets up the timer (interval_s seconds) and runs the first check now. */
int deadlines_start(struct deadlines *d, struct server *s, uint64_t interval_s, struct err *e);
/* A reload's interval: from now on, checks every interval_s seconds. */
void deadlines_interval(struct deadlines *d, uint64_t interval_s);
/* The one teardown: before the commit queue goes. */
void deadlines_free(struct deadlines *d);

#endif
