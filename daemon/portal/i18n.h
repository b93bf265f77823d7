/*
 * i18n: every text the portal's pages show, in Japanese and English, in
 * one table (i18n.c): the headings and labels, the plain words for the
 * ledger's enum values (a change's class and state, a channel, a notice's
 * type, a decision), the form's choices and the error pages.
 */
#ifndef SCOPE_PORTAL_I18N_H
#define SCOPE_PORTAL_I18N_H

#include "pages.h"

/* The text for key in lang; key itself when the table has none (an enum
 * value the table does not know yet is still shown, as recorded). */
const char *tr(enum page_lang lang, const char *key);

#endif
