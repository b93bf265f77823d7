#define _GNU_SOURCE
#include "views.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "columns.h"
#include "currency.h"
#include "args.h"
#include "enc.h"
#include "entry.h"
#include "isotime.h"
#include "json.h"
#include "mp.h"
#include "numbers.h"
#include "offline.h"
#include "online.h"
#include "pages.h"
#include "rederive.h"
#include "result.h"
#include "show.h"
#include "witness.h"

struct vargs {
	bool json, csv, verify, open, unconfirmed, unacknowledged;
	const char *project, *change, *state, *as_of, *kase, *progress, *older_than;
	char as_of_date[11];
	int npos;
	char *pos[3];
};

static int usage(const char *cmd, const char *msg)
{
	fprintf(stderr, "scopectl %s: %s (see scopectl help %s)\n", cmd, msg, cmd);
	return CTL_EXIT_USAGE;
}

static int parse(const char *cmd, int argc, char **argv, struct profile *p, struct vargs *a)
{
	static const struct option opts[] = {
		CONN_LONGOPTS,
		{ "json", no_argument, NULL, 'j' }, { "csv", no_argument, NULL, 'v' },
		{ "project", required_argument, NULL, 'p' }, { "change", required_argument, NULL, 'g' },
		{ "verify", no_argument, NULL, 'V' }, { "state", required_argument, NULL, 's' },
		{ "as-of", required_argument, NULL, 'a' }, { "case", required_argument, NULL, 'k' },
		{ "open", no_argument, NULL, 'o' }, { "progress", required_argument, NULL, 'P' },
		{ "unconfirmed", no_argument, NULL, 'U' }, { "unacknowledged", no_argument, NULL, 'n' },
		{ "older-than", required_argument, NULL, 'O' }, { 0, 0, 0, 0 },
	};
	struct err e = { 0 };
	int c, rc;
	memset(a, 0, sizeof *a);
	if ((rc = conn_preload(argc, argv, opts, "c:p:", p)))
		return rc;
	while ((c = conn_getopt(argc, argv, "c:p:", opts, p)) >= 0) {
		switch (c) {
		case 'j': a->json = true; break;
		case 'v': a->csv = true; break;
		case 'p': a->project = optarg; break;
		case 'g': a->change = optarg; break;
		case 'V': a->verify = true; break;
		case 's': a->state = optarg; break;
		case 'a': a->as_of = optarg; break;
		case 'k': a->kase = optarg; break;
		case 'o': a->open = true; break;
		case 'P': a->progress = optarg; break;
		case 'U': a->unconfirmed = true; break;
		case 'n': a->unacknowledged = true; break;
		case 'O': a->older_than = optarg; break;
		default: return usage(cmd, "bad option");
		}
	}
	if (c == CONN_GETOPT_BAD)
		return CTL_EXIT_USAGE;
	for (; optind < argc; optind++) {
		if (a->npos == 3)
			return usage(cmd, "too many arguments");
		a->pos[a->npos++] = argv[optind];
	}
	if (a->as_of && time_parse_date(a->as_of, a->as_of_date))
		return usage(cmd, "--as-of is a date, YYYY-MM-DD");
	if (a->verify && strcmp(cmd, "history") == 0)
		return usage(cmd, "--verify is for status and report (history proves every entry it shows)");
	if (profile_check(p, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* ---- JSON with formatted amounts ---- */

static int exponent_of(const uint8_t *p, size_t n, int inherited)
{
	struct mp_cur c;
	uint64_t v;
	if (mp_map_find(p, n, "exponent", &c, NULL) == 1 && mp_get_uint(&c, &v, NULL) == 0 && v < 10)
		return (int)v;
	return inherited;
}

static int doc_json(struct mp_cur *c, int exp, struct buf *out)
{
	struct mp_item it;
	const uint8_t *start = c->p;
	if (mp_next(c, &it, NULL))
		return -1;
	if (it.type == MP_ARRAY) {
		buf_addc(out, '[');
		for (uint32_t i = 0; i < it.n; i++) {
			if (i)
				buf_addc(out, ',');
			if (doc_json(c, exp, out))
				return -1;
		}
		buf_addc(out, ']');
		return 0;
	}
	if (it.type != MP_MAP) {
		struct mp_cur one;
		mp_cur_init(&one, start, (size_t)(c->p - start));
		return msgpack_to_json(start, (size_t)(c->p - start), out, NULL);
	}
	/* the map's extent, to find its exponent */
	struct mp_cur scan = *c;
	for (uint32_t i = 0; i < it.n; i++)
		if (mp_skip(&scan, 8, NULL) || mp_skip(&scan, 8, NULL))
			return -1;
	exp = exponent_of(start, (size_t)(scan.p - start), exp);
	buf_addc(out, '{');
	for (uint32_t i = 0; i < it.n; i++) {
		const char *k;
		size_t kn;
		if (mp_get_str(c, &k, &kn, NULL))
			return -1;
		if (i)
			buf_addc(out, ',');
		json_put_str(out, k, kn);
		buf_addc(out, ':');
		struct mp_cur peek = *c;
		struct mp_item v;
		mp_next(&peek, &v, NULL);
		if (doc_json(c, exp, out))
			return -1;
		if (kn > 6 && memcmp(k + kn - 6, "_minor", 6) == 0 && v.type == MP_UINT) {
			char txt[48];
			amount_format(v.u, exp, txt, sizeof txt);
			buf_addc(out, ',');
			json_put_str(out, k, kn - 6);
			buf_addc(out, ':');
			json_put_str(out, txt, strlen(txt));
		}
		if (kn > 3 && memcmp(k + kn - 3, "_us", 3) == 0 && v.type == MP_UINT) {
			char t[40];
			time_format(v.u, true, true, t);
			buf_addc(out, ',');
			json_put_str(out, k, kn - 3);
			buf_addc(out, ':');
			json_put_str(out, t, strlen(t));
		}
	}
	buf_addc(out, '}');
	return 0;
}

static void print_doc_json(const uint8_t *p, size_t n)
{
	struct mp_cur c;
	struct buf out;
	buf_init(&out);
	mp_cur_init(&c, p, n);
	doc_json(&c, 0, &out);
	printf("%s\n", buf_cstr(&out));
	buf_free(&out);
}

/* ---- small readers ---- */

static const uint8_t *member(const uint8_t *p, size_t n, const char *key, size_t *len)
{
	struct mp_cur c;
	if (mp_map_find(p, n, key, &c, NULL) != 1)
		return NULL;
	const uint8_t *st = c.p;
	if (mp_skip(&c, 8, NULL))
		return NULL;
	*len = (size_t)(c.p - st);
	return st;
}

static uint64_t u(const uint8_t *p, size_t n, const char *key)
{
	struct mp_cur c;
	uint64_t v = 0;
	if (mp_map_find(p, n, key, &c, NULL) == 1)
		mp_get_uint(&c, &v, NULL);
	return v;
}

static const char *str(const uint8_t *p, size_t n, const char *key)
{
	static char bufs[8][4096];	/* a title: 200 characters, escaped */
	static int k;
	char *out = bufs[k++ % 8];
	struct mp_cur c;
	struct mp_item it;
	out[0] = '\0';
	if (mp_map_find(p, n, key, &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0) {
		if (it.type == MP_STR)
			snprintf(out, sizeof bufs[0], "%s", show((const char *)it.p, it.n));
		else if (it.type == MP_BOOL)
			snprintf(out, sizeof bufs[0], "%s", it.b ? "yes" : "no");
	}
	return out;
}

static const char *amt(uint64_t minor, int exp)
{
	static char bufs[8][48];
	static int k;
	char *out = bufs[k++ % 8];
	amount_format(minor, exp, out, 48);
	return out;
}

/* Calls fn for every element of an array member. */
static void each(const uint8_t *p, size_t n, const char *key,
		 void (*fn)(const uint8_t *e, size_t en, void *ctx), void *ctx)
{
	size_t len;
	const uint8_t *arr = member(p, n, key, &len);
	struct mp_cur c;
	uint32_t count;
	if (arr == NULL)
		return;
	mp_cur_init(&c, arr, len);
	if (mp_get_array(&c, &count, NULL))
		return;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *st = c.p;
		if (mp_skip(&c, 8, NULL))
			return;
		fn(st, (size_t)(c.p - st), ctx);
	}
}

/* A row ending in free text: the columns fmt makes, then text, whole with
 * --wide, else cut so that the line fits the terminal. */
__attribute__((format(printf, 2, 3)))
static void row(const char *text, const char *fmt, ...)
{
	char head[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	const char *nl = strrchr(head, '\n');
	size_t used = columns_width(nl ? nl + 1 : head);
	fputs(head, stdout);
	puts(args_wide || used >= COLUMNS_TERMINAL ? text : columns_cut(text, COLUMNS_TERMINAL - used));
}

/* ---- status ---- */

static const char CHANGE_CSV[] = "change,status,class,fee,tax,total,approved,approved_tax,invoiced,invoiced_tax,"
				 "paid,proceeding,title";

static const char *const STATUS_SECTIONS[] = { "changes", "proceeding_unapproved", "open_quotes",
					       "unconfirmed_responses", "amendments", "signatories",
					       "responses_off_register", "cases", NULL };

int views_status_doc(struct session *s, const char *project, struct buf *doc, struct err *e)
{
	const struct page_param params[] = { { "project", project } };
	return pages_doc(s, "status", params, 1, "status", STATUS_SECTIONS, doc, e);
}

struct tabctx {
	int exp;
	bool csv;
	int count;
	const char *state;	/* change rows of this state only, if set */
};

static void change_header(void)
{
	if (args_wide)
		printf("  %-7s %-19s %-15s %12s %12s %12s %12s %12s %12s  %s\n", "change", "status", "class", "fee",
		       "tax", "total", "approved", "invoiced", "paid", "title");
	else
		printf("  %-7s %-18s %12s %12s %12s %12s\n          class  title\n", "change",
		       "status", "fee", "tax", "total", "approved");
}

static void change_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	if (t->state && strcmp(str(e, n, "status"), t->state) != 0)
		return;
	t->count++;
	if (t->csv) {
		const char *f[] = { str(e, n, "change"), str(e, n, "status"), str(e, n, "class"),
				    amt(u(e, n, "fee_minor"), t->exp), amt(u(e, n, "tax_minor"), t->exp),
				    amt(u(e, n, "total_minor"), t->exp), amt(u(e, n, "approved_minor"), t->exp),
				    amt(u(e, n, "approved_tax_minor"), t->exp), amt(u(e, n, "invoiced_minor"), t->exp),
				    amt(u(e, n, "invoiced_tax_minor"), t->exp), amt(u(e, n, "paid_minor"), t->exp),
				    str(e, n, "proceeding"), str(e, n, "title") };
		for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
			if (i)
				putchar(',');
			csv_field(f[i]);
		}
		putchar('\n');
		return;
	}
	if (args_wide) {
		printf("  %-7s %-19s %-15s %12s %12s %12s %12s %12s %12s  %s\n", str(e, n, "change"),
		       str(e, n, "status"), str(e, n, "class"), amt(u(e, n, "fee_minor"), t->exp),
		       amt(u(e, n, "tax_minor"), t->exp), amt(u(e, n, "total_minor"), t->exp),
		       amt(u(e, n, "approved_minor"), t->exp), amt(u(e, n, "invoiced_minor"), t->exp),
		       amt(u(e, n, "paid_minor"), t->exp), str(e, n, "title"));
		return;
	}
	/* 80 columns: the quote's figures and the approved total, then the
	 * class and the title below them (--wide adds invoiced and paid) */
	printf("  %-7s %-18s %12s %12s %12s %12s\n", str(e, n, "change"), str(e, n, "status"),
	       amt(u(e, n, "fee_minor"), t->exp), amt(u(e, n, "tax_minor"), t->exp),
	       amt(u(e, n, "total_minor"), t->exp), amt(u(e, n, "approved_minor"), t->exp));
	const char *cls = str(e, n, "class");
	row(str(e, n, "title"), "          %s%s", cls, *cls ? "  " : "");
}

static void simple_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	t->count++;
	if (member(e, n, "fee_minor", &(size_t){ 0 }))
		row(str(e, n, "title"), "  %s revision %llu: %s (tax %s) ", str(e, n, "change"),
		    (unsigned long long)u(e, n, "revision"), amt(u(e, n, "total_minor"), t->exp),
		    amt(u(e, n, "tax_minor"), t->exp));
	else
		row(str(e, n, "title"), "  %s (%s): ", str(e, n, "change"), str(e, n, "status"));
}

static void seq_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	struct mp_cur c;
	uint64_t v;
	mp_cur_init(&c, e, n);
	if (mp_get_uint(&c, &v, NULL) == 0)
		printf("%s%llu", t->count++ ? ", " : "  entries ", (unsigned long long)v);
}

