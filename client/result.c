#include "result.h"

#include <string.h>

#include "mp.h"
#include "offline.h"

static int find(const uint8_t *r, size_t n, const char *key, struct mp_cur *c, struct err *e)
{
	if (mp_map_find(r, n, key, c, e) != 1)
		return err_setc(e, CTL_EXIT_CONN, "server response lacks \"%s\"", key);
	return 0;
}

int res_u64(const uint8_t *r, size_t n, const char *key, uint64_t *v, struct err *e)
{
	struct mp_cur c;
	if (find(r, n, key, &c, e))
		return -1;
	if (mp_get_uint(&c, v, e))
		return err_setc(e, CTL_EXIT_CONN, "server response: \"%s\" is not a number", key);
	return 0;
}

int res_bin(const uint8_t *r, size_t n, const char *key, const uint8_t **p, size_t *len, struct err *e)
{
	struct mp_cur c;
	if (find(r, n, key, &c, e))
		return -1;
	if (mp_get_bin(&c, p, len, e))
		return err_setc(e, CTL_EXIT_CONN, "server response: \"%s\" is not binary", key);
	return 0;
}

int res_hash(const uint8_t *r, size_t n, const char *key, uint8_t out[HASH_LEN], struct err *e)
{
	const uint8_t *p;
	size_t len;
	if (res_bin(r, n, key, &p, &len, e))
		return -1;
	if (len != HASH_LEN)
		return err_setc(e, CTL_EXIT_CONN, "server response: \"%s\" is not a 32-byte hash", key);
	memcpy(out, p, HASH_LEN);
	return 0;
}

int res_str(const uint8_t *r, size_t n, const char *key, const char **s, size_t *len, struct err *e)
{
	struct mp_cur c;
	if (find(r, n, key, &c, e))
		return -1;
	if (mp_get_str(&c, s, len, e))
		return err_setc(e, CTL_EXIT_CONN, "server response: \"%s\" is not a string", key);
	return 0;
}

int res_has(const uint8_t *r, size_t n, const char *key)
{
	struct mp_cur c;
	struct mp_item it;
	if (mp_map_find(r, n, key, &c, NULL) != 1)
		return 0;
	return mp_next(&c, &it, NULL) == 0 && it.type != MP_NIL;
}

int res_proof(const uint8_t *r, size_t n, uint8_t proof[][HASH_LEN], size_t *len, struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	if (find(r, n, "proof", &c, e))
		return -1;
	if (mp_get_array(&c, &count, e) || count > MERKLE_MAX_PROOF)
		return err_setc(e, CTL_EXIT_CONN, "server response: bad \"proof\"");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p;
		size_t l;
		if (mp_get_bin(&c, &p, &l, e) || l != HASH_LEN)
			return err_setc(e, CTL_EXIT_CONN, "server response: proof hash %u is not 32 bytes", i);
		memcpy(proof[i], p, HASH_LEN);
	}
	*len = count;
	return 0;
}
