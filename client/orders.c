#define _GNU_SOURCE
#include "orders.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "currency.h"
#include "enc.h"
#include "entry.h"
#include "fileio.h"
#include "files.h"
#include "isotime.h"
#include "json.h"
#include "mp.h"
#include "numbers.h"
#include "offline.h"
#include "online.h"
#include "receipt.h"
#include "record.h"
#include "result.h"
#include "show.h"
#include "spelling.h"
#include "textfile.h"
#include "views.h"
#include "witness.h"

enum {
	O_CLIENT = 300, O_TITLE, O_CURRENCY, O_AMOUNT, O_TYPE, O_ACCEPT, O_VLEAD, O_CLEAD, O_DOC, O_ITEM,
	O_RULE, O_BY, O_VIA, O_REASON, O_ITEMS, O_PROCEEDING, O_OCCURRED, O_TEXTFILE, O_CLASS,
	O_RATIONALE, O_CITES, O_FEE, O_EFFORT, O_SCHEDULE, O_VALID, O_TAX, O_CHANGE, O_QUOTE, O_BASELINE,
	O_DECISION, O_EVIDENCE, O_EDIT, O_DATE, O_DESCRIPTION, O_RECEIPT, O_REQID, O_ENCODING,
	O_PAYDAYS, O_ISSUED, O_DUE, O_CONTRACT, O_CHANGES, O_EFFECTIVE, O_AMENDMENT, O_LIMIT, O_SET,
	O_DELIVERABLE, O_OUTCOME,
	O_KIND, O_PARTICIPANTS, O_SUMMARY, O_COMMITMENT, O_FEEFX, O_RESPONDBY, O_OPENS, O_AGREEMENT, O_NOTICE, O_TEXT, O_UPLOAD, O_MEDIA, O_RESPONSE,
};

#define MAXMULTI 100

struct oargs {
	bool json, proceeding, edit, upload;
	const char *project, *receipt, *request_id;
	const char *client, *title, *currency, *amount, *type, *accept, *vlead, *clead, *rule, *by, *via,
		*reason, *items, *occurred, *text_file, *cls, *rationale, *cites, *fee, *effort, *schedule,
		*valid, *tax, *quote, *baseline, *decision, *evidence, *date, *description, *encoding,
		*payment_days, *issued, *due, *contract, *change_list, *effective, *amendment, *limit,
		*deliverable, *outcome, *media_type, *response, *output;
	const char *kind, *participants, *summary, *fee_effect, *respond_by, *opens_change, *agreement, *notice, *text;
	const char *docs[MAXMULTI], *item[MAXMULTI], *changes[MAXMULTI], *set[MAXMULTI], *commitment[MAXMULTI];
	int ndocs, nitem, nchanges, nset, ncommitment;
	char valid_date[11], date_date[11], issued_date[11], due_date[11], effective_date[11];	/* as YYYY-MM-DD */
	char respond_by_date[11];
	int npos;
	char *pos[MAXMULTI];
};

static int usage(const char *cmd, const char *msg)
{
	fprintf(stderr, "scopectl %s: %s (see scopectl help %s)\n", cmd, msg, cmd);
	return CTL_EXIT_USAGE;
}

static const char TIME_FORMS[] = "YYYY-MM-DD, or an ISO 8601 time such as 2025-06-03T10:30:00+09:00, "
				  "2025-06-03T01:30:00Z or 2025-06-03T10:30 (local time)";

/* A date option: a date, or a time whose date as written is taken. */
static int date_option(const char *cmd, const char *opt, const char **v, char out[11])
{
	if (*v == NULL)
		return 0;
	if (time_parse_date(*v, out)) {
		fprintf(stderr, "scopectl %s: %s \"%s\" is not a date: write %s\n", cmd, opt, showz(*v), TIME_FORMS);
		return -1;
	}
	*v = out;
	return 0;
}

