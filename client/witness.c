#include "witness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "mp.h"
#include "offline.h"
#include "result.h"
#include "state.h"

static void report_fork(const char *why, const char *path, const struct buf *old, const char *new_note,
			size_t new_len)
{
	fprintf(stderr,
		"scopectl: FORK DETECTED: %s\n"
		"The server has shown two signed checkpoints that cannot both be true: its log was\n"
		"rewritten or it shows different histories to different clients.  Keep both as evidence.\n"
		"--- remembered (%s) ---\n%.*s"
		"--- presented now ---\n%.*s",
		why, path, (int)old->len, (const char *)old->data, (int)new_len, new_note);
}

static void report_rollback(const char *path, const struct buf *old, const char *new_note, size_t new_len,
			    uint64_t now, uint64_t was)
{
	fprintf(stderr,
		"scopectl: ROLLBACK DETECTED: the server's log has %llu entries, but its key signed a\n"
		"checkpoint for %llu, remembered here; entries %llu to %llu are gone from it.  Restoring an\n"
		"old backup does this; so does hiding entries.  Keep both checkpoints as evidence.\n"
		"--- remembered (%s) ---\n%.*s"
		"--- presented now ---\n%.*s",
		(unsigned long long)now, (unsigned long long)was, (unsigned long long)now,
		(unsigned long long)(was - 1), path, (int)old->len, (const char *)old->data, (int)new_len,
		new_note);
}

static int consistency(struct session *s, uint64_t m, uint64_t n, const uint8_t r1[HASH_LEN],
		       const uint8_t r2[HASH_LEN], struct err *e)
{
	const uint8_t *res;
	size_t len, plen;
	uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN];
	sess_begin(s, "consistency", 2);
	mp_pack_cstr(&s->req, "old");
	mp_pack_uint(&s->req, m);
	mp_pack_cstr(&s->req, "new");
	mp_pack_uint(&s->req, n);
	if (sess_call(s, 2, &res, &len, e) || res_proof(res, len, proof, &plen, e))
		return -1;
	if (merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[HASH_LEN])proof, plen, e)) {
		e->code = CTL_EXIT_VERIFY;
		return -1;
	}
	return 0;
}

int witness_accept(struct session *s, const char *note, size_t n, struct checkpoint *cp,
		   struct err *e)
{
	const struct profile *p = s->prof;
	if (checkpoint_open(note, n, p->trust, p->ntrust, cp, e)) {
		e->code = CTL_EXIT_VERIFY;
		return err_prefix(e, "the server's checkpoint does not verify with the trusted key");
	}
	char path[4600], lock[4700];
	if (state_file(cp->origin, ".checkpoint", path, sizeof path, true, e)) {
		fprintf(stderr, "scopectl: warning: %s\n", e->msg);
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
		   checkpoint_open((const char *)old.data, old.len, p->trust, p->ntrust, &ocp, NULL) == 0 &&
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

int witness_latest(struct session *s, struct checkpoint *cp, struct buf *note, struct err *e)
{
	const uint8_t *res;
	size_t len, sn;
	const char *str;
	sess_begin(s, "checkpoint", 0);
	if (sess_call(s, 2, &res, &len, e) || res_str(res, len, "checkpoint", &str, &sn, e))
		return -1;
	buf_reset(note);
	buf_add(note, str, sn);
	return witness_accept(s, (const char *)note->data, note->len, cp, e);
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
