#include "rebuild.h"

#include <stdio.h>
#include <string.h>

#include "anchors.h"
#include "keys.h"
#include "merkle.h"
#include "mp.h"
#include "text.h"

void rebuild_request_digest(const char *kind, size_t kind_len, const char *project, size_t project_len,
			    const uint8_t *body, size_t body_len, uint8_t out[32])
{
	struct buf b;
	buf_init(&b);
	mp_pack_array(&b, 3);
	mp_pack_str(&b, kind, kind_len);
	mp_pack_str(&b, project, project_len);
	buf_add(&b, body, body_len);
	sha256(b.data, b.len, out);
	buf_free(&b);
}

int rebuild_own(struct store_txn *t, const struct rebuild_tree *tree, const struct entry *en, struct err *e)
{
	if (keys_is_key(en->kind, en->kind_len))
		return keys_apply(t, en, e);
	if (anchors_is_anchor(en->kind, en->kind_len))
		return anchors_apply(t, tree->nodes, tree->origin, en, e);
	return 1;
}

int rebuild_entry(struct store_txn *t, const struct rebuild_tree *tree, const struct ledger_rules *rules,
		  uint64_t seq, const struct entry *en, struct buf *body, struct err *e)
{
	return rebuild_entry_digest(t, tree, rules, seq, en, NULL, body, e);
}

int rebuild_entry_digest(struct store_txn *t, const struct rebuild_tree *tree, const struct ledger_rules *rules,
			 uint64_t seq, const struct entry *en, const uint8_t given[32], struct buf *body,
			 struct err *e)
{
	buf_reset(body);
	int rc = rebuild_own(t, tree, en, e);
	if (rc <= 0 || rules == NULL) {
		rc = rc < 0 ? -1 : 0;
		buf_add(body, en->body, en->body_len);
	} else {
		rc = rules->apply(rules->ctx, t, en, false, true, NULL, body, e);
	}
	if (rc)
		return err_prefix(e, "replaying entry %llu (%.*s)", (unsigned long long)seq, (int)en->kind_len,
				  en->kind);
	uint8_t digest[32], other_digest[32];
	uint64_t other;
	if (given && body->len == en->body_len && memcmp(body->data, en->body, body->len) == 0)
		memcpy(digest, given, 32);
	else
		rebuild_request_digest(en->kind, en->kind_len, en->project, en->project_len, body->data,
				       body->len, digest);
	rc = store_reqid_get(t, en->author, en->author_len, en->request_id, en->request_id_len, &other,
				 other_digest, e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return err_setc(e, STORE_E_CORRUPT, "entries %llu and %llu have the same author and request id",
				(unsigned long long)other, (unsigned long long)seq);
	if (store_reqid_put(t, en->author, en->author_len, en->request_id, en->request_id_len, seq, digest, e) ||
	    store_project_put(t, en->project, en->project_len, seq, e))
		return -1;
	return 0;
}

/* ---- naming a difference ---- */

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_hex(struct buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i < 32; i++)
		buf_printf(out, "%02x", p[i]);
	if (n > 32)
		buf_adds(out, "...");
}

/* "change c/pr-site/3" (as the rules name it), or the key in hex when it
 * has no known shape. */
static void name_key(const struct ledger_rules *rules, enum store_db db, const uint8_t *k, size_t n,
		     struct buf *out)
{
	const uint8_t *nul = memchr(k, 0, n);
	if (db == STORE_DB_STATE) {
		if (!keys_name(k, n, out) && !anchors_name(k, n, out) && !(rules && rules->name_key && rules->name_key(rules->ctx, k, n, out))) {
			buf_adds(out, "record with key 0x");
			put_hex(out, k, n);
		}
	} else if (db == STORE_DB_REQIDS && nul) {
		buf_adds(out, "author \"");
		text_put_shown(out, k, (size_t)(nul - k));
		buf_adds(out, "\", request id \"");
		text_put_shown(out, nul + 1, (size_t)(k + n - nul - 1));
		buf_addc(out, '"');
	} else if (db == STORE_DB_PROJECTS && n >= 9 && k[n - 9] == 0 && nul == k + n - 9) {
		buf_adds(out, "project \"");
		text_put_shown(out, k, n - 9);
		buf_printf(out, "\", entry %llu", (unsigned long long)be64_at(k + n - 8));
	} else {
		buf_adds(out, "key 0x");
		put_hex(out, k, n);
	}
}

/* One msgpack value: a number, true/false, "text", or its bytes in hex. */
static void put_value(struct buf *out, const uint8_t *p, size_t n)
{
	struct mp_cur c;
	struct mp_item it;
	mp_cur_init(&c, p, n);
	bool read = mp_next(&c, &it, NULL) == 0;
	if (read && it.type == MP_UINT)
		buf_printf(out, "%llu", (unsigned long long)it.u);
	else if (read && it.type == MP_BOOL)
		buf_adds(out, it.b ? "true" : "false");
	else if (read && it.type == MP_STR) {
		buf_addc(out, '"');
		text_put_shown(out, it.p, it.n);
		buf_addc(out, '"');
	} else
		put_hex(out, p, n);
}

