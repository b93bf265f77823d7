#include "signer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *ossl_reason(void)
{
	unsigned long code = ERR_get_error();
	const char *r = code ? ERR_reason_error_string(code) : NULL;
	ERR_clear_error();
	return r ? r : "unknown OpenSSL error";
}

int signer_generate(const char *path, struct err *e)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pk == NULL)
		return err_set(e, "generating Ed25519 key: %s", ossl_reason());
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		EVP_PKEY_free(pk);
		return err_set(e, "creating key file %s: %s", path, strerror(errno));
	}
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		close(fd);
		EVP_PKEY_free(pk);
		return err_set(e, "creating key file %s: %s", path, strerror(errno));
	}
	int ok = PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1;
	EVP_PKEY_free(pk);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		unlink(path);
		return err_set(e, "writing key file %s failed", path);
	}
	return 0;
}

int signer_load(struct note_signer *s, const char *path, const char *name, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "signing key %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, "signing key %s is not a regular file", path);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return err_set(e, "signing key %s is accessible by group or others (mode %03o); "
			       "run: chmod 600 %s", path, (unsigned)(st.st_mode & 0777), path);
	}
	FILE *f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return err_set(e, "signing key %s: %s", path, strerror(errno));
	}
	EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (pk == NULL)
		return err_set(e, "signing key %s: not a PEM private key (%s)", path, ossl_reason());
	if (note_signer_from_pkey(s, name, pk, e))
		return err_prefix(e, "signing key %s", path);
	return 0;
}
