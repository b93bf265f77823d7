/*
 * err: one human-readable error message, filled by the first failure.
 *
 * Every fallible function in proto/ and daemon/ takes a `struct err *` and
 * returns 0 on success or -1 on failure.  The message names what is wrong
 * ("entry 17: prev does not match ...") so it can be shown to a person as is.
 * A NULL `struct err *` is allowed and discards the message.
 */
#ifndef SCOPE_ERR_H
#define SCOPE_ERR_H

#include <stdarg.h>

#define ERR_MSG_MAX 512

struct err {
	int code;		/* optional machine-readable code, 0 if unset */
	char msg[ERR_MSG_MAX];
};

/* Sets the message (printf-style); returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Same, with a code. */
int err_setc(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes the existing message: "<prefix>: <old message>". */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

#endif
