/* hex, base64, msgpack cursor/validator/canonicaliser, JSON. */
#include <stdint.h>

#include "enc.h"
#include "json.h"
#include "mp.h"
#include "tap.h"

static int check(const char *hex, unsigned flags, struct err *e)
{
	uint8_t b[256];
	size_t n = strlen(hex) / 2;
	hex_decode(hex, 2 * n, b, n);
	return mp_check(b, n, NULL, flags, e);
}

static const char *to_json(const char *json_in, struct err *e)
{
	static char out[1024];
	struct buf m, j;
	buf_init(&m);
	buf_init(&j);
	out[0] = '\0';
	if (json_to_canonical(json_in, strlen(json_in), &m, e) == 0 &&
	    msgpack_to_json(m.data, m.len, &j, e) == 0)
		snprintf(out, sizeof out, "%s", buf_cstr(&j));
	else
		snprintf(out, sizeof out, "ERROR");
	buf_free(&m);
	buf_free(&j);
	return out;
}

static void test_enc(void)
{
	uint8_t b[64];
	char s[130];
	size_t n;
	hex_encode((const uint8_t *)"\x00\xff\x10", 3, s);
	is_str(s, "00ff10", "hex encode");
	ok(hex_decode("00FF10", 6, b, 3) == 0 && b[1] == 0xff, "hex decode accepts upper case");
	ok(hex_decode("0g", 2, b, 1) != 0, "hex decode rejects non-hex");
	ok(hex_decode("abc", 3, b, 1) != 0, "hex decode rejects odd length");
	b64_encode((const uint8_t *)"foobar", 6, s);
	is_str(s, "Zm9vYmFy", "base64 encode (RFC 4648 vector)");
	b64_encode((const uint8_t *)"fo", 2, s);
	is_str(s, "Zm8=", "base64 encode with padding");
	ok(b64_decode("Zm8=", 4, b, sizeof b, &n) == 0 && n == 2 && memcmp(b, "fo", 2) == 0,
	   "base64 decode with padding");
	ok(b64_decode("Zm9=", 4, b, sizeof b, &n) != 0, "base64 rejects non-zero padding bits");
	ok(b64_decode("Zm8", 3, b, sizeof b, &n) != 0, "base64 rejects missing padding");
	ok(b64_decode("Z=8=", 4, b, sizeof b, &n) != 0, "base64 rejects padding in the middle");
	ok(b64_decode("Zm9v", 4, b, 2, &n) != 0, "base64 refuses output beyond capacity");
}

