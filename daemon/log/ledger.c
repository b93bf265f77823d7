#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "entry.h"
#include "keys.h"
#include "rebuild.h"
#include "enc.h"
#include "mp.h"
#include "pverify.h"
#include "verify.h"

struct ledger {
	struct store *store;
	struct note_signer *signer;		/* signers[0] */
	const struct note_signer *signers[LEDGER_MAX_SIGNERS];	/* every key that signs */
	size_t nsigners;
	char origin[NOTE_NAME_MAX + 1];
	int lock_fd;
	bool read_only;
	/* the published committed state: changed only by ledger_publish (after
	 * a commit returned success), on the thread that reads it; a batch
	 * being written (ledger_write_batch, maybe on another thread) only
	 * reads it and works on a copy */
	uint64_t size;
	uint64_t last_time;
	uint8_t last_leaf[HASH_LEN];
	struct merkle_cr cr;
	struct buf head;	/* the checkpoint note that covers size, exactly as signed */
	uint64_t (*now_us)(void);
	const struct ledger_rules *rules;	/* NULL: none, every entry as sent */
	const struct note_verifier *replica_of;	/* a follower's: the primary's key */
	/* working buffers of the one write under way */
	struct buf scratch;
	struct buf body;	/* the body being recorded, after the rules */
};

static uint64_t clock_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int node_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HASH_LEN],
		    struct err *e)
{
	return store_node_get(ctx, level, index, out, e);
}

static int node_put(void *ctx, unsigned level, uint64_t index, const uint8_t h[HASH_LEN],
		    struct err *e)
{
	return store_node_put(ctx, level, index, h, e);
}

