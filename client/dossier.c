#define _GNU_SOURCE
#include "dossier.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enc.h"
#include "entry.h"
#include "fileio.h"
#include "files.h"
#include "merkle.h"
#include "mp.h"
#include "offline.h"
#include "online.h"
#include "profile.h"
#include "proof.h"
#include "show.h"
#include "story.h"
#include "tlogproof.h"
#include "views.h"
#include "witness.h"

const char *const DOSSIER_TOP[] = { "entries/", "files/", "anchors/", "MANIFEST", "index.html", "dossier.md",
				    "VERIFY.txt", "FORMAT.md", "checkpoint.txt", "latest.txt", "consistency.json", NULL };

const char dossier_verify_txt[] =
	"How to check this dossier\n"
	"=========================\n\n"
	"You need the log's verifier key (a line like origin+1234abcd+AbC...=), obtained\n"
	"from the vendor through a channel you trust, not from this folder.\n\n"
	"With scopectl (offline, no server needed):\n\n"
	"    scopectl verify --dossier DIR --trust KEY [--checkpoint FILE]\n\n"
	"It checks every step below and names any file or entry that was changed, added\n"
	"or removed since the dossier was written. An entry left out when it was\n"
	"written cannot be detected from the dossier alone; what it can check is that\n"
	"every entry a held entry cites is held too, and that the subject's own entry\n"
	"(the change's or the complaint's) is there.\n\n"
	"Whoever holds the signing key could sign a second, made-up history and build\n"
	"a dossier from it: the key alone cannot rule that out. Compare the checkpoint\n"
	"(size and root, which verify prints) with one you obtained yourself: give it\n"
	"as --checkpoint FILE, or run scopectl consistency SIZE against the server, or\n"
	"compare a receipt you were given at the time.\n\n"
	"By hand (FORMAT.md in this folder describes every format):\n\n"
	"1. Files: MANIFEST lists every file but itself as \"SHA-256 size path\".\n"
	"       awk '!/^#/ {print $1 \"  \" $3}' MANIFEST | sha256sum -c\n"
	"   and check that no file exists that MANIFEST does not list:\n"
	"       find . -type f ! -name MANIFEST | sed 's|^\\./||' | sort | diff - <(awk '!/^#/ {print $3}' MANIFEST | sort)\n"
	"   MANIFEST is not signed: it finds damage and missing files; the signature\n"
	"   below is what shows the entries are the log's.\n\n"
	"2. The checkpoint: checkpoint.txt is a C2SP signed note (FORMAT.md section 7):\n"
	"   its text is \"origin\\nsize\\nbase64 root\\n\", then a blank line and lines\n"
	"   \"\\u2014 <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>\".\n"
	"   Verify the Ed25519 signature over the text (up to and including the\n"
	"   newline before the blank line) with the 32-byte public key of KEY (the\n"
	"   base64 after the second '+', without its first byte 0x01), e.g. with\n"
	"   `openssl pkeyutl -verify -rawin -pubin` on a DER key made from it.\n\n"
	"3. Each entry: entries/NNNNNN.json holds \"raw\", the hex of the entry's exact\n"
	"   bytes (FORMAT.md section 3); its leaf hash is SHA-256(0x00 || bytes):\n"
	"       (printf '\\0'; jq -r .raw entries/000012.json | xxd -r -p) | sha256sum\n"
	"   and its other fields are what those bytes say.\n\n"
	"4. Each inclusion proof: entries/NNNNNN.tlog-proof is a c2sp.org/tlog-proof@v1\n"
	"   file: \"index N\", the audit path (base64 SHA-256 hashes, leaf side first),\n"
	"   a blank line and the signed checkpoint (the same as checkpoint.txt).\n"
	"   Hash the leaf up the path as RFC 9162 section 2.1.3.2 says; the result must\n"
	"   be the checkpoint's root. Transparency-log tools that read tlog-proof\n"
	"   files check this too.\n\n"
	"5. The later checkpoint: latest.txt is the newest checkpoint the writer's\n"
	"   scopectl had verified; consistency.json proves checkpoint.txt's tree is a\n"
	"   prefix of it (RFC 9162 section 2.1.4.2; empty when the sizes are equal).\n\n"
	"6. Evidence files: files/ holds documents named by their SHA-256:\n"
	"       cd files && for f in *; do echo \"$f  $f\"; done | sha256sum -c\n"
	"   A document the story marks \"held elsewhere\" is named by its hash only:\n"
	"   hash the copy you are shown and compare.\n\n"
	"7. Anchors: anchors/NNNNNN.json and .tlog-proof are anchor entries, checked as in\n"
	"   3 and 4; .consistency.json proves the anchor's size and root a prefix of\n"
	"   checkpoint.txt (as in 5); NNNNNN.tsr is the RFC 3161 token (DER, carrying the\n"
	"   TSA's certificates), the same bytes as the base64 \"token\" in the entry.\n"
	"   It stamps the checkpoint text \"origin\\nsize\\nbase64 root\\n\" of the\n"
	"   anchor's size and root (FORMAT.md section 3a):\n"
	"       printf '%s\\n%s\\n%s\\n' ORIGIN SIZE ROOT | sha256sum\n"
	"       openssl ts -verify -digest <that hex> -in anchors/000012.tsr -token_in -CAfile TSA-CA.pem\n"
	"   An entry's anchored time is the genTime of the earliest anchor whose size\n"
	"   is beyond its seq (empty anchors/: every time is the ledger's own).\n\n"
