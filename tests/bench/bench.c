/*
 * scope-bench: measures Scope Ledger.  Reports numbers; asserts nothing.
 *
 *   scope-bench append --config PROFILE [--connections N] [--pipeline D]
 *               [--duration S] [--size B] [--rate R] [--pid PID] [--json]
 *       durable appends over mutual TLS from N connections, each keeping D
 *       requests in flight (with --rate, offering R appends/s in all and
 *       sending only when due); entries/s, latency percentiles, and the
 *       daemon's CPU and memory (from /proc/PID) when --pid is given.
 *   scope-bench idle --config PROFILE --pid PID [--connections N] [--duration S]
 *       opens N mutual-TLS connections and keeps them idle; the daemon's
 *       resident memory before, with them open, and after S seconds.
 *   scope-bench fetch --config PROFILE [--window W] [--pid PID] [--json]
 *       the network's bound for online verification: every entry, in the
 *       pages of 1000 that scopectl verify asks for, W of them in flight on
 *       one mutual-TLS connection (default 4), read and dropped: nothing
 *       decoded or checked; seconds, entries/s, MB/s, this process's CPU
 *       and the daemon's (with --pid).
 *   scope-bench ceiling --dir DIR [--duration S] [--batch B] [--size B] [--json]
 *       the storage ceiling: raw LMDB appends, B per durable transaction,
 *       no ledger and no network (ceiling.c).
 *   scope-bench generate -c SCOPED.CONF --count N [--batch B] [--size B]
 *   scope-bench verify   -c SCOPED.CONF
 *   scope-bench prove    -c SCOPED.CONF [--count K]
 *   scope-bench open     -c SCOPED.CONF [--count K]
 *   scope-bench tiles    -c SCOPED.CONF [--count K]
 *       in-process, on a data directory (the daemon must not be running
 *       for generate): build a large ledger fast, verify it, time
 *       inclusion proofs, time opening it, time reading K random full
 *       hash tiles from the stored nodes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ceiling.h"
#include "config.h"
#include "frame.h"
#include "json.h"
#include "ledger.h"
#include "rules_hook.h"
#include "mp.h"
#include "net.h"
#include "profile.h"
#include "signer.h"
#include "wire.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a log-linear latency histogram, microseconds ---- */

#define HBUCKETS (32 * 16)
struct hist {
	uint64_t n[HBUCKETS];
	uint64_t count, max_us;
};

static unsigned bucket(uint64_t us)
{
	if (us < 16)
		return (unsigned)us;
	unsigned lg = 63 - (unsigned)__builtin_clzll(us);	/* >= 4 */
	unsigned sub = (unsigned)(us >> (lg - 4)) & 15;
	unsigned b = (lg - 3) * 16 + sub;
	return b < HBUCKETS ? b : HBUCKETS - 1;
}

static uint64_t bucket_top(unsigned b)
{
	if (b < 16)
		return b;
	unsigned lg = b / 16 + 3, sub = b % 16;
	return ((uint64_t)(16 + sub + 1) << (lg - 4)) - 1;
}

static void hist_add(struct hist *h, uint64_t us)
{
	h->n[bucket(us)]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

static void hist_merge(struct hist *into, const struct hist *h)
{
	for (unsigned i = 0; i < HBUCKETS; i++)
		into->n[i] += h->n[i];
	into->count += h->count;
	if (h->max_us > into->max_us)
		into->max_us = h->max_us;
}

static double hist_pct_ms(const struct hist *h, double pct)
{
	uint64_t want = (uint64_t)((double)h->count * pct / 100.0 + 0.5), seen = 0;
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < HBUCKETS; i++) {
		seen += h->n[i];
		if (seen >= want)
			return (double)bucket_top(i) / 1000.0;
	}
	return (double)h->max_us / 1000.0;
}

/* ---- /proc ---- */

