#include "tile_path.h"

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

bool tile_exists(const struct tile_ref *t, uint64_t size)
{
	unsigned shift = 8 * (t->kind == TILE_HASH_TILE ? t->level : 0);
	uint64_t count = shift >= 64 ? 0 : size >> shift;	/* hashes at that level */
	uint64_t full = count / TILE_WIDTH;			/* full tiles */
	if (t->index < full)
		return true;	/* a full tile, or a partial of any width of it */
	return t->width < TILE_WIDTH && t->index == full && t->width <= count % TILE_WIDTH;
}
