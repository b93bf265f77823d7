/*
 * The change-order rules on a real ledger: the worked case of DOMAIN.md,
 * an approved change invoiced in two parts and paid, every rule refused
 * with its message and nothing written, the reports, and a rebuilt state
 * equal to the live one.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "entry.h"
#include "json.h"
#include "fileio.h"
#include "ledger.h"
#include "rules_hook.h"
#include "mp.h"
#include "rawdb.h"
#include "state.h"
#include "schema.h"
#include "signer.h"
#include "tap.h"

static struct ledger *L;
static struct note_signer signer;
static int reqno;
static struct ledger_result last;
static uint64_t inv1_seq;
static uint64_t approval_seq;	/* the client's confirmation of the baseline */
static int approval_reqno;
static uint64_t no_charge_seq;	/* pr-site's CR-2, approved at no charge */
static uint64_t fake_now = 1767225600000000ull;	/* 2026-01-01 */
static uint64_t clock_fn(void) { return fake_now; }

/* Appends one entry; returns its status and keeps the result in `last`. */
static enum ledger_status app(const char *kind, const char *project, bool as_client, const char *json)
{
	struct buf body;
	struct err e = { 0 };
	char author[16], reqid[32];
	snprintf(author, sizeof author, "%s", as_client ? "client-c" : "vendor-v");
	snprintf(reqid, sizeof reqid, "r-%d", ++reqno);
	buf_init(&body);
	if (json_to_canonical(json, strlen(json), &body, &e)) {
		printf("# bad test JSON: %s: %s\n", json, e.msg);
		exit(2);
	}
	struct ledger_append a = { kind, strlen(kind), project, strlen(project), author, strlen(author),
				   reqid, strlen(reqid), body.data, body.len, as_client, NULL, NULL };
	if (ledger_append_batch(L, &a, 1, &last, &e))
		last.status = LEDGER_REJECTED;
	buf_free(&body);
	return last.status;
}

/* The stored body of an entry, as JSON. */
static const char *body_of(uint64_t seq)
{
	static char out[4096];
	struct buf raw, j;
	struct entry en;
	buf_init(&raw);
	buf_init(&j);
	out[0] = '\0';
	if (ledger_get(L, seq, &raw, NULL) == 0 && entry_decode(raw.data, raw.len, &en, NULL) == 0 &&
	    msgpack_to_json(en.body, en.body_len, &j, NULL) == 0)
		snprintf(out, sizeof out, "%s", buf_cstr(&j));
	buf_free(&raw);
	buf_free(&j);
	return out;
}

static const char *json_of(struct buf *m)
{
	static char out[16384];
	struct buf j;
	buf_init(&j);
	msgpack_to_json(m->data, m->len, &j, NULL);
	snprintf(out, sizeof out, "%s", buf_cstr(&j));
	buf_free(&j);
	return out;
}

static const char *status_json(const char *project)
{
	struct buf b;
	static char out[16384];
	buf_init(&b);
	if (ledger_status(L, project, strlen(project), NULL, &b, NULL, NULL) == 0)
		snprintf(out, sizeof out, "%s", json_of(&b));
	else
		snprintf(out, sizeof out, "ERROR");
	buf_free(&b);
	return out;
}

static const char *report_json(const char *name, const char *project)
{
	struct buf b;
	static char out[16384];
	buf_init(&b);
	if (ledger_report(L, name, project, project ? strlen(project) : 0, NULL, NULL, NULL, &b, NULL, NULL) == 0)
		snprintf(out, sizeof out, "%s", json_of(&b));
	else
		snprintf(out, sizeof out, "ERROR");
	buf_free(&b);
	return out;
}

/* A refusal: the message contains `why`, and neither the log nor the
 * derived state changed. */
static void refused(const char *desc, const char *why, const char *kind, const char *project,
		    bool as_client, const char *json)
{
	uint8_t before[32], after[32];
	uint64_t size = ledger_size(L);
	ledger_state_digest(L, before, NULL);
	enum ledger_status st = app(kind, project, as_client, json);
	ledger_state_digest(L, after, NULL);
	ok(st == LEDGER_REJECTED && strstr(last.err.msg, why) && ledger_size(L) == size &&
	   memcmp(before, after, 32) == 0, "refused: %s", desc);
	if (st != LEDGER_REJECTED || !strstr(last.err.msg, why))
		printf("#   status %d, message \"%s\", wanted \"%s\"\n", st, last.err.msg, why);
}

#define APPENDED(desc, kind, project, as_client, json)                                      \
	do {                                                                                \
		enum ledger_status st_ = app(kind, project, as_client, json);                   \
		if (!ok(st_ == LEDGER_APPENDED, "%s", desc))                                    \
			printf("#   %s\n", last.err.msg);                                        \
	} while (0)

#define PROJECT_JSON "{\"client\":\"C Corp\",\"title\":\"PR web site\",\"contract_type\":\"fixed\"," \
		     "\"currency\":\"JPY\",\"amount_minor\":3000000,\"vendor_lead\":\"V PM\"," \
		     "\"client_lead\":\"C manager\",\"acceptance_days\":14}"