static int take_lock(struct ledger *l, const char *dir, struct err *e)
{
	char path[4096];
	struct stat st;
	if (stat(dir, &st) != 0)
		return err_set(e, "data directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(e, "data directory %s is not a directory", dir);
	snprintf(path, sizeof path, "%s/scoped.lock", dir);
	l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (l->lock_fd < 0)
		return err_set(e, "lock file %s: %s", path, strerror(errno));
	if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		char pid[32] = "";
		ssize_t n = pread(l->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(l->lock_fd);
		l->lock_fd = -1;
		if (errno == EWOULDBLOCK)
			return err_set(e, "data directory %s is in use by another process%s%s%s", dir,
				       pid[0] ? " (pid " : "", pid, pid[0] ? ")" : "");
		return err_set(e, "locking %s: %s", path, strerror(errno));
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(l->lock_fd, 0) != 0 || pwrite(l->lock_fd, pid, (size_t)n, 0) != n) {
		/* the pid is only informational */
	}
	return 0;
}

/* Loads the committed state in O(log n): meta, then one node per set bit. */
static int load_state(struct ledger *l, struct err *e)
{
	struct store_txn *t;
	const uint8_t *p;
	size_t n;
	uint64_t count, last;
	int rc;

	if (store_begin(l->store, false, &t, e))
		return -1;
	l->size = 0;
	l->last_time = 0;
	if (store_meta_get_u64(t, "size", &l->size, e) < 0 ||
	    store_meta_get_u64(t, "last_time", &l->last_time, e) < 0)
		goto fail;
	rc = store_meta_get(t, "origin", &p, &n, e);
	if (rc < 0)
		goto fail;
	if (rc == 1) {
		if (n == 0 || n > NOTE_NAME_MAX) {
			err_setc(e, STORE_E_CORRUPT, "stored origin is damaged");
			goto fail;
		}
		if (l->origin[0] && (strlen(l->origin) != n || memcmp(l->origin, p, n) != 0)) {
			err_set(e, "this data directory belongs to origin \"%.*s\", not \"%s\"",
				(int)n, (const char *)p, l->origin);
			goto fail;
		}
		memcpy(l->origin, p, n);
		l->origin[n] = '\0';
	}
	if (store_entry_stat(t, &count, &last, e))
		goto fail;
	if (count != l->size || (count > 0 && last != count - 1)) {
		err_setc(e, STORE_E_CORRUPT,
			 "store is inconsistent: metadata says %llu entries but %llu are stored",
			 (unsigned long long)l->size, (unsigned long long)count);
		goto fail;
	}
	if (merkle_cr_load(&l->cr, node_get, t, l->size, e))
		goto fail;
	memset(l->last_leaf, 0, HASH_LEN);
	if (l->size > 0 && store_node_get(t, 0, l->size - 1, l->last_leaf, e))
		goto fail;
	store_abort(t);
	return 0;
fail:
	store_abort(t);
	return -1;
}

/* The verifier keys of the signers, one per line: what "signing_keys" in
 * meta holds, so that the next start can tell which keys changed. */
static void signing_keys(const struct ledger *l, struct buf *out)
{
	for (size_t i = 0; i < l->nsigners; i++) {
		struct note_verifier v;
		note_signer_verifier(l->signers[i], &v);
		note_verifier_format(&v, out);
		buf_addc(out, '\n');
	}
}

/* Signs a checkpoint for (size, cr) with every signer and stores it with
 * size/root/origin and the signing keys; the note stays in *note. */
static int write_head(struct ledger *l, struct store_txn *t, uint64_t size,
		      const struct merkle_cr *cr, uint64_t last_time, struct buf *note, struct err *e)
{
	struct checkpoint cp;
	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", l->origin);
	cp.size = size;
	merkle_cr_root(cr, cp.root);
	buf_reset(&l->scratch);
	checkpoint_format(&cp, &l->scratch);
	buf_reset(note);
	int rc = note_sign_multi(l->signers, l->nsigners, (const char *)l->scratch.data, l->scratch.len, note, e);
	buf_reset(&l->scratch);
	signing_keys(l, &l->scratch);
	if (rc == 0)
		rc = store_meta_put_u64(t, "size", size, e) ||
		     store_meta_put(t, "root", cp.root, HASH_LEN, e) ||
		     store_meta_put_u64(t, "last_time", last_time, e) ||
		     store_meta_put(t, "origin", l->origin, strlen(l->origin), e) ||
		     store_meta_put(t, "checkpoint", note->data, note->len, e) ||
		     store_meta_put(t, "signing_keys", l->scratch.data, l->scratch.len, e) ? -1 : 0;
	return rc;
}

/* A writer makes sure a checkpoint signed by its current key exists. */
static int ensure_checkpoint(struct ledger *l, struct err *eout)
{
	struct err le, *e = &le;
	struct store_txn *t;
	const uint8_t *p;
	size_t n;
	struct note_verifier v;
	struct checkpoint cp;
	err_clear(e);
	if (store_begin(l->store, false, &t, e))
		goto fail;
	int rc = store_meta_get(t, "checkpoint", &p, &n, e);
	bool fresh = rc == 1;
	for (size_t i = 0; fresh && i < l->nsigners; i++) {
		note_signer_verifier(l->signers[i], &v);
		fresh = checkpoint_open((const char *)p, n, &v, 1, &cp, NULL) == 0 && cp.size == l->size;
	}
	if (fresh) {
		buf_reset(&l->head);
		buf_add(&l->head, p, n);
	}
	store_abort(t);
	if (rc < 0)
		goto fail;
	if (fresh)
		return 0;
	for (;;) {
		err_clear(e);
		if (store_begin(l->store, true, &t, e))
			goto fail;
		if (write_head(l, t, l->size, &l->cr, l->last_time, &l->head, e)) {
			store_abort(t);
		} else if (store_commit(t, e) == 0) {
			return 0;
		}
		if (e->code != STORE_E_MAP_FULL || store_grow(l->store, e))
			goto fail;
	}
fail:
	if (eout)
		*eout = *e;
	return -1;
}

static int record_key_change(struct ledger *l, const char (*keys)[NOTE_VKEY_MAX], size_t nk, const bool *add,
			     struct err *e)
{
	struct ledger_append as[2 * LEDGER_MAX_SIGNERS + 8];
	struct ledger_result rs[2 * LEDGER_MAX_SIGNERS + 8];
	struct buf bodies[2 * LEDGER_MAX_SIGNERS + 8];
	char reqids[2 * LEDGER_MAX_SIGNERS + 8][64];
	int rc = 0;
	for (size_t i = 0; i < nk; i++) {
		struct note_verifier v;
		note_verifier_parse(keys[i], strlen(keys[i]), &v, NULL);
		buf_init(&bodies[i]);
		mp_pack_map(&bodies[i], 2);
		mp_pack_cstr(&bodies[i], "action");
		mp_pack_cstr(&bodies[i], add[i] ? "add" : "retire");
		mp_pack_cstr(&bodies[i], "verifier_key");
		mp_pack_cstr(&bodies[i], keys[i]);
		snprintf(reqids[i], sizeof reqids[i], "key-%s-%02x%02x%02x%02x-%llu", add[i] ? "add" : "retire",
			 v.key_id[0], v.key_id[1], v.key_id[2], v.key_id[3], (unsigned long long)l->size);
		as[i] = (struct ledger_append){
			KEYS_KIND, strlen(KEYS_KIND), "", 0, LEDGER_KEY_AUTHOR, strlen(LEDGER_KEY_AUTHOR), reqids[i], strlen(reqids[i]),
			bodies[i].data, bodies[i].len, false, NULL, NULL,
		};
	}
	if (ledger_append_batch(l, as, nk, rs, e))
		rc = err_prefix(e, "recording the change of signing keys");
	for (size_t i = 0; rc == 0 && i < nk; i++)
		if (rs[i].status == LEDGER_REJECTED)
			rc = err_set(e, "recording the change of signing keys: %s", rs[i].err.msg);
	for (size_t i = 0; i < nk; i++)
		buf_free(&bodies[i]);
	return rc;
}

static bool key_listed(const char (*list)[NOTE_VKEY_MAX], size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

/* The signing keys configured now against those that signed the last
 * checkpoint.  At least one of them must be the same: a client that
 * trusts an old key follows a change only through a checkpoint that key
 * signed.  Each added and each retired key is recorded as a ledger-level
 * key entry (FORMAT.md, key history). */
static int sync_keys(struct ledger *l, struct err *e)
{
	char now[LEDGER_MAX_SIGNERS][NOTE_VKEY_MAX], before[8][NOTE_VKEY_MAX];
	size_t nnow = l->nsigners, nbefore = 0;
	for (size_t i = 0; i < nnow; i++) {
		struct note_verifier v;
		struct buf b;
		buf_init(&b);
		note_signer_verifier(l->signers[i], &v);
		note_verifier_format(&v, &b);
		snprintf(now[i], sizeof now[i], "%s", buf_cstr(&b));
		buf_free(&b);
	}
	struct store_txn *t;
	const uint8_t *p;
	size_t n;
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = store_meta_get(t, "checkpoint", &p, &n, e);
	if (rc <= 0) {		/* a new ledger: its first keys need no record */
		store_abort(t);
		return rc;
	}
	bool overlap = false;
	bool signed_it[LEDGER_MAX_SIGNERS] = { false };
	for (size_t i = 0; i < nnow; i++) {
		struct note_verifier v;
		struct checkpoint cp;
		note_signer_verifier(l->signers[i], &v);
		signed_it[i] = checkpoint_open((const char *)p, n, &v, 1, &cp, NULL) == 0;
		overlap |= signed_it[i];
	}
	if (!overlap) {
		store_abort(t);
		return err_setc(e, LEDGER_E_CONFIG,
				"none of the configured signing keys signed the ledger's last checkpoint: to "
				"change keys, first add the new key as signing_key_next and start scoped once, so "
				"that a checkpoint carries both signatures (scoped(8), KEY ROTATION)");
	}
	rc = store_meta_get(t, "signing_keys", &p, &n, e);
	if (rc < 0) {
		store_abort(t);
		return -1;
	}
	if (rc == 1) {
		for (size_t off = 0; off < n && nbefore < 8;) {
			const uint8_t *nl = memchr(p + off, '\n', n - off);
			size_t len = nl ? (size_t)(nl - (p + off)) : n - off;
			if (len > 0 && len < NOTE_VKEY_MAX) {
				memcpy(before[nbefore], p + off, len);
				before[nbefore++][len] = '\0';
			}
			off += len + 1;
		}
	} else {		/* written before key history: the keys that verify it */
		for (size_t i = 0; i < nnow; i++)
			if (signed_it[i])
				memcpy(before[nbefore++], now[i], NOTE_VKEY_MAX);
	}
	store_abort(t);
	char change[2 * LEDGER_MAX_SIGNERS + 8][NOTE_VKEY_MAX];
	bool add[2 * LEDGER_MAX_SIGNERS + 8];
	size_t nchange = 0;
	for (size_t i = 0; i < nnow; i++)
		if (!key_listed((const char(*)[NOTE_VKEY_MAX])before, nbefore, now[i])) {
			memcpy(change[nchange], now[i], NOTE_VKEY_MAX);
			add[nchange++] = true;
		}
	for (size_t j = 0; j < nbefore; j++)
		if (!key_listed((const char(*)[NOTE_VKEY_MAX])now, nnow, before[j])) {
			memcpy(change[nchange], before[j], NOTE_VKEY_MAX);
			add[nchange++] = false;
		}
	return nchange ? record_key_change(l, (const char(*)[NOTE_VKEY_MAX])change, nchange, add, e) : 0;
}

int ledger_open(struct ledger **out, const struct ledger_opts *o, struct err *e)
{
	struct ledger *l = calloc(1, sizeof *l);
	if (l == NULL)
		return err_set(e, "out of memory");
	l->lock_fd = -1;
	l->read_only = o->read_only;
	l->rules = o->rules;
	l->replica_of = o->replica_of;
	l->signer = o->signer;
	if (o->signer)
		l->signers[l->nsigners++] = o->signer;
	if (o->signer_next)
		l->signers[l->nsigners++] = o->signer_next;
	l->now_us = clock_now_us;
	buf_init(&l->scratch);
	buf_init(&l->body);
	buf_init(&l->head);
	if (o->origin) {
		if (!note_name_valid(o->origin, strlen(o->origin))) {
			err_set(e, "origin \"%.64s\" is not valid (non-empty, no spaces or '+')", o->origin);
			goto fail;
		}
		snprintf(l->origin, sizeof l->origin, "%s", o->origin);
	}
	if (!l->read_only && l->signer == NULL && l->replica_of == NULL) {
		err_set(e, "a signing key is needed to write to the ledger");
		goto fail;
	}
	if (!l->read_only && take_lock(l, o->dir, e))
		goto fail;
	struct store_opts so = { o->map_initial, o->map_max, o->read_only };
	if (store_open(&l->store, o->dir, &so, e))
		goto fail;
	if (load_state(l, e))
		goto fail;
	if (!l->origin[0]) {
		err_set(e, "no origin configured and none stored in %s", o->dir);
		goto fail;
	}
	if (!l->read_only && l->replica_of == NULL) {
		for (size_t i = 0; i < l->nsigners; i++)
			if (strcmp(l->signers[i]->name, l->origin) != 0) {
				err_set(e, "signing key is named \"%s\" but the origin is \"%s\"",
					l->signers[i]->name, l->origin);
				goto fail;
			}
		if (l->nsigners == 2 && memcmp(l->signers[0]->pub, l->signers[1]->pub, 32) == 0) {
			err_set(e, "signing_key_next is the same key as signing_key");
			goto fail;
		}
		if (sync_keys(l, e) || ensure_checkpoint(l, e))
			goto fail;
	}
	*out = l;
	return 0;
fail:
	ledger_close(l);
	return -1;
}

void ledger_close(struct ledger *l)
{
	if (l == NULL)
		return;
	store_close(l->store);
	if (l->lock_fd >= 0)
		close(l->lock_fd);	/* releases the flock */
	buf_free(&l->scratch);
	buf_free(&l->body);
	buf_free(&l->head);
	free(l);
}

uint64_t ledger_size(const struct ledger *l) { return l->size; }
void ledger_compact_range(const struct ledger *l, struct merkle_cr *cr) { *cr = l->cr; }
const char *ledger_origin(const struct ledger *l) { return l->origin; }
struct store *ledger_store(struct ledger *l) { return l->store; }
void ledger_set_clock(struct ledger *l, uint64_t (*now_us)(void)) { l->now_us = now_us; }
uint64_t ledger_now(const struct ledger *l) { return l->now_us(); }

/* What ledger_check_append() puts in ledger_append.checked: no one else
 * can name it, so a set field means that function checked the request. */
static const char CHECKED_SEAL = 1;

static int check_envelope(const struct ledger_append *r, struct err *e)
{
	return entry_check_envelope(r->kind, r->kind_len, r->project, r->project_len, r->author, r->author_len,
				    r->request_id, r->request_id_len, e);
}

int ledger_check_append(const struct ledger *l, struct ledger_append *a, const uint8_t *body, size_t n,
			struct buf *canon, struct err *e)
{
	const uint8_t *p = body;
	size_t len = n;
	const void *mark = NULL;
	if (check_envelope(a, e))
		return -1;
	/* one walk when the body is canonical already (as scopectl sends it):
	 * it is used where it lies; otherwise it is re-encoded, and the
	 * canonicaliser's output needs no second walk */
	if (mp_check(body, n, &ENTRY_BODY_LIMITS, MP_CANONICAL | MP_NO_BIN, NULL) != 0) {
		buf_reset(canon);
		if (mp_canonicalize(body, n, &ENTRY_BODY_LIMITS, MP_NO_BIN, canon, e))
			return err_prefix(e, "body");
		p = canon->data;
		len = canon->len;
	}
	if (entry_check_body_size(p, len, e) ||
	    (l->rules && l->rules->check && l->rules->check(l->rules->ctx, a->kind, a->kind_len, p, len, &mark, e)))
		return err_prefix(e, "body");
	a->body = p;
	a->body_len = len;
	a->checked = &CHECKED_SEAL;
	a->rules_checked = mark;
	return 0;
}

/* The envelope's field rules and the body's canonical form, before the
 * kind's rules run, unless ledger_check_append() checked them (and the
 * kind's schema) already. */
static int check_request(const struct ledger_append *r, struct err *e)
{
	if (r->checked == &CHECKED_SEAL)
		return 0;
	if (check_envelope(r, e) || entry_check_body(r->body, r->body_len, e)) {
		e->code = LEDGER_E_INVALID;
		return -1;
	}
	return 0;
}

/* What a request asked for: kind, project and the body as sent (before
 * the ledger filled in numbers), so a repeat can be recognised. */
static void request_digest(const struct ledger_append *r, uint8_t out[HASH_LEN])
{
	rebuild_request_digest(r->kind, r->kind_len, r->project, r->project_len, r->body, r->body_len, out);
}

/* Same request id seen before: same content -> the original, else conflict. */
static int match_original(struct store_txn *t, uint64_t seq, const uint8_t digest[HASH_LEN],
			  const struct ledger_append *r, struct ledger_result *res, struct err *e)
{
	const uint8_t *p;
	size_t n;
	uint8_t want[HASH_LEN];
	if (store_entry_get(t, seq, &p, &n, e))
		return -1;
	request_digest(r, want);
	if (memcmp(want, digest, HASH_LEN) == 0) {
		res->status = LEDGER_DUPLICATE;
		res->seq = seq;
		merkle_leaf_hash(p, n, res->leaf);
	} else {
		res->status = LEDGER_REJECTED;
		err_setc(&res->err, LEDGER_E_CONFLICT,
			 "request id \"%.*s\" was already used for entry %llu with different content",
			 (int)r->request_id_len, r->request_id, (unsigned long long)seq);
	}
	return 0;
}

/* For each key entry appended in this batch, the checkpoint that first
 * covers it, signed by every key of the time (the old and the new during a
 * rotation), and the entry's number in the list of key entries: a client
 * that trusts the old key follows the chain with these (op keys). */
static int keep_key_checkpoint(struct store_txn *t, uint64_t seq, const struct buf *note, struct err *e)
{
	char name[40];
	snprintf(name, sizeof name, "keycp:%020llu", (unsigned long long)seq);
	const uint8_t *p = NULL;
	size_t len = 0;
	int rc = store_meta_get(t, "key_seqs", &p, &len, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		len = 0;
	uint8_t *list = malloc(len + 8);
	if (list == NULL)
		return err_set(e, "out of memory");
	if (len)
		memcpy(list, p, len);
	for (int i = 0; i < 8; i++)
		list[len + (size_t)i] = (uint8_t)(seq >> (56 - 8 * i));
	rc = store_meta_put(t, "key_seqs", list, len + 8, e) || store_meta_put(t, name, note->data, note->len, e);
	free(list);
	return rc ? -1 : 0;
}

static int keep_key_checkpoints(struct store_txn *t, const struct ledger_append *reqs,
				const struct ledger_result *res, size_t n, const struct buf *note, struct err *e)
{
	for (size_t k = 0; k < n; k++)
		if (res[k].status == LEDGER_APPENDED && keys_is_key(reqs[k].kind, reqs[k].kind_len) &&
		    keep_key_checkpoint(t, res[k].seq, note, e))
			return -1;
	return 0;
}

/* The rules for one append, in its own nested transaction a: checked
 * against the state so far (including the batch's earlier entries), they
 * write the derived state and may fill in numbers (the log's own key
 * entries, keys.c; any other kind, the rules given at open); then the entry
 * is encoded into l->scratch.  0 when both worked; -1 with the reason in e
 * otherwise, and the caller aborts a, so none of the rules' writes remain. */
static int apply_rules(struct ledger *l, struct store_txn *a, const struct ledger_append *r, uint64_t seq,
		       uint64_t time_us, const uint8_t prev[HASH_LEN], struct err *e)
{
	struct entry en = {
		.version = ENTRY_VERSION, .seq = seq, .time_us = time_us,
		.kind = r->kind, .kind_len = r->kind_len,
		.project = r->project, .project_len = r->project_len,
		.author = r->author, .author_len = r->author_len,
		.request_id = r->request_id, .request_id_len = r->request_id_len,
		.body = r->body, .body_len = r->body_len,
	};
	memcpy(en.prev, prev, HASH_LEN);
	buf_reset(&l->body);
	struct rebuild_tree tree = { a, l->origin };
	int rc = rebuild_own(a, &tree, &en, e);
	if (rc <= 0 || l->rules == NULL) {
		rc = rc < 0 ? -1 : 0;
		buf_add(&l->body, r->body, r->body_len);
	} else {
		/* the rules' mark counts only beside the ledger's: the body they
		 * checked, unchanged */
		rc = l->rules->apply(l->rules->ctx, a, &en, r->as_client, false,
				     r->checked == &CHECKED_SEAL ? r->rules_checked : NULL, &l->body, e);
	}
	if (rc) {
		if (e->code < STORE_E_IO || e->code > STORE_E_NOTFOUND)
			e->code = LEDGER_E_INVALID;
		return -1;
	}
	/* a checked request's fields need no second check, nor its body when
	 * the rules recorded it as sent; a body they changed is checked again */
	bool as_sent = r->checked == &CHECKED_SEAL && l->body.len == r->body_len &&
		       memcmp(l->body.data, r->body, r->body_len) == 0;
	en.body = l->body.data;
	en.body_len = l->body.len;
	buf_reset(&l->scratch);
	if ((as_sent ? entry_encode_checked : entry_encode)(&en, &l->scratch, e)) {
		err_prefix(e, "with the fields the ledger assigns");
		e->code = LEDGER_E_INVALID;
		return -1;
	}
	return 0;
}

void ledger_commit_init(struct ledger_commit *c)
{
	memset(c, 0, sizeof *c);
	buf_init(&c->note);
}

void ledger_commit_free(struct ledger_commit *c)
{
	buf_free(&c->note);
}

static void refuse_all(struct ledger_result *res, size_t n, const struct err *e)
{
	for (size_t k = 0; k < n; k++) {
		res[k].status = LEDGER_REJECTED;
		res[k].err = *e;
	}
}

int ledger_write_batch(struct ledger *l, const struct ledger_append *reqs, size_t n,
		       struct ledger_result *res, struct ledger_commit *c, struct err *eout)
{
	struct err le, *e = &le;
	c->appended = false;
	if (l->read_only || l->replica_of)
		return err_set(eout, "ledger is open %s", l->read_only ? "read-only" : "as a follower's copy");
	err_clear(e);
	struct store_txn *t = NULL;
	struct merkle_cr *cr = &c->cr;
	uint64_t size = l->size, time_us = l->now_us();
	uint8_t *prev = c->last_leaf;
	size_t appended = 0;
	*cr = l->cr;
	memcpy(prev, l->last_leaf, HASH_LEN);
	if (time_us < l->last_time)
		time_us = l->last_time;	/* commit times never go backwards */

	for (size_t k = 0; k < n; k++) {
		memset(&res[k], 0, sizeof res[k]);
		res[k].status = LEDGER_REJECTED;
	}
	if (store_begin(l->store, true, &t, e))
		goto fail;
	for (size_t k = 0; k < n; k++) {
		const struct ledger_append *r = &reqs[k];
		uint64_t seen;
		uint8_t digest[HASH_LEN];
		if (check_request(r, &res[k].err))
			continue;
		int rc = store_reqid_get(t, r->author, r->author_len, r->request_id,
					 r->request_id_len, &seen, digest, e);
		if (rc < 0)
			goto fail;
		if (rc == 1) {
			if (match_original(t, seen, digest, r, &res[k], e))
				goto fail;
			continue;
		}
		/* the rules' writes in a transaction of their own inside the
		 * batch's: refused, nothing of them remains */
		struct store_txn *a;
		if (store_begin_child(t, &a, e))
			goto fail;
		err_clear(&res[k].err);
		if (apply_rules(l, a, r, size, time_us, prev, &res[k].err)) {
			store_abort(a);
			if (res[k].err.code == STORE_E_MAP_FULL) {	/* grow, then the whole batch again */
				*e = res[k].err;
				goto fail;
			}
			continue;
		}
		if (store_commit(a, e))
			goto fail;
		/* the log's writes: a failure here fails the whole batch */
		uint8_t leaf[HASH_LEN];
		request_digest(r, digest);
		merkle_leaf_hash(l->scratch.data, l->scratch.len, leaf);
		if (store_entry_put(t, size, l->scratch.data, l->scratch.len, e) ||
		    merkle_cr_append(cr, leaf, node_put, t, e) ||
		    store_reqid_put(t, r->author, r->author_len, r->request_id, r->request_id_len,
				    size, digest, e) ||
		    store_project_put(t, r->project, r->project_len, size, e))
			goto fail;
		res[k].status = LEDGER_APPENDED;
		res[k].seq = size;
		memcpy(res[k].leaf, leaf, HASH_LEN);
		memcpy(prev, leaf, HASH_LEN);
		size++;
		appended++;
	}
	if (appended == 0) {
		store_abort(t);
		return 0;
	}
	if (write_head(l, t, size, cr, time_us, &c->note, e) || keep_key_checkpoints(t, reqs, res, n, &c->note, e))
		goto fail;
	int rc = store_commit(t, e);
	t = NULL;
	if (rc)
		goto fail;
	c->size = size;
	c->last_time = time_us;
	c->appended = true;
	return 0;
fail:
	store_abort(t);
	refuse_all(res, n, e);
	if (eout)
		*eout = *e;
	return -1;
}

void ledger_publish(struct ledger *l, struct ledger_commit *c)
{
	if (!c->appended)
		return;
	l->cr = c->cr;
	l->size = c->size;
	l->last_time = c->last_time;
	memcpy(l->last_leaf, c->last_leaf, HASH_LEN);
	struct buf old = l->head;	/* the note moves over; c keeps the old buffer for reuse */
	l->head = c->note;
	c->note = old;
	c->appended = false;
}

int ledger_append_batch(struct ledger *l, const struct ledger_append *reqs, size_t n,
			struct ledger_result *res, struct err *eout)
{
	struct err le, *e = &le;
	struct ledger_commit c;
	ledger_commit_init(&c);
	int rc;
	for (;;) {
		err_clear(e);
		rc = ledger_write_batch(l, reqs, n, res, &c, e);
		if (rc == 0 || e->code != STORE_E_MAP_FULL)
			break;
		if (store_grow(l->store, e)) {	/* no transaction is open: the map may move */
			refuse_all(res, n, e);
			break;
		}
	}
	/* durable: now, and only now, the in-memory state moves */
	if (rc == 0)
		ledger_publish(l, &c);
	else if (eout)
		*eout = *e;
	ledger_commit_free(&c);
	return rc;
}

/* The keys a copy that trusts anchor (a follower's follow_trust) follows
 * to through the log's key history in t: anchor, unless the history
 * retired it, and every key the history has in use (proto/PROTOCOL.md,
 * "Followers"). */
struct trusted {
	struct note_verifier *v;
	size_t n, cap;
};

static int add_trusted(void *ctx, const char *vkey, size_t n, struct err *e)
{
	struct trusted *tr = ctx;
	struct note_verifier v;
	if (note_verifier_parse(vkey, n, &v, e))
		return -1;
	for (size_t i = 0; i < tr->n; i++)
		if (memcmp(tr->v[i].pub, v.pub, sizeof v.pub) == 0 && strcmp(tr->v[i].name, v.name) == 0)
			return 0;
	if (tr->n == tr->cap)
		return err_setc(e, STORE_E_CORRUPT, "the key history has more than %zu keys in use", tr->cap);
	tr->v[tr->n++] = v;
	return 0;
}

static int trusted_keys(struct store_txn *t, const struct note_verifier *anchor, struct note_verifier *out,
			size_t cap, size_t *n, struct err *e)
{
	struct buf a;
	char st = 0;
	buf_init(&a);
	note_verifier_format(anchor, &a);
	int rc = keys_state(t, (const char *)a.data, a.len, &st, e);
	buf_free(&a);
	if (rc < 0)
		return -1;
	struct trusted tr = { out, 0, cap };
	if (rc == 0 || st == 'a')
		out[tr.n++] = *anchor;
	if (keys_in_use(t, add_trusted, &tr, e))
		return -1;
	*n = tr.n;
	return 0;
}

int ledger_follow_keys(struct ledger *l, struct note_verifier out[LEDGER_MAX_TRUSTED], size_t *n, struct err *e)
{
	struct store_txn *t;
	if (l->replica_of == NULL)
		return err_set(e, "ledger is not open as a follower's copy");
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = trusted_keys(t, l->replica_of, out, LEDGER_MAX_TRUSTED, n, e);
	store_abort(t);
	return rc;
}

/* One follower write: see ledger_follow_store.  The head's meta as
 * write_head stores it, with the primary's note instead of a new one. */
static int follow_pass(struct ledger *l, const uint8_t *const *ents, const size_t *lens, size_t n,
		       const uint8_t *note, size_t note_len, bool head, struct lverify *v, struct err *e)
{
	struct store_txn *t;
	struct buf body, keyseqs;
	lverify_init(v);
	v->count = l->size;
	v->last_time = l->last_time;
	v->cr = l->cr;
	memcpy(v->last_leaf, l->last_leaf, HASH_LEN);
	v->emit = node_put;
	if (store_begin(l->store, true, &t, e))
		return -1;
	v->emit_ctx = t;
	buf_init(&body);
	buf_init(&keyseqs);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct entry en;
		uint64_t seq = v->count;
		struct rebuild_tree tree = { t, l->origin };
		rc = lverify_entry(v, ents[i], lens[i], &en, NULL, e) || store_entry_put(t, seq, ents[i], lens[i], e) ||
		     rebuild_entry(t, &tree, l->rules, seq, &en, &body, e) ? -1 : 0;
		if (rc == 0 && keys_is_key(en.kind, en.kind_len))
			buf_add(&keyseqs, (const uint8_t *)&seq, sizeof seq);
	}
	struct checkpoint cp;
	uint8_t root[HASH_LEN];
	struct note_verifier keys[LEDGER_MAX_TRUSTED];
	size_t nkeys = 0;
	merkle_cr_root(&v->cr, root);
	if (rc == 0)	/* with this batch's key entries */
		rc = trusted_keys(t, l->replica_of, keys, LEDGER_MAX_TRUSTED, &nkeys, e);
	if (rc == 0) {
		if (checkpoint_open((const char *)note, note_len, keys, nkeys, &cp, e))
			rc = err_prefix(e, "the primary's checkpoint");
		else if (strcmp(cp.origin, l->origin) != 0 || cp.size < v->count ||
			 (head && (cp.size != v->count || memcmp(cp.root, root, HASH_LEN) != 0)))
			rc = err_set(e, "the primary's checkpoint (size %llu) is not the tree of the %llu entries verified",
				     (unsigned long long)cp.size, (unsigned long long)v->count);
	}
	struct buf nb = { (uint8_t *)(uintptr_t)note, note_len, note_len, false };
	for (size_t off = 0; rc == 0 && off < keyseqs.len; off += sizeof(uint64_t)) {
		uint64_t seq;
		memcpy(&seq, keyseqs.data + off, sizeof seq);
		rc = keep_key_checkpoint(t, seq, &nb, e);
	}
	if (rc == 0 && head) {
		struct buf vk;	/* the trusted keys that signed it */
		buf_init(&vk);
		for (size_t i = 0; i < nkeys; i++)
			if (checkpoint_open((const char *)note, note_len, &keys[i], 1, &cp, NULL) == 0) {
				note_verifier_format(&keys[i], &vk);
				buf_addc(&vk, '\n');
			}
		rc = store_meta_put(t, "checkpoint", note, note_len, e) ||
		     store_meta_put(t, "signing_keys", vk.data, vk.len, e) ? -1 : 0;
		buf_free(&vk);
	}
	if (rc == 0)
		rc = store_meta_put_u64(t, "size", v->count, e) || store_meta_put(t, "root", root, HASH_LEN, e) ||
		     store_meta_put_u64(t, "last_time", v->last_time, e) ||
		     store_meta_put(t, "origin", l->origin, strlen(l->origin), e) ? -1 : 0;
	buf_free(&body);
	buf_free(&keyseqs);
	if (rc) {
		store_abort(t);
		return -1;
	}
	return store_commit(t, e);
}

int ledger_follow_store(struct ledger *l, const uint8_t *const *ents, const size_t *lens, size_t n,
			const uint8_t *note, size_t note_len, bool head, struct err *eout)
{
	struct err le, *e = &le;
	struct lverify v;
	if (l->replica_of == NULL)
		return err_set(eout, "ledger is not open as a follower's copy");
	for (;;) {
		err_clear(e);
		if (follow_pass(l, ents, lens, n, note, note_len, head, &v, e) == 0)
			break;
		if (e->code != STORE_E_MAP_FULL || store_grow(l->store, e)) {
			if (eout)
				*eout = *e;
			return -1;
		}
	}
	/* durable: now, and only now, the in-memory state moves */
	l->cr = v.cr;
	l->size = v.count;
	l->last_time = v.last_time;
	memcpy(l->last_leaf, v.last_leaf, HASH_LEN);
	return 0;
}

int ledger_follow_fork(struct ledger *l, const uint8_t *note, size_t note_len, struct err *e)
{
	for (;;) {
		struct store_txn *t;
		err_clear(e);
		if (store_begin(l->store, true, &t, e))
			return -1;
		if (store_meta_put(t, "follow_fork", note, note_len, e) == 0 && store_commit(t, e) == 0)
			return 0;
		if (e->code != STORE_E_MAP_FULL || store_grow(l->store, e))
			return -1;
	}
}

int ledger_follow_fork_get(struct ledger *l, struct buf *out, struct err *e)
{
	struct store_txn *t;
	const uint8_t *p;
	size_t n;
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = store_meta_get(t, "follow_fork", &p, &n, e);
	if (rc == 1)
		buf_add(out, p, n);
	store_abort(t);
	return rc;
}

int ledger_checkpoint(struct ledger *l, struct buf *out, struct err *e)
{
	struct store_txn *t;
	const uint8_t *p;
	size_t n;
	if (!l->read_only && l->replica_of == NULL && l->head.len) {	/* the published one (txn_size) */
		buf_add(out, l->head.data, l->head.len);
		return 0;
	}
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = store_meta_get(t, "checkpoint", &p, &n, e);
	if (rc == 1)
		buf_add(out, p, n);
	else if (rc == 0)
		err_set(e, "no checkpoint has been signed yet");
	store_abort(t);
	return rc == 1 ? 0 : -1;
}

int ledger_get(struct ledger *l, uint64_t seq, struct buf *out, struct err *e)
{
	struct store_txn *t;
	const uint8_t *p;
	size_t n;
	if (!l->read_only && seq >= l->size)	/* not published yet (txn_size) */
		return err_setc(e, STORE_E_NOTFOUND, "entry %llu does not exist", (unsigned long long)seq);
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = store_entry_get(t, seq, &p, &n, e);
	if (rc == 0)
		buf_add(out, p, n);
	store_abort(t);
	return rc;
}

int ledger_key_history(struct ledger *l, uint64_t *seqs, size_t max, size_t *n, struct err *e)
{
	struct store_txn *t;
	const uint8_t *p;
	size_t len;
	*n = 0;
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = store_meta_get(t, "key_seqs", &p, &len, e);
	for (size_t off = 0; rc == 1 && off + 8 <= len && *n < max; off += 8) {
		uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | p[off + (size_t)i];
		seqs[(*n)++] = v;
	}
	store_abort(t);
	return rc < 0 ? -1 : 0;
}

int ledger_key_checkpoint(struct ledger *l, uint64_t seq, struct buf *note, struct err *e)
{
	struct store_txn *t;
	const uint8_t *p;
	size_t len;
	char name[40];
	snprintf(name, sizeof name, "keycp:%020llu", (unsigned long long)seq);
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = store_meta_get(t, name, &p, &len, e);
	if (rc == 1)
		buf_add(note, p, len);
	else if (rc == 0)
		err_set(e, "no checkpoint kept for key entry %llu", (unsigned long long)seq);
	store_abort(t);
	return rc == 1 ? 0 : -1;
}

/* The size reads see.  A write handle's is the published size: the store
 * may already hold a batch whose commit has not been handed back (the
 * writer thread, commit.h), and reads show nothing beyond the published
 * checkpoint.  A read-only handle's is what its read transaction sees
 * (another process may have appended). */
static int txn_size(const struct ledger *l, struct store_txn *t, uint64_t *size, struct err *e)
{
	*size = 0;
	if (!l->read_only) {
		*size = l->size;
		return 0;
	}
	return store_meta_get_u64(t, "size", size, e) < 0 ? -1 : 0;
}

/* Begins a read transaction in which a tree of size n exists. */
static int begin_sized(struct ledger *l, uint64_t n, struct store_txn **t, struct err *e)
{
	uint64_t cur;
	if (store_begin(l->store, false, t, e))
		return -1;
	if (txn_size(l, *t, &cur, e) == 0 && n <= cur)
		return 0;
	if (n > cur)
		err_set(e, "tree size %llu is larger than the ledger (%llu entries)",
			(unsigned long long)n, (unsigned long long)cur);
	store_abort(*t);
	*t = NULL;
	return -1;
}

int ledger_root(struct ledger *l, uint64_t n, uint8_t root[HASH_LEN], struct err *e)
{
	struct store_txn *t;
	if (begin_sized(l, n, &t, e))
		return -1;
	int rc = merkle_root(node_get, t, n, root, e);
	store_abort(t);
	return rc;
}

int ledger_inclusion(struct ledger *l, uint64_t seq, uint64_t size, uint8_t leaf[HASH_LEN],
		     uint8_t root[HASH_LEN], uint8_t proof[][HASH_LEN], size_t *len,
		     struct err *e)
{
	struct store_txn *t;
	if (seq >= size)
		return err_set(e, "entry %llu is not in a tree of size %llu", (unsigned long long)seq,
			       (unsigned long long)size);
	if (begin_sized(l, size, &t, e))
		return -1;
	int rc = store_node_get(t, 0, seq, leaf, e);
	if (rc == 0)
		rc = merkle_root(node_get, t, size, root, e);
	if (rc == 0)
		rc = merkle_inclusion_proof(node_get, t, seq, size, proof, len, e);
	store_abort(t);
	return rc;
}

int ledger_multi_proof(struct ledger *l, uint64_t size, const uint64_t *idx, size_t count,
		       uint8_t proof[][HASH_LEN], size_t *len, struct err *e)
{
	struct store_txn *t;
	if (begin_sized(l, size, &t, e))
		return -1;
	int rc = merkle_multi_proof(node_get, t, size, idx, count, proof, len, e);
	store_abort(t);
	return rc;
}

int ledger_consistency(struct ledger *l, uint64_t m, uint64_t n, uint8_t root1[HASH_LEN],
		       uint8_t root2[HASH_LEN], uint8_t proof[][HASH_LEN], size_t *len,
		       struct err *e)
{
	struct store_txn *t;
	if (m == 0 || m > n)
		return err_set(e, "no consistency proof from size %llu to %llu (need 1 <= old <= new)",
			       (unsigned long long)m, (unsigned long long)n);
	if (begin_sized(l, n, &t, e))
		return -1;
	int rc = merkle_root(node_get, t, m, root1, e);
	if (rc == 0)
		rc = merkle_root(node_get, t, n, root2, e);
	if (rc == 0)
		rc = merkle_consistency_proof(node_get, t, m, n, proof, len, e);
	store_abort(t);
	return rc;
}

int ledger_export(struct ledger *l, uint64_t from, uint64_t to,
		  int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e),
		  void *ctx, struct err *e)
{
	struct store_txn *t;
	uint64_t cur;
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = txn_size(l, t, &cur, e);
	if (rc == 0)
		rc = store_entry_scan(t, from, to < cur ? to : cur, fn, ctx, e);
	store_abort(t);
	return rc;
}

/* ---- full verification of the stored state ---- */

struct vctx {
	struct store_txn *t;	/* the stored ledger */
	struct store_node_reader *nr;	/* t's tree nodes, in the order the stream meets them */
	struct store_txn *x;	/* scratch: what the log implies, rebuilt entry by entry */
	struct lverify v;
	struct pverify *pv;	/* prepares entries on several threads for v */
	uint64_t fed;		/* entries handed to pv */
	struct ledger_verify_report *r;
	void (*progress)(void *, uint64_t, uint64_t);
	void *pctx;
	uint64_t total;
	struct buf body;
	struct buf key_seqs;	/* the seq of each key entry, u64 BE, in order */
	const struct ledger_rules *rules;
	const char *origin;
	const struct note_verifier *anchor;	/* a follower's follow_trust, or NULL */
};

static int compare_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[HASH_LEN],
			struct err *e)
{
	struct vctx *c = ctx;
	uint8_t stored[HASH_LEN];
	if (store_node_read(c->nr, level, index, stored, e))
		return -1;
	if (memcmp(stored, h, HASH_LEN) == 0)
		return 0;
	c->r->bad_seq_known = true;
	if (level == 0) {
		c->r->bad_seq = index;
		return err_set(e, "entry %llu does not match its stored leaf hash: entry %llu was altered",
			       (unsigned long long)index, (unsigned long long)index);
	}
	/* an interior node differs although every leaf under it matched */
	c->r->bad_seq = index << level;
	return err_set(e, "stored tree node (level %u, index %llu, entries %llu..%llu) differs from "
		       "the hash of those entries: the stored tree was altered", level,
		       (unsigned long long)index, (unsigned long long)(index << level),
		       (unsigned long long)(((index + 1) << level) - 1));
}

