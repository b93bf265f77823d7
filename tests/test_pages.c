/*
 * Long answers against a real scoped with max_frame at its minimum: a
 * project with 20,000 change requests (1,500 of them approved, on the
 * client's behalf without evidence) whose status, unbilled and exposure
 * reports and history scopectl reads in full, page by page; a page cursor
 * refused once the answer changed; and scopectl behind a lying server (a
 * real TLS server on loopback, holding the daemon's certificate, that
 * relays to the daemon and alters its answers): a paging cursor that does
 * not advance, pages that never end, an entry that does not match its
 * proof.  Each lie ends in exit 1 naming the misbehaviour.
 */
#include "harness.h"
#include "fileio.h"
#include "json.h"
#include "tap.h"

#define CHANGES 20000
#define APPROVED 1500
#define FEE 10000	/* minor units (JPY) */
#define WINDOW 500	/* appends in flight on one connection */

static char scopectl_bin[1024];
static const char *PROJECT = "{\"client\":\"C Corp\",\"title\":\"Big\",\"contract_type\":\"fixed\","
			     "\"currency\":\"JPY\",\"amount_minor\":3000000}";

static void append_req(struct buf *b, uint64_t id, const char *kind, const char *json_body)
{
	char rq[40];
	struct buf body;
	struct err e = { 0 };
	buf_init(&body);
	json_to_canonical(json_body, strlen(json_body), &body, &e);
	snprintf(rq, sizeof rq, "r-%llu", (unsigned long long)id);
	size_t start = wire_begin(b);
	wire_request(b, id, "append", 4);
	mp_pack_cstr(b, "kind");
	mp_pack_cstr(b, kind);
	mp_pack_cstr(b, "project");
	mp_pack_cstr(b, "big");
	mp_pack_cstr(b, "request_id");
	mp_pack_cstr(b, rq);
	mp_pack_cstr(b, "body");
	buf_add(b, body.data, body.len);
	wire_seal(b, start, UINT32_MAX);
	buf_free(&body);
}

/* Appends count entries as role, WINDOW at a time; the body of the i-th
 * (1-based) made by fn.  Returns how many were recorded. */
static int pipeline(const char *role, const char *kind, int count, uint64_t id0,
		    void (*fn)(int i, char *out, size_t n))
{
	struct cl c;
	int good = 0;
	if (cl_open(&c, role))
		return 0;
	for (int at = 0; at < count; at += WINDOW) {
		struct buf b;
		char body[400];
		int n = count - at < WINDOW ? count - at : WINDOW;
		buf_init(&b);
		for (int i = 0; i < n; i++) {
			fn(at + i + 1, body, sizeof body);
			append_req(&b, id0 + (uint64_t)(at + i), kind, body);
		}
		if (cl_write(&c, b.data, b.len) == 0)
			for (int i = 0; i < n; i++) {
				uint64_t id;
				char code[32];
				good += cl_read(&c, &id, code, sizeof code) == 1;
			}
		buf_free(&b);
	}
	cl_close(&c);
	return good;
}

static void change_body(int i, char *out, size_t n)
{
	snprintf(out, n, "{\"title\":\"big change %d\",\"raised_by\":\"C manager\",\"channel\":\"meeting\","
		 "\"reason\":\"client_request\"}", i);
}

static void assess_body(int i, char *out, size_t n)
{
	snprintf(out, n, "{\"change\":\"CR-%d\",\"class\":\"out_of_scope\",\"rationale\":\"extra\"}", i);
}

static void quote_body(int i, char *out, size_t n)
{
	snprintf(out, n, "{\"change\":\"CR-%d\",\"fee_minor\":%d,\"effort_hours\":1}", i, FEE);
}

static void response_body(int i, char *out, size_t n)
{
	snprintf(out, n, "{\"change\":\"CR-%d\",\"quote\":1,\"decision\":\"approved\",\"respondent\":\"C manager\","
		 "\"channel\":\"email\"}", i);
}

/* ---- scopectl ---- */

