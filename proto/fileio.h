/* fileio: whole-file reads with a size cap, and atomic file writes. */
#ifndef SCOPE_FILEIO_H
#define SCOPE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"

/* Reads all of path ("-" = stdin) into out; refuses more than max bytes. */
int read_file(const char *path, size_t max, struct buf *out, struct err *e);
/* SHA-256 and length of everything in fd, read from offset 0 (pread: the
 * file position is left alone). */
int sha256_fd(int fd, uint8_t out[32], uint64_t *size, struct err *e);
/* Writes via path.tmp.PID + fsync + rename, with the given mode (out_open). */
int write_file_atomic(const char *path, const void *p, size_t n, int mode, struct err *e);

/* An output file written all or nothing: out_open writes to a temporary file
 * beside path (path + suffix), out_commit syncs it and renames it over path,
 * out_abort removes it.  A path that exists and is not a regular file
 * (/dev/null, a FIFO, a terminal) is written directly: renaming over it would
 * replace the device with a file, and there is no file there to keep whole.
 * A directory is refused. */
struct out_file {
	int fd;
	FILE *f;		/* out_stream's, or NULL */
	bool direct;		/* path itself, not a temporary file */
	const char *path;	/* borrowed */
	char tmp[4200];
};
int out_open(struct out_file *o, const char *path, const char *suffix, int mode, struct err *e);
/* A stdio stream on o's descriptor (out_commit and out_abort close it). */
FILE *out_stream(struct out_file *o, struct err *e);
int out_commit(struct out_file *o, struct err *e);
void out_abort(struct out_file *o);

/* Copies from to to (created or truncated, mode 0600), fsynced. */
int file_copy(const char *from, const char *to, struct err *e);

#endif
