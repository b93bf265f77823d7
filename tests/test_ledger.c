#define _GNU_SOURCE
/*
 * The ledger on real LMDB files in a temporary directory: group commit,
 * reopen, proofs, idempotency, injected storage faults, a full map, the
 * write lock, format versions, and tampering with the stored bytes.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enc.h"
#include "entry.h"
#include "fileio.h"
#include "json.h"
#include "ledger.h"
#include "rules_hook.h"
#include "rawdb.h"
#include "signer.h"
#include "tap.h"
#include "tmpdir.h"
#include "verify.h"

#define ORIGIN "test.example/ledger"

static char base[256];
static struct note_signer signer;

static void mkdir_or_die(const char *p)
{
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		perror(p);
		exit(2);
	}
}

static const char *newdir(const char *name)
{
	static char p[512];
	snprintf(p, sizeof p, "%s/%s", base, name);
	mkdir_or_die(p);
	return p;
}

static struct ledger *open_l(const char *dir, size_t map_initial, size_t map_max, bool ro,
			     struct err *e)
{
	struct ledger *l = NULL;
	struct ledger_opts o = { dir, ORIGIN, &signer, map_initial, map_max, ro, NULL, rules_hook(), NULL };
	if (ledger_open(&l, &o, e))
		return NULL;
	return l;
}

struct req {
	char kind[16], project[16], author[32], reqid[48];
	struct buf body;
	struct ledger_append a;
};

static void mkreq(struct req *r, const char *author, const char *reqid, const char *text)
{
	char json[ENTRY_BODY_MAX];
	snprintf(r->kind, sizeof r->kind, "note");
	snprintf(r->project, sizeof r->project, "%s", "");	/* ledger-level notes need no project */
	snprintf(r->author, sizeof r->author, "%s", author);
	snprintf(r->reqid, sizeof r->reqid, "%s", reqid);
	snprintf(json, sizeof json, "{\"text\":\"%s\"}", text);
	buf_init(&r->body);
	if (json_to_canonical(json, strlen(json), &r->body, NULL))
		abort();
	r->a = (struct ledger_append){ r->kind, strlen(r->kind), r->project, strlen(r->project),
				       r->author, strlen(r->author), r->reqid, strlen(r->reqid),
				       r->body.data, r->body.len, false, NULL, NULL };
}

/* Appends n entries in one batch; returns the number appended. */
static size_t append_n(struct ledger *l, size_t n, const char *tag, struct err *e)
{
	struct req *rs = calloc(n, sizeof *rs);
	struct ledger_append *as = calloc(n, sizeof *as);
	struct ledger_result *res = calloc(n, sizeof *res);
	size_t good = 0;
	for (size_t i = 0; i < n; i++) {
		char id[48], text[64];
		snprintf(id, sizeof id, "%s-%zu", tag, i);
		snprintf(text, sizeof text, "%s marker-%zu", tag, i);
		mkreq(&rs[i], "alice", id, text);
		as[i] = rs[i].a;
	}
	if (ledger_append_batch(l, as, n, res, e) == 0)
		for (size_t i = 0; i < n; i++)
			good += res[i].status == LEDGER_APPENDED;
	for (size_t i = 0; i < n; i++)
		buf_free(&rs[i].body);
	free(rs);
	free(as);
	free(res);
	return good;
}

static int verify_ok(struct ledger *l, struct ledger_verify_report *r, struct err *e)
{
	return ledger_verify(l, NULL, NULL, NULL, r, e);
}

/* ---- raw LMDB access, to play the attacker ---- */

static void be64(uint8_t *k, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		k[i] = (uint8_t)v;
}

/* fn edits a copy of the value of key in db; returns 0 if written */
static int raw_edit(const char *dir, const char *db, const void *key, size_t klen,
		    void (*fn)(uint8_t *p, size_t n), bool del)
{
	if (del)
		return raw_op(dir, db, key, klen, false, NULL, 0, NULL);
	struct buf v;
	buf_init(&v);
	int rc = raw_op(dir, db, key, klen, true, NULL, 0, &v);
	if (rc == 0) {
		fn(v.data, v.len);
		rc = raw_op(dir, db, key, klen, false, v.data, v.len, NULL);
	}
	buf_free(&v);
	return rc;
}

