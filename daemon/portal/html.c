#include "html.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "currency.h"
#include "i18n.h"
#include "text.h"

void html_esc(struct buf *b, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;
	while (i < n) {
		size_t len;
		uint32_t cp;
		enum text_class cls = text_char(p + i, n - i, &len, &cp);
		if (cls != TEXT_PLAIN && cp != '\n' && cp != '\t') {
			buf_adds(b, "\xef\xbf\xbd");
		} else {
			switch (cp) {
			case '&': buf_adds(b, "&amp;"); break;
			case '<': buf_adds(b, "&lt;"); break;
			case '>': buf_adds(b, "&gt;"); break;
			case '"': buf_adds(b, "&quot;"); break;
			case '\'': buf_adds(b, "&#39;"); break;
			default: buf_add(b, p + i, len); break;
			}
		}
		i += len;
	}
}

void html_escs(struct buf *b, const char *s)
{
	html_esc(b, s, strlen(s));
}

void html_open(struct buf *b, enum page_lang lang, const char *title, const char *base)
{
	buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<meta name=\"referrer\" content=\"no-referrer\">\n", page_lang_code(lang));
	if (base) {
		buf_adds(b, "<base href=\"");
		html_escs(b, base);
		buf_adds(b, "\">\n");
	}
	buf_adds(b, "<title>");
	html_escs(b, title);
	buf_adds(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/portal.css\">\n</head>\n<body>\n");
}

void html_close(struct buf *b)
{
	buf_adds(b, "</body>\n</html>\n");
}

void html_lang_switch(struct buf *b, enum page_lang lang, const char *path)
{
	static const struct {
		enum page_lang l;
		const char *code, *name;
	} L[] = { { PAGE_JA, "ja", "日本語" }, { PAGE_EN, "en", "English" } };
	buf_adds(b, "<nav class=\"lang\" aria-label=\"");
	html_escs(b, tr(lang, "lang.switch"));
	buf_adds(b, "\">");
	for (size_t i = 0; i < 2; i++) {
		if (L[i].l == lang) {
			buf_printf(b, "<strong lang=\"%s\">%s</strong>", L[i].code, L[i].name);
			continue;
		}
		buf_adds(b, "<a href=\"");
		html_escs(b, path);
		buf_printf(b, "?lang=%s\" hreflang=\"%s\" lang=\"%s\">%s</a>", L[i].code, L[i].code, L[i].code,
			   L[i].name);
	}
	buf_adds(b, "</nav>\n");
}

void html_money(struct buf *b, enum page_lang lang, uint64_t minor, uint64_t exponent, const char *currency)
{
	char num[48], out[72];
	amount_format(minor, (int)exponent, num, sizeof num);
	size_t whole = strcspn(num, "."), w = 0;
	for (size_t i = 0; i < whole && w < sizeof out - 2; i++) {
		if (i && (whole - i) % 3 == 0)
			out[w++] = ',';
		out[w++] = num[i];
	}
	snprintf(out + w, sizeof out - w, "%s", num + whole);
	buf_adds(b, out);
	/* yen as Japanese writes it: 220,000円 */
	if (lang == PAGE_JA && strcmp(currency, "JPY") == 0) {
		buf_adds(b, "円");
		return;
	}
	buf_addc(b, ' ');
	html_escs(b, currency);
}

void html_time(struct buf *b, enum page_lang lang, uint64_t us)
{
	time_t secs = (time_t)(us / 1000000) + (lang == PAGE_JA ? 9 * 3600 : 0);
	struct tm tm;
	char out[64];
	if (gmtime_r(&secs, &tm) == NULL) {
		buf_printf(b, "%llu", (unsigned long long)us);
		return;
	}
	if (lang == PAGE_JA)
		snprintf(out, sizeof out, "%d年%d月%d日 %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min);
	else
		strftime(out, sizeof out, "%Y-%m-%d %H:%M", &tm);
	buf_adds(b, out);
	buf_adds(b, tr(lang, "time.zone"));
}

void html_dt(struct buf *b, const char *label)
{
	buf_adds(b, "<dt>");
	html_escs(b, label);
	buf_adds(b, "</dt><dd>");
}

void html_dd_end(struct buf *b)
{
	buf_adds(b, "</dd>\n");
}

void html_fact(struct buf *b, const char *label, const char *s, size_t n)
{
	html_dt(b, label);
	html_esc(b, s, n);
	html_dd_end(b);
}
