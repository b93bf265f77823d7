/*
 * liar: a lying server for scopectl's tests (tests/t/liar.t).
 *
 *   liar close
 *	accepts TCP connections on loopback and closes each at once, as scoped
 *	does at its connection limit or while stopping.
 *   liar relay UPSTREAM-PORT INST ROLE ACK-SEQ|-|taint|stale
 *	a TLS server with the server certificate of the instance INST that
 *	relays every request to the real scoped on UPSTREAM-PORT, as INST's
 *	client ROLE.  With ACK-SEQ a number, appends are not relayed: each is
 *	dropped and acknowledged with entry ACK-SEQ, with its real leaf hash,
 *	so every read-back and proof the client asks for comes from the real
 *	scoped.  With "-" everything is relayed as it is; with "taint" every
 *	string in a response (not the entries, which are binary) has each '~'
 *	turned into ESC and each '`' into CR: a server that sends terminal
 *	controls.  With "stale" the first answers to `checkpoint` and `status`
 *	are kept and given again to every later request for them: a server
 *	that has the whole log but answers from an older checkpoint.
 *   liar relay UPSTREAM-PORT INST ROLE pages-LIE
 *	relays everything, but lies about the pages of entry listings without
 *	a proof (scopectl verify, export), counting "entries" requests over
 *	all connections from 1:
 *	  pages-swap	 answers the 2nd and 3rd in the other order, as a
 *			 server may (a client with one in flight waits forever)
 *	  pages-repeat	 answers the 3rd with the 2nd's entries
 *	  pages-twice	 sends the answer to the 2nd twice
 *	  pages-short	 cuts every page to its first half, its "next" right
 *			 after them, as a server may
 *	  pages-end	 cuts the 3rd to its first half and says it is the last
 *	  pages-cut	 closes the connection when the 4th arrives (once)
 *	  pages-bad-cut	 alters the 11th entry of the 2nd page, and closes the
 *			 connection when the 4th arrives, and every later one at
 *			 once
 *
 * Prints "ready on 127.0.0.1:PORT" on stdout, then serves one connection at a
 * time until it is killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "merkle.h"
#include "mp.h"
#include "wire.h"

static int listen_loopback(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		perror("liar: listen");
		exit(2);
	}
	printf("ready on 127.0.0.1:%u\n", (unsigned)ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

static int io(SSL *ssl, void *p, size_t n, bool writing)
{
	uint8_t *c = p;
	while (n) {
		int k = writing ? SSL_write(ssl, c, (int)n) : SSL_read(ssl, c, (int)n);
		if (k <= 0)
			return -1;
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* One frame (header and payload) into b. */
static int read_frame(SSL *ssl, struct buf *b)
{
	uint8_t hdr[FRAME_HDR];
	uint32_t n;
	if (io(ssl, hdr, FRAME_HDR, false) || frame_peek(hdr, FRAME_HDR, 64u << 20, &n) == FRAME_BAD_LENGTH)
		return -1;
	buf_reset(b);
	buf_add(b, hdr, FRAME_HDR);
	if (!buf_reserve(b, n))
		return -1;
	b->len += n;
	return io(ssl, b->data + FRAME_HDR, n, false);
}

/* The leaf hash of entry seq, from the real server. */
static int real_leaf(SSL *up, uint64_t seq, uint8_t leaf[HASH_LEN])
{
	struct buf b;
	buf_init(&b);
	size_t start = wire_begin(&b);
	wire_request(&b, 1u << 30, "get", 1);
	mp_pack_cstr(&b, "seq");
	mp_pack_uint(&b, seq);
	wire_seal(&b, start, UINT32_MAX);
	const uint8_t *res, *p;
	size_t len, n;
	uint64_t id;
	char code[32], msg[256];
	struct mp_cur c;
	int rc = io(up, b.data, b.len, true) || read_frame(up, &b) ||
			 wire_parse_response(b.data + FRAME_HDR, b.len - FRAME_HDR, &id, &res, &len, code,
					     sizeof code, msg, sizeof msg, NULL) != 1 ||
			 mp_map_find(res, len, "entry", &c, NULL) != 1 || mp_get_bin(&c, &p, &n, NULL)
		 ? -1
		 : 0;
	if (rc == 0)
		merkle_leaf_hash(p, n, leaf);
	buf_free(&b);
	return rc;
}