static void flip_last_text_byte(uint8_t *p, size_t n)
{
	/* toggle the first letter of "marker" in the body text ('m' <-> 'l',
	 * still valid UTF-8); applying it twice restores the entry */
	for (size_t i = 1; i + 6 < n; i++)
		if (memcmp(p + i, "arker-", 6) == 0) {
			p[i - 1] ^= 0x01;
			return;
		}
}

static void flip_first_byte(uint8_t *p, size_t n)
{
	(void)n;
	p[0] ^= 0xff;
}

static void test_basic(void)
{
	struct err e = { 0 };
	const char *dir = newdir("basic");
	struct ledger *l = open_l(dir, 0, 0, false, &e);
	ok(l != NULL, "create a ledger in a new directory: %s", e.msg);
	is_int(ledger_size(l), 0, "  it is empty");
	struct buf cp;
	buf_init(&cp);
	ok(ledger_checkpoint(l, &cp, &e) == 0, "  and has a signed checkpoint");
	like(buf_cstr(&cp), ORIGIN "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
	     "  for size 0 with the empty-tree root");

	is_int(append_n(l, 200, "batch", &e), 200, "group commit: 200 entries in one transaction");
	is_int(ledger_size(l), 200, "  size is 200");
	uint8_t root200[32], leaf199[32];
	ok(ledger_root(l, 200, root200, &e) == 0, "  root at 200");

	/* chain: every prev is the previous leaf hash */
	int chained = 1;
	uint8_t prev[32] = { 0 };
	for (uint64_t s = 0; s < 200; s++) {
		struct buf b;
		struct entry en;
		buf_init(&b);
		if (ledger_get(l, s, &b, &e) || entry_decode(b.data, b.len, &en, &e) || en.seq != s ||
		    memcmp(en.prev, prev, 32) != 0)
			chained = 0;
		merkle_leaf_hash(b.data, b.len, prev);
		buf_free(&b);
	}
	memcpy(leaf199, prev, 32);
	ok(chained, "  entries 0..199 are in order and chained by prev");

	ledger_close(l);
	l = open_l(dir, 0, 0, false, &e);
	ok(l != NULL, "reopen after close");
	is_int(ledger_size(l), 200, "  size survives");
	uint8_t root[32];
	ok(ledger_root(l, 200, root, &e) == 0 && memcmp(root, root200, 32) == 0, "  same root");
	is_int(append_n(l, 1, "after", &e), 1, "  append continues");
	struct buf b;
	struct entry en;
	buf_init(&b);
	ok(ledger_get(l, 200, &b, &e) == 0 && entry_decode(b.data, b.len, &en, &e) == 0 &&
	   en.seq == 200 && memcmp(en.prev, leaf199, 32) == 0, "  entry 200 links to entry 199");
	buf_free(&b);

	struct ledger_verify_report r;
	ok(verify_ok(l, &r, &e) == 0 && r.entries == 201, "full verification passes: %s", e.msg);

	/* proofs from storage verify against the stored roots */
	int good = 1;
	for (uint64_t n = 1; n <= 201; n += 7)
		for (uint64_t i = 0; i < n; i += 5) {
			uint8_t leaf[32], rt[32], proof[64][32];
			size_t len;
			if (ledger_inclusion(l, i, n, leaf, rt, proof, &len, &e) ||
			    merkle_verify_inclusion(i, n, leaf, (const uint8_t(*)[32])proof, len, rt, &e))
				good = 0;
		}
	ok(good, "inclusion proofs from storage verify");
	good = 1;
	for (uint64_t n = 1; n <= 201; n += 9)
		for (uint64_t m = 1; m <= n; m += 4) {
			uint8_t r1[32], r2[32], proof[64][32];
			size_t len;
			if (ledger_consistency(l, m, n, r1, r2, proof, &len, &e) ||
			    merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[32])proof, len, &e))
				good = 0;
		}
	ok(good, "consistency proofs from storage verify");
	uint8_t leaf[32], rt[32], proof[64][32];
	size_t len;
	ok(ledger_inclusion(l, 5, 300, leaf, rt, proof, &len, &e) != 0, "no proof for a size beyond the ledger");
	like(e.msg, "larger than the ledger", "  says why");
	ok(ledger_consistency(l, 0, 10, rt, rt, proof, &len, &e) != 0, "no consistency proof from size 0");

	/* the stored checkpoint verifies with the public key and matches */
	struct note_verifier v;
	struct checkpoint c;
	note_signer_verifier(&signer, &v);
	buf_reset(&cp);
	ok(ledger_checkpoint(l, &cp, &e) == 0 &&
	   checkpoint_open((const char *)cp.data, cp.len, &v, 1, &c, &e) == 0 && c.size == 201,
	   "latest checkpoint is signed and covers 201 entries");
	buf_free(&cp);

	/* a second writer is locked out; a reader is not */
	struct err e2 = { 0 };
	struct ledger *l2 = open_l(dir, 0, 0, false, &e2);
	ok(l2 == NULL, "a second writer on the same directory is refused");
	like(e2.msg, "in use by another process", "  with a clear message");
	l2 = open_l(dir, 0, 0, true, &e2);
	ok(l2 != NULL && ledger_size(l2) == 201, "a read-only handle opens alongside");
	ledger_close(l2);
	ledger_close(l);
}

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