"8. dossier.md and index.html tell the story of these entries; scopectl verify\n"
	"   renders them again from the verified entries and finds any edit.\n";

/* ---- shared with verify ---- */

int dossier_entry_json(const uint8_t *raw, size_t n, struct buf *out, struct err *e)
{
	struct entry en;
	uint8_t leaf[HASH_LEN];
	if (entry_decode(raw, n, &en, e))
		return -1;
	merkle_leaf_hash(raw, n, leaf);
	size_t start = out->len;
	if (entry_to_json(&en, leaf, out, e) || out->len == start || out->data[out->len - 1] != '}')
		return err_set(e, "entry %llu has no JSON view", (unsigned long long)en.seq);
	out->len--;
	buf_adds(out, ",\"raw\":\"");
	size_t at = out->len;
	if (!buf_reserve(out, 2 * n + 1))
		return err_set(e, "out of memory");
	hex_encode(raw, n, (char *)out->data + at);
	out->len = at + 2 * n;
	buf_adds(out, "\"}\n");
	return buf_failed(out) ? err_set(e, "out of memory") : 0;
}

char *dossier_path(char *out, const char *dir, const char *rel)
{
	int n = snprintf(out, DOSSIER_PATH, "%s%s%s", dir, *dir && *rel ? "/" : "", rel);
	if (n < 0 || n >= DOSSIER_PATH)
		out[0] = '\0';
	return out;
}

bool dossier_holds(void *dir, const char *sha256)
{
	char path[DOSSIER_PATH], rel[80];
	struct stat st;
	snprintf(rel, sizeof rel, "files/%s", sha256);
	dossier_path(path, dir, rel);
	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The relative paths of every file under dir/sub (sub "" for the top). */
static int walk(const char *dir, const char *sub, char ***names, size_t *n, struct err *e)
{
	char path[DOSSIER_PATH];
	dossier_path(path, dir, sub);
	DIR *d = opendir(path);
	if (d == NULL)
		return err_set(e, "%s: %s", path, strerror(errno));
	struct dirent *de;
	int rc = 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (!*sub && strcmp(de->d_name, "MANIFEST") == 0))
			continue;
		char rel[DOSSIER_PATH], full[8400];
		struct stat st;
		dossier_path(rel, sub, de->d_name);
		dossier_path(full, dir, rel);
		if (lstat(full, &st))
			rc = err_set(e, "%s: %s", rel, strerror(errno));
		else if (S_ISDIR(st.st_mode) && !*sub)
			rc = walk(dir, de->d_name, names, n, e);
		else if (!S_ISREG(st.st_mode))
			rc = err_set(e, "%s: added (not a regular file: a dossier holds only files, and "
				     "directories only at its top)", show(rel, strlen(rel)));
		else if (*n == DOSSIER_MAX_FILES)
			rc = err_set(e, "more than %d files", DOSSIER_MAX_FILES);
		else if (((*names)[(*n)++] = strdup(rel)) == NULL)
			rc = err_set(e, "out of memory");
	}
	closedir(d);
	return rc;
}

