#include "amend.h"

#include <stdio.h>
#include <string.h>

/* notices to the client (NTC-N): the written notice of an event that
 * changes scope, cost or schedule, its expected effect, and the client's
 * acknowledgment or dispute (a response) */

static const char *const TYPES[] = { "failure", "delay_risk", "added_order", "spec_change", "effort_increase", NULL };
static const char *const FEE_SIGNS[] = { "increase", "decrease", NULL };
static const char *const SCHEDULE_SIGNS[] = { "delay", "gain", NULL };

SCHEMA(S_NOTICE, "notice",
       ASSIGNED("number", F_NTC), ENUMF("type", true, TYPES), FLD("text", F_STR, true, 1, 65536),
       FLD("fee_effect_minor", F_UINT, false, 0, AMOUNT_MAX), ENUMF("fee_effect_sign", false, FEE_SIGNS),
       FLD("schedule_days", F_UINT, false, 0, 3650), ENUMF("schedule_effect", false, SCHEDULE_SIGNS),
       FLD("respond_by", F_DATE, false, 0, 0), FLD("opens_change", F_STR, false, 1, 200),
       { "change", F_CR, false, true, 0, 0, NULL, NULL, 0 },	/* assigned when it opens a change */
       ARRS("cites", false, 0, 100, F_UINT), ARRM("documents", false, 0, 10, &SCHEMA_DOC));

static int k_notice(struct ctx *x)
{
	const struct value *type = val(x, "type"), *text = val(x, "text"), *opens = val(x, "opens_change");
	if (has(x, "fee_effect_minor") != has(x, "fee_effect_sign"))
		return refuse(x, "a fee effect is an amount with its sign: fee_effect_minor and fee_effect_sign "
			      "(increase or decrease) go together");
	if (has(x, "schedule_days") != has(x, "schedule_effect"))
		return refuse(x, "a schedule effect is a number of days with its direction: schedule_days and "
			      "schedule_effect (delay or gain) go together");
	if (x->replay && has(x, "change") && !opens->present)
		return refuse(x, "entry %llu: a notice that opens no change names none", (unsigned long long)x->in->seq);
	if (check_cites(x))
		return -1;
	struct ntc n;
	struct key k;
	memset(&n, 0, sizeof n);
	n.seq = x->in->seq;
	n.number = x->proj.notices + 1;
	n.at = x->in->time_us;
	n.has_fee = has(x, "fee_effect_minor");
	n.fee = n.has_fee ? val(x, "fee_effect_minor")->u : 0;
	n.fee_down = n.has_fee && memcmp(val(x, "fee_effect_sign")->s, "decrease", 8) == 0;
	n.has_days = has(x, "schedule_days");
	n.days = n.has_days ? val(x, "schedule_days")->u : 0;
	n.gain = n.has_days && val(x, "schedule_effect")->len == 4;	/* "gain" */
	snprintf(n.type, sizeof n.type, "%.*s", (int)type->len, type->s);
	snprintf(n.state, sizeof n.state, "unacknowledged");
	if (has(x, "respond_by"))
		snprintf(n.respond_by, sizeof n.respond_by, "%.10s", val(x, "respond_by")->s);
	state_excerpt(n.text, text->s, text->len);
	/* the change it opens is raised by this entry: the change's seq is
	 * the notice, the notice names the change */
	if (opens->present) {
		if (change_open(x, opens->s, opens->len, false, &n.change))
			return -1;
		x->add_link = "change";
		x->add_link_type = F_CR;
		x->add_link_u = n.change;
	}
	key_init(&k, 't', x->in->project, x->in->project_len);
	key_u64(&k, n.number);
	if (SAVE(x->t, &k, NTC, &n, x->e))
		return -1;
	x->add_name = "number";
	x->add_type = F_NTC;
	x->add_u = n.number;
	x->proj.notices = n.number;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

int notice_answer(struct ctx *x, uint64_t number, bool acknowledged)
{
	struct ntc n;
	struct key k;
	char what[32];
	snprintf(what, sizeof what, "NTC-%llu", (unsigned long long)number);
	key_init(&k, 't', x->in->project, x->in->project_len);
	key_u64(&k, number);
	int rc = LOAD(x->t, &k, NTC, &n, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "%s does not exist in project %.*s", what, P(x));
	if (n.response_seq)
		return refuse(x, "%s is already answered (%s, entry %llu): a notice is answered once", what, n.state,
			      (unsigned long long)n.response_seq);
	if (signatory_allows(x, false, 0, what))
		return -1;
	n.response_seq = x->in->seq;
	snprintf(n.state, sizeof n.state, acknowledged ? "acknowledged" : "disputed");
	return SAVE(x->t, &k, NTC, &n, x->e) || response_in_force(x, what, 0) ? -1 : 0;
}

const struct kind KIND_notice = { "notice", &S_NOTICE, ROLE_LEAD | ROLE_APPROVER, false, false, k_notice, NULL };
