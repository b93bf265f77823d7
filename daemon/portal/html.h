/*
 * html: escaping, the document shell and the small formats every page
 * shares (money, times, a fact's label), for the portal's pages.  No
 * inline script or style is ever written: the Content-Security-Policy
 * allows neither.
 */
#ifndef SCOPE_PORTAL_HTML_H
#define SCOPE_PORTAL_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pages.h"

/* s (n bytes of UTF-8) escaped for text and attribute values: & < > " '
 * as references, control and bidirectional-override characters (but
 * newline and tab) and bad bytes as U+FFFD. */
void html_esc(struct buf *b, const char *s, size_t n);
void html_escs(struct buf *b, const char *s);

/* <!DOCTYPE html> to <body>: the language, a viewport for phones, the
 * title (escaped), the stylesheet /static/portal.css. */
/* base: the page's base path (a link's /l/TOKEN/, so that the content's
 * relative links, which name no token, resolve under it), or NULL. */
void html_open(struct buf *b, enum page_lang lang, const char *title, const char *base);
void html_close(struct buf *b);	/* </body></html> */

/* The language switch: links to ?lang=ja and ?lang=en of path. */
void html_lang_switch(struct buf *b, enum page_lang lang, const char *path);

/* minor units with thousands separators, the exponent's decimals and
 * the currency ("1,500,000 JPY", "1,234.50 USD"); yen on a Japanese page as
 * Japanese writes it ("1,500,000円"). */
void html_money(struct buf *b, enum page_lang lang, uint64_t minor, uint64_t exponent, const char *currency);
/* A time in the page's language: Japan time for ja ("2026年1月1日 09:00
 * （日本時間）"), UTC for en ("2026-01-01 00:00 UTC"): fixed zones, so the
 * same bytes wherever the daemon runs. */
void html_time(struct buf *b, enum page_lang lang, uint64_t us);
/* A fact of a <dl>: <dt>label</dt><dd>; the caller writes the value and
 * html_dd_end(). */
void html_dt(struct buf *b, const char *label);
void html_dd_end(struct buf *b);
/* A fact whose value is text to escape. */
void html_fact(struct buf *b, const char *label, const char *s, size_t n);

#endif
