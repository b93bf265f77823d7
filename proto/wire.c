#include "wire.h"

#include <stdio.h>
#include <string.h>

#include "frame.h"
#include "mp.h"

static const struct mp_limits WIRE_LIMITS = { 24, 200000 };

static bool key_is(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(k, want, n) == 0;
}

static int get_u64(struct mp_cur *c, const char *name, bool *has, uint64_t *v, struct err *e)
{
	if (*has)
		return err_set(e, "field \"%s\" appears twice", name);
	if (mp_get_uint(c, v, e))
		return err_prefix(e, "field \"%s\"", name);
	*has = true;
	return 0;
}

static int get_bool(struct mp_cur *c, const char *name, bool *v, struct err *e)
{
	struct mp_item it;
	if (mp_next(c, &it, e))
		return -1;
	if (it.type != MP_BOOL)
		return err_set(e, "field \"%s\" must be true or false", name);
	*v = it.b;
	return 0;
}

static int get_s(struct mp_cur *c, const char *name, const char **s, size_t *n, struct err *e)
{
	if (*s)
		return err_set(e, "field \"%s\" appears twice", name);
	if (mp_get_str(c, s, n, e))
		return err_prefix(e, "field \"%s\"", name);
	return 0;
}

static int get_b(struct mp_cur *c, const char *name, const uint8_t **b, size_t *n, struct err *e)
{
	if (*b)
		return err_set(e, "field \"%s\" appears twice", name);
	if (mp_get_bin(c, b, n, e))
		return err_prefix(e, "field \"%s\"", name);
	return 0;
}

int wire_parse_request(const uint8_t *p, size_t n, struct wire_req *r, uint64_t *id_out,
		       struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	bool has_id = false;
	const char *op = NULL;
	size_t oplen = 0;

	memset(r, 0, sizeof *r);
	*id_out = 0;
	/* the id first, if it can be found, so even a refusal can echo it */
	struct mp_cur idc;
	if (mp_map_find(p, n, "id", &idc, NULL) == 1) {
		uint64_t id;
		if (mp_get_uint(&idc, &id, NULL) == 0)
			*id_out = id;
	}
	if (mp_check(p, n, &WIRE_LIMITS, 0, e)) {
		err_prefix(e, "request is not valid msgpack");
		return -2;
	}
	mp_cur_init(&c, p, n);
	if (mp_get_map(&c, &count, e)) {
		err_prefix(e, "request must be a map");
		return -2;
	}
	for (uint32_t i = 0; i < count; i++) {
		const char *k;
		size_t kn;
		if (mp_get_str(&c, &k, &kn, e))
			return err_prefix(e, "request keys must be strings");
		int rc = 0;
		if (key_is(k, kn, "id"))
			rc = get_u64(&c, "id", &has_id, &r->id, e);
		else if (key_is(k, kn, "op"))
			rc = get_s(&c, "op", &op, &oplen, e);
		else if (key_is(k, kn, "seq"))
			rc = get_u64(&c, "seq", &r->has_seq, &r->seq, e);
		else if (key_is(k, kn, "size"))
			rc = get_u64(&c, "size", &r->has_size, &r->size, e);
		else if (key_is(k, kn, "from"))
			rc = get_u64(&c, "from", &r->has_from, &r->from, e);
		else if (key_is(k, kn, "to"))
			rc = get_u64(&c, "to", &r->has_to, &r->to, e);
		else if (key_is(k, kn, "limit"))
			rc = get_u64(&c, "limit", &r->has_limit, &r->limit, e);
		else if (key_is(k, kn, "as_of"))
			rc = get_s(&c, "as_of", &r->as_of, &r->as_of_len, e);
		else if (key_is(k, kn, "old"))
			rc = get_u64(&c, "old", &r->has_old, &r->old_size, e);
		else if (key_is(k, kn, "new"))
			rc = get_u64(&c, "new", &r->has_new, &r->new_size, e);
		else if (key_is(k, kn, "offset"))
			rc = get_u64(&c, "offset", &r->has_offset, &r->offset, e);
		else if (key_is(k, kn, "length"))
			rc = get_u64(&c, "length", &r->has_length, &r->length, e);
		else if (key_is(k, kn, "kind"))
			rc = get_s(&c, "kind", &r->kind, &r->kind_len, e);
		else if (key_is(k, kn, "project"))
			rc = get_s(&c, "project", &r->project, &r->project_len, e);
		else if (key_is(k, kn, "name"))
			rc = get_s(&c, "name", &r->name, &r->name_len, e);
		else if (key_is(k, kn, "request_id"))
			rc = get_s(&c, "request_id", &r->request_id, &r->request_id_len, e);
		else if (key_is(k, kn, "cursor"))
			rc = get_b(&c, "cursor", &r->cursor, &r->cursor_len, e);
		else if (key_is(k, kn, "sha256"))
			rc = get_b(&c, "sha256", &r->sha256, &r->sha256_len, e);
		else if (key_is(k, kn, "data"))
			rc = get_b(&c, "data", &r->data, &r->data_len, e);
		else if (key_is(k, kn, "upload"))
			rc = get_u64(&c, "upload", &r->has_upload, &r->upload, e);
		else if (key_is(k, kn, "cosigned"))
			rc = get_bool(&c, "cosigned", &r->cosigned, e);
		else if (key_is(k, kn, "body")) {
			if (r->body)
				return err_set(e, "field \"body\" appears twice");
			r->body = c.p;
			rc = mp_skip(&c, WIRE_LIMITS.max_depth, e);
			r->body_len = (size_t)(c.p - r->body);
		} else
			return err_set(e, "unknown field \"%.*s\"", (int)(kn > 40 ? 40 : kn), k);
		if (rc)
			return -1;
	}
	if (!has_id)
		return err_set(e, "request has no \"id\"");
	if (op == NULL)
		return err_set(e, "request has no \"op\"");
	if (oplen == 0 || oplen >= sizeof r->op)
		return err_set(e, "unknown operation \"%.*s\"", (int)(oplen > 40 ? 40 : oplen), op);
	memcpy(r->op, op, oplen);
	r->op[oplen] = '\0';
	return 0;
}

