/*
 * numbers: the whole numbers and hours typed as option values.  Each
 * error names the option and says what to write instead.
 */
#ifndef SCOPECTL_NUMBERS_H
#define SCOPECTL_NUMBERS_H

#include <stdint.h>

/* A whole number 0..max for opt; -1 after printing why not. */
int number_whole(const char *opt, const char *s, uint64_t max, uint64_t *v);
/* Hours, whole or decimal ("100.5"), to the minute: -> minutes; -1 after
 * printing why not. */
int number_hours(const char *opt, const char *s, uint64_t *minutes);

#endif