static void worked_case(void)
{
	APPENDED("project pr-site", "project", "pr-site", false, PROJECT_JSON);
	APPENDED("baseline: requirement definition naming reference site A", "baseline", "pr-site", false,
		 "{\"items\":[{\"id\":\"R1\",\"text\":\"Design after reference site A\"},"
		 "{\"id\":\"R2\",\"text\":\"Five pages\"}],"
		 "\"documents\":[{\"name\":\"requirements.pdf\",\"sha256\":\"" "aa" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"size\":1234}],"
		 "\"rule\":\"Changes after this definition are additional orders with an additional fee.\"}");
	like(body_of(1), "\"version\":1", "  the ledger numbered it version 1");
	like(status_json("pr-site"), "\"baseline_confirmed\":false", "  a baseline is a draft until confirmed");
	refused("a revision asked of a baseline", "revise asks for a revised quote of a change", "response", "pr-site",
		true, "{\"baseline\":1,\"decision\":\"revise\",\"reason\":\"six pages\",\"respondent\":\"C manager\","
		"\"channel\":\"email\"}");
	APPENDED("the client confirms the baseline", "response", "pr-site", true,
		 "{\"baseline\":1,\"decision\":\"approved\",\"respondent\":\"C manager\",\"channel\":\"email\"}");
	approval_seq = last.seq;
	approval_reqno = reqno;
	like(status_json("pr-site"), "\"baseline_confirmed\":true", "  now it is confirmed");
	like(body_of(2), "\"on_behalf\":false", "  recorded by the client itself");
	APPENDED("the client demands a redesign along site B", "change", "pr-site", true,
		 "{\"title\":\"Redesign along site B\",\"raised_by\":\"C manager\",\"channel\":\"meeting\","
		 "\"reason\":\"client_request\",\"items\":[\"R1\"],\"description\":\"Free: a verbal promise of revisions\"}");
	like(body_of(3), "\"number\":\"CR-1\"", "  numbered CR-1 by the ledger");
	refused("a quote before the assessment", "has not been assessed", "quote", "pr-site", false,
		"{\"change\":\"CR-1\",\"fee_minor\":1500000,\"effort_hours\":120}");
	APPENDED("the approver assesses it out of scope", "assessment", "pr-site", false,
		 "{\"change\":\"CR-1\",\"class\":\"out_of_scope\",\"rationale\":\"No promise on record; the "
		 "definition names site A; changes are additional orders\",\"cites\":[1]}");
	refused("a second assessment", "already assessed", "assessment", "pr-site", false,
		"{\"change\":\"CR-1\",\"class\":\"in_scope\",\"rationale\":\"x\"}");
	APPENDED("a quote for the redesign", "quote", "pr-site", false,
		 "{\"change\":\"CR-1\",\"fee_minor\":1500000,\"tax_minor\":150000,\"effort_hours\":120,"
		 "\"schedule_days\":30,\"valid_until\":\"2026-02-28\",\"currency\":\"JPY\"}");
	like(body_of(5), "\"revision\":1", "  quote revision 1");
	like(report_json("exposure", "pr-site"), "\"change\":\"CR-1\"", "exposure lists the quoted redesign");
	refused("a response without the quote revision", "must cite its current quote", "response", "pr-site",
		true, "{\"change\":\"CR-1\",\"decision\":\"approved\",\"respondent\":\"C\",\"channel\":\"email\"}");
	refused("a rejection without a reason", "needs a reason", "response", "pr-site", true,
		"{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"rejected\",\"respondent\":\"C\",\"channel\":\"email\"}");
	APPENDED("the client rejects the quote", "response", "pr-site", true,
		 "{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"rejected\",\"reason\":\"expected it free\","
		 "\"respondent\":\"C manager\",\"channel\":\"email\"}");
	APPENDED("the contractual minor revision is offered", "change", "pr-site", false,
		 "{\"title\":\"Minor design revision\",\"raised_by\":\"V PM\",\"channel\":\"email\","
		 "\"reason\":\"vendor_proposal\",\"items\":[\"R1\"]}");
	no_charge_seq = last.seq;
	APPENDED("assessed as a minor revision", "assessment", "pr-site", false,
		 "{\"change\":\"CR-2\",\"class\":\"minor_revision\",\"rationale\":\"Included in the contract\"}");
	refused("a quote for a no-charge change", "no quote for a change that is not out of scope", "quote",
		"pr-site", false, "{\"change\":\"CR-2\",\"fee_minor\":1,\"effort_hours\":1}");
	refused("a revision asked of a no-charge change", "CR-2 is minor_revision: it has no quote to revise",
		"response", "pr-site", true, "{\"change\":\"CR-2\",\"decision\":\"revise\",\"reason\":\"bluer\","
		"\"respondent\":\"C manager\",\"channel\":\"email\"}");
	APPENDED("the client approves it at no charge", "response", "pr-site", true,
		 "{\"change\":\"CR-2\",\"decision\":\"approved\",\"respondent\":\"C manager\",\"channel\":\"email\"}");
	const char *st = status_json("pr-site");
	like(st, "\"contract_value_minor\":3000000", "status: contract value unchanged by free work");
	like(st, "\"rejected\":1", "  one change rejected");
	like(st, "\"approved_no_charge\":1", "  one approved at no charge");
	like(st, "\"open_quotes\":[]", "  no open quotes");
	like(report_json("exposure", "pr-site"), "\"rows\":[]", "  and no exposure left");
}