int dossier_manifest(const char *dir, struct buf *out, struct err *e)
{
	char **names = calloc(DOSSIER_MAX_FILES, sizeof *names);
	size_t n = 0;
	if (names == NULL)
		return err_set(e, "out of memory");
	int rc = walk(dir, "", &names, &n, e);
	if (rc == 0)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char full[DOSSIER_PATH], hx[65];
		uint8_t h[HASH_LEN];
		uint64_t size;
		dossier_path(full, dir, names[i]);
		int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			rc = err_set(e, "%s: %s", names[i], strerror(errno));
		else if ((rc = sha256_fd(fd, h, &size, e)) == 0) {
			hex_encode(h, HASH_LEN, hx);
			buf_printf(out, "%s %llu %s\n", hx, (unsigned long long)size, names[i]);
		}
		if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* ---- which entries ---- */

struct item {
	uint64_t seq;
	size_t off, len;
	bool shown, keep;
};

struct picked {
	struct buf raw;
	struct item *v;
	size_t n, cap;
};

static int collect(void *ctx, uint64_t seq, const uint8_t *p, size_t n, bool shown, struct err *e)
{
	struct picked *pk = ctx;
	if (pk->n == pk->cap) {
		size_t cap = pk->cap ? 2 * pk->cap : 64;
		struct item *v = realloc(pk->v, cap * sizeof *v);
		if (v == NULL)
			return err_setc(e, CTL_EXIT_USAGE, "out of memory");
		pk->v = v;
		pk->cap = cap;
	}
	pk->v[pk->n++] = (struct item){ seq, pk->raw.len, n, shown, false };
	buf_add(&pk->raw, p, n);
	return buf_failed(&pk->raw) ? err_setc(e, CTL_EXIT_USAGE, "out of memory") : 0;
}

/* The one list of what a held entry needs held with it (FORMAT.md 10a). */
void dossier_needs(const struct entry *en, void (*seq)(void *ctx, uint64_t seq), void *ctx, char change[24])
{
	static const char *const LISTS[] = { "cites", "checked_entries" };
	struct mp_cur c;
	uint32_t count;
	uint64_t v;
	const char *s;
	size_t n;
	for (size_t k = 0; k < 2; k++)
		if (mp_map_find(en->body, en->body_len, LISTS[k], &c, NULL) == 1 && mp_get_array(&c, &count, NULL) == 0)
			for (uint32_t j = 0; j < count && mp_get_uint(&c, &v, NULL) == 0; j++)
				seq(ctx, v);
	bool ev = en->kind_len == 8 && memcmp(en->kind, "evidence", 8) == 0;
	if ((ev || (en->kind_len == 4 && memcmp(en->kind, "void", 4) == 0) ||
	     (en->kind_len == 10 && memcmp(en->kind, "correction", 10) == 0)) &&
	    mp_map_find(en->body, en->body_len, ev ? "response" : "target", &c, NULL) == 1 &&
	    mp_get_uint(&c, &v, NULL) == 0)
		seq(ctx, v);
	change[0] = '\0';
	if (en->kind_len == 8 && memcmp(en->kind, "response", 8) == 0 &&
	    mp_map_find(en->body, en->body_len, "change", &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0 &&
	    n < 24 && memchr(s, '\0', n) == NULL) {
		memcpy(change, s, n);
		change[n] = '\0';
	}
}

bool dossier_is_ref(const struct entry *en, const char *kind, const char *ref)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	return en->kind_len == strlen(kind) && memcmp(en->kind, kind, en->kind_len) == 0 &&
	       mp_map_find(en->body, en->body_len, "number", &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0 &&
	       n == strlen(ref) && memcmp(s, ref, n) == 0;
}

struct keep_ctx {
	struct picked *pk;
	size_t below;
};

static void keep_seq(void *ctx, uint64_t seq)
{
	struct keep_ctx *k = ctx;
	for (size_t i = k->below; i-- > 0;)
		if (k->pk->v[i].seq == seq)
			k->pk->v[i].keep = true;
}

/* Beyond what history shows: the project, its baselines and their answers,
 * and every entry a kept one needs (dossier_needs); entries cite earlier
 * ones, so one pass backwards finds them all. */
static void pick(struct picked *pk)
{
	for (size_t i = pk->n; i-- > 0;) {
		struct item *it = &pk->v[i];
		struct entry en, ch;
		if (entry_decode(pk->raw.data + it->off, it->len, &en, NULL))
			continue;
		struct mp_cur c;
		bool base = (en.kind_len == 7 && memcmp(en.kind, "project", 7) == 0) ||
			    (en.kind_len == 8 && memcmp(en.kind, "baseline", 8) == 0) ||
			    (en.kind_len == 8 && memcmp(en.kind, "response", 8) == 0 &&
			     mp_map_find(en.body, en.body_len, "baseline", &c, NULL) == 1);
		it->keep |= it->shown || base;
		if (!it->keep)
			continue;
		struct keep_ctx k = { pk, i };
		char change[24];
		dossier_needs(&en, keep_seq, &k, change);
		for (size_t j = i; change[0] && j-- > 0;)
			if (entry_decode(pk->raw.data + pk->v[j].off, pk->v[j].len, &ch, NULL) == 0 &&
			    dossier_is_ref(&ch, "change", change))
				pk->v[j].keep = true;
	}
}

/* ---- the plug-in points ---- */

/*
 * Evidence files: for a document the entries cite (by SHA-256), the file
 * into dir/files/<sha256> when the server holds it for the project (its
 * bytes checked against the hash as they arrive, files.c); otherwise it is
 * "held elsewhere": the story names it by its hash.
 */
struct docs {
	struct session *s;
	const char *project, *dir;
	struct buf elsewhere;	/* hex hashes, one per line */
	size_t copied;
	struct err e;		/* the first failure that is not "not held" */
};

static void dossier_file(void *ctx, const char *sha256)
{
	struct docs *d = ctx;
	char path[DOSSIER_PATH], name[80];
	uint8_t sha[32];
	uint64_t size;
	struct err fe = { 0 };
	snprintf(name, sizeof name, "files/%s", sha256);
	dossier_path(path, d->dir, name);
	if (d->e.msg[0] || strstr(buf_cstr(&d->elsewhere), sha256) || access(path, F_OK) == 0)
		return;	/* failed already, or this document is done */
	if (hex_decode(sha256, strlen(sha256), sha, sizeof sha) != 0)
		return;
	if (files_get(d->s, d->project, sha, path, &size, &fe) == 0)
		d->copied++;
	else if (fe.code == CTL_EXIT_REFUSED)
		buf_printf(&d->elsewhere, "%s\n", sha256);	/* the server does not hold it */
	else
		d->e = fe;
}

/* ---- writing ---- */

static int put(const char *dir, const char *name, const void *p, size_t n, struct err *e)
{
	char path[DOSSIER_PATH];
	dossier_path(path, dir, name);
	return write_file_atomic(path, p, n, 0644, e);
}

static int put_buf(const char *dir, const char *name, struct buf *b, struct err *e)
{
	if (buf_failed(b))
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	return put(dir, name, b->data, b->len, e);
}

struct dargs {
	const char *project, *change, *kase, *out;
	bool all;
};

/* Entry seq (raw) with its proof in cp (checked here), into dir/sub as
 * NNNNNN.json and NNNNNN.tlog-proof. */
static int write_proven(struct session *s, const char *dir, const char *sub, uint64_t seq, const uint8_t *raw,
			size_t len, const struct checkpoint *cp, const struct buf *note, struct err *e)
{
	struct inclusion_proof pr;
	uint8_t leaf[HASH_LEN];
	char name[64];
	struct buf b;
	merkle_leaf_hash(raw, len, leaf);
	if (prove_at(s, seq, cp->size, &pr, e))
		return -1;
	if (memcmp(pr.leaf_hash, leaf, HASH_LEN) != 0 || memcmp(pr.root_hash, cp->root, HASH_LEN) != 0 ||
	    merkle_verify_inclusion(seq, cp->size, leaf, (const uint8_t(*)[HASH_LEN])pr.proof, pr.len, cp->root, e))
		return err_setc(e, CTL_EXIT_VERIFY, "the server's proof of entry %llu does not verify in the "
				"checkpoint of size %llu", (unsigned long long)seq, (unsigned long long)cp->size);
	buf_init(&b);
	int rc = dossier_entry_json(raw, len, &b, e);
	snprintf(name, sizeof name, "%s/%06llu.json", sub, (unsigned long long)seq);
	if (rc == 0)
		rc = put_buf(dir, name, &b, e);
	buf_reset(&b);
	tlog_proof_format(seq, (const uint8_t(*)[HASH_LEN])pr.proof, pr.len, (const char *)note->data, note->len, &b);
	snprintf(name, sizeof name, "%s/%06llu.tlog-proof", sub, (unsigned long long)seq);
	if (rc == 0)
		rc = put_buf(dir, name, &b, e);
	buf_free(&b);
	return rc;
}

/* Each kept entry with its proof in cp, into dir/entries. */
static int write_entries(struct session *s, const char *dir, const struct picked *pk, const struct checkpoint *cp,
			 const struct buf *note, struct story_entry *sv, size_t *sn, struct err *e)
{
	int rc = 0;
	*sn = 0;
	for (size_t i = 0; rc == 0 && i < pk->n; i++) {
		const struct item *it = &pk->v[i];
		if (!it->keep)
			continue;
		const uint8_t *raw = pk->raw.data + it->off;
		rc = write_proven(s, dir, "entries", it->seq, raw, it->len, cp, note, e);
		sv[(*sn)++] = (struct story_entry){ it->seq, raw, it->len, 0 };
	}
	return rc;
}

/*
 * Anchors: the log's anchor entries (RFC 3161 tokens over checkpoints)
 * that are the earliest to cover a held entry, each into dir/anchors/ as
 * NNNNNN.json and NNNNNN.tlog-proof (as entries/ holds them), NNNNNN.tsr
 * (its token, DER; the token carries the TSA's certificates) and
 * NNNNNN.consistency.json (its root's tree a prefix of cp's); each held
 * entry's anchored_us is the time of the earliest anchor covering it.
 */
static int keep_anchor(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	return collect(ctx, seq, p, n, true, e);
}

static int write_anchor(struct session *s, const char *dir, const struct anchor *a, const uint8_t *raw, size_t len,
			const struct checkpoint *cp, const struct buf *note, struct err *e)
{
	struct consistency_proof cons = { .old_size = a->size, .new_size = cp->size };
	char name[64];
	struct buf b;
	memcpy(cons.old_root, a->root, HASH_LEN);
	memcpy(cons.new_root, cp->root, HASH_LEN);
	if (write_proven(s, dir, "anchors", a->seq, raw, len, cp, note, e) ||
	    witness_consistency(s, a->size, cp->size, a->root, cp->root, cons.proof, &cons.len, e))
		return err_prefix(e, "anchor entry %llu", (unsigned long long)a->seq);
	snprintf(name, sizeof name, "anchors/%06llu.tsr", (unsigned long long)a->seq);
	if (put(dir, name, a->token, a->token_len, e))
		return -1;
	buf_init(&b);
	consistency_to_json(&cons, &b);
	buf_addc(&b, '\n');
	snprintf(name, sizeof name, "anchors/%06llu.consistency.json", (unsigned long long)a->seq);
	int rc = put_buf(dir, name, &b, e);
	buf_free(&b);
	return rc;
}

static int dossier_anchors(struct session *s, const char *dir, const struct checkpoint *cp, const struct buf *note,
			   struct story_entry *v, size_t n, size_t *written, struct err *e)
{
	struct anchors x;
	struct picked ap = { 0 };
	uint64_t lo = UINT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++) {
		lo = v[i].seq < lo ? v[i].seq : lo;
		hi = v[i].seq > hi ? v[i].seq : hi;
	}
	*written = 0;
	if (n == 0)
		return 0;
	anchors_init(&x);
	buf_init(&ap.raw);
	int rc = anchors_read(s, lo + 1, hi, cp, &x, keep_anchor, &ap, e);
	if (rc && e->code == CTL_EXIT_REFUSED) {
		fprintf(stderr, "scopectl dossier: no anchors written: this role may not read the ledger-level "
			"entries (%s); every time shown is the ledger's own\n", e->msg);
		*e = (struct err){ 0 };
		rc = 0;
	}
	bool *used = rc == 0 ? calloc(x.n ? x.n : 1, sizeof *used) : NULL;
	if (rc == 0 && used == NULL)
		rc = err_setc(e, CTL_EXIT_USAGE, "out of memory");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct anchor *a = anchors_covering(&x, v[i].seq);
		v[i].anchored_us = a ? a->time_us : 0;
		if (a)
			used[a - x.a] = true;
	}
	for (size_t i = 0; rc == 0 && i < x.n; i++)
		if (used[i] && (rc = write_anchor(s, dir, &x.a[i], ap.raw.data + ap.v[i].off, ap.v[i].len, cp, note, e)) == 0)
			(*written)++;
	free(used);
	free(ap.v);
	buf_free(&ap.raw);
	anchors_free(&x);
	return rc;
}

