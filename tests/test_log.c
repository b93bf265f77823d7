#define _GNU_SOURCE
/*
 * The log (daemon/log/) with no domain rules at all, on real LMDB files:
 * appends of a kind it knows nothing about, proofs, verify and reindex
 * without rules; then a small test hook of its own that derives one
 * record per entry and refuses some: a refused append writes nothing,
 * verify replays the hook into scratch space and names a derived record
 * edited behind the ledger's back, reindex restores it.  Links scoped_log
 * only: no scope/ code runs here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "entry.h"
#include "json.h"
#include "ledger.h"
#include "merkle.h"
#include "rawdb.h"
#include "signer.h"
#include "tap.h"
#include "tmpdir.h"

#define ORIGIN "test.example/log"

static char base[256];
static struct note_signer signer;

static const char *newdir(const char *name)
{
	static char p[300];
	snprintf(p, sizeof p, "%s/%s", base, name);
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		perror(p);
		exit(2);
	}
	return p;
}

static struct ledger *open_l(const char *dir, const struct ledger_rules *rules, bool ro, struct err *e)
{
	struct ledger *l = NULL;
	struct ledger_opts o = { dir, ORIGIN, &signer, 0, 0, ro, NULL, rules, NULL };
	return ledger_open(&l, &o, e) ? NULL : l;
}

/* One append of kind "memo" to project p1; its status. */
static enum ledger_status append(struct ledger *l, const char *reqid, const char *json, struct ledger_result *res)
{
	struct buf body;
	struct err e = { 0 };
	buf_init(&body);
	if (json_to_canonical(json, strlen(json), &body, NULL))
		abort();
	struct ledger_append a = { "memo", 4, "p1", 2, "alice", 5, reqid, strlen(reqid), body.data, body.len, false, NULL, NULL };
	int rc = ledger_append_batch(l, &a, 1, res, &e);
	buf_free(&body);
	return rc ? 0 : res->status;
}

/* ---- a test hook: "d" NUL seq -> the body's length, and "r" NUL request
 * id -> ""; refuses a body that holds "no" (after writing both) ---- */

struct hook {
	unsigned applied, replayed;
	unsigned trusted;	/* applies given the mark of h_check */
};

/* What h_check gives for a body it accepted. */
static const char HOOK_MARK = 1;

static void seq_key(uint64_t seq, uint8_t k[10])
{
	k[0] = 'd';
	k[1] = 0;
	for (int i = 0; i < 8; i++)
		k[2 + i] = (uint8_t)(seq >> (56 - 8 * i));
}

static int h_apply(void *ctx, struct store_txn *t, const struct entry *en, bool as_client, bool replay,
		   const void *checked, struct buf *out, struct err *e)
{
	(void)as_client;
	struct hook *h = ctx;
	h->trusted += checked == &HOOK_MARK;
	uint8_t k[10], v[1] = { (uint8_t)en->body_len };
	seq_key(en->seq, k);
	*(replay ? &h->replayed : &h->applied) += 1;
	uint8_t rk[2 + ENTRY_REQID_MAX] = { 'r', 0 };
	memcpy(rk + 2, en->request_id, en->request_id_len);
	/* written first, so that a refusal must undo them */
	if (store_state_put(t, k, sizeof k, v, 1, e) || store_state_put(t, rk, 2 + en->request_id_len, "", 0, e))
		return -1;
	if (memmem(en->body, en->body_len, "no", 2))
		return err_set(e, "the test rules refuse this body");
	if (!replay && memmem(en->body, en->body_len, "mangle", 6)) {
		/* a faulty rule: its body has a key in a longer form than needed */
		buf_add(out, "\x81\xd9\x01m\x01", 5);
		return 0;
	}
	buf_add(out, en->body, en->body_len);
	return 0;
}

/* The schema's part of the test rules: a body holding "bad" is refused. */
static int h_check(void *ctx, const char *kind, size_t kind_len, const uint8_t *body, size_t n, const void **mark,
		   struct err *e)
{
	(void)ctx;
	(void)kind;
	(void)kind_len;
	if (memmem(body, n, "bad", 3))
		return err_set(e, "the test schema refuses this body");
	*mark = &HOOK_MARK;
	return 0;
}

static bool h_name(void *ctx, const uint8_t *k, size_t n, struct buf *out)
{
	(void)ctx;
	if (n == 10 && k[0] == 'd')
		buf_printf(out, "test record %u", k[9]);
	else if (n > 2 && k[0] == 'r')
		buf_printf(out, "test request %.*s", (int)(n - 2), (const char *)k + 2);
	return n > 2 && (k[0] == 'd' || k[0] == 'r');
}

