#define _GNU_SOURCE	/* mkostemp */
#include "filestore.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enc.h"
#include "fileio.h"

static int path_fmt(char *out, size_t n, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int path_fmt(char *out, size_t n, struct err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return w < 0 || (size_t)w >= n ? err_set(e, "evidence store path too long") : 0;
}

static int mkdir_ok(const char *path, struct err *e)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return err_set(e, "creating %s: %s", path, strerror(errno));
	return 0;
}

static int fsync_dir(const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		int errno_ = errno;
		if (fd >= 0)
			close(fd);
		return err_set(e, "syncing %s: %s", path, strerror(errno_));
	}
	close(fd);
	return 0;
}

int filestore_path(const char *data_dir, const uint8_t sha[32], char *out, size_t n, struct err *e)
{
	char hex[65];
	hex_encode(sha, 32, hex);
	return path_fmt(out, n, e, "%s/files/%.2s/%s", data_dir, hex, hex);
}

static int marker_path(const char *data_dir, const char *p, size_t plen, const uint8_t sha[32], char *out,
		       size_t n, struct err *e)
{
	char hex[65];
	hex_encode(sha, 32, hex);
	return path_fmt(out, n, e, "%s/files/projects/%.*s/%s", data_dir, (int)plen, p, hex);
}

bool filestore_holds(const char *data_dir, const char *p, size_t plen, const uint8_t sha[32])
{
	char path[FILESTORE_PATH_MAX];
	struct stat st;
	struct err e = { 0 };
	return marker_path(data_dir, p, plen, sha, path, sizeof path, &e) == 0 && stat(path, &st) == 0 &&
	       filestore_path(data_dir, sha, path, sizeof path, &e) == 0 && stat(path, &st) == 0;
}

int filestore_open_tmp(const char *data_dir, const uint8_t sha[32], char *tmp, size_t n, int *fd,
		       struct err *e)
{
	char hex[65];
	hex_encode(sha, 32, hex);
	if (path_fmt(tmp, n, e, "%s/files", data_dir) || mkdir_ok(tmp, e) ||
	    path_fmt(tmp, n, e, "%s/files/%.2s", data_dir, hex) || mkdir_ok(tmp, e) ||
	    path_fmt(tmp, n, e, "%s/files/%.2s/.upload-XXXXXX", data_dir, hex))
		return -1;
	*fd = mkostemp(tmp, O_CLOEXEC);
	if (*fd < 0)
		return err_set(e, "creating a file in %s/files: %s", data_dir, strerror(errno));
	return 0;
}

static int add_marker(const char *data_dir, const char *p, size_t plen, const uint8_t sha[32], struct err *e)
{
	char dir[FILESTORE_PATH_MAX], path[FILESTORE_PATH_MAX];
	if (path_fmt(dir, sizeof dir, e, "%s/files/projects", data_dir) || mkdir_ok(dir, e) ||
	    path_fmt(dir, sizeof dir, e, "%s/files/projects/%.*s", data_dir, (int)plen, p) || mkdir_ok(dir, e) ||
	    marker_path(data_dir, p, plen, sha, path, sizeof path, e))
		return -1;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, "%s: %s", path, strerror(errno));
	int rc = fsync(fd) != 0 ? err_set(e, "%s: %s", path, strerror(errno)) : 0;
	close(fd);
	return rc ? rc : fsync_dir(dir, e);
}

int filestore_commit(const char *data_dir, const char *p, size_t plen, const uint8_t sha[32], uint64_t size,
		     const uint8_t got[32], uint64_t n, const char *tmp, int fd, bool *dup, bool *mismatch,
		     struct err *e)
{
	char path[FILESTORE_PATH_MAX], dir[FILESTORE_PATH_MAX];
	struct stat st;
	*dup = false;
	*mismatch = n != size || memcmp(got, sha, 32) != 0;
	int rc = 0;
	if (n != size)
		rc = err_set(e, "received %llu bytes, announced %llu", (unsigned long long)n, (unsigned long long)size);
	else if (*mismatch)
		rc = err_set(e, "the bytes received do not have the announced SHA-256");
	else if (fsync(fd) != 0)
		rc = err_set(e, "writing the file: %s", strerror(errno));
	close(fd);
	if (rc == 0)
		rc = filestore_path(data_dir, sha, path, sizeof path, e);
	if (rc == 0 && stat(path, &st) == 0)
		*dup = true;
	else if (rc == 0 && rename(tmp, path) != 0)
		rc = err_set(e, "storing %s: %s", path, strerror(errno));
	if (rc || *dup)
		unlink(tmp);
	if (rc == 0 && !*dup) {
		snprintf(dir, sizeof dir, "%s", path);
		*strrchr(dir, '/') = '\0';
		rc = fsync_dir(dir, e);
	}
	return rc ? rc : add_marker(data_dir, p, plen, sha, e);
}

