#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "enc.h"
#include "entry.h"
#include "filestore.h"
#include "logger.h"
#include "mp.h"
#include "server.h"
#include "stats.h"

struct upload {
	struct upload *next;
	struct conn *conn;
	uint64_t id;
	char project[ENTRY_PROJECT_MAX + 1];
	uint8_t sha[32];
	uint64_t size, got;
	uint64_t last_us;	/* last chunk (or the begin) */
	int fd;
	EVP_MD_CTX *md;		/* the bytes received, hashed as they arrive */
	char tmp[FILESTORE_PATH_MAX];
};

uint64_t files_chunk(const struct server *s)
{
	uint64_t half = s->cfg.max_frame / 2;
	return half < FILES_CHUNK_MAX ? half : FILES_CHUNK_MAX;
}

static void upload_drop(struct server *s, struct upload *u, const char *why)
{
	for (struct upload **pp = &s->uploads; *pp; pp = &(*pp)->next) {
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	}
	s->nuploads--;
	if (u->fd >= 0)
		close(u->fd);
	EVP_MD_CTX_free(u->md);
	if (u->tmp[0])
		unlink(u->tmp);
	if (why)
		log_msg(LOG_INFO, "upload %llu into %s dropped: %s", (unsigned long long)u->id, u->project, why);
	free(u);
}

/* Drops the uploads idle longer than idle_timeout_s. */
static void expire(struct server *s)
{
	uint64_t now = stats_now_us(), idle = s->cfg.idle_timeout_s * 1000000u;
	for (struct upload *u = s->uploads, *next; u; u = next) {
		next = u->next;
		if (now - u->last_us > idle)
			upload_drop(s, u, "idle");
	}
}

static struct upload *find(struct server *s, struct conn *c, uint64_t id, struct err *e)
{
	for (struct upload *u = s->uploads; u; u = u->next)
		if (u->id == id && u->conn == c)
			return u;
	err_set(e, "no upload %llu on this connection (it ended, failed, or was idle longer than %llu s: "
		"start again with upload_begin)", (unsigned long long)id, (unsigned long long)s->cfg.idle_timeout_s);
	return NULL;
}

int files_begin(struct server *s, struct conn *c, const char *p, size_t plen, uint64_t size,
		const uint8_t sha[32], uint64_t *id, bool *held, struct err *e)
{
	uint64_t max = s->cfg.max_evidence_mib << 20;
	*held = false;
	expire(s);
	if (size > max)
		return err_set(e, "the file is %llu bytes; this ledger takes evidence files up to %llu MiB "
			       "(max_evidence_mib)", (unsigned long long)size,
			       (unsigned long long)s->cfg.max_evidence_mib), FILES_INVALID;
	if (filestore_holds(s->cfg.data_dir, p, plen, sha)) {
		*held = true;
		return 0;
	}
	unsigned mine = 0;
	for (struct upload *u = s->uploads; u; u = u->next)
		mine += u->conn == c;
	if (mine >= FILES_UPLOADS_PER_CONN)
		return err_set(e, "%d uploads are under way on this connection already; end one first",
			       FILES_UPLOADS_PER_CONN), FILES_UNAVAILABLE;
	if (s->nuploads >= FILES_UPLOADS_MAX)
		return err_set(e, "%d uploads are under way on this ledger; try again shortly", FILES_UPLOADS_MAX),
		       FILES_UNAVAILABLE;
	struct upload *u = calloc(1, sizeof *u);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (u == NULL || md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		free(u);
		EVP_MD_CTX_free(md);
		return err_set(e, "out of memory"), FILES_UNAVAILABLE;
	}
	if (filestore_open_tmp(s->cfg.data_dir, sha, u->tmp, sizeof u->tmp, &u->fd, e)) {
		log_msg(LOG_ERROR, "upload into %.*s: %s", (int)plen, p, e->msg);
		free(u);
		EVP_MD_CTX_free(md);
		return FILES_FULL;
	}
	u->md = md;
	u->conn = c;
	u->id = ++s->next_upload_id;
	memcpy(u->project, p, plen);
	memcpy(u->sha, sha, 32);
	u->size = size;
	u->last_us = stats_now_us();
	u->next = s->uploads;
	s->uploads = u;
	s->nuploads++;
	*id = u->id;
	return 0;
}

int files_chunk_add(struct server *s, struct conn *c, uint64_t id, uint64_t off, const uint8_t *data, size_t n,
		    struct err *e)
{
	struct upload *u = find(s, c, id, e);
	if (u == NULL)
		return FILES_NOT_FOUND;
	if (off != u->got)
		return err_set(e, "chunk at offset %llu; upload %llu has %llu bytes so far and takes the next "
			       "chunk at that offset", (unsigned long long)off, (unsigned long long)id,
			       (unsigned long long)u->got), FILES_BAD_REQUEST;
	if (n == 0 || n > files_chunk(s) || n > u->size - u->got)
		return err_set(e, "a chunk is 1 to %llu bytes and ends at the announced size (%llu)",
			       (unsigned long long)files_chunk(s), (unsigned long long)u->size), FILES_BAD_REQUEST;
	/* the test build's full disk: the bytes up to files_fail_at are written, then ENOSPC */
	bool full = s->files_fail_at && u->got + n > s->files_fail_at;
	size_t now = full ? (size_t)(u->got < s->files_fail_at ? s->files_fail_at - u->got : 0) : n;
	int err = filestore_write(u->fd, data, now);
	if (err == 0 && full)
		err = ENOSPC;
	if (err) {
		log_msg(LOG_ERROR, "upload %llu into %s: %s", (unsigned long long)id, u->project, strerror(err));
		upload_drop(s, u, strerror(err));
		return err_set(e, "storing the file: %s; the upload is dropped", strerror(err)),
		       err == ENOSPC || err == EDQUOT ? FILES_FULL : FILES_UNAVAILABLE;
	}
	EVP_DigestUpdate(u->md, data, n);
	u->got += n;
	u->last_us = stats_now_us();
	return 0;
}

