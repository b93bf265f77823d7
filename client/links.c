#include "links.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "enc.h"
#include "mp.h"
#include "offline.h"
#include "online.h"
#include "orders.h"
#include "result.h"
#include "show.h"
#include "views.h"

#define HOUR_US 3600000000ull
#define TOKEN_BYTES 32	/* 256 random bits: 43 characters of base64url */

struct largs {
	struct record_opts rec;
	const char *project, *to, *expires, *quote, *reason;
	const char *what, *item;	/* for, and its item as given */
	int nitems;
	int npos;
	char *pos[2];
};

static int usage(const char *cmd, const char *msg)
{
	fprintf(stderr, "scopectl link %s: %s (see scopectl help link)\n", cmd, msg);
	return CTL_EXIT_USAGE;
}

enum { L_CHANGE = 500, L_QUOTE, L_BASELINE, L_AMENDMENT, L_NOTICE, L_DELIVERY, L_PROJECT, L_TO, L_EXPIRES, L_REASON,
       L_RECEIPT, L_REQID };

static int parse(int argc, char **argv, struct profile *p, struct largs *a)
{
	static const struct option opts[] = {
		CONN_LONGOPTS,
		/* -p names the project; --project asks for a link to its whole record */
		{ "json", no_argument, NULL, 'j' },
		{ "change", required_argument, NULL, L_CHANGE }, { "quote", required_argument, NULL, L_QUOTE },
		{ "baseline", required_argument, NULL, L_BASELINE }, { "amendment", required_argument, NULL, L_AMENDMENT },
		{ "notice", required_argument, NULL, L_NOTICE }, { "delivery", required_argument, NULL, L_DELIVERY },
		{ "project", no_argument, NULL, L_PROJECT }, { "to", required_argument, NULL, L_TO },
		{ "expires", required_argument, NULL, L_EXPIRES }, { "reason", required_argument, NULL, L_REASON },
		{ "receipt", required_argument, NULL, L_RECEIPT }, { "request-id", required_argument, NULL, L_REQID },
		{ 0, 0, 0, 0 },
	};
	static const char *const FOR[] = { "change", "quote", "baseline", "amendment", "notice", "delivery", "project" };
	int c, rc;
	memset(a, 0, sizeof *a);
	if ((rc = conn_preload(argc, argv, opts, "c:p:", p)))
		return rc;
	while ((c = conn_getopt(argc, argv, "c:p:", opts, p)) >= 0) {
		switch (c) {
		case 'j': a->rec.json = true; break;
		case 'p': a->project = optarg; break;
		case L_QUOTE: a->quote = optarg; break;
		case L_TO: a->to = optarg; break;
		case L_EXPIRES: a->expires = optarg; break;
		case L_REASON: a->reason = optarg; break;
		case L_RECEIPT: a->rec.receipt = optarg; break;
		case L_REQID: a->rec.request_id = optarg; break;
		case L_CHANGE: case L_BASELINE: case L_AMENDMENT: case L_NOTICE: case L_DELIVERY: case L_PROJECT:
			a->what = FOR[c - L_CHANGE];
			a->item = c == L_PROJECT ? NULL : optarg;
			a->nitems++;
			break;
		default: return CTL_EXIT_USAGE;
		}
	}
	if (c == CONN_GETOPT_BAD)
		return CTL_EXIT_USAGE;
	while (optind < argc && a->npos < 2)
		a->pos[a->npos++] = argv[optind++];
	return optind < argc ? usage(argv[0], "too many arguments") : 0;
}

/* --expires Nd or Nh into microseconds; at most max_days. */
static int expiry(const char *v, uint64_t max_days, uint64_t *us)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	if (end == v || v[0] == '-' || (strcmp(end, "d") != 0 && strcmp(end, "h") != 0) || n == 0 ||
	    n > max_days * 24)
		return usage("create", "--expires takes a number of days or hours, like 7d or 12h (at most 90 days for an "
			     "item, 400 for --project)");
	*us = n * HOUR_US * (*end == 'd' ? 24 : 1);
	return *us > max_days * 24 * HOUR_US ? usage("create", "--expires is too long for this link") : 0;
}

