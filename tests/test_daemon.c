/*
 * A real scoped on a free loopback port, spoken to over raw mutual TLS:
 * refused handshakes, broken and hostile frames, wrong types, pipelining,
 * handshake and idle timeouts.  The daemon must answer each bad request
 * with the documented error and keep serving everyone else.
 */
#include "harness.h"
#include "tap.h"

static void req_info(struct buf *b, uint64_t id)
{
	buf_reset(b);
	wire_request(b, id, "info", 0);
}

static int info_works(const char *role)
{
	struct cl c;
	struct buf b;
	uint64_t id;
	char code[32];
	buf_init(&b);
	int ok = cl_open(&c, role) == 0;
	req_info(&b, 77);
	ok = ok && send_frame(&c, &b) == 0 && cl_read(&c, &id, code, sizeof code) == 1 && id == 77;
	cl_close(&c);
	buf_free(&b);
	return ok;
}

static void append_req(struct buf *b, uint64_t id, const char *reqid)
{
	buf_reset(b);
	wire_request(b, id, "append", 4);
	mp_pack_cstr(b, "kind");
	mp_pack_cstr(b, "note");
	mp_pack_cstr(b, "project");
	mp_pack_cstr(b, "pr-x");
	mp_pack_cstr(b, "request_id");
	mp_pack_cstr(b, reqid);
	mp_pack_cstr(b, "body");
	mp_pack_map(b, 1);
	mp_pack_cstr(b, "text");
	mp_pack_cstr(b, "pipelined");
}

/* sends raw bytes as one frame payload and returns the error code seen (or "closed") */
#define LIT(s) s, sizeof s - 1

static const char *bad(const void *payload, size_t n, bool *still_open, uint64_t *id_out)
{
	static char code[32];
	struct cl c;
	struct buf b;
	uint64_t id = 999;
	buf_init(&b);
	buf_add(&b, payload, n);
	cl_open(&c, "lead");
	send_frame(&c, &b);
	int rc = cl_read(&c, &id, code, sizeof code);
	if (id_out)
		*id_out = id;
	if (rc < 0)
		snprintf(code, sizeof code, "closed");
	else if (rc == 1)
		snprintf(code, sizeof code, "ok");
	if (still_open) {
		req_info(&b, 5);
		char c2[32];
		*still_open = send_frame(&c, &b) == 0 && cl_read(&c, &id, c2, sizeof c2) == 1;
	}
	cl_close(&c);
	buf_free(&b);
	return code;
}

/* Moves bytes between the socket and a memory-BIO client until the client
 * has written its last handshake flight, which is kept back in *held. */
static int handshake_until_last_flight(SSL *ssl, BIO *in, BIO *out, int fd, struct buf *held)
{
	uint8_t chunk[16384];
	for (int round = 0; round < 50; round++) {
		int r = SSL_do_handshake(ssl);
		int pending = BIO_pending(out);
		if (pending > 0) {
			int n = BIO_read(out, chunk, sizeof chunk);
			if (r == 1) {			/* the client is done: hold its flight back */
				buf_add(held, chunk, (size_t)n);
				return 0;
			}
			if (send(fd, chunk, (size_t)n, 0) != n)
				return -1;
			continue;
		}
		if (r == 1)
			return -1;
		ssize_t got = recv(fd, chunk, sizeof chunk, 0);
		if (got <= 0)
			return -1;
		BIO_write(in, chunk, (int)got);
	}
	return -1;
}

/* A client from its own address pauses before its handshake's last flight
 * (its next round trip), as a distant one would; then finishes it and asks
 * for info.  Whether it was answered. */
struct paused {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *in, *out;
	int fd;
	struct buf held;
};

static bool pause_handshake(struct paused *h, const char *role, unsigned src)
{
	char p[600];
	memset(h, 0, sizeof *h);
	buf_init(&h->held);
	h->ctx = SSL_CTX_new(TLS_client_method());
	snprintf(p, sizeof p, "%s/inst/tls/ca.crt", dir);
	SSL_CTX_load_verify_locations(h->ctx, p, NULL);
	snprintf(p, sizeof p, "%s/inst/clients/%s.crt", dir, role);
	SSL_CTX_use_certificate_chain_file(h->ctx, p);
	snprintf(p, sizeof p, "%s/inst/clients/%s.key", dir, role);
	SSL_CTX_use_PrivateKey_file(h->ctx, p, SSL_FILETYPE_PEM);
	SSL_CTX_set_session_cache_mode(h->ctx, SSL_SESS_CACHE_OFF);
	h->ssl = SSL_new(h->ctx);
	h->in = BIO_new(BIO_s_mem());
	h->out = BIO_new(BIO_s_mem());
	SSL_set_bio(h->ssl, h->in, h->out);
	SSL_set_connect_state(h->ssl);
	h->fd = tcp_from(src);
	return h->fd >= 0 && handshake_until_last_flight(h->ssl, h->in, h->out, h->fd, &h->held) == 0 &&
	       h->held.len > 0;
}

