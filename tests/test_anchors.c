/*
 * test_anchors: scopectl's checks of anchor entries (client/anchors.c) with
 * tokens the test TSA makes (t/tsa_pki.sh, `openssl ts -reply`): a good
 * token verifies and gives the entry's anchored time; a token for another
 * checkpoint, one with a flipped signature byte, one checked against
 * another CA and a stated time that is not the token's are refused; an
 * anchor whose root is not the entries' root is refused by name; roots are
 * computed across the window's roll-over, and a size too far back is
 * refused rather than passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchors.h"
#include "enc.h"
#include "fileio.h"
#include "mp.h"
#include "tap.h"
#include "tsa.h"

static const char ORIGIN[] = "test.example/anchors";
static char dir[512];

/* A token from the test TSA over the checkpoint (size, root) into *tok. */
static int stamp(uint64_t size, const uint8_t root[HASH_LEN], struct buf *tok)
{
	uint8_t imp[HASH_LEN];
	char hex[65], cmd[4096];
	struct err e = { 0 };
	tsa_imprint(ORIGIN, size, root, imp);
	hex_encode(imp, HASH_LEN, hex);
	snprintf(cmd, sizeof cmd,
		 "openssl ts -query -digest %s -sha256 -cert -out '%s/q.tsq' 2>/dev/null && "
		 "openssl ts -reply -config '%s/tsa.cnf' -queryfile '%s/q.tsq' -token_out -out '%s/t.tst' 2>/dev/null",
		 hex, dir, dir, dir, dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cmd, sizeof cmd, "%s/t.tst", dir);
	buf_reset(tok);
	return read_file(cmd, TSA_TOKEN_MAX, tok, &e);
}

/* The body of an anchor entry over (size, root) with token tok. */
static void anchor_body(uint64_t size, const uint8_t root[HASH_LEN], const struct buf *tok, uint64_t t,
			struct buf *body)
{
	char hex[65];
	char *b64 = malloc(b64_encoded_len(tok->len) + 1);
	hex_encode(root, HASH_LEN, hex);
	b64_encode(tok->data, tok->len, b64);
	buf_reset(body);
	mp_pack_map(body, 4);
	mp_pack_cstr(body, "root");
	mp_pack_cstr(body, hex);
	mp_pack_cstr(body, "size");
	mp_pack_uint(body, size);
	mp_pack_cstr(body, "token");
	mp_pack_cstr(body, b64);
	mp_pack_cstr(body, "tsa_time_us");
	mp_pack_uint(body, t);
	free(b64);
}

static struct entry mk(uint64_t seq, const char *kind, const char *author, const struct buf *body)
{
	static const uint8_t empty[1] = { 0x80 };
	struct entry en = { .version = 1, .seq = seq, .kind = kind, .kind_len = strlen(kind), .project = "",
			    .author = author, .author_len = strlen(author), .body = body ? body->data : empty,
			    .body_len = body ? body->len : 1 };
	return en;
}

/* The verifier's tree cr with the leaf of the entry being fed, in *out. */
static const struct merkle_cr *with(const struct merkle_cr *cr, const uint8_t leaf[HASH_LEN], struct merkle_cr *out)
{
	struct err e = { 0 };
	*out = *cr;
	merkle_cr_append(out, leaf, NULL, NULL, &e);
	return out;
}

static void leaf_of(uint64_t i, uint8_t out[HASH_LEN])
{
	uint8_t b[8];
	for (int k = 0; k < 8; k++)
		b[k] = (uint8_t)(i >> (8 * k));
	merkle_leaf_hash(b, sizeof b, out);
}

/* Feeds n plain entries from seq `from` into cr (the verifier's tree) and x; 0 or -1. */
static int feed(struct anchors *x, struct merkle_cr *cr, uint64_t from, uint64_t n)
{
	struct err e = { 0 };
	for (uint64_t i = from; i < from + n; i++) {
		uint8_t leaf[HASH_LEN];
		struct entry en = mk(i, "note", "cn:lead", NULL);
		leaf_of(i, leaf);
		if (merkle_cr_append(cr, leaf, NULL, NULL, &e) || anchors_feed(x, &en, leaf, cr, &e))
			return -1;
	}
	return 0;
}

