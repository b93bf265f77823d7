#include "tlogproof.h"

#include <string.h>

#include "enc.h"

void tlog_proof_format(uint64_t index, const uint8_t proof[][HASH_LEN], size_t len, const char *note,
		       size_t note_len, struct buf *out)
{
	char b64[64];
	buf_printf(out, TLOG_PROOF_HEADER "\nindex %llu\n", (unsigned long long)index);
	for (size_t i = 0; i < len; i++) {
		b64_encode(proof[i], HASH_LEN, b64);
		buf_adds(out, b64);
		buf_addc(out, '\n');
	}
	buf_addc(out, '\n');
	buf_add(out, note, note_len);
}

/* The next line of s from *at (without its newline): its length, or -1 if
 * no newline ends it. */
static long next_line(const char *s, size_t n, size_t *at, const char **line)
{
	const char *nl = *at < n ? memchr(s + *at, '\n', n - *at) : NULL;
	if (nl == NULL)
		return -1;
	*line = s + *at;
	long l = (long)(nl - *line);
	*at += (size_t)l + 1;
	return l;
}

int tlog_proof_parse(const char *s, size_t n, uint64_t *index, uint8_t proof[MERKLE_MAX_PROOF][HASH_LEN],
		     size_t *len, const char **note, size_t *note_len, struct err *e)
{
	size_t at = 0;
	const char *line;
	long l = next_line(s, n, &at, &line);
	if (l != (long)strlen(TLOG_PROOF_HEADER) || memcmp(line, TLOG_PROOF_HEADER, (size_t)l) != 0)
		return err_set(e, "line 1 is not \"" TLOG_PROOF_HEADER "\"");
	unsigned lineno = 2;
	l = next_line(s, n, &at, &line);
	if (l >= 6 && memcmp(line, "extra ", 6) == 0) {
		l = next_line(s, n, &at, &line);
		lineno++;
	}
	if (l < 7 || memcmp(line, "index ", 6) != 0 || (line[6] == '0' && l > 7) || l > 6 + 20)
		return err_set(e, "line %u is not \"index N\" (a decimal without leading zeroes)", lineno);
	uint64_t v = 0;
	for (long i = 6; i < l; i++) {
		unsigned d = (unsigned)(line[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return err_set(e, "line %u is not \"index N\" (a decimal without leading zeroes)", lineno);
		v = v * 10 + d;
	}
	*index = v;
	*len = 0;
	for (;;) {
		lineno++;
		if ((l = next_line(s, n, &at, &line)) < 0)
			return err_set(e, "line %u: the proof hashes must end with an empty line before the checkpoint",
				       lineno);
		if (l == 0)
			break;
		size_t got;
		if (*len == MERKLE_MAX_PROOF)
			return err_set(e, "more than %d proof hashes", MERKLE_MAX_PROOF);
		if (b64_decode(line, (size_t)l, proof[*len], HASH_LEN, &got) || got != HASH_LEN)
			return err_set(e, "line %u is not a base64 SHA-256 hash", lineno);
		(*len)++;
	}
	if (at == n)
		return err_set(e, "the checkpoint after line %u is missing", lineno);
	*note = s + at;
	*note_len = n - at;
	return 0;
}
