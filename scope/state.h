/*
 * state: the derived-state records that the kinds write and reports.c
 * reads (proto/FORMAT.md, "Derived state").  Records are small msgpack maps
 * described by field tables; keys are a type letter, NUL, the project id,
 * then NUL-separated parts (u64 big-endian numbers or text).
 *
 *   p  project              -> struct proj
 *   b  project, version     -> struct base
 *   k  project, version, id -> "" (a baseline item exists)
 *   c  project, number      -> struct chg
 *   i  project, invoice     -> struct inv
 *   l  project, invoice, cr -> u64be total, u64be tax (an invoice line: fee and
 *                              tax; cr 0: the base contract)
 *   u  project, seq         -> "" (a response recorded on the client's behalf,
 *                              without evidence yet)
 *   e  project, response, seq -> "" (evidence in force for that response)
 *   v  "", seq              -> u64be seq of the void that withdrew it
 *   a  project, number      -> struct amd (a contract amendment)
 *   n  project, amendment, cr -> u64be amount (a change an amendment binds)
 *   g  project, name        -> struct sig (a signatory on the register)
 *   r  project, seq         -> struct resp (a response in force: who answered what)
 *   x  project, target, seq -> "" (a correction of entry target)
 *   s  project, number      -> u64be seq of the change's assessment in force
 *   o  project, invoice     -> u64be seq of the credit that cancelled it
 *   z  project              -> u64be seq of the closure that closed it
 *   h  project, number      -> struct cas (a complaint case and its stage)
 *   d  project, number      -> struct dlv (a delivery and its outcome)
 *   w  "", deadline_us, number, project -> "" (an open inspection window)
 *   m  project, number      -> struct agr (an agreement, AGR-number)
 *   t  project, number      -> struct ntc (a notice to the client, NTC-number)
 *   q  project, number      -> struct lnk (a client link, LNK-number; link.h)
 *   j  "", token_sha256     -> project id, u64be number (a link by its token)
 *   y  project, number, revision, seq -> "" (a quote revision of a change: its
 *                              quote entry, then each response that answered it)
 *
 * (The log keeps its own records beside these: K, the signing keys,
 * daemon/log/keys.c.)  Read and written through a kv (kv.h).
 */
#ifndef SCOPE_STATE_H
#define SCOPE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "kv.h"

enum rtype { R_U64, R_BOOL, R_STR };
struct rfield {
	const char *name;
	enum rtype t;
	size_t off, size;
};

struct proj {
	uint64_t seq, amount, exp, baseline, next_cr;
	bool baseline_confirmed;
	char currency[4];
	uint64_t payment_days;		/* invoices fall due this many days after issue */
	uint64_t contract_invoiced;	/* the base contract's fee on invoices */
	uint64_t contract_paid;		/* the total (fee and tax) of its lines on paid invoices */
	uint64_t amendments, signatories;	/* amendments recorded; signatories ever added */
	uint64_t next_case;		/* complaint cases opened (the last CASE-N) */
	uint64_t acceptance_days, deliveries;	/* the inspection period; deliveries recorded */
	bool acceptance_set;		/* the project names acceptance_days */
	uint64_t agreements, notices;	/* agreements and notices recorded (their last numbers) */
	uint64_t links;			/* client links recorded (the last LNK-N) */
};
extern const struct rfield PROJ[];
extern const size_t PROJ_N;

struct chg {
	uint64_t seq, number, quote_rev, quote_seq, fee, tax, approved, invoiced, paid, raised_at,
		approved_at, response_seq;
	bool proceeding, assessed;
	char status[24], cls[16], title[801];	/* 200 characters of UTF-8 */
	uint64_t approved_tax, invoiced_tax;	/* the tax parts of approved and invoiced */
	uint64_t amendment, quoted_at;	/* the amendment holding it (awaiting or signed), 0: none */
	bool amended;			/* that amendment is signed */
	char valid_until[11];		/* the open quote's, "" if none */
};
extern const struct rfield CHG[];
extern const size_t CHG_N;

struct base {
	uint64_t seq;
	bool confirmed;
};
extern const struct rfield BASE[];
extern const size_t BASE_N;

struct inv {
	uint64_t seq, total, paid;
	uint64_t tax;			/* the tax part of total */
	char issued[11], due[11];	/* YYYY-MM-DD */
};
extern const struct rfield INV[];
extern const size_t INV_N;

struct amd {
	uint64_t seq, number, total, response_seq;
	char state[12];		/* awaiting, signed, rejected */
	char effective[11];	/* "" if none */
};
extern const struct rfield AMD[];
extern const size_t AMD_N;

struct sig {
	uint64_t seq, limit;
	bool has_limit;
	char title[801];
};
extern const struct rfield SIG[];
extern const size_t SIG_N;

struct resp {
	uint64_t seq;
	char respondent[801], answered[24], decision[12];
};
extern const struct rfield RESP[];
extern const size_t RESP_N;

