/*
 * files: evidence files over the wire (PROTOCOL.md, upload_begin ...
 * file_get).  files_upload() streams a file into a project's store in
 * chunks; files_get() fetches one back by project and SHA-256 into a path,
 * through a temporary file that is renamed only when the bytes hash to
 * the SHA-256 asked for.  Neither holds a whole file in memory.  Errors
 * carry the exit code in e->code (net.h).
 */
#ifndef SCOPECTL_FILES_H
#define SCOPECTL_FILES_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "net.h"

/* SHA-256 and size of the file at path. */
int files_hash(const char *path, uint8_t sha[32], uint64_t *size, struct err *e);
/* Uploads the file at path into project's store: its SHA-256 and size out;
 * *held when the ledger held it already (nothing sent). */
int files_upload(struct session *s, const char *project, const char *path, uint8_t sha[32], uint64_t *size,
		 bool *held, struct err *e);
/* Fetches project's file sha into out (created or replaced only when the
 * bytes received hash to sha); its size in *size. */
int files_get(struct session *s, const char *project, const uint8_t sha[32], const char *out, uint64_t *size,
	      struct err *e);

#endif