int filestore_write(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : ENOSPC;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int filestore_put(const char *data_dir, const char *project, size_t plen, const uint8_t *p, size_t n,
		  const uint8_t sha[32], struct err *e)
{
	char tmp[FILESTORE_PATH_MAX];
	int fd, w;
	bool dup, mismatch;
	if (filestore_holds(data_dir, project, plen, sha))
		return 0;
	if (filestore_open_tmp(data_dir, sha, tmp, sizeof tmp, &fd, e))
		return -1;
	if ((w = filestore_write(fd, p, n)) != 0) {
		close(fd);
		unlink(tmp);
		return err_set(e, "writing %s: %s", tmp, strerror(w));
	}
	return filestore_commit(data_dir, project, plen, sha, n, sha, n, tmp, fd, &dup, &mismatch, e);
}

static bool is_hex_name(const char *s)
{
	size_t n = strlen(s);
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

struct walk {
	const char *data_dir;
	void (*bad)(void *ctx, const char *what);
	void *ctx;
	long checked;
};

static void report(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct walk *w, const char *fmt, ...)
{
	char msg[FILESTORE_PATH_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	w->bad(w->ctx, msg);
}

/* One content directory (files/ab): every file rehashes to its name. */
static int verify_bytes(struct walk *w, const char *dir, struct err *e)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return err_set(e, "%s: %s", dir, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char path[FILESTORE_PATH_MAX], hex[65];
		uint8_t sha[32];
		uint64_t n;
		if (de->d_name[0] == '.')
			continue;
		if (!is_hex_name(de->d_name) || path_fmt(path, sizeof path, e, "%s/%s", dir, de->d_name)) {
			report(w, "%s/%s: not a stored file (names are SHA-256 in hex)", dir, de->d_name);
			continue;
		}
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		struct err fe = { 0 };
		w->checked++;
		if (fd < 0 || sha256_fd(fd, sha, &n, &fe)) {
			report(w, "%s: unreadable: %s", path, fd < 0 ? strerror(errno) : fe.msg);
		} else {
			hex_encode(sha, 32, hex);
			if (strcmp(hex, de->d_name) != 0)
				report(w, "%s: ALTERED: its bytes now hash to %s", path, hex);
		}
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	return 0;
}

/* One project's markers: each has its bytes. */
static int verify_markers(struct walk *w, const char *dir, const char *project, struct err *e)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return err_set(e, "%s: %s", dir, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char path[FILESTORE_PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;
		if (is_hex_name(de->d_name) &&
		    path_fmt(path, sizeof path, e, "%s/files/%.2s/%s", w->data_dir, de->d_name, de->d_name) == 0 &&
		    stat(path, &st) != 0)
			report(w, "%s: MISSING: project %s holds file %s but its bytes are gone", path, project,
			       de->d_name);
	}
	closedir(d);
	return 0;
}

long filestore_verify(const char *data_dir, void (*bad)(void *ctx, const char *what), void *ctx,
		      struct err *e)
{
	char top[FILESTORE_PATH_MAX];
	struct walk w = { data_dir, bad, ctx, 0 };
	if (path_fmt(top, sizeof top, e, "%s/files", data_dir))
		return -1;
	DIR *d = opendir(top);
	if (d == NULL)
		return errno == ENOENT ? 0 : err_set(e, "%s: %s", top, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char sub[FILESTORE_PATH_MAX];
		if (de->d_name[0] == '.' || path_fmt(sub, sizeof sub, e, "%s/%s", top, de->d_name))
			continue;
		if (strcmp(de->d_name, "projects") != 0) {
			rc = verify_bytes(&w, sub, e);
			continue;
		}
		DIR *pd = opendir(sub);
		if (pd == NULL) {
			rc = err_set(e, "%s: %s", sub, strerror(errno));
			break;
		}
		struct dirent *pe;
		while (rc == 0 && (pe = readdir(pd)) != NULL) {
			char pdir[FILESTORE_PATH_MAX];
			if (pe->d_name[0] != '.' && path_fmt(pdir, sizeof pdir, e, "%s/%s", sub, pe->d_name) == 0)
				rc = verify_markers(&w, pdir, pe->d_name, e);
		}
		closedir(pd);
	}
	closedir(d);
	return rc ? -1 : w.checked;
}

/* depth 0: files/, 1: files/ab or files/projects, 2: files/projects/P */
static int copy_tree(const char *from, const char *to, int depth, uint64_t *n, struct err *e)
{
	DIR *d = opendir(from);
	if (d == NULL)
		return depth == 0 && errno == ENOENT ? 0 : err_set(e, "%s: %s", from, strerror(errno));
	int rc = mkdir_ok(to, e);
	struct dirent *de;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char a[FILESTORE_PATH_MAX], b[FILESTORE_PATH_MAX];
		struct stat st;
		if (de->d_name[0] == '.')
			continue;	/* ., .. and uploads under way */
		if (path_fmt(a, sizeof a, e, "%s/%s", from, de->d_name) || path_fmt(b, sizeof b, e, "%s/%s", to, de->d_name) ||
		    stat(a, &st) != 0) {
			rc = e->msg[0] ? -1 : err_set(e, "%s: %s", a, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			rc = depth < 2 ? copy_tree(a, b, depth + 1, n, e) : 0;
		} else if ((rc = file_copy(a, b, e)) == 0 && is_hex_name(de->d_name) && depth == 1 &&
			   strcmp(strrchr(from, '/') + 1, "projects") != 0) {
			(*n)++;
		}
	}
	closedir(d);
	return rc ? rc : fsync_dir(to, e);
}

int filestore_copy(const char *from, const char *to, uint64_t *n, struct err *e)
{
	*n = 0;
	return copy_tree(from, to, 0, n, e);
}

/* name into the sorted out[0..*n) of at most max, after `after` */
static void keep(const char *name, const char *after, size_t max, char (*out)[FILESTORE_NAME_MAX], size_t *n,
		 bool *more)
{
	if (strcmp(name, after) <= 0)
		return;
	size_t i = *n;
	while (i > 0 && strcmp(out[i - 1], name) > 0)
		i--;
	if (i == max) {
		*more = true;
		return;
	}
	if (*n == max)
		*more = true;
	else
		(*n)++;
	memmove(out[i + 1], out[i], (*n - 1 - i) * sizeof out[0]);
	snprintf(out[i], sizeof out[i], "%s", name);
}

int filestore_list(const char *data_dir, const char *after, size_t max, char (*out)[FILESTORE_NAME_MAX], size_t *n,
		   bool *more, struct err *e)
{
	char top[FILESTORE_PATH_MAX];
	*n = 0;
	*more = false;
	if (path_fmt(top, sizeof top, e, "%s/files/projects", data_dir))
		return -1;
	DIR *d = opendir(top);
	if (d == NULL)
		return errno == ENOENT ? 0 : err_set(e, "%s: %s", top, strerror(errno));
	struct dirent *pe;
	int rc = 0;
	while (rc == 0 && (pe = readdir(d)) != NULL) {
		char pdir[FILESTORE_PATH_MAX];
		if (pe->d_name[0] == '.' || strlen(pe->d_name) > 128 ||
		    path_fmt(pdir, sizeof pdir, e, "%s/%s", top, pe->d_name))
			continue;
		DIR *m = opendir(pdir);
		if (m == NULL) {
			rc = err_set(e, "%s: %s", pdir, strerror(errno));
			break;
		}
		struct dirent *me;
		while ((me = readdir(m)) != NULL) {
			char name[FILESTORE_NAME_MAX];
			if (!is_hex_name(me->d_name))
				continue;
			/* at most 128 + 1 + 64 + 1 bytes, checked above; said again for gcc */
			if (snprintf(name, sizeof name, "%s/%s", pe->d_name, me->d_name) >= (int)sizeof name)
				continue;
			keep(name, after, max, out, n, more);
		}
		closedir(m);
	}
	closedir(d);
	return rc;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

void filestore_remove(const char *dir)
{
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}
