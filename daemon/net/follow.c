#include "follow.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cosig.h"
#include "enc.h"
#include "fileio.h"
#include "logger.h"
#include "mp.h"
#include "server.h"
#include "stats.h"
#include "store.h"
#include "tile_path.h"

#define COSIGNED_META "follow_cosigned"
#define COSIG_BLOB 76		/* a cosignature/v1 line: key id, u64 time, Ed25519 signature */

enum step { STEP_IDLE, STEP_CHECKPOINT, STEP_TILE, STEP_BUNDLE };

/* A hash tile as fetched (for the fork check's nodes above level 0). */
struct ftile {
	unsigned level;
	uint64_t index;
	unsigned width;
	uint8_t h[256][HASH_LEN];
};

struct follow {
	struct server *s;
	char from[1024];		/* the primary's URL prefix, no trailing '/' */
	char host[256], path[768];
	int port;
	struct event *timer;
	struct evdns_base *dns;
	SSL_CTX *tls;
	struct evhttp_connection *conn;	/* kept between the requests of a round */
	unsigned conn_uses;
	bool in_flight, retried;
	bool too_large;			/* the reply in flight went beyond max_body */
	enum step step;
	char want[128];			/* the resource in flight, below from */
	size_t max_body;		/* the most its reply may be: what the resource can hold */
	/* the round */
	struct buf note;		/* the primary's checkpoint being followed, its cosignatures taken out */
	struct buf lines;		/* the cosignature lines that came with it and were kept */
	struct buf cosigned;		/* the newest checkpoint held with cosignatures, and them; or empty */
	uint64_t cosigned_size;
	struct cosig_verifier wkeys[CONFIG_MAX_WITNESSES];	/* the configured witness lines */
	size_t nw;
	struct checkpoint cp;
	uint64_t base;			/* the copy's size when the round began */
	uint8_t (*leaves)[HASH_LEN];	/* leaf hashes of base..cp.size, from the level-0 tiles */
	uint64_t nleaves;
	struct ftile *tiles;		/* fetched for the fork check */
	size_t ntiles;
	struct ftile need;		/* the tile the fork check waits for (level, index, width) */
	bool checking_fork;
	bool rooted;			/* the leaves gave the checkpoint's root */
	uint64_t next;			/* the next entry to store */
	struct buf bundles;		/* entries next..bundles_end, verified against their leaves, not yet stored */
	uint64_t bundles_end;		/* the entry after those */
	/* for info */
	uint64_t interval_s, backoff_s, rounds, failures, fetched, last_ok_us;
	uint64_t cosig_refused, rollbacks;
	bool failing, forked, rolled_back;
	char last_error[400];
	char fork_msg[480];
	char rollback_msg[480];
};

static void schedule(struct follow *f, uint64_t s)
{
	struct timeval tv = { (time_t)s, 0 };
	evtimer_add(f->timer, &tv);
}

static void round_reset(struct follow *f)
{
	f->step = STEP_IDLE;
	free(f->leaves);
	f->leaves = NULL;
	f->nleaves = 0;
	free(f->tiles);
	f->tiles = NULL;
	f->ntiles = 0;
	f->checking_fork = false;
	f->rooted = false;
	buf_free(&f->bundles);	/* up to FOLLOW_HELD_BYTES and a bundle: given back */
	if (f->conn) {	/* one connection per round: idle, the primary would close it */
		evhttp_connection_free(f->conn);
		f->conn = NULL;
	}
}

static void failed(struct follow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failed(struct follow *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->last_error, sizeof f->last_error, fmt, ap);
	va_end(ap);
	f->failures++;
	log_msg(f->failing ? LOG_DEBUG : LOG_WARN, "follow: %s; nothing of it stored, retrying with back-off",
		f->last_error);
	f->failing = true;
	f->backoff_s = f->backoff_s ? f->backoff_s * 2 : 1;
	if (f->backoff_s > f->interval_s)
		f->backoff_s = f->interval_s;
	round_reset(f);
	schedule(f, f->backoff_s);
}

static void round_done(struct follow *f)
{
	if (f->failing)
		log_msg(LOG_INFO, "follow: the primary answers again");
	f->failing = false;
	f->backoff_s = 0;
	f->last_error[0] = '\0';
	f->last_ok_us = stats_now_us();
	f->rounds++;
	round_reset(f);
	schedule(f, f->interval_s);
}

/* ---- the fork: kept for good, said loudly ---- */

/* Two checkpoints of the primary kept as evidence in DATA_DIR/file: the
 * one held, then the one served later. */
static void write_evidence(struct follow *f, const char *file, const char *what, const char *later,
			   const struct buf *held)
{
	char path[CONFIG_PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/%s", f->s->cfg.data_dir, file);
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "scoped follow: the primary %s %s.\n"
		 "The checkpoint this copy holds, verified with everything before it:\n\n", f->from, what);
	buf_add(&b, held->data, held->len);
	buf_printf(&b, "\nThe checkpoint the primary served later, signed by the same key, %s:\n\n", later);
	buf_add(&b, f->note.data, f->note.len);
	struct err e = { 0 };
	if (write_file_atomic(path, b.data, b.len, 0644, &e))
		log_msg(LOG_ERROR, "follow: cannot keep the checkpoints in %s: %s", path, e.msg);
	buf_free(&b);
}

