#include "domain.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "currency.h"
#include "entry.h"
#include "kinds.h"
#include "mp.h"

static const struct field DOC_F[] = {
	FLD("name", F_STR, true, 1, 200), FLD("sha256", F_SHA256, true, 0, 0), FLD("size", F_UINT, true, 0, 1ull << 53),
	FLD("held_elsewhere", F_BOOL, false, 0, 1),
};
const struct schema SCHEMA_DOC = { "document", DOC_F, sizeof DOC_F / sizeof DOC_F[0] };

/* ---- the apply context ---- */

const struct value *val(const struct ctx *x, const char *name)
{
	int i = schema_index(x->sc, name);
	return i >= 0 ? &x->v[i] : NULL;
}

bool has(const struct ctx *x, const char *name)
{
	const struct value *v = val(x, name);
	return v && v->present;
}

int refuse(struct ctx *x, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set(x->e, "%s", msg);
}

int load_change(struct ctx *x, uint64_t number, struct chg *c, struct key *k)
{
	key_init(k, 'c', x->in->project, x->in->project_len);
	key_u64(k, number);
	int rc = LOAD(x->t, k, CHG, c, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "CR-%llu does not exist in project %.*s", (unsigned long long)number, P(x));
	if (strcmp(c->status, "withdrawn") == 0)
		return refuse(x, "CR-%llu was withdrawn (voided)", (unsigned long long)number);
	return 0;
}

int check_currency(struct ctx *x)
{
	const struct value *c = val(x, "currency");
	if (c && c->present && (c->len != 3 || memcmp(c->s, x->proj.currency, 3) != 0))
		return refuse(x, "currency %.*s differs from the project's %s", (int)c->len, c->s,
			      x->proj.currency);
	return 0;
}

const char *money(const struct ctx *x, uint64_t minor, char out[MONEY_MAX])
{
	char num[40];
	amount_format(minor, (int)x->proj.exp, num, sizeof num);
	snprintf(out, MONEY_MAX, "%s %s", num, x->proj.currency);
	return out;
}

int referenced(struct ctx *x, uint64_t seq, struct entry *en, const char *what)
{
	const uint8_t *p;
	size_t n;
	struct err tmp;
	if (seq >= x->in->seq)
		return refuse(x, "%s: entry %llu does not exist yet", what, (unsigned long long)seq);
	if (kv_entry(x->t, seq, &p, &n, &tmp) || entry_decode(p, n, en, &tmp))
		return refuse(x, "%s: entry %llu cannot be read", what, (unsigned long long)seq);
	if (en->project_len != x->in->project_len ||
	    memcmp(en->project, x->in->project, en->project_len) != 0)
		return refuse(x, "%s: entry %llu belongs to another project", what, (unsigned long long)seq);
	return 0;
}

/* What domain_check_shape() gives for a body it accepted: no one else can
 * name it, so domain_in.checked set to it means that function checked the
 * body. */
static const char SHAPE_CHECKED = 1;

int domain_check_shape(const char *kind, size_t kind_len, const uint8_t *body, size_t n, const void **checked,
		       struct err *e)
{
	struct value vals[SCHEMA_FIELDS_MAX];
	const struct kind *k = kind_find(kind, kind_len);
	if (k == NULL) {
		char known[RULES_KINDS_MAX];
		rules_kinds(known, sizeof known);
		return err_set(e, "unknown kind \"%.*s\" (known: %s)", (int)(kind_len > 32 ? 32 : kind_len), kind,
			       known);
	}
	if (schema_check(k->sc, body, n, false, vals, e))
		return -1;
	if (checked)
		*checked = &SHAPE_CHECKED;
	return 0;
}

int domain_sent_body(const char *kind, size_t kind_len, const uint8_t *body, size_t n, struct buf *out,
		     struct err *e)
{
	const struct kind *k = kind_find(kind, kind_len);
	if (k == NULL)
		return domain_check_shape(kind, kind_len, body, n, NULL, e);
	return schema_strip_assigned(k->sc, body, n, out, e);
}

bool domain_assigned(const char *kind, size_t kind_len, const char *field, size_t n)
{
	const struct kind *k = kind_find(kind, kind_len);
	for (size_t i = 0; k && i < k->sc->n; i++)
		if (k->sc->fields[i].assigned && strlen(k->sc->fields[i].name) == n &&
		    memcmp(k->sc->fields[i].name, field, n) == 0)
			return true;
	return false;
}

static void pack_assigned(struct buf *b, const char *name, enum field_type type, uint64_t u)
{
	mp_pack_cstr(b, name);
	const char *prefix = schema_ref_prefix(type);
	if (prefix) {	/* a numbered reference: CR-N, AMD-N, ... */
		char ref[32];
		snprintf(ref, sizeof ref, "%s%llu", prefix, (unsigned long long)u);
		mp_pack_cstr(b, ref);
	} else {
		mp_pack_uint(b, u);
	}
}

