#define _GNU_SOURCE
#include "isotime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int digits(const char *s, size_t n)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

bool time_date_ok(const char *s, size_t n)
{
	if (n != 10 || s[4] != '-' || s[7] != '-')
		return false;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1970 || m < 1 || m > 12 || d < 1)
		return false;
	int max = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	return d <= max;
}

/* The parts of s: the date, the time of day (all zero when absent), and
 * the offset in seconds east of UTC (*zoned false when none is written). */
static int split(const char *s, struct tm *tm, long *usec, bool *zoned, long *offset)
{
	memset(tm, 0, sizeof *tm);
	*usec = 0;
	*zoned = false;
	*offset = 0;
	size_t n = strlen(s);
	if (n < 10 || !time_date_ok(s, 10))
		return -1;
	tm->tm_year = digits(s, 4) - 1900;
	tm->tm_mon = digits(s + 5, 2) - 1;
	tm->tm_mday = digits(s + 8, 2);
	const char *p = s + 10;
	if (*p == '\0')
		return 0;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if (strlen(p) < 5 || p[2] != ':' || (tm->tm_hour = digits(p, 2)) < 0 || tm->tm_hour > 23 ||
	    (tm->tm_min = digits(p + 3, 2)) < 0 || tm->tm_min > 59)
		return -1;
	p += 5;
	if (*p == ':') {
		if ((tm->tm_sec = digits(p + 1, 2)) < 0 || tm->tm_sec > 60)
			return -1;
		p += 3;
		if (*p == '.' || *p == ',') {
			p++;
			size_t k = strspn(p, "0123456789");
			if (k == 0)
				return -1;
			for (size_t i = 0; i < 6; i++)
				*usec = *usec * 10 + (i < k ? p[i] - '0' : 0);
			p += k;
		}
	}
	if (*p == '\0')
		return 0;
	*zoned = true;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	int sign = *p == '-' ? -1 : 1, hh, mm = 0;
	p++;
	size_t k = strlen(p);
	if (k == 2)
		hh = digits(p, 2);
	else if (k == 4)
		hh = digits(p, 2), mm = digits(p + 2, 2);
	else if (k == 5 && p[2] == ':')
		hh = digits(p, 2), mm = digits(p + 3, 2);
	else
		return -1;
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600L + mm * 60L);
	return 0;
}

int time_parse(const char *s, uint64_t *us)
{
	struct tm tm;
	long usec, offset;
	bool zoned;
	if (split(s, &tm, &usec, &zoned, &offset))
		return -1;
	time_t t;
	if (zoned) {
		t = timegm(&tm);
		t -= offset;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	if (t < 0)
		return -1;
	*us = (uint64_t)t * 1000000u + (uint64_t)usec;
	return 0;
}

int time_parse_date(const char *s, char out[11])
{
	struct tm tm;
	long usec, offset;
	bool zoned;
	if (split(s, &tm, &usec, &zoned, &offset))
		return -1;
	memcpy(out, s, 10);
	out[10] = '\0';
	return 0;
}

void time_format(uint64_t us, bool utc, bool micro, char out[40])
{
	time_t secs = (time_t)(us / 1000000);
	struct tm tm;
	if ((utc ? gmtime_r(&secs, &tm) : localtime_r(&secs, &tm)) == NULL) {
		snprintf(out, 40, "(time out of range)");
		return;
	}
	char base[24], frac[8] = "", zone[8] = "Z";
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	if (micro)
		snprintf(frac, sizeof frac, ".%06u", (unsigned)(us % 1000000));
	if (!utc) {
		long off = tm.tm_gmtoff, a = off < 0 ? -off : off;
		snprintf(zone, sizeof zone, "%c%02ld:%02ld", off < 0 ? '-' : '+', a / 3600 % 100, a / 60 % 60);
	}
	snprintf(out, 40, "%s%s%s", base, frac, zone);
}

/* H. Hinnant's days_from_civil and civil_from_days (proleptic Gregorian). */
int64_t time_date_days(const char *s)
{
	int64_t y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

void time_days_date(int64_t days, char out[11])
{
	days += 719468;
	int64_t era = (days >= 0 ? days : days - 146096) / 146097, doe = days - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp + (mp < 10 ? 3 : -9), y = yoe + era * 400 + (m <= 2);
	int v[3] = { (int)(y % 10000), (int)m, (int)d }, w[3] = { 4, 2, 2 };
	char *o = out;
	for (int i = 0; i < 3; i++) {
		for (int j = w[i] - 1, div = 1; j >= 0; j--, div *= 10)
			o[j] = (char)('0' + v[i] / div % 10);
		o += w[i];
		*o++ = i < 2 ? '-' : '\0';
	}
}

void time_today(char out[11])
{
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		time_days_date((int64_t)(now / 86400), out);
}