static void write_fork_file(struct follow *f, const struct buf *held)
{
	write_evidence(f, "follow-fork.txt", "signed two checkpoints that are not consistent",
		       "which no append-only history can join to it", held);
}

/* ---- a rollback: refused, said loudly, followed again once it ends ---- */

static void rolled_back(struct follow *f, const struct buf *held, uint64_t held_size)
{
	f->rollbacks++;
	if (!f->rolled_back) {
		snprintf(f->rollback_msg, sizeof f->rollback_msg,
			 "the primary serves a checkpoint of size %llu, smaller than the one of size %llu it signed "
			 "and this copy holds: refused, the copy keeps what it holds; both checkpoints are in "
			 "%.200s/follow-rollback.txt", (unsigned long long)f->cp.size, (unsigned long long)held_size,
			 f->s->cfg.data_dir);
		write_evidence(f, "follow-rollback.txt", "signed a checkpoint smaller than one it signed before",
			       "of a smaller tree (a rollback)", held);
		log_msg(LOG_ERROR, "follow: ROLLBACK: %s", f->rollback_msg);
	} else {
		log_msg(LOG_DEBUG, "follow: the primary still serves the smaller checkpoint of size %llu",
			(unsigned long long)f->cp.size);
	}
	f->rolled_back = true;
	round_reset(f);
	schedule(f, f->interval_s);
}

static void rollback_over(struct follow *f)
{
	if (!f->rolled_back)
		return;
	f->rolled_back = false;
	log_msg(LOG_WARN, "follow: the primary's checkpoint (size %llu) is no longer smaller than the one held; "
		"the rollback's checkpoints stay in %s/follow-rollback.txt", (unsigned long long)f->cp.size,
		f->s->cfg.data_dir);
}

/* ---- cosignatures: those of the checkpoint held, verified when it can ---- */

/* Whether a cosignature line over text may be kept: with witness lines
 * configured, only if it verifies with one of them. */
static bool cosig_ok(const struct follow *f, const char *text, size_t tlen, const char *line, size_t len,
		     const struct note_sig *sig, char *why, size_t cap)
{
	if (f->nw == 0)
		return true;	/* nothing to check it with here: clients check it (--witness, --quorum) */
	for (size_t k = 0; k < f->nw; k++) {
		if (!note_sig_is(sig, f->wkeys[k].name, f->wkeys[k].key_id))
			continue;
		uint64_t when;
		struct err e = { 0 };
		if (cosig_verify_line(&f->wkeys[k], text, tlen, line, len, &when, &e) == 0)
			return true;
		snprintf(why, cap, "%.190s", e.msg);
		return false;
	}
	snprintf(why, cap, "no witness line of the configuration has its name and key id");
	return false;
}

/* A signed note split into the log's note (its text and every signature
 * line but the cosignatures) and the cosignature lines that may be kept;
 * with count, the others are counted and logged. */
static int split_cosigs(struct follow *f, const char *p, size_t n, struct buf *note, struct buf *lines, bool count,
			struct err *e)
{
	size_t tlen;
	if (note_split(p, n, &tlen, e))
		return -1;
	buf_reset(note);
	buf_reset(lines);
	buf_add(note, p, tlen + 1);
	for (size_t pos = tlen + 1, k = 1; pos < n; k++) {
		size_t start = pos;
		struct note_sig sig;
		char why[200];
		if (note_sig_next(p, n, &pos, k, &sig, e))
			return -1;
		if (sig.bloblen != COSIG_BLOB)
			buf_add(note, p + start, pos - start);
		else if (cosig_ok(f, p, tlen, p + start, pos - start, &sig, why, sizeof why))
			buf_add(lines, p + start, pos - start);
		else if (count) {
			f->cosig_refused++;
			log_msg(f->cosig_refused == 1 ? LOG_WARN : LOG_DEBUG,
				"follow: a cosignature line by %.*s on the primary's checkpoint of size %llu is refused "
				"(info: follow.cosignatures_refused): %s", (int)sig.namelen, sig.name,
				(unsigned long long)f->cp.size, why);
		}
	}
	return buf_failed(note) || buf_failed(lines) ? err_set(e, "out of memory") : 0;
}

/* How many distinct cosigners a note's kept lines count for. */
static size_t cosigners(const struct follow *f, const struct buf *q, size_t nlines)
{
	struct cosig_seen seen[CONFIG_MAX_WITNESSES];
	size_t count = 0;
	if (f->nw == 0)
		return nlines;
	return cosig_check((const char *)q->data, q->len, f->wkeys, f->nw, seen, &count, NULL) ? 0 : count;
}

/* The round ends holding the primary's checkpoint: with the cosignature
 * lines that came with it, and if it is exactly the checkpoint held (its
 * text: origin, size and root), it becomes the cosigned checkpoint served,
 * once it has the configured witnesses' quorum (witness_quorum of them,
 * default all, or witness_policy's rule; one line without witness lines). */
