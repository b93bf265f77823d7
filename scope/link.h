/*
 * link: the client's links (proto/FORMAT.md, kinds `link` and `revoke`):
 * a random token, kept only as its SHA-256, that lets one person answer
 * one item (a change's quote revision, a baseline version, an amendment,
 * a notice, a delivery) once through the portal, or read the project's
 * record (a `project` link) until it expires or is revoked.
 *
 *   q  project, number        -> struct lnk
 *   j  "", token_sha256 (32)  -> project id bytes, u64be number
 *
 * The portal (daemon/portal/) finds a link by its token's hash and asks
 * link_state() whether it may still be used; the response and accept
 * rules call link_answer() for a body that carries `link`.
 */
#ifndef SCOPE_LINK_H
#define SCOPE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"
#include "kv.h"
#include "state.h"

/* What a link is for (struct lnk.what). */
#define LINK_FOR_MAX 12
struct lnk {
	uint64_t seq;		/* the link entry */
	uint64_t number;	/* LNK-number */
	uint64_t expires_at;	/* UTC microseconds */
	uint64_t item;		/* CR, baseline version, AMD, NTC or DLV number; 0 for project */
	uint64_t quote;		/* the quote revision of a change link */
	uint64_t used_seq;	/* the answer recorded through it, 0: none */
	uint64_t revoke_seq;	/* the revoke entry, 0: none */
	uint64_t superseded_seq;	/* the entry that superseded it, 0: none */
	char what[LINK_FOR_MAX];	/* change, baseline, amendment, notice, delivery, project */
	char to[801];		/* whom it is for (200 characters of UTF-8) */
	char token[65];		/* lowercase hex SHA-256 of the token */
};
extern const struct rfield LNK[];
extern const size_t LNK_N;

/* 1 with the link whose token hashes to token_sha256 (and its project id,
 * at most ENTRY_PROJECT_MAX bytes, into project / *plen), 0 if none. */
int link_by_token(struct scope_kv *kv, const uint8_t token_sha256[32], char project[ENTRY_PROJECT_MAX],
		  size_t *plen, struct lnk *out, struct err *e);
/* 1 with link LNK-number of project, 0 if none. */
int link_load(struct scope_kv *kv, const char *project, size_t plen, uint64_t number, struct lnk *out,
	      struct err *e);
/* "open", "used", "expired" (at now_us), "revoked" or "superseded". */
const char *link_state(const struct lnk *l, uint64_t now_us);
/* Whether the portal shows nothing more through the link: it is revoked
 * (an item or a project link), or it is a project link past expires_at.
 * An item link past expires_at still shows its item, without the form. */
bool link_gone(const struct lnk *l, uint64_t now_us);

#endif
