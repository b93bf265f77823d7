#include "resume.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "enc.h"
#include "fileio.h"
#include "state.h"

#define TICKET_MAX 16384

static void digest_file(EVP_MD_CTX *md, const char *path)
{
	struct buf b;
	buf_init(&b);
	if (read_file(path, 1u << 20, &b, NULL) == 0)
		EVP_DigestUpdate(md, b.data, b.len);
	buf_free(&b);
	EVP_DigestUpdate(md, "\n", 1);
}

int resume_path(const struct profile *p, char *out, size_t n)
{
	unsigned char h[32];
	unsigned int hl = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	EVP_DigestUpdate(md, p->host, strlen(p->host));
	EVP_DigestUpdate(md, "\n", 1);
	EVP_DigestUpdate(md, p->port, strlen(p->port));
	EVP_DigestUpdate(md, "\n", 1);
	EVP_DigestUpdate(md, p->server_name, strlen(p->server_name));
	EVP_DigestUpdate(md, "\n", 1);
	digest_file(md, p->ca);
	digest_file(md, p->cert);
	digest_file(md, p->key);
	int ok = EVP_DigestFinal_ex(md, h, &hl) == 1 && hl == 32;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	char name[65];
	hex_encode(h, 16, name);
	return state_file(name, ".ticket", out, n, true, NULL);
}

struct ssl_session_st *resume_load(const char *path)
{
	struct buf b;
	buf_init(&b);
	SSL_SESSION *sess = NULL;
	if (read_file(path, TICKET_MAX, &b, NULL) == 0) {
		const unsigned char *p = b.data;
		sess = d2i_SSL_SESSION(NULL, &p, (long)b.len);
	}
	buf_free(&b);
	if (sess && (!SSL_SESSION_is_resumable(sess) ||
		     (time_t)(SSL_SESSION_get_time(sess) + SSL_SESSION_get_timeout(sess)) <= time(NULL))) {
		SSL_SESSION_free(sess);
		sess = NULL;
	}
	return sess;
}

void resume_save(const char *path, struct ssl_session_st *sess)
{
	int n = i2d_SSL_SESSION(sess, NULL);
	if (n <= 0 || n > TICKET_MAX)
		return;
	unsigned char der[TICKET_MAX], *p = der;
	if (i2d_SSL_SESSION(sess, &p) != n)
		return;
	char tmp[4200];
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
		return;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	int ok = write(fd, der, (size_t)n) == n;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0)
		unlink(tmp);
}
