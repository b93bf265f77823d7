/*
 * policy: the C2SP tlog-policy text format.  Which logs are accepted, which
 * witnesses are known, and the quorum: a witness, `none`, or a group that
 * has witnessed a checkpoint when at least k of its members have (a member
 * is a witness, which witnesses by cosigning, or an earlier group).
 *
 *   log <vkey> [<url>]
 *   witness <name> <vkey> [<url>]
 *   group <name> all|any|<k> <name>...
 *   quorum <name>|none
 *
 * Names are opaque octets; a name is defined once (witnesses and groups
 * share the namespace, `none` is reserved), refers only to earlier lines,
 * and is a member of at most one group, so the groups form a tree whose
 * leaves are distinct witnesses.  Keys are signed-note vkeys: Ed25519
 * (type 0x01) for logs, cosignature/v1 (type 0x04) for witnesses.
 */
#ifndef SCOPE_POLICY_H
#define SCOPE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "cosig.h"
#include "err.h"
#include "note.h"

/* At least what the format recommends every implementation supports. */
#define POLICY_MAX_LOGS		32
#define POLICY_MAX_WITNESSES	COSIG_MAX_COSIGNERS
#define POLICY_MAX_GROUPS	32
#define POLICY_URL_MAX		512
#define POLICY_MAX_BYTES	(256 * 1024)

/* A group member or the quorum: a witness (index >= 0), a group
 * (-(index + 1)), or none. */
#define POLICY_NONE		(-1000)

struct policy_log {
	struct note_verifier key;
	char url[POLICY_URL_MAX];	/* "" when not given */
};

struct policy_witness {
	char name[NOTE_NAME_MAX + 1];	/* the policy's name for it */
	struct cosig_verifier key;
	char url[POLICY_URL_MAX];
};

struct policy_group {
	char name[NOTE_NAME_MAX + 1];
	size_t k, n;
	int member[POLICY_MAX_WITNESSES + POLICY_MAX_GROUPS];
};

struct policy {
	struct policy_log log[POLICY_MAX_LOGS];
	struct policy_witness witness[POLICY_MAX_WITNESSES];
	struct policy_group group[POLICY_MAX_GROUPS];
	size_t nlogs, nwitnesses, ngroups;
	int quorum;
};

/* Parses a policy file's text; the error names the line and what is wrong. */
int policy_parse(const char *text, size_t n, struct policy *p, struct err *e);
/* Reads and parses the file at path. */
int policy_load(const char *path, struct policy *p, struct err *e);

/* Whether the log key v may sign checkpoints under p: it lists no logs, or
 * lists v's public key. */
bool policy_accepts_log(const struct policy *p, const struct note_verifier *v);

/* The signed checkpoint note's cosignatures meet p's quorum: 0, else -1
 * with e saying which witnesses cosigned and which did not.  A line that
 * claims a known witness but does not verify fails the note. */
int policy_check(const struct policy *p, const char *note, size_t n, struct err *e);

/* Whether two disjoint sets of p's witnesses could each meet the quorum:
 * then a log could show two histories, each witnessed as p requires. */
bool policy_split_possible(const struct policy *p);

/* The quorum's name, "none" or a witness's or group's. */
const char *policy_quorum_name(const struct policy *p);

#endif
