/*
 * story: a dossier's readable story (dossier.md and index.html) from its
 * entries, in time order by topic: the project, the baseline and its
 * confirmation, each change with its assessment, quote and answer,
 * agreements, amendments and notices, deliveries and acceptance, complaint
 * cases, invoices and payments, and every entry in one table.  Each step
 * shows its time (and anchored time), author, seq and leaf hash and links
 * to its entry, proof and evidence files.
 *
 * The output is a pure function of struct story: `scopectl verify
 * --dossier` renders it again from the verified entries and compares, so an
 * edited story is found.  All entry text is escaped (HTML, Markdown).
 */
#ifndef SCOPECTL_STORY_H
#define SCOPECTL_STORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "note.h"

struct story_entry {
	uint64_t seq;
	const uint8_t *raw;	/* the entry's exact bytes (not owned) */
	size_t len;
	uint64_t anchored_us;	/* the earliest anchored time covering it; 0: none */
};

struct story {
	const char *project;
	const char *subject;	/* "change CR-N", "case CASE-N" or "all" */
	const struct checkpoint *cp;
	const struct story_entry *v;	/* in seq order */
	size_t n;
	/* whether files/ holds the document with this SHA-256 (64 hex) */
	bool (*held)(void *ctx, const char *sha256);
	void *held_ctx;
};

enum story_format { STORY_MARKDOWN, STORY_HTML };

int story_render(const struct story *s, enum story_format f, struct buf *out, struct err *e);

/* Calls fn with every document hash (64 lowercase hex, NUL-ended) entry en
 * cites: documents, evidence, evidence_sha256, checked_documents. */
void story_docs(const struct entry *en, void (*fn)(void *ctx, const char *sha256), void *ctx);

#endif
