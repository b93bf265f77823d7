/* C2SP tlog-policy: parsing, the quorum over real cosignatures, split views. */
#include <stdio.h>
#include <string.h>

#include "cosig.h"
#include "note.h"
#include "policy.h"
#include "tap.h"

/* The published cosignature/v1 vector of test_cosig.c. */
static const char LOG_VKEY[] = "example.com/vector-log+4516a1da+ARGkVJ4QEa2MOOLGBO6i7NVSJ1FQ97tIX+w+Ku0RZ6Em";
static const char WIT_VKEY[] = "witness.example.com/vector+416f103d+BK/QmJFVP3SKJOqAMhFxBQPtylo3sjwWibyFDAlZKK8B";
static const char TEXT[] = "example.com/vector-log\n1234\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n";
static const char LOG_LINE[] = "\xe2\x80\x94 example.com/vector-log RRah2qlLrSlk6J8DA1HmNewppUM15Quhs5cAIb1KjBsV3otVirJTW8AFVsQtJkTW1Zny7GuoAxZpI6bUPcpM68QOIgE=\n";
static const char WIT_LINE[] = "\xe2\x80\x94 witness.example.com/vector QW8QPQAAAABqwLUbDdj7sDNRIVjmjYgqFI6y4UJhPg/UAA8J8wAdqSd3q4PedRhkgXA4xFN/Jg5uWn7ZkBA+H/UHQs5d9hITdXmQAA==\n";

#define NW 6
static struct cosig_signer sig[NW];
static char vk[NW][NOTE_VKEY_MAX];

static int parse(const char *text, struct policy *p, struct err *e)
{
	memset(e, 0, sizeof *e);
	return policy_parse(text, strlen(text), p, e);
}

/* The policy text with %1..%6 replaced by the six witnesses' vkeys. */
static const char *keys(const char *tmpl)
{
	static char out[16384];
	size_t o = 0;
	for (const char *s = tmpl; *s && o < sizeof out - NOTE_VKEY_MAX; s++) {
		if (*s == '%' && s[1] >= '1' && s[1] <= '6') {
			o += (size_t)snprintf(out + o, sizeof out - o, "%s", vk[s[1] - '1']);
			s++;
		} else
			out[o++] = *s;
	}
	out[o] = '\0';
	return out;
}

/* TEXT with the log's line and the cosignatures of the witnesses in mask. */
static void note(unsigned mask, struct buf *b)
{
	struct err e = { 0 };
	buf_reset(b);
	buf_printf(b, "%s\n%s", TEXT, LOG_LINE);
	for (unsigned i = 0; i < NW; i++)
		if (mask & (1u << i))
			cosig_sign(&sig[i], TEXT, strlen(TEXT), 1000 + i, b, &e);
}

static const char EXAMPLE[] =
	"# the specification's example, with keys\n"
	"log example.com/vector-log+4516a1da+ARGkVJ4QEa2MOOLGBO6i7NVSJ1FQ97tIX+w+Ku0RZ6Em\n"
	"\n"
	"witness X1 %1\n"
	"witness X2 %2 https://x2.example/\n"
	"  witness\tX3   %3  \n"
	"group X-witnesses 2 X1 X2 X3\n"
	"witness Y1 %4\n"
	"witness Y2 %5\n"
	"witness Y3 %6\n"
	"group Y-witnesses any Y1 Y2 Y3\n"
	"group X-and-Y all X-witnesses Y-witnesses\n"
	"quorum X-and-Y\n";

