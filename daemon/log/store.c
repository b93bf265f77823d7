#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One LMDB read transaction of the published snapshot, shared by the
 * handles (struct store_txn) begun on it. */
struct snap {
	MDB_txn *txn;
	unsigned users;		/* open handles */
	struct snap *next;	/* on the retired list: moved past, ended with its last handle */
};

struct store {
	MDB_env *env;
	MDB_dbi entries, nodes, reqids, projects, state, meta;
	size_t map_size, map_max;
	bool read_only;
	_Atomic bool copying;	/* a backup holds a read transaction: the map must not move */
	unsigned fault_countdown;
	int fault_code;
	int fault_commit;	/* the next write commit fails with this (0: none) */
	/* the published snapshot (store_snapshot_enable); every field but
	 * snap_on and snap_thread (set before other threads start) belongs to
	 * snap_thread */
	bool snap_on, snap_held;
	bool snap_bad;		/* the last move failed: reads fail, with snap_msg */
	pthread_t snap_thread;
	struct snap *snap;	/* the current one */
	struct snap *retired;
	char snap_msg[ERR_MSG_MAX];
};

struct store_txn {
	struct store *s;
	MDB_txn *txn;
	struct store_txn *parent;	/* a child's write transaction, else NULL */
	struct store_txn *log;		/* entry reads go there (store_txn_entries_from) */
	struct snap *snap;		/* a handle on the published snapshot, else NULL */
	bool write;
	int code;		/* sticky: first failure's STORE_E_* code */
	char msg[200];
};

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int lmdb_code(int rc)
{
	switch (rc) {
	case MDB_MAP_FULL: return STORE_E_MAP_FULL;
	case ENOSPC: return STORE_E_FULL;
	case MDB_NOTFOUND: return STORE_E_NOTFOUND;
	case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND: case MDB_BAD_TXN: return STORE_E_CORRUPT;
	default: return STORE_E_IO;
	}
}

static int fail_lmdb(struct err *e, int rc, const char *what)
{
	int code = lmdb_code(rc);
	if (code == STORE_E_FULL)
		return err_setc(e, code, "%s: disk full (%s)", what, mdb_strerror(rc));
	if (code == STORE_E_MAP_FULL)
		return err_setc(e, code, "%s: storage map full", what);
	return err_setc(e, code, "%s: %s", what, mdb_strerror(rc));
}

static int open_dbs(struct store *s, MDB_txn *txn, unsigned flags)
{
	int rc;
	if ((rc = mdb_dbi_open(txn, "entries", flags, &s->entries)) != 0 ||
	    (rc = mdb_dbi_open(txn, "nodes", flags, &s->nodes)) != 0 ||
	    (rc = mdb_dbi_open(txn, "reqids", flags, &s->reqids)) != 0 ||
	    (rc = mdb_dbi_open(txn, "projects", flags, &s->projects)) != 0 ||
	    (rc = mdb_dbi_open(txn, "state", flags, &s->state)) != 0 ||
	    (rc = mdb_dbi_open(txn, "meta", flags, &s->meta)) != 0)
		return rc;
	return 0;
}

