#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <getopt.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "conn.h"
#include "connbound.h"
#include "enc.h"
#include "logger.h"
#include "merkle.h"
#include "signer.h"
#include "tls.h"
#include "witness.h"

static const char USAGE[] =
	"usage: scoped witness -c FILE [--listen HOST:PORT]\n"
	"       scoped witness init DIR --name NAME [--listen HOST:PORT] [--log VKEY]...\n"
	"\n"
	"A C2SP tlog-witness over HTTPS: POST /add-checkpoint cosigns (cosignature/v1,\n"
	"Ed25519) a log's checkpoint if it is consistent with the last one it cosigned\n"
	"for that log; GET /<hex SHA-256 of the origin>/checkpoint serves that one.\n"
	"\n"
	"init writes DIR/witness.conf, an Ed25519 key (DIR/witness.key), a CA (DIR/ca.crt)\n"
	"and a server certificate for localhost, and prints the witness's verifier key.\n"
	"\n"
	"The configuration file, one \"key = value\" a line (# comments):\n"
	"  listen = HOST:PORT        where to listen (HTTPS)\n"
	"  tls_cert = FILE           the server certificate (PEM)\n"
	"  tls_key = FILE            its private key\n"
	"  data_dir = DIR            the witness's LMDB: each log's last cosigned size and\n"
	"                            root, and conflicting checkpoints kept as evidence\n"
	"  name = NAME               the witness's key name (e.g. witness.example.org/w1)\n"
	"  signing_key = FILE        its Ed25519 key (PEM PKCS#8, mode 0600)\n"
	"  log = ORIGIN VKEY         a log to witness and its verifier key (repeatable; the\n"
	"                            same origin twice: either key may sign)\n";

struct wserver {
	struct witness_config cfg;
	struct wstate *state;
	struct cosig_signer signer;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	SSL_CTX *tls;
	struct connbound conns;		/* the connections open and their bounds (connbound.h) */
	int64_t log_minute;		/* the minute of log_refusal's lines: its start */
	unsigned log_lines;		/* lines logged in it */
	uint64_t log_skipped;		/* refusals not logged in it */
	struct event *sigterm, *sigint;
};

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct wserver *w = arg;
	return connbound_new_bev(&w->conns, base, w->tls);
}

static void reply(struct evhttp_request *req, int status, const char *type, const void *p, size_t n)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	struct evbuffer *out = evbuffer_new();
	if (out)
		evbuffer_add(out, p, n);
	static const char *const REASONS[][2] = {
		{ "200", "OK" }, { "400", "Bad Request" }, { "403", "Forbidden" }, { "404", "Not Found" },
		{ "405", "Method Not Allowed" }, { "409", "Conflict" }, { "413", "Payload Too Large" },
		{ "422", "Unprocessable Entity" }, { "500", "Internal Server Error" },
	};
	const char *reason = "Error";
	for (size_t i = 0; i < sizeof REASONS / sizeof REASONS[0]; i++)
		if (atoi(REASONS[i][0]) == status)
			reason = REASONS[i][1];
	evhttp_send_reply(req, status, reason, out);
	if (out)
		evbuffer_free(out);
}

/* A refused request's line: WITNESS_LOG_PER_MIN a minute, then one line a
 * minute counting those not logged (anyone may send any number). */
static void log_refusal(struct wserver *w, const struct wadd_result *r)
{
	int64_t now = (int64_t)time(NULL);
	if (now - w->log_minute >= 60) {
		if (w->log_skipped)
			log_msg(LOG_WARN, "witness: add-checkpoint: %llu more refusals in the last minute not logged",
				(unsigned long long)w->log_skipped);
		w->log_minute = now;
		w->log_lines = 0;
		w->log_skipped = 0;
	}
	if (w->log_lines >= WITNESS_LOG_PER_MIN) {
		w->log_skipped++;
		return;
	}
	w->log_lines++;
	log_msg(r->status == 409 ? LOG_INFO : LOG_WARN, "witness: add-checkpoint: %d %.*s%s", r->status,
		(int)(r->body.len ? r->body.len - 1 : 0), (const char *)r->body.data,
		r->conflict == WSTATE_KEPT_ALREADY   ? " (a conflict kept as evidence before)"
		: r->conflict == WSTATE_KEPT_COUNTED ? " (a conflict past the evidence kept for this log: counted)"
						     : "");
}