/* checkpoint.txt, latest.txt and the consistency proof between them. */
static int write_checkpoints(struct session *s, const char *dir, const struct checkpoint *cp,
			     const struct buf *note, struct err *e)
{
	struct checkpoint lc;
	struct buf latest, b;
	struct consistency_proof cons = { .old_size = cp->size };
	buf_init(&latest);
	buf_init(&b);
	int rc = witness_latest(s, &lc, &latest, e);
	cons.new_size = lc.size;
	memcpy(cons.old_root, cp->root, HASH_LEN);
	memcpy(cons.new_root, lc.root, HASH_LEN);
	if (rc == 0 && lc.size > cp->size)
		rc = witness_consistency(s, cp->size, lc.size, cp->root, lc.root, cons.proof, &cons.len, e);
	else if (rc == 0 && (lc.size < cp->size || memcmp(lc.root, cp->root, HASH_LEN) != 0))
		rc = err_setc(e, CTL_EXIT_VERIFY, "the server's latest checkpoint went back from size %llu to %llu",
			      (unsigned long long)cp->size, (unsigned long long)lc.size);
	if (rc == 0) {
		consistency_to_json(&cons, &b);
		buf_addc(&b, '\n');
		rc = put(dir, "checkpoint.txt", note->data, note->len, e) || put_buf(dir, "latest.txt", &latest, e) ||
		     put_buf(dir, "consistency.json", &b, e) ? -1 : 0;
	}
	buf_free(&latest);
	buf_free(&b);
	return rc;
}