static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	unsigned long ut = 0, st = 0;
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Name:  N kB" line of /proc/PID/status, or -1. */
static long proc_status_kb(pid_t pid, const char *name)
{
	char path[64], line[256];
	long kb = -1;
	size_t nl = strlen(name);
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, name, nl) == 0 && line[nl] == ':')
			kb = atol(line + nl + 1);
	fclose(f);
	return kb;
}

static long proc_rss_kb(pid_t pid)
{
	return proc_status_kb(pid, "VmRSS");
}

/* ---- append ---- */

struct worker {
	pthread_t th;
	const struct profile *prof;
	int id, pipeline, size;
	double interval;	/* seconds between sends (offered load), 0 = as fast as possible */
	double until;
	struct hist h;
	uint64_t done, errors;
	char why[600];
};

static atomic_uint_fast64_t reqseq;

static int frame_append(struct buf *out, uint64_t id, const char *text, size_t tn)
{
	char rq[48];
	snprintf(rq, sizeof rq, "b-%llx-%llu", (unsigned long long)getpid(), (unsigned long long)id);
	size_t start = wire_begin(out);
	wire_request(out, id, "append", 4);
	mp_pack_cstr(out, "kind");
	mp_pack_cstr(out, "note");
	mp_pack_cstr(out, "project");
	mp_pack_cstr(out, "");
	mp_pack_cstr(out, "request_id");
	mp_pack_cstr(out, rq);
	mp_pack_cstr(out, "body");
	mp_pack_map(out, 1);
	mp_pack_cstr(out, "text");
	mp_pack_str(out, text, tn);
	return wire_seal(out, start, 64u << 20);
}

static int read_frame(SSL *ssl, struct buf *in)
{
	uint8_t hdr[4];
	uint32_t n;
	for (int got = 0; got < 4;) {
		int k = SSL_read(ssl, hdr + got, 4 - got);
		if (k <= 0)
			return -1;
		got += k;
	}
	if (frame_peek(hdr, 4, 64u << 20, &n) == FRAME_BAD_LENGTH)
		return -1;
	buf_reset(in);
	if (!buf_reserve(in, n))
		return -1;
	for (uint32_t got = 0; got < n;) {
		int k = SSL_read(ssl, in->data + got, (int)(n - got));
		if (k <= 0)
			return -1;
		got += (uint32_t)k;
	}
	in->len = n;
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct session s = { 0 };
	struct err e = { 0 };
	if (sess_open(&s, w->prof, &e)) {
		snprintf(w->why, sizeof w->why, "%.511s", e.msg);
		sess_close(&s);
		return NULL;
	}
	SSL *ssl = s.ssl;
	char *text = malloc((size_t)w->size);
	memset(text, 'b', (size_t)w->size);
	double *sent = calloc((size_t)w->pipeline, sizeof *sent);
	uint64_t *ids = calloc((size_t)w->pipeline, sizeof *ids);
	struct buf out, in;
	buf_init(&out);
	buf_init(&in);
	int inflight = 0, head = 0;
	bool stop = false;
	double next = now_s();
	/* fill the pipeline, then one in for one out, in order; with an offered
	 * rate, send only when due */
	while (!stop || inflight > 0) {
		buf_reset(&out);
		if (w->interval > 0 && inflight == 0 && !stop) {
			double wait = next - now_s();
			if (wait > 0)
				usleep((useconds_t)(wait * 1e6));
		}
		while (!stop && inflight < w->pipeline && (w->interval <= 0 || now_s() >= next)) {
			next += w->interval;
			uint64_t id = atomic_fetch_add(&reqseq, 1) + 1;
			int slot = (head + inflight) % w->pipeline;
			ids[slot] = id;
			sent[slot] = now_s();
			frame_append(&out, id, text, (size_t)w->size);
			inflight++;
		}
		if (out.len && SSL_write(ssl, out.data, (int)out.len) != (int)out.len) {
			snprintf(w->why, sizeof w->why, "write failed");
			break;
		}
		if (inflight == 0)
			continue;
		if (read_frame(ssl, &in)) {
			snprintf(w->why, sizeof w->why, "read failed");
			break;
		}
		uint64_t id;
		const uint8_t *res;
		size_t rl;
		char code[32], msg[256];
		int rc = wire_parse_response(in.data, in.len, &id, &res, &rl, code, sizeof code, msg, sizeof msg, NULL);
		/* responses on one connection come in commit order = send order */
		if (id != ids[head]) {
			snprintf(w->why, sizeof w->why, "response %llu out of order", (unsigned long long)id);
			break;
		}
		double t = now_s();
		if (rc == 1) {
			hist_add(&w->h, (uint64_t)((t - sent[head]) * 1e6));
			w->done++;
		} else {
			w->errors++;
			snprintf(w->why, sizeof w->why, "%.31s: %.255s", code, msg);
		}
		head = (head + 1) % w->pipeline;
		inflight--;
		if (t >= w->until)
			stop = true;
	}
	buf_free(&out);
	buf_free(&in);
	free(text);
	free(sent);
	free(ids);
	sess_close(&s);
	return NULL;
}

