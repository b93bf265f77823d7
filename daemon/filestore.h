/*
 * filestore: the evidence store (proto/FORMAT.md, "Evidence store").  Files
 * are kept content-addressed under DATA/files:
 *
 *   DATA/files/ab/abcdef...          the bytes whose SHA-256 is abcdef... (0600)
 *   DATA/files/projects/P/abcdef...  empty: project P holds that file
 *
 * A file is written to a temporary name in its own directory, checked
 * against the announced SHA-256 and size, fsynced, then renamed, and the
 * directory fsynced; the same content twice is stored once.  The bytes are
 * never in LMDB and never held whole in memory.  No event loop here: the
 * daemon's uploads (net/files.c) and scoped verify, backup and restore
 * (admin.c) share it.
 */
#ifndef SCOPE_FILESTORE_H
#define SCOPE_FILESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define FILESTORE_PATH_MAX 4096

/* DATA/files/ab/<hex> into out. */
int filestore_path(const char *data_dir, const uint8_t sha[32], char *out, size_t n, struct err *e);
/* Project p holds the file: its marker and its bytes exist. */
bool filestore_holds(const char *data_dir, const char *p, size_t plen, const uint8_t sha[32]);
/* Creates a temporary file beside where sha's bytes will go (name into
 * tmp); *fd open for writing. */
int filestore_open_tmp(const char *data_dir, const uint8_t sha[32], char *tmp, size_t n, int *fd,
		       struct err *e);
/* Moves the finished temporary file in: the bytes written, hashed as they
 * were (got, n), must be sha and size; then fsync, rename (or drop it when
 * the bytes are held already: *dup), directory fsync, and project p's
 * marker.  Closes fd; the temporary file is gone afterwards whatever the
 * outcome.  -1 with *mismatch when the bytes are not the announced ones. */
int filestore_commit(const char *data_dir, const char *p, size_t plen, const uint8_t sha[32], uint64_t size,
		     const uint8_t got[32], uint64_t n, const char *tmp, int fd, bool *dup, bool *mismatch,
		     struct err *e);
/* Writes all of [p, p+n) to fd: 0, or the errno (ENOSPC for a write of
 * nothing). */
int filestore_write(int fd, const uint8_t *p, size_t n);
/* Stores the n bytes at p, whose SHA-256 is sha, for project p (a small
 * file made by the daemon itself, e.g. a page the portal showed): as an
 * upload is, through a temporary file; nothing when already held. */
int filestore_put(const char *data_dir, const char *project, size_t plen, const uint8_t *p, size_t n,
		  const uint8_t sha[32], struct err *e);
/* Rehashes every stored file and checks every project's marker has its
 * bytes; calls bad() for each problem (a sentence naming the file).
 * Returns the number of files checked, or -1 when the store cannot be
 * read (e). */
long filestore_verify(const char *data_dir, void (*bad)(void *ctx, const char *what), void *ctx,
		      struct err *e);
/* Copies from's files tree (as above) into to, fsyncing each file; a
 * missing from is an empty store.  *n: files copied. */
int filestore_copy(const char *from, const char *to, uint64_t *n, struct err *e);
/* A held file as listed: "PROJECT/HEX". */
#define FILESTORE_NAME_MAX (128 + 1 + 64 + 1)
/* The files the projects hold, in byte order of "PROJECT/HEX", the first
 * at most max of them after `after` ("" for the start) into out; *more
 * when there are others after those. */
int filestore_list(const char *data_dir, const char *after, size_t max, char (*out)[FILESTORE_NAME_MAX], size_t *n,
		   bool *more, struct err *e);
/* Removes a files tree copied by filestore_copy (a restore that failed). */
void filestore_remove(const char *dir);

#endif
