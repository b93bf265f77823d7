#include "schema.h"

#include <stdio.h>
#include <string.h>

#include "entry.h"
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

/* Where a value lies, for messages.  It is formatted only when a message
 * needs it (a body with nothing wrong names nothing): a name given whole
 * (schema_check_value's where), a field of a map (the body's, named by its
 * schema, or an array element's), or an element of an array field. */
struct loc {
	const struct loc *up;		/* a field: the element holding its map (NULL: the body); an element: its array */
	const struct schema *sc;	/* a field: the map's schema; NULL for the other two */
	const char *name;		/* a field's name, or the name given whole */
	uint32_t index;			/* an element's */
	bool element;
};

#define LOC_MAX 240

static const char *loc_str(const struct loc *l, char out[LOC_MAX])
{
	char up[LOC_MAX];
	if (l->element)
		snprintf(out, LOC_MAX, "%.200s[%u]", loc_str(l->up, up), l->index);
	else if (l->sc)
		snprintf(out, LOC_MAX, "%.160s.%.60s", l->up ? loc_str(l->up, up) : l->sc->what, l->name);
	else
		return l->name;
	return out;
}

/* A message's name for where, w a buffer of the function's own: only
 * formatted when the message is made. */
#define W(where) loc_str((where), w)

/* A value of type is read from c into *v; unless the body was checked
 * already (checked), the value is checked against f. */
static int scalar(const struct field *f, enum field_type type, struct mp_cur *c, struct value *v, bool checked,
		  const struct loc *where, struct err *e)
{
	char w[LOC_MAX];
	struct mp_item it;
	if (mp_next(c, &it, e))
		return -1;
	switch (type) {
	case F_UINT:
		if (it.type != MP_UINT)
			return err_set(e, "%s: must be a non-negative integer", W(where));
		if (!checked && (it.u < f->min || it.u > f->max))
			return err_set(e, "%s: %llu is outside %llu..%llu", W(where), (unsigned long long)it.u,
				       (unsigned long long)f->min, (unsigned long long)f->max);
		v->u = it.u;
		return 0;
	case F_BOOL:
		if (it.type != MP_BOOL)
			return err_set(e, "%s: must be true or false", W(where));
		v->u = it.b;
		return 0;
	default:
		break;
	}
	if (it.type != MP_STR)
		return err_set(e, "%s: must be a string", W(where));
	v->s = (const char *)it.p;
	v->len = it.n;
	if (checked && schema_ref_prefix(type) == NULL)
		return 0;	/* the string is the value; a reference's number is read below */
	switch (type) {
	case F_STR: {
		/* limits count characters (code points), not bytes */
		uint64_t chars = 0;
		if (!utf8_valid(it.p, it.n))
			return err_set(e, "%s: is not valid UTF-8", W(where));
		for (uint32_t i = 0; i < it.n; i++)
			chars += (it.p[i] & 0xc0) != 0x80;
		if (chars < f->min || chars > f->max)
			return err_set(e, "%s: must be %llu to %llu characters, not %llu", W(where),
				       (unsigned long long)f->min, (unsigned long long)f->max,
				       (unsigned long long)chars);
		for (uint32_t i = 0; i < it.n; i++)
			if ((it.p[i] < 0x20 && it.p[i] != '\n' && it.p[i] != '\t') || it.p[i] == 0x7f)
				return err_set(e, "%s: contains a control character", W(where));
		return 0;
	}
	case F_ID:
		if (it.n > f->max || !id_ok(v->s, it.n))
			return err_set(e, "%s: must be 1 to %llu characters of A-Z a-z 0-9 . _ -", W(where),
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
			return err_set(e, "%s: must be one of %s", W(where), list);
		}
	case F_SHA256:
		if (it.n != 64)
			return err_set(e, "%s: must be 64 lowercase hex digits (SHA-256)", W(where));
		for (uint32_t i = 0; i < 64; i++)
			if (!((it.p[i] >= '0' && it.p[i] <= '9') || (it.p[i] >= 'a' && it.p[i] <= 'f')))
				return err_set(e, "%s: must be 64 lowercase hex digits (SHA-256)", W(where));
		return 0;
	case F_DATE:
		if (!time_date_ok(v->s, it.n))
			return err_set(e, "%s: must be a date YYYY-MM-DD", W(where));
		return 0;
	case F_CR:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a change request number like CR-1", W(where));
		return 0;
	case F_AMD:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a contract amendment number like AMD-1", W(where));
		return 0;
	case F_CASE:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a complaint case number like CASE-1", W(where));
		return 0;
	case F_DLV:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a delivery number like DLV-1", W(where));
		return 0;
	case F_AGR:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be an agreement number like AGR-1", W(where));
		return 0;
	case F_NTC:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a notice number like NTC-1", W(where));
		return 0;
	case F_LNK:
		if (!ref_parse(type, v->s, it.n, &v->u))
			return err_set(e, "%s: must be a link number like LNK-1", W(where));
		return 0;
	default:
		return err_set(e, "%s: bad schema", W(where));
	}
}

/* How a body is walked: checked as a client sent it (the fields the ledger
 * assigns absent) or as it was stored (with them), or read, the values
 * only, when schema_check() accepted it already. */
enum walk { WALK_SENT, WALK_STORED, WALK_READ };

static int walk_map(const struct schema *sc, struct mp_cur *c, enum walk how, struct value *vals,
		    const struct loc *prefix, struct err *e);

