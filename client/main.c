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
	"Connection (every command that talks to scoped): --config FILE (a profile from\n"
	"scoped init; or $SCOPECTL_CONFIG), overridden by --server HOST:PORT, --server-name\n"
	"NAME, --cert FILE, --key FILE, --ca FILE, --trust KEY (repeatable). --json prints\n"
	"JSON for scripts. Every proof and checkpoint received is verified.\n"
	"\n"
	"Recording (each prints what was recorded; --receipt FILE keeps the entry, its\n"
	"proof and the signed checkpoint; --request-id ID makes a retry safe):\n"
	"  project create ID --client NAME --title TEXT --currency CODE --amount AMOUNT\n"
	"        [--type fixed|tm] [--acceptance-days N] [--vendor-lead NAME]\n"
	"        [--client-lead NAME] [--doc FILE...]\n"
	"  baseline add -p ID --item KEY=TEXT... [--doc FILE...] [--rule TEXT]\n"
	"  change raise -p ID TITLE --by NAME --via meeting|phone|email|chat|other\n"
	"        --reason client_request|design_development|baseline_ambiguity|defect|\n"
	"                 regulatory|vendor_proposal\n"
	"        [--items KEY,...] [--proceeding] [--occurred TIME]\n"
	"        [--description TEXT | --text-file F | --edit]\n"
	"  change assess -p ID CR-N --class in_scope|minor_revision|out_of_scope|unfounded\n"
	"        --rationale TEXT [--cites SEQ,...]\n"
	"  change quote -p ID CR-N --fee AMOUNT --effort-hours H [--tax AMOUNT]\n"
	"        [--schedule-days D] [--valid-until YYYY-MM-DD] [--doc FILE]\n"
	"  respond -p ID (--change CR-N [--quote REV] | --baseline V)\n"
	"        --decision approved|rejected|revise --by NAME [--title TEXT] --via CHANNEL\n"
	"        [--evidence FILE] [--reason TEXT]\n"
	"  evidence -p ID RESPONSE-SEQ FILE [--description TEXT]\n"
	"  invoice -p ID NUMBER --change CR-N=AMOUNT...\n"
	"  payment -p ID NUMBER --amount AMOUNT --date YYYY-MM-DD\n"
	"  void -p ID SEQ --reason TEXT\n"
	"  append --project P --kind K (--body-json JSON | --body-file F) [--request-id ID]\n"
	"\n"
	"Reading (--json; status and report also --csv):\n"
	"  status PROJECT                        contract value, changes, open quotes, ...\n"
	"  report unbilled|exposure [--project P]\n"
	"  history PROJECT [--change CR-N]\n"
	"  log [--project P] [--from A] [--to B]    get SEQ    info    checkpoint\n"
	"  prove SEQ [--size N]                  consistency OLD [NEW]\n"
	"  export [--from A] [--to B] [--format hex|raw] -o FILE\n"
	"\n"
	"Verifying:\n"
	"  verify                                fetch everything and check it\n"
	"  verify --export FILE --checkpoint FILE --trust KEY      offline\n"
	"  verify --proof FILE --checkpoint FILE --trust KEY [--entry FILE]\n"
	"  verify --receipt FILE --trust KEY\n"
	"\n"
	"KEY is a verifier key (name+id+key) or a file holding one.\n"
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
