#include "conn.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "files.h"
#include "commit.h"
#include "dispatch.h"
#include "frame.h"
#include "logger.h"
#include "mp.h"
#include "roles.h"
#include "server.h"
#include "tls.h"
#include "wire.h"

static void on_read(struct bufferevent *bev, void *arg);
static void on_write(struct bufferevent *bev, void *arg);
int conn_recheck(struct conn *c, struct ssl_ctx_st *ctx, struct err *e)
{
	return tls_peer_recheck(ctx, bufferevent_openssl_get_ssl(c->bev), e);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

static void list_push(struct conn_list *l, struct conn *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	l->n++;
}

static void list_remove(struct conn_list *l, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	l->n--;
}

/* The list a connection's phase puts it on (see conn.h). */
static struct conn_list *list_of(const struct conn *c)
{
	return c->state == CONN_HANDSHAKE ? &c->srv->handshakes : &c->srv->conns;
}

static void set_state(struct conn *c, enum conn_state st)
{
	log_msg(LOG_DEBUG, "conn %llu: state %d -> %d", (unsigned long long)c->id, c->state, st);
	struct conn_list *from = list_of(c);
	c->state = st;
	if (list_of(c) != from) {
		list_remove(from, c);
		list_push(list_of(c), c);
	}
}

static void set_timeouts(struct conn *c, uint64_t secs)
{
	struct timeval tv = { (time_t)secs, 0 };
	bufferevent_set_timeouts(c->bev, &tv, &tv);
}

void conn_format_addr(const struct sockaddr *sa, char *out, size_t n)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
		snprintf(out, n, "%s:%u", host, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
		snprintf(out, n, "[%s]:%u", host, port);
	} else {
		snprintf(out, n, "unknown");
	}
}

void conn_source_of(const struct sockaddr *sa, struct conn_source *src)
{
	memset(src, 0, sizeof *src);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		src->family = 4;
		memcpy(src->addr, &in->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {	/* an IPv4 client of a [::] listener */
			src->family = 4;
			memcpy(src->addr, in6->sin6_addr.s6_addr + 12, 4);
		} else {
			src->family = 6;
			memcpy(src->addr, in6->sin6_addr.s6_addr, 8);
		}
	}
}

static void arm_handshake_timer(struct server *s, uint64_t now)
{
	const struct conn *oldest = s->handshakes.head;
	if (oldest == NULL)
		return;
	uint64_t deadline = oldest->accepted_us + s->cfg.handshake_timeout_s * 1000000u;
	uint64_t wait = deadline > now ? deadline - now : 0;
	struct timeval tv = { (time_t)(wait / 1000000u), (suseconds_t)(wait % 1000000u) };
	evtimer_add(s->handshake_timer, &tv);
}

void conn_expire_handshakes(struct server *s)
{
	uint64_t now = stats_now_us(), limit = s->cfg.handshake_timeout_s * 1000000u;
	/* the pool is in accept order and every handshake has the same time,
	 * so the expired ones are at its head */
	while (s->handshakes.head && now - s->handshakes.head->accepted_us >= limit) {
		stats_refuse(&s->stats, REF_HANDSHAKE_TIMEOUT);
		conn_free(s->handshakes.head, "handshake timeout");
	}
	arm_handshake_timer(s, now);
}

struct source_tally {
	struct conn_source src;
	unsigned n;		/* 0: an empty slot */
};

static size_t source_hash(const struct conn_source *src)
{
	size_t h = 2166136261u;	/* FNV-1a */
	h = (h ^ src->family) * 16777619u;
	for (size_t i = 0; i < sizeof src->addr; i++)
		h = (h ^ src->addr[i]) * 16777619u;
	return h;
}

static struct source_tally *tally_slot(struct server *s, size_t cap, const struct conn_source *src)
{
	size_t i = source_hash(src) & (cap - 1);
	while (s->tally[i].n && memcmp(&s->tally[i].src, src, sizeof *src) != 0)
		i = (i + 1) & (cap - 1);
	return &s->tally[i];
}

/* What a full pool gives up for a newcomer: the oldest handshake of the
 * source holding the most handshakes (on a tie, the oldest of those).  A
 * flood from a few addresses displaces itself, never the client from
 * another address waiting for its handshake's next round trip; only
 * max_handshakes sources of one handshake each can displace it. */
static struct conn *pool_victim(struct server *s)
{
	size_t cap = 16;
	while (cap < 2 * s->handshakes.n)
		cap <<= 1;
	if (cap > s->tally_cap) {
		struct source_tally *t = realloc(s->tally, cap * sizeof *t);
		if (t == NULL)
			return s->handshakes.head;	/* no memory to count: the oldest */
		s->tally = t;
		s->tally_cap = cap;
	}
	memset(s->tally, 0, cap * sizeof *s->tally);
	unsigned most = 0;
	for (struct conn *c = s->handshakes.head; c; c = c->next) {
		struct source_tally *t = tally_slot(s, cap, &c->source);
		t->src = c->source;
		if (++t->n > most)
			most = t->n;
	}
	for (struct conn *c = s->handshakes.head; c; c = c->next)
		if (tally_slot(s, cap, &c->source)->n == most)
			return c;
	return s->handshakes.head;
}

