/*
 * cosigners: the witnesses an offline verification requires (verify
 * --receipt or --dossier with --witness VKEY... --quorum N, or --policy
 * FILE in the C2SP tlog-policy format): checks a checkpoint's cosignatures
 * (proto/cosig, proto/policy) and says who cosigned and when, as text or as
 * a JSON array.
 */
#ifndef SCOPE_COSIGNERS_H
#define SCOPE_COSIGNERS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "cosig.h"
#include "err.h"
#include "policy.h"

struct cosigners {
	struct cosig_verifier k[COSIG_MAX_COSIGNERS];
	size_t n, quorum;	/* quorum 0: all of them */
	struct cosig_seen seen[COSIG_MAX_COSIGNERS];	/* after cosigners_check */
	struct policy *policy;	/* --policy: its witnesses are k[], its quorum rules */
};

/* --policy FILE: the policy's witnesses and quorum instead of --witness and
 * --quorum.  cosigners_free() releases it. */
int cosigners_use_policy(struct cosigners *w, const char *path, struct err *e);
void cosigners_free(struct cosigners *w);

/* --witness VKEY: one more key (an error says what is wrong with it). */
int cosigners_add(struct cosigners *w, const char *vkey, struct err *e);
/* --quorum N: 0 .. the most keys; -1 for anything else. */
int cosigners_set_quorum(struct cosigners *w, const char *arg);
/* The checkpoint note carries the quorum (the policy's, with --policy): 0,
 * else -1 with e naming the witnesses that did not cosign. */
int cosigners_check(struct cosigners *w, const char *note, size_t n, struct err *e);
/* After cosigners_check: "ok: witness NAME cosigned the checkpoint at T" or
 * "note: witness NAME did not cosign the checkpoint", one line each, each
 * after indent. */
void cosigners_print(const struct cosigners *w, const char *indent);
/* After cosigners_check: [{"name":..,"cosigned":true,"time_s":T,"time":"RFC 3339, UTC"},..] */
void cosigners_json(const struct cosigners *w, struct buf *out);
/* Whether a signature line's name and key id are one of the keys. */
bool cosigners_has(const struct cosigners *w, const char *name, size_t namelen, const uint8_t key_id[4]);

#endif
