/*
 * scope/ as a library, with no storage but its in-memory map (scope_mem):
 * the map itself (byte-wise order, prefix scans that may write), the kind
 * table (role rules, known kinds), the worked case's rules from a project
 * to its payment, refusals that leave the map as it was, and the status
 * and reports read from it.  Links scope_rules and scope_proto only: no
 * LMDB, no daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "entry.h"
#include "json.h"
#include "kinds.h"
#include "kv.h"
#include "reports.h"
#include "rules.h"
#include "schema.h"
#include "state.h"
#include "tap.h"

static struct scope_mem *M;
static struct scope_kv KV;
static uint64_t next_seq;
static const uint64_t T0 = 1767225600000000ull;	/* 2026-01-01 */
static char last_err[ERR_MSG_MAX];

/* Records one entry as the daemon would: the rules on the map, then the
 * entry (with the body they return) kept for later references.  0 or -1
 * with the reason in last_err. */
static int rec(const char *kind, const char *project, bool as_client, const char *json)
{
	struct buf body, out, raw;
	struct err e = { 0 };
	buf_init(&body);
	buf_init(&out);
	buf_init(&raw);
	if (json_to_canonical(json, strlen(json), &body, &e)) {
		printf("# bad test JSON: %s: %s\n", json, e.msg);
		exit(2);
	}
	struct domain_in in = { kind, strlen(kind), project, strlen(project), body.data, body.len, as_client,
				next_seq, T0 + next_seq * 1000000, "someone", 7, NULL };
	int rc = domain_apply(&KV, &in, false, &out, &e);
	if (rc == 0) {
		struct entry en = { .version = ENTRY_VERSION, .seq = next_seq, .time_us = in.time_us,
				    .kind = kind, .kind_len = strlen(kind), .project = project,
				    .project_len = strlen(project), .author = "someone", .author_len = 7,
				    .request_id = "r", .request_id_len = 1, .body = out.data, .body_len = out.len };
		rc = entry_encode(&en, &raw, &e) || scope_mem_add_entry(M, next_seq, raw.data, raw.len, &e) ? -1 : 0;
		next_seq += rc == 0;
	}
	snprintf(last_err, sizeof last_err, "%s", rc ? e.msg : "");
	buf_free(&body);
	buf_free(&out);
	buf_free(&raw);
	return rc;
}

static const char *doc_json(int rc, struct buf *b)
{
	static char out[16384];
	struct buf j;
	buf_init(&j);
	if (rc == 0 && msgpack_to_json(b->data, b->len, &j, NULL) == 0)
		snprintf(out, sizeof out, "%s", buf_cstr(&j));
	else
		snprintf(out, sizeof out, "ERROR");
	buf_free(&j);
	buf_free(b);
	return out;
}

static const char *status_json(const char *project)
{
	struct buf b;
	buf_init(&b);
	return doc_json(report_status(&KV, project, strlen(project), NULL, &b, NULL, NULL), &b);
}

static const char *report_json(const char *name)
{
	struct buf b;
	buf_init(&b);
	return doc_json(report_named(&KV, name, NULL, 0, NULL, NULL, T0 + 40 * 86400000000ull, NULL, &b, NULL, NULL),
			&b);
}

/* ---- the map ---- */

static int collect(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v, (void)vn, (void)e;
	struct buf *b = ctx;
	buf_add(b, k, kn);
	buf_addc(b, ',');
	return 0;
}

/* each record seen writes a record after it: the scan goes on to it */
static int grow(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)v, (void)vn;
	struct scope_kv *kv = ctx;
	char nk[16];
	if (kn >= 4)
		return 0;
	memcpy(nk, k, kn);
	nk[kn] = 'z';
	return kv_put(kv, nk, kn + 1, "", 0, e);
}

