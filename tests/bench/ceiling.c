/*
 * ceiling: the storage ceiling the append benchmarks are compared with, raw
 * LMDB with no ledger, no rules and no network.  Each append puts one record
 * under its sequence number (8 bytes big-endian, MDB_APPEND) whose value is
 * the previous record's hash followed by `size` bytes of note, so the records
 * form a hash chain (SHA-256 of each value); every `batch` appends the chain
 * head (seq and hash) is put too and the transaction commits with LMDB's
 * default durable sync.  Nothing else: no tree, no signature, no indexes.
 * This file includes lmdb.h because it measures LMDB itself, not the store.
 */
#include "ceiling.h"

#include <errno.h>
#include <getopt.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "merkle.h"

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int lmdb_fail(const char *what, int rc)
{
	fprintf(stderr, "scope-bench ceiling: %s: %s\n", what, mdb_strerror(rc));
	return 1;
}

/* One durable transaction of `batch` appends from *seq on, the chain head
 * carried in head. */
static int one_txn(MDB_env *env, MDB_dbi log, MDB_dbi meta, uint64_t *seq, int batch, uint8_t *val,
		   size_t vlen, uint8_t head[HASH_LEN])
{
	MDB_txn *t;
	int rc = mdb_txn_begin(env, NULL, 0, &t);
	if (rc)
		return lmdb_fail("begin", rc);
	for (int i = 0; i < batch; i++, (*seq)++) {
		uint8_t k[8];
		for (int b = 0; b < 8; b++)
			k[b] = (uint8_t)(*seq >> (56 - 8 * b));
		memcpy(val, head, HASH_LEN);
		memcpy(val + HASH_LEN, seq, sizeof *seq);	/* each note differs */
		MDB_val mk = { sizeof k, k }, mv = { vlen, val };
		if ((rc = mdb_put(t, log, &mk, &mv, MDB_APPEND)) != 0) {
			mdb_txn_abort(t);
			return lmdb_fail("put", rc);
		}
		sha256(val, vlen, head);
	}
	uint8_t hv[8 + HASH_LEN];
	for (int b = 0; b < 8; b++)
		hv[b] = (uint8_t)(*seq >> (56 - 8 * b));
	memcpy(hv + 8, head, HASH_LEN);
	MDB_val hk = { 4, "head" }, hvv = { sizeof hv, hv };
	if ((rc = mdb_put(t, meta, &hk, &hvv, 0)) != 0) {
		mdb_txn_abort(t);
		return lmdb_fail("put head", rc);
	}
	rc = mdb_txn_commit(t);
	t = NULL;	/* freed by the commit, failed or not */
	return rc ? lmdb_fail("commit", rc) : 0;
}

int cmd_ceiling(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' },  { "duration", required_argument, NULL, 't' },
		{ "batch", required_argument, NULL, 'b' }, { "size", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },	   { 0, 0, 0, 0 },
	};
	const char *dir = NULL;
	double duration = 5;
	int batch = 256, size = 256, c;
	int json = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'D': dir = optarg; break;
		case 't': duration = atof(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'j': json = 1; break;
		default: return 2;
		}
	}
	if (dir == NULL || batch < 1 || batch > 100000 || size < 8 || size > 65536 || !(duration > 0)) {
		fprintf(stderr, "scope-bench ceiling: needs --dir DIR (a new or empty directory); "
				"--batch 1..100000, --size 8..65536, --duration above 0\n");
		return 2;
	}
	char data[4096];
	struct stat st;
	snprintf(data, sizeof data, "%s/data.mdb", dir);
	if (stat(data, &st) == 0) {
		fprintf(stderr, "scope-bench ceiling: %s already holds an LMDB database: give a new or empty "
				"directory (each run starts from nothing)\n", dir);
		return 2;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "scope-bench ceiling: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi log, meta;
	int rc;
	if ((rc = mdb_env_create(&env)) != 0)
		return lmdb_fail("env", rc);
	/* the map is address space only; the file grows as records are written */
	if ((rc = mdb_env_set_maxdbs(env, 2)) || (rc = mdb_env_set_mapsize(env, (size_t)64 << 30)) ||
	    (rc = mdb_env_open(env, dir, 0, 0600))) {
		mdb_env_close(env);
		return lmdb_fail(dir, rc);
	}
	if ((rc = mdb_txn_begin(env, NULL, 0, &t)) || (rc = mdb_dbi_open(t, "log", MDB_CREATE, &log)) ||
	    (rc = mdb_dbi_open(t, "meta", MDB_CREATE, &meta)) || (rc = mdb_txn_commit(t))) {
		mdb_env_close(env);
		return lmdb_fail("open databases", rc);
	}
	size_t vlen = HASH_LEN + (size_t)size;
	uint8_t *val = malloc(vlen);
	if (val == NULL) {
		mdb_env_close(env);
		fprintf(stderr, "scope-bench ceiling: out of memory\n");
		return 1;
	}
	memset(val, 'c', vlen);
	uint8_t head[HASH_LEN] = { 0 };
	uint64_t seq = 0, commits = 0;
	int bad = 0;
	double t0 = mono_s(), until = t0 + duration, t1;
	do {
		bad = one_txn(env, log, meta, &seq, batch, val, vlen, head);
		commits += !bad;
		t1 = mono_s();
	} while (!bad && t1 < until);
	free(val);
	mdb_env_close(env);
	if (bad)
		return 1;
	double secs = t1 - t0, eps = (double)seq / secs;
	if (json)
		printf("{\"batch\":%d,\"size\":%d,\"duration_s\":%.2f,\"entries\":%llu,\"commits\":%llu,"
		       "\"entries_per_s\":%.0f,\"commit_ms\":%.3f}\n",
		       batch, size, secs, (unsigned long long)seq, (unsigned long long)commits, eps,
		       1000.0 * secs / (double)commits);
	else
		printf("ceiling: raw LMDB, %d appends of %d bytes per durable transaction, %.1f s: %llu entries, "
		       "%llu commits\n  %.0f entries/s, %.3f ms per commit\n",
		       batch, size, secs, (unsigned long long)seq, (unsigned long long)commits, eps,
		       1000.0 * secs / (double)commits);
	return 0;
}