/* Runs scopectl ARGS as role against port p; stdout and stderr into
 * DIR/out and DIR/err.  Returns the exit status (-1 if it did not exit). */
static int ctl(int p, const char *role, const char *args)
{
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "timeout 60 '%s' %s --config '%s/inst/clients/%s.conf' --server 127.0.0.1:%d "
		 ">'%s/out' 2>'%s/err'", scopectl_bin, args, dir, role, p, dir, dir);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long lines_of(const char *name)
{
	char path[600], line[4096];
	long n = 0;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		n += strchr(line, '\n') != NULL;
	fclose(f);
	return n;
}

static bool has_quiet(const char *name, const char *text, bool quiet)
{
	char path[600];
	struct buf b;
	struct err e = { 0 };
	buf_init(&b);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	bool found = read_file(path, 1u << 30, &b, &e) == 0 && memmem(b.data, b.len, text, strlen(text));
	if (!found && !quiet) {
		diag("'%s' not in %s:", text, name);
		fwrite(b.data, 1, b.len < 600 ? b.len : 600, stdout);
	}
	buf_free(&b);
	return found;
}

static bool has(const char *name, const char *text)
{
	return has_quiet(name, text, false);
}

/* ---- frames ---- */

static int read_full(SSL *ssl, uint8_t *p, size_t n)
{
	for (size_t got = 0; got < n;) {
		int k = SSL_read(ssl, p + got, (int)(n - got > 1 << 20 ? 1 << 20 : n - got));
		if (k <= 0) {
			ERR_clear_error();
			return -1;
		}
		got += (size_t)k;
	}
	return 0;
}

/* One whole frame, header included, into b. */
static int read_frame(SSL *ssl, struct buf *b)
{
	uint8_t hdr[4];
	uint32_t n;
	buf_reset(b);
	if (read_full(ssl, hdr, 4) || frame_peek(hdr, 4, 1u << 26, &n) == FRAME_BAD_LENGTH)
		return -1;
	buf_add(b, hdr, 4);
	if (!buf_reserve(b, n) || read_full(ssl, b->data + 4, n))
		return -1;
	b->len = 4 + (size_t)n;
	return 0;
}

static int write_all(SSL *ssl, const struct buf *b)
{
	return SSL_write(ssl, b->data, (int)b->len) == (int)b->len ? 0 : -1;
}

/* ---- raw status pages ---- */

/* One status page of 10 records; 1 ok (the next cursor in *next, empty at
 * the end), 0 error (its code in code), -1 failure. */
static int status_page(struct cl *c, uint64_t id, const struct buf *cursor, struct buf *next, char *code)
{
	struct buf b;
	buf_init(&b);
	wire_request(&b, id, "status", cursor->len ? 3 : 2);
	mp_pack_cstr(&b, "project");
	mp_pack_cstr(&b, "big");
	mp_pack_cstr(&b, "limit");
	mp_pack_uint(&b, 10);
	if (cursor->len) {
		mp_pack_cstr(&b, "cursor");
		mp_pack_bin(&b, cursor->data, cursor->len);
	}
	int rc = -1;
	if (send_frame(c, &b) == 0 && read_frame(c->ssl, &b) == 0) {
		uint64_t rid;
		const uint8_t *res, *p;
		size_t rl, n;
		char msg[512];
		struct mp_cur mc;
		code[0] = '\0';
		rc = wire_parse_response(b.data + 4, b.len - 4, &rid, &res, &rl, code, 32, msg, sizeof msg, NULL);
		buf_reset(next);
		if (rc == 1 && mp_map_find(res, rl, "next", &mc, NULL) == 1 && mp_get_bin(&mc, &p, &n, NULL) == 0)
			buf_add(next, p, n);
	}
	buf_free(&b);
	return rc;
}

/* ---- a lying server ---- */

enum lie { LIE_STUCK_HISTORY, LIE_ALTERED_ENTRY, LIE_ENDLESS_PAGES };

/* The map at p (a request, or a response's result) again, less `drop`, with
 * `set` (if present) given the value val. */
