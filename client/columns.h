/*
 * columns: tables that fit an 80-column terminal.  Text is measured in
 * terminal columns (an East Asian wide character takes two) and cut with
 * "..." to fit; --wide prints it whole.  Nested values (a map of counts, an
 * entry's body) are written as readable text, "key: value, ...", not JSON.
 */
#ifndef SCOPECTL_COLUMNS_H
#define SCOPECTL_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define COLUMNS_TERMINAL 80

/* The columns s (UTF-8, already made safe by show) takes. */
size_t columns_width(const char *s);
/* s cut to at most width columns, ending in "..." where it was cut; the
 * result stays valid for the next 8 calls. */
const char *columns_cut(const char *s, size_t width);
/* The msgpack value p (n bytes) as readable text appended to out: a map as
 * "key: value, key: value", a nested map in parentheses, an array as
 * "a, b", strings as they are (through show), a time (a key ending in _at
 * or _us) as args_time prints it. */
void columns_text(const uint8_t *p, size_t n, struct buf *out);

#endif
