/*
 * wire: request and response messages (proto/PROTOCOL.md), no I/O.
 *
 * A request is a msgpack map {"id": uint, "op": str, ...parameters}; a
 * response is {"id": uint, "ok": true, "result": map} or
 * {"id": uint, "ok": false, "error": {"code": str, "message": str}}.
 * Parsing checks the whole frame with mp_check() first (bounded counts,
 * depth, UTF-8, no floats), then reads only known fields with their types.
 */
#ifndef SCOPE_WIRE_H
#define SCOPE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/* error codes (the "code" string of an error response) */
#define WERR_BAD_FRAME		"bad_frame"
#define WERR_FRAME_TOO_LARGE	"frame_too_large"
#define WERR_BAD_REQUEST	"bad_request"
#define WERR_UNKNOWN_OP		"unknown_op"
#define WERR_FORBIDDEN		"forbidden"
#define WERR_NOT_FOUND		"not_found"
#define WERR_INVALID		"invalid"
#define WERR_CONFLICT		"conflict"
#define WERR_STORAGE_FULL	"storage_full"
#define WERR_UNAVAILABLE	"unavailable"
#define WERR_CHANGED		"changed"
#define WERR_INTERNAL		"internal"

#define WIRE_MAX_LIMIT 1000	/* entries per "entries" response */

/* A parsed request.  Strings and the body point into the frame. */
struct wire_req {
	uint64_t id;
	char op[24];
	bool has_seq, has_size, has_from, has_to, has_limit, has_old, has_new, has_offset, has_length;
	uint64_t seq, size, from, to, limit, old_size, new_size, offset, length;
	const char *kind, *project, *request_id, *name;
	size_t kind_len, project_len, request_id_len, name_len;
	const char *as_of;	/* report receivables: the day counted to, YYYY-MM-DD */
	size_t as_of_len;
	const uint8_t *cursor;	/* status and report paging (bin) */
	size_t cursor_len;
	const uint8_t *sha256, *data;	/* evidence files: the file's SHA-256, a chunk (bin) */
	size_t sha256_len, data_len;
	bool has_upload;
	uint64_t upload;		/* the id upload_begin gave */
	bool cosigned;			/* checkpoint, prove, consistency: the witnessed checkpoint */
	const uint8_t *body;	/* msgpack value as sent (not yet canonical) */
	size_t body_len;
};

/* Parses one frame payload.  Returns 0, -1 for a well-formed message that is
 * not a valid request (bad_request), or -2 when the payload is not a
 * msgpack map at all (bad_frame).  On failure *id_out holds the request id
 * when it could be read (else 0) and e->msg says what is wrong. */
int wire_parse_request(const uint8_t *p, size_t n, struct wire_req *r, uint64_t *id_out,
		       struct err *e);

/* Building frames: wire_begin() reserves the 4-byte length, the caller packs
 * one msgpack value, wire_seal() writes the length.  Returns -1 if the
 * payload is larger than max. */
size_t wire_begin(struct buf *b);
int wire_seal(struct buf *b, size_t start, uint32_t max);

/* Request: a map of 2 + nparams fields; the caller packs nparams key/value
 * pairs after this. */
void wire_request(struct buf *b, uint64_t id, const char *op, uint32_t nparams);
/* Success response: the caller packs the result map (with nfields pairs)
 * after this. */
void wire_ok(struct buf *b, uint64_t id, uint32_t nfields);
/* A whole error response frame. */
void wire_error(struct buf *b, uint64_t id, const char *code, const char *message);

/* Client side: checks a response frame and finds its result or error.
 * Returns 1 for ok (result span set), 0 for an error response (code and
 * message copied out), -1 for a malformed response. */
int wire_parse_response(const uint8_t *p, size_t n, uint64_t *id, const uint8_t **result,
			size_t *result_len, char *code, size_t codelen, char *msg, size_t msglen,
			struct err *e);

#endif