static void amendment_change(const uint8_t *e, size_t n, void *ctx)
{
	struct buf *crs = ctx;
	buf_printf(crs, "%s%s", crs->len ? ", " : "", str(e, n, "change"));
}

static void amendment_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	const char *st = str(e, n, "state");
	struct buf crs;
	buf_init(&crs);
	each(e, n, "lines", amendment_change, &crs);
	t->count++;
	row(buf_cstr(&crs), "  %-6s %-17s %14s  entry %llu%s%s  ", str(e, n, "amendment"),
	    !strcmp(st, "awaiting") ? "awaiting answer" : st, amt(u(e, n, "total_minor"), t->exp),
	    (unsigned long long)u(e, n, "seq"), *str(e, n, "effective") ? ", effective " : "", str(e, n, "effective"));
	buf_free(&crs);
}

static void signatory_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	size_t ln;
	const uint8_t *lim = member(e, n, "limit_minor", &ln);
	t->count++;
	row(str(e, n, "title"), "  %-24s limit %14s  ", str(e, n, "name"),
	    lim && *lim != 0xc0 ? amt(u(e, n, "limit_minor"), t->exp) : "none");
}

static void off_register_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	t->count++;
	row(str(e, n, "respondent"), "  entry %-6llu %-8s %-12s by ", (unsigned long long)u(e, n, "seq"),
	    str(e, n, "decision"), str(e, n, "answered"));
}

/* A case's age in whole days, to this machine's clock. */
static unsigned long long case_age(const uint8_t *e, size_t n)
{
	uint64_t now = (uint64_t)time(NULL) * 1000000u, at = u(e, n, "opened_at_us");
	return now > at ? (unsigned long long)((now - at) / 86400000000ull) : 0;
}

static void open_case_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	if (strcmp(str(e, n, "stage"), "closed") == 0)
		return;
	t->count++;
	row(str(e, n, "title"), "  %-8s %-13s %4llu days  ", str(e, n, "case"), str(e, n, "stage"), case_age(e, n));
}

static void print_status(struct buf *doc, const struct vargs *a)
{
	const uint8_t *d = doc->data;
	size_t dn = doc->len;
	int exp = (int)u(d, dn, "exponent");
	if (a->json) {
		print_doc_json(d, dn);
		return;
	}
	struct tabctx t = { exp, a->csv, 0, NULL };
	if (a->csv) {
		printf("%s\n", CHANGE_CSV);
		each(d, dn, "changes", change_row, &t);
		return;
	}
	const char *cur = str(d, dn, "currency");
	printf("project %s (%s)\n", a->pos[0], cur);
	if (strcmp(str(d, dn, "closure"), "open") != 0) {
		printf("  %-19s %s by entry %llu: ", str(d, dn, "closure"), str(d, dn, "closure"),
		       (unsigned long long)u(d, dn, "closure_seq"));
		printf("%s\n", str(d, dn, "closure_reason"));
	}
	printf("  contract amount     %14s %s\n", amt(u(d, dn, "contract_minor"), exp), cur);
	printf("  approved changes    %14s %s", amt(u(d, dn, "approved_changes_minor"), exp), cur);
	printf(" (tax %s)\n", amt(u(d, dn, "approved_changes_tax_minor"), exp));
	printf("  contract value      %14s %s\n", amt(u(d, dn, "contract_value_minor"), exp), cur);
	printf("  contract invoiced   %14s %s", amt(u(d, dn, "contract_invoiced_minor"), exp), cur);
	printf(" (paid %s)\n", amt(u(d, dn, "contract_paid_minor"), exp));
	printf("  invoices            %14s %s", amt(u(d, dn, "invoiced_total_minor"), exp), cur);
	printf(" (received %s)\n", amt(u(d, dn, "received_minor"), exp));
	printf("  payment terms       %llu days\n", (unsigned long long)u(d, dn, "payment_days"));
	printf("  open inspections    %llu\n", (unsigned long long)u(d, dn, "open_inspection_windows"));
	printf("  signed value        %14s %s (with signed amendments)\n",
	       amt(u(d, dn, "signed_contract_value_minor"), exp), cur);
	printf("  not yet amended     %14s %s (%llu approved change%s)\n",
	       amt(u(d, dn, "unamended_minor"), exp), cur, (unsigned long long)u(d, dn, "unamended_count"),
	       u(d, dn, "unamended_count") == 1 ? "" : "s");
	uint64_t bv = u(d, dn, "baseline_version");
	if (bv)
		printf("  baseline            version %llu, %s\n", (unsigned long long)bv,
		       strcmp(str(d, dn, "baseline_confirmed"), "yes") == 0 ? "confirmed by the client" : "draft (not confirmed)");
	else
		printf("  baseline            none recorded\n");
	printf("  agreements          %llu not confirmed in writing\n",
	       (unsigned long long)u(d, dn, "unconfirmed_agreements"));
	printf("  notices             %llu not answered by the client\n",
	       (unsigned long long)u(d, dn, "unacknowledged_notices"));
	size_t bn;
	const uint8_t *by = member(d, dn, "by_state", &bn);
	if (by) {
		struct buf j;
		buf_init(&j);
		columns_text(by, bn, &j);
		printf("  changes by state    %s\n", j.len ? buf_cstr(&j) : "none");
		buf_free(&j);
	}
	putchar('\n');
	change_header();
	each(d, dn, "changes", change_row, &t);
	if (t.count == 0)
		printf("  (no change requests)\n");
	printf("\nwork proceeding without the client's approval:\n");
	t.count = 0;
	each(d, dn, "proceeding_unapproved", simple_row, &t);
	if (t.count == 0)
		printf("  none\n");
	printf("open quotes awaiting the client:\n");
	t.count = 0;
	each(d, dn, "open_quotes", simple_row, &t);
	if (t.count == 0)
		printf("  none\n");
	printf("responses recorded on the client's behalf without evidence:\n");
	t.count = 0;
	each(d, dn, "unconfirmed_responses", seq_row, &t);
	printf("%s\n", t.count ? "" : "  none");
	printf("contract amendments:\n");
	t.count = 0;
	each(d, dn, "amendments", amendment_row, &t);
	if (t.count == 0)
		printf("  none\n");
	printf("signatory register:\n");
	t.count = 0;
	each(d, dn, "signatories", signatory_row, &t);
	if (t.count == 0)
		printf("  none (anyone may answer for the client)\n");
	if (strcmp(str(d, dn, "signatory_register"), "yes") == 0) {
		printf("responses in force by someone not on the register:\n");
		t.count = 0;
		each(d, dn, "responses_off_register", off_register_row, &t);
		if (t.count == 0)
			printf("  none\n");
	}
	printf("complaint cases not closed: %llu\n", (unsigned long long)u(d, dn, "open_cases"));
	t.count = 0;
	each(d, dn, "cases", open_case_row, &t);
}

/* The server's document; with --verify re-derived from proven entries and
 * compared (stderr says from what; --json gets a "verified" member). */
static int answer(struct session *s, const struct rederive_ask *q, const struct vargs *a, struct buf *doc)
{
	struct err e = { 0 };
	struct rederived r;
	if (!a->verify)
		return pages_doc(s, q->op, q->params, q->nparams, q->op, q->sections, doc, &e) ? ctl_report(&e)
											 : CTL_EXIT_OK;
	int rc = rederive(s, q, a->json, doc, &r, &e);
	if (rc)
		return rc < 0 ? ctl_report(&e) : CTL_EXIT_VERIFY;
	rederive_note(&r);
	if (a->json) {
		struct buf marked;
		buf_init(&marked);
		rederive_mark(doc, &r, &marked);
		buf_reset(doc);
		buf_add(doc, marked.data, marked.len);
		buf_free(&marked);
	}
	return CTL_EXIT_OK;
}

