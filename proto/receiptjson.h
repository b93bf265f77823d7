/*
 * receiptjson: the receipt JSON (proto/FORMAT.md, section 3b), built the same
 * way by scopectl (receipt, --receipt) and by the portal's download: the
 * entry's bytes, its inclusion proof and the signed checkpoint the proof
 * is for, and, for an answer given through the portal, the page content
 * that was shown (whose SHA-256 the entry records as page_sha256).
 */
#ifndef SCOPE_RECEIPTJSON_H
#define SCOPE_RECEIPTJSON_H

#include <stddef.h>

#include "buf.h"
#include "proof.h"

/* Appends the receipt to out; page NULL: no "page" member. */
void receipt_json(const struct buf *entry, const struct inclusion_proof *pr, const struct buf *note,
		  const struct buf *page, struct buf *out);

#endif
