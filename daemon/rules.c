#include "rules.h"

#include <string.h>

#include "mp.h"
#include "roles.h"

static bool is(const char *k, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* note: {"text": <1..65536 bytes of UTF-8>} and nothing else */
static int check_note(const uint8_t *body, size_t n, struct err *e)
{
	struct mp_cur c;
	uint32_t count;
	const char *s;
	size_t len;
	mp_cur_init(&c, body, n);
	if (mp_get_map(&c, &count, e))
		return -1;
	if (count != 1 || mp_expect_key(&c, "text", e))
		return err_set(e, "a note's body is {\"text\": TEXT} and nothing else");
	if (mp_get_str(&c, &s, &len, e))
		return err_prefix(e, "note text");
	if (len == 0 || len > NOTE_TEXT_MAX)
		return err_set(e, "note text must be 1 to %d bytes", NOTE_TEXT_MAX);
	return 0;
}

int rules_check_body(const char *kind, size_t kind_len, const uint8_t *body, size_t body_len,
		     struct err *e)
{
	if (is(kind, kind_len, "note"))
		return check_note(body, body_len, e);
	return err_set(e, "unknown kind \"%.*s\" (known kinds: note)", (int)(kind_len > 32 ? 32 : kind_len),
		       kind);
}

unsigned rules_writers(const char *kind, size_t kind_len)
{
	if (is(kind, kind_len, "note"))
		return ROLE_LEAD | ROLE_APPROVER | ROLE_FINANCE | ROLE_CLIENT | ROLE_ADMIN;
	return 0;
}