/* Whether the hook's record of request id reqid is in the derived state. */
static int state_has(struct ledger *l, const char *reqid)
{
	struct store_txn *t;
	const uint8_t *v;
	size_t vn;
	uint8_t k[64] = { 'r', 0 };
	memcpy(k + 2, reqid, strlen(reqid));
	if (store_begin(ledger_store(l), false, &t, NULL))
		return -1;
	int rc = store_state_get(t, k, 2 + strlen(reqid), &v, &vn, NULL);
	store_abort(t);
	return rc;
}

static void test_no_rules(void)
{
	struct err e = { 0 };
	struct ledger_result res;
	const char *dir = newdir("plain");
	struct ledger *l = open_l(dir, NULL, false, &e);
	ok(l != NULL, "a ledger opens with no rules: %s", e.msg);
	if (l == NULL)
		return;
	is_int(append(l, "m-1", "{\"any\":\"thing\"}", &res), LEDGER_APPENDED, "a kind the log does not know is appended");
	is_int(append(l, "m-2", "{\"n\":2}", &res), LEDGER_APPENDED, "  and another");
	is_int(append(l, "m-3", "{\"no\":\"rules here\"}", &res), LEDGER_APPENDED, "  and a third");
	is_int(res.seq, 2, "  numbered from 0");
	is_int(append(l, "m-1", "{\"any\":\"thing\"}", &res), LEDGER_DUPLICATE, "a repeated request is the original");
	is_int(res.seq, 0, "  entry 0");
	is_int(append(l, "m-1", "{\"any\":\"other\"}", &res), LEDGER_REJECTED, "a request id reused for other content");
	is_int(ledger_size(l), 3, "three entries");

	struct buf raw;
	struct entry en;
	buf_init(&raw);
	ok(ledger_get(l, 1, &raw, &e) == 0 && entry_decode(raw.data, raw.len, &en, &e) == 0 && en.kind_len == 4 &&
		   memcmp(en.kind, "memo", 4) == 0 && en.seq == 1,
	   "entry 1 reads back as recorded");
	uint8_t leaf[HASH_LEN], root[HASH_LEN], proof[64][HASH_LEN], want[HASH_LEN];
	size_t len;
	merkle_leaf_hash(raw.data, raw.len, want);
	ok(ledger_inclusion(l, 1, 3, leaf, root, proof, &len, &e) == 0 && memcmp(leaf, want, HASH_LEN) == 0 &&
		   merkle_verify_inclusion(1, 3, leaf, (const uint8_t(*)[HASH_LEN])proof, len, root, &e) == 0,
	   "its inclusion proof verifies");
	buf_free(&raw);

	struct ledger_verify_report r;
	ok(ledger_verify(l, NULL, NULL, NULL, &r, &e) == 0 && r.entries == 3, "verify passes with no rules: %s", e.msg);
	uint8_t before[HASH_LEN], after[HASH_LEN];
	ok(ledger_state_digest(l, before, &e) == 0 && ledger_reindex(l, &e) == 0 &&
		   ledger_state_digest(l, after, &e) == 0 && memcmp(before, after, HASH_LEN) == 0,
	   "reindex rebuilds the indexes: %s", e.msg);
	ok(ledger_verify(l, NULL, NULL, NULL, &r, &e) == 0, "  and verify still passes");
	is_int(append(l, "m-1", "{\"any\":\"thing\"}", &res), LEDGER_DUPLICATE, "  the request-id index is back");
	ledger_close(l);
}

/* A new ledger in dir with the test hook over h: the rules it borrows are
 * written to *rules, which must outlive it. */
static struct ledger *open_hooked(const char *dir, struct hook *h, struct ledger_rules *rules, const char *what)
{
	struct err e = { 0 };
	*rules = (struct ledger_rules){ h, h_apply, h_name, h_check };
	struct ledger *l = open_l(dir, rules, false, &e);
	ok(l != NULL, "%s: %s", what, e.msg);
	return l;
}

