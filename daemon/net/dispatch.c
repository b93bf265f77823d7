#include "dispatch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "commit.h"
#include "conn.h"
#include "domain.h"
#include "entry.h"
#include "files.h"
#include "filestore.h"
#include "isotime.h"
#include "logger.h"
#include "mp.h"
#include "note.h"
#include "roles.h"
#include "follow.h"
#include "rules.h"
#include "rules_hook.h"
#include "portal.h"
#include "tiles.h"
#include "server.h"
#include "store.h"
#include "text.h"
#include "wire.h"

#define ENTRIES_DEFAULT_LIMIT 100

struct ctx {
	struct server *s;
	struct conn *c;
	const struct role_grant *g;
	const struct wire_req *r;
	struct buf *out;
	const char *author;	/* what an append records (roles.h) */
	char fp_author[8 + 64];
};

typedef enum dispatch_result (*op_fn)(struct ctx *x);

static enum dispatch_result fail(struct ctx *x, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum dispatch_result fail(struct ctx *x, const char *code, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_reset(x->out);
	wire_error(x->out, x->r->id, code, msg);
	stats_refuse(&x->s->stats, refusal_of_code(code));
	log_msg(strcmp(code, WERR_INTERNAL) == 0 ? LOG_ERROR : LOG_INFO,
		"conn %llu: %s: %s refused (frame id %llu%s%.*s): %s: %s", (unsigned long long)x->c->id,
		x->author, x->r->op, (unsigned long long)x->r->id, x->r->request_id_len ? ", request " : "",
		(int)x->r->request_id_len, x->r->request_id ? x->r->request_id : "", code, msg);
	return DISPATCH_REPLIED;
}

static enum dispatch_result done(struct ctx *x, size_t start)
{
	if (wire_seal(x->out, start, (uint32_t)x->s->cfg.max_frame))
		return fail(x, WERR_INTERNAL, "reply larger than max_frame (%llu bytes)",
			    (unsigned long long)x->s->cfg.max_frame);
	return DISPATCH_REPLIED;
}

#define NO_COSIGNED 100	/* err code: no checkpoint with the witnesses' quorum yet */

/* Reads the latest signed checkpoint and its size; with cosigned: true the
 * latest that carries the witnesses' quorum (not_found before there is one). */
static int latest(struct ctx *x, struct buf *note, uint64_t *size, struct err *e)
{
	struct checkpoint cp;
	size_t tlen;
	if (x->r->cosigned) {
		const struct buf *q = x->s->follow ? follow_cosigned(x->s, size)
						   : witnessing_cosigned(&x->s->witnessing, size);
		if (q == NULL && x->s->follow)
			return err_setc(e, NO_COSIGNED, "this follower holds no cosigned checkpoint yet: its primary's "
					"checkpoint carried no cosignature it could keep (info: follow.cosignatures_refused)");
		if (q == NULL)
			return err_setc(e, NO_COSIGNED, "%s", x->s->witnessing.enabled
				? "no checkpoint carries the quorum of witness cosignatures yet: ask again in a few seconds"
				: "this log has no witnesses configured (witness lines in scoped.conf)");
		buf_add(note, q->data, q->len);
		return 0;
	}
	if (ledger_checkpoint(x->s->ledger, note, e))
		return -1;
	/* the ledger's own note: its size only (a follower's may be signed by
	 * a key its primary rotated to, not the one configured) */
	if (note_split((const char *)note->data, note->len, &tlen, e) ||
	    checkpoint_parse((const char *)note->data, tlen, &cp, e))
		return -1;
	*size = cp.size;
	return 0;
}

/* The project of entry seq, checked against the caller's grant. */
static int entry_allowed(struct ctx *x, uint64_t seq, struct buf *raw, struct err *e,
			 const char **code)
{
	struct entry en;
	*code = WERR_NOT_FOUND;
	if (ledger_get(x->s->ledger, seq, raw, e))
		return -1;
	*code = WERR_INTERNAL;
	if (entry_decode(raw->data, raw->len, &en, e))
		return -1;
	if (!grant_has_project(x->g, en.project, en.project_len)) {
		*code = WERR_FORBIDDEN;
		/* never the project's name: walking seqs would list every project */
		return err_set(e, "entry %llu belongs to a project that is not among yours",
			       (unsigned long long)seq);
	}
	return 0;
}

static void pack_strings(struct buf *out, const char *const *v, size_t n)
{
	mp_pack_array(out, (uint32_t)n);
	for (size_t i = 0; i < n; i++)
		mp_pack_cstr(out, v[i]);
}

static void pack_hist(struct buf *out, const char *name, const struct hist *h)
{
	mp_pack_cstr(out, name);
	mp_pack_map(out, 6);
	mp_pack_cstr(out, "count");
	mp_pack_uint(out, h->n);
	mp_pack_cstr(out, "p50");
	mp_pack_uint(out, hist_pct(h, 50));
	mp_pack_cstr(out, "p90");
	mp_pack_uint(out, hist_pct(h, 90));
	mp_pack_cstr(out, "p99");
	mp_pack_uint(out, hist_pct(h, 99));
	mp_pack_cstr(out, "p999");
	mp_pack_uint(out, hist_pct(h, 99.9));
	mp_pack_cstr(out, "max");
	mp_pack_uint(out, h->max);
}

static void pack_uints(struct buf *out, const char *name, size_t n, const char *const *keys,
		       const uint64_t *vals)
{
	mp_pack_cstr(out, name);
	mp_pack_map(out, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		mp_pack_cstr(out, keys[i]);
		mp_pack_uint(out, vals[i]);
	}
}

/* The operator's view in info: PROTOCOL.md section 5, info. */
static void pack_stats(struct server *s, struct buf *out)
{
	struct stats *st = &s->stats;
	struct hist lat, com;
	struct store_usage u;
	stats_recent(st, &lat, &com);
	store_usage(ledger_store(s->ledger), &u);
	mp_pack_cstr(out, "stats");
	mp_pack_map(out, 12);
	mp_pack_cstr(out, "uptime_s");
	mp_pack_uint(out, (stats_now_us() - st->started_us) / 1000000u);
	static const char *const CONN[] = { "open", "peak", "accepted", "resumed", "closed_idle",
					    "handshaking" };
	const uint64_t conn[] = { s->conns.n, st->open_peak, st->accepted, st->resumed, st->idle_closed,
				  s->handshakes.n };
	pack_uints(out, "connections", 6, CONN, conn);
	static const char *const APP[] = { "appended", "duplicates", "rejected", "commits", "batch_max",
					   "queued" };
	const uint64_t app[] = { st->appended, st->duplicates, st->rejected, st->commits, st->batch_max,
				 s->commit.nqueue };
	pack_uints(out, "appends", 6, APP, app);
	pack_hist(out, "latency_us_last_minute", &lat);
	pack_hist(out, "latency_us_since_start", &st->latency);
	mp_pack_cstr(out, "commit_us");
	mp_pack_map(out, 2);
	pack_hist(out, "last_minute", &com);
	pack_hist(out, "since_start", &st->commit);
	const char *names[REF_COUNT];
	for (unsigned r = 0; r < REF_COUNT; r++)
		names[r] = refusal_name((enum refusal)r);
	pack_uints(out, "refused", REF_COUNT, names, st->refused);
	static const char *const MAP[] = { "used_bytes", "size_bytes", "max_bytes" };
	const uint64_t map[] = { u.used, u.map_size, u.map_max };
	pack_uints(out, "map", 3, MAP, map);
	anchoring_pack_info(&s->anchoring, out);
	witnessing_pack_info(&s->witnessing, out);
	mp_pack_cstr(out, "portal");
	portal_pack_stats(s, out);
	mp_pack_cstr(out, "tiles");
	tiles_pack_stats(s, out);
}

static enum dispatch_result op_info(struct ctx *x)
{
	struct server *s = x->s;
	const char *roles[6];
	size_t nroles = 0;
	for (unsigned r = 1; r <= ROLE_ADMIN; r <<= 1)
		if (x->g->roles & r)
			roles[nroles++] = role_name((enum role)r);
	bool operator = x->g->roles & (ROLE_ADMIN | ROLE_AUDITOR);
	size_t start = wire_begin(x->out);
	wire_ok(x->out, x->r->id, (operator ? 11 : 10) + (s->follow ? 1 : 0));
	mp_pack_cstr(x->out, "portal_url");
	mp_pack_cstr(x->out, portal_url(s));
	mp_pack_cstr(x->out, "version");
	mp_pack_cstr(x->out, SCOPE_VERSION);
	mp_pack_cstr(x->out, "origin");
	mp_pack_cstr(x->out, ledger_origin(s->ledger));
	mp_pack_cstr(x->out, "tree_size");
	mp_pack_uint(x->out, ledger_size(s->ledger));
	mp_pack_cstr(x->out, "verifier_key");
	mp_pack_cstr(x->out, s->verifier_key);
	mp_pack_cstr(x->out, "identity");
	mp_pack_cstr(x->out, x->author);
	mp_pack_cstr(x->out, "fingerprint");
	mp_pack_cstr(x->out, x->c->fp);
	mp_pack_cstr(x->out, "roles");
	pack_strings(x->out, roles, nroles);
	mp_pack_cstr(x->out, "projects");
	if (x->g->roles && x->g->all_projects)
		mp_pack_cstr(x->out, "*");
	else
		pack_strings(x->out, (const char *const *)x->g->projects, x->g->roles ? x->g->nprojects : 0);
	mp_pack_cstr(x->out, "max_frame");
	mp_pack_uint(x->out, s->cfg.max_frame);
	if (operator)
		pack_stats(s, x->out);
	follow_pack_info(s, x->out);
	return done(x, start);
}

static enum dispatch_result op_checkpoint(struct ctx *x)
{
	struct buf note;
	struct err e = { 0 };
	uint64_t size;
	buf_init(&note);
	if (latest(x, &note, &size, &e)) {
		buf_free(&note);
		return fail(x, e.code == NO_COSIGNED ? WERR_NOT_FOUND : WERR_INTERNAL, "%s", e.msg);
	}
	size_t start = wire_begin(x->out);
	wire_ok(x->out, x->r->id, 1);
	mp_pack_cstr(x->out, "checkpoint");
	mp_pack_str(x->out, note.data, note.len);
	buf_free(&note);
	return done(x, start);
}

static enum dispatch_result op_get(struct ctx *x)
{
	struct buf raw;
	struct err e = { 0 };
	const char *code;
	if (!x->r->has_seq)
		return fail(x, WERR_BAD_REQUEST, "get needs \"seq\"");
	buf_init(&raw);
	if (entry_allowed(x, x->r->seq, &raw, &e, &code)) {
		buf_free(&raw);
		return fail(x, code, "%s", e.msg);
	}
	size_t start = wire_begin(x->out);
	wire_ok(x->out, x->r->id, 1);
	mp_pack_cstr(x->out, "entry");
	mp_pack_bin(x->out, raw.data, raw.len);
	buf_free(&raw);
	return done(x, start);
}

struct collect {
	struct buf items;	/* packed bin values */
	uint32_t count, limit;
	size_t budget;
	uint64_t next;
	bool more;
	uint64_t seqs[WIRE_MAX_LIMIT];
	size_t ends[WIRE_MAX_LIMIT];	/* items.len after each entry */
};

static int collect_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	(void)e;
	struct collect *k = ctx;
	if (k->count == k->limit || (k->count > 0 && k->items.len + n + 8 > k->budget)) {
		k->more = true;
		k->next = seq;
		return 1;
	}
	mp_pack_bin(&k->items, p, n);
	k->seqs[k->count] = seq;
	k->ends[k->count] = k->items.len;
	k->count++;
	k->next = seq + 1;
	return 0;
}