/* A map's or an array's count of n (what: "fields", "elements") within
 * f's bounds; read, the whole value from start is skipped instead (its
 * elements were checked with the body). */
static int count_or_skip(const struct field *f, struct mp_cur *c, const uint8_t *start, uint32_t n,
			 const char *what, enum walk how, const struct loc *where, struct err *e)
{
	char w[LOC_MAX];
	if (how == WALK_READ) {
		c->p = start;
		return mp_skip(c, ENTRY_BODY_DEPTH, e);
	}
	if (n < f->min || n > f->max)
		return err_set(e, "%s: must have %llu to %llu %s", W(where), (unsigned long long)f->min,
			       (unsigned long long)f->max, what);
	return 0;
}

static int field_value(const struct field *f, struct mp_cur *c, enum walk how, struct value *v,
		       const struct loc *where, struct err *e)
{
	char w[LOC_MAX];
	struct mp_item it;
	const uint8_t *start = c->p;
	if (f->type == F_MAP) {
		if (mp_get_map(c, &it.n, e))
			return err_set(e, "%s: must be a map", W(where));
		if (count_or_skip(f, c, start, it.n, "fields", how, where, e))
			return -1;
		for (uint32_t i = 0; how != WALK_READ && i < it.n; i++) {
			const char *k;
			size_t kn;
			if (mp_get_str(c, &k, &kn, e))
				return err_set(e, "%s: its keys must be field names", W(where));
			if (mp_skip(c, 8, e))
				return -1;
		}
		v->count = it.n;
		v->p = start;
		v->plen = (size_t)(c->p - start);
		return 0;
	}
	if (f->type != F_ARRAY)
		return scalar(f, f->type, c, v, how == WALK_READ, where, e);
	if (mp_next(c, &it, e))
		return -1;
	if (it.type != MP_ARRAY)
		return err_set(e, "%s: must be an array", W(where));
	v->count = it.n;
	if (count_or_skip(f, c, start, it.n, "elements", how, where, e))
		return -1;
	for (uint32_t i = 0; how != WALK_READ && i < it.n; i++) {
		struct loc sub = { where, NULL, NULL, i, true };
		if (f->items) {
			struct value tmp[16];
			if (f->items->n > 16 || walk_map(f->items, c, how, tmp, &sub, e))
				return -1;
		} else {
			struct field itemf = { f->name, f->item_type, false, false, 0, f->item_type == F_UINT ? UINT64_MAX : 64,
					       NULL, NULL, 0 };
			struct value tmp;
			if (scalar(&itemf, f->item_type, c, &tmp, false, &sub, e))
				return -1;
		}
	}
	v->p = start;
	v->plen = (size_t)(c->p - start);
	return 0;
}

static int walk_map(const struct schema *sc, struct mp_cur *c, enum walk how, struct value *vals,
		    const struct loc *prefix, struct err *e)
{
	char w[LOC_MAX];
	const char *pre = sc->what;	/* the map's name in messages (formatted only for one) */
	uint32_t count;
	memset(vals, 0, sc->n * sizeof *vals);
	if (mp_get_map(c, &count, e))
		return err_set(e, "%s must be a map", prefix ? W(prefix) : pre);
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
			return err_set(e, "%s: unknown field \"%.*s\"", prefix ? W(prefix) : pre, (int)(kn > 40 ? 40 : kn),
				       k);
		const struct field *f = &sc->fields[j];
		if (f->assigned && how == WALK_SENT)
			return err_set(e, "%s: \"%s\" is assigned by the ledger and may not be sent", sc->what,
				       f->name);
		struct loc where = { prefix, sc, f->name, 0, false };
		if (field_value(f, c, how, &vals[j], &where, e))
			return -1;
		vals[j].present = true;
	}
	for (size_t j = 0; how != WALK_READ && j < sc->n; j++)
		if (sc->fields[j].required && !vals[j].present && !(sc->fields[j].assigned && how == WALK_SENT))
			return err_set(e, "%s: \"%s\" is required", prefix ? W(prefix) : pre, sc->fields[j].name);
	return 0;
}

int schema_check_value(const struct field *f, const uint8_t *p, size_t n, struct value *v, const char *where,
		       struct err *e)
{
	struct loc at = { NULL, NULL, where, 0, false };
	struct mp_cur c;
	mp_cur_init(&c, p, n);
	memset(v, 0, sizeof *v);
	if (field_value(f, &c, WALK_SENT, v, &at, e))
		return -1;
	if (mp_left(&c))
		return err_set(e, "%s: trailing bytes", where);
	v->present = true;
	return 0;
}

static int walk(const struct schema *sc, const uint8_t *body, size_t n, enum walk how, struct value *vals,
		struct err *e)
{
	struct mp_cur c;
	mp_cur_init(&c, body, n);
	if (walk_map(sc, &c, how, vals, NULL, e))
		return -1;
	if (mp_left(&c))
		return err_set(e, "%s: trailing bytes", sc->what);
	return 0;
}

int schema_check(const struct schema *sc, const uint8_t *body, size_t n, bool allow_assigned,
		 struct value *vals, struct err *e)
{
	return walk(sc, body, n, allow_assigned ? WALK_STORED : WALK_SENT, vals, e);
}

int schema_read(const struct schema *sc, const uint8_t *body, size_t n, struct value *vals, struct err *e)
{
	return walk(sc, body, n, WALK_READ, vals, e);
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
