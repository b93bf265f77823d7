#include "view.h"

#include <stdio.h>
#include <string.h>

#include "fields.h"
#include "html.h"

/* Every quote revision of a change, for the project's record: the 'y'
 * records (project, change, revision, seq) list each revision's quote
 * entry, then each response that answered it, in the order recorded. */

struct revs {
	struct view *v;
	const struct chg *ch;
	uint64_t rev;		/* the revision whose section is open, 0: none */
	bool quoted;		/* its facts are shown */
	uint64_t shown;		/* revisions shown */
};

static bool is_kind(const struct entry *en, const char *kind)
{
	return en->kind_len == strlen(kind) && memcmp(en->kind, kind, en->kind_len) == 0;
}

static void rev_close(struct revs *r)
{
	if (r->rev)
		buf_adds(r->v->b, "</section>\n");
	r->rev = 0;
}

static int rev_open(struct revs *r, uint64_t rev)
{
	struct view *v = r->v;
	rev_close(r);
	r->rev = rev;
	r->quoted = false;
	r->shown++;
	buf_printf(v->b, "<section class=\"revision\">\n<h4>%s %llu</h4>\n", view_tr(v, "quote.revision"),
		   (unsigned long long)rev);
	if (rev < r->ch->quote_rev)
		buf_printf(v->b, "<p class=\"note\">%s%llu%s</p>\n", view_tr(v, "quote.superseded"),
			   (unsigned long long)(rev + 1), view_tr(v, "quote.superseded.end"));
	return 0;
}

/* The facts of a revision whose quote predates the 'y' records: the quote
 * in force when it is that revision, else a note. */
static int rev_unindexed(struct revs *r)
{
	struct view *v = r->v;
	r->quoted = true;
	if (r->rev == r->ch->quote_rev && r->ch->quote_seq)
		return view_quote_facts(v, r->ch->quote_seq, false);
	buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, "quote.unlisted"));
	return 0;
}

static int rev_one(void *ctx, const uint8_t *k, size_t kn, const uint8_t *val, size_t vn, struct err *e)
{
	(void)val, (void)vn;
	struct revs *r = ctx;
	struct view *v = r->v;
	struct entry en;
	uint64_t rev = 0, seq = 0;
	if (kn < 17)
		return err_setc(e, SCOPE_E_CORRUPT, "derived state: a damaged quote revision key (run scoped reindex)");
	for (size_t i = kn - 17; i < kn - 9; i++)
		rev = rev << 8 | k[i];
	for (size_t i = kn - 8; i < kn; i++)
		seq = seq << 8 | k[i];
	if (rev != r->rev && rev_open(r, rev))
		return -1;
	if (fld_entry(v->c->kv, seq, &en, e))
		return -1;
	if (is_kind(&en, "quote")) {
		r->quoted = true;
		return view_quote_facts(v, seq, false) ? -1 : 0;
	}
	if (!r->quoted && rev_unindexed(r))
		return -1;
	buf_printf(v->b, "<h5>%s</h5>\n", view_tr(v, "record.answers"));
	return view_answer(v, seq) ? -1 : 0;
}

int view_revisions(struct view *v, const struct chg *ch)
{
	struct revs r = { v, ch, 0, false, 0 };
	struct key k;
	buf_printf(v->b, "<h3>%s</h3>\n", view_tr(v, "quote.revisions"));
	key_init(&k, 'y', v->c->project, v->c->plen);
	key_u64(&k, ch->number);
	k.b[k.n++] = 0;
	if (kv_scan(v->c->kv, k.b, k.n, rev_one, &r, v->e) < 0)
		return -1;
	if (r.rev && !r.quoted && rev_unindexed(&r))
		return -1;
	rev_close(&r);
	if (r.shown == 0 && ch->quote_rev && ch->quote_seq) {
		/* recorded before the revisions were: the quote in force, its answer */
		buf_printf(v->b, "<section class=\"revision\">\n<h4>%s %llu</h4>\n", view_tr(v, "quote.revision"),
			   (unsigned long long)ch->quote_rev);
		if (view_quote_facts(v, ch->quote_seq, false) || view_answered(v, ch->response_seq))
			return -1;
		buf_adds(v->b, "</section>\n");
		if (ch->quote_rev > 1)
			buf_printf(v->b, "<p class=\"note\">%s</p>\n", view_tr(v, "quote.earlier_unlisted"));
		return buf_failed(v->b) ? err_set(v->e, "out of memory") : 0;
	}
	if (r.shown == 0)
		buf_printf(v->b, "<p class=\"none\">%s</p>\n", view_tr(v, "quote.none"));
	else if (r.shown < ch->quote_rev)
		buf_printf(v->b, "<p class=\"note\">%s</p>\n", view_tr(v, "quote.earlier_unlisted"));
	if (ch->response_seq) {	/* an answer citing no quote (a change without a fee) */
		struct entry en;
		uint64_t q;
		if (fld_entry(v->c->kv, ch->response_seq, &en, v->e))
			return -1;
		if (!fld_u64(&en, "quote", &q) && view_answered(v, ch->response_seq))
			return -1;
	}
	return buf_failed(v->b) ? err_set(v->e, "out of memory") : 0;
}
