#include "commit.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "log.h"
#include "mp.h"
#include "server.h"
#include "store.h"
#include "wire.h"

struct pending {
	struct conn *conn;	/* NULL once the connection is gone */
	uint64_t req_id;
	uint64_t queued_us;	/* for the latency in info */
	struct ledger_append a;	/* strings point into data */
	uint8_t data[];
};

static char *put(uint8_t **w, const char *s, size_t n)
{
	char *at = (char *)*w;
	memcpy(at, s, n);
	*w += n;
	return at;
}

int commit_enqueue(struct server *s, struct conn *c, uint64_t req_id,
		   const struct ledger_append *a, struct err *e)
{
	if (s->nqueue >= SERVER_MAX_PENDING)
		return err_set(e, "server busy: %d appends are waiting for a commit; retry shortly",
			       SERVER_MAX_PENDING);
	if (s->nqueue == s->capqueue) {
		size_t ncap = s->capqueue ? s->capqueue * 2 : 64;
		struct pending **q = realloc(s->queue, ncap * sizeof *q);
		if (q == NULL)
			return err_set(e, "out of memory");
		s->queue = q;
		s->capqueue = ncap;
	}
	size_t total = a->kind_len + a->project_len + a->author_len + a->request_id_len + a->body_len;
	struct pending *p = malloc(sizeof *p + total);
	if (p == NULL)
		return err_set(e, "out of memory");
	uint8_t *w = p->data;
	p->conn = c;
	p->req_id = req_id;
	p->queued_us = stats_now_us();
	p->a = *a;
	p->a.kind = put(&w, a->kind, a->kind_len);
	p->a.project = put(&w, a->project, a->project_len);
	p->a.author = put(&w, a->author, a->author_len);
	p->a.request_id = put(&w, a->request_id, a->request_id_len);
	p->a.body = (const uint8_t *)put(&w, (const char *)a->body, a->body_len);
	s->queue[s->nqueue++] = p;
	s->queue_bytes += sizeof *p + total;
	c->pending++;
	if (s->nqueue == 1) {
		struct timeval tv = { 0, COMMIT_MAX_DELAY_US };
		event_active(s->commit_ev, EV_TIMEOUT, 0);
		evtimer_add(s->commit_deadline, &tv);
	}
	return 0;
}

void commit_forget_conn(struct server *s, struct conn *c)
{
	for (size_t i = 0; i < s->nqueue; i++)
		if (s->queue[i]->conn == c)
			s->queue[i]->conn = NULL;
}

static const char *wire_code(const struct err *e)
{
	switch (e->code) {
	case LEDGER_E_INVALID: return WERR_INVALID;
	case LEDGER_E_CONFLICT: return WERR_CONFLICT;
	case STORE_E_FULL: return WERR_STORAGE_FULL;
	default: return WERR_INTERNAL;
	}
}

/* Replies collect in the connection's buffer and go out in one write per
 * connection and commit: one TLS write instead of one per append. */
static void reply(struct server *s, struct pending *p, const struct ledger_result *r)
{
	struct buf *out = &p->conn->replies;
	if (r->status == LEDGER_REJECTED) {
		wire_error(out, p->req_id, wire_code(&r->err), r->err.msg);
		stats_refuse(&s->stats, refusal_of_code(wire_code(&r->err)));
	} else {
		size_t start = wire_begin(out);
		wire_ok(out, p->req_id, 3);
		mp_pack_cstr(out, "seq");
		mp_pack_uint(out, r->seq);
		mp_pack_cstr(out, "leaf_hash");
		mp_pack_bin(out, r->leaf, HASH_LEN);
		mp_pack_cstr(out, "duplicate");
		mp_pack_bool(out, r->status == LEDGER_DUPLICATE);
		wire_seal(out, start, UINT32_MAX);
	}
}

void commit_run(struct server *s)
{
	size_t n = s->nqueue;
	/* whichever of the two commit events fires first does the work */
	event_del(s->commit_deadline);
	event_del(s->commit_ev);
	if (n == 0)
		return;
	struct pending **batch = s->queue;
	s->queue = NULL;
	s->nqueue = s->capqueue = 0;
	s->queue_bytes = 0;

	uint64_t t0 = stats_now_us();
	struct ledger_append *as = malloc(n * sizeof *as);
	struct ledger_result *rs = malloc(n * sizeof *rs);
	struct err e = { 0 };
	size_t appended = 0, dups = 0, refused = 0;
	if (as == NULL || rs == NULL) {
		err_set(&e, "out of memory");
		for (size_t i = 0; rs && i < n; i++) {
			rs[i].status = LEDGER_REJECTED;
			rs[i].err = e;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			as[i] = batch[i]->a;
		if (ledger_append_batch(s->ledger, as, n, rs, &e))
			log_msg(LOG_ERROR, "commit of %zu appends failed, nothing written: %s", n, e.msg);
	}
	uint64_t t1 = stats_now_us();
	stats_commit(&s->stats, n, t1 - t0);
	for (size_t i = 0; i < n; i++) {
		struct pending *p = batch[i];
		const struct ledger_result *r = rs ? &rs[i] : NULL;
		stats_append_latency(&s->stats, t1 - p->queued_us);
		if (r && r->status == LEDGER_APPENDED) {
			appended++;
			log_msg(LOG_DEBUG, "%.*s appended entry %llu (request %.*s)", (int)p->a.author_len,
				p->a.author, (unsigned long long)r->seq, (int)p->a.request_id_len,
				p->a.request_id);
		} else if (r && r->status == LEDGER_DUPLICATE) {
			dups++;
		} else {
			refused++;
			log_msg(LOG_INFO, "%.*s: append refused (request %.*s): %s", (int)p->a.author_len,
				p->a.author, (int)p->a.request_id_len, p->a.request_id,
				r ? r->err.msg : "out of memory");
		}
		if (p->conn) {
			p->conn->pending--;
			if (r)
				reply(s, p, r);
			else
				{
				wire_error(&p->conn->replies, p->req_id, WERR_INTERNAL, "out of memory; nothing written");
				stats_refuse(&s->stats, REF_INTERNAL);
			}
		}
		free(p);
	}
	s->stats.appended += appended;
	s->stats.duplicates += dups;
	s->stats.rejected += refused;
	log_msg(LOG_DEBUG, "commit: %zu appended, %zu repeated, %zu refused in %llu us; size %llu", appended,
		dups, refused, (unsigned long long)(t1 - t0), (unsigned long long)ledger_size(s->ledger));
	free(batch);
	free(as);
	free(rs);
	/* send each connection its replies in one write; connections held back
	 * by their pending count may read again (a resumed connection can only
	 * free itself) */
	for (struct conn *c = s->conns.head, *next; c; c = next) {
		next = c->next;
		if (c->replies.len) {
			conn_send(c, c->replies.data, c->replies.len);
			buf_reset(&c->replies);
		}
		conn_maybe_resume(c);
	}
}

void commit_free_all(struct server *s)
{
	for (size_t i = 0; i < s->nqueue; i++)
		free(s->queue[i]);
	free(s->queue);
	s->queue = NULL;
	s->nqueue = s->capqueue = 0;
	s->queue_bytes = 0;
}
