#include "proof.h"

#include <string.h>

#include "enc.h"
#include "json.h"
#include "mp.h"

static void hashes(struct buf *out, const uint8_t proof[][HASH_LEN], size_t len)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < len; i++) {
		if (i)
			buf_addc(out, ',');
		json_put_hex(out, proof[i], HASH_LEN);
	}
	buf_addc(out, ']');
}

void inclusion_to_json(const struct inclusion_proof *p, struct buf *out)
{
	buf_printf(out, "{\"tree_size\":%llu,\"leaf_index\":%llu,\"leaf_hash\":",
		   (unsigned long long)p->tree_size, (unsigned long long)p->leaf_index);
	json_put_hex(out, p->leaf_hash, HASH_LEN);
	buf_adds(out, ",\"root_hash\":");
	json_put_hex(out, p->root_hash, HASH_LEN);
	buf_adds(out, ",\"proof\":");
	hashes(out, p->proof, p->len);
	buf_addc(out, '}');
}

void consistency_to_json(const struct consistency_proof *p, struct buf *out)
{
	buf_printf(out, "{\"old_size\":%llu,\"new_size\":%llu,\"old_root\":",
		   (unsigned long long)p->old_size, (unsigned long long)p->new_size);
	json_put_hex(out, p->old_root, HASH_LEN);
	buf_adds(out, ",\"new_root\":");
	json_put_hex(out, p->new_root, HASH_LEN);
	buf_adds(out, ",\"proof\":");
	hashes(out, p->proof, p->len);
	buf_addc(out, '}');
}

static int get_u64(const struct buf *m, const char *key, uint64_t *v, struct err *e)
{
	struct mp_cur c;
	int rc = mp_map_find(m->data, m->len, key, &c, e);
	if (rc == 0)
		return err_set(e, "proof: missing \"%s\"", key);
	if (rc < 0 || mp_get_uint(&c, v, e))
		return err_prefix(e, "proof: \"%s\"", key);
	return 0;
}

static int get_hash(const struct buf *m, const char *key, uint8_t out[HASH_LEN], struct err *e)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	int rc = mp_map_find(m->data, m->len, key, &c, e);
	if (rc == 0)
		return err_set(e, "proof: missing \"%s\"", key);
	if (rc < 0 || mp_get_str(&c, &s, &n, e))
		return err_prefix(e, "proof: \"%s\"", key);
	if (hex_decode(s, n, out, HASH_LEN))
		return err_set(e, "proof: \"%s\" is not 64 hex digits", key);
	return 0;
}

static int get_path(const struct buf *m, uint8_t proof[][HASH_LEN], size_t *len, struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	int rc = mp_map_find(m->data, m->len, "proof", &c, e);
	if (rc == 0)
		return err_set(e, "proof: missing \"proof\"");
	if (rc < 0 || mp_get_array(&c, &count, e))
		return err_prefix(e, "proof: \"proof\"");
	if (count > MERKLE_MAX_PROOF)
		return err_set(e, "proof: more than %d hashes", MERKLE_MAX_PROOF);
	for (uint32_t i = 0; i < count; i++) {
		const char *s;
		size_t n;
		if (mp_get_str(&c, &s, &n, e) || hex_decode(s, n, proof[i], HASH_LEN))
			return err_set(e, "proof: hash %u is not 64 hex digits", i);
	}
	*len = count;
	return 0;
}

int inclusion_from_msgpack(const uint8_t *mp, size_t n, struct inclusion_proof *p, struct err *e)
{
	struct buf m = { (uint8_t *)mp, n, n, false };
	memset(p, 0, sizeof *p);
	return get_u64(&m, "tree_size", &p->tree_size, e) || get_u64(&m, "leaf_index", &p->leaf_index, e) ||
	       get_hash(&m, "leaf_hash", p->leaf_hash, e) || get_hash(&m, "root_hash", p->root_hash, e) ||
	       get_path(&m, p->proof, &p->len, e) ? -1 : 0;
}

int inclusion_from_json(const char *s, size_t n, struct inclusion_proof *p, struct err *e)
{
	struct buf m;
	buf_init(&m);
	memset(p, 0, sizeof *p);
	int rc = json_to_msgpack(s, n, &m, e) || inclusion_from_msgpack(m.data, m.len, p, e) ? -1 : 0;
	buf_free(&m);
	return rc;
}

int consistency_from_json(const char *s, size_t n, struct consistency_proof *p, struct err *e)
{
	struct buf m;
	buf_init(&m);
	memset(p, 0, sizeof *p);
	int rc = json_to_msgpack(s, n, &m, e) || get_u64(&m, "old_size", &p->old_size, e) ||
		 get_u64(&m, "new_size", &p->new_size, e) ||
		 get_hash(&m, "old_root", p->old_root, e) ||
		 get_hash(&m, "new_root", p->new_root, e) || get_path(&m, p->proof, &p->len, e)
		 ? -1 : 0;
	buf_free(&m);
	return rc;
}
