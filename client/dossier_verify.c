#define _GNU_SOURCE
#include "dossier.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enc.h"
#include "entry.h"
#include "fileio.h"
#include "json.h"
#include "merkle.h"
#include "mp.h"
#include "offline.h"
#include "note.h"
#include "profile.h"
#include "proof.h"
#include "show.h"
#include "story.h"
#include "tlogproof.h"

/* The first problem of each kind is kept and printed. */
enum pkind { P_CHANGED, P_ADDED, P_REMOVED, P_CHECKPOINT, P_ENTRY, P_PROOF, P_CONSISTENCY, P_FILE, P_ANCHOR,
	     P_STORY, P_N };
static const char *const PKIND[P_N] = { "changed file", "added file", "removed file", "checkpoint", "entry",
					"proof", "consistency", "evidence file", "anchor", "story" };

struct vd {
	const char *dir;
	const struct note_verifier *vs;
	size_t nv;
	char first[P_N][512];
	size_t count[P_N];
	char project[80], subject[300];
	struct checkpoint cp;
	bool cp_ok;
	struct buf raws;	/* the verified entries' bytes */
	struct story_entry *sv;	/* raw pointers filled in at the end */
	size_t sn, scap;
	size_t files, elsewhere;
};

static void problem(struct vd *v, enum pkind k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct vd *v, enum pkind k, const char *fmt, ...)
{
	if (v->count[k]++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(v->first[k], sizeof v->first[k], fmt, ap);
		va_end(ap);
	}
}

static int read_rel(const struct vd *v, const char *rel, size_t max, struct buf *out, struct err *e)
{
	char path[DOSSIER_PATH];
	dossier_path(path, v->dir, rel);
	buf_reset(out);
	return read_file(path, max, out, e);
}

/* ---- MANIFEST ---- */

struct mline {
	const char *hash, *size, *path;
};

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct mline *)a)->path, ((const struct mline *)b)->path);
}

/* Splits text (NUL-ended, changed in place) into lines "hash size path". */
static size_t split(char *text, struct mline *m, size_t cap)
{
	size_t n = 0;
	for (char *line = text; *line && n < cap;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *s1 = strchr(line, ' '), *s2 = s1 ? strchr(s1 + 1, ' ') : NULL;
		if (line[0] != '#' && s2) {
			*s1 = *s2 = '\0';
			m[n++] = (struct mline){ line, s1 + 1, s2 + 1 };
		}
		line = nl ? nl + 1 : line + strlen(line);
	}
	return n;
}

static void header_value(const char *text, const char *key, char *out, size_t cap)
{
	const char *p = strstr(text, key);
	out[0] = '\0';
	if (p) {
		p += strlen(key);
		size_t n = strcspn(p, "\n");
		snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
	}
}