static void keep_cosigs(struct follow *f)
{
	if (f->lines.len == 0 || f->cp.size < f->cosigned_size)
		return;
	struct err e = { 0 };
	struct buf held, q;
	size_t hl, nl, nlines = 0;
	buf_init(&held);
	buf_init(&q);
	int rc = ledger_checkpoint(f->s->ledger, &held, &e);
	if (rc == 0 && (note_split((const char *)held.data, held.len, &hl, &e) ||
			note_split((const char *)f->note.data, f->note.len, &nl, &e)))
		rc = -1;
	bool same = rc == 0 && hl == nl && memcmp(held.data, f->note.data, hl) == 0;
	if (same) {
		buf_add(&q, held.data, held.len);
		if (buf_failed(&q) || cosig_append(&q, (const char *)f->lines.data, f->lines.len, &e))
			rc = -1;
		for (size_t i = 0; i < f->lines.len; i++)
			nlines += f->lines.data[i] == '\n';
	}
	size_t got = rc == 0 && same ? cosigners(f, &q, nlines) : 0;
	bool met = f->nw ? config_quorum_met(&f->s->cfg, (const char *)q.data, q.len, got) : got >= 1;
	if (rc == 0 && same && met &&
	    (q.len != f->cosigned.len || memcmp(q.data, f->cosigned.data, q.len) != 0)) {
		struct store_txn *t = NULL;
		if (store_begin(ledger_store(f->s->ledger), true, &t, &e) == 0) {
			store_meta_put(t, COSIGNED_META, q.data, q.len, &e);
			rc = store_commit(t, &e);
		} else {
			rc = -1;
		}
		if (rc == 0) {
			if (f->cp.size > f->cosigned_size || f->cosigned.len == 0)
				log_msg(LOG_INFO, "follow: holding the primary's checkpoint of size %llu with %zu "
					"cosignature lines", (unsigned long long)f->cp.size, nlines);
			buf_reset(&f->cosigned);
			buf_add(&f->cosigned, q.data, q.len);
			f->cosigned_size = f->cp.size;
		}
	}
	if (rc)
		log_msg(LOG_ERROR, "follow: cannot keep the cosignatures of checkpoint %llu: %s",
			(unsigned long long)f->cp.size, e.msg);
	buf_free(&held);
	buf_free(&q);
}

/* At start: the cosigned checkpoint kept, if the copy holds its tree and
 * its lines still verify with the witness lines configured now. */
static int load_cosigned(struct follow *f, struct err *e)
{
	struct store_txn *t = NULL;
	const uint8_t *v;
	size_t n;
	struct buf raw, note, lines;
	buf_init(&raw);
	buf_init(&note);
	buf_init(&lines);
	if (store_begin(ledger_store(f->s->ledger), false, &t, e))
		return -1;
	int rc = store_meta_get(t, COSIGNED_META, &v, &n, e);
	if (rc == 1)
		buf_add(&raw, v, n);
	store_abort(t);
	if (rc < 0)
		return -1;
	struct checkpoint cp;
	size_t tlen;
	uint8_t root[HASH_LEN];
	struct err ce = { 0 };
	if (rc == 1 && !buf_failed(&raw) &&
	    split_cosigs(f, (const char *)raw.data, raw.len, &note, &lines, false, &ce) == 0 && lines.len &&
	    note_split((const char *)raw.data, raw.len, &tlen, &ce) == 0 &&
	    checkpoint_parse((const char *)raw.data, tlen, &cp, &ce) == 0 && cp.size <= ledger_size(f->s->ledger) &&
	    ledger_root(f->s->ledger, cp.size, root, &ce) == 0 && memcmp(root, cp.root, HASH_LEN) == 0) {
		buf_add(&f->cosigned, note.data, note.len);
		buf_add(&f->cosigned, lines.data, lines.len);
		f->cosigned_size = cp.size;
	}
	buf_free(&raw);
	buf_free(&note);
	buf_free(&lines);
	return 0;
}

static void forked(struct follow *f, const char *why)
{
	struct err e = { 0 };
	struct buf held;
	buf_init(&held);
	if (ledger_checkpoint(f->s->ledger, &held, &e) == 0 &&
	    ledger_follow_fork(f->s->ledger, f->note.data, f->note.len, &e) == 0) {
		write_fork_file(f, &held);
		f->forked = true;
		snprintf(f->fork_msg, sizeof f->fork_msg,
			 "the primary's checkpoint of size %llu is not consistent with the one held (%s): "
			 "following stopped; both checkpoints are in %.200s/follow-fork.txt",
			 (unsigned long long)f->cp.size, why, f->s->cfg.data_dir);
		log_msg(LOG_ERROR, "follow: FORK: %s", f->fork_msg);
		round_reset(f);
	} else {
		failed(f, "a fork (%s), but it could not be recorded: %s", why, e.msg);
	}
	buf_free(&held);
}

/* ---- requests ---- */

static void take_reply(struct follow *f, struct evhttp_request *req);

static void on_reply(struct evhttp_request *req, void *arg)
{
	struct follow *f = arg;
	f->in_flight = false;
	evtimer_del(f->timer);
	take_reply(f, req);
}

