/*
 * textfile: a --text-file read as UTF-8.  A file in another encoding (a
 * Japanese mail or minutes in Shift_JIS or EUC-JP) is refused naming the
 * encoding it looks like and the iconv command that converts it, or, with
 * --encoding NAME, converted here through iconv(3).
 */
#ifndef SCOPECTL_TEXTFILE_H
#define SCOPECTL_TEXTFILE_H

#include <stddef.h>

#include "buf.h"

/* Reads path (at most max bytes) into out as UTF-8; encoding NULL means
 * the file must be UTF-8 already.  -1 after printing why not. */
int textfile_read(const char *path, const char *encoding, size_t max, struct buf *out);

#endif