static int do_status(struct session *s, const struct vargs *a)
{
	struct buf doc;
	if (a->npos != 1)
		return usage("status", "expected: status PROJECT");
	const struct page_param params[] = { { "project", a->pos[0] } };
	const struct rederive_ask q = { "status", params, 1, STATUS_SECTIONS, NULL, a->pos[0] };
	buf_init(&doc);
	int rc = answer(s, &q, a, &doc);
	if (rc == CTL_EXIT_OK)
		print_status(&doc, a);
	buf_free(&doc);
	return rc;
}

/* ---- reports ---- */

static void fields(const char *const *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		csv_field(f[i]);
	}
	putchar('\n');
}

/* Amounts of one row, each in its own buffer (amt's result is reused). */
static void amounts(const uint8_t *e, size_t n, const char *const *names, size_t count, char (*out)[24])
{
	int exp = (int)u(e, n, "exponent");
	for (size_t i = 0; i < count; i++)
		snprintf(out[i], sizeof out[i], "%s", amt(u(e, n, names[i]), exp));
}

static void unbilled_row(const uint8_t *e, size_t n, void *ctx)
{
	static const char *const A[] = { "approved_minor", "invoiced_minor", "unbilled_fee_minor",
					 "unbilled_tax_minor", "unbilled_minor" };
	struct tabctx *t = ctx;
	char v[5][24], age[24];
	amounts(e, n, A, 5, v);
	snprintf(age, sizeof age, "%llu", (unsigned long long)u(e, n, "age_days"));
	const char *f[] = { str(e, n, "project"), str(e, n, "change"), str(e, n, "currency"), v[0], v[1], v[2], v[3],
			    v[4], age, str(e, n, "title") };
	t->count++;
	if (t->csv)
		fields(f, sizeof f / sizeof f[0]);
	else if (args_wide)
		printf("  %-12s %-7s %-4s %12s %12s %12s %12s %12s %5s  %s\n", f[0], f[1], f[2], f[3], f[4], f[5], f[6],
		       f[7], f[8], f[9]);
	else
		row(f[9], "  %-12s %-7s %-4s %12s %12s %12s %5s\n         ", f[0], f[1], f[2], f[5], f[6], f[7], f[8]);
}

static void exposure_row(const uint8_t *e, size_t n, void *ctx)
{
	static const char *const A[] = { "quoted_minor", "quoted_tax_minor" };
	struct tabctx *t = ctx;
	char v[3][24];
	amounts(e, n, A, 2, v);
	snprintf(v[2], sizeof v[2], "%s", amt(u(e, n, "quoted_minor") + u(e, n, "quoted_tax_minor"),
					      (int)u(e, n, "exponent")));
	const char *f[] = { str(e, n, "project"), str(e, n, "change"), str(e, n, "status"), str(e, n, "class"),
			    str(e, n, "proceeding"), str(e, n, "currency"), v[0], v[1], v[2], str(e, n, "title") };
	t->count++;
	if (t->csv) {
		fields(f, sizeof f / sizeof f[0]);
	} else if (args_wide) {
		printf("  %-12s %-7s %-17s %-13s %-10s %-4s %12s %12s %12s  %s\n", f[0], f[1], f[2], f[3], f[4], f[5],
		       f[6], f[7], f[8], f[9]);
	} else {
		row(f[9], "  %-12s %-7s %-17s %-13s %-4s %-4s %12s\n         fee %s tax %s  ", f[0], f[1], f[2], f[3],
		    f[4], f[5], f[8], f[6], f[7]);
	}
}

static void receivable_row(const uint8_t *e, size_t n, void *ctx)
{
	static const char *const A[] = { "fee_minor", "tax_minor", "total_minor", "paid_minor", "outstanding_minor" };
	struct tabctx *t = ctx;
	char v[5][24], days[24];
	amounts(e, n, A, 5, v);
	snprintf(days, sizeof days, "%llu", (unsigned long long)u(e, n, "days_overdue"));
	const char *f[] = { str(e, n, "project"), str(e, n, "invoice"), str(e, n, "currency"), str(e, n, "issued"),
			    str(e, n, "due"), v[0], v[1], v[2], v[3], v[4], days, str(e, n, "bucket") };
	t->count++;
	if (t->csv)
		fields(f, sizeof f / sizeof f[0]);
	else if (args_wide)
		printf("  %-12s %-12s %-4s %-10s %-10s %12s %12s %12s %12s %12s %5s %s\n", f[0], f[1], f[2], f[3], f[4],
		       f[5], f[6], f[7], f[8], f[9], f[10], f[11]);
	else
		printf("  %-12s %-10s %-10s %12s %12s %5s %s\n", f[0], f[1], f[4], f[7], f[9], f[10], f[11]);
}

static void total_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	int exp = (int)u(e, n, "exponent");
	char a[160], b[200];
	if (member(e, n, "outstanding_minor", &(size_t){ 0 })) {
		static const char *const A[] = { "current_minor", "days_0_30_minor", "days_31_60_minor",
						 "days_61_90_minor", "days_over_90_minor" };
		char v[5][24];
		amounts(e, n, A, 5, v);
		snprintf(a, sizeof a, "  %s: outstanding %s", str(e, n, "currency"), amt(u(e, n, "outstanding_minor"), exp));
		snprintf(b, sizeof b, "(current %s, 0-30 days %s, 31-60 days %s, 61-90 days %s, over 90 days %s)", v[0],
			 v[1], v[2], v[3], v[4]);
	} else if (member(e, n, "unbilled_minor", &(size_t){ 0 })) {
		snprintf(a, sizeof a, "  %s: unbilled %s", str(e, n, "currency"), amt(u(e, n, "unbilled_minor"), exp));
		snprintf(b, sizeof b, "(0-30 days %s, 31-60 days %s, over 60 days %s)", amt(u(e, n, "days_0_30_minor"), exp),
			 amt(u(e, n, "days_31_60_minor"), exp), amt(u(e, n, "days_over_60_minor"), exp));
	} else {
		snprintf(a, sizeof a, "  %s: work proceeding on %llu unapproved change(s) quoted %s;", str(e, n, "currency"),
			 (unsigned long long)u(e, n, "proceeding_count"), amt(u(e, n, "proceeding_quoted_minor"), exp));
		snprintf(b, sizeof b, "%llu waiting, quoted %s", (unsigned long long)u(e, n, "waiting_count"),
			 amt(u(e, n, "waiting_quoted_minor"), exp));
	}
	/* one line if it fits the terminal (or --wide), else two */
	printf("%s%s%s\n", a, args_wide || strlen(a) + 1 + strlen(b) <= COLUMNS_TERMINAL ? " " : "\n       ", b);
	t->count++;
}

static void quote_total(const uint8_t *e, size_t n, void *ctx)
{
	(void)ctx;
	printf("  %s: %llu open quote(s) totalling %s, %llu expired\n", str(e, n, "currency"),
	       (unsigned long long)u(e, n, "quotes_count"), amt(u(e, n, "total_minor"), (int)u(e, n, "exponent")),
	       (unsigned long long)u(e, n, "expired_count"));
}

/* report links: one line a link (times in UTC, to the minute) */
static void link_row(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	char created[40], expires[40], quote[24] = "", answer[24] = "";
	time_format(u(e, n, "created_at_us"), true, false, created);
	time_format(u(e, n, "expires_at_us"), true, false, expires);
	if (u(e, n, "quote"))
		snprintf(quote, sizeof quote, "%llu", (unsigned long long)u(e, n, "quote"));
	if (u(e, n, "answer_seq"))
		snprintf(answer, sizeof answer, "%llu", (unsigned long long)u(e, n, "answer_seq"));
	char seq[24];
	snprintf(seq, sizeof seq, "%llu", (unsigned long long)u(e, n, "seq"));
	const char *f[] = { str(e, n, "project"), str(e, n, "link"), str(e, n, "for"), str(e, n, "item"), quote,
			    str(e, n, "to"), seq, created, expires, str(e, n, "state"), answer };
	t->count++;
	if (t->csv)
		fields(f, sizeof f / sizeof f[0]);
	else
		printf("  %-8s %-9s %-8s %3s %-10s  %-20s %-20s %-6s %s\n", f[1], f[2], f[3], f[4], f[9], f[7],
		       f[8], f[10], f[5]);
}

/* report links: the rows, then the count in each state */
static void print_links(struct buf *doc, const struct vargs *a)
{
	struct tabctx t = { 0, a->csv, 0, NULL };
	const uint8_t *d = doc->data;
	size_t dn = doc->len, tn = 0;
	if (a->csv)
		printf("%s\n", "project,link,for,item,quote,to,seq,created,expires,state,answer_seq");
	else
		printf("client links\n  %-8s %-9s %-8s %3s %-10s  %-20s %-20s %-6s %s\n", "link", "for", "item", "rev",
		       "state", "created", "expires", "answer", "to");
	each(d, dn, "rows", link_row, &t);
	const uint8_t *tot = member(d, dn, "totals", &tn);
	if (!a->csv && t.count == 0)
		printf("  none\n");
	if (!a->csv && tot)
		printf("%llu open, %llu used, %llu expired, %llu revoked, %llu superseded\n",
		       (unsigned long long)u(tot, tn, "open_count"), (unsigned long long)u(tot, tn, "used_count"),
		       (unsigned long long)u(tot, tn, "expired_count"), (unsigned long long)u(tot, tn, "revoked_count"),
		       (unsigned long long)u(tot, tn, "superseded_count"));
}

