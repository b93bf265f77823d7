#include "entry.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "mp.h"

static int cut(size_t n)
{
	return (int)(n > 48 ? 48 : n);
}

int entry_check_kind(const char *s, size_t n, struct err *e)
{
	if (n == 0 || n > ENTRY_KIND_MAX)
		return err_set(e, "kind must be 1 to %d characters", ENTRY_KIND_MAX);
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return err_set(e, "kind \"%.*s\" must start with a lowercase letter", cut(n), s);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return err_set(e, "kind \"%.*s\" may only contain a-z, 0-9 and _", cut(n), s);
	return 0;
}

int entry_check_project(const char *s, size_t n, struct err *e)
{
	if (n > ENTRY_PROJECT_MAX)
		return err_set(e, "project id is longer than %d characters", ENTRY_PROJECT_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return err_set(e, "project id \"%.*s\" may only contain A-Z, a-z, 0-9, '.', '_' and '-'",
				       cut(n), s);
	}
	if (n > 0 && (s[0] == '.' || s[0] == '-'))
		return err_set(e, "project id \"%.*s\" must not start with '.' or '-'", cut(n), s);
	return 0;
}

int entry_check_author(const char *s, size_t n, struct err *e)
{
	if (n == 0 || n > ENTRY_AUTHOR_MAX)
		return err_set(e, "author must be 1 to %d bytes", ENTRY_AUTHOR_MAX);
	if (!utf8_valid((const uint8_t *)s, n))
		return err_set(e, "author is not valid UTF-8");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return err_set(e, "author contains a control character");
	return 0;
}

int entry_check_request_id(const char *s, size_t n, struct err *e)
{
	if (n == 0 || n > ENTRY_REQID_MAX)
		return err_set(e, "request id must be 1 to %d characters", ENTRY_REQID_MAX);
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return err_set(e, "request id may only contain printable ASCII without spaces");
	return 0;
}

const struct mp_limits ENTRY_BODY_LIMITS = { ENTRY_BODY_DEPTH, 65536 };

int entry_check_body_size(const uint8_t *p, size_t n, struct err *e)
{
	if (n > ENTRY_BODY_MAX)
		return err_set(e, "body is %zu bytes, more than the limit of %d", n, ENTRY_BODY_MAX);
	if (n == 0 || (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf)))
		return err_set(e, "body must be a map");
	return 0;
}

int entry_check_body(const uint8_t *p, size_t n, struct err *e)
{
	if (entry_check_body_size(p, n, e))
		return -1;
	if (mp_check(p, n, &ENTRY_BODY_LIMITS, MP_CANONICAL | MP_NO_BIN, e))
		return err_prefix(e, "body");
	return 0;
}

int entry_check_envelope(const char *kind, size_t kind_len, const char *project, size_t project_len,
			 const char *author, size_t author_len, const char *request_id, size_t request_id_len,
			 struct err *e)
{
	return entry_check_kind(kind, kind_len, e) || entry_check_project(project, project_len, e) ||
		       entry_check_author(author, author_len, e) ||
		       entry_check_request_id(request_id, request_id_len, e) ? -1 : 0;
}

/* The rules of every field but the body's content. */
static int check_scalars(const struct entry *en, struct err *e)
{
	if (en->version != ENTRY_VERSION)
		return err_set(e, "unsupported entry format version %llu (this build reads %d)",
			       (unsigned long long)en->version, ENTRY_VERSION);
	return entry_check_envelope(en->kind, en->kind_len, en->project, en->project_len, en->author,
				    en->author_len, en->request_id, en->request_id_len, e);
}

static int check_fields(const struct entry *en, struct err *e)
{
	return check_scalars(en, e) || entry_check_body(en->body, en->body_len, e) ? -1 : 0;
}

int entry_encode(const struct entry *en, struct buf *out, struct err *e)
{
	if (check_fields(en, e))
		return -1;
	return entry_encode_checked(en, out, e);
}

int entry_encode_checked(const struct entry *en, struct buf *out, struct err *e)
{
	mp_pack_map(out, 9);
	mp_pack_cstr(out, "author");
	mp_pack_str(out, en->author, en->author_len);
	mp_pack_cstr(out, "body");
	buf_add(out, en->body, en->body_len);	/* already canonical */
	mp_pack_cstr(out, "kind");
	mp_pack_str(out, en->kind, en->kind_len);
	mp_pack_cstr(out, "prev");
	mp_pack_bin(out, en->prev, 32);
	mp_pack_cstr(out, "project");
	mp_pack_str(out, en->project, en->project_len);
	mp_pack_cstr(out, "request_id");
	mp_pack_str(out, en->request_id, en->request_id_len);
	mp_pack_cstr(out, "seq");
	mp_pack_uint(out, en->seq);
	mp_pack_cstr(out, "time_us");
	mp_pack_uint(out, en->time_us);
	mp_pack_cstr(out, "v");
	mp_pack_uint(out, en->version);
	if (buf_failed(out))
		return err_set(e, "out of memory");
	return 0;
}