static void invoicing(void)
{
	APPENDED("project pr-app (USD)", "project", "pr-app", false,
		 "{\"client\":\"D Inc\",\"title\":\"App\",\"contract_type\":\"tm\",\"currency\":\"USD\","
		 "\"amount_minor\":10000000}");
	APPENDED("a change, work already proceeding", "change", "pr-app", false,
		 "{\"title\":\"Export to CSV\",\"raised_by\":\"D PM\",\"channel\":\"phone\",\"reason\":\"client_request\","
		 "\"proceeding\":true}");
	like(status_json("pr-app"), "\"proceeding_unapproved\":[{\"change\":\"CR-1\"", "status flags work without approval");
	APPENDED("assessed out of scope", "assessment", "pr-app", false,
		 "{\"change\":\"CR-1\",\"class\":\"out_of_scope\",\"rationale\":\"new feature\"}");
	refused("a quote in another currency", "differs from the project's USD", "quote", "pr-app", false,
		"{\"change\":\"CR-1\",\"fee_minor\":500000,\"effort_hours\":40,\"currency\":\"EUR\"}");
	refused("an amount beyond the bound", "outside", "quote", "pr-app", false,
		"{\"change\":\"CR-1\",\"fee_minor\":1000000000000001,\"effort_hours\":40}");
	APPENDED("quote revision 1", "quote", "pr-app", false,
		 "{\"change\":\"CR-1\",\"fee_minor\":400000,\"effort_hours\":40}");
	refused("a revision asked without saying what to revise", "a request for a revised quote needs a reason",
		"response", "pr-app", true,
		"{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"revise\",\"respondent\":\"D\",\"channel\":\"chat\"}");
	APPENDED("the client asks for a revision", "response", "pr-app", true,
		 "{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"revise\",\"reason\":\"fewer hours\","
		 "\"respondent\":\"D\",\"channel\":\"chat\"}");
	APPENDED("quote revision 2", "quote", "pr-app", false,
		 "{\"change\":\"CR-1\",\"fee_minor\":500000,\"effort_hours\":40}");
	refused("a response to the superseded revision", "not the current one", "response", "pr-app", true,
		"{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"approved\",\"respondent\":\"D\",\"channel\":\"chat\"}");
	refused("an invoice before approval", "only an approved change is invoiced", "invoice", "pr-app", false,
		"{\"number\":\"INV-1\",\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":100}]}");
	APPENDED("the lead records the client's approval (by phone, no evidence yet)", "response", "pr-app",
		 false, "{\"change\":\"CR-1\",\"quote\":2,\"decision\":\"approved\",\"respondent\":\"D PM\","
		 "\"respondent_title\":\"PM\",\"channel\":\"phone\"}");
	uint64_t resp = last.seq;
	like(body_of(resp), "\"on_behalf\":true", "  recorded on the client's behalf");
	char want[64];
	snprintf(want, sizeof want, "\"unconfirmed_responses\":[%llu]", (unsigned long long)resp);
	like(status_json("pr-app"), want, "  and listed as unconfirmed");
	char ev[256];
	snprintf(ev, sizeof ev, "{\"response\":%llu,\"sha256\":\"%s\"}", (unsigned long long)resp,
		 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	APPENDED("the confirming e-mail as evidence", "evidence", "pr-app", false, ev);
	like(status_json("pr-app"), "\"unconfirmed_responses\":[]", "  no longer unconfirmed");
	like(status_json("pr-app"), "\"contract_value_minor\":10500000", "contract value = contract + approved change");
	fake_now += 40 * 86400000000ull;
	like(report_json("unbilled", NULL), "\"unbilled_minor\":500000", "unbilled: the whole approved fee");
	like(report_json("unbilled", NULL), "\"age_days\":40", "  aged 40 days");
	like(report_json("unbilled", NULL), "\"days_31_60_minor\":500000", "  in the 31-60 bucket");
	refused("invoicing more than approved", "would exceed the approved", "invoice", "pr-app", false,
		"{\"number\":\"INV-1\",\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":500001}]}");
	APPENDED("first part invoiced", "invoice", "pr-app", false,
		 "{\"number\":\"INV-1\",\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":200000}],\"currency\":\"USD\"}");
	inv1_seq = last.seq;
	like(report_json("unbilled", "pr-app"), "\"unbilled_minor\":300000", "  300000 left unbilled");
	refused("the same invoice number again", "already exists", "invoice", "pr-app", false,
		"{\"number\":\"INV-1\",\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":1}]}");
	APPENDED("second part invoiced", "invoice", "pr-app", false,
		 "{\"number\":\"INV-2\",\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":300000}]}");
	like(report_json("unbilled", "pr-app"), "\"rows\":[]", "  nothing unbilled");
	like(status_json("pr-app"), "\"status\":\"invoiced\"", "  the change is invoiced");
	refused("a payment for a missing invoice", "does not exist", "payment", "pr-app", false,
		"{\"invoice\":\"INV-9\",\"amount_minor\":1,\"date\":\"2026-02-10\"}");
	refused("paying more than invoiced", "exceeds what is open", "payment", "pr-app", false,
		"{\"invoice\":\"INV-1\",\"amount_minor\":200001,\"date\":\"2026-02-10\"}");
	refused("an impossible date", "YYYY-MM-DD", "payment", "pr-app", false,
		"{\"invoice\":\"INV-1\",\"amount_minor\":1,\"date\":\"2026-02-30\"}");
	APPENDED("INV-1 paid", "payment", "pr-app", false,
		 "{\"invoice\":\"INV-1\",\"amount_minor\":200000,\"date\":\"2026-02-10\"}");
	APPENDED("INV-2 paid in two payments (1)", "payment", "pr-app", false,
		 "{\"invoice\":\"INV-2\",\"amount_minor\":100000,\"date\":\"2026-02-11\"}");
	like(status_json("pr-app"), "\"paid_minor\":200000", "  the change counts INV-1 as paid");
	refused("a payment dated before its invoice was issued", "is before invoice INV-2's issue date 2026-02-10",
		"payment", "pr-app", false, "{\"invoice\":\"INV-2\",\"amount_minor\":200000,\"date\":\"2026-02-09\"}");
	APPENDED("INV-2 paid in two payments (2)", "payment", "pr-app", false,
		 "{\"invoice\":\"INV-2\",\"amount_minor\":200000,\"date\":\"2026-02-10\"}");
	like(status_json("pr-app"), "\"status\":\"paid\"", "  fully paid");
}

