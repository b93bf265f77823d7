#include "mp.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

const struct mp_limits MP_LIMITS_DEFAULT = { 32, 65536 };

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int k = 0; k < n; k++)
		v = v << 8 | p[k];
	return v;
}

static int need(struct mp_cur *c, size_t n, struct err *e)
{
	if (mp_left(c) < n)
		return err_set(e, "msgpack value truncated (needs %zu more bytes, %zu left)",
			       n, mp_left(c));
	return 0;
}

/* shortest header checks */
static bool uint_shortest(uint8_t tag, uint64_t v)
{
	switch (tag) {
	case 0xcc: return v > 0x7f;
	case 0xcd: return v > 0xff;
	case 0xce: return v > 0xffff;
	case 0xcf: return v > 0xffffffffu;
	default: return true;		/* fixint */
	}
}

static bool nint_shortest(uint8_t tag, int64_t v)
{
	switch (tag) {
	case 0xd0: return v < -32;
	case 0xd1: return v < -128;
	case 0xd2: return v < -32768;
	case 0xd3: return v < -2147483648LL;
	default: return true;
	}
}

int mp_next(struct mp_cur *c, struct mp_item *it, struct err *e)
{
	if (need(c, 1, e))
		return -1;
	uint8_t t = *c->p++;
	int width = 0;		/* bytes of length/value that follow the tag */
	memset(it, 0, sizeof *it);
	it->shortest = true;

	if (t <= 0x7f) {
		it->type = MP_UINT;
		it->u = t;
		return 0;
	}
	if (t >= 0xe0) {
		it->type = MP_NINT;
		it->i = (int8_t)t;
		return 0;
	}
	if (t >= 0x80 && t <= 0x8f) {
		it->type = MP_MAP;
		it->n = t & 0x0f;
		goto container;
	}
	if (t >= 0x90 && t <= 0x9f) {
		it->type = MP_ARRAY;
		it->n = t & 0x0f;
		goto container;
	}
	if (t >= 0xa0 && t <= 0xbf) {
		it->type = MP_STR;
		it->n = t & 0x1f;
		goto payload;
	}
	switch (t) {
	case 0xc0: it->type = MP_NIL; return 0;
	case 0xc2: it->type = MP_BOOL; it->b = false; return 0;
	case 0xc3: it->type = MP_BOOL; it->b = true; return 0;
	case 0xc4: case 0xc5: case 0xc6:
		it->type = MP_BIN;
		width = 1 << (t - 0xc4);
		if (need(c, (size_t)width, e))
			return -1;
		it->n = (uint32_t)be(c->p, width);
		c->p += width;
		it->shortest = (width == 1) || (width == 2 && it->n > 0xff) ||
			       (width == 4 && it->n > 0xffff);
		goto payload;
	case 0xc7: case 0xc8: case 0xc9:
		it->type = MP_EXT;
		width = 1 << (t - 0xc7);
		if (need(c, (size_t)width + 1, e))
			return -1;
		it->n = (uint32_t)be(c->p, width);
		c->p += width + 1;	/* length, then the type byte */
		goto payload;
	case 0xca: case 0xcb:
		it->type = MP_FLOAT;
		width = t == 0xca ? 4 : 8;
		if (need(c, (size_t)width, e))
			return -1;
		c->p += width;
		return 0;
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		it->type = MP_UINT;
		width = 1 << (t - 0xcc);
		if (need(c, (size_t)width, e))
			return -1;
		it->u = be(c->p, width);
		c->p += width;
		it->shortest = uint_shortest(t, it->u);
		return 0;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
		width = 1 << (t - 0xd0);
		if (need(c, (size_t)width, e))
			return -1;
		uint64_t raw = be(c->p, width);
		c->p += width;
		int64_t v;
		switch (width) {
		case 1: v = (int8_t)raw; break;
		case 2: v = (int16_t)raw; break;
		case 4: v = (int32_t)raw; break;
		default: v = (int64_t)raw; break;
		}
		if (v >= 0) {
			/* a signed encoding of a non-negative value is never shortest */
			it->type = MP_UINT;
			it->u = (uint64_t)v;
			it->shortest = false;
		} else {
			it->type = MP_NINT;
			it->i = v;
			it->shortest = nint_shortest(t, v);
		}
		return 0;
	}
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		it->type = MP_EXT;
		it->n = 1u << (t - 0xd4);
		if (need(c, 1, e))
			return -1;
		c->p++;
		goto payload;
	case 0xd9: case 0xda: case 0xdb:
		it->type = MP_STR;
		width = 1 << (t - 0xd9);
		if (need(c, (size_t)width, e))
			return -1;
		it->n = (uint32_t)be(c->p, width);
		c->p += width;
		it->shortest = (width == 1 && it->n > 31) || (width == 2 && it->n > 0xff) ||
			       (width == 4 && it->n > 0xffff);
		goto payload;
	case 0xdc: case 0xdd:
		it->type = MP_ARRAY;
		width = t == 0xdc ? 2 : 4;
		goto counted;
	case 0xde: case 0xdf:
		it->type = MP_MAP;
		width = t == 0xde ? 2 : 4;
		goto counted;
	default:
		return err_set(e, "msgpack tag 0x%02x is not valid", t);
	}

