/*
 * entry: the canonical encoding of one ledger entry (proto/FORMAT.md, "Entry").
 *
 * An entry is one msgpack map with exactly these keys, in this (bytewise
 * sorted) order:  author, body, kind, prev, project, request_id, seq,
 * time_us, v.  The whole value is canonical msgpack, so one logical entry has
 * exactly one byte string, and that byte string is what is stored, hashed and
 * exported.
 *
 * struct entry does not own its strings: after entry_decode() they point into
 * the decoded bytes, for entry_encode() the caller keeps them alive.
 */
#ifndef SCOPE_ENTRY_H
#define SCOPE_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define ENTRY_VERSION		1
#define ENTRY_KIND_MAX		32
#define ENTRY_PROJECT_MAX	64
#define ENTRY_AUTHOR_MAX	256
#define ENTRY_REQID_MAX		128
#define ENTRY_BODY_MAX		(256 * 1024)
#define ENTRY_MAX_BYTES		(ENTRY_BODY_MAX + 1024)
#define ENTRY_BODY_DEPTH	16

struct entry {
	uint64_t version;
	uint64_t seq;
	uint64_t time_us;		/* commit time, microseconds since 1970 UTC */
	const char *kind;
	size_t kind_len;
	const char *project;		/* "" for ledger-level entries */
	size_t project_len;
	const char *author;
	size_t author_len;
	const char *request_id;
	size_t request_id_len;
	uint8_t prev[32];		/* leaf hash of entry seq-1; zeros for seq 0 */
	const uint8_t *body;		/* canonical msgpack map */
	size_t body_len;
};

/* Field rules shared by encoder, decoder and the daemon's request checks.
 * Each names the field and the rule it breaks. */
int entry_check_kind(const char *s, size_t n, struct err *e);
int entry_check_project(const char *s, size_t n, struct err *e);
int entry_check_author(const char *s, size_t n, struct err *e);
int entry_check_request_id(const char *s, size_t n, struct err *e);
/* The four rules above in that order: kind, project, author, request id. */
int entry_check_envelope(const char *kind, size_t kind_len, const char *project, size_t project_len,
			 const char *author, size_t author_len, const char *request_id, size_t request_id_len,
			 struct err *e);
int entry_check_body(const uint8_t *p, size_t n, struct err *e);
/* entry_check_body without the walk: the size limit and that it is a map
 * (for a body mp_canonicalize() just wrote under ENTRY_BODY_LIMITS, which
 * is canonical by construction). */
int entry_check_body_size(const uint8_t *p, size_t n, struct err *e);
/* The limits of a body's msgpack (depth, values). */
struct mp_limits;
extern const struct mp_limits ENTRY_BODY_LIMITS;

/* Appends the canonical bytes of *en to out; checks every field first. */
int entry_encode(const struct entry *en, struct buf *out, struct err *e);
/* The same for fields the caller has checked already with the rules
 * above and a version of ENTRY_VERSION (the ledger, for an append whose
 * every field was checked once): only allocation can fail. */
int entry_encode_checked(const struct entry *en, struct buf *out, struct err *e);
/* Parses and fully checks [p, p+n): canonical msgpack, exact key set,
 * field rules, supported version.  Strings in *en point into p. */
int entry_decode(const uint8_t *p, size_t n, struct entry *en, struct err *e);
/* Appends a JSON object describing the entry (FORMAT.md, "JSON view"). */
int entry_to_json(const struct entry *en, const uint8_t leaf_hash[32], struct buf *out,
		  struct err *e);
/* RFC 3339 UTC text with microseconds for a time_us value (28 bytes + NUL). */
void entry_format_time(uint64_t time_us, char out[40]);

#endif
