#include "lists.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "currency.h"
#include "entry.h"
#include "json.h"
#include "mp.h"
#include "offline.h"
#include "online.h"
#include "pages.h"
#include "rederive.h"
#include "show.h"
#include "witness.h"

/* The states of a change still waiting for a decision. */
static const char *const OPEN_STATES[] = { "raised", "assessed", "no_charge", "quoted", "revise_requested" };

#define TEXT_MAX 1024	/* a text field of 200 characters, in bytes */

struct prow {
	char project[ENTRY_PROJECT_MAX + 1];
	char client[TEXT_MAX], title[TEXT_MAX];
	uint64_t seq, last_us, value, open;	/* seq: its project entry's */
	int exp;
	char currency[8];
	bool created;	/* its project entry was seen */
};

struct plist {
	struct prow *v;
	size_t n, cap;
};

/* The text of key in map p, into out; out unchanged when it has none. */
static void map_text(const uint8_t *p, size_t len, const char *key, char *out)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	if (mp_map_find(p, len, key, &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0 && n < TEXT_MAX) {
		memcpy(out, s, n);
		out[n] = '\0';
	}
}

/* A correction of the project entry: its client and title, in order. */
static void project_corrected(const struct entry *en, struct prow *r)
{
	struct mp_cur c;
	uint64_t target;
	if (mp_map_find(en->body, en->body_len, "target", &c, NULL) != 1 || mp_get_uint(&c, &target, NULL) ||
	    target != r->seq || mp_map_find(en->body, en->body_len, "set", &c, NULL) != 1)
		return;
	map_text(c.p, (size_t)(c.end - c.p), "client", r->client);
	map_text(c.p, (size_t)(c.end - c.p), "title", r->title);
}

/* Every proven entry: the project it belongs to was active then. */
static int project_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct plist *l = ctx;
	struct entry en;
	if (entry_decode(p, n, &en, e))
		return -1;
	if (en.project_len == 0 || en.project_len > ENTRY_PROJECT_MAX)
		return 0;
	size_t i = l->n;
	while (i > 0 && !(strlen(l->v[i - 1].project) == en.project_len &&
			  memcmp(l->v[i - 1].project, en.project, en.project_len) == 0))
		i--;
	if (i == 0) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 16;
			struct prow *v = realloc(l->v, cap * sizeof *v);
			if (v == NULL)
				return err_setc(e, CTL_EXIT_USAGE, "out of memory");
			l->v = v;
			l->cap = cap;
		}
		memset(&l->v[l->n], 0, sizeof l->v[0]);
		memcpy(l->v[l->n].project, en.project, en.project_len);
		i = ++l->n;
	}
	struct prow *r = &l->v[i - 1];
	r->last_us = en.time_us;
	if (en.kind_len == 7 && memcmp(en.kind, "project", 7) == 0) {
		r->created = true;
		r->seq = seq;
		map_text(en.body, en.body_len, "client", r->client);
		map_text(en.body, en.body_len, "title", r->title);
	} else if (r->created && en.kind_len == 10 && memcmp(en.kind, "correction", 10) == 0) {
		project_corrected(&en, r);
	}
	return 0;
}

static uint64_t doc_u64(const struct buf *d, const char *key)
{
	struct mp_cur c;
	uint64_t v = 0;
	if (mp_map_find(d->data, d->len, key, &c, NULL) == 1)
		mp_get_uint(&c, &v, NULL);
	return v;
}

/* Contract value, currency and open changes, from the project's status. */
static int project_status(struct session *s, struct prow *r, struct err *e)
{
	static const char *const SECTIONS[] = { "changes", "proceeding_unapproved", "open_quotes",
						"unconfirmed_responses", NULL };
	const struct page_param params[] = { { "project", r->project } };
	struct buf doc;
	struct mp_cur c;
	const char *cur;
	size_t n;
	buf_init(&doc);
	int rc = pages_doc(s, "status", params, 1, "status", SECTIONS, &doc, e);
	if (rc == 0) {
		r->value = doc_u64(&doc, "contract_value_minor");
		r->exp = (int)doc_u64(&doc, "exponent");
		if (mp_map_find(doc.data, doc.len, "currency", &c, NULL) == 1 && mp_get_str(&c, &cur, &n, NULL) == 0 &&
		    n < sizeof r->currency) {
			memcpy(r->currency, cur, n);
			r->currency[n] = '\0';
		}
		/* a closed or cancelled project says so before its title */
		if (mp_map_find(doc.data, doc.len, "closure", &c, NULL) == 1 && mp_get_str(&c, &cur, &n, NULL) == 0 &&
		    !(n == 4 && memcmp(cur, "open", 4) == 0)) {
			char t[TEXT_MAX];
			size_t w = (size_t)snprintf(t, sizeof t, "(%.*s) ", (int)(n > 16 ? 16 : n), cur);
			memcpy(t + w, r->title, strnlen(r->title, sizeof t - w - 1));
			t[w + strnlen(r->title, sizeof t - w - 1)] = '\0';
			memcpy(r->title, t, sizeof t);
		}
		for (size_t i = 0; i < sizeof OPEN_STATES / sizeof OPEN_STATES[0]; i++) {
			uint64_t k;
			struct mp_cur st;
			if (mp_map_find(doc.data, doc.len, "by_state", &c, NULL) == 1 &&
			    mp_map_find(c.p, (size_t)(c.end - c.p), OPEN_STATES[i], &st, NULL) == 1 &&
			    mp_get_uint(&st, &k, NULL) == 0)
				r->open += k;
		}
	}
	buf_free(&doc);
	return rc;
}