static void add_checkpoint(struct wserver *w, struct evhttp_request *req)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	if (n > WITNESS_MAX_BODY) {
		reply(req, 413, "text/plain", "request body too large\n", 23);
		return;
	}
	const char *body = (const char *)evbuffer_pullup(in, -1);
	struct wadd_result r = { 0 };
	buf_init(&r.body);
	wadd(w->state, &w->cfg, &w->signer, body ? body : "", body ? n : 0, (uint64_t)time(NULL), &r);
	if (r.status != 200 && r.conflict != WSTATE_KEPT_NEW)	/* a new conflict: wadd logged it */
		log_refusal(w, &r);
	reply(req, r.status, r.status == 409 ? "text/x.tlog.size" : "text/plain; charset=utf-8",
	      r.body.data, r.body.len);
	buf_free(&r.body);
}

static void get_checkpoint(struct wserver *w, struct evhttp_request *req, const char *hex)
{
	uint8_t h[HASH_LEN];
	struct buf out;
	struct err e = { 0 };
	buf_init(&out);
	for (size_t i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'))) {
			reply(req, 404, "text/plain", "not found\n", 10);
			return;
		}
	hex_decode(hex, 64, h, HASH_LEN);
	int rc = wstate_checkpoint(w->state, h, &out, &e);
	if (rc == 0)
		reply(req, 200, "text/plain; charset=utf-8", out.data, out.len);
	else if (rc > 0)
		reply(req, 404, "text/plain", "no cosigned checkpoint for this log\n", 36);
	else
		reply(req, 500, "text/plain", "error\n", 6);
	buf_free(&out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct wserver *w = arg;
	connbound_arrived(req);
	const char *uri = evhttp_request_get_uri(req);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	if (uri == NULL) {
		reply(req, 400, "text/plain", "bad request\n", 12);
		return;
	}
	size_t ul = strcspn(uri, "?");
	if (ul == strlen("/add-checkpoint") && memcmp(uri, "/add-checkpoint", ul) == 0) {
		if (m == EVHTTP_REQ_POST)
			add_checkpoint(w, req);
		else
			reply(req, 405, "text/plain", "use POST\n", 9);
	} else if (ul == 1 + 64 + strlen("/checkpoint") && strncmp(uri + 65, "/checkpoint", 11) == 0) {
		if (m == EVHTTP_REQ_GET)
			get_checkpoint(w, req, uri + 1);
		else
			reply(req, 405, "text/plain", "use GET\n", 8);
	} else {
		reply(req, 404, "text/plain", "not found\n", 10);
	}
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct wserver *w = arg;
	log_msg(LOG_INFO, "witness: stopping");
	event_base_loopexit(w->base, NULL);
}

static int split_listen(const char *listen, char *host, size_t hn, uint16_t *port, struct err *e)
{
	const char *colon = strrchr(listen, ':');
	size_t hl = colon ? (size_t)(colon - listen) : 0;
	char *end;
	unsigned long pn = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (colon == NULL || hl == 0 || hl >= hn || colon[1] == '\0' || *end || pn > 65535)
		return err_set(e, "listen: \"%s\" is not HOST:PORT", listen);
	memcpy(host, listen, hl);
	host[hl] = '\0';
	*port = (uint16_t)pn;
	return 0;
}

static int start(struct wserver *w, struct err *e)
{
	struct note_signer ns;
	char host[256];
	uint16_t port = 0;
	if (split_listen(w->cfg.listen, host, sizeof host, &port, e))
		return -1;
	if (signer_load(&ns, w->cfg.signing_key, w->cfg.name, e))
		return -1;
	cosig_signer_adopt(&w->signer, &ns);
	if (wstate_open(&w->state, w->cfg.data_dir, e))
		return -1;
	static const struct connbound_limits lim = { WITNESS_MAX_CONNECTIONS, WITNESS_EVICT_AT,
						     WITNESS_PER_ADDRESS, WITNESS_TIMEOUT_S };
	if (connbound_init(&w->conns, "witness", &lim, e))
		return -1;
	if (tls_portal_ctx(&w->tls, w->cfg.tls_cert, w->cfg.tls_key, e))
		return -1;
	if ((w->base = event_base_new()) == NULL || (w->http = evhttp_new(w->base)) == NULL)
		return err_set(e, "cannot create the HTTP server");
	evhttp_set_bevcb(w->http, make_bev, w);
	evhttp_set_gencb(w->http, on_request, w);
	evhttp_set_timeout(w->http, WITNESS_TIMEOUT_S);
	evhttp_set_max_headers_size(w->http, 8192);
	evhttp_set_max_body_size(w->http, WITNESS_MAX_BODY);
	evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						     EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	if ((w->bound = evhttp_bind_socket_with_handle(w->http, host, port)) == NULL)
		return err_set(e, "listen: cannot listen on %s", w->cfg.listen);
	connbound_listening(&w->conns, evhttp_bound_socket_get_listener(w->bound));
	w->sigterm = evsignal_new(w->base, SIGTERM, on_signal, w);
	w->sigint = evsignal_new(w->base, SIGINT, on_signal, w);
	if (!w->sigterm || !w->sigint || event_add(w->sigterm, NULL) || event_add(w->sigint, NULL))
		return err_set(e, "cannot handle signals");
	signal(SIGPIPE, SIG_IGN);
	char bound[96] = "?";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(evhttp_bound_socket_get_fd(w->bound), (struct sockaddr *)&ss, &sl) == 0)
		conn_format_addr((struct sockaddr *)&ss, bound, sizeof bound);
	struct cosig_verifier v;
	struct buf vk;
	buf_init(&vk);
	cosig_signer_verifier(&w->signer, &v);
	cosig_verifier_format(&v, &vk);
	log_msg(LOG_INFO, "witness %s ready on %s (%zu logs)", buf_cstr(&vk), bound, w->cfg.nlogs);
	buf_free(&vk);
	return 0;
}