counted:
	if (need(c, (size_t)width, e))
		return -1;
	it->n = (uint32_t)be(c->p, width);
	c->p += width;
	it->shortest = width == 2 ? it->n > 15 : it->n > 0xffff;
container: {
	/* every element needs at least one byte, every map pair two */
	uint64_t min = it->type == MP_MAP ? 2 * (uint64_t)it->n : it->n;
	if (min > mp_left(c))
		return err_set(e, "msgpack %s declares %u elements but only %zu bytes follow",
			       it->type == MP_MAP ? "map" : "array", it->n, mp_left(c));
	return 0;
}
payload:
	if (it->n > mp_left(c))
		return err_set(e, "msgpack %s declares %u bytes but only %zu follow",
			       it->type == MP_STR ? "string" : it->type == MP_BIN ? "binary" : "ext",
			       it->n, mp_left(c));
	it->p = c->p;
	c->p += it->n;
	return 0;
}

int mp_skip(struct mp_cur *c, unsigned depth, struct err *e)
{
	struct mp_item it;
	if (mp_next(c, &it, e))
		return -1;
	if (it.type != MP_ARRAY && it.type != MP_MAP)
		return 0;
	if (depth == 0)
		return err_set(e, "msgpack value nested too deeply");
	uint64_t n = it.type == MP_MAP ? 2 * (uint64_t)it.n : it.n;
	for (uint64_t k = 0; k < n; k++)
		if (mp_skip(c, depth - 1, e))
			return -1;
	return 0;
}

int mp_value_len(const uint8_t *p, size_t n, size_t *len)
{
	size_t at = 0;
	uint64_t left = 1;	/* values still to walk; each needs a byte */
	while (left > 0) {
		if (left > n - at)
			return 0;
		uint8_t t = p[at];
		size_t width = 0;	/* bytes of length or count after the tag */
		uint64_t fixed = 0;	/* payload bytes known from the tag */
		int kind = 0;		/* 0 scalar, 1 length-prefixed, 2 array, 3 map */
		left--;
		if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
		} else if (t <= 0x8f) {
			left += 2u * (t & 0x0fu);
		} else if (t <= 0x9f) {
			left += t & 0x0fu;
		} else if (t <= 0xbf) {
			fixed = t & 0x1fu;
		} else if (t >= 0xc4 && t <= 0xc6) {
			width = (size_t)1 << (t - 0xc4), kind = 1;
		} else if (t >= 0xc7 && t <= 0xc9) {
			width = (size_t)1 << (t - 0xc7), kind = 1, fixed = 1;	/* the ext type byte */
		} else if (t == 0xca || t == 0xcb) {
			fixed = t == 0xca ? 4 : 8;
		} else if (t >= 0xcc && t <= 0xd3) {
			fixed = (uint64_t)1 << ((t - 0xcc) & 3);
		} else if (t >= 0xd4 && t <= 0xd8) {
			fixed = 1 + ((uint64_t)1 << (t - 0xd4));
		} else if (t >= 0xd9 && t <= 0xdb) {
			width = (size_t)1 << (t - 0xd9), kind = 1;
		} else if (t == 0xdc || t == 0xdd) {
			width = t == 0xdc ? 2 : 4, kind = 2;
		} else if (t == 0xde || t == 0xdf) {
			width = t == 0xde ? 2 : 4, kind = 3;
		} else {
			return -1;	/* 0xc1 */
		}
		at++;
		if (width > n - at)
			return 0;
		uint64_t v = be(p + at, (int)width);
		at += width;
		if (kind == 1)
			fixed += v;
		else if (kind >= 2)
			left += kind == 3 ? 2 * v : v;
		if (fixed > n - at)
			return 0;
		at += (size_t)fixed;
	}
	*len = at;
	return 1;
}