int main(void)
{
	struct err e = { 0 };
	char cmd[1200], ca[600], other[600];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/anchors-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return perror("mkdtemp"), 1;
	snprintf(cmd, sizeof cmd, "bash '%s' '%s/pki' >/dev/null 2>&1", TSA_PKI_SH, dir);
	if (system(cmd) != 0) {
		printf("Bail out! the test TSA's certificates (%s)\n", TSA_PKI_SH);
		return 1;
	}
	strcat(dir, "/pki");
	snprintf(ca, sizeof ca, "%s/ca.crt", dir);
	snprintf(other, sizeof other, "%s/other-ca.crt", dir);

	/* entries 0..2, then the anchor of size 3 as entry 3 */
	struct anchors x;
	struct merkle_cr cr;
	struct buf tok, body, tok2;
	uint8_t root[HASH_LEN], root2[HASH_LEN], imp[HASH_LEN], leaf[HASH_LEN];
	uint64_t t = 0, t2 = 0;
	anchors_init(&x);
	merkle_cr_init(&cr);
	buf_init(&tok);
	buf_init(&tok2);
	buf_init(&body);
	ok(feed(&x, &cr, 0, 2) == 0, "two entries fed");
	merkle_cr_root(&cr, root2);
	ok(feed(&x, &cr, 2, 1) == 0, "a third");
	merkle_cr_root(&cr, root);
	if (stamp(3, root, &tok) || stamp(2, root2, &tok2) || tsa_token_read(tok.data, tok.len, imp, &t, &e) ||
	    tsa_token_read(tok2.data, tok2.len, imp, &t2, &e)) {
		printf("Bail out! the test TSA made no token: %s\n", e.msg);
		return 1;
	}
	anchor_body(3, root, &tok, t, &body);
	struct entry an = mk(3, "anchor", "scoped", &body);
	leaf_of(3, leaf);
	ok(anchors_feed(&x, &an, leaf, with(&cr, leaf, &cr), &e) == 0, "the anchor of size 3 is kept: %s", e.msg);
	is_int(x.n, 1, "  one anchor");
	const struct anchor *a = anchors_covering(&x, 0);
	ok(a && a->seq == 3 && a->size == 3 && a->time_us == t, "  it covers entry 0, at the token's time");
	ok(anchors_covering(&x, 2) == a, "  and entry 2");
	ok(anchors_covering(&x, 3) == NULL, "  not entry 3 (itself)");
	e.msg[0] = '\0';
	ok(anchor_verify(a, ORIGIN, ca, &e) == 0, "the token verifies with the TSA's CA: %s", e.msg);
	ok(anchor_verify(a, ORIGIN, other, &e) != 0, "  not with another CA");
	ok(strstr(e.msg, "does not verify") != NULL, "  saying so: %s", e.msg);
	ok(anchor_verify(a, "other.example/log", ca, &e) != 0, "  nor for another log's origin");

	/* a token for another checkpoint (size 2), in an anchor of size 3 */
	struct anchor bad = *a;
	bad.token = tok2.data;
	bad.token_len = tok2.len;
	bad.time_us = t2;
	ok(anchor_verify(&bad, ORIGIN, ca, &e) != 0, "a token for another checkpoint is refused");
	ok(strstr(e.msg, "does not verify") != NULL, "  saying so: %s", e.msg);

	/* the signature's last byte flipped (the ECDSA value ends the token) */
	struct buf flip;
	buf_init(&flip);
	buf_add(&flip, tok.data, tok.len);
	flip.data[flip.len - 1] ^= 0x01;
	bad = *a;
	bad.token = flip.data;
	ok(tsa_token_read(flip.data, flip.len, imp, &t2, &e) == 0, "a token with a flipped signature byte still reads");
	ok(anchor_verify(&bad, ORIGIN, ca, &e) != 0, "  but is refused");
	ok(strstr(e.msg, "does not verify") != NULL, "  saying so: %s", e.msg);

	bad = *a;
	bad.time_us = t + 1;
	ok(anchor_verify(&bad, ORIGIN, ca, &e) != 0, "a stated time other than the token's is refused");
	ok(strstr(e.msg, "genTime") != NULL, "  naming genTime: %s", e.msg);

	/* a root that is not the entries' root */
	ok(feed(&x, &cr, 4, 1) == 0, "entry 4");
	anchor_body(4, root, &tok, t, &body);
	an = mk(5, "anchor", "scoped", &body);
	leaf_of(5, leaf);
	struct merkle_cr t5;
	ok(anchors_feed(&x, &an, leaf, with(&cr, leaf, &t5), &e) != 0, "an anchor of size 4 with size 3's root is refused");
	ok(strstr(e.msg, "anchor entry 5") && strstr(e.msg, "not the root of the entries at size 4"),
	   "  naming the anchor entry: %s", e.msg);
	an = mk(5, "anchor", "cn:admin", &body);
	ok(anchors_feed(&x, &an, leaf, &t5, &e) != 0 && strstr(e.msg, "recorded by scoped"),
	   "an anchor entry by a client is refused: %s", e.msg);
	anchors_free(&x);

	/* roots across the window's roll-over; a size too far back */
	uint64_t n = 3 * ANCHORS_WINDOW + 7, s = n - 100;
	struct merkle_cr at;
	anchors_init(&x);
	merkle_cr_init(&cr);
	ok(feed(&x, &cr, 0, s) == 0, "%llu entries fed", (unsigned long long)s);
	at = cr;
	merkle_cr_root(&at, root);
	ok(feed(&x, &cr, s, n - s) == 0, "and %llu more", (unsigned long long)(n - s));
	anchor_body(s, root, &tok, t, &body);
	an = mk(n, "anchor", "scoped", &body);
	leaf_of(n, leaf);
	e.msg[0] = '\0';
	ok(anchors_feed(&x, &an, leaf, with(&cr, leaf, &at), &e) == 0,
	   "an anchor 100 entries back is checked against the computed root: %s",
	   e.msg);
	anchors_free(&x);
	anchors_init(&x);
	merkle_cr_init(&cr);
	ok(feed(&x, &cr, 0, n) == 0, "a new pass");
	anchor_body(5, root, &tok, t, &body);
	an = mk(n, "anchor", "scoped", &body);
	ok(anchors_feed(&x, &an, leaf, with(&cr, leaf, &at), &e) != 0 && strstr(e.msg, "cannot be checked in one pass"),
	   "an anchor far behind its entry is refused, not passed: %s", e.msg);
	anchors_free(&x);
	/* the oldest size still checkable, 2 windows back: the verifier's tree
	 * as it was then, kept, not recomputed; one before it is refused */
	struct merkle_cr edge;
	anchors_init(&x);
	merkle_cr_init(&cr);
	ok(feed(&x, &cr, 0, 2 * ANCHORS_WINDOW) == 0, "a third pass: %d entries", 2 * ANCHORS_WINDOW);
	merkle_cr_root(&cr, root);
	ok(feed(&x, &cr, 2 * ANCHORS_WINDOW, ANCHORS_WINDOW + 7) == 0, "  and %d more", ANCHORS_WINDOW + 7);
	anchor_body(2 * ANCHORS_WINDOW, root, &tok, t, &body);
	an = mk(n, "anchor", "scoped", &body);
	e.msg[0] = '\0';
	ok(anchors_feed(&x, &an, leaf, with(&cr, leaf, &edge), &e) == 0,
	   "an anchor of the size 2 windows back is checked: %s", e.msg);
	ok(anchors_covering(&x, 2 * ANCHORS_WINDOW - 1) != NULL, "  and kept");
	anchors_free(&x);
	anchors_init(&x);
	merkle_cr_init(&cr);
	ok(feed(&x, &cr, 0, 2 * ANCHORS_WINDOW - 1) == 0, "a fourth pass");
	merkle_cr_root(&cr, root);
	ok(feed(&x, &cr, 2 * ANCHORS_WINDOW - 1, ANCHORS_WINDOW + 8) == 0, "  to the same size");
	anchor_body(2 * ANCHORS_WINDOW - 1, root, &tok, t, &body);
	an = mk(n, "anchor", "scoped", &body);
	ok(anchors_feed(&x, &an, leaf, with(&cr, leaf, &edge), &e) != 0 && strstr(e.msg, "cannot be checked in one pass"),
	   "  one entry further back is refused: %s", e.msg);
	struct entry late = mk(n + 1, "note", "cn:lead", NULL);
	ok(anchors_feed(&x, &late, leaf, &cr, &e) != 0 && strstr(e.msg, "fed out of order"),
	   "an entry fed with a tree of another size is refused: %s", e.msg);
	anchors_free(&x);

	buf_free(&tok);
	buf_free(&tok2);
	buf_free(&flip);
	buf_free(&body);
	dir[strlen(dir) - 4] = '\0';
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return done_testing();
}