struct cas {
	uint64_t seq, number, opened_at, stage_at, stage_seq, change;	/* change: the CR its determination opened */
	char stage[16];		/* open, investigated, determined, closed, escalated */
	char outcome[24];	/* the determination in force, "" before one */
	char title[801];
};
extern const struct rfield CAS[];
extern const size_t CAS_N;
struct dlv {
	uint64_t seq, number, delivered_at, deadline_us, outcome_seq;
	char outcome[16];	/* open, passed, failed, deemed_passed */
	char deliverable[801];	/* 200 characters of UTF-8 */
};
extern const struct rfield DLV[];
extern const size_t DLV_N;
/* The first bytes of a long text, cut at a character boundary: what a
 * report row shows of an agreement's summary or a notice's text. */
#define STATE_EXCERPT 200

struct agr {
	uint64_t seq, number, confirm_seq, contest_seq;	/* 0: none */
	char state[12];		/* unconfirmed, confirmed, disputed */
	char date[11], type[24], summary[STATE_EXCERPT + 1];
};
extern const struct rfield AGR[];
extern const size_t AGR_N;

struct ntc {
	uint64_t seq, number, at, response_seq, change;	/* change: the CR it opened, 0: none */
	uint64_t fee, days;		/* the expected effects' sizes */
	bool has_fee, fee_down, has_days, gain;
	char type[16], state[16];	/* unacknowledged, acknowledged, disputed */
	char respond_by[11], text[STATE_EXCERPT + 1];	/* respond_by "" if none */
};
extern const struct rfield NTC[];
extern const size_t NTC_N;

/* The excerpt of s (n bytes of UTF-8) into out. */
void state_excerpt(char out[STATE_EXCERPT + 1], const char *s, size_t n);

void rec_pack(const struct rfield *f, size_t n, const void *obj, struct buf *out);
int rec_unpack(const struct rfield *f, size_t n, const uint8_t *p, size_t len, void *obj,
	       struct err *e);

/* The longest text parts of a key, bounded by the kinds' schemas. */
#define STATE_ITEM_ID_MAX	32	/* a baseline item id */
#define STATE_INVOICE_MAX	64	/* an invoice number */
#define STATE_NAME_MAX		160	/* a signatory's name: 40 characters of UTF-8 */

/* The longest key is an invoice line's: 'l', NUL, project, NUL, invoice,
 * NUL, u64; a signatory's: 'g', NUL, project, NUL, name. */
#define STATE_KEY_MAX		(2 + ENTRY_PROJECT_MAX + 1 + STATE_NAME_MAX)
_Static_assert(2 + ENTRY_PROJECT_MAX + 1 + STATE_INVOICE_MAX + 9 <= STATE_KEY_MAX, "an invoice line's key fits");
_Static_assert(STATE_KEY_MAX <= 511, "every state key fits LMDB's key limit");

struct key {
	uint8_t b[STATE_KEY_MAX];
	size_t n;
};

void key_init(struct key *k, char type, const char *project, size_t plen);
void key_u64(struct key *k, uint64_t v);
void key_str(struct key *k, const char *s, size_t n);
/* Names a key of this file's layout ("change c/pr-site/3") into out;
 * false, with nothing added, when k has no such shape. */
bool state_key_name(const uint8_t *k, size_t n, struct buf *out);

/* The prefix of the type records (a report's scan) of project, which must
 * exist, or of every project when project is NULL: into *k.  0, or -1 naming
 * the missing project. */
int state_scan_prefix(struct scope_kv *t, char type, const char *project, size_t plen, struct key *k,
		      struct err *e);

/* 1 found, 0 absent, -1 error */
int state_load(struct scope_kv *t, const struct key *k, const struct rfield *f, size_t nf,
	       void *obj, size_t objsize, struct err *e);
int state_save(struct scope_kv *t, const struct key *k, const struct rfield *f, size_t nf,
	       const void *obj, struct err *e);

/* A record holding one sequence number (v, a, r, z): get 1 found, 0 absent, -1 error. */
int state_put_seq(struct scope_kv *t, const struct key *k, uint64_t seq, struct err *e);
int state_get_seq(struct scope_kv *t, const struct key *k, uint64_t *seq, struct err *e);

/* 1 with the signatory name (n bytes) of project's register into out
 * (NULL: only whether), 0 if not on it, -1 error.  A name longer than
 * STATE_NAME_MAX bytes is on no register (its key is never made: a
 * respondent or a link's to may be 200 characters). */
int state_signatory(struct scope_kv *t, const char *project, size_t plen, const char *name, size_t n,
		    struct sig *out, struct err *e);

#define LOAD(t, k, F, obj, e) state_load(t, k, F, F##_N, obj, sizeof *(obj), e)
#define SAVE(t, k, F, obj, e) state_save(t, k, F, F##_N, obj, e)

#endif