/* Each entry, once the stream accepted it (in order, on this thread): what
 * it implies beyond itself. */
static int verify_each(void *ctx, const struct entry *en, const uint8_t leaf[HASH_LEN], struct err *e)
{
	struct vctx *c = ctx;
	uint64_t seq = en->seq;
	(void)leaf;
	struct rebuild_tree tree = { c->t, c->origin };
	if (rebuild_entry_digest(c->x, &tree, c->rules, seq, en, pverify_extra(c->pv), &c->body, e)) {
		c->r->bad_seq_known = true;
		c->r->bad_seq = seq;
		return -1;
	}
	if (keys_is_key(en->kind, en->kind_len)) {
		uint8_t b[8];
		for (int i = 0; i < 8; i++)
			b[i] = (uint8_t)(seq >> (56 - 8 * i));
		buf_add(&c->key_seqs, b, 8);
	}
	if (c->progress && (seq % 4096 == 0 || seq + 1 == c->total))
		c->progress(c->pctx, seq + 1, c->total);
	return 0;
}

/* On the worker threads: the request digest of the entry's own body, which
 * the replay's is unless the rules changed the body. */
static void verify_digest(void *ctx, const struct entry *en, uint8_t out[PVERIFY_EXTRA])
{
	(void)ctx;
	rebuild_request_digest(en->kind, en->kind_len, en->project, en->project_len, en->body, en->body_len, out);
}

