#include <string.h>

#include "enc.h"
#include "logger.h"
#include "merkle.h"
#include "witness.h"

#define MAX_PROOF 63

struct request {
	uint64_t old;
	uint8_t proof[MAX_PROOF][HASH_LEN];
	size_t nproof;
	const char *note;	/* the checkpoint note */
	size_t note_len;
	size_t text_len;
	struct checkpoint cp;
	const struct witness_log *log;
	const struct cosig_signer *signer;
	uint64_t now;
	const char *body;
	size_t body_len;
	struct wadd_result *r;
};

static void answer(struct wadd_result *r, int status, const char *why)
{
	r->status = status;
	buf_reset(&r->body);
	buf_adds(&r->body, why);
	buf_addc(&r->body, '\n');
}

static bool decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* The body grammar: "old N\n", proof lines, "\n", a checkpoint note. */
static const char *parse(struct request *q, struct err *e)
{
	const char *b = q->body, *end = b + q->body_len;
	const char *nl = memchr(b, '\n', q->body_len);
	if (nl == NULL || nl - b < 5 || memcmp(b, "old ", 4) != 0 || !decimal(b + 4, (size_t)(nl - b - 4), &q->old))
		return "the first line must be \"old <size>\" (decimal, no leading zeros)";
	b = nl + 1;
	for (;;) {
		nl = b < end ? memchr(b, '\n', (size_t)(end - b)) : NULL;
		if (nl == NULL)
			return "the proof lines must end with an empty line before the checkpoint";
		if (nl == b)
			break;
		size_t got;
		if (q->nproof == MAX_PROOF)
			return "more than 63 consistency proof lines";
		if (b64_decode(b, (size_t)(nl - b), q->proof[q->nproof], HASH_LEN, &got) || got != HASH_LEN)
			return "a consistency proof line is not a base64 SHA-256 hash";
		q->nproof++;
		b = nl + 1;
	}
	q->note = nl + 1;
	q->note_len = (size_t)(end - q->note);
	if (note_split(q->note, q->note_len, &q->text_len, e) ||
	    checkpoint_parse(q->note, q->text_len, &q->cp, e))
		return e->msg;
	return NULL;
}

/* The log's note as the witness keeps it: the text, the log's own
 * signature lines (those of its trusted keys), then the cosignature. */
static void keep_note(const struct request *q, const char *cosig, size_t n, struct buf *out)
{
	buf_add(out, q->note, q->text_len + 1);
	for (size_t p = q->text_len + 1, k = 1; p < q->note_len; k++) {
		struct note_sig sig;
		size_t start = p;
		if (note_sig_next(q->note, q->note_len, &p, k, &sig, NULL))
			break;
		for (size_t i = 0; i < q->log->nkeys; i++)
			if (note_sig_is(&sig, q->log->keys[i].name, q->log->keys[i].key_id)) {
				buf_add(out, q->note + start, p - start);
				break;
			}
	}
	buf_add(out, cosig, n);
}

/* A checkpoint the log signed (checked before) of the size the witness
 * cosigned with another root: two signed tree heads of one size, a fork
 * shown by what the log signed alone, whoever sends it. */
static enum wstate_act conflict(struct request *q, struct wrecord *rec, struct buf *bytes)
{
	static const char why[] = "same size as the last cosigned checkpoint, another root";
	answer(q->r, 422, why);
	rec->size = q->cp.size;
	memcpy(rec->root, q->cp.root, HASH_LEN);
	buf_printf(bytes, "422 %s\n", why);
	buf_add(bytes, q->body, q->body_len);
	return WSTATE_CONFLICT;
}

/* A 422 that shows nothing against the log: the proof is the sender's,
 * and anyone can pair a public checkpoint with a garbage one. */
static enum wstate_act bad_request(struct request *q, const char *why)
{
	answer(q->r, 422, why);
	return WSTATE_NONE;
}

static enum wstate_act decide(void *ctx, const struct wrecord *old, struct wrecord *rec, struct buf *bytes)
{
	struct request *q = ctx;
	struct err e = { 0 };
	if (q->old != old->size) {
		q->r->status = 409;
		buf_reset(&q->r->body);
		buf_printf(&q->r->body, "%llu\n", (unsigned long long)old->size);
		return WSTATE_NONE;
	}
	if (q->old == 0 && q->nproof != 0)
		return bad_request(q, "a consistency proof from size 0 must be empty");
	if (q->old > 0 && q->old == q->cp.size) {
		if (memcmp(old->root, q->cp.root, HASH_LEN) != 0)
			return conflict(q, rec, bytes);
		if (q->nproof != 0)
			return bad_request(q, "a consistency proof between equal sizes must be empty");
	} else if (q->old > 0 &&
		   merkle_verify_consistency(q->old, q->cp.size, old->root, q->cp.root, q->proof, q->nproof, &e))
		return bad_request(q, "the consistency proof does not verify");
	struct buf line;
	buf_init(&line);
	if (cosig_sign(q->signer, q->note, q->text_len, q->now, &line, &e)) {
		buf_free(&line);
		answer(q->r, 500, e.msg);
		return WSTATE_NONE;
	}
	rec->size = q->cp.size;
	memcpy(rec->root, q->cp.root, HASH_LEN);
	keep_note(q, (const char *)line.data, line.len, bytes);
	q->r->status = 200;
	buf_reset(&q->r->body);
	buf_add(&q->r->body, line.data, line.len);
	buf_free(&line);
	return WSTATE_STORE;
}

void wadd(struct wstate *w, const struct witness_config *c, const struct cosig_signer *s,
	  const char *body, size_t n, uint64_t now, struct wadd_result *r)
{
	static struct request q;	/* large (the proof): one request at a time on the loop */
	struct err e = { 0 };
	memset(&q, 0, sizeof q);
	q.body = body;
	q.body_len = n;
	q.signer = s;
	q.now = now;
	q.r = r;
	const char *bad = parse(&q, &e);
	if (bad) {
		answer(r, 400, bad);
		return;
	}
	if ((q.log = wconfig_log(c, q.cp.origin)) == NULL) {
		answer(r, 404, "unknown log origin");
		return;
	}
	struct checkpoint cp;
	if (checkpoint_open(q.note, q.note_len, q.log->keys, q.log->nkeys, &cp, &e)) {
		answer(r, 403, e.msg);
		return;
	}
	if (q.old > q.cp.size) {
		answer(r, 400, "old size is larger than the checkpoint's size");
		return;
	}
	uint8_t empty[HASH_LEN];
	merkle_empty_root(empty);
	if (q.cp.size == 0 && memcmp(q.cp.root, empty, HASH_LEN) != 0) {
		answer(r, 422, "a checkpoint of size 0 must have the empty tree's root");
		return;
	}
	if (wstate_update(w, q.cp.origin, decide, &q, &r->conflict, &e)) {
		r->conflict = WSTATE_KEPT_NONE;
		log_msg(LOG_ERROR, "witness: %s", e.msg);
		answer(r, 500, "the witness could not record the checkpoint");
	} else if (r->conflict == WSTATE_KEPT_NEW) {
		log_msg(LOG_ERROR, "witness: %s: a fork: size %llu signed by the log with another root than the "
			"checkpoint it cosigned: kept as evidence", q.cp.origin, (unsigned long long)q.cp.size);
	}
}
