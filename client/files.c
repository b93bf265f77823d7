#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "mp.h"
#include "offline.h"
#include "result.h"

#define GET_CHUNK (256u << 10)	/* bytes asked for per file_get; the server may cap it lower */

int files_hash(const char *path, uint8_t sha[32], uint64_t *size, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setc(e, CTL_EXIT_USAGE, "%s: %s", path, strerror(errno));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	uint8_t chunk[65536];
	ssize_t n;
	*size = 0;
	while ((n = read(fd, chunk, sizeof chunk)) > 0) {
		EVP_DigestUpdate(md, chunk, (size_t)n);
		*size += (uint64_t)n;
	}
	int err = errno;
	close(fd);
	unsigned int hl = 32;
	EVP_DigestFinal_ex(md, sha, &hl);
	EVP_MD_CTX_free(md);
	return n < 0 ? err_setc(e, CTL_EXIT_USAGE, "%s: %s", path, strerror(err)) : 0;
}

static int send_chunks(struct session *s, int fd, uint64_t id, uint64_t chunk, uint64_t size, const char *path,
		       struct err *e)
{
	uint8_t *p = malloc(chunk);
	if (p == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	uint64_t off = 0;
	int rc = 0;
	while (rc == 0 && off < size) {
		size_t want = size - off < chunk ? (size_t)(size - off) : (size_t)chunk;
		ssize_t n = pread(fd, p, want, (off_t)off);
		const uint8_t *res;
		size_t len;
		if (n <= 0) {
			rc = err_setc(e, CTL_EXIT_USAGE, "%s: %s", path, n < 0 ? strerror(errno) : "shorter than it was");
			break;
		}
		sess_begin(s, "upload_chunk", 3);
		mp_pack_cstr(&s->req, "upload");
		mp_pack_uint(&s->req, id);
		mp_pack_cstr(&s->req, "offset");
		mp_pack_uint(&s->req, off);
		mp_pack_cstr(&s->req, "data");
		mp_pack_bin(&s->req, p, (size_t)n);
		rc = sess_call(s, 0, &res, &len, e);
		off += (uint64_t)n;
	}
	free(p);
	return rc;
}

int files_upload(struct session *s, const char *project, const char *path, uint8_t sha[32], uint64_t *size,
		 bool *held, struct err *e)
{
	const uint8_t *res;
	size_t len;
	uint64_t id, chunk;
	if (files_hash(path, sha, size, e))
		return -1;
	sess_begin(s, "upload_begin", 3);
	mp_pack_cstr(&s->req, "project");
	mp_pack_cstr(&s->req, project);
	mp_pack_cstr(&s->req, "size");
	mp_pack_uint(&s->req, *size);
	mp_pack_cstr(&s->req, "sha256");
	mp_pack_bin(&s->req, sha, 32);
	if (sess_call(s, 0, &res, &len, e))
		return err_prefix(e, "%s", path);
	*held = !res_has(res, len, "upload");
	if (*held)
		return 0;
	if (res_u64(res, len, "upload", &id, e) || res_u64(res, len, "chunk", &chunk, e))
		return -1;
	if (chunk == 0 || chunk > NET_MAX_FRAME)
		return err_setc(e, CTL_EXIT_CONN, "the server asked for chunks of %llu bytes", (unsigned long long)chunk);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_setc(e, CTL_EXIT_USAGE, "%s: %s", path, strerror(errno));
	int rc = send_chunks(s, fd, id, chunk, *size, path, e);
	close(fd);
	if (rc)
		return err_prefix(e, "%s", path);
	sess_begin(s, "upload_end", 1);
	mp_pack_cstr(&s->req, "upload");
	mp_pack_uint(&s->req, id);
	return sess_call(s, 0, &res, &len, e) ? err_prefix(e, "%s", path) : 0;
}

/* The file's bytes into fd, hashed as they come: they must be sha. */
static int fetch(struct session *s, const char *project, const uint8_t sha[32], int fd, uint64_t *size,
		 struct err *e)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return err_setc(e, CTL_EXIT_USAGE, "cannot hash");
	}
	uint64_t off = 0;
	int rc = 0;
	*size = UINT64_MAX;
	while (rc == 0 && off < *size) {
		const uint8_t *res, *data;
		size_t len, n;
		uint64_t total;
		sess_begin(s, "file_get", 4);
		mp_pack_cstr(&s->req, "project");
		mp_pack_cstr(&s->req, project);
		mp_pack_cstr(&s->req, "sha256");
		mp_pack_bin(&s->req, sha, 32);
		mp_pack_cstr(&s->req, "offset");
		mp_pack_uint(&s->req, off);
		mp_pack_cstr(&s->req, "length");
		mp_pack_uint(&s->req, GET_CHUNK);
		if (sess_call(s, 0, &res, &len, e) || res_u64(res, len, "size", &total, e) ||
		    res_bin(res, len, "data", &data, &n, e)) {
			rc = -1;
		} else if ((*size != UINT64_MAX && total != *size) || n > GET_CHUNK || (n == 0 && off < total) ||
			   off + n > total) {
			rc = err_setc(e, CTL_EXIT_CONN, "the server sent %zu bytes at offset %llu of a %llu-byte file", n,
				      (unsigned long long)off, (unsigned long long)total);
		} else if (write(fd, data, n) != (ssize_t)n) {
			rc = err_setc(e, CTL_EXIT_USAGE, "writing the file: %s", strerror(errno));
		} else {
			EVP_DigestUpdate(md, data, n);
			off += n;
			*size = total;
		}
	}
	uint8_t got[32];
	unsigned int gl = 32;
	if (rc == 0 && (EVP_DigestFinal_ex(md, got, &gl) != 1 || memcmp(got, sha, 32) != 0))
		rc = err_setc(e, CTL_EXIT_VERIFY, "the bytes received do not hash to the SHA-256 asked for: "
						  "the stored file or the transfer is damaged; nothing written");
	EVP_MD_CTX_free(md);
	return rc;
}

int files_get(struct session *s, const char *project, const uint8_t sha[32], const char *out, uint64_t *size,
	      struct err *e)
{
	struct out_file o;
	if (out_open(&o, out, ".part", 0600, e)) {
		e->code = CTL_EXIT_USAGE;
		return -1;
	}
	if (fetch(s, project, sha, o.fd, size, e)) {
		out_abort(&o);
		return -1;
	}
	if (out_commit(&o, e)) {
		e->code = CTL_EXIT_USAGE;
		return -1;
	}
	return 0;
}
