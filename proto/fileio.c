#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
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

int write_file_atomic(const char *path, const void *p, size_t n, int mode, struct err *e)
{
	char tmp[4200];
	/* the pid keeps concurrent writers of the same file apart */
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp)
		return err_set(e, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return err_set(e, "%s: %s", tmp, strerror(errno));
	const char *c = p;
	size_t left = n;
	while (left > 0) {
		ssize_t w = write(fd, c, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int saved = errno;
			close(fd);
			unlink(tmp);
			return err_set(e, "%s: %s", tmp, strerror(saved));
		}
		c += w;
		left -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(tmp);
		return err_set(e, "%s: %s", tmp, strerror(errno));
	}
	if (rename(tmp, path) != 0) {
		int saved = errno;
		unlink(tmp);
		return err_set(e, "%s: %s", path, strerror(saved));
	}
	return 0;
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
