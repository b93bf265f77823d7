/*
 * progress: one line on a terminal for long runs: entries done, the rate and
 * the time left.  Silent unless enabled (the caller passes isatty(2)) and
 * until the run has taken a second; redrawn at most five times a second.
 */
#ifndef SCOPE_PROGRESS_H
#define SCOPE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	const char *what;	/* "verified" */
	bool on, shown;
	uint64_t done;		/* as last updated */
	double start, last;
};

void progress_init(struct progress *p, const char *what, bool on);
/* frac: the part of the work done, 0..1, or negative when unknown */
void progress_update(struct progress *p, uint64_t done, double frac);
/* Ends the line, with the count last updated, if one was drawn. */
void progress_end(struct progress *p);

#endif