/* With "size": the entries' multi-leaf proof in that tree, dropping
 * entries from the end until entries and proof fit the budget together. */
static int collect_proof(struct ctx *x, struct collect *k, uint64_t size, uint8_t (**proof)[HASH_LEN],
			 size_t *plen, struct err *e)
{
	*proof = NULL;
	*plen = 0;
	if (k->count == 0)
		return 0;
	for (;;) {
		size_t need = merkle_multi_proof_len(size, k->seqs, k->count);
		if (k->count == 1 || k->ends[k->count - 1] + need * (HASH_LEN + 2) <= k->budget)
			break;
		uint32_t drop = k->count / 8 ? k->count / 8 : 1;
		k->count -= drop;
		k->more = true;
		k->next = k->seqs[k->count];
		k->items.len = k->ends[k->count - 1];
	}
	*proof = malloc(merkle_multi_proof_len(size, k->seqs, k->count) * HASH_LEN + 1);
	if (*proof == NULL)
		return err_set(e, "out of memory");
	return ledger_multi_proof(x->s->ledger, size, k->seqs, k->count, *proof, plen, e);
}

static void pack_proof(struct buf *out, uint8_t proof[][HASH_LEN], size_t len);

static enum dispatch_result op_entries(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	uint64_t from = r->has_from ? r->from : 0, to = r->has_to ? r->to : UINT64_MAX;
	uint64_t limit = r->has_limit ? r->limit : ENTRIES_DEFAULT_LIMIT;
	if (limit == 0 || limit > WIRE_MAX_LIMIT)
		return fail(x, WERR_BAD_REQUEST, "limit must be 1 to %d", WIRE_MAX_LIMIT);
	if (r->has_size && r->size > ledger_size(x->s->ledger))
		return fail(x, WERR_NOT_FOUND, "tree size %llu is larger than the ledger (%llu entries)",
			    (unsigned long long)r->size, (unsigned long long)ledger_size(x->s->ledger));
	if (r->has_size && to > r->size)
		to = r->size;
	if (r->project && !grant_has_project(x->g, r->project, r->project_len))
		return fail(x, WERR_FORBIDDEN, "project \"%.*s\" is not among yours", (int)r->project_len,
			    r->project);
	if (!r->project && !x->g->all_projects)
		return fail(x, WERR_FORBIDDEN,
			    "reading entries of all projects needs a grant for all projects (\"*\"); "
			    "name a project");
	struct collect *k = calloc(1, sizeof *k);
	if (k == NULL)
		return fail(x, WERR_INTERNAL, "out of memory");
	k->limit = (uint32_t)limit;
	k->budget = x->s->cfg.max_frame - 256;
	buf_init(&k->items);
	int rc = r->project ? ledger_list_project(x->s->ledger, r->project, r->project_len, from, to,
						  collect_one, k, &e)
			    : ledger_export(x->s->ledger, from, to, collect_one, k, &e);
	uint8_t (*proof)[HASH_LEN] = NULL;
	size_t plen = 0;
	if (rc == 0 && r->has_size)
		rc = collect_proof(x, k, r->size, &proof, &plen, &e);
	enum dispatch_result res;
	if (rc) {
		res = fail(x, WERR_INTERNAL, "%s", e.msg);
		goto out;
	}
	size_t start = wire_begin(x->out);
	wire_ok(x->out, r->id, r->has_size ? 3 : 2);
	mp_pack_cstr(x->out, "entries");
	mp_pack_array(x->out, k->count);
	buf_add(x->out, k->items.data, k->items.len);
	mp_pack_cstr(x->out, "next");
	if (k->more)
		mp_pack_uint(x->out, k->next);
	else
		mp_pack_nil(x->out);
	if (r->has_size) {
		mp_pack_cstr(x->out, "proof");
		pack_proof(x->out, proof, plen);
	}
	res = done(x, start);
out:
	free(proof);
	buf_free(&k->items);
	free(k);
	return res;
}