int store_open(struct store **out, const char *dir, const struct store_opts *o, struct err *e)
{
	struct store *s = calloc(1, sizeof *s);
	MDB_txn *txn = NULL;
	int rc;
	if (s == NULL)
		return err_set(e, "out of memory");
	s->map_size = o && o->map_initial ? o->map_initial : (size_t)64 << 20;
	s->map_max = o && o->map_max ? o->map_max : (size_t)1 << 40;
	s->read_only = o && o->read_only;
	if (s->map_size > s->map_max)
		s->map_size = s->map_max;

	struct stat st;
	if (stat(dir, &st) != 0) {
		err_set(e, "data directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (!S_ISDIR(st.st_mode)) {
		err_set(e, "data directory %s is not a directory", dir);
		goto fail;
	}
	if (s->read_only) {
		char f[4200];
		snprintf(f, sizeof f, "%s/data.mdb", dir);
		if (stat(f, &st) != 0) {
			err_set(e, "%s holds no Scope Ledger data (run 'scoped init' first)", dir);
			goto fail;
		}
	}
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, 8)) != 0) {
		fail_lmdb(e, rc, "creating LMDB environment");
		goto fail;
	}
	/* The existing file may be larger than our initial size: LMDB then
	 * keeps the file's size, which mdb_env_info reports below. */
	if ((rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0 ||
	    (rc = mdb_env_open(s->env, dir, MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0), 0600)) != 0) {
		err_set(e, "opening LMDB in %s: %s", dir, mdb_strerror(rc));
		goto fail;
	}
	MDB_envinfo info;
	if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_size)
		s->map_size = info.me_mapsize;

	unsigned dbflags = s->read_only ? 0 : MDB_CREATE;
	if ((rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn)) != 0) {
		fail_lmdb(e, rc, "opening databases");
		goto fail;
	}
	if ((rc = open_dbs(s, txn, dbflags)) != 0) {
		if (rc == MDB_NOTFOUND)
			err_set(e, "%s holds no Scope Ledger data (run 'scoped init' first)", dir);
		else
			fail_lmdb(e, rc, "opening databases");
		goto fail;
	}
	/* store format: written once by the first writer; a newer one is refused */
	MDB_val k = { 6, (void *)"format" }, v;
	rc = mdb_get(txn, s->meta, &k, &v);
	if (rc == 0) {
		if (v.mv_size != 8) {
			err_set(e, "%s: store format record is damaged", dir);
			goto fail;
		}
		uint64_t fmt = rd64(v.mv_data);
		if (fmt != STORE_FORMAT) {
			err_set(e, "%s was written in store format %llu; this build reads format %d%s", dir,
				(unsigned long long)fmt, STORE_FORMAT,
				fmt > STORE_FORMAT ? " (written by a newer version)" : "");
			goto fail;
		}
	} else if (rc == MDB_NOTFOUND && !s->read_only) {
		uint8_t b[8];
		be64(b, STORE_FORMAT);
		v.mv_size = 8;
		v.mv_data = b;
		if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0) {
			fail_lmdb(e, rc, "writing store format");
			goto fail;
		}
	} else if (rc != MDB_NOTFOUND) {
		fail_lmdb(e, rc, "reading store format");
		goto fail;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;		/* freed by commit, whatever it returned */
	if (rc != 0) {
		fail_lmdb(e, rc, "opening databases");
		goto fail;
	}
	*out = s;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	if (s->env)
		mdb_env_close(s->env);
	free(s);
	return -1;
}

static void snap_end(struct snap *p)
{
	if (p->txn)
		mdb_txn_abort(p->txn);
	free(p);
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	while (s->retired) {	/* a handle left open: its owner's bug, ended here all the same */
		struct snap *p = s->retired;
		s->retired = p->next;
		snap_end(p);
	}
	if (s->snap)
		snap_end(s->snap);
	mdb_env_close(s->env);
	free(s);
}

size_t store_map_size(const struct store *s)
{
	return s->map_size;
}

void store_usage(const struct store *s, struct store_usage *u)
{
	MDB_envinfo info;
	MDB_stat st;
	memset(u, 0, sizeof *u);
	u->map_max = s->map_max;
	u->map_size = s->map_size;
	if (mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &st) == 0)
		u->used = ((size_t)info.me_last_pgno + 1) * st.ms_psize;
}

int store_copy(struct store *s, int fd, struct err *e)
{
	int rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	if (rc != 0)
		return fail_lmdb(e, rc, "copying the ledger");
	return 0;
}

void store_set_copying(struct store *s, bool on)
{
	s->copying = on;
}

static int snap_move(struct store *s, struct err *e);

int store_grow(struct store *s, struct err *e)
{
	/* LMDB may not resize the map while this process has a transaction
	 * open, and a backup's copy holds one */
	if (s->copying)
		return err_setc(e, STORE_E_FULL,
				"ledger storage map is full and cannot grow while a backup is being taken; "
				"retry when it has finished");
	if (s->map_size >= s->map_max)
		return err_setc(e, STORE_E_FULL,
				"ledger storage is full: the map reached its configured maximum of %zu MiB",
				s->map_max >> 20);
	if (s->snap && (s->snap->users || s->retired))
		return err_setc(e, STORE_E_IO, "cannot grow the storage map while a read is open on it");
	size_t next = s->map_size > s->map_max / 2 ? s->map_max : s->map_size * 2;
	if (s->snap && s->snap->txn) {	/* it pins the old map: ended, begun again below */
		mdb_txn_abort(s->snap->txn);
		s->snap->txn = NULL;
	}
	int rc = mdb_env_set_mapsize(s->env, next);
	if (rc == 0)
		s->map_size = next;
	struct err se;
	if (s->snap && snap_move(s, &se) && rc == 0)
		return err_setc(e, se.code, "%s", se.msg);
	if (rc != 0)
		return fail_lmdb(e, rc, "growing the storage map");
	return 0;
}

