/*
 * receipt: a file the other party keeps to prove, offline, that an entry
 * is in the ledger: the entry's bytes, its inclusion proof and the signed
 * checkpoint the proof is for (checked by verify --receipt).  Written by
 * the order commands' --receipt for the entry just recorded, and by
 * `scopectl receipt SEQ -o FILE` for any entry at any time.
 */
#ifndef SCOPECTL_RECEIPT_H
#define SCOPECTL_RECEIPT_H

#include "buf.h"
#include "proof.h"

/* Writes the receipt to path (atomically); 0, or -1 after saying why. */
int receipt_write(const char *path, const struct buf *entry, const struct inclusion_proof *pr,
		  const struct buf *note);

int cmd_receipt(int argc, char **argv);

#endif