static void pack_proof(struct buf *out, uint8_t proof[][HASH_LEN], size_t len)
{
	mp_pack_array(out, (uint32_t)len);
	for (size_t i = 0; i < len; i++)
		mp_pack_bin(out, proof[i], HASH_LEN);
}

static enum dispatch_result op_prove(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	struct buf note, raw;
	uint64_t size = r->size;
	const char *code;
	uint8_t leaf[HASH_LEN], root[HASH_LEN], proof[MERKLE_MAX_PROOF][HASH_LEN];
	size_t len;
	enum dispatch_result res;
	if (!r->has_seq)
		return fail(x, WERR_BAD_REQUEST, "prove needs \"seq\"");
	buf_init(&note);
	buf_init(&raw);
	if (entry_allowed(x, r->seq, &raw, &e, &code)) {
		res = fail(x, code, "%s", e.msg);
		goto out;
	}
	if (!r->has_size && latest(x, &note, &size, &e)) {
		res = fail(x, e.code == NO_COSIGNED ? WERR_NOT_FOUND : WERR_INTERNAL, "%s", e.msg);
		goto out;
	}
	if (ledger_inclusion(x->s->ledger, r->seq, size, leaf, root, proof, &len, &e)) {
		res = fail(x, WERR_NOT_FOUND, "%s", e.msg);
		goto out;
	}
	size_t start = wire_begin(x->out);
	wire_ok(x->out, r->id, r->has_size ? 5 : 6);
	mp_pack_cstr(x->out, "tree_size");
	mp_pack_uint(x->out, size);
	mp_pack_cstr(x->out, "leaf_index");
	mp_pack_uint(x->out, r->seq);
	mp_pack_cstr(x->out, "leaf_hash");
	mp_pack_bin(x->out, leaf, HASH_LEN);
	mp_pack_cstr(x->out, "root_hash");
	mp_pack_bin(x->out, root, HASH_LEN);
	mp_pack_cstr(x->out, "proof");
	pack_proof(x->out, proof, len);
	if (!r->has_size) {
		mp_pack_cstr(x->out, "checkpoint");
		mp_pack_str(x->out, note.data, note.len);
	}
	res = done(x, start);
out:
	buf_free(&note);
	buf_free(&raw);
	return res;
}

