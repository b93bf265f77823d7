/* fileio: whole-file reads with a size cap, and atomic file writes. */
#ifndef SCOPE_FILEIO_H
#define SCOPE_FILEIO_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* Reads all of path ("-" = stdin) into out; refuses more than max bytes. */
int read_file(const char *path, size_t max, struct buf *out, struct err *e);
/* Writes via path.tmp.PID + fsync + rename, with the given mode. */
int write_file_atomic(const char *path, const void *p, size_t n, int mode, struct err *e);

#endif
