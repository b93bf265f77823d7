#include "witness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "entry.h"
#include "fileio.h"
#include "mp.h"
#include "offline.h"
#include "result.h"
#include "show.h"
#include "state.h"

static void report_fork(const char *why, const char *path, const struct buf *old, const char *new_note,
			size_t new_len)
{
	fprintf(stderr,
		"scopectl: FORK DETECTED: %s\n"
		"The server has shown two signed checkpoints that cannot both be true: its log was\n"
		"rewritten or it shows different histories to different clients.  Keep both as evidence.\n"
		"--- remembered (%s) ---\n%s"
		"--- presented now ---\n%s",
		showz(why), path, show_lines((const char *)old->data, old->len), show_lines(new_note, new_len));
}

static void report_rollback(const char *path, const struct buf *old, const char *new_note, size_t new_len,
			    uint64_t now, uint64_t was)
{
	fprintf(stderr,
		"scopectl: ROLLBACK DETECTED: the server's log has %llu entries, but its key signed a\n"
		"checkpoint for %llu, remembered here; entries %llu to %llu are gone from it.  Restoring an\n"
		"old backup does this; so does hiding entries.  Keep both checkpoints as evidence.\n"
		"--- remembered (%s) ---\n%s"
		"--- presented now ---\n%s",
		(unsigned long long)now, (unsigned long long)was, (unsigned long long)now,
		(unsigned long long)(was - 1), path, show_lines((const char *)old->data, old->len),
		show_lines(new_note, new_len));
}

int witness_consistency(struct session *s, uint64_t m, uint64_t n, const uint8_t r1[HASH_LEN],
			const uint8_t r2[HASH_LEN], uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN], size_t *plen,
			struct err *e)
{
	const uint8_t *res;
	size_t len;
	sess_begin(s, "consistency", 2);
	mp_pack_cstr(&s->req, "old");
	mp_pack_uint(&s->req, m);
	mp_pack_cstr(&s->req, "new");
	mp_pack_uint(&s->req, n);
	if (sess_call(s, 2, &res, &len, e) || res_proof(res, len, proof, plen, e))
		return -1;
	if (merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[HASH_LEN])proof, *plen, e)) {
		e->code = CTL_EXIT_VERIFY;
		return -1;
	}
	return 0;
}

static int consistency(struct session *s, uint64_t m, uint64_t n, const uint8_t r1[HASH_LEN],
		       const uint8_t r2[HASH_LEN], struct err *e)
{
	uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN];
	size_t plen;
	return witness_consistency(s, m, n, r1, r2, proof, &plen, e);
}

static void init_keys(struct session *s)
{
	if (s->keys_ready)
		return;
	s->nkeys = s->nknown = s->prof->ntrust;
	memcpy(s->keys, s->prof->trust, s->prof->ntrust * sizeof s->keys[0]);
	memcpy(s->known, s->prof->trust, s->prof->ntrust * sizeof s->known[0]);
	s->keys_ready = true;
}

static bool same_key(const struct note_verifier *a, const struct note_verifier *b)
{
	return strcmp(a->name, b->name) == 0 && memcmp(a->pub, b->pub, 32) == 0;
}

/* One key history record: {seq, entry, checkpoint, proof}.  Applies it if
 * its checkpoint is signed by a key trusted now and proves the entry. */
static void apply_key_record(struct session *s, const uint8_t *rec, size_t rn)
{
	uint64_t seq;
	const uint8_t *entry;
	const char *note;
	size_t elen, nlen, plen;
	uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN], leaf[HASH_LEN];
	struct checkpoint kcp;
	struct entry en;
	if (res_u64(rec, rn, "seq", &seq, NULL) || res_bin(rec, rn, "entry", &entry, &elen, NULL) ||
	    res_str(rec, rn, "checkpoint", &note, &nlen, NULL) || res_proof(rec, rn, proof, &plen, NULL))
		return;
	/* records from before the keys we trust cannot be checked: skipped */
	if (checkpoint_open(note, nlen, s->keys, s->nkeys, &kcp, NULL))
		return;
	merkle_leaf_hash(entry, elen, leaf);
	if (seq >= kcp.size ||
	    merkle_verify_inclusion(seq, kcp.size, leaf, (const uint8_t(*)[HASH_LEN])proof, plen, kcp.root, NULL) ||
	    entry_decode(entry, elen, &en, NULL) || en.seq != seq || en.kind_len != 3 ||
	    memcmp(en.kind, "key", 3) != 0 || en.project_len != 0)
		return;
	struct mp_cur c;
	const char *act, *vk;
	size_t an, vn;
	struct note_verifier v;
	if (mp_map_find(en.body, en.body_len, "action", &c, NULL) != 1 || mp_get_str(&c, &act, &an, NULL) ||
	    mp_map_find(en.body, en.body_len, "verifier_key", &c, NULL) != 1 || mp_get_str(&c, &vk, &vn, NULL) ||
	    note_verifier_parse(vk, vn, &v, NULL) || strcmp(v.name, kcp.origin) != 0)
		return;
	size_t at = s->nkeys;
	for (size_t i = 0; i < s->nkeys; i++)
		if (same_key(&s->keys[i], &v))
			at = i;
	if (an == 3 && memcmp(act, "add", 3) == 0) {
		if (at == s->nkeys && s->nkeys < SESSION_MAX_KEYS) {
			s->keys[s->nkeys++] = v;
			fprintf(stderr, "scopectl: note: the log's signing key changed; trusting %s, added in entry "
				"%llu under a checkpoint signed by a key you trust (add it to your profile's trust)\n",
				show(vk, vn), (unsigned long long)seq);
		}
		bool known = false;
		for (size_t i = 0; i < s->nknown; i++)
			known |= same_key(&s->known[i], &v);
		if (!known && s->nknown < SESSION_MAX_KEYS)
			s->known[s->nknown++] = v;
	} else if (an == 6 && memcmp(act, "retire", 6) == 0 && at < s->nkeys) {
		s->keys[at] = s->keys[--s->nkeys];
	}
}

