/*
 * json: strict JSON (RFC 8259) to msgpack and back.
 *
 * Scope Ledger's data model is JSON's minus floating point: null, booleans,
 * integers (-2^63 .. 2^64-1), UTF-8 strings, arrays and objects.  Numbers
 * with a fraction or exponent are refused, because money is always integer
 * minor units.  Duplicate object keys are refused.
 */
#ifndef SCOPE_JSON_H
#define SCOPE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define JSON_MAX_DEPTH 32

/* One JSON text -> msgpack in document order (appended to out). */
int json_to_msgpack(const char *s, size_t n, struct buf *out, struct err *e);
/* One JSON text -> canonical msgpack (sorted keys, shortest forms). */
int json_to_canonical(const char *s, size_t n, struct buf *out, struct err *e);
/* One msgpack value -> compact JSON (binary strings become lowercase hex). */
int msgpack_to_json(const uint8_t *p, size_t n, struct buf *out, struct err *e);
/* Appends s as a quoted, escaped JSON string. */
void json_put_str(struct buf *out, const char *s, size_t n);
void json_put_hex(struct buf *out, const uint8_t *p, size_t n);

#endif
