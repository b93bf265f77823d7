#include "err.h"

#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 2, 0)))
static void vset(struct err *e, const char *fmt, va_list ap)
{
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

int err_set(struct err *e, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vset(e, fmt, ap);
	va_end(ap);
	return -1;
}

int err_setc(struct err *e, int code, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vset(e, fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	if (e == NULL)
		return -1;
	char old[ERR_MSG_MAX], pre[ERR_MSG_MAX];
	memcpy(old, e->msg, sizeof old);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof pre, fmt, ap);
	va_end(ap);
	snprintf(e->msg, sizeof e->msg, "%.200s: %.300s", pre, old);
	return -1;
}

void err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
