#include "enc.h"

#include <string.h>

static const char HEX[] = "0123456789abcdef";
static const char B64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void hex_encode(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = HEX[p[i] >> 4];
		out[2 * i + 1] = HEX[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *s, size_t slen, uint8_t *out, size_t outlen)
{
	if (slen != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

size_t b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void b64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = B64[v >> 18];
		out[o++] = B64[(v >> 12) & 63];
		out[o++] = B64[(v >> 6) & 63];
		out[o++] = B64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = B64[v >> 18];
		out[o++] = B64[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = B64[v >> 18];
		out[o++] = B64[(v >> 12) & 63];
		out[o++] = B64[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64val(char c)
{
	const char *p = c ? strchr(B64, c) : NULL;
	return p ? (int)(p - B64) : -1;
}

int b64_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen)
{
	if (slen % 4 != 0)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < slen; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = s[i + k];
			if (c == '=') {
				/* padding only in the last group, only at its end */
				if (i + 4 != slen || k < 2)
					return -1;
				pad++;
				v[k] = 0;
			} else {
				if (pad)
					return -1;
				v[k] = b64val(c);
				if (v[k] < 0)
					return -1;
			}
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		size_t nb = 3 - (size_t)pad;
		/* canonical: the bits dropped by padding must be zero */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1;
		if (o + nb > cap)
			return -1;
		out[o++] = (uint8_t)(w >> 16);
		if (nb > 1)
			out[o++] = (uint8_t)(w >> 8);
		if (nb > 2)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return 0;
}
