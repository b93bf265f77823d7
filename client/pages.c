#include "pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "merkle.h"
#include "mp.h"
#include "offline.h"
#include "result.h"
#include "wire.h"

/* ---- entry listings ---- */

static int misbehaves(struct err *e, const char *what, uint64_t a, uint64_t b)
{
	return err_setc(e, CTL_EXIT_VERIFY, "the server is misbehaving: %s (%llu, %llu)", what,
			(unsigned long long)a, (unsigned long long)b);
}

/* The multi-leaf proof of a page, at most 64 hashes per entry. */
static int page_proof(const uint8_t *res, size_t len, size_t entries, uint8_t (**proof)[HASH_LEN],
		      size_t *plen, struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	*proof = NULL;
	if (mp_map_find(res, len, "proof", &c, NULL) != 1 || mp_get_array(&c, &count, NULL) ||
	    count > entries * MERKLE_MAX_PROOF)
		return err_setc(e, CTL_EXIT_VERIFY, "the server listed entries without a valid proof");
	*proof = malloc((size_t)count * HASH_LEN + 1);
	if (*proof == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p;
		size_t l;
		if (mp_get_bin(&c, &p, &l, NULL) || l != HASH_LEN)
			return err_setc(e, CTL_EXIT_VERIFY, "the server's proof hash %u is not 32 bytes", i);
		memcpy((*proof)[i], p, HASH_LEN);
	}
	*plen = count;
	return 0;
}

/* An entry's seq, the values before it skipped without recursion
 * (mp_value_len still visits each of their tags, but checks nothing: the
 * caller's verifier checks the whole entry).  -1 when it cannot be read so. */
static int entry_seq(const uint8_t *p, size_t n, uint64_t *seq)
{
	struct mp_cur c;
	uint32_t count;
	mp_cur_init(&c, p, n);
	if (mp_get_map(&c, &count, NULL))
		return -1;
	for (uint32_t k = 0; k < count; k++) {
		struct mp_item it;
		size_t len;
		if (mp_next(&c, &it, NULL) || it.type != MP_STR)
			return -1;
		if (it.n == 3 && memcmp(it.p, "seq", 3) == 0)
			return mp_get_uint(&c, seq, NULL) ? -1 : 0;
		if (mp_value_len(c.p, (size_t)(c.end - c.p), &len) != 1)
			return -1;
		c.p += len;
	}
	return -1;
}

struct page {
	uint32_t count;
	uint64_t seqs[WIRE_MAX_LIMIT];
	uint8_t leaves[WIRE_MAX_LIMIT][HASH_LEN];
	const uint8_t *raw[WIRE_MAX_LIMIT];
	size_t rawlen[WIRE_MAX_LIMIT];
};

/* Reads and checks one page: entries in order within [next, to), of the
 * project asked for, contiguous when unfiltered; with leaves, their leaf
 * hashes too (for page_verify).  With seq_only (no project), each entry
 * only gives its seq: the caller checks the entries itself. */
