/*
 * scopectl: the Scope Ledger client.  This file only dispatches to the
 * command families; help.c documents them.  Exit codes: 0 ok, 1
 * verification failed, 2 usage, 3 connection/TLS, 4 refused by the server.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "backup.h"
#include "cases.h"
#include "dossier.h"
#include "help.h"
#include "links.h"
#include "lists.h"
#include "offline.h"
#include "online.h"
#include "orders.h"
#include "receipt.h"
#include "show.h"
#include "views.h"

int main(int argc, char **argv)
{
	if (args_hoist(&argc, argv))
		return CTL_EXIT_USAGE;
	if (argc < 2) {
		help_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		help_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0)
		return help_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("scopectl %s\n", SCOPE_VERSION);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0) {
		for (int i = 2; i < argc; i++)
			if (strncmp(argv[i], "--export", 8) == 0 || strncmp(argv[i], "--proof", 7) == 0 ||
			    strncmp(argv[i], "--receipt", 9) == 0 || strncmp(argv[i], "--dossier", 9) == 0)
				return cmd_verify_offline(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "dossier") == 0)
		return cmd_dossier(argc - 1, argv + 1);
	if (strcmp(argv[1], "backup") == 0)
		return cmd_backup(argc - 1, argv + 1);
	if (strcmp(argv[1], "projects") == 0)
		return cmd_projects(argc - 1, argv + 1);
	if (strcmp(argv[1], "receipt") == 0)
		return cmd_receipt(argc - 1, argv + 1);
	if (strcmp(argv[1], "change") == 0 && argc > 2 && (strcmp(argv[2], "list") == 0 || strcmp(argv[2], "show") == 0))
		return cmd_views(strcmp(argv[2], "list") == 0 ? "change list" : "change show", argc - 2, argv + 2);
	if (strcmp(argv[1], "case") == 0 && argc > 2 && strcmp(argv[2], "risk") == 0)
		return cmd_views("case risk", argc - 2, argv + 2);
	if (strcmp(argv[1], "case") == 0)
		return cmd_case(argc - 1, argv + 1);
	if (strcmp(argv[1], "link") == 0)
		return cmd_link(argc - 1, argv + 1);
	static const char *const orders[] = { "project", "baseline", "change", "respond", "evidence",
					      "invoice", "payment", "void", "amendment", "signatory", "correct",
					      "delivery", "accept", "agreement", "notice" };
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
	fprintf(stderr, "scopectl: unknown command \"%s\" (see scopectl --help)\n", showz(argv[1]));
	return CTL_EXIT_USAGE;
}