static const struct {
	const char *name, *csv, *title, *narrow, *wide;
	void (*row)(const uint8_t *, size_t, void *);
} REPORTS[] = {
	{ "unbilled", "project,change,currency,approved,invoiced,unbilled_fee,unbilled_tax,unbilled,age_days,title",
	  "approved changes not yet (fully) invoiced",
	  "  project      change  cur           fee          tax        total  days\n         title",
	  "  project      change  cur      approved     invoiced          fee          tax     unbilled  days  title",
	  unbilled_row },
	{ "exposure", "project,change,status,class,proceeding,currency,quoted_fee,quoted_tax,quoted,title",
	  "out-of-scope changes raised or quoted, not yet approved",
	  "  project      change  status            class         work cur         total\n         fee, tax  title",
	  "  project      change  status            class         proceeding cur           fee          tax        "
	  "total  title",
	  exposure_row },
	{ "receivables", "project,invoice,currency,issued,due,fee,tax,total,paid,outstanding,days_overdue,bucket",
	  "invoices not yet (fully) paid",
	  "  project      invoice    due               total  outstanding  days bucket",
	  "  project      invoice      cur  issued     due                 fee          tax        total         paid "
	  " outstanding  days bucket",
	  receivable_row },
	{ "quotes", NULL, NULL, NULL, NULL, NULL },	/* print_quotes: its own order */
	{ "cases", NULL, NULL, NULL, NULL, NULL },	/* print_cases: waiting first */
	{ "acceptance", NULL, NULL, NULL, NULL, NULL },	/* print_acceptance: its own order */
	{ "agreements", NULL, NULL, NULL, NULL, NULL },	/* print_todo */
	{ "notices", NULL, NULL, NULL, NULL, NULL },
	{ "links", "project,link,for,item,quote,to,seq,created,expires,state,answer_seq", NULL, NULL, NULL,
	  link_row },
};

static void print_report(struct buf *doc, size_t r, const struct vargs *a)
{
	const uint8_t *d = doc->data;
	size_t dn = doc->len;
	if (a->json) {
		print_doc_json(d, dn);
		return;
	}
	struct tabctx t = { 0, a->csv, 0, NULL };
	if (a->csv) {
		printf("%s\n", REPORTS[r].csv);
		each(d, dn, "rows", REPORTS[r].row, &t);
		return;
	}
	printf("%s", REPORTS[r].title);
	if (member(d, dn, "as_of_date", &(size_t){ 0 }))
		printf(", as of %s", str(d, dn, "as_of_date"));
	printf("\n%s\n", args_wide ? REPORTS[r].wide : REPORTS[r].narrow);
	each(d, dn, "rows", REPORTS[r].row, &t);
	if (t.count == 0)
		printf("  none\n");
	printf("totals:\n");
	t.count = 0;
	each(d, dn, "totals", total_row, &t);
	if (t.count == 0)
		printf("  none\n");
}

/* ---- report quotes: soonest expiry first, quotes without valid_until last ---- */

struct span {
	const uint8_t *p;
	size_t n;
};

/* The rows of a report, to sort before printing: all of them (more counts
 * those memory did not hold, and the table says so). */
struct spans {
	struct span *v;
	size_t n, cap, more;
};

static void keep_span(const uint8_t *e, size_t n, void *ctx)
{
	struct spans *sp = ctx;
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? 2 * sp->cap : 256;
		struct span *v = realloc(sp->v, cap * sizeof *v);
		if (v == NULL) {
			sp->more++;
			return;
		}
		sp->v = v;
		sp->cap = cap;
	}
	sp->v[sp->n++] = (struct span){ e, n };
}

static void spans_free(struct spans *sp)
{
	if (sp)
		free(sp->v);
	free(sp);
}

static int by_expiry(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	char vx[16], vy[16], kx[200], ky[200];
	snprintf(vx, sizeof vx, "%s", str(x->p, x->n, "valid_until"));
	snprintf(vy, sizeof vy, "%s", str(y->p, y->n, "valid_until"));
	if (!*vx != !*vy)
		return *vx ? -1 : 1;
	int c = strcmp(vx, vy);
	if (c)
		return c;
	snprintf(kx, sizeof kx, "%s %010llu", str(x->p, x->n, "project"), (unsigned long long)u(x->p, x->n, "seq"));
	snprintf(ky, sizeof ky, "%s %010llu", str(y->p, y->n, "project"), (unsigned long long)u(y->p, y->n, "seq"));
	return strcmp(kx, ky);
}

static void quote_row(const uint8_t *e, size_t n, struct tabctx *t)
{
	int exp = (int)u(e, n, "exponent");
	char rev[24], age[24], left[40], quoted[40];
	struct mp_cur c;
	struct mp_item it;
	snprintf(rev, sizeof rev, "%llu", (unsigned long long)u(e, n, "revision"));
	snprintf(age, sizeof age, "%llu", (unsigned long long)u(e, n, "age_days"));
	left[0] = '\0';
	if (mp_map_find(e, n, "days_left", &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0 &&
	    (it.type == MP_UINT || it.type == MP_NINT))
		snprintf(left, sizeof left, "%lld%s", it.type == MP_NINT ? (long long)it.i : (long long)it.u,
			 strcmp(str(e, n, "expired"), "yes") == 0 && !t->csv ? " EXPIRED" : "");
	time_format(u(e, n, "quoted_at_us"), true, false, quoted);
	quoted[10] = '\0';
	const char *f[] = { str(e, n, "project"), str(e, n, "change"), rev, str(e, n, "currency"),
			    amt(u(e, n, "fee_minor"), exp), amt(u(e, n, "tax_minor"), exp),
			    amt(u(e, n, "total_minor"), exp), quoted, age, str(e, n, "valid_until"), left,
			    str(e, n, "title") };
	t->count++;
	if (t->csv) {
		for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
			if (i)
				putchar(',');
			csv_field(f[i]);
		}
		putchar('\n');
	} else {
		row(f[11], "  %-12s %-7s %3s %-4s %12s %10s %12s %-10s %4s%s%-10s %s%s", f[0], f[1], f[2], f[3], f[4],
		    f[5], f[6], f[7], f[8], args_wide ? " " : "\n         ", *f[9] ? f[9] : "-", f[10],
		    args_wide ? "  " : "\n         ");
	}
}

static void print_quotes(struct buf *doc, const struct vargs *a)
{
	const uint8_t *d = doc->data;
	size_t dn = doc->len;
	struct tabctx t = { 0, a->csv, 0, NULL };
	struct spans *sp = calloc(1, sizeof *sp);
	if (sp == NULL)
		return;
	each(d, dn, "rows", keep_span, sp);
	if (sp->n)
		qsort(sp->v, sp->n, sizeof sp->v[0], by_expiry);
	if (a->csv)
		printf("project,change,revision,currency,fee,tax,total,quoted,age_days,valid_until,days_left,title\n");
	else
		printf("open quotes, soonest expiry first\n  %-12s %-7s %3s %-4s %12s %10s %12s %-10s %4s%s%-10s %s%s",
		       "project", "change", "rev", "cur", "fee", "tax", "total", "quoted", "days",
		       args_wide ? " " : "\n         ", "valid", "left", args_wide ? "  title\n" : "\n         title\n");
	for (size_t i = 0; i < sp->n; i++)
		quote_row(sp->v[i].p, sp->v[i].n, &t);
	if (sp->more)
		printf("  ... and %zu more this machine had no memory to sort\n", sp->more);
	spans_free(sp);
	if (a->csv)
		return;
	if (t.count == 0)
		printf("  none\n");
	printf("totals:\n");
	each(d, dn, "totals", quote_total, &t);
}

/* ---- report cases: determinations waiting for an approver first ---- */

static void case_line(const uint8_t *e, size_t n, void *ctx)
{
	struct tabctx *t = ctx;
	if (t->state && strcmp(str(e, n, "stage"), "closed") == 0)
		return;	/* --open */
	char age[24], cr[24];
	snprintf(age, sizeof age, "%llu", (unsigned long long)u(e, n, "age_days"));
	snprintf(cr, sizeof cr, "%s", str(e, n, "change"));
	const char *f[] = { str(e, n, "project"), str(e, n, "case"), str(e, n, "stage"), age, str(e, n, "outcome"),
			    cr, str(e, n, "title") };
	t->count++;
	if (t->csv)
		fields(f, sizeof f / sizeof f[0]);
	else
		row(f[6], args_wide ? "  %-12s %-8s %-13s %4s %-20s %-7s  " : "  %-12s %-8s %-13s %4s %-20s %-7s\n         ",
		    f[0], f[1], f[2], f[3], *f[4] ? f[4] : "-", *f[5] ? f[5] : "-");
}

static void print_cases(struct buf *doc, const struct vargs *a)
{
	const uint8_t *d = doc->data;
	size_t dn = doc->len;
	struct tabctx t = { 0, a->csv, 0, a->open ? "open" : NULL };
	if (a->csv)
		printf("project,case,stage,age_days,outcome,change,title\n");
	else
		printf("complaint cases%s, determinations waiting for an approver first\n  %-12s %-8s %-13s %4s %-20s "
		       "%-7s%s", a->open ? " not closed" : "", "project", "case", "stage", "days", "determination", "change",
		       args_wide ? "  title\n" : "\n         title\n");
	each(d, dn, "waiting_approver", case_line, &t);
	each(d, dn, "rows", case_line, &t);
	if (a->csv)
		return;
	if (t.count == 0)
		printf("  none\n");
	struct mp_cur c;
	uint64_t v[5] = { 0 };
	static const char *const STAGES[] = { "open", "investigated", "determined", "escalated", "closed" };
	if (mp_map_find(d, dn, "totals", &c, NULL) == 1) {
		const uint8_t *tp = c.p;
		if (mp_skip(&c, 8, NULL) == 0)
			for (size_t i = 0; i < 5; i++)
				v[i] = u(tp, (size_t)(c.p - tp), STAGES[i]);
	}
	printf("totals: %llu open, %llu investigated, %llu determined, %llu escalated, %llu closed\n",
	       (unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2], (unsigned long long)v[3],
	       (unsigned long long)v[4]);
}

/* ---- report acceptance: open windows soonest deadline first, then the decided ---- */

static int by_deadline(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	bool ox = strcmp(str(x->p, x->n, "outcome"), "open") == 0, oy = strcmp(str(y->p, y->n, "outcome"), "open") == 0;
	uint64_t dx = u(x->p, x->n, "deadline_us"), dy = u(y->p, y->n, "deadline_us");
	if (ox != oy)
		return ox ? -1 : 1;
	if (dx != dy)
		return ox ? (dx < dy ? -1 : 1) : (dx > dy ? -1 : 1);
	return u(x->p, x->n, "seq") < u(y->p, y->n, "seq") ? -1 : 1;
}