static int page_read(const uint8_t *res, size_t len, const char *project, uint64_t next, uint64_t to,
		     bool leaves, bool seq_only, struct page *pg, struct err *e)
{
	struct mp_cur c;
	if (mp_map_find(res, len, "entries", &c, NULL) != 1 || mp_get_array(&c, &pg->count, NULL))
		return err_setc(e, CTL_EXIT_CONN, "server response lacks \"entries\"");
	if (pg->count > WIRE_MAX_LIMIT)
		return misbehaves(e, "more entries on a page than asked for", pg->count, WIRE_MAX_LIMIT);
	for (uint32_t i = 0; i < pg->count; i++) {
		struct entry en;
		if (mp_get_bin(&c, &pg->raw[i], &pg->rawlen[i], NULL))
			return err_setc(e, CTL_EXIT_CONN, "server response: bad entry");
		/* seq_only: a seq that cannot be read is decoded for the message */
		if (seq_only && !project && entry_seq(pg->raw[i], pg->rawlen[i], &en.seq) == 0) {
			uint64_t want = i ? pg->seqs[i - 1] + 1 : next;
			if (en.seq != want || en.seq >= to)
				return misbehaves(e, "an entry out of order or outside the range asked for (entry, "
						  "expected)", en.seq, want);
			pg->seqs[i] = en.seq;
			continue;
		}
		if (entry_decode(pg->raw[i], pg->rawlen[i], &en, e))
			return err_setc(e, CTL_EXIT_VERIFY, "entry after %llu: %s", (unsigned long long)next,
					e->msg);
		uint64_t want = i ? pg->seqs[i - 1] + 1 : next;
		if (en.seq < want || en.seq >= to || (!project && en.seq != want))
			return misbehaves(e, "an entry out of order or outside the range asked for (entry, "
					  "expected)", en.seq, want);
		if (project && (en.project_len != strlen(project) || memcmp(en.project, project, en.project_len)))
			return err_setc(e, CTL_EXIT_VERIFY, "the server is misbehaving: entry %llu belongs to "
					"another project than the one asked for", (unsigned long long)en.seq);
		pg->seqs[i] = en.seq;
		if (leaves)
			merkle_leaf_hash(pg->raw[i], pg->rawlen[i], pg->leaves[i]);
	}
	return 0;
}

static int page_verify(const uint8_t *res, size_t len, const struct page *pg, const struct checkpoint *cp,
		       struct err *e)
{
	uint8_t (*proof)[HASH_LEN];
	size_t plen = 0;
	if (pg->count == 0)
		return 0;
	int rc = page_proof(res, len, pg->count, &proof, &plen, e);
	if (rc == 0 && merkle_verify_multi(cp->size, pg->seqs, (const uint8_t(*)[HASH_LEN])pg->leaves, pg->count,
					   (const uint8_t(*)[HASH_LEN])proof, plen, cp->root, e))
		rc = err_setc(e, CTL_EXIT_VERIFY, "entries %llu..%llu are not the ones the checkpoint of size "
			      "%llu holds: %s", (unsigned long long)pg->seqs[0],
			      (unsigned long long)pg->seqs[pg->count - 1], (unsigned long long)cp->size, e->msg);
	free(proof);
	return rc;
}

/* ---- several pages in flight (PROTOCOL.md section 3: pipelining) ---- */

/* One request in flight: the entries [a, b) asked for, and its answer. */
enum slot_state { SLOT_ASKED, SLOT_ANSWERED, SLOT_REFUSED };

struct slot {
	uint64_t id;		/* its request's id: answers are matched by it */
	uint64_t a, b;
	enum slot_state state;
	struct buf frame;	/* the answer; owned, kept for the next use */
	const uint8_t *res;	/* its result, in frame */
	size_t len;
	struct err why;		/* refused: the server's message */
	char code[NET_CODE_MAX];
};

/* slots[head], slots[head + 1], ... (n of them, modulo PAGES_WINDOW_MAX)
 * ask for consecutive ranges and are taken strictly in that order, however
 * their answers arrive. */
struct window {
	struct session *s;
	const char *project;
	uint64_t to;
	const struct checkpoint *cp;
	struct slot slots[PAGES_WINDOW_MAX];
	unsigned head, n, max;
	uint64_t asked;		/* where the next range starts */
	size_t largest;		/* the largest answer so far */
	uint64_t first_id;	/* this listing's first request id */
	struct buf spare;	/* the frame being read */
};

int pages_window(unsigned *out, struct err *e)
{
	const char *v = getenv("SCOPECTL_PAGES_IN_FLIGHT");
	*out = PAGES_WINDOW;
	if (v == NULL || *v == '\0')
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || n < 1 || n > PAGES_WINDOW_MAX)
		return err_setc(e, CTL_EXIT_USAGE, "SCOPECTL_PAGES_IN_FLIGHT=%s: give a number of pages from 1 to %d",
				v, PAGES_WINDOW_MAX);
	*out = (unsigned)n;
	return 0;
}

