/*
 * export: the two export formats (proto/FORMAT.md, "Export").
 *   hex: one entry per line, lowercase hex of the exact entry bytes, '\n'.
 *   raw: the entry byte strings concatenated (each is one msgpack value,
 *        so the stream splits itself).
 * The reader autodetects: an entry always starts with byte 0x89 (a map of
 * 9), which is not a hex digit.
 */
#ifndef SCOPE_EXPORT_H
#define SCOPE_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"

enum export_format { EXPORT_AUTO, EXPORT_HEX, EXPORT_RAW };

struct export_reader {
	FILE *f;		/* borrowed */
	enum export_format format;
	struct buf in;		/* bytes read, not yet consumed */
	size_t off;
	struct buf out;		/* decoded entry (hex) */
	uint64_t index;		/* entries returned so far */
	bool eof;
};

void export_reader_init(struct export_reader *r, FILE *f, enum export_format format);
/* 1: p and n hold the next entry (valid until the next call); 0: end; -1: error. */
int export_next(struct export_reader *r, const uint8_t **p, size_t *n, struct err *e);
void export_reader_free(struct export_reader *r);

int export_write(FILE *f, enum export_format format, const uint8_t *p, size_t n);
int export_parse_format(const char *s, enum export_format *out);

#endif
