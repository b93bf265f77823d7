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
#include "ledger.h"
#include "mp.h"
#include "signer.h"
#include "tap.h"

static struct ledger *L;
static struct note_signer signer;
static int reqno;
static struct ledger_result last;
static uint64_t inv1_seq;
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
				   reqid, strlen(reqid), body.data, body.len, as_client };
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
	APPENDED("the client confirms the baseline", "response", "pr-site", true,
		 "{\"baseline\":1,\"decision\":\"approved\",\"respondent\":\"C manager\",\"channel\":\"email\"}");
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
	APPENDED("assessed as a minor revision", "assessment", "pr-site", false,
		 "{\"change\":\"CR-2\",\"class\":\"minor_revision\",\"rationale\":\"Included in the contract\"}");
	refused("a quote for a no-charge change", "no quote for a change that is not out of scope", "quote",
		"pr-site", false, "{\"change\":\"CR-2\",\"fee_minor\":1,\"effort_hours\":1}");
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
	APPENDED("the client asks for a revision", "response", "pr-app", true,
		 "{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"revise\",\"respondent\":\"D\",\"channel\":\"chat\"}");
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
	APPENDED("INV-2 paid in two payments (2)", "payment", "pr-app", false,
		 "{\"invoice\":\"INV-2\",\"amount_minor\":200000,\"date\":\"2026-02-12\"}");
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
	refused("a title beyond 200 bytes", "must be 1 to 200 bytes", "change", "pr-site", false, json);
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
	struct ledger_opts o = { dir, "test.example/domain", &signer, 0, 0, false, NULL };
	if (ledger_open(&L, &o, &e)) {
		printf("Bail out! %s\n", e.msg);
		return 1;
	}
	ledger_set_clock(L, clock_fn);
	worked_case();
	invoicing();
	refusals();

	/* a retried change request keeps its number */
	struct buf body;
	buf_init(&body);
	const char *cj = "{\"title\":\"Retry me\",\"raised_by\":\"x\",\"channel\":\"email\",\"reason\":\"defect\"}";
	json_to_canonical(cj, strlen(cj), &body, &e);
	struct ledger_append a = { "change", 6, "pr-site", 7, "vendor-v", 8, "retry-1", 7, body.data, body.len, false };
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
	like(body_of(last.seq), "\"number\":\"CR-5\"", "  CR-5");
	struct ledger_verify_report vr;
	ok(ledger_verify(L, NULL, NULL, NULL, &vr, &e) == 0, "the whole ledger verifies");
	ledger_close(L);
	note_signer_free(&signer);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
