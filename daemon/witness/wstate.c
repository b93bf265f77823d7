#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "merkle.h"
#include "witness.h"

/* LMDB: "logs": origin -> u64be size || root || cosigned note;
 * "evidence": u64be sequence -> reason "\n" request body. */
struct wstate {
	MDB_env *env;
	MDB_dbi logs, evidence;
};

#define WSTATE_MAP_SIZE ((size_t)1 << 30)

static int lmdb_err(struct err *e, const char *what, int rc)
{
	return err_set(e, "witness state: %s: %s", what, mdb_strerror(rc));
}

int wstate_open(struct wstate **out, const char *dir, struct err *e)
{
	struct wstate *w = calloc(1, sizeof *w);
	MDB_txn *t = NULL;
	int rc;
	if (w == NULL)
		return err_set(e, "out of memory");
	mkdir(dir, 0700);
	if ((rc = mdb_env_create(&w->env)) != 0 || (rc = mdb_env_set_maxdbs(w->env, 2)) != 0 ||
	    (rc = mdb_env_set_mapsize(w->env, WSTATE_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_open(w->env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(w->env, NULL, 0, &t)) != 0 ||
	    (rc = mdb_dbi_open(t, "logs", MDB_CREATE, &w->logs)) != 0 ||
	    (rc = mdb_dbi_open(t, "evidence", MDB_CREATE, &w->evidence)) != 0 ||
	    (rc = mdb_txn_commit(t)) != 0) {
		if (t && rc != 0)
			mdb_txn_abort(t);
		wstate_close(w);
		return err_set(e, "witness data_dir %s: %s", dir, mdb_strerror(rc));
	}
	*out = w;
	return 0;
}

void wstate_close(struct wstate *w)
{
	if (w == NULL)
		return;
	if (w->env)
		mdb_env_close(w->env);
	free(w);
}

static void be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t be64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Keeps bytes as the newest evidence; drops the oldest beyond the bound. */
static int keep_evidence(struct wstate *w, MDB_txn *t, const struct buf *bytes)
{
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t next = 0;
	uint8_t key[8];
	int rc = mdb_cursor_open(t, w->evidence, &c);
	if (rc)
		return rc;
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
		next = be64_get(k.mv_data) + 1;
	MDB_stat st;
	if ((rc = mdb_stat(t, w->evidence, &st)) == 0 && st.ms_entries >= WITNESS_MAX_EVIDENCE &&
	    mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0)
		rc = mdb_cursor_del(c, 0);
	mdb_cursor_close(c);
	if (rc)
		return rc;
	be64_put(key, next);
	k = (MDB_val){ 8, key };
	v = (MDB_val){ bytes->len, bytes->data };
	return mdb_put(t, w->evidence, &k, &v, 0);
}

int wstate_update(struct wstate *w, const char *origin, wstate_decide_fn fn, void *ctx, struct err *e)
{
	MDB_txn *t;
	MDB_val k = { strlen(origin), (void *)origin }, v;
	struct wrecord old = { 0 }, rec = { 0 };
	struct buf bytes;
	int rc = mdb_txn_begin(w->env, NULL, 0, &t);
	if (rc)
		return lmdb_err(e, "begin", rc);
	merkle_empty_root(old.root);
	rc = mdb_get(t, w->logs, &k, &v);
	if (rc == 0 && v.mv_size >= 8 + HASH_LEN) {
		old.size = be64_get(v.mv_data);
		memcpy(old.root, (uint8_t *)v.mv_data + 8, HASH_LEN);
	} else if (rc != MDB_NOTFOUND) {
		mdb_txn_abort(t);
		return lmdb_err(e, "read", rc ? rc : MDB_CORRUPTED);
	}
	buf_init(&bytes);
	enum wstate_act act = fn(ctx, &old, &rec, &bytes);
	rc = 0;
	if (act == WSTATE_STORE) {
		struct buf val;
		buf_init(&val);
		uint8_t sz[8];
		be64_put(sz, rec.size);
		buf_add(&val, sz, 8);
		buf_add(&val, rec.root, HASH_LEN);
		buf_add(&val, bytes.data, bytes.len);
		v = (MDB_val){ val.len, val.data };
		rc = buf_failed(&val) ? ENOMEM : mdb_put(t, w->logs, &k, &v, 0);
		buf_free(&val);
	} else if (act == WSTATE_EVIDENCE) {
		rc = buf_failed(&bytes) ? ENOMEM : keep_evidence(w, t, &bytes);
	}
	buf_free(&bytes);
	if (rc) {
		mdb_txn_abort(t);
		return lmdb_err(e, "write", rc);
	}
	if ((rc = mdb_txn_commit(t)) != 0)
		return lmdb_err(e, "commit", rc);
	return 0;
}

int wstate_checkpoint(struct wstate *w, const uint8_t h[HASH_LEN], struct buf *out, struct err *e)
{
	MDB_txn *t;
	MDB_cursor *c;
	MDB_val k, v;
	int found = 1;
	int rc = mdb_txn_begin(w->env, NULL, MDB_RDONLY, &t);
	if (rc)
		return lmdb_err(e, "begin", rc);
	if ((rc = mdb_cursor_open(t, w->logs, &c)) != 0) {
		mdb_txn_abort(t);
		return lmdb_err(e, "cursor", rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && found; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t kh[HASH_LEN];
		sha256(k.mv_data, k.mv_size, kh);
		if (memcmp(kh, h, HASH_LEN) == 0 && v.mv_size > 8 + HASH_LEN) {
			buf_add(out, (uint8_t *)v.mv_data + 8 + HASH_LEN, v.mv_size - 8 - HASH_LEN);
			found = 0;
		}
	}
	mdb_cursor_close(c);
	mdb_txn_abort(t);
	return found;
}

size_t wstate_evidence_count(struct wstate *w)
{
	MDB_txn *t;
	MDB_stat st = { 0 };
	if (mdb_txn_begin(w->env, NULL, MDB_RDONLY, &t) != 0)
		return 0;
	mdb_stat(t, w->evidence, &st);
	mdb_txn_abort(t);
	return st.ms_entries;
}