static void test_requests(void)
{
	struct err e = { 0 };
	const char *dir = newdir("requests");
	struct ledger *l = open_l(dir, 0, 0, false, &e);
	struct req a, a2, b, c, bad;
	struct ledger_result res[4];

	mkreq(&a, "alice", "req-1", "first");
	ok(ledger_append_batch(l, &a.a, 1, res, &e) == 0 && res[0].status == LEDGER_APPENDED &&
	   res[0].seq == 0, "append with request id req-1");
	uint8_t leaf0[32];
	memcpy(leaf0, res[0].leaf, 32);
	ok(ledger_append_batch(l, &a.a, 1, res, &e) == 0 && res[0].status == LEDGER_DUPLICATE &&
	   res[0].seq == 0 && memcmp(res[0].leaf, leaf0, 32) == 0,
	   "same request id, same content: the original entry, no new one");
	is_int(ledger_size(l), 1, "  size unchanged");
	mkreq(&a2, "alice", "req-1", "something else");
	ok(ledger_append_batch(l, &a2.a, 1, res, &e) == 0 && res[0].status == LEDGER_REJECTED &&
	   res[0].err.code == LEDGER_E_CONFLICT, "same request id, other content: refused");
	like(res[0].err.msg, "already used for entry 0", "  names the original entry");
	mkreq(&b, "bob", "req-1", "first");
	ok(ledger_append_batch(l, &b.a, 1, res, &e) == 0 && res[0].status == LEDGER_APPENDED &&
	   res[0].seq == 1, "request ids are per author: bob's req-1 is a new entry");

	/* within one batch: a duplicate sees the entry made earlier in the batch */
	mkreq(&c, "carol", "c-1", "x");
	struct ledger_append two[2] = { c.a, c.a };
	ok(ledger_append_batch(l, two, 2, res, &e) == 0 && res[0].status == LEDGER_APPENDED &&
	   res[1].status == LEDGER_DUPLICATE && res[1].seq == res[0].seq,
	   "a repeated request inside one batch yields one entry");

	/* a bad request does not spoil its batch */
	mkreq(&bad, "dave", "d-1", "y");
	bad.a.kind = "Bad Kind";
	bad.a.kind_len = 8;
	struct req d1, d2;
	mkreq(&d1, "dave", "d-2", "ok1");
	mkreq(&d2, "dave", "d-3", "ok2");
	struct ledger_append three[3] = { d1.a, bad.a, d2.a };
	ok(ledger_append_batch(l, three, 3, res, &e) == 0 && res[0].status == LEDGER_APPENDED &&
	   res[1].status == LEDGER_REJECTED && res[2].status == LEDGER_APPENDED &&
	   res[2].seq == res[0].seq + 1, "invalid request refused, the rest of the batch is appended");
	like(res[1].err.msg, "kind", "  the refusal names the field");
	is_int(res[1].err.code, LEDGER_E_INVALID, "  with code invalid");

	/* commit time never goes backwards, even if the clock does */
	ledger_set_clock(l, fake_clock);
	fake_now = 1;
	struct req t1;
	mkreq(&t1, "erin", "t-1", "time");
	ok(ledger_append_batch(l, &t1.a, 1, res, &e) == 0 && res[0].status == LEDGER_APPENDED,
	   "append while the clock reads 1970");
	struct buf raw, raw2;
	struct entry en, en2;
	buf_init(&raw);
	buf_init(&raw2);
	ledger_get(l, res[0].seq, &raw, &e);
	ledger_get(l, res[0].seq - 1, &raw2, &e);
	ok(entry_decode(raw.data, raw.len, &en, &e) == 0 && entry_decode(raw2.data, raw2.len, &en2, &e) == 0 &&
	   en.time_us >= en2.time_us, "  its commit time is not earlier than its predecessor's");
	ok(en.author_len == 4 && memcmp(en.author, "erin", 4) == 0, "  author recorded as given by the caller");
	buf_free(&raw);
	buf_free(&raw2);
	struct ledger_verify_report r;
	ok(verify_ok(l, &r, &e) == 0, "verification passes after all of that: %s", e.msg);
	ledger_close(l);
	struct req *all[] = { &a, &a2, &b, &c, &bad, &d1, &d2, &t1 };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		buf_free(&all[i]->body);
}

