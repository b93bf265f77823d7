#include "currency.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *code;
	int exp;
} TABLE[] = {
	{ "AED", 2 }, { "AUD", 2 }, { "BHD", 3 }, { "BRL", 2 }, { "CAD", 2 }, { "CHF", 2 },
	{ "CLP", 0 }, { "CNY", 2 }, { "CZK", 2 }, { "DKK", 2 }, { "EUR", 2 }, { "GBP", 2 },
	{ "HKD", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "ILS", 2 }, { "INR", 2 }, { "ISK", 0 },
	{ "JOD", 3 }, { "JPY", 0 }, { "KRW", 0 }, { "KWD", 3 }, { "MXN", 2 }, { "MYR", 2 },
	{ "NOK", 2 }, { "NZD", 2 }, { "OMR", 3 }, { "PHP", 2 }, { "PLN", 2 }, { "SAR", 2 },
	{ "SEK", 2 }, { "SGD", 2 }, { "THB", 2 }, { "TND", 3 }, { "TRY", 2 }, { "TWD", 2 },
	{ "USD", 2 }, { "VND", 0 }, { "ZAR", 2 },
};

const char *const CURRENCY_CODES[] = {
	"AED", "AUD", "BHD", "BRL", "CAD", "CHF", "CLP", "CNY", "CZK", "DKK", "EUR", "GBP", "HKD",
	"HUF", "IDR", "ILS", "INR", "ISK", "JOD", "JPY", "KRW", "KWD", "MXN", "MYR", "NOK", "NZD",
	"OMR", "PHP", "PLN", "SAR", "SEK", "SGD", "THB", "TND", "TRY", "TWD", "USD", "VND", "ZAR",
	NULL,
};
_Static_assert(sizeof TABLE / sizeof TABLE[0] == CURRENCY_COUNT, "CURRENCY_COUNT is the table's size");
_Static_assert(sizeof CURRENCY_CODES / sizeof CURRENCY_CODES[0] == CURRENCY_COUNT + 1,
	       "CURRENCY_CODES lists every code of the table");

int currency_exponent(const char *code, size_t n)
{
	for (size_t i = 0; i < sizeof TABLE / sizeof TABLE[0]; i++)
		if (n == 3 && memcmp(TABLE[i].code, code, 3) == 0)
			return TABLE[i].exp;
	return -1;
}

bool number_unseparated(const char *text, char *out, size_t n)
{
	size_t w = 0, group = 0;
	bool comma = false;
	const char *p = text;
	for (; (*p >= '0' && *p <= '9') || *p == ','; p++) {
		if (*p == ',') {
			if (comma ? group != 3 : group == 0 || group > 3)
				return false;
			comma = true;
			group = 0;
			continue;
		}
		group++;
		if (w + 1 < n)
			out[w++] = *p;
	}
	if (!comma || group != 3 || (*p && *p != '.'))
		return false;
	snprintf(out + w, n - w, "%s", p);
	return true;
}

int amount_parse(const char *text, int exponent, uint64_t *minor, struct err *e)
{
	const uint64_t max = 1000000000000000ull;
	uint64_t whole = 0, frac = 0;
	int fdigits = 0;
	const char *p = text;
	if (*p < '0' || *p > '9')
		return err_set(e, "amount \"%.40s\" must be a non-negative decimal number", text);
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > max)
			return err_set(e, "amount \"%.40s\" is too large", text);
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return err_set(e, "amount \"%.40s\" has nothing after the decimal point", text);
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++fdigits > exponent)
				return err_set(e, "amount \"%.40s\" has more than %d decimals", text, exponent);
			frac = frac * 10 + (uint64_t)(*p - '0');
		}
	}
	char plain[48];
	if (*p == ',' && number_unseparated(text, plain, sizeof plain))
		return err_set(e, "amount \"%.40s\" has thousands separators: write %s", text, plain);
	if (*p)
		return err_set(e, "amount \"%.40s\" must be a plain decimal number (no signs, separators or units)",
			       text);
	uint64_t scale = 1;
	for (int i = 0; i < exponent; i++)
		scale *= 10;
	for (int i = fdigits; i < exponent; i++)
		frac *= 10;
	if (whole > (max - frac) / scale)
		return err_set(e, "amount \"%.40s\" is too large", text);
	*minor = whole * scale + frac;
	return 0;
}

void amount_format(uint64_t minor, int exponent, char *out, size_t n)
{
	if (exponent <= 0 || exponent > 9) {
		snprintf(out, n, "%llu", (unsigned long long)minor);
		return;
	}
	uint64_t scale = 1;
	for (int i = 0; i < exponent; i++)
		scale *= 10;
	char frac[16];
	snprintf(frac, sizeof frac, "%0*u", exponent, (unsigned)(minor % scale));
	snprintf(out, n, "%llu.%s", (unsigned long long)(minor / scale), frac);
}