static bool finish_and_ask(struct paused *h)
{
	bool answered = false;
	struct buf b;
	buf_init(&b);
	req_info(&b, 7);
	uint8_t reply[4096];
	if (send(h->fd, h->held.data, h->held.len, 0) == (ssize_t)h->held.len &&
	    SSL_write(h->ssl, b.data, (int)b.len) > 0) {
		int n = BIO_read(h->out, reply, sizeof reply);
		if (n > 0)
			send(h->fd, reply, (size_t)n, 0);
		/* read until a reply, or the server closes (tickets may come first) */
		for (int i = 0; i < 20 && !answered; i++) {
			ssize_t got = recv(h->fd, reply, sizeof reply, 0);
			if (got <= 0)
				break;
			BIO_write(h->in, reply, (int)got);
			uint8_t plain[256];
			answered = SSL_read(h->ssl, plain, sizeof plain) > 0;
		}
	}
	buf_free(&b);
	SSL_free(h->ssl);
	SSL_CTX_free(h->ctx);
	close(h->fd);
	buf_free(&h->held);
	return answered;
}

/* A handshake that began before a reload, under the old CA, must not be
 * admitted once the new configuration no longer accepts the certificate. */
static void reload_mid_handshake(void)
{
	char cmd[4096];
	struct cl open_before;
	/* the paused handshake spans a reload: give it more than the 1 s
	 * deadline, which counts from its accept */
	snprintf(cmd, sizeof cmd, "'%s' init '%s/other' --origin test.example/other >/dev/null && "
		 "echo 'handshake_timeout_s = 10' >> '%s/inst/scoped.conf' && "
		 "cp '%s/inst/scoped.conf' '%s/conf.saved'", scoped_bin, dir, dir, dir, dir);
	ok(system(cmd) == 0, "another CA is made, and the handshake timeout is raised to 10 s");
	reload_daemon();
	ok(cl_open(&open_before, "lead") == 0, "a connection opened before the reload");
	struct paused h;
	ok(pause_handshake(&h, "lead", 1), "a client stops before sending its certificate's last flight (%zu bytes held)",
	   h.held.len);
	/* the configuration now trusts another CA for client certificates */
	snprintf(cmd, sizeof cmd, "echo 'tls_ca = %s/other/tls/ca.crt' >> '%s/inst/scoped.conf'", dir, dir);
	ok(system(cmd) == 0, "the configuration names another client CA");
	reload_daemon();
	bool answered = finish_and_ask(&h);
	ok(!answered, "the handshake that began under the old CA is refused, nothing answered");
	ok(log_has("handshake not completed: (self-signed certificate in certificate chain|"
		   "unable to get local issuer certificate)"), "  the log names the reason");
	uint64_t id;
	char code[32];
	struct buf b;
	buf_init(&b);
	req_info(&b, 8);
	send_frame(&open_before, &b);
	ok(cl_read(&open_before, &id, code, sizeof code) < 0,
	   "the connection opened before the reload was closed: its certificate is no longer accepted");
	cl_close(&open_before);
	buf_free(&b);
	snprintf(cmd, sizeof cmd, "cp '%s/conf.saved' '%s/inst/scoped.conf'", dir, dir);
	ok(system(cmd) == 0, "the configuration is restored");
	reload_daemon();
}

/* Opens n silent TCP connections, from 127.0.0.FIRST on, PER from each. */
static void open_silent(int *fds, int n, unsigned first, int per)
{
	for (int i = 0; i < n; i++)
		fds[i] = tcp_from(first + (unsigned)(i / per));
	/* look well within the 1 s handshake timeout */
	usleep(300000);
}

/* How many of the connections the daemon has closed, if exactly those are
 * the oldest (the first ones); -1 if another one is closed.  Closes all. */
