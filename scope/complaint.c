#include "kinds.h"

#include <stdio.h>
#include <string.h>

#include "mp.h"

/* complaint cases: intake (complaint), investigation, determination and
 * reply, each its own entry naming the case, in that order */

static const char *const SPEAKS[] = { "yes", "no", "unknown", NULL };
static const char *const CLASSIFICATIONS[] = { "in_contract_fix", "additional_order", "vague", NULL };
static const char *const FACTS[] = { "confirmed", "not_confirmed", "partly", NULL };
static const char *const OUTCOMES[] = { "in_scope_fix", "additional_order", "goodwill_concession", "reject", NULL };
static const char *const RESULTS[] = { "closed", "escalated", NULL };

SCHEMA(PROMISE, "alleged promise",
       FLD("who", F_STR, true, 1, 200), FLD("when", F_STR, false, 1, 200), FLD("channel", F_STR, true, 1, 100),
       FLD("text", F_STR, true, 1, 4096), FLD("evidence_offered", F_BOOL, true, 0, 1));
SCHEMA(INTERVIEW, "interview",
       FLD("name", F_STR, true, 1, 200), FLD("role", F_STR, true, 1, 200), FLD("summary", F_STR, true, 1, 4096));
SCHEMA(TEXT, "text", FLD("text", F_STR, true, 1, 4096));
SCHEMA(S_COMPLAINT, "complaint",
       ASSIGNED("number", F_CASE), FLD("title", F_STR, true, 1, 200), FLD("claimant", F_STR, true, 1, 200),
       FLD("claimant_title", F_STR, false, 1, 200), ENUMF("via", true, CHANNELS),
       FLD("claim", F_STR, true, 1, 65536), FLD("demand", F_STR, true, 1, 65536),
       ENUMF("speaks_for_client", false, SPEAKS), ARRM("alleged_promises", false, 0, 20, &PROMISE),
       ENUMF("classification", false, CLASSIFICATIONS));
SCHEMA(S_INVESTIGATION, "investigation",
       FLD("case", F_CASE, true, 0, 0), FLD("responsible", F_STR, true, 1, 200),
       ARRS("checked_entries", false, 0, 100, F_UINT), ARRS("checked_documents", false, 0, 100, F_SHA256),
       ARRM("interviews", false, 0, 50, &INTERVIEW), ARRM("findings", false, 0, 50, &TEXT),
       FLD("effort_hours", F_UINT, false, 0, 10000000), FLD("effort_minutes", F_UINT, false, 0, 59),
       ARRM("no_record", false, 0, 50, &TEXT));
/* change: assigned when the determination opens one (open_change) */
SCHEMA(S_DETERMINATION, "determination",
       FLD("case", F_CASE, true, 0, 0), ENUMF("facts", true, FACTS), FLD("liable", F_BOOL, true, 0, 1),
       ENUMF("outcome", true, OUTCOMES), FLD("rationale", F_STR, true, 1, 65536),
       ARRS("cites", false, 0, 100, F_UINT), FLD("open_change", F_STR, false, 1, 200),
       { "change", F_CR, false, true, 0, UINT64_MAX, NULL, NULL, 0 });
SCHEMA(S_REPLY, "reply",
       FLD("case", F_CASE, true, 0, 0), FLD("text", F_STR, true, 1, 65536), ENUMF("channel", true, CHANNELS),
       FLD("from", F_STR, true, 1, 200), FLD("to", F_STR, true, 1, 200), FLD("concession", F_STR, false, 1, 4096),
       FLD("evidence_sha256", F_SHA256, false, 0, 0), ENUMF("result", true, RESULTS), FLD("evidence_held_elsewhere", F_BOOL, false, 0, 1));

static void case_key(struct ctx *x, uint64_t number, struct key *k)
{
	key_init(k, 'h', x->in->project, x->in->project_len);
	key_u64(k, number);
}

/* What comes after each stage: the stage's name as users read it and the command. */
static const struct {
	const char *stage, *next, *command;
} NEXT[] = {
	{ "open", "the investigation", "case investigate" },
	{ "investigated", "the determination (by an approver)", "case determine" },
	{ "determined", "the reply", "case respond" },
	{ "escalated", "a new determination (by an approver)", "case determine" },
};

/* The case named by the body, at one of the stages allowed (a
 * NULL-terminated list); else the refusal names its stage and what comes next. */
static int case_at(struct ctx *x, const char *what, const char *const *allowed, struct cas *cs, struct key *k)
{
	uint64_t number = val(x, "case")->u;
	case_key(x, number, k);
	int rc = LOAD(x->t, k, CAS, cs, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "CASE-%llu does not exist in project %.*s (scopectl report cases --project %.*s lists "
			      "them)", (unsigned long long)number, P(x), P(x));
	for (const char *const *a = allowed; *a; a++)
		if (strcmp(cs->stage, *a) == 0)
			return 0;
	if (strcmp(cs->stage, "closed") == 0)
		return refuse(x, "CASE-%llu was closed by entry %llu: a closed case takes no %s; open a new case "
			      "(scopectl case open)", (unsigned long long)number, (unsigned long long)cs->stage_seq,
			      what);
	for (size_t i = 0; i < sizeof NEXT / sizeof NEXT[0]; i++)
		if (strcmp(cs->stage, NEXT[i].stage) == 0)
			return refuse(x, "CASE-%llu is %s (entry %llu): it takes no %s now; the next stage is %s: "
				      "scopectl %s -p %.*s CASE-%llu", (unsigned long long)number, cs->stage,
				      (unsigned long long)cs->stage_seq, what, NEXT[i].next, NEXT[i].command, P(x),
				      (unsigned long long)number);
	return refuse(x, "CASE-%llu: its record is damaged (run scoped reindex)", (unsigned long long)number);
}

