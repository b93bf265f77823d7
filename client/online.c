#include "online.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "anchors.h"
#include "args.h"
#include "enc.h"
#include "entry.h"
#include "export.h"
#include "fileio.h"
#include "json.h"
#include "mp.h"
#include "net.h"
#include "offline.h"
#include "pages.h"
#include "proof.h"
#include "progress.h"
#include "pverify.h"
#include "record.h"
#include "result.h"
#include "show.h"
#include "verify.h"
#include "wire.h"
#include "witness.h"

struct args {
	const char *project, *kind, *body_json, *body_file, *request_id, *format, *output;
	bool json, have_from, have_to, have_size;
	uint64_t from, to, size;
	int npos;
	char *pos[3];
};

static int usage(const char *cmd, const char *msg)
{
	fprintf(stderr, "scopectl %s: %s (see scopectl help %s)\n", cmd, msg, cmd);
	return CTL_EXIT_USAGE;
}

int ctl_report(const struct err *e)
{
	int code = e->code ? e->code : CTL_EXIT_CONN;
	if (code == CTL_EXIT_VERIFY)
		fprintf(stderr, "scopectl: VERIFICATION FAILED: %s\n", showz(e->msg));
	else
		fprintf(stderr, "scopectl: %s\n", showz(e->msg));
	return code;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

int conn_preload(int argc, char **argv, const struct option *opts, const char *shortopts,
		 struct profile *p)
{
	struct err e = { 0 };
	const char *conf = getenv("SCOPECTL_CONFIG");
	int c;
	memset(p, 0, sizeof *p);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1)
		if (c == 'c')
			conf = optarg;
	opterr = 1;
	optind = 1;
	if (conf && *conf && profile_load(p, conf, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

int conn_option(int c, const char *arg, struct profile *p, struct err *e)
{
	switch (c) {
	case 'c': return 0;
	case 'S': return profile_set(p, "server", arg, NULL, e);
	case 'N': return profile_set(p, "server_name", arg, NULL, e);
	case 'C': return profile_set(p, "cert", arg, NULL, e);
	case 'K': return profile_set(p, "key", arg, NULL, e);
	case 'A': return profile_set(p, "ca", arg, NULL, e);
	case 'T': return profile_set(p, "trust", arg, NULL, e);
	case 'W': return profile_set(p, "witness", arg, NULL, e);
	case 'Q': return profile_set(p, "quorum", arg, NULL, e);
	case CONN_OPT_POLICY: return profile_set(p, "policy", arg, NULL, e);
	default: return 1;	/* not a connection option */
	}
}

int conn_getopt(int argc, char **argv, const char *shortopts, const struct option *opts, struct profile *p)
{
	int c;
	while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		struct err e = { 0 };
		int rc = conn_option(c, optarg, p, &e);
		if (rc < 0) {
			fprintf(stderr, "scopectl: %s\n", e.msg);
			return CONN_GETOPT_BAD;
		}
		if (rc == 1)
			return c;
	}
	return -1;
}

int conn_parse_output(const char *cmd, int argc, char **argv, struct profile *p, const char **out)
{
	static const struct option opts[] = {
		CONN_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ 0, 0, 0, 0 },
	};
	struct err e = { 0 };
	int c, rc;
	*out = NULL;
	if ((rc = conn_preload(argc, argv, opts, "c:o:", p)))
		return rc;
	while ((c = conn_getopt(argc, argv, "c:o:", opts, p)) >= 0) {
		if (c != 'o') {
			fprintf(stderr, "scopectl %s: bad option (see scopectl help %s)\n", cmd, cmd);
			return CTL_EXIT_USAGE;
		}
		*out = optarg;
	}
	if (c == CONN_GETOPT_BAD)
		return CTL_EXIT_USAGE;
	if (profile_check(p, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* Connection options are shared by every command. */
static int parse(const char *cmd, int argc, char **argv, struct profile *p, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "server", required_argument, NULL, 'S' },
		{ "server-name", required_argument, NULL, 'N' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "ca", required_argument, NULL, 'A' },
		{ "trust", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "project", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'k' },
		{ "body-json", required_argument, NULL, 'b' },
		{ "body-file", required_argument, NULL, 'F' },
		{ "request-id", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'X' },
		{ "output", required_argument, NULL, 'o' },
		{ "tsa-ca", required_argument, NULL, 'Z' },
		{ "witness", required_argument, NULL, 'W' },
		{ "quorum", required_argument, NULL, 'Q' },
		{ "policy", required_argument, NULL, CONN_OPT_POLICY },
		{ 0, 0, 0, 0 },
	};
	struct err e = { 0 };
	const char *conf = getenv("SCOPECTL_CONFIG");
	int c;
	memset(a, 0, sizeof *a);
	memset(p, 0, sizeof *p);
	/* the profile first, so that flags override it */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:o:p:", opts, NULL)) != -1)
		if (c == 'c')
			conf = optarg;
	if (conf && *conf && profile_load(p, conf, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "c:o:p:", opts, NULL)) != -1) {
		int rc = 0;
		switch (c) {
		case 'c': break;
		case 'S': rc = profile_set(p, "server", optarg, NULL, &e); break;
		case 'N': rc = profile_set(p, "server_name", optarg, NULL, &e); break;
		case 'C': rc = profile_set(p, "cert", optarg, NULL, &e); break;
		case 'K': rc = profile_set(p, "key", optarg, NULL, &e); break;
		case 'A': rc = profile_set(p, "ca", optarg, NULL, &e); break;
		case 'T': rc = profile_set(p, "trust", optarg, NULL, &e); break;
		case 'Z': rc = profile_set(p, "tsa_ca", optarg, NULL, &e); break;
		case 'W': rc = profile_set(p, "witness", optarg, NULL, &e); break;
		case 'Q': rc = profile_set(p, "quorum", optarg, NULL, &e); break;
		case CONN_OPT_POLICY: rc = profile_set(p, "policy", optarg, NULL, &e); break;
		case 'j': a->json = true; break;
		case 'p': a->project = optarg; break;
		case 'k': a->kind = optarg; break;
		case 'b': a->body_json = optarg; break;
		case 'F': a->body_file = optarg; break;
		case 'r': a->request_id = optarg; break;
		case 'X': a->format = optarg; break;
		case 'o': a->output = optarg; break;
		case 'f':
			if (!parse_u64(optarg, &a->from))
				return usage(cmd, "--from needs a number");
			a->have_from = true;
			break;
		case 't':
			if (!parse_u64(optarg, &a->to))
				return usage(cmd, "--to needs a number");
			a->have_to = true;
			break;
		case 's':
			if (!parse_u64(optarg, &a->size))
				return usage(cmd, "--size needs a number");
			a->have_size = true;
			break;
		default:
			return usage(cmd, "bad option");
		}
		if (rc) {
			fprintf(stderr, "scopectl: %s\n", e.msg);
			return CTL_EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos == 3)
			return usage(cmd, "too many arguments");
		a->pos[a->npos++] = argv[optind];
	}
	if (profile_check(p, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

/* ---- shared pieces ---- */

/* Proves entry seq (with leaf hash `leaf`) against the latest checkpoint. */
int prove_latest(struct session *s, uint64_t seq, const uint8_t leaf[HASH_LEN],
		 struct inclusion_proof *pr, struct checkpoint *cp, struct buf *note_out, struct err *e)
{
	const uint8_t *res;
	size_t len, sn;
	const char *note;
	/* with witnesses, the newest cosigned checkpoint; it covers a new entry
	 * within seconds of its append (WITNESS_WAIT_S at most) */
	for (int tries = 0;; tries++) {
		sess_begin(s, "prove", 1 + witness_cosigned_fields(s));
		mp_pack_cstr(&s->req, "seq");
		mp_pack_uint(&s->req, seq);
		witness_ask_cosigned(s);
		if (sess_call(s, 2, &res, &len, e) == 0)
			break;
		if (!witness_cosigned_fields(s) || strcmp(s->server_code, "not_found") != 0 ||
		    tries == 2 * WITNESS_WAIT_S)
			return -1;
		if (tries == 0)
			fprintf(stderr, "scopectl: waiting for the witnesses to cosign a checkpoint with entry %llu\n",
				(unsigned long long)seq);
		usleep(500000);
	}
	if (res_str(res, len, "checkpoint", &note, &sn, e))
		return -1;
	/* copy out before the next call reuses the response buffer */
	memset(pr, 0, sizeof *pr);
	pr->leaf_index = seq;
	if (res_u64(res, len, "tree_size", &pr->tree_size, e) ||
	    res_hash(res, len, "leaf_hash", pr->leaf_hash, e) ||
	    res_hash(res, len, "root_hash", pr->root_hash, e) || res_proof(res, len, pr->proof, &pr->len, e))
		return -1;
	struct buf nb;
	buf_init(&nb);
	buf_add(&nb, note, sn);
	int rc = witness_accept(s, (const char *)nb.data, nb.len, cp, e);
	if (rc == 0 && note_out) {
		buf_reset(note_out);
		buf_add(note_out, nb.data, nb.len);
	}
	buf_free(&nb);
	if (rc)
		return -1;
	if (pr->tree_size != cp->size || memcmp(pr->root_hash, cp->root, HASH_LEN) != 0)
		return err_setc(e, CTL_EXIT_VERIFY, "the proof is not for the signed checkpoint");
	if (leaf && memcmp(leaf, pr->leaf_hash, HASH_LEN) != 0)
		return err_setc(e, CTL_EXIT_VERIFY, "entry %llu does not hash to the leaf the server proves",
				(unsigned long long)seq);
	if (merkle_verify_inclusion(seq, cp->size, pr->leaf_hash, (const uint8_t(*)[HASH_LEN])pr->proof,
				    pr->len, cp->root, e)) {
		e->code = CTL_EXIT_VERIFY;
		return -1;
	}
	return 0;
}

int prove_at(struct session *s, uint64_t seq, uint64_t size, struct inclusion_proof *pr, struct err *e)
{
	const uint8_t *res;
	size_t len;
	sess_begin(s, "prove", 2);
	mp_pack_cstr(&s->req, "seq");
	mp_pack_uint(&s->req, seq);
	mp_pack_cstr(&s->req, "size");
	mp_pack_uint(&s->req, size);
	memset(pr, 0, sizeof *pr);
	pr->leaf_index = seq;
	pr->tree_size = size;
	return sess_call(s, 2, &res, &len, e) || res_hash(res, len, "leaf_hash", pr->leaf_hash, e) ||
	       res_hash(res, len, "root_hash", pr->root_hash, e) || res_proof(res, len, pr->proof, &pr->len, e)
		       ? -1 : 0;
}

static void hex32(const uint8_t h[HASH_LEN], char out[65])
{
	hex_encode(h, HASH_LEN, out);
}

/* ---- append ---- */

static int do_append(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	struct buf text, body;
	buf_init(&text);
	buf_init(&body);
	int rc = CTL_EXIT_OK;
	if (a->body_file) {
		if (read_file(a->body_file, ENTRY_BODY_MAX * 4, &text, &e)) {
			rc = ctl_report(&(struct err){ CTL_EXIT_USAGE, { 0 } });
			fprintf(stderr, "scopectl: %s\n", e.msg);
			goto out;
		}
	} else {
		buf_adds(&text, a->body_json);
	}
	if (json_to_canonical((const char *)text.data, text.len, &body, &e)) {
		fprintf(stderr, "scopectl append: body: %s\n", e.msg);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (body.len == 0 || !((body.data[0] >= 0x80 && body.data[0] <= 0x8f) || body.data[0] == 0xde ||
			       body.data[0] == 0xdf)) {
		fprintf(stderr, "scopectl append: body must be a JSON object\n");
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	char reqid[ENTRY_REQID_MAX + 1];
	if (record_request_id(a->request_id, reqid)) {
		fprintf(stderr, "scopectl append: --request-id is too long\n");
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	struct recorded r;
	if (record_append(s, a->kind, a->project, reqid, body.data, body.len, &r, &e)) {
		rc = ctl_report(&e);
		record_free(&r);
		goto out;
	}
	char h[65];
	hex32(r.leaf, h);
	if (a->json) {
		struct buf id;
		buf_init(&id);
		json_put_str(&id, reqid, strlen(reqid));	/* quoted and escaped */
		printf("{\"seq\":%llu,\"leaf_hash\":\"%s\",\"request_id\":%s,\"duplicate\":%s,"
		       "\"checkpoint_size\":%llu}\n", (unsigned long long)r.seq, h, buf_cstr(&id),
		       r.duplicate ? "true" : "false", (unsigned long long)r.cp.size);
		buf_free(&id);
	}
	else
		printf("%s entry %llu (leaf %s), proven in the checkpoint of size %llu\n",
		       r.duplicate ? "already recorded:" : "recorded", (unsigned long long)r.seq, h,
		       (unsigned long long)r.cp.size);
	record_free(&r);
out:
	buf_free(&text);
	buf_free(&body);
	return rc;
}

/* ---- get ---- */

static void print_entry(const struct entry *en, const uint8_t leaf[HASH_LEN], bool json)
{
	struct buf out;
	struct err e = { 0 };
	buf_init(&out);
	if (json) {
		entry_to_json(en, leaf, &out, &e);
		printf("%s\n", buf_cstr(&out));
	} else {
		char t[40], h[65];
		args_time(en->time_us, t);
		hex32(leaf, h);
		msgpack_to_json(en->body, en->body_len, &out, &e);
		printf("entry %llu  %s  %s  project %s  by %s\n  request %s  leaf %s\n  %s\n",
		       (unsigned long long)en->seq, t, show(en->kind, en->kind_len),
		       show(en->project, en->project_len), show(en->author, en->author_len),
		       show(en->request_id, en->request_id_len), h, buf_cstr(&out));
	}
	buf_free(&out);
}

int get_proven(struct session *s, uint64_t seq, struct buf *raw, struct entry *en, uint8_t leaf[HASH_LEN],
	       struct inclusion_proof *pr, struct checkpoint *cp, struct buf *note, struct err *e)
{
	const uint8_t *res, *p;
	size_t len, n;
	sess_begin(s, "get", 1);
	mp_pack_cstr(&s->req, "seq");
	mp_pack_uint(&s->req, seq);
	if (sess_call(s, 2, &res, &len, e) || res_bin(res, len, "entry", &p, &n, e))
		return -1;
	buf_reset(raw);
	buf_add(raw, p, n);
	if (entry_decode(raw->data, raw->len, en, e) || en->seq != seq) {
		if (e->msg[0] == '\0')
			err_set(e, "the server returned entry %llu for %llu", (unsigned long long)en->seq,
				(unsigned long long)seq);
		e->code = CTL_EXIT_VERIFY;
		return -1;
	}
	merkle_leaf_hash(raw->data, raw->len, leaf);
	return prove_latest(s, seq, leaf, pr, cp, note, e);
}

/* ---- the anchored time of an entry ---- */

struct anchorscan {
	struct anchors *x;
	uint64_t seq;
	entry_fn fn;
	void *ctx;
};

/* 1 (stop) at the first anchor covering c->seq. */
static int scan_anchor(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct anchorscan *c = ctx;
	struct entry en;
	size_t had = c->x->n;
	if (entry_decode(p, n, &en, e) || anchors_add(c->x, &en, e))
		return -1;
	if (c->fn && c->x->n > had && c->fn(c->ctx, seq, p, n, e))
		return -1;
	return c->x->n && c->x->a[c->x->n - 1].size > c->seq;
}

int anchors_read(struct session *s, uint64_t from, uint64_t seq, const struct checkpoint *cp, struct anchors *x,
		 entry_fn fn, void *ctx, struct err *e)
{
	struct anchorscan c = { x, seq, fn, ctx };
	int rc = from < cp->size ? pages_entries(s, "", from, cp->size, cp, scan_anchor, &c, e) : 0;
	return rc < 0 ? -1 : 0;
}

/* Prints the earliest anchored time covering entry seq (anchors_read from
 * seq + 1).  Its root is proven a prefix of cp (a consistency proof); with
 * the profile's tsa_ca its token is checked.  Nothing is printed when no
 * anchor covers seq yet, or when the role may not read the ledger-level
 * entries. */
static int print_anchored(struct session *s, uint64_t seq, const struct checkpoint *cp, struct err *e)
{
	struct anchors x;
	const char *ca = s->prof->tsa_ca;
	anchors_init(&x);
	int rc = anchors_read(s, seq + 1, seq, cp, &x, NULL, NULL, e);
	const struct anchor *a = rc == 0 ? anchors_covering(&x, seq) : NULL;
	if (rc < 0 && e->code == CTL_EXIT_REFUSED) {
		rc = 0;
	} else if (a && witness_prefix(s, a->size, a->root, cp, e)) {
		rc = err_prefix(e, "anchor entry %llu", (unsigned long long)a->seq);
	} else if (a && ca[0] && anchor_verify(a, cp->origin, ca, e)) {
		rc = err_prefix(e, "anchor entry %llu", (unsigned long long)a->seq);
		e->code = CTL_EXIT_VERIFY;
	} else if (a) {
		char t[40];
		args_time(a->time_us, t);
		printf("anchored: the TSA vouches that entry %llu existed at %s (anchor entry %llu, checkpoint "
		       "size %llu; %s)\n", (unsigned long long)seq, t, (unsigned long long)a->seq,
		       (unsigned long long)a->size, ca[0] ? "token verified" : "token not checked: give --tsa-ca FILE");
		rc = 0;
	}
	anchors_free(&x);
	return rc;
}

static int do_get(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	uint64_t seq;
	if (a->npos != 1 || !parse_u64(a->pos[0], &seq))
		return usage("get", "expected one sequence number");
	struct buf raw;
	struct entry en;
	uint8_t leaf[HASH_LEN];
	struct inclusion_proof pr;
	struct checkpoint cp;
	buf_init(&raw);
	int rc = get_proven(s, seq, &raw, &en, leaf, &pr, &cp, NULL, &e) ? ctl_report(&e) : CTL_EXIT_OK;
	if (rc == CTL_EXIT_OK)
		print_entry(&en, leaf, a->json);
	if (rc == CTL_EXIT_OK && !a->json && print_anchored(s, seq, &cp, &e))
		rc = ctl_report(&e);
	buf_free(&raw);
	return rc;
}

struct logctx {
	bool json;
	bool chain;		/* unfiltered: check prev links on the way */
	bool have_prev;
	uint64_t prev_seq;
	uint8_t prev_leaf[HASH_LEN];
};

static int log_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct logctx *l = ctx;
	struct entry en;
	uint8_t leaf[HASH_LEN];
	if (entry_decode(p, n, &en, e))
		return -1;
	merkle_leaf_hash(p, n, leaf);
	if (l->chain && l->have_prev && seq == l->prev_seq + 1 && memcmp(en.prev, l->prev_leaf, HASH_LEN))
		return err_setc(e, CTL_EXIT_VERIFY, "entry %llu does not link to entry %llu",
				(unsigned long long)seq, (unsigned long long)l->prev_seq);
	l->have_prev = true;
	l->prev_seq = seq;
	memcpy(l->prev_leaf, leaf, HASH_LEN);
	if (l->json) {
		struct buf out;
		buf_init(&out);
		entry_to_json(&en, leaf, &out, e);
		printf("%s\n", buf_cstr(&out));
		buf_free(&out);
		return 0;
	}
	char t[40];
	args_time(en.time_us, t);
	struct buf body;
	buf_init(&body);
	msgpack_to_json(en.body, en.body_len, &body, e);
	printf("%6llu  %s  %-10s %-12s %-12s %.80s\n", (unsigned long long)seq, t,
	       show(en.kind, en.kind_len), show(en.project, en.project_len), show(en.author, en.author_len),
	       buf_cstr(&body));
	buf_free(&body);
	return 0;
}

static int do_log(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	struct logctx l = { .json = a->json, .chain = a->project == NULL };
	struct checkpoint cp;
	struct buf note;
	if (a->npos)
		return usage("log", "takes no arguments");
	buf_init(&note);
	int rc = witness_latest(s, &cp, &note, &e);
	buf_free(&note);
	if (rc)
		return ctl_report(&e);
	/* --to names the last entry shown */
	uint64_t to = a->have_to && a->to < cp.size ? a->to + 1 : cp.size;
	/* every page is proven in the checkpoint before it is printed */
	if (pages_entries(s, a->project, a->have_from ? a->from : 0, to, &cp, log_one, &l, &e))
		return ctl_report(&e);
	fprintf(stderr, "every entry shown is proven in the checkpoint of size %llu signed by %s\n",
		(unsigned long long)cp.size, cp.origin);
	return CTL_EXIT_OK;
}

/* ---- checkpoint, prove, consistency ---- */

static int do_checkpoint(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	struct checkpoint cp;
	struct buf note;
	if (a->npos)
		return usage("checkpoint", "takes no arguments");
	buf_init(&note);
	int rc = witness_latest(s, &cp, &note, &e) ? ctl_report(&e) : CTL_EXIT_OK;
	if (rc == 0 && isatty(1))	/* a file gets the signed bytes as they are */
		fputs(show_lines((const char *)note.data, note.len), stdout);
	else if (rc == 0)
		fwrite(note.data, 1, note.len, stdout);
	buf_free(&note);
	return rc;
}

static int do_prove(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	struct inclusion_proof pr;
	struct checkpoint cp;
	uint64_t seq;
	if (a->npos != 1 || !parse_u64(a->pos[0], &seq))
		return usage("prove", "expected one sequence number");
	if (!a->have_size) {
		if (prove_latest(s, seq, NULL, &pr, &cp, NULL, &e))
			return ctl_report(&e);
	} else {
		if (prove_at(s, seq, a->size, &pr, &e))
			return ctl_report(&e);
		struct buf note;
		buf_init(&note);
		int rc = witness_latest(s, &cp, &note, &e) ||
			 witness_prefix(s, a->size, pr.root_hash, &cp, &e);
		buf_free(&note);
		if (rc)
			return ctl_report(&e);
		if (merkle_verify_inclusion(seq, a->size, pr.leaf_hash, (const uint8_t(*)[HASH_LEN])pr.proof,
					    pr.len, pr.root_hash, &e)) {
			e.code = CTL_EXIT_VERIFY;
			return ctl_report(&e);
		}
	}
	struct buf out;
	buf_init(&out);
	inclusion_to_json(&pr, &out);
	if (a->json) {
		printf("%s\n", buf_cstr(&out));
	} else {
		char h[65], r[65];
		hex32(pr.leaf_hash, h);
		hex32(pr.root_hash, r);
		printf("entry %llu (leaf %s) is in the tree of size %llu (root %s),\n"
		       "verified against the checkpoint of size %llu signed by %s\n%s\n",
		       (unsigned long long)seq, h, (unsigned long long)pr.tree_size, r,
		       (unsigned long long)cp.size, showz(cp.origin), buf_cstr(&out));
	}
	buf_free(&out);
	if (!a->json && print_anchored(s, seq, &cp, &e))
		return ctl_report(&e);
	return CTL_EXIT_OK;
}

static int do_consistency(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	struct consistency_proof p;
	struct checkpoint cp;
	const uint8_t *res;
	size_t len, sn;
	memset(&p, 0, sizeof p);
	if (a->npos < 1 || a->npos > 2 || !parse_u64(a->pos[0], &p.old_size) ||
	    (a->npos == 2 && !parse_u64(a->pos[1], &p.new_size)))
		return usage("consistency", "expected OLD [NEW]");
	if (p.old_size == 0)
		return usage("consistency", "OLD must be at least 1");
	sess_begin(s, "consistency", a->npos == 2 ? 2 : 1 + witness_cosigned_fields(s));
	mp_pack_cstr(&s->req, "old");
	mp_pack_uint(&s->req, p.old_size);
	if (a->npos == 2) {
		mp_pack_cstr(&s->req, "new");
		mp_pack_uint(&s->req, p.new_size);
	} else {
		witness_ask_cosigned(s);
	}
	if (sess_call(s, 2, &res, &len, &e) || res_u64(res, len, "new_size", &p.new_size, &e) ||
	    res_hash(res, len, "old_root", p.old_root, &e) ||
	    res_hash(res, len, "new_root", p.new_root, &e) || res_proof(res, len, p.proof, &p.len, &e))
		return ctl_report(&e);
	struct buf note;
	buf_init(&note);
	int rc = 0;
	if (a->npos == 1) {
		const char *str;
		if (res_str(res, len, "checkpoint", &str, &sn, &e) == 0) {
			buf_add(&note, str, sn);
			rc = witness_accept(s, (const char *)note.data, note.len, &cp, &e);
			if (rc == 0 && (cp.size != p.new_size || memcmp(cp.root, p.new_root, HASH_LEN)))
				rc = err_setc(&e, CTL_EXIT_VERIFY, "the proof is not for the signed checkpoint");
		} else {
			rc = -1;
		}
	} else {
		rc = witness_latest(s, &cp, &note, &e) || witness_prefix(s, p.new_size, p.new_root, &cp, &e);
	}
	buf_free(&note);
	if (rc)
		return ctl_report(&e);
	if (merkle_verify_consistency(p.old_size, p.new_size, p.old_root, p.new_root,
				      (const uint8_t(*)[HASH_LEN])p.proof, p.len, &e)) {
		e.code = CTL_EXIT_VERIFY;
		return ctl_report(&e);
	}
	struct buf out;
	buf_init(&out);
	consistency_to_json(&p, &out);
	if (a->json)
		printf("%s\n", buf_cstr(&out));
	else
		printf("the tree of size %llu is a prefix of the tree of size %llu, verified against the\n"
		       "checkpoint of size %llu signed by %s\n%s\n", (unsigned long long)p.old_size,
		       (unsigned long long)p.new_size, (unsigned long long)cp.size, showz(cp.origin), buf_cstr(&out));
	buf_free(&out);
	return CTL_EXIT_OK;
}

/* ---- export and verify ---- */

struct streamctx {
	FILE *f;
	enum export_format format;
	struct lverify v;
	struct pverify *pv;		/* verify: prepares entries on several threads for v */
	struct anchors *anchors;	/* verify: collects the anchor entries */
	bool verify;
	bool tty;
	struct progress pg;
	uint64_t total, done;
};

static int stream_anchor(void *ctx, const struct entry *en, const uint8_t leaf[HASH_LEN], struct err *e)
{
	struct streamctx *x = ctx;
	return anchors_feed(x->anchors, en, leaf, &x->v.cr, e);
}

static int stream_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct streamctx *x = ctx;
	if (x->verify && pverify_feed(x->pv, p, n, e)) {
		e->code = CTL_EXIT_VERIFY;
		return -1;
	}
	if (x->f && export_write(x->f, x->format, p, n))
		return err_setc(e, CTL_EXIT_USAGE, "writing entry %llu: %s", (unsigned long long)seq,
				strerror(errno));
	x->done++;
	if (x->done % 4096 == 0)
		progress_update(&x->pg, x->done, (double)x->done / (double)x->total);
	return 0;
}

/* Streams entries from..to through x, verified (x->verify) in order on a
 * pool of threads: as on one thread, an entry found bad is reported before
 * a later network or write error. */
static int stream_run(struct session *s, struct streamctx *x, uint64_t from, uint64_t to, struct err *e)
{
	unsigned threads;
	x->pv = NULL;
	if (x->verify && (pverify_threads(&threads, e) ||
			  pverify_new(&x->pv, &x->v, threads, x->anchors ? stream_anchor : NULL, x, e)))
		return (e->code = CTL_EXIT_USAGE, -1);
	progress_init(&x->pg, "fetched", x->tty && x->total);
	/* with verification on, pverify checks every entry: the pages give only seqs */
	int rc = x->verify ? pages_entries_unchecked(s, from, to, stream_one, x, e)
			   : pages_entries(s, NULL, from, to, NULL, stream_one, x, e);
	if (x->verify && rc && e->code != CTL_EXIT_VERIFY) {
		struct err later = *e;
		if (pverify_end(x->pv, e) == 0)
			*e = later;
		else
			e->code = CTL_EXIT_VERIFY;
	} else if (x->verify && rc == 0 && pverify_end(x->pv, e)) {
		e->code = CTL_EXIT_VERIFY;
		rc = -1;
	}
	pverify_free(x->pv);
	x->pv = NULL;
	progress_update(&x->pg, x->done, 1);
	progress_end(&x->pg);
	return rc;
}

static int do_export(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	struct checkpoint cp;
	struct buf note;
	struct streamctx x = { .format = EXPORT_HEX, .tty = isatty(2) != 0 };
	if (a->npos || a->output == NULL)
		return usage("export", "needs -o FILE");
	if (a->format && export_parse_format(a->format, &x.format))
		return usage("export", "--format is hex or raw");
	buf_init(&note);
	if (witness_latest(s, &cp, &note, &e)) {
		buf_free(&note);
		return ctl_report(&e);
	}
	buf_free(&note);
	uint64_t from = a->have_from ? a->from : 0, to = a->have_to ? a->to : cp.size;
	if (to > cp.size)
		to = cp.size;
	lverify_init(&x.v);
	x.verify = from == 0;
	if (x.verify && to == cp.size)
		lverify_set_checkpoint(&x.v, &cp);
	x.total = to > from ? to - from : 0;
	bool to_stdout = strcmp(a->output, "-") == 0;
	struct out_file out;
	if (to_stdout)
		x.f = stdout;
	else if (out_open(&out, a->output, ".tmp", 0644, &e) || (x.f = out_stream(&out, &e)) == NULL) {
		if (out.fd >= 0)
			out_abort(&out);
		e.code = CTL_EXIT_USAGE;
		return ctl_report(&e);
	}
	int rc = stream_run(s, &x, from, to, &e);
	if (rc == 0 && x.verify)
		rc = lverify_finish(&x.v, &e) ? (e.code = CTL_EXIT_VERIFY, -1) : 0;
	if (!to_stdout && rc)
		out_abort(&out);
	else if (!to_stdout && out_commit(&out, &e)) {
		e.code = CTL_EXIT_USAGE;
		rc = -1;
	}
	if (rc)
		return ctl_report(&e);
	fprintf(stderr, "exported entries %llu..%llu%s\n", (unsigned long long)from,
		(unsigned long long)(to ? to - 1 : 0),
		x.verify ? (to == cp.size ? ", verified against the signed checkpoint" : ", chain verified") : "");
	return CTL_EXIT_OK;
}

static int do_verify(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	struct checkpoint cp;
	struct buf note;
	struct anchors anchors;
	struct streamctx x = { .verify = true, .tty = isatty(2) != 0 && !a->json, .anchors = &anchors };
	if (a->npos)
		return usage("verify", "takes no arguments (offline: --export FILE --checkpoint FILE)");
	buf_init(&note);
	int rc = witness_latest(s, &cp, &note, &e);
	buf_free(&note);
	if (rc)
		return ctl_report(&e);
	anchors_init(&anchors);
	lverify_init(&x.v);
	lverify_set_checkpoint(&x.v, &cp);
	x.total = cp.size;
	rc = stream_run(s, &x, 0, cp.size, &e);
	if (rc == 0 && lverify_finish(&x.v, &e))
		rc = (e.code = CTL_EXIT_VERIFY, -1);
	bool checked = s->prof->tsa_ca[0] != '\0';
	if (rc == 0 && checked)
		rc = anchors_check(&anchors, cp.origin, s->prof->tsa_ca, &e);
	uint8_t root[HASH_LEN];
	char r[65];
	lverify_root(&x.v, root);
	hex32(root, r);
	if (a->json) {
		struct buf out;
		buf_init(&out);
		if (rc == 0) {
			buf_printf(&out, "{\"ok\":true,\"entries\":%llu,\"root_hash\":\"%s\",\"anchors\":%zu,"
				   "\"anchors_checked\":%s}", (unsigned long long)x.v.count, r, anchors.n,
				   checked ? "true" : "false");
		} else {
			buf_adds(&out, "{\"ok\":false,\"error\":");
			json_put_str(&out, e.msg, strlen(e.msg));
			if (x.v.failed)
				buf_printf(&out, ",\"first_bad_seq\":%llu", (unsigned long long)x.v.bad_seq);
			buf_addc(&out, '}');
		}
		printf("%s\n", buf_cstr(&out));
		buf_free(&out);
		anchors_free(&anchors);
		return rc ? (e.code ? e.code : CTL_EXIT_CONN) : CTL_EXIT_OK;
	}
	if (rc) {
		int code = ctl_report(&e);
		if (x.v.failed)
			fprintf(stderr, "first bad entry: %llu\n", (unsigned long long)x.v.bad_seq);
		anchors_free(&anchors);
		return code;
	}
	printf("ok: all %llu entries verified against the checkpoint signed by %s\nroot %s\n",
	       (unsigned long long)x.v.count, showz(cp.origin), r);
	anchors_print(&anchors, checked);
	anchors_free(&anchors);
	return CTL_EXIT_OK;
}

/* ---- info ---- */

/* The value at a dotted path ("connections.open") in the stats map; its
 * bytes in *v and *vn.  0 if absent or malformed. */
static int stat_at(const uint8_t *m, size_t n, const char *path, const uint8_t **v, size_t *vn)
{
	char key[64];
	const char *dot = strchr(path, '.');
	size_t kl = dot ? (size_t)(dot - path) : strlen(path);
	if (kl >= sizeof key)
		return 0;
	memcpy(key, path, kl);
	key[kl] = '\0';
	struct mp_cur c;
	if (mp_map_find(m, n, key, &c, NULL) != 1)
		return 0;
	const uint8_t *start = c.p;
	if (mp_skip(&c, 4, NULL))
		return 0;
	if (dot)
		return stat_at(start, (size_t)(c.p - start), dot + 1, v, vn);
	*v = start;
	*vn = (size_t)(c.p - start);
	return 1;
}

static uint64_t stat_u(const uint8_t *m, size_t n, const char *path)
{
	const uint8_t *v;
	size_t vn;
	uint64_t u = 0;
	struct mp_cur c;
	if (stat_at(m, n, path, &v, &vn)) {
		mp_cur_init(&c, v, vn);
		mp_get_uint(&c, &u, NULL);
	}
	return u;
}

static void print_hist(const uint8_t *m, size_t n, const char *label, const char *path)
{
	const uint8_t *h;
	size_t hn;
	if (!stat_at(m, n, path, &h, &hn))
		return;
	printf("               %-12s p50 %llu  p90 %llu  p99 %llu  p99.9 %llu  max %llu  (%llu samples)\n",
	       label, (unsigned long long)stat_u(h, hn, "p50"), (unsigned long long)stat_u(h, hn, "p90"),
	       (unsigned long long)stat_u(h, hn, "p99"), (unsigned long long)stat_u(h, hn, "p999"),
	       (unsigned long long)stat_u(h, hn, "max"), (unsigned long long)stat_u(h, hn, "count"));
}

static void human_bytes(uint64_t b, char out[32])
{
	static const char *const UNIT[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	unsigned u = 0;
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", v, UNIT[u]);
}

/* info's operator section (admin and auditor): PROTOCOL.md, info. */
static void print_stats(const uint8_t *st, size_t sn, const struct checkpoint *cp)
{
	char root[65];
	hex_encode(cp->root, HASH_LEN, root);
	printf("checkpoint:    size %llu, root %s (signature and consistency verified)\n",
	       (unsigned long long)cp->size, root);
	printf("uptime:        %llu s\n", (unsigned long long)stat_u(st, sn, "uptime_s"));
	printf("connections:   %llu open, %llu at most, %llu accepted (%llu resumed), %llu closed when idle\n",
	       (unsigned long long)stat_u(st, sn, "connections.open"),
	       (unsigned long long)stat_u(st, sn, "connections.peak"),
	       (unsigned long long)stat_u(st, sn, "connections.accepted"),
	       (unsigned long long)stat_u(st, sn, "connections.resumed"),
	       (unsigned long long)stat_u(st, sn, "connections.closed_idle"));
	printf("appends:       %llu appended, %llu repeated, %llu rejected; %llu commits (largest %llu); "
	       "%llu waiting\n",
	       (unsigned long long)stat_u(st, sn, "appends.appended"),
	       (unsigned long long)stat_u(st, sn, "appends.duplicates"),
	       (unsigned long long)stat_u(st, sn, "appends.rejected"),
	       (unsigned long long)stat_u(st, sn, "appends.commits"),
	       (unsigned long long)stat_u(st, sn, "appends.batch_max"),
	       (unsigned long long)stat_u(st, sn, "appends.queued"));
	printf("append latency, queued to durable (us):\n");
	print_hist(st, sn, "last minute", "latency_us_last_minute");
	print_hist(st, sn, "since start", "latency_us_since_start");
	printf("commit duration (us):\n");
	print_hist(st, sn, "last minute", "commit_us.last_minute");
	print_hist(st, sn, "since start", "commit_us.since_start");
	printf("refused:      ");
	const uint8_t *r;
	size_t rn;
	uint32_t count = 0;
	int any = 0;
	struct mp_cur c;
	if (stat_at(st, sn, "refused", &r, &rn)) {
		mp_cur_init(&c, r, rn);
		if (mp_get_map(&c, &count, NULL) == 0)
			for (uint32_t i = 0; i < count; i++) {
				const char *k;
				size_t kn;
				uint64_t v = 0;
				if (mp_get_str(&c, &k, &kn, NULL) || mp_get_uint(&c, &v, NULL))
					break;
				if (v) {
					printf("%s %s %llu", any ? "," : "", show(k, kn), (unsigned long long)v);
					any = 1;
				}
			}
	}
	printf("%s\n", any ? "" : " none");
	char used[32], size[32], max[32];
	human_bytes(stat_u(st, sn, "map.used_bytes"), used);
	human_bytes(stat_u(st, sn, "map.size_bytes"), size);
	human_bytes(stat_u(st, sn, "map.max_bytes"), max);
	printf("map:           %s used of %s mapped (grows up to %s)\n", used, size, max);
}

static int do_info(struct session *s, const struct args *a)
{
	struct err e = { 0 };
	const uint8_t *res;
	size_t len;
	if (a->npos)
		return usage("info", "takes no arguments");
	sess_begin(s, "info", 0);
	if (sess_call(s, 2, &res, &len, &e))
		return ctl_report(&e);
	const char *vk, *origin, *ident, *version;
	size_t vkn, on, in, vn;
	uint64_t size;
	if (res_str(res, len, "verifier_key", &vk, &vkn, &e) || res_str(res, len, "origin", &origin, &on, &e) ||
	    res_str(res, len, "identity", &ident, &in, &e) || res_str(res, len, "version", &version, &vn, &e) ||
	    res_u64(res, len, "tree_size", &size, &e))
		return ctl_report(&e);
	bool trusted = false;
	for (size_t i = 0; i < s->prof->ntrust; i++) {
		struct buf b;
		buf_init(&b);
		note_verifier_format(&s->prof->trust[i], &b);
		trusted |= b.len == vkn && memcmp(b.data, vk, vkn) == 0;
		buf_free(&b);
	}
	/* operators (admin, auditor) get stats; they also see the checkpoint,
	 * verified and remembered like any other */
	const uint8_t *stats = NULL;
	size_t sn = 0;
	struct mp_cur sc;
	struct checkpoint cp;
	struct buf note, info;
	buf_init(&note);
	buf_init(&info);
	if (mp_map_find(res, len, "stats", &sc, NULL) == 1) {
		buf_add(&info, res, len);	/* the next call reuses the response buffer */
		res = info.data;
		if (mp_map_find(res, len, "stats", &sc, NULL) == 1) {
			stats = sc.p;
			if (mp_skip(&sc, 4, NULL) == 0)
				sn = (size_t)(sc.p - stats);
		}
		if (witness_latest(s, &cp, &note, &e)) {
			buf_free(&note);
			buf_free(&info);
			return ctl_report(&e);
		}
		res_str(res, len, "verifier_key", &vk, &vkn, &e);
		res_str(res, len, "origin", &origin, &on, &e);
		res_str(res, len, "identity", &ident, &in, &e);
		res_str(res, len, "version", &version, &vn, &e);
	}
	if (a->json) {
		struct buf out;
		buf_init(&out);
		msgpack_to_json(res, len, &out, &e);
		/* add whether the server's key is one we trust, and the checkpoint */
		if (out.len && out.data[out.len - 1] == '}') {
			out.len--;
			buf_printf(&out, ",\"trusted\":%s", trusted ? "true" : "false");
			if (stats) {
				char root[65];
				hex_encode(cp.root, HASH_LEN, root);
				buf_printf(&out, ",\"checkpoint\":{\"size\":%llu,\"root\":\"%s\"}",
					   (unsigned long long)cp.size, root);
			}
			buf_add(&out, "}", 1);
		}
		printf("%s\n", buf_cstr(&out));
		buf_free(&out);
		buf_free(&note);
		buf_free(&info);
		return CTL_EXIT_OK;
	}
	struct buf roles, projects;
	buf_init(&roles);
	buf_init(&projects);
	struct mp_cur c;
	if (mp_map_find(res, len, "roles", &c, NULL) == 1) {
		const uint8_t *st = c.p;
		mp_skip(&c, 2, NULL);
		msgpack_to_json(st, (size_t)(c.p - st), &roles, NULL);
	}
	if (mp_map_find(res, len, "projects", &c, NULL) == 1) {
		const uint8_t *st = c.p;
		mp_skip(&c, 2, NULL);
		msgpack_to_json(st, (size_t)(c.p - st), &projects, NULL);
	}
	printf("server:        %s:%s (scoped %s)\norigin:        %s\ntree size:     %llu\n"
	       "verifier key:  %s%s\nyou are:       %s\nroles:         %s\nprojects:      %s\n",
	       s->prof->host, s->prof->port, show(version, vn), show(origin, on), (unsigned long long)size,
	       show(vk, vkn), trusted ? " (trusted)" : " (NOT among your trusted keys)", show(ident, in),
	       buf_cstr(&roles), buf_cstr(&projects));
	if (stats)
		print_stats(stats, sn, &cp);
	buf_free(&roles);
	buf_free(&projects);
	buf_free(&note);
	buf_free(&info);
	return CTL_EXIT_OK;
}

int ctl_session_open(struct session *s, const struct profile *p)
{
	struct err e = { 0 };
	memset(s, 0, sizeof *s);
	s->keep_tickets = true;
	return sess_open(s, p, &e) ? ctl_report(&e) : CTL_EXIT_OK;
}

int cmd_online(const char *cmd, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(struct session *, const struct args *);
	} CMDS[] = {
		{ "append", do_append }, { "get", do_get }, { "log", do_log },
		{ "checkpoint", do_checkpoint }, { "prove", do_prove }, { "consistency", do_consistency },
		{ "export", do_export }, { "verify", do_verify }, { "info", do_info },
	};
	struct profile p;
	struct args a;
	int rc = parse(cmd, argc, argv, &p, &a);
	if (rc)
		return rc;
	if (strcmp(cmd, "append") == 0 &&
	    (!a.project || !a.kind || (a.body_json == NULL) == (a.body_file == NULL)))
		return usage(cmd, "needs --project, --kind and one of --body-json/--body-file");
	for (size_t i = 0; i < sizeof CMDS / sizeof CMDS[0]; i++) {
		if (strcmp(cmd, CMDS[i].name) != 0)
			continue;
		struct session s;
		if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK)
			rc = CMDS[i].fn(&s, &a);
		sess_close(&s);
		return rc;
	}
	return usage(cmd, "unknown command");
}