/* Makes room in the handshake pool for a connection from src: drops the
 * oldest handshake from src while src is at its limit, then, while the
 * pool is full, the oldest of the source holding the most. */
static void make_room(struct server *s, const struct conn_source *src)
{
	char why[128];
	for (;;) {
		struct conn *oldest = NULL;
		unsigned same = 0;
		for (struct conn *c = s->handshakes.head; c; c = c->next)
			if (memcmp(&c->source, src, sizeof *src) == 0 && same++ == 0)
				oldest = c;
		if (same < s->cfg.max_handshakes_per_address)
			break;
		snprintf(why, sizeof why, "dropped for a newer connection from its address "
			 "(max_handshakes_per_address %llu)", (unsigned long long)s->cfg.max_handshakes_per_address);
		stats_refuse(&s->stats, REF_HANDSHAKE_ADDRESS_LIMIT);
		conn_free(oldest, why);
	}
	while (s->handshakes.n >= s->cfg.max_handshakes) {
		snprintf(why, sizeof why, "dropped for a newer connection: its address holds the most handshakes "
			 "(max_handshakes %llu)", (unsigned long long)s->cfg.max_handshakes);
		stats_refuse(&s->stats, REF_HANDSHAKE_POOL_FULL);
		conn_free(pool_victim(s), why);
	}
}

static struct conn *conn_of_sink(struct commit_sink *k)
{
	return (struct conn *)(void *)((char *)k - offsetof(struct conn, sink));
}

/* A committed append's reply waits in c->replies for the commit's end. */
static void on_committed(struct commit_sink *k, uint64_t req_id, const struct ledger_result *r)
{
	struct conn *c = conn_of_sink(k);
	dispatch_committed(c->srv, &c->replies, req_id, r);
}

/* The commit is over: the replies go out in one write (one TLS write
 * instead of one per append), and c may read again. */
static void on_commit_done(struct commit_sink *k)
{
	struct conn *c = conn_of_sink(k);
	if (c->replies.len) {
		conn_send(c, c->replies.data, c->replies.len);
		buf_reset(&c->replies);
	}
	conn_maybe_resume(c);
}

void conn_accept(struct server *s, int fd, const struct sockaddr *sa, int salen)
{
	(void)salen;
	char peer[64];
	conn_format_addr(sa, peer, sizeof peer);
	if (s->stopping) {
		log_msg(LOG_WARN, "refused connection from %s: shutting down", peer);
		stats_refuse(&s->stats, REF_UNAVAILABLE);
		close(fd);
		return;
	}
	/* small replies must not wait for the peer's delayed ACK (Nagle) */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct conn *c = calloc(1, sizeof *c);
	SSL *ssl = c ? tls_new_ssl(s->tls) : NULL;
	if (c == NULL || ssl == NULL) {
		log_msg(LOG_ERROR, "out of memory accepting a connection from %s", peer);
		free(c);
		SSL_free(ssl);
		close(fd);
		return;
	}
	c->bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		log_msg(LOG_ERROR, "cannot set up a connection from %s", peer);
		SSL_free(ssl);
		close(fd);
		free(c);
		return;
	}
	conn_source_of(sa, &c->source);
	make_room(s, &c->source);
	c->srv = s;
	c->sink.result = on_committed;
	c->sink.done = on_commit_done;
	c->id = ++s->next_conn_id;
	c->state = CONN_HANDSHAKE;
	c->accepted_us = stats_now_us();
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	list_push(&s->handshakes, c);
	if (s->handshakes.n == 1)
		arm_handshake_timer(s, c->accepted_us);
	s->stats.accepted++;
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	/* reads outrank the commit: see commit.h */
	bufferevent_priority_set(c->bev, COMMIT_PRIO_IO);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* a frame is read as soon as it is whole; never buffer more than one
	 * maximal frame ahead from a peer */
	bufferevent_setwatermark(c->bev, EV_READ, 0, s->cfg.max_frame + FRAME_HDR);
	bufferevent_setwatermark(c->bev, EV_WRITE, CONN_OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	log_msg(LOG_DEBUG, "conn %llu: accepted from %s", (unsigned long long)c->id, peer);
}

