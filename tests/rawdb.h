/*
 * rawdb.h: the stored LMDB databases read and written behind the ledger's
 * back, as someone holding the files would (the tamper tests).  Included
 * by one test file each; everything is static.
 */
#ifndef SCOPE_TEST_RAWDB_H
#define SCOPE_TEST_RAWDB_H

#include <lmdb.h>
#include <stdbool.h>

#include "buf.h"

static int raw_open(const char *dir, MDB_env **env)
{
	if (mdb_env_create(env) || mdb_env_set_maxdbs(*env, 8) ||
	    mdb_env_set_mapsize(*env, (size_t)1 << 30) || mdb_env_open(*env, dir, 0, 0600))
		return -1;
	return 0;
}

/* Reads key's value in db into out (get), or puts val (val != NULL) or
 * deletes the key (val == NULL); 0 when done. */
static int raw_op(const char *dir, const char *db, const void *key, size_t klen, bool get,
		  const void *val, size_t vlen, struct buf *out)
{
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = -1;
	if (raw_open(dir, &env))
		return -1;
	if (mdb_txn_begin(env, NULL, 0, &t) == 0) {
		rc = mdb_dbi_open(t, db, 0, &dbi);
		if (rc == 0 && get && (rc = mdb_get(t, dbi, &k, &v)) == 0)
			buf_add(out, v.mv_data, v.mv_size);
		else if (rc == 0 && !get)
			rc = val ? mdb_put(t, dbi, &k, &v, 0) : mdb_del(t, dbi, &k, NULL);
		if (rc == 0)
			rc = mdb_txn_commit(t);
		else
			mdb_txn_abort(t);
	}
	mdb_env_close(env);
	return rc;
}

#endif