static int write_story(const char *dir, const struct dargs *a, const char *subject, const struct checkpoint *cp,
		       const struct story_entry *sv, size_t sn, struct err *e)
{
	struct story st = { a->project, subject, cp, sv, sn, dossier_holds, (void *)dir };
	struct buf md, html;
	buf_init(&md);
	buf_init(&html);
	int rc = story_render(&st, STORY_MARKDOWN, &md, e) || story_render(&st, STORY_HTML, &html, e) ||
			 put_buf(dir, "dossier.md", &md, e) || put_buf(dir, "index.html", &html, e)
		 ? -1 : 0;
	buf_free(&md);
	buf_free(&html);
	return rc;
}

static int write_manifest(const char *dir, const char *project, const char *subject, struct err *e)
{
	struct buf m;
	buf_init(&m);
	buf_printf(&m, DOSSIER_MANIFEST_HEADER "# project %s\n# subject %s\n", project, subject);
	int rc = dossier_manifest(dir, &m, e);
	if (rc == 0)
		rc = put_buf(dir, "MANIFEST", &m, e);
	buf_free(&m);
	return rc;
}

static int write_dossier(struct session *s, const char *dir, const struct dargs *a, const char *subject,
			 struct err *e)
{
	struct checkpoint cp;
	struct buf note;
	struct docs docs = { s, a->project, dir, { 0 }, 0, { 0 } };
	struct picked pk = { 0 };
	struct story_entry *sv = NULL;
	size_t sn = 0;
	buf_init(&note);
	buf_init(&docs.elsewhere);
	buf_init(&pk.raw);
	char sub[DOSSIER_PATH];
	int rc = witness_latest(s, &cp, &note, e);
	if (rc == 0)
		rc = views_history_entries(s, a->project, a->change, a->kase, &cp, collect, &pk, e);
	if (rc == 0) {
		pick(&pk);
		if ((sv = calloc(pk.n ? pk.n : 1, sizeof *sv)) == NULL)
			rc = err_setc(e, CTL_EXIT_USAGE, "out of memory");
	}
	static const char *const SUBDIRS[] = { "entries", "files", "anchors" };
	for (size_t i = 0; rc == 0 && i < 3; i++) {
		dossier_path(sub, dir, SUBDIRS[i]);
		if (mkdir(sub, 0755))
			rc = err_setc(e, CTL_EXIT_USAGE, "%s: %s", sub, strerror(errno));
	}
	if (rc == 0)
		rc = write_entries(s, dir, &pk, &cp, &note, sv, &sn, e);
	for (size_t i = 0; rc == 0 && i < sn; i++) {
		struct entry en;
		if (entry_decode(sv[i].raw, sv[i].len, &en, NULL) == 0)
			story_docs(&en, dossier_file, &docs);
	}
	if (rc == 0 && docs.e.msg[0]) {
		*e = docs.e;
		rc = -1;
	}
	size_t nanchors = 0;
	if (rc == 0)
		rc = dossier_anchors(s, dir, &cp, &note, sv, sn, &nanchors, e);
	if (rc == 0)
		rc = write_checkpoints(s, dir, &cp, &note, e) ||
				     put(dir, "FORMAT.md", format_md, format_md_len, e) ||
				     put(dir, "VERIFY.txt", dossier_verify_txt, strlen(dossier_verify_txt), e) ||
				     write_story(dir, a, subject, &cp, sv, sn, e) || write_manifest(dir, a->project, subject, e)
			     ? -1 : 0;
	if (rc == 0)
		fprintf(stderr, "%zu entries of %s, each proven in the checkpoint of size %llu signed by %s; "
			"%zu evidence files copied, %zu documents held elsewhere (named by hash); %zu anchors\n", sn,
			a->project, (unsigned long long)cp.size, cp.origin, docs.copied,
			(size_t)(strlen(buf_cstr(&docs.elsewhere)) / 65), nanchors);
	free(sv);
	free(pk.v);
	buf_free(&pk.raw);
	buf_free(&note);
	buf_free(&docs.elsewhere);
	return rc;
}