static int parse(const char *cmd, int argc, char **argv, struct profile *p, struct oargs *a)
{
	static const struct option opts[] = {
		CONN_LONGOPTS,
		{ "json", no_argument, NULL, 'j' }, { "project", required_argument, NULL, 'p' },
		{ "receipt", required_argument, NULL, O_RECEIPT }, { "request-id", required_argument, NULL, O_REQID },
		{ "client", required_argument, NULL, O_CLIENT }, { "title", required_argument, NULL, O_TITLE },
		{ "currency", required_argument, NULL, O_CURRENCY }, { "amount", required_argument, NULL, O_AMOUNT },
		{ "type", required_argument, NULL, O_TYPE }, { "acceptance-days", required_argument, NULL, O_ACCEPT },
		{ "vendor-lead", required_argument, NULL, O_VLEAD }, { "client-lead", required_argument, NULL, O_CLEAD },
		{ "doc", required_argument, NULL, O_DOC }, { "item", required_argument, NULL, O_ITEM },
		{ "rule", required_argument, NULL, O_RULE }, { "by", required_argument, NULL, O_BY },
		{ "via", required_argument, NULL, O_VIA }, { "reason", required_argument, NULL, O_REASON },
		{ "items", required_argument, NULL, O_ITEMS }, { "proceeding", no_argument, NULL, O_PROCEEDING },
		{ "occurred", required_argument, NULL, O_OCCURRED }, { "text-file", required_argument, NULL, O_TEXTFILE },
		{ "class", required_argument, NULL, O_CLASS }, { "rationale", required_argument, NULL, O_RATIONALE },
		{ "cites", required_argument, NULL, O_CITES }, { "fee", required_argument, NULL, O_FEE },
		{ "effort-hours", required_argument, NULL, O_EFFORT },
		{ "schedule-days", required_argument, NULL, O_SCHEDULE },
		{ "valid-until", required_argument, NULL, O_VALID }, { "tax", required_argument, NULL, O_TAX },
		{ "change", required_argument, NULL, O_CHANGE }, { "quote", required_argument, NULL, O_QUOTE },
		{ "baseline", required_argument, NULL, O_BASELINE }, { "decision", required_argument, NULL, O_DECISION },
		{ "evidence", required_argument, NULL, O_EVIDENCE }, { "edit", no_argument, NULL, O_EDIT },
		{ "date", required_argument, NULL, O_DATE }, { "description", required_argument, NULL, O_DESCRIPTION },
		{ "encoding", required_argument, NULL, O_ENCODING },
		{ "payment-days", required_argument, NULL, O_PAYDAYS }, { "issued", required_argument, NULL, O_ISSUED },
		{ "due", required_argument, NULL, O_DUE }, { "contract", required_argument, NULL, O_CONTRACT },
		{ "changes", required_argument, NULL, O_CHANGES },
		{ "effective", required_argument, NULL, O_EFFECTIVE },
		{ "amendment", required_argument, NULL, O_AMENDMENT }, { "limit", required_argument, NULL, O_LIMIT },
		{ "set", required_argument, NULL, O_SET },
		{ "deliverable", required_argument, NULL, O_DELIVERABLE },
		{ "outcome", required_argument, NULL, O_OUTCOME },
		{ "kind", required_argument, NULL, O_KIND }, { "participants", required_argument, NULL, O_PARTICIPANTS },
		{ "summary", required_argument, NULL, O_SUMMARY }, { "commitment", required_argument, NULL, O_COMMITMENT },
		{ "fee-effect", required_argument, NULL, O_FEEFX }, { "respond-by", required_argument, NULL, O_RESPONDBY },
		{ "opens-change", required_argument, NULL, O_OPENS },
		{ "agreement", required_argument, NULL, O_AGREEMENT }, { "notice", required_argument, NULL, O_NOTICE },
		{ "text", required_argument, NULL, O_TEXT }, { "upload", no_argument, NULL, O_UPLOAD },
		{ "media-type", required_argument, NULL, O_MEDIA }, { "output", required_argument, NULL, 'o' },
		{ "response", required_argument, NULL, O_RESPONSE },
		{ 0, 0, 0, 0 },
	};
	struct err e = { 0 };
	int c, rc;
	memset(a, 0, sizeof *a);
	if ((rc = conn_preload(argc, argv, opts, "c:p:o:", p)))
		return rc;
	while ((c = conn_getopt(argc, argv, "c:p:o:", opts, p)) >= 0) {
		switch (c) {
		case 'j': a->json = true; break;
		case 'p': a->project = optarg; break;
		case O_RECEIPT: a->receipt = optarg; break;
		case O_REQID: a->request_id = optarg; break;
		case O_CLIENT: a->client = optarg; break;
		case O_TITLE: a->title = optarg; break;
		case O_CURRENCY: a->currency = spelling_upper(optarg); break;
		case O_AMOUNT: a->amount = optarg; break;
		case O_TYPE: a->type = spelling_enum(optarg); break;
		case O_ACCEPT: a->accept = optarg; break;
		case O_VLEAD: a->vlead = optarg; break;
		case O_CLEAD: a->clead = optarg; break;
		case O_RULE: a->rule = optarg; break;
		case O_BY: a->by = optarg; break;
		case O_VIA: a->via = spelling_enum(optarg); break;
		case O_REASON: a->reason = optarg; break;
		case O_ITEMS: a->items = optarg; break;
		case O_PROCEEDING: a->proceeding = true; break;
		case O_OCCURRED: a->occurred = optarg; break;
		case O_TEXTFILE: a->text_file = optarg; break;
		case O_CLASS: a->cls = spelling_enum(optarg); break;
		case O_RATIONALE: a->rationale = optarg; break;
		case O_CITES: a->cites = optarg; break;
		case O_FEE: a->fee = optarg; break;
		case O_EFFORT: a->effort = optarg; break;
		case O_SCHEDULE: a->schedule = optarg; break;
		case O_VALID: a->valid = optarg; break;
		case O_TAX: a->tax = optarg; break;
		case O_QUOTE: a->quote = optarg; break;
		case O_BASELINE: a->baseline = optarg; break;
		case O_DECISION: a->decision = spelling_enum(optarg); break;
		case O_EVIDENCE: a->evidence = optarg; break;
		case O_EDIT: a->edit = true; break;
		case O_UPLOAD: a->upload = true; break;
		case O_MEDIA: a->media_type = optarg; break;
		case O_RESPONSE: a->response = optarg; break;
		case 'o': a->output = optarg; break;
		case O_DATE: a->date = optarg; break;
		case O_DESCRIPTION: a->description = optarg; break;
		case O_ENCODING: a->encoding = optarg; break;
		case O_PAYDAYS: a->payment_days = optarg; break;
		case O_ISSUED: a->issued = optarg; break;
		case O_DUE: a->due = optarg; break;
		case O_CONTRACT: a->contract = optarg; break;
		case O_CHANGES: a->change_list = optarg; break;
		case O_EFFECTIVE: a->effective = optarg; break;
		case O_AMENDMENT: a->amendment = optarg; break;
		case O_LIMIT: a->limit = optarg; break;
		case O_DELIVERABLE: a->deliverable = optarg; break;
		case O_OUTCOME: a->outcome = optarg; break;
		case O_KIND: a->kind = spelling_enum(optarg); break;
		case O_PARTICIPANTS: a->participants = optarg; break;
		case O_SUMMARY: a->summary = optarg; break;
		case O_FEEFX: a->fee_effect = optarg; break;
		case O_RESPONDBY: a->respond_by = optarg; break;
		case O_OPENS: a->opens_change = optarg; break;
		case O_AGREEMENT: a->agreement = optarg; break;
		case O_NOTICE: a->notice = optarg; break;
		case O_TEXT: a->text = optarg; break;
		case O_COMMITMENT:
			if (a->ncommitment == MAXMULTI)
				return usage(cmd, "too many --commitment");
			a->commitment[a->ncommitment++] = optarg;
			break;
		case O_DOC:
			if (a->ndocs == MAXMULTI)
				return usage(cmd, "too many --doc");
			a->docs[a->ndocs++] = optarg;
			break;
		case O_ITEM:
			if (a->nitem == MAXMULTI)
				return usage(cmd, "too many --item");
			a->item[a->nitem++] = optarg;
			break;
		case O_SET:
			if (a->nset == MAXMULTI)
				return usage(cmd, "too many --set");
			a->set[a->nset++] = optarg;
			break;
		case O_CHANGE:
			if (a->nchanges == MAXMULTI)
				return usage(cmd, "too many --change");
			a->changes[a->nchanges++] = optarg;
			break;
		default:
			return usage(cmd, "bad option");
		}
	}
	if (c == CONN_GETOPT_BAD)
		return CTL_EXIT_USAGE;
	for (; optind < argc; optind++) {
		if (a->npos == MAXMULTI)
			return usage(cmd, "too many arguments");
		a->pos[a->npos++] = argv[optind];
	}
	if (a->encoding && !a->text_file)
		return usage(cmd, "--encoding is the encoding of --text-file, which is missing");
	if (date_option(cmd, "--valid-until", &a->valid, a->valid_date) ||
	    date_option(cmd, "--date", &a->date, a->date_date) ||
	    date_option(cmd, "--issued", &a->issued, a->issued_date) ||
	    date_option(cmd, "--due", &a->due, a->due_date) ||
	    date_option(cmd, "--effective", &a->effective, a->effective_date) ||
	    date_option(cmd, "--respond-by", &a->respond_by, a->respond_by_date))
		return CTL_EXIT_USAGE;
	if (profile_check(p, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* ---- body building (JSON text, then the strict JSON parser) ---- */

void body_str(struct buf *b, const char *k, const char *v)
{
	if (b->len && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[')
		buf_addc(b, ',');
	json_put_str(b, k, strlen(k));
	buf_addc(b, ':');
	json_put_str(b, v, strlen(v));
}

void body_raw(struct buf *b, const char *k, const char *raw)
{
	if (b->len && b->data[b->len - 1] != '{' && b->data[b->len - 1] != '[')
		buf_addc(b, ',');
	json_put_str(b, k, strlen(k));
	buf_addc(b, ':');
	buf_adds(b, raw);
}

void body_num(struct buf *b, const char *k, uint64_t v)
{
	char n[32];
	snprintf(n, sizeof n, "%llu", (unsigned long long)v);
	body_raw(b, k, n);
}

static bool parse_uint(const char *s, uint64_t *v)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0';
}

__attribute__((format(printf, 1, 2)))
static int fail_usage(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "scopectl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_USAGE;
}

/* A file an entry cites: with --upload (or the profile's upload = yes) stored
 * into project's evidence store first, so the ledger holds it; else hashed
 * here only, and the entry must say it is held elsewhere (*stored false).
 * Without a session (s NULL) it is hashed only.  0 or the exit code, said. */
static int cite_file(struct session *s, const struct oargs *a, const char *project, const char *path, char hex[65],
		     uint64_t *size, bool *stored)
{
	struct err e = { 0 };
	uint8_t sha[32];
	bool held;
	*stored = s && (a->upload || s->prof->upload);
	if (*stored ? files_upload(s, project, path, sha, size, &held, &e) : files_hash(path, sha, size, &e))
		return ctl_report(&e);
	hex_encode(sha, 32, hex);
	return 0;
}

/* {"name":..,"sha256":..,"size":..[,"held_elsewhere":true]} for a file. */
static int doc_json(struct session *s, const struct oargs *a, const char *project, const char *path, struct buf *b)
{
	char hex[65];
	uint64_t size;
	bool stored;
	int rc = cite_file(s, a, project, path, hex, &size, &stored);
	if (rc)
		return rc;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	buf_addc(b, '{');
	body_str(b, "name", base);
	body_str(b, "sha256", hex);
	body_num(b, "size", size);
	if (!stored)
		body_raw(b, "held_elsewhere", "true");
	buf_addc(b, '}');
	return 0;
}

static int docs_json(struct session *s, const struct oargs *a, const char *project, struct buf *b)
{
	if (a->ndocs == 0)
		return 0;
	if (b->len > 1)
		buf_addc(b, ',');
	buf_adds(b, "\"documents\":[");
	for (int i = 0; i < a->ndocs; i++) {
		if (i)
			buf_addc(b, ',');
		int rc = doc_json(s, a, project, a->docs[i], b);
		if (rc)
			return rc;
	}
	buf_addc(b, ']');
	return 0;
}

int orders_file_hash(const char *path, char hex[65])
{
	uint8_t sha[32];
	uint64_t size;
	struct err e = { 0 };
	if (files_hash(path, sha, &size, &e)) {
		ctl_report(&e);
		return -1;
	}
	hex_encode(sha, 32, hex);
	return 0;
}

int orders_evidence_json(struct session *s, bool upload, const char *project, const char *path, struct buf *b)
{
	struct oargs a = { .upload = upload };
	char hex[65];
	uint64_t size;
	bool stored;
	int rc = cite_file(s, &a, project, path, hex, &size, &stored);
	if (rc)
		return rc;
	body_str(b, "evidence_sha256", hex);
	if (!stored)
		body_raw(b, "evidence_held_elsewhere", "true");
	return 0;
}

/* A comma list of identifiers or numbers as a JSON array. */
static void list_json(struct buf *b, const char *key, const char *csv, bool numbers)
{
	if (b->len > 1)
		buf_addc(b, ',');
	json_put_str(b, key, strlen(key));
	buf_adds(b, ":[");
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", csv);
	int i = 0;
	for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (i++)
			buf_addc(b, ',');
		if (numbers)
			buf_adds(b, t);
		else
			json_put_str(b, t, strlen(t));
	}
	buf_addc(b, ']');
}

/* Long texts: --text-file FILE ("-" = stdin), or $EDITOR with --edit. */
static int long_text(const struct oargs *a, struct buf *out)
{
	if (a->text_file)
		return textfile_read(a->text_file, a->encoding, 65536, out);
	if (!a->edit)
		return 0;
	char path[] = "/tmp/scopectl-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return fail_usage("cannot create a temporary file: %s", strerror(errno));
	close(fd);
	const char *ed = getenv("EDITOR");
	pid_t pid = fork();
	if (pid == 0) {
		execlp(ed && *ed ? ed : "vi", ed && *ed ? ed : "vi", path, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	struct err e = { 0 };
	int rc = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? read_file(path, 65536, out, &e) : -1;
	unlink(path);
	if (rc)
		return fail_usage("the editor failed");
	while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == ' '))
		out->len--;
	return 0;
}

/* ---- talking to the server ---- */

struct projinfo {
	char currency[4];
	int exp;
};

static int project_info(struct session *s, const char *project, struct projinfo *pi, struct err *e)
{
	const uint8_t *res;
	size_t len;
	sess_begin(s, "status", 1);
	mp_pack_cstr(&s->req, "project");
	mp_pack_cstr(&s->req, project);
	if (sess_call(s, 2, &res, &len, e))
		return -1;
	struct mp_cur c;
	if (mp_map_find(res, len, "status", &c, e) != 1)
		return err_setc(e, CTL_EXIT_CONN, "server response lacks \"status\"");
	const uint8_t *st = c.p;
	mp_skip(&c, 8, e);
	size_t sn = (size_t)(c.p - st);
	const char *cur;
	size_t cn;
	uint64_t exp;
	if (res_str(st, sn, "currency", &cur, &cn, e) || res_u64(st, sn, "exponent", &exp, e) || cn != 3)
		return -1;
	memcpy(pi->currency, cur, 3);
	pi->currency[3] = '\0';
	pi->exp = (int)exp;
	return 0;
}

static int amount(const char *text, const struct projinfo *pi, uint64_t *minor, const char *what)
{
	struct err e = { 0 };
	if (amount_parse(text, pi->exp, minor, &e)) {
		fprintf(stderr, "scopectl: %s: %s (%s)\n", what, e.msg, showz(pi->currency));
		return -1;
	}
	return 0;
}

/* Records one entry; prints it with what the ledger assigned. */
int orders_record(struct session *s, const struct record_opts *a, const char *kind, const char *project,
		  struct buf *json, const char *assigned)
{
	struct err e = { 0 };
	struct buf body;
	buf_init(&body);
	buf_addc(json, '}');
	if (buf_failed(json) || json_to_canonical((const char *)json->data, json->len, &body, &e)) {
		fprintf(stderr, "scopectl %s: %s\n", kind, e.msg);
		buf_free(&body);
		return CTL_EXIT_USAGE;
	}
	char reqid[ENTRY_REQID_MAX + 1];
	if (record_request_id(a->request_id, reqid)) {
		buf_free(&body);
		return usage(kind, "--request-id is too long");
	}
	struct recorded r;
	int rc = record_append(s, kind, project, reqid, body.data, body.len, &r, &e) ? ctl_report(&e) : CTL_EXIT_OK;
	buf_free(&body);
	if (rc)
		goto out;
	char value[64] = "";
	if (assigned) {
		struct mp_cur c;
		struct mp_item it;
		if (mp_map_find(r.en.body, r.en.body_len, assigned, &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0) {
			if (it.type == MP_STR)
				snprintf(value, sizeof value, "%s", show((const char *)it.p, it.n));
			else if (it.type == MP_UINT)
				snprintf(value, sizeof value, "%s %llu", assigned, (unsigned long long)it.u);
		}
	}
	char h[65];
	hex_encode(r.leaf, HASH_LEN, h);
	if (a->json) {
		struct buf out;
		buf_init(&out);
		entry_to_json(&r.en, r.leaf, &out, &e);
		printf("{\"seq\":%llu,\"leaf_hash\":\"%s\",\"checkpoint_size\":%llu,\"entry\":%s}\n",
		       (unsigned long long)r.seq, h, (unsigned long long)r.cp.size, buf_cstr(&out));
		buf_free(&out);
	} else {
		printf("recorded %s%s%s in %s as entry %llu (leaf %.16s...), proven in the checkpoint of size %llu\n",
		       kind, value[0] ? " " : "", value, project, (unsigned long long)r.seq, h,
		       (unsigned long long)r.cp.size);
	}
	/* the receipt: the entry, its proof and the checkpoint the proof is for */
	if (a->receipt && receipt_write(a->receipt, &r.raw, &r.pr, &r.note))
		rc = CTL_EXIT_USAGE;
out:
	record_free(&r);
	return rc;
}

static int record(struct session *s, const struct oargs *a, const char *kind, const char *project,
		  struct buf *json, const char *assigned)
{
	const struct record_opts o = { a->json, a->receipt, a->request_id };
	return orders_record(s, &o, kind, project, json, assigned);
}

/* ---- the commands ---- */

/* project close|cancel -p ID --reason TEXT */
static int c_closure(struct session *s, const struct oargs *a)
{
	if (a->npos != 1 || !a->project || !a->reason)
		return usage("project", "expected: project close|cancel -p ID --reason TEXT");
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "outcome", strcmp(a->pos[0], "close") == 0 ? "closed" : "cancelled");
	body_str(&b, "reason", a->reason);
	int rc = record(s, a, "closure", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

static int c_project(struct session *s, const struct oargs *a)
{
	if (a->npos >= 1 && (strcmp(a->pos[0], "close") == 0 || strcmp(a->pos[0], "cancel") == 0))
		return c_closure(s, a);
	if (a->npos != 2 || strcmp(a->pos[0], "create") != 0)
		return usage("project", "expected: project create ID --client NAME --title TEXT --currency CODE --amount AMOUNT");
	if (!a->client || !a->title || !a->currency || !a->amount)
		return usage("project create", "needs --client, --title, --currency and --amount");
	int exp = currency_exponent(a->currency, strlen(a->currency));
	if (exp < 0)
		return fail_usage("unknown currency %s (ISO 4217 code, e.g. JPY, USD, EUR)", a->currency);
	struct projinfo pi = { "", exp };
	snprintf(pi.currency, sizeof pi.currency, "%s", a->currency);
	uint64_t minor, days;
	if (amount(a->amount, &pi, &minor, "--amount"))
		return CTL_EXIT_USAGE;
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "client", a->client);
	body_str(&b, "title", a->title);
	body_str(&b, "currency", a->currency);
	body_num(&b, "amount_minor", minor);
	body_str(&b, "contract_type", a->type ? a->type : "fixed");
	if (a->vlead)
		body_str(&b, "vendor_lead", a->vlead);
	if (a->clead)
		body_str(&b, "client_lead", a->clead);
	if (a->accept) {
		if (number_whole("--acceptance-days", a->accept, 3650, &days)) {
			buf_free(&b);
			return CTL_EXIT_USAGE;
		}
		body_num(&b, "acceptance_days", days);
	}
	if (a->payment_days) {
		if (number_whole("--payment-days", a->payment_days, 3650, &days)) {
			buf_free(&b);
			return CTL_EXIT_USAGE;
		}
		body_num(&b, "payment_days", days);
	}
	int rc = docs_json(s, a, a->pos[1], &b);
	rc = rc ? rc : record(s, a, "project", a->pos[1], &b, NULL);
	buf_free(&b);
	return rc;
}

static int c_baseline(struct session *s, const struct oargs *a)
{
	if (a->npos != 1 || strcmp(a->pos[0], "add") != 0 || !a->project)
		return usage("baseline", "expected: baseline add -p ID --item KEY=TEXT... [--doc FILE...] [--rule TEXT]");
	if (a->nitem == 0)
		return usage("baseline add", "needs at least one --item KEY=TEXT");
	struct buf b;
	buf_init(&b);
	buf_adds(&b, "{\"items\":[");
	for (int i = 0; i < a->nitem; i++) {
		const char *eq = strchr(a->item[i], '=');
		if (eq == NULL || eq == a->item[i]) {
			buf_free(&b);
			return usage("baseline add", "--item is KEY=TEXT");
		}
		if (i)
			buf_addc(&b, ',');
		buf_adds(&b, "{\"id\":");
		json_put_str(&b, a->item[i], (size_t)(eq - a->item[i]));
		buf_adds(&b, ",\"text\":");
		json_put_str(&b, eq + 1, strlen(eq + 1));
		buf_addc(&b, '}');
	}
	buf_addc(&b, ']');
	if (a->rule)
		body_str(&b, "rule", a->rule);
	int rc = docs_json(s, a, a->project, &b);
	rc = rc ? rc : record(s, a, "baseline", a->project, &b, "version");
	buf_free(&b);
	return rc;
}

static int c_change(struct session *s, const struct oargs *a)
{
	if (a->npos != 2 || !a->project)
		return usage("change", "expected: change raise|assess|reassess|quote -p ID ...");
	struct buf b;
	int rc;
	uint64_t v;
	buf_init(&b);
	buf_addc(&b, '{');
	if (strcmp(a->pos[0], "raise") == 0) {
		if (!a->by || !a->via || !a->reason) {
			buf_free(&b);
			return usage("change raise", "needs TITLE, --by NAME, --via CHANNEL and --reason CODE");
		}
		body_str(&b, "title", a->pos[1]);
		body_str(&b, "raised_by", a->by);
		body_str(&b, "channel", a->via);
		char code[64];	/* --reason here is a code, elsewhere free text */
		snprintf(code, sizeof code, "%s", a->reason);
		body_str(&b, "reason", spelling_enum(code));
		if (a->items)
			list_json(&b, "items", a->items, false);
		if (a->proceeding)
			body_raw(&b, "proceeding", "true");
		if (a->occurred) {
			if (time_parse(a->occurred, &v)) {
				buf_free(&b);
				fprintf(stderr, "scopectl change raise: --occurred \"%s\" is not a time: write %s\n",
					showz(a->occurred), TIME_FORMS);
				return CTL_EXIT_USAGE;
			}
			body_num(&b, "occurred_at", v);
		}
		struct buf text;
		buf_init(&text);
		if (long_text(a, &text)) {
			buf_free(&b);
			buf_free(&text);
			return CTL_EXIT_USAGE;
		}
		if (text.len) {
			if (b.len > 1)
				buf_addc(&b, ',');
			buf_adds(&b, "\"description\":");
			json_put_str(&b, (const char *)text.data, text.len);
		} else if (a->description) {
			body_str(&b, "description", a->description);
		}
		buf_free(&text);
		rc = record(s, a, "change", a->project, &b, "number");
	} else if (strcmp(a->pos[0], "assess") == 0 || strcmp(a->pos[0], "reassess") == 0) {
		bool again = strcmp(a->pos[0], "reassess") == 0;
		if (!a->cls || !a->rationale) {
			buf_free(&b);
			return usage(again ? "change reassess" : "change assess", "needs CR-N, --class and --rationale");
		}
		body_str(&b, "change", a->pos[1]);
		body_str(&b, "class", a->cls);
		body_str(&b, "rationale", a->rationale);
		if (a->cites)
			list_json(&b, "cites", a->cites, true);
		if (again)
			body_raw(&b, "reassess", "true");
		rc = record(s, a, "assessment", a->project, &b, NULL);
	} else if (strcmp(a->pos[0], "quote") == 0) {
		struct projinfo pi;
		struct err e = { 0 };
		uint64_t fee, tax = 0, minutes, days;
		if (!a->fee || !a->effort) {
			buf_free(&b);
			return usage("change quote", "needs CR-N, --fee AMOUNT and --effort-hours H");
		}
		if (project_info(s, a->project, &pi, &e)) {
			buf_free(&b);
			return ctl_report(&e);
		}
		if (amount(a->fee, &pi, &fee, "--fee") || (a->tax && amount(a->tax, &pi, &tax, "--tax")) ||
		    number_hours("--effort-hours", a->effort, &minutes) ||
		    (a->schedule && number_whole("--schedule-days", a->schedule, 3650, &days))) {
			buf_free(&b);
			return CTL_EXIT_USAGE;
		}
		body_str(&b, "change", a->pos[1]);
		body_num(&b, "fee_minor", fee);
		if (a->tax)
			body_num(&b, "tax_minor", tax);
		body_num(&b, "effort_hours", minutes / 60);
		if (minutes % 60)
			body_num(&b, "effort_minutes", minutes % 60);
		if (a->schedule)
			body_num(&b, "schedule_days", days);
		if (a->valid)
			body_str(&b, "valid_until", a->valid);
		body_str(&b, "currency", pi.currency);
		rc = docs_json(s, a, a->project, &b);
		rc = rc ? rc : record(s, a, "quote", a->project, &b, "revision");
	} else {
		rc = usage("change", "raise, assess, reassess or quote");
	}
	buf_free(&b);
	return rc;
}

/* --evidence FILE: its hash as evidence_sha256 (a response's, an accept's) */
static int evidence_json(struct session *s, const struct oargs *a, struct buf *b)
{
	return a->evidence ? orders_evidence_json(s, a->upload, a->project, a->evidence, b) : 0;
}

static int c_respond(struct session *s, const struct oargs *a)
{
	if (!a->project || !a->decision || !a->by || !a->via ||
	    (a->nchanges != 0) + !!a->baseline + !!a->amendment + !!a->agreement + !!a->notice != 1 || a->nchanges > 1)
		return usage("respond", "needs -p ID, one of --change CR-N [--quote REV], --baseline V, --amendment "
			     "AMD-N, --agreement AGR-N or --notice NTC-N, and --decision, --by and --via");
	struct buf b;
	uint64_t v;
	buf_init(&b);
	buf_addc(&b, '{');
	if (a->nchanges) {
		body_str(&b, "change", a->changes[0]);
		if (a->quote) {
			if (!parse_uint(a->quote, &v))
				return usage("respond", "--quote needs a revision number");
			body_num(&b, "quote", v);
		}
	} else if (a->amendment || a->agreement || a->notice) {
		body_str(&b, a->amendment ? "amendment" : a->agreement ? "agreement" : "notice",
		     a->amendment ? a->amendment : a->agreement ? a->agreement : a->notice);
	} else {
		if (!parse_uint(a->baseline, &v))
			return usage("respond", "--baseline needs a version number");
		body_num(&b, "baseline", v);
	}
	body_str(&b, "decision", a->decision);
	body_str(&b, "respondent", a->by);
	if (a->title)
		body_str(&b, "respondent_title", a->title);
	body_str(&b, "channel", a->via);
	if (a->reason)
		body_str(&b, "reason", a->reason);
	int rc = evidence_json(s, a, &b);
	rc = rc ? rc : record(s, a, "response", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

/* One evidence entry for the file at path: uploaded first when asked (or
 * always, for evidence add), else marked held elsewhere. */
static int evidence_entry(struct session *s, const struct oargs *a, const char *path, bool has_response,
			  uint64_t response)
{
	char hex[65];
	uint64_t size;
	bool stored;
	int rc = cite_file(s, a, a->project, path, hex, &size, &stored);
	if (rc)
		return rc;
	const char *base = strrchr(path, '/');
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	if (has_response)
		body_num(&b, "response", response);
	body_str(&b, "sha256", hex);
	body_str(&b, "name", base ? base + 1 : path);
	body_num(&b, "size", size);
	if (a->media_type)
		body_str(&b, "media_type", a->media_type);
	if (a->description)
		body_str(&b, "description", a->description);
	if (!stored)
		body_raw(&b, "held_elsewhere", "true");
	rc = record(s, a, "evidence", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

/* evidence get -p ID HASH -o FILE */
static int evidence_get(struct session *s, const struct oargs *a)
{
	uint8_t sha[32];
	uint64_t size;
	struct err e = { 0 };
	if (a->npos != 2 || !a->project || !a->output || hex_decode(a->pos[1], strlen(a->pos[1]), sha, 32))
		return usage("evidence", "expected: evidence get -p ID SHA256 -o FILE (the SHA-256 in hex, 64 digits)");
	if (files_get(s, a->project, sha, a->output, &size, &e))
		return ctl_report(&e);
	printf("%s: %llu bytes, sha256 %s checked\n", a->output, (unsigned long long)size, a->pos[1]);
	return CTL_EXIT_OK;
}

static int c_evidence(struct session *s, const struct oargs *a)
{
	uint64_t seq;
	if (a->npos >= 1 && strcmp(a->pos[0], "get") == 0)
		return evidence_get(s, a);
	if (a->npos >= 2 && strcmp(a->pos[0], "add") == 0 && a->project) {
		struct oargs up = *a;
		up.upload = true;
		bool has_response = a->response != NULL;
		if (has_response && !parse_uint(a->response, &seq))
			return usage("evidence", "--response needs the response's sequence number");
		int rc = 0;
		for (int i = 1; i < a->npos && rc == 0; i++)
			rc = evidence_entry(s, &up, a->pos[i], has_response, has_response ? seq : 0);
		return rc;
	}
	if (a->npos != 2 || !a->project || !parse_uint(a->pos[0], &seq))
		return usage("evidence", "expected: evidence add -p ID FILE... [--description TEXT] [--media-type TYPE] "
			     "[--response SEQ], evidence get -p ID SHA256 -o FILE, or evidence -p ID RESPONSE-SEQ FILE "
			     "[--description TEXT] [--upload]");
	return evidence_entry(s, a, a->pos[1], true, seq);
}

/* An invoice line's AMOUNT[:TAX] into {"amount_minor":..[,"tax_minor":..]}. */
static int line_amounts(const char *text, const char *opt, const struct projinfo *pi, struct buf *b)
{
	char fee[64];
	const char *colon = strchr(text, ':');
	uint64_t minor, tax;
	snprintf(fee, sizeof fee, "%.*s", (int)(colon ? (size_t)(colon - text) : strlen(text)), text);
	if (amount(fee, pi, &minor, opt) || (colon && amount(colon + 1, pi, &tax, opt)))
		return -1;
	buf_printf(b, ",\"amount_minor\":%llu", (unsigned long long)minor);
	if (colon)
		buf_printf(b, ",\"tax_minor\":%llu", (unsigned long long)tax);
	buf_addc(b, '}');
	return 0;
}

/* The payment terms of the project (status says them). */
static int payment_days(struct session *s, const char *project, uint64_t *days, struct err *e)
{
	const uint8_t *res;
	size_t len;
	struct mp_cur c;
	sess_begin(s, "status", 2);
	mp_pack_cstr(&s->req, "project");
	mp_pack_cstr(&s->req, project);
	mp_pack_cstr(&s->req, "limit");
	mp_pack_uint(&s->req, 1);
	if (sess_call(s, 2, &res, &len, e))
		return -1;
	if (mp_map_find(res, len, "status", &c, e) != 1)
		return err_setc(e, CTL_EXIT_CONN, "server response lacks \"status\"");
	const uint8_t *st = c.p;
	mp_skip(&c, 8, e);
	return res_u64(st, (size_t)(c.p - st), "payment_days", days, e);
}

/* invoice cancel -p ID NUMBER --reason TEXT: a credit note */
static int c_credit(struct session *s, const struct oargs *a)
{
	if (a->npos != 2 || !a->project || !a->reason)
		return usage("invoice", "expected: invoice cancel -p ID NUMBER --reason TEXT");
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "invoice", a->pos[1]);
	body_str(&b, "reason", a->reason);
	int rc = record(s, a, "credit", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

static int c_invoice(struct session *s, const struct oargs *a)
{
	struct projinfo pi;
	struct err e = { 0 };
	uint64_t days;
	if (a->npos == 2 && strcmp(a->pos[0], "cancel") == 0)
		return c_credit(s, a);
	if (a->npos != 1 || !a->project || (a->nchanges == 0 && !a->contract))
		return usage("invoice", "expected: invoice -p ID NUMBER --change CR-N=AMOUNT[:TAX]... "
			     "[--contract AMOUNT[:TAX]] [--issued DATE] [--due DATE]");
	if (project_info(s, a->project, &pi, &e))
		return ctl_report(&e);
	/* issued: today here; due: issued plus the project's payment terms */
	char issued[11], due[11];
	if (a->issued)
		snprintf(issued, sizeof issued, "%s", a->issued);
	else
		time_today(issued);
	if (a->due)
		snprintf(due, sizeof due, "%s", a->due);
	else if (payment_days(s, a->project, &days, &e))
		return ctl_report(&e);
	else
		time_days_date(time_date_days(issued) + (int64_t)days, due);
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "number", a->pos[0]);
	body_str(&b, "currency", pi.currency);
	body_str(&b, "issued", issued);
	body_str(&b, "due", due);
	buf_adds(&b, ",\"lines\":[");
	for (int i = 0; i < a->nchanges; i++) {
		const char *eq = strchr(a->changes[i], '=');
		if (i)
			buf_addc(&b, ',');
		buf_adds(&b, "{\"change\":");
		if (eq)
			json_put_str(&b, a->changes[i], (size_t)(eq - a->changes[i]));
		if (eq == NULL || line_amounts(eq + 1, "--change", &pi, &b)) {
			buf_free(&b);
			return usage("invoice", "--change is CR-N=AMOUNT or CR-N=AMOUNT:TAX");
		}
	}
	if (a->contract) {
		buf_adds(&b, a->nchanges ? ",{\"contract\":true" : "{\"contract\":true");
		if (line_amounts(a->contract, "--contract", &pi, &b)) {
			buf_free(&b);
			return usage("invoice", "--contract is AMOUNT or AMOUNT:TAX");
		}
	}
	buf_addc(&b, ']');
	int rc = record(s, a, "invoice", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

static int c_payment(struct session *s, const struct oargs *a)
{
	struct projinfo pi;
	struct err e = { 0 };
	uint64_t minor;
	if (a->npos != 1 || !a->project || !a->amount || !a->date)
		return usage("payment", "expected: payment -p ID NUMBER --amount AMOUNT --date YYYY-MM-DD");
	if (project_info(s, a->project, &pi, &e))
		return ctl_report(&e);
	if (amount(a->amount, &pi, &minor, "--amount"))
		return CTL_EXIT_USAGE;
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "invoice", a->pos[0]);
	body_num(&b, "amount_minor", minor);
	body_str(&b, "date", a->date);
	body_str(&b, "currency", pi.currency);
	int rc = record(s, a, "payment", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

/* The approved total of change cr (n bytes) as the project's status gives it. */
static int approved_total(const struct buf *doc, const char *project, const char *cr, size_t n, uint64_t *minor,
			  struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	if (mp_map_find(doc->data, doc->len, "changes", &c, NULL) != 1 || mp_get_array(&c, &count, NULL))
		return err_setc(e, CTL_EXIT_CONN, "server response: the status lacks \"changes\"");
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *st = c.p;
		const char *id;
		size_t idn;
		if (mp_skip(&c, 8, NULL))
			break;
		if (res_str(st, (size_t)(c.p - st), "change", &id, &idn, e))
			return -1;
		if (idn == n && memcmp(id, cr, n) == 0)
			return res_u64(st, (size_t)(c.p - st), "approved_minor", minor, e);
	}
	const char *shown = showz(project);
	return err_setc(e, CTL_EXIT_REFUSED, "project %s has no change %.*s (scopectl status %s lists them)", shown,
			(int)n, cr, shown);
}

static int c_amendment(struct session *s, const struct oargs *a)
{
	struct err e = { 0 };
	if (a->npos != 0 || !a->project || !a->change_list)
		return usage("amendment", "expected: amendment -p ID --changes CR-1,CR-3 [--doc FILE...] "
			     "[--effective DATE] [--title TEXT]");
	struct buf doc, b;
	buf_init(&doc);
	buf_init(&b);
	int rc = views_status_doc(s, a->project, &doc, &e);
	buf_adds(&b, "{\"lines\":[");
	for (const char *p = a->change_list; rc == 0 && *p;) {
		size_t n = strcspn(p, ",");
		uint64_t minor;
		if (n == 0 || approved_total(&doc, a->project, p, n, &minor, &e)) {
			rc = n == 0 ? err_setc(&e, CTL_EXIT_USAGE, "--changes is a list such as CR-1,CR-3") : -1;
			break;
		}
		buf_adds(&b, b.data[b.len - 1] == '[' ? "{\"change\":" : ",{\"change\":");
		json_put_str(&b, p, n);
		buf_printf(&b, ",\"amount_minor\":%llu}", (unsigned long long)minor);
		p += n + (p[n] == ',');
	}
	buf_addc(&b, ']');
	if (rc == 0 && a->title)
		body_str(&b, "title", a->title);
	if (rc == 0 && a->effective)
		body_str(&b, "effective", a->effective);
	if (rc)
		rc = ctl_report(&e);
	else if ((rc = docs_json(s, a, a->project, &b)) == 0)
		rc = record(s, a, "amendment", a->project, &b, "number");
	buf_free(&doc);
	buf_free(&b);
	return rc;
}

static int c_signatory(struct session *s, const struct oargs *a)
{
	struct projinfo pi;
	struct err e = { 0 };
	uint64_t minor;
	bool add = a->npos == 2 && strcmp(a->pos[0], "add") == 0;
	if (a->npos != 2 || !a->project || (!add && strcmp(a->pos[0], "remove") != 0) || (add && !a->title))
		return usage("signatory", "expected: signatory add -p ID NAME --title TEXT [--limit AMOUNT], or "
			     "signatory remove -p ID NAME [--reason TEXT]");
	if (!add && (a->title || a->limit))
		return usage("signatory remove", "takes only NAME and --reason; to change a title or limit, remove "
			     "the signatory and add them again");
	if (add && a->reason)
		return usage("signatory add", "--reason is for signatory remove");
	if (a->limit && (project_info(s, a->project, &pi, &e) || amount(a->limit, &pi, &minor, "--limit")))
		return e.msg[0] ? ctl_report(&e) : CTL_EXIT_USAGE;
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "action", a->pos[0]);
	body_str(&b, "name", a->pos[1]);
	if (a->title)
		body_str(&b, "title", a->title);
	if (a->limit)
		body_num(&b, "limit_minor", minor);
	if (a->reason)
		body_str(&b, "reason", a->reason);
	int rc = record(s, a, "signatory", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

/* --participants "NAME|SIDE|TITLE",... as the participants array. */
static int participants_json(const char *list, struct buf *b)
{
	buf_adds(b, ",\"participants\":[");
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ","), name = strcspn(p, "|");
		if (name >= n || n == 0)
			return fail_usage("--participants: \"%.*s\" is not NAME|SIDE|TITLE (SIDE vendor or client, "
					  "TITLE optional)", (int)n, p);
		const char *side = p + name + 1;
		size_t sn = strcspn(side, "|,");
		buf_adds(b, b->data[b->len - 1] == '[' ? "{\"name\":" : ",{\"name\":");
		json_put_str(b, p, name);
		buf_adds(b, ",\"side\":");
		json_put_str(b, side, sn);
		if (side[sn] == '|') {
			const char *title = side + sn + 1;
			buf_adds(b, ",\"title\":");
			json_put_str(b, title, (size_t)(p + n - title));
		}
		buf_addc(b, '}');
		p += n + (p[n] == ',');
	}
	buf_addc(b, ']');
	return 0;
}

/* agreement add|confirm|dispute */
static int c_agreement(struct session *s, const struct oargs *a)
{
	const char *sub = a->npos ? a->pos[0] : "";
	bool add = strcmp(sub, "add") == 0 && a->npos == 1, confirm = strcmp(sub, "confirm") == 0 && a->npos == 2,
	     dispute = strcmp(sub, "dispute") == 0 && a->npos == 2;
	if (!a->project || (!add && !confirm && !dispute) || (add && (!a->date || !a->kind || !a->participants ||
								    !a->summary)) ||
	    (confirm && !a->evidence) || (dispute && (!a->by || !a->reason)))
		return usage("agreement", "expected: agreement add -p ID --date DATE --kind meeting|call|verbal|"
			     "change_consultation --participants \"NAME|SIDE|TITLE\",... --summary TEXT "
			     "[--commitment TEXT]... [--cites SEQ,...] [--doc FILE]..., agreement confirm -p ID AGR-N "
			     "--evidence FILE, or agreement dispute -p ID AGR-N --by NAME --reason TEXT");
	struct buf b;
	int rc = CTL_EXIT_USAGE;
	buf_init(&b);
	buf_addc(&b, '{');
	if (add) {
		body_str(&b, "date", a->date);
		body_str(&b, "type", a->kind);
		body_str(&b, "summary", a->summary);
		if (a->ncommitment) {
			buf_adds(&b, ",\"commitments\":[");
			for (int i = 0; i < a->ncommitment; i++) {
				buf_adds(&b, i ? ",{\"text\":" : "{\"text\":");
				json_put_str(&b, a->commitment[i], strlen(a->commitment[i]));
				buf_addc(&b, '}');
			}
			buf_addc(&b, ']');
		}
		if (a->cites)
			list_json(&b, "cites", a->cites, true);
		if (participants_json(a->participants, &b) == 0 && (rc = docs_json(s, a, a->project, &b)) == 0)
			rc = record(s, a, "agreement", a->project, &b, "number");
	} else if (confirm) {
		body_str(&b, "agreement", a->pos[1]);
		if (a->description)
			body_str(&b, "description", a->description);
		if ((rc = orders_evidence_json(s, a->upload, a->project, a->evidence, &b)) == 0)
			rc = record(s, a, "confirmation", a->project, &b, NULL);
	} else {
		body_str(&b, "agreement", a->pos[1]);
		body_str(&b, "by", a->by);
		body_str(&b, "reason", a->reason);
		rc = record(s, a, "contest", a->project, &b, NULL);
	}
	buf_free(&b);
	return rc;
}

/* A signed option (+N, -N or N) into its size and whether it is negative. */
static int signed_option(const char *opt, const char *v, bool *neg, const char **size)
{
	*neg = *v == '-';
	*size = v + (*v == '-' || *v == '+');
	return **size >= '0' && **size <= '9' ? 0 : fail_usage("%s \"%s\" is not a number (write -N for a decrease)",
								  opt, showz(v));
}

/* notice -p ID --type T --text TEXT ... */
static int c_notice(struct session *s, const struct oargs *a)
{
	if (!a->project || a->npos || !a->type || (!a->text && !a->text_file))
		return usage("notice", "expected: notice -p ID --type failure|delay_risk|added_order|spec_change|"
			     "effort_increase --text TEXT|--text-file F [--fee-effect [-]AMOUNT] [--schedule-days [-]D] "
			     "[--respond-by DATE] [--opens-change TITLE] [--cites SEQ,...] [--doc FILE]...");
	struct projinfo pi;
	struct err e = { 0 };
	struct buf b, text;
	bool neg = false;
	const char *size;
	uint64_t v = 0;
	int rc = CTL_EXIT_USAGE;
	buf_init(&b);
	buf_init(&text);
	buf_addc(&b, '{');
	body_str(&b, "type", a->type);
	if (long_text(a, &text) == 0) {
		buf_adds(&b, ",\"text\":");
		if (text.len)
			json_put_str(&b, (const char *)text.data, text.len);
		else
			json_put_str(&b, a->text, strlen(a->text));
		rc = CTL_EXIT_OK;
	}
	if (rc == 0 && a->fee_effect) {
		if (project_info(s, a->project, &pi, &e))
			rc = ctl_report(&e);
		else if (signed_option("--fee-effect", a->fee_effect, &neg, &size) || amount(size, &pi, &v, "--fee-effect"))
			rc = CTL_EXIT_USAGE;
		if (rc == 0) {
			body_num(&b, "fee_effect_minor", v);
			body_str(&b, "fee_effect_sign", neg ? "decrease" : "increase");
		}
	}
	if (rc == 0 && a->schedule) {
		if (signed_option("--schedule-days", a->schedule, &neg, &size) ||
		    number_whole("--schedule-days", size, 3650, &v))
			rc = CTL_EXIT_USAGE;
		if (rc == 0) {
			body_num(&b, "schedule_days", v);
			body_str(&b, "schedule_effect", neg ? "gain" : "delay");
		}
	}
	if (a->respond_by)
		body_str(&b, "respond_by", a->respond_by);
	if (a->opens_change)
		body_str(&b, "opens_change", a->opens_change);
	if (a->cites)
		list_json(&b, "cites", a->cites, true);
	if (rc == 0 && (rc = docs_json(s, a, a->project, &b)) == 0)
		rc = record(s, a, "notice", a->project, &b, "number");
	buf_free(&text);
	buf_free(&b);
	return rc;
}

static int c_void(struct session *s, const struct oargs *a)
{
	uint64_t seq;
	if (a->npos != 1 || !a->project || !a->reason || !parse_uint(a->pos[0], &seq))
		return usage("void", "expected: void -p ID SEQ --reason TEXT");
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_num(&b, "target", seq);
	body_str(&b, "reason", a->reason);
	int rc = record(s, a, "void", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

/* A --set value as the field's type wants it: the fields of numbers,
 * lists, a time and a yes/no by name, every other one text. */
static int set_value(const char *field, const char *v, struct buf *b)
{
	static const char *const NUMBERS[] = { "amount_minor", "acceptance_days", "payment_days", "fee_minor",
					       "tax_minor", "effort_hours", "effort_minutes", "schedule_days", NULL };
	uint64_t u;
	for (const char *const *n = NUMBERS; *n; n++)
		if (strcmp(field, *n) == 0) {
			if (!parse_uint(v, &u))
				return fail_usage("--set %s=%s: %s is a whole number (amounts in minor units)", field,
						  showz(v), field);
			body_num(b, field, u);
			return 0;
		}
	if (strcmp(field, "occurred_at") == 0) {
		if (time_parse(v, &u))
			return fail_usage("--set occurred_at=%s is not a time: write %s", showz(v), TIME_FORMS);
		body_num(b, field, u);
	} else if (strcmp(field, "proceeding") == 0 || strcmp(field, "evidence_held_elsewhere") == 0) {
		if (strcmp(v, "true") && strcmp(v, "false"))
			return fail_usage("--set %s=%s: write true or false", field, showz(v));
		body_raw(b, field, v);
	} else if (strcmp(field, "items") == 0 || strcmp(field, "cites") == 0) {
		list_json(b, field, v, strcmp(field, "cites") == 0);
	} else if (strcmp(field, "documents") == 0) {
		struct oargs d;
		memset(&d, 0, sizeof d);
		char tmp[4096];
		snprintf(tmp, sizeof tmp, "%s", v);
		for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && d.ndocs < MAXMULTI;
		     t = strtok_r(NULL, ",", &save))
			d.docs[d.ndocs++] = t;
		return docs_json(NULL, &d, "", b) ? -1 : 0;
	} else if (strcmp(field, "class") == 0 || strcmp(field, "channel") == 0) {
		char code[64];
		snprintf(code, sizeof code, "%s", v);
		body_str(b, field, spelling_enum(code));
	} else {
		body_str(b, field, v);
	}
	return 0;
}

/* correct -p ID SEQ --reason TEXT --set FIELD=VALUE... */
static int c_correct(struct session *s, const struct oargs *a)
{
	uint64_t seq;
	if (a->npos != 1 || !a->project || !a->reason || a->nset == 0 || !parse_uint(a->pos[0], &seq))
		return usage("correct", "expected: correct -p ID SEQ --reason TEXT --set FIELD=VALUE...");
	struct buf b, set;
	buf_init(&b);
	buf_init(&set);
	buf_addc(&set, '{');
	for (int i = 0; i < a->nset; i++) {
		const char *eq = strchr(a->set[i], '=');
		char field[64];
		if (eq == NULL || eq == a->set[i] || (size_t)(eq - a->set[i]) >= sizeof field) {
			buf_free(&b);
			buf_free(&set);
			return usage("correct", "--set is FIELD=VALUE");
		}
		snprintf(field, sizeof field, "%.*s", (int)(eq - a->set[i]), a->set[i]);
		if (set_value(field, eq + 1, &set)) {
			buf_free(&b);
			buf_free(&set);
			return CTL_EXIT_USAGE;
		}
	}
	buf_addc(&set, '}');
	buf_addc(&b, '{');
	body_num(&b, "target", seq);
	body_str(&b, "reason", a->reason);
	body_raw(&b, "set", buf_cstr(&set));
	int rc = record(s, a, "correction", a->project, &b, NULL);
	buf_free(&b);
	buf_free(&set);
	return rc;
}

static int c_delivery(struct session *s, const struct oargs *a)
{
	if (a->npos != 0 || !a->project || !a->deliverable)
		return usage("delivery", "expected: delivery -p ID --deliverable TEXT [--doc FILE]... [--items A,B] "
			     "[--changes CR-1,CR-2]");
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "deliverable", a->deliverable);
	if (a->items)
		list_json(&b, "items", a->items, false);
	if (a->change_list)
		list_json(&b, "changes", a->change_list, false);
	int rc = docs_json(s, a, a->project, &b);
	rc = rc ? rc : record(s, a, "delivery", a->project, &b, "number");
	buf_free(&b);
	return rc;
}

static int c_accept(struct session *s, const struct oargs *a)
{
	if (a->npos != 1 || !a->project || !a->outcome || !a->by)
		return usage("accept", "expected: accept -p ID DLV-N --outcome passed|failed --by NAME [--reason TEXT] "
			     "[--title T] [--via CHANNEL] [--evidence FILE] (a failure's --reason says what fails)");
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "delivery", a->pos[0]);
	body_str(&b, "outcome", a->outcome);
	body_str(&b, "respondent", a->by);
	if (a->title)
		body_str(&b, "respondent_title", a->title);
	if (a->via)
		body_str(&b, "channel", a->via);
	if (a->reason)
		body_str(&b, "reason", a->reason);
	int rc = evidence_json(s, a, &b);
	rc = rc ? rc : record(s, a, "accept", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

int cmd_orders(const char *cmd, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct session *, const struct oargs *);
	} CMDS[] = {
		{ "project", c_project }, { "baseline", c_baseline }, { "change", c_change },
		{ "respond", c_respond }, { "evidence", c_evidence }, { "invoice", c_invoice },
		{ "payment", c_payment }, { "void", c_void }, { "amendment", c_amendment },
		{ "signatory", c_signatory }, { "correct", c_correct }, { "delivery", c_delivery },
		{ "accept", c_accept }, { "agreement", c_agreement }, { "notice", c_notice },
	};
	struct profile p;
	struct oargs a;
	int rc = parse(cmd, argc, argv, &p, &a);
	if (rc)
		return rc;
	for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++) {
		if (strcmp(CMDS[i].name, cmd) != 0)
			continue;
		struct session s;
		if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK)
			rc = CMDS[i].fn(&s, &a);
		sess_close(&s);
		return rc;
	}
	return usage(cmd, "unknown command");
}
