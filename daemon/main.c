/*
 * scoped: the Scope Ledger daemon.  This file only parses the command line
 * and hands over to the subcommand.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include <getopt.h>
#include <stdlib.h>

#include "server.h"
#include "witness.h"

static const char USAGE[] =
	"usage: scoped [-c FILE] [--listen HOST:PORT] [--log-level LEVEL]\n"
	"       scoped COMMAND [OPTIONS]\n"
	"\n"
	"Without a command, scoped serves the ledger over mutual TLS in the foreground\n"
	"(configuration from -c FILE or $SCOPED_CONFIG; SIGTERM stops it cleanly after\n"
	"committing in-flight appends; SIGHUP re-reads the configuration: certificates,\n"
	"CRL, roles, limits, log level).\n"
	"\n"
	"Keeps Scope Ledger's append-only, hash-chained and Merkle-tree ledger in LMDB\n"
	"and signs its checkpoints (C2SP tlog-checkpoint, Ed25519).\n"
	"\n"
	"Commands (each takes -c FILE, or $SCOPED_CONFIG, for the configuration):\n"
	"  init DIR [--origin NAME] [--listen HOST:PORT] [--client-project P]...\n"
	"                                create an instance: config, data dir, signing key,\n"
	"                                a private CA, server and per-role client certificates\n"
	"                                and client profiles (DIR/clients/ROLE.conf); the client\n"
	"                                certificate gets only the projects P (none without)\n"
	"  keygen FILE [--origin NAME]   a new Ed25519 signing key (mode 0600); prints its\n"
	"                                verifier key (the origin comes from -c FILE if given)\n"
	"  append --project P --kind K (--body-json JSON | --body-file FILE)\n"
	"         [--request-id ID] [--author NAME] [--json]\n"
	"                                append one entry locally (author \"local:NAME\")\n"
	"  get SEQ [--json | --hex]      show one entry\n"
	"  checkpoint                    print the latest signed checkpoint\n"
	"  prove SEQ [--size N]          inclusion proof (JSON) for entry SEQ\n"
	"  consistency OLD [NEW]         consistency proof (JSON) between tree sizes\n"
	"  export [--from A] [--to B] [--format hex|raw] -o FILE\n"
	"                                write entries exactly as hashed\n"
	"  verify [--json] [--no-files]  recompute and check everything stored (--no-files: not\n"
	"                                the evidence files)\n"
	"  config                        print the effective configuration\n"
	"  reindex                       rebuild the derived state (status, reports) from the log\n"
	"  backup -o FILE                a consistent, compacted copy of the ledger (LMDB),\n"
	"                                taken while the daemon runs and writes; the evidence\n"
	"                                files go to FILE.files\n"
	"  restore FILE                  put a backup in place as data_dir (which must hold no\n"
	"                                ledger) and verify everything in it\n"
	"  witness -c FILE | witness init DIR --name NAME\n"
	"                                run (or create) a C2SP tlog-witness that cosigns\n"
	"                                logs' checkpoints (see scoped witness --help)\n"
	"  follow --from URL [--listen HOST:PORT]\n"
	"                                serve a verified read-only copy of the primary whose tiles\n"
	"                                listener is URL (follow_trust, follow_cert: scoped.conf(5));\n"
	"                                appends are refused; a fork stops it (scoped(8), FOLLOWERS)\n"
	"\n"
	"Options: -h, --help; -V, --version.\n"
	"Exit codes: 0 ok, 1 verification failed, 2 usage or configuration error,\n"
	"4 request refused by the ledger, 5 storage or system error.\n";

static int follow_cmd(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int, char **);
} COMMANDS[] = {
	{ "init", admin_init },
	{ "append", admin_append },
	{ "get", admin_get },
	{ "checkpoint", admin_checkpoint },
	{ "prove", admin_prove },
	{ "consistency", admin_consistency },
	{ "export", admin_export },
	{ "verify", admin_verify },
	{ "config", admin_config },
	{ "reindex", admin_reindex },
	{ "backup", admin_backup },
	{ "restore", admin_restore },
	{ "keygen", admin_keygen },
	{ "witness", witness_main },
	{ "follow", follow_cmd },
};

#ifdef SCOPE_TEST_CLOCK
/* The test build only (scoped-testclock, never installed): the clock runs
 * SCOPED_TEST_CLOCK_OFFSET_S seconds ahead, so tests see inspection
 * deadlines pass without waiting days (tests/README.md). */