static void print_acceptance(struct buf *doc, const struct vargs *a)
{
	const uint8_t *d = doc->data;
	size_t dn = doc->len;
	struct spans *sp = calloc(1, sizeof *sp);
	size_t shown = 0;
	if (sp == NULL)
		return;
	each(d, dn, "rows", keep_span, sp);
	if (sp->n)
		qsort(sp->v, sp->n, sizeof sp->v[0], by_deadline);
	if (a->csv)
		printf("project,delivery,deadline,days_left,outcome,outcome_seq,deliverable\n");
	else
		printf("%s, soonest deadline first\n  %-12s %-8s %-10s %9s %-14s %s\n",
		       a->open ? "open inspection windows" : "deliveries", "project", "delivery", "deadline", "days left",
		       "outcome", "deliverable");
	for (size_t i = 0; i < sp->n; i++) {
		const uint8_t *e = sp->v[i].p;
		size_t n = sp->v[i].n;
		const char *outcome = str(e, n, "outcome");
		bool open = strcmp(outcome, "open") == 0;
		if (a->open && !open)
			continue;
		char left[24] = "", seq[24] = "";
		struct mp_cur c;
		struct mp_item it;
		if (mp_map_find(e, n, "days_left", &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0 &&
		    (it.type == MP_UINT || it.type == MP_NINT))
			snprintf(left, sizeof left, "%lld", it.type == MP_NINT ? (long long)it.i : (long long)it.u);
		if (!open)
			snprintf(seq, sizeof seq, "%llu", (unsigned long long)u(e, n, "outcome_seq"));
		const char *shown_outcome = strcmp(outcome, "deemed_passed") == 0 ? "deemed passed" : outcome;
		const char *f[] = { str(e, n, "project"), str(e, n, "delivery"), str(e, n, "deadline"), left,
				    a->csv ? outcome : shown_outcome, seq, str(e, n, "deliverable") };
		shown++;
		if (a->csv)
			fields(f, sizeof f / sizeof f[0]);
		else
			row(f[6], "  %-12s %-8s %-10s %9s %-14s %s", f[0], f[1], f[2], *f[3] ? f[3] : "-", f[4], "");
	}
	if (sp->more)
		printf("  ... and %zu more this machine had no memory to sort\n", sp->more);
	spans_free(sp);
	if (a->csv)
		return;
	if (shown == 0)
		printf("  none\n");
	struct mp_cur c;
	if (mp_map_find(d, dn, "totals", &c, NULL) == 1) {
		const uint8_t *tp = c.p;
		size_t tn = mp_left(&c);
		printf("totals: %llu open (%llu past the deadline, awaiting the daemon), %llu passed, %llu failed, "
		       "%llu deemed passed\n", (unsigned long long)u(tp, tn, "open_count"),
		       (unsigned long long)u(tp, tn, "overdue_count"), (unsigned long long)u(tp, tn, "passed_count"),
		       (unsigned long long)u(tp, tn, "failed_count"), (unsigned long long)u(tp, tn, "deemed_passed_count"));
	}
}

/* ---- report agreements and notices: the lead's to-do lists ---- */

struct todo {
	bool notices, csv;
	uint64_t older_than;	/* rows older than this many days (with has_age) */
	bool has_age, open_only;
	struct spans *sp;
};

static void keep_todo(const uint8_t *e, size_t n, void *ctx)
{
	struct todo *t = ctx;
	bool open = t->notices ? strcmp(str(e, n, "state"), "unacknowledged") == 0
			       : strcmp(str(e, n, "state"), "confirmed") != 0;
	if ((t->open_only && !open) || (t->has_age && u(e, n, "age_days") <= t->older_than))
		return;
	keep_span(e, n, t->sp);
}

/* Overdue first (most days overdue first), then the oldest. */
static int by_urgency(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	uint64_t ox = u(x->p, x->n, "days_overdue"), oy = u(y->p, y->n, "days_overdue");
	uint64_t ax = u(x->p, x->n, "age_days"), ay = u(y->p, y->n, "age_days");
	if (ox != oy)
		return ox > oy ? -1 : 1;
	if (ax != ay)
		return ax > ay ? -1 : 1;
	return u(x->p, x->n, "seq") < u(y->p, y->n, "seq") ? -1 : 1;
}

/* A signed effect member: "+N", "-N", or "" when none. */
static const char *effect(const uint8_t *e, size_t n, const char *key, int exp)
{
	static char bufs[2][48];
	static int k;
	char *out = bufs[k++ % 2];
	struct mp_cur c;
	struct mp_item it;
	out[0] = '\0';
	if (mp_map_find(e, n, key, &c, NULL) == 1 && mp_next(&c, &it, NULL) == 0 &&
	    (it.type == MP_UINT || it.type == MP_NINT)) {
		uint64_t size = it.type == MP_NINT ? (uint64_t)-it.i : it.u;
		out[0] = it.type == MP_NINT ? '-' : '+';
		amount_format(size, exp, out + 1, 47);
	}
	return out;
}

static void todo_row(const uint8_t *e, size_t n, const struct todo *t)
{
	char seq[24], age[24], late[24];
	snprintf(seq, sizeof seq, "%llu", (unsigned long long)u(e, n, "seq"));
	snprintf(age, sizeof age, "%llu", (unsigned long long)u(e, n, "age_days"));
	snprintf(late, sizeof late, "%llu", (unsigned long long)u(e, n, "days_overdue"));
	const char *f[12];
	size_t nf = 0;
	if (t->notices) {	/* str() keeps 8 results: the texts first, copied as they are shown */
		const char *v[] = { str(e, n, "project"), str(e, n, "notice"), str(e, n, "type"), str(e, n, "state"), age,
				    str(e, n, "respond_by"), late, effect(e, n, "fee_effect", (int)u(e, n, "exponent")),
				    effect(e, n, "schedule_days", 0), str(e, n, "change"), seq, str(e, n, "text") };
		memcpy(f, v, sizeof v);
		nf = 12;
	} else {
		const char *v[] = { str(e, n, "project"), str(e, n, "agreement"), str(e, n, "date"), str(e, n, "type"),
				    str(e, n, "state"), age, seq, str(e, n, "summary") };
		memcpy(f, v, sizeof v);
		nf = 8;
	}
	if (t->csv) {
		for (size_t i = 0; i < nf; i++) {
			if (i)
				putchar(',');
			csv_field(f[i]);
		}
		putchar('\n');
	} else if (t->notices) {
		row(f[11], "  %-12s %-7s %-15s %-14s %4s %-10s %4s %12s %5s %-7s %5s\n         ", f[0], f[1], f[2], f[3],
		    f[4], *f[5] ? f[5] : "-", f[6], *f[7] ? f[7] : "-", *f[8] ? f[8] : "-", *f[9] ? f[9] : "-", f[10]);
	} else {
		row(f[7], "  %-12s %-7s %-10s %-19s %-11s %4s %5s\n         ", f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
	}
}

static int print_todo(struct buf *doc, bool notices, const struct vargs *a)
{
	struct todo t = { notices, a->csv, 0, false, notices ? a->unacknowledged : a->unconfirmed, NULL };
	if (a->older_than && number_whole("--older-than", a->older_than, 36500, &t.older_than))
		return CTL_EXIT_USAGE;
	t.has_age = a->older_than || (!notices && a->unconfirmed);
	if (!a->older_than && t.has_age)
		t.older_than = 3;	/* unconfirmed for more than 3 days: the default to-do */
	if (a->json) {
		print_doc_json(doc->data, doc->len);
		return CTL_EXIT_OK;
	}
	if ((t.sp = calloc(1, sizeof *t.sp)) == NULL)
		return CTL_EXIT_USAGE;
	each(doc->data, doc->len, "rows", keep_todo, &t);
	if (t.sp->n)
		qsort(t.sp->v, t.sp->n, sizeof t.sp->v[0], by_urgency);
	if (a->csv)
		printf(notices ? "project,notice,type,state,age_days,respond_by,days_overdue,fee_effect,schedule_days,"
				 "change,seq,text\n"
			       : "project,agreement,date,type,state,age_days,seq,summary\n");
	else if (notices)
		printf("notices to the client%s, overdue first, as of %s\n  %-12s %-7s %-15s %-14s %4s %-10s %4s "
		       "%12s %5s %-7s %5s\n         text\n", t.open_only ? " not yet answered" : "",
		       str(doc->data, doc->len, "as_of_date"), "project", "notice", "type", "state", "days", "respond_by",
		       "late", "fee", "days", "change", "seq");
	else
		printf("agreements%s, oldest first, as of %s\n  %-12s %-7s %-10s %-19s %-11s %4s %5s\n         "
		       "summary\n", t.open_only ? " not confirmed in writing" : "",
		       str(doc->data, doc->len, "as_of_date"), "project", "number", "date", "type", "state", "days", "seq");
	if (!a->csv && t.has_age)
		printf("  (%llu days and more are shown)\n", (unsigned long long)t.older_than + 1);
	for (size_t i = 0; i < t.sp->n; i++)
		todo_row(t.sp->v[i].p, t.sp->v[i].n, &t);
	if (!a->csv && t.sp->n == 0)
		printf("  none\n");
	if (t.sp->more)
		printf("  ... and %zu more this machine had no memory to sort\n", t.sp->more);
	spans_free(t.sp);
	return CTL_EXIT_OK;
}

static int do_report(struct session *s, const struct vargs *a)
{
	static const char *const SECTIONS[] = { "rows", "waiting_approver", NULL };
	size_t r = 0;
	while (a->npos == 1 && r < sizeof REPORTS / sizeof REPORTS[0] && strcmp(a->pos[0], REPORTS[r].name))
		r++;
	if (a->npos != 1 || r == sizeof REPORTS / sizeof REPORTS[0])
		return usage("report", "expected: report unbilled|exposure|receivables|quotes|cases|acceptance|agreements|"
				       "notices|links [--project P]");
	if (a->open && strcmp(REPORTS[r].name, "cases") != 0 && strcmp(REPORTS[r].name, "acceptance") != 0)
		return usage("report", "--open is for report cases and report acceptance");
	if ((a->unconfirmed || a->older_than) && strcmp(a->pos[0], "agreements") != 0 &&
	    (a->unconfirmed || strcmp(a->pos[0], "notices") != 0))
		return usage("report", "--unconfirmed is for report agreements, --older-than for agreements and notices");
	if (a->unacknowledged && strcmp(a->pos[0], "notices") != 0)
		return usage("report", "--unacknowledged is for report notices");
	bool receivables = strcmp(REPORTS[r].name, "receivables") == 0;
	if (a->as_of && !receivables)
		return usage("report", "--as-of is for report receivables");
	/* receivables: overdue as of --as-of, else today here (the client's local date) */
	char today[11];
	time_today(today);
	struct page_param params[3] = { { "name", a->pos[0] } };
	size_t np = 1;
	if (a->project)
		params[np++] = (struct page_param){ "project", a->project };
	if (receivables)
		params[np++] = (struct page_param){ "as_of", a->as_of ? a->as_of_date : today };
	const struct rederive_ask q = { "report", params, np, SECTIONS, a->pos[0], a->project };
	struct buf doc;
	buf_init(&doc);
	int rc = answer(s, &q, a, &doc);
	bool todo = strcmp(a->pos[0], "agreements") == 0 || strcmp(a->pos[0], "notices") == 0;
	if (rc == CTL_EXIT_OK && todo)
		rc = print_todo(&doc, a->pos[0][0] == 'n', a);
	else if (rc == CTL_EXIT_OK && REPORTS[r].row == NULL && !a->json && strcmp(a->pos[0], "cases") == 0)
		print_cases(&doc, a);
	else if (rc == CTL_EXIT_OK && !a->json && strcmp(a->pos[0], "links") == 0)
		print_links(&doc, a);
	else if (rc == CTL_EXIT_OK && REPORTS[r].row == NULL && !a->json && strcmp(a->pos[0], "acceptance") == 0)
		print_acceptance(&doc, a);
	else if (rc == CTL_EXIT_OK && REPORTS[r].row == NULL && !a->json)
		print_quotes(&doc, a);
	else if (rc == CTL_EXIT_OK)
		print_report(&doc, r, a);
	buf_free(&doc);
	return rc;
}

/* ---- history ---- */

struct found {
	const char *change;
	bool found;
};

static void find_change(const uint8_t *e, size_t n, void *ctx)
{
	struct found *f = ctx;
	f->found |= strcmp(str(e, n, "change"), f->change) == 0;
}

static void find_case(const uint8_t *e, size_t n, void *ctx)
{
	struct found *f = ctx;
	f->found |= strcmp(str(e, n, "case"), f->change) == 0;
}

struct hist {
	const char *change;	/* CR-N, or NULL for everything */
	const char *kase;	/* CASE-N: its entries, and the change its determination opened */
	char opened[24];
	bool json, csv, full;	/* full: whole leaf hashes and bodies */
	struct buf related;	/* uint64_t seqs of entries shown: voids and evidence cite them */
	struct buf invoices;	/* NUL-ended numbers of the invoices shown: payments cite them */
	struct buf amendments;	/* NUL-ended numbers of the amendments shown: responses answer them */
	struct buf out;
	/* every entry of the project, kept until the last page is proven: an
	 * entry's row names the corrections that come after it */
	struct buf raw;
	struct hent {
		uint64_t seq, target;	/* target: of a correction, else UINT64_MAX */
		size_t off, len;
		bool shown;
	} *v;
	size_t n, cap;
};

/* The body's field (a text) is ref. */
static bool names_ref(const struct entry *en, const char *field, const char *ref)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	return ref && mp_map_find(en->body, en->body_len, field, &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0 &&
	       n == strlen(ref) && memcmp(s, ref, n) == 0;
}

static bool names_change(const struct entry *en, const char *cr)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	size_t crn = strlen(cr);
	if ((mp_map_find(en->body, en->body_len, "change", &c, NULL) == 1 ||
	     mp_map_find(en->body, en->body_len, "number", &c, NULL) == 1) &&
	    mp_get_str(&c, &s, &n, NULL) == 0 && n == crn && memcmp(s, cr, n) == 0)
		return true;
	/* a list naming it: an invoice's or an amendment's lines, a delivery's changes */
	static const char *const LISTS[] = { "lines", "changes" };
	for (size_t l = 0; l < sizeof LISTS / sizeof LISTS[0]; l++) {
		uint32_t count;
		if (mp_map_find(en->body, en->body_len, LISTS[l], &c, NULL) != 1 || mp_get_array(&c, &count, NULL))
			continue;
		for (uint32_t i = 0; i < count; i++) {
			const uint8_t *start = c.p;
			struct mp_cur ic;
			if (mp_skip(&c, 4, NULL))
				break;
			mp_cur_init(&ic, start, (size_t)(c.p - start));
			if ((mp_get_str(&ic, &s, &n, NULL) == 0 ||
			     (mp_map_find(start, (size_t)(c.p - start), "change", &ic, NULL) == 1 &&
			      mp_get_str(&ic, &s, &n, NULL) == 0)) &&
			    n == crn && memcmp(s, cr, n) == 0)
				return true;
		}
	}
	return false;
}

static bool is_kind(const struct entry *en, const char *kind)
{
	return en->kind_len == strlen(kind) && memcmp(en->kind, kind, en->kind_len) == 0;
}

/* A void or evidence citing an entry already shown. */
static bool cites_related(const struct hist *h, const struct entry *en, const char *key)
{
	struct mp_cur c;
	uint64_t target;
	if (mp_map_find(en->body, en->body_len, key, &c, NULL) != 1 || mp_get_uint(&c, &target, NULL))
		return false;
	for (size_t at = 0; at + sizeof target <= h->related.len; at += sizeof target) {
		uint64_t v;
		memcpy(&v, h->related.data + at, sizeof v);
		if (v == target)
			return true;
	}
	return false;
}

/* An entry whose key names one of the numbers already shown (a payment of
 * an invoice, a response to an amendment). */
static bool names_shown(const struct buf *shown, const struct entry *en, const char *key)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	if (mp_map_find(en->body, en->body_len, key, &c, NULL) != 1 || mp_get_str(&c, &s, &n, NULL))
		return false;
	for (size_t at = 0; at < shown->len;) {
		const char *num = (const char *)shown->data + at;
		size_t len = strlen(num);
		if (len == n && memcmp(num, s, n) == 0)
			return true;
		at += len + 1;
	}
	return false;
}

