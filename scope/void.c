#include "kinds.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

/* void and note */

SCHEMA(S_VOID, "void", FLD("target", F_UINT, true, 0, UINT64_MAX), FLD("reason", F_STR, true, 1, 4096));
SCHEMA(S_NOTE, "note", FLD("text", F_STR, true, 1, 65536));

static int k_void(struct ctx *x)
{
	struct entry en;
	struct key k;
	uint64_t target = val(x, "target")->u;
	if (referenced(x, target, &en, "target"))
		return -1;
	key_init(&k, 'v', "", 0);
	key_u64(&k, target);
	const uint8_t *v;
	size_t vn;
	int rc = kv_get(x->t, k.b, k.n, &v, &vn, x->e);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return refuse(x, "entry %llu is already voided", (unsigned long long)target);
	const struct kind *tk = kind_find(en.kind, en.kind_len);
	if (tk == NULL || tk->voided == NULL) {
		static const struct { const char *kind, *remedy; } REMEDY[] = {
			{ "project", "cancel the project (scopectl project cancel) or correct it (scopectl correct)" },
			{ "invoice", "cancel the invoice (scopectl invoice cancel) or correct it (scopectl correct)" },
			{ "credit", "a cancelled invoice stays cancelled: issue a new invoice" },
			{ "closure", "a closed project stays closed: create a new project" },
			{ "correction", "correct the original entry again (scopectl correct)" },
		};
		const char *remedy = "correct it instead (scopectl correct)";
		for (size_t i = 0; i < sizeof REMEDY / sizeof REMEDY[0]; i++)
			if (strlen(REMEDY[i].kind) == en.kind_len && memcmp(REMEDY[i].kind, en.kind, en.kind_len) == 0)
				remedy = REMEDY[i].remedy;
		return refuse(x, "%s %.*s cannot be voided; %s", text_article(en.kind, en.kind_len), (int)en.kind_len,
			      en.kind, remedy);
	}
	if (tk->voided(x, &en, target) || link_supersede_entry(x, &en))
		return -1;
	uint8_t by[8];
	for (int i = 0; i < 8; i++)
		by[i] = (uint8_t)(x->in->seq >> (56 - 8 * i));
	return kv_put(x->t, k.b, k.n, by, 8, x->e);
}

static int k_note(struct ctx *x)
{
	(void)x;
	return 0;
}

/* A note withdrawn: it never changed the state, so nothing to undo. */
static int void_note(struct ctx *x, const struct entry *en, uint64_t target)
{
	(void)x, (void)en, (void)target;
	return 0;
}

const struct kind KIND_void = { "void", &S_VOID, ROLE_LEAD, false, false, k_void, NULL };
const struct kind KIND_note = { "note", &S_NOTE, ROLE_LEAD | ROLE_APPROVER | ROLE_FINANCE | ROLE_CLIENT | ROLE_ADMIN,
				false, true, k_note, void_note };