static bool on_snap_thread(const struct store *s)
{
	return s->snap_on && pthread_equal(pthread_self(), s->snap_thread);
}

/* The current snapshot to LMDB's newest commit: in place when no handle is
 * open on it, else a new transaction, the old one retired to end with its
 * last handle. */
static int snap_move(struct store *s, struct err *e)
{
	struct snap *p = s->snap;
	int rc = 0;
	s->snap_bad = true;	/* until it has moved: never a read of what it was */
	if (p->users) {
		struct snap *n = calloc(1, sizeof *n);
		if (n == NULL) {
			err_set(e, "out of memory for the published snapshot");
			goto fail;
		}
		p->next = s->retired;
		s->retired = p;
		s->snap = p = n;
	}
	if (p->txn) {
		mdb_txn_reset(p->txn);
		if ((rc = mdb_txn_renew(p->txn)) != 0) {
			mdb_txn_abort(p->txn);
			p->txn = NULL;
		}
	}
	if (p->txn == NULL && (rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &p->txn)) != 0) {
		p->txn = NULL;
		fail_lmdb(e, rc, "moving the published snapshot");
		goto fail;
	}
	s->snap_bad = false;
	return 0;
fail:
	snprintf(s->snap_msg, sizeof s->snap_msg, "%s", e->msg);
	return -1;
}

int store_snapshot_enable(struct store *s, struct err *e)
{
	if (s->snap_on)
		return 0;
	if ((s->snap = calloc(1, sizeof *s->snap)) == NULL)
		return err_set(e, "out of memory for the published snapshot");
	if (snap_move(s, e)) {
		free(s->snap);
		s->snap = NULL;
		return -1;
	}
	s->snap_thread = pthread_self();
	s->snap_on = true;
	return 0;
}

void store_snapshot_hold(struct store *s)
{
	s->snap_held = true;
}

int store_snapshot_publish(struct store *s, struct err *e)
{
	s->snap_held = false;
	return s->snap_on ? snap_move(s, e) : 0;
}

/* A handle on the published snapshot (the caller is on its thread). */
static int snap_handle(struct store *s, struct store_txn *x, struct err *e)
{
	struct err me;
	if (s->snap_bad && (s->snap_held || snap_move(s, &me)))
		return err_setc(e, STORE_E_IO, "reading the published state: %s", s->snap_msg);
	x->s = s;
	x->txn = s->snap->txn;
	x->snap = s->snap;
	s->snap->users++;
	return 0;
}

static void snap_release(struct store *s, struct snap *p)
{
	if (--p->users || p == s->snap)
		return;
	for (struct snap **at = &s->retired; *at; at = &(*at)->next)
		if (*at == p) {
			*at = p->next;
			break;
		}
	snap_end(p);
}

int store_begin(struct store *s, bool write, struct store_txn **t, struct err *e)
{
	struct store_txn *x = calloc(1, sizeof *x);
	if (x == NULL)
		return err_set(e, "out of memory");
	if (write && s->read_only) {
		free(x);
		return err_set(e, "store is open read-only");
	}
	if (!write && on_snap_thread(s)) {
		if (snap_handle(s, x, e)) {
			free(x);
			return -1;
		}
		*t = x;
		return 0;
	}
	int rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &x->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* another process grew the map: adopt its size and retry */
		mdb_env_set_mapsize(s->env, 0);
		MDB_envinfo info;
		if (mdb_env_info(s->env, &info) == 0)
			s->map_size = info.me_mapsize;
		rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &x->txn);
	}
	if (rc != 0) {
		free(x);
		return fail_lmdb(e, rc, "beginning transaction");
	}
	x->s = s;
	x->write = write;
	*t = x;
	return 0;
}

static int sticky(struct store_txn *t, struct err *e)
{
	if (t->code == 0)
		return 0;
	return err_setc(e, t->code, "%s", t->msg);
}

