#include "paging.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int pager_init(struct pager *p, const struct page_req *r, uint64_t now_us, struct err *e)
{
	static const struct page_req whole = { NULL, 0, 0, SIZE_MAX, 0 };
	memset(p, 0, sizeof *p);
	p->req = r ? *r : whole;
	r = &p->req;
	p->as_of = now_us;
	if (r->cursor) {
		if (r->cursor_len < PAGE_VERSION_LEN + 8 || r->cursor_len > PAGE_CURSOR_MAX)
			return err_setc(e, PAGE_E_CURSOR, "\"cursor\" is not one this server gave out "
					"(send back the \"next\" of the previous page unchanged)");
		p->as_of = be64(r->cursor + PAGE_VERSION_LEN);
		p->after = r->cursor + PAGE_VERSION_LEN + 8;
		p->after_len = r->cursor_len - PAGE_VERSION_LEN - 8;
	}
	p->md = EVP_MD_CTX_new();
	if (p->md == NULL || !EVP_DigestInit_ex(p->md, EVP_sha256(), NULL))
		return err_set(e, "out of memory");
	return 0;
}

void pager_free(struct pager *p)
{
	EVP_MD_CTX_free(p->md);
	p->md = NULL;
}

void pager_section(struct pager *p, struct buf *b, uint32_t *n)
{
	if (p->nsec == PAGE_SECTIONS)
		return;
	p->sec[p->nsec].b = b;
	p->sec[p->nsec].n = n;
	p->nsec++;
}

/* LMDB's key order: bytewise, a prefix first. */
static bool after_cursor(const struct pager *p, const uint8_t *k, size_t kn)
{
	if (p->after == NULL)
		return true;
	size_t n = kn < p->after_len ? kn : p->after_len;
	int c = memcmp(k, p->after, n);
	return c > 0 || (c == 0 && kn > p->after_len);
}

/* One record's rows: into the digest, then kept on this page or dropped. */
static void record_done(struct pager *p, const uint8_t *k, size_t kn)
{
	size_t added = 0;
	for (unsigned i = 0; i < p->nsec; i++) {
		size_t n = p->sec[i].b->len - p->sec[i].mark_len;
		uint8_t tag[5] = { (uint8_t)i, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				   (uint8_t)n };
		if (n == 0)
			continue;
		EVP_DigestUpdate(p->md, tag, sizeof tag);
		EVP_DigestUpdate(p->md, p->sec[i].b->data + p->sec[i].mark_len, n);
		added += n;
	}
	if (added == 0)
		return;
	bool keep = after_cursor(p, k, kn) && !p->full && kn <= PAGE_KEY_MAX;
	if (keep && p->records > 0 &&
	    (p->used + added > p->req.budget || (p->req.limit && p->records == p->req.limit))) {
		p->full = true;
		keep = false;
	}
	if (keep) {
		p->used += added;
		p->records++;
		memcpy(p->last, k, kn);
		p->last_len = kn;
		return;
	}
	for (unsigned i = 0; i < p->nsec; i++) {
		p->sec[i].b->len = p->sec[i].mark_len;
		*p->sec[i].n = p->sec[i].mark_n;
	}
}

struct pscan {
	struct pager *p;
	int (*fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e);
	void *ctx;
};

static int paged_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	struct pscan *ps = ctx;
	struct pager *p = ps->p;
	for (unsigned i = 0; i < p->nsec; i++) {
		p->sec[i].mark_len = p->sec[i].b->len;
		p->sec[i].mark_n = *p->sec[i].n;
	}
	int rc = ps->fn(ps->ctx, k, kn, v, vn, e);
	if (rc == 0)
		record_done(p, k, kn);
	return rc;
}

int pager_scan(struct pager *p, struct scope_kv *t, const void *prefix, size_t plen,
	       int (*fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
			 struct err *e),
	       void *ctx, struct err *e)
{
	struct pscan ps = { p, fn, ctx };
	return kv_scan(t, prefix, plen, paged_one, &ps, e);
}

int pager_finish(struct pager *p, const uint8_t *totals, size_t n, struct err *e)
{
	uint8_t h[EVP_MAX_MD_SIZE];
	unsigned int hn = 0;
	uint8_t as_of[8];
	for (int i = 0; i < 8; i++)
		as_of[i] = (uint8_t)(p->as_of >> (56 - 8 * i));
	if (!EVP_DigestUpdate(p->md, as_of, 8) || !EVP_DigestUpdate(p->md, totals, n) ||
	    !EVP_DigestFinal_ex(p->md, h, &hn) || hn < PAGE_VERSION_LEN)
		return err_set(e, "digest failed");
	memcpy(p->version, h, PAGE_VERSION_LEN);
	if (p->req.cursor && memcmp(p->req.cursor, p->version, PAGE_VERSION_LEN) != 0)
		return err_setc(e, PAGE_E_CHANGED, "the answer changed after its first page was read (an "
				"entry was recorded meanwhile): ask again from the first page");
	return 0;
}

void pager_next(const struct pager *p, struct buf *out)
{
	uint8_t as_of[8];
	if (out == NULL)
		return;
	buf_reset(out);
	if (!p->full)
		return;
	for (int i = 0; i < 8; i++)
		as_of[i] = (uint8_t)(p->as_of >> (56 - 8 * i));
	buf_add(out, p->version, PAGE_VERSION_LEN);
	buf_add(out, as_of, 8);
	buf_add(out, p->last, p->last_len);
}
