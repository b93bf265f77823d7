/*
 * The client's links on a real ledger (scope/link.c): recording a link and
 * every refusal of one, answering through one (only as scoped's portal
 * records it), used, expired, revoked and superseded links, the signatory
 * a link is for (name and title as on the register, and on it still), and
 * a rebuilt state equal to the live one.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "json.h"
#include "ledger.h"
#include "rules_hook.h"
#include "signer.h"
#include "tap.h"

#define DAY 86400000000ull
static struct ledger *L;
static struct note_signer signer;
static int reqno;
static struct ledger_result last;
static uint64_t fake_now = 1767225600000000ull;	/* 2026-01-01 */
static uint64_t clock_fn(void) { return fake_now; }
static uint64_t change_seq[3];	/* the last setup's CR-1..3 */

/* Appends one entry by author; returns its status, keeps the result. */
static enum ledger_status app_as(const char *author, const char *kind, const char *project, const char *json)
{
	struct buf body;
	struct err e = { 0 };
	char reqid[32];
	bool as_client = strcmp(author, "vendor-v") != 0;
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

static void appended(const char *desc, const char *author, const char *kind, const char *project,
		     const char *json)
{
	if (!ok(app_as(author, kind, project, json) == LEDGER_APPENDED, "%s", desc))
		printf("#   %s\n", last.err.msg);
}

/* Refused with a message containing why, the log and state unchanged. */
static void refused(const char *desc, const char *why, const char *author, const char *kind, const char *project,
		    const char *json)
{
	uint8_t before[32], after[32];
	uint64_t size = ledger_size(L);
	ledger_state_digest(L, before, NULL);
	enum ledger_status st = app_as(author, kind, project, json);
	ledger_state_digest(L, after, NULL);
	ok(st == LEDGER_REJECTED && strstr(last.err.msg, why) && ledger_size(L) == size &&
	   memcmp(before, after, 32) == 0, "refused: %s", desc);
	if (st != LEDGER_REJECTED || !strstr(last.err.msg, why))
		printf("#   status %d, message \"%s\", wanted \"%s\"\n", st, last.err.msg, why);
}

/* A link body: for/item (a JSON fragment), to, expiry from now, token
 * hash of 64 times c. */
static const char *link_json(const char *item, const char *to, uint64_t expires_in, char c)
{
	static char out[512];
	char tok[65];
	memset(tok, c, 64);
	tok[64] = '\0';
	snprintf(out, sizeof out, "{%s,\"to\":\"%s\",\"expires_at\":%llu,\"token_sha256\":\"%s\"}", item, to,
		 (unsigned long long)(fake_now + expires_in), tok);
	return out;
}

/* A response through LNK-n as the portal records it, with the title typed
 * (NULL: none). */
static const char *portal_json_t(const char *item, int n, const char *respondent, const char *title)
{
	static char out[768];
	char t[128] = "";
	if (title)
		snprintf(t, sizeof t, ",\"respondent_title\":\"%s\"", title);
	snprintf(out, sizeof out, "{%s,\"decision\":\"approved\",\"respondent\":\"%s\"%s,\"channel\":\"portal\","
		 "\"link\":\"LNK-%d\",\"address\":\"192.0.2.7\",\"user_agent\":\"Mozilla/5.0 test\","
		 "\"page_sha256\":\"%s\",\"page_lang\":\"en\"}", item, respondent, t, n,
		 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	return out;
}

static const char *portal_json(const char *item, int n, const char *respondent)
{
	return portal_json_t(item, n, respondent, NULL);
}

/* LNK-number's state in the links report, now. */
static const char *state_of(const char *project, uint64_t number)
{
	static char out[32];
	char want[32];
	struct buf b, j;
	buf_init(&b);
	buf_init(&j);
	snprintf(out, sizeof out, "none");
	snprintf(want, sizeof want, "\"link\":\"LNK-%llu\"", (unsigned long long)number);
	if (ledger_report(L, "links", project, strlen(project), NULL, NULL, NULL, &b, NULL, NULL) == 0 &&
	    msgpack_to_json(b.data, b.len, &j, NULL) == 0) {
		const char *row = strstr(buf_cstr(&j), want), *st = row ? strstr(row, "\"state\":\"") : NULL;
		if (st)
			snprintf(out, sizeof out, "%.*s", (int)strcspn(st + 9, "\""), st + 9);
	}
	buf_free(&b);
	buf_free(&j);
	return out;
}

#define V "vendor-v"
#define D DOMAIN_DAEMON_AUTHOR
#define CR1 "\"for\":\"change\",\"change\":\"CR-1\",\"quote\":1"
#define ANS1 "\"change\":\"CR-1\",\"quote\":1"

static void setup(const char *p)
{
	appended("project", V, "project", p,
		 "{\"client\":\"C Corp\",\"title\":\"Site\",\"contract_type\":\"fixed\",\"currency\":\"JPY\","
		 "\"amount_minor\":3000000,\"acceptance_days\":14}");
	appended("baseline", V, "baseline", p, "{\"items\":[{\"id\":\"a\",\"text\":\"A page\"}]}");
	for (int i = 0; i < 3; i++) {
		char cr[64];
		appended("change", V, "change", p, "{\"title\":\"More\",\"raised_by\":\"C\",\"channel\":\"email\","
			 "\"reason\":\"client_request\",\"items\":[\"a\"]}");
		change_seq[i] = last.seq;
		snprintf(cr, sizeof cr, "{\"change\":\"CR-%d\",\"class\":\"out_of_scope\",\"rationale\":\"new\"}", i + 1);
		appended("assessment", V, "assessment", p, cr);
		snprintf(cr, sizeof cr, "{\"change\":\"CR-%d\",\"fee_minor\":100000,\"effort_hours\":5}", i + 1);
		appended("quote", V, "quote", p, cr);
	}
}

static void creating(void)
{
	setup("lk");
	refused("a link for a change that does not exist", "CR-9 does not exist", V, "link", "lk",
		link_json("\"for\":\"change\",\"change\":\"CR-9\",\"quote\":1", "Ms C", DAY, 'a'));
	refused("a link for an old quote revision", "quote revision 2 of CR-1 is not the current one", V, "link", "lk",
		link_json("\"for\":\"change\",\"change\":\"CR-1\",\"quote\":2", "Ms C", DAY, 'a'));
	refused("a link for an unknown notice", "NTC-1 does not exist", V, "link", "lk",
		link_json("\"for\":\"notice\",\"notice\":\"NTC-1\"", "Ms C", DAY, 'a'));
	refused("a change link without its quote", "names the quote revision", V, "link", "lk",
		link_json("\"for\":\"change\",\"change\":\"CR-1\"", "Ms C", DAY, 'a'));
	refused("a link naming another item than its for", "names exactly its baseline", V, "link", "lk",
		link_json("\"for\":\"baseline\",\"change\":\"CR-1\",\"quote\":1", "Ms C", DAY, 'a'));
	refused("a link that expires when it is made", "expires_at must be after", V, "link", "lk",
		link_json(CR1, "Ms C", 0, 'a'));
	refused("an item link for more than 90 days", "at most 90 days", V, "link", "lk",
		link_json(CR1, "Ms C", 91 * DAY, 'a'));
	refused("a project link for more than 400 days", "at most 400 days", V, "link", "lk",
		link_json("\"for\":\"project\"", "Ms C", 401 * DAY, 'a'));
	appended("a link for CR-1's quote revision 1", V, "link", "lk", link_json(CR1, "Ms C", 7 * DAY, 'a'));
	is_str(state_of("lk", 1), "open", "  LNK-1 is open");
	refused("a second link with the same token", "already a link's", V, "link", "lk",
		link_json("\"for\":\"project\"", "Ms C", 300 * DAY, 'a'));
	appended("a project link for 400 days", V, "link", "lk", link_json("\"for\":\"project\"", "Ms C", 400 * DAY, 'b'));
}

static void answering(void)
{
	refused("portal fields from a lead", "recorded only by scoped's client portal", V, "response", "lk",
		portal_json(ANS1, 1, "Ms C"));
	refused("portal fields from a client", "recorded only by scoped's client portal", "client-c", "response", "lk",
		portal_json(ANS1, 1, "Ms C"));
	refused("channel portal from a client, without the fields", "recorded only by scoped's client portal",
		"client-c", "response", "lk",
		"{" ANS1 ",\"decision\":\"approved\",\"respondent\":\"Ms C\",\"channel\":\"portal\"}");
	refused("a portal answer without its link", "together", D, "response", "lk",
		"{" ANS1 ",\"decision\":\"approved\",\"respondent\":\"Ms C\",\"channel\":\"portal\"}");
	refused("a link answered for another change", "LNK-1 is for change 1 quote revision 1", D, "response", "lk",
		portal_json("\"change\":\"CR-2\",\"quote\":1", 1, "Ms C"));
	refused("a project link answering", "LNK-2 is a project link", D, "response", "lk", portal_json(ANS1, 2, "Ms C"));
	refused("an unknown link", "LNK-9 does not exist", D, "response", "lk", portal_json(ANS1, 9, "Ms C"));
	appended("the portal records the client's answer through LNK-1", D, "response", "lk", portal_json(ANS1, 1, "Ms C"));
	is_str(state_of("lk", 1), "used", "  LNK-1 is used");
	refused("a link for an approved change", "CR-1 is approved", V, "link", "lk",
		link_json("\"for\":\"change\",\"change\":\"CR-1\",\"quote\":1", "Ms C", DAY, '9'));
}

static void ending(void)
{
	/* used twice */
	appended("LNK-3 for CR-2", V, "link", "lk", link_json("\"for\":\"change\",\"change\":\"CR-2\",\"quote\":1", "Ms C", DAY, 'c'));
	appended("answered through LNK-3", D, "response", "lk",
		 portal_json("\"change\":\"CR-2\",\"quote\":1", 3, "Ms C"));
	uint64_t a3 = last.seq;
	refused("LNK-3 used twice", "LNK-3 is used", D, "response", "lk",
		portal_json("\"change\":\"CR-2\",\"quote\":1", 3, "Ms C"));
	char fix[200];
	snprintf(fix, sizeof fix, "{\"target\":%llu,\"reason\":\"typo\",\"set\":{\"respondent\":\"Mr X\"}}",
		 (unsigned long long)a3);
	refused("a portal answer is not corrected", "the client's own answer through the portal", V, "correction", "lk",
		fix);
	snprintf(fix, sizeof fix, "{\"target\":%llu,\"reason\":\"typo\",\"set\":{\"channel\":\"portal\"}}",
		 (unsigned long long)change_seq[1]);
	refused("nothing is corrected into channel portal", "recorded only by scoped's client portal", V,
		"correction", "lk", fix);
	/* expired */
	appended("LNK-4 for CR-3, for an hour", V, "link", "lk",
		 link_json("\"for\":\"change\",\"change\":\"CR-3\",\"quote\":1", "Ms C", DAY / 24, 'd'));
	fake_now += DAY / 12;
	is_str(state_of("lk", 4), "expired", "  LNK-4 is expired two hours later");
	refused("an expired link", "LNK-4 is expired", D, "response", "lk",
		portal_json("\"change\":\"CR-3\",\"quote\":1", 4, "Ms C"));
	/* revoked */
	appended("LNK-5 for CR-3", V, "link", "lk", link_json("\"for\":\"change\",\"change\":\"CR-3\",\"quote\":1", "Ms C", DAY, 'e'));
	appended("LNK-5 revoked", V, "revoke", "lk", "{\"link\":\"LNK-5\",\"reason\":\"sent to the wrong person\"}");
	is_str(state_of("lk", 5), "revoked", "  LNK-5 is revoked");
	refused("a revoked link", "LNK-5 is revoked", D, "response", "lk",
		portal_json("\"change\":\"CR-3\",\"quote\":1", 5, "Ms C"));
	refused("revoked twice", "LNK-5 is already revoked", V, "revoke", "lk", "{\"link\":\"LNK-5\"}");
	refused("an unknown link revoked", "LNK-99 does not exist", V, "revoke", "lk", "{\"link\":\"LNK-99\"}");
	appended("a used link revoked (its read-only view ends)", V, "revoke", "lk", "{\"link\":\"LNK-3\"}");
	/* superseded by a new quote revision */
	appended("LNK-6 for CR-3", V, "link", "lk", link_json("\"for\":\"change\",\"change\":\"CR-3\",\"quote\":1", "Ms C", DAY, 'f'));
	uint64_t q2 = 0;
	appended("quote revision 2 of CR-3", V, "quote", "lk", "{\"change\":\"CR-3\",\"fee_minor\":2,\"effort_hours\":1}");
	q2 = last.seq;
	is_str(state_of("lk", 6), "superseded", "  LNK-6 is superseded by the new revision");
	refused("a link for an old revision", "LNK-6 is superseded", D, "response", "lk",
		portal_json("\"change\":\"CR-3\",\"quote\":1", 6, "Ms C"));
	/* superseded by a correction of the quote */
	appended("LNK-7 for CR-3 revision 2", V, "link", "lk",
		 link_json("\"for\":\"change\",\"change\":\"CR-3\",\"quote\":2", "Ms C", DAY, '0'));
	char cj[160];
	snprintf(cj, sizeof cj, "{\"target\":%llu,\"reason\":\"typo in the fee\",\"set\":{\"fee_minor\":3}}",
		 (unsigned long long)q2);
	appended("the quote corrected", V, "correction", "lk", cj);
	is_str(state_of("lk", 7), "superseded", "  LNK-7 is superseded by the correction");
	refused("a link superseded by a correction", "LNK-7 is superseded", D, "response", "lk",
		portal_json("\"change\":\"CR-3\",\"quote\":2", 7, "Ms C"));
	/* superseded by a void of the change */
	appended("LNK-8 for CR-3 revision 2", V, "link", "lk",
		 link_json("\"for\":\"change\",\"change\":\"CR-3\",\"quote\":2", "Ms C", DAY, '1'));
	snprintf(cj, sizeof cj, "{\"target\":%llu,\"reason\":\"raised twice\"}", (unsigned long long)change_seq[2]);
	appended("CR-3 voided", V, "void", "lk", cj);
	is_str(state_of("lk", 8), "superseded", "  LNK-8 is superseded by the void");
	/* superseded by a new baseline version */
	appended("LNK-9 for baseline 1", V, "link", "lk", link_json("\"for\":\"baseline\",\"baseline\":1", "Ms C", DAY, '7'));
	appended("baseline version 2", V, "baseline", "lk", "{\"items\":[{\"id\":\"a\",\"text\":\"A page, in blue\"}]}");
	is_str(state_of("lk", 9), "superseded", "  LNK-9 is superseded by the new version");
}

static void signatories(void)
{
	setup("sg");
	appended("a signatory", V, "signatory", "sg", "{\"action\":\"add\",\"name\":\"Ms C\",\"title\":\"Director\"}");
	appended("another", V, "signatory", "sg", "{\"action\":\"add\",\"name\":\"Mr D\",\"title\":\"Manager\"}");
	refused("a link for someone not on the register", "Mr X is not on project sg's signatory register", V, "link",
		"sg", link_json(CR1, "Mr X", DAY, '2'));
	/* 200 characters of 3 bytes: longer than any name a register holds */
	char long_name[601], body[1024];
	for (int i = 0; i < 200; i++)
		memcpy(long_name + 3 * i, "\xe3\x81\x82", 3);
	long_name[600] = '\0';
	snprintf(body, sizeof body, "{" CR1 ",\"to\":\"%s\",\"expires_at\":%llu,\"token_sha256\":\"%064d\"}", long_name,
		 (unsigned long long)(fake_now + DAY), 0);
	refused("a link for a name longer than any on the register (named first: the message is cut)", "\xe3\x81\x82\xe3\x81\x82", V,
		"link", "sg", body);
	snprintf(body, sizeof body, "{" ANS1 ",\"decision\":\"approved\",\"respondent\":\"%s\",\"channel\":\"email\"}",
		 long_name);
	refused("a response by such a name", "\xe3\x81\x82\xe3\x81\x82", V, "response", "sg", body);
	appended("a link for Ms C", V, "link", "sg", link_json(CR1, "Ms C", DAY, '3'));
	refused("another signatory answering through it", "LNK-1 is for Ms C", D, "response", "sg",
		portal_json(ANS1, 1, "Mr D"));
	refused("Ms C answering through it without her title", "whose title on project sg's signatory register is "
		"\"Director\": the answer gives that title exactly, not \"\"", D, "response", "sg", portal_json(ANS1, 1, "Ms C"));
	refused("Ms C answering with another signatory's title", "not \"Manager\"", D, "response", "sg",
		portal_json_t(ANS1, 1, "Ms C", "Manager"));
	refused("Ms C answering with her title and a space", "not \"Director \"", D, "response", "sg",
		portal_json_t(ANS1, 1, "Ms C", "Director "));
	refused("Ms C answering with her title in other case", "not \"director\"", D, "response", "sg",
		portal_json_t(ANS1, 1, "Ms C", "director"));
	appended("Ms C answering through it with her title", D, "response", "sg",
		 portal_json_t(ANS1, 1, "Ms C", "Director"));
	appended("a delivery", V, "delivery", "sg", "{\"deliverable\":\"The site\"}");
	appended("a link for DLV-1", V, "link", "sg", link_json("\"for\":\"delivery\",\"delivery\":\"DLV-1\"", "Ms C", DAY, '4'));
	refused("an accept through it with another title", "whose title on project sg's signatory register is "
		"\"Director\"", D, "accept", "sg",
		"{\"delivery\":\"DLV-1\",\"outcome\":\"passed\",\"respondent\":\"Ms C\",\"respondent_title\":\"CEO\","
		"\"channel\":\"portal\",\"link\":\"LNK-2\",\"address\":\"192.0.2.7\",\"user_agent\":\"UA\",\"page_lang\":\"ja\","
		"\"page_sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}");
	appended("accepted through it", D, "accept", "sg",
		 "{\"delivery\":\"DLV-1\",\"outcome\":\"passed\",\"respondent\":\"Ms C\",\"respondent_title\":\"Director\","
		 "\"channel\":\"portal\","
		 "\"link\":\"LNK-2\",\"address\":\"192.0.2.7\",\"user_agent\":\"UA\",\"page_lang\":\"ja\","
		 "\"page_sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}");
	is_str(state_of("sg", 2), "used", "  LNK-2 is used");
	appended("a link for Mr D to CR-2", V, "link", "sg",
		 link_json("\"for\":\"change\",\"change\":\"CR-2\",\"quote\":1", "Mr D", DAY, '8'));
	appended("Mr D leaves the register", V, "signatory", "sg",
		 "{\"action\":\"remove\",\"name\":\"Mr D\",\"reason\":\"left the client\"}");
	refused("his link answers nothing", "LNK-3 is for Mr D, who is not on project sg's signatory register now: "
		"the link answers nothing", D, "response", "sg",
		portal_json_t("\"change\":\"CR-2\",\"quote\":1", 3, "Mr D", "Manager"));
	refused("  not even with a name on the register", "LNK-3 is for Mr D, who is not on", D, "response", "sg",
		portal_json_t("\"change\":\"CR-2\",\"quote\":1", 3, "Ms C", "Director"));
	appended("Mr D on the register again", V, "signatory", "sg",
		 "{\"action\":\"add\",\"name\":\"Mr D\",\"title\":\"Adviser\"}");
	refused("  his old title no longer his", "is \"Adviser\"", D, "response", "sg",
		portal_json_t("\"change\":\"CR-2\",\"quote\":1", 3, "Mr D", "Manager"));
	appended("  his title now answers", D, "response", "sg",
		 portal_json_t("\"change\":\"CR-2\",\"quote\":1", 3, "Mr D", "Adviser"));
	appended("a project is closed", V, "closure", "sg", "{\"outcome\":\"closed\",\"reason\":\"done\"}");
	refused("an item link in a closed project", "was closed by entry", V, "link", "sg",
		link_json("\"for\":\"baseline\",\"baseline\":1", "Ms C", DAY, '5'));
	appended("a project link in a closed project", V, "link", "sg", link_json("\"for\":\"project\"", "Ms C", DAY, '6'));
}

int main(void)
{
	struct err e = { 0 };
	char dir[256], kp[300];
	snprintf(dir, sizeof dir, "%s/scope-link-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 2;
	snprintf(kp, sizeof kp, "%s/signing.key", dir);
	if (signer_generate(kp, &e) || signer_load(&signer, kp, "test.example/link", &e))
		return 2;
	struct ledger_opts o = { dir, "test.example/link", &signer, 0, 0, false, NULL, rules_hook(), NULL };
	if (ledger_open(&L, &o, &e)) {
		printf("Bail out! %s\n", e.msg);
		return 1;
	}
	ledger_set_clock(L, clock_fn);
	creating();
	answering();
	ending();
	signatories();
	uint8_t live[32], rebuilt[32];
	ok(ledger_state_digest(L, live, &e) == 0, "digest of the live derived state");
	ok(ledger_reindex(L, &e) == 0, "reindex from the log: %s", e.msg);
	ok(ledger_state_digest(L, rebuilt, &e) == 0 && memcmp(live, rebuilt, 32) == 0,
	   "the rebuilt state equals the live one");
	is_str(state_of("lk", 8), "superseded", "  LNK-8 is still superseded after the reindex");
	struct ledger_verify_report vr;
	ok(ledger_verify(L, NULL, NULL, NULL, &vr, &e) == 0, "the whole ledger verifies: %s", e.msg);
	ledger_close(L);
	note_signer_free(&signer);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