static int verify_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct vctx *c = ctx;
	if (seq != c->fed) {
		/* the entries before the gap first: one of them may be bad */
		if (pverify_end(c->pv, e))
			return -1;
		c->r->bad_seq_known = true;
		c->r->bad_seq = c->fed;
		return err_set(e, "entry %llu is missing from storage", (unsigned long long)c->fed);
	}
	c->fed++;
	return pverify_feed(c->pv, p, n, e);
}

/* Every stored tree node is a complete subtree of the tree (the stream
 * has already compared each of them with the entries). */
static int node_in_tree(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v;
	const struct vctx *c = ctx;
	if (kn != 9)
		return err_setc(e, STORE_E_CORRUPT, "tree nodes: a stray record whose key (%zu bytes) is no node's", kn);
	uint64_t index = 0;
	for (int i = 1; i < 9; i++)
		index = index << 8 | k[i];
	if (k[0] >= 64 || index >= c->total >> k[0])
		return err_setc(e, STORE_E_CORRUPT, "tree nodes: a stray node (level %u, index %llu) beyond the tree "
				"of %llu entries", k[0], (unsigned long long)index, (unsigned long long)c->total);
	if (vn != HASH_LEN)
		return err_setc(e, STORE_E_CORRUPT, "tree node (level %u, index %llu) is damaged", k[0],
				(unsigned long long)index);
	return 0;
}