static int remap(const uint8_t *p, size_t n, const char *drop, const char *set, const struct buf *val,
		 struct buf *out)
{
	struct mp_cur c;
	uint32_t count, keep = 0;
	struct buf body;
	buf_init(&body);
	mp_cur_init(&c, p, n);
	if (mp_get_map(&c, &count, NULL))
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		const char *k;
		size_t kn;
		if (mp_get_str(&c, &k, &kn, NULL))
			return -1;
		const uint8_t *v = c.p;
		if (mp_skip(&c, 24, NULL))
			return -1;
		if (drop && kn == strlen(drop) && memcmp(k, drop, kn) == 0)
			continue;
		mp_pack_str(&body, k, kn);
		if (set && kn == strlen(set) && memcmp(k, set, kn) == 0)
			buf_add(&body, val->data, val->len);
		else
			buf_add(&body, v, (size_t)(c.p - v));
		keep++;
	}
	mp_pack_map(out, keep);
	buf_add(out, body.data, body.len);
	buf_free(&body);
	return 0;
}

/* Rewrites the frame in f: its payload map, or (result) the result map in it. */
static void reframe(struct buf *f, bool result, const char *drop, const char *set, const struct buf *val)
{
	struct buf out;
	buf_init(&out);
	size_t start = wire_begin(&out);
	if (!result) {
		remap(f->data + 4, f->len - 4, drop, set, val, &out);
	} else {
		struct mp_cur c;
		uint64_t id;
		mp_map_find(f->data + 4, f->len - 4, "id", &c, NULL);
		mp_get_uint(&c, &id, NULL);
		mp_map_find(f->data + 4, f->len - 4, "result", &c, NULL);
		const uint8_t *r = c.p;
		mp_skip(&c, 24, NULL);
		mp_pack_map(&out, 3);
		mp_pack_cstr(&out, "id");
		mp_pack_uint(&out, id);
		mp_pack_cstr(&out, "ok");
		mp_pack_bool(&out, true);
		mp_pack_cstr(&out, "result");
		remap(r, (size_t)(c.p - r), drop, set, val, &out);
	}
	wire_seal(&out, start, UINT32_MAX);
	buf_reset(f);
	buf_add(f, out.data, out.len);
	buf_free(&out);
}

static bool request_is(const struct buf *f, const char *op)
{
	struct mp_cur c;
	const char *s;
	size_t n;
	return mp_map_find(f->data + 4, f->len - 4, "op", &c, NULL) == 1 && mp_get_str(&c, &s, &n, NULL) == 0 &&
	       n == strlen(op) && memcmp(s, op, n) == 0;
}

/* Relays one client to the daemon (as the auditor), telling the lie. */
static void relay(SSL *down, enum lie lie)
{
	struct cl up;
	struct buf f, val;
	buf_init(&f);
	buf_init(&val);
	if (cl_open(&up, "auditor"))
		return;
	while (read_frame(down, &f) == 0) {
		bool entries = request_is(&f, "entries"), status = request_is(&f, "status");
		uint64_t from = 0;
		struct mp_cur c;
		if (entries && mp_map_find(f.data + 4, f.len - 4, "from", &c, NULL) == 1)
			mp_get_uint(&c, &from, NULL);
		if (status && lie == LIE_ENDLESS_PAGES)	/* always the first page again */
			reframe(&f, false, "cursor", NULL, NULL);
		if (write_all(up.ssl, &f) || read_frame(up.ssl, &f))
			break;
		if (entries && lie == LIE_STUCK_HISTORY) {	/* "next" back where it started */
			buf_reset(&val);
			mp_pack_uint(&val, from);
			reframe(&f, true, NULL, "next", &val);
		}
		if (entries && lie == LIE_ALTERED_ENTRY) {	/* one title, one letter */
			uint8_t *t = memmem(f.data, f.len, "big change 7", 12);
			if (t)
				*t = 'B';
		}
		if (write_all(down, &f))
			break;
	}
	cl_close(&up);
	buf_free(&f);
	buf_free(&val);
}