static void check_manifest(struct vd *v)
{
	struct err e = { 0 };
	struct buf text, actual;
	buf_init(&text);
	buf_init(&actual);
	if (read_rel(v, "MANIFEST", 64u << 20, &text, &e)) {
		problem(v, P_REMOVED, "MANIFEST: %s", e.msg);
		goto out;
	}
	char *t = (char *)buf_cstr(&text);
	if (strncmp(t, DOSSIER_MANIFEST_HEADER, strlen(DOSSIER_MANIFEST_HEADER)) != 0) {
		problem(v, P_CHANGED, "MANIFEST: does not start with \"%.*s\"", (int)strlen(DOSSIER_MANIFEST_HEADER) - 1,
			DOSSIER_MANIFEST_HEADER);
		goto out;
	}
	header_value(t, "\n# project ", v->project, sizeof v->project);
	header_value(t, "\n# subject ", v->subject, sizeof v->subject);
	if (dossier_manifest(v->dir, &actual, &e)) {
		problem(v, P_ADDED, "%s", e.msg);
		goto out;
	}
	struct mline *want = calloc(DOSSIER_MAX_FILES, sizeof *want), *got = calloc(DOSSIER_MAX_FILES, sizeof *got);
	if (want && got) {
		size_t nw = split(t, want, DOSSIER_MAX_FILES), ng = split((char *)buf_cstr(&actual), got, DOSSIER_MAX_FILES);
		qsort(want, nw, sizeof *want, by_path);
		for (size_t i = 0; i < nw; i++) {
			struct mline *g = bsearch(&want[i], got, ng, sizeof *got, by_path);
			if (g == NULL)
				problem(v, P_REMOVED, "%s: removed (MANIFEST lists it, the dossier lacks it)", showz(want[i].path));
			else if (strcmp(g->hash, want[i].hash) != 0 || strcmp(g->size, want[i].size) != 0)
				problem(v, P_CHANGED, "%s: changed (its SHA-256 or size differs from MANIFEST)", showz(g->path));
		}
		for (size_t i = 0; i < ng; i++)
			if (bsearch(&got[i], want, nw, sizeof *want, by_path) == NULL)
				problem(v, P_ADDED, "%s: added (MANIFEST does not list it)", showz(got[i].path));
	} else {
		problem(v, P_CHANGED, "out of memory");
	}
	free(want);
	free(got);
out:
	buf_free(&text);
	buf_free(&actual);
}

/* ---- checkpoints and entries ---- */

static bool open_cp(struct vd *v, const char *rel, struct checkpoint *cp, enum pkind k)
{
	struct err e = { 0 };
	struct buf b;
	buf_init(&b);
	bool ok = read_rel(v, rel, NOTE_MAX_BYTES, &b, &e) == 0 &&
		  checkpoint_open((const char *)b.data, b.len, v->vs, v->nv, cp, &e) == 0;
	if (!ok)
		problem(v, k, "%s: %s", rel, e.msg);
	buf_free(&b);
	return ok;
}

/* entries/NNN.tlog-proof proves leaf of entry seq in the dossier's checkpoint. */
static void check_proof(struct vd *v, const char *rel, uint64_t seq, const uint8_t leaf[HASH_LEN])
{
	struct err e = { 0 };
	struct buf b;
	uint64_t index;
	uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN];
	size_t len, nl;
	const char *note;
	struct checkpoint cp;
	buf_init(&b);
	if (read_rel(v, rel, 1 << 20, &b, &e) || tlog_proof_parse((const char *)b.data, b.len, &index, proof, &len,
								 &note, &nl, &e))
		problem(v, P_PROOF, "%s: %s", rel, e.msg);
	else if (index != seq)
		problem(v, P_PROOF, "%s: proves index %llu, not entry %llu", rel, (unsigned long long)index,
			(unsigned long long)seq);
	else if (checkpoint_open(note, nl, v->vs, v->nv, &cp, &e))
		problem(v, P_PROOF, "%s: its checkpoint: %s", rel, e.msg);
	else if (cp.size != v->cp.size || memcmp(cp.root, v->cp.root, HASH_LEN) != 0)
		problem(v, P_PROOF, "%s: its checkpoint is not checkpoint.txt", rel);
	else if (merkle_verify_inclusion(seq, cp.size, leaf, (const uint8_t(*)[HASH_LEN])proof, len, cp.root, &e))
		problem(v, P_PROOF, "%s: the entry is not in the checkpoint's tree: %s", rel, e.msg);
	buf_free(&b);
}

