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

int main(void)
{
	if (harness_init("'handshake_timeout_s = 1' 'idle_timeout_s = 2' 'max_frame = 300000' "
			 "'max_connections = 20' 'log_level = debug'")) {
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
	/* connection limit: 25 silent TCP connections against a limit of 20 */
	int fds[25], closed = 0;
	for (int i = 0; i < 25; i++)
		fds[i] = tcp();
	/* look well within the 1 s handshake timeout, which closes the rest */
	usleep(300000);
	for (int i = 0; i < 25; i++)
		if (fds[i] < 0 || recv(fds[i], &ch, 1, MSG_DONTWAIT) == 0)
			closed++;
	is_int(closed, 5, "beyond max_connections (20) new connections are closed at once");
	for (int i = 0; i < 25; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	usleep(200000);
	ok(info_works("auditor"), "after all of that the daemon still serves");

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
