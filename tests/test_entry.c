/* Canonical entry encoding: golden bytes, round trip, every refusal. */
#include "enc.h"
#include "entry.h"
#include "json.h"
#include "merkle.h"
#include "mp.h"
#include "tap.h"

/* The example in proto/FORMAT.md, byte for byte. */
static const char GOLDEN[] =
	"89a6617574686f72a5616c696365a4626f647981a474657874b2726564657369676e207265717565"
	"73746564a46b696e64a46e6f7465a470726576c42000000000000000000000000000000000000000"
	"00000000000000000000000000a770726f6a656374a777656273697465aa726571756573745f6964"
	"a27231a373657100a774696d655f7573cf00062a99ba0c6000a17601";
/* SHA-256(0x00 || GOLDEN), computed independently of this code */
static const char GOLDEN_LEAF[] =
	"19eb67380214b0d6030497c5b6a4fadf19973d0003456800d03d4f809ea9eb02";

static struct entry example(const struct buf *body)
{
	struct entry en = {
		.version = 1, .seq = 0, .time_us = 1735689600000000ull,
		.kind = "note", .kind_len = 4, .project = "website", .project_len = 7,
		.author = "alice", .author_len = 5, .request_id = "r1", .request_id_len = 2,
		.body = body->data, .body_len = body->len,
	};
	memset(en.prev, 0, 32);
	return en;
}

int main(void)
{
	struct err e = { 0 };
	struct buf body, out;
	buf_init(&body);
	buf_init(&out);
	const char *bj = "{\"text\":\"redesign requested\"}";
	ok(json_to_canonical(bj, strlen(bj), &body, &e) == 0, "body from JSON");
	struct entry en = example(&body), dec;
	ok(entry_encode(&en, &out, &e) == 0, "encode the example entry");
	char *hex = malloc(2 * out.len + 1);
	hex_encode(out.data, out.len, hex);
	is_str(hex, GOLDEN, "encoding matches the golden bytes of FORMAT.md");
	uint8_t leaf[32];
	char leafhex[65];
	merkle_leaf_hash(out.data, out.len, leaf);
	hex_encode(leaf, 32, leafhex);
	is_str(leafhex, GOLDEN_LEAF, "leaf hash = SHA-256(0x00 || entry)");
	ok(mp_check(out.data, out.len, NULL, MP_CANONICAL, &e) == 0, "the encoding is canonical msgpack");
	ok(entry_decode(out.data, out.len, &dec, &e) == 0, "decode it back");
	ok(dec.seq == 0 && dec.time_us == en.time_us && dec.body_len == body.len &&
	   memcmp(dec.body, body.data, body.len) == 0 && dec.author_len == 5 &&
	   memcmp(dec.author, "alice", 5) == 0, "decoded fields equal the originals");
	struct buf again;
	buf_init(&again);
	ok(entry_encode(&dec, &again, &e) == 0 && again.len == out.len &&
	   memcmp(again.data, out.data, out.len) == 0, "re-encoding the decoded entry gives the same bytes");
	buf_free(&again);

	/* refusals of the encoder's field rules */
	struct entry bad;
	bad = en; bad.kind = "Note"; buf_reset(&out);
	ok(entry_encode(&bad, &out, &e) != 0, "kind with upper case refused");
	like(e.msg, "kind", "  names the field");
	bad = en; bad.kind = ""; bad.kind_len = 0;
	ok(entry_encode(&bad, &out, &e) != 0, "empty kind refused");
	bad = en; bad.project = "a b"; bad.project_len = 3;
	ok(entry_encode(&bad, &out, &e) != 0, "project with a space refused");
	like(e.msg, "project", "  names the field");
	bad = en; bad.project = ""; bad.project_len = 0; buf_reset(&out);
	ok(entry_encode(&bad, &out, &e) == 0, "empty project (ledger-level entry) accepted");
	bad = en; bad.author = "a\nb"; bad.author_len = 3;
	ok(entry_encode(&bad, &out, &e) != 0, "author with a control character refused");
	bad = en; bad.request_id = "has space"; bad.request_id_len = 9;
	ok(entry_encode(&bad, &out, &e) != 0, "request id with a space refused");
	bad = en; bad.version = 2;
	ok(entry_encode(&bad, &out, &e) != 0, "unknown version refused");
	like(e.msg, "version 2", "  names the version");
	uint8_t arr[] = { 0x91, 0x01 };
	bad = en; bad.body = arr; bad.body_len = 2;
	ok(entry_encode(&bad, &out, &e) != 0, "body that is not a map refused");
	uint8_t unsorted[] = { 0x82, 0xa1, 'b', 0x01, 0xa1, 'a', 0x01 };
	bad = en; bad.body = unsorted; bad.body_len = sizeof unsorted;
	ok(entry_encode(&bad, &out, &e) != 0, "non-canonical body refused");
	uint8_t binbody[] = { 0x81, 0xa1, 'a', 0xc4, 0x01, 0x00 };
	bad = en; bad.body = binbody; bad.body_len = sizeof binbody;
	ok(entry_encode(&bad, &out, &e) != 0, "binary value in body refused");

	/* refusals of the decoder: take the golden bytes and break them */
	uint8_t g[512];
	size_t gn = strlen(GOLDEN) / 2;
	hex_decode(GOLDEN, 2 * gn, g, gn);
	ok(entry_decode(g, gn - 1, &dec, &e) != 0, "truncated entry refused");
	g[0] = 0x88;
	ok(entry_decode(g, gn, &dec, &e) != 0, "wrong field count refused");
	g[0] = 0x89;
	/* "author" -> "buthor": keys out of order and unknown */
	g[2] = 'b';
	ok(entry_decode(g, gn, &dec, &e) != 0, "unknown/misordered key refused");
	g[2] = 'a';
	/* last byte is v = 1; make it 2 */
	g[gn - 1] = 0x02;
	ok(entry_decode(g, gn, &dec, &e) != 0, "version 2 refused by the decoder");
	like(e.msg, "unsupported entry format version 2", "  names the version");
	g[gn - 1] = 0x01;
	ok(entry_decode(g, gn, &dec, &e) == 0, "restored bytes decode again");
	/* the body is checked in the entry's one canonical walk: a binary value
	 * in it is still refused (the text "redesign requested", fixstr of 18,
	 * becomes a bin8 of 17 bytes, the same size) */
	uint8_t binb[sizeof g];
	memcpy(binb, g, gn);
	uint8_t *t18 = memchr(binb, 0xb2, gn);
	ok(t18 != NULL && memcmp(t18 + 1, "redesign requested", 18) == 0, "the golden body's text is found");
	if (t18) {
		t18[0] = 0xc4;
		t18[1] = 17;
	}
	ok(entry_decode(binb, gn, &dec, &e) != 0, "binary value in a decoded body refused");
	like(e.msg, "binary strings are not allowed", "  names the rule");
	uint8_t big[sizeof g + 1];
	memcpy(big, g, gn);
	big[gn] = 0x00;
	ok(entry_decode(big, gn + 1, &dec, &e) != 0, "trailing byte refused");

	/* time formatting */
	char t[40];
	entry_format_time(1735689600000001ull, t);
	is_str(t, "2025-01-01T00:00:00.000001Z", "RFC 3339 time with microseconds");

	/* JSON view */
	buf_reset(&out);
	ok(entry_to_json(&en, NULL, &out, &e) == 0, "JSON view");
	like(buf_cstr(&out), "\"body\":{\"text\":\"redesign requested\"}", "  contains the body");
	free(hex);
	buf_free(&body);
	buf_free(&out);
	return done_testing();
}
