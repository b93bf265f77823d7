#include "offline.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anchors.h"
#include "args.h"
#include "cosigners.h"
#include "dossier.h"
#include "enc.h"
#include "entry.h"
#include "export.h"
#include "fileio.h"
#include "json.h"
#include "merkle.h"
#include "note.h"
#include "mp.h"
#include "profile.h"
#include "proof.h"
#include "progress.h"
#include "pverify.h"
#include "show.h"
#include "verify.h"

#define MAX_TRUST 8

static int usage(const char *msg)
{
	fprintf(stderr, "scopectl verify: %s (see scopectl help verify)\n", msg);
	return CTL_EXIT_USAGE;
}

static int failed(const char *msg)
{
	fprintf(stderr, "scopectl: VERIFICATION FAILED: %s\n", showz(msg));
	return CTL_EXIT_VERIFY;
}

static int load_checkpoint(const char *path, const struct note_verifier *vs, size_t nv,
			   struct checkpoint *cp, struct err *e)
{
	struct buf b;
	buf_init(&b);
	int rc = read_file(path, NOTE_MAX_BYTES, &b, e);
	if (rc == 0)
		rc = checkpoint_open((const char *)b.data, b.len, vs, nv, cp, e);
	buf_free(&b);
	if (rc)
		return err_prefix(e, "checkpoint %s", path);
	return 0;
}

struct anchorfeed {
	struct anchors *x;
	const struct lverify *v;	/* its tree holds the entry fed */
};

static int feed_anchor(void *ctx, const struct entry *en, const uint8_t leaf[HASH_LEN], struct err *e)
{
	struct anchorfeed *f = ctx;
	return anchors_feed(f->x, en, leaf, &f->v->cr, e);
}

/* The part of a regular file read so far, or -1 (a pipe). */
static double read_part(FILE *f)
{
	struct stat st;
	long at = ftell(f);
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_size <= 0 || at < 0)
		return -1;
	return (double)at / (double)st.st_size;
}

static int verify_export(const char *path, const struct checkpoint *cp, const char *tsa_ca, bool json,
			 unsigned threads)
{
	struct err e = { 0 };
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "scopectl: %s: %s\n", path, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	struct export_reader r;
	struct lverify v;
	struct anchors anchors;
	struct pverify *pv;
	struct progress pg;
	export_reader_init(&r, f, EXPORT_AUTO);
	lverify_init(&v);
	anchors_init(&anchors);
	lverify_set_checkpoint(&v, cp);
	progress_init(&pg, "verified", isatty(2) && !json);
	struct anchorfeed af = { &anchors, &v };
	int rc = pverify_new(&pv, &v, threads, feed_anchor, &af, &e);
	while (rc == 0) {
		const uint8_t *p;
		size_t n;
		int got = export_next(&r, &p, &n, &e);
		if (got < 0) {
			/* an entry before the unreadable one may be bad: that one is reported */
			struct err re = e;
			uint64_t at = r.index;
			if (pverify_end(pv, &e) == 0) {
				e = re;
				v.failed = true;
				v.bad_seq = at;
			}
			rc = -1;
			break;
		}
		if (got == 0) {
			rc = pverify_end(pv, &e);
			break;
		}
		rc = pverify_feed(pv, p, n, &e);
		if (r.index % 4096 == 0)
			progress_update(&pg, v.count, read_part(f));
	}
	pverify_free(pv);
	progress_update(&pg, v.count, 1);
	progress_end(&pg);
	if (rc == 0)
		rc = lverify_finish(&v, &e);
	if (rc == 0 && tsa_ca)
		rc = anchors_check(&anchors, cp->origin, tsa_ca, &e);
	export_reader_free(&r);
	if (f != stdin)
		fclose(f);

	char root[65];
	uint8_t rb[HASH_LEN];
	lverify_root(&v, rb);
	hex_encode(rb, HASH_LEN, root);
	if (json) {
		struct buf out;
		buf_init(&out);
		if (rc == 0) {
			buf_printf(&out, "{\"ok\":true,\"entries\":%llu,\"checkpoint_size\":%llu,\"root_hash\":\"%s\","
				   "\"anchors\":%zu,\"anchors_checked\":%s}", (unsigned long long)v.count,
				   (unsigned long long)cp->size, root, anchors.n, tsa_ca ? "true" : "false");
		} else {
			buf_adds(&out, "{\"ok\":false,\"error\":");
			json_put_str(&out, e.msg, strlen(e.msg));
			if (v.failed)
				buf_printf(&out, ",\"first_bad_seq\":%llu", (unsigned long long)v.bad_seq);
			buf_addc(&out, '}');
		}
		printf("%s\n", buf_cstr(&out));
		buf_free(&out);
		anchors_free(&anchors);
		return rc == 0 ? CTL_EXIT_OK : CTL_EXIT_VERIFY;
	}
	if (rc) {
		failed(e.msg);
		if (v.failed)
			fprintf(stderr, "first bad entry: %llu\n", (unsigned long long)v.bad_seq);
		anchors_free(&anchors);
		return CTL_EXIT_VERIFY;
	}
	printf("ok: %llu entries verified; the first %llu match the checkpoint signed by %s\nroot %s\n",
	       (unsigned long long)v.count, (unsigned long long)cp->size, showz(cp->origin), root);
	anchors_print(&anchors, tsa_ca != NULL);
	anchors_free(&anchors);
	return CTL_EXIT_OK;
}

