/*
 * scopectl: the Scope Ledger client.  This version verifies offline: an
 * export against a signed checkpoint, or an inclusion proof against one.
 * Exit codes: 0 ok, 1 verification failed, 2 usage, 3 connection/TLS,
 * 4 refused by the server.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "offline.h"
#include "online.h"
#include "orders.h"
#include "views.h"

static const char USAGE[] =
	"usage: scopectl COMMAND [OPTIONS]\n"
	"\n"
	"Commands:\n"
	"  verify --export FILE --checkpoint FILE --trust KEY [--json]\n"
	"      check every entry of an export (hex or raw): canonical encoding, sequence,\n"
	"      hash chain, commit times, and the Merkle root against the signed checkpoint\n"
	"  verify --proof FILE --checkpoint FILE --trust KEY [--entry FILE]\n"
	"      check an inclusion proof (JSON) against the signed checkpoint; with --entry,\n"
	"      also that the entry (hex line or raw bytes) is the proven leaf\n"
	"\n"
	"KEY is a verifier key (name+id+key) or a file holding one; --trust may repeat.\n"
	"Options: -h, --help; -V, --version.\n"
	"Exit codes: 0 ok, 1 verification failed, 2 usage, 3 connection/TLS, 4 refused.\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(USAGE, stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(USAGE, stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("scopectl %s\n", SCOPE_VERSION);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0) {
		for (int i = 2; i < argc; i++)
			if (strncmp(argv[i], "--export", 8) == 0 || strncmp(argv[i], "--proof", 7) == 0 ||
			    strncmp(argv[i], "--receipt", 9) == 0)
				return cmd_verify_offline(argc - 1, argv + 1);
	}
	static const char *const orders[] = { "project", "baseline", "change", "respond", "evidence",
					      "invoice", "payment", "void" };
	for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
		if (strcmp(argv[1], orders[i]) == 0)
			return cmd_orders(argv[1], argc - 1, argv + 1);
	static const char *const views[] = { "status", "report", "history" };
	for (size_t i = 0; i < sizeof views / sizeof views[0]; i++)
		if (strcmp(argv[1], views[i]) == 0)
			return cmd_views(argv[1], argc - 1, argv + 1);
	static const char *const online[] = { "append", "get", "log", "checkpoint", "prove",
					      "consistency", "export", "verify", "info" };
	for (size_t i = 0; i < sizeof online / sizeof online[0]; i++)
		if (strcmp(argv[1], online[i]) == 0)
			return cmd_online(argv[1], argc - 1, argv + 1);
	fprintf(stderr, "scopectl: unknown command \"%s\" (see scopectl --help)\n", argv[1]);
	return CTL_EXIT_USAGE;
}