void conn_free(struct conn *c, const char *why)
{
	struct server *s = c->srv;
	if (c->state != CONN_HANDSHAKE)
		log_msg(LOG_INFO, "conn %llu: %s (%s) closed: %s", (unsigned long long)c->id, c->author,
			c->peer, why);
	else
		log_msg(LOG_INFO, "conn %llu: %s: handshake not completed: %s", (unsigned long long)c->id,
			c->peer, why);
	commit_cancel(&s->commit, &c->sink);
	backup_conn_gone(s, c);
	files_conn_gone(s, c);
	buf_free(&c->replies);
	/* fixed order: callbacks off, then free (closes the SSL and fd) */
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_free(c->bev);
	list_remove(list_of(c), c);
	free(c);
	/* after SIGTERM the loop ends with the last connection */
	if (s->stopping && s->conns.n + s->handshakes.n == 0)
		event_base_loopexit(s->base, NULL);
}

void conn_send(struct conn *c, const void *p, size_t n)
{
	if (c->state == CONN_HANDSHAKE)
		return;
	bufferevent_write(c->bev, p, n);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > CONN_OUT_HIGH && !c->paused) {
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
	}
}

bool conn_close(struct conn *c, const char *why)
{
	if (c->state == CONN_CLOSING)
		return false;
	log_msg(LOG_DEBUG, "conn %llu: closing: %s", (unsigned long long)c->id, why);
	set_state(c, CONN_CLOSING);
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 && c->sink.pending == 0) {
		conn_free(c, why);
		return true;
	}
	/* otherwise on_write frees it once the output is flushed */
	return false;
}

/* The commit queue holds c back: its own appends or the queue's bytes. */
static bool held_by_commit(const struct conn *c)
{
	return c->sink.pending >= CONN_MAX_PENDING || c->srv->commit.queue_bytes >= SERVER_MAX_QUEUE_BYTES;
}

static bool may_read(const struct conn *c)
{
	return c->state == CONN_OPEN && !c->srv->stopping && !held_by_commit(c) &&
	       evbuffer_get_length(bufferevent_get_output(c->bev)) <= CONN_OUT_HIGH;
}

/* Stops reading until conn_maybe_resume finds room: on_write calls it when
 * the output drains, the sink's done after the commit c waits for. */
static void hold(struct conn *c)
{
	if (!c->paused) {
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
	}
	if (held_by_commit(c))
		commit_wait(&c->srv->commit, &c->sink);
}

/* Handles every whole frame in the input.  Returns false if c was freed. */
static bool process_input(struct conn *c)
{
	struct server *s = c->srv;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (may_read(c)) {
		uint8_t hdr[FRAME_HDR];
		uint32_t len;
		size_t avail = evbuffer_get_length(in);
		if (avail < FRAME_HDR)
			break;
		evbuffer_copyout(in, hdr, FRAME_HDR);
		enum frame_status st = frame_peek(hdr, FRAME_HDR, (uint32_t)s->cfg.max_frame, &len);
		if (st == FRAME_BAD_LENGTH) {
			char msg[160];
			snprintf(msg, sizeof msg, "frame length %u is outside 1..%llu", len,
				 (unsigned long long)s->cfg.max_frame);
			buf_reset(&s->out);
			wire_error(&s->out, 0, len == 0 ? WERR_BAD_FRAME : WERR_FRAME_TOO_LARGE, msg);
			stats_refuse(&s->stats, len == 0 ? REF_BAD_FRAME : REF_FRAME_TOO_LARGE);
			conn_send(c, s->out.data, s->out.len);
			log_msg(LOG_WARN, "conn %llu: %s (%s): %s; closing", (unsigned long long)c->id,
				c->author, c->peer, msg);
			return !conn_close(c, msg);
		}
		if (avail < FRAME_HDR + (size_t)len)
			break;
		evbuffer_drain(in, FRAME_HDR);
		const uint8_t *p = evbuffer_pullup(in, len);
		if (p == NULL)
			return !conn_close(c, "out of memory");
		buf_reset(&s->out);
		enum dispatch_result r = dispatch(s, c, p, len, &s->out);
		evbuffer_drain(in, len);
		if (s->out.len)
			conn_send(c, s->out.data, s->out.len);
		if (r == DISPATCH_CLOSE)
			return !conn_close(c, "protocol error");
	}
	if (c->state == CONN_OPEN && !may_read(c))
		hold(c);
	return true;
}

bool conn_maybe_resume(struct conn *c)
{
	if (!c->paused || c->state != CONN_OPEN || c->srv->stopping)
		return true;
	if (held_by_commit(c) || evbuffer_get_length(bufferevent_get_output(c->bev)) > CONN_OUT_LOW) {
		hold(c);
		return true;
	}
	c->paused = false;
	bufferevent_enable(c->bev, EV_READ);
	/* frames may already be buffered: no read event will announce them */
	return process_input(c);
}

