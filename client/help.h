/*
 * help: scopectl's command documentation, from one table: the --help
 * overview, `scopectl help COMMAND`, and the COMMANDS section of
 * scopectl(1) (`scopectl help --roff`, run by the build).
 */
#ifndef SCOPECTL_HELP_H
#define SCOPECTL_HELP_H

#include <stdio.h>

void help_usage(FILE *f);
/* scopectl help [COMMAND | --roff]; argv[0] is "help". */
int help_main(int argc, char **argv);

#endif