static void test_hook(void)
{
	struct err e = { 0 };
	struct ledger_result res;
	struct hook h = { 0, 0, 0 };
	struct ledger_rules rules;
	const char *dir = newdir("hook");
	struct ledger *l = open_hooked(dir, &h, &rules, "a ledger opens with a test hook");
	if (l == NULL)
		return;
	is_int(append(l, "h-1", "{\"a\":1}", &res), LEDGER_APPENDED, "the hook accepts an entry");
	ok(state_has(l, "h-1") == 1, "  and its records are in the derived state");
	/* a batch: accepted, refused, accepted */
	struct buf bodies[3];
	static const char *const json[3] = { "{\"b\":2}", "{\"no\":1}", "{\"c\":3}" };
	static const char *const ids[3] = { "h-2", "h-3", "h-4" };
	struct ledger_append as[3];
	struct ledger_result rs[3];
	for (int i = 0; i < 3; i++) {
		buf_init(&bodies[i]);
		json_to_canonical(json[i], strlen(json[i]), &bodies[i], NULL);
		as[i] = (struct ledger_append){ "memo", 4, "p1", 2, "alice", 5, ids[i], 3, bodies[i].data, bodies[i].len,
						false, NULL, NULL };
	}
	ok(ledger_append_batch(l, as, 3, rs, &e) == 0, "a batch of three commits");
	is_int(rs[1].status, LEDGER_REJECTED, "the hook refuses its second entry");
	like(rs[1].err.msg, "test rules refuse", "  with its reason");
	is_int(rs[1].err.code, LEDGER_E_INVALID, "  as an invalid request");
	ok(rs[0].status == LEDGER_APPENDED && rs[2].status == LEDGER_APPENDED && rs[2].seq == 2,
	   "  the others are appended, as entries 1 and 2");
	is_int(ledger_size(l), 3, "  three entries in all");
	ok(state_has(l, "h-3") == 0, "  the records the hook wrote before refusing are gone");
	ok(state_has(l, "h-2") == 1 && state_has(l, "h-4") == 1, "  those of the others are kept");
	for (int i = 0; i < 3; i++)
		buf_free(&bodies[i]);
	is_int(append(l, "h-3", "{\"d\":4}", &res), LEDGER_APPENDED, "the refused request id is still free");
	is_int(res.seq, 3, "  entry 3");
	is_int(h.applied, 5, "the hook ran once per append");

	struct ledger_verify_report r;
	ok(ledger_verify(l, NULL, NULL, NULL, &r, &e) == 0, "verify replays the hook: %s", e.msg);
	ok(h.replayed == 4, "  once per entry, into scratch space");
	ledger_close(l);

	/* the derived record of entry 1 edited with the daemon stopped */
	uint8_t k[10], v[1] = { 99 };
	seq_key(1, k);
	ok(raw_op(dir, "state", k, sizeof k, false, v, 1, NULL) == 0, "a derived record edited in LMDB");
	l = open_l(dir, &rules, false, &e);
	ok(l && ledger_verify(l, NULL, NULL, NULL, &r, &e) != 0, "verify refuses the edited state");
	like(e.msg, "derived state: test record 1 differs from what the log implies", "  named by the hook: %s", e.msg);
	ok(l && ledger_reindex(l, &e) == 0 && ledger_verify(l, NULL, NULL, NULL, &r, &e) == 0,
	   "reindex replays the hook and verify passes again: %s", e.msg);
	ledger_close(l);

	/* the same log checked with no rules: their records are not implied */
	l = open_l(dir, NULL, true, &e);
	ok(l && ledger_verify(l, NULL, NULL, NULL, &r, &e) != 0, "without the rules, their derived state is not implied");
	like(e.msg, "is stored but the log implies no such record", "  %s", e.msg);
	ledger_close(l);
}

/* One append of body (raw msgpack, n bytes), checked first with
 * ledger_check_append; its status, or 0 when that check refused it. */
static enum ledger_status append_checked(struct ledger *l, const char *reqid, const void *body, size_t n,
					 struct ledger_result *res, struct err *e)
{
	struct buf canon;
	buf_init(&canon);
	struct ledger_append a = { "memo", 4, "p1", 2, "alice", 5, reqid, strlen(reqid), NULL, 0, false, NULL, NULL };
	int rc = ledger_check_append(l, &a, body, n, &canon, e);
	if (rc == 0)
		rc = ledger_append_batch(l, &a, 1, res, e) ? -1 : (int)res->status;
	else
		rc = a.checked == NULL && a.body == NULL ? 0 : -1;
	buf_free(&canon);
	return rc < 0 ? LEDGER_REJECTED + 1 : (enum ledger_status)rc;
}

/* An append checked once (ledger_check_append) and the ledger's own check:
 * either way, no body that is not canonical is recorded. */
