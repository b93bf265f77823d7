#include "progress.h"

#include <stdio.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *what, bool on)
{
	p->what = what;
	p->on = on;
	p->shown = false;
	p->done = 0;
	p->start = p->last = on ? now() : 0;
}

static void draw(struct progress *p, uint64_t done, double frac, double t)
{
	double el = t - p->start;
	fprintf(stderr, "\r%s %llu entries, %.0f entries/s", p->what, (unsigned long long)done,
		el > 0 ? (double)done / el : 0.0);
	if (frac > 0 && frac < 1)
		fprintf(stderr, ", about %.0f s left", el * (1 - frac) / frac);
	fputs("   ", stderr);
	p->shown = true;
	p->last = t;
}

void progress_update(struct progress *p, uint64_t done, double frac)
{
	p->done = done;
	if (!p->on)
		return;
	double t = now();
	if (t - p->start >= 1.0 && t - p->last >= 0.2)
		draw(p, done, frac, t);
}

void progress_end(struct progress *p)
{
	if (!p->shown)
		return;
	draw(p, p->done, 1, now());
	fputc('\n', stderr);
}