static void refusals(void)
{
	refused("a second project with the same id", "already exists", "project", "pr-site", false, PROJECT_JSON);
	refused("a note for a project that does not exist", "does not exist", "note", "nope", false,
		"{\"text\":\"x\"}");
	refused("an unknown field", "unknown field \"colour\"", "note", "pr-site", false,
		"{\"text\":\"x\",\"colour\":\"red\"}");
	refused("a field the ledger assigns", "assigned by the ledger", "change", "pr-site", false,
		"{\"number\":\"CR-77\",\"title\":\"t\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}");
	refused("a change naming an item not in the baseline", "not in baseline version 1", "change", "pr-site",
		false, "{\"title\":\"t\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\",\"items\":[\"R9\"]}");
	refused("an unknown channel", "must be one of meeting, phone, email, chat, other", "change", "pr-site",
		false, "{\"title\":\"t\",\"raised_by\":\"x\",\"channel\":\"fax\",\"reason\":\"defect\"}");
	refused("an assessment of a missing change", "CR-99 does not exist", "assessment", "pr-site", false,
		"{\"change\":\"CR-99\",\"class\":\"in_scope\",\"rationale\":\"x\"}");
	APPENDED("another change in pr-app", "change", "pr-app", false,
		 "{\"title\":\"Another\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}");
	refused("an assessment citing another project's entry", "belongs to another project", "assessment",
		"pr-app", false, "{\"change\":\"CR-2\",\"class\":\"in_scope\",\"rationale\":\"x\",\"cites\":[0]}");
	refused("a response to an old baseline version", "not the current one", "response", "pr-site", true,
		"{\"baseline\":7,\"decision\":\"approved\",\"respondent\":\"C\",\"channel\":\"email\"}");
	refused("evidence for an entry that is not a response", "not a response", "evidence", "pr-site", false,
		"{\"response\":1,\"sha256\":\"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"}");
	char vi[96];
	snprintf(vi, sizeof vi, "{\"target\":%llu,\"reason\":\"x\"}", (unsigned long long)inv1_seq);
	refused("voiding an invoice", "cannot be voided", "void", "pr-app", false, vi);
	char long_title[400];
	memset(long_title, 'x', 250);
	long_title[250] = '\0';
	char json[600];
	snprintf(json, sizeof json, "{\"title\":\"%s\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}",
		 long_title);
	refused("a title beyond 200 characters", "must be 1 to 200 characters", "change", "pr-site", false, json);
	/* a change entered twice is voided and shows as withdrawn */
	APPENDED("a duplicate change request", "change", "pr-site", false,
		 "{\"title\":\"Dup\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}");
	char v[128];
	snprintf(v, sizeof v, "{\"target\":%llu,\"reason\":\"entered twice\"}", (unsigned long long)last.seq);
	APPENDED("void it", "void", "pr-site", false, v);
	like(status_json("pr-site"), "\"withdrawn\":1", "  the change shows as withdrawn");
	refused("voiding it again", "already voided", "void", "pr-site", false, v);
	refused("assessing a withdrawn change", "withdrawn", "assessment", "pr-site", false,
		"{\"change\":\"CR-3\",\"class\":\"in_scope\",\"rationale\":\"x\"}");
}

/* One batch by vendor-v, request ids TAG-0, TAG-1, ...: what
 * ledger_append_batch returned, with the results in rs. */
struct item {
	const char *kind, *json;
};

static int batch(const char *tag, const struct item *it, size_t n, struct ledger_result *rs, struct err *e)
{
	struct buf body[4];
	struct ledger_append a[4];
	char reqid[4][48];
	for (size_t i = 0; i < n; i++) {
		buf_init(&body[i]);
		if (json_to_canonical(it[i].json, strlen(it[i].json), &body[i], e)) {
			printf("# bad test JSON: %.80s: %s\n", it[i].json, e->msg);
			exit(2);
		}
		snprintf(reqid[i], sizeof reqid[i], "%s-%zu", tag, i);
		a[i] = (struct ledger_append){ it[i].kind, strlen(it[i].kind), "pr-site", 7, "vendor-v", 8, reqid[i],
					       strlen(reqid[i]), body[i].data, body[i].len, false, NULL, NULL };
	}
	int rc = ledger_append_batch(L, a, n, rs, e);
	for (size_t i = 0; i < n; i++)
		buf_free(&body[i]);
	return rc;
}

/* The live derived state equals the one rebuilt from the log, and the
 * whole ledger verifies. */
static bool agrees(struct err *e)
{
	uint8_t live[32], rebuilt[32];
	struct ledger_verify_report vr;
	if (ledger_state_digest(L, live, e) || ledger_reindex(L, e) || ledger_state_digest(L, rebuilt, e))
		return false;
	if (memcmp(live, rebuilt, 32) != 0)
		return !err_set(e, "the live derived state differs from the one rebuilt from the log");
	return ledger_verify(L, NULL, NULL, NULL, &vr, e) == 0;
}

/* Each append of a batch is all or nothing.  A write failure injected at
 * every position of a batch [note, change, baseline, note]: one in the
 * rules' own writes (the change's, the baseline's) refuses that append
 * alone, leaves nothing of it and keeps its request id free, and the
 * appends around it are recorded; one in the log's writes (entry, tree
 * nodes, request id, project key) or the signed head fails the batch,
 * nothing written.  After each, state, indexes and log agree. */
static void atomic_appends(void)
{
	static const struct item four[] = {
		{ "note", "{\"text\":\"before\"}" },
		{ "change", "{\"title\":\"Atomic\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}" },
		{ "baseline", "{\"items\":[{\"id\":\"A1\",\"text\":\"a\"},{\"id\":\"A2\",\"text\":\"b\"},"
			      "{\"id\":\"A3\",\"text\":\"c\"}]}" },
		{ "note", "{\"text\":\"after\"}" },
	};
	unsigned alone[4] = { 0 }, whole = 0, bad = 0, nth;
	for (nth = 1; nth < 200; nth++) {
		char tag[32];
		struct ledger_result rs[4];
		struct err e = { 0 };
		uint64_t size = ledger_size(L);
		snprintf(tag, sizeof tag, "atomic-%u", nth);
		store_fault_put(ledger_store(L), nth, STORE_E_IO);
		int rc = batch(tag, four, 4, rs, &e);
		store_fault_put(ledger_store(L), 0, 0);
		size_t appended = 0, refused_at = 4;
		for (size_t i = 0; i < 4; i++) {
			appended += rs[i].status == LEDGER_APPENDED;
			if (rs[i].status == LEDGER_REJECTED)
				refused_at = i;
		}
		if (rc == 0 && appended == 4)
			break;	/* the fault lies beyond this batch's writes */
		bool fine;
		if (rc != 0) {
			whole++;
			fine = ledger_size(L) == size;
		} else {
			alone[refused_at]++;
			fine = appended == 3 && ledger_size(L) == size + 3 && strstr(rs[refused_at].err.msg, "Input/output");
			/* its request id was not kept: the same request goes through now */
			fine = fine && batch(tag, four, 4, rs, &e) == 0 && rs[refused_at].status == LEDGER_APPENDED &&
			       ledger_size(L) == size + 4;
		}
		if ((!fine || !agrees(&e)) && bad++ == 0)
			diag("fault at write %u: rc %d, %zu appended: %s", nth, rc, appended,
			     rc == 0 && refused_at < 4 ? rs[refused_at].err.msg : e.msg);
	}
	ok(bad == 0, "a write failure at each of the %u writes of a batch [note, change, baseline, note]: "
	   "state, indexes and log agree after every one", nth - 1);
	ok(alone[1] >= 2 && alone[2] >= 4 && alone[0] + alone[3] == 0,
	   "  %u in the change's rules and %u in the baseline's refused that append alone, the others recorded",
	   alone[1], alone[2]);
	ok(whole > 0, "  %u in the log's writes or the signed head failed the batch, nothing written", whole);
}