static void test_faults(void)
{
	struct err e = { 0 };
	const char *dir = newdir("faults");
	struct ledger *l = open_l(dir, 0, 0, false, &e);
	append_n(l, 10, "pre", &e);
	uint8_t before[32];
	ledger_root(l, 10, before, &e);
	int codes[] = { STORE_E_IO, STORE_E_FULL };
	const char *names[] = { "I/O error", "disk full" };
	for (int k = 0; k < 2; k++) {
		for (unsigned nth = 1; nth <= 12; nth += 5) {
			store_fault_put(ledger_store(l), nth, codes[k]);
			err_clear(&e);
			size_t got = append_n(l, 5, "faulty", &e);
			ok(got == 0 && e.msg[0], "%s at put %u: the batch fails: %s", names[k], nth, e.msg);
			is_int(ledger_size(l), 10, "  nothing appended");
		}
	}
	like(e.msg, "disk full", "a disk-full failure says so");
	store_fault_put(ledger_store(l), 0, 0);
	struct ledger_verify_report r;
	ok(verify_ok(l, &r, &e) == 0 && r.entries == 10, "after the faults the ledger verifies with 10 entries");
	uint8_t after[32];
	ledger_root(l, 10, after, &e);
	ok(memcmp(before, after, 32) == 0, "  and the same root");
	is_int(append_n(l, 3, "post", &e), 3, "appends resume when the fault is gone");
	struct buf b;
	struct entry en;
	buf_init(&b);
	ok(ledger_get(l, 10, &b, &e) == 0 && entry_decode(b.data, b.len, &en, &e) == 0 &&
	   memcmp(en.request_id, "post-0", 6) == 0, "  entry 10 is the first of the new batch");
	buf_free(&b);
	ledger_close(l);
	l = open_l(dir, 0, 0, false, &e);
	ok(l && ledger_size(l) == 13 && verify_ok(l, &r, &e) == 0, "reopened: 13 entries, verifies");
	/* a failure while signing the head (last puts of the batch) is the same */
	store_fault_put(ledger_store(l), 3 * 2 + 3, STORE_E_IO);
	ok(append_n(l, 1, "late", &e) == 0 && ledger_size(l) == 13, "a failure at the metadata puts writes nothing");
	store_fault_put(ledger_store(l), 0, 0);
	ok(verify_ok(l, &r, &e) == 0, "  still verifies");
	ledger_close(l);
}