static void on_error(enum evhttp_request_error err, void *arg)
{
	struct follow *f = arg;
	const char *why = "HTTP error";
	switch (err) {
	case EVREQ_HTTP_TIMEOUT: why = "nothing received for the timeout"; break;
	case EVREQ_HTTP_EOF: why = "the primary closed the connection"; break;
	case EVREQ_HTTP_INVALID_HEADER: why = "the connection failed or the reply is malformed"; break;
	case EVREQ_HTTP_BUFFER_ERROR: why = "the connection failed"; break;
	case EVREQ_HTTP_REQUEST_CANCEL: why = "the request was cancelled"; break;
	case EVREQ_HTTP_DATA_TOO_LONG: why = "the reply is too large"; break;
	}
	f->too_large = err == EVREQ_HTTP_DATA_TOO_LONG;
	if (f->too_large)
		snprintf(f->last_error, sizeof f->last_error, "%.100s/%.100s: the reply (or its headers) is larger "
			 "than the %zu bytes that resource can hold: refused before it was all read", f->from, f->want,
			 f->max_body);
	else
		snprintf(f->last_error, sizeof f->last_error, "%.100s/%.100s: %s", f->from, f->want, why);
}

static struct bufferevent *connect_bev(struct follow *f)
{
	SSL *ssl = SSL_new(f->tls);
	if (ssl == NULL)
		return NULL;
	SSL_set_tlsext_host_name(ssl, f->host);
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, f->host) != 1 && X509_VERIFY_PARAM_set1_host(vp, f->host, 0) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	return bufferevent_openssl_socket_new(f->s->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}

static void get(struct follow *f, enum step step, size_t max, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* GET fmt below the primary's URL, its reply at most max bytes: read no
 * further than the resource can hold (a checkpoint note, a tile of W
 * hashes, a bundle of W entries), so a hostile primary is refused early. */
static void get(struct follow *f, enum step step, size_t max, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->want, sizeof f->want, fmt, ap);
	va_end(ap);
	f->step = step;
	if (f->conn == NULL) {
		struct bufferevent *bev = connect_bev(f);
		f->conn = bev ? evhttp_connection_base_bufferevent_new(f->s->base, f->dns, bev, f->host,
								       (unsigned short)f->port)
			      : NULL;
		if (f->conn == NULL) {
			if (bev)
				bufferevent_free(bev);
			failed(f, "cannot set up a connection to %s", f->from);
			return;
		}
		evhttp_connection_set_timeout(f->conn, FOLLOW_TIMEOUT_S);
		evhttp_connection_set_max_headers_size(f->conn, 16384);
		evhttp_connection_set_retries(f->conn, 0);
		f->conn_uses = 0;
	}
	/* read for each reply as it comes in: one request at a time */
	f->max_body = max;
	f->too_large = false;
	evhttp_connection_set_max_body_size(f->conn, (ev_ssize_t)max);
	struct evhttp_request *req = evhttp_request_new(on_reply, f);
	if (req == NULL) {
		failed(f, "out of memory");
		return;
	}
	evhttp_request_set_error_cb(req, on_error);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", f->host);
	evhttp_add_header(h, "Accept-Encoding", "identity");
	char path[sizeof f->path + sizeof f->want + 2];
	snprintf(path, sizeof path, "%s/%s", f->path, f->want);
	f->last_error[0] = '\0';
	f->conn_uses++;
	if (evhttp_make_request(f->conn, req, EVHTTP_REQ_GET, path)) {	/* libevent freed req */
		failed(f, "cannot send the request for %s/%s", f->from, f->want);
		return;
	}
	f->in_flight = true;
	schedule(f, FOLLOW_TIMEOUT_S + 1);
}

static void get_tile(struct follow *f, enum step step, bool entries, unsigned level, uint64_t index, unsigned width)
{
	struct tile_ref t = { entries ? TILE_ENTRIES32 : TILE_HASH_TILE, level, index, width };
	char p[80];
	tile_path_format(&t, p, sizeof p);
	/* a bundle: W entries of at most ENTRY_MAX_BYTES (no append can be longer), each after its length */
	get(f, step, entries ? (size_t)width * (ENTRY_MAX_BYTES + 4) : (size_t)width * HASH_LEN, "%s", p);
}

/* ---- the round ---- */

static void advance(struct follow *f);

static void attempt(struct follow *f)
{
	if (f->s->stopping || f->forked || f->in_flight)
		return;
	f->base = ledger_size(f->s->ledger);
	get(f, STEP_CHECKPOINT, FOLLOW_MAX_CHECKPOINT, "checkpoint");
}

/* The node (level k, index i) of the primary's tree from the fetched
 * hash tiles: 1 found, 0 with f->need set to the tile to fetch. */
static int remote_node(struct follow *f, unsigned k, uint64_t i, uint8_t out[HASH_LEN])
{
	unsigned level = k / 8, j = k % 8;
	uint64_t first = i << j, tile = first >> 8;
	unsigned off = (unsigned)(first & 255), count = 1u << j;
	unsigned width = tile_width(level, tile, f->cp.size);
	for (size_t t = 0; t < f->ntiles; t++) {
		struct ftile *ft = &f->tiles[t];
		if (ft->level != level || ft->index != tile)
			continue;
		if (off + count > ft->width)
			return -1;
		uint8_t h[128][HASH_LEN];	/* the subtree of 2^j hashes, folded in place */
		memcpy(h, ft->h[off], (size_t)count * HASH_LEN);
		for (unsigned n = count; n > 1; n /= 2)
			for (unsigned x = 0; x < n / 2; x++)
				merkle_node_hash(h[2 * x], h[2 * x + 1], h[x]);
		memcpy(out, h[0], HASH_LEN);
		return 1;
	}
	f->need.level = level;
	f->need.index = tile;
	f->need.width = width;
	return 0;
}

