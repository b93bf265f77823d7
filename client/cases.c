#define _GNU_SOURCE
#include "cases.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "offline.h"
#include "numbers.h"
#include "online.h"
#include "orders.h"
#include "result.h"
#include "show.h"
#include "spelling.h"
#include "textfile.h"

/* case open|investigate|determine|respond: the four stages of a complaint */

#define CASE_MULTI 50

struct cargs {
	struct record_opts rec;
	const char *project, *title, *claimant, *claimant_title, *via, *claim, *demand, *speaks, *cls,
		*responsible, *checked, *effort, *facts, *liable, *outcome, *rationale, *cites, *open_change, *text,
		*text_file, *encoding, *channel, *from, *to, *concession, *evidence;
	const char *promise[CASE_MULTI], *interview[CASE_MULTI], *finding[CASE_MULTI], *no_record[CASE_MULTI];
	int npromise, ninterview, nfinding, nno_record;
	bool close, escalate, upload;
	int npos;
	char *pos[2];
};

static int usage(const char *cmd, const char *msg)
{
	fprintf(stderr, "scopectl case %s: %s (see scopectl help case)\n", cmd, msg);
	return CTL_EXIT_USAGE;
}

enum {
	C_TITLE = 400, C_CLAIMANT, C_CTITLE, C_VIA, C_CLAIM, C_DEMAND, C_SPEAKS, C_PROMISE, C_CLASS, C_RESP,
	C_CHECKED, C_INTERVIEW, C_FINDING, C_EFFORT, C_NORECORD, C_FACTS, C_LIABLE, C_OUTCOME, C_RATIONALE,
	C_CITES, C_OPEN, C_TEXT, C_TEXTFILE, C_ENCODING, C_CHANNEL, C_FROM, C_TO, C_CONCESSION, C_EVIDENCE,
	C_CLOSE, C_ESCALATE, C_RECEIPT, C_REQID, C_UPLOAD,
};

static int many(const char **list, int *n, const char *v, const char *opt)
{
	if (*n == CASE_MULTI)
		return usage(opt, "given too many times");
	list[(*n)++] = v;
	return 0;
}