static int record(struct store_txn *t, int rc, const char *what, struct err *e)
{
	struct err tmp;
	fail_lmdb(&tmp, rc, what);
	t->code = tmp.code;
	memcpy(t->msg, tmp.msg, sizeof t->msg - 1);
	t->msg[sizeof t->msg - 1] = '\0';
	return err_setc(e, t->code, "%s", t->msg);
}

int store_begin_child(struct store_txn *parent, struct store_txn **t, struct err *e)
{
	if (sticky(parent, e))
		return -1;
	if (!parent->write)
		return err_set(e, "a nested transaction needs a write transaction");
	struct store_txn *x = calloc(1, sizeof *x);
	if (x == NULL)
		return err_set(e, "out of memory");
	int rc = mdb_txn_begin(parent->s->env, parent->txn, 0, &x->txn);
	if (rc != 0) {
		free(x);
		return record(parent, rc, "beginning nested transaction", e);
	}
	x->s = parent->s;
	x->parent = parent;
	x->write = true;
	*t = x;
	return 0;
}

int store_commit(struct store_txn *t, struct err *e)
{
	int rc;
	if (t->code != 0) {
		sticky(t, e);
		store_abort(t);
		return -1;
	}
	struct store_txn *parent = t->parent;
	if (t->snap) {
		store_abort(t);
		return 0;
	}
	if (t->write && parent == NULL && t->s->fault_commit) {
		int code = t->s->fault_commit;
		t->s->fault_commit = 0;
		store_abort(t);
		return fail_lmdb(e, code == STORE_E_MAP_FULL ? MDB_MAP_FULL : code == STORE_E_FULL ? ENOSPC : EIO,
				 "committing");
	}
	struct store *s = t->s;
	bool top_write = t->write && parent == NULL;
	rc = mdb_txn_commit(t->txn);
	t->txn = NULL;		/* commit frees it, success or not */
	free(t);
	if (rc != 0) {
		/* a child that did not fold into its parent may have left the
		 * parent half-merged: the parent fails too */
		if (parent)
			return record(parent, rc, "committing nested transaction", e);
		return fail_lmdb(e, rc, "committing");
	}
	/* the snapshot's own thread wrote: its reads see it, unless another
	 * thread's write may be in the newest commit too (store_snapshot_hold);
	 * a failed move fails that thread's reads, not this commit */
	struct err me;
	if (top_write && on_snap_thread(s) && !s->snap_held)
		snap_move(s, &me);
	return 0;
}

void store_abort(struct store_txn *t)
{
	if (t == NULL)
		return;
	if (t->snap)
		snap_release(t->s, t->snap);
	else if (t->txn)
		mdb_txn_abort(t->txn);
	free(t);
}

static int get(struct store_txn *t, MDB_dbi dbi, const void *key, size_t klen, MDB_val *v,
	       const char *what, struct err *e)
{
	if (sticky(t, e))
		return -1;
	MDB_val k = { klen, (void *)key };
	int rc = mdb_get(t->txn, dbi, &k, v);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return record(t, rc, what, e);
	return 1;
}

static int put(struct store_txn *t, MDB_dbi dbi, const void *key, size_t klen,
	       const void *val, size_t vlen, unsigned flags, const char *what, struct err *e)
{
	if (sticky(t, e))
		return -1;
	struct store *s = t->s;
	if (s->fault_countdown && --s->fault_countdown == 0) {
		int code = s->fault_code;
		return record(t, code == STORE_E_MAP_FULL ? MDB_MAP_FULL :
				 code == STORE_E_FULL ? ENOSPC : EIO, what, e);
	}
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc = mdb_put(t->txn, dbi, &k, &v, flags);
	if (rc != 0)
		return record(t, rc, what, e);
	return 0;
}

void store_fault_put(struct store *s, unsigned n, int code)
{
	s->fault_countdown = n;
	s->fault_code = code;
}

void store_fault_commit(struct store *s, int code)
{
	s->fault_commit = code;
}