struct rctx {
	struct follow *f;
	bool missing;
};

static int rnode_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HASH_LEN], struct err *e)
{
	struct rctx *r = ctx;
	int rc = remote_node(r->f, level, index, out);
	if (rc == 1)
		return 0;
	r->missing = rc == 0;
	return err_set(e, rc == 0 ? "a tile is needed" : "a tile is shorter than its width");
}

/* The tiles' own roots: at the checkpoint's size (must be its root) and
 * at the copy's size (the copy's root, unless the history forked).  0
 * fetching a tile, 1 decided. */
static int fork_check(struct follow *f)
{
	struct err e = { 0 };
	struct rctx r = { f, false };
	uint8_t at_cp[HASH_LEN], at_base[HASH_LEN], mine[HASH_LEN];
	if (merkle_root(rnode_get, &r, f->cp.size, at_cp, &e) || merkle_root(rnode_get, &r, f->base, at_base, &e)) {
		if (r.missing) {
			f->checking_fork = true;
			get_tile(f, STEP_TILE, false, f->need.level, f->need.index, f->need.width);
			return 0;
		}
		failed(f, "the primary's tiles do not give the tree of its checkpoint (%s)", e.msg);
		return 1;
	}
	if (memcmp(at_cp, f->cp.root, HASH_LEN) != 0) {
		failed(f, "the primary's tiles do not hash to the root of its checkpoint of size %llu",
		       (unsigned long long)f->cp.size);
		return 1;
	}
	if (ledger_root(f->s->ledger, f->base, mine, &e)) {
		failed(f, "%s", e.msg);
		return 1;
	}
	if (memcmp(at_base, mine, HASH_LEN) != 0) {
		forked(f, "its tree at the copy's size has another root");
		return 1;
	}
	failed(f, "the level-0 tiles do not hash to the root of the checkpoint of size %llu",
	       (unsigned long long)f->cp.size);
	return 1;
}

/* The new checkpoint, verified: what the round must do. */
static void take_checkpoint(struct follow *f, const uint8_t *p, size_t n)
{
	struct err e = { 0 };
	struct note_verifier keys[LEDGER_MAX_TRUSTED];
	size_t nkeys = 0;
	buf_reset(&f->note);
	buf_add(&f->note, p, n);
	if (ledger_follow_keys(f->s->ledger, keys, &nkeys, &e)) {
		failed(f, "%s", e.msg);
		return;
	}
	if (checkpoint_open((const char *)p, n, keys, nkeys, &f->cp, &e)) {
		failed(f, "the primary's checkpoint (checked with follow_trust and the keys the copy's key history "
		       "has in use: a key change is followed only through a checkpoint both keys signed): %s", e.msg);
		return;
	}
	/* what is stored is the log's note; the witnesses' lines apart */
	if (split_cosigs(f, (const char *)p, n, &f->note, &f->lines, true, &e)) {
		failed(f, "the primary's checkpoint: %s", e.msg);
		return;
	}
	uint64_t have = ledger_size(f->s->ledger);
	uint8_t root[HASH_LEN];
	if (f->cp.size <= have) {	/* nothing new: it must be a tree the copy holds */
		if (ledger_root(f->s->ledger, f->cp.size, root, &e)) {
			failed(f, "%s", e.msg);
			return;
		}
		if (memcmp(root, f->cp.root, HASH_LEN) != 0) {
			forked(f, "the copy holds another tree of that size");
			return;
		}
		struct buf held;
		struct checkpoint hc;
		size_t hl;
		buf_init(&held);
		bool read = ledger_checkpoint(f->s->ledger, &held, &e) == 0;
		/* the checkpoint held was verified when stored: its size only */
		if (read && note_split((const char *)held.data, held.len, &hl, NULL) == 0 &&
		    checkpoint_parse((const char *)held.data, hl, &hc, NULL) == 0 && f->cp.size < hc.size) {
			rolled_back(f, &held, hc.size);
			buf_free(&held);
			return;
		}
		bool behind = f->cp.size == have &&
			      (!read || checkpoint_open((const char *)held.data, held.len, keys, nkeys, &hc, NULL) != 0 ||
			       hc.size < have);
		buf_free(&held);
		/* entries stored by a round that stopped before its checkpoint */
		if (behind && ledger_follow_store(f->s->ledger, NULL, NULL, 0, f->note.data, f->note.len, true, &e)) {
			failed(f, "%s", e.msg);
			return;
		}
		rollback_over(f);
		keep_cosigs(f);
		round_done(f);
		return;
	}
	rollback_over(f);
	if (f->cp.size - have > SIZE_MAX / HASH_LEN) {	/* the leaf hashes' size would wrap */
		failed(f, "the primary's checkpoint claims %llu more entries than the copy holds: more leaf hashes "
		       "than this machine can hold", (unsigned long long)(f->cp.size - have));
		return;
	}
	f->base = have;
	f->nleaves = 0;
	f->leaves = malloc((size_t)(f->cp.size - have) * HASH_LEN);
	if (f->leaves == NULL) {
		failed(f, "out of memory for %llu leaf hashes", (unsigned long long)(f->cp.size - have));
		return;
	}
	f->next = have;
	advance(f);
}