static int cmd_append(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "connections", required_argument, NULL, 'n' },
		{ "pipeline", required_argument, NULL, 'd' }, { "duration", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' }, { "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' }, { "rate", required_argument, NULL, 'r' }, { 0, 0, 0, 0 },
	};
	const char *conf = getenv("SCOPECTL_CONFIG");
	int conns = 16, pipeline = 32, size = 256, c;
	double duration = 5, rate = 0;
	pid_t pid = 0;
	bool json = false;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'n': conns = atoi(optarg); break;
		case 'd': pipeline = atoi(optarg); break;
		case 't': duration = atof(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'p': pid = (pid_t)atoi(optarg); break;
		case 'j': json = true; break;
		case 'r': rate = atof(optarg); break;
		default: return 2;
		}
	}
	struct profile prof;
	struct err e = { 0 };
	memset(&prof, 0, sizeof prof);
	if (conf == NULL || profile_load(&prof, conf, &e) || profile_check(&prof, &e)) {
		fprintf(stderr, "scope-bench: %s\n", conf ? e.msg : "needs --config PROFILE (an admin profile)");
		return 2;
	}
	if (conns < 1 || conns > 4096 || pipeline < 1 || pipeline > 4096 || size < 1 || size > 65536) {
		fprintf(stderr, "scope-bench: connections 1..4096, pipeline 1..4096, size 1..65536\n");
		return 2;
	}
	struct worker *w = calloc((size_t)conns, sizeof *w);
	double cpu0 = pid ? proc_cpu_s(pid) : 0, t0 = now_s();
	for (int i = 0; i < conns; i++) {
		w[i] = (struct worker){ .prof = &prof, .id = i, .pipeline = pipeline, .size = size,
					.until = t0 + duration, .interval = rate > 0 ? conns / rate : 0 };
		pthread_create(&w[i].th, NULL, work, &w[i]);
	}
	struct hist all;
	memset(&all, 0, sizeof all);
	uint64_t errors = 0;
	const char *why = "";
	for (int i = 0; i < conns; i++) {
		pthread_join(w[i].th, NULL);
		hist_merge(&all, &w[i].h);
		errors += w[i].errors;
		if (w[i].why[0])
			why = w[i].why;
	}
	double secs = now_s() - t0;
	double cpu = pid ? proc_cpu_s(pid) - cpu0 : -1;
	long rss = pid ? proc_rss_kb(pid) : -1;
	double eps = (double)all.count / secs;
	if (json)
		printf("{\"connections\":%d,\"pipeline\":%d,\"size\":%d,\"duration_s\":%.2f,\"entries\":%llu,"
		       "\"errors\":%llu,\"entries_per_s\":%.0f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
		       "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"server_cpu_s\":%.2f,\"server_rss_kb\":%ld}\n",
		       conns, pipeline, size, secs, (unsigned long long)all.count, (unsigned long long)errors, eps,
		       hist_pct_ms(&all, 50), hist_pct_ms(&all, 90), hist_pct_ms(&all, 99), hist_pct_ms(&all, 99.9),
		       (double)all.max_us / 1000.0, cpu, rss);
	else
		printf("append: %d connections x pipeline %d, %d-byte notes, %.1f s: %llu entries (%llu errors)\n"
		       "  %.0f entries/s; latency ms p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n"
		       "  server cpu %.2f s, rss %ld KiB\n",
		       conns, pipeline, size, secs, (unsigned long long)all.count, (unsigned long long)errors, eps,
		       hist_pct_ms(&all, 50), hist_pct_ms(&all, 90), hist_pct_ms(&all, 99), hist_pct_ms(&all, 99.9),
		       (double)all.max_us / 1000.0, cpu, rss);
	if (why[0])
		fprintf(stderr, "scope-bench: last problem: %s\n", why);
	free(w);
	return all.count > 0 ? 0 : 1;
}