static void test_map(void)
{
	struct scope_mem *m = scope_mem_new();
	struct scope_kv kv;
	struct err e = { 0 };
	const uint8_t *v;
	size_t vn;
	scope_mem_kv(m, &kv);
	static const char *const keys[] = { "b", "a\xff", "ab", "a", "c", "a\x01" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		kv_put(&kv, keys[i], strlen(keys[i]), keys[i], strlen(keys[i]), &e);
	kv_put(&kv, "ab", 2, "AB", 2, &e);
	is_int(scope_mem_count(m), 6, "six keys, one of them written twice");
	ok(kv_get(&kv, "ab", 2, &v, &vn, &e) == 1 && vn == 2 && memcmp(v, "AB", 2) == 0, "a put replaces the value");
	is_int(kv_get(&kv, "aa", 2, &v, &vn, &e), 0, "an absent key is absent");
	struct buf b;
	buf_init(&b);
	kv_scan(&kv, "a", 1, collect, &b, &e);
	is_str(buf_cstr(&b), "a,a\x01,ab,a\xff,", "a prefix scan in byte-wise order (0xff last)");
	buf_reset(&b);
	kv_scan(&kv, "", 0, collect, &b, &e);
	is_str(buf_cstr(&b), "a,a\x01,ab,a\xff,b,c,", "the empty prefix scans everything");
	kv_del(&kv, "ab", 2, &e);
	kv_del(&kv, "nothing", 7, &e);
	is_int(scope_mem_count(m), 5, "a delete removes one key, of an absent key none");
	kv_scan(&kv, "b", 1, grow, &kv, &e);
	buf_reset(&b);
	kv_scan(&kv, "b", 1, collect, &b, &e);
	is_str(buf_cstr(&b), "b,bz,bzz,bzzz,", "a scan goes on to records its callback wrote");
	buf_free(&b);
	const uint8_t *p;
	size_t n;
	ok(scope_mem_add_entry(m, 3, (const uint8_t *)"xyz", 3, &e) == 0 && kv_entry(&kv, 3, &p, &n, &e) == 0 &&
		   n == 3 && memcmp(p, "xyz", 3) == 0,
	   "an entry kept is found by its seq");
	ok(kv_entry(&kv, 2, &p, &n, &e) != 0, "  another is not");
	ok(scope_mem_add_entry(m, 3, (const uint8_t *)"x", 1, &e) != 0, "  entries are kept in order");
	scope_mem_free(m);
}

/* ---- the kind table ---- */

static void test_table(void)
{
	char known[RULES_KINDS_MAX];
	rules_kinds(known, sizeof known);
	is_str(known, "project, baseline, change, assessment, quote, response, evidence, invoice, payment, credit, void, note, correction, closure, amendment, signatory, complaint, investigation, determination, reply, delivery, accept, deemed_passed, agreement, confirmation, contest, notice, link, revoke",
	       "the known kinds, in table order");
	is_int(rules_writers("invoice", 7), ROLE_FINANCE, "finance records invoices");
	is_int(rules_writers("assessment", 10), ROLE_APPROVER, "the approver assesses");
	ok(rules_writers("change", 6) & ROLE_CLIENT, "the client may raise a change");
	is_int(rules_writers("key", 3), 0, "key entries are the log's, no role records them");
	is_int(rules_writers("memo", 4), 0, "an unknown kind has no writers");
	struct err e = { 0 };
	ok(domain_check_shape("memo", 4, (const uint8_t *)"\x80", 1, NULL, &e) != 0, "an unknown kind is refused");
	like(e.msg, "known: project, baseline", "  naming the known kinds from the table");
	size_t found = 0, i;
	for (i = 0; kind_at(i); i++)
		found += kind_find(kind_at(i)->name, strlen(kind_at(i)->name)) == kind_at(i);
	is_int((int)found, (int)i, "every kind is found by its name");
	ok(kind_find("not", 3) == NULL && kind_find("notes", 5) == NULL && kind_find("note\0", 5) == NULL &&
		   kind_find("note", 0) == NULL && kind_find("cha", 3) == NULL && kind_find("Note", 4) == NULL,
	   "  and no other name: a prefix, a longer name, a NUL after it, none, another case");
}

/* ---- the schema's messages, and reading a checked body ---- */

/* The message domain_check_shape gives for kind's body (JSON), "" if none. */
static const char *shape_msg(const char *kind, const char *json)
{
	static struct err e;
	struct buf b;
	buf_init(&b);
	err_clear(&e);
	if (json_to_canonical(json, strlen(json), &b, &e) == 0 && domain_check_shape(kind, strlen(kind), b.data, b.len, NULL, &e) == 0)
		e.msg[0] = '\0';
	buf_free(&b);
	return e.msg;
}

static void test_schema(void)
{
	/* each place a value can lie is named in full: a field of the body,
	 * an element of an array, a field of an element's map */
	is_str(shape_msg("note", "{\"text\":\"\"}"), "note.text: must be 1 to 65536 characters, not 0", "a field of the body");
	is_str(shape_msg("note", "{\"text\":\"a\\u0001\"}"), "note.text: contains a control character",
	       "  a control character in it");
	is_str(shape_msg("invoice", "{\"number\":\"I-1\",\"lines\":[{\"amount_minor\":1},{\"amount_minor\":\"x\"}]}"),
	       "invoice.lines[1].amount_minor: must be a non-negative integer", "a field of an array element's map");
	is_str(shape_msg("invoice", "{\"number\":\"I-1\",\"lines\":[5]}"), "invoice.lines[0] must be a map",
	       "an element that is no map");
	is_str(shape_msg("invoice", "{\"number\":\"I-1\",\"lines\":[{\"amount_minor\":1,\"colour\":1}]}"),
	       "invoice.lines[0]: unknown field \"colour\"", "an unknown field of an element");
	is_str(shape_msg("invoice", "{\"number\":\"I-1\",\"lines\":[{\"tax_minor\":1}]}"),
	       "invoice.lines[0]: \"amount_minor\" is required", "a required field of an element");
	is_str(shape_msg("invoice", "{\"number\":\"I-1\",\"lines\":[]}"), "invoice.lines: must have 1 to 100 elements",
	       "an array's count");
	is_str(shape_msg("change", "{\"title\":\"t\",\"raised_by\":\"r\",\"channel\":\"email\",\"reason\":\"client_request\","
			 "\"items\":[\"R1\",\"R 2\"]}"),
	       "change.items[1]: must be 1 to 64 characters of A-Z a-z 0-9 . _ -", "an element of an array of identifiers");
	is_str(shape_msg("note", "{\"colour\":1}"), "note: unknown field \"colour\"", "an unknown field of the body");
	is_str(shape_msg("note", "{}"), "note: \"text\" is required", "a required field of the body");
	is_str(shape_msg("note", "[]"), "note must be a map", "a body that is no map");
	is_str(shape_msg("change", "{\"number\":\"CR-1\"}"), "change: \"number\" is assigned by the ledger and may not be sent",
	       "an assigned field");
	is_str(shape_msg("invoice", "{\"number\":\"I-1\",\"lines\":[{\"amount_minor\":1,\"change\":\"CR-1\",\"tax_minor\":2}],"
			 "\"currency\":\"EUR\",\"due\":\"2026-02-30\"}"),
	       "invoice.due: must be a date YYYY-MM-DD", "a date that is none");

	/* schema_read gives a checked body's values exactly as schema_check */
	const struct kind *k = kind_find("invoice", 7);
	const char *json = "{\"number\":\"I-1\",\"lines\":[{\"amount_minor\":1,\"change\":\"CR-7\"},{\"contract\":true,"
			   "\"amount_minor\":2}],\"currency\":\"EUR\",\"issued\":\"2026-01-02\"}";
	struct value checked[SCHEMA_FIELDS_MAX], read[SCHEMA_FIELDS_MAX];
	struct buf b;
	struct err e = { 0 };
	buf_init(&b);
	ok(json_to_canonical(json, strlen(json), &b, &e) == 0 && schema_check(k->sc, b.data, b.len, false, checked, &e) == 0 &&
	   schema_read(k->sc, b.data, b.len, read, &e) == 0, "an invoice is checked and read: %s", e.msg);
	ok(memcmp(checked, read, k->sc->n * sizeof *read) == 0, "  reading gives the values checking does");
	is_int((int)read[schema_index(k->sc, "lines")].count, 2, "  the lines' count among them");
	k = kind_find("change", 6);
	const char *ch = "{\"title\":\"t\",\"raised_by\":\"r\",\"channel\":\"email\",\"reason\":\"client_request\","
			 "\"items\":[\"R1\"],\"proceeding\":true,\"occurred_at\":5}";
	buf_reset(&b);
	ok(json_to_canonical(ch, strlen(ch), &b, &e) == 0 && schema_check(k->sc, b.data, b.len, false, checked, &e) == 0 &&
	   schema_read(k->sc, b.data, b.len, read, &e) == 0 && memcmp(checked, read, k->sc->n * sizeof *read) == 0,
	   "a change's values read as checked (strings, an array, a boolean, a number)");
	ok(schema_read(k->sc, b.data, b.len - 1, read, &e) != 0, "a body cut short is not read: %s", e.msg);
	buf_free(&b);
}

/* A note (JSON) applied live or replayed with the mark given; 0 or -1 with
 * the reason in *e. */
static int note_in(struct scope_kv *kv, const char *json, const void *checked, bool replay, struct err *e)
{
	struct buf body, out;
	buf_init(&body);
	buf_init(&out);
	struct domain_in in = { "note", 4, "", 0, NULL, 0, false, 0, T0, "someone", 7, checked };
	int rc = json_to_canonical(json, strlen(json), &body, e);
	in.body = body.data;
	in.body_len = body.len;
	rc = rc ? rc : domain_apply(kv, &in, replay, &out, e);
	buf_free(&body);
	buf_free(&out);
	return rc;
}

/* The mark of domain_check_shape: the rules then read a body without
 * checking its schema again; anything else, and a replay, is checked. */
static void test_checked(void)
{
	struct scope_mem *m = scope_mem_new();
	struct scope_kv kv;
	struct err e = { 0 };
	struct buf b;
	const void *mark = NULL;
	scope_mem_kv(m, &kv);
	buf_init(&b);
	ok(json_to_canonical("{\"text\":\"hi\"}", 13, &b, &e) == 0 && domain_check_shape("note", 4, b.data, b.len, &mark, &e) == 0 &&
	   mark != NULL, "a note's shape is checked and marked");
	const void *none = NULL;
	ok(domain_check_shape("note", 4, b.data, b.len - 1, &none, &e) != 0 && none == NULL, "  a body cut short is not marked");
	buf_free(&b);
	ok(note_in(&kv, "{\"text\":\"hi\"}", mark, false, &e) == 0, "the checked note is applied with the mark: %s", e.msg);
	/* the mark stands for the body it was given with; here it is not, to
	 * see which paths look at it */
	static const char forged = 1;
	ok(note_in(&kv, "{\"text\":\"\"}", &forged, false, &e) != 0, "a body with any other mark is checked");
	is_str(e.msg, "note.text: must be 1 to 65536 characters, not 0", "  and refused by the schema");
	ok(note_in(&kv, "{\"text\":\"\"}", NULL, false, &e) != 0, "  so is one without");
	ok(note_in(&kv, "{\"text\":\"\"}", mark, true, &e) != 0, "a replay checks the schema, mark or not");
	is_str(e.msg, "note.text: must be 1 to 65536 characters, not 0", "  naming the field");
	ok(note_in(&kv, "{\"text\":\"\"}", mark, false, &e) == 0, "  (live, the mark is trusted: it names a checked body)");
	scope_mem_free(m);
}

/* ---- the worked case on the map ---- */

#define RECORDED(desc, ...) ok(rec(__VA_ARGS__) == 0, desc "%s%s", last_err[0] ? ": " : "", last_err)

/* A refusal: the message names why, and the map is as it was. */
static void refused(const char *desc, const char *why, const char *kind, const char *project, bool as_client,
		    const char *json)
{
	size_t before = scope_mem_count(M);
	char st[16384];
	snprintf(st, sizeof st, "%s", status_json("pr-site"));
	ok(rec(kind, project, as_client, json) != 0, "%s is refused", desc);
	like(last_err, why, "  %s", last_err);
	ok(scope_mem_count(M) == before && strcmp(st, status_json("pr-site")) == 0, "  and the state is unchanged");
}

static int dump(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	(void)e;
	struct buf *b = ctx;
	buf_printf(b, "%zu:%zu:", kn, vn);
	buf_add(b, k, kn);
	buf_add(b, v, vn);
	return 0;
}

/* The recorded entries replayed into a fresh map, as a client re-deriving
 * the state from proven entries would: the same state, record for record. */
static void replayed(void)
{
	struct scope_mem *m = scope_mem_new();
	struct scope_kv kv;
	struct buf out, a, b;
	struct err e = { 0 };
	int rc = 0;
	scope_mem_kv(m, &kv);
	buf_init(&out);
	buf_init(&a);
	buf_init(&b);
	for (uint64_t seq = 0; seq < next_seq && rc == 0; seq++) {
		const uint8_t *p;
		size_t n;
		struct entry en;
		buf_reset(&out);
		rc = kv_entry(&KV, seq, &p, &n, &e) || entry_decode(p, n, &en, &e) ||
				     domain_apply_entry(&kv, &en, false, true, NULL, &out, &e) ||
				     scope_mem_add_entry(m, seq, p, n, &e) ? -1 : 0;
	}
	ok(rc == 0, "the %llu recorded entries replay on a fresh map%s%s", (unsigned long long)next_seq,
	   rc ? ": " : "", rc ? e.msg : "");
	kv_scan(&KV, "", 0, dump, &a, &e);
	kv_scan(&kv, "", 0, dump, &b, &e);
	ok(a.len > 0 && a.len == b.len && memcmp(a.data, b.data, a.len) == 0, "  into the same derived state, byte for byte");
	buf_free(&out);
	buf_free(&a);
	buf_free(&b);
	scope_mem_free(m);
}

static void test_worked_case(void)
{
	M = scope_mem_new();
	scope_mem_kv(M, &KV);
	RECORDED("project pr-site", "project", "pr-site", false,
		 "{\"client\":\"C Corp\",\"title\":\"PR web site\",\"contract_type\":\"fixed\",\"currency\":\"JPY\","
		 "\"amount_minor\":3000000}");
	refused("a second project of the same id", "already exists", "project", "pr-site", false,
		"{\"client\":\"C\",\"title\":\"T\",\"contract_type\":\"fixed\",\"currency\":\"JPY\",\"amount_minor\":1}");
	RECORDED("a baseline", "baseline", "pr-site", false,
		 "{\"items\":[{\"id\":\"R1\",\"text\":\"Design after reference site A\"}]}");
	RECORDED("the client raises a change", "change", "pr-site", true,
		 "{\"title\":\"Redesign along site B\",\"raised_by\":\"C manager\",\"channel\":\"meeting\","
		 "\"reason\":\"client_request\",\"items\":[\"R1\"]}");
	refused("a quote before the assessment", "has not been assessed", "quote", "pr-site", false,
		"{\"change\":\"CR-1\",\"fee_minor\":1500000,\"effort_hours\":120}");
	refused("a citation of a later entry", "does not exist yet", "assessment", "pr-site", false,
		"{\"change\":\"CR-1\",\"class\":\"in_scope\",\"rationale\":\"x\",\"cites\":[99]}");
	RECORDED("assessed out of scope, citing the baseline", "assessment", "pr-site", false,
		 "{\"change\":\"CR-1\",\"class\":\"out_of_scope\",\"rationale\":\"site A\",\"cites\":[1]}");
	RECORDED("a quote", "quote", "pr-site", false, "{\"change\":\"CR-1\",\"fee_minor\":1500000,\"effort_hours\":120}");
	like(report_json("exposure"), "\"change\":\"CR-1\"", "exposure lists the quoted change");
	RECORDED("the client approves quote 1", "response", "pr-site", true,
		 "{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"approved\",\"respondent\":\"C\",\"channel\":\"email\"}");
	const char *st = status_json("pr-site");
	like(st, "\"approved_changes_minor\":1500000", "status: the approved fee");
	like(st, "\"contract_value_minor\":4500000", "  the contract value with it");
	like(report_json("unbilled"), "\"unbilled_minor\":1500000", "unbilled: the whole approved fee");
	refused("an invoice beyond the approved fee", "would exceed the approved", "invoice", "pr-site", false,
		"{\"number\":\"INV-1\",\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":1500001}]}");
	RECORDED("an invoice for it", "invoice", "pr-site", false,
		 "{\"number\":\"INV-1\",\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":1500000}]}");
	RECORDED("its payment", "payment", "pr-site", false,
		 "{\"invoice\":\"INV-1\",\"amount_minor\":1500000,\"date\":\"2026-01-01\"}");
	like(status_json("pr-site"), "\"status\":\"paid\"", "the change is paid");
	like(report_json("unbilled"), "\"rows\":[]", "  nothing unbilled");
	RECORDED("a second change", "change", "pr-site", false,
		 "{\"title\":\"Extra page\",\"raised_by\":\"V\",\"channel\":\"email\",\"reason\":\"vendor_proposal\"}");
	RECORDED("voided: the rule reads the change entry from the map", "void", "pr-site", false,
		 "{\"target\":8,\"reason\":\"raised by mistake\"}");
	like(status_json("pr-site"), "\"status\":\"withdrawn\"", "  CR-2 is withdrawn");
	refused("voiding a paid change's entry", "cannot be voided", "void", "pr-site", false,
		"{\"target\":2,\"reason\":\"x\"}");
	ok(rec("note", "", false, "{\"text\":\"a ledger-level note\"}") == 0, "a note needs no project");
	refused("an entry of a project that does not exist", "does not exist", "change", "nope", false,
		"{\"title\":\"t\",\"raised_by\":\"V\",\"channel\":\"email\",\"reason\":\"defect\"}");
	replayed();
	scope_mem_free(M);
}

