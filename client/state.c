#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int make_dirs(const char *dir, struct err *e)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", dir);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0700);
			*p = '/';
		}
	if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
		return err_set(e, "creating %s: %s", tmp, strerror(errno));
	return 0;
}

int state_file(const char *name, const char *suffix, char *out, size_t n, bool create, struct err *e)
{
	char dir[4096];
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		snprintf(dir, sizeof dir, "%s/scopectl", xdg);
	else if (home && *home)
		snprintf(dir, sizeof dir, "%s/.local/state/scopectl", home);
	else
		return err_set(e, "neither XDG_STATE_HOME nor HOME is set: scopectl has nowhere to keep its state");
	if (create && make_dirs(dir, e))
		return -1;
	char safe[300];
	size_t k = 0;
	for (const char *p = name; *p && k < sizeof safe - 1; p++)
		safe[k++] = (char)((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				   (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ? *p : '_');
	safe[k] = '\0';
	if (snprintf(out, n, "%s/%s%s", dir, safe, suffix) >= (int)n)
		return err_set(e, "state directory path too long");
	return 0;
}