/* ---- idle connections: the daemon's memory ---- */

static int cmd_idle(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "connections", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 't' }, { "pid", required_argument, NULL, 'p' },
		{ 0, 0, 0, 0 },
	};
	const char *conf = getenv("SCOPECTL_CONFIG");
	int conns = 1000, c;
	double duration = 10;
	pid_t pid = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'n': conns = atoi(optarg); break;
		case 't': duration = atof(optarg); break;
		case 'p': pid = (pid_t)atoi(optarg); break;
		default: return 2;
		}
	}
	struct profile prof;
	struct err e = { 0 };
	memset(&prof, 0, sizeof prof);
	if (conf == NULL || pid == 0 || profile_load(&prof, conf, &e) || profile_check(&prof, &e) || conns < 1) {
		fprintf(stderr, "scope-bench idle: needs --config PROFILE and --pid PID\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)conns + 64) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)conns + 64 ? rl.rlim_max : (rlim_t)conns + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	long before = proc_rss_kb(pid);
	struct session *s = calloc((size_t)conns, sizeof *s);
	int open = 0;
	for (int i = 0; i < conns; i++)
		if (sess_open(&s[i], &prof, &e) == 0)
			open++;
	long opened = proc_rss_kb(pid), peak = opened;
	double t0 = now_s(), next = 60;
	while (now_s() - t0 < duration) {
		usleep(500000);
		long r = proc_rss_kb(pid);
		if (r > peak)
			peak = r;
		if (now_s() - t0 >= next) {	/* a long run shows its trend once a minute */
			printf("idle: %4.0f s: daemon RSS %ld KiB\n", next, r);
			fflush(stdout);
			next += 60;
		}
	}
	long after = proc_rss_kb(pid);
	printf("idle: %d of %d connections open; daemon RSS %ld KiB before, %ld KiB with them open, "
	       "%ld KiB after %.0f s (peak %ld KiB); of which anonymous (not LMDB's map) %ld KiB\n", open,
	       conns, before, opened, after, duration, peak, proc_status_kb(pid, "RssAnon"));
	for (int i = 0; i < conns; i++)
		sess_close(&s[i]);
	free(s);
	return open == conns ? 0 : 1;
}

/* ---- fetch: entries pages as fast as the daemon and TLS deliver them ---- */

static int fetch_ask(struct session *s, uint64_t from, uint64_t to, uint64_t *id, struct err *e)
{
	sess_begin(s, "entries", 3);
	mp_pack_cstr(&s->req, "from");
	mp_pack_uint(&s->req, from);
	mp_pack_cstr(&s->req, "to");
	mp_pack_uint(&s->req, to);
	mp_pack_cstr(&s->req, "limit");
	mp_pack_uint(&s->req, to - from);
	*id = s->req_id;
	return sess_send(s, e);
}

static int cmd_fetch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "window", required_argument, NULL, 'w' },
		{ "pid", required_argument, NULL, 'p' }, { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 },
	};
	const char *conf = getenv("SCOPECTL_CONFIG");
	int window = 4, c;
	bool json = false;
	pid_t pid = 0;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'w': window = atoi(optarg); break;
		case 'p': pid = (pid_t)atoi(optarg); break;
		case 'j': json = true; break;
		default: return 2;
		}
	}
	struct profile prof;
	struct err e = { 0 };
	memset(&prof, 0, sizeof prof);
	if (conf == NULL || window < 1 || window > 64 || profile_load(&prof, conf, &e) || profile_check(&prof, &e)) {
		fprintf(stderr, "scope-bench fetch: needs --config PROFILE (an identity with \"*\"), --window 1..64%s%s\n",
			e.msg[0] ? ": " : "", e.msg);
		return 2;
	}
	struct session s;
	memset(&s, 0, sizeof s);
	const uint8_t *res;
	size_t len;
	uint64_t size = 0, bytes = 0, got = 0;
	if (sess_open(&s, &prof, &e) || (sess_begin(&s, "info", 0), sess_call(&s, 0, &res, &len, &e))) {
		fprintf(stderr, "scope-bench fetch: %s\n", e.msg);
		sess_close(&s);
		return 1;
	}
	struct mp_cur mc;
	if (mp_map_find(res, len, "tree_size", &mc, NULL) == 1)
		mp_get_uint(&mc, &size, NULL);
	double cpu0 = proc_cpu_s(getpid()), dcpu0 = pid ? proc_cpu_s(pid) : 0, t0 = now_s();
	uint64_t ids[64], want[64], asked = 0;	/* in flight: ids and page sizes, oldest first */
	struct buf frame;
	buf_init(&frame);
	int n = 0, rc = 0;
	while (rc == 0 && (asked < size || n > 0)) {
		while (n < window && asked < size) {
			uint64_t to = size - asked < WIRE_MAX_LIMIT ? size : asked + WIRE_MAX_LIMIT;
			want[n] = to - asked;
			if (fetch_ask(&s, asked, to, &ids[n++], &e)) {
				rc = -1;
				break;
			}
			asked = to;
		}
		uint64_t id;
		char code[NET_CODE_MAX];
		uint32_t count;
		if (rc || sess_recv(&s, &frame, &id, &res, &len, code, &e) != 1 || id != ids[0] ||
		    mp_map_find(res, len, "entries", &mc, NULL) != 1 || mp_get_array(&mc, &count, NULL) ||
		    count != want[0]) {
			rc = -1;
			break;
		}
		got += count;
		bytes += frame.len + FRAME_HDR;
		n--;
		memmove(ids, ids + 1, (size_t)n * sizeof ids[0]);
		memmove(want, want + 1, (size_t)n * sizeof want[0]);
	}
	double secs = now_s() - t0, cpu = proc_cpu_s(getpid()) - cpu0, dcpu = pid ? proc_cpu_s(pid) - dcpu0 : 0;
	buf_free(&frame);
	sess_close(&s);
	if (rc || got != size) {
		fprintf(stderr, "scope-bench fetch: %s\n", e.msg[0] ? e.msg : "answers out of order, or pages cut short");
		return 1;
	}
	if (json)
		printf("{\"entries\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"entries_per_s\":%.0f,\"client_cpu_s\":%.2f,"
		       "\"server_cpu_s\":%.2f}\n", (unsigned long long)got, (unsigned long long)bytes, secs,
		       (double)got / secs, cpu, dcpu);
	else
		printf("fetch: %llu entries (%.1f MB) in %.3f s with %d pages in flight: %.0f entries/s, %.0f MB/s; "
		       "CPU: this client %.2f s%s\n", (unsigned long long)got, (double)bytes / 1e6, secs, window,
		       (double)got / secs, (double)bytes / 1e6 / secs, cpu,
		       pid ? (snprintf(e.msg, sizeof e.msg, ", the daemon %.2f s", dcpu), e.msg) : "");
	return 0;
}

