#include "args.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "isotime.h"
#include "online.h"
#include "show.h"

/* The shared options; CONN_LONGOPTS is the one list of connection options. */
static const struct option SHARED[] = {
	CONN_LONGOPTS,
	{ "json", no_argument, NULL, 'j' },
	{ "utc", no_argument, NULL, 'u' },
	{ "wide", no_argument, NULL, 'w' },
	{ 0, 0, 0, 0 },
};

/* How many argv slots the shared option at arg takes (1 or 2), 0 if it is
 * not one. */
static int shared_width(const char *arg)
{
	if (strcmp(arg, "-c") == 0)
		return 2;
	if (strncmp(arg, "-c", 2) == 0)
		return 1;
	if (strncmp(arg, "--", 2) != 0)
		return 0;
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	for (const struct option *o = SHARED; o->name; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o->has_arg == required_argument && name[n] != '=' ? 2 : 1;
	return 0;
}

bool args_utc, args_wide;

void args_time(uint64_t us, char out[40])
{
	time_format(us, args_utc, false, out);
}

/* Takes the display options out of argv, up to a "--". */
static void take_display(int *argc, char **argv)
{
	int w = 1;
	bool rest = false;
	for (int r = 1; r < *argc; r++) {
		if (!rest && strcmp(argv[r], "--utc") == 0) {
			args_utc = true;
			continue;
		}
		if (!rest && strcmp(argv[r], "--wide") == 0) {
			args_wide = true;
			continue;
		}
		rest = rest || strcmp(argv[r], "--") == 0;
		argv[w++] = argv[r];
	}
	*argc = w;
	argv[w] = NULL;
}

int args_hoist(int *argcp, char **argv)
{
	take_display(argcp, argv);
	int argc = *argcp, first = 1;
	while (first < argc && argv[first][0] == '-') {
		if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0 ||
		    strcmp(argv[first], "-V") == 0 || strcmp(argv[first], "--version") == 0)
			break;
		int w = shared_width(argv[first]);
		if (w == 0) {
			fprintf(stderr, "scopectl: \"%s\" before the command is not a connection option, "
				"--json, --utc or --wide; put the command first (see scopectl --help)\n",
				showz(argv[first]));
			return -1;
		}
		if (first + w > argc) {
			fprintf(stderr, "scopectl: %s needs a value\n", showz(argv[first]));
			return -1;
		}
		first += w;
	}
	if (first == 1)
		return 0;
	if (first == argc) {
		fprintf(stderr, "scopectl: no command after the options (see scopectl --help)\n");
		return -1;
	}
	/* rotate: the command to argv[1], the shared options after it */
	char *cmd = argv[first];
	memmove(argv + 2, argv + 1, (size_t)(first - 1) * sizeof *argv);
	argv[1] = cmd;
	return 0;
}
