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
#include "err.h"

#define DOSSIER_MANIFEST_HEADER "# Scope Ledger dossier v1\n"
#define DOSSIER_MAX_FILES 100000
#define DOSSIER_MAX_FILE (64u << 20)	/* bytes of one file in a dossier */

int cmd_dossier(int argc, char **argv);
int cmd_verify_dossier(const char *dir, const char *const *trust, size_t ntrust);

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
/* VERIFY.txt. */
extern const char dossier_verify_txt[];

#endif