/* ---- in-process measurements on a data directory ---- */

struct local {
	struct config cfg;
	struct note_signer signer;
	struct ledger *l;
};

static int local_open(struct local *x, const char *conf, bool write, struct err *e)
{
	memset(x, 0, sizeof *x);
	config_defaults(&x->cfg);
	if (config_load(&x->cfg, conf, e) || config_validate(&x->cfg, e) ||
	    signer_load(&x->signer, x->cfg.signing_key, x->cfg.origin, e))
		return -1;
	struct ledger_opts o = { x->cfg.data_dir, x->cfg.origin, &x->signer,
				 (size_t)x->cfg.map_initial_mib << 20, (size_t)x->cfg.map_max_mib << 20, !write, NULL, rules_hook(), NULL };
	return ledger_open(&x->l, &o, e);
}

static void local_close(struct local *x)
{
	ledger_close(x->l);
	note_signer_free(&x->signer);
}

static int cmd_local(const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "count", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' }, { "size", required_argument, NULL, 's' },
		{ 0, 0, 0, 0 },
	};
	const char *conf = NULL;
	long count = -1, batch = 10000, size = 256;
	int c;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'n': count = atol(optarg); break;
		case 'b': batch = atol(optarg); break;
		case 's': size = atol(optarg); break;
		default: return 2;
		}
	}
	if (conf == NULL) {
		fprintf(stderr, "scope-bench %s: needs -c SCOPED.CONF\n", cmd);
		return 2;
	}
	struct local x;
	struct err e = { 0 };
	bool write = strcmp(cmd, "generate") == 0;
	double t0 = now_s();
	if (local_open(&x, conf, write, &e)) {
		fprintf(stderr, "scope-bench: %s\n", e.msg);
		return 1;
	}
	double opened = now_s() - t0;
	int rc = 0;
	if (strcmp(cmd, "generate") == 0) {
		if (count < 1 || batch < 1 || batch > 100000 || size < 1 || size > 60000)
			return 2;
		char *json = malloc((size_t)size + 32);
		struct ledger_append *as = calloc((size_t)batch, sizeof *as);
		struct ledger_result *rs = calloc((size_t)batch, sizeof *rs);
		struct buf *bodies = calloc((size_t)batch, sizeof *bodies);
		char (*ids)[40] = calloc((size_t)batch, 40);
		long done = 0;
		double g0 = now_s();
		while (done < count && rc == 0) {
			long n = count - done < batch ? count - done : batch;
			for (long i = 0; i < n; i++) {
				snprintf(ids[i], 40, "g-%ld", (long)ledger_size(x.l) + i);
				int k = snprintf(json, 32, "{\"text\":\"%ld ", done + i);
				memset(json + k, 'g', (size_t)size);
				memcpy(json + k + size, "\"}", 3);
				buf_init(&bodies[i]);
				json_to_canonical(json, strlen(json), &bodies[i], &e);
				as[i] = (struct ledger_append){ "note", 4, "", 0, "local:bench", 11, ids[i],
								strlen(ids[i]), bodies[i].data, bodies[i].len, false, NULL, NULL };
			}
			if (ledger_append_batch(x.l, as, (size_t)n, rs, &e)) {
				fprintf(stderr, "scope-bench: %s\n", e.msg);
				rc = 1;
			}
			for (long i = 0; i < n; i++)
				buf_free(&bodies[i]);
			done += n;
			if (isatty(2))
				fprintf(stderr, "\r%ld / %ld", done, count);
		}
		double secs = now_s() - g0;
		if (isatty(2))
			fputc('\n', stderr);
		printf("generate: %ld entries of %ld bytes in batches of %ld: %.1f s, %.0f entries/s; ledger size %llu\n",
		       done, size, batch, secs, (double)done / secs, (unsigned long long)ledger_size(x.l));
		free(json);
		free(as);
		free(rs);
		free(bodies);
		free(ids);
	} else if (strcmp(cmd, "verify") == 0) {
		struct ledger_verify_report r;
		double v0 = now_s();
		rc = ledger_verify(x.l, NULL, NULL, NULL, &r, &e) ? 1 : 0;
		double secs = now_s() - v0;
		printf("verify: %llu entries in %.2f s: %.0f entries/s (%s)\n", (unsigned long long)r.entries, secs,
		       (double)r.entries / secs, rc ? e.msg : "ok");
	} else if (strcmp(cmd, "prove") == 0) {
		uint64_t size_now = ledger_size(x.l);
		long k = count > 0 ? count : 10000;
		struct hist h;
		memset(&h, 0, sizeof h);
		for (long i = 0; i < k && size_now > 0; i++) {
			uint64_t seq;
			RAND_bytes((unsigned char *)&seq, sizeof seq);
			seq %= size_now;
			uint8_t leaf[32], root[32], proof[64][32];
			size_t len;
			struct timespec a, b;
			clock_gettime(CLOCK_MONOTONIC, &a);
			if (ledger_inclusion(x.l, seq, size_now, leaf, root, proof, &len, &e)) {
				rc = 1;
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &b);
			hist_add(&h, (uint64_t)((b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)));
		}
		/* the histogram holds nanoseconds here: ms figures are microseconds */
		printf("prove: %llu inclusion proofs in a ledger of %llu entries: us p50 %.1f  p99 %.1f  max %.1f\n",
		       (unsigned long long)h.count, (unsigned long long)size_now, hist_pct_ms(&h, 50) * 1000 / 1000,
		       hist_pct_ms(&h, 99), (double)h.max_us / 1000.0);
	} else if (strcmp(cmd, "open") == 0) {
		long k = count > 0 ? count : 20;
		local_close(&x);
		double total = 0, worst = 0;
		for (long i = 0; i < k; i++) {
			double a = now_s();
			if (local_open(&x, conf, false, &e)) {
				rc = 1;
				break;
			}
			double d = now_s() - a;
			total += d;
			if (d > worst)
				worst = d;
			if (i + 1 < k)
				local_close(&x);
		}
		printf("open: ledger of %llu entries opened %ld times (read-only, with config and key): "
		       "mean %.2f ms, worst %.2f ms (first open %.2f ms)\n",
		       (unsigned long long)ledger_size(x.l), k, total / (double)k * 1000, worst * 1000, opened * 1000);
	} else if (strcmp(cmd, "tiles") == 0) {
		/* what the tiles listener does for one full tile (daemon/tiles/):
		 * a read transaction and 256 stored nodes, at random full tiles */
		uint64_t full = ledger_size(x.l) / 256;
		long k = count > 0 ? count : 20000;
		uint8_t h[256][32];
		double t1 = now_s();
		long done = 0;
		for (; done < k && full > 0 && rc == 0; done++) {
			uint64_t n;
			RAND_bytes((unsigned char *)&n, sizeof n);
			n %= full;
			struct store_txn *txn;
			if (store_begin(ledger_store(x.l), false, &txn, &e)) {
				rc = 1;
				break;
			}
			for (unsigned i = 0; i < 256 && rc == 0; i++)
				rc = store_node_get(txn, 0, n * 256 + i, h[i], &e) ? 1 : 0;
			store_abort(txn);
		}
		double secs = now_s() - t1;
		printf("tiles: %ld full level-0 tiles of %llu (256 node reads each) in %.2f s: %.0f tiles/s, "
		       "%.1f us per tile\n", done, (unsigned long long)full, secs, (double)done / secs,
		       secs * 1e6 / (double)(done ? done : 1));
	} else {
		fprintf(stderr, "scope-bench: unknown command %s\n", cmd);
		rc = 2;
	}
	local_close(&x);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fprintf(stderr, "usage: scope-bench append|idle|fetch|ceiling|generate|verify|prove|open|tiles ... (see tests/bench/README.md)\n");
		return argc < 2 ? 2 : 0;
	}
	/* a connection the daemon drops is an error to report, not a death */
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "append") == 0)
		return cmd_append(argc - 1, argv + 1);
	if (strcmp(argv[1], "idle") == 0)
		return cmd_idle(argc - 1, argv + 1);
	if (strcmp(argv[1], "ceiling") == 0)
		return cmd_ceiling(argc - 1, argv + 1);
	if (strcmp(argv[1], "fetch") == 0)
		return cmd_fetch(argc - 1, argv + 1);
	return cmd_local(argv[1], argc - 1, argv + 1);
}
