/*
 * harness.h: a real scoped for the C tests.  Starts the daemon of
 * DIR/inst on a free loopback port (its log goes to DIR/daemon.log), and
 * speaks raw mutual TLS to it with the instance's client certificates.
 * Included by one test file each; everything is static.
 */
#ifndef SCOPE_TEST_HARNESS_H
#define SCOPE_TEST_HARNESS_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "mp.h"
#include "wire.h"

static char dir[256], scoped_bin[1024];
static int port;
static pid_t daemon_pid;

static void start_daemon(void)
{
	char conf[512];
	int fds[2];
	snprintf(conf, sizeof conf, "%s/inst/scoped.conf", dir);
	port = 0;
	if (pipe(fds) != 0)
		exit(2);
	daemon_pid = fork();
	if (daemon_pid == 0) {
		dup2(fds[1], 2);
		close(fds[0]);
		execl(scoped_bin, "scoped", "-c", conf, "--listen", "127.0.0.1:0", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	FILE *f = fdopen(fds[0], "r");
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		char *p = strstr(line, "ready on 127.0.0.1:");
		if (p) {
			port = atoi(p + strlen("ready on 127.0.0.1:"));
			break;
		}
	}
	/* keep draining the log into a file so the daemon never blocks */
	if (fork() == 0) {
		char path[600];
		snprintf(path, sizeof path, "%s/daemon.log", dir);
		FILE *out = fopen(path, "w");
		while (fgets(line, sizeof line, f))
			if (out) {
				fputs(line, out);
				fflush(out);
			}
		_exit(0);
	}
	fclose(f);
}

/* A TCP connection to the daemon from the loopback address 127.0.0.SRC
 * (any of 127/8 is local), so that tests can be many sources. */
static int tcp_from(unsigned src)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in from = { .sin_family = AF_INET };
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK - 1 + src);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

static int tcp(void)
{
	return tcp_from(1);
}

/* Whether the daemon has closed fd (without waiting); bytes it sent are
 * consumed. */
__attribute__((unused)) static bool tcp_closed(int fd)
{
	char ch;
	ssize_t got = recv(fd, &ch, 1, MSG_DONTWAIT);
	return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Sends SIGHUP and waits (up to 10 s) until the daemon logs that the
 * reload is done, however loaded the machine. */
__attribute__((unused)) static void reload_daemon(void)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "grep -c 'SIGHUP: reloaded' '%s/daemon.log'", dir);
	FILE *f = popen(cmd, "r");
	int before = 0, now = 0;
	if (f && fscanf(f, "%d", &before) != 1)
		before = 0;
	if (f)
		pclose(f);
	kill(daemon_pid, SIGHUP);
	for (int i = 0; i < 200 && now <= before; i++) {
		usleep(50000);
		f = popen(cmd, "r");
		if (f && fscanf(f, "%d", &now) != 1)
			now = 0;
		if (f)
			pclose(f);
	}
}

/* Whether the daemon's log has a line matching the extended regular
 * expression re (no single quotes), waiting up to 10 s: the log reaches
 * its file through a draining process, so a line may land a little after
 * the event it reports. */
__attribute__((unused)) static bool log_has(const char *re)
{
	char cmd[1400];
	snprintf(cmd, sizeof cmd, "grep -Eq '%s' '%s/daemon.log'", re, dir);
	for (int i = 0; i < 200; i++) {
		if (system(cmd) == 0)
			return true;
		usleep(50000);
	}
	return false;
}