/* The number of entry en (of its key) into shown, for the entries that cite it. */
static void keep_number(struct buf *shown, const struct entry *en, const char *key)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	if (mp_map_find(en->body, en->body_len, key, &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0 &&
	    memchr(s, '\0', n) == NULL) {
		buf_add(shown, s, n);
		buf_addc(shown, '\0');
	}
}

/* Whether entry en belongs to the change's history: it names the change,
 * or cites (evidence, void, payment) an entry that does.  Entries only
 * cite earlier ones, so one pass in order finds them all. */
static bool hist_mine(struct hist *h, uint64_t seq, const struct entry *en)
{
	bool of_case = h->kase && (names_ref(en, "case", h->kase) ||
				   (is_kind(en, "complaint") && names_ref(en, "number", h->kase)));
	struct mp_cur oc;
	const char *os;
	size_t on;
	if (of_case && is_kind(en, "determination") && mp_map_find(en->body, en->body_len, "change", &oc, NULL) == 1 &&
	    mp_get_str(&oc, &os, &on, NULL) == 0 && on < sizeof h->opened) {
		memcpy(h->opened, os, on);	/* the change it opened: its entries follow */
		h->opened[on] = '\0';
		h->change = h->opened;
	}
	bool mine = of_case || (h->change && names_change(en, h->change)) ||
		    ((is_kind(en, "void") || is_kind(en, "correction")) && cites_related(h, en, "target")) ||
		    (is_kind(en, "evidence") && cites_related(h, en, "response")) ||
		    (is_kind(en, "payment") && names_shown(&h->invoices, en, "invoice")) ||
		    (is_kind(en, "response") && names_shown(&h->amendments, en, "amendment"));
	if (!mine)
		return false;
	buf_add(&h->related, &seq, sizeof seq);
	if (is_kind(en, "invoice"))
		keep_number(&h->invoices, en, "number");
	if (is_kind(en, "amendment"))
		keep_number(&h->amendments, en, "number");
	return true;
}

static int hist_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct hist *h = ctx;
	struct entry en;
	struct mp_cur c;
	if (entry_decode(p, n, &en, e))
		return -1;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		struct hent *v = realloc(h->v, cap * sizeof *v);
		if (v == NULL)
			return err_setc(e, CTL_EXIT_USAGE, "out of memory");
		h->v = v;
		h->cap = cap;
	}
	struct hent *he = &h->v[h->n++];
	*he = (struct hent){ seq, UINT64_MAX, h->raw.len, n, !(h->change || h->kase) || hist_mine(h, seq, &en) };
	if (is_kind(&en, "correction") && mp_map_find(en.body, en.body_len, "target", &c, NULL) == 1)
		mp_get_uint(&c, &he->target, NULL);
	buf_add(&h->raw, p, n);
	if (buf_failed(&h->raw) || buf_failed(&h->related) || buf_failed(&h->invoices) || buf_failed(&h->amendments))
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	return 0;
}

/* The seqs of the corrections of entry i, each after mark, between them
 * sep ("#12, #15" for text, "12 15" for csv, "12,15" for JSON); how many. */
static size_t corrected_by(const struct hist *h, size_t i, const char *mark, const char *sep, struct buf *out)
{
	size_t k = 0;
	for (size_t j = i + 1; j < h->n; j++)
		if (h->v[j].target == h->v[i].seq)
			buf_printf(out, "%s%s%llu", k++ ? sep : "", mark, (unsigned long long)h->v[j].seq);
	return k;
}

