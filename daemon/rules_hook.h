/*
 * rules_hook: scope/ plugged into the log.  The rules (scope/domain.h)
 * run on a kv (scope/kv.h) over the store's transaction: the hook the
 * ledger calls for every append and every replay, and the status and
 * report documents the daemon serves, read from the derived state of one
 * read transaction.  The one file that sees both daemon/log/ and scope/.
 */
#ifndef SCOPE_RULES_HOOK_H
#define SCOPE_RULES_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "ledger.h"
#include "paging.h"

/* The rules to give ledger_open (static; never freed). */
const struct ledger_rules *rules_hook(void);

/* A project's status document (scope/reports.h), from the derived state, a
 * page at a time (req NULL: all of it; next: the next page's cursor, or
 * empty). */
int ledger_status(struct ledger *l, const char *project, size_t plen, const struct page_req *req,
		  struct buf *out, struct buf *next, struct err *e);
/* A report ("unbilled" or "exposure") over one project, or over all that
 * allow() admits when project is NULL. */
int ledger_report(struct ledger *l, const char *name, const char *project, size_t plen,
		  bool (*allow)(void *ctx, const char *project, size_t n), void *actx,
		  const struct page_req *req, struct buf *out, struct buf *next, struct err *e);

/* Calls fn with a kv (scope/kv.h) over one read transaction of the state
 * and the entries, and the ledger's time now; fn's result is returned (the
 * portal's pages are read so). */
struct scope_kv;
int ledger_read(struct ledger *l, int (*fn)(void *ctx, struct scope_kv *kv, uint64_t now_us, struct err *e),
		void *ctx, struct err *e);

/* The deemed acceptances due by the ledger's clock (scope/delivery.h): for
 * each open inspection window whose deadline has passed, soonest first and
 * at most max, the deemed_passed append scoped records for it (author
 * LEDGER_KEY_AUTHOR, a request id naming the delivery, so that a second
 * attempt, even after a restart, is the same request), handed to fn. */
int ledger_due_deemed(struct ledger *l, size_t max, int (*fn)(void *ctx, const struct ledger_append *a, struct err *e),
		      void *ctx, struct err *e);

#endif
