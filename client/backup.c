#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enc.h"
#include "fileio.h"
#include "files.h"
#include "mp.h"
#include "offline.h"
#include "online.h"
#include "result.h"

#define CHUNK (1u << 20)	/* bytes asked for per backup_read; the server may cap it */
#define POLL_MS 100
#define BACKUP_FILES_MAX 1000	/* names per backup_files page (PROTOCOL.md) */

struct backup_args {
	const char *output;
};

static int usage(const char *msg)
{
	fprintf(stderr, "scopectl backup: %s (see scopectl help backup)\n", msg);
	return CTL_EXIT_USAGE;
}

/* Asks for the backup until it is ready: {state, size, sha256}. */
static int wait_ready(struct session *s, uint64_t *size, uint8_t sha[32], struct err *e)
{
	for (;;) {
		const uint8_t *res;
		size_t len, sn;
		const char *state;
		sess_begin(s, "backup", 0);
		if (sess_call(s, 0, &res, &len, e) || res_str(res, len, "state", &state, &sn, e))
			return -1;
		if (sn == 5 && memcmp(state, "ready", 5) == 0) {
			return res_u64(res, len, "size", size, e) || res_hash(res, len, "sha256", sha, e) ? -1 : 0;
		}
		struct timespec ts = { 0, POLL_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int fetch(struct session *s, int fd, uint64_t size, const uint8_t want[32], struct err *e)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return err_set(e, "cannot hash");
	}
	uint64_t off = 0;
	int rc = 0;
	while (off < size && rc == 0) {
		const uint8_t *res, *data;
		size_t len, n;
		uint64_t ask = size - off < CHUNK ? size - off : CHUNK;
		sess_begin(s, "backup_read", 2);
		mp_pack_cstr(&s->req, "offset");
		mp_pack_uint(&s->req, off);
		mp_pack_cstr(&s->req, "length");
		mp_pack_uint(&s->req, ask);
		if (sess_call(s, 0, &res, &len, e) || res_bin(res, len, "data", &data, &n, e)) {
			rc = -1;
		} else if (n == 0 || n > ask) {
			rc = err_setc(e, CTL_EXIT_CONN, "the server sent %zu bytes at offset %llu of %llu", n,
				      (unsigned long long)off, (unsigned long long)size);
		} else if (write(fd, data, n) != (ssize_t)n) {
			rc = err_setc(e, CTL_EXIT_USAGE, "writing the backup: %s", strerror(errno));
		} else {
			EVP_DigestUpdate(md, data, n);
			off += n;
		}
	}
	uint8_t got[32];
	unsigned int gl = 32;
	if (rc == 0 && (EVP_DigestFinal_ex(md, got, &gl) != 1 || memcmp(got, want, 32) != 0)) {
		rc = err_setc(e, CTL_EXIT_VERIFY, "the backup received does not hash to the SHA-256 the server "
						  "reported: the transfer was damaged");
	}
	EVP_MD_CTX_free(md);
	return rc;
}

static int mkdir_ok(const char *path, struct err *e)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return err_setc(e, CTL_EXIT_USAGE, "creating %s: %s", path, strerror(errno));
	return 0;
}

/* One held file, "PROJECT/HEX", into dir as scoped keeps it (FORMAT.md
 * section 10a): its bytes once, fetched and checked by hash, and the
 * project's marker. */
