#include "logger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum log_level threshold = LOG_INFO;

int log_parse_level(const char *s, enum log_level *out)
{
	static const struct { const char *name; enum log_level l; } names[] = {
		{ "error", LOG_ERROR }, { "warn", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].l;
			return 0;
		}
	return -1;
}

void log_set_level(enum log_level l)
{
	threshold = l;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	if (l > threshold)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	/* one event, one line: control characters in quoted peer data (request
	 * ids, names, messages) are flattened, so a peer cannot forge lines or
	 * send terminal escapes */
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	const char *name = l == LOG_ERROR ? "error" : l == LOG_WARN ? "warn" : l == LOG_INFO ? "info" : "debug";
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>%s\n", (int)l, line);
	else
		fprintf(stderr, "scoped: %s: %s\n", name, line);
}