static const char *type_name(enum mp_type t)
{
	static const char *names[] = { "nil", "boolean", "integer", "integer", "float",
				       "string", "binary", "array", "map", "ext" };
	return names[t];
}

static int get_typed(struct mp_cur *c, struct mp_item *it, enum mp_type want, struct err *e)
{
	if (mp_next(c, it, e))
		return -1;
	if (it->type != want)
		return err_set(e, "expected %s, found %s",
			       want == MP_UINT ? "non-negative integer" : type_name(want),
			       type_name(it->type));
	return 0;
}

int mp_get_map(struct mp_cur *c, uint32_t *n, struct err *e)
{
	struct mp_item it;
	if (get_typed(c, &it, MP_MAP, e))
		return -1;
	*n = it.n;
	return 0;
}

int mp_get_array(struct mp_cur *c, uint32_t *n, struct err *e)
{
	struct mp_item it;
	if (get_typed(c, &it, MP_ARRAY, e))
		return -1;
	*n = it.n;
	return 0;
}

int mp_get_uint(struct mp_cur *c, uint64_t *v, struct err *e)
{
	struct mp_item it;
	if (get_typed(c, &it, MP_UINT, e))
		return -1;
	*v = it.u;
	return 0;
}

int mp_get_str_checked(struct mp_cur *c, const char **s, size_t *n, struct err *e)
{
	struct mp_item it;
	if (get_typed(c, &it, MP_STR, e))
		return -1;
	*s = (const char *)it.p;
	*n = it.n;
	return 0;
}

int mp_get_str(struct mp_cur *c, const char **s, size_t *n, struct err *e)
{
	if (mp_get_str_checked(c, s, n, e))
		return -1;
	if (!utf8_valid((const uint8_t *)*s, *n))
		return err_set(e, "string is not valid UTF-8");
	return 0;
}

int mp_get_bin(struct mp_cur *c, const uint8_t **p, size_t *n, struct err *e)
{
	struct mp_item it;
	if (get_typed(c, &it, MP_BIN, e))
		return -1;
	*p = it.p;
	*n = it.n;
	return 0;
}

int mp_expect_key(struct mp_cur *c, const char *want, struct err *e)
{
	const char *s;
	size_t n;
	/* no UTF-8 check needed: the bytes must equal want, which is valid */
	if (mp_get_str_checked(c, &s, &n, e))
		return err_prefix(e, "reading key \"%s\"", want);
	if (n != strlen(want) || memcmp(s, want, n) != 0)
		return err_set(e, "expected key \"%s\", found \"%.*s\"", want,
			       (int)(n > 64 ? 64 : n), s);
	return 0;
}

bool utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (c < 0x80) {
			/* ASCII runs, the common case, eight bytes at a time */
			uint64_t w;
			while (n - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0))
				i += 8;
			if (i < n && p[i] < 0x80)
				i++;
			continue;
		}
		size_t len;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			len = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* ---- validation ---- */

struct walk {
	const struct mp_limits *lim;
	unsigned flags;
	size_t items;
};

static int keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);
	if (r != 0)
		return r;
	return an < bn ? -1 : an > bn;
}

static int scalar_ok(const struct walk *w, const struct mp_item *it, struct err *e)
{
	if (it->type == MP_FLOAT)
		return err_set(e, "floating-point numbers are not allowed");
	if (it->type == MP_EXT)
		return err_set(e, "msgpack ext types are not allowed");
	if (it->type == MP_BIN && (w->flags & MP_NO_BIN))
		return err_set(e, "binary strings are not allowed here");
	if (it->type == MP_STR && !utf8_valid(it->p, it->n))
		return err_set(e, "string is not valid UTF-8");
	if ((w->flags & MP_CANONICAL) && !it->shortest)
		return err_set(e, "non-canonical encoding (not the shortest form)");
	return 0;
}