static bool keycp_name(const uint8_t *k, size_t kn, uint64_t *seq)
{
	if (kn != 26 || memcmp(k, "keycp:", 6) != 0)
		return false;
	*seq = 0;
	for (size_t i = 6; i < 26; i++) {
		if (k[i] < '0' || k[i] > '9')
			return false;
		*seq = *seq * 10 + (uint64_t)(k[i] - '0');
	}
	return true;
}

static bool listed_seq(const struct buf *seqs, uint64_t seq)
{
	for (size_t off = 0; off + 8 <= seqs->len; off += 8) {
		uint64_t v = 0;
		for (int i = 0; i < 8; i++)
			v = v << 8 | seqs->data[off + (size_t)i];
		if (v == seq)
			return true;
	}
	return false;
}

/* No metadata key the ledger does not write. */
static int meta_known(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v;
	(void)vn;
	static const char *const NAMES[] = { "format", "origin", "size", "root", "last_time", "checkpoint",
					     "signing_keys", "key_seqs", "follow_fork", "follow_cosigned",
					     "witness_quorum" };
	const struct vctx *c = ctx;
	uint64_t seq;
	for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
		if (kn == strlen(NAMES[i]) && memcmp(k, NAMES[i], kn) == 0)
			return 0;
	if (kn > 8 && memcmp(k, "witness:", 8) == 0)
		return 0;	/* what a witness cosigned (FORMAT.md section 7c): its word, not the log's */
	if (keycp_name(k, kn, &seq)) {
		if (listed_seq(&c->key_seqs, seq))
			return 0;
		return err_setc(e, STORE_E_CORRUPT, "metadata: %.26s names entry %llu, which is not a key entry",
				(const char *)k, (unsigned long long)seq);
	}
	char shown[100];
	size_t w = 0;
	for (size_t i = 0; i < kn && w + 5 < sizeof shown; i++)
		w += (size_t)snprintf(shown + w, sizeof shown - w, k[i] >= 0x20 && k[i] < 0x7f ? "%c" : "\\x%02x", k[i]);
	return err_setc(e, STORE_E_CORRUPT, "metadata: stray key \"%s\" (the ledger writes no such key)", shown);
}