static void check_entry(struct vd *v, const char *rel, uint64_t seq)
{
	struct err e = { 0 };
	struct buf b, m, again;
	struct mp_cur c;
	const char *hx;
	size_t hn;
	struct entry en;
	buf_init(&b);
	buf_init(&m);
	buf_init(&again);
	size_t at = v->raws.len;
	if (read_rel(v, rel, 4u << 20, &b, &e) || json_to_msgpack((const char *)b.data, b.len, &m, &e)) {
		problem(v, P_ENTRY, "%s: %s", rel, e.msg);
		goto out;
	}
	if (mp_map_find(m.data, m.len, "raw", &c, NULL) != 1 || mp_get_str(&c, &hx, &hn, NULL) || hn % 2 ||
	    !buf_reserve(&v->raws, hn / 2) || hex_decode(hx, hn, v->raws.data + at, hn / 2)) {
		problem(v, P_ENTRY, "%s: has no \"raw\" hex of the entry's bytes", rel);
		goto out;
	}
	v->raws.len = at + hn / 2;
	const uint8_t *raw = v->raws.data + at;
	if (entry_decode(raw, hn / 2, &en, &e)) {
		problem(v, P_ENTRY, "%s: its raw bytes are not an entry: %s", rel, e.msg);
		goto drop;
	}
	if (en.seq != seq) {
		problem(v, P_ENTRY, "%s: holds entry %llu", rel, (unsigned long long)en.seq);
		goto drop;
	}
	if (en.project_len != strlen(v->project) || memcmp(en.project, v->project, en.project_len) != 0) {
		problem(v, P_ENTRY, "%s: belongs to another project than MANIFEST's %s", rel, showz(v->project));
		goto drop;
	}
	if (dossier_entry_json(raw, hn / 2, &again, &e) || again.len != b.len || memcmp(again.data, b.data, b.len)) {
		problem(v, P_ENTRY, "%s: its fields are not what its raw bytes say (it was edited)", rel);
		goto drop;
	}
	uint8_t leaf[HASH_LEN];
	merkle_leaf_hash(raw, hn / 2, leaf);
	char prel[64];
	snprintf(prel, sizeof prel, "entries/%06llu.tlog-proof", (unsigned long long)seq);
	size_t before = v->count[P_PROOF];
	if (v->cp_ok)
		check_proof(v, prel, seq, leaf);
	if (v->count[P_PROOF] != before || !v->cp_ok)
		goto drop;
	if (v->sn == v->scap) {
		size_t cap = v->scap ? 2 * v->scap : 64;
		struct story_entry *n = realloc(v->sv, cap * sizeof *n);
		if (n == NULL)
			goto drop;
		v->sv = n;
		v->scap = cap;
	}
	/* raw is filled in once raws stops moving */
	v->sv[v->sn++] = (struct story_entry){ seq, (const uint8_t *)(uintptr_t)at, hn / 2, 0 };
	goto out;
drop:
	v->raws.len = at;
out:
	buf_free(&b);
	buf_free(&m);
	buf_free(&again);
}

/* A name NNNNNN.json or NNNNNN.tlog-proof: its seq and whether it is json. */
static bool entry_name(const char *name, uint64_t *seq, bool *json)
{
	char *end;
	errno = 0;
	if (name[0] < '0' || name[0] > '9')
		return false;
	*seq = strtoull(name, &end, 10);
	char canon[64];
	snprintf(canon, sizeof canon, "%06llu", (unsigned long long)*seq);
	if (errno || (size_t)(end - name) != strlen(canon) || strncmp(name, canon, strlen(canon)) != 0)
		return false;
	*json = strcmp(end, ".json") == 0;
	return *json || strcmp(end, ".tlog-proof") == 0;
}

static int by_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct story_entry *)a)->seq, y = ((const struct story_entry *)b)->seq;
	return x < y ? -1 : x > y;
}