/* libevent's TLS bufferevent reads one TLS record per readable event; a
 * client that pipelines sends one record per request, so without this the
 * loop would see one request per connection per turn (and the group commit
 * one append per connection).  Read what else the socket holds now, within
 * the same back-pressure limits.  Returns false if c was freed. */
static bool drain_tls(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t chunk[16384];
	while (may_read(c) && evbuffer_get_length(in) < c->srv->cfg.max_frame + FRAME_HDR) {
		int n = SSL_read(ssl, chunk, sizeof chunk);
		if (n <= 0) {
			/* nothing more now, or an error or end of stream that
			 * libevent sees on its next read of this socket */
			ERR_clear_error();
			return true;
		}
		evbuffer_add(in, chunk, (size_t)n);
		if (!process_input(c))
			return false;
	}
	return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	if (c->state == CONN_OPEN && process_input(c))
		drain_tls(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (c->state == CONN_CLOSING) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0 && c->sink.pending == 0)
			conn_free(c, "closed after reply");
		return;
	}
	conn_maybe_resume(c);
}

/* A CN outside the author namespace (roles.h): every request is refused,
 * saying why; the CN is shown with its control characters replaced. */
static void refuse_cn(struct conn *c, const char *why)
{
	char shown[72];
	snprintf(shown, sizeof shown, "%.64s", c->cn);
	bool utf8 = utf8_valid((const uint8_t *)shown, strlen(shown));	/* not if cut inside a character */
	for (char *p = shown; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || (!utf8 && (unsigned char)*p >= 0x80))
			*p = '?';
	snprintf(c->refused, sizeof c->refused,
		 "the certificate's CN \"%s\" %s, so it cannot name an author; use a certificate with another CN",
		 shown, why);
	log_msg(LOG_WARN, "conn %llu: %s from %s: every request refused: %s", (unsigned long long)c->id, c->author,
		c->peer, c->refused);
}

static void handshake_done(struct conn *c)
{
	struct err e = { 0 };
	size_t cn_n;
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
	if (tls_peer_identity(ssl, c->cn, sizeof c->cn, &cn_n, c->fp, &e) ||
	    /* a handshake that began before a reload was checked against the
	     * old CA and CRL: check it against the new ones too */
	    (SSL_get_SSL_CTX(ssl) != c->srv->tls && tls_peer_recheck(c->srv->tls, ssl, &e))) {
		stats_refuse(&c->srv->stats, REF_TLS_HANDSHAKE);
		conn_free(c, e.msg);
		return;
	}
	const char *why = cn_n == TLS_NO_CN ? NULL : roles_cn_problem(c->cn, cn_n);
	if (cn_n != TLS_NO_CN && why == NULL)
		snprintf(c->author, sizeof c->author, "%s", c->cn);
	else
		snprintf(c->author, sizeof c->author, "sha256:%s", c->fp);
	if (why)
		refuse_cn(c, why);
	struct server *s = c->srv;
	if (s->conns.n >= s->cfg.max_connections) {
		char limit[96];
		snprintf(limit, sizeof limit, "connection limit reached (max_connections %llu)",
			 (unsigned long long)s->cfg.max_connections);
		log_msg(LOG_WARN, "conn %llu: refused %s from %s: %s", (unsigned long long)c->id, c->author,
			c->peer, limit);
		stats_refuse(&s->stats, REF_CONNECTION_LIMIT);
		conn_free(c, limit);
		return;
	}
	set_state(c, CONN_OPEN);
	if (s->conns.n > s->stats.open_peak)
		s->stats.open_peak = s->conns.n;
	set_timeouts(c, s->cfg.idle_timeout_s);
	if (SSL_session_reused(ssl))
		c->srv->stats.resumed++;
	log_msg(LOG_INFO, "conn %llu: %s connected from %s (%s%s)", (unsigned long long)c->id, c->author,
		c->peer, SSL_get_version(ssl), SSL_session_reused(ssl) ? ", resumed" : "");
	process_input(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		handshake_done(c);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {	/* set once open: the handshake has its own deadline */
		c->srv->stats.idle_closed++;
		conn_free(c, "idle timeout");
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		char why[512];
		unsigned long ssl_err = bufferevent_get_openssl_error(bev);
		if (ssl_err) {
			char one[256];
			ERR_error_string_n(ssl_err, one, sizeof one);
			snprintf(why, sizeof why, "TLS error: %s", one);
		} else {
			snprintf(why, sizeof why, "connection error");
		}
		while (bufferevent_get_openssl_error(bev))
			;
		if (c->state == CONN_HANDSHAKE)
			stats_refuse(&c->srv->stats, REF_TLS_HANDSHAKE);
		conn_free(c, why);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		if (c->state == CONN_HANDSHAKE)
			stats_refuse(&c->srv->stats, REF_TLS_HANDSHAKE);
		conn_free(c, "peer closed the connection");
	}
}