struct cl {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

static int cl_open(struct cl *c, const char *role)
{
	char p[600];
	memset(c, 0, sizeof *c);
	c->ctx = SSL_CTX_new(TLS_client_method());
	snprintf(p, sizeof p, "%s/inst/tls/ca.crt", dir);
	SSL_CTX_load_verify_locations(c->ctx, p, NULL);
	if (role) {
		snprintf(p, sizeof p, "%s/inst/clients/%s.crt", dir, role);
		SSL_CTX_use_certificate_chain_file(c->ctx, p);
		snprintf(p, sizeof p, "%s/inst/clients/%s.key", dir, role);
		SSL_CTX_use_PrivateKey_file(c->ctx, p, SSL_FILETYPE_PEM);
	}
	c->fd = tcp();
	c->ssl = SSL_new(c->ctx);
	SSL_set_fd(c->ssl, c->fd);
	int rc = SSL_connect(c->ssl) == 1 ? 0 : -1;
	ERR_clear_error();
	return rc;
}

static void cl_close(struct cl *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
}

static int cl_write(struct cl *c, const void *p, size_t n)
{
	return SSL_write(c->ssl, p, (int)n) == (int)n ? 0 : -1;
}

/* The result map of the last ok response cl_read read (until the next read). */
static const uint8_t *cl_result;
static size_t cl_result_len;

/* Reads one response; returns 1 ok, 0 error response (code filled), -1 closed/failed. */
static int cl_read(struct cl *c, uint64_t *id, char *code, size_t codelen)
{
	static struct buf b;
	uint8_t hdr[4];
	uint32_t n;
	size_t got = 0;
	while (got < 4) {
		int k = SSL_read(c->ssl, hdr + got, (int)(4 - got));
		if (k <= 0) {
			ERR_clear_error();
			return -1;
		}
		got += (size_t)k;
	}
	if (frame_peek(hdr, 4, 1u << 26, &n) == FRAME_BAD_LENGTH)
		return -1;
	buf_reset(&b);
	buf_reserve(&b, n);
	for (got = 0; got < n;) {
		int k = SSL_read(c->ssl, b.data + got, (int)(n - got));
		if (k <= 0) {
			ERR_clear_error();
			return -1;
		}
		got += (size_t)k;
	}
	char msg[512];
	code[0] = '\0';
	return wire_parse_response(b.data, n, id, &cl_result, &cl_result_len, code, codelen, msg, sizeof msg, NULL);
}

static int send_frame(struct cl *c, const struct buf *payload)
{
	uint8_t hdr[4];
	frame_header(hdr, (uint32_t)payload->len);
	return cl_write(c, hdr, 4) || cl_write(c, payload->data, payload->len) ? -1 : 0;
}


/* The daemon's resident memory in KiB, from /proc. */
__attribute__((unused)) static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

/* {"id":id,"op":"append","kind":"note","project":"","request_id":..,"body":{"text":..}} */
__attribute__((unused)) static void note_request(struct buf *b, uint64_t id, const char *reqid, const char *text, size_t n)
{
	wire_request(b, id, "append", 4);
	mp_pack_cstr(b, "kind");
	mp_pack_cstr(b, "note");
	mp_pack_cstr(b, "project");
	mp_pack_cstr(b, "");
	mp_pack_cstr(b, "request_id");
	mp_pack_cstr(b, reqid);
	mp_pack_cstr(b, "body");
	mp_pack_map(b, 1);
	mp_pack_cstr(b, "text");
	mp_pack_str(b, text, n);
}

/* n notes appended by an admin, each on a connection of its own: how many
 * were answered ok. */
__attribute__((unused)) static int honest_appends(int n, int from)
{
	int good = 0;
	for (int i = 0; i < n; i++) {
		struct cl c;
		struct buf b;
		uint64_t id;
		char code[32], rq[32];
		buf_init(&b);
		snprintf(rq, sizeof rq, "honest-%d", from + i);
		note_request(&b, 1, rq, "honest", 6);
		if (cl_open(&c, "admin") == 0 && send_frame(&c, &b) == 0 && cl_read(&c, &id, code, sizeof code) == 1)
			good++;
		cl_close(&c);
		buf_free(&b);
	}
	return good;
}

/* Makes DIR (a fresh temporary directory) and an instance in DIR/inst with
 * extra configuration lines appended. */
static int harness_init(const char *extra_config)
{
	const char *bin = getenv("SCOPED");
	snprintf(scoped_bin, sizeof scoped_bin, "%s", bin ? bin : "../daemon/scoped");
	snprintf(dir, sizeof dir, "%s/scope-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	char cmd[4096];
	snprintf(cmd, sizeof cmd, "'%s' init '%s/inst' --origin test.example/harness --client-project big >/dev/null && "
		 "printf '%%s\\n' %s >> '%s/inst/scoped.conf'", scoped_bin, dir, extra_config, dir);
	signal(SIGPIPE, SIG_IGN);
	return system(cmd) == 0 ? 0 : -1;
}

static void harness_cleanup(void)
{
	char cmd[600];
	if (getenv("KEEP"))
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#endif