/* The msgpack value of key in map p (n bytes): 1 found (*v, *vn), else 0. */
static int map_value(const uint8_t *p, size_t n, const char *key, size_t kn, const uint8_t **v, size_t *vn)
{
	struct mp_cur c;
	char k[64];
	if (kn >= sizeof k)
		return 0;
	memcpy(k, key, kn);
	k[kn] = '\0';
	if (mp_map_find(p, n, k, &c, NULL) != 1)
		return 0;
	*v = c.p;
	if (mp_skip(&c, 8, NULL))
		return 0;
	*vn = (size_t)(c.p - *v);
	return 1;
}

/* The set of correction entry j: its map into *p, *n. */
static bool correction_set(const struct hist *h, size_t j, const uint8_t **p, size_t *n)
{
	struct entry en;
	struct mp_cur c;
	if (entry_decode(h->raw.data + h->v[j].off, h->v[j].len, &en, NULL) ||
	    mp_map_find(en.body, en.body_len, "set", &c, NULL) != 1)
		return false;
	*p = c.p;
	*n = (size_t)(c.end - c.p);
	return true;
}

/* What field key of correction j's target said before j: the latest
 * earlier correction of it that set key, else the target entry; as JSON
 * into out ("null" if it had none). */
static void value_before(const struct hist *h, size_t j, const char *key, size_t kn, struct buf *out)
{
	const uint8_t *v = NULL, *p;
	size_t vn = 0, n;
	struct entry en;
	for (size_t i = j; i-- > 0 && v == NULL;) {
		if (h->v[i].seq == h->v[j].target) {
			if (entry_decode(h->raw.data + h->v[i].off, h->v[i].len, &en, NULL) == 0 &&
			    map_value(en.body, en.body_len, key, kn, &v, &vn) == 0)
				v = NULL;
			break;
		}
		if (h->v[i].target == h->v[j].target && correction_set(h, i, &p, &n) &&
		    map_value(p, n, key, kn, &v, &vn) == 0)
			v = NULL;
	}
	if (v == NULL || msgpack_to_json(v, vn, out, NULL))
		buf_adds(out, "null");
}

/* Each field correction j sets: printed as lines, old -> new ("        title:
 * "a" -> "b""), or with json the old values as an object into out
 * ({"title":"a"}). */
static void correction_fields(const struct hist *h, size_t j, bool json, struct buf *out)
{
	const uint8_t *p;
	size_t n;
	struct mp_cur c;
	uint32_t count;
	if (!correction_set(h, j, &p, &n))
		return;
	mp_cur_init(&c, p, n);
	if (mp_get_map(&c, &count, NULL))
		return;
	if (json)
		buf_addc(out, '{');
	for (uint32_t i = 0; i < count; i++) {
		const char *k;
		size_t kn;
		if (mp_get_str(&c, &k, &kn, NULL))
			break;
		const uint8_t *v = c.p;
		if (mp_skip(&c, 8, NULL))
			break;
		if (json) {
			if (i)
				buf_addc(out, ',');
			json_put_str(out, k, kn);
			buf_addc(out, ':');
			value_before(h, j, k, kn, out);
			continue;
		}
		struct buf line;
		buf_init(&line);
		value_before(h, j, k, kn, &line);
		buf_adds(&line, " -> ");
		if (msgpack_to_json(v, (size_t)(c.p - v), &line, NULL))
			buf_adds(&line, "?");
		row(buf_cstr(&line), "        %s: ", show(k, kn));
		buf_free(&line);
	}
	if (json)
		buf_addc(out, '}');
}

/* Entry i of the history, as a row (or a JSON line, or a CSV record). */
static int hist_print(struct hist *h, size_t i, struct err *e)
{
	const struct hent *he = &h->v[i];
	const uint8_t *p = h->raw.data + he->off;
	size_t n = he->len;
	uint64_t seq = he->seq;
	struct entry en;
	uint8_t leaf[HASH_LEN];
	struct buf extra;
	if (entry_decode(p, n, &en, e))
		return -1;
	merkle_leaf_hash(p, n, leaf);
	buf_init(&extra);
	buf_reset(&h->out);
	if (h->json) {
		entry_to_json(&en, leaf, &h->out, e);
		if (h->out.len && h->out.data[h->out.len - 1] == '}') {
			h->out.len--;
			buf_adds(&extra, ",\"corrected_by\":[");
			corrected_by(h, i, "", ",", &extra);
			buf_addc(&extra, ']');
			if (he->target != UINT64_MAX) {
				buf_adds(&extra, ",\"previous\":");
				correction_fields(h, i, true, &extra);
			}
			buf_addc(&extra, '}');
		}
		printf("%s%s\n", buf_cstr(&h->out), buf_cstr(&extra));
		buf_free(&extra);
		return 0;
	}
	char t[40], hx[65];
	args_time(en.time_us, t);
	hex_encode(leaf, HASH_LEN, hx);
	if (h->csv) {
		char sq[24], utc[40];
		snprintf(sq, sizeof sq, "%llu", (unsigned long long)seq);
		time_format(en.time_us, true, false, utc);
		msgpack_to_json(en.body, en.body_len, &h->out, e);
		struct buf prev;
		buf_init(&prev);
		corrected_by(h, i, "", " ", &extra);
		if (he->target != UINT64_MAX)
			correction_fields(h, i, true, &prev);
		const char *f[] = { sq, utc, show(en.kind, en.kind_len), show(en.author, en.author_len), hx,
				    buf_cstr(&h->out), buf_cstr(&extra), buf_cstr(&prev) };
		for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
			if (k)
				putchar(',');
			csv_field(f[k]);
		}
		putchar('\n');
		buf_free(&prev);
		buf_free(&extra);
		return 0;
	}
	if (h->full) {
		msgpack_to_json(en.body, en.body_len, &h->out, e);
		printf("%6llu  %s  %-10s %-12s %s\n        %s\n", (unsigned long long)seq, t,
		       show(en.kind, en.kind_len), show(en.author, en.author_len), hx, buf_cstr(&h->out));
	} else {
		columns_text(en.body, en.body_len, &h->out);
		/* 80 columns: the body on a line of its own, cut; --wide: one line */
		row(buf_cstr(&h->out),
		    args_wide ? "%6llu  %s  %-10s %-12s %s  " : "%6llu  %s  %-10s %-12s %.12s\n        ",
		    (unsigned long long)seq, t, show(en.kind, en.kind_len), show(en.author, en.author_len), hx);
	}
	/* what corrected it, and what a correction changed */
	if (corrected_by(h, i, "#", ", ", &extra))
		printf("        corrected by %s\n", buf_cstr(&extra));
	if (he->target != UINT64_MAX)
		correction_fields(h, i, false, NULL);
	buf_free(&extra);
	return 0;
}

/* The project exists (and so does the change, if one is named), as its
 * status says: else an error naming what does not. */
static int history_subject(struct session *s, const char *project, const char *change, const char *kase,
			   struct err *e)
{
	const struct page_param params[] = { { "project", project } };
	struct buf doc;
	struct found f = { change, false }, k = { kase, false };
	buf_init(&doc);
	int rc = pages_doc(s, "status", params, 1, "status", STATUS_SECTIONS, &doc, e);
	if (rc == 0 && change) {
		each(doc.data, doc.len, "changes", find_change, &f);
		if (!f.found)
			rc = err_setc(e, CTL_EXIT_REFUSED, "project %s has no change %s (scopectl status %s lists them)",
				      showz(project), showz(change), showz(project));
	}
	if (rc == 0 && kase) {
		each(doc.data, doc.len, "cases", find_case, &k);
		if (!k.found)
			rc = err_setc(e, CTL_EXIT_REFUSED, "project %s has no case %s (scopectl report cases --project %s "
				      "lists them)", showz(project), showz(kase), showz(project));
	}
	buf_free(&doc);
	return rc;
}

static struct hist *hist_new(const char *change, const char *kase)
{
	struct hist *h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	h->change = change;
	h->kase = kase;
	buf_init(&h->out);
	buf_init(&h->related);
	buf_init(&h->invoices);
	buf_init(&h->amendments);
	buf_init(&h->raw);
	return h;
}

static void hist_free(struct hist *h)
{
	buf_free(&h->out);
	buf_free(&h->related);
	buf_free(&h->invoices);
	buf_free(&h->amendments);
	buf_free(&h->raw);
	free(h->v);
	free(h);
}

/* Prints the entries of a project or change, each page proven first. */
static int history_print(struct session *s, const char *project, const char *change, const char *kase,
			 const struct vargs *a, bool full)
{
	struct err e = { 0 };
	struct checkpoint cp;
	struct buf note;
	buf_init(&note);
	int rc = witness_latest(s, &cp, &note, &e);
	buf_free(&note);
	if (rc)
		return ctl_report(&e);
	struct hist *h = hist_new(change, kase);
	if (h == NULL)
		return CTL_EXIT_USAGE;
	h->json = a->json;
	h->csv = a->csv;
	h->full = full;
	if (h->csv)
		printf("seq,time_utc,kind,author,leaf,body,corrected_by,previous\n");
	else if (!h->json && full)
		printf("   seq  time                       kind       author       leaf\n        body\n");
	else if (!h->json)
		printf(args_wide ? "   seq  time                       kind       author       leaf%62sbody\n"
				 : "   seq  time                       kind       author       leaf\n        body\n", "");
	/* every page is proven in the checkpoint before it is printed */
	rc = pages_entries(s, project, 0, cp.size, &cp, hist_one, h, &e);
	for (size_t i = 0; rc == 0 && i < h->n; i++)
		if (h->v[i].shown)
			rc = hist_print(h, i, &e);
	if (rc)
		rc = ctl_report(&e);
	else
		fprintf(stderr, "every entry shown is proven in the checkpoint of size %llu signed by %s\n",
			(unsigned long long)cp.size, cp.origin);
	hist_free(h);
	return rc;
}