int store_entry_get(struct store_txn *t, uint64_t seq, const uint8_t **p, size_t *n,
		    struct err *e)
{
	if (t->log)
		t = t->log;
	uint8_t k[8];
	MDB_val v;
	be64(k, seq);
	int rc = get(t, t->s->entries, k, 8, &v, "reading entry", e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_setc(e, STORE_E_NOTFOUND, "entry %llu does not exist",
				(unsigned long long)seq);
	*p = v.mv_data;
	*n = v.mv_size;
	return 0;
}

int store_entry_put(struct store_txn *t, uint64_t seq, const uint8_t *p, size_t n,
		    struct err *e)
{
	uint8_t k[8];
	be64(k, seq);
	/* MDB_APPEND: LMDB refuses a key that is not after the last one, so an
	 * entry can never be overwritten or inserted out of order. */
	return put(t, t->s->entries, k, 8, p, n, MDB_APPEND, "writing entry", e);
}

/* The one cursor walk: from start (or the first key when slen is 0), while
 * keys begin with the first plen bytes of start, calling visit, which
 * returns 0 to go on, 1 to stop, -1 to stop with an error. */
static int scan(struct store_txn *t, MDB_dbi dbi, const void *start, size_t slen, size_t plen,
		int (*visit)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
			     struct err *e),
		void *ctx, const char *what, struct err *e)
{
	MDB_cursor *cur;
	int rc;
	if (sticky(t, e))
		return -1;
	if ((rc = mdb_cursor_open(t->txn, dbi, &cur)) != 0)
		return record(t, rc, "opening cursor", e);
	MDB_val k = { slen, (void *)start }, v;
	rc = mdb_cursor_get(cur, &k, &v, slen ? MDB_SET_RANGE : MDB_FIRST);
	int ret = 0;
	while (rc == 0) {
		if (k.mv_size < plen || memcmp(k.mv_data, start, plen) != 0)
			break;
		int r = visit(ctx, k.mv_data, k.mv_size, v.mv_data, v.mv_size, e);
		if (r < 0)
			ret = -1;
		if (r != 0)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND)
		ret = fail_lmdb(e, rc, what);
	mdb_cursor_close(cur);
	return ret;
}

struct entry_walk {
	uint64_t to;
	int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e);
	void *ctx;
};

static int entry_visit(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
		       struct err *e)
{
	struct entry_walk *w = ctx;
	if (kn != 8)
		return err_setc(e, STORE_E_CORRUPT, "entries database holds a malformed key");
	uint64_t seq = rd64(k);
	if (seq >= w->to)
		return 1;
	return w->fn(w->ctx, seq, v, vn, e);
}

int store_entry_scan(struct store_txn *t, uint64_t from, uint64_t to,
		     int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e),
		     void *ctx, struct err *e)
{
	struct entry_walk w = { to, fn, ctx };
	uint8_t kb[8];
	if (t->log)
		t = t->log;
	if (from >= to)
		return sticky(t, e);
	be64(kb, from);
	return scan(t, t->s->entries, kb, 8, 0, entry_visit, &w, "reading entries", e);
}

int store_entry_stat(struct store_txn *t, uint64_t *count, uint64_t *last, struct err *e)
{
	MDB_stat st;
	MDB_cursor *cur;
	int rc;
	if (t->log)
		t = t->log;
	if (sticky(t, e))
		return -1;
	if ((rc = mdb_stat(t->txn, t->s->entries, &st)) != 0)
		return record(t, rc, "reading entry count", e);
	*count = st.ms_entries;
	*last = 0;
	if (st.ms_entries == 0)
		return 0;
	if ((rc = mdb_cursor_open(t->txn, t->s->entries, &cur)) != 0)
		return record(t, rc, "opening cursor", e);
	MDB_val k, v;
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		*last = rd64(k.mv_data);
	mdb_cursor_close(cur);
	if (rc != 0)
		return fail_lmdb(e, rc, "reading last entry");
	return 0;
}

static void node_key(uint8_t k[9], unsigned level, uint64_t index)
{
	k[0] = (uint8_t)level;
	be64(k + 1, index);
}

int store_node_get(struct store_txn *t, unsigned level, uint64_t index, uint8_t out[32],
		   struct err *e)
{
	uint8_t k[9];
	MDB_val v;
	node_key(k, level, index);
	int rc = get(t, t->s->nodes, k, 9, &v, "reading tree node", e);
	if (rc < 0)
		return -1;
	if (rc == 0 || v.mv_size != 32)
		return err_setc(e, STORE_E_CORRUPT, "tree node (level %u, index %llu) is %s", level,
				(unsigned long long)index, rc == 0 ? "missing" : "damaged");
	memcpy(out, v.mv_data, 32);
	return 0;
}

