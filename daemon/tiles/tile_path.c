#include "tile_path.h"

#include <stdio.h>
#include <string.h>

/* A decimal without leading zeros in [lo, hi], exactly n bytes. */
static bool small_decimal(const char *s, size_t n, unsigned lo, unsigned hi, unsigned *out)
{
	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

static bool three_digits(const char *s, unsigned *out)
{
	for (int i = 0; i < 3; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	*out = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
	return true;
}

/* N[.p/W] at s (to its end) */
static int parse_index(const char *s, struct tile_ref *t, const char **why)
{
	uint64_t n = 0;
	bool first = true;
	for (;;) {
		unsigned d;
		if (s[0] == 'x') {
			if (!three_digits(s + 1, &d) || s[4] != '/') {
				*why = "an element of N is x and 3 digits, followed by /";
				return -1;
			}
			if (first && d == 0) {
				*why = "N has a leading x000 element: write the index without it";
				return -1;
			}
			if (n > (UINT64_MAX - d) / 1000) {
				*why = "N is larger than 2^64 - 1";
				return -1;
			}
			n = n * 1000 + d;
			s += 5;
			first = false;
			continue;
		}
		if (!three_digits(s, &d)) {
			*why = "N's last element is 3 digits (e.g. 001; x001/234 for 1234)";
			return -1;
		}
		if (n > (UINT64_MAX - d) / 1000) {
			*why = "N is larger than 2^64 - 1";
			return -1;
		}
		n = n * 1000 + d;
		s += 3;
		break;
	}
	t->index = n;
	t->width = TILE_WIDTH;
	if (*s == '\0')
		return 0;
	if (strncmp(s, ".p/", 3) != 0 || !small_decimal(s + 3, strlen(s + 3), 1, TILE_WIDTH - 1, &t->width)) {
		*why = "a partial tile ends in .p/W, W from 1 to 255 without leading zeros";
		return -1;
	}
	return 0;
}

int tile_path_parse(const char *path, struct tile_ref *t, const char **why)
{
	memset(t, 0, sizeof *t);
	*why = "no such resource: /checkpoint, /tile/L/N[.p/W] or /tile/entries/N[.p/W]";
	if (strcmp(path, "/checkpoint") == 0) {
		t->kind = TILE_CHECKPOINT;
		return 0;
	}
	if (strncmp(path, "/tile/", 6) != 0)
		return -1;
	const char *s = path + 6;
	if (strncmp(s, "entries/", 8) == 0) {
		t->kind = TILE_ENTRIES;
		return parse_index(s + 8, t, why);
	}
	if (strncmp(s, "entries32/", 10) == 0) {
		t->kind = TILE_ENTRIES32;
		return parse_index(s + 10, t, why);
	}
	size_t ln = strcspn(s, "/");
	if (s[ln] != '/' || !small_decimal(s, ln, 0, 63, &t->level)) {
		*why = "a tile's level L is 0 to 63 without leading zeros";
		return -1;
	}
	t->kind = TILE_HASH_TILE;
	return parse_index(s + ln + 1, t, why);
}

unsigned tile_width(unsigned level, uint64_t index, uint64_t size)
{
	unsigned shift = 8 * level;
	uint64_t count = shift >= 64 ? 0 : size >> shift;	/* hashes at that level */
	if (index > count / TILE_WIDTH)
		return 0;
	uint64_t rest = count - index * TILE_WIDTH;
	return rest >= TILE_WIDTH ? TILE_WIDTH : (unsigned)rest;
}

bool tile_exists(const struct tile_ref *t, uint64_t size)
{
	/* a full tile, or a partial of any width up to what the tree holds */
	return t->width <= tile_width(t->kind == TILE_HASH_TILE ? t->level : 0, t->index, size);
}

void tile_path_format(const struct tile_ref *t, char *out, size_t cap)
{
	char parts[8][4];
	int np = 0;
	uint64_t n = t->index;
	size_t w = 0;
	if (t->kind == TILE_CHECKPOINT) {
		snprintf(out, cap, "checkpoint");
		return;
	}
	do {	/* at most 7 elements: 2^64 < 1000^7 */
		snprintf(parts[np++], sizeof parts[0], "%03u", (unsigned)(n % 1000));
		n /= 1000;
	} while (n > 0);
	if (t->kind == TILE_HASH_TILE)
		w = (size_t)snprintf(out, cap, "tile/%u/", t->level);
	else
		w = (size_t)snprintf(out, cap, "tile/%s/", t->kind == TILE_ENTRIES ? "entries" : "entries32");
	for (int i = np - 1; i >= 0 && w < cap; i--)
		w += (size_t)snprintf(out + w, cap - w, "%s%s%s", i < np - 1 ? "/" : "", i > 0 ? "x" : "", parts[i]);
	if (t->width < TILE_WIDTH && w < cap)
		snprintf(out + w, cap - w, ".p/%u", t->width);
}