/* Removes the half-written dir (two levels, as written). */
static void remove_tree(const char *dir)
{
	struct buf names;
	struct err e = { 0 };
	buf_init(&names);
	if (dossier_manifest(dir, &names, &e) == 0) {
		for (char *line = (char *)buf_cstr(&names); *line;) {
			char *nl = strchr(line, '\n');
			*nl = '\0';
			char *path = strrchr(line, ' ') + 1, full[8400];
			dossier_path(full, dir, path);
			unlink(full);
			line = nl + 1;
		}
	}
	buf_free(&names);
	char p[DOSSIER_PATH];
	dossier_path(p, dir, "MANIFEST");
	unlink(p);
	static const char *const SUBDIRS[] = { "entries", "files", "anchors" };
	for (size_t i = 0; i < 3; i++) {
		dossier_path(p, dir, SUBDIRS[i]);
		rmdir(p);
	}
	rmdir(dir);
}

static int usage(const char *msg)
{
	fprintf(stderr, "scopectl dossier: %s (see scopectl help dossier)\n", msg);
	return CTL_EXIT_USAGE;
}

/* DIR may not exist, or be an empty directory. */
static int out_ok(const char *out)
{
	struct stat st;
	if (lstat(out, &st) != 0)
		return errno == ENOENT ? 0 : usage(strerror(errno));
	if (S_ISLNK(st.st_mode))
		return usage("the output directory is a symbolic link: name the directory itself");
	DIR *d = S_ISDIR(st.st_mode) ? opendir(out) : NULL;
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)) != NULL)
		n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	if (!S_ISDIR(st.st_mode) || n)
		return usage("the output directory exists and is not empty: name a new one");
	return 0;
}

