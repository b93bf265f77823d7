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
#include "domain.h"
#include "reports.h"
#include "enc.h"
#include "mp.h"
#include "verify.h"

struct ledger {
	struct store *store;
	struct note_signer *signer;		/* signers[0] */
	const struct note_signer *signers[LEDGER_MAX_SIGNERS];	/* every key that signs */
	size_t nsigners;
	char origin[NOTE_NAME_MAX + 1];
	int lock_fd;
	bool read_only;
	/* committed state, changed only after a successful commit */
	uint64_t size;
	uint64_t last_time;
	uint8_t last_leaf[HASH_LEN];
	struct merkle_cr cr;
	uint64_t (*now_us)(void);
	struct buf scratch;
	struct buf body;	/* the body being recorded, after the domain rules */
	struct buf head;	/* the checkpoint note last signed */
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
 * size/root/origin and the signing keys; the note stays in l->head. */
static int write_head(struct ledger *l, struct store_txn *t, uint64_t size,
		      const struct merkle_cr *cr, uint64_t last_time, struct err *e)
{
	struct checkpoint cp;
	memset(&cp, 0, sizeof cp);
	snprintf(cp.origin, sizeof cp.origin, "%s", l->origin);
	cp.size = size;
	merkle_cr_root(cr, cp.root);
	buf_reset(&l->scratch);
	checkpoint_format(&cp, &l->scratch);
	struct buf *note = &l->head;
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
	store_abort(t);
	if (rc < 0)
		goto fail;
	if (fresh)
		return 0;
	for (;;) {
		err_clear(e);
		if (store_begin(l->store, true, &t, e))
			goto fail;
		if (write_head(l, t, l->size, &l->cr, l->last_time, e)) {
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
			"key", 3, "", 0, LEDGER_KEY_AUTHOR, strlen(LEDGER_KEY_AUTHOR), reqids[i], strlen(reqids[i]),
			bodies[i].data, bodies[i].len, false,
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
	if (!l->read_only && l->signer == NULL) {
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
	if (!l->read_only) {
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
const char *ledger_origin(const struct ledger *l) { return l->origin; }
struct store *ledger_store(struct ledger *l) { return l->store; }
void ledger_set_clock(struct ledger *l, uint64_t (*now_us)(void)) { l->now_us = now_us; }

/* The envelope's field rules and the body's canonical form, before the
 * domain rules run; the kind's schema is checked once, by domain_apply(). */
static int check_request(const struct ledger_append *r, struct err *e)
{
	if (entry_check_kind(r->kind, r->kind_len, e) ||
	    entry_check_project(r->project, r->project_len, e) ||
	    entry_check_author(r->author, r->author_len, e) ||
	    entry_check_request_id(r->request_id, r->request_id_len, e) ||
	    entry_check_body(r->body, r->body_len, e)) {
		e->code = LEDGER_E_INVALID;
		return -1;
	}
	return 0;
}

/* What a request asked for: kind, project and the body as sent (before
 * the ledger filled in numbers), so a repeat can be recognised. */
static void request_digest(const struct ledger_append *r, uint8_t out[HASH_LEN])
{
	struct buf b;
	buf_init(&b);
	mp_pack_array(&b, 3);
	mp_pack_str(&b, r->kind, r->kind_len);
	mp_pack_str(&b, r->project, r->project_len);
	buf_add(&b, r->body, r->body_len);
	sha256(b.data, b.len, out);
	buf_free(&b);
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
static int keep_key_checkpoints(struct store_txn *t, const struct ledger_append *reqs,
				const struct ledger_result *res, size_t n, const struct buf *note, struct err *e)
{
	for (size_t k = 0; k < n; k++) {
		if (res[k].status != LEDGER_APPENDED || reqs[k].kind_len != 3 || memcmp(reqs[k].kind, "key", 3) != 0)
			continue;
		char name[40];
		snprintf(name, sizeof name, "keycp:%020llu", (unsigned long long)res[k].seq);
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
			list[len + (size_t)i] = (uint8_t)(res[k].seq >> (56 - 8 * i));
		rc = store_meta_put(t, "key_seqs", list, len + 8, e) ||
		     store_meta_put(t, name, note->data, note->len, e);
		free(list);
		if (rc)
			return -1;
	}
	return 0;
}

int ledger_append_batch(struct ledger *l, const struct ledger_append *reqs, size_t n,
			struct ledger_result *res, struct err *eout)
{
	struct err le, *e = &le;
	if (l->read_only)
		return err_set(eout, "ledger is open read-only");
retry:
	err_clear(e);
	struct store_txn *t = NULL;
	struct merkle_cr cr = l->cr;
	uint64_t size = l->size, time_us = l->now_us();
	uint8_t prev[HASH_LEN];
	size_t appended = 0;
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
		/* the domain rules against the state so far (including this
		 * batch's earlier entries); they may fill in numbers */
		struct domain_in din = { r->kind, r->kind_len, r->project, r->project_len, r->body,
					 r->body_len, r->as_client, size, time_us };
		buf_reset(&l->body);
		err_clear(&res[k].err);
		if (domain_apply(t, &din, false, &l->body, &res[k].err)) {
			if (res[k].err.code >= STORE_E_IO && res[k].err.code <= STORE_E_NOTFOUND) {
				*e = res[k].err;
				goto fail;
			}
			res[k].err.code = LEDGER_E_INVALID;
			continue;
		}
		request_digest(r, digest);
		struct entry en = {
			.version = ENTRY_VERSION, .seq = size, .time_us = time_us,
			.kind = r->kind, .kind_len = r->kind_len,
			.project = r->project, .project_len = r->project_len,
			.author = r->author, .author_len = r->author_len,
			.request_id = r->request_id, .request_id_len = r->request_id_len,
			.body = l->body.data, .body_len = l->body.len,
		};
		memcpy(en.prev, prev, HASH_LEN);
		buf_reset(&l->scratch);
		if (entry_encode(&en, &l->scratch, &res[k].err)) {
			res[k].err.code = LEDGER_E_INVALID;
			continue;
		}
		uint8_t leaf[HASH_LEN];
		merkle_leaf_hash(l->scratch.data, l->scratch.len, leaf);
		if (store_entry_put(t, size, l->scratch.data, l->scratch.len, e) ||
		    merkle_cr_append(&cr, leaf, node_put, t, e) ||
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
	if (write_head(l, t, size, &cr, time_us, e) || keep_key_checkpoints(t, reqs, res, n, &l->head, e))
		goto fail;
	int rc = store_commit(t, e);
	t = NULL;
	if (rc)
		goto fail;
	/* durable: now, and only now, the in-memory state moves */
	l->cr = cr;
	l->size = size;
	l->last_time = time_us;
	memcpy(l->last_leaf, prev, HASH_LEN);
	return 0;
fail:
	store_abort(t);
	if (e->code == STORE_E_MAP_FULL && store_grow(l->store, e) == 0)
		goto retry;
	for (size_t k = 0; k < n; k++) {
		res[k].status = LEDGER_REJECTED;
		res[k].err = *e;
	}
	if (eout)
		*eout = *e;
	return -1;
}

int ledger_checkpoint(struct ledger *l, struct buf *out, struct err *e)
{
	struct store_txn *t;
	const uint8_t *p;
	size_t n;
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

/* Size as seen by a read transaction (another process may have appended). */
static int txn_size(struct store_txn *t, uint64_t *size, struct err *e)
{
	*size = 0;
	return store_meta_get_u64(t, "size", size, e) < 0 ? -1 : 0;
}

/* Begins a read transaction in which a tree of size n exists. */
static int begin_sized(struct ledger *l, uint64_t n, struct store_txn **t, struct err *e)
{
	uint64_t cur;
	if (store_begin(l->store, false, t, e))
		return -1;
	if (txn_size(*t, &cur, e) == 0 && n <= cur)
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
	int rc = txn_size(t, &cur, e);
	if (rc == 0)
		rc = store_entry_scan(t, from, to < cur ? to : cur, fn, ctx, e);
	store_abort(t);
	return rc;
}

/* ---- full verification of the stored state ---- */

struct vctx {
	struct store_txn *t;
	struct lverify v;
	struct ledger_verify_report *r;
	void (*progress)(void *, uint64_t, uint64_t);
	void *pctx;
	uint64_t total;
};

static int compare_node(void *ctx, unsigned level, uint64_t index, const uint8_t h[HASH_LEN],
			struct err *e)
{
	struct vctx *c = ctx;
	uint8_t stored[HASH_LEN];
	if (store_node_get(c->t, level, index, stored, e))
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

static int verify_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct vctx *c = ctx;
	if (seq != c->v.count) {
		c->r->bad_seq_known = true;
		c->r->bad_seq = c->v.count;
		return err_set(e, "entry %llu is missing from storage", (unsigned long long)c->v.count);
	}
	if (lverify_entry(&c->v, p, n, NULL, NULL, e)) {
		if (!c->r->bad_seq_known) {
			c->r->bad_seq_known = true;
			c->r->bad_seq = c->v.bad_seq;
		}
		return -1;
	}
	if (c->progress && (seq % 65536 == 0 || seq + 1 == c->total))
		c->progress(c->pctx, seq + 1, c->total);
	return 0;
}

int ledger_verify(struct ledger *l, const struct note_verifier *verifier,
		  void (*progress)(void *ctx, uint64_t done, uint64_t total), void *pctx,
		  struct ledger_verify_report *r, struct err *e)
{
	struct vctx c;
	const uint8_t *p;
	size_t n;
	uint64_t count, last;
	uint8_t stored_root[HASH_LEN];
	struct note_verifier own;
	struct checkpoint cp;

	memset(r, 0, sizeof *r);
	memset(&c, 0, sizeof c);
	c.r = r;
	c.progress = progress;
	c.pctx = pctx;
	lverify_init(&c.v);
	c.v.emit = compare_node;
	c.v.emit_ctx = &c;
	if (verifier == NULL) {
		if (l->signer == NULL)
			return err_set(e, "no verifier key to check the checkpoint with");
		note_signer_verifier(l->signer, &own);
		verifier = &own;
	}
	if (store_begin(l->store, false, &c.t, e))
		return -1;
	int rc = -1;
	if (txn_size(c.t, &c.total, e) || store_entry_stat(c.t, &count, &last, e))
		goto out;
	if (count != c.total) {
		err_set(e, "metadata says %llu entries but %llu are stored",
			(unsigned long long)c.total, (unsigned long long)count);
		goto out;
	}
	/* the signed checkpoint is checked first so the stream can meet it */
	int have = store_meta_get(c.t, "checkpoint", &p, &n, e);
	if (have < 0)
		goto out;
	if (have == 0) {
		err_set(e, "no signed checkpoint is stored");
		goto out;
	}
	if (checkpoint_open((const char *)p, n, verifier, 1, &cp, e)) {
		err_prefix(e, "stored checkpoint");
		goto out;
	}
	if (cp.size > c.total) {
		err_set(e, "the stored checkpoint covers %llu entries but only %llu are stored",
			(unsigned long long)cp.size, (unsigned long long)c.total);
		goto out;
	}
	lverify_set_checkpoint(&c.v, &cp);
	if (store_entry_scan(c.t, 0, c.total, verify_one, &c, e) || lverify_finish(&c.v, e))
		goto out;
	lverify_root(&c.v, r->root);
	r->entries = c.v.count;
	int hr = store_meta_get(c.t, "root", &p, &n, e);
	if (hr < 0)
		goto out;
	if (c.total > 0 && (hr == 0 || n != HASH_LEN)) {
		err_set(e, "stored root is missing or damaged");
		goto out;
	}
	if (hr == 1) {
		memcpy(stored_root, p, HASH_LEN);
		if (memcmp(stored_root, r->root, HASH_LEN) != 0) {
			err_set(e, "stored root differs from the root recomputed from the entries");
			goto out;
		}
	}
	rc = 0;
out:
	store_abort(c.t);
	if (rc)
		r->failed = true;
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
	int rc = txn_size(pl.t, &cur, e);
	pl.to = to < cur ? to : cur;
	if (rc == 0)
		rc = store_project_scan(pl.t, project, plen, from, plist_one, &pl, e);
	store_abort(pl.t);
	return rc;
}

/* ---- derived state: rebuild and digest ---- */

struct replay {
	struct store_txn *t;
	struct buf body;
};

static int replay_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct replay *r = ctx;
	struct entry en;
	if (entry_decode(p, n, &en, e))
		return err_prefix(e, "entry %llu", (unsigned long long)seq);
	struct domain_in din = { en.kind, en.kind_len, en.project, en.project_len, en.body, en.body_len,
				 false, seq, en.time_us };
	buf_reset(&r->body);
	if (domain_apply(r->t, &din, true, &r->body, e))
		return err_prefix(e, "replaying entry %llu (%.*s)", (unsigned long long)seq, (int)en.kind_len,
				  en.kind);
	return 0;
}

int ledger_reindex(struct ledger *l, struct err *e)
{
	if (l->read_only)
		return err_set(e, "ledger is open read-only");
	for (;;) {
		struct replay r = { NULL, { 0 } };
		buf_init(&r.body);
		err_clear(e);
		int rc = store_begin(l->store, true, &r.t, e);
		if (rc == 0)
			rc = store_state_clear(r.t, e);
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

int ledger_status(struct ledger *l, const char *project, size_t plen, const struct page_req *req,
		  struct buf *out, struct buf *next, struct err *e)
{
	struct store_txn *t;
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = report_status(t, project, plen, req, out, next, e);
	store_abort(t);
	return rc;
}

int ledger_report(struct ledger *l, const char *name, const char *project, size_t plen,
		  bool (*allow)(void *ctx, const char *project, size_t n), void *actx,
		  const struct page_req *req, struct buf *out, struct buf *next, struct err *e)
{
	struct store_txn *t;
	bool unbilled = strcmp(name, "unbilled") == 0;
	if (!unbilled && strcmp(name, "exposure") != 0)
		return err_set(e, "unknown report \"%.40s\" (unbilled, exposure)", name);
	if (store_begin(l->store, false, &t, e))
		return -1;
	int rc = unbilled ? report_unbilled(t, project, plen, allow, actx, l->now_us(), req, out, next, e)
			  : report_exposure(t, project, plen, allow, actx, req, out, next, e);
	store_abort(t);
	return rc;
}
