#include "text.h"

#include <stdbool.h>
#include <string.h>

#include "mp.h"

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

enum text_class text_char(const uint8_t *p, size_t n, size_t *len, uint32_t *cp)
{
	uint8_t c = p[0];
	size_t l = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 :
		   c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	if (l == 0 || l > n || !utf8_valid(p, l)) {
		*len = 1;
		*cp = c;
		return TEXT_BAD_UTF8;
	}
	uint32_t v = l == 1 ? c : (uint32_t)(c & (0x7f >> l));
	for (size_t k = 1; k < l; k++)
		v = v << 6 | (p[k] & 0x3f);
	*len = l;
	*cp = v;
	return is_control(v) ? TEXT_CONTROL : TEXT_PLAIN;
}

void text_put_shown(struct buf *out, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n && i < 64; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			buf_addc(out, (char)s[i]);
		else
			buf_printf(out, "\\x%02x", s[i]);
	}
	if (n > 64)
		buf_adds(out, "...");
}

const char *text_article(const char *word, size_t n)
{
	return n && strchr("aeiouAEIOU", word[0]) ? "an" : "a";
}
