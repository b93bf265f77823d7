#include "connbound.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "conn.h"
#include "logger.h"

/* One open connection, in its connbound's list from the oldest to the
 * newest until its SSL is freed. */
struct cb_conn {
	struct connbound *b;		/* NULL once the listener is gone */
	struct bufferevent *bev;
	struct event *timer;		/* first the address's reading (0 s), then the request deadline */
	struct conn_source src;
	bool known;			/* src read */
	bool ended;			/* shut down by the bounds, not yet freed */
	struct cb_conn *prev, *next;	/* prev: older */
};

static int ex_index = -1;

static void unlink_conn(struct cb_conn *c)
{
	struct connbound *b = c->b;
	if (c->prev)
		c->prev->next = c->next;
	else
		b->oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		b->newest = c->prev;
	c->prev = c->next = NULL;
}

static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	struct cb_conn *c = ptr;
	if (c == NULL)
		return;
	struct connbound *b = c->b;
	if (b) {
		event_free(c->timer);
		unlink_conn(c);
		b->nconns--;
		if (!c->ended)
			b->nheld--;
		if (b->paused && !b->stopping && b->nconns < b->lim.max) {
			b->paused = false;
			evconnlistener_enable(b->listener);
		}
	}
	free(c);
}

int connbound_init(struct connbound *b, const char *name, const struct connbound_limits *lim, struct err *e)
{
	if (ex_index < 0 && (ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free)) < 0)
		return err_set(e, "%s: cannot set up TLS connection data", name);
	*b = (struct connbound){ .name = name, .lim = *lim };
	return 0;
}

void connbound_listening(struct connbound *b, struct evconnlistener *l)
{
	b->listener = l;
}

enum end_cause { END_EVICTED, END_ADDRESS, END_DEADLINE };

/* Shuts c's socket down (libevent closes it on its next read) and counts
 * why; a WARN line a minute at most says how many so far. */
static void end_conn(struct cb_conn *c, enum end_cause why)
{
	struct connbound *b = c->b;
	if (c->ended)
		return;
	c->ended = true;
	b->nheld--;
	evtimer_del(c->timer);
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	uint64_t *n = why == END_EVICTED ? &b->st.evicted : why == END_ADDRESS ? &b->st.address : &b->st.deadline;
	(*n)++;
	int64_t now = (int64_t)time(NULL);
	if (now - b->logged_at >= 60) {
		b->logged_at = now;
		log_msg(LOG_WARN, "%s: connections ended so far: %llu for a newer one (%u open), %llu past %u "
			"from one address, %llu with no whole request within %u s",
			b->name, (unsigned long long)b->st.evicted, b->nconns, (unsigned long long)b->st.address,
			b->lim.per_address, (unsigned long long)b->st.deadline, b->lim.deadline_s);
	}
}

/* Connections whose address is not read yet (it is, on the loop's next
 * turn) count as one address: a burst that libevent accepts in one
 * callback is then the busiest, and ends its own oldest, not another
 * address's connections. */
static bool same_source(const struct cb_conn *a, const struct cb_conn *o)
{
	if (!a->known || !o->known)
		return !a->known && !o->known;
	return memcmp(&a->src, &o->src, sizeof a->src) == 0;
}

/* The oldest held connection of the address holding the most (at most
 * max connections: counting each one's address is cheap enough). */
static struct cb_conn *busiest_oldest(struct connbound *b)
{
	struct cb_conn *victim = NULL;
	unsigned most = 0;
	for (struct cb_conn *c = b->oldest; c; c = c->next) {
		if (c->ended)
			continue;
		unsigned n = 0;
		for (struct cb_conn *o = c; o; o = o->next)	/* c is the oldest of its address counted so far */
			if (!o->ended && (o == c || same_source(c, o)))
				n++;
		if (n > most) {
			most = n;
			victim = c;
		}
	}
	return victim;
}