/* A baseline body of exactly ENTRY_BODY_MAX bytes as sent: the version the
 * ledger assigns pushes the entry over the limit.  Pipelined with a small
 * note, it is refused and leaves nothing in the derived state. */
static void oversized_once_assigned(void)
{
	struct buf json, mp;
	struct err e = { 0 };
	buf_init(&json);
	buf_init(&mp);
	char text[4001];
	memset(text, 'a', 4000);
	text[4000] = '\0';
	size_t pad = 0;
	for (int pass = 0; pass < 2; pass++) {
		buf_reset(&json);
		buf_adds(&json, "{\"items\":[");
		for (int i = 0; i < 65; i++)
			buf_printf(&json, "%s{\"id\":\"R%d\",\"text\":\"%s\"}", i ? "," : "", i, text);
		buf_adds(&json, "]");
		if (pass == 1) {
			buf_adds(&json, ",\"rule\":\"");
			for (size_t i = 0; i < pad; i++)
				buf_addc(&json, 'r');
			buf_adds(&json, "\"");
		}
		buf_adds(&json, "}");
		buf_reset(&mp);
		json_to_canonical((const char *)json.data, json.len, &mp, &e);
		/* "rule" (5 bytes) and a str16 header (3 bytes) come with the padding */
		if (pass == 0)
			pad = ENTRY_BODY_MAX - mp.len - 8;
	}
	is_int(mp.len, ENTRY_BODY_MAX, "a baseline body of exactly %d bytes", ENTRY_BODY_MAX);
	struct item two[] = { { "baseline", buf_cstr(&json) }, { "note", "{\"text\":\"small\"}" } };
	struct ledger_result rs[2];
	uint8_t before[32], after[32];
	ledger_state_digest(L, before, &e);
	uint64_t size = ledger_size(L);
	ok(batch("big", two, 2, rs, &e) == 0 && rs[0].status == LEDGER_REJECTED &&
	   strstr(rs[0].err.msg, "with the fields the ledger assigns") && strstr(rs[0].err.msg, "more than the limit"),
	   "  pipelined with a note: refused once the ledger's version is in: %s", rs[0].err.msg);
	ok(rs[1].status == LEDGER_APPENDED && ledger_size(L) == size + 1, "  the note is recorded");
	ledger_state_digest(L, after, &e);
	ok(memcmp(before, after, 32) == 0, "  the refused baseline left nothing in the derived state");
	ok(agrees(&e), "  state, indexes and log agree: %s", e.msg);
	buf_free(&json);
	buf_free(&mp);
}

/* ---- the stored state lied about behind the ledger's back ---- */

static char lie_dir[256];
static struct buf pristine;	/* data.mdb before the lie */

/* Puts val (NULL: deletes key) in db with the ledger closed; then the
 * verification must fail naming `want`; then the file is put back. */
static void lie(const char *desc, const char *db, const void *key, size_t klen, const void *val, size_t vlen,
		const char *want)
{
	struct err e = { 0 };
	struct ledger_verify_report vr;
	char path[300];
	snprintf(path, sizeof path, "%s/data.mdb", lie_dir);
	int rc = raw_op(lie_dir, db, key, klen, false, val, vlen, NULL);
	struct ledger_opts o = { lie_dir, "test.example/domain", &signer, 0, 0, true, NULL, rules_hook(), NULL };
	struct ledger *l = NULL;
	if (rc == 0 && ledger_open(&l, &o, &e) == 0 && ledger_verify(l, NULL, NULL, NULL, &vr, &e) == 0)
		snprintf(e.msg, sizeof e.msg, "verified");
	ledger_close(l);
	ok(rc == 0 && strstr(e.msg, want) != NULL, "%s: verify fails naming it", desc);
	diag("  %s", rc ? "the edit failed" : e.msg);
	if (write_file_atomic(path, pristine.data, pristine.len, 0600, &e))
		diag("cannot put data.mdb back: %s", e.msg);
}

/* A state record with one field changed by edit. */
static void lie_record(const char *desc, const struct key *k, const struct rfield *f, size_t nf, void *obj,
		       void (*edit)(void *obj), const char *want)
{
	struct buf v;
	struct err e = { 0 };
	buf_init(&v);
	if (raw_op(lie_dir, "state", k->b, k->n, true, NULL, 0, &v) || rec_unpack(f, nf, v.data, v.len, obj, &e)) {
		ok(0, "%s: read the record", desc);
		buf_free(&v);
		return;
	}
	edit(obj);
	buf_reset(&v);
	rec_pack(f, nf, obj, &v);
	lie(desc, "state", k->b, k->n, v.data, v.len, want);
	buf_free(&v);
}

static void set_paid(void *o) { snprintf(((struct chg *)o)->status, sizeof ((struct chg *)o)->status, "paid"); }
static void raise_contract(void *o) { ((struct proj *)o)->amount = 1000000000000000ull; }
static void raise_approved(void *o) { ((struct chg *)o)->approved = 1000000000000000ull; }