static void test_mp(void)
{
	struct err e = { 0 };
	ok(check("81a16101", MP_CANONICAL, &e) == 0, "canonical {a:1} accepted");
	ok(check("cc05", MP_CANONICAL, &e) != 0, "uint8 for 5 is not canonical");
	like(e.msg, "shortest", "  names the rule");
	ok(check("cc05", 0, &e) == 0, "uint8 for 5 is fine without the canonical flag");
	ok(check("d001", MP_CANONICAL, &e) != 0, "int8 for a positive value is not canonical");
	ok(check("d0e0", MP_CANONICAL, &e) != 0, "int8 for -32 is not canonical (fixint)");
	ok(check("d0df", MP_CANONICAL, &e) == 0, "int8 for -33 is canonical");
	ok(check("d90161", MP_CANONICAL, &e) != 0, "str8 for a 1-byte string is not canonical");
	ok(check("82a16201a16101", MP_CANONICAL, &e) != 0, "unsorted map keys are refused");
	like(e.msg, "order", "  names the rule");
	ok(check("82a16101a16102", MP_CANONICAL, &e) != 0, "repeated map keys are refused");
	ok(check("820101", MP_CANONICAL, &e) != 0, "non-string keys are refused when canonical");
	ok(check("cb3ff0000000000000", 0, &e) != 0, "floats are refused");
	like(e.msg, "floating", "  names floats");
	ok(check("d40100", 0, &e) != 0, "ext is refused");
	ok(check("a2c328", 0, &e) != 0, "invalid UTF-8 is refused");
	ok(check("a3eda080", 0, &e) != 0, "UTF-8 surrogates are refused");
	ok(check("a2c0af", 0, &e) != 0, "overlong UTF-8 is refused");
	ok(check("c402abcd", MP_NO_BIN, &e) != 0, "binary refused with MP_NO_BIN");
	ok(check("0101", 0, &e) != 0, "trailing bytes are refused");
	like(e.msg, "unexpected bytes", "  names trailing bytes");
	/* five bytes declaring 4 billion elements: refused before any allocation */
	ok(check("ddffffffff", 0, &e) != 0, "array32 with a huge count and no bytes is refused");
	like(e.msg, "declares", "  names the declared count");
	ok(check("dfffffffff00", 0, &e) != 0, "map32 with a huge count is refused");
	ok(check("dbffffffff", 0, &e) != 0, "str32 with a huge length is refused");
	ok(check("a5616263", 0, &e) != 0, "truncated string is refused");
	ok(check("c1", 0, &e) != 0, "reserved tag 0xc1 is refused");

	/* nesting: 40 nested arrays exceed the default depth of 32 */
	uint8_t deep[41];
	memset(deep, 0x91, 40);
	deep[40] = 0x00;
	ok(mp_check(deep, sizeof deep, NULL, 0, &e) != 0, "nesting deeper than the limit is refused");
	struct mp_limits lim = { 64, 100 };
	ok(mp_check(deep, sizeof deep, &lim, 0, &e) == 0, "the same value passes a deeper limit");
	lim.max_items = 10;
	ok(mp_check(deep, sizeof deep, &lim, 0, &e) != 0, "item limit is enforced");

	/* canonicalisation */
	uint8_t in[] = { 0x82, 0xa1, 'b', 0xcc, 0x01, 0xa1, 'a', 0xd0, 0x05 };
	struct buf out;
	buf_init(&out);
	ok(mp_canonicalize(in, sizeof in, NULL, 0, &out, &e) == 0, "canonicalise {b:1,a:5}");
	char hex[64];
	hex_encode(out.data, out.len, hex);
	is_str(hex, "82a16105a16201", "  keys sorted, shortest integers");
	buf_reset(&out);
	uint8_t dup[] = { 0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02 };
	ok(mp_canonicalize(dup, sizeof dup, NULL, 0, &out, &e) != 0, "canonicalise refuses repeated keys");
	like(e.msg, "twice", "  names the repeated key");
	buf_free(&out);

	/* mp_value_len: splits a stream by headers alone */
	static const struct {
		const char *hex;
		int want;
		size_t len;
	} split[] = {
		{ "00", 1, 1 }, { "81a16101ff", 1, 4 }, { "92c4020102d40100", 1, 8 },
		{ "c70201aabb", 1, 5 }, { "cb3ff0000000000000", 1, 9 }, { "d90161", 1, 3 }, { "d90261", 0, 0 },
		{ "de0001a161", 0, 0 }, { "dfffffffff00", 0, 0 }, { "dbffffffff", 0, 0 }, { "", 0, 0 },
		{ "91c1", -1, 0 }, { "ce0102030401", 1, 5 }, { "d80100112233445566778899aabbccddeeff", 1, 18 },
	};
	int split_ok = 1;
	for (size_t k = 0; k < sizeof split / sizeof split[0]; k++) {
		uint8_t b[64];
		size_t n = strlen(split[k].hex) / 2, len = 0;
		hex_decode(split[k].hex, 2 * n, b, n);
		int got = mp_value_len(b, n, &len);
		if (got != split[k].want || (got == 1 && len != split[k].len)) {
			diag("mp_value_len(%s) = %d, %zu", split[k].hex, got, len);
			split_ok = 0;
		}
	}
	ok(split_ok, "mp_value_len: complete values, values needing more bytes, an invalid tag");
	static uint8_t nested[200001];	/* 200000 nested arrays: no recursion */
	memset(nested, 0x91, sizeof nested - 1);
	nested[sizeof nested - 1] = 0x00;
	size_t nlen = 0;
	ok(mp_value_len(nested, sizeof nested, &nlen) == 1 && nlen == sizeof nested,
	   "mp_value_len walks 200000 levels of nesting");
	ok(check("91c4020102", MP_BIN_TOP, &e) == 0, "MP_BIN_TOP: binary as a top-level element");
	ok(check("9191c4020102", MP_BIN_TOP, &e) != 0, "MP_BIN_TOP: binary nested deeper is refused");
	like(e.msg, "binary strings are not allowed", "  names the rule");

	/* mp_next on every integer width */
	uint8_t big[] = { 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct mp_cur c;
	struct mp_item it;
	mp_cur_init(&c, big, sizeof big);
	ok(mp_next(&c, &it, &e) == 0 && it.type == MP_UINT && it.u == UINT64_MAX && it.shortest,
	   "uint64 max decodes");
	uint8_t neg[] = { 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0 };
	mp_cur_init(&c, neg, sizeof neg);
	ok(mp_next(&c, &it, &e) == 0 && it.type == MP_NINT && it.i == INT64_MIN && it.shortest,
	   "int64 min decodes");
}

static void test_json(void)
{
	struct err e = { 0 };
	is_str(to_json("{\"b\":1,\"a\":[true,false,null,-5,\"x\"]}", &e),
	       "{\"a\":[true,false,null,-5,\"x\"],\"b\":1}", "JSON round trip sorts keys");
	is_str(to_json(" { } ", &e), "{}", "empty object with white space");
	is_str(to_json("\"\\u00e9\\ud83d\\ude00\\n\"", &e), "\"\xc3\xa9\xf0\x9f\x98\x80\\n\"",
	       "escapes and surrogate pairs decode to UTF-8");
	is_str(to_json("18446744073709551615", &e), "18446744073709551615", "uint64 max");
	is_str(to_json("-9223372036854775808", &e), "-9223372036854775808", "int64 min");
	is_str(to_json("18446744073709551616", &e), "ERROR", "uint64 overflow refused");
	like(e.msg, "out of range", "  names the range");
	is_str(to_json("-9223372036854775809", &e), "ERROR", "int64 underflow refused");
	is_str(to_json("12.50", &e), "ERROR", "fractions refused");
	like(e.msg, "minor units", "  explains integers in minor units");
	is_str(to_json("1e3", &e), "ERROR", "exponents refused");
	is_str(to_json("012", &e), "ERROR", "leading zeros refused");
	is_str(to_json("{\"a\":1,\"a\":2}", &e), "ERROR", "duplicate keys refused");
	is_str(to_json("[1,]", &e), "ERROR", "trailing comma refused");
	is_str(to_json("\"\\ud800\"", &e), "ERROR", "lone surrogate refused");
	is_str(to_json("\"a\x01\"", &e), "ERROR", "raw control character refused");
	is_str(to_json("\"\xff\"", &e), "ERROR", "invalid UTF-8 refused");
	is_str(to_json("[1] x", &e), "ERROR", "trailing text refused");
	like(e.msg, "byte 4", "  error names the position");
	char deep[200];
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	deep[80] = '\0';
	is_str(to_json(deep, &e), "ERROR", "nesting beyond 32 refused");
	struct buf b;
	buf_init(&b);
	json_put_str(&b, "q\"\\\x01\x7f", 5);
	is_str(buf_cstr(&b), "\"q\\\"\\\\\\u0001\\u007f\"", "JSON string escaping");
	buf_free(&b);
}

/* The ASCII fast path reads eight bytes at a time: a bad or multi-byte
 * sequence at any offset, and at the very end, is still judged. */
static void test_utf8(void)
{
	static const struct {
		const char *seq;
		bool valid;
	} SEQ[] = {
		{ "\xc3\xa9", true }, { "\xe5\xa4\x89", true }, { "\xf0\x9f\x98\x80", true },
		{ "\x80", false }, { "\xc0\xaf", false }, { "\xed\xa0\x80", false },
		{ "\xe5\xa4", false }, { "\xff", false },
	};
	int wrong = 0, cases = 0;
	for (size_t k = 0; k < sizeof SEQ / sizeof SEQ[0]; k++)
		for (size_t pre = 0; pre <= 20; pre++)
			for (size_t post = 0; post <= 9; post++) {
				uint8_t b[64];
				size_t sl = strlen(SEQ[k].seq), n = 0;
				memset(b, 'a', pre);
				n = pre;
				memcpy(b + n, SEQ[k].seq, sl);
				n += sl;
				memset(b + n, 'z', post);
				n += post;
				cases++;
				if (utf8_valid(b, n) != SEQ[k].valid)
					wrong++;
			}
	is_int(wrong, 0, "utf8_valid judges %d placements of valid and invalid sequences", cases);
	ok(utf8_valid((const uint8_t *)"", 0), "the empty string is valid UTF-8");
	ok(utf8_valid((const uint8_t *)"0123456789abcdefXYZ", 19), "an ASCII run of odd length is valid");
}

int main(void)
{
	test_utf8();
	test_enc();
	test_mp();
	test_json();
	return done_testing();
}