/* Asks (again, under a new id) for slot q's range. */
static int ask(struct window *w, struct slot *q, struct err *e)
{
	struct session *s = w->s;
	sess_begin(s, "entries", 3 + (w->project != NULL) + (w->cp != NULL));
	mp_pack_cstr(&s->req, "from");
	mp_pack_uint(&s->req, q->a);
	mp_pack_cstr(&s->req, "to");
	mp_pack_uint(&s->req, q->b);
	mp_pack_cstr(&s->req, "limit");
	mp_pack_uint(&s->req, w->project || q->b - q->a > WIRE_MAX_LIMIT ? WIRE_MAX_LIMIT : q->b - q->a);
	if (w->project) {
		mp_pack_cstr(&s->req, "project");
		mp_pack_cstr(&s->req, w->project);
	}
	if (w->cp) {
		mp_pack_cstr(&s->req, "size");
		mp_pack_uint(&s->req, w->cp->size);
	}
	q->id = s->req_id;
	q->state = SLOT_ASKED;
	return sess_send(s, e);
}

/* Pages in flight now: the window, fewer while pages are large, so that
 * the answers held stay within PAGES_WINDOW_BYTES (one at least). */
static unsigned window_now(const struct window *w)
{
	/* one page until an answer shows how large pages are */
	size_t fit = w->largest ? PAGES_WINDOW_BYTES / w->largest : 1;
	return fit < 1 ? 1 : fit > w->max ? w->max : (unsigned)fit;
}

/* Fills the window with the next ranges: a filtered listing has only one
 * (where its next page starts is known only from the page before). */
static int ask_more(struct window *w, struct err *e)
{
	while (w->n < window_now(w) && w->asked < w->to) {
		struct slot *q = &w->slots[(w->head + w->n) % PAGES_WINDOW_MAX];
		q->a = w->asked;
		q->b = w->project || w->to - w->asked < WIRE_MAX_LIMIT ? w->to : w->asked + WIRE_MAX_LIMIT;
		w->asked = q->b;
		w->n++;
		if (ask(w, q, e))
			return -1;
	}
	return 0;
}

/* After a lost connection: everything not answered is asked again. */
static int ask_again(struct window *w, struct err *e)
{
	for (unsigned i = 0; i < w->n; i++) {
		struct slot *q = &w->slots[(w->head + i) % PAGES_WINDOW_MAX];
		if (q->state == SLOT_ASKED && ask(w, q, e))
			return -1;
	}
	return 0;
}

/* Reads answers until the head's has come.  An answer must be to a request
 * in flight, once: anything else is the server misbehaving. */
static int await_head(struct window *w, struct err *e)
{
	while (w->slots[w->head].state == SLOT_ASKED) {
		uint64_t id;
		const uint8_t *res = NULL;
		size_t len = 0;
		char code[NET_CODE_MAX] = "";
		struct err why = { 0 };
		int rc = sess_recv(w->s, &w->spare, &id, &res, &len, code, &why);
		if (rc < 0 || (rc == 0 && id == 0)) {	/* 0: it could not read a request */
			if (rc == 0)
				snprintf(w->s->server_code, sizeof w->s->server_code, "%s", code);
			*e = why;
			return -1;
		}
		struct slot *q = NULL;
		for (unsigned i = 0; i < w->n && q == NULL; i++) {
			struct slot *c = &w->slots[(w->head + i) % PAGES_WINDOW_MAX];
			if (c->state == SLOT_ASKED && c->id == id)
				q = c;
		}
		if (q == NULL && id < w->first_id)
			continue;	/* an earlier call's answer, left in flight when it stopped */
		if (q == NULL)
			return err_setc(e, CTL_EXIT_VERIFY, "the server is misbehaving: it answered request %llu, "
					"which is not one in flight (answered already, or never asked)",
					(unsigned long long)id);
		struct buf t = q->frame;
		q->frame = w->spare;
		w->spare = t;
		if (q->frame.len > w->largest)
			w->largest = q->frame.len;
		q->res = res;
		q->len = len;
		q->state = rc == 1 ? SLOT_ANSWERED : SLOT_REFUSED;
		q->why = why;
		snprintf(q->code, sizeof q->code, "%s", code);
	}
	return 0;
}