static void lies(void)
{
	struct err e = { 0 };
	char path[300];
	snprintf(path, sizeof path, "%s/data.mdb", lie_dir);
	buf_init(&pristine);
	if (read_file(path, (size_t)1 << 30, &pristine, &e)) {
		ok(0, "read data.mdb: %s", e.msg);
		return;
	}
	struct key k;
	struct chg c;
	struct proj p;
	key_init(&k, 'c', "pr-site", 7);
	key_u64(&k, 1);
	lie_record("CR-1 of pr-site set to paid", &k, CHG, CHG_N, &c, set_paid,
		   "derived state: change c/pr-site/1 differs from what the log implies: field \"status\" is \"paid\"");
	key_init(&k, 'p', "pr-site", 7);
	lie_record("pr-site's contract amount raised to 10^15", &k, PROJ, PROJ_N, &p, raise_contract,
		   "derived state: project p/pr-site differs from what the log implies: field \"amount\" is "
		   "1000000000000000 where the log implies 3000000");
	key_init(&k, 'c', "pr-app", 6);
	key_u64(&k, 1);
	lie_record("the approved amount of CR-1 of pr-app raised to 10^15", &k, CHG, CHG_N, &c, raise_approved,
		   "field \"approved\" is 1000000000000000 where the log implies 500000");
	key_init(&k, 'v', "", 0);
	key_u64(&k, 0);
	uint8_t by[8] = { 0, 0, 0, 0, 0, 0, 0, 9 };
	lie("a void record for an entry never voided", "state", k.b, k.n, by, 8,
	    "derived state: voided entry v//0 is stored but the log implies no such record");

	uint8_t pk[32];
	memcpy(pk, "pr-site", 8);
	for (int i = 0; i < 8; i++)
		pk[8 + i] = (uint8_t)(approval_seq >> (56 - 8 * i));
	char want[160];
	snprintf(want, sizeof want, "project index: project \"pr-site\", entry %llu is missing",
		 (unsigned long long)approval_seq);
	lie("the project-index key of the client's approval deleted", "projects", pk, 16, NULL, 0, want);

	char rk[64];
	int rn = snprintf(rk, sizeof rk, "client-c%cr-%d", 0, approval_reqno);
	snprintf(want, sizeof want, "request-id index: author \"client-c\", request id \"r-%d\" is missing", approval_reqno);
	lie("the approval's request-id index entry deleted", "reqids", rk, (size_t)rn, NULL, 0, want);
	struct buf rv;
	buf_init(&rv);
	raw_op(lie_dir, "reqids", rk, (size_t)rn, true, NULL, 0, &rv);
	if (rv.len == 40)
		rv.data[7] ^= 0x01;	/* another seq */
	snprintf(want, sizeof want, "request id \"r-%d\" differs from what the log implies: it points to entry %llu",
		 approval_reqno, (unsigned long long)(approval_seq ^ 1));
	lie("the approval's request-id index entry pointed elsewhere", "reqids", rk, (size_t)rn, rv.data, rv.len, want);
	buf_free(&rv);

	uint8_t lt[8];
	uint64_t size = 0;
	buf_init(&rv);
	raw_op(lie_dir, "meta", "last_time", 9, true, NULL, 0, &rv);
	memcpy(lt, rv.len == 8 ? rv.data : lt, 8);
	lt[7] ^= 0x10;
	lie("last_time altered", "meta", "last_time", 9, lt, 8, "metadata: last_time is");
	buf_reset(&rv);
	raw_op(lie_dir, "meta", "size", 4, true, NULL, 0, &rv);
	for (size_t i = 0; i < rv.len; i++)
		size = size << 8 | rv.data[i];
	uint8_t nk[9] = { 0 }, zero[32] = { 0 };
	for (int i = 0; i < 8; i++)
		nk[1 + i] = (uint8_t)(size >> (56 - 8 * i));
	snprintf(want, sizeof want, "tree nodes: a stray node (level 0, index %llu) beyond the tree of %llu entries",
		 (unsigned long long)size, (unsigned long long)size);
	lie("a stray tree node beyond the size", "nodes", nk, 9, zero, 32, want);
	lie("a stray metadata key", "meta", "sneaky", 6, "x", 1, "metadata: stray key \"sneaky\"");
	lie("key_seqs naming an entry that is not a key entry", "meta", "key_seqs", 8, nk + 1, 8,
	    "metadata: key_seqs lists 1 key entries where the log has 0");
	buf_free(&rv);

	struct ledger_opts o = { lie_dir, "test.example/domain", &signer, 0, 0, true, NULL, rules_hook(), NULL };
	struct ledger *l = NULL;
	struct ledger_verify_report vr;
	ok(ledger_open(&l, &o, &e) == 0 && ledger_verify(l, NULL, NULL, NULL, &vr, &e) == 0,
	   "with the file put back it verifies: %s", e.msg);
	ledger_close(l);
	buf_free(&pristine);
}