static void test_map_full(void)
{
	struct err e = { 0 };
	const char *dir = newdir("mapfull");
	/* 1 MiB map that may not grow */
	struct ledger *l = open_l(dir, 1 << 20, 1 << 20, false, &e);
	ok(l != NULL, "open with a 1 MiB map limit: %s", e.msg);
	size_t total = 0, got;
	int rounds = 0;
	char tag[16] = "f0";
	while ((got = append_n(l, 50, tag, &e)) == 50 && rounds++ < 1000) {
		total += got;
		snprintf(tag, sizeof tag, "f%d", rounds);	/* fresh request ids */
	}
	ok(total > 0, "filled with %zu entries before the map ran out", total);
	like(e.msg, "storage is full", "the append error says the storage is full");
	uint64_t size = ledger_size(l);
	struct ledger_verify_report r;
	ok(verify_ok(l, &r, &e) == 0 && r.entries == size, "nothing half-written: verifies with %llu entries",
	   (unsigned long long)size);
	uint8_t leaf[32], rt[32], proof[64][32];
	size_t len;
	ok(ledger_inclusion(l, size / 2, size, leaf, rt, proof, &len, &e) == 0 &&
	   merkle_verify_inclusion(size / 2, size, leaf, (const uint8_t(*)[32])proof, len, rt, &e) == 0,
	   "reads and proofs still work when full");
	ledger_close(l);
	l = open_l(dir, 1 << 20, 64 << 20, false, &e);
	ok(l != NULL, "reopen with room to grow");
	/* while a backup copies, LMDB may not resize the map: refused, not moved */
	store_set_copying(ledger_store(l), true);
	ok(append_n(l, 50, "during-copy", &e) < 50, "with a backup running, a full map does not grow");
	like(e.msg, "cannot grow while a backup is being taken", "  and the error says why");
	is_int((long long)store_map_size(ledger_store(l)), 1 << 20, "  the map kept its size");
	store_set_copying(ledger_store(l), false);
	is_int(append_n(l, 50, "more", &e), 50, "appends resume once there is room");
	ok(store_map_size(ledger_store(l)) > (1 << 20), "  the map grew on demand (%zu bytes)",
	   store_map_size(ledger_store(l)));
	ok(verify_ok(l, &r, &e) == 0, "  and it verifies");
	ledger_close(l);
}

static void test_refusals_at_open(void)
{
	struct err e = { 0 };
	const char *dir = newdir("newer");
	struct ledger *l = open_l(dir, 0, 0, false, &e);
	ledger_close(l);
	uint8_t two[8];
	be64(two, 2);
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	raw_open(dir, &env);
	mdb_txn_begin(env, NULL, 0, &t);
	mdb_dbi_open(t, "meta", 0, &dbi);
	MDB_val k = { 6, "format" }, v = { 8, two };
	mdb_put(t, dbi, &k, &v, 0);
	mdb_txn_commit(t);
	mdb_env_close(env);
	l = open_l(dir, 0, 0, true, &e);
	ok(l == NULL, "a data directory in a newer store format is refused");
	like(e.msg, "newer version", "  with a clear message");

	char missing[600];
	snprintf(missing, sizeof missing, "%s/not-there", base);
	l = open_l(missing, 0, 0, true, &e);
	ok(l == NULL, "a missing data directory is refused: %s", e.msg);
	const char *empty = newdir("empty");
	l = open_l(empty, 0, 0, true, &e);
	ok(l == NULL, "an empty directory opened read-only is refused");
	like(e.msg, "no Scope Ledger data", "  saying there is no ledger there");

	/* origin mismatch */
	struct note_signer other;
	uint8_t seed[32] = { 9 };
	note_signer_from_seed(&other, "other.example/x", seed, &e);
	struct ledger_opts o = { newdir("basic"), "other.example/x", &other, 0, 0, false, NULL, rules_hook(), NULL };
	ok(ledger_open(&l, &o, &e) != 0, "opening a ledger under another origin is refused");
	like(e.msg, "belongs to origin", "  naming the stored origin");
	note_signer_free(&other);

	/* key file permissions */
	char kp[600];
	snprintf(kp, sizeof kp, "%s/loose.key", base);
	ok(signer_generate(kp, &e) == 0, "generate a key file");
	struct stat st;
	ok(stat(kp, &st) == 0 && (st.st_mode & 0777) == 0600, "  created with mode 0600");
	chmod(kp, 0640);
	struct note_signer s;
	ok(signer_load(&s, kp, ORIGIN, &e) != 0, "a signing key readable by group is refused");
	like(e.msg, "chmod 600", "  and the message says how to fix it");
	ok(signer_generate(kp, &e) != 0, "generating over an existing key file is refused");
}