/* Level-0 tile of leaves: the hashes from base on, in order. */
static void take_leaf_tile(struct follow *f, const uint8_t *p, size_t n)
{
	uint64_t at = f->base + f->nleaves, tile = at >> 8;
	unsigned width = tile_width(0, tile, f->cp.size);
	if (n != (size_t)width * HASH_LEN) {
		failed(f, "%s/%s is %zu bytes, not %u hashes", f->from, f->want, n, width);
		return;
	}
	for (uint64_t i = at - tile * 256; i < width; i++)
		memcpy(f->leaves[f->nleaves++], p + i * HASH_LEN, HASH_LEN);
	advance(f);
}

static void take_tile(struct follow *f, const uint8_t *p, size_t n)
{
	if (n != (size_t)f->need.width * HASH_LEN) {
		failed(f, "%s/%s is %zu bytes, not %u hashes", f->from, f->want, n, f->need.width);
		return;
	}
	struct ftile *t = realloc(f->tiles, (f->ntiles + 1) * sizeof *t);
	if (t == NULL) {
		failed(f, "out of memory");
		return;
	}
	f->tiles = t;
	t[f->ntiles] = f->need;
	memcpy(t[f->ntiles].h, p, n);
	f->ntiles++;
	fork_check(f);
}

/* The next length-prefixed entry (Scope Ledger's entries32: a uint32
 * length, so that an entry longer than 65535 bytes fits) of p[0..*left):
 * its length in *len, -1 if it is cut short. */
static int next_entry(const uint8_t *p, size_t left, size_t *len)
{
	if (left < 4)
		return -1;
	*len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	return left - 4 < *len ? -1 : 0;
}

/* Stores the entries held (f->next..f->bundles_end, each verified against
 * its leaf as its bundle came) in one transaction; with head, the
 * checkpoint too. */
static void store_bundles(struct follow *f, bool head)
{
	struct err e = { 0 };
	size_t count = (size_t)(f->bundles_end - f->next);
	const uint8_t **ents = calloc(count ? count : 1, sizeof *ents);
	size_t *lens = calloc(count ? count : 1, sizeof *lens);
	const uint8_t *p = f->bundles.data;
	size_t left = f->bundles.len, k = 0, len;
	int rc = ents && lens ? 0 : err_set(&e, "out of memory");
	for (; rc == 0 && k < count; k++) {
		if (next_entry(p, left, &len)) {
			rc = err_set(&e, "the entries held are cut short at entry %llu", (unsigned long long)(f->next + k));
			break;
		}
		ents[k] = p + 4;
		lens[k] = len;
		p += 4 + len;
		left -= 4 + len;
	}
	if (rc == 0)
		rc = ledger_follow_store(f->s->ledger, ents, lens, k, f->note.data, f->note.len, head, &e);
	free(ents);
	free(lens);
	if (rc) {
		failed(f, "%s", e.msg);
		return;
	}
	f->fetched += k;
	f->next = f->bundles_end;
	buf_reset(&f->bundles);
	if (head) {
		log_msg(LOG_INFO, "follow: verified and stored entries %llu..%llu; holding the primary's checkpoint "
			"of size %llu", (unsigned long long)f->base, (unsigned long long)(f->cp.size - 1),
			(unsigned long long)f->cp.size);
		keep_cosigs(f);
		round_done(f);
		return;
	}
	advance(f);
}

/* A bundle, as it comes: each entry the copy lacks must hash to its leaf
 * from the level-0 tiles (verified against the signed root), and only
 * then is it held; stored every FOLLOW_CHUNK_BUNDLES bundles or
 * FOLLOW_HELD_BYTES, and at the checkpoint. */
static void take_bundle(struct follow *f, const uint8_t *p, size_t n)
{
	uint64_t seq = (f->bundles_end - 1) & ~(uint64_t)255;	/* the bundle's first entry */
	size_t left = n, len;
	for (; seq < f->bundles_end; seq++) {
		if (next_entry(p, left, &len)) {
			failed(f, "%s/%s: the entry bundle is cut short at entry %llu", f->from, f->want,
			       (unsigned long long)seq);
			return;
		}
		if (seq >= f->next) {
			uint8_t leaf[HASH_LEN];
			merkle_leaf_hash(p + 4, len, leaf);
			if (memcmp(leaf, f->leaves[seq - f->base], HASH_LEN) != 0) {
				failed(f, "entry %llu of the bundle does not hash to its leaf in the level-0 tile: "
				       "altered in transit or by the primary", (unsigned long long)seq);
				return;
			}
			buf_add(&f->bundles, p, 4 + len);
		}
		p += 4 + len;
		left -= 4 + len;
	}
	if (left != 0) {
		failed(f, "%s/%s: the entry bundle holds more entries than its width", f->from, f->want);
		return;
	}
	if (buf_failed(&f->bundles)) {
		failed(f, "out of memory");
		return;
	}
	bool last = f->bundles_end == f->cp.size;
	if (last || ((f->bundles_end >> 8) - (f->next >> 8)) >= FOLLOW_CHUNK_BUNDLES ||
	    f->bundles.len >= FOLLOW_HELD_BYTES)
		store_bundles(f, last);
	else
		advance(f);
}