/* ESC for '~' and CR for '`' in every string of a response frame. */
static void taint(struct buf *frame)
{
	struct mp_cur c;
	struct mp_item it;
	mp_cur_init(&c, frame->data + FRAME_HDR, frame->len - FRAME_HDR);
	while (mp_left(&c) && mp_next(&c, &it, NULL) == 0)
		for (uint32_t i = 0; it.type == MP_STR && i < it.n; i++) {
			uint8_t *ch = (uint8_t *)it.p + i;
			*ch = *ch == '~' ? 0x1b : *ch == '`' ? '\r' : *ch;
		}
}

/* stale: the result of the first answer to each op, kept for later ones */
static const char *const STALE_OPS[] = { "checkpoint", "status" };
static struct buf stale_result[2];
static bool stale_have[2];

/* stale: answers r from the kept result (1), or says none is kept (0) and
 * keeps the result of the answer that is relayed (stale_keep). */
static int stale_answer(const struct wire_req *r, struct buf *resp, int *op)
{
	*op = -1;
	for (int i = 0; i < 2; i++)
		if (strcmp(r->op, STALE_OPS[i]) == 0)
			*op = i;
	if (*op < 0 || !stale_have[*op])
		return 0;
	buf_reset(resp);
	size_t start = wire_begin(resp);
	mp_pack_map(resp, 3);
	mp_pack_cstr(resp, "id");
	mp_pack_uint(resp, r->id);
	mp_pack_cstr(resp, "ok");
	mp_pack_bool(resp, true);
	mp_pack_cstr(resp, "result");
	buf_add(resp, stale_result[*op].data, stale_result[*op].len);
	wire_seal(resp, start, UINT32_MAX);
	return 1;
}

static void stale_keep(int op, const struct buf *resp)
{
	const uint8_t *res;
	size_t len;
	uint64_t id;
	char code[32], msg[256];
	if (op < 0 || stale_have[op] ||
	    wire_parse_response(resp->data + FRAME_HDR, resp->len - FRAME_HDR, &id, &res, &len, code, sizeof code,
				msg, sizeof msg, NULL) != 1)
		return;
	buf_init(&stale_result[op]);
	buf_add(&stale_result[op], res, len);
	stale_have[op] = true;
}

/* pages-LIE: the "entries" requests so far; closing every connection */
static unsigned pages_seen;
static bool pages_dead;

/* The id and result of response frame f. */
static int result_of(const struct buf *f, uint64_t *id, const uint8_t **res, size_t *len)
{
	char code[32], msg[256];
	return wire_parse_response(f->data + FRAME_HDR, f->len - FRAME_HDR, id, res, len, code, sizeof code, msg,
				   sizeof msg, NULL) == 1 ? 0 : -1;
}

/* f becomes an answer to id whose result is {entries: the first keep
 * entries of page's, next: the seq of the entry after them, or nil}. */
static void page_cut(struct buf *f, uint64_t id, const struct buf *page, uint32_t keep, bool last)
{
	uint64_t pid, next = 0;
	const uint8_t *res, *p = NULL;
	size_t len, n = 0;
	uint32_t count;
	struct mp_cur c, e;
	if (result_of(page, &pid, &res, &len) || mp_map_find(res, len, "entries", &c, NULL) != 1 ||
	    mp_get_array(&c, &count, NULL))
		return;
	if (keep > count)
		keep = count;
	struct buf out;
	buf_init(&out);
	size_t start = wire_begin(&out);
	wire_ok(&out, id, 2);
	mp_pack_cstr(&out, "entries");
	mp_pack_array(&out, keep);
	for (uint32_t i = 0; i < count && mp_get_bin(&c, &p, &n, NULL) == 0; i++) {
		if (i < keep)
			mp_pack_bin(&out, p, n);
		if (i == keep && mp_map_find(p, n, "seq", &e, NULL) == 1)
			mp_get_uint(&e, &next, NULL);
	}
	mp_pack_cstr(&out, "next");
	if (last || keep == count)
		mp_pack_nil(&out);
	else
		mp_pack_uint(&out, next);
	wire_seal(&out, start, UINT32_MAX);
	buf_reset(f);
	buf_add(f, out.data, out.len);
	buf_free(&out);
}