static int verify_proof(const char *path, const char *entry_path, const struct checkpoint *cp)
{
	struct err e = { 0 };
	struct buf b;
	struct inclusion_proof p;
	buf_init(&b);
	int rc = read_file(path, 1 << 20, &b, &e);
	if (rc == 0)
		rc = inclusion_from_json((const char *)b.data, b.len, &p, &e);
	buf_free(&b);
	if (rc) {
		fprintf(stderr, "scopectl: %s: %s\n", path, e.msg);
		return CTL_EXIT_USAGE;
	}
	if (p.tree_size != cp->size || memcmp(p.root_hash, cp->root, HASH_LEN) != 0)
		return failed("the proof is for another tree than the signed checkpoint (size or root differ)");
	if (merkle_verify_inclusion(p.leaf_index, p.tree_size, p.leaf_hash, p.proof, p.len, cp->root,
				    &e))
		return failed(e.msg);
	if (entry_path) {
		FILE *f = fopen(entry_path, "rb");
		if (f == NULL) {
			fprintf(stderr, "scopectl: %s: %s\n", entry_path, strerror(errno));
			return CTL_EXIT_USAGE;
		}
		struct export_reader r;
		const uint8_t *ep;
		size_t en;
		struct entry ent;
		uint8_t leaf[HASH_LEN];
		export_reader_init(&r, f, EXPORT_AUTO);
		int got = export_next(&r, &ep, &en, &e);
		rc = CTL_EXIT_OK;
		if (got <= 0) {
			fprintf(stderr, "scopectl: %s: %s\n", entry_path, got == 0 ? "no entry" : e.msg);
			rc = CTL_EXIT_USAGE;
		} else if (entry_decode(ep, en, &ent, &e)) {
			rc = failed(e.msg);
		} else {
			merkle_leaf_hash(ep, en, leaf);
			if (memcmp(leaf, p.leaf_hash, HASH_LEN) != 0)
				rc = failed("the entry does not hash to the proven leaf");
			else if (ent.seq != p.leaf_index)
				rc = failed("the entry's seq differs from the proven leaf index");
		}
		export_reader_free(&r);
		fclose(f);
		if (rc)
			return rc;
	}
	printf("ok: entry %llu is in the tree of size %llu signed by %s\n",
	       (unsigned long long)p.leaf_index, (unsigned long long)p.tree_size, showz(cp->origin));
	return CTL_EXIT_OK;
}

/* The receipt's optional "page" against the entry's page_sha256: 1 when
 * both are there and match, 0 when the receipt has none, -1 when they
 * differ or the entry records no page for the receipt's to be. */
static int receipt_page(const uint8_t *m, size_t mn, const struct entry *en, struct err *e)
{
	struct mp_cur c;
	const char *page, *want;
	size_t pn, wn;
	uint8_t got[HASH_LEN];
	char hex[2 * HASH_LEN + 1];
	int has_page = mp_map_find(m, mn, "page", &c, e);
	if (has_page == 1 && mp_get_str(&c, &page, &pn, e))
		return err_set(e, "the receipt's page is not text");
	int has_sum = mp_map_find(en->body, en->body_len, "page_sha256", &c, e);
	if (has_sum == 1 && mp_get_str(&c, &want, &wn, e))
		return err_set(e, "the entry's page_sha256 is not text");
	if (has_page == 1 && has_sum != 1)
		return err_set(e, "the receipt carries a page, but entry %llu records no page_sha256: the page is not "
			       "the one an answer through the portal recorded", (unsigned long long)en->seq);
	if (has_page != 1)
		return 0;
	sha256(page, pn, got);
	hex_encode(got, HASH_LEN, hex);
	if (wn != 2 * HASH_LEN || memcmp(hex, want, wn) != 0)
		return err_set(e, "the receipt's page is not the page the entry records (SHA-256 %s, the entry's "
			       "page_sha256 %.*s): it was altered", hex, (int)wn, want);
	return 1;
}