static int meta_u64_is(struct store_txn *t, const char *name, uint64_t want, struct err *e)
{
	uint64_t v;
	int rc = store_meta_get_u64(t, name, &v, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_setc(e, STORE_E_CORRUPT, "metadata: %s is missing", name);
	if (v != want)
		return err_setc(e, STORE_E_CORRUPT, "metadata: %s is %llu where the log implies %llu", name,
				(unsigned long long)v, (unsigned long long)want);
	return 0;
}

/* The verifier key named by a key entry's body, and whether it adds it. */
static int key_entry(struct store_txn *t, uint64_t seq, struct note_verifier *v, bool *add, struct err *e)
{
	const uint8_t *p;
	size_t n;
	struct entry en;
	struct mp_cur c;
	const char *s;
	size_t sn;
	if (store_entry_get(t, seq, &p, &n, e) || entry_decode(p, n, &en, e))
		return -1;
	if (mp_map_find(en.body, en.body_len, "action", &c, e) != 1 || mp_get_str(&c, &s, &sn, e))
		return -1;
	*add = sn == 3 && memcmp(s, "add", 3) == 0;
	if (mp_map_find(en.body, en.body_len, "verifier_key", &c, e) != 1 || mp_get_str(&c, &s, &sn, e))
		return -1;
	return note_verifier_parse(s, sn, v, e);
}

/* The signing keys: each signed the stored checkpoint; none is retired by
 * the log, every key the log has in use is listed, and at most one (the
 * ledger's first key, which no key entry records) is unknown to the log. */
struct keys_check {
	char (*list)[NOTE_VKEY_MAX];
	size_t n;
};

static int key_in_use_listed(void *ctx, const char *vkey, size_t n, struct err *e)
{
	const struct keys_check *kc = ctx;
	for (size_t i = 0; i < kc->n; i++)
		if (strlen(kc->list[i]) == n && memcmp(kc->list[i], vkey, n) == 0)
			return 0;
	return err_setc(e, STORE_E_CORRUPT, "metadata: signing_keys lacks %.*s, which the log has in use", (int)n,
			vkey);
}

static int check_signing_keys(struct vctx *c, const uint8_t *cpn, size_t cpl, struct err *e)
{
	const uint8_t *p;
	size_t n;
	int rc = store_meta_get(c->t, "signing_keys", &p, &n, e);
	if (rc < 0)
		return -1;
	if (rc == 0) {	/* written before key history: then no key entry exists */
		if (c->key_seqs.len == 0)
			return 0;
		return err_setc(e, STORE_E_CORRUPT, "metadata: signing_keys is missing");
	}
	char list[8][NOTE_VKEY_MAX];
	size_t nlist = 0, unknown = 0;
	for (size_t off = 0; off < n;) {
		const uint8_t *nl = memchr(p + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (p + off)) : n - off;
		struct note_verifier v;
		struct checkpoint cp;
		if (nl == NULL || len == 0 || len >= NOTE_VKEY_MAX || nlist == 8 ||
		    note_verifier_parse((const char *)p + off, len, &v, NULL))
			return err_setc(e, STORE_E_CORRUPT, "metadata: signing_keys is damaged (line %zu)", nlist + 1);
		memcpy(list[nlist], p + off, len);
		list[nlist][len] = '\0';
		for (size_t j = 0; j < nlist; j++)
			if (strcmp(list[j], list[nlist]) == 0)
				return err_setc(e, STORE_E_CORRUPT, "metadata: signing_keys lists %s twice", list[j]);
		if (checkpoint_open((const char *)cpn, cpl, &v, 1, &cp, NULL))
			return err_setc(e, STORE_E_CORRUPT, "metadata: signing_keys lists %s, which did not sign the "
					"stored checkpoint", list[nlist]);
		char st = 0;
		rc = keys_state(c->x, list[nlist], len, &st, e);
		if (rc < 0)
			return -1;
		if (rc == 1 && st == 'r')
			return err_setc(e, STORE_E_CORRUPT, "metadata: signing_keys lists %s, which the log retired",
					list[nlist]);
		if (rc == 0 && ++unknown > 1)
			return err_setc(e, STORE_E_CORRUPT, "metadata: signing_keys lists %s, which no key entry added",
					list[nlist]);
		nlist++;
		off += len + 1;
	}
	struct keys_check kc = { list, nlist };
	return keys_in_use(c->x, key_in_use_listed, &kc, e);
}

/* Each key entry's kept checkpoint: covers it, matches the tree at its
 * size, and is signed by the key it adds (or, for a retirement, by one of
 * the ledger's keys). */
static int check_key_checkpoints(struct vctx *c, const struct checkpoint *head, struct err *e)
{
	struct note_verifier keys[16], chain[LEDGER_MAX_TRUSTED];
	size_t nkeys = 0, nchain = 0;
	if (c->anchor)	/* a follower's: each key change reached from follow_trust */
		chain[nchain++] = *c->anchor;
	for (size_t off = 0; off + 8 <= c->key_seqs.len; off += 8) {
		uint64_t seq = 0;
		bool add;
		for (int i = 0; i < 8; i++)
			seq = seq << 8 | c->key_seqs.data[off + (size_t)i];
		struct note_verifier v;
		if (key_entry(c->t, seq, &v, &add, e))
			return err_prefix(e, "key entry %llu", (unsigned long long)seq);
		if (add && nkeys < sizeof keys / sizeof keys[0])
			keys[nkeys++] = v;
		char name[40];
		const uint8_t *p;
		size_t n;
		struct checkpoint cp;
		uint8_t root[HASH_LEN];
		snprintf(name, sizeof name, "keycp:%020llu", (unsigned long long)seq);
		int rc = store_meta_get(c->t, name, &p, &n, e);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return err_setc(e, STORE_E_CORRUPT, "metadata: %s is missing (key entry %llu)", name,
					(unsigned long long)seq);
		if (checkpoint_open((const char *)p, n, add ? &v : keys, add ? 1 : nkeys, &cp, e) ||
		    strcmp(cp.origin, head->origin) != 0)
			return err_setc(e, STORE_E_CORRUPT, "metadata: %s is not a checkpoint of this log signed by %s",
					name, add ? "the key the entry adds" : "one of its keys");
		if (c->anchor && checkpoint_open((const char *)p, n, chain, nchain, &cp, NULL))
			return err_setc(e, STORE_E_CORRUPT, "metadata: %s is signed by no key reached from follow_trust "
					"through the key entries before %llu", name, (unsigned long long)seq);
		if (c->anchor && add && nchain < LEDGER_MAX_TRUSTED)
			chain[nchain++] = v;
		for (size_t k = 0; c->anchor && !add && k < nchain; k++)
			if (memcmp(chain[k].pub, v.pub, sizeof v.pub) == 0)
				chain[k--] = chain[--nchain];
		if (cp.size <= seq || cp.size > c->total || merkle_root(node_get, c->t, cp.size, root, e) ||
		    memcmp(root, cp.root, HASH_LEN) != 0)
			return err_setc(e, STORE_E_CORRUPT, "metadata: %s (size %llu) is not the tree that covered key "
					"entry %llu", name, (unsigned long long)cp.size, (unsigned long long)seq);
	}
	return 0;
}

/* Every metadata key against what the log implies. */
static int check_meta(struct vctx *c, const struct checkpoint *head, const uint8_t *cpn, size_t cpl,
		      struct err *e)
{
	const uint8_t *p;
	size_t n;
	if (store_walk(c->t, STORE_DB_META, meta_known, c, e) ||
	    meta_u64_is(c->t, "format", STORE_FORMAT, e) || meta_u64_is(c->t, "size", c->total, e) ||
	    meta_u64_is(c->t, "last_time", c->v.last_time, e))
		return -1;
	if (head->size != c->total)
		return err_setc(e, STORE_E_CORRUPT, "the stored checkpoint covers %llu entries but %llu are stored",
				(unsigned long long)head->size, (unsigned long long)c->total);
	int rc = store_meta_get(c->t, "origin", &p, &n, e);
	if (rc < 0)
		return -1;
	if (rc == 0 || n != strlen(head->origin) || memcmp(p, head->origin, n) != 0)
		return err_setc(e, STORE_E_CORRUPT, "metadata: origin %s the checkpoint's (%s)",
				rc == 0 ? "is missing, unlike" : "differs from", head->origin);
	rc = store_meta_get(c->t, "key_seqs", &p, &n, e);
	if (rc < 0)
		return -1;
	if (rc == 0 ? c->key_seqs.len != 0 : n != c->key_seqs.len || memcmp(p, c->key_seqs.data, n) != 0)
		return err_setc(e, STORE_E_CORRUPT, "metadata: key_seqs lists %zu key entries where the log has %zu",
				rc == 0 ? 0 : n / 8, c->key_seqs.len / 8);
	return check_key_checkpoints(c, head, e) || check_signing_keys(c, cpn, cpl, e) ? -1 : 0;
}

/* One pass over the log with the scratch store sc: see ledger_verify. */
static int verify_pass(struct ledger *l, struct store *sc, const struct note_verifier *verifier,
		       struct vctx *c, struct err *e)
{
	const uint8_t *p, *cpn;
	size_t n, cpl;
	uint64_t count, last;
	struct checkpoint cp;
	struct ledger_verify_report *r = c->r;
	memset(r, 0, sizeof *r);
	lverify_init(&c->v);
	c->v.emit = compare_node;
	c->v.emit_ctx = c;
	buf_reset(&c->key_seqs);
	c->t = c->x = NULL;
	c->nr = NULL;
	int rc = -1;
	if (store_begin(l->store, false, &c->t, e) || store_begin(sc, true, &c->x, e) ||
	    store_node_reader_open(c->t, &c->nr, e))
		goto out;
	store_txn_entries_from(c->x, c->t);	/* the scratch store starts empty: a failed pass is aborted */
	c->total = 0;
	if (store_meta_get_u64(c->t, "size", &c->total, e) < 0 || store_entry_stat(c->t, &count, &last, e))
		goto out;
	if (count != c->total) {
		err_set(e, "metadata says %llu entries but %llu are stored",
			(unsigned long long)c->total, (unsigned long long)count);
		goto out;
	}
	/* the signed checkpoint is checked first so the stream can meet it */
	int have = store_meta_get(c->t, "checkpoint", &cpn, &cpl, e);
	if (have < 0)
		goto out;
	if (have == 0) {
		err_set(e, "no signed checkpoint is stored");
		goto out;
	}
	struct note_verifier keys[LEDGER_MAX_TRUSTED];
	size_t nkeys = 1;
	keys[0] = *verifier;
	if (c->anchor && trusted_keys(c->t, c->anchor, keys, LEDGER_MAX_TRUSTED, &nkeys, e))
		goto out;
	if (checkpoint_open((const char *)cpn, cpl, keys, nkeys, &cp, e)) {
		err_prefix(e, "stored checkpoint");
		goto out;
	}
	if (cp.size > c->total) {
		err_set(e, "the stored checkpoint covers %llu entries but only %llu are stored",
			(unsigned long long)cp.size, (unsigned long long)c->total);
		goto out;
	}
	lverify_set_checkpoint(&c->v, &cp);
	unsigned threads;
	c->fed = 0;
	if (pverify_threads(&threads, e) || pverify_new(&c->pv, &c->v, threads, verify_each, c, e))
		goto out;
	pverify_set_extra(c->pv, verify_digest, NULL);
	if (store_entry_scan(c->t, 0, c->total, verify_one, c, e) || pverify_end(c->pv, e) ||
	    lverify_finish(&c->v, e)) {
		if (c->v.failed && !r->bad_seq_known) {
			r->bad_seq_known = true;
			r->bad_seq = c->v.bad_seq;
		}
		goto out;
	}
	lverify_root(&c->v, r->root);
	r->entries = c->v.count;
	int hr = store_meta_get(c->t, "root", &p, &n, e);
	if (hr < 0)
		goto out;
	if (hr == 0 || n != HASH_LEN) {
		err_set(e, "stored root is missing or damaged");
		goto out;
	}
	if (memcmp(p, r->root, HASH_LEN) != 0) {
		err_set(e, "stored root differs from the root recomputed from the entries");
		goto out;
	}
	/* what the log implies beyond itself, and no stray keys anywhere */
	if (rebuild_compare(c->t, c->x, l->rules, e) || store_walk(c->t, STORE_DB_NODES, node_in_tree, c, e) ||
	    check_meta(c, &cp, cpn, cpl, e))
		goto out;
	rc = 0;
out:
	pverify_free(c->pv);
	c->pv = NULL;
	store_node_reader_close(c->nr);
	c->nr = NULL;
	store_abort(c->x);
	store_abort(c->t);
	if (rc)
		r->failed = true;
	return rc;
}

int ledger_verify(struct ledger *l, const struct note_verifier *verifier,
		  void (*progress)(void *ctx, uint64_t done, uint64_t total), void *pctx,
		  struct ledger_verify_report *r, struct err *e)
{
	struct note_verifier own;
	struct store *sc;
	struct vctx c;
	memset(r, 0, sizeof *r);
	const struct note_verifier *anchor = verifier;
	if (verifier == NULL) {
		if (l->signer == NULL)
			return err_set(e, "no verifier key to check the checkpoint with");
		note_signer_verifier(l->signer, &own);
		verifier = &own;
	}
	if (store_open_scratch(&sc, store_map_size(l->store), e)) {
		r->failed = true;
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.r = r;
	c.progress = progress;
	c.pctx = pctx;
	c.rules = l->rules;
	c.origin = l->origin;
	c.anchor = anchor;
	buf_init(&c.body);
	buf_init(&c.key_seqs);
	struct err le, *ep = e ? e : &le;
	int rc;
	/* the scratch store may fill: grow it and go again */
	while ((rc = verify_pass(l, sc, verifier, &c, ep)) != 0 && ep->code == STORE_E_MAP_FULL &&
	       store_grow(sc, ep) == 0)
		err_clear(ep);
	buf_free(&c.body);
	buf_free(&c.key_seqs);
	store_close(sc);
	return rc;
}

struct plist {
	struct store_txn *t;
	uint64_t to;
	int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e);
	void *ctx;
};

static int plist_one(void *ctx, uint64_t seq, struct err *e)
{
	struct plist *pl = ctx;
	const uint8_t *p;
	size_t n;
	if (seq >= pl->to)
		return 1;
	if (store_entry_get(pl->t, seq, &p, &n, e))
		return -1;
	int rc = pl->fn(pl->ctx, seq, p, n, e);
	return rc < 0 ? -1 : rc;
}

int ledger_list_project(struct ledger *l, const char *project, size_t plen, uint64_t from,
			uint64_t to,
			int (*fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e),
			void *ctx, struct err *e)
{
	struct plist pl = { NULL, 0, fn, ctx };
	uint64_t cur;
	if (store_begin(l->store, false, &pl.t, e))
		return -1;
	int rc = txn_size(l, pl.t, &cur, e);
	pl.to = to < cur ? to : cur;
	if (rc == 0)
		rc = store_project_scan(pl.t, project, plen, from, plist_one, &pl, e);
	store_abort(pl.t);
	return rc;
}

/* ---- derived state: rebuild and digest ---- */

struct replay {
	struct store_txn *t;
	const struct ledger_rules *rules;
	const char *origin;
	struct buf body;
};

static int replay_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct replay *r = ctx;
	struct entry en;
	if (entry_decode(p, n, &en, e))
		return err_prefix(e, "entry %llu", (unsigned long long)seq);
	struct rebuild_tree tree = { r->t, r->origin };
	return rebuild_entry(r->t, &tree, r->rules, seq, &en, &r->body, e);
}

