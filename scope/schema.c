#include "schema.h"

#include <stdio.h>
#include <string.h>

#include "isotime.h"
#include "mp.h"

int schema_index(const struct schema *sc, const char *name)
{
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool id_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return n > 0;
}

const char *schema_ref_prefix(enum field_type t)
{
	switch (t) {
	case F_CR: return "CR-";
	case F_AMD: return "AMD-";
	case F_CASE: return "CASE-";
	case F_DLV: return "DLV-";
	case F_AGR: return "AGR-";
	case F_NTC: return "NTC-";
	case F_LNK: return "LNK-";
	default: return NULL;
	}
}

/* A numbered reference: the prefix, then 1..2^31 without leading zeros. */
static bool ref_parse(enum field_type t, const char *s, size_t n, uint64_t *num)
{
	const char *pre = schema_ref_prefix(t);
	size_t pn = strlen(pre);
	if (n < pn + 1 || n > pn + 10 || memcmp(s, pre, pn) != 0 || s[pn] == '0')
		return false;
	uint64_t v = 0;
	for (size_t i = pn; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v == 0 || v > 0x7fffffff)
		return false;
	*num = v;
	return true;
}

static int scalar(const struct field *f, enum field_type type, struct mp_cur *c, struct value *v,
		  const char *where, struct err *e)
{
	struct mp_item it;
	if (mp_next(c, &it, e))
		return -1;
	switch (type) {
	case F_UINT:
		if (it.type != MP_UINT)
			return err_set(e, "%s: must be a non-negative integer", where);
		if (it.u < f->min || it.u > f->max)
			return err_set(e, "%s: %llu is outside %llu..%llu", where, (unsigned long long)it.u,
				       (unsigned long long)f->min, (unsigned long long)f->max);
		v->u = it.u;
		return 0;
	case F_BOOL:
		if (it.type != MP_BOOL)
			return err_set(e, "%s: must be true or false", where);
		v->u = it.b;
		return 0;
	default:
		break;
	}
	if (it.type != MP_STR)
		return err_set(e, "%s: must be a string", where);
	v->s = (const char *)it.p;
	v->len = it.n;
	switch (type) {
	case F_STR: {
		/* limits count characters (code points), not bytes */
		uint64_t chars = 0;
		if (!utf8_valid(it.p, it.n))
			return err_set(e, "%s: is not valid UTF-8", where);
		for (uint32_t i = 0; i < it.n; i++)
			chars += (it.p[i] & 0xc0) != 0x80;
		if (chars < f->min || chars > f->max)
			return err_set(e, "%s: must be %llu to %llu characters, not %llu", where,
				       (unsigned long long)f->min, (unsigned long long)f->max,
				       (unsigned long long)chars);
		for (uint32_t i = 0; i < it.n; i++)
			if ((it.p[i] < 0x20 && it.p[i] != '\n' && it.p[i] != '\t') || it.p[i] == 0x7f)
				return err_set(e, "%s: contains a control character", where);
		return 0;
	}
	case F_ID:
		if (it.n > f->max || !id_ok(v->s, it.n))
			return err_set(e, "%s: must be 1 to %llu characters of A-Z a-z 0-9 . _ -", where,
				       (unsigned long long)f->max);
		return 0;
	case F_ENUM:
		for (const char *const *p = f->values; *p; p++)
			if (strlen(*p) == it.n && memcmp(*p, it.p, it.n) == 0)
				return 0;
		{
			char list[256] = "";
			for (const char *const *p = f->values; *p; p++) {
				strncat(list, *p, sizeof list - strlen(list) - 3);
				if (p[1])
					strncat(list, ", ", sizeof list - strlen(list) - 1);
			}
			return err_set(e, "%s: must be one of %s", where, list);
		}
	case F_SHA256:
		if (it.n != 64)
			return err_set(e, "%s: must be 64 lowercase hex digits (SHA-256)", where);
		for (uint32_t i = 0; i < 64; i++)
			if (!((it.p[i] >= '0' && it.p[i] <= '9') || (it.p[i] >= 'a' && it.p[i] <= 'f')))
				return err_set(e, "%s: must be 64 lowercase hex digits (SHA-256)", where);
		return 0;
	case F_DATE:
		if (!time_date_ok(v->s, it.n))
			return err_set(e, "%s: must be a date YYYY-MM-DD", where);
		return 0;
	case F_CR:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a change request number like CR-1", where);
		return 0;
	case F_AMD:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a contract amendment number like AMD-1", where);
		return 0;
	case F_CASE:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a complaint case number like CASE-1", where);
		return 0;
	case F_DLV:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a delivery number like DLV-1", where);
		return 0;
	case F_AGR:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be an agreement number like AGR-1", where);
		return 0;
	case F_NTC:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a notice number like NTC-1", where);
		return 0;
	case F_LNK:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a link number like LNK-1", where);
		return 0;
	default:
		return err_set(e, "%s: bad schema", where);
	}
}

static int check_map(const struct schema *sc, struct mp_cur *c, bool allow_assigned,
		     struct value *vals, const char *prefix, struct err *e);

