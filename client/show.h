/*
 * show: text that others wrote (the server's strings, entries, errors, a
 * receipt's fields) made safe to print.  Every character that could move the
 * cursor, clear or retitle the screen or reorder the line (text.h) is printed
 * escaped instead: \x1b for a C0 control, DEL or a byte that is not UTF-8,
 * \u202e for a C1 control or a bidi override.  All human output in scopectl
 * goes through it; JSON escapes the same characters itself (json.c).
 */
#ifndef SCOPECTL_SHOW_H
#define SCOPECTL_SHOW_H

#include <stddef.h>

/* One line: newlines are escaped too.  The result stays valid for the next
 * SHOW_KEEP calls. */
#define SHOW_KEEP 16
const char *show(const char *s, size_t n);
/* The same for a NUL-terminated string. */
const char *showz(const char *s);
/* Multi-line text (a signed note): newlines kept. */
const char *show_lines(const char *s, size_t n);

/* Prints s as one CSV field (RFC 4180: quoted when it holds a comma,
 * quote or newline). */
void csv_field(const char *s);

#endif
