/*
 * witness: `scoped witness`, Scope Ledger's own C2SP tlog-witness
 * (PROTOCOL.md, "The witness").  A small HTTPS service that cosigns the
 * checkpoints of the logs it is configured with (cosignature/v1) if each
 * is consistent with the last one it cosigned, kept in its own LMDB.
 *
 *   wconfig  the config file (listen, tls_cert, tls_key, data_dir, name,
 *            signing_key, log = ORIGIN VKEY...) and `witness init`
 *   wstate   the LMDB: each log's last cosigned size, root and note; the
 *            conflicting checkpoints kept as evidence (never dropped)
 *   wadd     add-checkpoint: parse, check, record and cosign, in one
 *            write transaction
 *   wserve   the evhttp listener, limits, the GET of a log's checkpoint
 */
#ifndef SCOPE_WITNESS_H
#define SCOPE_WITNESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cosig.h"
#include "err.h"
#include "note.h"

#define WITNESS_MAX_LOGS	64
#define WITNESS_MAX_LOG_KEYS	4	/* verifier keys per origin (a key rotation) */
#define WITNESS_MAX_BODY	(NOTE_MAX_BYTES + 64 * 48)	/* a note and 63 proof lines */
#define WITNESS_MAX_CONNECTIONS	128
#define WITNESS_EVICT_AT	(WITNESS_MAX_CONNECTIONS - 32)	/* then a new one ends the busiest address's oldest */
#define WITNESS_PER_ADDRESS	16	/* connections from one address (IPv4, IPv6 /64) */
#define WITNESS_TIMEOUT_S	10	/* for a request to arrive whole (handshake included) */
#define WITNESS_MAX_CONFLICTS	100	/* conflicting checkpoints kept per log, for good; the rest counted */
#define WITNESS_LOG_PER_MIN	10	/* WARN lines on refused requests a minute; the rest counted */

struct witness_log {
	char origin[NOTE_NAME_MAX + 1];
	struct note_verifier keys[WITNESS_MAX_LOG_KEYS];
	size_t nkeys;
};

struct witness_config {
	char path[1024];
	char listen[256];
	char tls_cert[1024], tls_key[1024];
	char data_dir[1024];
	char name[NOTE_NAME_MAX + 1];
	char signing_key[1024];
	struct witness_log logs[WITNESS_MAX_LOGS];
	size_t nlogs;
};

int wconfig_load(struct witness_config *c, const char *path, struct err *e);
const struct witness_log *wconfig_log(const struct witness_config *c, const char *origin);
/* `scoped witness init DIR --name NAME [--listen ADDR]` */
int wconfig_init(int argc, char **argv);

struct wstate;
int wstate_open(struct wstate **out, const char *dir, struct err *e);
void wstate_close(struct wstate *w);

/* One log's record. */
struct wrecord {
	uint64_t size;
	uint8_t root[HASH_LEN];
};

/* What wstate_update's decision asks for. */
enum wstate_act {
	WSTATE_NONE,		/* write nothing */
	WSTATE_STORE,		/* store *rec and the note in bytes as the log's record */
	WSTATE_CONFLICT,	/* keep bytes as evidence of the conflicting checkpoint *rec */
};
/* What became of a conflict's evidence. */
enum wstate_kept {
	WSTATE_KEPT_NONE,	/* no conflict */
	WSTATE_KEPT_NEW,	/* kept for good */
	WSTATE_KEPT_ALREADY,	/* the same checkpoint was kept before */
	WSTATE_KEPT_COUNTED,	/* WITNESS_MAX_CONFLICTS kept for the log already: only counted */
};
/* old: the origin's record, or size 0 and the empty root if it has none. */
typedef enum wstate_act (*wstate_decide_fn)(void *ctx, const struct wrecord *old, struct wrecord *rec,
					     struct buf *bytes);
/* Reads the origin's record, decides and writes in one write transaction,
 * committed (durably) before it returns: two requests can never both pass
 * the check against the same old record.  kept (may be NULL): what became
 * of a conflict. */
int wstate_update(struct wstate *w, const char *origin, wstate_decide_fn fn, void *ctx, enum wstate_kept *kept,
		  struct err *e);

/* The result of an add-checkpoint request. */
struct wadd_result {
	int status;		/* 200, 400, 403, 404, 409, 422, 500 */
	struct buf body;	/* 200: cosignature lines; 409: "<size>\n"; else the reason */
	enum wstate_kept conflict;	/* a conflicting checkpoint (422): its evidence */
};

/* Handles one add-checkpoint body at time `now` (POSIX seconds). */
void wadd(struct wstate *w, const struct witness_config *c, const struct cosig_signer *s,
	  const char *body, size_t n, uint64_t now, struct wadd_result *r);
/* The latest cosigned checkpoint (note) of the origin whose SHA-256 is h;
 * 1 if there is none. */
int wstate_checkpoint(struct wstate *w, const uint8_t h[HASH_LEN], struct buf *out, struct err *e);
/* How many conflicting checkpoints of origin are kept; *counted: how
 * many more were only counted. */
size_t wstate_conflict_count(struct wstate *w, const char *origin, uint64_t *counted);

/* `scoped witness -c FILE` and `scoped witness init`. */
int witness_main(int argc, char **argv);

#endif
