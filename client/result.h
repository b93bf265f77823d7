/* result: typed reads of fields from a response's result map. */
#ifndef SCOPECTL_RESULT_H
#define SCOPECTL_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "merkle.h"

int res_u64(const uint8_t *r, size_t n, const char *key, uint64_t *v, struct err *e);
int res_bin(const uint8_t *r, size_t n, const char *key, const uint8_t **p, size_t *len, struct err *e);
int res_hash(const uint8_t *r, size_t n, const char *key, uint8_t out[HASH_LEN], struct err *e);
int res_str(const uint8_t *r, size_t n, const char *key, const char **s, size_t *len, struct err *e);
/* 1 present, 0 absent (or nil) */
int res_has(const uint8_t *r, size_t n, const char *key);
int res_proof(const uint8_t *r, size_t n, uint8_t proof[][HASH_LEN], size_t *len, struct err *e);

#endif
