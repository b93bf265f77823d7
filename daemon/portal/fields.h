/*
 * fields: what the pages read of the recorded entries: an entry by its
 * sequence number (through the kv), and its body's fields by name.
 */
#ifndef SCOPE_PORTAL_FIELDS_H
#define SCOPE_PORTAL_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "entry.h"
#include "err.h"
#include "kv.h"
#include "mp.h"

/* Entry seq, decoded (its strings point into the kv's copy). */
int fld_entry(struct scope_kv *kv, uint64_t seq, struct entry *en, struct err *e);
/* Entry seq as it now reads: its body with every field the corrections of
 * it set (the 'x' records of its project, in order: the latest wins) put
 * in place of the recorded one, made into *body (the caller frees it; the
 * entry's other strings point into the kv's copy).  An entry never
 * corrected is read as fld_entry reads it. */
int fld_entry_shown(struct scope_kv *kv, uint64_t seq, struct entry *en, struct buf *body, struct err *e);
/* The body's text field key: true with it in *s / *n; false (s = "",
 * n = 0) when absent or not text. */
bool fld_str(const struct entry *en, const char *key, const char **s, size_t *n);
/* The body's unsigned field key; false (*v = 0) when absent. */
bool fld_u64(const struct entry *en, const char *key, uint64_t *v);
/* The body's boolean field key; false when absent (or false). */
bool fld_bool(const struct entry *en, const char *key);
/* The body's array field key: true with a cursor after its header and
 * its length; false (n = 0) when absent. */
bool fld_array(const struct entry *en, const char *key, struct mp_cur *c, uint32_t *n);
/* One map element of an array (from fld_array): its bytes into *p / *pn,
 * the cursor moved past it. */
int fld_next_map(struct mp_cur *c, const uint8_t **p, size_t *pn, struct err *e);
/* A text or unsigned field of a map value [p, p+n) (an array element). */
bool fld_map_str(const uint8_t *p, size_t n, const char *key, const char **s, size_t *sn);
bool fld_map_u64(const uint8_t *p, size_t n, const char *key, uint64_t *v);
bool fld_map_bool(const uint8_t *p, size_t n, const char *key);
/* "CR-12" -> 12 (the number after the prefix's dash); 0 if none. */
uint64_t fld_ref_number(const char *s, size_t n);

#endif