/* The server's portal_url; "" when the portal is off. */
static int portal_url(struct session *s, char *out, size_t cap, struct err *e)
{
	const uint8_t *res;
	size_t len, n;
	const char *url;
	sess_begin(s, "info", 0);
	if (sess_call(s, 2, &res, &len, e))
		return -1;
	if (res_str(res, len, "portal_url", &url, &n, e))
		return -1;
	if (n >= cap)
		return err_setc(e, CTL_EXIT_CONN, "the server's portal_url is too long");
	/* printed as the link's URL: an https:// URL of visible ASCII, or none */
	bool url_ok = n == 0 || (n > 8 && memcmp(url, "https://", 8) == 0);
	for (size_t i = 0; i < n && url_ok; i++)
		url_ok = url[i] > ' ' && url[i] < 0x7f;
	if (!url_ok)
		return err_setc(e, CTL_EXIT_CONN, "the server's portal_url \"%s\" is not an https:// URL of visible "
				"characters: no link is made to it (nothing was recorded)", show(url, n));
	memcpy(out, url, n);
	out[n] = '\0';
	return 0;
}

/* CR-N's current quote revision, from the project's status. */
static int current_quote(struct session *s, const char *project, const char *cr, uint64_t *rev, struct err *e)
{
	const uint8_t *res;
	size_t len;
	struct mp_cur c, ch;
	uint32_t n;
	sess_begin(s, "status", 1);
	mp_pack_cstr(&s->req, "project");
	mp_pack_cstr(&s->req, project);
	if (sess_call(s, 2, &res, &len, e))
		return -1;
	if (mp_map_find(res, len, "status", &c, e) != 1)
		return err_setc(e, CTL_EXIT_CONN, "server response lacks \"status\"");
	const uint8_t *st = c.p;
	mp_skip(&c, 8, e);
	if (mp_map_find(st, (size_t)(c.p - st), "changes", &ch, e) != 1 || mp_get_array(&ch, &n, e))
		return err_setc(e, CTL_EXIT_CONN, "the server's status lacks \"changes\"");
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *row = ch.p;
		const char *num;
		size_t nn;
		if (mp_skip(&ch, 8, e))
			return -1;
		size_t rn = (size_t)(ch.p - row);
		if (res_str(row, rn, "change", &num, &nn, e) == 0 && nn == strlen(cr) && memcmp(num, cr, nn) == 0)
			return res_u64(row, rn, "quote_revision", rev, e);
	}
	return err_setc(e, CTL_EXIT_REFUSED, "%s is not in project %s's status (give --quote REV)", cr, project);
}

/* A random token, base64url without padding, and its SHA-256 in hex. */
static void make_token(char token[44], char sha_hex[65])
{
	uint8_t rnd[TOKEN_BYTES], sha[32];
	char b64[48];
	if (RAND_bytes(rnd, sizeof rnd) != 1) {
		fprintf(stderr, "scopectl link create: no random bytes from OpenSSL\n");
		exit(CTL_EXIT_USAGE);
	}
	b64_encode(rnd, sizeof rnd, b64);
	size_t n = 0;
	for (const char *p = b64; *p && *p != '='; p++)
		token[n++] = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	token[n] = '\0';
	SHA256((const unsigned char *)token, n, sha);
	hex_encode(sha, sizeof sha, sha_hex);
	OPENSSL_cleanse(rnd, sizeof rnd);
	OPENSSL_cleanse(b64, sizeof b64);
}

