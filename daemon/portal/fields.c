#include "fields.h"

#include <string.h>

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
