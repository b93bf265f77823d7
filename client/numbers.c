#include "numbers.h"

#include <stdio.h>
#include <string.h>

#include "currency.h"
#include "show.h"

#define HOURS_MAX 10000000u	/* the quote's effort_hours bound */

/* "write ..." for a number typed with separators, or the generic advice. */
static int refuse(const char *opt, const char *s, const char *what)
{
	char plain[48];
	if (number_unseparated(s, plain, sizeof plain))
		fprintf(stderr, "scopectl: %s \"%s\" has thousands separators: write %s\n", opt, showz(s), plain);
	else
		fprintf(stderr, "scopectl: %s \"%s\" must be %s\n", opt, showz(s), what);
	return -1;
}

int number_whole(const char *opt, const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	size_t n = strspn(s, "0123456789");
	if (n == 0 || s[n] || n > 19)
		return refuse(opt, s, "a whole number, e.g. 30");
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	if (x > max) {
		fprintf(stderr, "scopectl: %s %s is more than %llu\n", opt, showz(s), (unsigned long long)max);
		return -1;
	}
	*v = x;
	return 0;
}

int number_hours(const char *opt, const char *s, uint64_t *minutes)
{
	static const char WHAT[] = "hours, whole or decimal, e.g. 120 or 100.5";
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 9 || (s[n] && s[n] != '.'))
		return refuse(opt, s, WHAT);
	uint64_t whole = 0, frac = 0, scale = 1;
	for (size_t i = 0; i < n; i++)
		whole = whole * 10 + (uint64_t)(s[i] - '0');
	if (s[n] == '.') {
		const char *f = s + n + 1;
		size_t k = strspn(f, "0123456789");
		if (k == 0 || f[k] || k > 6)
			return refuse(opt, s, WHAT);
		for (size_t i = 0; i < k; i++) {
			frac = frac * 10 + (uint64_t)(f[i] - '0');
			scale *= 10;
		}
	}
	if (frac * 60 % scale) {
		fprintf(stderr, "scopectl: %s %s is not a whole number of minutes: effort is recorded to the "
			"minute (100.5 is 100 h 30 min, 0.25 is 15 min)\n", opt, showz(s));
		return -1;
	}
	if (whole > HOURS_MAX || (whole == HOURS_MAX && frac)) {
		fprintf(stderr, "scopectl: %s %s is more than %u hours\n", opt, showz(s), HOURS_MAX);
		return -1;
	}
	*minutes = whole * 60 + frac * 60 / scale;
	return 0;
}
