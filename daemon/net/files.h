/*
 * files: evidence uploads and downloads (PROTOCOL.md, upload_begin,
 * upload_chunk, upload_end and file_get) over the evidence store
 * (filestore.h).  An upload is data: its connection, project, announced
 * SHA-256 and size, the bytes received so far and the temporary file they
 * go to, in order, hashed as they arrive; upload_end checks the hash and
 * moves the file in.  At most
 * FILES_UPLOADS_PER_CONN per connection and FILES_UPLOADS_MAX in all are
 * under way (bounded disk: each at most max_evidence_mib); one idle longer
 * than idle_timeout_s is dropped when another needs its place or its
 * connection speaks again.  upload_drop() is the one teardown: the
 * temporary file goes with it, as it does when the connection closes.
 */
#ifndef SCOPE_FILES_H
#define SCOPE_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct server;
struct conn;

#define FILES_UPLOADS_PER_CONN 2
#define FILES_UPLOADS_MAX 8
#define FILES_CHUNK_MAX (256u << 10)	/* bytes per upload_chunk or file_get */

enum files_refusal { FILES_BAD_REQUEST = 1, FILES_UNAVAILABLE, FILES_NOT_FOUND, FILES_INVALID, FILES_FULL };

/* The chunk size for this server: at most FILES_CHUNK_MAX, well under max_frame. */
uint64_t files_chunk(const struct server *s);
/* Starts an upload of size bytes with SHA-256 sha into project p: its id in
 * *id, or *held when the project holds the file already (nothing to send).
 * Returns 0 or a files_refusal (e names what is wrong). */
int files_begin(struct server *s, struct conn *c, const char *p, size_t plen, uint64_t size,
		const uint8_t sha[32], uint64_t *id, bool *held, struct err *e);
/* Appends data at off: off must be the bytes received so far. */
int files_chunk_add(struct server *s, struct conn *c, uint64_t id, uint64_t off, const uint8_t *data, size_t n,
		    struct err *e);
/* Ends upload id: stored when its bytes are the announced ones (*dup: the
 * bytes were held already); the upload is gone either way. */
int files_end(struct server *s, struct conn *c, uint64_t id, bool *dup, struct err *e);
/* Reads up to n bytes at off of project p's file sha; its size in *size. */
int files_read(struct server *s, const char *p, size_t plen, const uint8_t sha[32], uint64_t off, uint8_t *out,
	       size_t n, size_t *got, uint64_t *size, struct err *e);
/* c has gone: its uploads are dropped. */
void files_conn_gone(struct server *s, struct conn *c);
/* At shutdown: every upload is dropped. */
void files_shutdown(struct server *s);

/* A new append's cited files (an evidence entry's sha256, each document of
 * a documents array, evidence_sha256): each is held by the project, or the
 * entry marks it held elsewhere (held_elsewhere: true beside it;
 * evidence_held_elsewhere for evidence_sha256), also in what a correction
 * sets.  Only new appends are
 * checked: entries recorded before files were stored did not say. */
int files_cited(const struct server *s, const char *p, size_t plen, const char *kind, size_t kind_len,
		const uint8_t *body, size_t n, struct err *e);

#endif
