/*
 * currency: ISO 4217 codes Scope Ledger accepts, with the exponent of
 * their minor unit (JPY 0, USD 2, KWD 3), and amounts as decimal text.
 */
#ifndef SCOPE_CURRENCY_H
#define SCOPE_CURRENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CURRENCY_COUNT 39	/* the codes below; a report's totals hold one each */
extern const char *const CURRENCY_CODES[];	/* NULL-terminated */

/* The minor-unit exponent, or -1 for a code we do not know. */
int currency_exponent(const char *code, size_t n);
/* "1234.50" in USD -> 123450.  Refuses signs, more decimals than the
 * currency has, and values above 10^15 minor units. */
int amount_parse(const char *text, int exponent, uint64_t *minor, struct err *e);
/* "1,500,000" (or "1,500,000.50") -> "1500000": the number written with
 * thousands separators, without them; false if text is not one. */
bool number_unseparated(const char *text, char *out, size_t n);
/* 123450, 2 -> "1234.50" */
void amount_format(uint64_t minor, int exponent, char *out, size_t n);

#endif
