/*
 * record: appends one entry and makes sure that what the server acknowledged
 * is the entry sent.  The acknowledged entry is read back, hashed against
 * the acknowledged leaf, compared with the request (kind, project, request
 * id, our own identity as the author, every body field sent; only the fields
 * the ledger assigns may be added) and proven against a verified checkpoint.
 * Used by append and by every order command.
 */
#ifndef SCOPECTL_RECORD_H
#define SCOPECTL_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "merkle.h"
#include "net.h"
#include "note.h"
#include "proof.h"

struct recorded {
	uint64_t seq;
	uint8_t leaf[HASH_LEN];
	bool duplicate;			/* the server had it already (same request id) */
	struct buf raw;			/* the entry's bytes as read back */
	struct entry en;		/* decoded from raw */
	struct inclusion_proof pr;	/* its proof in cp */
	struct checkpoint cp;
	struct buf note;		/* cp's signed note */
};

/* The request id to send: the one given (-1 if it is too long), else a
 * random one.  out holds ENTRY_REQID_MAX + 1 bytes. */
int record_request_id(const char *given, char *out);

/* Sends the append and checks the acknowledged entry; r is initialised
 * here and must be freed with record_free either way.  An entry that is not
 * the one sent fails with CTL_EXIT_VERIFY. */
int record_append(struct session *s, const char *kind, const char *project, const char *request_id,
		  const uint8_t *body, size_t body_len, struct recorded *r, struct err *e);
void record_free(struct recorded *r);

#endif