static int case_moves(struct ctx *x, struct cas *cs, const struct key *k, const char *stage)
{
	snprintf(cs->stage, sizeof cs->stage, "%s", stage);
	cs->stage_at = x->in->time_us;
	cs->stage_seq = x->in->seq;
	return SAVE(x->t, k, CAS, cs, x->e);
}

/* Each seq of a list (a value of an F_UINT array) is an earlier entry of the project. */
static int seqs_exist(struct ctx *x, const char *name)
{
	const struct value *v = val(x, name);
	struct mp_cur c;
	uint32_t n = 0;
	if (!v->present)
		return 0;
	mp_cur_init(&c, v->p, v->plen);
	mp_get_array(&c, &n, x->e);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t seq;
		struct entry en;
		mp_get_uint(&c, &seq, x->e);
		if (referenced(x, seq, &en, name))
			return -1;
	}
	return 0;
}

static int k_complaint(struct ctx *x)
{
	struct cas cs;
	struct key k;
	const struct value *title = val(x, "title");
	memset(&cs, 0, sizeof cs);
	cs.seq = x->in->seq;
	cs.number = x->proj.next_case + 1;
	cs.opened_at = x->in->time_us;
	snprintf(cs.title, sizeof cs.title, "%.*s", (int)title->len, title->s);
	case_key(x, cs.number, &k);
	if (case_moves(x, &cs, &k, "open"))
		return -1;
	x->add_name = "number";
	x->add_type = F_CASE;
	x->add_u = cs.number;
	x->proj.next_case = cs.number;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

static int k_investigation(struct ctx *x)
{
	static const char *const AT[] = { "open", NULL };
	struct cas cs;
	struct key k;
	if (case_at(x, "investigation", AT, &cs, &k))
		return -1;
	if (val(x, "checked_entries")->count + val(x, "checked_documents")->count == 0)
		return refuse(x, "an investigation names the records it checked: entries by seq, documents by their "
			      "SHA-256 (--checked SEQ|sha256:HASH,...)");
	if (has(x, "effort_minutes") && !has(x, "effort_hours"))
		return refuse(x, "effort_minutes goes with effort_hours");
	return seqs_exist(x, "checked_entries") || case_moves(x, &cs, &k, "investigated");
}

static int k_determination(struct ctx *x)
{
	static const char *const AT[] = { "investigated", "escalated", NULL };
	struct cas cs;
	struct key k;
	const struct value *outcome = val(x, "outcome");
	if (case_at(x, "determination", AT, &cs, &k) || seqs_exist(x, "cites"))
		return -1;
	if (has(x, "open_change")) {
		if (strncmp(outcome->s, "additional_order", outcome->len) != 0 || outcome->len != 16)
			return refuse(x, "only a determination of additional_order opens a change request, not one "
				      "of %.*s", (int)outcome->len, outcome->s);
		if (cs.change)
			return refuse(x, "CASE-%llu already opened CR-%llu: a case opens one change request",
				      (unsigned long long)cs.number, (unsigned long long)cs.change);
		uint64_t by;
		int closed = project_closure(x, &by);
		if (closed < 0)
			return -1;
		if (closed)
			return refuse(x, "project %.*s was closed by entry %llu: a determination opens no change request "
				      "in it (record it without --open-change)", P(x), (unsigned long long)by);
		x->add_name = "change";
		x->add_type = F_CR;
		const struct value *title = val(x, "open_change");
		struct key pk;
		key_init(&pk, 'p', x->in->project, x->in->project_len);
		if (change_open(x, title->s, title->len, false, &x->add_u) || SAVE(x->t, &pk, PROJ, &x->proj, x->e))
			return -1;
		cs.change = x->add_u;
	} else if (has(x, "change")) {
		return refuse(x, "entry %llu names a change but opens none", (unsigned long long)x->in->seq);
	}
	snprintf(cs.outcome, sizeof cs.outcome, "%.*s", (int)outcome->len, outcome->s);
	return case_moves(x, &cs, &k, "determined");
}

static int k_reply(struct ctx *x)
{
	static const char *const AT[] = { "determined", NULL };
	struct cas cs;
	struct key k;
	if (case_at(x, "reply", AT, &cs, &k))
		return -1;
	return case_moves(x, &cs, &k, val(x, "result")->s[0] == 'c' ? "closed" : "escalated");
}

const struct kind KIND_complaint = { "complaint", &S_COMPLAINT, ROLE_LEAD | ROLE_APPROVER | ROLE_CLIENT, false, false,
				     k_complaint, NULL };
const struct kind KIND_investigation = { "investigation", &S_INVESTIGATION, ROLE_LEAD | ROLE_APPROVER, false, false,
					 k_investigation, NULL };
const struct kind KIND_determination = { "determination", &S_DETERMINATION, ROLE_APPROVER, false, false,
					 k_determination, NULL };
const struct kind KIND_reply = { "reply", &S_REPLY, ROLE_LEAD | ROLE_APPROVER, false, false, k_reply, NULL };