static int fetch_file(struct session *s, const char *dir, const char *name, size_t len, uint64_t *fetched,
		      struct err *e)
{
	char project[200], hex[65], path[4600];
	uint8_t sha[32];
	uint64_t size;
	struct stat st;
	const char *slash = memchr(name, '/', len);
	if (slash == NULL || (size_t)(slash - name) >= sizeof project || len - (size_t)(slash - name) - 1 != 64 ||
	    hex_decode(slash + 1, 64, sha, 32))
		return err_setc(e, CTL_EXIT_CONN, "the server listed a file as \"%.*s\"", (int)(len > 80 ? 80 : len), name);
	snprintf(project, sizeof project, "%.*s", (int)(slash - name), name);
	hex_encode(sha, 32, hex);
	snprintf(path, sizeof path, "%s/%.2s", dir, hex);
	if (mkdir_ok(path, e))
		return -1;
	snprintf(path, sizeof path, "%s/%.2s/%s", dir, hex, hex);
	if (stat(path, &st) != 0) {
		if (files_get(s, project, sha, path, &size, e))
			return err_prefix(e, "evidence file %s of %s", hex, project);
		(*fetched)++;
	}
	snprintf(path, sizeof path, "%s/projects", dir);
	if (mkdir_ok(path, e))
		return -1;
	snprintf(path, sizeof path, "%s/projects/%s", dir, project);
	if (mkdir_ok(path, e))
		return -1;
	snprintf(path, sizeof path, "%s/projects/%s/%s", dir, project, hex);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_setc(e, CTL_EXIT_USAGE, "%s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

#define NAME_MAX_LEN 256

/* One page of backup_files after cursor: the names copied into names (the
 * response is replaced by the next call), the next cursor or none. */
static int list_page(struct session *s, char *cursor, size_t *cursor_len, char (*names)[NAME_MAX_LEN],
		     size_t *n, bool *more, struct err *e)
{
	const uint8_t *res, *next;
	size_t len, nn;
	struct mp_cur c;
	uint32_t count;
	sess_begin(s, "backup_files", *cursor_len ? 1 : 0);
	if (*cursor_len) {
		mp_pack_cstr(&s->req, "cursor");
		mp_pack_bin(&s->req, cursor, *cursor_len);
	}
	if (sess_call(s, 0, &res, &len, e))
		return -1;
	if (mp_map_find(res, len, "files", &c, NULL) != 1 || mp_get_array(&c, &count, NULL) || count > BACKUP_FILES_MAX)
		return err_setc(e, CTL_EXIT_CONN, "backup_files: no list of at most %d files", BACKUP_FILES_MAX);
	for (*n = 0; *n < count; (*n)++) {
		const char *name;
		size_t k;
		if (mp_get_str(&c, &name, &k, NULL) || k >= NAME_MAX_LEN)
			return err_setc(e, CTL_EXIT_CONN, "backup_files: a name that is not a file's");
		memcpy(names[*n], name, k);
		names[*n][k] = '\0';
	}
	*more = res_has(res, len, "next");
	if (!*more)
		return 0;
	if (res_bin(res, len, "next", &next, &nn, e) || nn == 0 || nn >= NAME_MAX_LEN)
		return err_setc(e, CTL_EXIT_CONN, "backup_files: a bad cursor");
	memcpy(cursor, next, nn);
	*cursor_len = nn;
	return 0;
}

/* The evidence files beside the backup, in OUT.files (as scoped backup
 * writes them, for scoped restore). */
static int fetch_files(struct session *s, const char *out, uint64_t *fetched, struct err *e)
{
	char dir[4200], cursor[NAME_MAX_LEN];
	size_t cursor_len = 0, n = 0;
	bool more = true;
	char (*names)[NAME_MAX_LEN] = malloc(BACKUP_FILES_MAX * sizeof *names);
	if (names == NULL)
		return err_setc(e, CTL_EXIT_USAGE, "out of memory");
	snprintf(dir, sizeof dir, "%s.files", out);
	*fetched = 0;
	int rc = 0;
	while (rc == 0 && more) {
		rc = list_page(s, cursor, &cursor_len, names, &n, &more, e);
		if (rc == 0 && n > 0)
			rc = mkdir_ok(dir, e);
		for (size_t i = 0; rc == 0 && i < n; i++)
			rc = fetch_file(s, dir, names[i], strlen(names[i]), fetched, e);
	}
	free(names);
	return rc;
}

static int do_backup(struct session *s, const struct backup_args *a)
{
	struct err e = { 0 };
	uint64_t size;
	uint8_t sha[32];
	struct out_file o;
	if (wait_ready(s, &size, sha, &e))
		return ctl_report(&e);
	if (out_open(&o, a->output, ".part", 0600, &e)) {
		fprintf(stderr, "scopectl backup: %s\n", e.msg);
		return CTL_EXIT_USAGE;
	}
	int rc = fetch(s, o.fd, size, sha, &e);
	/* the evidence files the ledger holds, each checked by its hash; the
	 * backup is in place only once they all are */
	uint64_t nfiles = 0;
	if (rc == 0 && fetch_files(s, a->output, &nfiles, &e))
		rc = err_prefix(&e, "the evidence files (%s.files is incomplete)", a->output);
	if (rc)
		out_abort(&o);
	else if (out_commit(&o, &e)) {
		e.code = CTL_EXIT_USAGE;
		rc = -1;
	}
	if (rc)
		return ctl_report(&e);
	char hex[65];
	hex_encode(sha, 32, hex);
	printf("backup: %llu bytes in %s, sha256 %s\n"
	       "restore on a server with: scoped restore -c CONFIG %s\n",
	       (unsigned long long)size, a->output, hex, a->output);
	if (nfiles)
		printf("evidence files: %llu in %s.files\n", (unsigned long long)nfiles, a->output);
	return CTL_EXIT_OK;
}

int cmd_backup(int argc, char **argv)
{
	struct profile p;
	struct backup_args a = { NULL };
	int rc = conn_parse_output("backup", argc, argv, &p, &a.output);
	if (rc)
		return rc;
	if (optind != argc || a.output == NULL)
		return usage("needs -o FILE and nothing else");
	struct session s;
	if ((rc = ctl_session_open(&s, &p)) == CTL_EXIT_OK)
		rc = do_backup(&s, &a);
	sess_close(&s);
	return rc;
}