size_t wire_begin(struct buf *b)
{
	size_t start = b->len;
	static const uint8_t zero[FRAME_HDR];
	buf_add(b, zero, FRAME_HDR);
	return start;
}

int wire_seal(struct buf *b, size_t start, uint32_t max)
{
	if (buf_failed(b))
		return -1;
	size_t n = b->len - start - FRAME_HDR;
	if (n == 0 || n > max)
		return -1;
	frame_header(b->data + start, (uint32_t)n);
	return 0;
}

void wire_request(struct buf *b, uint64_t id, const char *op, uint32_t nparams)
{
	mp_pack_map(b, 2 + nparams);
	mp_pack_cstr(b, "id");
	mp_pack_uint(b, id);
	mp_pack_cstr(b, "op");
	mp_pack_cstr(b, op);
}

void wire_ok(struct buf *b, uint64_t id, uint32_t nfields)
{
	mp_pack_map(b, 3);
	mp_pack_cstr(b, "id");
	mp_pack_uint(b, id);
	mp_pack_cstr(b, "ok");
	mp_pack_bool(b, true);
	mp_pack_cstr(b, "result");
	mp_pack_map(b, nfields);
}

void wire_error(struct buf *b, uint64_t id, const char *code, const char *message)
{
	size_t start = wire_begin(b);
	size_t mlen = strlen(message);
	if (mlen > 1000)
		mlen = 1000;
	/* messages may quote peer input: keep them valid UTF-8 */
	while (mlen > 0 && !utf8_valid((const uint8_t *)message, mlen))
		mlen--;
	mp_pack_map(b, 3);
	mp_pack_cstr(b, "id");
	mp_pack_uint(b, id);
	mp_pack_cstr(b, "ok");
	mp_pack_bool(b, false);
	mp_pack_cstr(b, "error");
	mp_pack_map(b, 2);
	mp_pack_cstr(b, "code");
	mp_pack_cstr(b, code);
	mp_pack_cstr(b, "message");
	mp_pack_str(b, message, mlen);
	wire_seal(b, start, UINT32_MAX);
}

static void copy_str(struct mp_cur *c, char *out, size_t outlen)
{
	const char *s;
	size_t n;
	if (outlen == 0)
		return;
	out[0] = '\0';
	if (mp_get_str(c, &s, &n, NULL))
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

int wire_parse_response(const uint8_t *p, size_t n, uint64_t *id, const uint8_t **result,
			size_t *result_len, char *code, size_t codelen, char *msg, size_t msglen,
			struct err *e)
{
	struct mp_cur c;
	struct mp_item it;
	if (mp_check(p, n, &WIRE_LIMITS, 0, e))
		return err_prefix(e, "response is not valid msgpack");
	if (mp_map_find(p, n, "id", &c, e) != 1 || mp_get_uint(&c, id, e))
		return err_set(e, "response has no id");
	if (mp_map_find(p, n, "ok", &c, e) != 1 || mp_next(&c, &it, e) || it.type != MP_BOOL)
		return err_set(e, "response has no \"ok\"");
	if (it.b) {
		if (mp_map_find(p, n, "result", &c, e) != 1)
			return err_set(e, "response has no result");
		*result = c.p;
		if (mp_skip(&c, WIRE_LIMITS.max_depth, e))
			return -1;
		*result_len = (size_t)(c.p - *result);
		return 1;
	}
	if (mp_map_find(p, n, "error", &c, e) != 1)
		return err_set(e, "error response has no error");
	const uint8_t *ep = c.p;
	if (mp_skip(&c, 2, e))
		return -1;
	size_t en = (size_t)(c.p - ep);
	struct mp_cur f;
	if (mp_map_find(ep, en, "code", &f, e) == 1)
		copy_str(&f, code, codelen);
	if (mp_map_find(ep, en, "message", &f, e) == 1)
		copy_str(&f, msg, msglen);
	return 0;
}
