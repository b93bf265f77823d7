/*
 * scoped: the Scope Ledger daemon.  This file only parses the command line
 * and hands over to the subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"

static const char USAGE[] =
	"usage: scoped COMMAND [OPTIONS]\n"
	"\n"
	"Keeps Scope Ledger's append-only, hash-chained and Merkle-tree ledger in LMDB\n"
	"and signs its checkpoints (C2SP tlog-checkpoint, Ed25519).\n"
	"\n"
	"Commands (each takes -c FILE, or $SCOPED_CONFIG, for the configuration):\n"
	"  init DIR [--origin NAME]      create an instance: config, data dir, signing key\n"
	"  append --project P --kind K (--body-json JSON | --body-file FILE)\n"
	"         [--request-id ID] [--author NAME] [--json]\n"
	"                                append one entry locally (author \"local:NAME\")\n"
	"  get SEQ [--json | --hex]      show one entry\n"
	"  checkpoint                    print the latest signed checkpoint\n"
	"  prove SEQ [--size N]          inclusion proof (JSON) for entry SEQ\n"
	"  consistency OLD [NEW]         consistency proof (JSON) between tree sizes\n"
	"  export [--from A] [--to B] [--format hex|raw] -o FILE\n"
	"                                write entries exactly as hashed\n"
	"  verify [--json]               recompute and check everything stored\n"
	"  config                        print the effective configuration\n"
	"\n"
	"Options: -h, --help; -V, --version.\n"
	"Exit codes: 0 ok, 1 verification failed, 2 usage or configuration error,\n"
	"4 request refused by the ledger, 5 storage or system error.\n";

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
};

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
	for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
		if (strcmp(argv[1], COMMANDS[i].name) == 0)
			return COMMANDS[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "scoped: unknown command \"%s\" (see scoped --help)\n", argv[1]);
	return EXIT_USAGE;
}