static void teardown(struct wserver *w)
{
	if (w->http)
		evhttp_free(w->http);
	connbound_release(&w->conns);
	if (w->sigterm)
		event_free(w->sigterm);
	if (w->sigint)
		event_free(w->sigint);
	if (w->base)
		event_base_free(w->base);
	SSL_CTX_free(w->tls);
	wstate_close(w->state);
	cosig_signer_free(&w->signer);
	free(w);
}

int witness_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	if (argc > 1 && strcmp(argv[1], "init") == 0)
		return wconfig_init(argc - 1, argv + 1);
	const char *conf = NULL, *listen = NULL;
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': conf = optarg; break;
		case 'l': listen = optarg; break;
		case 'h': fputs(USAGE, stdout); return EXIT_OK;
		default: fputs(USAGE, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc || conf == NULL) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	struct wserver *w = calloc(1, sizeof *w);
	struct err e = { 0 };
	if (w == NULL)
		return EXIT_ERROR;
	if (wconfig_load(&w->cfg, conf, &e) ||
	    (listen && snprintf(w->cfg.listen, sizeof w->cfg.listen, "%s", listen) < 0)) {
		fprintf(stderr, "scoped witness: %s\n", e.msg);
		free(w);
		return EXIT_USAGE;
	}
	if (start(w, &e)) {
		log_msg(LOG_ERROR, "witness: %s", e.msg);
		teardown(w);
		return EXIT_ERROR;
	}
	event_base_dispatch(w->base);
	teardown(w);
	return EXIT_OK;
}