static int parse(int argc, char **argv, struct profile *p, struct cargs *a)
{
	static const struct option opts[] = {
		CONN_LONGOPTS,
		{ "json", no_argument, NULL, 'j' }, { "project", required_argument, NULL, 'p' },
		{ "receipt", required_argument, NULL, C_RECEIPT }, { "request-id", required_argument, NULL, C_REQID },
		{ "title", required_argument, NULL, C_TITLE }, { "claimant", required_argument, NULL, C_CLAIMANT },
		{ "claimant-title", required_argument, NULL, C_CTITLE }, { "via", required_argument, NULL, C_VIA },
		{ "claim", required_argument, NULL, C_CLAIM }, { "demand", required_argument, NULL, C_DEMAND },
		{ "speaks-for-client", required_argument, NULL, C_SPEAKS },
		{ "alleged-promise", required_argument, NULL, C_PROMISE },
		{ "classification", required_argument, NULL, C_CLASS },
		{ "responsible", required_argument, NULL, C_RESP }, { "checked", required_argument, NULL, C_CHECKED },
		{ "interview", required_argument, NULL, C_INTERVIEW }, { "finding", required_argument, NULL, C_FINDING },
		{ "effort-hours", required_argument, NULL, C_EFFORT }, { "no-record", required_argument, NULL, C_NORECORD },
		{ "facts", required_argument, NULL, C_FACTS }, { "liable", required_argument, NULL, C_LIABLE },
		{ "outcome", required_argument, NULL, C_OUTCOME }, { "rationale", required_argument, NULL, C_RATIONALE },
		{ "cites", required_argument, NULL, C_CITES }, { "open-change", required_argument, NULL, C_OPEN },
		{ "text", required_argument, NULL, C_TEXT }, { "text-file", required_argument, NULL, C_TEXTFILE },
		{ "encoding", required_argument, NULL, C_ENCODING }, { "channel", required_argument, NULL, C_CHANNEL },
		{ "from", required_argument, NULL, C_FROM }, { "to", required_argument, NULL, C_TO },
		{ "concession", required_argument, NULL, C_CONCESSION }, { "evidence", required_argument, NULL, C_EVIDENCE },
		{ "close", no_argument, NULL, C_CLOSE }, { "escalate", no_argument, NULL, C_ESCALATE },
		{ "upload", no_argument, NULL, C_UPLOAD },
		{ 0, 0, 0, 0 },
	};
	struct err e = { 0 };
	int c, rc = 0;
	memset(a, 0, sizeof *a);
	if ((rc = conn_preload(argc, argv, opts, "c:p:", p)))
		return rc;
	while (rc == 0 && (c = conn_getopt(argc, argv, "c:p:", opts, p)) >= 0) {
		switch (c) {
		case 'j': a->rec.json = true; break;
		case 'p': a->project = optarg; break;
		case C_RECEIPT: a->rec.receipt = optarg; break;
		case C_REQID: a->rec.request_id = optarg; break;
		case C_TITLE: a->title = optarg; break;
		case C_CLAIMANT: a->claimant = optarg; break;
		case C_CTITLE: a->claimant_title = optarg; break;
		case C_VIA: a->via = spelling_enum(optarg); break;
		case C_CLAIM: a->claim = optarg; break;
		case C_DEMAND: a->demand = optarg; break;
		case C_SPEAKS: a->speaks = spelling_enum(optarg); break;
		case C_PROMISE: rc = many(a->promise, &a->npromise, optarg, "--alleged-promise"); break;
		case C_CLASS: a->cls = spelling_enum(optarg); break;
		case C_RESP: a->responsible = optarg; break;
		case C_CHECKED: a->checked = optarg; break;
		case C_INTERVIEW: rc = many(a->interview, &a->ninterview, optarg, "--interview"); break;
		case C_FINDING: rc = many(a->finding, &a->nfinding, optarg, "--finding"); break;
		case C_EFFORT: a->effort = optarg; break;
		case C_NORECORD: rc = many(a->no_record, &a->nno_record, optarg, "--no-record"); break;
		case C_FACTS: a->facts = spelling_enum(optarg); break;
		case C_LIABLE: a->liable = optarg; break;
		case C_OUTCOME: a->outcome = spelling_enum(optarg); break;
		case C_RATIONALE: a->rationale = optarg; break;
		case C_CITES: a->cites = optarg; break;
		case C_UPLOAD: a->upload = true; break;
		case C_OPEN: a->open_change = optarg; break;
		case C_TEXT: a->text = optarg; break;
		case C_TEXTFILE: a->text_file = optarg; break;
		case C_ENCODING: a->encoding = optarg; break;
		case C_CHANNEL: a->channel = spelling_enum(optarg); break;
		case C_FROM: a->from = optarg; break;
		case C_TO: a->to = optarg; break;
		case C_CONCESSION: a->concession = optarg; break;
		case C_EVIDENCE: a->evidence = optarg; break;
		case C_CLOSE: a->close = true; break;
		case C_ESCALATE: a->escalate = true; break;
		default: return usage(argv[0], "bad option");
		}
	}
	if (rc || c == CONN_GETOPT_BAD)
		return CTL_EXIT_USAGE;
	for (; optind < argc; optind++) {
		if (a->npos == 2)
			return usage(argv[0], "too many arguments");
		a->pos[a->npos++] = argv[optind];
	}
	if (profile_check(p, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* Splits v at '|' into exactly n parts (min..n: the rest empty); 0 ok. */
static int split(const char *v, char *tmp, size_t size, char **part, int min, int n)
{
	snprintf(tmp, size, "%s", v);
	int k = 0;
	for (char *p = tmp; k < n; k++) {
		part[k] = p;
		char *bar = strchr(p, '|');
		if (bar == NULL) {
			for (int j = k + 1; j < n; j++)
				part[j] = p + strlen(p);
			return k + 1 >= min ? 0 : -1;
		}
		*bar = '\0';
		p = bar + 1;
	}
	return strchr(part[n - 1], '|') ? -1 : 0;
}

/* "key":[{..},..] from repeated "A|B|C" options, the parts named by keys. */
static int maps(struct buf *b, const char *key, const char *const *list, int count, const char *const *keys, int n,
		const char *opt, const char *form)
{
	if (count == 0)
		return 0;
	body_raw(b, key, "[");
	for (int i = 0; i < count; i++) {
		char tmp[8192], *part[5];
		if (split(list[i], tmp, sizeof tmp, part, n, n))
			return usage(opt, form);
		buf_adds(b, i ? ",{" : "{");
		size_t at = b->len;
		for (int j = 0; j < n; j++)
			if (*part[j] || b->len == at) {
				if (b->len > at)
					buf_addc(b, ',');
				json_put_str(b, keys[j], strlen(keys[j]));
				buf_addc(b, ':');
				json_put_str(b, part[j], strlen(part[j]));
			}
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	return 0;
}

/* "key":[{"text":..},..] */
static void texts(struct buf *b, const char *key, const char *const *list, int count)
{
	if (count == 0)
		return;
	body_raw(b, key, "[");
	for (int i = 0; i < count; i++) {
		buf_adds(b, i ? ",{" : "{");
		body_str(b, "text", list[i]);
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
}

static int yes_no(const char *opt, const char *v, bool *out)
{
	if (v && (strcmp(v, "yes") == 0 || strcmp(v, "no") == 0)) {
		*out = v[0] == 'y';
		return 0;
	}
	fprintf(stderr, "scopectl case: %s is yes or no, not \"%s\"\n", opt, v ? showz(v) : "");
	return -1;
}

static int c_open(struct session *s, struct buf *b, const struct cargs *a)
{
	(void)s;
	static const char *const KEYS[] = { "who", "when", "channel", "text" };
	if (!a->title || !a->claimant || !a->via || !a->claim || !a->demand || a->npos != 0)
		return usage("open", "needs -p P, --title, --claimant, --via, --claim and --demand");
	body_str(b, "title", a->title);
	body_str(b, "claimant", a->claimant);
	if (a->claimant_title)
		body_str(b, "claimant_title", a->claimant_title);
	body_str(b, "via", a->via);
	body_str(b, "claim", a->claim);
	body_str(b, "demand", a->demand);
	if (a->speaks)
		body_str(b, "speaks_for_client", a->speaks);
	if (a->cls)
		body_str(b, "classification", a->cls);
	if (a->npromise == 0)
		return 0;
	body_raw(b, "alleged_promises", "[");
	for (int i = 0; i < a->npromise; i++) {
		char tmp[8192], *part[5];
		bool evidence = false;
		if (split(a->promise[i], tmp, sizeof tmp, part, 4, 5) || !*part[0] || !*part[2] || !*part[3] ||
		    (*part[4] && yes_no("the fifth part of --alleged-promise (evidence offered)", part[4], &evidence)))
			return usage("open", "--alleged-promise is \"WHO|WHEN|CHANNEL|TEXT\" or \"WHO|WHEN|CHANNEL|TEXT|yes\" "
				     "(evidence offered; no by default); WHEN may be empty (no date given)");
		buf_adds(b, i ? ",{" : "{");
		for (int j = 0; j < 4; j++)
			if (*part[j])
				body_str(b, KEYS[j], part[j]);
		body_raw(b, "evidence_offered", evidence ? "true" : "false");
		buf_addc(b, '}');
	}
	buf_addc(b, ']');
	return 0;
}

static int c_investigate(struct session *s, struct buf *b, const struct cargs *a)
{
	(void)s;
	static const char *const KEYS[] = { "name", "role", "summary" };
	if (!a->responsible || !a->checked || a->npos != 1)
		return usage("investigate", "expected: case investigate -p P CASE-N --responsible NAME --checked "
			     "SEQ|sha256:HASH|file:PATH,...");
	body_str(b, "case", a->pos[0]);
	body_str(b, "responsible", a->responsible);
	struct buf seqs, docs;
	buf_init(&seqs);
	buf_init(&docs);
	char tmp[8192];
	snprintf(tmp, sizeof tmp, "%s", a->checked);
	int rc = 0;
	for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
		bool file = strncmp(t, "file:", 5) == 0;
		struct buf *to = file || strncmp(t, "sha256:", 7) == 0 ? &docs : &seqs;
		char hex[65];
		uint64_t seq;
		if (to == &seqs && number_whole("--checked", t, UINT64_MAX, &seq))
			rc = -1;
		if (file && orders_file_hash(t + 5, hex))	/* a document checked: its hash, made here */
			rc = -1;
		buf_addc(to, to->len ? ',' : '[');
		if (file)
			json_put_str(to, hex, 64);
		else if (to == &docs)
			json_put_str(to, t + 7, strlen(t + 7));
		else
			buf_adds(to, t);
	}
	if (seqs.len)
		buf_addc(&seqs, ']'), body_raw(b, "checked_entries", buf_cstr(&seqs));
	if (docs.len)
		buf_addc(&docs, ']'), body_raw(b, "checked_documents", buf_cstr(&docs));
	buf_free(&seqs);
	buf_free(&docs);
	uint64_t minutes;
	if (rc == 0 && a->effort) {
		if (number_hours("--effort-hours", a->effort, &minutes))
			return CTL_EXIT_USAGE;
		body_num(b, "effort_hours", minutes / 60);
		if (minutes % 60)
			body_num(b, "effort_minutes", minutes % 60);
	}
	texts(b, "findings", a->finding, a->nfinding);
	texts(b, "no_record", a->no_record, a->nno_record);
	return rc ? CTL_EXIT_USAGE
		  : maps(b, "interviews", a->interview, a->ninterview, KEYS, 3, "investigate",
			 "--interview is \"NAME|ROLE|SUMMARY\"");
}

static int c_determine(struct session *s, struct buf *b, const struct cargs *a)
{
	(void)s;
	bool liable;
	if (!a->facts || !a->liable || !a->outcome || !a->rationale || a->npos != 1)
		return usage("determine", "expected: case determine -p P CASE-N --facts confirmed|not_confirmed|partly "
			     "--liable yes|no --outcome OUTCOME --rationale TEXT [--cites SEQ,...] [--open-change TITLE]");
	if (yes_no("--liable", a->liable, &liable))
		return CTL_EXIT_USAGE;
	body_str(b, "case", a->pos[0]);
	body_str(b, "facts", a->facts);
	body_raw(b, "liable", liable ? "true" : "false");
	body_str(b, "outcome", a->outcome);
	body_str(b, "rationale", a->rationale);
	if (a->open_change)
		body_str(b, "open_change", a->open_change);
	if (a->cites) {
		char raw[4200];
		snprintf(raw, sizeof raw, "[%s]", a->cites);
		body_raw(b, "cites", raw);
	}
	return 0;
}

static int c_respond(struct session *s, struct buf *b, const struct cargs *a)
{
	if (!!a->text + !!a->text_file != 1 || !a->channel || !a->from || !a->to || a->close == a->escalate ||
	    a->npos != 1)
		return usage("respond", "expected: case respond -p P CASE-N --text TEXT|--text-file F --channel CHANNEL "
			     "--from NAME --to NAME [--concession TEXT] [--evidence FILE] and one of --close or --escalate");
	body_str(b, "case", a->pos[0]);
	if (a->text) {
		body_str(b, "text", a->text);
	} else {
		struct buf t;
		buf_init(&t);
		int rc = textfile_read(a->text_file, a->encoding, 65536, &t);
		if (rc == 0)
			body_str(b, "text", buf_cstr(&t));
		buf_free(&t);
		if (rc)
			return CTL_EXIT_USAGE;
	}
	body_str(b, "channel", a->channel);
	body_str(b, "from", a->from);
	body_str(b, "to", a->to);
	if (a->concession)
		body_str(b, "concession", a->concession);
	int rc = a->evidence ? orders_evidence_json(s, a->upload, a->project, a->evidence, b) : 0;
	if (rc)
		return rc;
	body_str(b, "result", a->close ? "closed" : "escalated");
	return 0;
}

int cmd_case(int argc, char **argv)
{
	static const struct {
		const char *name, *kind, *assigned;
		int (*fn)(struct session *, struct buf *, const struct cargs *);
	} SUB[] = {
		{ "open", "complaint", "number", c_open }, { "investigate", "investigation", NULL, c_investigate },
		{ "determine", "determination", "change", c_determine }, { "respond", "reply", NULL, c_respond },
	};
	struct profile p;
	struct cargs a;
	size_t i = 0;
	while (argc > 1 && i < sizeof SUB / sizeof SUB[0] && strcmp(SUB[i].name, argv[1]))
		i++;
	if (argc < 2 || i == sizeof SUB / sizeof SUB[0]) {
		fprintf(stderr, "scopectl case: expected open, investigate, determine, respond or risk (see scopectl "
			"help case)\n");
		return CTL_EXIT_USAGE;
	}
	int rc = parse(argc - 1, argv + 1, &p, &a);
	if (rc)
		return rc;
	if (!a.project)
		return usage(SUB[i].name, "needs -p PROJECT");
	struct buf b;
	struct session s;
	buf_init(&b);
	buf_addc(&b, '{');
	/* the session first: --evidence FILE --upload sends the file before the entry */
	if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK && (rc = SUB[i].fn(&s, &b, &a)) == 0)
		rc = orders_record(&s, &a.rec, SUB[i].kind, a.project, &b, SUB[i].assigned);
	sess_close(&s);
	buf_free(&b);
	return rc;
}
