/*
 * tap.h: a small Test Anything Protocol helper.  One "ok N - description"
 * line per assertion, the plan ("1..N") at the end, exit status 1 if any
 * assertion failed.  Runs under prove (prove -e '' BINARY) and ctest.
 */
#ifndef SCOPE_TAP_H
#define SCOPE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count, tap_failures;

__attribute__((format(printf, 4, 5))) static int tap_ok(int pass, const char *file, int line,
							  const char *fmt, ...)
{
	va_list ap;
	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failures++;
		printf("#   failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                          \
	do {                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);                \
		if (!ok(g_ == w_, __VA_ARGS__))                                         \
			printf("#   got %lld, want %lld\n", g_, w_);                      \
	} while (0)

#define is_str(got, want, ...)                                                          \
	do {                                                                           \
		const char *g_ = (got), *w_ = (want);                                   \
		if (!ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                  \
			printf("#   got  \"%s\"\n#   want \"%s\"\n", g_ ? g_ : "(null)",     \
			       w_ ? w_ : "(null)");                                      \
	} while (0)

/* substring match, for error messages */
#define like(got, part, ...)                                                            \
	do {                                                                           \
		const char *g_ = (got), *p_ = (part);                                   \
		if (!ok(g_ && strstr(g_, p_) != NULL, __VA_ARGS__))                     \
			printf("#   \"%s\"\n#   does not contain \"%s\"\n", g_ ? g_ : "(null)", p_); \
	} while (0)

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static int done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failures)
		printf("# %d of %d assertions failed\n", tap_failures, tap_count);
	return tap_failures ? 1 : (tap_count == 0 ? 1 : 0);
}

#endif
