/*
 * mp: a bounded msgpack cursor, a validator, a canonicaliser, and packing
 * helpers (which use msgpack-c's msgpack_pack_* into a struct buf).
 *
 * Decoding never allocates from a declared count: mp_next() checks every
 * declared string/binary length against the bytes actually left, and every
 * array/map count against the minimum bytes its elements need (1 per array
 * element, 2 per map pair) before returning it.  msgpack-c's unpacker, which
 * allocates from the header alone, is not used on peer input at all.
 *
 * Pointers returned in a struct mp_item point into the cursor's buffer; they
 * live as long as that buffer.
 */
#ifndef SCOPE_MP_H
#define SCOPE_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum mp_type {
	MP_NIL, MP_BOOL, MP_UINT, MP_NINT, MP_FLOAT, MP_STR, MP_BIN,
	MP_ARRAY, MP_MAP, MP_EXT
};

struct mp_item {
	enum mp_type type;
	bool shortest;		/* header is the shortest form for its value/length */
	bool b;			/* MP_BOOL */
	uint64_t u;		/* MP_UINT (any value >= 0, even if sent as intN) */
	int64_t i;		/* MP_NINT (value < 0) */
	const uint8_t *p;	/* MP_STR, MP_BIN, MP_EXT payload */
	uint32_t n;		/* payload length, or element count for ARRAY/MAP */
};

struct mp_cur {
	const uint8_t *p;
	const uint8_t *end;
};

static inline void mp_cur_init(struct mp_cur *c, const void *p, size_t n)
{
	c->p = p;
	c->end = c->p + n;
}
static inline size_t mp_left(const struct mp_cur *c) { return (size_t)(c->end - c->p); }

/* Reads one header (and the payload of str/bin/ext).  Arrays and maps only
 * yield their count; their elements follow. */
int mp_next(struct mp_cur *c, struct mp_item *it, struct err *e);
/* Skips one whole value, nested at most `depth` levels. */
int mp_skip(struct mp_cur *c, unsigned depth, struct err *e);
/* Where the msgpack value at p ends, reading only tags and lengths (to
 * split a stream of values; nothing is checked beyond that): 1 with *len its
 * size when it lies within n bytes, 0 when more bytes are needed, -1 when a
 * tag is not msgpack.  No recursion: any nesting costs no stack. */
int mp_value_len(const uint8_t *p, size_t n, size_t *len);

/* Typed reads; each fails with a message naming the expected type. */
int mp_get_map(struct mp_cur *c, uint32_t *n, struct err *e);
int mp_get_array(struct mp_cur *c, uint32_t *n, struct err *e);
int mp_get_uint(struct mp_cur *c, uint64_t *v, struct err *e);
int mp_get_str(struct mp_cur *c, const char **s, size_t *n, struct err *e);
/* The same without the UTF-8 check, for bytes mp_check() already passed. */
int mp_get_str_checked(struct mp_cur *c, const char **s, size_t *n, struct err *e);
int mp_get_bin(struct mp_cur *c, const uint8_t **p, size_t *n, struct err *e);
/* Reads a string key and checks it equals `want`. */
int mp_expect_key(struct mp_cur *c, const char *want, struct err *e);

struct mp_limits {
	unsigned max_depth;	/* nesting levels below the top value */
	size_t max_items;	/* total values, all levels */
};
extern const struct mp_limits MP_LIMITS_DEFAULT;	/* depth 32, 65536 items */

#define MP_CANONICAL	1u	/* shortest forms; map keys strings, sorted, unique */
#define MP_NO_BIN	2u	/* binary strings refused (JSON data model only) */
#define MP_BIN_TOP	4u	/* binary strings only as values of the top-level map or array */

/* Checks that [p, p+n) is exactly one msgpack value within the limits: no
 * float, no ext, strings valid UTF-8, no trailing bytes; with MP_CANONICAL
 * also canonical as defined in proto/FORMAT.md. */
int mp_check(const void *p, size_t n, const struct mp_limits *lim,
	     unsigned flags, struct err *e);
/* Re-encodes one value canonically into out (appending).  The input may be
 * any well-formed msgpack; map keys must be strings and unique. */
int mp_canonicalize(const void *p, size_t n, const struct mp_limits *lim,
		    unsigned flags, struct buf *out, struct err *e);

bool utf8_valid(const uint8_t *p, size_t n);

/* Packing (msgpack-c, shortest forms) into a struct buf. */
void mp_pack_nil(struct buf *b);
void mp_pack_bool(struct buf *b, bool v);
void mp_pack_uint(struct buf *b, uint64_t v);
void mp_pack_int(struct buf *b, int64_t v);
void mp_pack_str(struct buf *b, const void *s, size_t n);
void mp_pack_cstr(struct buf *b, const char *s);
void mp_pack_bin(struct buf *b, const void *p, size_t n);
void mp_pack_array(struct buf *b, uint32_t n);
void mp_pack_map(struct buf *b, uint32_t n);



/* Looks up string key `key` in the map value [p, p+n).  Returns 1 and sets
 * *val to a cursor over the rest of the map starting at the value, 0 if the
 * key is absent, -1 on malformed input. */
int mp_map_find(const void *p, size_t n, const char *key, struct mp_cur *val,
		struct err *e);

#endif
