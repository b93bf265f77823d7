#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "merkle.h"
#include "witness.h"

/* LMDB: "logs": origin -> u64be size || root || cosigned note;
 * "conflicts": origin NUL u64be size || root -> reason "\n" request body,
 * each a signed checkpoint conflicting with a cosigned one, kept for good
 * (WITNESS_MAX_CONFLICTS per log), and origin NUL -> u64be the count of
 * those beyond, not kept;
 * "evidence": u64be sequence -> reason "\n" request body, what versions
 * before "conflicts" kept of every 422 (read by nothing, never written). */
struct wstate {
	MDB_env *env;
	MDB_dbi logs, conflicts;
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
	if ((rc = mdb_env_create(&w->env)) != 0 || (rc = mdb_env_set_maxdbs(w->env, 3)) != 0 ||
	    (rc = mdb_env_set_mapsize(w->env, WSTATE_MAP_SIZE)) != 0 ||
	    (rc = mdb_env_open(w->env, dir, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(w->env, NULL, 0, &t)) != 0 ||
	    (rc = mdb_dbi_open(t, "logs", MDB_CREATE, &w->logs)) != 0 ||
	    (rc = mdb_dbi_open(t, "conflicts", MDB_CREATE, &w->conflicts)) != 0 ||
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

/* The key of a conflict, or (rec NULL) of the origin's count of those not
 * kept; 0 if the origin is too long for a key. */
static size_t conflict_key(const char *origin, const struct wrecord *rec, uint8_t *key, size_t cap)
{
	size_t n = strlen(origin);
	if (n + 1 + 8 + HASH_LEN > cap)
		return 0;
	memcpy(key, origin, n);
	key[n++] = '\0';
	if (rec == NULL)
		return n;
	be64_put(key + n, rec->size);
	memcpy(key + n + 8, rec->root, HASH_LEN);
	return n + 8 + HASH_LEN;
}

/* Keeps bytes as the evidence of the conflicting checkpoint rec of
 * origin: once per checkpoint, the first WITNESS_MAX_CONFLICTS of a log for
 * good, the rest only counted.  Nothing kept is ever dropped. */
static int keep_conflict(struct wstate *w, MDB_txn *t, const char *origin, const struct wrecord *rec,
			 const struct buf *bytes, enum wstate_kept *kept)
{
	uint8_t key[NOTE_NAME_MAX + 1 + 8 + HASH_LEN + 1];
	size_t kn = conflict_key(origin, rec, key, sizeof key), pn = strlen(origin) + 1;
	MDB_val k = { kn, key }, v;
	if (kn == 0)
		return MDB_BAD_VALSIZE;
	int rc = mdb_get(t, w->conflicts, &k, &v);
	if (rc == 0) {
		*kept = WSTATE_KEPT_ALREADY;
		return 0;
	}
	if (rc != MDB_NOTFOUND)
		return rc;
	MDB_cursor *c;
	if ((rc = mdb_cursor_open(t, w->conflicts, &c)) != 0)
		return rc;
	size_t n = 0;
	MDB_val ck = { pn, key }, cv;
	for (rc = mdb_cursor_get(c, &ck, &cv, MDB_SET_RANGE); rc == 0 && n < WITNESS_MAX_CONFLICTS;
	     rc = mdb_cursor_get(c, &ck, &cv, MDB_NEXT)) {
		if (ck.mv_size < pn || memcmp(ck.mv_data, key, pn) != 0)
			break;
		n += ck.mv_size == kn;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (n < WITNESS_MAX_CONFLICTS) {
		*kept = WSTATE_KEPT_NEW;
		v = (MDB_val){ bytes->len, bytes->data };
		return mdb_put(t, w->conflicts, &k, &v, 0);
	}
	*kept = WSTATE_KEPT_COUNTED;
	uint8_t cnt[8] = { 0 };
	MDB_val pk = { pn, key };
	if ((rc = mdb_get(t, w->conflicts, &pk, &v)) == 0 && v.mv_size == 8)
		memcpy(cnt, v.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	be64_put(cnt, be64_get(cnt) + 1);
	v = (MDB_val){ 8, cnt };
	return mdb_put(t, w->conflicts, &pk, &v, 0);
}

int wstate_update(struct wstate *w, const char *origin, wstate_decide_fn fn, void *ctx, enum wstate_kept *kept,
		  struct err *e)
{
	enum wstate_kept ignored;
	if (kept == NULL)
		kept = &ignored;
	*kept = WSTATE_KEPT_NONE;
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
	} else if (act == WSTATE_CONFLICT) {
		rc = buf_failed(&bytes) ? ENOMEM : keep_conflict(w, t, origin, &rec, &bytes, kept);
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

size_t wstate_conflict_count(struct wstate *w, const char *origin, uint64_t *counted)
{
	MDB_txn *t;
	MDB_cursor *c;
	uint8_t key[NOTE_NAME_MAX + 1 + 8 + HASH_LEN + 1];
	size_t pn = conflict_key(origin, NULL, key, sizeof key), n = 0;
	*counted = 0;
	if (pn == 0 || mdb_txn_begin(w->env, NULL, MDB_RDONLY, &t) != 0)
		return 0;
	if (mdb_cursor_open(t, w->conflicts, &c) == 0) {
		MDB_val k = { pn, key }, v;
		for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (k.mv_size < pn || memcmp(k.mv_data, key, pn) != 0)
				break;
			if (k.mv_size == pn && v.mv_size == 8)
				*counted = be64_get(v.mv_data);
			else
				n++;
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(t);
	return n;
}