static int check_value(struct mp_cur *c, struct walk *w, unsigned depth, struct err *e)
{
	struct mp_item it;
	if (mp_next(c, &it, e))
		return -1;
	if (++w->items > w->lim->max_items)
		return err_set(e, "too many msgpack values (limit %zu)", w->lim->max_items);
	if (scalar_ok(w, &it, e))
		return -1;
	if (it.type == MP_BIN && (w->flags & MP_BIN_TOP) && depth > 1)
		return err_set(e, "binary strings are not allowed here (only as top-level fields)");
	if (it.type != MP_ARRAY && it.type != MP_MAP)
		return 0;
	if (depth >= w->lim->max_depth)
		return err_set(e, "msgpack value nested deeper than %u levels", w->lim->max_depth);
	if (it.type == MP_ARRAY) {
		for (uint32_t k = 0; k < it.n; k++)
			if (check_value(c, w, depth + 1, e))
				return -1;
		return 0;
	}
	const uint8_t *prev = NULL;
	size_t prevn = 0;
	for (uint32_t k = 0; k < it.n; k++) {
		if (!(w->flags & MP_CANONICAL)) {
			if (check_value(c, w, depth + 1, e) || check_value(c, w, depth + 1, e))
				return -1;
			continue;
		}
		/* canonical: the key is a string, read once */
		struct mp_item key;
		if (mp_next(c, &key, e))
			return -1;
		if (key.type != MP_STR)
			return err_set(e, "map keys must be strings");
		if (++w->items > w->lim->max_items)
			return err_set(e, "too many msgpack values (limit %zu)", w->lim->max_items);
		if (scalar_ok(w, &key, e))
			return -1;
		if (prev != NULL && keycmp(prev, prevn, key.p, key.n) >= 0)
			return err_set(e, "map keys not in canonical order or repeated (\"%.*s\")",
				       (int)(key.n > 64 ? 64 : key.n), (const char *)key.p);
		prev = key.p;
		prevn = key.n;
		if (check_value(c, w, depth + 1, e))
			return -1;
	}
	return 0;
}

int mp_check(const void *p, size_t n, const struct mp_limits *lim, unsigned flags,
	     struct err *e)
{
	struct mp_cur c;
	struct walk w = { lim ? lim : &MP_LIMITS_DEFAULT, flags, 0 };
	mp_cur_init(&c, p, n);
	if (check_value(&c, &w, 0, e))
		return -1;
	if (mp_left(&c) != 0)
		return err_set(e, "%zu unexpected bytes after the msgpack value", mp_left(&c));
	return 0;
}

/* ---- canonicalisation ---- */

struct pair {
	const uint8_t *key;
	uint32_t keyn;
	const uint8_t *val;
	size_t valn;
};

static int paircmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;
	return keycmp(x->key, x->keyn, y->key, y->keyn);
}

static int canon_value(struct mp_cur *c, struct walk *w, unsigned depth,
		       struct buf *out, struct err *e)
{
	struct mp_item it;
	if (mp_next(c, &it, e))
		return -1;
	if (++w->items > w->lim->max_items)
		return err_set(e, "too many msgpack values (limit %zu)", w->lim->max_items);
	unsigned saved = w->flags;
	w->flags &= ~MP_CANONICAL;	/* input need not be canonical */
	int bad = scalar_ok(w, &it, e);
	w->flags = saved;
	if (bad)
		return -1;
	switch (it.type) {
	case MP_NIL: mp_pack_nil(out); return 0;
	case MP_BOOL: mp_pack_bool(out, it.b); return 0;
	case MP_UINT: mp_pack_uint(out, it.u); return 0;
	case MP_NINT: mp_pack_int(out, it.i); return 0;
	case MP_STR: mp_pack_str(out, it.p, it.n); return 0;
	case MP_BIN: mp_pack_bin(out, it.p, it.n); return 0;
	default: break;
	}
	if (depth >= w->lim->max_depth)
		return err_set(e, "msgpack value nested deeper than %u levels", w->lim->max_depth);
	if (it.type == MP_ARRAY) {
		mp_pack_array(out, it.n);
		for (uint32_t k = 0; k < it.n; k++)
			if (canon_value(c, w, depth + 1, out, e))
				return -1;
		return 0;
	}
	/* map: it.n <= bytes left / 2 was checked by mp_next, so this
	 * allocation is bounded by the input size */
	struct pair *pairs = it.n ? calloc(it.n, sizeof *pairs) : NULL;
	if (it.n && pairs == NULL)
		return err_set(e, "out of memory");
	int rc = -1;
	for (uint32_t k = 0; k < it.n; k++) {
		struct mp_item key;
		if (mp_next(c, &key, e))
			goto done;
		if (key.type != MP_STR) {
			err_set(e, "map keys must be strings");
			goto done;
		}
		if (!utf8_valid(key.p, key.n)) {
			err_set(e, "map key is not valid UTF-8");
			goto done;
		}
		pairs[k].key = key.p;
		pairs[k].keyn = key.n;
		pairs[k].val = c->p;
		if (mp_skip(c, w->lim->max_depth - depth, e))
			goto done;
		pairs[k].valn = (size_t)(c->p - pairs[k].val);
	}
	if (it.n > 1)
		qsort(pairs, it.n, sizeof *pairs, paircmp);
	mp_pack_map(out, it.n);
	for (uint32_t k = 0; k < it.n; k++) {
		if (k > 0 && paircmp(&pairs[k - 1], &pairs[k]) == 0) {
			err_set(e, "map key \"%.*s\" appears twice",
				(int)(pairs[k].keyn > 64 ? 64 : pairs[k].keyn),
				(const char *)pairs[k].key);
			goto done;
		}
		w->items++;
		mp_pack_str(out, pairs[k].key, pairs[k].keyn);
		struct mp_cur vc;
		mp_cur_init(&vc, pairs[k].val, pairs[k].valn);
		if (canon_value(&vc, w, depth + 1, out, e))
			goto done;
	}
	rc = 0;
done:
	free(pairs);
	return rc;
}