/* What a void may withdraw, and what it undoes. */
static void voids(void)
{
	char v[128];
	snprintf(v, sizeof v, "{\"target\":%llu,\"reason\":\"x\"}", (unsigned long long)no_charge_seq);
	refused("voiding a change approved at no charge", "CR-2 is approved_no_charge: an approved change cannot be voided",
		"void", "pr-site", false, v);
	like(status_json("pr-site"), "\"approved_no_charge\":1", "  it stays approved");

	APPENDED("a change to be approved by phone", "change", "pr-site", false,
		 "{\"title\":\"Phone approval\",\"raised_by\":\"x\",\"channel\":\"phone\",\"reason\":\"defect\"}");
	char cr[16], j[256];
	const char *num = strstr(body_of(last.seq), "\"number\":\"CR-");
	snprintf(cr, sizeof cr, "%.*s", num ? (int)strcspn(num + 10, "\"") : 0, num ? num + 10 : "");
	snprintf(j, sizeof j, "{\"change\":\"%s\",\"class\":\"in_scope\",\"rationale\":\"a defect\"}", cr);
	APPENDED("  assessed in scope", "assessment", "pr-site", false, j);
	snprintf(j, sizeof j, "{\"change\":\"%s\",\"decision\":\"approved\",\"respondent\":\"C manager\","
		 "\"channel\":\"phone\"}", cr);
	APPENDED("  approved on the client's behalf, without evidence", "response", "pr-site", false, j);
	uint64_t resp = last.seq, ev[2];
	char unconfirmed[64];
	snprintf(unconfirmed, sizeof unconfirmed, "\"unconfirmed_responses\":[%llu]", (unsigned long long)resp);
	like(status_json("pr-site"), unconfirmed, "  unconfirmed");
	for (int i = 0; i < 2; i++) {
		snprintf(j, sizeof j, "{\"response\":%llu,\"sha256\":\"%064d\"}", (unsigned long long)resp, i);
		APPENDED("  evidence for it", "evidence", "pr-site", false, j);
		ev[i] = last.seq;
	}
	like(status_json("pr-site"), "\"unconfirmed_responses\":[]", "  confirmed by two pieces of evidence");
	snprintf(v, sizeof v, "{\"target\":%llu,\"reason\":\"wrong file\"}", (unsigned long long)ev[0]);
	APPENDED("one of them voided", "void", "pr-site", false, v);
	like(status_json("pr-site"), "\"unconfirmed_responses\":[]", "  still confirmed by the other");
	snprintf(v, sizeof v, "{\"target\":%llu,\"reason\":\"wrong file\"}", (unsigned long long)ev[1]);
	APPENDED("the other voided too", "void", "pr-site", false, v);
	like(status_json("pr-site"), unconfirmed, "  unconfirmed again");
	snprintf(j, sizeof j, "{\"response\":%llu,\"sha256\":\"%064d\"}", (unsigned long long)resp, 2);
	APPENDED("new evidence", "evidence", "pr-site", false, j);
	like(status_json("pr-site"), "\"unconfirmed_responses\":[]", "  confirmed again");
}

/* n more changes approved at AMOUNT_MAX each in project "big", in batches. */
static void approve_many(int n)
{
	enum { PER = 200, KINDS = 4 };
	static struct buf bodies[PER * KINDS];
	static struct ledger_append a[PER * KINDS];
	static struct ledger_result res[PER * KINDS];
	static char reqids[PER * KINDS][32];
	static int next_cr = 1;
	struct err e = { 0 };
	bool all = true;
	while (n > 0) {
		int k = n < PER ? n : PER, m = 0;
		for (int i = 0; i < k; i++, next_cr++) {
			static const char *const kind[KINDS] = { "change", "assessment", "quote", "response" };
			char json[KINDS][200];
			snprintf(json[0], sizeof json[0], "{\"title\":\"big\",\"raised_by\":\"x\",\"channel\":\"email\","
				 "\"reason\":\"client_request\"}");
			snprintf(json[1], sizeof json[1], "{\"change\":\"CR-%d\",\"class\":\"out_of_scope\","
				 "\"rationale\":\"x\"}", next_cr);
			snprintf(json[2], sizeof json[2], "{\"change\":\"CR-%d\",\"fee_minor\":%llu,\"effort_hours\":1}",
				 next_cr, (unsigned long long)AMOUNT_MAX);
			snprintf(json[3], sizeof json[3], "{\"change\":\"CR-%d\",\"quote\":1,\"decision\":\"approved\","
				 "\"respondent\":\"C\",\"channel\":\"email\"}", next_cr);
			for (int j = 0; j < KINDS; j++, m++) {
				buf_init(&bodies[m]);
				json_to_canonical(json[j], strlen(json[j]), &bodies[m], &e);
				snprintf(reqids[m], sizeof reqids[m], "big-%d", ++reqno);
				a[m] = (struct ledger_append){ kind[j], strlen(kind[j]), "big", 3, "client-c", 8, reqids[m],
							       strlen(reqids[m]), bodies[m].data, bodies[m].len, j == 3, NULL, NULL };
			}
		}
		if (ledger_append_batch(L, a, (size_t)m, res, &e))
			all = false;
		for (int i = 0; i < m; i++) {
			all = all && res[i].status == LEDGER_APPENDED;
			buf_free(&bodies[i]);
		}
		n -= k;
	}
	ok(all, "  %d changes approved at %llu each", next_cr - 1, (unsigned long long)AMOUNT_MAX);
}

/* A report too long for report_json: does its JSON contain text? */
static bool report_has(const char *name, const char *project, const char *text)
{
	struct buf b, j;
	buf_init(&b);
	buf_init(&j);
	bool found = ledger_report(L, name, project, strlen(project), NULL, NULL, NULL, &b, NULL, NULL) == 0 &&
		     msgpack_to_json(b.data, b.len, &j, NULL) == 0 && strstr(buf_cstr(&j), text) != NULL;
	buf_free(&b);
	buf_free(&j);
	return found;
}

/* Amounts are bounded one by one, but a project holds any number of
 * changes: the totals are checked and must fit a signed 64-bit integer. */
static void big_totals(void)
{
	char j[256];
	snprintf(j, sizeof j, "{\"client\":\"C\",\"title\":\"Big\",\"contract_type\":\"fixed\","
		 "\"currency\":\"JPY\",\"amount_minor\":%llu}", (unsigned long long)AMOUNT_MAX);
	APPENDED("a project of the largest contract amount", "project", "big", false, j);
	refused("an amount one above the bound", "outside", "project", "big2", false,
		"{\"client\":\"C\",\"title\":\"B\",\"contract_type\":\"fixed\",\"currency\":\"JPY\","
		"\"amount_minor\":1000000000000001}");
	/* INT64_MAX = 9223372036854775807: 9222 changes of 10^15 and the contract fit */
	approve_many(9222);
	const char *st = status_json("big");
	like(st, "\"approved_changes_minor\":9222000000000000000", "  status sums them");
	like(st, "\"contract_value_minor\":9223000000000000000", "  and the contract value");
	ok(report_has("unbilled", "big", "\"unbilled_minor\":9222000000000000000"), "  as does the unbilled report");
	approve_many(1);
	struct buf b;
	struct err e = { 0 };
	buf_init(&b);
	ok(ledger_status(L, "big", 3, NULL, &b, NULL, &e) != 0 &&
	   strstr(e.msg, "the contract and its approved changes in JPY add up to more than 9223372036854775807"),
	   "  one more: the contract value does not fit, and status says so");
	ok(report_has("unbilled", "big", "\"unbilled_minor\":9223000000000000000"), "  the unbilled total still fits");
	approve_many(1);
	buf_reset(&b);
	ok(ledger_status(L, "big", 3, NULL, &b, NULL, &e) != 0 &&
	   strstr(e.msg, "the approved changes in JPY add up to more than"),
	   "  one more: the approved changes do not fit either");
	buf_reset(&b);
	ok(ledger_report(L, "unbilled", "big", 3, NULL, NULL, NULL, &b, NULL, &e) != 0 &&
	   strstr(e.msg, "the unbilled amounts in JPY add up to more than"), "  nor the unbilled total: %s", e.msg);
	buf_reset(&b);
	ok(ledger_report(L, "unbilled", NULL, 0, NULL, NULL, NULL, &b, NULL, &e) != 0, "  also across projects");
	buf_free(&b);
}