/* A receipt: {"scope_ledger_receipt":1,"entry":hex,"proof":{...},"checkpoint":note} */
static int verify_receipt(const char *path, const struct note_verifier *vs, size_t nv, struct cosigners *w, bool json)
{
	struct err e = { 0 };
	struct buf text, m, entry;
	struct inclusion_proof pr;
	struct checkpoint cp;
	struct entry en;
	uint8_t leaf[HASH_LEN];
	int rc = CTL_EXIT_OK;
	buf_init(&text);
	buf_init(&m);
	buf_init(&entry);
	if (read_file(path, 4 << 20, &text, &e) ||
	    json_to_msgpack((const char *)text.data, text.len, &m, &e)) {
		fprintf(stderr, "scopectl: %s: %s\n", path, e.msg);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	struct mp_cur c;
	const char *s;
	size_t n;
	uint64_t version;
	if (mp_map_find(m.data, m.len, "scope_ledger_receipt", &c, &e) != 1 || mp_get_uint(&c, &version, &e) ||
	    version != 1) {
		fprintf(stderr, "scopectl: %s is not a version 1 Scope Ledger receipt\n", path);
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if (mp_map_find(m.data, m.len, "entry", &c, &e) != 1 || mp_get_str(&c, &s, &n, &e) || n % 2 ||
	    !buf_reserve(&entry, n / 2) || hex_decode(s, n, entry.data, n / 2)) {
		rc = failed("the receipt's entry is not hex");
		goto out;
	}
	entry.len = n / 2;
	if (mp_map_find(m.data, m.len, "proof", &c, &e) != 1) {
		rc = failed("the receipt has no proof");
		goto out;
	}
	const uint8_t *ps = c.p;
	mp_skip(&c, 4, &e);
	if (inclusion_from_msgpack(ps, (size_t)(c.p - ps), &pr, &e)) {
		rc = failed(e.msg);
		goto out;
	}
	if (mp_map_find(m.data, m.len, "checkpoint", &c, &e) != 1 || mp_get_str(&c, &s, &n, &e) ||
	    checkpoint_open(s, n, vs, nv, &cp, &e)) {
		rc = failed(e.msg[0] ? e.msg : "the receipt has no checkpoint");
		goto out;
	}
	const char *note = s;
	size_t note_len = n;
	if (entry_decode(entry.data, entry.len, &en, &e)) {
		rc = failed(e.msg);
		goto out;
	}
	merkle_leaf_hash(entry.data, entry.len, leaf);
	if (memcmp(leaf, pr.leaf_hash, HASH_LEN) != 0 || en.seq != pr.leaf_index) {
		rc = failed("the entry is not the one the proof is for: it was altered");
		goto out;
	}
	if (pr.tree_size != cp.size || memcmp(pr.root_hash, cp.root, HASH_LEN) != 0) {
		rc = failed("the proof is not for the receipt's signed checkpoint");
		goto out;
	}
	if (merkle_verify_inclusion(pr.leaf_index, pr.tree_size, leaf, (const uint8_t(*)[HASH_LEN])pr.proof,
				    pr.len, cp.root, &e)) {
		rc = failed(e.msg);
		goto out;
	}
	int page = receipt_page(m.data, m.len, &en, &e);
	if (page < 0) {
		rc = failed(e.msg);
		goto out;
	}
	if (w->n && cosigners_check(w, note, note_len, &e)) {
		rc = failed(e.msg);
		goto out;
	}
	if (json) {
		struct buf o;
		buf_init(&o);
		entry_to_json(&en, leaf, &o, &e);
		struct buf cj;
		buf_init(&cj);
		cosigners_json(w, &cj);
		printf("{\"ok\":true,\"checkpoint_size\":%llu,\"page_matches\":%s,\"entry\":%s,"
		       "\"cosigners\":%s}\n", (unsigned long long)cp.size, page ? "true" : "false", buf_cstr(&o),
		       buf_cstr(&cj));
		buf_free(&cj);
		buf_free(&o);
	} else {
		char t[40];
		args_time(en.time_us, t);
		printf("ok: entry %llu (%s in %s, recorded by %s at %s) is in the log %s,\n"
		       "proven against its checkpoint of size %llu\n", (unsigned long long)en.seq,
		       show(en.kind, en.kind_len), show(en.project, en.project_len), show(en.author, en.author_len),
		       t, showz(cp.origin), (unsigned long long)cp.size);
		if (page)
			printf("ok: the page shown (the receipt's \"page\") has the SHA-256 the entry records "
			       "as page_sha256\n");
		else if (mp_map_find(en.body, en.body_len, "page_sha256", &c, &e) == 1)
			printf("note: the entry records the page shown by its page_sha256, but the receipt carries no "
			       "page: the page is not checked\n");
	}
	if (w->n && !json)
		cosigners_print(w, "");
out:
	buf_free(&text);
	buf_free(&m);
	buf_free(&entry);
	return rc;
}

/* --policy FILE: its witnesses and quorum; without --trust, its logs are
 * the keys trusted, and with --trust, each key given must be one of them. */
static int verify_policy(struct cosigners *w, const char *path, const char **trust, size_t *ntrust,
			 char store[][NOTE_VKEY_MAX])
{
	struct err e = { 0 };
	if (cosigners_use_policy(w, path, &e)) {
		fprintf(stderr, "scopectl: --policy: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	const struct policy *p = w->policy;
	if (*ntrust == 0) {
		if (p->nlogs > MAX_TRUST) {
			fprintf(stderr, "scopectl: --policy %s lists %zu logs; give the log's key with --trust KEY\n",
				path, p->nlogs);
			return CTL_EXIT_USAGE;
		}
		for (size_t i = 0; i < p->nlogs; i++) {
			struct buf b;
			buf_init(&b);
			note_verifier_format(&p->log[i].key, &b);
			snprintf(store[i], NOTE_VKEY_MAX, "%s", buf_cstr(&b));
			buf_free(&b);
			trust[i] = store[i];
		}
		*ntrust = p->nlogs;
		return 0;
	}
	for (size_t i = 0; i < *ntrust; i++) {
		struct note_verifier v;
		if (trust_parse(trust[i], &v, &e)) {
			fprintf(stderr, "scopectl: %s\n", e.msg);
			return CTL_EXIT_USAGE;
		}
		if (!policy_accepts_log(p, &v)) {
			struct buf b;
			buf_init(&b);
			note_verifier_format(&v, &b);
			fprintf(stderr, "scopectl: --policy %s does not list the log key given with --trust; add the line "
				"\"log %s\" to the policy, or leave out --trust\n", path, buf_cstr(&b));
			buf_free(&b);
			return CTL_EXIT_USAGE;
		}
	}
	return 0;
}

static int verify_offline(struct cosigners *w, const char *exp, const char *proof, const char *entry,
			  const char *cpath, const char *receipt, const char *dossier, const char *tsa_ca,
			  const char **trust, size_t ntrust, bool json, unsigned threads);

int cmd_verify_offline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "export", required_argument, NULL, 'x' },
		{ "proof", required_argument, NULL, 'p' },
		{ "entry", required_argument, NULL, 'E' },
		{ "checkpoint", required_argument, NULL, 'k' },
		{ "trust", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "receipt", required_argument, NULL, 'R' },
		{ "dossier", required_argument, NULL, 'D' }, { "tsa-ca", required_argument, NULL, 'Z' },
		{ "witness", required_argument, NULL, 'W' }, { "quorum", required_argument, NULL, 'Q' },
		{ "policy", required_argument, NULL, 'P' },
		{ "threads", required_argument, NULL, 'T' },
		{ 0, 0, 0, 0 },
	};
	struct cosigners w = { 0 };
	struct err we = { 0 };
	const char *exp = NULL, *proof = NULL, *entry = NULL, *cpath = NULL, *receipt = NULL, *dossier = NULL;
	const char *tsa_ca = NULL, *policy = NULL;
	const char *trust[MAX_TRUST];
	char policy_trust[MAX_TRUST][NOTE_VKEY_MAX];
	bool quorum = false;
	size_t ntrust = 0;
	bool json = false;
	unsigned threads = 0;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'x': exp = optarg; break;
		case 'p': proof = optarg; break;
		case 'E': entry = optarg; break;
		case 'k': cpath = optarg; break;
		case 't':
			if (ntrust == MAX_TRUST)
				return usage("too many --trust keys");
			trust[ntrust++] = optarg;
			break;
		case 'j': json = true; break;
		case 'R': receipt = optarg; break;
		case 'D': dossier = optarg; break;
		case 'Z': tsa_ca = optarg; break;
		case 'W':
			if (cosigners_add(&w, optarg, &we)) {
				fprintf(stderr, "scopectl: --witness: %s\n", we.msg);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'Q':
			if (cosigners_set_quorum(&w, optarg))
				return usage("--quorum needs a number of witnesses");
			quorum = true;
			break;
		case 'P': policy = optarg; break;
		case 'T': {
			char *end;
			long t = strtol(optarg, &end, 10);
			if (*end || t < 1 || t > PVERIFY_MAX_THREADS)
				return usage("--threads needs a number of threads from 1 to 8");
			threads = (unsigned)t;
			break;
		}
		default: return usage("bad option");
		}
	}
	if (optind != argc)
		return usage("unexpected argument");
	if (policy && (w.n || quorum))
		return usage("--policy FILE names the witnesses and the quorum: give it instead of --witness and "
			     "--quorum");
	if (policy && receipt == NULL && dossier == NULL)
		return usage("--policy goes with --receipt or --dossier (online, in the profile)");
	if (policy) {
		int rc = verify_policy(&w, policy, trust, &ntrust, policy_trust);
		if (rc) {
			cosigners_free(&w);
			return rc;
		}
	}
	int rc = verify_offline(&w, exp, proof, entry, cpath, receipt, dossier, tsa_ca, trust, ntrust, json, threads);
	cosigners_free(&w);
	return rc;
}