static void print_rows(const struct plist *l, bool json, bool csv)
{
	struct buf j;
	buf_init(&j);
	if (json)
		buf_addc(&j, '[');
	else if (csv)
		printf("project,client,currency,contract_value,open_changes,last_activity_utc,title\n");
	else
		printf("%-16s %-20s %-4s %16s %5s  %-19s  %s\n", "project", "client", "cur", "contract value", "open",
		       "last activity (UTC)", "title");
	size_t shown = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct prow *r = &l->v[i];
		char value[48], when[40], open[24];
		if (!r->created)
			continue;
		amount_format(r->value, r->exp, value, sizeof value);
		entry_format_time(r->last_us, when);
		snprintf(open, sizeof open, "%llu", (unsigned long long)r->open);
		if (json) {
			if (shown)
				buf_addc(&j, ',');
			buf_printf(&j, "{\"project\":");
			json_put_str(&j, r->project, strlen(r->project));
			buf_adds(&j, ",\"client\":");
			json_put_str(&j, r->client, strlen(r->client));
			buf_adds(&j, ",\"title\":");
			json_put_str(&j, r->title, strlen(r->title));
			buf_adds(&j, ",\"currency\":");
			json_put_str(&j, r->currency, strlen(r->currency));
			buf_printf(&j, ",\"contract_value_minor\":%llu,\"contract_value\":\"%s\",\"open_changes\":%s,"
				       "\"last_activity_us\":%llu,\"last_activity\":\"%s\"}",
				   (unsigned long long)r->value, value, open, (unsigned long long)r->last_us, when);
		} else if (csv) {
			const char *f[] = { show(r->project, strlen(r->project)), show(r->client, strlen(r->client)),
					    r->currency, value, open, when, show(r->title, strlen(r->title)) };
			for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
				if (k)
					putchar(',');
				csv_field(f[k]);
			}
			putchar('\n');
		} else {
			printf("%-16s %-20.40s %-4s %16s %5s  %.19s  %s\n", showz(r->project), showz(r->client),
			       r->currency, value, open, when, showz(r->title));
		}
		shown++;
	}
	if (json)
		printf("%s]\n", buf_cstr(&j));
	else if (!csv && shown == 0)
		printf("(no projects)\n");
	buf_free(&j);
}

/* The projects the identity sees: every one in the log for a grant of
 * all, else each one granted; each listing proven page by page. */
static int do_projects(struct session *s, bool json, bool csv)
{
	struct err e = { 0 };
	struct checkpoint cp;
	struct buf note, names;
	struct plist l = { NULL, 0, 0 };
	bool all = false;
	buf_init(&note);
	buf_init(&names);
	int rc = witness_latest(s, &cp, &note, &e);
	if (rc == 0)
		rc = rederive_granted(s, &all, &names, &e);
	if (rc == 0 && all)
		rc = pages_entries(s, NULL, 0, cp.size, &cp, project_one, &l, &e);
	for (size_t at = 0; rc == 0 && !all && at < names.len; at += strlen((const char *)names.data + at) + 1)
		rc = pages_entries(s, (const char *)names.data + at, 0, cp.size, &cp, project_one, &l, &e);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		if (l.v[i].created)
			rc = project_status(s, &l.v[i], &e);
	if (rc)
		rc = ctl_report(&e);
	else {
		print_rows(&l, json, csv);
		fprintf(stderr, "projects, clients and last activity from entries proven in the checkpoint of size "
				"%llu signed by %s; contract values and open changes as the server's status gives them\n",
			(unsigned long long)cp.size, cp.origin);
	}
	free(l.v);
	buf_free(&note);
	buf_free(&names);
	return rc;
}

int cmd_projects(int argc, char **argv)
{
	static const struct option opts[] = {
		CONN_LONGOPTS,
		{ "json", no_argument, NULL, 'j' }, { "csv", no_argument, NULL, 'v' }, { 0, 0, 0, 0 },
	};
	struct profile p;
	struct err e = { 0 };
	bool json = false, csv = false;
	int c, rc;
	if ((rc = conn_preload(argc, argv, opts, "c:", &p)))
		return rc;
	while ((c = conn_getopt(argc, argv, "c:", opts, &p)) >= 0) {
		if (c == 'j')
			json = true;
		else if (c == 'v')
			csv = true;
		else {
			fprintf(stderr, "scopectl projects: bad option (see scopectl help projects)\n");
			return CTL_EXIT_USAGE;
		}
	}
	if (c == CONN_GETOPT_BAD)
		return CTL_EXIT_USAGE;
	if (optind != argc) {
		fprintf(stderr, "scopectl projects: takes no arguments (see scopectl help projects)\n");
		return CTL_EXIT_USAGE;
	}
	if (profile_check(&p, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	struct session s;
	if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK)
		rc = do_projects(&s, json, csv);
	sess_close(&s);
	return rc;
}