static enum dispatch_result op_consistency(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	struct buf note;
	uint64_t new_size = r->new_size;
	uint8_t r1[HASH_LEN], r2[HASH_LEN], proof[MERKLE_MAX_PROOF][HASH_LEN];
	size_t len;
	enum dispatch_result res;
	if (!r->has_old)
		return fail(x, WERR_BAD_REQUEST, "consistency needs \"old\"");
	buf_init(&note);
	if (!r->has_new && latest(x, &note, &new_size, &e)) {
		res = fail(x, e.code == NO_COSIGNED ? WERR_NOT_FOUND : WERR_INTERNAL, "%s", e.msg);
		goto out;
	}
	if (ledger_consistency(x->s->ledger, r->old_size, new_size, r1, r2, proof, &len, &e)) {
		res = fail(x, WERR_NOT_FOUND, "%s", e.msg);
		goto out;
	}
	size_t start = wire_begin(x->out);
	wire_ok(x->out, r->id, r->has_new ? 5 : 6);
	mp_pack_cstr(x->out, "old_size");
	mp_pack_uint(x->out, r->old_size);
	mp_pack_cstr(x->out, "new_size");
	mp_pack_uint(x->out, new_size);
	mp_pack_cstr(x->out, "old_root");
	mp_pack_bin(x->out, r1, HASH_LEN);
	mp_pack_cstr(x->out, "new_root");
	mp_pack_bin(x->out, r2, HASH_LEN);
	mp_pack_cstr(x->out, "proof");
	pack_proof(x->out, proof, len);
	if (!r->has_new) {
		mp_pack_cstr(x->out, "checkpoint");
		mp_pack_str(x->out, note.data, note.len);
	}
	res = done(x, start);
out:
	buf_free(&note);
	return res;
}

/* Who may correct an entry depends on its kind: the roles that may record
 * it.  The entry's kind never changes once recorded, so checking it here,
 * before the append is queued, holds; a target that cannot be read is the
 * rules' to refuse.  1 when refused (the reply is in x->out). */
/* Who may correct depends on the target's kind, so it is checked here,
 * where the author's roles are known.  The target must be in the log
 * already: an entry is never rewritten, so the kind read now is the kind the
 * rules will see, and no entry committed after this check can be corrected
 * by a role that may not record its kind.  A target of another project is
 * refused without naming what it is. */
static int may_correct(struct ctx *x, const uint8_t *body, size_t body_len)
{
	struct mp_cur c;
	struct err e = { 0 };
	struct entry en;
	struct buf raw;
	uint64_t target;
	const struct wire_req *r = x->r;
	if (mp_map_find(body, body_len, "target", &c, NULL) != 1 || mp_get_uint(&c, &target, NULL))
		return 0;	/* the schema names what is wrong */
	buf_init(&raw);
	int refused = 1;
	if (ledger_get(x->s->ledger, target, &raw, &e) != 0 || entry_decode(raw.data, raw.len, &en, &e) != 0) {
		fail(x, WERR_INVALID, "target: entry %llu is not in the log (a correction names an entry "
		     "already recorded: see scopectl history)", (unsigned long long)target);
	} else if (en.project_len != r->project_len || memcmp(en.project, r->project, en.project_len) != 0) {
		fail(x, WERR_INVALID, "target: entry %llu belongs to another project", (unsigned long long)target);
	} else {
		unsigned may = rules_correctors(en.kind, en.kind_len);
		refused = may && !(x->g->roles & may);
		if (refused) {
			char need[96];
			roles_format(may, need, sizeof need);
			fail(x, WERR_FORBIDDEN, "correcting %s %.*s needs one of the roles %s; %s has %s",
			     text_article(en.kind, en.kind_len), (int)en.kind_len, en.kind, need, x->author,
			     x->g->roles ? "other roles" : "no role");
		}
	}
	buf_free(&raw);
	return refused;
}

