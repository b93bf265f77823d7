/*
 * keys: the log's own entries, of kind "key": a change of the checkpoint
 * signing keys, recorded by scoped itself (proto/FORMAT.md, key history).
 * The body is {action: "add" | "retire", verifier_key: a note verifier
 * key}.  The state remembers each key's last action, so that a key is not
 * added twice or retired twice: the record 'K', NUL, the empty project,
 * NUL, the verifier key -> "a" (in use) or "r" (retired), kept beside the
 * rules' derived state (and rebuilt and compared with it).
 *
 * The only kind the log knows; never includes a scope/ header.
 */
#ifndef SCOPE_KEYS_H
#define SCOPE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "store.h"

#define KEYS_KIND "key"

bool keys_is_key(const char *kind, size_t n);
/* Checks the key entry en and records its action in t; -1 refused. */
int keys_apply(struct store_txn *t, const struct entry *en, struct err *e);
/* The key's last action ('a' or 'r') in *st: 1, or 0 when no entry names
 * it, -1 on error. */
int keys_state(struct store_txn *t, const char *vkey, size_t n, char *st, struct err *e);
/* Calls fn with the verifier key of every key the log has in use. */
int keys_in_use(struct store_txn *t, int (*fn)(void *ctx, const char *vkey, size_t n, struct err *e), void *ctx,
		struct err *e);
/* Names a key record for a message; false when k is none. */
bool keys_name(const uint8_t *k, size_t n, struct buf *out);

#endif