/* The checkpoint is signed by none of the keys trusted: follow the log's
 * key history (PROTOCOL.md, keys) from them, then try again. */
static int follow_keys(struct session *s, struct err *e)
{
	const uint8_t *res;
	size_t len;
	struct mp_cur c;
	uint32_t count;
	sess_begin(s, "keys", 0);
	if (sess_call(s, 2, &res, &len, e))
		return -1;
	if (mp_map_find(res, len, "keys", &c, NULL) != 1 || mp_get_array(&c, &count, NULL))
		return err_setc(e, CTL_EXIT_CONN, "server response: bad \"keys\"");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *start = c.p;
		if (mp_skip(&c, 4, NULL))
			return err_setc(e, CTL_EXIT_CONN, "server response: bad \"keys\"");
		apply_key_record(s, start, (size_t)(c.p - start));
	}
	return 0;
}

uint32_t witness_cosigned_fields(const struct session *s)
{
	return profile_quorum(s->prof) > 0;
}

void witness_ask_cosigned(struct session *s)
{
	if (witness_cosigned_fields(s)) {
		mp_pack_cstr(&s->req, "cosigned");
		mp_pack_bool(&s->req, true);
	}
}

static int accept_cp(struct session *s, const char *note, size_t n, bool newest, struct checkpoint *cp,
		     struct err *e)
{
	init_keys(s);
	if (checkpoint_open(note, n, s->keys, s->nkeys, cp, e)) {
		struct err ke = { 0 };
		if (follow_keys(s, &ke) || checkpoint_open(note, n, s->keys, s->nkeys, cp, e)) {
			e->code = CTL_EXIT_VERIFY;
			return err_prefix(e, "the server's checkpoint does not verify with the trusted key%s",
					  ke.msg[0] ? "" : " (nor with a key its key history introduced)");
		}
	}
	if (profile_quorum(s->prof) > 0 && profile_cosigned(s->prof, note, n, e)) {
		e->code = CTL_EXIT_VERIFY;
		return err_prefix(e, "refused checkpoint %llu of %s", (unsigned long long)cp->size, cp->origin);
	}
	char path[4600], lock[4700];
	if (state_file(cp->origin, ".checkpoint", path, sizeof path, true, e)) {
		fprintf(stderr, "scopectl: warning: %s\n", showz(e->msg));
		return 0;	/* nowhere to remember: the signature check stands alone */
	}
	/* one scopectl at a time reads, compares and updates the memory */
	snprintf(lock, sizeof lock, "%s.lock", path);
	int lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd >= 0)
		flock(lfd, LOCK_EX);
	struct buf old;
	struct checkpoint ocp;
	buf_init(&old);
	int have = read_file(path, NOTE_MAX_BYTES, &old, NULL) == 0 &&
		   checkpoint_open((const char *)old.data, old.len, s->known, s->nknown, &ocp, NULL) == 0 &&
		   strcmp(ocp.origin, cp->origin) == 0;
	int rc = 0;
	struct err ce = { 0 };
	if (have && ocp.size == cp->size && memcmp(ocp.root, cp->root, HASH_LEN) != 0) {
		report_fork("same tree size, different roots", path, &old, note, n);
		rc = err_setc(e, CTL_EXIT_VERIFY, "fork: two signed checkpoints for size %llu differ",
			      (unsigned long long)cp->size);
	} else if (have && ocp.size > 0 && cp->size > ocp.size) {
		if (consistency(s, ocp.size, cp->size, ocp.root, cp->root, &ce)) {
			if (ce.code == CTL_EXIT_VERIFY) {
				report_fork(ce.msg, path, &old, note, n);
				rc = err_setc(e, CTL_EXIT_VERIFY,
					      "fork: checkpoint %llu is not an extension of checkpoint %llu",
					      (unsigned long long)cp->size, (unsigned long long)ocp.size);
			} else {
				*e = ce;
				rc = -1;
			}
		}
	} else if (have && cp->size < ocp.size) {
		if (cp->size == 0 || consistency(s, cp->size, ocp.size, cp->root, ocp.root, &ce)) {
			if (cp->size == 0 || (ce.code == CTL_EXIT_REFUSED && strcmp(s->server_code, "not_found") == 0)) {
				/* it cannot prove the later checkpoint it signed: it no
				 * longer has those entries */
				report_rollback(path, &old, note, n, cp->size, ocp.size);
				rc = err_setc(e, CTL_EXIT_VERIFY,
					      "rollback: the log now has %llu entries but its key signed a checkpoint "
					      "for %llu", (unsigned long long)cp->size, (unsigned long long)ocp.size);
			} else if (ce.code == CTL_EXIT_VERIFY) {
				report_fork(ce.msg, path, &old, note, n);
				rc = err_setc(e, CTL_EXIT_VERIFY, "fork: an older checkpoint that does not match");
			} else {
				*e = ce;
				rc = -1;
			}
		} else if (newest) {
			/* consistent, but older than what another scopectl here has
			 * seen since this one asked: the caller asks again */
			rc = err_setc(e, CTL_EXIT_VERIFY,
				      "the server showed checkpoint %llu, older than the remembered %llu: an answer "
				      "computed there may hide the entries after it", (unsigned long long)cp->size,
				      (unsigned long long)ocp.size);
			rc = 2;
		} else {
			fprintf(stderr, "scopectl: note: the server showed checkpoint %llu, older than the "
				"remembered %llu (consistent)\n", (unsigned long long)cp->size,
				(unsigned long long)ocp.size);
		}
	}
	if (rc == 0 && (!have || cp->size > ocp.size)) {
		struct err we = { 0 };
		if (write_file_atomic(path, note, n, 0600, &we))
			fprintf(stderr, "scopectl: warning: cannot remember the checkpoint: %s\n", we.msg);
	}
	if (lfd >= 0)
		close(lfd);	/* releases the lock */
	buf_free(&old);
	return rc;
}