static enum dispatch_result op_append(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	if (!r->kind || !r->project || !r->request_id || !r->body)
		return fail(x, WERR_BAD_REQUEST, "append needs \"kind\", \"project\", \"request_id\" and \"body\"");
	if (entry_check_kind(r->kind, r->kind_len, &e))
		return fail(x, WERR_INVALID, "%s", e.msg);
	unsigned writers = rules_writers(r->kind, r->kind_len);
	if (r->kind_len == 3 && memcmp(r->kind, "key", 3) == 0)
		return fail(x, WERR_FORBIDDEN, "key entries are recorded by scoped itself when its signing keys "
			    "change (scoped(8), KEY ROTATION)");
	if (r->kind_len == 6 && memcmp(r->kind, "anchor", 6) == 0)
		return fail(x, WERR_FORBIDDEN, "anchor entries are recorded by scoped itself from its time-stamping "
			    "authority (tsa_url, scoped.conf(5))");
	if (r->kind_len == 13 && memcmp(r->kind, "deemed_passed", 13) == 0)
		return fail(x, WERR_FORBIDDEN, "deemed_passed entries are recorded by scoped itself when an inspection "
			    "deadline passes with no outcome; record an inspection with scopectl accept");
	if (writers == 0) {
		char known[RULES_KINDS_MAX];
		rules_kinds(known, sizeof known);
		return fail(x, WERR_INVALID, "unknown kind \"%.*s\" (known: %s)", (int)r->kind_len, r->kind, known);
	}
	if (!(x->g->roles & writers)) {
		char need[96];
		roles_format(writers, need, sizeof need);
		return fail(x, WERR_FORBIDDEN, "recording a %.*s needs one of the roles %s; %s has %s",
			    (int)r->kind_len, r->kind, need, x->author,
			    x->g->roles ? "other roles" : "no role");
	}
	if (r->project_len == 0 && !(x->g->roles & ROLE_ADMIN))
		return fail(x, WERR_FORBIDDEN, "ledger-level entries (empty project) need the role admin");
	if (entry_check_project(r->project, r->project_len, &e) ||
	    entry_check_request_id(r->request_id, r->request_id_len, &e))
		return fail(x, WERR_INVALID, "%s", e.msg);
	if (!grant_has_project(x->g, r->project, r->project_len))
		return fail(x, WERR_FORBIDDEN, "project \"%.*s\" is not among yours", (int)r->project_len,
			    r->project);
	/* the one check of the request (ledger_check_append): the batch that
	 * records it trusts it */
	struct ledger_append a = {
		.kind = r->kind, .kind_len = r->kind_len, .project = r->project, .project_len = r->project_len,
		.author = x->author, .author_len = strlen(x->author), .request_id = r->request_id,
		.request_id_len = r->request_id_len, .as_client = (x->g->roles & ROLE_CLIENT) != 0,
	};
	struct buf body;
	buf_init(&body);
	if (ledger_check_append(x->s->ledger, &a, r->body, r->body_len, &body, &e) ||
	    (files_cited(x->s, r->project, r->project_len, r->kind, r->kind_len, a.body, a.body_len, &e) &&
	     err_prefix(&e, "body"))) {
		buf_free(&body);
		return fail(x, WERR_INVALID, "%s", e.msg);
	}
	if (r->kind_len == 10 && memcmp(r->kind, "correction", 10) == 0 && may_correct(x, a.body, a.body_len) != 0) {
		buf_free(&body);
		return DISPATCH_REPLIED;
	}
	int rc = commit_enqueue(&x->s->commit, &x->c->sink, r->id, &a, &e);
	buf_free(&body);
	if (rc)
		return fail(x, WERR_UNAVAILABLE, "%s", e.msg);
	return DISPATCH_DEFERRED;
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

void dispatch_committed(struct server *s, struct buf *out, uint64_t req_id,
			const struct ledger_result *r)
{
	if (r->status == LEDGER_REJECTED) {
		wire_error(out, req_id, wire_code(&r->err), r->err.msg);
		stats_refuse(&s->stats, refusal_of_code(wire_code(&r->err)));
	} else {
		size_t start = wire_begin(out);
		wire_ok(out, req_id, 3);
		mp_pack_cstr(out, "seq");
		mp_pack_uint(out, r->seq);
		mp_pack_cstr(out, "leaf_hash");
		mp_pack_bin(out, r->leaf, HASH_LEN);
		mp_pack_cstr(out, "duplicate");
		mp_pack_bool(out, r->status == LEDGER_DUPLICATE);
		wire_seal(out, start, UINT32_MAX);
	}
}

/* Room a status or report page leaves for what is not rows: the envelope,
 * the scalars and the totals (one per accepted currency, CURRENCY_COUNT), and the cursor. */
#define PAGE_RESERVE 16384

/* A status or report page: the document, then "next" (PROTOCOL.md 5a). */
static enum dispatch_result paged_reply(struct ctx *x, const char *what, struct buf *doc,
					struct buf *next, int rc, struct err *e)
{
	enum dispatch_result res;
	if (rc) {
		const char *code = e->code == PAGE_E_CHANGED ? WERR_CHANGED :
				   e->code == PAGE_E_CURSOR || strstr(e->msg, "unknown report") ? WERR_BAD_REQUEST :
				   strstr(e->msg, "does not exist") ? WERR_NOT_FOUND : WERR_INTERNAL;
		res = fail(x, code, "%s", e->msg);
	} else {
		size_t start = wire_begin(x->out);
		wire_ok(x->out, x->r->id, 2);
		mp_pack_cstr(x->out, what);
		buf_add(x->out, doc->data, doc->len);
		mp_pack_cstr(x->out, "next");
		if (next->len)
			mp_pack_bin(x->out, next->data, next->len);
		else
			mp_pack_nil(x->out);
		res = done(x, start);
	}
	buf_free(doc);
	buf_free(next);
	return res;
}

static bool page_request(struct ctx *x, struct page_req *pg)
{
	const struct wire_req *r = x->r;
	*pg = (struct page_req){ r->cursor, r->cursor_len, r->has_limit ? r->limit : 0,
				 x->s->cfg.max_frame - PAGE_RESERVE, 0 };
	if (r->as_of && time_date_ok(r->as_of, r->as_of_len))
		pg->as_of_us = (uint64_t)time_date_days(r->as_of) * 86400000000ull;
	return !r->has_limit || r->limit > 0;
}

static enum dispatch_result op_status(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	struct page_req pg;
	if (!r->project)
		return fail(x, WERR_BAD_REQUEST, "status needs \"project\"");
	if (!grant_has_project(x->g, r->project, r->project_len))
		return fail(x, WERR_FORBIDDEN, "project \"%.*s\" is not among yours", (int)r->project_len,
			    r->project);
	if (!page_request(x, &pg))
		return fail(x, WERR_BAD_REQUEST, "limit must be at least 1");
	struct buf doc, next;
	buf_init(&doc);
	buf_init(&next);
	int rc = ledger_status(x->s->ledger, r->project, r->project_len, &pg, &doc, &next, &e);
	return paged_reply(x, "status", &doc, &next, rc, &e);
}

static bool grant_allows(void *ctx, const char *project, size_t n)
{
	return grant_has_project(ctx, project, n);
}

static enum dispatch_result op_report(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	struct page_req pg;
	char name[16];
	if (!r->name || r->name_len >= sizeof name)
		return fail(x, WERR_BAD_REQUEST, "report needs \"name\": unbilled, exposure, receivables, quotes, "
			    "agreements, notices or links");
	memcpy(name, r->name, r->name_len);
	name[r->name_len] = '\0';
	if (r->project && !grant_has_project(x->g, r->project, r->project_len))
		return fail(x, WERR_FORBIDDEN, "project \"%.*s\" is not among yours", (int)r->project_len,
			    r->project);
	if (r->as_of && !time_date_ok(r->as_of, r->as_of_len))
		return fail(x, WERR_BAD_REQUEST, "as_of must be a date, YYYY-MM-DD");
	if (!page_request(x, &pg))
		return fail(x, WERR_BAD_REQUEST, "limit must be at least 1");
	struct buf doc, next;
	buf_init(&doc);
	buf_init(&next);
	int rc = ledger_report(x->s->ledger, name, r->project, r->project_len, grant_allows, (void *)x->g,
			       &pg, &doc, &next, &e);
	return paged_reply(x, "report", &doc, &next, rc, &e);
}

#define KEY_RECORDS_MAX 32	/* key entries served; a rotation adds two */

/* The size a signed checkpoint note is for, read from its text (it may be
 * signed by keys no longer in use: the client checks the signatures). */
static int note_size(const struct buf *note, uint64_t *size, struct err *e)
{
	const char *p = (const char *)note->data;
	size_t text = 0;
	while (text + 1 < note->len && !(p[text] == '\n' && p[text + 1] == '\n'))
		text++;
	struct checkpoint cp;
	if (text + 1 >= note->len || checkpoint_parse(p, text + 1, &cp, e))
		return err_set(e, "a kept key checkpoint is malformed");
	*size = cp.size;
	return 0;
}

/* The key history, each entry with the checkpoint that first covered it
 * and its inclusion proof there: enough for a client that trusts an older
 * key to follow every rotation (PROTOCOL.md, keys). */
static enum dispatch_result op_keys(struct ctx *x)
{
	uint64_t seqs[KEY_RECORDS_MAX];
	size_t n;
	struct err e = { 0 };
	if (ledger_key_history(x->s->ledger, seqs, KEY_RECORDS_MAX, &n, &e))
		return fail(x, WERR_INTERNAL, "%s", e.msg);
	struct buf notes[KEY_RECORDS_MAX], raws[KEY_RECORDS_MAX];
	uint8_t proofs[KEY_RECORDS_MAX][MERKLE_MAX_PROOF][HASH_LEN];
	size_t plens[KEY_RECORDS_MAX];
	enum dispatch_result res = DISPATCH_REPLIED;
	size_t ready = 0;
	for (; ready < n; ready++) {
		uint64_t size = 0;
		uint8_t leaf[HASH_LEN], root[HASH_LEN];
		buf_init(&notes[ready]);
		buf_init(&raws[ready]);
		if (ledger_key_checkpoint(x->s->ledger, seqs[ready], &notes[ready], &e) ||
		    ledger_get(x->s->ledger, seqs[ready], &raws[ready], &e) || note_size(&notes[ready], &size, &e) ||
		    ledger_inclusion(x->s->ledger, seqs[ready], size, leaf, root, proofs[ready], &plens[ready], &e)) {
			res = fail(x, WERR_INTERNAL, "key entry %llu: %s", (unsigned long long)seqs[ready], e.msg);
			ready++;
			goto out;
		}
	}
	size_t start = wire_begin(x->out);
	wire_ok(x->out, x->r->id, 1);
	mp_pack_cstr(x->out, "keys");
	mp_pack_array(x->out, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		mp_pack_map(x->out, 4);
		mp_pack_cstr(x->out, "seq");
		mp_pack_uint(x->out, seqs[i]);
		mp_pack_cstr(x->out, "entry");
		mp_pack_bin(x->out, raws[i].data, raws[i].len);
		mp_pack_cstr(x->out, "checkpoint");
		mp_pack_str(x->out, notes[i].data, notes[i].len);
		mp_pack_cstr(x->out, "proof");
		pack_proof(x->out, proofs[i], plens[i]);
	}
	res = done(x, start);
out:
	for (size_t i = 0; i < ready; i++) {
		buf_free(&notes[i]);
		buf_free(&raws[i]);
	}
	return res;
}

/* The whole ledger leaves with a backup: only for admin or auditor
 * identities that see every project. */
static bool may_backup(const struct ctx *x)
{
	return roles_reads_all(x->g);
}

static enum dispatch_result op_backup(struct ctx *x)
{
	if (!may_backup(x))
		return fail(x, WERR_FORBIDDEN, "backup needs the admin or auditor role with all projects");
	struct backup_status st;
	struct err e = { 0 };
	int rc = backup_request(x->s, x->c, &st, &e);
	if (rc)
		return fail(x, rc == -2 ? WERR_UNAVAILABLE : WERR_INTERNAL, "%s", e.msg);
	if (st.state == BACKUP_FAILED)
		return fail(x, WERR_INTERNAL, "the backup failed: %s", st.why);
	size_t start = wire_begin(x->out);
	bool ready = st.state == BACKUP_READY;
	wire_ok(x->out, x->r->id, ready ? 3 : 1);
	mp_pack_cstr(x->out, "state");
	mp_pack_cstr(x->out, ready ? "ready" : "copying");
	if (ready) {
		mp_pack_cstr(x->out, "size");
		mp_pack_uint(x->out, st.size);
		mp_pack_cstr(x->out, "sha256");
		mp_pack_bin(x->out, st.sha256, 32);
	}
	return done(x, start);
}

static enum dispatch_result op_backup_read(struct ctx *x)
{
	if (!may_backup(x))
		return fail(x, WERR_FORBIDDEN, "backup needs the admin or auditor role with all projects");
	const struct wire_req *r = x->r;
	/* a chunk and its reply's envelope fit in max_frame */
	uint64_t max = x->s->cfg.max_frame - 64 < BACKUP_CHUNK_MAX ? x->s->cfg.max_frame - 64 : BACKUP_CHUNK_MAX;
	if (!r->has_offset || !r->has_length || r->length == 0 || r->length > max)
		return fail(x, WERR_BAD_REQUEST, "backup_read needs offset and length (1..%llu)",
			    (unsigned long long)max);
	uint8_t *chunk = malloc((size_t)r->length);
	if (chunk == NULL)
		return fail(x, WERR_INTERNAL, "out of memory");
	size_t got;
	struct err e = { 0 };
	if (backup_read(x->s, x->c, r->offset, chunk, (size_t)r->length, &got, &e)) {
		free(chunk);
		return fail(x, WERR_BAD_REQUEST, "%s", e.msg);
	}
	size_t start = wire_begin(x->out);
	wire_ok(x->out, r->id, 1);
	mp_pack_cstr(x->out, "data");
	mp_pack_bin(x->out, chunk, got);
	free(chunk);
	return done(x, start);
}

#define BACKUP_FILES_PAGE 1000	/* names per backup_files page: at most 200 KB, under max_frame */

/* The evidence files every project holds, for an online backup to fetch
 * with file_get: a page of "PROJECT/HEX" names after the cursor. */
static enum dispatch_result op_backup_files(struct ctx *x)
{
	const struct wire_req *r = x->r;
	char after[FILESTORE_NAME_MAX];
	struct err e = { 0 };
	if (!may_backup(x))
		return fail(x, WERR_FORBIDDEN, "backup needs the admin or auditor role with all projects");
	if (r->cursor_len >= sizeof after)
		return fail(x, WERR_BAD_REQUEST, "cursor is not one backup_files gave");
	memcpy(after, r->cursor ? (const char *)r->cursor : "", r->cursor_len);
	after[r->cursor_len] = '\0';
	char (*names)[FILESTORE_NAME_MAX] = malloc(BACKUP_FILES_PAGE * sizeof *names);
	size_t n = 0;
	bool more = false;
	if (names == NULL)
		return fail(x, WERR_INTERNAL, "out of memory");
	enum dispatch_result res;
	if (filestore_list(x->s->cfg.data_dir, after, BACKUP_FILES_PAGE, names, &n, &more, &e)) {
		res = fail(x, WERR_INTERNAL, "%s", e.msg);
	} else {
		size_t start = wire_begin(x->out);
		wire_ok(x->out, r->id, 2);
		mp_pack_cstr(x->out, "files");
		mp_pack_array(x->out, (uint32_t)n);
		for (size_t i = 0; i < n; i++)
			mp_pack_cstr(x->out, names[i]);
		mp_pack_cstr(x->out, "next");
		if (more)
			mp_pack_bin(x->out, names[n - 1], strlen(names[n - 1]));
		else
			mp_pack_nil(x->out);
		res = done(x, start);
	}
	free(names);
	return res;
}

/* ---- evidence files (PROTOCOL.md, upload_begin ... file_get) ---- */

static const char *files_code(int refusal)
{
	switch (refusal) {
	case FILES_BAD_REQUEST: return WERR_BAD_REQUEST;
	case FILES_NOT_FOUND: return WERR_NOT_FOUND;
	case FILES_INVALID: return WERR_INVALID;
	case FILES_FULL: return WERR_STORAGE_FULL;
	default: return WERR_UNAVAILABLE;
	}
}

/* The request's project, one of the caller's, and its sha256: 0, or 1 when
 * refused (the reply is in x->out). */
static int file_target(struct ctx *x, const char *op, bool need_size)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	if (!r->project || !r->sha256 || (need_size && !r->has_size)) {
		fail(x, WERR_BAD_REQUEST, "%s needs \"project\", \"sha256\"%s", op,
		     need_size ? " and \"size\"" : ", \"offset\" and \"length\"");
		return 1;
	}
	if (r->sha256_len != 32) {
		fail(x, WERR_BAD_REQUEST, "sha256 must be 32 bytes (bin), not %zu", r->sha256_len);
		return 1;
	}
	if (entry_check_project(r->project, r->project_len, &e)) {
		fail(x, WERR_BAD_REQUEST, "%s", e.msg);
		return 1;
	}
	if (!grant_has_project(x->g, r->project, r->project_len)) {
		fail(x, WERR_FORBIDDEN, "project \"%.*s\" is not among yours", (int)r->project_len, r->project);
		return 1;
	}
	return 0;
}

