/*
 * text: which characters can change what a terminal shows.  Used to escape
 * them in JSON (json.c) and in scopectl's human output (client/show.c), and
 * stored keys shown in messages.
 */
#ifndef SCOPE_TEXT_H
#define SCOPE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum text_class {
	TEXT_PLAIN,	/* a harmless character */
	TEXT_CONTROL,	/* C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F), or a bidirectional
			 * embedding, override or isolate (U+202A-U+202E, U+2066-U+2069) */
	TEXT_BAD_UTF8,	/* a byte that does not begin valid UTF-8 */
};

/* The character at p, with n >= 1 bytes left: its class, its length in
 * bytes in *len (1 for a bad byte) and its code point in *cp (the byte
 * itself for a bad one). */
enum text_class text_char(const uint8_t *p, size_t n, size_t *len, uint32_t *cp);

/* Bytes of a stored key for a message: printable ASCII as it is (but " and
 * \), other bytes as \xNN, cut with "..." after 64 bytes. */
void text_put_shown(struct buf *out, const uint8_t *s, size_t n);

/* "an" before a word that starts with a vowel ("an assessment"), else "a". */
const char *text_article(const char *word, size_t n);

#endif
