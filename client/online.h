/* online: the commands that talk to scoped. */
#ifndef SCOPECTL_ONLINE_H
#define SCOPECTL_ONLINE_H

#include <getopt.h>
#include <stdint.h>

#include "entry.h"
#include "err.h"
#include "merkle.h"
#include "net.h"
#include "note.h"
#include "anchors.h"
#include "pages.h"
#include "proof.h"

int cmd_online(const char *cmd, int argc, char **argv);

/* Shared by the command files. */
#define CONN_LONGOPTS                                                                         \
	{ "config", required_argument, NULL, 'c' }, { "server", required_argument, NULL, 'S' },  \
	{ "server-name", required_argument, NULL, 'N' },                                     \
	{ "cert", required_argument, NULL, 'C' }, { "key", required_argument, NULL, 'K' },     \
	{ "ca", required_argument, NULL, 'A' }, { "trust", required_argument, NULL, 'T' },    \
	{ "witness", required_argument, NULL, 'W' }, { "quorum", required_argument, NULL, 'Q' }, \
	{ "policy", required_argument, NULL, CONN_OPT_POLICY }
#define CONN_OPT_POLICY 0x7001
/* First pass over argv: loads the profile named by --config or $SCOPECTL_CONFIG. */
int conn_preload(int argc, char **argv, const struct option *opts, const char *shortopts,
		 struct profile *p);
/* 0 handled, -1 bad value (message in e), 1 not a connection option. */
int conn_option(int c, const char *arg, struct profile *p, struct err *e);
/* getopt_long, with the connection options put into p: the next other
 * option, -1 at the end, or CONN_GETOPT_BAD after printing why a
 * connection option's value is refused. */
#define CONN_GETOPT_BAD (-2)
int conn_getopt(int argc, char **argv, const char *shortopts, const struct option *opts, struct profile *p);
/* Parses the connection options and -o FILE (out, NULL if not given) of a
 * command that takes only those, leaving optind at its first operand;
 * CTL_EXIT_OK, or CTL_EXIT_USAGE after saying why. */
int conn_parse_output(const char *cmd, int argc, char **argv, struct profile *p, const char **out);
/* Opens a session as every command does (TLS tickets kept between runs);
 * CTL_EXIT_OK, or the exit code after reporting the error.  Close it with
 * sess_close either way. */
int ctl_session_open(struct session *s, const struct profile *p);
/* Prints the error the way every command does; returns its exit code. */
int ctl_report(const struct err *e);
/* Proves entry seq against the latest checkpoint (accepted by the witness). */
int prove_latest(struct session *s, uint64_t seq, const uint8_t leaf[HASH_LEN],
		 struct inclusion_proof *pr, struct checkpoint *cp, struct buf *note_out, struct err *e);
/* Entry seq as the server gives it (raw, decoded), checked to be entry seq
 * and proven against the latest checkpoint (its note in note, if given). */
/* The server's inclusion proof of entry seq in the tree of size `size`
 * (unchecked: the caller verifies it against a checkpoint it accepted). */
int prove_at(struct session *s, uint64_t seq, uint64_t size, struct inclusion_proof *pr, struct err *e);
int get_proven(struct session *s, uint64_t seq, struct buf *raw, struct entry *en, uint8_t leaf[HASH_LEN],
	       struct inclusion_proof *pr, struct checkpoint *cp, struct buf *note, struct err *e);
/* The log's anchors that cover entries up to seq: the ledger-level
 * entries from `from` up to cp's size (each page proven in cp) are read up
 * to the first anchor of a size beyond seq; each anchor into x
 * (anchors_add: its root not yet proven) and, with fn, its entry to fn.
 * Bounded by the ledger's own entries (keys, notes, at most one anchor per
 * anchor_interval_s).  -1 on failure; e->code CTL_EXIT_REFUSED when the
 * role may not read the ledger-level entries. */
int anchors_read(struct session *s, uint64_t from, uint64_t seq, const struct checkpoint *cp, struct anchors *x,
		 entry_fn fn, void *ctx, struct err *e);

#endif
