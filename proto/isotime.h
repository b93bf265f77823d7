/*
 * isotime: the times people type and read.  ISO 8601 / RFC 3339 in: a bare
 * date (YYYY-MM-DD, midnight local time), a local time
 * (YYYY-MM-DDTHH:MM[:SS[.ffffff]]), or either with Z or an offset
 * (+09:00, +0900, +09).  Out: local time with its offset, or UTC with Z.
 */
#ifndef SCOPE_ISOTIME_H
#define SCOPE_ISOTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The calendar date YYYY-MM-DD (1970 on) is a real one. */
bool time_date_ok(const char *s, size_t n);
/* s -> microseconds since 1970 UTC; -1 if s is not such a time. */
int time_parse(const char *s, uint64_t *us);
/* s (a date, or a time as above) -> the date it names, as written:
 * "2025-06-03T23:30:00+09:00" is 2025-06-03.  -1 if it is not one. */
int time_parse_date(const char *s, char out[11]);
/* "2025-06-03T10:30:00+09:00" in the local time zone, or
 * "2025-06-03T01:30:00Z" with utc; micro adds ".ffffff" after the seconds. */
void time_format(uint64_t us, bool utc, bool micro, char out[40]);
/* A date YYYY-MM-DD (time_date_ok) -> days since 1970-01-01; and back. */
int64_t time_date_days(const char *s);
void time_days_date(int64_t days, char out[11]);
/* Today's date in the local time zone. */
void time_today(char out[11]);

#endif
