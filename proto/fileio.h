/* fileio: whole-file reads with a size cap, and atomic file writes. */
#ifndef SCOPE_FILEIO_H
#define SCOPE_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* Reads all of path ("-" = stdin) into out; refuses more than max bytes. */
int read_file(const char *path, size_t max, struct buf *out, struct err *e);
/* SHA-256 and length of everything in fd, read from offset 0 (pread: the
 * file position is left alone). */
int sha256_fd(int fd, uint8_t out[32], uint64_t *size, struct err *e);
/* Writes via path.tmp.PID + fsync + rename, with the given mode. */
int write_file_atomic(const char *path, const void *p, size_t n, int mode, struct err *e);

/* Copies from to to (created or truncated, mode 0600), fsynced. */
int file_copy(const char *from, const char *to, struct err *e);

#endif