int files_end(struct server *s, struct conn *c, uint64_t id, bool *dup, struct err *e)
{
	struct upload *u = find(s, c, id, e);
	if (u == NULL)
		return FILES_NOT_FOUND;
	uint8_t got[32];
	unsigned int gl = 32;
	bool mismatch;
	EVP_DigestFinal_ex(u->md, got, &gl);
	int fd = u->fd;
	u->fd = -1;	/* filestore_commit closes it and removes the temporary file */
	int rc = filestore_commit(s->cfg.data_dir, u->project, strlen(u->project), u->sha, u->size, got, u->got, u->tmp,
				  fd, dup, &mismatch, e);
	u->tmp[0] = '\0';
	if (rc == 0) {
		char hex[65];
		for (int i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", u->sha[i]);
		log_msg(LOG_INFO, "stored %llu bytes into %s: sha256 %s%s", (unsigned long long)u->size, u->project,
			hex, *dup ? " (held already)" : "");
	}
	upload_drop(s, u, rc ? e->msg : NULL);
	return rc == 0 ? 0 : mismatch ? FILES_INVALID : FILES_FULL;
}

int files_read(struct server *s, const char *p, size_t plen, const uint8_t sha[32], uint64_t off, uint8_t *out,
	       size_t n, size_t *got, uint64_t *size, struct err *e)
{
	char path[FILESTORE_PATH_MAX];
	if (!filestore_holds(s->cfg.data_dir, p, plen, sha))
		return err_set(e, "project %.*s holds no file with that SHA-256 (upload it: scopectl evidence add)",
			       (int)plen, p), FILES_NOT_FOUND;
	if (filestore_path(s->cfg.data_dir, sha, path, sizeof path, e))
		return FILES_UNAVAILABLE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	ssize_t r = end < 0 || (uint64_t)end <= off ? 0 : pread(fd, out, n, (off_t)off);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (end < 0 || r < 0)
		return err_set(e, "reading the stored file: %s", strerror(err)), FILES_UNAVAILABLE;
	*got = (size_t)r;
	*size = (uint64_t)end;
	return 0;
}

void files_conn_gone(struct server *s, struct conn *c)
{
	for (struct upload *u = s->uploads, *next; u; u = next) {
		next = u->next;
		if (u->conn == c)
			upload_drop(s, u, "its connection closed");
	}
}

void files_shutdown(struct server *s)
{
	while (s->uploads)
		upload_drop(s, s->uploads, "shutting down");
}

/* true when the map [p, p+n) has key: true */
static bool flag(const uint8_t *p, size_t n, const char *key)
{
	struct mp_cur c;
	struct mp_item it;
	return mp_map_find(p, n, key, &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0 && it.type == MP_BOOL && it.b;
}

/* The hash at key of map [p, p+n), held by the project unless mark says
 * it is held elsewhere. */
static int held_or_marked(const struct server *s, const char *proj, size_t plen, const uint8_t *p, size_t n,
			  const char *key, const char *mark, const char *what, struct err *e)
{
	struct mp_cur c;
	const char *hex;
	size_t hn;
	uint8_t sha[32];
	if (mp_map_find(p, n, key, &c, NULL) != 1 || mp_get_str(&c, &hex, &hn, NULL) ||
	    hex_decode(hex, hn, sha, 32) || flag(p, n, mark))
		return 0;	/* absent, or the schema has refused it */
	if (filestore_holds(s->cfg.data_dir, proj, plen, sha))
		return 0;
	return err_set(e, "%s: this ledger holds no file with sha256 %.64s in project %.*s; upload it "
		       "(scopectl evidence add, or --upload), or say it is held elsewhere (%s: true)",
		       what, hex, (int)plen, proj, mark);
}

int files_cited(const struct server *s, const char *p, size_t plen, const char *kind, size_t kind_len,
		const uint8_t *body, size_t n, struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	if (kind_len == 10 && memcmp(kind, "correction", 10) == 0) {
		/* what a correction sets is cited as the corrected entry cites it */
		const uint8_t *set;
		if (mp_map_find(body, n, "set", &c, NULL) != 1)
			return 0;
		set = c.p;
		if (mp_skip(&c, ENTRY_BODY_DEPTH, e))
			return -1;
		return files_cited(s, p, plen, "set", 3, set, (size_t)(c.p - set), e) ? err_prefix(e, "set") : 0;
	}
	if (kind_len == 8 && memcmp(kind, "evidence", 8) == 0 &&
	    held_or_marked(s, p, plen, body, n, "sha256", "held_elsewhere", "sha256", e))
		return -1;
	if (held_or_marked(s, p, plen, body, n, "evidence_sha256", "evidence_held_elsewhere", "evidence_sha256", e))
		return -1;
	if (mp_map_find(body, n, "documents", &c, NULL) != 1 || mp_get_array(&c, &count, NULL))
		return 0;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *doc = c.p;
		char what[32];
		if (mp_skip(&c, ENTRY_BODY_DEPTH, e))
			return -1;
		snprintf(what, sizeof what, "documents[%u]", i);
		if (held_or_marked(s, p, plen, doc, (size_t)(c.p - doc), "sha256", "held_elsewhere", what, e))
			return -1;
	}
	return 0;
}
