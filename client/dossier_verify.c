#define _GNU_SOURCE
#include "dossier.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anchors.h"
#include "args.h"
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
#include "tsa.h"

/* The first problem of each kind is kept and printed. */
enum pkind { P_CHANGED, P_ADDED, P_REMOVED, P_REFUSED, P_CHECKPOINT, P_ENTRY, P_PROOF, P_CONSISTENCY, P_SUBJECT,
	     P_CITED, P_FILE, P_ANCHOR, P_STORY, P_N };
static const char *const PKIND[P_N] = { "changed file", "added file", "removed file", "refused file", "checkpoint",
					"entry", "proof", "consistency", "subject", "cited entry", "evidence file",
					"anchor", "story" };

struct vd {
	const char *dir;
	int dfd;	/* DIR: every file is opened relative to it */
	const struct note_verifier *vs;
	size_t nv;
	const struct cosigners *w;	/* witnesses' lines are theirs to check */
	char first[P_N][512];
	size_t count[P_N];
	char project[80], subject[300];
	struct checkpoint cp, lc;
	bool cp_ok, lc_ok;
	struct buf cpnote;	/* checkpoint.txt's bytes */
	struct buf cited;	/* "<sha256>\n" of each document a held entry names */
	char unverified[1024];	/* signature lines by keys not trusted */
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

/* rel ("name" or "sub/name") under DIR, following no symbolic link and
 * waiting on no FIFO or device: a regular file, or -1 saying why not. */
static int open_rel(const struct vd *v, const char *rel, struct err *e)
{
	const char *slash = strchr(rel, '/');
	int at = v->dfd, sub = -1;
	if (slash) {
		char d[64];
		snprintf(d, sizeof d, "%.*s", (int)(slash - rel), rel);
		if ((sub = openat(v->dfd, d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			return err_set(e, "%s: not a directory of the dossier (%s)", d, strerror(errno));
		at = sub;
	}
	int fd = openat(at, slash ? slash + 1 : rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), saved = errno;
	struct stat st;
	if (sub >= 0)
		close(sub);
	if (fd < 0 && saved == ELOOP)
		return (void)err_set(e, "a symbolic link (refused: a dossier holds only regular files)"), -2;
	if (fd < 0)
		return err_set(e, "%s", strerror(saved));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return (void)err_set(e, "not a regular file (refused: a dossier holds only regular files)"), -2;
	}
	return fd;
}

/* A subdirectory of DIR, not followed if it is a symbolic link. */
static DIR *open_sub(const struct vd *v, const char *name)
{
	int fd = openat(v->dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (fd >= 0 && d == NULL)
		close(fd);
	return d;
}

static int read_rel(const struct vd *v, const char *rel, size_t max, struct buf *out, struct err *e)
{
	buf_reset(out);
	int fd = open_rel(v, rel, e);
	if (fd < 0)
		return fd;
	int rc = 0;
	for (;;) {
		if (!buf_reserve(out, 65536)) {
			rc = err_set(e, "out of memory");
			break;
		}
		ssize_t n = read(fd, out->data + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_set(e, "%s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > max) {
			rc = err_set(e, "larger than %zu bytes", max);
			break;
		}
	}
	close(fd);
	return rc;
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
	int r = read_rel(v, "MANIFEST", 64u << 20, &text, &e);
	if (r) {
		problem(v, r == -2 ? P_REFUSED : P_REMOVED, "MANIFEST: %s", e.msg);
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

/* Names the signature lines of a verified note by keys not trusted (a
 * cosigner, say): they are not verified, and the output says so. */
static void untrusted_signers(struct vd *v, const char *rel, const char *msg, size_t n)
{
	const char *p = msg, *end = msg + n, *sigs = NULL;
	for (; p + 1 < end; p++)
		if (p[0] == '\n' && p[1] == '\n')
			sigs = p + 2;
	for (p = sigs; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *name = p + strlen("\u2014 ");
		const char *sp = nl && name < nl ? memchr(name, ' ', (size_t)(nl - name)) : NULL;
		uint8_t blob[128];
		size_t bl = 0;
		bool trusted = false;
		if (sp && b64_decode(sp + 1, (size_t)(nl - sp - 1), blob, sizeof blob, &bl) == 0 && bl >= 4)
			for (size_t k = 0; k < v->nv; k++)
				trusted |= strlen(v->vs[k].name) == (size_t)(sp - name) &&
					   memcmp(v->vs[k].name, name, (size_t)(sp - name)) == 0 &&
					   memcmp(v->vs[k].key_id, blob, 4) == 0;
		/* with --witness, checkpoint.txt's cosignatures are checked after */
		trusted |= sp && bl >= 4 && strcmp(rel, "checkpoint.txt") == 0 &&
			   cosigners_has(v->w, name, (size_t)(sp - name), blob);
		size_t at = strlen(v->unverified);
		if (sp && !trusted && at < sizeof v->unverified)
			snprintf(v->unverified + at, sizeof v->unverified - at, "%s%s by %s", at ? "; " : "", rel,
				 show(name, (size_t)(sp - name)));
		p = nl ? nl + 1 : end;
	}
}

static bool open_cp(struct vd *v, const char *rel, struct checkpoint *cp, enum pkind k, struct buf *keep)
{
	struct err e = { 0 };
	struct buf b;
	buf_init(&b);
	int r = read_rel(v, rel, NOTE_MAX_BYTES, &b, &e);
	bool ok = r == 0 && checkpoint_open((const char *)b.data, b.len, v->vs, v->nv, cp, &e) == 0;
	if (!ok)
		problem(v, r == -2 ? P_REFUSED : k, "%s: %s", rel, e.msg);
	else
		untrusted_signers(v, rel, (const char *)b.data, b.len);
	if (ok && keep)
		buf_add(keep, b.data, b.len);
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
	buf_init(&b);
	if (read_rel(v, rel, 1 << 20, &b, &e) || tlog_proof_parse((const char *)b.data, b.len, &index, proof, &len,
								 &note, &nl, &e))
		problem(v, P_PROOF, "%s: %s", rel, e.msg);
	else if (index != seq)
		problem(v, P_PROOF, "%s: proves index %llu, not entry %llu", rel, (unsigned long long)index,
			(unsigned long long)seq);
	else if (nl != v->cpnote.len || memcmp(note, v->cpnote.data, nl) != 0)
		problem(v, P_PROOF, "%s: its checkpoint is not checkpoint.txt, byte for byte", rel);
	else if (merkle_verify_inclusion(seq, v->cp.size, leaf, (const uint8_t(*)[HASH_LEN])proof, len, v->cp.root,
					 &e))
		problem(v, P_PROOF, "%s: the entry is not in the checkpoint's tree: %s", rel, e.msg);
	buf_free(&b);
}

/* sub/NNNNNN.json (rel) of project, with its sub/NNNNNN.tlog-proof: its
 * raw bytes appended to into (from *at) when all is well, else a problem
 * named and false. */
static bool read_entry(struct vd *v, const char *rel, const char *sub, uint64_t seq, const char *project,
		       struct buf *into, size_t *at)
{
	struct err e = { 0 };
	struct buf b, m, again;
	struct mp_cur c;
	const char *hx;
	size_t hn = 0;
	struct entry en;
	bool ok = false;
	buf_init(&b);
	buf_init(&m);
	buf_init(&again);
	*at = into->len;
	int r = read_rel(v, rel, 4u << 20, &b, &e);
	if (r || json_to_msgpack((const char *)b.data, b.len, &m, &e)) {
		problem(v, r == -2 ? P_REFUSED : P_ENTRY, "%s: %s", rel, e.msg);
		goto out;
	}
	if (mp_map_find(m.data, m.len, "raw", &c, NULL) != 1 || mp_get_str(&c, &hx, &hn, NULL) || hn % 2 ||
	    !buf_reserve(into, hn / 2) || hex_decode(hx, hn, into->data + *at, hn / 2)) {
		problem(v, P_ENTRY, "%s: has no \"raw\" hex of the entry's bytes", rel);
		goto out;
	}
	const uint8_t *raw = into->data + *at;
	if (entry_decode(raw, hn / 2, &en, &e)) {
		problem(v, P_ENTRY, "%s: its raw bytes are not an entry: %s", rel, e.msg);
		goto out;
	}
	if (en.seq != seq) {
		problem(v, P_ENTRY, "%s: holds entry %llu", rel, (unsigned long long)en.seq);
		goto out;
	}
	if (en.project_len != strlen(project) || memcmp(en.project, project, en.project_len) != 0) {
		problem(v, P_ENTRY, "%s: belongs to another project than %s", rel,
			*project ? showz(project) : "the ledger (an anchor is ledger-level)");
		goto out;
	}
	if (dossier_entry_json(raw, hn / 2, &again, &e) || again.len != b.len || memcmp(again.data, b.data, b.len)) {
		problem(v, P_ENTRY, "%s: its fields are not what its raw bytes say (it was edited)", rel);
		goto out;
	}
	uint8_t leaf[HASH_LEN];
	merkle_leaf_hash(raw, hn / 2, leaf);
	char prel[64];
	snprintf(prel, sizeof prel, "%s/%06llu.tlog-proof", sub, (unsigned long long)seq);
	size_t before = v->count[P_PROOF];
	if (v->cp_ok)
		check_proof(v, prel, seq, leaf);
	ok = v->count[P_PROOF] == before && v->cp_ok;
out:
	into->len = ok ? *at + hn / 2 : *at;
	buf_free(&b);
	buf_free(&m);
	buf_free(&again);
	return ok;
}

static void check_entry(struct vd *v, const char *rel, uint64_t seq)
{
	size_t at;
	if (!read_entry(v, rel, "entries", seq, v->project, &v->raws, &at))
		return;
	if (v->sn == v->scap) {
		size_t cap = v->scap ? 2 * v->scap : 64;
		struct story_entry *n = realloc(v->sv, cap * sizeof *n);
		if (n == NULL) {
			v->raws.len = at;
			return;
		}
		v->sv = n;
		v->scap = cap;
	}
	/* raw is filled in once raws stops moving */
	v->sv[v->sn++] = (struct story_entry){ seq, (const uint8_t *)(uintptr_t)at, v->raws.len - at, 0 };
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
	DIR *d = open_sub(v, "entries");
	if (d == NULL) {
		problem(v, P_REMOVED, "entries: removed or not a directory (%s)", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;
		bool json;
		char rel[600], other[64];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(rel, sizeof rel, "entries/%s", de->d_name);
		if (!entry_name(de->d_name, &seq, &json)) {
			problem(v, P_ENTRY, "%s: added (not an entry NNNNNN.json or its NNNNNN.tlog-proof)", showz(rel));
			continue;
		}
		snprintf(other, sizeof other, "entries/%06llu.%s", (unsigned long long)seq, json ? "tlog-proof" : "json");
		if (faccessat(dirfd(d), other + strlen("entries/"), F_OK, AT_SYMLINK_NOFOLLOW) != 0)
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
	if (!v->cp_ok || !(v->lc_ok = open_cp(v, "latest.txt", &lc, P_CONSISTENCY, NULL)))
		return;
	v->lc = lc;
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

/* Only the names a dossier has at its top; VERIFY.txt and FORMAT.md as this
 * scopectl writes them. */
static void check_top(struct vd *v)
{
	int fd = dup(v->dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		problem(v, P_REMOVED, "%s: %s", showz(v->dir), strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL) {
		bool known = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
		size_t n = strlen(de->d_name);
		struct stat st;
		bool dir = fstatat(v->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		for (size_t i = 0; DOSSIER_TOP[i] && !known; i++)
			known = strncmp(DOSSIER_TOP[i], de->d_name, n) == 0 &&
				DOSSIER_TOP[i][n] == (dir ? '/' : '\0');
		if (!known)
			problem(v, P_ADDED, "%s: added (not a name a dossier has: FORMAT.md section 10a lists them)",
				showz(de->d_name));
	}
	closedir(d);
	static const struct {
		const char *name;
		const void *text;
		const size_t *len;
	} OWN[] = { { "VERIFY.txt", dossier_verify_txt, NULL }, { "FORMAT.md", format_md, &format_md_len } };
	for (size_t i = 0; i < 2; i++) {
		struct buf b;
		struct err e = { 0 };
		size_t n = OWN[i].len ? *OWN[i].len : strlen(OWN[i].text);
		buf_init(&b);
		int r = read_rel(v, OWN[i].name, DOSSIER_MAX_FILE, &b, &e);
		if (r)
			problem(v, r == -2 ? P_REFUSED : P_REMOVED, "%s: %s", OWN[i].name, e.msg);
		else if (b.len != n || memcmp(b.data, OWN[i].text, n) != 0)
			problem(v, P_CHANGED, "%s: differs from the text this scopectl writes", OWN[i].name);
		buf_free(&b);
	}
}

static void cite_doc(void *ctx, const char *sha256)
{
	struct vd *v = ctx;
	char line[80];
	snprintf(line, sizeof line, "%s\n", sha256);
	if (strstr(buf_cstr(&v->cited), line) == NULL)
		buf_adds(&v->cited, line);
}

static const struct story_entry *held(const struct vd *v, uint64_t seq)
{
	struct story_entry key = { .seq = seq };
	return v->sn ? bsearch(&key, v->sv, v->sn, sizeof *v->sv, by_seq) : NULL;
}

struct cited_ctx {
	struct vd *v;
	uint64_t by;
};

static void need_seq(void *ctx, uint64_t seq)
{
	struct cited_ctx *c = ctx;
	if (!held(c->v, seq))
		problem(c->v, P_CITED, "entries/%06llu.json: missing (entry %llu cites it; a dossier holds every entry "
			"its entries cite)", (unsigned long long)seq, (unsigned long long)c->by);
}

/* The subject is one a dossier can have, its own entry is held, and so is
 * every entry a held one needs (dossier_needs); the documents they name
 * into v->cited. */
static void check_held(struct vd *v)
{
	char want[24] = "";
	const char *kind = NULL;
	int used = 0;
	if (strncmp(v->subject, "change CR-", 10) == 0)
		kind = "change";
	else if (strncmp(v->subject, "case CASE-", 10) == 0)
		kind = "complaint";
	const char *num = kind ? strchr(v->subject, '-') + 1 : NULL;
	if (num && num[0] >= '1' && num[0] <= '9' && strspn(num, "0123456789") == strlen(num) && strlen(num) <= 10)
		used = snprintf(want, sizeof want, "%s", strchr(v->subject, ' ') + 1);
	if (strcmp(v->subject, "all") != 0 && used == 0) {
		problem(v, P_SUBJECT, "MANIFEST: subject %s is none of \"change CR-N\", \"case CASE-N\" and \"all\"",
			showz(v->subject));
		return;
	}
	bool found = used == 0;
	for (size_t i = 0; i < v->sn; i++) {
		struct entry en, ch;
		char change[24];
		if (entry_decode(v->sv[i].raw, v->sv[i].len, &en, NULL))
			continue;
		found |= kind && dossier_is_ref(&en, kind, want);
		struct cited_ctx c = { v, v->sv[i].seq };
		dossier_needs(&en, need_seq, &c, change);
		bool has = change[0] == '\0';
		for (size_t j = 0; j < v->sn && !has; j++)
			has = entry_decode(v->sv[j].raw, v->sv[j].len, &ch, NULL) == 0 && dossier_is_ref(&ch, "change", change);
		if (!has)
			problem(v, P_CITED, "entry %llu answers %s, whose change entry the dossier lacks",
				(unsigned long long)v->sv[i].seq, showz(change));
		story_docs(&en, cite_doc, v);
	}
	if (!found)
		problem(v, P_SUBJECT, "MANIFEST names the subject %s, but the dossier lacks its %s entry", showz(v->subject),
			kind);
}

/* files/<sha256>: each a document a held entry names, hashing to its name. */
static void check_files(struct vd *v)
{
	DIR *d = open_sub(v, "files");
	if (d == NULL) {
		problem(v, P_REMOVED, "files: removed or not a directory (%s)", strerror(errno));
		return;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char rel[600], hx[66] = "";
		uint8_t h[HASH_LEN];
		uint64_t size;
		struct err e = { 0 };
		snprintf(rel, sizeof rel, "files/%s", de->d_name);
		snprintf(hx, sizeof hx, "%.64s\n", de->d_name);
		if (strlen(de->d_name) != 64 || strstr(buf_cstr(&v->cited), hx) == NULL) {
			problem(v, P_ADDED, "%s: added (no entry in the dossier names it)", showz(rel));
			continue;
		}
		hx[0] = '\0';
		int fd = open_rel(v, rel, &e);
		if (fd == -2)
			problem(v, P_REFUSED, "%s: %s", showz(rel), e.msg);
		if (fd >= 0 && sha256_fd(fd, h, &size, &e) == 0)
			hex_encode(h, HASH_LEN, hx);
		if (fd >= 0)
			close(fd);
		if (fd == -2)
			continue;
		if (strcmp(hx, de->d_name) != 0)
			problem(v, P_FILE, "files/%s: its SHA-256 is not its name", showz(de->d_name));
		else
			v->files++;
	}
	closedir(d);
}

/* The companions of anchors/NNNNNN.json, each NNNNNN<suffix>. */
static const char *const ANCHOR_FILES[] = { ".json", ".tlog-proof", ".tsr", ".consistency.json" };

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* anchors/NNNNNN.consistency.json proves the anchor's tree a prefix of
 * checkpoint.txt's; NNNNNN.tsr is the token the entry holds. */
static bool check_anchor_files(struct vd *v, const struct anchor *a)
{
	char rel[64];
	struct buf b;
	struct consistency_proof p;
	struct err e = { 0 };
	bool ok = false;
	buf_init(&b);
	snprintf(rel, sizeof rel, "anchors/%06llu.consistency.json", (unsigned long long)a->seq);
	if (read_rel(v, rel, 1 << 20, &b, &e) || consistency_from_json((const char *)b.data, b.len, &p, &e))
		problem(v, P_ANCHOR, "%s: %s", rel, e.msg);
	else if (p.old_size != a->size || memcmp(p.old_root, a->root, HASH_LEN) || p.new_size != v->cp.size ||
		 memcmp(p.new_root, v->cp.root, HASH_LEN))
		problem(v, P_ANCHOR, "%s: is not from the anchor's size and root to checkpoint.txt", rel);
	else if (merkle_verify_consistency(p.old_size, p.new_size, p.old_root, p.new_root,
					   (const uint8_t(*)[HASH_LEN])p.proof, p.len, &e))
		problem(v, P_ANCHOR, "%s: the anchor's root is not the log's root at size %llu: %s", rel,
			(unsigned long long)a->size, e.msg);
	else
		ok = true;
	snprintf(rel, sizeof rel, "anchors/%06llu.tsr", (unsigned long long)a->seq);
	if (ok && (read_rel(v, rel, TSA_TOKEN_MAX, &b, &e) || b.len != a->token_len ||
		   memcmp(b.data, a->token, b.len) != 0)) {
		problem(v, P_ANCHOR, "%s: %s", rel, e.msg[0] ? e.msg : "is not the token its anchor entry holds");
		ok = false;
	}
	buf_free(&b);
	return ok;
}

/*
 * anchors/: for each anchor entry (FORMAT.md 10a) its entry and proof as
 * entries/ has them, its root proven the log's at its size, its token the
 * entry's and (with the TSA's CA) verified; then each held entry's
 * anchored time is the earliest anchor covering it, which the story must
 * show.
 */
static void check_anchors(struct vd *v, struct anchors *x, const char *ca)
{
	DIR *d = open_sub(v, "anchors");
	if (d == NULL) {
		problem(v, P_REMOVED, "anchors: removed or not a directory (%s)", strerror(errno));
		return;
	}
	uint64_t *seqs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *end, canon[80];
		uint64_t seq = strtoull(de->d_name, &end, 10);
		size_t k = 0;
		snprintf(canon, sizeof canon, "%06llu", (unsigned long long)seq);
		while (k < 4 && (strncmp(de->d_name, canon, strlen(canon)) != 0 || end != de->d_name + strlen(canon) ||
				 strcmp(end, ANCHOR_FILES[k]) != 0))
			k++;
		if (de->d_name[0] < '0' || de->d_name[0] > '9' || k == 4) {
			problem(v, P_ANCHOR, "anchors/%s: added (not an anchor's NNNNNN.json, .tlog-proof, .tsr or "
				".consistency.json)", showz(de->d_name));
			continue;
		}
		for (size_t j = 0; j < 4; j++) {
			snprintf(canon, sizeof canon, "%06llu%s", (unsigned long long)seq, ANCHOR_FILES[j]);
			if (faccessat(dirfd(d), canon, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
				problem(v, P_REMOVED, "anchors/%s: removed (anchors/%s has none)", canon, showz(de->d_name));
		}
		if (k == 0 && n == cap) {
			cap = cap ? 2 * cap : 16;
			uint64_t *t = realloc(seqs, cap * sizeof *t);
			if (t == NULL)
				break;
			seqs = t;
		}
		if (k == 0)
			seqs[n++] = seq;
	}
	closedir(d);
	if (n)
		qsort(seqs, n, sizeof *seqs, by_u64);
	struct buf raw;
	buf_init(&raw);
	for (size_t i = 0; i < n && v->cp_ok; i++) {
		char rel[64];
		size_t at, had = x->n;
		struct entry en;
		struct err e = { 0 };
		snprintf(rel, sizeof rel, "anchors/%06llu.json", (unsigned long long)seqs[i]);
		buf_reset(&raw);
		if (!read_entry(v, rel, "anchors", seqs[i], "", &raw, &at))
			continue;
		if (entry_decode(raw.data, raw.len, &en, &e) || anchors_add(x, &en, &e) || x->n == had) {
			problem(v, P_ANCHOR, "%s: %s", rel, e.msg[0] ? e.msg : "is not an anchor entry");
			continue;
		}
		if (check_anchor_files(v, &x->a[x->n - 1]) && ca && anchor_verify(&x->a[x->n - 1], v->cp.origin, ca, &e))
			problem(v, P_ANCHOR, "anchors/%06llu.tsr: the token does not verify with --tsa-ca %s: %s",
				(unsigned long long)seqs[i], showz(ca), e.msg);
	}
	buf_free(&raw);
	free(seqs);
	for (size_t i = 0; i < v->sn; i++) {
		const struct anchor *a = anchors_covering(x, v->sv[i].seq);
		v->sv[i].anchored_us = a ? a->time_us : 0;
	}
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

/* What the anchors vouch for: each anchor, and the earliest anchored time
 * of the held entries. */
static void print_dossier_anchors(const struct vd *v, const struct anchors *x, const char *ca)
{
	if (x->n == 0) {
		printf("  anchors: none (every time shown is the ledger's own)\n");
		return;
	}
	printf("  anchors: %zu anchor entries verified as entries, each root proven the log's at its size\n", x->n);
	for (size_t i = 0; i < x->n; i++) {
		char t[40];
		args_time(x->a[i].time_us, t);
		printf("  anchor entry %llu: checkpoint size %llu time-stamped by the TSA at %s (%s)\n",
		       (unsigned long long)x->a[i].seq, (unsigned long long)x->a[i].size, t,
		       ca ? "token verified with --tsa-ca" : "token NOT checked: give --tsa-ca FILE");
	}
	size_t covered = 0;
	for (size_t i = 0; i < v->sn; i++)
		covered += v->sv[i].anchored_us != 0;
	printf("  %zu of %zu entries carry an anchored time%s\n", covered, v->sn,
	       ca ? "" : " (as the log states it: the tokens were not checked)");
}

/* The reader's own checkpoint against the dossier's: 0 when it matches or
 * cannot be checked offline (said in line), 1 on a fork or a bad file. */
static int check_held_cp(struct vd *v, const char *path, char *line, size_t cap)
{
	struct buf b;
	struct err e = { 0 };
	struct checkpoint h;
	buf_init(&b);
	int rc = read_file(path, NOTE_MAX_BYTES, &b, &e) || checkpoint_open((const char *)b.data, b.len, v->vs, v->nv,
									   &h, &e);
	buf_free(&b);
	if (rc) {
		fprintf(stderr, "scopectl: --checkpoint %s: %s\n", showz(path), e.msg);
		return 1;
	}
	const struct checkpoint *same = h.size == v->cp.size ? &v->cp : h.size == v->lc.size ? &v->lc : NULL;
	if (same && memcmp(same->root, h.root, HASH_LEN) != 0) {
		fprintf(stderr, "scopectl: VERIFICATION FAILED: the dossier's log differs from the checkpoint you hold: "
			"a fork (size %llu: %s has another root than the dossier's %s)\n", (unsigned long long)h.size,
			showz(path), same == &v->cp ? "checkpoint.txt" : "latest.txt");
		return 1;
	}
	if (same)
		snprintf(line, cap, "  the checkpoint you hold (%s, size %llu) is the dossier's %s: the same log, no fork up "
			"to it\n", showz(path), (unsigned long long)h.size, same == &v->cp ? "checkpoint.txt" : "latest.txt");
	else
		snprintf(line, cap, "  NOT CHECKED: the checkpoint you hold (%s, size %llu) cannot be checked offline: the "
			"dossier proves only sizes %llu and %llu; run scopectl consistency %llu against the server\n",
			showz(path), (unsigned long long)h.size, (unsigned long long)v->cp.size,
			(unsigned long long)v->lc.size, (unsigned long long)h.size);
	return 0;
}

int cmd_verify_dossier(const char *dir, const char *const *trust, size_t ntrust, const char *held_cp, const char *tsa_ca,
		       struct cosigners *w)
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
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		fprintf(stderr, "scopectl: %s: %s (name the dossier's directory)\n", showz(dir), strerror(errno));
		return CTL_EXIT_USAGE;
	}
	struct vd *v = calloc(1, sizeof *v);
	if (v == NULL) {
		close(dfd);
		return CTL_EXIT_USAGE;
	}
	v->dir = dir;
	v->dfd = dfd;
	v->vs = vs;
	v->nv = ntrust;
	v->w = w;
	buf_init(&v->raws);
	buf_init(&v->cpnote);
	buf_init(&v->cited);
	check_manifest(v);
	check_top(v);
	v->cp_ok = open_cp(v, "checkpoint.txt", &v->cp, P_CHECKPOINT, &v->cpnote);
	check_entries(v);
	check_consistency(v);
	check_held(v);
	check_files(v);
	struct anchors x;
	anchors_init(&x);
	check_anchors(v, &x, tsa_ca);
	size_t bad = 0;
	for (int k = 0; k < P_N; k++)
		bad += v->count[k];
	if (bad == 0)
		check_story(v);
	for (int k = 0; k < P_N; k++)
		bad += v->count[k] && k == P_STORY;
	int rc = CTL_EXIT_OK;
	char root[64] = "", cpline[1200] = "";
	b64_encode(v->cp.root, HASH_LEN, root);
	if (bad == 0 && w->n && cosigners_check(w, (const char *)v->cpnote.data, v->cpnote.len, &e)) {
		fprintf(stderr, "scopectl: VERIFICATION FAILED: witnesses: checkpoint.txt: %s\n", e.msg);
		rc = CTL_EXIT_VERIFY;
	} else if (bad == 0 && held_cp && check_held_cp(v, held_cp, cpline, sizeof cpline))
		rc = CTL_EXIT_VERIFY;
	else if (bad == 0 && !held_cp)
		snprintf(cpline, sizeof cpline, "  checked against the key only: compare checkpoint size %llu, root %s "
			 "with a checkpoint you obtained yourself, e.g. scopectl consistency %llu or a receipt (or give it "
			 "as --checkpoint FILE)\n", (unsigned long long)v->cp.size, root, (unsigned long long)v->cp.size);
	if (bad) {
		for (int k = 0; k < P_N; k++)
			if (v->count[k])
				fprintf(stderr, "scopectl: VERIFICATION FAILED: %s: %s%s\n", PKIND[k], v->first[k],
					v->count[k] > 1 ? " (and more)" : "");
		rc = CTL_EXIT_VERIFY;
	} else if (rc == CTL_EXIT_OK) {
		printf("ok: dossier %s of project %s, subject %s (as the dossier names it)\n"
		       "  every file matches MANIFEST: none added or removed since it was written; an entry left out "
		       "when it was written cannot be detected from the dossier alone\n"
		       "  %zu entries: bytes, leaf hashes and inclusion proofs verified in the checkpoint of size %llu, "
		       "root %s, signed by %s; the subject's own entry and every entry they cite are held\n"
		       "  the checkpoint is consistent with the latest one its writer verified (latest.txt, size %llu)\n"
		       "  %zu evidence files match their hashes; %zu documents are held elsewhere (named by hash only)\n"
		       "  dossier.md and index.html are what the entries say, anchored times included\n",
		       showz(dir), showz(v->project), showz(v->subject), v->sn, (unsigned long long)v->cp.size, root,
		       showz(v->cp.origin), (unsigned long long)v->lc.size, v->files, v->elsewhere);
		fputs(cpline, stdout);
		if (w->n)
			cosigners_print(w, "  ");
		print_dossier_anchors(v, &x, tsa_ca);
	}
	if (v->unverified[0])
		fprintf(rc ? stderr : stdout, "  not verified: the signatures on %s (no --trust key for them; "
			"witnesses' cosignatures are checked with --witness VKEY --quorum N)\n", v->unverified);
	anchors_free(&x);
	close(dfd);
	buf_free(&v->raws);
	buf_free(&v->cpnote);
	buf_free(&v->cited);
	free(v->sv);
	free(v);
	return rc;
}
