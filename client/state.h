/*
 * state: where scopectl keeps what it remembers between runs
 * ($XDG_STATE_HOME/scopectl, else ~/.local/state/scopectl, mode 0700):
 * the last checkpoint per log (witness.c) and TLS session tickets
 * (resume.c).
 */
#ifndef SCOPECTL_STATE_H
#define SCOPECTL_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* out = STATE_DIR/NAME SUFFIX, with NAME reduced to [A-Za-z0-9.-] (others
 * become '_'); with create the directory is made (0700) if missing. */
int state_file(const char *name, const char *suffix, char *out, size_t n, bool create, struct err *e);

#endif
