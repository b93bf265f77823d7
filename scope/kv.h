/*
 * kv: how the scope rules read and write the derived state: get / put /
 * delete / prefix scan over a map of byte-string keys in byte-wise order,
 * plus the entries already recorded, by sequence number (a reference to
 * an earlier entry is checked against it).  The daemon hands the rules
 * one over its storage transaction (daemon/rules_hook.c); scope_mem is
 * one in memory, for tests and for re-deriving reports from proven
 * entries in the client.
 *
 * Values and entries returned point into the map and are valid until the
 * next put or delete, or until the map goes.  A scan's callback may put
 * and delete; the scan goes on after the last key it handed out.
 *
 * Includes neither lmdb.h nor libevent nor libssl: this is the scope/
 * library's only view of storage.
 */
#ifndef SCOPE_KV_H
#define SCOPE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* err.code for stored state that cannot be what the rules wrote (the
 * storage's own "corrupt" code: daemon/rules_hook.c checks they agree) */
enum { SCOPE_E_CORRUPT = 4 };

typedef int (*scope_scan_fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
			     struct err *e);

struct scope_kv {
	void *ctx;
	/* 1 found, 0 absent, -1 error */
	int (*get)(void *ctx, const void *k, size_t kn, const uint8_t **v, size_t *vn, struct err *e);
	int (*put)(void *ctx, const void *k, size_t kn, const void *v, size_t vn, struct err *e);
	int (*del)(void *ctx, const void *k, size_t kn, struct err *e);
	/* fn for every record whose key starts with prefix, in key order;
	 * fn returns 0 to go on, 1 to stop, -1 on error */
	int (*scan)(void *ctx, const void *prefix, size_t pn, scope_scan_fn fn, void *fctx, struct err *e);
	/* the recorded entry seq, exactly as hashed: 0, or -1 when absent */
	int (*entry)(void *ctx, uint64_t seq, const uint8_t **p, size_t *n, struct err *e);
};

static inline int kv_get(struct scope_kv *kv, const void *k, size_t kn, const uint8_t **v, size_t *vn,
			 struct err *e)
{
	return kv->get(kv->ctx, k, kn, v, vn, e);
}

static inline int kv_put(struct scope_kv *kv, const void *k, size_t kn, const void *v, size_t vn,
			 struct err *e)
{
	return kv->put(kv->ctx, k, kn, v, vn, e);
}

static inline int kv_del(struct scope_kv *kv, const void *k, size_t kn, struct err *e)
{
	return kv->del(kv->ctx, k, kn, e);
}

static inline int kv_scan(struct scope_kv *kv, const void *prefix, size_t pn, scope_scan_fn fn, void *fctx,
			  struct err *e)
{
	return kv->scan(kv->ctx, prefix, pn, fn, fctx, e);
}

static inline int kv_entry(struct scope_kv *kv, uint64_t seq, const uint8_t **p, size_t *n, struct err *e)
{
	return kv->entry(kv->ctx, seq, p, n, e);
}

/* ---- the in-memory map: a sorted array, binary search ---- */

struct scope_mem;

struct scope_mem *scope_mem_new(void);
void scope_mem_free(struct scope_mem *m);
/* The kv over m (valid while m lives). */
void scope_mem_kv(struct scope_mem *m, struct scope_kv *kv);
/* Keeps a copy of entry seq (its encoded bytes), for references to it. */
int scope_mem_add_entry(struct scope_mem *m, uint64_t seq, const uint8_t *p, size_t n, struct err *e);
size_t scope_mem_count(const struct scope_mem *m);

#endif
