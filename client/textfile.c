#include "textfile.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "fileio.h"
#include "mp.h"
#include "show.h"

/* in (n bytes, in encoding from) -> out as UTF-8; -1 if it is not that. */
static int convert(const char *from, const uint8_t *in, size_t n, struct buf *out)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return -1;
	int rc = 0;
	char *ip = (char *)in;
	size_t il = n;
	buf_reset(out);
	while (il && rc == 0) {
		char chunk[4096], *op = chunk;
		size_t ol = sizeof chunk;
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		buf_add(out, chunk, (size_t)(op - chunk));
		if (r == (size_t)-1 && errno != E2BIG)
			rc = -1;
	}
	iconv_close(cd);
	return rc || buf_failed(out) ? -1 : 0;
}

int textfile_read(const char *path, const char *encoding, size_t max, struct buf *out)
{
	struct err e = { 0 };
	struct buf raw;
	buf_init(&raw);
	if (read_file(path, max, &raw, &e)) {
		fprintf(stderr, "scopectl: %s\n", e.msg);
		buf_free(&raw);
		return -1;
	}
	int rc = 0;
	if (encoding) {
		iconv_t cd = iconv_open("UTF-8", encoding);
		if (cd == (iconv_t)-1) {
			fprintf(stderr, "scopectl: --encoding %s: not an encoding iconv knows (iconv -l lists them)\n",
				showz(encoding));
			rc = -1;
		} else {
			iconv_close(cd);
			if (convert(encoding, raw.data, raw.len, out)) {
				fprintf(stderr, "scopectl: --text-file %s is not valid %s\n", showz(path), showz(encoding));
				rc = -1;
			}
		}
	} else if (utf8_valid(raw.data, raw.len)) {
		buf_reset(out);
		buf_add(out, raw.data, raw.len);
	} else {
		/* EUC-JP first: Shift_JIS lead bytes 0x81-0x9f are not EUC-JP,
		 * while most EUC-JP text also decodes as Shift_JIS */
		static const char *const GUESS[][2] = { { "EUC-JP", "euc-jp" }, { "SHIFT_JIS", "shift_jis" } };
		const char *const *found = NULL;
		for (size_t i = 0; i < sizeof GUESS / sizeof GUESS[0] && !found; i++)
			if (convert(GUESS[i][0], raw.data, raw.len, out) == 0)
				found = GUESS[i];
		if (found)
			fprintf(stderr, "scopectl: --text-file %s is not UTF-8; it looks like %s. Convert it with\n"
				"  iconv -f %s -t UTF-8 '%s' > '%s.utf8'\nor give --encoding %s\n",
				showz(path), found[0], found[0], showz(path), showz(path), found[1]);
		else
			fprintf(stderr, "scopectl: --text-file %s is not UTF-8 (nor Shift_JIS or EUC-JP); "
				"give its encoding with --encoding NAME (iconv -l lists them)\n", showz(path));
		rc = -1;
	}
	buf_free(&raw);
	return rc;
}