/* Adds the assigned fields to the body (live) and canonicalises it. */
static int emit(struct ctx *x)
{
	const uint8_t *b = x->in->body;
	size_t n = x->in->body_len;
	if (x->replay || (!x->add_name && !x->add_name2 && !x->add_link)) {
		buf_add(x->out, b, n);
		return 0;
	}
	struct mp_cur c;
	struct mp_item it;
	mp_cur_init(&c, b, n);
	mp_next(&c, &it, NULL);
	struct buf tmp;
	buf_init(&tmp);
	mp_pack_map(&tmp, it.n + (x->add_name ? 1 : 0) + (x->add_name2 ? 1 : 0) + (x->add_link ? 1 : 0));
	buf_add(&tmp, c.p, mp_left(&c));
	if (x->add_name)
		pack_assigned(&tmp, x->add_name, x->add_type, x->add_u);
	if (x->add_link)
		pack_assigned(&tmp, x->add_link, x->add_link_type, x->add_link_u);
	if (x->add_name2) {
		mp_pack_cstr(&tmp, x->add_name2);
		mp_pack_bool(&tmp, x->add_b2);
	}
	int rc = mp_canonicalize(tmp.data, tmp.len, NULL, MP_NO_BIN, x->out, x->e);
	buf_free(&tmp);
	return rc;
}

static int check_one(struct ctx *x, const char *name, uint64_t u)
{
	const struct value *v = val(x, name);
	if (!v->present || v->u != u)
		return refuse(x, "entry %llu: stored %s differs from the one the rules assign (%llu)",
			      (unsigned long long)x->in->seq, name, (unsigned long long)u);
	return 0;
}

/* In replay the stored assigned fields must be what the ledger assigns. */
static int check_assigned(struct ctx *x)
{
	if (!x->replay)
		return 0;
	if (x->add_name && check_one(x, x->add_name, x->add_u))
		return -1;
	if (x->add_link && check_one(x, x->add_link, x->add_link_u))
		return -1;
	if (x->add_name2) {
		const struct value *v = val(x, x->add_name2);
		if (!v->present)
			return refuse(x, "entry %llu: %s missing", (unsigned long long)x->in->seq, x->add_name2);
	}
	return 0;
}

int project_closure(struct ctx *x, uint64_t *by)
{
	struct key zk;
	key_init(&zk, 'z', x->in->project, x->in->project_len);
	return state_get_seq(x->t, &zk, by, x->e);
}

/* After a closure only corrections, notes and complaint cases (a complaint
 * may come years later, in maintenance) are recorded in the project. */
static int project_closed(struct ctx *x, const struct kind *k)
{
	/* a link for the project's record may be made after it closes (link.c
	 * refuses an item link itself) and any link revoked */
	static const char *const AFTER[] = { "correction", "note", "complaint", "investigation", "determination",
					     "reply", "link", "revoke" };
	struct entry en;
	uint64_t by;
	if (k->opens_project || x->in->project_len == 0)
		return 0;
	for (size_t i = 0; i < sizeof AFTER / sizeof AFTER[0]; i++)
		if (strcmp(k->name, AFTER[i]) == 0)
			return 0;
	int rc = project_closure(x, &by);
	if (rc <= 0)
		return rc;
	struct mp_cur c, r;
	const char *outcome = "closed", *reason = "";
	size_t on = 6, rn = 0;
	if (referenced(x, by, &en, "closure") == 0 &&
	    mp_map_find(en.body, en.body_len, "outcome", &c, NULL) == 1 && mp_get_str(&c, &outcome, &on, NULL) == 0 &&
	    mp_map_find(en.body, en.body_len, "reason", &r, NULL) == 1)
		mp_get_str(&r, &reason, &rn, NULL);
	return refuse(x, "project %.*s was %.*s by entry %llu (%.*s); only corrections, notes and complaint cases "
		      "are recorded in it now", P(x), (int)on, outcome, (unsigned long long)by, (int)(rn > 200 ? 200 : rn),
		      reason);
}

int domain_apply(struct scope_kv *t, const struct domain_in *in, bool replay, struct buf *out,
		 struct err *e)
{
	struct ctx x;
	memset(&x, 0, sizeof x);
	x.t = t;
	x.in = in;
	x.replay = replay;
	x.out = out;
	x.e = e;
	const struct kind *k = kind_find(in->kind, in->kind_len);
	if (k == NULL)
		return domain_check_shape(in->kind, in->kind_len, in->body, in->body_len, NULL, e);
	x.sc = k->sc;
	/* a body domain_check_shape() accepted is read, not checked again */
	if (!replay && in->checked == &SHAPE_CHECKED ? schema_read(k->sc, in->body, in->body_len, x.v, e) :
						       schema_check(k->sc, in->body, in->body_len, replay, x.v, e))
		return -1;
	if (!k->opens_project && !(k->ledger_level && in->project_len == 0)) {
		struct key pk;
		key_init(&pk, 'p', in->project, in->project_len);
		int rc = LOAD(t, &pk, PROJ, &x.proj, e);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return refuse(&x, "project %.*s does not exist (create it with a project entry first)",
				      (int)in->project_len, in->project);
	}
	if (project_closed(&x, k) || k->apply(&x) || check_assigned(&x))
		return -1;
	/* on_behalf is recorded for responses even when the value is false */
	return emit(&x);
}

int domain_apply_entry(struct scope_kv *t, const struct entry *en, bool as_client, bool replay,
		       const void *checked, struct buf *out, struct err *e)
{
	struct domain_in in = { en->kind, en->kind_len, en->project, en->project_len, en->body,
				en->body_len, as_client, en->seq, en->time_us, en->author, en->author_len, checked };
	if (domain_apply(t, &in, replay, out, e))
		return -1;
	if (!replay)
		return 0;
	buf_reset(out);
	return domain_sent_body(en->kind, en->kind_len, en->body, en->body_len, out, e) ?
		       err_prefix(e, "entry %llu", (unsigned long long)en->seq) : 0;
}