static int field_value(const struct field *f, struct mp_cur *c, bool allow_assigned,
		       struct value *v, const char *where, struct err *e)
{
	(void)allow_assigned;
	struct mp_item it;
	const uint8_t *start = c->p;
	if (f->type == F_MAP) {
		if (mp_get_map(c, &it.n, e))
			return err_set(e, "%s: must be a map", where);
		if (it.n < f->min || it.n > f->max)
			return err_set(e, "%s: must have %llu to %llu fields", where, (unsigned long long)f->min,
				       (unsigned long long)f->max);
		for (uint32_t i = 0; i < it.n; i++) {
			const char *k;
			size_t kn;
			if (mp_get_str(c, &k, &kn, e))
				return err_set(e, "%s: its keys must be field names", where);
			if (mp_skip(c, 8, e))
				return -1;
		}
		v->count = it.n;
		v->p = start;
		v->plen = (size_t)(c->p - start);
		return 0;
	}
	if (f->type != F_ARRAY)
		return scalar(f, f->type, c, v, where, e);
	if (mp_next(c, &it, e))
		return -1;
	if (it.type != MP_ARRAY)
		return err_set(e, "%s: must be an array", where);
	if (it.n < f->min || it.n > f->max)
		return err_set(e, "%s: must have %llu to %llu elements", where, (unsigned long long)f->min,
			       (unsigned long long)f->max);
	v->count = it.n;
	for (uint32_t i = 0; i < it.n; i++) {
		char sub[240];
		snprintf(sub, sizeof sub, "%.200s[%u]", where, i);
		if (f->items) {
			struct value tmp[16];
			if (f->items->n > 16 || check_map(f->items, c, allow_assigned, tmp, sub, e))
				return -1;
		} else {
			struct field itemf = { f->name, f->item_type, false, false, 0, f->item_type == F_UINT ? UINT64_MAX : 64,
					       NULL, NULL, 0 };
			struct value tmp;
			if (scalar(&itemf, f->item_type, c, &tmp, sub, e))
				return -1;
		}
	}
	v->p = start;
	v->plen = (size_t)(c->p - start);
	return 0;
}

static int check_map(const struct schema *sc, struct mp_cur *c, bool allow_assigned,
		     struct value *vals, const char *prefix, struct err *e)
{
	uint32_t count;
	memset(vals, 0, sc->n * sizeof *vals);
	if (mp_get_map(c, &count, e))
		return err_set(e, "%s%s must be a map", prefix, prefix[0] ? "" : sc->what);
	for (uint32_t i = 0; i < count; i++) {
		const char *k;
		size_t kn;
		if (mp_get_str(c, &k, &kn, e))
			return -1;
		size_t j;
		for (j = 0; j < sc->n; j++)
			if (strlen(sc->fields[j].name) == kn && memcmp(sc->fields[j].name, k, kn) == 0)
				break;
		if (j == sc->n)
			return err_set(e, "%s%s: unknown field \"%.*s\"", prefix, prefix[0] ? "" : sc->what,
				       (int)(kn > 40 ? 40 : kn), k);
		const struct field *f = &sc->fields[j];
		if (f->assigned && !allow_assigned)
			return err_set(e, "%s: \"%s\" is assigned by the ledger and may not be sent", sc->what,
				       f->name);
		char where[240];
		snprintf(where, sizeof where, "%.160s.%.60s", prefix[0] ? prefix : sc->what, f->name);
		if (field_value(f, c, allow_assigned, &vals[j], where, e))
			return -1;
		vals[j].present = true;
	}
	for (size_t j = 0; j < sc->n; j++)
		if (sc->fields[j].required && !vals[j].present &&
		    !(sc->fields[j].assigned && !allow_assigned))
			return err_set(e, "%s%s: \"%s\" is required", prefix, prefix[0] ? "" : sc->what,
				       sc->fields[j].name);
	return 0;
}

int schema_check_value(const struct field *f, const uint8_t *p, size_t n, struct value *v, const char *where,
		       struct err *e)
{
	struct mp_cur c;
	mp_cur_init(&c, p, n);
	memset(v, 0, sizeof *v);
	if (field_value(f, &c, false, v, where, e))
		return -1;
	if (mp_left(&c))
		return err_set(e, "%s: trailing bytes", where);
	v->present = true;
	return 0;
}

int schema_check(const struct schema *sc, const uint8_t *body, size_t n, bool allow_assigned,
		 struct value *vals, struct err *e)
{
	struct mp_cur c;
	mp_cur_init(&c, body, n);
	if (check_map(sc, &c, allow_assigned, vals, "", e))
		return -1;
	if (mp_left(&c))
		return err_set(e, "%s: trailing bytes", sc->what);
	return 0;
}

int schema_strip_assigned(const struct schema *sc, const uint8_t *body, size_t n, struct buf *out,
			  struct err *e)
{
	struct mp_cur c;
	uint32_t count, kept = 0;
	struct buf rest;
	mp_cur_init(&c, body, n);
	if (mp_get_map(&c, &count, e))
		return -1;
	buf_init(&rest);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *start = c.p;
		const char *name;
		size_t nn;
		if (mp_get_str(&c, &name, &nn, e) || mp_skip(&c, 16, e)) {
			buf_free(&rest);
			return -1;
		}
		bool assigned = false;
		for (size_t f = 0; f < sc->n; f++)
			if (sc->fields[f].assigned && strlen(sc->fields[f].name) == nn &&
			    memcmp(sc->fields[f].name, name, nn) == 0)
				assigned = true;
		if (!assigned) {
			buf_add(&rest, start, (size_t)(c.p - start));
			kept++;
		}
	}
	mp_pack_map(out, kept);
	buf_add(out, rest.data, rest.len);
	buf_free(&rest);
	return buf_failed(out) ? err_set(e, "out of memory") : 0;
}