static enum dispatch_result op_upload_begin(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	uint64_t id = 0;
	bool held;
	if (file_target(x, "upload_begin", true))
		return DISPATCH_REPLIED;
	int rc = files_begin(x->s, x->c, r->project, r->project_len, r->size, r->sha256, &id, &held, &e);
	if (rc)
		return fail(x, files_code(rc), "%s", e.msg);
	size_t start = wire_begin(x->out);
	wire_ok(x->out, r->id, held ? 1 : 3);
	mp_pack_cstr(x->out, "held");
	mp_pack_bool(x->out, held);
	if (!held) {
		mp_pack_cstr(x->out, "upload");
		mp_pack_uint(x->out, id);
		mp_pack_cstr(x->out, "chunk");
		mp_pack_uint(x->out, files_chunk(x->s));
	}
	return done(x, start);
}

static enum dispatch_result op_upload_chunk(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	if (!r->has_upload || !r->has_offset || !r->data)
		return fail(x, WERR_BAD_REQUEST, "upload_chunk needs \"upload\", \"offset\" and \"data\"");
	int rc = files_chunk_add(x->s, x->c, r->upload, r->offset, r->data, r->data_len, &e);
	if (rc)
		return fail(x, files_code(rc), "%s", e.msg);
	size_t start = wire_begin(x->out);
	wire_ok(x->out, r->id, 1);
	mp_pack_cstr(x->out, "received");
	mp_pack_uint(x->out, r->offset + r->data_len);
	return done(x, start);
}