int store_node_put(struct store_txn *t, unsigned level, uint64_t index, const uint8_t h[32],
		   struct err *e)
{
	uint8_t k[9];
	node_key(k, level, index);
	return put(t, t->s->nodes, k, 9, h, 32, MDB_NOOVERWRITE, "writing tree node", e);
}

#define READER_LEVELS 64

struct store_node_reader {
	struct store_txn *t;
	MDB_cursor *cur[READER_LEVELS];
	uint64_t next[READER_LEVELS];	/* the index a step reaches; valid when cur is open */
};

int store_node_reader_open(struct store_txn *t, struct store_node_reader **out, struct err *e)
{
	*out = calloc(1, sizeof **out);
	if (*out == NULL)
		return err_set(e, "out of memory for a tree node reader");
	(*out)->t = t;
	return 0;
}

void store_node_reader_close(struct store_node_reader *r)
{
	if (r == NULL)
		return;
	for (unsigned l = 0; l < READER_LEVELS; l++)
		if (r->cur[l])
			mdb_cursor_close(r->cur[l]);
	free(r);
}

int store_node_read(struct store_node_reader *r, unsigned level, uint64_t index, uint8_t out[32],
		    struct err *e)
{
	struct store_txn *t = r->t;
	if (level >= READER_LEVELS)
		return store_node_get(t, level, index, out, e);
	if (sticky(t, e))
		return -1;
	int rc;
	if (r->cur[level] == NULL && (rc = mdb_cursor_open(t->txn, t->s->nodes, &r->cur[level])) != 0) {
		r->cur[level] = NULL;
		return record(t, rc, "reading tree nodes", e);
	}
	uint8_t k[9];
	node_key(k, level, index);
	MDB_val mk = { 9, k }, v;
	bool step = r->next[level] == index && index > 0;
	rc = mdb_cursor_get(r->cur[level], &mk, &v, step ? MDB_NEXT : MDB_SET_KEY);
	/* a step lands on the next record, which must be this node */
	if (rc == 0 && step && (mk.mv_size != 9 || memcmp(mk.mv_data, k, 9) != 0))
		rc = MDB_NOTFOUND;
	if (rc != 0 && rc != MDB_NOTFOUND)
		return record(t, rc, "reading tree node", e);
	r->next[level] = rc == 0 ? index + 1 : 0;
	if (rc == MDB_NOTFOUND || v.mv_size != 32)
		return err_setc(e, STORE_E_CORRUPT, "tree node (level %u, index %llu) is %s", level,
				(unsigned long long)index, rc == MDB_NOTFOUND ? "missing" : "damaged");
	memcpy(out, v.mv_data, 32);
	return 0;
}

int store_meta_get(struct store_txn *t, const char *name, const uint8_t **p, size_t *n,
		   struct err *e)
{
	MDB_val v;
	int rc = get(t, t->s->meta, name, strlen(name), &v, "reading metadata", e);
	if (rc == 1) {
		*p = v.mv_data;
		*n = v.mv_size;
	}
	return rc;
}

int store_meta_put(struct store_txn *t, const char *name, const void *p, size_t n,
		   struct err *e)
{
	return put(t, t->s->meta, name, strlen(name), p, n, 0, "writing metadata", e);
}

int store_meta_get_u64(struct store_txn *t, const char *name, uint64_t *v, struct err *e)
{
	const uint8_t *p;
	size_t n;
	int rc = store_meta_get(t, name, &p, &n, e);
	if (rc != 1)
		return rc;
	if (n != 8)
		return err_setc(e, STORE_E_CORRUPT, "metadata %s is damaged", name);
	*v = rd64(p);
	return 1;
}

int store_meta_put_u64(struct store_txn *t, const char *name, uint64_t v, struct err *e)
{
	uint8_t b[8];
	be64(b, v);
	return store_meta_put(t, name, b, 8, e);
}

static size_t reqid_key(uint8_t *k, const char *author, size_t alen, const char *reqid,
			size_t rlen)
{
	memcpy(k, author, alen);
	k[alen] = 0;
	memcpy(k + alen + 1, reqid, rlen);
	return alen + 1 + rlen;
}

