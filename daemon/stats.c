#include "stats.h"

#include <string.h>
#include <time.h>

#include "wire.h"

static unsigned bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v);	/* v >= 2^e, e >= 4 */
	unsigned shift = e - 4;				/* keep 4 bits below the top one */
	unsigned b = (e - 3) * HIST_SUB + (unsigned)((v >> shift) & (HIST_SUB - 1));
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

/* the smallest value in bucket b */
static uint64_t bucket_low(unsigned b)
{
	if (b < HIST_SUB)
		return b;
	unsigned e = b / HIST_SUB + 3, m = b % HIST_SUB;
	return ((uint64_t)(HIST_SUB + m)) << (e - 4);
}

void hist_add(struct hist *h, uint64_t us)
{
	h->b[bucket_of(us)]++;
	h->n++;
	h->sum += us;
	if (us > h->max)
		h->max = us;
}

void hist_merge(struct hist *into, const struct hist *from)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->n += from->n;
	into->sum += from->sum;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t hist_pct(const struct hist *h, double pct)
{
	if (h->n == 0)
		return 0;
	uint64_t want = (uint64_t)((double)h->n * pct / 100.0 + 0.5), seen = 0;
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			/* report the bucket's upper end, never above the maximum */
			uint64_t hi = i + 1 < HIST_BUCKETS ? bucket_low(i + 1) - 1 : h->max;
			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}

static const char *const NAMES[REF_COUNT] = {
	[REF_BAD_FRAME] = WERR_BAD_FRAME, [REF_FRAME_TOO_LARGE] = WERR_FRAME_TOO_LARGE,
	[REF_BAD_REQUEST] = WERR_BAD_REQUEST, [REF_UNKNOWN_OP] = WERR_UNKNOWN_OP,
	[REF_FORBIDDEN] = WERR_FORBIDDEN, [REF_NOT_FOUND] = WERR_NOT_FOUND, [REF_INVALID] = WERR_INVALID,
	[REF_CONFLICT] = WERR_CONFLICT, [REF_STORAGE_FULL] = WERR_STORAGE_FULL,
	[REF_UNAVAILABLE] = WERR_UNAVAILABLE, [REF_CHANGED] = WERR_CHANGED, [REF_INTERNAL] = WERR_INTERNAL,
	[REF_CONNECTION_LIMIT] = "connection_limit", [REF_TLS_HANDSHAKE] = "tls_handshake",
	[REF_HANDSHAKE_TIMEOUT] = "handshake_timeout", [REF_HANDSHAKE_POOL_FULL] = "handshake_pool_full",
	[REF_HANDSHAKE_ADDRESS_LIMIT] = "handshake_address_limit",
};

const char *refusal_name(enum refusal r)
{
	return r < REF_COUNT ? NAMES[r] : "?";
}

enum refusal refusal_of_code(const char *code)
{
	for (unsigned r = 0; r <= REF_INTERNAL; r++)
		if (strcmp(code, NAMES[r]) == 0)
			return (enum refusal)r;
	return REF_INTERNAL;
}

uint64_t stats_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void stats_init(struct stats *st)
{
	memset(st, 0, sizeof *st);
	st->started_us = st->win_start_us = stats_now_us();
}

static void rotate(struct stats *st)
{
	uint64_t now = stats_now_us();
	if (now - st->win_start_us < STATS_WINDOW_US)
		return;
	if (now - st->win_start_us >= 2 * STATS_WINDOW_US) {	/* quiet for a minute: both stale */
		memset(&st->latency_win[1], 0, sizeof st->latency_win[1]);
		memset(&st->commit_win[1], 0, sizeof st->commit_win[1]);
	} else {
		st->latency_win[1] = st->latency_win[0];
		st->commit_win[1] = st->commit_win[0];
	}
	memset(&st->latency_win[0], 0, sizeof st->latency_win[0]);
	memset(&st->commit_win[0], 0, sizeof st->commit_win[0]);
	st->win_start_us = now;
}

void stats_refuse(struct stats *st, enum refusal r)
{
	if (r < REF_COUNT)
		st->refused[r]++;
}

void stats_commit(struct stats *st, uint64_t n, uint64_t commit_us)
{
	rotate(st);
	st->commits++;
	if (n > st->batch_max)
		st->batch_max = n;
	hist_add(&st->commit, commit_us);
	hist_add(&st->commit_win[0], commit_us);
}

void stats_append_latency(struct stats *st, uint64_t us)
{
	hist_add(&st->latency, us);
	hist_add(&st->latency_win[0], us);
}

void stats_recent(struct stats *st, struct hist *latency, struct hist *commit)
{
	rotate(st);
	*latency = st->latency_win[0];
	hist_merge(latency, &st->latency_win[1]);
	*commit = st->commit_win[0];
	hist_merge(commit, &st->commit_win[1]);
}
