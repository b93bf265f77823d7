/*
 * config: scoped's configuration, one table of options (name, type, bounds,
 * default, help).  The file format is one "name = value" per line; '#'
 * starts a comment line; blank lines are ignored; unknown names and values
 * out of bounds are errors naming the line.  Relative paths are relative to
 * the configuration file's directory.
 */
#ifndef SCOPE_CONFIG_H
#define SCOPE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "note.h"
#include "policy.h"

#define CONFIG_PATH_MAX 4096
#define CONFIG_MAX_WITNESSES 32	/* as many as a tlog-policy should list (COSIG_MAX_COSIGNERS) */

/* One `witness = NAME VKEY URL` line. */
struct config_witness {
	char name[NOTE_NAME_MAX + 1];
	char vkey[NOTE_VKEY_MAX];	/* a cosignature/v1 verifier key (proto/cosig.h) */
	char url[1024];			/* the submission prefix */
};

struct config {
	char origin[NOTE_NAME_MAX + 1];
	char data_dir[CONFIG_PATH_MAX];
	char signing_key[CONFIG_PATH_MAX];
	char signing_key_next[CONFIG_PATH_MAX];
	uint64_t map_initial_mib;
	uint64_t map_max_mib;
	char listen[256];
	char tls_cert[CONFIG_PATH_MAX];
	char tls_key[CONFIG_PATH_MAX];
	char tls_ca[CONFIG_PATH_MAX];
	char tls_crl[CONFIG_PATH_MAX];
	char tls_min_version[8];
	char roles[CONFIG_PATH_MAX];
	uint64_t max_frame;
	uint64_t max_connections;
	uint64_t max_handshakes;
	uint64_t max_handshakes_per_address;
	uint64_t handshake_timeout_s;
	uint64_t idle_timeout_s;
	char log_level[8];
	uint64_t acceptance_check_s;
	char tsa_url[1024];
	char tsa_ca[CONFIG_PATH_MAX];
	uint64_t anchor_interval_s;
	uint64_t max_evidence_mib;
	char portal_url[1024];
	char portal_listen[256];
	char portal_cert[CONFIG_PATH_MAX];
	char portal_key[CONFIG_PATH_MAX];
	char portal_proxy[64];
	uint64_t portal_rate_per_min;
	uint64_t portal_max_body;
	char tiles_listen[256];
	char tiles_public[4];
	uint64_t tiles_rate_per_min;
	char follow_trust[NOTE_VKEY_MAX];
	char follow_cert[CONFIG_PATH_MAX];
	char follow_key[CONFIG_PATH_MAX];
	char follow_ca[CONFIG_PATH_MAX];
	uint64_t follow_interval_s;
	struct config_witness witnesses[CONFIG_MAX_WITNESSES];
	size_t nwitnesses;
	uint64_t witness_quorum;	/* 0: every configured witness */
	/* witness_policy = FILE (C2SP tlog-policy): config_load fills witnesses[]
	 * from its witness lines, in order, and its quorum rules instead */
	char witness_policy[CONFIG_PATH_MAX];
	bool has_policy;
	struct policy policy;
	char witness_ca[CONFIG_PATH_MAX];
	uint64_t witness_interval_s;
};

void config_defaults(struct config *c);
int config_load(struct config *c, const char *path, struct err *e);
/* Sets one option by name from text (also used for command-line overrides). */
int config_set(struct config *c, const char *name, const char *value, const char *base_dir,
	       struct err *e);
/* Checks cross-field rules after everything is set. */
int config_validate(const struct config *c, struct err *e);
/* The origin is a valid key name of at most NOTE_NAME_MAX bytes; the error
 * names what is wrong and the maximum. */
int config_check_origin(const char *origin, struct err *e);
/* The majority rule (proto/cosig.h, cosig_quorum_is_minority): true, with
 * a warning naming witness_quorum in out, if it is not more than half of
 * the witness lines. */
bool config_quorum_minority(const struct config *c, char *out, size_t n);
/* Whether a checkpoint note carrying `count` verified cosignatures of the
 * configured witnesses meets the quorum: witness_quorum's count, or the
 * policy's rule. */
bool config_quorum_met(const struct config *c, const char *note, size_t n, size_t count);
/* witness lines, witness_quorum, witness_policy, witness_ca or witness_interval_s differ. */
bool config_witnesses_differ(const struct config *a, const struct config *b);
/* Writes every option with its value and help, in file syntax. */
void config_print(const struct config *c, FILE *f);
/* Every option with its description, bounds and default, as roff for
 * scoped.conf(5) (the build runs `scoped config --roff`). */
void config_roff(FILE *f);

#endif