int witness_accept(struct session *s, const char *note, size_t n, struct checkpoint *cp,
		   struct err *e)
{
	return accept_cp(s, note, n, false, cp, e);
}

static int latest(struct session *s, bool newest, struct checkpoint *cp, struct buf *note, struct err *e)
{
	const uint8_t *res;
	size_t len, sn;
	const char *str;
	int rc = 2;
	/* An older checkpoint than the remembered one may be an answer that
	 * crossed another scopectl's newer one on this machine: asked again, an
	 * honest server has caught up; a server that keeps showing the older
	 * one is hiding what came after it. */
	for (int i = 0; rc == 2 && i < 3; i++) {
		sess_begin(s, "checkpoint", witness_cosigned_fields(s));
		witness_ask_cosigned(s);
		if (sess_call(s, 2, &res, &len, e) || res_str(res, len, "checkpoint", &str, &sn, e))
			return -1;
		buf_reset(note);
		buf_add(note, str, sn);
		rc = accept_cp(s, (const char *)note->data, note->len, newest, cp, e);
	}
	return rc == 2 ? -1 : rc;
}

int witness_latest(struct session *s, struct checkpoint *cp, struct buf *note, struct err *e)
{
	return latest(s, false, cp, note, e);
}

int witness_newest(struct session *s, struct checkpoint *cp, struct buf *note, struct err *e)
{
	return latest(s, true, cp, note, e);
}

int witness_prefix(struct session *s, uint64_t size, const uint8_t root[HASH_LEN],
		   const struct checkpoint *cp, struct err *e)
{
	if (size == cp->size) {
		if (memcmp(root, cp->root, HASH_LEN) != 0)
			return err_setc(e, CTL_EXIT_VERIFY, "root for size %llu differs from the signed one",
					(unsigned long long)size);
		return 0;
	}
	if (size > cp->size)
		return err_setc(e, CTL_EXIT_VERIFY, "tree size %llu is beyond the signed checkpoint (%llu)",
				(unsigned long long)size, (unsigned long long)cp->size);
	if (consistency(s, size, cp->size, root, cp->root, e))
		return err_prefix(e, "tree of size %llu is not a prefix of the signed checkpoint",
				  (unsigned long long)size);
	return 0;
}