/* A stored entry its kind's schema refuses, signed and chained like any
 * other (recorded by a ledger without the rules): scoped verify and
 * reindex, which replay every entry through the rules, refuse it by name. */
static void replay_checks_schema(const char *dir)
{
	struct err e = { 0 };
	struct ledger *l = NULL;
	struct ledger_result res[2];
	struct buf good, bad;
	buf_init(&good);
	buf_init(&bad);
	json_to_canonical("{\"text\":\"fine\"}", 15, &good, &e);
	json_to_canonical("{\"text\":\"a\\u0007b\"}", 19, &bad, &e);
	struct ledger_append a[2] = {
		{ "note", 4, "", 0, "vendor-v", 8, "s-1", 3, good.data, good.len, false, NULL, NULL },
		{ "note", 4, "", 0, "vendor-v", 8, "s-2", 3, bad.data, bad.len, false, NULL, NULL },
	};
	struct ledger_opts plain = { dir, "test.example/domain", &signer, 0, 0, false, NULL, NULL, NULL };
	ok(ledger_open(&l, &plain, &e) == 0 && ledger_append_batch(l, a, 2, res, &e) == 0 &&
		   res[0].status == LEDGER_APPENDED && res[1].status == LEDGER_APPENDED,
	   "without the rules a note with a control character in its text is recorded: %s", e.msg);
	ledger_close(l);
	l = NULL;
	struct ledger_opts ruled = { dir, "test.example/domain", &signer, 0, 0, false, NULL, rules_hook(), NULL };
	struct ledger_verify_report vr;
	ok(ledger_open(&l, &ruled, &e) == 0, "the ledger opens with the rules: %s", e.msg);
	ok(l && ledger_verify(l, NULL, NULL, NULL, &vr, &e) != 0 && vr.failed && vr.bad_seq_known && vr.bad_seq == 1,
	   "verify replays it through the rules and fails at entry 1");
	like(e.msg, "note.text: contains a control character", "  naming the schema's reason: %s", e.msg);
	err_clear(&e);
	ok(l && ledger_reindex(l, &e) != 0, "reindex refuses to rebuild the state from it");
	like(e.msg, "note.text: contains a control character", "  naming the reason: %s", e.msg);
	ledger_close(l);
	buf_free(&good);
	buf_free(&bad);
}

int main(void)
{
	struct err e = { 0 };
	char dir[256], kp[300];
	snprintf(dir, sizeof dir, "%s/scope-domain-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(kp, sizeof kp, "%s/signing.key", dir);
	if (signer_generate(kp, &e) || signer_load(&signer, kp, "test.example/domain", &e))
		return 2;
	struct ledger_opts o = { dir, "test.example/domain", &signer, 0, 0, false, NULL, rules_hook(), NULL };
	if (ledger_open(&L, &o, &e)) {
		printf("Bail out! %s\n", e.msg);
		return 1;
	}
	ledger_set_clock(L, clock_fn);
	worked_case();
	invoicing();
	refusals();
	voids();

	/* a retried change request keeps its number */
	struct buf body;
	buf_init(&body);
	const char *cj = "{\"title\":\"Retry me\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}";
	json_to_canonical(cj, strlen(cj), &body, &e);
	struct ledger_append a = { "change", 6, "pr-site", 7, "vendor-v", 8, "retry-1", 7, body.data, body.len, false, NULL, NULL };
	struct ledger_result r1, r2;
	ledger_append_batch(L, &a, 1, &r1, &e);
	ledger_append_batch(L, &a, 1, &r2, &e);
	ok(r1.status == LEDGER_APPENDED && r2.status == LEDGER_DUPLICATE && r2.seq == r1.seq,
	   "a retried change request returns the original entry, though the ledger numbered it");
	buf_free(&body);

	uint8_t live[32], rebuilt[32];
	ok(ledger_state_digest(L, live, &e) == 0, "digest of the live derived state");
	ok(ledger_reindex(L, &e) == 0, "reindex from the log: %s", e.msg);
	ok(ledger_state_digest(L, rebuilt, &e) == 0 && memcmp(live, rebuilt, 32) == 0,
	   "the rebuilt state equals the live one");
	APPENDED("appends continue after a reindex with the next number", "change", "pr-site", false,
		 "{\"title\":\"After reindex\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}");
	like(body_of(last.seq), "\"number\":\"CR-6\"", "  CR-6");
	oversized_once_assigned();
	atomic_appends();
	struct ledger_verify_report vr;
	ok(ledger_verify(L, NULL, NULL, NULL, &vr, &e) == 0, "the whole ledger verifies");
	ledger_close(L);
	snprintf(lie_dir, sizeof lie_dir, "%s", dir);
	lies();
	/* last: its tens of thousands of entries would slow every verify above */
	if (ledger_open(&L, &o, &e)) {
		printf("Bail out! reopen: %s\n", e.msg);
		return 1;
	}
	ledger_set_clock(L, clock_fn);
	big_totals();
	ledger_close(L);
	char sdir[300];
	snprintf(sdir, sizeof sdir, "%s/schema", dir);
	ok(mkdir(sdir, 0700) == 0, "a second ledger's directory");
	replay_checks_schema(sdir);
	note_signer_free(&signer);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