/* Starts the lying server on a free port; returns the port (its pid in *pid). */
static int liar_start(enum lie lie, pid_t *pid)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, 8) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	*pid = fork();
	if (*pid == 0) {
		char p[600];
		SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
		snprintf(p, sizeof p, "%s/inst/tls/server.crt", dir);
		SSL_CTX_use_certificate_chain_file(ctx, p);
		snprintf(p, sizeof p, "%s/inst/tls/server.key", dir);
		SSL_CTX_use_PrivateKey_file(ctx, p, SSL_FILETYPE_PEM);
		SSL_CTX_set_num_tickets(ctx, 0);
		for (;;) {
			int cfd = accept(fd, NULL, NULL);
			if (cfd < 0)
				_exit(0);
			SSL *ssl = SSL_new(ctx);
			SSL_set_fd(ssl, cfd);
			if (SSL_accept(ssl) == 1)
				relay(ssl, lie);
			ERR_clear_error();
			SSL_free(ssl);
			close(cfd);
		}
	}
	close(fd);
	return ntohs(sa.sin_port);
}

static void liar_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	const char *bin = getenv("SCOPECTL");
	snprintf(scopectl_bin, sizeof scopectl_bin, "%s", bin ? bin : "../client/scopectl");
	if (harness_init("'max_frame = 300000'")) {
		printf("Bail out! no instance\n");
		return 1;
	}
	char state[600], want[200];
	snprintf(state, sizeof state, "%s/state", dir);
	setenv("XDG_STATE_HOME", state, 1);
	start_daemon();
	if (port == 0) {
		printf("Bail out! no daemon\n");
		return 1;
	}
	struct cl c;
	struct buf b;
	uint64_t id;
	char code[32];
	buf_init(&b);
	append_req(&b, 1, "project", PROJECT);
	ok(cl_open(&c, "lead") == 0 && cl_write(&c, b.data, b.len) == 0 && cl_read(&c, &id, code, sizeof code) == 1,
	   "project big");
	cl_close(&c);
	buf_free(&b);
	is_int(pipeline("client", "change", CHANGES, 100, change_body), CHANGES, "the client raises %d changes", CHANGES);
	is_int(pipeline("approver", "assessment", APPROVED, 100000, assess_body), APPROVED,
	       "%d of them are assessed out of scope", APPROVED);
	is_int(pipeline("lead", "quote", APPROVED, 200000, quote_body), APPROVED, "  quoted");
	is_int(pipeline("lead", "response", APPROVED, 300000, response_body), APPROVED,
	       "  and approved, recorded by the lead on the client's behalf");
	long entries = 1 + CHANGES + 3 * APPROVED;

	/* through scopectl, every answer whole */
	is_int(ctl(port, "lead", "status big --csv"), 0, "status of %d changes (max_frame 300000)", CHANGES);
	is_int(lines_of("out"), 1 + CHANGES, "  one CSV row per change");
	is_int(ctl(port, "lead", "status big --json"), 0, "status as JSON");
	snprintf(want, sizeof want, "\"by_state\":{\"approved\":%d,\"raised\":%d}", APPROVED, CHANGES - APPROVED);
	ok(has("out", want), "  counts by state");
	snprintf(want, sizeof want, "\"approved_changes_minor\":%d", APPROVED * FEE);
	ok(has("out", want), "  the approved amount over all changes");
	is_int(ctl(port, "lead", "status big"), 0, "status as a table");
	ok(has("out", "big change 20000\n"), "  through the last change");
	ok(has("out", "responses recorded on the client's behalf without evidence:\n  entries "), "  and the unconfirmed responses");
	is_int(ctl(port, "finance", "report unbilled --csv"), 0, "report unbilled");
	is_int(lines_of("out"), 1 + APPROVED, "  one row per approved change");
	is_int(ctl(port, "finance", "report unbilled"), 0, "report unbilled as a table");
	snprintf(want, sizeof want, "JPY: unbilled %d (0-30 days %d,", APPROVED * FEE, APPROVED * FEE);
	ok(has("out", want), "  with the total over all rows");
	is_int(ctl(port, "approver", "report exposure --csv"), 0, "report exposure");
	is_int(lines_of("out"), 1 + CHANGES - APPROVED, "  one row per change not yet assessed");
	is_int(ctl(port, "approver", "report exposure --json --project big"), 0, "report exposure for the project, as JSON");
	snprintf(want, sizeof want, "\"waiting_count\":%d", CHANGES - APPROVED);
	ok(has("out", want), "  with the count over all rows");
	is_int(ctl(port, "auditor", "history big --wide"), 0, "history of %ld entries, one line each", entries);
	is_int(lines_of("out"), 1 + entries, "  every entry");
	ok(has("err", "every entry shown is proven in the checkpoint of size"), "  each proven in the checkpoint");
	is_int(ctl(port, "auditor", "history big --change CR-7 --json"), 0, "history of one change");
	ok(has("out", "big change 7\""), "  shows it");
	is_int(ctl(port, "auditor", "log --from 19990 --to 20009"), 0, "a part of the log");
	is_int(lines_of("out"), 20, "  proven too");

	/* a page cursor belongs to one answer */
	struct buf cur, next;
	buf_init(&cur);
	buf_init(&next);
	cl_open(&c, "lead");
	ok(status_page(&c, 1, &cur, &next, code) == 1 && next.len > 0, "a status page of 10 changes has a cursor");
	buf_add(&cur, next.data, next.len);
	ok(status_page(&c, 2, &cur, &next, code) == 1 && next.len > 0, "  which gives the next page");
	ok(next.len > 24 && next.len == cur.len && memcmp(next.data, cur.data, 24) == 0 && memcmp(next.data, cur.data, cur.len) > 0,
	   "  with a cursor further on");
	is_int(pipeline("client", "change", 1, 400000, change_body), 1, "a change is raised meanwhile");
	is_int(status_page(&c, 3, &cur, &next, code), 0, "  the next page is refused");
	is_str(code, "changed", "  as changed");
	buf_reset(&cur);
	buf_add(&cur, "short", 5);
	ok(status_page(&c, 4, &cur, &next, code) == 0 && strcmp(code, "bad_request") == 0,
	   "a cursor the server did not give out is a bad request");
	cl_close(&c);
	buf_free(&cur);
	buf_free(&next);

	/* scopectl behind a lying server */
	pid_t liar;
	int lp = liar_start(LIE_STUCK_HISTORY, &liar);
	is_int(ctl(lp, "auditor", "history big"), 1, "a history whose paging cursor does not advance: exit 1");
	ok(has("err", "the server is misbehaving: its paging does not advance"), "  naming the misbehaviour");
	is_int(ctl(lp, "auditor", "log"), 1, "the same for log");
	ok(has("err", "the server is misbehaving"), "  naming it");
	liar_stop(liar);
	lp = liar_start(LIE_ALTERED_ENTRY, &liar);
	is_int(ctl(lp, "auditor", "history big --change CR-7"), 1, "a history entry that does not match its proof: exit 1");
	ok(has("err", "VERIFICATION FAILED: entries 0..999 are not the ones the checkpoint of size"), "  caught by the proof");
	ok(!has_quiet("out", "ig change 7", true), "  and not printed");
	is_int(ctl(lp, "auditor", "log --to 9"), 1, "the same for log");
	ok(has("err", "VERIFICATION FAILED: entries 0..9 are not the ones the checkpoint"), "  caught by the proof");
	liar_stop(liar);
	lp = liar_start(LIE_ENDLESS_PAGES, &liar);
	is_int(ctl(lp, "auditor", "status big"), 1, "status pages that never end: exit 1");
	ok(has("err", "the server is misbehaving: the pages of its status do not advance"), "  naming the misbehaviour");
	liar_stop(liar);

	kill(daemon_pid, SIGTERM);
	waitpid(daemon_pid, NULL, 0);
	harness_cleanup();
	return done_testing();
}
