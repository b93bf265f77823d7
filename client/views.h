/*
 * views: what leads, finance and auditors read: a project's status, the
 * unbilled and exposure reports (tables, --json, --csv), and a project's
 * or change's history.  Amounts are shown in the currency's usual form;
 * JSON gives both the integer minor units (key_minor) and the text (key).
 */
#ifndef SCOPECTL_VIEWS_H
#define SCOPECTL_VIEWS_H

int cmd_views(const char *cmd, int argc, char **argv);

struct session;
struct buf;
struct err;
/* A project's whole status document (every page joined) into doc. */
int views_status_doc(struct session *s, const char *project, struct buf *doc, struct err *e);

#endif
