/*
 * routes: one portal request from its arrival to its reply (PROTOCOL.md,
 * "The portal"): the rate limit, the method, the path, the token, then
 *
 *   GET  /static/portal.css          the stylesheet (cacheable)
 *   GET  /l/TOKEN                    the page, or what was answered
 *   POST /l/TOKEN                    the answer (answer.c)
 *   GET  /l/TOKEN/receipt            the receipt JSON of the answer given
 *   GET  /l/TOKEN/doc/SHA256         a document the item cites, from the evidence store
 *
 * A token is 43 base64url characters; anything else is 404 without a
 * lookup.  Each request reads the state in one read transaction.  Every
 * reply carries guard.h's headers.  A revoked link, and a project link past
 * its expiry, is 410 on every route but the receipt of an answer already
 * given through it.
 */
#ifndef SCOPE_PORTAL_ROUTES_H
#define SCOPE_PORTAL_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "guard.h"
#include "link.h"
#include "pages.h"

struct portal;
struct evhttp_request;

/* What routes learned of a request, for answer.c. */
struct route {
	char token[GUARD_TOKEN_LEN + 1];
	uint8_t token_sha256[32];
	char address[64];		/* the browser's, numeric */
	enum page_lang lang;
	bool has_cookie;
	char cookie[GUARD_COOKIE_LEN + 1];	/* the request's, or a new one (then set in the reply) */
};

void routes_serve(struct portal *p, struct evhttp_request *req);

/* Sends body with status and the strict headers (and the route's new
 * cookie when it has none yet); ctype e.g. "text/html; charset=utf-8";
 * attachment: a file name for Content-Disposition, or NULL. */
void routes_reply(struct evhttp_request *req, const struct route *r, int status, const char *ctype,
		  const struct buf *body, const char *attachment);
/* A refusal page (page_error), counted under why unless why is PREF_COUNT. */
void routes_refuse(struct portal *p, struct evhttp_request *req, const struct route *r, enum portal_refusal why,
		   int status, const char *detail);

/* The 410 for a link that shows nothing more (link_gone): why (revoked,
 * expired) in the route's language, nothing of the record. */
void routes_gone(struct portal *p, struct evhttp_request *req, const struct route *r, const struct lnk *l);

/* The page of a link (GET /l/TOKEN, and a refused answer's form again):
 * error above the form, or NULL; typed, what the refused answer sent (its
 * form filled in again), or NULL; status of the reply.  A link that is
 * gone (link_gone) gets routes_gone's 410 instead, whatever status says. */
int routes_page(struct portal *p, struct scope_kv *kv, uint64_t now_us, struct evhttp_request *req,
		const struct route *r, const char *project, size_t plen, const struct lnk *l, const char *error,
		const struct page_answer *typed, int status, struct err *e);

/* has_file for page_content: the project holds the file. */
struct has_file_ctx {
	struct portal *p;
	const char *project;
	size_t plen;
	const char *want;	/* a SHA-256 hex to look for among the documents, or NULL */
	bool cited;		/* want was asked about */
};
bool routes_has_file(void *ctx, const char *sha256_hex);

#endif
