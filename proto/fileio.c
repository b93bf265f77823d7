#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sha256_fd(int fd, uint8_t out[32], uint64_t *size, struct err *e)
{
	uint8_t chunk[1 << 16];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint64_t off = 0;
	int rc = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : err_set(e, "cannot hash: out of memory");
	while (rc == 0) {
		ssize_t n = pread(fd, chunk, sizeof chunk, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = err_set(e, "reading: %s", strerror(errno));
		if (n <= 0)
			break;
		EVP_DigestUpdate(md, chunk, (size_t)n);
		off += (uint64_t)n;
	}
	unsigned int len = 32;
	if (rc == 0 && EVP_DigestFinal_ex(md, out, &len) != 1)
		rc = err_set(e, "cannot hash");
	EVP_MD_CTX_free(md);
	*size = off;
	return rc;
}

int read_file(const char *path, size_t max, struct buf *out, struct err *e)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	size_t start = out->len;
	int rc = 0;
	for (;;) {
		if (!buf_reserve(out, 65536)) {
			rc = err_set(e, "%s: out of memory", path);
			break;
		}
		ssize_t got = read(fd, out->data + out->len, 65536);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = err_set(e, "%s: %s", path, strerror(errno));
			break;
		}
		if (got == 0)
			break;
		out->len += (size_t)got;
		if (out->len - start > max) {
			rc = err_set(e, "%s is larger than %zu bytes", path, max);
			break;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

int out_open(struct out_file *o, const char *path, const char *suffix, int mode, struct err *e)
{
	struct stat st;
	memset(o, 0, sizeof *o);
	o->fd = -1;
	o->path = path;
	bool exists = stat(path, &st) == 0;
	if (exists && S_ISDIR(st.st_mode))
		return err_set(e, "%s is a directory: name a file to write", path);
	o->direct = exists && !S_ISREG(st.st_mode);
	if (!o->direct && snprintf(o->tmp, sizeof o->tmp, "%s%s", path, suffix) >= (int)sizeof o->tmp)
		return err_set(e, "%s: path too long", path);
	const char *at = o->direct ? path : o->tmp;
	o->fd = open(at, O_WRONLY | O_CLOEXEC | (o->direct ? 0 : O_CREAT | O_TRUNC), mode);
	if (o->fd < 0)
		return err_set(e, "%s: %s", at, strerror(errno));
	return 0;
}

FILE *out_stream(struct out_file *o, struct err *e)
{
	if (o->f == NULL && (o->f = fdopen(o->fd, "wb")) == NULL)
		err_set(e, "%s: %s", o->direct ? o->path : o->tmp, strerror(errno));
	return o->f;
}

static int out_close(struct out_file *o)
{
	int rc = o->f ? fclose(o->f) : o->fd >= 0 ? close(o->fd) : 0;
	o->f = NULL;
	o->fd = -1;
	return rc;
}

int out_commit(struct out_file *o, struct err *e)
{
	const char *at = o->direct ? o->path : o->tmp;
	int rc = o->f && fflush(o->f) != 0 ? -1 : 0;
	/* a device or a pipe has nothing to sync */
	if (rc == 0 && !o->direct && fsync(o->fd) != 0)
		rc = -1;
	int saved = errno;
	if (out_close(o) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && !o->direct && rename(o->tmp, o->path) != 0) {
		saved = errno;
		at = o->path;
		rc = -1;
	}
	if (rc) {
		if (!o->direct)
			unlink(o->tmp);
		return err_set(e, "%s: %s", at, strerror(saved));
	}
	return 0;
}

void out_abort(struct out_file *o)
{
	out_close(o);
	if (!o->direct && o->tmp[0])
		unlink(o->tmp);
}

int write_file_atomic(const char *path, const void *p, size_t n, int mode, struct err *e)
{
	struct out_file o;
	char suffix[32];
	/* the pid keeps concurrent writers of the same file apart */
	snprintf(suffix, sizeof suffix, ".tmp.%ld", (long)getpid());
	if (out_open(&o, path, suffix, mode, e))
		return -1;
	const char *c = p;
	size_t left = n;
	while (left > 0) {
		ssize_t w = write(o.fd, c, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int saved = errno;
			out_abort(&o);
			return err_set(e, "%s: %s", o.direct ? path : o.tmp, strerror(saved));
		}
		c += w;
		left -= (size_t)w;
	}
	return out_commit(&o, e);
}

int file_copy(const char *from, const char *to, struct err *e)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_set(e, "%s: %s", from, strerror(errno));
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return err_set(e, "%s: %s", to, strerror(errno));
	}
	uint8_t chunk[1 << 16];
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, "%s: %s", from, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (write(out, chunk, (size_t)n) != n) {
			rc = err_set(e, "%s: %s", to, strerror(errno));
			break;
		}
	}
	if (rc == 0 && fsync(out) != 0)
		rc = err_set(e, "%s: %s", to, strerror(errno));
	if (close(out) != 0 && rc == 0)
		rc = err_set(e, "%s: %s", to, strerror(errno));
	close(in);
	return rc;
}
