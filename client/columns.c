#include "columns.h"

#include <stdbool.h>
#include <string.h>

#include "args.h"
#include "mp.h"
#include "show.h"
#include "text.h"

/* East Asian wide and fullwidth characters (the ranges wcwidth gives 2). */
static bool wide(uint32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0x303e) ||
	       (cp >= 0x3041 && cp <= 0x33ff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
	       (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0xa000 && cp <= 0xa4cf) ||
	       (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	       (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
	       (cp >= 0x20000 && cp <= 0x3fffd);
}

/* Bytes of s that fit in width columns; *used gets their columns. */
static size_t fit(const char *s, size_t width, size_t *used)
{
	size_t i = 0, cols = 0, n = strlen(s);
	while (i < n) {
		size_t len;
		uint32_t cp;
		text_char((const uint8_t *)s + i, n - i, &len, &cp);
		size_t w = wide(cp) ? 2 : 1;
		if (cols + w > width)
			break;
		cols += w;
		i += len;
	}
	*used = cols;
	return i;
}

size_t columns_width(const char *s)
{
	size_t cols;
	fit(s, SIZE_MAX, &cols);
	return cols;
}

const char *columns_cut(const char *s, size_t width)
{
	static struct buf ring[8];
	static unsigned next;
	struct buf *b = &ring[next++ % 8];
	size_t cols;
	buf_reset(b);
	if (columns_width(s) <= width || width < 3) {
		buf_adds(b, s);
		return buf_cstr(b);
	}
	buf_add(b, s, fit(s, width - 3, &cols));
	buf_adds(b, "...");
	return buf_cstr(b);
}

static void value(struct mp_cur *c, struct buf *out, int depth, bool time)
{
	struct mp_item it;
	if (mp_next(c, &it, NULL))
		return;
	switch (it.type) {
	case MP_MAP:
		if (depth)
			buf_addc(out, '(');
		for (uint32_t i = 0; i < it.n; i++) {
			struct mp_item k;
			if (mp_next(c, &k, NULL))
				return;
			if (i)
				buf_adds(out, ", ");
			bool t = k.type == MP_STR && k.n > 3 &&
				 (memcmp(k.p + k.n - 3, "_at", 3) == 0 || memcmp(k.p + k.n - 3, "_us", 3) == 0);
			if (k.type == MP_STR)
				buf_adds(out, show((const char *)k.p, k.n));
			buf_adds(out, ": ");
			value(c, out, depth + 1, t);
		}
		if (depth)
			buf_addc(out, ')');
		return;
	case MP_ARRAY:
		for (uint32_t i = 0; i < it.n; i++) {
			if (i)
				buf_adds(out, ", ");
			value(c, out, depth + 1, false);
		}
		return;
	case MP_STR: buf_adds(out, show((const char *)it.p, it.n)); return;
	case MP_UINT:
		if (time) {
			char t[40];
			args_time(it.u, t);
			buf_adds(out, t);
		} else {
			buf_printf(out, "%llu", (unsigned long long)it.u);
		}
		return;
	case MP_NINT: buf_printf(out, "%lld", (long long)it.i); return;
	case MP_BOOL: buf_adds(out, it.b ? "yes" : "no"); return;
	case MP_NIL: buf_adds(out, "-"); return;
	default: buf_adds(out, "?"); return;
	}
}

void columns_text(const uint8_t *p, size_t n, struct buf *out)
{
	struct mp_cur c;
	mp_cur_init(&c, p, n);
	value(&c, out, 0, false);
}