int cmd_dossier(int argc, char **argv)
{
	static const struct option opts[] = {
		CONN_LONGOPTS,
		{ "change", required_argument, NULL, 'g' }, { "case", required_argument, NULL, 'k' },
		{ "all", no_argument, NULL, 'a' }, { "output", required_argument, NULL, 'o' }, { 0, 0, 0, 0 },
	};
	struct profile p;
	struct dargs a = { 0 };
	struct err e = { 0 };
	int c, rc;
	if ((rc = conn_preload(argc, argv, opts, "c:o:", &p)))
		return rc;
	while ((c = conn_getopt(argc, argv, "c:o:", opts, &p)) >= 0) {
		switch (c) {
		case 'g': a.change = optarg; break;
		case 'k': a.kase = optarg; break;
		case 'a': a.all = true; break;
		case 'o': a.out = optarg; break;
		default: return usage("bad option");
		}
	}
	if (c == CONN_GETOPT_BAD)
		return CTL_EXIT_USAGE;
	if (optind + 1 != argc)
		return usage("expected: dossier PROJECT [--change CR-N | --case CASE-N | --all] -o DIR");
	a.project = argv[optind];
	if ((a.change != NULL) + (a.kase != NULL) + a.all != 1)
		return usage("name one of --change CR-N, --case CASE-N and --all");
	if (a.out == NULL || a.out[0] == '\0')
		return usage("needs -o DIR, a directory that does not exist yet (or is empty)");
	if (profile_check(&p, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	if ((rc = out_ok(a.out)))
		return rc;
	char subject[300], tmp[4200];
	snprintf(subject, sizeof subject, a.change ? "change %s" : a.kase ? "case %s" : "all",
		 a.change ? a.change : a.kase);
	snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", a.out);
	if (mkdtemp(tmp) == NULL) {
		fprintf(stderr, "scopectl: %s: %s\n", tmp, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	struct session s;
	if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK) {
		if (write_dossier(&s, tmp, &a, subject, &e))
			rc = ctl_report(&e);
		sess_close(&s);
	}
	if (rc == CTL_EXIT_OK && (chmod(tmp, 0755) != 0 || rename(tmp, a.out) != 0)) {
		fprintf(stderr, "scopectl: %s: %s\n", a.out, strerror(errno));
		rc = CTL_EXIT_USAGE;
	}
	if (rc != CTL_EXIT_OK)
		remove_tree(tmp);
	else
		printf("dossier written to %s (check it: scopectl verify --dossier %s --trust KEY)\n", a.out, a.out);
	return rc;
}