static void test_tamper(void)
{
	struct err e = { 0 };
	struct ledger_verify_report r;
	const char *dir = newdir("tamper");
	struct ledger *l = open_l(dir, 0, 0, false, &e);
	append_n(l, 100, "a", &e);
	append_n(l, 100, "b", &e);
	ledger_close(l);
	uint8_t k[9];

	/* 1. rewrite entry 57 through a second LMDB handle */
	be64(k, 57);
	ok(raw_edit(dir, "entries", k, 8, flip_last_text_byte, false) == 0, "rewrite entry 57's value");
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) != 0 && r.bad_seq_known && r.bad_seq == 57,
	   "verification fails and names entry 57");
	like(e.msg, "entry 57", "  message: %s", e.msg);
	ledger_close(l);
	ok(raw_edit(dir, "entries", k, 8, flip_last_text_byte, false) == 0, "undo the change");
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) == 0, "  verifies again");
	ledger_close(l);

	/* 2. flip a byte inside the data file itself */
	char path[600];
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	struct buf file;
	buf_init(&file);
	ok(read_file(path, (size_t)1 << 30, &file, &e) == 0, "read data.mdb");
	const char *needle = "b marker-23\xa4kind";	/* entry 100 + 23, then the next key */
	/* every copy: LMDB's copy-on-write leaves older versions of a page in
	 * the file, and the first copy found need not be the live one */
	uint8_t *hits[64];
	int nhits = 0;
	for (uint8_t *p = file.data; nhits < 64;) {
		uint8_t *hit = memmem(p, file.len - (size_t)(p - file.data), needle, strlen(needle));
		if (hit == NULL)
			break;
		hits[nhits++] = hit;
		p = hit + 1;
	}
	ok(nhits > 0, "find entry 123's text in the file (%d copies)", nhits);
	if (nhits > 0) {
		for (int i = 0; i < nhits; i++)
			hits[i][2] ^= 0x01;
		ok(write_file_atomic(path, file.data, file.len, 0600, &e) == 0, "flip one byte in place");
		l = open_l(dir, 0, 0, true, &e);
		ok(l && verify_ok(l, &r, &e) != 0 && r.bad_seq == 123, "verification names entry 123");
		like(e.msg, "entry 123", "  message: %s", e.msg);
		ledger_close(l);
		for (int i = 0; i < nhits; i++)
			hits[i][2] ^= 0x01;
		write_file_atomic(path, file.data, file.len, 0600, &e);
	}
	buf_free(&file);

	/* 3. an entry that no longer decodes */
	be64(k, 9);
	raw_edit(dir, "entries", k, 8, flip_first_byte, false);
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) != 0 && r.bad_seq == 9, "a corrupted header is caught at entry 9");
	like(e.msg, "entry 9", "  message: %s", e.msg);
	ledger_close(l);
	raw_edit(dir, "entries", k, 8, flip_first_byte, false);

	/* 4. an interior tree node */
	k[0] = 2;
	be64(k + 1, 5);		/* level 2, index 5: entries 20..23 */
	ok(raw_edit(dir, "nodes", k, 9, flip_first_byte, false) == 0, "rewrite a stored tree node");
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) != 0 && r.bad_seq == 20, "verification reports the node over entries 20..23");
	like(e.msg, "stored tree was altered", "  message: %s", e.msg);
	ledger_close(l);
	raw_edit(dir, "nodes", k, 9, flip_first_byte, false);

	/* 4b. a stored node missing in the middle of its level: the reader that
	 * steps from node to node lands on the next one, which is not it */
	k[0] = 1;
	be64(k + 1, 30);	/* level 1, index 30: entries 60..61 */
	struct buf saved;
	buf_init(&saved);
	ok(raw_op(dir, "nodes", k, 9, true, NULL, 0, &saved) == 0 && saved.len == 32, "read a stored tree node");
	ok(raw_edit(dir, "nodes", k, 9, NULL, true) == 0, "  delete it");
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) != 0, "verification fails without it");
	like(e.msg, "tree node (level 1, index 30) is missing", "  message: %s", e.msg);
	ledger_close(l);
	ok(raw_op(dir, "nodes", k, 9, false, saved.data, saved.len, NULL) == 0, "  put it back");
	buf_free(&saved);
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) == 0, "  and the ledger verifies again");
	ledger_close(l);

	/* 5. entry and its stored leaf hash rewritten together: the next
	 * entry's prev still names the original */
	be64(k, 140);
	raw_edit(dir, "entries", k, 8, flip_last_text_byte, false);
	struct buf raw;
	buf_init(&raw);
	l = open_l(dir, 0, 0, true, &e);
	ledger_get(l, 140, &raw, &e);
	ledger_close(l);
	static uint8_t newleaf[32];
	merkle_leaf_hash(raw.data, raw.len, newleaf);
	buf_free(&raw);
	uint8_t nk[9] = { 0 };
	be64(nk + 1, 140);
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	raw_open(dir, &env);
	mdb_txn_begin(env, NULL, 0, &t);
	mdb_dbi_open(t, "nodes", 0, &dbi);
	MDB_val kv = { 9, nk }, vv = { 32, newleaf };
	mdb_put(t, dbi, &kv, &vv, 0);
	mdb_txn_commit(t);
	mdb_env_close(env);
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) != 0 && r.bad_seq == 140,
	   "entry and leaf hash rewritten together: still caught at entry 140");
	diag("%s", e.msg);
	ledger_close(l);

	/* 6. truncation: the last entry deleted */
	const char *dir2 = newdir("truncate");
	l = open_l(dir2, 0, 0, false, &e);
	append_n(l, 20, "t", &e);
	ledger_close(l);
	be64(k, 19);
	ok(raw_edit(dir2, "entries", k, 8, NULL, true) == 0, "delete the last entry");
	l = open_l(dir2, 0, 0, true, &e);
	ok(l == NULL, "a truncated store is refused at open");
	like(e.msg, "inconsistent", "  message: %s", e.msg);

	/* 7. reordering: swap two entries' values */
	const char *dir3 = newdir("reorder");
	l = open_l(dir3, 0, 0, false, &e);
	append_n(l, 20, "r", &e);
	struct buf v5, v6;
	buf_init(&v5);
	buf_init(&v6);
	ledger_get(l, 5, &v5, &e);
	ledger_get(l, 6, &v6, &e);
	ledger_close(l);
	raw_open(dir3, &env);
	mdb_txn_begin(env, NULL, 0, &t);
	mdb_dbi_open(t, "entries", 0, &dbi);
	uint8_t k5[8], k6[8];
	be64(k5, 5);
	be64(k6, 6);
	MDB_val a5 = { 8, k5 }, a6 = { 8, k6 }, b5 = { v5.len, v5.data }, b6 = { v6.len, v6.data };
	mdb_put(t, dbi, &a5, &b6, 0);
	mdb_put(t, dbi, &a6, &b5, 0);
	mdb_txn_commit(t);
	mdb_env_close(env);
	buf_free(&v5);
	buf_free(&v6);
	l = open_l(dir3, 0, 0, true, &e);
	ok(verify_ok(l, &r, &e) != 0 && r.bad_seq == 5, "swapped entries are caught at position 5");
	like(e.msg, "reordered", "  message: %s", e.msg);
	ledger_close(l);
}