/* A quote is valid through its valid_until day (UTC); an amendment binds
 * the amounts it lists, so a change whose approved total moved since (as a
 * correction recorded by other rules would move it) keeps it from being
 * signed. */
static void test_amendment_binds(void)
{
	struct key k;
	struct chg c;
	struct err e = { 0 };
	M = scope_mem_new();
	scope_mem_kv(M, &KV);
	next_seq = 0;	/* T0 + seq seconds: every entry is dated 2026-01-01 */
	RECORDED("project pr-site", "project", "pr-site", false,
		 "{\"client\":\"C\",\"title\":\"T\",\"contract_type\":\"fixed\",\"currency\":\"JPY\","
		 "\"amount_minor\":1000}");
	for (int i = 1; i <= 2; i++) {
		char q[200];
		RECORDED("a change", "change", "pr-site", false,
			 "{\"title\":\"x\",\"raised_by\":\"C\",\"channel\":\"email\",\"reason\":\"client_request\"}");
		snprintf(q, sizeof q, "{\"change\":\"CR-%d\",\"class\":\"out_of_scope\",\"rationale\":\"new\"}", i);
		RECORDED("  assessed", "assessment", "pr-site", false, q);
		snprintf(q, sizeof q, "{\"change\":\"CR-%d\",\"fee_minor\":100,\"effort_hours\":1,\"valid_until\":\"%s\"}",
			 i, i == 1 ? "2026-01-01" : "2025-12-31");
		RECORDED("  quoted", "quote", "pr-site", false, q);
	}
	RECORDED("a quote valid until today is approved", "response", "pr-site", true,
		 "{\"change\":\"CR-1\",\"quote\":1,\"decision\":\"approved\",\"respondent\":\"C\",\"channel\":\"email\"}");
	refused("approving a quote valid until yesterday", "was valid until 2025-12-31 and cannot be approved on 2026-01-01",
		"response", "pr-site", true,
		"{\"change\":\"CR-2\",\"quote\":1,\"decision\":\"approved\",\"respondent\":\"C\",\"channel\":\"email\"}");
	RECORDED("an amendment of CR-1", "amendment", "pr-site", false, "{\"lines\":[{\"change\":\"CR-1\",\"amount_minor\":100}]}");
	like(status_json("pr-site"), "\"amendment\":\"AMD-1\",\"seq\":", "  numbered AMD-1");
	key_init(&k, 'c', "pr-site", 7);
	key_u64(&k, 1);
	ok(LOAD(&KV, &k, CHG, &c, &e) == 1, "CR-1's state");
	c.approved = 90;
	ok(SAVE(&KV, &k, CHG, &c, &e) == 0, "  its approved total moves to 90");
	refused("signing AMD-1 then", "CR-1's approved total is now 90, not the 100 AMD-1 binds", "response", "pr-site",
		true, "{\"amendment\":\"AMD-1\",\"decision\":\"approved\",\"respondent\":\"C\",\"channel\":\"email\"}");
	RECORDED("rejecting it is recorded", "response", "pr-site", true,
		 "{\"amendment\":\"AMD-1\",\"decision\":\"rejected\",\"reason\":\"r\",\"respondent\":\"C\",\"channel\":\"email\"}");
	like(status_json("pr-site"), "\"state\":\"rejected\"", "  AMD-1 is rejected");
	scope_mem_free(M);
}

int main(void)
{
	test_map();
	test_table();
	test_schema();
	test_checked();
	test_worked_case();
	test_amendment_binds();
	return done_testing();
}