int views_history_entries(struct session *s, const char *project, const char *change, const char *kase,
			  const struct checkpoint *cp, views_entry_fn fn, void *ctx, struct err *e)
{
	if (history_subject(s, project, change, kase, e))
		return -1;
	struct hist *h = hist_new(change, kase);
	if (h == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	int rc = pages_entries(s, project, 0, cp->size, cp, hist_one, h, e);
	for (size_t i = 0; rc == 0 && i < h->n; i++)
		rc = fn(ctx, h->v[i].seq, h->raw.data + h->v[i].off, h->v[i].len, h->v[i].shown, e);
	hist_free(h);
	return rc;
}

static int do_history(struct session *s, const struct vargs *a)
{
	struct err e = { 0 };
	if (a->npos != 1 || (a->change && a->kase))
		return usage("history", "expected: history PROJECT [--change CR-N | --case CASE-N]");
	if (history_subject(s, a->pos[0], a->change, a->kase, &e))
		return ctl_report(&e);
	return history_print(s, a->pos[0], a->change, a->kase, a, false);
}

/* ---- change list, change show ---- */

static const char *const CHANGE_STATES[] = { "raised", "assessed", "unfounded", "no_charge", "quoted",
					     "revise_requested", "rejected", "approved", "approved_no_charge",
					     "partly_invoiced", "invoiced", "paid", "withdrawn" };

struct rows {
	int exp;
	const char *state;
	size_t count;
	struct buf out;
};

static void json_row(const uint8_t *e, size_t n, void *ctx)
{
	struct rows *r = ctx;
	struct mp_cur c;
	if (r->state && strcmp(str(e, n, "status"), r->state) != 0)
		return;
	if (r->count++)
		buf_addc(&r->out, ',');
	mp_cur_init(&c, e, n);
	doc_json(&c, r->exp, &r->out);
}

static int do_change_list(struct session *s, const struct vargs *a)
{
	if (a->project == NULL || a->npos)
		return usage("change list", "expected: change list -p PROJECT [--state S]");
	if (a->state) {
		size_t i = 0;
		while (i < sizeof CHANGE_STATES / sizeof CHANGE_STATES[0] && strcmp(CHANGE_STATES[i], a->state))
			i++;
		if (i == sizeof CHANGE_STATES / sizeof CHANGE_STATES[0])
			return usage("change list", "--state is one of raised, assessed, unfounded, no_charge, quoted, "
						    "revise_requested, rejected, approved, approved_no_charge, "
						    "partly_invoiced, invoiced, paid, withdrawn");
	}
	const struct page_param params[] = { { "project", a->project } };
	const struct rederive_ask q = { "status", params, 1, STATUS_SECTIONS, NULL, a->project };
	struct buf doc;
	buf_init(&doc);
	int rc = answer(s, &q, a, &doc);
	if (rc == CTL_EXIT_OK) {
		struct tabctx t = { (int)u(doc.data, doc.len, "exponent"), a->csv, 0, a->state };
		if (a->json) {
			struct rows r = { t.exp, a->state, 0, { 0 } };
			buf_init(&r.out);
			each(doc.data, doc.len, "changes", json_row, &r);
			printf("[%s]\n", buf_cstr(&r.out));
			buf_free(&r.out);
		} else {
			if (a->csv)
				printf("%s\n", CHANGE_CSV);
			else
				change_header();
			each(doc.data, doc.len, "changes", change_row, &t);
			if (t.count == 0 && !a->csv)
				printf("  (none%s%s)\n", a->state ? " in state " : "", a->state ? a->state : "");
		}
	}
	buf_free(&doc);
	return rc;
}

struct shown {
	const char *change;
	int exp;
	bool json, found;
};

/* The change's row of the status, every field. */
static void show_row(const uint8_t *e, size_t n, void *ctx)
{
	struct shown *w = ctx;
	if (w->found || strcmp(str(e, n, "change"), w->change) != 0)
		return;
	w->found = true;
	struct buf j;
	struct mp_cur c;
	buf_init(&j);
	mp_cur_init(&c, e, n);
	if (w->json) {
		doc_json(&c, w->exp, &j);
		printf("%s\n", buf_cstr(&j));
		buf_free(&j);
		return;
	}
	uint32_t count;
	printf("change %s: %s\n", str(e, n, "change"), str(e, n, "title"));
	if (mp_get_map(&c, &count, NULL) == 0)
		for (uint32_t i = 0; i < count; i++) {
			const char *k;
			size_t kn;
			struct mp_item v;
			if (mp_get_str(&c, &k, &kn, NULL))
				break;
			const uint8_t *vs = c.p;
			struct mp_cur at = c;
			if (mp_next(&at, &v, NULL) || mp_skip(&c, 8, NULL))
				break;
			buf_reset(&j);
			if (kn > 6 && memcmp(k + kn - 6, "_minor", 6) == 0 && v.type == MP_UINT) {
				printf("  %-22.*s %s\n", (int)(kn - 6), k, amt(v.u, w->exp));
				continue;
			}
			if (v.type == MP_STR)
				buf_adds(&j, show((const char *)v.p, v.n));
			else
				msgpack_to_json(vs, (size_t)(c.p - vs), &j, NULL);
			printf("  %-22s %s\n", show(k, kn), buf_cstr(&j));
		}
	buf_free(&j);
}

static int do_change_show(struct session *s, const struct vargs *a)
{
	struct err e = { 0 };
	if (a->project == NULL || a->npos != 1)
		return usage("change show", "expected: change show -p PROJECT CR-N");
	const struct page_param params[] = { { "project", a->project } };
	const struct rederive_ask q = { "status", params, 1, STATUS_SECTIONS, NULL, a->project };
	struct buf doc;
	buf_init(&doc);
	int rc = answer(s, &q, a, &doc);
	struct shown w = { a->pos[0], (int)u(doc.data, doc.len, "exponent"), a->json, false };
	if (rc == CTL_EXIT_OK) {
		each(doc.data, doc.len, "changes", show_row, &w);
		if (!w.found) {
			err_setc(&e, CTL_EXIT_REFUSED, "project %s has no change %s (scopectl change list -p %s lists them)",
				 showz(a->project), showz(a->pos[0]), showz(a->project));
			rc = ctl_report(&e);
		}
	}
	buf_free(&doc);
	if (rc)
		return rc;
	if (!a->json)
		printf("\nits entries, and those citing them:\n");
	return history_print(s, a->project, a->pos[0], NULL, a, true);
}

/* ---- case risk: what the vendor stands to lose, before the reply ---- */

struct risk {
	uint64_t unbilled, quotes, nquotes;
	const char *kase;
	const uint8_t *row;
	size_t rown;
};

static void risk_change(const uint8_t *e, size_t n, void *ctx)
{
	struct risk *r = ctx;
	uint64_t approved = u(e, n, "approved_minor"), invoiced = u(e, n, "invoiced_minor");
	r->unbilled += approved > invoiced ? approved - invoiced : 0;
}

static void risk_quote(const uint8_t *e, size_t n, void *ctx)
{
	struct risk *r = ctx;
	r->quotes += u(e, n, "total_minor");
	r->nquotes++;
}

static void risk_case(const uint8_t *e, size_t n, void *ctx)
{
	struct risk *r = ctx;
	if (strcmp(str(e, n, "case"), r->kase) == 0)
		r->row = e, r->rown = n;
}

static int do_case_risk(struct session *s, const struct vargs *a)
{
	struct err e = { 0 };
	uint64_t progress = 0;
	if (a->project == NULL || a->npos != 1)
		return usage("case risk", "expected: case risk -p PROJECT CASE-N [--progress PCT]");
	if (a->progress && number_whole("--progress", a->progress, 100, &progress))
		return CTL_EXIT_USAGE;
	const struct page_param params[] = { { "project", a->project } };
	const struct rederive_ask q = { "status", params, 1, STATUS_SECTIONS, NULL, a->project };
	struct buf doc;
	buf_init(&doc);
	int rc = answer(s, &q, a, &doc);
	struct risk r = { 0, 0, 0, a->pos[0], NULL, 0 };
	const uint8_t *d = doc.data;
	size_t dn = doc.len;
	if (rc == CTL_EXIT_OK) {
		each(d, dn, "changes", risk_change, &r);
		each(d, dn, "open_quotes", risk_quote, &r);
		each(d, dn, "cases", risk_case, &r);
		if (r.row == NULL) {
			err_setc(&e, CTL_EXIT_REFUSED, "project %s has no case %s (scopectl report cases --project %s lists "
				 "them)", showz(a->project), showz(a->pos[0]), showz(a->project));
			rc = ctl_report(&e);
		}
	}
	if (rc == CTL_EXIT_OK) {
		int exp = (int)u(d, dn, "exponent");
		const char *cur = str(d, dn, "currency");
		uint64_t value = u(d, dn, "contract_value_minor");
		/* what the invoices bill and what was received, partial payments included */
		uint64_t invoiced = u(d, dn, "invoiced_total_minor"), paid = u(d, dn, "received_minor");
		printf("%s %s: %s, %llu days since the intake\n", showz(a->pos[0]), str(r.row, r.rown, "title"),
		       str(r.row, r.rown, "stage"), case_age(r.row, r.rown));
		printf("  contract value      %14s %s (with its approved changes)\n", amt(value, exp), cur);
		printf("  invoiced            %14s %s  %3llu%% of the value\n", amt(invoiced, exp), cur,
		       value ? (unsigned long long)(invoiced * 100 / value) : 0ull);
		printf("  received            %14s %s  %3llu%% of the value\n", amt(paid, exp), cur,
		       value ? (unsigned long long)(paid * 100 / value) : 0ull);
		printf("  approved, unbilled  %14s %s\n", amt(r.unbilled, exp), cur);
		printf("  open quotes         %14s %s (%llu)\n", amt(r.quotes, exp), cur, (unsigned long long)r.nquotes);
		if (a->progress)
			printf("  work done           %13llu%% (the lead's estimate): %llu%% paid against it\n",
			       (unsigned long long)progress, value ? (unsigned long long)(paid * 100 / value) : 0ull);
		else
			printf("  work done           not estimated (--progress PCT)\n");
	}
	buf_free(&doc);
	return rc;
}

int cmd_views(const char *cmd, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct session *, const struct vargs *);
	} CMDS[] = { { "status", do_status },		{ "report", do_report },
		     { "history", do_history },		{ "change list", do_change_list },
		     { "change show", do_change_show },	{ "case risk", do_case_risk } };
	struct profile p;
	struct vargs a;
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