/* The head's page: its entries to fn, then 0 when its range is done, 1
 * when the server left entries off its end (the rest is asked again).  fn
 * may stop the listing by returning a positive value, which goes in *stop. */
static int take_head(struct window *w, struct page *pg, bool seq_only, entry_fn fn, void *ctx, int *stop,
		     struct err *e)
{
	struct slot *h = &w->slots[w->head];
	const char *project = w->project;
	const uint8_t *res = h->res;
	size_t len = h->len;
	if (h->state == SLOT_REFUSED) {
		snprintf(w->s->server_code, sizeof w->s->server_code, "%s", h->code);
		*e = h->why;
		return -1;
	}
	if (page_read(res, len, project, h->a, h->b, w->cp != NULL, seq_only, pg, e) ||
	    (w->cp && page_verify(res, len, pg, w->cp, e)))
		return -1;
	for (uint32_t i = 0; i < pg->count; i++) {
		int r = fn(ctx, pg->seqs[i], pg->raw[i], pg->rawlen[i], e);
		if (r)
			return r < 0 ? -1 : (*stop = r, 0);
	}
	uint64_t after = pg->count ? pg->seqs[pg->count - 1] + 1 : h->a, nx;
	if (!res_has(res, len, "next")) {
		if (!project && after < h->b)
			return misbehaves(e, "the listing ended before the entries asked for (end, expected)", after,
					  h->b);
		return 0;
	}
	if (res_u64(res, len, "next", &nx, e))
		return -1;
	if (pg->count == 0 || nx < after)
		return misbehaves(e, "its paging does not advance (next, after the page)", nx, after);
	if (!project && nx != after)
		return misbehaves(e, "its paging skips entries (next, expected)", nx, after);
	if (nx >= h->b)
		return 0;
	h->a = nx;
	return 1;
}

/* Every page but the last holds an entry beyond the one before, and a
 * range asked again is smaller: at most to - from pages. */
static int entries_run(struct session *s, const char *project, uint64_t from, uint64_t to,
		       const struct checkpoint *cp, bool seq_only, entry_fn fn, void *ctx, struct err *e)
{
	unsigned max;
	if (pages_window(&max, e))
		return -1;
	struct page *pg = malloc(sizeof *pg);
	struct window *w = calloc(1, sizeof *w);
	if (pg == NULL || w == NULL) {
		free(pg);
		free(w);
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	}
	*w = (struct window){ .s = s, .project = project, .to = to, .cp = cp, .max = project ? 1 : max,
			      .asked = from, .first_id = s->next_id };
	for (unsigned i = 0; i < PAGES_WINDOW_MAX; i++)
		buf_init(&w->slots[i].frame);
	buf_init(&w->spare);
	int rc = 0, retry = 0;
	for (;;) {
		int r = ask_more(w, e);
		if (r == 0 && w->n == 0)
			break;		/* all asked for and taken */
		if (r == 0 && (r = await_head(w, e)) == 0) {
			int t = take_head(w, pg, seq_only, fn, ctx, &rc, e);
			if (t < 0 || rc) {
				rc = t < 0 ? -1 : rc;
				break;
			}
			retry = 0;
			if (t == 0) {
				/* a frame kept for the next use stays within its share
				 * of PAGES_WINDOW_BYTES: large pages do not stay held */
				struct buf *f = &w->slots[w->head].frame;
				if (f->cap > PAGES_WINDOW_BYTES / w->max) {
					buf_free(f);
					buf_init(f);
				}
				w->head = (w->head + 1) % PAGES_WINDOW_MAX;
				w->n--;
				continue;
			}
			if ((r = ask(w, &w->slots[w->head], e)) == 0)	/* the rest of its range */
				continue;
		}
		/* a lost connection: a new one, and what was in flight asked again */
		while (r && e->code == CTL_EXIT_CONN && retry < PAGES_RETRIES)
			r = sess_reconnect(s, retry++, PAGES_RETRIES, e) || ask_again(w, e) ? -1 : 0;
		if (r) {
			rc = -1;
			break;
		}
	}
	for (unsigned i = 0; i < PAGES_WINDOW_MAX; i++)
		buf_free(&w->slots[i].frame);
	buf_free(&w->spare);
	free(w);
	free(pg);
	return rc;
}