static enum dispatch_result op_upload_end(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	bool dup = false;
	if (!r->has_upload)
		return fail(x, WERR_BAD_REQUEST, "upload_end needs \"upload\"");
	int rc = files_end(x->s, x->c, r->upload, &dup, &e);
	if (rc)
		return fail(x, files_code(rc), "%s", e.msg);
	size_t start = wire_begin(x->out);
	wire_ok(x->out, r->id, 1);
	mp_pack_cstr(x->out, "duplicate");
	mp_pack_bool(x->out, dup);
	return done(x, start);
}

static enum dispatch_result op_file_get(struct ctx *x)
{
	const struct wire_req *r = x->r;
	struct err e = { 0 };
	uint64_t max = files_chunk(x->s), size = 0;
	size_t got = 0;
	if (file_target(x, "file_get", false))
		return DISPATCH_REPLIED;
	if (!r->has_offset || !r->has_length || r->length == 0)
		return fail(x, WERR_BAD_REQUEST, "file_get needs offset and length (at least 1)");
	size_t want = r->length < max ? (size_t)r->length : (size_t)max;	/* at most a chunk */
	uint8_t *chunk = malloc(want);
	if (chunk == NULL)
		return fail(x, WERR_INTERNAL, "out of memory");
	int rc = files_read(x->s, r->project, r->project_len, r->sha256, r->offset, chunk, want, &got,
			    &size, &e);
	enum dispatch_result res;
	if (rc) {
		res = fail(x, files_code(rc), "%s", e.msg);
	} else {
		size_t start = wire_begin(x->out);
		wire_ok(x->out, r->id, 2);
		mp_pack_cstr(x->out, "size");
		mp_pack_uint(x->out, size);
		mp_pack_cstr(x->out, "data");
		mp_pack_bin(x->out, chunk, got);
		res = done(x, start);
	}
	free(chunk);
	return res;
}

