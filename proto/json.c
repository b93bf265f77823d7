#include "json.h"

#include <stdio.h>
#include <string.h>

#include "enc.h"
#include "mp.h"
#include "text.h"

struct jp {
	const char *s, *p, *end;
	struct err *e;
};

static int jerr(struct jp *j, const char *what)
{
	return err_set(j->e, "invalid JSON at byte %zu: %s", (size_t)(j->p - j->s), what);
}

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int lit(struct jp *j, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return jerr(j, "unexpected character");
	j->p += n;
	return 0;
}

static int hex4(struct jp *j, uint32_t *v)
{
	if (j->end - j->p < 4)
		return jerr(j, "truncated \\u escape");
	*v = 0;
	for (int k = 0; k < 4; k++) {
		char c = *j->p++;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return jerr(j, "bad hex digit in \\u escape");
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	char t[4];
	size_t n;
	if (cp < 0x80) {
		t[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		t[0] = (char)(0xc0 | cp >> 6);
		t[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		t[0] = (char)(0xe0 | cp >> 12);
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		t[0] = (char)(0xf0 | cp >> 18);
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_add(b, t, n);
}

/* Parses a string into tmp (unescaped UTF-8). */
static int jstring(struct jp *j, struct buf *tmp)
{
	buf_reset(tmp);
	j->p++;			/* opening quote */
	const char *run = j->p;
	for (;;) {
		if (j->p >= j->end)
			return jerr(j, "unterminated string");
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			buf_add(tmp, run, (size_t)(j->p - run));
			j->p++;
			break;
		}
		if (c < 0x20)
			return jerr(j, "control character in string");
		if (c != '\\') {
			j->p++;
			continue;
		}
		buf_add(tmp, run, (size_t)(j->p - run));
		j->p++;
		if (j->p >= j->end)
			return jerr(j, "unterminated escape");
		char esc = *j->p++;
		switch (esc) {
		case '"': buf_addc(tmp, '"'); break;
		case '\\': buf_addc(tmp, '\\'); break;
		case '/': buf_addc(tmp, '/'); break;
		case 'b': buf_addc(tmp, '\b'); break;
		case 'f': buf_addc(tmp, '\f'); break;
		case 'n': buf_addc(tmp, '\n'); break;
		case 'r': buf_addc(tmp, '\r'); break;
		case 't': buf_addc(tmp, '\t'); break;
		case 'u': {
			uint32_t cp, lo;
			if (hex4(j, &cp))
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jerr(j, "lone low surrogate in \\u escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
					return jerr(j, "high surrogate without low surrogate");
				j->p += 2;
				if (hex4(j, &lo))
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return jerr(j, "high surrogate without low surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			put_utf8(tmp, cp);
			break;
		}
		default:
			j->p--;
			return jerr(j, "unknown escape");
		}
		run = j->p;
	}
	if (!utf8_valid(tmp->data, tmp->len))
		return jerr(j, "string is not valid UTF-8");
	return 0;
}

static int jnumber(struct jp *j, struct buf *out)
{
	const char *start = j->p;
	bool neg = false;
	if (*j->p == '-') {
		neg = true;
		j->p++;
	}
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return jerr(j, "bad number");
	if (*j->p == '0' && j->p + 1 < j->end && j->p[1] >= '0' && j->p[1] <= '9')
		return jerr(j, "leading zero in number");
	uint64_t v = 0;
	bool overflow = false;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		unsigned d = (unsigned)(*j->p - '0');
		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		v = v * 10 + d;
		j->p++;
	}
	if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E')) {
		j->p = start;
		return jerr(j, "floating-point numbers are not allowed (amounts are integers in minor units)");
	}
	if (overflow || (neg && v > (uint64_t)INT64_MAX + 1)) {
		j->p = start;
		return jerr(j, "integer out of range");
	}
	if (!neg)
		mp_pack_uint(out, v);
	else if (v == 0)
		mp_pack_uint(out, 0);
	else
		mp_pack_int(out, v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v);
	return 0;
}

static int jvalue(struct jp *j, struct buf *out, struct buf *tmp, unsigned depth);

/* Containers: elements go to a child buffer first because msgpack needs the
 * count before the elements. */
static int jcontainer(struct jp *j, struct buf *out, struct buf *tmp, unsigned depth)
{
	bool obj = *j->p == '{';
	char close = obj ? '}' : ']';
	if (depth >= JSON_MAX_DEPTH)
		return jerr(j, "nested too deeply");
	j->p++;
	struct buf child;
	buf_init(&child);
	uint32_t count = 0;
	int rc = -1;
	ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		goto emit;
	}
	for (;;) {
		ws(j);
		if (obj) {
			if (j->p >= j->end || *j->p != '"') {
				jerr(j, "expected a string key");
				goto out;
			}
			if (jstring(j, tmp))
				goto out;
			mp_pack_str(&child, tmp->data, tmp->len);
			ws(j);
			if (j->p >= j->end || *j->p != ':') {
				jerr(j, "expected ':'");
				goto out;
			}
			j->p++;
		}
		if (jvalue(j, &child, tmp, depth + 1))
			goto out;
		if (count == UINT32_MAX) {
			jerr(j, "too many elements");
			goto out;
		}
		count++;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			break;
		}
		jerr(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		goto out;
	}
emit:
	if (obj)
		mp_pack_map(out, count);
	else
		mp_pack_array(out, count);
	buf_add(out, child.data, child.len);
	rc = 0;
out:
	buf_free(&child);
	return rc;
}

static int jvalue(struct jp *j, struct buf *out, struct buf *tmp, unsigned depth)
{
	ws(j);
	if (j->p >= j->end)
		return jerr(j, "unexpected end of input");
	switch (*j->p) {
	case '{':
	case '[':
		return jcontainer(j, out, tmp, depth);
	case '"':
		if (jstring(j, tmp))
			return -1;
		mp_pack_str(out, tmp->data, tmp->len);
		return 0;
	case 't':
		if (lit(j, "true"))
			return -1;
		mp_pack_bool(out, true);
		return 0;
	case 'f':
		if (lit(j, "false"))
			return -1;
		mp_pack_bool(out, false);
		return 0;
	case 'n':
		if (lit(j, "null"))
			return -1;
		mp_pack_nil(out);
		return 0;
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return jnumber(j, out);
		return jerr(j, "unexpected character");
	}
}

int json_to_msgpack(const char *s, size_t n, struct buf *out, struct err *e)
{
	struct jp j = { s, s, s + n, e };
	struct buf tmp;
	buf_init(&tmp);
	int rc = jvalue(&j, out, &tmp, 0);
	buf_free(&tmp);
	if (rc)
		return -1;
	ws(&j);
	if (j.p != j.end)
		return jerr(&j, "unexpected text after the JSON value");
	if (buf_failed(out))
		return err_set(e, "out of memory");
	return 0;
}

int json_to_canonical(const char *s, size_t n, struct buf *out, struct err *e)
{
	struct buf raw;
	buf_init(&raw);
	int rc = json_to_msgpack(s, n, &raw, e);
	if (rc == 0)
		rc = mp_canonicalize(raw.data, raw.len, NULL, MP_NO_BIN, out, e);
	buf_free(&raw);
	return rc;
}

void json_put_str(struct buf *out, const char *s, size_t n)
{
	buf_addc(out, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x80) {
			/* C1 controls and bidi overrides too: they can rewrite a
			 * terminal that shows the JSON */
			size_t len;
			uint32_t cp;
			if (text_char((const uint8_t *)s + i, n - i, &len, &cp) != TEXT_CONTROL) {
				i += len - 1;
				continue;
			}
			buf_add(out, s + run, i - run);
			buf_printf(out, "\\u%04x", (unsigned)cp);
			run = i + len;
			i += len - 1;
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_add(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_adds(out, "\\\""); break;
		case '\\': buf_adds(out, "\\\\"); break;
		case '\n': buf_adds(out, "\\n"); break;
		case '\r': buf_adds(out, "\\r"); break;
		case '\t': buf_adds(out, "\\t"); break;
		default: buf_printf(out, "\\u%04x", c); break;
		}
	}
	buf_add(out, s + run, n - run);
	buf_addc(out, '"');
}

void json_put_hex(struct buf *out, const uint8_t *p, size_t n)
{
	buf_addc(out, '"');
	if (buf_reserve(out, 2 * n)) {
		hex_encode(p, n, (char *)out->data + out->len);
		out->len += 2 * n;
	}
	buf_addc(out, '"');
}

static int tojson(struct mp_cur *c, struct buf *out, unsigned depth, struct err *e)
{
	struct mp_item it;
	if (mp_next(c, &it, e))
		return -1;
	switch (it.type) {
	case MP_NIL: buf_adds(out, "null"); return 0;
	case MP_BOOL: buf_adds(out, it.b ? "true" : "false"); return 0;
	case MP_UINT: buf_printf(out, "%llu", (unsigned long long)it.u); return 0;
	case MP_NINT: buf_printf(out, "%lld", (long long)it.i); return 0;
	case MP_STR:
		if (!utf8_valid(it.p, it.n))
			return err_set(e, "string is not valid UTF-8");
		json_put_str(out, (const char *)it.p, it.n);
		return 0;
	case MP_BIN: json_put_hex(out, it.p, it.n); return 0;
	case MP_FLOAT: return err_set(e, "floating-point numbers are not allowed");
	case MP_EXT: return err_set(e, "msgpack ext types are not allowed");
	case MP_ARRAY:
	case MP_MAP:
		break;
	}
	if (depth >= JSON_MAX_DEPTH)
		return err_set(e, "msgpack value nested too deeply");
	bool map = it.type == MP_MAP;
	buf_addc(out, map ? '{' : '[');
	for (uint32_t k = 0; k < it.n; k++) {
		if (k)
			buf_addc(out, ',');
		if (map) {
			const char *ks;
			size_t kn;
			if (mp_get_str(c, &ks, &kn, e))
				return err_prefix(e, "map key");
			json_put_str(out, ks, kn);
			buf_addc(out, ':');
		}
		if (tojson(c, out, depth + 1, e))
			return -1;
	}
	buf_addc(out, map ? '}' : ']');
	return 0;
}

int msgpack_to_json(const uint8_t *p, size_t n, struct buf *out, struct err *e)
{
	struct mp_cur c;
	mp_cur_init(&c, p, n);
	if (tojson(&c, out, 0, e))
		return -1;
	if (mp_left(&c))
		return err_set(e, "%zu unexpected bytes after the msgpack value", mp_left(&c));
	if (buf_failed(out))
		return err_set(e, "out of memory");
	return 0;
}
