#include "anchors.h"

#include <string.h>

#include "ledger.h"
#include "merkle.h"
#include "tsa.h"

/* 'A', NUL, the empty project, NUL */
static const uint8_t RECORD[3] = { 'A', 0, 0 };

static bool is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

bool anchors_is_anchor(const char *kind, size_t n)
{
	return is(kind, n, ANCHORS_KIND);
}

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HASH_LEN], struct err *e)
{
	return store_node_get(ctx, level, index, out, e);
}

static void be64(uint64_t v, uint8_t out[8])
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

int anchors_last(struct store_txn *t, uint64_t *size, uint64_t *seq, struct err *e)
{
	const uint8_t *v;
	size_t vn;
	*size = *seq = 0;
	int rc = store_state_get(t, RECORD, sizeof RECORD, &v, &vn, e);
	if (rc != 1)
		return rc;
	if (vn != 16)
		return err_setc(e, STORE_E_CORRUPT, "the record of the last anchor is damaged");
	for (int i = 0; i < 8; i++) {
		*size = *size << 8 | v[i];
		*seq = *seq << 8 | v[8 + i];
	}
	return 1;
}

int anchors_apply(struct store_txn *t, struct store_txn *nodes, const char *origin, const struct entry *en,
		  struct err *e)
{
	struct tsa_anchor b;
	uint8_t root[HASH_LEN], want[HASH_LEN], imprint[HASH_LEN];
	uint64_t time_us = 0, last = 0, last_seq = 0;
	if (en->project_len != 0)
		return err_set(e, "an anchor entry belongs to the ledger, not to a project");
	if (!is(en->author, en->author_len, LEDGER_KEY_AUTHOR))
		return err_set(e, "an anchor entry is recorded by scoped itself");
	if (tsa_anchor_parse(en->body, en->body_len, &b, e))
		return -1;
	if (b.size == 0 || b.size > en->seq)
		return err_set(e, "anchor: size %llu is not a tree before this entry (1..%llu)",
			       (unsigned long long)b.size, (unsigned long long)en->seq);
	if (anchors_last(t, &last, &last_seq, e) < 0)
		return -1;
	if (b.size <= last)
		return err_set(e, "anchor: size %llu is not beyond the last anchor's (%llu)",
			       (unsigned long long)b.size, (unsigned long long)last);
	if (merkle_root(node_get, nodes, b.size, root, e))
		return err_prefix(e, "anchor: the tree at size %llu", (unsigned long long)b.size);
	if (memcmp(root, b.root, HASH_LEN) != 0)
		return err_set(e, "anchor: root is not the tree's root at size %llu", (unsigned long long)b.size);
	uint8_t der[TSA_TOKEN_MAX];
	size_t dn = 0;
	if (tsa_anchor_token(&b, der, &dn, e))
		return -1;
	if (tsa_token_read(der, dn, imprint, &time_us, e))
		return err_prefix(e, "anchor");
	tsa_imprint(origin, b.size, b.root, want);
	if (memcmp(imprint, want, HASH_LEN) != 0)
		return err_set(e, "anchor: the token stamps another checkpoint than size %llu with this root",
			       (unsigned long long)b.size);
	if (time_us != b.time_us)
		return err_set(e, "anchor: tsa_time_us is not the token's genTime");
	uint8_t v[16];
	be64(b.size, v);
	be64(en->seq, v + 8);
	return store_state_put(t, RECORD, sizeof RECORD, v, sizeof v, e);
}

bool anchors_name(const uint8_t *k, size_t n, struct buf *out)
{
	if (n != sizeof RECORD || memcmp(k, RECORD, n) != 0)
		return false;
	buf_adds(out, "last anchor A//");
	return true;
}