int ledger_reindex(struct ledger *l, struct err *e)
{
	if (l->read_only)
		return err_set(e, "ledger is open read-only");
	for (;;) {
		struct replay r = { NULL, l->rules, l->origin, { 0 } };
		buf_init(&r.body);
		err_clear(e);
		int rc = store_begin(l->store, true, &r.t, e);
		if (rc == 0)
			rc = store_clear(r.t, STORE_DB_STATE, e) || store_clear(r.t, STORE_DB_REQIDS, e) ||
			     store_clear(r.t, STORE_DB_PROJECTS, e) ? -1 : 0;
		if (rc == 0)
			rc = store_entry_scan(r.t, 0, l->size, replay_one, &r, e);
		buf_free(&r.body);
		if (rc == 0)
			return store_commit(r.t, e);
		store_abort(r.t);
		if (e == NULL || e->code != STORE_E_MAP_FULL || store_grow(l->store, e))
			return -1;
	}
}

static int digest_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)e;
	EVP_MD_CTX *md = ctx;
	uint8_t len[8];
	for (int i = 0; i < 4; i++) {
		len[i] = (uint8_t)(kn >> (24 - 8 * i));
		len[4 + i] = (uint8_t)(vn >> (24 - 8 * i));
	}
	EVP_DigestUpdate(md, len, 8);
	EVP_DigestUpdate(md, k, kn);
	EVP_DigestUpdate(md, v, vn);
	return 0;
}

int ledger_state_digest(struct ledger *l, uint8_t out[HASH_LEN], struct err *e)
{
	struct store_txn *t;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		return err_set(e, "out of memory");
	}
	int rc = store_begin(l->store, false, &t, e);
	if (rc == 0) {
		rc = store_state_scan(t, "", 0, digest_one, md, e);
		store_abort(t);
	}
	unsigned int n = HASH_LEN;
	if (rc == 0 && !EVP_DigestFinal_ex(md, out, &n))
		rc = err_set(e, "digest failed");
	EVP_MD_CTX_free(md);
	return rc;
}