static void test_checked(void)
{
	struct err e = { 0 };
	struct ledger_result res;
	struct hook h = { 0, 0, 0 };
	struct ledger_rules rules;
	struct ledger *l = open_hooked(newdir("checked"), &h, &rules, "a ledger opens for checked appends");
	if (l == NULL)
		return;
	/* {"b":1,"a":"x"}: keys out of order, "x" as a str8 */
	static const uint8_t unsorted[] = { 0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0xd9, 0x01, 'x' };
	static const uint8_t sorted[] = { 0x82, 0xa1, 'a', 0xa1, 'x', 0xa1, 'b', 0x01 };
	is_int(append_checked(l, "c-1", unsorted, sizeof unsorted, &res, &e), LEDGER_APPENDED,
	       "a body not in canonical form is re-encoded by the one check and appended: %s", e.msg);
	struct buf raw;
	struct entry en;
	buf_init(&raw);
	ok(ledger_get(l, res.seq, &raw, &e) == 0 && entry_decode(raw.data, raw.len, &en, &e) == 0 &&
		   en.body_len == sizeof sorted && memcmp(en.body, sorted, sizeof sorted) == 0,
	   "  and recorded in canonical form");
	buf_free(&raw);
	is_int(append_checked(l, "c-2", sorted, sizeof sorted, &res, &e), LEDGER_APPENDED,
	       "a canonical body is appended as it is: %s", e.msg);
	is_int(h.trusted, 2, "  the rules were given their check's mark for both");

	static const uint8_t flt[] = { 0x81, 0xa1, 'f', 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0 };
	is_int(append_checked(l, "c-3", flt, sizeof flt, &res, &e), 0, "the one check refuses a float, marking nothing");
	is_str(e.msg, "body: floating-point numbers are not allowed", "  naming it");
	static const uint8_t bad[] = { 0x81, 0xa1, 't', 0xa3, 'b', 'a', 'd' };
	is_int(append_checked(l, "c-4", bad, sizeof bad, &res, &e), 0, "the one check runs the rules' schema");
	is_str(e.msg, "body: the test schema refuses this body", "  with its reason");
	static const uint8_t notmap[] = { 0x91, 0x01 };
	is_int(append_checked(l, "c-5", notmap, sizeof notmap, &res, &e), 0, "it refuses a body that is no map");
	is_str(e.msg, "body: body must be a map", "  saying so");
	struct buf canon;
	buf_init(&canon);
	struct ledger_append bad_author = { "memo", 4, "p1", 2, "", 0, "c-6", 3, NULL, 0, false, NULL, NULL };
	ok(ledger_check_append(l, &bad_author, sorted, sizeof sorted, &canon, &e) != 0 && bad_author.checked == NULL,
	   "it checks the envelope too (an empty author)");
	like(e.msg, "author must be", "  %s", e.msg);

	/* not through the one check: the ledger checks the body itself */
	struct ledger_append a = { "memo", 4, "p1", 2, "alice", 5, "c-7", 3, unsorted, sizeof unsorted, false, NULL, NULL };
	ok(ledger_append_batch(l, &a, 1, &res, &e) == 0 && res.status == LEDGER_REJECTED,
	   "an unchecked append with a body not in canonical form is refused");
	like(res.err.msg, "body: map keys not in canonical order", "  %s", res.err.msg);
	static const char other = 1;
	a.checked = &other;
	a.rules_checked = &HOOK_MARK;
	ok(ledger_append_batch(l, &a, 1, &res, &e) == 0 && res.status == LEDGER_REJECTED,
	   "  also when checked points anywhere but at the ledger's own mark");
	a.checked = NULL;
	a.body = bad;
	a.body_len = sizeof bad;
	unsigned trusted = h.trusted;
	ok(ledger_append_batch(l, &a, 1, &res, &e) == 0 && res.status == LEDGER_APPENDED,
	   "the schema is the one check's: an unchecked append goes to the rules alone");
	is_int(h.trusted, trusted, "  which are not given the check's mark, though the append carries it");

	/* checked, but the rules give back a body that is not canonical */
	static const uint8_t mangle[] = { 0x81, 0xa1, 't', 0xa6, 'm', 'a', 'n', 'g', 'l', 'e' };
	is_int(append_checked(l, "c-8", mangle, sizeof mangle, &res, &e), LEDGER_REJECTED,
	       "a checked append whose rules change the body is checked again");
	like(res.err.msg, "with the fields the ledger assigns: body: non-canonical", "  and refused: %s", res.err.msg);
	is_int(ledger_size(l), 3, "three entries in all");
	struct ledger_verify_report r;
	err_clear(&e);
	trusted = h.trusted;
	ok(ledger_verify(l, NULL, NULL, NULL, &r, &e) == 0, "verify passes: %s", e.msg);
	is_int(h.trusted, trusted, "  replaying every entry without the mark");
	buf_free(&canon);
	ledger_close(l);
}

int main(void)
{
	if (tmpdir_make(base, sizeof base, "scope-log", ORIGIN, &signer))
		return 2;
	test_no_rules();
	test_hook();
	test_checked();
	note_signer_free(&signer);
	if (tmpdir_remove(base) != 0)
		diag("could not remove %s", base);
	return done_testing();
}