int main(void)
{
	struct err e = { 0 };
	static struct policy p;
	struct buf b;
	buf_init(&b);
	for (unsigned i = 0; i < NW; i++) {
		uint8_t seed[32];
		char name[32];
		struct cosig_verifier v;
		struct buf f;
		memset(seed, (int)(i + 1), sizeof seed);
		snprintf(name, sizeof name, "w%u.example", i + 1);
		cosig_signer_from_seed(&sig[i], name, seed, &e);
		cosig_signer_verifier(&sig[i], &v);
		buf_init(&f);
		cosig_verifier_format(&v, &f);
		snprintf(vk[i], sizeof vk[i], "%s", buf_cstr(&f));
		buf_free(&f);
	}

	/* the example */
	ok(parse(keys(EXAMPLE), &p, &e) == 0, "the specification's example parses");
	is_int(p.nlogs, 1, "  one log");
	is_int(p.nwitnesses, 6, "  six witnesses");
	is_int(p.ngroups, 3, "  three groups");
	is_str(policy_quorum_name(&p), "X-and-Y", "  the quorum");
	is_str(p.witness[1].url, "https://x2.example/", "  a witness's URL");
	is_str(p.witness[2].name, "X3", "  tabs and spaces separate items");
	is_int(p.group[0].k, 2, "  a numeric threshold");
	is_int(p.group[1].k, 1, "  any is 1");
	is_int(p.group[2].k, 2, "  all is every member");
	struct note_verifier lv;
	note_verifier_parse(LOG_VKEY, strlen(LOG_VKEY), &lv, &e);
	ok(policy_accepts_log(&p, &lv), "  the listed log is accepted");
	struct note_verifier other = lv;
	other.pub[0] ^= 1;
	ok(!policy_accepts_log(&p, &other), "  another log key is not");

	/* the quorum over real signatures: X1 X2 X3 are bits 0-2, Y1-Y3 3-5 */
	struct { unsigned mask; int met; const char *what; } q[] = {
		{ 0x00, 0, "no cosignature" },
		{ 0x03, 0, "two X, no Y" },
		{ 0x09, 0, "one X and one Y" },
		{ 0x0b, 1, "two X and one Y" },
		{ 0x3f, 1, "everyone" },
		{ 0x38, 0, "every Y, no X" },
		{ 0x26, 1, "X2, X3 and Y3" },
	};
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
		note(q[i].mask, &b);
		memset(&e, 0, sizeof e);
		int rc = policy_check(&p, (const char *)b.data, b.len, &e);
		ok((rc == 0) == q[i].met, "%s: the quorum is %s", q[i].what, q[i].met ? "met" : "not met");
	}
	note(0x09, &b);
	policy_check(&p, (const char *)b.data, b.len, &e);
	like(e.msg, "quorum X-and-Y", "  the error names the quorum");
	like(e.msg, "cosigned by: X1, Y1", "  who cosigned");
	like(e.msg, "not by: X2, X3, Y2, Y3", "  and who did not");
	/* a forged line for a known witness fails the note */
	note(0x3f, &b);
	b.data[b.len - 3] ^= 1;
	ok(policy_check(&p, (const char *)b.data, b.len, &e) != 0, "a cosignature that does not verify fails the note");

	/* split views: two disjoint halves of the witnesses, each meeting the quorum */
	ok(!policy_split_possible(&p), "the example cannot be split (2 of 3 X on each side is impossible)");
	struct { const char *text; int split; } sv[] = {
		{ "witness A %1\nquorum A\n", 0 },
		{ "quorum none\n", 1 },
		{ "witness A %1\nwitness B %2\ngroup G any A B\nquorum G\n", 1 },
		{ "witness A %1\nwitness B %2\ngroup G all A B\nquorum G\n", 0 },
		{ "witness A %1\nwitness B %2\nwitness C %3\nwitness D %4\ngroup G 2 A B C D\nquorum G\n", 1 },
		{ "witness A %1\nwitness B %2\nwitness C %3\nwitness D %4\ngroup G 3 A B C D\nquorum G\n", 0 },
		{ "witness A %1\nwitness B %2\nwitness C %3\nwitness D %4\n"
		  "group AB any A B\ngroup CD any C D\ngroup G all AB CD\nquorum G\n", 1 },
		{ "witness A %1\nwitness B %2\nwitness C %3\nwitness D %4\n"
		  "group AB all A B\ngroup CD any C D\ngroup G all AB CD\nquorum G\n", 0 },
	};
	for (size_t i = 0; i < sizeof sv / sizeof sv[0]; i++) {
		int rc = parse(keys(sv[i].text), &p, &e);
		ok(rc == 0 && policy_split_possible(&p) == (sv[i].split != 0), "split view %s: policy %zu",
		   sv[i].split ? "possible" : "impossible", i + 1);
	}

	/* the published vector under a one-witness policy */
	char one[512];
	snprintf(one, sizeof one, "log %s\nwitness W %s\nquorum W\n", LOG_VKEY, WIT_VKEY);
	ok(parse(one, &p, &e) == 0, "a one-witness policy");
	buf_reset(&b);
	buf_printf(&b, "%s\n%s%s", TEXT, LOG_LINE, WIT_LINE);
	ok(policy_check(&p, (const char *)b.data, b.len, &e) == 0, "  the published cosignature meets it");
	buf_reset(&b);
	buf_printf(&b, "%s\n%s", TEXT, LOG_LINE);
	ok(policy_check(&p, (const char *)b.data, b.len, &e) != 0, "  without it, not");
	ok(parse("quorum none\n", &p, &e) == 0 && policy_check(&p, (const char *)b.data, b.len, &e) == 0,
	   "quorum none needs no cosignature");
	ok(parse("quorum none", &p, &e) == 0, "the last line may lack its newline");

	/* refusals, each naming the line and the fault */
	struct { const char *text, *want; } bad[] = {
		{ "", "no quorum line" },
		{ "witness A %1\n", "no quorum line" },
		{ "quorum none\nquorum none\n", "line 2: a second quorum line" },
		{ "quorum A\n", "line 1: \"A\" is not none or a witness or group defined" },
		{ "group G any A\nwitness A %1\nquorum G\n", "line 1: \"A\" is not a witness or group defined on an earlier" },
		{ "witness A %1\nwitness A %2\nquorum A\n", "line 2: \"A\" is defined already" },
		{ "witness none %1\nquorum none\n", "\"none\" is reserved" },
		{ "witness A %1\nwitness B %1\nquorum A\n", "witness B has the key of witness A" },
		{ "witness A %1\ngroup G any A none\nquorum G\n", "none cannot be a member" },
		{ "witness A %1\ngroup G any A A\nquorum G\n", "\"A\" is listed twice" },
		{ "witness A %1\nwitness B %2\ngroup G any A\ngroup H any A B\nquorum H\n", "line 4: \"A\" is a member of an earlier group" },
		{ "witness A %1\ngroup G 2 A\nquorum G\n", "the threshold 2 is not from 1 to the 1 members" },
		{ "witness A %1\ngroup G 0 A\nquorum G\n", "the threshold 0" },
		{ "witness A %1\ngroup G two A\nquorum G\n", "\"two\" is not all, any or a number" },
		{ "witness A %1\ngroup G any\nquorum G\n", "write a group as" },
		{ "witness A\nquorum none\n", "write a witness as" },
		{ "witness A %1 https://a/ extra\nquorum none\n", "write a witness as" },
		{ "witness A example.com/vector-log+4516a1da+ARGkVJ4QEa2MOOLGBO6i7NVSJ1FQ97tIX+w+Ku0RZ6Em\nquorum none\n", "line 1: witness A's key" },
		{ "log %1\nquorum none\n", "line 1: the log key" },
		{ "quorum none\r\n", "byte 0x0d is not allowed" },
		{ "quorum none\nwitnesses A %1\n", "line 2: \"witnesses\" is not log, witness, group or quorum" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		int rc = parse(keys(bad[i].text), &p, &e);
		ok(rc != 0, "refused: %s", bad[i].want);
		like(e.msg, bad[i].want, "  says so");
	}
	char twice[1024];
	snprintf(twice, sizeof twice, "log %s\nlog %s https://log/\nquorum none\n", LOG_VKEY, LOG_VKEY);
	ok(parse(twice, &p, &e) != 0, "a log listed twice is refused");
	like(e.msg, "line 2", "  on its second line");
	ok(policy_load("/nonexistent/policy", &p, &e) != 0, "a missing file is refused");
	like(e.msg, "/nonexistent/policy", "  naming the path");

	for (unsigned i = 0; i < NW; i++)
		cosig_signer_free(&sig[i]);
	buf_free(&b);
	return done_testing();
}
