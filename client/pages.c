#include "pages.h"

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
		struct mp_cur sc;
		if (seq_only && !project && mp_map_find(pg->raw[i], pg->rawlen[i], "seq", &sc, NULL) == 1 &&
		    mp_get_uint(&sc, &en.seq, NULL) == 0) {
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

static int entries_run(struct session *s, const char *project, uint64_t from, uint64_t to,
		       const struct checkpoint *cp, bool seq_only, entry_fn fn, void *ctx, struct err *e)
{
	struct page *pg = malloc(sizeof *pg);
	if (pg == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	uint64_t next = from;
	int rc = 0;
	/* every page but the last holds an entry beyond the one before: at most
	 * to - from pages */
	while (rc == 0 && next < to) {
		const uint8_t *res;
		size_t len;
		uint64_t lim = to - next < WIRE_MAX_LIMIT ? to - next : WIRE_MAX_LIMIT;
		sess_begin(s, "entries", 3 + (project != NULL) + (cp != NULL));
		mp_pack_cstr(&s->req, "from");
		mp_pack_uint(&s->req, next);
		mp_pack_cstr(&s->req, "to");
		mp_pack_uint(&s->req, to);
		mp_pack_cstr(&s->req, "limit");
		mp_pack_uint(&s->req, project ? WIRE_MAX_LIMIT : lim);
		if (project) {
			mp_pack_cstr(&s->req, "project");
			mp_pack_cstr(&s->req, project);
		}
		if (cp) {
			mp_pack_cstr(&s->req, "size");
			mp_pack_uint(&s->req, cp->size);
		}
		if (sess_call(s, 2, &res, &len, e) || page_read(res, len, project, next, to, cp != NULL, seq_only, pg, e) ||
		    (cp && page_verify(res, len, pg, cp, e))) {
			rc = -1;
			break;
		}
		for (uint32_t i = 0; rc == 0 && i < pg->count; i++)
			rc = fn(ctx, pg->seqs[i], pg->raw[i], pg->rawlen[i], e);
		uint64_t after = pg->count ? pg->seqs[pg->count - 1] + 1 : next;
		if (rc || !res_has(res, len, "next")) {
			if (rc == 0 && !project && after < to)
				rc = misbehaves(e, "the listing ended before the entries asked for (end, expected)",
						after, to);
			break;
		}
		uint64_t nx;
		if (res_u64(res, len, "next", &nx, e))
			rc = -1;
		else if (pg->count == 0 || nx < after)
			rc = misbehaves(e, "its paging does not advance (next, after the page)", nx, after);
		else if (!project && nx != after)
			rc = misbehaves(e, "its paging skips entries (next, expected)", nx, after);
		next = nx;
	}
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
