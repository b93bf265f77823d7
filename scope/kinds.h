/*
 * kinds: the one table of entry kinds (kinds.c), and what each family
 * file (project.c, change.c, billing.c, void.c) needs to define its kinds:
 * the schema macros and the apply context with its helpers (domain.c).
 * A kind is its name, its body's schema, the roles that may record it,
 * its rule (check against the derived state, then write it) and what
 * voiding one of its entries does.  The schema checks, the role rules,
 * the reducer and the list of known kinds all read this table.
 *
 * Internal to scope/; like all of it, it never includes lmdb.h, libevent
 * or libssl.
 */
#ifndef SCOPE_KINDS_H
#define SCOPE_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "domain.h"
#include "entry.h"
#include "err.h"
#include "kv.h"
#include "rules.h"
#include "schema.h"
#include "state.h"

#define FLD(n, t, req, lo, hi) { n, t, req, false, lo, hi, NULL, NULL, 0 }
#define ASSIGNED(n, t) { n, t, true, true, 0, UINT64_MAX, NULL, NULL, 0 }
#define ENUMF(n, req, list) { n, F_ENUM, req, false, 0, 0, list, NULL, 0 }
#define ARRM(n, req, lo, hi, sub) { n, F_ARRAY, req, false, lo, hi, NULL, sub, 0 }
#define ARRS(n, req, lo, hi, it) { n, F_ARRAY, req, false, lo, hi, NULL, NULL, it }
#define SCHEMA(name, what, ...) \
	static const struct field name##_f[] = { __VA_ARGS__ }; \
	static const struct schema name = { what, name##_f, sizeof name##_f / sizeof name##_f[0] }

/* a document reference (name, sha256, size), shared by several kinds */
extern const struct schema SCHEMA_DOC;

/* ---- the apply context (domain.c) ---- */

struct ctx {
	struct scope_kv *t;
	const struct domain_in *in;
	bool replay;
	const struct schema *sc;
	struct value v[SCHEMA_FIELDS_MAX];
	struct proj proj;
	struct buf *out;
	/* assigned fields to add (live) or check (replay) */
	const char *add_name;
	enum field_type add_type;
	uint64_t add_u;
	const char *add_name2;
	bool add_b2;
	/* a second numbered reference: the change a notice opens */
	const char *add_link;
	enum field_type add_link_type;
	uint64_t add_link_u;
	struct err *e;
};

const struct value *val(const struct ctx *x, const char *name);
bool has(const struct ctx *x, const char *name);
int refuse(struct ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define P(x) (int)(x)->in->project_len, (x)->in->project
/* CR-number of this project, not withdrawn, into *c (its key in *k). */
int load_change(struct ctx *x, uint64_t number, struct chg *c, struct key *k);
/* The body's currency, if it names one, is the project's. */
int check_currency(struct ctx *x);
/* 1 with the closure's seq in *by when the project is closed or cancelled. */
int project_closure(struct ctx *x, uint64_t *by);
/* minor units of the project's currency as text with its code ("600.00
 * EUR"), into out; returns out. */
#define MONEY_MAX 48
const char *money(const struct ctx *x, uint64_t minor, char out[MONEY_MAX]);
/* A date (what) no later than the day after the entry's time (billing.c). */
int not_future(struct ctx *x, const char *what, const struct value *date);
/* A payment's date: not in the future, not before invoice num's issue date
 * (billing.c). */
int payment_date_check(struct ctx *x, const struct value *date, const struct inv *inv, const char *num, size_t n);
/* Reads an earlier entry of the same project (for references by seq). */
int referenced(struct ctx *x, uint64_t seq, struct entry *en, const char *what);

/* The change's items (a value of its schema) are in the current baseline. */
int check_items(struct ctx *x, const struct value *items);
/* The channels a message reaches the other side by (change.c). */
extern const char *const CHANNELS[];
/* The languages of the client portal's pages (change.c). */
extern const char *const PAGE_LANGS[];
/* What the portal records of an answer given through a link (link.c's
 * link_answer checks them): in the response and accept schemas. */
#define PORTAL_ANSWER_FIELDS                                                                            \
	FLD("link", F_LNK, false, 0, 0), FLD("address", F_STR, false, 1, 100),                         \
		FLD("user_agent", F_STR, false, 1, 1000), FLD("page_sha256", F_SHA256, false, 0, 0),   \
		ENUMF("page_lang", false, PAGE_LANGS)
/* Opens change request title (n bytes) as raised by entry x (its number
 * assigned from the project's next_cr, which moves on in x->proj; the
 * caller saves x->proj): its number. */
int change_open(struct ctx *x, const char *title, size_t n, bool proceeding, uint64_t *number);
/* The cited entries (cites, an array of seqs) are earlier entries of the
 * project. */
int check_cites(struct ctx *x);
/* The change's status is one an approval holds (approved ... paid). */
bool change_approved(const struct chg *c);
/* The change (re)assessed as cls: its status, fee and approval start again
 * from what the class means (change.c). */
void change_reclass(struct chg *c, const char *cls, size_t n);
/* The billing status of an approved change from its approved, invoiced and
 * paid amounts (billing.c). */
void change_billing_status(struct chg *c);
/* The lines of invoice num count as paid (paid) or no longer (billing.c). */
int invoice_lines_paid(struct ctx *x, const char *num, size_t n, bool paid);

/* A response or accept answered through a client link (channel portal,
 * link, address, user_agent, page_sha256, page_lang: recorded only by
 * scoped itself): the link is open, answers exactly this item, and is
 * used now.  0 for an answer without them (link.c). */
int link_answer(struct ctx *x);
/* The open links for what (change, baseline, ...) item are superseded by
 * this entry (a new quote revision). */
int link_supersede(struct ctx *x, const char *what, uint64_t item);
/* The same for the item an entry is about (its target: a correction or a
 * void of the change, its assessment, quote or response, the baseline,
 * the amendment, the notice, the delivery). */
int link_supersede_entry(struct ctx *x, const struct entry *target);

/* ---- the table (kinds.c) ---- */

struct kind {
	const char *name;
	const struct schema *sc;
	unsigned writers;		/* enum role bits that may record it */
	bool opens_project;		/* needs no existing project: it creates one */
	bool ledger_level;		/* may also be recorded with the empty project */
	int (*apply)(struct ctx *x);
	/* An entry of this kind, target, is voided by x: undo what it means
	 * for the state.  NULL: entries of this kind cannot be voided. */
	int (*voided)(struct ctx *x, const struct entry *target, uint64_t seq);
};

const struct kind *kind_find(const char *name, size_t n);
/* The i-th kind in table order; NULL past the end. */
const struct kind *kind_at(size_t i);

#endif
