/*
 * domain: the change-order state machine (proto/FORMAT.md, "Kinds"): the
 * reducer that turns entries into derived state, one kind at a time,
 * through the kind table (kinds.h) and a kv (kv.h).
 *
 * For every entry about to be appended, domain_apply() checks the body
 * against its kind's schema (unless domain_check_shape() checked it and
 * marked it so) and against the derived state (the project
 * exists, references exist in the same project, the lifecycle only moves
 * forward, amounts fit), fills the fields the ledger assigns (change
 * numbers, baseline versions, quote revisions, on_behalf) and updates the
 * derived state, all inside the append's write transaction (the kv is
 * over it).  Every check
 * happens before the first write, so a refused entry changes nothing.
 *
 * With replay set (scoped reindex and verify, or a client re-deriving the
 * state from proven entries), the body is the stored one: assigned fields
 * must equal what would be assigned, and the state is rebuilt.
 *
 * scope/ is a library shared by daemon and client: it includes neither
 * lmdb.h nor libevent nor libssl.
 */
#ifndef SCOPE_DOMAIN_H
#define SCOPE_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "kv.h"

struct domain_in {
	const char *kind;
	size_t kind_len;
	const char *project;
	size_t project_len;
	const uint8_t *body;	/* canonical msgpack map */
	size_t body_len;
	bool as_client;		/* recorded by an identity holding the client role */
	uint64_t seq;
	uint64_t time_us;
	const char *author;	/* the entry's author (the daemon's own: DOMAIN_DAEMON_AUTHOR) */
	size_t author_len;
	/* NULL, or what domain_check_shape() gave when it accepted this very
	 * body for this kind (a token no one else can name): live, its schema
	 * is then not checked again, only its values read.  Ignored in replay. */
	const void *checked;
};

/* The author of the entries the daemon records itself (deemed_passed). */
#define DOMAIN_DAEMON_AUTHOR "scoped"

/* Checks the body's shape only (no state): for early refusals.  0 with
 * *checked (unless NULL) set to the mark domain_in.checked takes. */
int domain_check_shape(const char *kind, size_t kind_len, const uint8_t *body, size_t n, const void **checked,
		       struct err *e);
/* The body a client sent for a recorded entry: the recorded body without
 * the fields the ledger assigned (for the request-id index's digest). */
int domain_sent_body(const char *kind, size_t kind_len, const uint8_t *body, size_t n, struct buf *out,
		     struct err *e);
/* Whether field (n bytes) of kind is one the ledger assigns (a client does
 * not send it). */
bool domain_assigned(const char *kind, size_t kind_len, const char *field, size_t n);
/* 0 with the body to record in out; -1 refused (nothing changed).  The
 * body's schema is checked unless in->checked says it was (live only). */
int domain_apply(struct scope_kv *t, const struct domain_in *in, bool replay, struct buf *out,
		 struct err *e);

/* domain_apply for an entry (proto/entry.h): live, out gets the body to
 * record; replay (the stored entry, as the log's verify and reindex and a
 * client re-deriving the state from proven entries replay it), out gets
 * the body as the client sent it.  checked as domain_in's.  On a
 * scope_mem map, keep each entry (scope_mem_add_entry) for the references
 * of later ones. */
int domain_apply_entry(struct scope_kv *t, const struct entry *en, bool as_client, bool replay,
		       const void *checked, struct buf *out, struct err *e);

#endif
