/*
 * answer: POST /l/TOKEN, a client's answer through a link, to a `response`
 * (or, for a delivery, an `accept`) entry, and the receipt of it
 * (PROTOCOL.md, "The portal").  The form is parsed strictly (known fields
 * only, each once, bounded by portal_max_body); the CSRF field must match
 * the cookie, an Origin (when sent) must be the portal's own, and the page
 * regenerated now must be the one shown (its SHA-256 is `shown`).  The page
 * content is stored in the evidence store under the project before the
 * append; the append goes through the commit queue with the answer's own
 * commit_sink (author scoped, as the client: on_behalf false), and the
 * reply is sent only after the commit: the receipt page, or the form again
 * with the rules' refusal.
 *
 *   routes --answer_post--> answer --commit_enqueue--> commit
 *   commit --sink result/done--> answer --reply--> the browser
 */
#ifndef SCOPE_PORTAL_ANSWER_H
#define SCOPE_PORTAL_ANSWER_H

#include <stddef.h>

#include "link.h"
#include "routes.h"

struct portal;
struct evhttp_request;

void answer_post(struct portal *p, struct evhttp_request *req, const struct route *r);
/* GET /l/TOKEN/receipt: the receipt JSON of the answer given through l
 * (its used_seq), with the page shown, as an attachment. */
void answer_receipt_download(struct portal *p, struct evhttp_request *req, const struct route *r,
			     const char *project, size_t plen, const struct lnk *l);
/* The portal goes away: every answer still waiting for its commit is
 * cancelled and answered 503 (a request whose browser left is freed). */
void answers_drop(struct portal *p);

#endif
