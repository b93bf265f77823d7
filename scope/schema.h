/*
 * schema: table-driven checks of entry bodies.  A body is a canonical
 * msgpack map; a schema lists its keys with type, bounds and whether they
 * are required.  Any other key is refused.  Checking fills a struct of
 * parsed values that point into the body.
 */
#ifndef SCOPE_SCHEMA_H
#define SCOPE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

enum field_type {
	F_STR,		/* UTF-8 text, min..max bytes, no control characters except \n and \t */
	F_ID,		/* identifier: A-Z a-z 0-9 . _ -, 1..max */
	F_UINT,		/* 0..max */
	F_BOOL,
	F_ENUM,		/* one of a NULL-terminated list */
	F_SHA256,	/* 64 lowercase hex digits */
	F_DATE,		/* YYYY-MM-DD, a real calendar date */
	F_CR,		/* change request number: CR-<1..2^31> */
	F_AMD,		/* contract amendment number: AMD-<1..2^31> */
	F_CASE,		/* complaint case number: CASE-<1..2^31> */
	F_DLV,		/* delivery number: DLV-<1..2^31> */
	F_AGR,		/* agreement number: AGR-<1..2^31> */
	F_NTC,		/* notice number: NTC-<1..2^31> */
	F_LNK,		/* client link number: LNK-<1..2^31> */
	F_ARRAY,	/* array of maps checked by a sub-schema, or of F_ID/F_UINT items */
	F_MAP,		/* a map of min..max text keys to any values (the kind's rule checks them) */
};

#define AMOUNT_MAX 1000000000000000ull	/* 10^15 minor units */
#define PAYMENT_DAYS_DEFAULT 30	/* a project's payment terms when it names none */

struct schema;

/* The most fields a kind's schema has (a value slot for each). */
#define SCHEMA_FIELDS_MAX 24

struct field {
	const char *name;
	enum field_type type;
	bool required;
	bool assigned;		/* filled by the ledger; a client may not send it */
	uint64_t min, max;	/* lengths, values or array counts */
	const char *const *values;	/* F_ENUM */
	const struct schema *items;	/* F_ARRAY of maps */
	enum field_type item_type;	/* F_ARRAY of scalars (F_ID, F_UINT, F_CR) */
};

struct schema {
	const char *what;
	const struct field *fields;
	size_t n;
};

struct value {
	bool present;
	const char *s;		/* F_STR, F_ID, F_ENUM, F_SHA256, F_DATE, F_CR */
	size_t len;
	uint64_t u;		/* F_UINT, F_BOOL (0/1), F_CR (the number) */
	const uint8_t *p;	/* F_ARRAY: the array value's bytes */
	size_t plen;
	uint32_t count;		/* F_ARRAY */
};

/* Checks body against the schema; vals has one slot per field.  With
 * allow_assigned false, assigned fields must be absent.  A message names
 * the field ("note.text: ..."); the name is made only for one. */
int schema_check(const struct schema *sc, const uint8_t *body, size_t n, bool allow_assigned,
		 struct value *vals, struct err *e);
/* The values schema_check() (allow_assigned false) gives for a body it
 * accepted, without checking them again: only the msgpack that reading
 * needs is looked at (each value's type, not its length, range or
 * characters; no required field; an array's elements skipped).  For a
 * body checked already and unchanged since; -1 when it is no such body. */
int schema_read(const struct schema *sc, const uint8_t *body, size_t n, struct value *vals, struct err *e);
/* The body without the fields the ledger assigns (a canonical map stays
 * canonical): what the client sent, given what was recorded. */
int schema_strip_assigned(const struct schema *sc, const uint8_t *body, size_t n, struct buf *out,
			  struct err *e);
/* The prefix of a numbered reference type ("CR-" for F_CR, "AMD-" for
 * F_AMD, "AGR-", "NTC-"); NULL for any other type. */
const char *schema_ref_prefix(enum field_type t);
/* Checks one value (n bytes of msgpack) against field f, into *v; where
 * names it in messages. */
int schema_check_value(const struct field *f, const uint8_t *p, size_t n, struct value *v, const char *where,
		       struct err *e);
/* Index of a field by name (for readability at call sites); -1 if none. */
int schema_index(const struct schema *sc, const char *name);

#endif
