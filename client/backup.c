#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enc.h"
#include "mp.h"
#include "offline.h"
#include "online.h"
#include "result.h"

#define CHUNK (1u << 20)	/* bytes asked for per backup_read; the server may cap it */
#define POLL_MS 100

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

static int do_backup(struct session *s, const struct backup_args *a)
{
	struct err e = { 0 };
	uint64_t size;
	uint8_t sha[32];
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.part", a->output);
	if (wait_ready(s, &size, sha, &e))
		return ctl_report(&e);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "scopectl backup: %s: %s\n", tmp, strerror(errno));
		return CTL_EXIT_USAGE;
	}
	int rc = fetch(s, fd, size, sha, &e);
	if (rc == 0 && fsync(fd) != 0)
		rc = err_setc(&e, CTL_EXIT_USAGE, "%s: %s", tmp, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = err_setc(&e, CTL_EXIT_USAGE, "%s: %s", tmp, strerror(errno));
	if (rc == 0 && rename(tmp, a->output) != 0)
		rc = err_setc(&e, CTL_EXIT_USAGE, "%s: %s", a->output, strerror(errno));
	if (rc) {
		unlink(tmp);
		return ctl_report(&e);
	}
	char hex[65];
	hex_encode(sha, 32, hex);
	printf("backup: %llu bytes in %s, sha256 %s\n"
	       "restore on a server with: scoped restore -c CONFIG %s\n",
	       (unsigned long long)size, a->output, hex, a->output);
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
