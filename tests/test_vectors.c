/*
 * Known-answer tests: the published RFC 6962 proof vectors of
 * transparency-dev/merkle (tests/testdata/transparency-dev-merkle, base64
 * JSON).  Every file says whether its proof must verify.
 *
 * Our API takes 32-byte hashes.  A vector's leaf or proof hash of another
 * length cannot be passed at all, which counts as a refusal (the vectors
 * expect an error for all of those).  A root of another length is mapped to
 * SHA-256("not-a-hash:" || bytes): distinct inputs stay distinct, equal ones
 * equal, and none equals a real root.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>

#include "enc.h"
#include "fileio.h"
#include "json.h"
#include "merkle.h"
#include "mp.h"
#include "tap.h"

struct vec {
	struct buf m;
};

static int field_u64(struct buf *m, const char *k, uint64_t *v)
{
	struct mp_cur c;
	return mp_map_find(m->data, m->len, k, &c, NULL) == 1 && mp_get_uint(&c, v, NULL) == 0 ? 0 : -1;
}

/* -1 malformed, 0 ok and 32 bytes, 1 ok but another length (raw in out/outn) */
static int field_b64(struct mp_cur *c, uint8_t *out, size_t *outn)
{
	const char *s;
	size_t n;
	if (mp_get_str(c, &s, &n, NULL))
		return -1;
	if (b64_decode(s, n, out, 256, outn))
		return -1;
	return *outn == 32 ? 0 : 1;
}

static int root_field(struct buf *m, const char *k, uint8_t out[32])
{
	struct mp_cur c;
	uint8_t raw[256];
	size_t n;
	if (mp_map_find(m->data, m->len, k, &c, NULL) != 1)
		return -1;
	int rc = field_b64(&c, raw, &n);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		memcpy(out, raw, 32);
		return 0;
	}
	uint8_t tmp[300];
	memcpy(tmp, "not-a-hash:", 11);
	memcpy(tmp + 11, raw, n);
	sha256(tmp, 11 + n, out);
	return 0;
}

/* 1 if some hash has the wrong length (refused), 0 ok, -1 malformed */
static int proof_field(struct buf *m, uint8_t proof[][32], size_t *len)
{
	struct mp_cur c;
	struct mp_item it;
	*len = 0;
	if (mp_map_find(m->data, m->len, "proof", &c, NULL) != 1)
		return -1;
	if (mp_next(&c, &it, NULL))
		return -1;
	if (it.type == MP_NIL)
		return 0;
	if (it.type != MP_ARRAY || it.n > 64)
		return -1;
	int wrong = 0;
	for (uint32_t i = 0; i < it.n; i++) {
		uint8_t raw[256];
		size_t n;
		int rc = field_b64(&c, raw, &n);
		if (rc < 0)
			return -1;
		if (rc == 1)
			wrong = 1;
		else
			memcpy(proof[i], raw, 32);
	}
	*len = it.n;
	return wrong;
}

static bool want_err(struct buf *m)
{
	struct mp_cur c;
	struct mp_item it;
	return mp_map_find(m->data, m->len, "wantErr", &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0 &&
	       it.type == MP_BOOL && it.b;
}

/* returns 1 if verification failed (or was refused), 0 if it passed, -1 malformed */
static int run_inclusion(struct buf *m)
{
	uint64_t idx, size;
	uint8_t root[32], leaf[256], proof[64][32];
	size_t leafn, len;
	struct mp_cur c;
	if (field_u64(m, "leafIdx", &idx) || field_u64(m, "treeSize", &size) ||
	    root_field(m, "root", root) || mp_map_find(m->data, m->len, "leafHash", &c, NULL) != 1)
		return -1;
	int lr = field_b64(&c, leaf, &leafn);
	int pr = proof_field(m, proof, &len);
	if (lr < 0 || pr < 0)
		return -1;
	if (lr == 1 || pr == 1)
		return 1;
	return merkle_verify_inclusion(idx, size, leaf, (const uint8_t(*)[32])proof, len, root, NULL) ? 1 : 0;
}

static int run_consistency(struct buf *m)
{
	uint64_t s1, s2;
	uint8_t r1[32], r2[32], proof[64][32];
	size_t len;
	if (field_u64(m, "size1", &s1) || field_u64(m, "size2", &s2) || root_field(m, "root1", r1) ||
	    root_field(m, "root2", r2))
		return -1;
	int pr = proof_field(m, proof, &len);
	if (pr < 0)
		return -1;
	if (pr == 1)
		return 1;
	return merkle_verify_consistency(s1, s2, r1, r2, (const uint8_t(*)[32])proof, len, NULL) ? 1 : 0;
}

static void run_dir(const char *kind, int (*run)(struct buf *), int *files)
{
	char dir[1024];
	for (const char *const *sub = (const char *const[]){ "0", "1", "2", "3", "4", "additional",
							     "single-entry", NULL }; *sub; sub++) {
		snprintf(dir, sizeof dir, "%s/transparency-dev-merkle/%s/%s", TESTDATA_DIR, kind, *sub);
		DIR *d = opendir(dir);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			size_t nl = strlen(de->d_name);
			if (nl < 6 || strcmp(de->d_name + nl - 5, ".json") != 0)
				continue;
			char path[2048];
			snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
			struct buf text, m;
			buf_init(&text);
			buf_init(&m);
			struct err e = { 0 };
			if (read_file(path, 1 << 20, &text, &e) ||
			    json_to_msgpack((const char *)text.data, text.len, &m, &e)) {
				ok(0, "%s/%s/%s parses: %s", kind, *sub, de->d_name, e.msg);
			} else {
				bool we = want_err(&m);
				int got = run(&m);
				ok(got >= 0 && (got == 1) == we, "%s/%s/%s: %s", kind, *sub, de->d_name,
				   we ? "rejected" : "verifies");
			}
			(*files)++;
			buf_free(&text);
			buf_free(&m);
		}
		closedir(d);
	}
}

int main(void)
{
	int inc = 0, con = 0;
	run_dir("inclusion", run_inclusion, &inc);
	run_dir("consistency", run_consistency, &con);
	is_int(inc, 86, "read all inclusion vectors");
	is_int(con, 98, "read all consistency vectors");
	return done_testing();
}