static int oldest_closed(int *fds, int n)
{
	int closed = 0, order = 1;
	for (int i = 0; i < n; i++) {
		bool gone = fds[i] < 0 || tcp_closed(fds[i]);
		if (gone && closed++ != i)
			order = 0;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	usleep(200000);
	return order ? closed : -1;
}

/* Silent connections fill the handshake pool (max_handshakes 20,
 * max_handshakes_per_address 8): a new one drops the oldest of its own
 * address, or of the address holding the most, and is never refused. */
static void handshake_pool(void)
{
	int fds[25];
	open_silent(fds, 10, 2, 10);
	is_int(oldest_closed(fds, 10), 2, "10 silent connections from one address: its 2 oldest are dropped "
	       "(max_handshakes_per_address 8)");
	struct paused h;
	ok(pause_handshake(&h, "auditor", 1), "a client pauses before its handshake's last flight");
	open_silent(fds, 24, 3, 8);
	int gone = 0;
	for (int i = 0; i < 24; i++)
		gone += tcp_closed(fds[i]);
	ok(finish_and_ask(&h), "24 silent connections from three addresses fill the pool behind it: its "
	   "handshake, the oldest, is kept, and it is served (max_handshakes 20)");
	is_int(gone, 5, "  the 5 dropped for the newcomers came from the addresses holding the most");
	for (int i = 0; i < 24; i++)
		close(fds[i]);
	usleep(200000);
	open_silent(fds, 25, 3, 5);
	ok(info_works("auditor"), "with the pool full, a client with a certificate is served");
	for (int i = 0; i < 25; i++)
		close(fds[i]);
	usleep(200000);
}

/* max_connections (20) counts authenticated connections only. */
static void connection_limit(void)
{
	static struct cl held[20];
	struct buf b;
	uint64_t id;
	char code[32];
	int opened = 0;
	buf_init(&b);
	req_info(&b, 9);
	for (int i = 0; i < 20; i++)
		opened += cl_open(&held[i], "lead") == 0 && send_frame(&held[i], &b) == 0 &&
			  cl_read(&held[i], &id, code, sizeof code) == 1;
	is_int(opened, 20, "20 authenticated connections are served");
	ok(!info_works("auditor"), "the 21st is closed after its handshake: max_connections 20");
	cl_close(&held[0]);
	usleep(200000);
	ok(info_works("auditor"), "once one closes, a new one is served");
	for (int i = 1; i < 20; i++)
		cl_close(&held[i]);
	usleep(200000);
	buf_free(&b);
}

int main(void)
{
	if (harness_init("'handshake_timeout_s = 1' 'idle_timeout_s = 2' 'max_frame = 300000' "
			 "'max_connections = 20' 'max_handshakes = 20' 'max_handshakes_per_address = 8' "
			 "'log_level = debug'")) {
		printf("Bail out! scoped init failed\n");
		return 1;
	}
	char cmd[2048];
	start_daemon();
	ok(port > 0, "scoped is listening on port %d", port);
	ok(info_works("lead"), "a client with a certificate gets an answer");

	/* no client certificate: the handshake is refused */
	struct cl c;
	struct buf b;
	uint64_t id;
	char code[32];
	buf_init(&b);
	cl_open(&c, NULL);
	req_info(&b, 1);
	send_frame(&c, &b);
	ok(cl_read(&c, &id, code, sizeof code) < 0, "without a client certificate nothing is answered");
	cl_close(&c);

	bool open;
	uint64_t rid;
	/* length 0xffffffff */
	cl_open(&c, "lead");
	cl_write(&c, "\xff\xff\xff\xff", 4);
	int rc = cl_read(&c, &id, code, sizeof code);
	ok(rc == 0 && strcmp(code, WERR_FRAME_TOO_LARGE) == 0, "a 4 GiB declared length gets frame_too_large");
	ok(cl_read(&c, &id, code, sizeof code) < 0, "  and the connection is closed");
	cl_close(&c);
	/* just above max_frame (300000 = 0x000493e0) */
	cl_open(&c, "lead");
	cl_write(&c, "\x00\x04\x93\xe1", 4);
	ok(cl_read(&c, &id, code, sizeof code) == 0 && strcmp(code, WERR_FRAME_TOO_LARGE) == 0,
	   "max_frame + 1 gets frame_too_large");
	cl_close(&c);
	cl_open(&c, "lead");
	cl_write(&c, "\x00\x00\x00\x00", 4);
	ok(cl_read(&c, &id, code, sizeof code) == 0 && strcmp(code, WERR_BAD_FRAME) == 0, "length 0 gets bad_frame");
	cl_close(&c);
	/* truncated frame, then hang up */
	cl_open(&c, "lead");
	cl_write(&c, "\x00\x00\x00\x64\x82\xa2id\x01", 9);
	cl_close(&c);
	ok(info_works("lead"), "after a truncated frame and a hang-up the daemon serves others");

	is_str(bad(LIT("\xc1"), &open, NULL), WERR_BAD_FRAME, "not msgpack: bad_frame");
	ok(!open, "  and the connection is closed");
	is_str(bad(LIT("\x92\x01\x02"), NULL, NULL), WERR_BAD_FRAME, "an array instead of a map: bad_frame");
	/* {"id": 5, "op": 7} */
	is_str(bad(LIT("\x82\xa2id\x05\xa2op\x07"), &open, &rid), WERR_BAD_REQUEST, "op of the wrong type: bad_request");
	ok(open && rid == 5, "  the id is echoed and the connection stays open");
	/* {"id": 6, "op": "frobnicate"} */
	is_str(bad(LIT("\x82\xa2id\x06\xa2op\xaa" "frobnicate"), &open, &rid), WERR_UNKNOWN_OP, "unknown op");
	ok(open && rid == 6, "  id echoed, connection open");
	/* {"id": 7, "op": "get", "sneaky": 1} */
	is_str(bad(LIT("\x83\xa2id\x07\xa2op\xa3get\xa6sneaky\x01"), &open, NULL), WERR_BAD_REQUEST,
	       "an unknown field: bad_request");
	/* {"id": 8, "op": "get", "seq": -1} */
	is_str(bad(LIT("\x83\xa2id\x08\xa2op\xa3get\xa3seq\xff"), &open, NULL), WERR_BAD_REQUEST,
	       "a negative sequence number: bad_request");
	/* {"id": 9, "op": "get"} with no seq */
	is_str(bad(LIT("\x82\xa2id\x09\xa2op\xa3get"), &open, NULL), WERR_BAD_REQUEST, "a missing field: bad_request");
	/* {"id": 10, "op": "append", "body": array32 of 4 billion} */
	is_str(bad(LIT("\x83\xa2id\x0a\xa2op\xa6" "append\xa4" "body\xdd\xff\xff\xff\xff"), &open, NULL),
	       WERR_BAD_FRAME, "a body declaring 4 billion elements: bad_frame, nothing allocated");
	/* 100 nested arrays */
	uint8_t deep[200];
	size_t dn = 0;
	memcpy(deep, "\x83\xa2id\x0b\xa2op\xa4info\xa4" "body", 16);
	dn = 16;
	for (int i = 0; i < 100; i++)
		deep[dn++] = 0x91;
	deep[dn++] = 0x00;
	is_str(bad(deep, dn, NULL, NULL), WERR_BAD_FRAME, "values nested 100 deep: bad_frame");
	/* invalid UTF-8 in a string: {"id":12,"op":"get","project":"\xff"} */
	is_str(bad(LIT("\x83\xa2id\x0c\xa2op\xa3get\xa7project\xa1\xff"), NULL, NULL), WERR_BAD_FRAME,
	       "invalid UTF-8: bad_frame");
	/* a float where a number belongs */
	is_str(bad(LIT("\x83\xa2id\x0d\xa2op\xa3get\xa3seq\xcb\x3f\xf0\0\0\0\0\0\0"), NULL, NULL), WERR_BAD_FRAME,
	       "a float: bad_frame");
	/* an append with a body of the wrong shape */
	buf_reset(&b);
	wire_request(&b, 14, "append", 4);
	mp_pack_cstr(&b, "kind");
	mp_pack_cstr(&b, "note");
	mp_pack_cstr(&b, "project");
	mp_pack_cstr(&b, "pr-x");
	mp_pack_cstr(&b, "request_id");
	mp_pack_cstr(&b, "bad-body");
	mp_pack_cstr(&b, "body");
	mp_pack_uint(&b, 12);
	is_str(bad(b.data, b.len, &open, NULL), WERR_INVALID, "an append whose body is not a map: invalid");
	ok(open, "  the connection stays open");

	/* the project the appends below go to */
	buf_reset(&b);
	wire_request(&b, 15, "append", 4);
	mp_pack_cstr(&b, "kind");
	mp_pack_cstr(&b, "project");
	mp_pack_cstr(&b, "project");
	mp_pack_cstr(&b, "pr-x");
	mp_pack_cstr(&b, "request_id");
	mp_pack_cstr(&b, "make-pr-x");
	mp_pack_cstr(&b, "body");
	mp_pack_map(&b, 5);
	mp_pack_cstr(&b, "client");
	mp_pack_cstr(&b, "C Corp");
	mp_pack_cstr(&b, "title");
	mp_pack_cstr(&b, "X");
	mp_pack_cstr(&b, "contract_type");
	mp_pack_cstr(&b, "tm");
	mp_pack_cstr(&b, "currency");
	mp_pack_cstr(&b, "EUR");
	mp_pack_cstr(&b, "amount_minor");
	mp_pack_uint(&b, 100000);
	is_str(bad(b.data, b.len, NULL, NULL), "ok", "create project pr-x");

	/* a body not in canonical form is re-encoded once and recorded; one
	 * that no re-encoding makes valid is refused */
	static const char *const bodies[3] = { "\x81\xa4text\xd9\x02ok", "\x82\xa4text\xa1x\xa4text\xa1y",
					       "\x81\xa4text\xc4\x01x" };
	static const char *const want[3] = { "ok", WERR_INVALID, WERR_INVALID };
	static const char *const what[3] = { "a note whose text is a longer string form than needed: appended",
					     "a body with a key twice: invalid", "a body holding binary data: invalid" };
	for (int i = 0; i < 3; i++) {
		char rq[16];
		snprintf(rq, sizeof rq, "canon-%d", i);
		buf_reset(&b);
		wire_request(&b, 20 + (uint64_t)i, "append", 4);
		mp_pack_cstr(&b, "kind");
		mp_pack_cstr(&b, "note");
		mp_pack_cstr(&b, "project");
		mp_pack_cstr(&b, "pr-x");
		mp_pack_cstr(&b, "request_id");
		mp_pack_cstr(&b, rq);
		mp_pack_cstr(&b, "body");
		buf_add(&b, bodies[i], strlen(bodies[i]));	/* no NUL in them */
		is_str(bad(b.data, b.len, NULL, NULL), want[i], "%s", what[i]);
	}

	/* pipelining: 100 appends in one write, 100 answers */
	cl_open(&c, "lead");
	struct buf all;
	buf_init(&all);
	for (int i = 0; i < 100; i++) {
		char rq[32];
		snprintf(rq, sizeof rq, "pipe-%d", i);
		append_req(&b, 1000 + (uint64_t)i, rq);
		uint8_t hdr[4];
		frame_header(hdr, (uint32_t)b.len);
		buf_add(&all, hdr, 4);
		buf_add(&all, b.data, b.len);
	}
	cl_write(&c, all.data, all.len);
	int answered = 0, okays = 0;
	uint8_t seen[100] = { 0 };
	for (int i = 0; i < 100; i++) {
		int r = cl_read(&c, &id, code, sizeof code);
		if (r < 0)
			break;
		answered++;
		if (r == 1 && id >= 1000 && id < 1100 && !seen[id - 1000]) {
			seen[id - 1000] = 1;
			okays++;
		}
	}
	is_int(answered, 100, "100 pipelined appends get 100 answers");
	is_int(okays, 100, "  each a success for a distinct request id");
	cl_close(&c);
	buf_free(&all);

	/* handshake timeout: a TCP connection that never speaks TLS */
	int fd = tcp();
	char ch;
	time_t t0 = time(NULL);
	ssize_t got = recv(fd, &ch, 1, 0);
	ok(got == 0 && time(NULL) - t0 <= 4, "a connection that never starts TLS is closed (handshake timeout)");
	close(fd);
	/* idle timeout */
	cl_open(&c, "lead");
	t0 = time(NULL);
	rc = cl_read(&c, &id, code, sizeof code);
	ok(rc < 0 && time(NULL) - t0 >= 1, "a silent connection is closed after the idle timeout");
	cl_close(&c);
	handshake_pool();
	connection_limit();
	ok(info_works("auditor"), "after all of that the daemon still serves");
	reload_mid_handshake();

	kill(daemon_pid, SIGTERM);
	int st;
	waitpid(daemon_pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM: scoped exits 0");
	snprintf(cmd, sizeof cmd, "'%s' verify -c '%s/inst/scoped.conf' >/dev/null", scoped_bin, dir);
	ok(system(cmd) == 0, "the stored ledger verifies");
	harness_cleanup();
	buf_free(&b);
	return done_testing();
}
