#include "fields.h"

#include <string.h>

#include "state.h"

int fld_entry(struct scope_kv *kv, uint64_t seq, struct entry *en, struct err *e)
{
	const uint8_t *p;
	size_t n;
	if (kv_entry(kv, seq, &p, &n, e))
		return err_prefix(e, "entry %llu", (unsigned long long)seq);
	if (entry_decode(p, n, en, e))
		return err_prefix(e, "entry %llu", (unsigned long long)seq);
	return 0;
}

/* The fields of a body as corrected: each name and its value's bytes,
 * pointing into the kv's copies of the entries. */
#define SHOWN_MAX 64	/* more than any kind has fields */
struct shown {
	struct scope_kv *kv;
	const char *name[SHOWN_MAX];
	size_t nn[SHOWN_MAX];
	const uint8_t *val[SHOWN_MAX];
	size_t vn[SHOWN_MAX];
	uint32_t n;
	bool corrected;
};

/* Each field of the map at c, in place of the field of that name or added. */
static int shown_fields(struct shown *s, struct mp_cur *c, struct err *e)
{
	uint32_t count;
	if (mp_get_map(c, &count, e))
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		const char *name;
		size_t nn;
		if (mp_get_str(c, &name, &nn, e))
			return -1;
		const uint8_t *v = c->p;
		if (mp_skip(c, 8, e))
			return -1;
		uint32_t j = 0;
		while (j < s->n && (s->nn[j] != nn || memcmp(s->name[j], name, nn) != 0))
			j++;
		if (j == SHOWN_MAX)
			return err_set(e, "an entry with more than %d fields", SHOWN_MAX);
		s->name[j] = name;
		s->nn[j] = nn;
		s->val[j] = v;
		s->vn[j] = (size_t)(c->p - v);
		s->n += j == s->n;
	}
	return 0;
}

static int shown_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v, (void)vn;
	struct shown *s = ctx;
	struct entry cor;
	struct mp_cur c;
	uint64_t seq = 0;
	if (kn < 8)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a damaged correction key (run scoped reindex)");
	for (size_t i = kn - 8; i < kn; i++)
		seq = seq << 8 | k[i];
	if (fld_entry(s->kv, seq, &cor, e))
		return -1;
	if (mp_map_find(cor.body, cor.body_len, "set", &c, e) != 1)
		return err_setc(e, SCOPE_E_CORRUPT, "entry %llu: a correction without a set", (unsigned long long)seq);
	s->corrected = true;
	return shown_fields(s, &c, e) ? -1 : 0;
}

int fld_entry_shown(struct scope_kv *kv, uint64_t seq, struct entry *en, struct buf *body, struct err *e)
{
	static struct shown zero;
	struct shown s = zero;
	struct mp_cur c;
	struct key k;
	s.kv = kv;
	if (fld_entry(kv, seq, en, e))
		return -1;
	mp_cur_init(&c, en->body, en->body_len);
	if (shown_fields(&s, &c, e))
		return err_prefix(e, "entry %llu", (unsigned long long)seq);
	key_init(&k, 'x', en->project, en->project_len);
	key_u64(&k, seq);
	k.b[k.n++] = 0;
	if (kv_scan(kv, k.b, k.n, shown_one, &s, e) < 0)
		return -1;
	if (!s.corrected)
		return 0;
	mp_pack_map(body, s.n);
	for (uint32_t i = 0; i < s.n; i++) {
		mp_pack_str(body, s.name[i], s.nn[i]);
		buf_add(body, s.val[i], s.vn[i]);
	}
	if (buf_failed(body))
		return err_set(e, "out of memory");
	en->body = body->data;
	en->body_len = body->len;
	return 0;
}

bool fld_map_str(const uint8_t *p, size_t n, const char *key, const char **s, size_t *sn)
{
	struct mp_cur c;
	*s = "";
	*sn = 0;
	if (mp_map_find(p, n, key, &c, NULL) != 1 || mp_get_str_checked(&c, s, sn, NULL)) {
		*s = "";
		*sn = 0;
		return false;
	}
	return true;
}

bool fld_map_u64(const uint8_t *p, size_t n, const char *key, uint64_t *v)
{
	struct mp_cur c;
	*v = 0;
	if (mp_map_find(p, n, key, &c, NULL) != 1 || mp_get_uint(&c, v, NULL)) {
		*v = 0;
		return false;
	}
	return true;
}

bool fld_map_bool(const uint8_t *p, size_t n, const char *key)
{
	struct mp_cur c;
	struct mp_item it;
	return mp_map_find(p, n, key, &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0 && it.type == MP_BOOL && it.b;
}

bool fld_str(const struct entry *en, const char *key, const char **s, size_t *n)
{
	return fld_map_str(en->body, en->body_len, key, s, n);
}

bool fld_u64(const struct entry *en, const char *key, uint64_t *v)
{
	return fld_map_u64(en->body, en->body_len, key, v);
}

bool fld_bool(const struct entry *en, const char *key)
{
	return fld_map_bool(en->body, en->body_len, key);
}

bool fld_array(const struct entry *en, const char *key, struct mp_cur *c, uint32_t *n)
{
	*n = 0;
	if (mp_map_find(en->body, en->body_len, key, c, NULL) != 1 || mp_get_array(c, n, NULL)) {
		*n = 0;
		return false;
	}
	return true;
}

int fld_next_map(struct mp_cur *c, const uint8_t **p, size_t *pn, struct err *e)
{
	const uint8_t *start = c->p;
	if (mp_skip(c, 8, e))
		return -1;
	*p = start;
	*pn = (size_t)(c->p - start);
	return 0;
}

uint64_t fld_ref_number(const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	uint64_t v = 0;
	if (dash == NULL)
		return 0;
	for (const char *q = dash + 1; q < s + n; q++) {
		if (*q < '0' || *q > '9' || v > UINT64_MAX / 10)
			return 0;
		v = v * 10 + (uint64_t)(*q - '0');
	}
	return v;
}