struct kv {
	const char *name;
	size_t nn;
	const uint8_t *v;
	size_t vn;
};

static int next_field(struct mp_cur *c, struct kv *f)
{
	const uint8_t *start;
	if (mp_get_str(c, &f->name, &f->nn, NULL))
		return -1;
	start = c->p;
	if (mp_skip(c, 16, NULL))
		return -1;
	f->v = start;
	f->vn = (size_t)(c->p - start);
	return 0;
}

/* The first field in which two records (msgpack maps) differ; false when
 * they are not both maps. */
static bool diff_maps(struct buf *out, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct mp_cur ca, cb;
	uint32_t na, nb;
	mp_cur_init(&ca, a, an);
	mp_cur_init(&cb, b, bn);
	if (mp_get_map(&ca, &na, NULL) || mp_get_map(&cb, &nb, NULL))
		return false;
	for (uint32_t i = 0; i < na || i < nb; i++) {
		struct kv fa, fb;
		bool ha = i < na && next_field(&ca, &fa) == 0, hb = i < nb && next_field(&cb, &fb) == 0;
		if (ha && hb && fa.nn == fb.nn && memcmp(fa.name, fb.name, fa.nn) == 0) {
			if (fa.vn == fb.vn && memcmp(fa.v, fb.v, fa.vn) == 0)
				continue;
			buf_adds(out, "field \"");
			text_put_shown(out, (const uint8_t *)fa.name, fa.nn);
			buf_adds(out, "\" is ");
			put_value(out, fa.v, fa.vn);
			buf_adds(out, " where the log implies ");
			put_value(out, fb.v, fb.vn);
			return true;
		}
		if (!ha || !hb) {
			const struct kv *f = ha ? &fa : &fb;
			if (!ha && !hb)
				return false;
			buf_adds(out, "field \"");
			text_put_shown(out, (const uint8_t *)f->name, f->nn);
			buf_adds(out, ha ? "\" is not implied by the log" : "\" is missing");
			return true;
		}
		buf_adds(out, "it holds field \"");
		text_put_shown(out, (const uint8_t *)fa.name, fa.nn);
		buf_adds(out, "\" where the log implies field \"");
		text_put_shown(out, (const uint8_t *)fb.name, fb.nn);
		buf_addc(out, '"');
		return true;
	}
	return false;
}

static void describe_values(enum store_db db, const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
			    struct buf *out)
{
	if (db == STORE_DB_REQIDS && an == 40 && bn == 40 && be64_at(a) != be64_at(b)) {
		buf_printf(out, "it points to entry %llu where the log implies entry %llu",
			   (unsigned long long)be64_at(a), (unsigned long long)be64_at(b));
	} else if (db == STORE_DB_REQIDS && an == 40 && bn == 40) {
		buf_adds(out, "it holds request digest ");
		put_hex(out, a + 8, 32);
		buf_adds(out, " where the log implies ");
		put_hex(out, b + 8, 32);
	} else if (an == 8 && bn == 8) {
		buf_printf(out, "it holds %llu where the log implies %llu", (unsigned long long)be64_at(a),
			   (unsigned long long)be64_at(b));
	} else if (db != STORE_DB_STATE || !diff_maps(out, a, an, b, bn)) {
		buf_printf(out, "it holds %zu bytes (", an);
		put_hex(out, a, an);
		buf_printf(out, ") where the log implies %zu (", bn);
		put_hex(out, b, bn);
		buf_addc(out, ')');
	}
}

int rebuild_compare(struct store_txn *stored, struct store_txn *implied, const struct ledger_rules *rules,
		    struct err *e)
{
	static const struct {
		enum store_db db;
		const char *what;
	} DBS[] = {
		{ STORE_DB_STATE, "derived state" },
		{ STORE_DB_REQIDS, "request-id index" },
		{ STORE_DB_PROJECTS, "project index" },
	};
	for (size_t i = 0; i < sizeof DBS / sizeof DBS[0]; i++) {
		struct store_diff d;
		int rc = store_diff(stored, implied, DBS[i].db, &d, e);
		if (rc <= 0) {
			if (rc < 0)
				return -1;
			continue;
		}
		struct buf m;
		buf_init(&m);
		buf_printf(&m, "%s: ", DBS[i].what);
		name_key(rules, DBS[i].db, d.key, d.klen, &m);
		if (d.a == NULL) {
			buf_adds(&m, " is missing");
		} else if (d.b == NULL) {
			buf_adds(&m, " is stored but the log implies no such record");
		} else {
			buf_adds(&m, " differs from what the log implies: ");
			describe_values(DBS[i].db, d.a, d.alen, d.b, d.blen, &m);
		}
		buf_adds(&m, " (scoped reindex rebuilds it from the log)");
		rc = err_setc(e, STORE_E_CORRUPT, "%s", buf_failed(&m) ? "out of memory" : buf_cstr(&m));
		buf_free(&m);
		return rc;
	}
	return 0;
}