int store_reqid_get(struct store_txn *t, const char *author, size_t alen, const char *reqid,
		    size_t rlen, uint64_t *seq, uint8_t digest[32], struct err *e)
{
	uint8_t k[512];
	MDB_val v;
	if (alen + rlen + 1 > sizeof k)
		return err_set(e, "author and request id too long");
	size_t kn = reqid_key(k, author, alen, reqid, rlen);
	int rc = get(t, t->s->reqids, k, kn, &v, "reading request id", e);
	if (rc == 1) {
		if (v.mv_size != 40)
			return err_setc(e, STORE_E_CORRUPT, "request id index is damaged");
		*seq = rd64(v.mv_data);
		memcpy(digest, (const uint8_t *)v.mv_data + 8, 32);
	}
	return rc;
}

int store_reqid_put(struct store_txn *t, const char *author, size_t alen, const char *reqid,
		    size_t rlen, uint64_t seq, const uint8_t digest[32], struct err *e)
{
	uint8_t k[512], v[40];
	if (alen + rlen + 1 > sizeof k)
		return err_set(e, "author and request id too long");
	size_t kn = reqid_key(k, author, alen, reqid, rlen);
	be64(v, seq);
	memcpy(v + 8, digest, 32);
	return put(t, t->s->reqids, k, kn, v, 40, MDB_NOOVERWRITE, "writing request id", e);
}

int store_project_put(struct store_txn *t, const char *project, size_t plen, uint64_t seq,
		      struct err *e)
{
	uint8_t k[128];
	if (plen + 9 > sizeof k)
		return err_set(e, "project id too long");
	memcpy(k, project, plen);
	k[plen] = 0;
	be64(k + plen + 1, seq);
	return put(t, t->s->projects, k, plen + 9, "", 0, MDB_NOOVERWRITE, "writing project index", e);
}

struct project_walk {
	size_t klen;
	int (*fn)(void *ctx, uint64_t seq, struct err *e);
	void *ctx;
};

static int project_visit(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
			 struct err *e)
{
	(void)v;
	(void)vn;
	struct project_walk *w = ctx;
	if (kn != w->klen)
		return 1;	/* a longer project id sharing this prefix: past ours */
	return w->fn(w->ctx, rd64(k + kn - 8), e);
}

int store_project_scan(struct store_txn *t, const char *project, size_t plen, uint64_t from,
		       int (*fn)(void *ctx, uint64_t seq, struct err *e), void *ctx, struct err *e)
{
	uint8_t kb[128];
	if (plen + 9 > sizeof kb)
		return err_set(e, "project id too long");
	memcpy(kb, project, plen);
	kb[plen] = 0;
	be64(kb + plen + 1, from);
	struct project_walk w = { plen + 9, fn, ctx };
	return scan(t, t->s->projects, kb, plen + 9, plen + 1, project_visit, &w,
		    "reading project index", e);
}

int store_state_get(struct store_txn *t, const void *key, size_t klen, const uint8_t **v,
		    size_t *vlen, struct err *e)
{
	MDB_val val;
	int rc = get(t, t->s->state, key, klen, &val, "reading derived state", e);
	if (rc == 1) {
		*v = val.mv_data;
		*vlen = val.mv_size;
	}
	return rc;
}

int store_state_put(struct store_txn *t, const void *key, size_t klen, const void *v, size_t vlen,
		    struct err *e)
{
	return put(t, t->s->state, key, klen, v, vlen, 0, "writing derived state", e);
}

int store_state_del(struct store_txn *t, const void *key, size_t klen, struct err *e)
{
	if (sticky(t, e))
		return -1;
	MDB_val k = { klen, (void *)key };
	int rc = mdb_del(t->txn, t->s->state, &k, NULL);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return record(t, rc, "deleting derived state", e);
	return 0;
}

int store_state_scan(struct store_txn *t, const void *prefix, size_t plen,
		     int (*fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
			       struct err *e),
		     void *ctx, struct err *e)
{
	return scan(t, t->s->state, prefix, plen, plen, fn, ctx, "reading derived state", e);
}

static MDB_dbi dbi_of(const struct store *s, enum store_db db)
{
	switch (db) {
	case STORE_DB_ENTRIES: return s->entries;
	case STORE_DB_NODES: return s->nodes;
	case STORE_DB_REQIDS: return s->reqids;
	case STORE_DB_PROJECTS: return s->projects;
	case STORE_DB_STATE: return s->state;
	default: return s->meta;
	}
}

int store_clear(struct store_txn *t, enum store_db db, struct err *e)
{
	if (sticky(t, e))
		return -1;
	int rc = mdb_drop(t->txn, dbi_of(t->s, db), 0);
	if (rc != 0)
		return record(t, rc, "clearing a database", e);
	return 0;
}

