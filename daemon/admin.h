/*
 * admin: the subcommands that work on a data directory directly, without
 * the network: init, append, get, checkpoint, prove, consistency, export,
 * verify, config.  Each takes argc/argv from after the subcommand name and
 * returns a process exit code (see EXIT_* below).
 */
#ifndef SCOPE_ADMIN_H
#define SCOPE_ADMIN_H

enum {
	EXIT_OK = 0,
	EXIT_VERIFY = 1,	/* verification failed */
	EXIT_USAGE = 2,		/* bad command line or configuration */
	EXIT_REFUSED = 4,	/* the ledger refused the request */
	EXIT_ERROR = 5,		/* storage or system error */
};

int admin_init(int argc, char **argv);
int admin_append(int argc, char **argv);
int admin_get(int argc, char **argv);
int admin_checkpoint(int argc, char **argv);
int admin_prove(int argc, char **argv);
int admin_consistency(int argc, char **argv);
int admin_export(int argc, char **argv);
int admin_verify(int argc, char **argv);
int admin_config(int argc, char **argv);
int admin_reindex(int argc, char **argv);
int admin_backup(int argc, char **argv);
int admin_restore(int argc, char **argv);
int admin_keygen(int argc, char **argv);

#endif