static int get_str_field(struct mp_cur *c, const char *name, const char **s, size_t *n,
			 struct err *e)
{
	/* entry_decode ran mp_check first: the strings are valid UTF-8 */
	if (mp_expect_key(c, name, e) || mp_get_str_checked(c, s, n, e))
		return err_prefix(e, "field %s", name);
	return 0;
}

int entry_decode(const uint8_t *p, size_t n, struct entry *en, struct err *e)
{
	/* One canonical walk covers the body too (its depth, UTF-8, no binary
	 * strings, and 65536 values counting the entry's own 18), so the body
	 * is not walked a second time by entry_check_body. */
	static const struct mp_limits lim = { ENTRY_BODY_DEPTH + 1, 65536 };
	struct mp_cur c;
	uint32_t count;
	const uint8_t *prev;
	size_t prevn;

	memset(en, 0, sizeof *en);
	if (n > ENTRY_MAX_BYTES)
		return err_set(e, "entry is %zu bytes, more than the limit of %d", n, ENTRY_MAX_BYTES);
	if (mp_check(p, n, &lim, MP_CANONICAL | MP_BIN_TOP, e))
		return err_prefix(e, "not a canonical msgpack entry");
	mp_cur_init(&c, p, n);
	if (mp_get_map(&c, &count, e))
		return err_prefix(e, "entry");
	if (count != 9)
		return err_set(e, "entry has %u fields, expected 9", count);
	if (get_str_field(&c, "author", &en->author, &en->author_len, e))
		return -1;
	if (mp_expect_key(&c, "body", e))
		return err_prefix(e, "entry");
	en->body = c.p;
	if (mp_skip(&c, ENTRY_BODY_DEPTH, e))
		return err_prefix(e, "field body");
	en->body_len = (size_t)(c.p - en->body);
	if (get_str_field(&c, "kind", &en->kind, &en->kind_len, e))
		return -1;
	if (mp_expect_key(&c, "prev", e) || mp_get_bin(&c, &prev, &prevn, e))
		return err_prefix(e, "field prev");
	if (prevn != 32)
		return err_set(e, "field prev: %zu bytes, expected 32", prevn);
	memcpy(en->prev, prev, 32);
	if (get_str_field(&c, "project", &en->project, &en->project_len, e) ||
	    get_str_field(&c, "request_id", &en->request_id, &en->request_id_len, e))
		return -1;
	if (mp_expect_key(&c, "seq", e) || mp_get_uint(&c, &en->seq, e))
		return err_prefix(e, "field seq");
	if (mp_expect_key(&c, "time_us", e) || mp_get_uint(&c, &en->time_us, e))
		return err_prefix(e, "field time_us");
	if (mp_expect_key(&c, "v", e) || mp_get_uint(&c, &en->version, e))
		return err_prefix(e, "field v");
	return check_scalars(en, e) || entry_check_body_size(en->body, en->body_len, e) ? -1 : 0;
}

void entry_format_time(uint64_t time_us, char out[40])
{
	time_t secs = (time_t)(time_us / 1000000);
	struct tm tm;
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, 40, "(time out of range)");
		return;
	}
	char base[24];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%06uZ", base, (unsigned)(time_us % 1000000));
}

int entry_to_json(const struct entry *en, const uint8_t leaf_hash[32], struct buf *out,
		  struct err *e)
{
	char t[40];
	entry_format_time(en->time_us, t);
	buf_printf(out, "{\"seq\":%llu,\"time_us\":%llu,\"time\":\"%s\",\"kind\":",
		   (unsigned long long)en->seq, (unsigned long long)en->time_us, t);
	json_put_str(out, en->kind, en->kind_len);
	buf_adds(out, ",\"project\":");
	json_put_str(out, en->project, en->project_len);
	buf_adds(out, ",\"author\":");
	json_put_str(out, en->author, en->author_len);
	buf_adds(out, ",\"request_id\":");
	json_put_str(out, en->request_id, en->request_id_len);
	buf_adds(out, ",\"prev\":");
	json_put_hex(out, en->prev, 32);
	if (leaf_hash != NULL) {
		buf_adds(out, ",\"leaf_hash\":");
		json_put_hex(out, leaf_hash, 32);
	}
	buf_printf(out, ",\"v\":%llu,\"body\":", (unsigned long long)en->version);
	if (msgpack_to_json(en->body, en->body_len, out, e))
		return err_prefix(e, "body");
	buf_addc(out, '}');
	if (buf_failed(out))
		return err_set(e, "out of memory");
	return 0;
}
