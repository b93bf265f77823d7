/* The daemon's counters for info: histogram percentiles and the
 * refusal names (which must be the wire error codes). */
#include <string.h>

#include "stats.h"
#include "tap.h"
#include "wire.h"

static void test_hist(void)
{
	struct hist h;
	memset(&h, 0, sizeof h);
	is_int((long long)hist_pct(&h, 50), 0, "an empty histogram reports 0");
	for (uint64_t v = 1; v <= 100000; v++)
		hist_add(&h, v);
	is_int((long long)h.n, 100000, "100000 samples counted");
	is_int((long long)h.max, 100000, "the maximum is exact");
	static const double P[] = { 50, 90, 99, 99.9 };
	int off = 0;
	for (size_t i = 0; i < 4; i++) {
		double want = P[i] * 1000, got = (double)hist_pct(&h, P[i]);
		if (got < want || got > want * 1.07)
			off++;
	}
	is_int(off, 0, "p50, p90, p99, p99.9 of 1..100000 are at most 7%% above the truth, never below");
	is_int((long long)hist_pct(&h, 100), 100000, "p100 is the maximum");
	struct hist small;
	memset(&small, 0, sizeof small);
	for (int i = 0; i < 10; i++)
		hist_add(&small, 7);
	is_int((long long)hist_pct(&small, 50), 7, "small values are exact");
	hist_add(&small, (uint64_t)1 << 62);
	is_int((long long)small.max, (long long)((uint64_t)1 << 62), "a huge value lands in the last bucket");
	is_int((long long)hist_pct(&small, 99.9), (long long)((uint64_t)1 << 62),
	       "and its percentile is the maximum");
	struct hist m = h;
	hist_merge(&m, &small);
	is_int((long long)m.n, 100011, "merging adds the counts");
}

static void test_refusals(void)
{
	static const char *const CODES[] = { WERR_BAD_FRAME, WERR_FRAME_TOO_LARGE, WERR_BAD_REQUEST,
		WERR_UNKNOWN_OP, WERR_FORBIDDEN, WERR_NOT_FOUND, WERR_INVALID, WERR_CONFLICT,
		WERR_STORAGE_FULL, WERR_UNAVAILABLE, WERR_CHANGED, WERR_INTERNAL };
	int wrong = 0;
	for (size_t i = 0; i < sizeof CODES / sizeof CODES[0]; i++)
		if (strcmp(refusal_name(refusal_of_code(CODES[i])), CODES[i]) != 0)
			wrong++;
	is_int(wrong, 0, "every wire error code is its own refusal reason");
	is_int(refusal_of_code("no_such_code"), REF_INTERNAL, "an unknown code counts as internal");
	is_str(refusal_name(REF_TLS_HANDSHAKE), "tls_handshake", "connection refusals have names");
}

static void test_window(void)
{
	struct stats st;
	stats_init(&st);
	stats_commit(&st, 3, 1500);
	for (int i = 0; i < 3; i++)
		stats_append_latency(&st, 2000);
	struct hist lat, com;
	stats_recent(&st, &lat, &com);
	is_int((long long)lat.n, 3, "the last minute holds the latencies just added");
	is_int((long long)com.n, 1, "and the commit");
	st.win_start_us -= STATS_WINDOW_US;	/* 30 s later */
	stats_recent(&st, &lat, &com);
	is_int((long long)lat.n, 3, "after 30 s they are still within the last minute");
	st.win_start_us -= STATS_WINDOW_US;
	stats_recent(&st, &lat, &com);
	is_int((long long)lat.n, 0, "after another 30 s they have left it");
	is_int((long long)st.latency.n, 3, "but stay in the totals since start");
	stats_init(&st);
	stats_append_latency(&st, 5);
	st.win_start_us -= 3 * STATS_WINDOW_US;	/* quiet for 90 s */
	stats_recent(&st, &lat, &com);
	is_int((long long)lat.n, 0, "after a quiet minute the window is empty");
}

int main(void)
{
	test_hist();
	test_refusals();
	test_window();
	return done_testing();
}
