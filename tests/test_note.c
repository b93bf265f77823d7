/* C2SP signed-note and tlog-checkpoint, with the Go reference known answers. */
#include "enc.h"
#include "note.h"
#include "tap.h"

/* golang.org/x/mod/sumdb/note's documented example key and note */
static const char PN_VKEY[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char PN_SKEY_B64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"; /* 0x01 || seed */
static const char PN_TEXT[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n";
static const char PN_NOTE[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/* a second published example (example.com/foo) */
static const char FOO_VKEY[] = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char FOO_NOTE[] =
	"This is an example message.\n\n"
	"\xe2\x80\x94 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

static int open_with(const char *msg, const struct note_verifier *v, size_t nv, struct err *e)
{
	size_t tl, by;
	return note_open(msg, strlen(msg), v, nv, &tl, &by, e);
}

int main(void)
{
	struct err e = { 0 };
	struct note_verifier pn, foo, v;
	struct note_signer s;
	struct buf b;
	buf_init(&b);

	ok(note_verifier_parse(PN_VKEY, strlen(PN_VKEY), &pn, &e) == 0, "parse the reference verifier key");
	is_str(pn.name, "PeterNeumann", "  name");
	note_verifier_format(&pn, &b);
	is_str(buf_cstr(&b), PN_VKEY, "  formats back to the same string");

	uint8_t raw[40];
	size_t rn;
	ok(b64_decode(PN_SKEY_B64, strlen(PN_SKEY_B64), raw, sizeof raw, &rn) == 0 && rn == 33 &&
	   raw[0] == 1, "decode the reference private key");
	ok(note_signer_from_seed(&s, "PeterNeumann", raw + 1, &e) == 0, "signer from the seed");
	note_signer_verifier(&s, &v);
	ok(memcmp(v.key_id, pn.key_id, 4) == 0 && memcmp(v.pub, pn.pub, 32) == 0,
	   "  derives the same public key and key id c74f20a3");
	buf_reset(&b);
	ok(note_sign(&s, PN_TEXT, strlen(PN_TEXT), &b, &e) == 0, "sign the reference text");
	is_str(buf_cstr(&b), PN_NOTE, "  the signed note equals the Go reference byte for byte");

	ok(open_with(PN_NOTE, &pn, 1, &e) == 0, "open the reference note");
	ok(note_verifier_parse(FOO_VKEY, strlen(FOO_VKEY), &foo, &e) == 0, "parse example.com/foo key");
	ok(open_with(FOO_NOTE, &foo, 1, &e) == 0, "open the example.com/foo note");
	struct note_verifier both[2] = { foo, pn };
	size_t tl, by = 9;
	ok(note_open(PN_NOTE, strlen(PN_NOTE), both, 2, &tl, &by, &e) == 0 && by == 1 &&
	   tl == strlen(PN_TEXT), "with two trusted keys, reports which one verified and the text length");

	/* refusals */
	char bad[512];
	strcpy(bad, PN_NOTE);
	bad[3] ^= 0x20;
	ok(open_with(bad, &pn, 1, &e) != 0, "altered text is refused");
	like(e.msg, "does not verify", "  says the signature does not verify");
	ok(open_with(PN_NOTE, &foo, 1, &e) != 0, "a note signed by an untrusted key is refused");
	like(e.msg, "no signature from a trusted key", "  says so");
	ok(open_with(PN_TEXT, &pn, 1, &e) != 0, "a note without signatures is refused");
	strcpy(bad, PN_NOTE);
	char *dash = strstr(bad, "\xe2\x80\x94");
	dash[0] = '-';
	dash[1] = '-';
	dash[2] = ' ';
	ok(open_with(bad, &pn, 1, &e) != 0, "a signature line with '--' instead of an em dash is refused");
	ok(open_with("a\n\n\xe2\x80\x94 PeterNeumann AAAA\n", &pn, 1, &e) != 0, "short signature refused");
	ok(open_with("\n\n\xe2\x80\x94 x y\n", &pn, 1, &e) != 0, "empty text refused");

	const char *badkeys[] = {
		"PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",	/* wrong id */
		"PeterNeumann+c74f20a3+AhpC2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",	/* wrong type */
		"Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",	/* space */
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",	/* short */
		"PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",	/* upper hex */
		"PeterNeumann",
		"",
	};
	int refused = 0;
	for (size_t i = 0; i < sizeof badkeys / sizeof badkeys[0]; i++)
		refused += note_verifier_parse(badkeys[i], strlen(badkeys[i]), &v, &e) != 0;
	is_int(refused, (int)(sizeof badkeys / sizeof badkeys[0]), "mangled verifier keys are all refused");

	/* checkpoints */
	struct checkpoint cp = { .size = 12345 }, got;
	strcpy(cp.origin, "example.com/acme");
	for (int i = 0; i < 32; i++)
		cp.root[i] = (uint8_t)i;
	buf_reset(&b);
	checkpoint_format(&cp, &b);
	is_str(buf_cstr(&b), "example.com/acme\n12345\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
	       "checkpoint body: origin, size, base64 root");
	ok(checkpoint_parse((const char *)b.data, b.len, &got, &e) == 0 && got.size == 12345 &&
	   memcmp(got.root, cp.root, 32) == 0 && strcmp(got.origin, cp.origin) == 0, "parse it back");
	const char *ext = "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nextension line\n";
	ok(checkpoint_parse(ext, strlen(ext), &got, &e) == 0, "extension lines are allowed");
	const char *badcp[] = {
		"o\n01\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",	/* leading zero */
		"o\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",	/* 31 bytes */
		"o\n1\n",
		"\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"o\n99999999999999999999\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
	};
	refused = 0;
	for (size_t i = 0; i < sizeof badcp / sizeof badcp[0]; i++)
		refused += checkpoint_parse(badcp[i], strlen(badcp[i]), &got, &e) != 0;
	is_int(refused, (int)(sizeof badcp / sizeof badcp[0]), "malformed checkpoints are all refused");

	/* signed checkpoint: origin must equal the key name */
	struct note_signer acme;
	uint8_t seed[32] = { 7 };
	ok(note_signer_from_seed(&acme, "example.com/acme", seed, &e) == 0, "signer example.com/acme");
	struct buf body, signedcp;
	buf_init(&body);
	buf_init(&signedcp);
	checkpoint_format(&cp, &body);
	ok(note_sign(&acme, (const char *)body.data, body.len, &signedcp, &e) == 0, "sign a checkpoint");
	note_signer_verifier(&acme, &v);
	ok(checkpoint_open((const char *)signedcp.data, signedcp.len, &v, 1, &got, &e) == 0 &&
	   got.size == 12345, "open the signed checkpoint");
	struct note_signer other;
	ok(note_signer_from_seed(&other, "example.com/other", seed, &e) == 0, "signer with another name");
	buf_reset(&signedcp);
	note_sign(&other, (const char *)body.data, body.len, &signedcp, &e);
	note_signer_verifier(&other, &v);
	ok(checkpoint_open((const char *)signedcp.data, signedcp.len, &v, 1, &got, &e) != 0,
	   "a checkpoint whose origin differs from the key name is refused");
	like(e.msg, "differs from the key name", "  says so");
	/* a key rotation: the old and the new key sign the same checkpoint */
	struct note_signer acme2;
	uint8_t seed2[32] = { 8 };
	ok(note_signer_from_seed(&acme2, "example.com/acme", seed2, &e) == 0, "a second key for example.com/acme");
	const struct note_signer *pair[] = { &acme, &acme2 };
	buf_reset(&signedcp);
	ok(note_sign_multi(pair, 2, (const char *)body.data, body.len, &signedcp, &e) == 0,
	   "sign a checkpoint with both keys");
	int lines = 0;
	for (size_t i = 0; i + 3 <= signedcp.len; i++)
		lines += memcmp(signedcp.data + i, "\xe2\x80\x94", 3) == 0;
	is_int(lines, 2, "  it carries two signature lines");
	struct note_verifier v1, v2, vs[2];
	note_signer_verifier(&acme, &v1);
	note_signer_verifier(&acme2, &v2);
	ok(checkpoint_open((const char *)signedcp.data, signedcp.len, &v1, 1, &got, &e) == 0,
	   "  the old key alone opens it");
	ok(checkpoint_open((const char *)signedcp.data, signedcp.len, &v2, 1, &got, &e) == 0,
	   "  the new key alone opens it");
	vs[0] = v2;
	vs[1] = v1;
	ok(note_open((const char *)signedcp.data, signedcp.len, vs, 2, &tl, &by, &e) == 0 && by == 1,
	   "  with both trusted, the first signature found names its verifier");
	buf_reset(&signedcp);
	note_sign(&acme, (const char *)body.data, body.len, &signedcp, &e);
	ok(checkpoint_open((const char *)signedcp.data, signedcp.len, &v2, 1, &got, &e) != 0,
	   "  a checkpoint signed by the old key only does not open with the new one");
	note_signer_free(&acme2);
	ok(note_sign(&acme, "a\n\nb\n", 5, &b, &e) != 0, "text with a blank line cannot be signed");
	ok(note_sign(&acme, "no newline", 10, &b, &e) != 0, "text without a final newline cannot be signed");

	/* the signed checkpoint example of proto/FORMAT.md: seed bytes 0..31,
	 * the example entry's leaf hash as the root of a tree of size 1 */
	struct note_signer doc;
	uint8_t dseed[32];
	for (int i = 0; i < 32; i++)
		dseed[i] = (uint8_t)i;
	ok(note_signer_from_seed(&doc, "example.com/scope-ledger", dseed, &e) == 0, "FORMAT.md example key");
	note_signer_verifier(&doc, &v);
	buf_reset(&b);
	note_verifier_format(&v, &b);
	is_str(buf_cstr(&b), "example.com/scope-ledger+6d8a93cb+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
	       "  verifier key as documented");
	struct checkpoint dcp = { .size = 1 };
	strcpy(dcp.origin, "example.com/scope-ledger");
	hex_decode("19eb67380214b0d6030497c5b6a4fadf19973d0003456800d03d4f809ea9eb02", 64, dcp.root, 32);
	buf_reset(&body);
	buf_reset(&signedcp);
	checkpoint_format(&dcp, &body);
	ok(note_sign(&doc, (const char *)body.data, body.len, &signedcp, &e) == 0, "  sign the example checkpoint");
	is_str(buf_cstr(&signedcp),
	       "example.com/scope-ledger\n1\nGetnOAIUsNYDBJfFtqT63xmXPQADRWgA0D1PgJ6p6wI=\n\n"
	       "\xe2\x80\x94 example.com/scope-ledger bYqTyxR3hrCmM0XN56kYldG+uwqGUbnljE1pfd7hyGTUPwxuF39xCAMD8FTHdetd6+9ucjiP3IJgNJvfdFhv4LkpDAE=\n",
	       "  the signed checkpoint is exactly the documented one");
	note_signer_free(&doc);

	note_signer_free(&s);
	note_signer_free(&acme);
	note_signer_free(&other);
	buf_free(&b);
	buf_free(&body);
	buf_free(&signedcp);
	return done_testing();
}
