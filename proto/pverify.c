#include "pverify.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

#define CHUNK_LEVELS 12
#define CHUNK_ENTRIES (1u << CHUNK_LEVELS)
#define CHUNK_BYTES (4u << 20)	/* a chunk closes early when its bytes reach this */
#define CHUNKS_PER_THREAD 2

struct chunk {
	struct buf data;		/* the entries' bytes, back to back */
	size_t off[CHUNK_ENTRIES + 1];	/* entry i is data[off[i] .. off[i+1]) */
	struct entry en[CHUNK_ENTRIES];
	uint8_t leaf[CHUNK_ENTRIES][HASH_LEN];
	/* The interior tree nodes whose leaves all lie in this chunk, computed
	 * by the worker: level l holds indexes lo[l] .. hi[l]-1, from node[at[l]]. */
	uint64_t start;			/* the tree index of entry 0 */
	uint8_t node[CHUNK_ENTRIES][HASH_LEN];
	uint8_t extra[CHUNK_ENTRIES][PVERIFY_EXTRA];	/* the caller's, from extra_fn */
	uint64_t lo[CHUNK_LEVELS + 1], hi[CHUNK_LEVELS + 1];
	size_t at[CHUNK_LEVELS + 1];
	size_t n;
	size_t bad;			/* first entry lverify_prepare refused, or n */
	struct err err;			/* its message */
	bool done;			/* prepared; guarded by the pool's lock */
};

struct pverify {
	struct lverify *v;
	pverify_each_fn each;
	void *ctx;
	pverify_extra_fn extra_fn;
	void *extra_ctx;
	const uint8_t *cur_extra;	/* the entry `each` sees */
	unsigned threads;		/* 1: no pool */
	size_t nchunks;
	struct chunk *ring;
	/* chunks fold < fill <= work: fold..work-1 handed to workers, taken
	 * from work; fill is the one being filled (fill == sent) */
	uint64_t fold, sent, work;
	uint64_t fed;			/* the tree index of the next entry fed */
	bool quit;
	pthread_mutex_t mu;
	pthread_cond_t more, done;
	pthread_t tid[PVERIFY_MAX_THREADS];
	unsigned started;
};

