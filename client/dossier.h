/*
 * dossier: `scopectl dossier P [--change CR-N | --case CASE-N | --all] -o DIR`
 * writes the self-contained folder a client, auditor or court checks alone
 * (FORMAT.md section 10a), and `scopectl verify --dossier DIR --trust KEY`
 * (dossier_verify.c) checks one offline.  The pieces both sides need are
 * here: the entry files, the MANIFEST, the story inputs.
 */
#ifndef SCOPECTL_DOSSIER_H
#define SCOPECTL_DOSSIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cosigners.h"
#include "err.h"

#define DOSSIER_MANIFEST_HEADER "# Scope Ledger dossier v1\n"
#define DOSSIER_MAX_FILES 100000
#define DOSSIER_MAX_FILE (64u << 20)	/* bytes of one file in a dossier */

int cmd_dossier(int argc, char **argv);
/* held_cp: a checkpoint file the reader holds (or NULL); tsa_ca: the TSA CA
 * certificates (PEM) the anchor tokens are checked against (or NULL); w:
 * the witnesses whose quorum checkpoint.txt must carry (none: not checked). */
int cmd_verify_dossier(const char *dir, const char *const *trust, size_t ntrust, const char *held_cp,
		       const char *tsa_ca, struct cosigners *w);

/* entries/NNNNNN.json: the entry as `scopectl get --json` shows it, plus
 * "raw": the hex of its exact bytes. */
int dossier_entry_json(const uint8_t *raw, size_t n, struct buf *out, struct err *e);
/* The MANIFEST lines of every file under dir but MANIFEST itself, sorted
 * by path: "<sha256 hex> <size> <path>\n".  A file that is not a regular
 * file, or a directory deeper than one level, is an error naming it. */
int dossier_manifest(const char *dir, struct buf *out, struct err *e);
/* Whether dir/files/<sha256> exists (story's held callback; ctx is dir). */
bool dossier_holds(void *dir, const char *sha256);
/* dir "/" rel into out (DOSSIER_PATH bytes); "" when it does not fit. */
#define DOSSIER_PATH 8192
char *dossier_path(char *out, const char *dir, const char *rel);
struct entry;
/* What a held entry needs held with it, the one list the writer includes
 * and verify requires: each seq it cites (cites, checked_entries, an
 * evidence's response, a void's or correction's target) through seq(ctx,
 * seq), and for a response to a change, the change (CR-N) into change
 * ("" otherwise): that change's own entry. */
void dossier_needs(const struct entry *en, void (*seq)(void *ctx, uint64_t seq), void *ctx, char change[24]);
/* Whether en is of kind (change, complaint) with number ref (CR-N, CASE-N). */
bool dossier_is_ref(const struct entry *en, const char *kind, const char *ref);
/* The names a dossier has at its top (directories end in '/'), NULL-ended. */
extern const char *const DOSSIER_TOP[];
/* FORMAT.md as this scopectl carries it. */
extern const unsigned char format_md[];
extern const size_t format_md_len;
/* VERIFY.txt. */
extern const char dossier_verify_txt[];

#endif