/* Closes cl after what was sent has arrived: a close with requests
 * still unread would reset the connection, and the client lose the answers
 * sent before (this is a server that stops, not one that loses answers). */
static void close_draining(SSL *cl)
{
	int fd = SSL_get_fd(cl);
	char junk[4096];
	struct timeval tv = { 5, 0 };
	SSL_shutdown(cl);
	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (read(fd, junk, sizeof junk) > 0)
		;
}

/* One lie about the answer resp to the n-th "entries" request: 0 send
 * resp, 1 send nothing now, -1 close the connection.  held keeps an
 * answer for later (swap, repeat). */
static int page_lie(const char *lie, unsigned n, struct buf *resp, struct buf *held, SSL *cl)
{
	uint64_t id;
	const uint8_t *res;
	size_t len;
	if (strcmp(lie, "pages-swap") == 0 && n == 2) {
		buf_reset(held);
		buf_add(held, resp->data, resp->len);
		return 1;
	}
	if (strcmp(lie, "pages-swap") == 0 && n == 3)
		return io(cl, resp->data, resp->len, true) || io(cl, held->data, held->len, true) ? -1 : 1;
	if (strcmp(lie, "pages-repeat") == 0 && n == 2) {
		buf_reset(held);
		buf_add(held, resp->data, resp->len);
	}
	if (strcmp(lie, "pages-repeat") == 0 && n == 3 && result_of(resp, &id, &res, &len) == 0)
		page_cut(resp, id, held, UINT32_MAX, false);
	if (strcmp(lie, "pages-twice") == 0 && n == 2 && io(cl, resp->data, resp->len, true))
		return -1;
	if ((strcmp(lie, "pages-short") == 0 || (strcmp(lie, "pages-end") == 0 && n == 3)) &&
	    result_of(resp, &id, &res, &len) == 0) {
		struct mp_cur c;
		uint32_t count;
		buf_reset(held);
		buf_add(held, resp->data, resp->len);
		if (mp_map_find(res, len, "entries", &c, NULL) == 1 && mp_get_array(&c, &count, NULL) == 0)
			page_cut(resp, id, held, count > 1 ? count / 2 : count, strcmp(lie, "pages-end") == 0);
	}
	if (strcmp(lie, "pages-bad-cut") == 0 && n == 2 && result_of(resp, &id, &res, &len) == 0) {
		struct mp_cur c;
		uint32_t count;
		const uint8_t *p = NULL;
		size_t pn = 0;
		if (mp_map_find(res, len, "entries", &c, NULL) == 1 && mp_get_array(&c, &count, NULL) == 0)
			for (uint32_t i = 0; i < count && i <= 10 && mp_get_bin(&c, &p, &pn, NULL) == 0; i++)
				if (i == 10)
					((uint8_t *)p)[pn / 2] ^= 1;
	}
	return 0;
}

