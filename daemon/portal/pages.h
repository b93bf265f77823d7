/*
 * pages: the portal's HTML, in Japanese and English (PROTOCOL.md,
 * "The portal").  Everything a client reads is made here from the derived
 * state and the recorded entries (read through a scope_kv over a read
 * transaction); the server side (portal.c, routes, answers) only moves
 * bytes and never builds HTML of its own.
 *
 * The content of a link's page (page_content) is one <main> fragment,
 * the same bytes for the same state, link and language: its SHA-256 is
 * what the answer records as page_sha256, and the bytes are kept in the
 * evidence store so that anyone can check what was shown.
 *
 * Every text that came from an entry is HTML-escaped; the documents have
 * no inline script or style (the Content-Security-Policy forbids them).
 */
#ifndef SCOPE_PORTAL_PAGES_H
#define SCOPE_PORTAL_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "kv.h"
#include "link.h"

enum page_lang { PAGE_JA, PAGE_EN };

/* The language from an Accept-Language header (NULL: English), the first
 * of ja or en by quality; a ?lang=ja|en switch overrides it (the caller). */
enum page_lang page_lang_pick(const char *accept_language);
const char *page_lang_code(enum page_lang l);	/* "ja", "en" */

/* What the client sent, shown again in the form after a refused answer so
 * that nothing typed is lost (each NUL-terminated, "" when not sent). */
struct page_answer {
	char decision[16];
	char reason[4097];
	char name[801];
	char title[801];
};

struct page_ctx {
	struct scope_kv *kv;		/* the state and entries, at one read transaction */
	const char *project;
	size_t plen;
	const struct lnk *link;
	enum page_lang lang;
	uint64_t now_us;
	const char *token;		/* the link's token as in its URL (for the page's own links) */
	const struct page_answer *typed;	/* a refused answer's values for the form, or NULL */
};

/* Whether the link's item can be answered now: the link is open
 * (link_state) and the item still awaits this answer.  When not, why,
 * in the page's language, into why (NUL-terminated, cut to whylen). */
int page_answerable(const struct page_ctx *c, bool *yes, char *why, size_t whylen, struct err *e);

/* The <main> fragment: the project, the item in plain words and what the
 * client needs to decide it (see PROTOCOL.md), the documents with their
 * hashes (a download link when the file is in the evidence store: has_file
 * says so), and for a `project` link the project's whole record. */
int page_content(const struct page_ctx *c, bool (*has_file)(void *ctx, const char *sha256_hex), void *fctx,
		 struct buf *out, struct err *e);

/* The form's fields (POST /l/TOKEN, application/x-www-form-urlencoded). */
#define PAGE_F_DECISION "decision"	/* approved rejected revise | acknowledged disputed | passed failed */
#define PAGE_F_REASON "reason"		/* required for rejected, revise, disputed, failed */
#define PAGE_F_NAME "respondent"
#define PAGE_F_TITLE "respondent_title"
#define PAGE_F_CSRF "csrf"
#define PAGE_F_SHOWN "shown"		/* lowercase hex SHA-256 of the content */
#define PAGE_F_LANG "lang"

/* A whole document for a link: the head (the stylesheet /static/portal.css,
 * no script), a language switch (?lang=), the content, then either the
 * answer form (answerable: with csrf and shown as hidden fields, and for a
 * link to a signatory a name and title to confirm, prefilled with the
 * link's to) or why it cannot be answered, with what was answered through
 * this link and when (answer_seq != 0: its entry, read through kv) and a
 * link to /l/TOKEN/receipt.  error: a message to show above the form (a
 * refused answer: the reason is missing, the page changed), or NULL. */
int page_document(const struct page_ctx *c, const struct buf *content, bool answerable, const char *why,
		  const char *csrf, const char *shown_hex, const char *error, struct buf *out, struct err *e);

/* The receipt page after an answer (and for a used link): what was
 * answered, the entry's sequence number and hash, the inclusion proof's
 * hashes and the signed checkpoint text, printable, with a link to the
 * download /l/TOKEN/receipt. */
int page_receipt(const struct page_ctx *c, uint64_t seq, const uint8_t leaf[32], const struct buf *proof_json,
		 const struct buf *checkpoint, struct buf *out, struct err *e);

/* A page for a refused request (status: 400, 403, 404, 410, 413, 429, 500,
 * 503) in lang: what is wrong and what to do (ask the vendor for a new link,
 * wait a minute, ...). */
void page_error(enum page_lang lang, int status, const char *detail, struct buf *out);

/* The stylesheet served at /static/portal.css. */
extern const char PAGE_CSS[];

#endif
