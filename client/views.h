/*
 * views: what leads, finance and auditors read: a project's status, the
 * unbilled and exposure reports (tables, --json, --csv), and a project's
 * or change's history.  Amounts are shown in the currency's usual form;
 * JSON gives both the integer minor units (key_minor) and the text (key).
 */
#ifndef SCOPECTL_VIEWS_H
#define SCOPECTL_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int cmd_views(const char *cmd, int argc, char **argv);

struct session;
struct buf;
struct err;
/* A project's whole status document (every page joined) into doc. */
int views_status_doc(struct session *s, const char *project, struct buf *doc, struct err *e);

struct checkpoint;
/* Every entry of a project (proven in cp, in order), each with whether
 * `scopectl history PROJECT [--change CR-N | --case CASE-N]` shows it; an
 * error naming the change or case the project lacks. */
typedef int (*views_entry_fn)(void *ctx, uint64_t seq, const uint8_t *p, size_t n, bool shown, struct err *e);
int views_history_entries(struct session *s, const char *project, const char *change, const char *kase,
			  const struct checkpoint *cp, views_entry_fn fn, void *ctx, struct err *e);

#endif