static const struct {
	const char *name;
	op_fn fn;
	bool any_identity;	/* also for identities without a role */
} OPS[] = {
	{ "info", op_info, true },
	{ "checkpoint", op_checkpoint, false },
	{ "get", op_get, false },
	{ "entries", op_entries, false },
	{ "prove", op_prove, false },
	{ "consistency", op_consistency, false },
	{ "append", op_append, false },
	{ "status", op_status, false },
	{ "report", op_report, false },
	{ "keys", op_keys, false },
	{ "backup", op_backup, false },
	{ "backup_read", op_backup_read, false },
	{ "backup_files", op_backup_files, false },
	{ "upload_begin", op_upload_begin, false },
	{ "upload_chunk", op_upload_chunk, false },
	{ "upload_end", op_upload_end, false },
	{ "file_get", op_file_get, false },
};

enum dispatch_result dispatch(struct server *s, struct conn *c, const uint8_t *p, size_t n,
			      struct buf *out)
{
	struct wire_req r;
	struct err e = { 0 };
	uint64_t id;
	int rc = wire_parse_request(p, n, &r, &id, &e);
	if (rc) {
		wire_error(out, id, rc == -2 ? WERR_BAD_FRAME : WERR_BAD_REQUEST, e.msg);
		stats_refuse(&s->stats, rc == -2 ? REF_BAD_FRAME : REF_BAD_REQUEST);
		log_msg(LOG_INFO, "conn %llu: %s: %s: %s", (unsigned long long)c->id, c->author,
			rc == -2 ? "bad frame" : "bad request", e.msg);
		return rc == -2 ? DISPATCH_CLOSE : DISPATCH_REPLIED;
	}
	struct ctx x = { s, c, roles_lookup(s->roles, c->cn, c->fp), &r, out, c->author, "" };
	if (x.g->by_fingerprint) {
		snprintf(x.fp_author, sizeof x.fp_author, "sha256:%s", c->fp);
		x.author = x.fp_author;
	}
	if (c->refused[0])
		return fail(&x, WERR_FORBIDDEN, "%s", c->refused);
	char ro[1200];
	if (follow_refusal(s, r.op, ro, sizeof ro))
		return fail(&x, WERR_FORBIDDEN, "%s", ro);
	for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++) {
		if (strcmp(OPS[i].name, r.op) != 0)
			continue;
		if (!OPS[i].any_identity && x.g->roles == 0)
			return fail(&x, WERR_FORBIDDEN,
				    "%s has no role on this ledger (an administrator maps identities to roles)",
				    x.author);
		return OPS[i].fn(&x);
	}
	return fail(&x, WERR_UNKNOWN_OP, "unknown operation \"%s\"", r.op);
}
