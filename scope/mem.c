#include "kv.h"

#include <stdlib.h>
#include <string.h>

struct rec {
	uint8_t *k;		/* key, then value, in one allocation */
	size_t kn, vn;
};

struct ent {
	uint64_t seq;
	uint8_t *p;
	size_t n;
};

struct scope_mem {
	struct rec *r;
	size_t n, cap;
	struct ent *ents;	/* by increasing seq */
	size_t nents, capents;
};

struct scope_mem *scope_mem_new(void)
{
	return calloc(1, sizeof(struct scope_mem));
}

void scope_mem_free(struct scope_mem *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].k);
	for (size_t i = 0; i < m->nents; i++)
		free(m->ents[i].p);
	free(m->r);
	free(m->ents);
	free(m);
}

size_t scope_mem_count(const struct scope_mem *m) { return m->n; }

static int keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : an < bn ? -1 : an > bn;
}

/* The index of the first record whose key is >= k (or > k with after). */
static size_t lower(const struct scope_mem *m, const uint8_t *k, size_t kn, bool after)
{
	size_t lo = 0, hi = m->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = keycmp(m->r[mid].k, m->r[mid].kn, k, kn);
		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool at(const struct scope_mem *m, size_t i, const uint8_t *k, size_t kn)
{
	return i < m->n && keycmp(m->r[i].k, m->r[i].kn, k, kn) == 0;
}

static int mem_get(void *ctx, const void *k, size_t kn, const uint8_t **v, size_t *vn, struct err *e)
{
	(void)e;
	const struct scope_mem *m = ctx;
	size_t i = lower(m, k, kn, false);
	if (!at(m, i, k, kn))
		return 0;
	*v = m->r[i].k + m->r[i].kn;
	*vn = m->r[i].vn;
	return 1;
}

static int mem_put(void *ctx, const void *k, size_t kn, const void *v, size_t vn, struct err *e)
{
	struct scope_mem *m = ctx;
	uint8_t *b = malloc(kn + vn + 1);
	if (b == NULL)
		return err_set(e, "out of memory");
	memcpy(b, k, kn);
	if (vn)
		memcpy(b + kn, v, vn);
	size_t i = lower(m, k, kn, false);
	if (at(m, i, k, kn)) {
		free(m->r[i].k);
		m->r[i] = (struct rec){ b, kn, vn };
		return 0;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct rec *r = realloc(m->r, cap * sizeof *r);
		if (r == NULL) {
			free(b);
			return err_set(e, "out of memory");
		}
		m->r = r;
		m->cap = cap;
	}
	memmove(m->r + i + 1, m->r + i, (m->n - i) * sizeof *m->r);
	m->r[i] = (struct rec){ b, kn, vn };
	m->n++;
	return 0;
}

static int mem_del(void *ctx, const void *k, size_t kn, struct err *e)
{
	(void)e;
	struct scope_mem *m = ctx;
	size_t i = lower(m, k, kn, false);
	if (!at(m, i, k, kn))
		return 0;
	free(m->r[i].k);
	memmove(m->r + i, m->r + i + 1, (m->n - i - 1) * sizeof *m->r);
	m->n--;
	return 0;
}

/* Finds each next record by key, so the callback may change the map. */
static int mem_scan(void *ctx, const void *prefix, size_t pn, scope_scan_fn fn, void *fctx, struct err *e)
{
	struct scope_mem *m = ctx;
	uint8_t last[512];
	size_t lastn = 0;
	for (size_t i = lower(m, prefix, pn, false); i < m->n; i = lower(m, last, lastn, true)) {
		const struct rec *r = &m->r[i];
		if (r->kn < pn || memcmp(r->k, prefix, pn) != 0)
			return 0;
		if (r->kn > sizeof last)
			return err_setc(e, SCOPE_E_CORRUPT, "a state key of %zu bytes is too long", r->kn);
		memcpy(last, r->k, r->kn);
		lastn = r->kn;
		int rc = fn(fctx, r->k, r->kn, r->k + r->kn, r->vn, e);
		if (rc)
			return rc < 0 ? -1 : 0;
	}
	return 0;
}

static int mem_entry(void *ctx, uint64_t seq, const uint8_t **p, size_t *n, struct err *e)
{
	const struct scope_mem *m = ctx;
	size_t lo = 0, hi = m->nents;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->ents[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == m->nents || m->ents[lo].seq != seq)
		return err_set(e, "entry %llu is not known", (unsigned long long)seq);
	*p = m->ents[lo].p;
	*n = m->ents[lo].n;
	return 0;
}

int scope_mem_add_entry(struct scope_mem *m, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	if (m->nents && m->ents[m->nents - 1].seq >= seq)
		return err_set(e, "entry %llu comes after entry %llu", (unsigned long long)m->ents[m->nents - 1].seq,
			       (unsigned long long)seq);
	if (m->nents == m->capents) {
		size_t cap = m->capents ? 2 * m->capents : 64;
		struct ent *a = realloc(m->ents, cap * sizeof *a);
		if (a == NULL)
			return err_set(e, "out of memory");
		m->ents = a;
		m->capents = cap;
	}
	uint8_t *c = malloc(n ? n : 1);
	if (c == NULL)
		return err_set(e, "out of memory");
	memcpy(c, p, n);
	m->ents[m->nents++] = (struct ent){ seq, c, n };
	return 0;
}

void scope_mem_kv(struct scope_mem *m, struct scope_kv *kv)
{
	*kv = (struct scope_kv){ m, mem_get, mem_put, mem_del, mem_scan, mem_entry };
}
