#include "export.h"

#include <string.h>

#include "enc.h"
#include "entry.h"
#include "mp.h"

void export_reader_init(struct export_reader *r, FILE *f, enum export_format format)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->format = format;
	buf_init(&r->in);
	buf_init(&r->out);
}

void export_reader_free(struct export_reader *r)
{
	buf_free(&r->in);
	buf_free(&r->out);
}

/* Keeps at least `want` unconsumed bytes buffered if the file has them. */
static int fill(struct export_reader *r, size_t want, struct err *e)
{
	if (r->off > 0 && r->off == r->in.len) {
		buf_reset(&r->in);
		r->off = 0;
	}
	while (!r->eof && r->in.len - r->off < want) {
		if (r->off > (1u << 20)) {	/* compact */
			memmove(r->in.data, r->in.data + r->off, r->in.len - r->off);
			r->in.len -= r->off;
			r->off = 0;
		}
		if (!buf_reserve(&r->in, 65536))
			return err_set(e, "out of memory");
		size_t got = fread(r->in.data + r->in.len, 1, 65536, r->f);
		r->in.len += got;
		if (got == 0) {
			if (ferror(r->f))
				return err_set(e, "export: read error");
			r->eof = true;
		}
	}
	return 0;
}

static int next_hex(struct export_reader *r, const uint8_t **p, size_t *n, struct err *e)
{
	const size_t maxline = 2 * (size_t)ENTRY_MAX_BYTES + 2;
	for (;;) {
		const uint8_t *start = r->in.data + r->off;
		size_t avail = r->in.len - r->off;
		const uint8_t *nl = avail ? memchr(start, '\n', avail) : NULL;
		if (nl == NULL) {
			if (avail > maxline)
				return err_set(e, "export line %llu is longer than any entry can be",
					       (unsigned long long)r->index + 1);
			if (r->eof) {
				if (avail == 0)
					return 0;
				return err_set(e, "export line %llu is truncated (no final newline)",
					       (unsigned long long)r->index + 1);
			}
			if (fill(r, avail + 65536, e))
				return -1;
			continue;
		}
		size_t len = (size_t)(nl - start);
		r->off += len + 1;
		if (len > 0 && start[len - 1] == '\r')
			len--;
		if (len == 0 || len % 2)
			return err_set(e, "export line %llu is not an even number of hex digits",
				       (unsigned long long)r->index + 1);
		buf_reset(&r->out);
		if (!buf_reserve(&r->out, len / 2))
			return err_set(e, "out of memory");
		if (hex_decode((const char *)start, len, r->out.data, len / 2))
			return err_set(e, "export line %llu is not hex", (unsigned long long)r->index + 1);
		r->out.len = len / 2;
		r->index++;
		*p = r->out.data;
		*n = r->out.len;
		return 1;
	}
}

static int next_raw(struct export_reader *r, const uint8_t **p, size_t *n, struct err *e)
{
	size_t want = 4096;
	for (;;) {
		if (fill(r, want, e))
			return -1;
		size_t avail = r->in.len - r->off;
		if (avail == 0)
			return 0;
		/* only split here; entry_decode checks each entry in full */
		int got = mp_value_len(r->in.data + r->off, avail, n);
		if (got < 0)
			return err_set(e, "raw export: entry %llu is not msgpack (it holds the invalid tag 0xc1)",
				       (unsigned long long)r->index);
		if (got > 0) {
			*p = r->in.data + r->off;
			r->off += *n;
			r->index++;
			return 1;
		}
		/* incomplete: read more, up to the largest possible entry */
		if (r->eof || avail > (size_t)ENTRY_MAX_BYTES)
			return err_set(e, "raw export: entry %llu is truncated or longer than any entry can be",
				       (unsigned long long)r->index);
		want = avail * 2;
	}
}

int export_next(struct export_reader *r, const uint8_t **p, size_t *n, struct err *e)
{
	if (r->format == EXPORT_AUTO) {
		if (fill(r, 1, e))
			return -1;
		if (r->in.len == r->off)
			return 0;
		r->format = r->in.data[r->off] == 0x89 ? EXPORT_RAW : EXPORT_HEX;
	}
	return r->format == EXPORT_RAW ? next_raw(r, p, n, e) : next_hex(r, p, n, e);
}

int export_write(FILE *f, enum export_format format, const uint8_t *p, size_t n)
{
	if (format == EXPORT_RAW)
		return fwrite(p, 1, n, f) == n ? 0 : -1;
	static const char HEX[] = "0123456789abcdef";
	char chunk[4096];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		chunk[k++] = HEX[p[i] >> 4];
		chunk[k++] = HEX[p[i] & 15];
		if (k == sizeof chunk) {
			if (fwrite(chunk, 1, k, f) != k)
				return -1;
			k = 0;
		}
	}
	chunk[k++] = '\n';
	return fwrite(chunk, 1, k, f) == k ? 0 : -1;
}

int export_parse_format(const char *s, enum export_format *out)
{
	if (strcmp(s, "hex") == 0)
		*out = EXPORT_HEX;
	else if (strcmp(s, "raw") == 0)
		*out = EXPORT_RAW;
	else
		return -1;
	return 0;
}
