/*
 * stats: what the daemon counts about itself for `info` (admin and auditor):
 * append latency (queued to committed) and commit duration as histograms,
 * both since start and over the last minute; appends and commits; the
 * connections; and every refused request or connection by reason.
 * Plain counters updated on the event loop; nothing here allocates.
 */
#ifndef SCOPE_STATS_H
#define SCOPE_STATS_H

#include <stdint.h>

/* Log-linear histogram of microseconds: 16 buckets per power of two, so a
 * percentile is within 6% of the true value. */
#define HIST_SUB 16
#define HIST_BUCKETS (HIST_SUB * 40)

struct hist {
	uint64_t n, sum, max;
	uint32_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t us);
void hist_merge(struct hist *into, const struct hist *from);
/* The value below which pct percent of the samples lie (0 if none). */
uint64_t hist_pct(const struct hist *h, double pct);

/* Why a request or a connection was refused.  The first ones are the wire
 * error codes of PROTOCOL.md section 4. */
enum refusal {
	REF_BAD_FRAME, REF_FRAME_TOO_LARGE, REF_BAD_REQUEST, REF_UNKNOWN_OP, REF_FORBIDDEN,
	REF_NOT_FOUND, REF_INVALID, REF_CONFLICT, REF_STORAGE_FULL, REF_UNAVAILABLE, REF_CHANGED, REF_INTERNAL,
	REF_CONNECTION_LIMIT,	/* handshake done with max_connections open: closed */
	REF_TLS_HANDSHAKE,	/* handshake failed: no or bad certificate, TLS error */
	REF_HANDSHAKE_TIMEOUT,	/* not done handshake_timeout_s after accept */
	REF_HANDSHAKE_POOL_FULL,	/* dropped, the oldest of max_handshakes, for a new one */
	REF_HANDSHAKE_ADDRESS_LIMIT,	/* dropped, its address's oldest, for a new one from it */
	REF_COUNT
};
const char *refusal_name(enum refusal r);
/* The refusal for a wire error code; REF_INTERNAL for an unknown one. */
enum refusal refusal_of_code(const char *code);

#define STATS_WINDOW_US (30 * 1000000ull)	/* "last minute" = the current and previous 30 s */

struct stats {
	uint64_t started_us;
	struct hist latency, commit;		/* since start */
	struct hist latency_win[2], commit_win[2];	/* [0] current window, [1] the previous */
	uint64_t win_start_us;
	uint64_t appended, duplicates, rejected;	/* appends by outcome */
	uint64_t commits, batch_max;
	uint64_t accepted, resumed, open_peak, idle_closed;
	uint64_t refused[REF_COUNT];
};

uint64_t stats_now_us(void);
void stats_init(struct stats *st);
void stats_refuse(struct stats *st, enum refusal r);
/* One commit of n appends that took commit_us; latency per append is added
 * with stats_append_latency. */
void stats_commit(struct stats *st, uint64_t n, uint64_t commit_us);
void stats_append_latency(struct stats *st, uint64_t us);
/* Merged histograms of the last minute (30 to 60 s of samples). */
void stats_recent(struct stats *st, struct hist *latency, struct hist *commit);

#endif