static int c_create(struct session *s, const struct largs *a)
{
	struct err e = { 0 };
	bool project = a->what && strcmp(a->what, "project") == 0;
	uint64_t ttl = 0, rev = 0, max_days = project ? 400 : 90;
	if (a->nitems != 1 || !a->to || a->npos)
		return usage("create", "expected: link create -p P (--change CR-N [--quote REV] | --baseline V | "
			     "--amendment AMD-N | --notice NTC-N | --delivery DLV-N | --project) --to NAME "
			     "[--expires 7d]");
	if (a->quote && strcmp(a->what, "change") != 0)
		return usage("create", "--quote is for a --change link");
	if (expiry(a->expires ? a->expires : project ? "90d" : "7d", max_days, &ttl))
		return CTL_EXIT_USAGE;
	char url[1024];
	if (portal_url(s, url, sizeof url, &e))
		return ctl_report(&e);
	if (url[0] == '\0') {
		fprintf(stderr, "scopectl link create: the server runs no client portal, so a link would lead nowhere; "
			"nothing was recorded. Set portal_listen (and portal_url, its public address) in scoped.conf "
			"and restart scoped\n");
		return CTL_EXIT_REFUSED;
	}
	if (a->quote) {
		char *end;
		rev = strtoull(a->quote, &end, 10);
		if (*end || rev == 0)
			return usage("create", "--quote takes a quote revision number (1, 2, ...)");
	} else if (strcmp(a->what, "change") == 0 && current_quote(s, a->project, a->item, &rev, &e)) {
		return ctl_report(&e);
	}
	char token[44], sha[65];
	make_token(token, sha);
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "for", a->what);
	if (a->item && strcmp(a->what, "baseline") == 0)
		body_raw(&b, "baseline", a->item);
	else if (a->item)
		body_str(&b, a->what, a->item);
	if (rev)
		body_num(&b, "quote", rev);
	body_str(&b, "to", a->to);
	body_num(&b, "expires_at", (uint64_t)time(NULL) * 1000000ull + ttl);
	body_str(&b, "token_sha256", sha);
	int rc = orders_record(s, &a->rec, "link", a->project, &b, "number");
	buf_free(&b);
	if (rc == CTL_EXIT_OK) {
		size_t un = strlen(url);
		while (un && url[un - 1] == '/')
			un--;
		printf("%.*s/l/%s\n", (int)un, url, token);
		fprintf(stderr, "This URL is shown only once: the ledger keeps only its token's SHA-256. Send it to %s "
			"by your own mail.\n", a->to);
	}
	OPENSSL_cleanse(token, sizeof token);
	return rc;
}

static int c_revoke(struct session *s, const struct largs *a)
{
	if (a->npos != 1 || a->nitems || a->to || a->expires)
		return usage("revoke", "expected: link revoke -p P LNK-N [--reason TEXT]");
	struct buf b;
	buf_init(&b);
	buf_addc(&b, '{');
	body_str(&b, "link", a->pos[0]);
	if (a->reason)
		body_str(&b, "reason", a->reason);
	int rc = orders_record(s, &a->rec, "revoke", a->project, &b, NULL);
	buf_free(&b);
	return rc;
}

int cmd_link(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "list") == 0) {
		/* report links over the project: its views (paged, proven, re-derived) */
		char **v = calloc((size_t)argc + 1, sizeof *v);
		if (v == NULL)
			return CTL_EXIT_USAGE;
		v[0] = "report";
		v[1] = "links";
		for (int i = 2; i < argc; i++)
			v[i] = argv[i];
		int rc = cmd_views("report", argc, v);
		free(v);
		return rc;
	}
	bool create = argc > 1 && strcmp(argv[1], "create") == 0;
	if (argc < 2 || (!create && strcmp(argv[1], "revoke") != 0)) {
		fprintf(stderr, "scopectl link: expected create, list or revoke (see scopectl help link)\n");
		return CTL_EXIT_USAGE;
	}
	struct profile p;
	struct largs a;
	int rc = parse(argc - 1, argv + 1, &p, &a);
	if (rc)
		return rc;
	if (!a.project)
		return usage(argv[1], "needs -p PROJECT");
	struct session s;
	if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK)
		rc = create ? c_create(&s, &a) : c_revoke(&s, &a);
	sess_close(&s);
	return rc;
}