int store_walk(struct store_txn *t, enum store_db db,
	       int (*fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e),
	       void *ctx, struct err *e)
{
	return scan(t, dbi_of(t->s, db), "", 0, 0, fn, ctx, "reading a database", e);
}

void store_txn_entries_from(struct store_txn *t, struct store_txn *log)
{
	t->log = log;
}

int store_open_scratch(struct store **out, size_t map_initial, struct err *e)
{
	const char *tmp = getenv("TMPDIR");
	char path[4200];
	snprintf(path, sizeof path, "%s/scoped-scratch-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkstemp(path);
	if (fd < 0)
		return err_set(e, "creating a scratch file in %s: %s (set TMPDIR to a writable directory)",
			       tmp && *tmp ? tmp : "/tmp", strerror(errno));
	close(fd);
	struct store *s = calloc(1, sizeof *s);
	MDB_txn *txn = NULL;
	int rc = ENOMEM;
	if (s == NULL)
		goto fail;
	s->map_size = map_initial ? map_initial : (size_t)64 << 20;
	s->map_max = (size_t)1 << 40;
	if ((rc = mdb_env_create(&s->env)) != 0 || (rc = mdb_env_set_maxdbs(s->env, 8)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0 ||
	    (rc = mdb_env_open(s->env, path, MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC | MDB_NOMETASYNC,
			       0600)) != 0 ||
	    (rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0 || (rc = open_dbs(s, txn, MDB_CREATE)) != 0)
		goto fail;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	unlink(path);	/* open: the map stays until store_close */
	*out = s;
	return 0;
fail:
	unlink(path);
	if (txn)
		mdb_txn_abort(txn);
	if (s && s->env)
		mdb_env_close(s->env);
	free(s);
	return fail_lmdb(e, rc, "opening a scratch store");
}

static int key_cmp(const MDB_val *a, const MDB_val *b)
{
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int c = n ? memcmp(a->mv_data, b->mv_data, n) : 0;
	if (c != 0)
		return c;
	return a->mv_size < b->mv_size ? -1 : a->mv_size > b->mv_size;
}

int store_diff(struct store_txn *a, struct store_txn *b, enum store_db db, struct store_diff *d,
	       struct err *e)
{
	MDB_cursor *ca = NULL, *cb = NULL;
	MDB_val ka, va, kb, vb;
	int rc;
	if (sticky(a, e) || sticky(b, e))
		return -1;
	memset(d, 0, sizeof *d);
	if ((rc = mdb_cursor_open(a->txn, dbi_of(a->s, db), &ca)) != 0)
		return record(a, rc, "opening cursor", e);
	if ((rc = mdb_cursor_open(b->txn, dbi_of(b->s, db), &cb)) != 0) {
		mdb_cursor_close(ca);
		return record(b, rc, "opening cursor", e);
	}
	int ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST), rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
	int ret = 0;
	while ((ra == 0 || ra == MDB_NOTFOUND) && (rb == 0 || rb == MDB_NOTFOUND) && (ra == 0 || rb == 0)) {
		int c = ra != 0 ? 1 : rb != 0 ? -1 : key_cmp(&ka, &kb);
		if (c == 0 && va.mv_size == vb.mv_size &&
		    (va.mv_size == 0 || memcmp(va.mv_data, vb.mv_data, va.mv_size) == 0)) {
			ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
			rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
			continue;
		}
		const MDB_val *k = c <= 0 ? &ka : &kb;
		d->klen = k->mv_size < sizeof d->key ? k->mv_size : sizeof d->key;
		memcpy(d->key, k->mv_data, d->klen);
		if (c <= 0) {
			d->a = va.mv_data;
			d->alen = va.mv_size;
		}
		if (c >= 0) {
			d->b = vb.mv_data;
			d->blen = vb.mv_size;
		}
		ret = 1;
		break;
	}
	if (ret == 0 && ((ra != 0 && ra != MDB_NOTFOUND) || (rb != 0 && rb != MDB_NOTFOUND)))
		ret = fail_lmdb(e, ra != 0 && ra != MDB_NOTFOUND ? ra : rb, "comparing databases");
	mdb_cursor_close(ca);
	mdb_cursor_close(cb);
	return ret;
}