/* ledger_verify with SCOPE_VERIFY_THREADS=threads */
static int verify_on(struct ledger *l, const char *threads, struct ledger_verify_report *r, struct err *e)
{
	setenv("SCOPE_VERIFY_THREADS", threads, 1);
	int rc = verify_ok(l, r, e);
	unsetenv("SCOPE_VERIFY_THREADS");
	return rc;
}

/* 10,000 entries, chunks of 4096 prepared on 4 threads: each damage is
 * reported with the same first bad entry and message as on one thread. */
static void test_tamper_threads(void)
{
	struct err e = { 0 };
	struct ledger_verify_report r1, r4;
	const char *dir = newdir("threads");
	struct ledger *l = open_l(dir, 0, 0, false, &e);
	append_n(l, 5000, "a", &e);
	append_n(l, 5000, "b", &e);
	ok(verify_on(l, "4", &r4, &e) == 0 && r4.entries == 10000, "10,000 entries verify on 4 threads");
	ledger_close(l);
	static const struct {
		uint64_t seq;
		void (*fn)(uint8_t *, size_t);
		const char *what;
	} cases[] = {
		{ 4095, flip_last_text_byte, "the last entry of the first chunk altered" },
		{ 4096, flip_last_text_byte, "the first entry of the second chunk altered" },
		{ 9000, flip_last_text_byte, "an entry of the third chunk altered" },
		{ 6000, flip_first_byte, "an entry that does not decode" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t k[8];
		struct err e1 = { 0 }, e4 = { 0 };
		be64(k, cases[i].seq);
		ok(raw_edit(dir, "entries", k, 8, cases[i].fn, false) == 0, "%s (entry %llu)", cases[i].what,
		   (unsigned long long)cases[i].seq);
		l = open_l(dir, 0, 0, true, &e);
		int rc1 = verify_on(l, "1", &r1, &e1), rc4 = verify_on(l, "4", &r4, &e4);
		ok(rc1 != 0 && r1.bad_seq_known && r1.bad_seq == cases[i].seq, "  1 thread names entry %llu: %s",
		   (unsigned long long)r1.bad_seq, e1.msg);
		ok(rc4 != 0 && r4.bad_seq_known && r4.bad_seq == cases[i].seq, "  4 threads name entry %llu",
		   (unsigned long long)r4.bad_seq);
		is_str(e4.msg, e1.msg, "  with the same message");
		ledger_close(l);
		ok(raw_edit(dir, "entries", k, 8, cases[i].fn, false) == 0, "  undo the change");
	}
	l = open_l(dir, 0, 0, true, &e);
	ok(verify_on(l, "0", &r4, &e) != 0, "SCOPE_VERIFY_THREADS=0 is refused");
	like(e.msg, "from 1 to 8", "  message: %s", e.msg);
	ok(verify_on(l, "4", &r4, &e) == 0, "  the undone ledger verifies on 4 threads");
	ledger_close(l);
}

int main(void)
{
	if (tmpdir_make(base, sizeof base, "scope-test", ORIGIN, &signer))
		return 2;
	test_basic();
	test_requests();
	test_faults();
	test_map_full();
	test_refusals_at_open();
	test_tamper();
	test_tamper_threads();
	note_signer_free(&signer);
	if (tmpdir_remove(base) != 0)
		diag("could not remove %s", base);
	return done_testing();
}
