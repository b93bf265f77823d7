/*
 * args: the options every command shares (connection, --json) may come before the command as well as after it, as with git and
 * kubectl.  args_hoist moves the ones before the command to just after it,
 * so each command's own parser sees them as usual.
 */
#ifndef SCOPECTL_ARGS_H
#define SCOPECTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --utc: times are printed in UTC (Z) instead of local time with its offset. */
extern bool args_utc;
/* --wide: tables show every text whole instead of fitting 80 columns. */
extern bool args_wide;

/* argv[1..] may start with shared options; on return argv[1] is the
 * command (or what stands there) and the shared options follow it.  0, or
 * -1 when a shared option before the command lacks its value or an
 * unknown option stands there (the message says which). */
int args_hoist(int *argc, char **argv);
/* A time for people: local (or UTC with --utc), to the second. */
void args_time(uint64_t us, char out[40]);

#endif
