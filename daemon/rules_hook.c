#include "rules_hook.h"

#include <stdio.h>
#include <string.h>

#include "delivery.h"
#include "domain.h"
#include "kv.h"
#include "reports.h"
#include "state.h"
#include "store.h"

_Static_assert(sizeof LEDGER_KEY_AUTHOR == sizeof DOMAIN_DAEMON_AUTHOR, "the daemon's own author");
_Static_assert((int)SCOPE_E_CORRUPT == (int)STORE_E_CORRUPT, "the rules' corrupt state is the store's");

static int t_get(void *ctx, const void *k, size_t kn, const uint8_t **v, size_t *vn, struct err *e)
{
	return store_state_get(ctx, k, kn, v, vn, e);
}

static int t_put(void *ctx, const void *k, size_t kn, const void *v, size_t vn, struct err *e)
{
	return store_state_put(ctx, k, kn, v, vn, e);
}

static int t_del(void *ctx, const void *k, size_t kn, struct err *e)
{
	return store_state_del(ctx, k, kn, e);
}

static int t_scan(void *ctx, const void *prefix, size_t pn, scope_scan_fn fn, void *fctx, struct err *e)
{
	return store_state_scan(ctx, prefix, pn, fn, fctx, e);
}

static int t_entry(void *ctx, uint64_t seq, const uint8_t **p, size_t *n, struct err *e)
{
	return store_entry_get(ctx, seq, p, n, e);
}

static void kv_over(struct store_txn *t, struct scope_kv *kv)
{
	*kv = (struct scope_kv){ t, t_get, t_put, t_del, t_scan, t_entry };
}

static int apply(void *ctx, struct store_txn *t, const struct entry *en, bool as_client, bool replay,
		 const void *checked, struct buf *out, struct err *e)
{
	(void)ctx;
	struct scope_kv kv;
	kv_over(t, &kv);
	return domain_apply_entry(&kv, en, as_client, replay, checked, out, e);
}

static bool name_key(void *ctx, const uint8_t *k, size_t n, struct buf *out)
{
	(void)ctx;
	return state_key_name(k, n, out);
}

static int check(void *ctx, const char *kind, size_t kind_len, const uint8_t *body, size_t n, const void **mark,
		 struct err *e)
{
	(void)ctx;
	return domain_check_shape(kind, kind_len, body, n, mark, e);
}

const struct ledger_rules *rules_hook(void)
{
	static const struct ledger_rules R = { NULL, apply, name_key, check };
	return &R;
}

int ledger_status(struct ledger *l, const char *project, size_t plen, const struct page_req *req,
		  struct buf *out, struct buf *next, struct err *e)
{
	struct store_txn *t;
	struct scope_kv kv;
	if (store_begin(ledger_store(l), false, &t, e))
		return -1;
	kv_over(t, &kv);
	int rc = report_status(&kv, project, plen, req, out, next, e);
	store_abort(t);
	return rc;
}

int ledger_report(struct ledger *l, const char *name, const char *project, size_t plen,
		  bool (*allow)(void *ctx, const char *project, size_t n), void *actx,
		  const struct page_req *req, struct buf *out, struct buf *next, struct err *e)
{
	struct store_txn *t;
	struct scope_kv kv;
	if (store_begin(ledger_store(l), false, &t, e))
		return -1;
	kv_over(t, &kv);
	int rc = report_named(&kv, name, project, plen, allow, actx, ledger_now(l), req, out, next, e);
	store_abort(t);
	return rc;
}

int ledger_read(struct ledger *l, int (*fn)(void *ctx, struct scope_kv *kv, uint64_t now_us, struct err *e),
		void *ctx, struct err *e)
{
	struct store_txn *t;
	struct scope_kv kv;
	if (store_begin(ledger_store(l), false, &t, e))
		return -1;
	kv_over(t, &kv);
	int rc = fn(ctx, &kv, ledger_now(l), e);
	store_abort(t);
	return rc;
}

struct due {
	int (*fn)(void *ctx, const struct ledger_append *a, struct err *e);
	void *ctx;
};

static int deemed_one(void *ctx, const char *project, size_t plen, uint64_t number, uint64_t deadline_us,
		      struct err *e)
{
	struct due *d = ctx;
	char reqid[ENTRY_REQID_MAX + 1];
	struct buf body;
	_Static_assert(sizeof "deemed_passed." + ENTRY_PROJECT_MAX + sizeof ".DLV-2147483647" <= sizeof reqid,
		       "the request id fits");
	int n = snprintf(reqid, sizeof reqid, "deemed_passed.%.*s.DLV-%llu", (int)plen, project,
			 (unsigned long long)number);
	buf_init(&body);
	delivery_deemed_body(number, deadline_us, &body);
	struct ledger_append a = { "deemed_passed", 13, project, plen, LEDGER_KEY_AUTHOR, strlen(LEDGER_KEY_AUTHOR),
				   reqid, (size_t)n, body.data, body.len, false, NULL, NULL };
	int rc = buf_failed(&body) ? err_set(e, "out of memory") : d->fn(d->ctx, &a, e);
	buf_free(&body);
	return rc;
}

int ledger_due_deemed(struct ledger *l, size_t max, int (*fn)(void *ctx, const struct ledger_append *a, struct err *e),
		      void *ctx, struct err *e)
{
	struct store_txn *t;
	struct scope_kv kv;
	struct due d = { fn, ctx };
	if (store_begin(ledger_store(l), false, &t, e))
		return -1;
	kv_over(t, &kv);
	int rc = delivery_due(&kv, ledger_now(l), max, deemed_one, &d, e);
	store_abort(t);
	return rc;
}