int mp_canonicalize(const void *p, size_t n, const struct mp_limits *lim,
		    unsigned flags, struct buf *out, struct err *e)
{
	struct mp_cur c;
	struct walk w = { lim ? lim : &MP_LIMITS_DEFAULT, flags, 0 };
	mp_cur_init(&c, p, n);
	if (canon_value(&c, &w, 0, out, e))
		return -1;
	if (mp_left(&c) != 0)
		return err_set(e, "%zu unexpected bytes after the msgpack value", mp_left(&c));
	if (buf_failed(out))
		return err_set(e, "out of memory");
	return 0;
}

/* ---- packing through msgpack-c ---- */

static int buf_write(void *data, const char *p, size_t n)
{
	buf_add(data, p, n);
	return ((struct buf *)data)->failed ? -1 : 0;
}

#define PACKER(b) msgpack_packer pk; msgpack_packer_init(&pk, (b), buf_write)

void mp_pack_nil(struct buf *b) { PACKER(b); msgpack_pack_nil(&pk); }
void mp_pack_bool(struct buf *b, bool v)
{
	PACKER(b);
	if (v)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
}
void mp_pack_uint(struct buf *b, uint64_t v) { PACKER(b); msgpack_pack_uint64(&pk, v); }
void mp_pack_int(struct buf *b, int64_t v) { PACKER(b); msgpack_pack_int64(&pk, v); }
void mp_pack_str(struct buf *b, const void *s, size_t n)
{
	PACKER(b);
	msgpack_pack_str(&pk, n);
	msgpack_pack_str_body(&pk, s, n);
}
void mp_pack_cstr(struct buf *b, const char *s) { mp_pack_str(b, s, strlen(s)); }
void mp_pack_bin(struct buf *b, const void *p, size_t n)
{
	PACKER(b);
	msgpack_pack_bin(&pk, n);
	msgpack_pack_bin_body(&pk, p, n);
}
void mp_pack_array(struct buf *b, uint32_t n) { PACKER(b); msgpack_pack_array(&pk, n); }
void mp_pack_map(struct buf *b, uint32_t n) { PACKER(b); msgpack_pack_map(&pk, n); }

int mp_map_find(const void *p, size_t n, const char *key, struct mp_cur *val,
		struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	size_t klen = strlen(key);
	mp_cur_init(&c, p, n);
	if (mp_get_map(&c, &count, e))
		return -1;
	for (uint32_t k = 0; k < count; k++) {
		struct mp_item it;
		if (mp_next(&c, &it, e))
			return -1;
		if (it.type == MP_ARRAY || it.type == MP_MAP)
			return err_set(e, "map keys must be strings");
		if (it.type == MP_STR && it.n == klen && memcmp(it.p, key, klen) == 0) {
			*val = c;
			return 1;
		}
		if (mp_skip(&c, MP_LIMITS_DEFAULT.max_depth, e))
			return -1;
	}
	return 0;
}