#include <time.h>
static uint64_t offset_us;

static uint64_t test_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + offset_us;
}

static uint64_t (*clock_of_tests(void))(void)
{
	const char *s = getenv("SCOPED_TEST_CLOCK_OFFSET_S");
	offset_us = s ? strtoull(s, NULL, 10) * 1000000u : 0;
	return test_clock;
}
#define CLOCK clock_of_tests()
/* and an upload's write past SCOPED_TEST_FILES_FAIL_AT bytes fails as a full disk would */
#define FILES_FAIL_AT (getenv("SCOPED_TEST_FILES_FAIL_AT") ? strtoull(getenv("SCOPED_TEST_FILES_FAIL_AT"), NULL, 10) : 0)
/* the writer thread holds each batch SCOPED_TEST_COMMIT_HOLD_MS after its
 * commit, before handing it back (reads go on meanwhile), and commit SCOPED_TEST_COMMIT_FAIL_AT
 * (1 = the first) fails as a failed sync would */
#define ENV_U64(name) (getenv(name) ? strtoull(getenv(name), NULL, 10) : 0)
#define COMMIT_HOLD_US (ENV_U64("SCOPED_TEST_COMMIT_HOLD_MS") * 1000u)
#define COMMIT_FAIL_AT ((unsigned)ENV_U64("SCOPED_TEST_COMMIT_FAIL_AT"))
#else
#define CLOCK NULL
#define FILES_FAIL_AT 0
#define COMMIT_HOLD_US 0
#define COMMIT_FAIL_AT 0
#endif

/* Serves the ledger; with follow, a follower's copy of the primary --from URL. */
static int serve_as(int argc, char **argv, bool following)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "from", required_argument, NULL, 'f' },
		{ 0, 0, 0, 0 },
	};
	struct server_overrides ov = { NULL, NULL, CLOCK, FILES_FAIL_AT, NULL, COMMIT_HOLD_US, COMMIT_FAIL_AT };
	const char *conf = getenv("SCOPED_CONFIG");
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'l': ov.listen = optarg; break;
		case 'L': ov.log_level = optarg; break;
		case 'f': ov.follow_from = optarg; break;
		default: fputs(USAGE, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || conf == NULL || !*conf) {
		fprintf(stderr, "scoped: give the configuration with -c FILE (see scoped --help)\n");
		return EXIT_USAGE;
	}
	if (following != (ov.follow_from != NULL)) {
		fprintf(stderr, "scoped: %s\n", following ? "scoped follow needs --from URL, the primary's tiles "
			"listener (https://HOST:PORT)" : "--from belongs to scoped follow");
		return EXIT_USAGE;
	}
	return server_main(conf, &ov);
}

static int serve(int argc, char **argv) { return serve_as(argc, argv, false); }
static int follow_cmd(int argc, char **argv) { return serve_as(argc, argv, true); }

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(USAGE, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("scoped %s\n", SCOPE_VERSION);
		return EXIT_OK;
	}
	if (argv[1][0] == '-')
		return serve(argc, argv);
	if (strcmp(argv[1], "serve") == 0)
		return serve(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
		if (strcmp(argv[1], COMMANDS[i].name) == 0)
			return COMMANDS[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "scoped: unknown command \"%s\" (see scoped --help)\n", argv[1]);
	return EXIT_USAGE;
}
