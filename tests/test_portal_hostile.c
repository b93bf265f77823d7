/*
 * test_portal_hostile: the client portal cannot stall the mutual-TLS port.
 * Against a real scoped with portal_listen: more idle connections to the
 * portal than the daemon has descriptors for, TLS connections sending their
 * headers a byte at a time and stopping, and garbage instead of TLS; all
 * the while an honest client with a certificate appends on the ledger's
 * port.  Afterwards the portal answers again.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "harness.h"
#include "tap.h"

#define FLOOD 2500		/* idle TCP connections to the portal: more than the daemon's descriptors */
#define SLOW_HEADERS 20		/* TLS done, half a request line, then nothing */
#define GARBAGE 20		/* not TLS at all */

static int portal_port;

static int portal_tcp(bool nonblocking)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)portal_port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (nonblocking)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	struct timeval tv = { 5, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

/* A TLS connection to the portal (no client certificate), or NULL. */
static SSL *portal_tls(SSL_CTX *ctx, int *fd)
{
	*fd = portal_tcp(false);
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, *fd);
	if (*fd < 0 || SSL_connect(ssl) != 1) {
		ERR_clear_error();
		SSL_free(ssl);
		if (*fd >= 0)
			close(*fd);
		return NULL;
	}
	return ssl;
}

/* The portal's counters from scopectl info --json (as an auditor):
 * connections open, and connections ended for a new one (the busiest
 * address's oldest, or its own address's past the limit); -1 if unread. */
static void portal_info(long *open, long *evicted)
{
	char cmd[2048], path[300], js[16384];
	*open = *evicted = -1;
	snprintf(path, sizeof path, "%s/info.json", dir);
	snprintf(cmd, sizeof cmd, "'%s' info --json --config '%s/inst/clients/auditor.conf' --server 127.0.0.1:%d > '%s'",
		 getenv("SCOPECTL") ? getenv("SCOPECTL") : "../client/scopectl", dir, port, path);
	FILE *f = system(cmd) == 0 ? fopen(path, "r") : NULL;
	size_t n = f ? fread(js, 1, sizeof js - 1, f) : 0;
	if (f)
		fclose(f);
	js[n] = '\0';
	const char *p = strstr(js, "\"portal\":{"), *r = p ? strstr(p, "\"refused\":{") : NULL;
	const char *c = p ? strstr(p, "\"connections\":") : NULL;
	const char *e = r ? strstr(r, "\"connections\":") : NULL;
	if (c && (r == NULL || c < r))
		*open = atol(c + strlen("\"connections\":"));
	const char *a = r ? strstr(r, "\"address_limit\":") : NULL;
	if (e)
		*evicted = atol(e + strlen("\"connections\":")) + (a ? atol(a + strlen("\"address_limit\":")) : 0);
}

/* The status line of GET path from a new portal connection ("" if none). */
static void portal_get(SSL_CTX *ctx, const char *path, char *status, size_t n)
{
	int fd;
	char req[256], got[512];
	status[0] = '\0';
	SSL *ssl = portal_tls(ctx, &fd);
	if (ssl == NULL)
		return;
	int len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
	int r = SSL_write(ssl, req, len) == len ? SSL_read(ssl, got, sizeof got - 1) : -1;
	if (r > 0) {
		got[r] = '\0';
		snprintf(status, n, "%.*s", (int)strcspn(got, "\r\n"), got);
	}
	SSL_free(ssl);
	close(fd);
}