/* Relays one client connection until either side closes. */
static void relay(SSL *cl, SSL *up, const char *ack)
{
	struct buf req, resp, held;
	buf_init(&req);
	buf_init(&resp);
	buf_init(&held);
	bool pages = strncmp(ack, "pages-", 6) == 0;
	while (read_frame(cl, &req) == 0) {
		struct wire_req r;
		uint64_t id;
		uint8_t leaf[HASH_LEN];
		bool stale = strcmp(ack, "stale") == 0;
		bool parsed = wire_parse_request(req.data + FRAME_HDR, req.len - FRAME_HDR, &r, &id, NULL) == 0;
		bool lie = strcmp(ack, "-") != 0 && strcmp(ack, "taint") != 0 && !stale && !pages && parsed &&
			   strcmp(r.op, "append") == 0;
		unsigned page = pages && parsed && strcmp(r.op, "entries") == 0 ? ++pages_seen : 0;
		if (page == 4 && (strcmp(ack, "pages-cut") == 0 || strcmp(ack, "pages-bad-cut") == 0)) {
			pages_dead = strcmp(ack, "pages-bad-cut") == 0;
			close_draining(cl);
			break;
		}
		int op = -1;
		if (stale && parsed && stale_answer(&r, &resp, &op)) {
			/* the kept answer */
		} else if (lie) {
			uint64_t seq = strtoull(ack, NULL, 10);
			if (real_leaf(up, seq, leaf))
				break;
			buf_reset(&resp);
			size_t start = wire_begin(&resp);
			wire_ok(&resp, r.id, 3);
			mp_pack_cstr(&resp, "seq");
			mp_pack_uint(&resp, seq);
			mp_pack_cstr(&resp, "leaf_hash");
			mp_pack_bin(&resp, leaf, HASH_LEN);
			mp_pack_cstr(&resp, "duplicate");
			mp_pack_bool(&resp, false);
			wire_seal(&resp, start, UINT32_MAX);
		} else if (io(up, req.data, req.len, true) || read_frame(up, &resp)) {
			break;
		} else if (strcmp(ack, "taint") == 0) {
			taint(&resp);
		} else if (stale) {
			stale_keep(op, &resp);
		}
		int how = page ? page_lie(ack, page, &resp, &held, cl) : 0;
		if (how < 0 || (how == 0 && io(cl, resp.data, resp.len, true)))
			break;
	}
	buf_free(&req);
	buf_free(&resp);
	buf_free(&held);
}

static SSL *upstream(SSL_CTX *ctx, int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

static void drop(SSL *ssl)
{
	if (ssl == NULL)
		return;
	int fd = SSL_get_fd(ssl);
	SSL_free(ssl);
	close(fd);
}

static SSL_CTX *ctx_for(bool server, const char *inst, const char *cert, const char *key)
{
	char p[4096];
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	snprintf(p, sizeof p, "%s/tls/ca.crt", inst);
	SSL_CTX_load_verify_locations(ctx, p, NULL);
	snprintf(p, sizeof p, "%s/%s", inst, cert);
	SSL_CTX_use_certificate_chain_file(ctx, p);
	snprintf(p, sizeof p, "%s/%s", inst, key);
	if (SSL_CTX_use_PrivateKey_file(ctx, p, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "liar: %s: cannot load\n", p);
		exit(2);
	}
	/* the server asks for the client's certificate, as scoped does */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	if (server)
		SSL_CTX_set_num_tickets(ctx, 0);
	return ctx;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 2 && strcmp(argv[1], "close") == 0) {
		int lfd = listen_loopback();
		for (int fd; (fd = accept(lfd, NULL, NULL)) >= 0;)
			close(fd);
		return 1;
	}
	if (argc != 6 || strcmp(argv[1], "relay") != 0) {
		fprintf(stderr, "usage: liar close | liar relay UPSTREAM-PORT INST ROLE ACK-SEQ|-|taint|stale|pages-LIE\n");
		return 2;
	}
	char cert[300], key[300];
	snprintf(cert, sizeof cert, "clients/%s.crt", argv[4]);
	snprintf(key, sizeof key, "clients/%s.key", argv[4]);
	SSL_CTX *sctx = ctx_for(true, argv[3], "tls/server.crt", "tls/server.key");
	SSL_CTX *cctx = ctx_for(false, argv[3], cert, key);
	int lfd = listen_loopback();
	for (int fd; (fd = accept(lfd, NULL, NULL)) >= 0;) {
		if (pages_dead) {
			close(fd);
			continue;
		}
		SSL *cl = SSL_new(sctx), *up = NULL;
		SSL_set_fd(cl, fd);
		if (SSL_accept(cl) == 1 && (up = upstream(cctx, atoi(argv[2]))) != NULL)
			relay(cl, up, argv[5]);
		ERR_clear_error();
		drop(up);
		drop(cl);
	}
	return 1;
}