static int verify_offline(struct cosigners *w, const char *exp, const char *proof, const char *entry,
			  const char *cpath, const char *receipt, const char *dossier, const char *tsa_ca,
			  const char **trust, size_t ntrust, bool json, unsigned threads)
{
	if (w->quorum > w->n)
		return usage("--quorum is more than the witnesses given with --witness NAME+ID+KEY");
	char why[400];
	if (!w->policy && cosig_quorum_is_minority(w->quorum, w->n, why, sizeof why))
		fprintf(stderr, "scopectl: warning: --quorum: %s\n", why);
	if (w->policy && w->policy->quorum != POLICY_NONE && policy_split_possible(w->policy))
		fprintf(stderr, "scopectl: warning: --policy: two disjoint sets of its witnesses could each meet its "
			"quorum %s, so a log could show two histories each witnessed as it requires (the majority "
			"rule, SECURITY.md)\n", policy_quorum_name(w->policy));
	if (w->n && receipt == NULL && dossier == NULL)
		return usage("--witness goes with --receipt or --dossier (online, in the profile or as an option of "
			     "any command)");
	if (dossier) {
		if (exp || proof || receipt || json)
			return usage("--dossier DIR goes with --trust KEY [--checkpoint FILE] [--tsa-ca FILE] "
				     "[--witness KEY --quorum N | --policy FILE] only");
		return cmd_verify_dossier(dossier, trust, ntrust, cpath, tsa_ca, w);
	}
	if (receipt) {
		struct note_verifier rv[MAX_TRUST];
		struct err re = { 0 };
		if (exp || proof || cpath || tsa_ca || ntrust == 0)
			return usage("--receipt FILE goes with --trust KEY [--witness KEY --quorum N | --policy FILE] only");
		for (size_t i = 0; i < ntrust; i++)
			if (trust_parse(trust[i], &rv[i], &re)) {
				fprintf(stderr, "scopectl: %s\n", re.msg);
				return CTL_EXIT_USAGE;
			}
		return verify_receipt(receipt, rv, ntrust, w, json);
	}
	if ((exp == NULL) == (proof == NULL))
		return usage("give either --export FILE or --proof FILE");
	if (cpath == NULL || ntrust == 0)
		return usage("needs --checkpoint FILE and --trust KEY");
	if (entry && !proof)
		return usage("--entry goes with --proof");
	if (tsa_ca && !exp)
		return usage("--tsa-ca goes with --export (or online verify)");
	if (threads && !exp)
		return usage("--threads goes with --export");

	struct note_verifier vs[MAX_TRUST];
	struct checkpoint cp;
	struct err e = { 0 };
	for (size_t i = 0; i < ntrust; i++)
		if (trust_parse(trust[i], &vs[i], &e)) {
			fprintf(stderr, "scopectl: %s\n", e.msg);
			return CTL_EXIT_USAGE;
		}
	if (threads == 0 && exp && pverify_threads(&threads, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	if (load_checkpoint(cpath, vs, ntrust, &cp, &e))
		return failed(e.msg);
	return exp ? verify_export(exp, &cp, tsa_ca, json, threads) : verify_proof(proof, entry, &cp);
}
