#include "amend.h"

#include <stdio.h>
#include <string.h>

#include "isotime.h"
#include "mp.h"

/* verbal agreements and meetings (AGR-N), their written confirmation and
 * their disputes */

static const char *const TYPES[] = { "meeting", "call", "verbal", "change_consultation", NULL };
static const char *const SIDES[] = { "vendor", "client", NULL };

SCHEMA(PARTICIPANT, "participant",
       FLD("name", F_STR, true, 1, 200), ENUMF("side", true, SIDES), FLD("title", F_STR, false, 1, 200));
SCHEMA(COMMITMENT, "commitment", FLD("text", F_STR, true, 1, 4096));
SCHEMA(S_AGREEMENT, "agreement",
       ASSIGNED("number", F_AGR), FLD("date", F_DATE, true, 0, 0), ENUMF("type", true, TYPES),
       ARRM("participants", true, 1, 50, &PARTICIPANT), FLD("summary", F_STR, true, 1, 65536),
       ARRM("commitments", false, 0, 100, &COMMITMENT), ARRS("cites", false, 0, 100, F_UINT),
       ARRM("documents", false, 0, 10, &SCHEMA_DOC));
SCHEMA(S_CONFIRMATION, "confirmation",
       FLD("agreement", F_AGR, true, 0, 0), FLD("evidence_sha256", F_SHA256, true, 0, 0),
       FLD("description", F_STR, false, 1, 4096), FLD("evidence_held_elsewhere", F_BOOL, false, 0, 1));
SCHEMA(S_CONTEST, "contest",
       FLD("agreement", F_AGR, true, 0, 0), FLD("by", F_STR, true, 1, 200), FLD("reason", F_STR, true, 1, 4096));

static int load_agreement(struct ctx *x, uint64_t number, struct agr *a, struct key *k)
{
	key_init(k, 'm', x->in->project, x->in->project_len);
	key_u64(k, number);
	int rc = LOAD(x->t, k, AGR, a, x->e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return refuse(x, "AGR-%llu does not exist in project %.*s", (unsigned long long)number, P(x));
	return 0;
}

/* The sides the participants come from: bit 0 vendor, bit 1 client. */
static unsigned sides(struct ctx *x)
{
	const struct value *pv = val(x, "participants");
	struct mp_cur c;
	uint32_t count;
	unsigned seen = 0;
	mp_cur_init(&c, pv->p, pv->plen);
	mp_get_array(&c, &count, x->e);
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *start = c.p;
		struct value pvals[3];
		mp_skip(&c, 4, x->e);
		schema_read(&PARTICIPANT, start, (size_t)(c.p - start), pvals, x->e);	/* checked with the body */
		seen |= memcmp(pvals[1].s, "vendor", 6) == 0 ? 1u : 2u;	/* vendor or client */
	}
	return seen;
}

static int k_agreement(struct ctx *x)
{
	const struct value *date = val(x, "date"), *type = val(x, "type"), *summary = val(x, "summary");
	char today[40];
	time_format(x->in->time_us, true, false, today);
	today[10] = '\0';
	if (memcmp(date->s, today, 10) > 0)
		return refuse(x, "the agreement's date %.10s lies after today (%s): record an agreement once it "
			      "was made", date->s, today);
	if (type->len == 19 && sides(x) != 3)
		return refuse(x, "a change_consultation (変更協議) lists a participant from each side, vendor and "
			      "client: add the missing side's participant (--participants \"NAME|client|TITLE\",...)");
	if (check_cites(x))
		return -1;
	struct agr a;
	struct key k;
	memset(&a, 0, sizeof a);
	a.seq = x->in->seq;
	a.number = x->proj.agreements + 1;
	snprintf(a.state, sizeof a.state, "unconfirmed");
	snprintf(a.date, sizeof a.date, "%.10s", date->s);
	snprintf(a.type, sizeof a.type, "%.*s", (int)type->len, type->s);
	state_excerpt(a.summary, summary->s, summary->len);
	key_init(&k, 'm', x->in->project, x->in->project_len);
	key_u64(&k, a.number);
	if (SAVE(x->t, &k, AGR, &a, x->e))
		return -1;
	x->add_name = "number";
	x->add_type = F_AGR;
	x->add_u = a.number;
	x->proj.agreements = a.number;
	key_init(&k, 'p', x->in->project, x->in->project_len);
	return SAVE(x->t, &k, PROJ, &x->proj, x->e);
}

/* Confirms AGR-number by this entry: written evidence, or the client's
 * approving response.  A disputed agreement may still be confirmed: the
 * dispute stays on record (contest_seq). */
static int confirm(struct ctx *x, uint64_t number)
{
	struct agr a;
	struct key k;
	if (load_agreement(x, number, &a, &k))
		return -1;
	if (a.confirm_seq)
		return refuse(x, "AGR-%llu is already confirmed (entry %llu)", (unsigned long long)number,
			      (unsigned long long)a.confirm_seq);
	a.confirm_seq = x->in->seq;
	snprintf(a.state, sizeof a.state, "confirmed");
	return SAVE(x->t, &k, AGR, &a, x->e);
}

/* Records that the other side contests AGR-number. */
static int contest(struct ctx *x, uint64_t number)
{
	struct agr a;
	struct key k;
	if (load_agreement(x, number, &a, &k))
		return -1;
	if (a.confirm_seq)
		return refuse(x, "AGR-%llu is confirmed in writing (entry %llu): a dispute of it is a complaint "
			      "case or a note, not a contest", (unsigned long long)number,
			      (unsigned long long)a.confirm_seq);
	if (a.contest_seq)
		return refuse(x, "AGR-%llu is already disputed (entry %llu)", (unsigned long long)number,
			      (unsigned long long)a.contest_seq);
	a.contest_seq = x->in->seq;
	snprintf(a.state, sizeof a.state, "disputed");
	return SAVE(x->t, &k, AGR, &a, x->e);
}

static int k_confirmation(struct ctx *x)
{
	return confirm(x, val(x, "agreement")->u);
}

static int k_contest(struct ctx *x)
{
	return contest(x, val(x, "agreement")->u);
}

int agreement_answer(struct ctx *x, uint64_t number, bool approved, bool rejected)
{
	char what[32];
	snprintf(what, sizeof what, "AGR-%llu", (unsigned long long)number);
	if (!approved && !rejected)
		return refuse(x, "%s: an agreement is approved (confirmed) or rejected (disputed); a revision is a "
			      "new agreement", what);
	if (signatory_allows(x, false, 0, what) || (approved ? confirm(x, number) : contest(x, number)))
		return -1;
	return response_in_force(x, what, 0);
}

const struct kind KIND_agreement = { "agreement", &S_AGREEMENT, ROLE_LEAD | ROLE_APPROVER, false, false,
				     k_agreement, NULL };
/* The vendor records the written confirmation it holds and that the client
 * contests; the client itself answers with a response (respond --agreement),
 * which the signatory register checks. */
const struct kind KIND_confirmation = { "confirmation", &S_CONFIRMATION, ROLE_LEAD | ROLE_APPROVER, false, false,
					k_confirmation, NULL };
const struct kind KIND_contest = { "contest", &S_CONTEST, ROLE_LEAD | ROLE_APPROVER, false, false, k_contest, NULL };
