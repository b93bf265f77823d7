/*
 * view: the parts of a link's page content (view.c the project and each
 * item, record.c the project's whole record and the answers), written
 * into one buffer from the derived state and the recorded entries.
 * Every function is deterministic: the same state, link and language
 * give the same bytes.
 */
#ifndef SCOPE_PORTAL_VIEW_H
#define SCOPE_PORTAL_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "pages.h"
#include "state.h"

struct view {
	const struct page_ctx *c;
	bool (*has_file)(void *ctx, const char *sha256_hex);	/* NULL: no file is downloadable */
	void *fctx;
	struct buf *b;
	struct proj proj;
	struct err *e;
};

/* The text for key in the view's language. */
const char *view_tr(const struct view *v, const char *key);
/* Loads the project's record into v->proj: 0, or -1 naming the project. */
int view_begin(struct view *v);
/* One record of the project: type, number (or version) -> obj; 1 found,
 * 0 absent, -1 error. */
int view_load(const struct view *v, char type, uint64_t number, const struct rfield *f, size_t nf, void *obj,
	      size_t size);
#define VIEW_LOAD(v, type, number, F, obj) view_load(v, type, number, F, F##_N, obj, sizeof *(obj))

/* The project: its title, client, vendor's and client's leads. */
int view_project(struct view *v);
/* Each item a link is for, as a <section>. */
int view_change(struct view *v, uint64_t number, uint64_t quote);
/* A change as the project's record shows it: every quote revision with
 * the answers given to it (view_revisions), not the quote in force alone. */
int view_change_record(struct view *v, uint64_t number);
int view_baseline(struct view *v, uint64_t version);
int view_amendment(struct view *v, uint64_t number);
int view_notice(struct view *v, uint64_t number);
int view_delivery(struct view *v, uint64_t number);
/* The documents of an entry's `documents` array, as a list. */
int view_documents(struct view *v, const struct entry *en);
/* The baseline items named by en's `items` (ids), each with its text
 * from the baseline version in force when en was recorded. */
int view_items(struct view *v, const struct entry *en, const char *label);

/* The facts of quote entry seq as corrected (fld_entry_shown): its
 * revision (rev_fact), fee, tax, total, effort, schedule, validity and
 * documents. */
int view_quote_facts(struct view *v, uint64_t seq, bool rev_fact);
/* The answer in force for an item under its heading; nothing for seq 0. */
int view_answered(struct view *v, uint64_t seq);
/* Every quote revision of change ch (the 'y' records), oldest first, each
 * with its facts as corrected and the answers given to it; for a change
 * whose revisions predate those records, its quote in force and answer. */
int view_revisions(struct view *v, const struct chg *ch);

/* The project's record (a `project` link): the baseline, every change
 * with its state, every quote revision and its answers, the open notices
 * and deliveries. */
int view_record(struct view *v);
/* An answer (a response or accept entry) as facts: the decision, who,
 * when, by what channel, whether on the client's behalf, the reason. */
int view_answer(struct view *v, uint64_t seq);

#endif
