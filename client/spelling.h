/*
 * spelling: the spellings people type for fixed values.  An enum value may
 * be written with hyphens or capitals (client-request, Client_Request) and
 * is sent as the ledger spells it (client_request); a currency code in any
 * case is sent upper case (jpy -> JPY).  Both rewrite s in place.
 */
#ifndef SCOPECTL_SPELLING_H
#define SCOPECTL_SPELLING_H

char *spelling_enum(char *s);
char *spelling_upper(char *s);

#endif