static void check_entries(struct vd *v)
{
	char path[DOSSIER_PATH];
	dossier_path(path, v->dir, "entries");
	DIR *d = opendir(path);
	if (d == NULL) {
		problem(v, P_REMOVED, "entries: removed (%s)", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		bool json;
		char rel[600], other[64], full[DOSSIER_PATH];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(rel, sizeof rel, "entries/%s", de->d_name);
		if (!entry_name(de->d_name, &seq, &json)) {
			problem(v, P_ENTRY, "%s: added (not an entry NNNNNN.json or its NNNNNN.tlog-proof)", showz(rel));
			continue;
		}
		snprintf(other, sizeof other, "entries/%06llu.%s", (unsigned long long)seq, json ? "tlog-proof" : "json");
		dossier_path(full, v->dir, other);
		if (access(full, F_OK) != 0)
			problem(v, json ? P_PROOF : P_ENTRY, "entries/%06llu.%s: removed (%s has none)",
				(unsigned long long)seq, json ? "tlog-proof" : "json", rel);
		else if (json)
			check_entry(v, rel, seq);
	}
	closedir(d);
	for (size_t i = 0; i < v->sn; i++)
		v->sv[i].raw = v->raws.data + (uintptr_t)v->sv[i].raw;
	if (v->sn)
		qsort(v->sv, v->sn, sizeof *v->sv, by_seq);
}

static void check_consistency(struct vd *v)
{
	struct checkpoint lc;
	struct consistency_proof p;
	struct err e = { 0 };
	struct buf b;
	if (!v->cp_ok || !open_cp(v, "latest.txt", &lc, P_CONSISTENCY))
		return;
	buf_init(&b);
	if (read_rel(v, "consistency.json", 1 << 20, &b, &e) || consistency_from_json((const char *)b.data, b.len, &p, &e))
		problem(v, P_CONSISTENCY, "consistency.json: %s", e.msg);
	else if (p.old_size != v->cp.size || p.new_size != lc.size || memcmp(p.old_root, v->cp.root, HASH_LEN) ||
		 memcmp(p.new_root, lc.root, HASH_LEN))
		problem(v, P_CONSISTENCY, "consistency.json: is not from checkpoint.txt to latest.txt");
	else if (merkle_verify_consistency(p.old_size, p.new_size, p.old_root, p.new_root,
					   (const uint8_t(*)[HASH_LEN])p.proof, p.len, &e))
		problem(v, P_CONSISTENCY, "consistency.json: %s", e.msg);
	buf_free(&b);
}

/* files/<sha256>: each file hashes to its name. */
static void check_files(struct vd *v)
{
	char path[DOSSIER_PATH];
	dossier_path(path, v->dir, "files");
	DIR *d = opendir(path);
	if (d == NULL) {
		problem(v, P_REMOVED, "files: removed (%s)", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char full[DOSSIER_PATH], hx[65] = "";
		uint8_t h[HASH_LEN];
		uint64_t size;
		struct err e = { 0 };
		dossier_path(full, path, de->d_name);
		int fd = open(full, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && sha256_fd(fd, h, &size, &e) == 0)
			hex_encode(h, HASH_LEN, hx);
		if (fd >= 0)
			close(fd);
		if (strcmp(hx, de->d_name) != 0)
			problem(v, P_FILE, "files/%s: its SHA-256 is not its name", showz(de->d_name));
		else
			v->files++;
	}
	closedir(d);
}

/*
 * ANCHORS are checked here, and only here: each token in anchors/ against
 * the TSA chain and the checkpoint it stamps, and the anchored time of
 * each entry it covers set in v->sv (so the story is rendered with it).
 * This scopectl knows no anchor tokens yet: any file in anchors/ is a
 * problem rather than something silently passed.
 */
static void check_anchors(struct vd *v)
{
	char path[DOSSIER_PATH];
	dossier_path(path, v->dir, "anchors");
	DIR *d = opendir(path);
	if (d == NULL) {
		problem(v, P_REMOVED, "anchors: removed (%s)", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			problem(v, P_ANCHOR, "anchors/%s: not checked: this scopectl knows no anchor tokens",
				showz(de->d_name));
	closedir(d);
}

static void count_elsewhere(void *ctx, const char *sha256)
{
	struct vd *v = ctx;
	v->elsewhere += !dossier_holds((void *)v->dir, sha256);
}

/* dossier.md and index.html are what the verified entries say. */
static void check_story(struct vd *v)
{
	struct story st = { v->project, v->subject, &v->cp, v->sv, v->sn, dossier_holds, (void *)v->dir };
	static const struct {
		const char *name;
		enum story_format f;
	} OUT[] = { { "dossier.md", STORY_MARKDOWN }, { "index.html", STORY_HTML } };
	for (size_t i = 0; i < 2; i++) {
		struct buf want, got;
		struct err e = { 0 };
		buf_init(&want);
		buf_init(&got);
		if (story_render(&st, OUT[i].f, &want, &e))
			problem(v, P_STORY, "%s: %s", OUT[i].name, e.msg);
		else if (read_rel(v, OUT[i].name, DOSSIER_MAX_FILE, &got, &e))
			problem(v, P_STORY, "%s: %s", OUT[i].name, e.msg);
		else if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
			problem(v, P_STORY, "%s: is not what the entries say (it was edited)", OUT[i].name);
		buf_free(&want);
		buf_free(&got);
	}
	for (size_t i = 0; i < v->sn; i++) {
		struct entry en;
		if (entry_decode(v->sv[i].raw, v->sv[i].len, &en, NULL) == 0)
			story_docs(&en, count_elsewhere, v);
	}
}

int cmd_verify_dossier(const char *dir, const char *const *trust, size_t ntrust)
{
	struct note_verifier vs[PROFILE_MAX_TRUST];
	struct err e = { 0 };
	if (ntrust == 0 || ntrust > PROFILE_MAX_TRUST) {
		fprintf(stderr, "scopectl verify: --dossier DIR needs --trust KEY (the log's verifier key, from the "
			"vendor: not from the dossier)\n");
		return CTL_EXIT_USAGE;
	}
	for (size_t i = 0; i < ntrust; i++)
		if (trust_parse(trust[i], &vs[i], &e)) {
			fprintf(stderr, "scopectl: %s\n", e.msg);
			return CTL_EXIT_USAGE;
		}
	struct vd *v = calloc(1, sizeof *v);
	if (v == NULL)
		return CTL_EXIT_USAGE;
	v->dir = dir;
	v->vs = vs;
	v->nv = ntrust;
	buf_init(&v->raws);
	check_manifest(v);
	v->cp_ok = open_cp(v, "checkpoint.txt", &v->cp, P_CHECKPOINT);
	check_entries(v);
	check_consistency(v);
	check_files(v);
	check_anchors(v);
	size_t bad = 0;
	for (int k = 0; k < P_N; k++)
		bad += v->count[k];
	if (bad == 0)
		check_story(v);
	for (int k = 0; k < P_N; k++)
		bad += v->count[k] && k == P_STORY;
	int rc = CTL_EXIT_OK;
	if (bad) {
		for (int k = 0; k < P_N; k++)
			if (v->count[k])
				fprintf(stderr, "scopectl: VERIFICATION FAILED: %s: %s%s\n", PKIND[k], v->first[k],
					v->count[k] > 1 ? " (and more)" : "");
		rc = CTL_EXIT_VERIFY;
	} else {
		printf("ok: dossier %s of project %s (%s)\n"
		       "  every file matches MANIFEST; none added or removed\n"
		       "  %zu entries: bytes, leaf hashes and inclusion proofs verified in the checkpoint of size %llu "
		       "signed by %s\n"
		       "  the checkpoint is consistent with the latest one its writer verified (latest.txt)\n"
		       "  %zu evidence files match their hashes; %zu documents are held elsewhere (named by hash only)\n"
		       "  anchors: none (every time shown is the ledger's own)\n"
		       "  dossier.md and index.html are what the entries say\n",
		       showz(dir), showz(v->project), showz(v->subject), v->sn, (unsigned long long)v->cp.size,
		       showz(v->cp.origin), v->files, v->elsewhere);
	}
	buf_free(&v->raws);
	free(v->sv);
	free(v);
	return rc;
}