int pverify_threads(unsigned *out, struct err *e)
{
	const char *s = getenv("SCOPE_VERIFY_THREADS");
	if (s && *s) {
		char *end;
		long n = strtol(s, &end, 10);
		if (*end || n < 1 || n > PVERIFY_MAX_THREADS)
			return err_set(e, "SCOPE_VERIFY_THREADS=%s: give a number of threads from 1 to %d", s,
				       PVERIFY_MAX_THREADS);
		*out = (unsigned)n;
		return 0;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	*out = n < 1 ? 1 : n > PVERIFY_MAX_THREADS ? PVERIFY_MAX_THREADS : (unsigned)n;
	return 0;
}

/* The interior nodes over the first n leaves of c, level by level: a node is
 * computed when both its children lie in the chunk. */
static void chunk_nodes(struct chunk *c, size_t n)
{
	const uint8_t(*below)[HASH_LEN] = c->leaf;
	uint64_t below_lo = c->start, end = c->start + n;
	size_t k = 0;
	for (unsigned l = 1; l <= CHUNK_LEVELS; l++) {
		uint64_t lo = (c->start + ((uint64_t)1 << l) - 1) >> l, hi = end >> l;
		if (hi < lo)
			hi = lo;
		c->lo[l] = lo;
		c->hi[l] = hi;
		c->at[l] = k;
		for (uint64_t j = lo; j < hi; j++)
			merkle_node_hash(below[2 * j - below_lo], below[2 * j + 1 - below_lo], c->node[k++]);
		below = &c->node[c->at[l]];
		below_lo = lo;
	}
}

static const uint8_t *chunk_known(void *ctx, unsigned level, uint64_t index)
{
	const struct chunk *c = ctx;
	if (level > CHUNK_LEVELS || index < c->lo[level] || index >= c->hi[level])
		return NULL;
	return c->node[c->at[level] + (index - c->lo[level])];
}

static void prepare(const struct pverify *pv, struct chunk *c)
{
	c->bad = c->n;
	for (size_t i = 0; i < c->n; i++) {
		const uint8_t *p = c->data.data + c->off[i];
		if (lverify_prepare(p, c->off[i + 1] - c->off[i], &c->en[i], c->leaf[i], &c->err)) {
			c->bad = i;
			break;
		}
		if (pv->extra_fn)
			pv->extra_fn(pv->extra_ctx, &c->en[i], c->extra[i]);
	}
	chunk_nodes(c, c->bad);
}

static void *worker(void *arg)
{
	struct pverify *pv = arg;
	pthread_mutex_lock(&pv->mu);
	for (;;) {
		while (!pv->quit && pv->work == pv->sent)
			pthread_cond_wait(&pv->more, &pv->mu);
		if (pv->quit)
			break;
		struct chunk *c = &pv->ring[pv->work++ % pv->nchunks];
		pthread_mutex_unlock(&pv->mu);
		prepare(pv, c);
		pthread_mutex_lock(&pv->mu);
		c->done = true;
		pthread_cond_broadcast(&pv->done);
	}
	pthread_mutex_unlock(&pv->mu);
	return NULL;
}

int pverify_new(struct pverify **out, struct lverify *v, unsigned threads, pverify_each_fn each, void *ctx,
		struct err *e)
{
	struct pverify *pv = calloc(1, sizeof *pv);
	if (pv == NULL)
		return err_set(e, "out of memory");
	pv->v = v;
	pv->each = each;
	pv->ctx = ctx;
	pv->threads = threads < 1 ? 1 : threads > PVERIFY_MAX_THREADS ? PVERIFY_MAX_THREADS : threads;
	pv->fed = v->cr.size;
	*out = pv;
	if (pv->threads == 1)
		return 0;
	pv->nchunks = (size_t)pv->threads * CHUNKS_PER_THREAD;
	pv->ring = calloc(pv->nchunks, sizeof *pv->ring);
	if (pv->ring == NULL) {
		pverify_free(pv);
		*out = NULL;
		return err_set(e, "out of memory for %zu verification chunks", (size_t)threads * CHUNKS_PER_THREAD);
	}
	for (size_t i = 0; i < pv->nchunks; i++)
		buf_init(&pv->ring[i].data);
	pthread_mutex_init(&pv->mu, NULL);
	pthread_cond_init(&pv->more, NULL);
	pthread_cond_init(&pv->done, NULL);
	for (; pv->started < pv->threads; pv->started++) {
		if (pthread_create(&pv->tid[pv->started], NULL, worker, pv) != 0) {
			pverify_free(pv);
			*out = NULL;
			return err_set(e, "cannot start a verification thread");
		}
	}
	return 0;
}

void pverify_set_extra(struct pverify *pv, pverify_extra_fn fn, void *ctx)
{
	pv->extra_fn = fn;
	pv->extra_ctx = ctx;
}

const uint8_t *pverify_extra(const struct pverify *pv)
{
	return pv->cur_extra;
}

/* Folds the oldest chunk sent, once the workers have prepared it. */
static int fold_one(struct pverify *pv, struct err *e)
{
	struct chunk *c = &pv->ring[pv->fold % pv->nchunks];
	pthread_mutex_lock(&pv->mu);
	while (!c->done)
		pthread_cond_wait(&pv->done, &pv->mu);
	pthread_mutex_unlock(&pv->mu);
	for (size_t i = 0; i < c->n; i++) {
		if (i == c->bad) {
			*e = c->err;
			return lverify_bad_entry(pv->v, e);
		}
		if (lverify_fold_known(pv->v, &c->en[i], c->leaf[i], chunk_known, c, e))
			return -1;
		pv->cur_extra = pv->extra_fn ? c->extra[i] : NULL;
		if (pv->each && pv->each(pv->ctx, &c->en[i], c->leaf[i], e))
			return -1;
	}
	c->n = 0;
	c->done = false;	/* not in the workers' range again until sent */
	buf_reset(&c->data);
	pv->fold++;
	return 0;
}

/* Hands the chunk being filled to the workers. */
static void send_fill(struct pverify *pv)
{
	pthread_mutex_lock(&pv->mu);
	pv->sent++;
	pthread_cond_signal(&pv->more);
	pthread_mutex_unlock(&pv->mu);
}

int pverify_feed(struct pverify *pv, const uint8_t *p, size_t n, struct err *e)
{
	if (pv->v->failed)
		return err_set(e, "verification already failed at entry %llu", (unsigned long long)pv->v->bad_seq);
	if (pv->threads == 1) {
		struct entry en;
		uint8_t leaf[HASH_LEN], extra[PVERIFY_EXTRA];
		if (lverify_entry(pv->v, p, n, &en, leaf, e))
			return -1;
		if (pv->extra_fn)
			pv->extra_fn(pv->extra_ctx, &en, extra);
		pv->cur_extra = pv->extra_fn ? extra : NULL;
		int rc = pv->each && pv->each(pv->ctx, &en, leaf, e) ? -1 : 0;
		pv->cur_extra = NULL;
		return rc;
	}
	struct chunk *c = &pv->ring[pv->sent % pv->nchunks];
	if (c->n > 0 && (c->n == CHUNK_ENTRIES || c->data.len + n > CHUNK_BYTES)) {
		send_fill(pv);
		if (pv->sent - pv->fold == pv->nchunks && fold_one(pv, e))
			return -1;
		c = &pv->ring[pv->sent % pv->nchunks];
	}
	if (c->n == 0)
		c->start = pv->fed;
	buf_add(&c->data, p, n);
	if (buf_failed(&c->data))
		return err_set(e, "out of memory for entry %llu", (unsigned long long)pv->fed);
	c->off[c->n + 1] = c->data.len;
	c->n++;
	pv->fed++;
	return 0;
}

int pverify_end(struct pverify *pv, struct err *e)
{
	if (pv->v->failed)
		return err_set(e, "verification already failed at entry %llu", (unsigned long long)pv->v->bad_seq);
	if (pv->threads == 1)
		return 0;
	if (pv->ring[pv->sent % pv->nchunks].n > 0)
		send_fill(pv);
	while (pv->fold < pv->sent)
		if (fold_one(pv, e))
			return -1;
	return 0;
}

void pverify_free(struct pverify *pv)
{
	if (pv == NULL)
		return;
	if (pv->ring) {
		pthread_mutex_lock(&pv->mu);
		pv->quit = true;
		pthread_cond_broadcast(&pv->more);
		pthread_mutex_unlock(&pv->mu);
		for (unsigned i = 0; i < pv->started; i++)
			pthread_join(pv->tid[i], NULL);
		pthread_mutex_destroy(&pv->mu);
		pthread_cond_destroy(&pv->more);
		pthread_cond_destroy(&pv->done);
		for (size_t i = 0; i < pv->nchunks; i++)
			buf_free(&pv->ring[i].data);
		free(pv->ring);
	}
	free(pv);
}