int pages_entries(struct session *s, const char *project, uint64_t from, uint64_t to,
		  const struct checkpoint *cp, entry_fn fn, void *ctx, struct err *e)
{
	return entries_run(s, project, from, to, cp, false, fn, ctx, e);
}

int pages_entries_unchecked(struct session *s, uint64_t from, uint64_t to, entry_fn fn, void *ctx,
			    struct err *e)
{
	return entries_run(s, NULL, from, to, NULL, true, fn, ctx, e);
}

/* ---- status and report documents ---- */

struct joined {
	struct buf first;	/* page 1's document */
	struct buf fixed;	/* page 1's non-paged members, for comparing */
	struct buf rows[8];
	uint32_t nrows[8];
	size_t nsec, bytes;
};

static int section_of(const char *const *sections, const char *k, size_t kn)
{
	for (int i = 0; sections[i]; i++)
		if (strlen(sections[i]) == kn && memcmp(sections[i], k, kn) == 0)
			return i;
	return -1;
}

/* Adds one page's document: its rows to the lists, its other members
 * compared with the first page's.  *rows gets the number of rows. */
static int join_page(struct joined *j, const uint8_t *d, size_t dn, const char *const *sections,
		     bool first, uint64_t *rows, struct err *e)
{
	struct mp_cur c;
	uint32_t n;
	struct buf fixed;
	buf_init(&fixed);
	mp_cur_init(&c, d, dn);
	*rows = 0;
	if (mp_get_map(&c, &n, NULL))
		return err_setc(e, CTL_EXIT_CONN, "server response: the document is not a map");
	for (uint32_t i = 0; i < n; i++) {
		const char *k;
		size_t kn;
		const uint8_t *v;
		if (mp_get_str(&c, &k, &kn, NULL))
			goto bad;
		v = c.p;
		int sec = section_of(sections, k, kn);
		if (sec < 0) {
			if (mp_skip(&c, 8, NULL))
				goto bad;
			mp_pack_str(&fixed, k, kn);
			buf_add(&fixed, v, (size_t)(c.p - v));
			continue;
		}
		uint32_t count;
		if (mp_get_array(&c, &count, NULL))
			goto bad;
		const uint8_t *items = c.p;
		for (uint32_t r = 0; r < count; r++)
			if (mp_skip(&c, 8, NULL))
				goto bad;
		buf_add(&j->rows[sec], items, (size_t)(c.p - items));
		j->nrows[sec] += count;
		*rows += count;
	}
	j->bytes += dn;
	if (first) {
		buf_reset(&j->first);
		buf_add(&j->first, d, dn);
		buf_reset(&j->fixed);
		buf_add(&j->fixed, fixed.data, fixed.len);
	} else if (fixed.len != j->fixed.len || memcmp(fixed.data, j->fixed.data, fixed.len) != 0) {
		buf_free(&fixed);
		return err_setc(e, CTL_EXIT_VERIFY, "the server is misbehaving: its pages disagree on the "
				"totals (they are not one answer)");
	}
	buf_free(&fixed);
	return 0;
bad:
	buf_free(&fixed);
	return err_setc(e, CTL_EXIT_CONN, "server response: malformed document");
}

/* The joined document, in page 1's member order. */
static void join_finish(const struct joined *j, const char *const *sections, struct buf *doc)
{
	struct mp_cur c;
	uint32_t n;
	mp_cur_init(&c, j->first.data, j->first.len);
	mp_get_map(&c, &n, NULL);
	buf_reset(doc);
	mp_pack_map(doc, n);
	for (uint32_t i = 0; i < n; i++) {
		const char *k;
		size_t kn;
		mp_get_str(&c, &k, &kn, NULL);
		const uint8_t *v = c.p;
		mp_skip(&c, 8, NULL);
		mp_pack_str(doc, k, kn);
		int sec = section_of(sections, k, kn);
		if (sec < 0) {
			buf_add(doc, v, (size_t)(c.p - v));
			continue;
		}
		mp_pack_array(doc, j->nrows[sec]);
		buf_add(doc, j->rows[sec].data, j->rows[sec].len);
	}
}