static void arm_deadline(struct cb_conn *c)
{
	struct timeval tv = { (time_t)c->b->lim.deadline_s, 0 };
	evtimer_add(c->timer, &tv);
}

/* c's address, once its socket is set: past per_address, that address's
 * oldest connections end. */
static void read_source(struct cb_conn *c)
{
	struct connbound *b = c->b;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	evutil_socket_t fd = bufferevent_getfd(c->bev);
	c->known = true;
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		memset(&ss, 0, sizeof ss);
	conn_source_of((struct sockaddr *)&ss, &c->src);
	for (;;) {
		unsigned same = 0;
		struct cb_conn *first = NULL;
		for (struct cb_conn *o = b->oldest; o; o = o->next)
			if (!o->ended && same_source(c, o) && same++ == 0)
				first = o;
		if (same <= b->lim.per_address || first == c)
			break;
		end_conn(first, END_ADDRESS);
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct cb_conn *c = arg;
	if (!c->known) {
		read_source(c);
		if (!c->ended)
			arm_deadline(c);
		return;
	}
	end_conn(c, END_DEADLINE);
}

struct bufferevent *connbound_new_bev(struct connbound *b, struct event_base *base, struct ssl_ctx_st *ctx)
{
	struct cb_conn *c = calloc(1, sizeof *c);
	SSL *ssl = c ? SSL_new(ctx) : NULL;
	if (ssl == NULL) {
		free(c);
		return NULL;
	}
	struct bufferevent *bev =
		bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		free(c);
		return NULL;	/* it freed ssl */
	}
	if ((c->timer = evtimer_new(base, on_timer, c)) == NULL) {
		bufferevent_free(bev);
		free(c);
		return NULL;
	}
	if (b->nheld >= b->lim.evict_at) {
		struct cb_conn *v = busiest_oldest(b);
		if (v)
			end_conn(v, END_EVICTED);
	}
	c->b = b;
	c->bev = bev;
	c->prev = b->newest;
	if (b->newest)
		b->newest->next = c;
	else
		b->oldest = c;
	b->newest = c;
	b->nheld++;
	SSL_set_ex_data(ssl, ex_index, c);
	/* evhttp sets the socket when this returns: its address is read on
	 * the loop's next turn */
	struct timeval now = { 0, 0 };
	evtimer_add(c->timer, &now);
	if (++b->nconns >= b->lim.max && !b->paused && b->listener) {
		b->paused = true;
		evconnlistener_disable(b->listener);
		log_msg(LOG_WARN, "%s: %u connections open (those ended not yet closed): accepting again when one "
			"closes", b->name, b->nconns);
	}
	return bev;
}

static struct cb_conn *conn_of(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	struct cb_conn *c = ssl && ex_index >= 0 ? SSL_get_ex_data(ssl, ex_index) : NULL;
	return c && c->b && !c->ended ? c : NULL;
}

static void on_complete(struct evhttp_request *req, void *arg)
{
	(void)arg;
	struct cb_conn *c = conn_of(req);
	if (c)
		arm_deadline(c);
}

void connbound_arrived(struct evhttp_request *req)
{
	struct cb_conn *c = conn_of(req);
	if (c == NULL)
		return;
	if (!c->known) {
		read_source(c);
		if (c->ended)
			return;
	}
	evtimer_del(c->timer);
	evhttp_request_set_on_complete_cb(req, on_complete, NULL);
}

void connbound_stop(struct connbound *b)
{
	b->stopping = true;
	if (b->listener)
		evconnlistener_disable(b->listener);
}

void connbound_release(struct connbound *b)
{
	b->stopping = true;
	for (struct cb_conn *c = b->oldest, *next; c; c = next) {
		next = c->next;
		event_free(c->timer);
		c->timer = NULL;
		c->b = NULL;
		c->prev = c->next = NULL;
	}
	b->oldest = b->newest = NULL;
}
