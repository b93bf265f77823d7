#include "anchors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "domain.h"
#include "offline.h"
#include "tsa.h"

void anchors_init(struct anchors *x)
{
	memset(x, 0, sizeof *x);
	merkle_cr_init(&x->base);
}

void anchors_free(struct anchors *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->a[i].token);
	free(x->a);
	free(x->leaves);
	memset(x, 0, sizeof *x);
}

static bool is(const char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static int bad(const struct entry *en, struct err *e)
{
	err_prefix(e, "anchor entry %llu", (unsigned long long)en->seq);
	e->code = CTL_EXIT_VERIFY;
	return -1;
}

/* Reads en into *a (token copied); -1 when it breaks a rule. */
static int read_anchor(const struct anchors *x, const struct entry *en, struct anchor *a, struct err *e)
{
	struct tsa_anchor b;
	uint8_t der[TSA_TOKEN_MAX];
	size_t dn = 0;
	if (en->project_len != 0 || !is(en->author, en->author_len, DOMAIN_DAEMON_AUTHOR))
		return err_set(e, "an anchor entry is ledger-level and recorded by scoped itself");
	if (tsa_anchor_parse(en->body, en->body_len, &b, e) || tsa_anchor_token(&b, der, &dn, e))
		return -1;
	if (b.size == 0 || b.size > en->seq)
		return err_set(e, "size %llu is not a tree before this entry", (unsigned long long)b.size);
	if (x->n && b.size <= x->a[x->n - 1].size)
		return err_set(e, "size %llu is not beyond the previous anchor's (%llu)", (unsigned long long)b.size,
			       (unsigned long long)x->a[x->n - 1].size);
	a->seq = en->seq;
	a->size = b.size;
	a->time_us = b.time_us;
	memcpy(a->root, b.root, HASH_LEN);
	a->token_len = dn;
	a->token = malloc(dn);
	if (a->token == NULL)
		return err_set(e, "out of memory");
	memcpy(a->token, der, dn);
	return 0;
}

static int keep(struct anchors *x, const struct anchor *a, struct err *e)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 8;
		struct anchor *p = realloc(x->a, cap * sizeof *p);
		if (p == NULL) {
			free(a->token);
			return err_set(e, "out of memory");
		}
		x->a = p;
		x->cap = cap;
	}
	x->a[x->n++] = *a;
	return 0;
}

int anchors_add(struct anchors *x, const struct entry *en, struct err *e)
{
	struct anchor a;
	if (!is(en->kind, en->kind_len, "anchor"))
		return 0;
	if (read_anchor(x, en, &a, e) || keep(x, &a, e))
		return bad(en, e);
	return 0;
}

/* The root of the first `size` leaves fed, if still in the window. */
static int root_at(const struct anchors *x, uint64_t size, uint8_t out[HASH_LEN], struct err *e)
{
	if (size < x->base.size)
		return err_set(e, "size %llu lies more than %d entries before it: its root cannot be checked in one "
			       "pass", (unsigned long long)size, ANCHORS_WINDOW);
	struct merkle_cr *cr = malloc(sizeof *cr);
	if (cr == NULL)
		return err_set(e, "out of memory");
	*cr = x->base;
	int rc = 0;
	for (uint64_t i = 0; rc == 0 && i < size - x->base.size; i++)
		rc = merkle_cr_append(cr, x->leaves[i], NULL, NULL, e);
	if (rc == 0)
		merkle_cr_root(cr, out);
	free(cr);
	return rc;
}

/* Remembers the next leaf; tree holds it.  The trees at the starts of the
 * two windows are copies of the verifier's (a window's leaves are not
 * hashed again); past 2 windows, the second becomes the first. */
static int push_leaf(struct anchors *x, const uint8_t leaf[HASH_LEN], const struct merkle_cr *tree, struct err *e)
{
	if (x->leaves == NULL && (x->leaves = malloc(2 * ANCHORS_WINDOW * HASH_LEN)) == NULL)
		return err_set(e, "out of memory");
	memcpy(x->leaves[x->nleaves++], leaf, HASH_LEN);
	if (x->nleaves == ANCHORS_WINDOW) {
		x->mid = *tree;
	} else if (x->nleaves == 2 * ANCHORS_WINDOW) {
		x->base = x->mid;
		memmove(x->leaves, x->leaves + ANCHORS_WINDOW, ANCHORS_WINDOW * HASH_LEN);
		x->nleaves = ANCHORS_WINDOW;
		x->mid = *tree;
	}
	return 0;
}

int anchors_feed(struct anchors *x, const struct entry *en, const uint8_t leaf[HASH_LEN],
		 const struct merkle_cr *tree, struct err *e)
{
	if (en->seq != x->base.size + x->nleaves || tree->size != en->seq + 1)
		return err_set(e, "entry %llu fed out of order", (unsigned long long)en->seq);
	if (is(en->kind, en->kind_len, "anchor")) {
		struct anchor a;
		uint8_t root[HASH_LEN];
		if (read_anchor(x, en, &a, e))
			return bad(en, e);
		int rc = root_at(x, a.size, root, e);
		if (rc == 0 && memcmp(root, a.root, HASH_LEN) != 0)
			rc = err_set(e, "its root is not the root of the entries at size %llu", (unsigned long long)a.size);
		if (rc)
			free(a.token);
		if (rc || keep(x, &a, e))
			return bad(en, e);
	}
	return push_leaf(x, leaf, tree, e);
}

int anchor_verify(const struct anchor *a, const char *origin, const char *ca_file, struct err *e)
{
	uint8_t imprint[HASH_LEN], got[HASH_LEN];
	uint64_t t;
	tsa_imprint(origin, a->size, a->root, imprint);
	if (tsa_token_read(a->token, a->token_len, got, &t, e) ||
	    tsa_token_verify(a->token, a->token_len, imprint, ca_file, e))
		return -1;
	if (t != a->time_us)
		return err_set(e, "the stated time is not the token's genTime");
	return 0;
}

int anchors_check(const struct anchors *x, const char *origin, const char *ca_file, struct err *e)
{
	for (size_t i = 0; i < x->n; i++)
		if (anchor_verify(&x->a[i], origin, ca_file, e)) {
			err_prefix(e, "anchor entry %llu (checkpoint size %llu)", (unsigned long long)x->a[i].seq,
				   (unsigned long long)x->a[i].size);
			e->code = CTL_EXIT_VERIFY;
			return -1;
		}
	return 0;
}

void anchors_print(const struct anchors *x, bool checked)
{
	if (x->n && !checked) {
		printf("%zu anchor token%s found but not checked: give --tsa-ca FILE (the TSA's CA "
		       "certificates, or tsa_ca in the profile) to check them\n", x->n, x->n == 1 ? "" : "s");
		return;
	}
	for (size_t i = 0; i < x->n; i++) {
		char t[40];
		args_time(x->a[i].time_us, t);
		printf("anchor entry %llu: checkpoint size %llu time-stamped by the TSA at %s (verified)\n",
		       (unsigned long long)x->a[i].seq, (unsigned long long)x->a[i].size, t);
	}
}

const struct anchor *anchors_covering(const struct anchors *x, uint64_t seq)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->a[i].size > seq)
			return &x->a[i];
	return NULL;
}
