/*
 * tmpdir.h: a unit test's scratch directory under $TMPDIR (else /tmp), a
 * signing key made in it, and its removal.  Included by one test file
 * each; everything is static.
 */
#ifndef SCOPE_TEST_TMPDIR_H
#define SCOPE_TEST_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

#include "note.h"
#include "signer.h"

/* Makes dir (n bytes) as TMPDIR/NAME-XXXXXX with a key for origin in it;
 * 0, or -1 with the reason printed. */
static int tmpdir_make(char *dir, size_t n, const char *name, const char *origin, struct note_signer *s)
{
	struct err e = { 0 };
	const char *tmp = getenv("TMPDIR");
	char kp[600];
	snprintf(dir, n, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(kp, sizeof kp, "%s/signing.key", dir);
	if (signer_generate(kp, &e) || signer_load(s, kp, origin, &e)) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	return 0;
}

static int tmpdir_remove(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

#endif
