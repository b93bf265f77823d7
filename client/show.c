#include "show.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "text.h"

static const char *escape(const char *s, size_t n, bool lines)
{
	static struct buf ring[SHOW_KEEP];
	static unsigned next;
	struct buf *b = &ring[next++ % SHOW_KEEP];
	buf_reset(b);
	size_t run = 0;
	for (size_t i = 0; i < n;) {
		size_t len;
		uint32_t cp;
		enum text_class k = text_char((const uint8_t *)s + i, n - i, &len, &cp);
		if (k == TEXT_PLAIN || (lines && s[i] == '\n')) {
			i += len;
			continue;
		}
		buf_add(b, s + run, i - run);
		buf_printf(b, k == TEXT_BAD_UTF8 || cp < 0x80 ? "\\x%02x" : "\\u%04x", (unsigned)cp);
		i += len;
		run = i;
	}
	buf_add(b, s + run, n - run);
	return buf_cstr(b);
}

const char *show(const char *s, size_t n)
{
	return escape(s, n, false);
}

const char *showz(const char *s)
{
	return escape(s, strlen(s), false);
}

const char *show_lines(const char *s, size_t n)
{
	return escape(s, n, true);
}

void csv_field(const char *s)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}
