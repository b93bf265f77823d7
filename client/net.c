#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "offline.h"
#include "resume.h"
#include "wire.h"

__attribute__((format(printf, 2, 3)))
static int conn_fail(struct err *e, const char *fmt, ...)
{
	va_list ap;
	char msg[ERR_MSG_MAX];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_setc(e, CTL_EXIT_CONN, "%s", msg);
}

static const char *ossl_why(void)
{
	static char why[256];
	unsigned long code = ERR_get_error();
	ERR_clear_error();
	if (code == 0)
		return "connection closed";
	ERR_error_string_n(code, why, sizeof why);
	return why;
}

static int tcp_connect(const char *host, const char *port, struct err *e)
{
	struct addrinfo hints, *res, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return conn_fail(e, "cannot resolve %s: %s", host, gai_strerror(rc));
	int fd = -1, saved = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			if (poll(&pfd, 1, NET_TIMEOUT_S * 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			saved = soerr ? soerr : ETIMEDOUT;
		} else {
			saved = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return conn_fail(e, "cannot connect to %s: %s", host, strerror(saved ? saved : ECONNREFUSED));
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	/* requests are small: do not let Nagle hold them for a delayed ACK */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct timeval tv = { NET_TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

/* Called when the server asks for our certificate, i.e. on a full
 * handshake only: a resumed one skips loading and using the key. */
static int load_client_cert(SSL *ssl, void *arg)
{
	struct session *s = arg;
	const struct profile *p = s->prof;
	if (SSL_use_certificate_chain_file(ssl, p->cert) == 1 &&
	    SSL_use_PrivateKey_file(ssl, p->key, SSL_FILETYPE_PEM) == 1 && SSL_check_private_key(ssl) == 1)
		return 1;
	snprintf(s->cert_err, sizeof s->cert_err, "%s", ossl_why());
	return 0;
}

static int on_ticket(SSL *ssl, SSL_SESSION *sess)
{
	struct session *s = SSL_get_app_data(ssl);
	if (s && s->ticket[0])
		resume_save(s->ticket, sess);
	return 0;	/* not kept: it is on disk */
}

static int make_ctx(struct session *s, struct err *e)
{
	const struct profile *p = s->prof;
	struct stat st;
	if (stat(p->key, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		err_set(e, "client key %s is accessible by group or others; run: chmod 600 %s", p->key, p->key);
		e->code = CTL_EXIT_USAGE;
		return -1;
	}
	if (access(p->cert, R_OK) != 0 || access(p->key, R_OK) != 0) {
		const char *f = access(p->cert, R_OK) != 0 ? p->cert : p->key;
		err_set(e, "client certificate or key %s: %s", f, strerror(errno));
		e->code = CTL_EXIT_USAGE;
		return -1;
	}
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return conn_fail(e, "cannot create a TLS context");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_load_verify_locations(ctx, p->ca, NULL) != 1) {
		SSL_CTX_free(ctx);
		err_set(e, "CA file %s: %s", p->ca, ossl_why());
		e->code = CTL_EXIT_USAGE;
		return -1;
	}
	SSL_CTX_set_cert_cb(ctx, load_client_cert, s);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (s->keep_tickets && resume_path(p, s->ticket, sizeof s->ticket) == 0) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
		SSL_CTX_sess_set_new_cb(ctx, on_ticket);
	} else {
		s->ticket[0] = '\0';
	}
	s->ctx = ctx;
	return 0;
}

static int sess_connect(struct session *s, struct err *e)
{
	const struct profile *p = s->prof;
	int fd = tcp_connect(p->host, p->port, e);
	if (fd < 0)
		return -1;
	SSL *ssl = SSL_new(s->ctx);
	if (ssl == NULL) {
		close(fd);
		return conn_fail(e, "cannot create a TLS connection");
	}
	SSL_set_fd(ssl, fd);
	SSL_set_app_data(ssl, s);
	SSL_set_tlsext_host_name(ssl, p->server_name);
	SSL_set1_host(ssl, p->server_name);
	if (s->ticket[0]) {
		SSL_SESSION *old = resume_load(s->ticket);
		if (old) {
			SSL_set_session(ssl, old);
			SSL_SESSION_free(old);
		}
	}
	s->cert_err[0] = '\0';
	int rc = SSL_connect(ssl);
	if (rc != 1) {
		long vr = SSL_get_verify_result(ssl);
		unsigned long code = ERR_peek_error();
		bool closed = (SSL_get_error(ssl, rc) == SSL_ERROR_SYSCALL && code == 0) ||
			      ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
		const char *why = vr != X509_V_OK ? X509_verify_cert_error_string(vr) :
				  closed ? (ERR_clear_error(), "the server closed the connection (it may be at its "
						"connection limit, or stopping)") :
				  ossl_why();
		SSL_free(ssl);
		close(fd);
		if (s->cert_err[0]) {
			err_set(e, "client certificate %s or key %s: %s", p->cert, p->key, s->cert_err);
			e->code = CTL_EXIT_USAGE;
			return -1;
		}
		return conn_fail(e, "TLS handshake with %s failed: %s", p->host, why);
	}
	s->ssl = ssl;
	s->fd = fd;
	return 0;
}

/* A write to a socket the server has closed raises SIGPIPE, which would end
 * scopectl without a word.  It is blocked around the socket calls and a
 * pending one discarded, so that the write fails with EPIPE and the close is
 * reported (and retried) as the connection error it is.  Elsewhere SIGPIPE
 * keeps its default: "scopectl log | head" still ends when head does. */
static void sigpipe_block(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void sigpipe_restore(const sigset_t *old)
{
	sigset_t set, pending;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!sigismember(old, SIGPIPE) && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE))
		sigtimedwait(&set, NULL, &(struct timespec){ 0, 0 });
	sigprocmask(SIG_SETMASK, old, NULL);
}

void sess_close(struct session *s)
{
	if (s->ssl) {
		sigset_t old;
		sigpipe_block(&old);
		SSL_shutdown(s->ssl);
		sigpipe_restore(&old);
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->ctx) {
		SSL_CTX_free(s->ctx);
		s->ctx = NULL;
	}
	buf_free(&s->req);
	buf_free(&s->resp);
}

static void drop_connection(struct session *s)
{
	if (s->ssl)
		SSL_free(s->ssl);
	if (s->fd >= 0)
		close(s->fd);
	s->ssl = NULL;
	s->fd = -1;
}

void sess_begin(struct session *s, const char *op, uint32_t nparams)
{
	buf_reset(&s->req);
	s->req_start = wire_begin(&s->req);
	s->req_id = s->next_id++;
	wire_request(&s->req, s->req_id, op, nparams);
}

static int io_all(struct session *s, void *p, size_t n, bool writing, struct err *e)
{
	uint8_t *c = p;
	while (n > 0) {
		int k = writing ? SSL_write(s->ssl, c, (int)(n > 1 << 30 ? 1 << 30 : n))
				: SSL_read(s->ssl, c, (int)(n > 1 << 30 ? 1 << 30 : n));
		if (k <= 0) {
			int err = SSL_get_error(s->ssl, k);
			const char *why = err == SSL_ERROR_ZERO_RETURN ? "server closed the connection" :
					  err == SSL_ERROR_SYSCALL && errno == EAGAIN ? "timed out" :
					  ossl_why();
			return conn_fail(e, "%s: %s", writing ? "sending" : "receiving", why);
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads one response frame into b, to whichever request: its id, and 1
 * with *result (valid while b is), or 0 with the server's refusal in e
 * (CTL_EXIT_REFUSED) and its code in code.  -1: the connection failed or
 * the frame is not a response. */
static int read_answer(struct session *s, struct buf *b, uint64_t *id, const uint8_t **result, size_t *len,
		       char code[NET_CODE_MAX], struct err *e)
{
	uint8_t hdr[FRAME_HDR];
	uint32_t n;
	if (io_all(s, hdr, FRAME_HDR, false, e))
		return -1;
	if (frame_peek(hdr, FRAME_HDR, NET_MAX_FRAME, &n) == FRAME_BAD_LENGTH)
		return conn_fail(e, "server sent a frame of invalid length %u", n);
	buf_reset(b);
	if (!buf_reserve(b, n))
		return conn_fail(e, "out of memory");
	if (io_all(s, b->data, n, false, e))
		return -1;
	b->len = n;
	char msg[ERR_MSG_MAX];
	struct err pe = { 0 };
	int rc = wire_parse_response(b->data, n, id, result, len, code, NET_CODE_MAX, msg, sizeof msg, &pe);
	if (rc < 0)
		return conn_fail(e, "malformed response: %s", pe.msg);
	if (rc == 0)
		err_setc(e, CTL_EXIT_REFUSED, "server refused (%s): %s", code, msg);
	return rc;
}

/* One attempt: send, then read frames until ours arrives. */
static int attempt(struct session *s, const uint8_t **result, size_t *len, struct err *e)
{
	if (io_all(s, s->req.data, s->req.len, true, e))
		return -1;
	for (;;) {
		uint64_t id;
		char code[NET_CODE_MAX];
		struct err re = { 0 };
		int rc = read_answer(s, &s->resp, &id, result, len, code, &re);
		if (rc < 0) {
			*e = re;
			return -1;
		}
		if (id != s->req_id && id != 0)
			continue;	/* a late answer to something else */
		if (rc == 1)
			return 0;
		snprintf(s->server_code, sizeof s->server_code, "%s", code);
		*e = re;
		return -1;
	}
}

static void retry_pause(struct session *s, int attempt_no, int retries, const struct err *why)
{
	fprintf(stderr, "scopectl: %s; reconnecting (attempt %d of %d)\n", why->msg, attempt_no + 2, retries + 1);
	drop_connection(s);
	usleep(200000u << attempt_no);
}

/* Connects if need be and, with a request, sends it and waits for its answer;
 * a connection that fails or is lost is reopened up to `retries` times. */
static int exchange(struct session *s, int retries, bool request, const uint8_t **result, size_t *len,
		    struct err *e)
{
	sigset_t old;
	sigpipe_block(&old);
	int rc;
	for (int attempt_no = 0;; attempt_no++) {
		rc = (s->ssl == NULL && sess_connect(s, e)) ? -1 : request ? attempt(s, result, len, e) : 0;
		if (rc == 0 || e->code != CTL_EXIT_CONN || attempt_no >= retries)
			break;
		/* the request may or may not have been committed: resend it with
		 * the same request id, which the server answers idempotently */
		retry_pause(s, attempt_no, retries, e);
	}
	sigpipe_restore(&old);
	return rc;
}

int sess_send(struct session *s, struct err *e)
{
	if (wire_seal(&s->req, s->req_start, NET_MAX_FRAME))
		return err_setc(e, CTL_EXIT_USAGE, "request too large");
	sigset_t old;
	sigpipe_block(&old);
	int rc = (s->ssl == NULL && sess_connect(s, e)) || io_all(s, s->req.data, s->req.len, true, e) ? -1 : 0;
	sigpipe_restore(&old);
	return rc;
}

int sess_recv(struct session *s, struct buf *frame, uint64_t *id, const uint8_t **result, size_t *len,
	      char code[NET_CODE_MAX], struct err *e)
{
	if (s->ssl == NULL)
		return conn_fail(e, "receiving: not connected");
	return read_answer(s, frame, id, result, len, code, e);
}

int sess_reconnect(struct session *s, int attempt_no, int retries, struct err *e)
{
	retry_pause(s, attempt_no, retries, e);
	sigset_t old;
	sigpipe_block(&old);
	int rc = sess_connect(s, e);
	sigpipe_restore(&old);
	return rc;
}

int sess_call(struct session *s, int retries, const uint8_t **result, size_t *len, struct err *e)
{
	s->server_code[0] = '\0';
	if (wire_seal(&s->req, s->req_start, NET_MAX_FRAME))
		return err_setc(e, CTL_EXIT_USAGE, "request too large");
	return exchange(s, retries, true, result, len, e);
}

int sess_open(struct session *s, const struct profile *p, struct err *e)
{
	if (s->prof == NULL) {	/* callers start from a zeroed session */
		s->fd = -1;
		s->next_id = 1;
		buf_init(&s->req);
		buf_init(&s->resp);
	}
	s->prof = p;
	if (s->ctx == NULL && make_ctx(s, e))
		return -1;
	return exchange(s, NET_OPEN_RETRIES, false, NULL, NULL, e);
}