/* Cursors only grow: bytewise, a prefix first. */
static bool cursor_after(const struct buf *prev, const uint8_t *p, size_t n)
{
	size_t m = n < prev->len ? n : prev->len;
	int c = memcmp(p, prev->data, m);
	return c > 0 || (c == 0 && n > prev->len);
}

/* One attempt at the whole answer: 1 when it changed between pages. */
static int doc_attempt(struct session *s, const char *op, const struct page_param *params, size_t nparams,
		       const char *what, const char *const *sections, struct joined *j, struct err *e)
{
	struct buf cursor;
	buf_init(&cursor);
	int rc = 0;
	for (unsigned page = 0;; page++) {
		bool first = page == 0;
		const uint8_t *res, *d, *nx;
		size_t len, dn, nxn;
		uint64_t rows;
		sess_begin(s, op, (uint32_t)nparams + !first);
		for (size_t i = 0; i < nparams; i++) {
			mp_pack_cstr(&s->req, params[i].key);
			mp_pack_cstr(&s->req, params[i].value);
		}
		if (!first) {
			mp_pack_cstr(&s->req, "cursor");
			mp_pack_bin(&s->req, cursor.data, cursor.len);
		}
		if (sess_call(s, 2, &res, &len, e)) {
			rc = !first && strcmp(s->server_code, WERR_CHANGED) == 0 ? 1 : -1;
			break;
		}
		struct mp_cur c;
		if (mp_map_find(res, len, what, &c, NULL) != 1 || (d = c.p, mp_skip(&c, 8, NULL))) {
			rc = err_setc(e, CTL_EXIT_CONN, "server response lacks the %s", what);
			break;
		}
		dn = (size_t)(c.p - d);
		if ((rc = join_page(j, d, dn, sections, first, &rows, e)))
			break;
		if (j->bytes > PAGES_MAX_BYTES || page == PAGES_MAX) {
			rc = err_setc(e, CTL_EXIT_VERIFY, "the server is misbehaving: its %s exceeds %u MiB or %u "
				      "pages", what, PAGES_MAX_BYTES >> 20, PAGES_MAX);
			break;
		}
		if (!res_has(res, len, "next"))
			break;
		if (res_bin(res, len, "next", &nx, &nxn, e)) {
			rc = -1;
			break;
		}
		/* progress: rows on every page but the last, and a cursor that grows */
		if (rows == 0 || nxn == 0 || nxn > 4096 || (!first && !cursor_after(&cursor, nx, nxn))) {
			rc = err_setc(e, CTL_EXIT_VERIFY, "the server is misbehaving: the pages of its %s do not "
				      "advance", what);
			break;
		}
		buf_reset(&cursor);
		buf_add(&cursor, nx, nxn);
	}
	buf_free(&cursor);
	return rc;
}

int pages_doc(struct session *s, const char *op, const struct page_param *params, size_t nparams,
	      const char *what, const char *const *sections, struct buf *doc, struct err *e)
{
	struct joined *j = calloc(1, sizeof *j);
	if (j == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	int rc = 1;
	for (int attempt = 0; rc == 1 && attempt < PAGES_RESTARTS; attempt++) {
		for (size_t i = 0; i < sizeof j->rows / sizeof j->rows[0]; i++) {
			buf_free(&j->rows[i]);
			j->nrows[i] = 0;
		}
		j->bytes = 0;
		rc = doc_attempt(s, op, params, nparams, what, sections, j, e);
	}
	if (rc == 1)
		rc = err_setc(e, CTL_EXIT_CONN, "the %s kept changing while its pages were read (%d attempts); "
			      "try again", what, PAGES_RESTARTS);
	if (rc == 0)
		join_finish(j, sections, doc);
	for (size_t i = 0; i < sizeof j->rows / sizeof j->rows[0]; i++)
		buf_free(&j->rows[i]);
	buf_free(&j->first);
	buf_free(&j->fixed);
	free(j);
	return rc;
}