int main(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < FLOOD + 200) {
		printf("1..0 # SKIP the hard limit on open files (%llu) is below %d\n",
		       (unsigned long long)rl.rlim_max, FLOOD + 200);
		return 0;
	}
	/* a free port for the portal (the harness reads only the ledger's) */
	int probe = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (probe < 0 || bind(probe, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(probe, (struct sockaddr *)&sa, &sl) != 0) {
		printf("Bail out! no free port\n");
		return 1;
	}
	portal_port = ntohs(sa.sin_port);
	close(probe);
	char extra[200];
	snprintf(extra, sizeof extra, "'portal_listen = 127.0.0.1:%d' 'max_connections = 400' 'max_handshakes = 100'",
		 portal_port);
	if (harness_init(extra)) {
		printf("Bail out! scoped init failed\n");
		return 1;
	}
	/* the daemon runs with 700 descriptors, what max_connections +
	 * max_handshakes ask (about 564) and fewer than the flood */
	char real[sizeof scoped_bin], wrap[400];
	snprintf(real, sizeof real, "%s", scoped_bin);
	snprintf(wrap, sizeof wrap, "%s/scoped-700", dir);
	FILE *w = fopen(wrap, "w");
	if (w == NULL || fprintf(w, "#!/bin/sh\nulimit -n 700 && exec '%s' \"$@\"\n", real) < 0 || fclose(w) != 0 ||
	    chmod(wrap, 0700) != 0) {
		printf("Bail out! cannot write %s\n", wrap);
		return 1;
	}
	snprintf(scoped_bin, sizeof scoped_bin, "%s", wrap);
	start_daemon();
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	ok(port > 0 && portal_port > 0, "scoped listens on %d, its portal on %d", port, portal_port);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char status[128];
	portal_get(ctx, "/l/short", status, sizeof status);
	ok(strncmp(status, "HTTP/1.1 404", 12) == 0, "the portal answers a short token 404 (%s)", status);
	is_int(honest_appends(5, 0), 5, "an honest client appends before the attack");

	static int flood[FLOOD], slow_fd[SLOW_HEADERS];
	static SSL *slow[SLOW_HEADERS];
	int slow_ok = 0, garbage_closed = 0, opened = 0;
	for (int i = 0; i < SLOW_HEADERS; i++)
		if ((slow[i] = portal_tls(ctx, &slow_fd[i])) && SSL_write(slow[i], "GET /l/", 7) == 7)
			slow_ok++;
	is_int(slow_ok, SLOW_HEADERS, "%d portal connections stop inside their request line", SLOW_HEADERS);
	for (int i = 0; i < GARBAGE; i++) {
		int fd = portal_tcp(false);
		char junk[512];
		memset(junk, 'A', sizeof junk);
		if (fd >= 0 && send(fd, junk, sizeof junk, 0) > 0 && recv(fd, junk, 1, 0) <= 0)
			garbage_closed++;
		if (fd >= 0)
			close(fd);
	}
	is_int(garbage_closed, GARBAGE, "%d connections sending garbage instead of TLS are closed", GARBAGE);
	for (int i = 0; i < FLOOD; i++)
		opened += (flood[i] = portal_tcp(true)) >= 0;
	ok(opened > 0, "%d idle connections to the portal", opened);
	usleep(500000);
	is_int(honest_appends(20, 100), 20, "during the flood the honest client appends 20 entries");
	long open, evicted;
	portal_info(&open, &evicted);
	ok(open >= 0 && open <= 256, "during the flood the portal holds at most 256 connections (info: %ld)", open);
	ok(evicted > 0, "and it ended its oldest ones for new ones (info: %ld ended)", evicted);
	ok(kill(daemon_pid, 0) == 0, "the daemon is alive");
	for (int i = 0; i < FLOOD; i++)
		if (flood[i] >= 0)
			close(flood[i]);
	for (int i = 0; i < SLOW_HEADERS; i++)
		if (slow[i]) {
			SSL_free(slow[i]);
			close(slow_fd[i]);
		}
	status[0] = '\0';
	for (int i = 0; i < 100 && strncmp(status, "HTTP/1.1 404", 12) != 0; i++) {
		portal_get(ctx, "/l/short", status, sizeof status);
		if (strncmp(status, "HTTP/1.1 404", 12) != 0)
			usleep(100000);
	}
	ok(strncmp(status, "HTTP/1.1 404", 12) == 0, "once the flood is gone the portal answers again (%s)", status);
	SSL_CTX_free(ctx);
	kill(daemon_pid, SIGTERM);
	int st;
	waitpid(daemon_pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "scoped stops cleanly on SIGTERM");
	harness_cleanup();
	return done_testing();
}
