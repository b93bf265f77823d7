#include "keys.h"

#include <string.h>

#include "mp.h"
#include "note.h"
#include "text.h"

/* 'K', NUL, the empty project, NUL: every key record starts so */
static const uint8_t PREFIX[3] = { 'K', 0, 0 };

bool keys_is_key(const char *kind, size_t n)
{
	return n == strlen(KEYS_KIND) && memcmp(kind, KEYS_KIND, n) == 0;
}

static int record_key(const char *vkey, size_t n, uint8_t out[3 + NOTE_VKEY_MAX], size_t *len)
{
	if (n == 0 || n >= NOTE_VKEY_MAX)
		return -1;
	memcpy(out, PREFIX, 3);
	memcpy(out + 3, vkey, n);
	*len = 3 + n;
	return 0;
}

static bool is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* The body: exactly action and verifier_key, both text. */
static int read_body(const struct entry *en, bool *add, const char **vkey, size_t *vn, struct err *e)
{
	struct mp_cur c;
	uint32_t n;
	const char *action = NULL;
	size_t an = 0;
	*vkey = NULL;
	mp_cur_init(&c, en->body, en->body_len);
	if (mp_get_map(&c, &n, e))
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		const char *name, *s;
		size_t nn, sn;
		if (mp_get_str(&c, &name, &nn, e) || mp_get_str(&c, &s, &sn, e))
			return err_set(e, "key: every field is text");
		if (is(name, nn, "action")) {
			action = s;
			an = sn;
		} else if (is(name, nn, "verifier_key")) {
			*vkey = s;
			*vn = sn;
		} else {
			return err_set(e, "key: unknown field \"%.*s\"", (int)(nn > 32 ? 32 : nn), name);
		}
	}
	if (action == NULL || *vkey == NULL)
		return err_set(e, "key: needs action and verifier_key");
	if (!is(action, an, "add") && !is(action, an, "retire"))
		return err_set(e, "key: action must be add or retire");
	*add = is(action, an, "add");
	return 0;
}

int keys_state(struct store_txn *t, const char *vkey, size_t n, char *st, struct err *e)
{
	uint8_t k[3 + NOTE_VKEY_MAX];
	size_t kn = 0;
	const uint8_t *v;
	size_t vn;
	if (record_key(vkey, n, k, &kn))
		return 0;
	int rc = store_state_get(t, k, kn, &v, &vn, e);
	if (rc != 1)
		return rc;
	if (vn != 1 || (v[0] != 'a' && v[0] != 'r'))
		return err_setc(e, STORE_E_CORRUPT, "the record of key %.*s is damaged", (int)n, vkey);
	*st = (char)v[0];
	return 1;
}

int keys_apply(struct store_txn *t, const struct entry *en, struct err *e)
{
	bool adding = false;
	const char *vk = NULL;
	size_t vn = 0;
	if (en->project_len != 0)
		return err_set(e, "a key entry belongs to the ledger, not to a project");
	if (read_body(en, &adding, &vk, &vn, e))
		return -1;
	struct note_verifier v;
	struct err ve = { 0 };
	if (note_verifier_parse(vk, vn, &v, &ve))
		return err_set(e, "verifier_key: %s", ve.msg);
	char st = 0;
	int rc = keys_state(t, vk, vn, &st, e);
	if (rc < 0)
		return -1;
	if (adding && st == 'a')
		return err_set(e, "key %.*s is already in use", (int)vn, vk);
	if (!adding && st == 'r')
		return err_set(e, "key %.*s is already retired", (int)vn, vk);
	uint8_t k[3 + NOTE_VKEY_MAX];
	size_t kn = 0;
	if (record_key(vk, vn, k, &kn))
		return err_set(e, "verifier_key: too long");
	return store_state_put(t, k, kn, adding ? "a" : "r", 1, e);
}

struct in_use {
	int (*fn)(void *ctx, const char *vkey, size_t n, struct err *e);
	void *ctx;
};

static int one_in_use(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn, struct err *e)
{
	const struct in_use *u = ctx;
	if (vn != 1 || v[0] != 'a')
		return 0;
	return u->fn(u->ctx, (const char *)k + 3, kn - 3, e);
}

int keys_in_use(struct store_txn *t, int (*fn)(void *ctx, const char *vkey, size_t n, struct err *e), void *ctx,
		struct err *e)
{
	struct in_use u = { fn, ctx };
	return store_state_scan(t, PREFIX, sizeof PREFIX, one_in_use, &u, e);
}

bool keys_name(const uint8_t *k, size_t n, struct buf *out)
{
	if (n <= 3 || memcmp(k, PREFIX, 3) != 0)
		return false;
	buf_adds(out, "signing key K//");
	text_put_shown(out, k + 3, n - 3);
	return true;
}