/* The next request of the round, or the next check. */
static void advance(struct follow *f)
{
	uint64_t size = f->cp.size;
	if (f->base + f->nleaves < size) {	/* the leaves first: nothing is stored before the root */
		uint64_t tile = (f->base + f->nleaves) >> 8;
		get_tile(f, STEP_TILE, false, 0, tile, tile_width(0, tile, size));
		return;
	}
	if (!f->rooted) {
		struct merkle_cr cr;
		uint8_t root[HASH_LEN];
		/* the copy's own tree, extended by the primary's leaves */
		ledger_compact_range(f->s->ledger, &cr);
		for (uint64_t i = 0; i < f->nleaves; i++)
			merkle_cr_append(&cr, f->leaves[i], NULL, NULL, NULL);
		merkle_cr_root(&cr, root);
		if (memcmp(root, f->cp.root, HASH_LEN) != 0) {
			fork_check(f);
			return;
		}
		f->rooted = true;
		f->bundles_end = f->base & ~(uint64_t)255;
	}
	uint64_t tile = f->bundles_end >> 8;
	unsigned width = tile_width(0, tile, size);
	f->bundles_end = tile * 256 + width;
	get_tile(f, STEP_BUNDLE, true, 0, tile, width);
}

static void take_reply(struct follow *f, struct evhttp_request *req)
{
	int code = req ? evhttp_request_get_response_code(req) : 0;
	if (code == 0 && f->conn_uses > 1 && !f->retried && !f->too_large) {	/* the primary closed the kept connection */
		f->retried = true;
		evhttp_connection_free(f->conn);
		f->conn = NULL;
		char want[sizeof f->want];
		memcpy(want, f->want, sizeof want);
		get(f, f->step, f->max_body, "%s", want);
		return;
	}
	f->retried = false;
	if (code == 0) {
		char why[sizeof f->last_error];	/* failed() writes last_error: not from itself */
		snprintf(why, sizeof why, "%s", f->last_error[0] ? f->last_error : "no reply from the primary");
		failed(f, "%s", why);
		return;
	}
	if (code != 200) {
		failed(f, "%s/%s: the primary answered HTTP %d", f->from, f->want, code);
		return;
	}
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	if (f->step == STEP_CHECKPOINT && n > FOLLOW_MAX_CHECKPOINT) {
		failed(f, "the primary's checkpoint is larger than %d bytes", FOLLOW_MAX_CHECKPOINT);
		return;
	}
	const uint8_t *p = n ? evbuffer_pullup(in, -1) : (const uint8_t *)"";
	if (p == NULL) {
		failed(f, "out of memory");
		return;
	}
	switch (f->step) {
	case STEP_CHECKPOINT: take_checkpoint(f, p, n); break;
	case STEP_TILE:
		if (f->checking_fork)
			take_tile(f, p, n);
		else
			take_leaf_tile(f, p, n);
		break;
	case STEP_BUNDLE: take_bundle(f, p, n); break;
	case STEP_IDLE: break;
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct follow *f = arg;
	if (f->in_flight) {	/* the deadline passed with no reply */
		f->in_flight = false;
		failed(f, "no reply from %s within %d seconds", f->from, FOLLOW_TIMEOUT_S);
		return;
	}
	attempt(f);
}

/* ---- setup, info, teardown ---- */

int follow_trust(struct server *s, const char *from, struct err *e)
{
	const struct config *c = &s->cfg;
	if (c->follow_trust[0] == '\0')
		return err_set(e, "scoped follow needs follow_trust: the primary's verifier key (scoped checkpoint "
			       "on the primary prints it, or scopectl info)");
	if (note_verifier_parse(c->follow_trust, strlen(c->follow_trust), &s->verifier, e))
		return err_prefix(e, "follow_trust");
	if (strcmp(s->verifier.name, c->origin) != 0)
		return err_set(e, "follow_trust is a key of \"%s\" but origin is \"%s\": a follower keeps the "
			       "primary's origin", s->verifier.name, c->origin);
	if (strncmp(from, "https://", 8) != 0)
		return err_set(e, "--from %s: the primary's tiles URL must be https:// (its tiles_listen)", from);
	if (!c->follow_cert[0] || !c->follow_key[0] || !c->follow_ca[0])
		return err_set(e, "scoped follow needs follow_cert, follow_key and follow_ca: a client certificate "
			       "of a role that reads every project, for the entry bundles");
	s->follow = calloc(1, sizeof *s->follow);
	if (s->follow == NULL)
		return err_set(e, "out of memory");
	struct follow *f = s->follow;
	f->s = s;
	buf_init(&f->note);
	buf_init(&f->lines);
	buf_init(&f->cosigned);
	buf_init(&f->bundles);
	size_t n = strlen(from);
	while (n > 8 && from[n - 1] == '/')
		n--;
	snprintf(f->from, sizeof f->from, "%.*s", (int)n, from);
	snprintf(s->verifier_key, sizeof s->verifier_key, "%s", c->follow_trust);
	struct evhttp_uri *u = evhttp_uri_parse(f->from);
	const char *host = u ? evhttp_uri_get_host(u) : NULL;
	int rc = 0;
	if (host == NULL || strlen(host) >= sizeof f->host) {
		rc = err_set(e, "--from %s names no host", from);
	} else {
		snprintf(f->host, sizeof f->host, "%s", host);
		f->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 443;
		const char *path = evhttp_uri_get_path(u);
		snprintf(f->path, sizeof f->path, "%s", path ? path : "");
	}
	evhttp_uri_free(u);
	return rc;
}

int follow_start(struct server *s, struct err *e)
{
	struct follow *f = s->follow;
	const struct config *c = &s->cfg;
	f->interval_s = c->follow_interval_s;
	/* witness lines: a follower checks the cosignatures it keeps (their
	 * URLs are the primary's business) */
	for (size_t i = 0; i < c->nwitnesses; i++)
		if (cosig_verifier_parse(c->witnesses[i].vkey, strlen(c->witnesses[i].vkey), &f->wkeys[f->nw++], e))
			return err_prefix(e, "witness %s", c->witnesses[i].name);
	if (load_cosigned(f, e))
		return err_prefix(e, "reading the cosigned checkpoint kept");
	struct buf fork;
	buf_init(&fork);
	int rc = ledger_follow_fork_get(s->ledger, &fork, e);
	buf_free(&fork);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		f->forked = true;
		snprintf(f->fork_msg, sizeof f->fork_msg,
			 "the primary signed a checkpoint not consistent with the one held: following stopped; both "
			 "checkpoints are in %.200s/follow-fork.txt", c->data_dir);
		log_msg(LOG_ERROR, "follow: FORK: %s; serving what was verified before it", f->fork_msg);
		return 0;
	}
	f->tls = SSL_CTX_new(TLS_client_method());
	if (f->tls == NULL || SSL_CTX_load_verify_locations(f->tls, c->follow_ca, NULL) != 1)
		return err_set(e, "follow_ca: cannot load %s to check the primary's tiles server", c->follow_ca);
	if (SSL_CTX_use_certificate_chain_file(f->tls, c->follow_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(f->tls, c->follow_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(f->tls) != 1)
		return err_set(e, "follow_cert/follow_key: cannot load %s and its key %s", c->follow_cert, c->follow_key);
	SSL_CTX_set_verify(f->tls, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(f->tls, TLS1_2_VERSION);
	f->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	f->timer = evtimer_new(s->base, on_timer, f);
	if (f->dns == NULL || f->timer == NULL)
		return err_set(e, "cannot set up following (DNS or timer)");
	log_msg(LOG_INFO, "following %s every %llu s (verifier key %s)", f->from, (unsigned long long)f->interval_s,
		s->verifier_key);
	schedule(f, 0);
	return 0;
}

const char *follow_refusal(const struct server *s, const char *op, char *msg, size_t cap)
{
	static const char *const WRITES[] = { "append", "upload_begin", "upload_chunk", "upload_end" };
	if (s->follow == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof WRITES / sizeof WRITES[0]; i++)
		if (strcmp(op, WRITES[i]) == 0) {
			snprintf(msg, cap, "this scoped is a read-only follower of %s: send %s to the primary",
				 s->follow->from, op);
			return msg;
		}
	return NULL;
}

void follow_pack_info(const struct server *s, struct buf *out)
{
	const struct follow *f = s->follow;
	if (f == NULL)
		return;
	mp_pack_cstr(out, "follow");
	mp_pack_map(out, 12);
	mp_pack_cstr(out, "from");
	mp_pack_cstr(out, f->from);
	mp_pack_cstr(out, "state");
	mp_pack_cstr(out, f->forked ? "forked" : f->rolled_back ? "rolled_back" : f->failing ? "retrying" : "following");
	static const char *const NAMES[] = { "rounds",	 "failures",		 "fetched",	  "last_ok_us",
					     "rollbacks", "cosignatures_refused", "cosigned_size" };
	const uint64_t v[] = { f->rounds,    f->failures,      f->fetched,	    f->last_ok_us,
			       f->rollbacks, f->cosig_refused, f->cosigned_size };
	for (size_t i = 0; i < 7; i++) {
		mp_pack_cstr(out, NAMES[i]);
		mp_pack_uint(out, v[i]);
	}
	mp_pack_cstr(out, "last_error");
	mp_pack_cstr(out, f->last_error);
	mp_pack_cstr(out, "fork");
	mp_pack_cstr(out, f->forked ? f->fork_msg : "");
	mp_pack_cstr(out, "rollback");
	mp_pack_cstr(out, f->rolled_back ? f->rollback_msg : "");
}

const struct buf *follow_cosigned(const struct server *s, uint64_t *size)
{
	const struct follow *f = s->follow;
	*size = f ? f->cosigned_size : 0;
	return f && f->cosigned.len ? &f->cosigned : NULL;
}

int follow_cosig_lines(const struct server *s, const uint8_t *note, size_t n, struct buf *out)
{
	const struct follow *f = s->follow;
	/* the kept note is the held one, then its cosignature lines */
	if (f && f->cosigned.len > n && memcmp(f->cosigned.data, note, n) == 0)
		buf_add(out, f->cosigned.data + n, f->cosigned.len - n);
	return buf_failed(out) ? -1 : 0;
}

void follow_free(struct server *s)
{
	struct follow *f = s->follow;
	if (f == NULL)
		return;
	round_reset(f);
	if (f->timer)
		event_free(f->timer);
	if (f->dns)
		evdns_base_free(f->dns, 0);
	SSL_CTX_free(f->tls);
	buf_free(&f->note);
	buf_free(&f->lines);
	buf_free(&f->cosigned);
	buf_free(&f->bundles);
	free(f);
	s->follow = NULL;
}
