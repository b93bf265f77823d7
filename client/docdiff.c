#include "docdiff.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "mp.h"

#define DEPTH 8		/* as deep as a status or report goes, with room */

static void note(struct docdiffs *o, const char *path, const uint8_t *a, size_t an, const uint8_t *b,
		 size_t bn)
{
	o->total++;
	if (o->kept == DOCDIFF_KEEP)
		return;
	struct docdiff *d = &o->d[o->kept++];
	*d = (struct docdiff){ .a = a, .an = an, .b = b, .bn = bn };
	snprintf(d->path, sizeof d->path, "%s", path);
}

/* The next value at c: its start and length; c moves past it. */
static int value(struct mp_cur *c, const uint8_t **p, size_t *n)
{
	*p = c->p;
	if (mp_skip(c, DEPTH, NULL))
		return -1;
	*n = (size_t)(c->p - *p);
	return 0;
}

static bool same_scalar(const struct mp_item *x, const uint8_t *a, size_t an, const struct mp_item *y,
			const uint8_t *b, size_t bn)
{
	if (x->type != y->type)
		return false;
	switch (x->type) {
	case MP_NIL: return true;
	case MP_BOOL: return x->b == y->b;
	case MP_UINT: return x->u == y->u;
	case MP_NINT: return x->i == y->i;
	case MP_STR:
	case MP_BIN: return x->n == y->n && memcmp(x->p, y->p, x->n) == 0;
	default: return an == bn && memcmp(a, b, an) == 0;
	}
}

static int walk(struct docdiffs *o, const char *path, const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

/* A map's members: open sets count, each member() reads the next. */
static int open_map(struct mp_cur *c, const uint8_t *p, size_t n, uint32_t *count)
{
	mp_cur_init(c, p, n);
	return mp_get_map(c, count, NULL);
}

static int member(struct mp_cur *c, const char **k, size_t *kn, const uint8_t **v, size_t *vn)
{
	return mp_get_str(c, k, kn, NULL) || value(c, v, vn) ? -1 : 0;
}

/* 1 with the value of key k in the map at p, 0 when it has none. */
static int find(const uint8_t *p, size_t n, const char *k, size_t kn, const uint8_t **v, size_t *vn)
{
	struct mp_cur c;
	uint32_t count;
	const char *key;
	size_t keyn;
	if (open_map(&c, p, n, &count))
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		if (member(&c, &key, &keyn, v, vn))
			return -1;
		if (keyn == kn && memcmp(key, k, kn) == 0)
			return 1;
	}
	return 0;
}

/* Every member of map x, looked up in map y; with only, just those y lacks
 * (named on y's side when x is b). */
static int walk_map(struct docdiffs *o, const char *path, const uint8_t *x, size_t xn, const uint8_t *y,
		    size_t yn, bool x_is_a, bool only)
{
	struct mp_cur c;
	uint32_t count;
	if (open_map(&c, x, xn, &count))
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		const char *k;
		size_t kn, vn, wn;
		const uint8_t *v, *w;
		char sub[sizeof o->d[0].path];
		if (member(&c, &k, &kn, &v, &vn))
			return -1;
		snprintf(sub, sizeof sub, "%s%s%.*s", path, *path ? "." : "", (int)(kn > 64 ? 64 : kn), k);
		int rc = find(y, yn, k, kn, &w, &wn);
		if (rc < 0)
			return -1;
		if (rc == 0 && x_is_a)
			note(o, sub, v, vn, NULL, 0);
		else if (rc == 0)
			note(o, sub, NULL, 0, v, vn);
		else if (!only && walk(o, sub, v, vn, w, wn) < 0)
			return -1;
	}
	return 0;
}

static int walk_array(struct docdiffs *o, const char *path, struct mp_cur *ca, uint32_t na, struct mp_cur *cb,
		      uint32_t nb)
{
	for (uint32_t i = 0; i < na || i < nb; i++) {
		const uint8_t *v = NULL, *w = NULL;
		size_t vn = 0, wn = 0;
		char sub[sizeof o->d[0].path];
		if ((i < na && value(ca, &v, &vn)) || (i < nb && value(cb, &w, &wn)))
			return -1;
		snprintf(sub, sizeof sub, "%s[%u]", path, i);
		if (v && w) {
			if (walk(o, sub, v, vn, w, wn) < 0)
				return -1;
		} else {
			note(o, sub, v, vn, w, wn);
		}
	}
	return 0;
}

static int walk(struct docdiffs *o, const char *path, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct mp_cur ca, cb;
	struct mp_item x, y;
	mp_cur_init(&ca, a, an);
	mp_cur_init(&cb, b, bn);
	if (mp_next(&ca, &x, NULL) || mp_next(&cb, &y, NULL))
		return -1;
	if (x.type == MP_MAP && y.type == MP_MAP)
		return walk_map(o, path, a, an, b, bn, true, false) || walk_map(o, path, b, bn, a, an, false, true)
			       ? -1 : 0;
	if (x.type == MP_ARRAY && y.type == MP_ARRAY)
		return walk_array(o, path, &ca, x.n, &cb, y.n);
	if (x.type == MP_MAP || x.type == MP_ARRAY || y.type == MP_MAP || y.type == MP_ARRAY ||
	    !same_scalar(&x, a, an, &y, b, bn))
		note(o, path, a, an, b, bn);
	return 0;
}

int docdiff(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, struct docdiffs *out)
{
	out->kept = out->total = 0;
	if (walk(out, "", a, an, b, bn) < 0)
		return -1;
	return out->total != 0;
}
