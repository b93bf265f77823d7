/*
 * orders: the commands that record the change-order history: project,
 * baseline, change (raise, assess, quote), respond, evidence, invoice,
 * payment and void.  Each builds the entry body from flags, records it,
 * reads it back, proves it against the signed checkpoint and can write a
 * receipt for the other party.
 */
#ifndef SCOPECTL_ORDERS_H
#define SCOPECTL_ORDERS_H

#include <stdbool.h>

#include "buf.h"
#include "net.h"

int cmd_orders(const char *cmd, int argc, char **argv);

/* How an entry is recorded: --json, --receipt FILE, --request-id ID. */
struct record_opts {
	bool json;
	const char *receipt, *request_id;
};
/* Records the entry of kind whose body is json (an open JSON object, closed
 * here), proves it and prints it with the assigned field named; an exit code. */
int orders_record(struct session *s, const struct record_opts *o, const char *kind, const char *project,
		  struct buf *json, const char *assigned);
/* A file's SHA-256, hashed here, as hex; -1 after saying why not. */
int orders_file_hash(const char *path, char hex[65]);
/* --evidence FILE as evidence_sha256: stored into project first when
 * upload (or the profile's upload = yes), else evidence_held_elsewhere:
 * true beside it.  0 or the exit code, said. */
int orders_evidence_json(struct session *s, bool upload, const char *project, const char *path, struct buf *b);
/* Members of a JSON object being built: a text, a number, raw JSON. */
void body_str(struct buf *b, const char *k, const char *v);
void body_num(struct buf *b, const char *k, uint64_t v);
void body_raw(struct buf *b, const char *k, const char *raw);

#endif
