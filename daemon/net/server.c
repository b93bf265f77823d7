#include "server.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "backup.h"
#include "files.h"
#include "follow.h"
#include "commit.h"
#include "conn.h"
#include "logger.h"
#include "notify.h"
#include "portal.h"
#include "tiles.h"
#include "rules_hook.h"
#include "signer.h"
#include "tls.h"

static int load_tls(const struct config *cfg, struct ssl_ctx_st **out, struct err *e)
{
	struct tls_opts o = {
		cfg->tls_cert, cfg->tls_key, cfg->tls_ca, cfg->tls_crl,
		strcmp(cfg->tls_min_version, "1.2") == 0 ? 12 : 13,
	};
	return tls_server_ctx(out, &o, e);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	(void)l;
	conn_accept(arg, fd, sa, salen);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	int err = EVUTIL_SOCKET_ERROR();
	/* out of descriptors and the like: keep serving the others */
	log_msg(LOG_WARN, "accept failed: %s", evutil_socket_error_to_string(err));
}

static void on_handshake_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_expire_handshakes(arg);
}

/* Descriptors beyond the connections: the listener, LMDB, the log, the
 * signal pipe, a backup's file. */
#define FD_MARGIN 64

/* Raises the soft limit on open files to the hard one when the connection
 * limits need more than it allows. */
static void fit_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	unsigned long long need = cfg->max_connections + cfg->max_handshakes + FD_MARGIN;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return;
	unsigned long long was = rl.rlim_cur;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? (rlim_t)need : rl.rlim_max;
	if (rl.rlim_cur > was && setrlimit(RLIMIT_NOFILE, &rl) != 0)
		rl.rlim_cur = was;
	if (rl.rlim_cur > was)
		log_msg(LOG_INFO, "raised the open-file limit from %llu to %llu: max_connections + "
			"max_handshakes need about %llu", was, (unsigned long long)rl.rlim_cur, need);
	if (rl.rlim_cur < need)
		log_msg(LOG_WARN, "open files are limited to %llu, but max_connections + max_handshakes need "
			"about %llu: raise the hard limit (LimitNOFILE=, ulimit -Hn) or lower them",
			(unsigned long long)rl.rlim_cur, need);
}

static void on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *s = arg;
	log_msg(LOG_WARN, "%u connections did not finish in time; closing them", s->conns.n);
	event_base_loopexit(s->base, NULL);
}

static void stop(struct server *s, const char *why)
{
	if (s->stopping)
		return;
	log_msg(LOG_INFO, "%s: finishing in-flight appends and closing connections", why);
	notify_send("STOPPING=1\nSTATUS=finishing in-flight appends");
	s->stopping = true;
	evconnlistener_disable(s->listener);
	portal_stop(s);
	tiles_stop(s);
	commit_drain(&s->commit);	/* everything read so far is committed and answered */
	while (s->handshakes.head)
		conn_free(s->handshakes.head, "shutting down");
	for (struct conn *c = s->conns.head, *next; c; c = next) {
		next = c->next;
		conn_close(c, "shutting down");
	}
	if (s->conns.n == 0) {
		event_base_loopexit(s->base, NULL);
		return;
	}
	struct timeval tv = { 5, 0 };
	s->stop_timer = evtimer_new(s->base, on_stop_timer, s);
	if (s->stop_timer)
		evtimer_add(s->stop_timer, &tv);
}

/* Options a reload cannot change: they shape the open ledger or the
 * listener.  A change is reported and waits for a restart. */
static void warn_restart_only(const struct config *old, const struct config *nc)
{
	static const struct {
		const char *name;
		size_t off;
		bool num;
	} R[] = {
		{ "origin", offsetof(struct config, origin), false },
		{ "data_dir", offsetof(struct config, data_dir), false },
		{ "signing_key", offsetof(struct config, signing_key), false },
		{ "signing_key_next", offsetof(struct config, signing_key_next), false },
		{ "map_initial_mib", offsetof(struct config, map_initial_mib), true },
		{ "map_max_mib", offsetof(struct config, map_max_mib), true },
		{ "max_frame", offsetof(struct config, max_frame), true },
		{ "portal_listen", offsetof(struct config, portal_listen), false },
		{ "portal_url", offsetof(struct config, portal_url), false },
		{ "portal_cert", offsetof(struct config, portal_cert), false },
		{ "portal_key", offsetof(struct config, portal_key), false },
		{ "portal_proxy", offsetof(struct config, portal_proxy), false },
		{ "portal_max_body", offsetof(struct config, portal_max_body), true },
		{ "tiles_listen", offsetof(struct config, tiles_listen), false },
		{ "tiles_public", offsetof(struct config, tiles_public), false },
	};
	for (size_t i = 0; i < sizeof R / sizeof R[0]; i++) {
		const char *a = (const char *)old + R[i].off, *b = (const char *)nc + R[i].off;
		bool differ = R[i].num ? *(const uint64_t *)(const void *)a != *(const uint64_t *)(const void *)b
				       : strcmp(a, b) != 0;
		if (differ)
			log_msg(LOG_WARN, "SIGHUP: %s changed in the configuration; it takes effect on restart",
				R[i].name);
	}
}

static void reload(struct server *s)
{
	struct err e = { 0 };
	struct ssl_ctx_st *ctx;
	struct role_map *roles;
	char state[96];
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(state, sizeof state, "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)now.tv_sec * 1000000ull + (unsigned long long)now.tv_nsec / 1000ull);
	notify_send(state);
	log_msg(LOG_INFO, "SIGHUP: reloading the configuration, certificates, CRL and roles");
	struct config *nc = malloc(sizeof *nc);
	if (nc == NULL) {
		log_msg(LOG_ERROR, "SIGHUP: out of memory; nothing reloaded");
		notify_send("READY=1");
		return;
	}
	config_defaults(nc);
	if (config_load(nc, s->conf_path, &e) || config_validate(nc, &e)) {
		log_msg(LOG_ERROR, "SIGHUP: configuration not reloaded, keeping the running one: %s", e.msg);
		free(nc);
		notify_send("READY=1\nSTATUS=serving (the last reload failed; see the log)");
		return;
	}
	warn_restart_only(&s->cfg, nc);
	/* the witnesses' peers, keys, state and TLS are set up once (witnessing.c) */
	char why[600];
	if (!s->follow && config_witnesses_differ(&s->cfg, nc))
		log_msg(LOG_WARN, "SIGHUP: the witness settings (witness, witness_quorum, witness_ca, witness_interval_s) "
			"changed in the configuration; they take effect on restart, the running ones stay");
	if (!s->follow && config_quorum_minority(nc, why, sizeof why))
		log_msg(LOG_WARN, "SIGHUP: %s", why);
	if (load_tls(nc, &ctx, &e) == 0) {
		tls_ctx_free(s->tls);	/* open connections keep a reference */
		s->tls = ctx;
		memcpy(s->cfg.tls_cert, nc->tls_cert, sizeof s->cfg.tls_cert);
		memcpy(s->cfg.tls_key, nc->tls_key, sizeof s->cfg.tls_key);
		memcpy(s->cfg.tls_ca, nc->tls_ca, sizeof s->cfg.tls_ca);
		memcpy(s->cfg.tls_crl, nc->tls_crl, sizeof s->cfg.tls_crl);
		memcpy(s->cfg.tls_min_version, nc->tls_min_version, sizeof s->cfg.tls_min_version);
		if (tiles_reload(s, &e))
			log_msg(LOG_ERROR, "SIGHUP: the tiles listener keeps its old TLS settings: %s", e.msg);
		/* a revocation also ends the revoked identity's open connections */
		for (struct conn *c = s->conns.head, *next; c; c = next) {
			next = c->next;
			if (c->state == CONN_OPEN && conn_recheck(c, ctx, &e)) {
				log_msg(LOG_WARN, "conn %llu: %s (%s): certificate no longer accepted: %s; closing",
					(unsigned long long)c->id, c->author, c->peer, e.msg);
				conn_close(c, "certificate no longer accepted");
			}
		}
	} else {
		log_msg(LOG_ERROR, "SIGHUP: keeping the old TLS settings: %s", e.msg);
	}
	if (roles_load(&roles, nc->roles, &e) == 0) {
		roles_free(s->roles);
		s->roles = roles;
		memcpy(s->cfg.roles, nc->roles, sizeof s->cfg.roles);
	} else {
		log_msg(LOG_ERROR, "SIGHUP: keeping the old roles: %s", e.msg);
	}
	enum log_level lvl;
	if (!s->log_level_fixed && log_parse_level(nc->log_level, &lvl) == 0) {
		log_set_level(lvl);
		memcpy(s->cfg.log_level, nc->log_level, sizeof s->cfg.log_level);
	}
	s->cfg.max_connections = nc->max_connections;
	s->cfg.max_handshakes = nc->max_handshakes;
	s->cfg.max_handshakes_per_address = nc->max_handshakes_per_address;
	s->cfg.handshake_timeout_s = nc->handshake_timeout_s;
	s->cfg.idle_timeout_s = nc->idle_timeout_s;
	if (s->cfg.acceptance_check_s != nc->acceptance_check_s)
		deadlines_interval(&s->deadlines, nc->acceptance_check_s);
	s->cfg.acceptance_check_s = nc->acceptance_check_s;
	if (s->cfg.anchor_interval_s != nc->anchor_interval_s)
		anchoring_interval(&s->anchoring, nc->anchor_interval_s);
	s->cfg.anchor_interval_s = nc->anchor_interval_s;
	s->cfg.max_evidence_mib = nc->max_evidence_mib;
	s->cfg.portal_rate_per_min = nc->portal_rate_per_min;
	s->cfg.tiles_rate_per_min = nc->tiles_rate_per_min;
	free(nc);
	fit_fd_limit(&s->cfg);
	/* the deadline counts from each accept: a shorter one ends handshakes
	 * under way that are now past it */
	conn_expire_handshakes(s);
	log_msg(LOG_INFO, "SIGHUP: reloaded");
	notify_send("READY=1\nSTATUS=serving (reloaded)");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct server *s = arg;
	if (sig == SIGHUP)
		reload(s);
	else
		stop(s, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static struct evconnlistener *listen_on(struct server *s, struct err *e)
{
	char host[256];
	const char *colon = strrchr(s->cfg.listen, ':');
	size_t hl = colon ? (size_t)(colon - s->cfg.listen) : 0;
	if (colon == NULL || hl == 0 || hl >= sizeof host) {
		err_set(e, "listen: \"%s\" is not HOST:PORT", s->cfg.listen);
		return NULL;
	}
	memcpy(host, s->cfg.listen, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0) {
		err_set(e, "listen: cannot use \"%s\" (a numeric address and port): %s", s->cfg.listen,
			gai_strerror(rc));
		return NULL;
	}
	struct evconnlistener *l = evconnlistener_new_bind(
		s->base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
		512, ai->ai_addr, (int)ai->ai_addrlen);
	freeaddrinfo(ai);
	if (l == NULL) {
		err_set(e, "listen on %s: %s", s->cfg.listen,
			evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		return NULL;
	}
	evconnlistener_set_error_cb(l, on_accept_error);
	return l;
}

static void teardown(struct server *s)
{
	while (s->handshakes.head)
		conn_free(s->handshakes.head, "daemon exiting");
	while (s->conns.head)
		conn_free(s->conns.head, "daemon exiting");
	deadlines_free(&s->deadlines);
	anchoring_free(&s->anchoring);
	witnessing_free(&s->witnessing);
	follow_free(s);
	portal_free(s);	/* its answers leave the commit queue first */
	tiles_free(s);
	commit_free(&s->commit);
	files_shutdown(s);
	backup_shutdown(s);	/* before the event base and the ledger it uses */
	if (s->listener)
		evconnlistener_free(s->listener);
	if (s->sig_term)
		event_free(s->sig_term);
	if (s->sig_int)
		event_free(s->sig_int);
	if (s->sig_hup)
		event_free(s->sig_hup);
	if (s->stop_timer)
		event_free(s->stop_timer);
	if (s->handshake_timer)
		event_free(s->handshake_timer);
	if (s->base)
		event_base_free(s->base);
	free(s->tally);
	tls_ctx_free(s->tls);
	roles_free(s->roles);
	ledger_close(s->ledger);
	if (s->signer_next) {
		note_signer_free(s->signer_next);
		free(s->signer_next);
	}
	if (s->signer) {
		note_signer_free(s->signer);
		free(s->signer);
	}
	buf_free(&s->out);
}

/* The signing keys (and the verifier key info shows): a primary's. */
static int load_signers(struct server *s, struct err *e)
{
	s->signer = calloc(1, sizeof *s->signer);
	if (s->signer == NULL || signer_load(s->signer, s->cfg.signing_key, s->cfg.origin, e)) {
		free(s->signer);
		s->signer = NULL;
		return -1;
	}
	if (s->cfg.signing_key_next[0]) {
		s->signer_next = calloc(1, sizeof *s->signer_next);
		if (s->signer_next == NULL ||
		    signer_load(s->signer_next, s->cfg.signing_key_next, s->cfg.origin, e)) {
			free(s->signer_next);
			s->signer_next = NULL;
			err_prefix(e, "signing_key_next");
			return -1;
		}
	}
	note_signer_verifier(s->signer, &s->verifier);
	struct buf vk;
	buf_init(&vk);
	note_verifier_format(&s->verifier, &vk);
	snprintf(s->verifier_key, sizeof s->verifier_key, "%s", buf_cstr(&vk));
	buf_free(&vk);
	return 0;
}

int server_main(const char *conf_path, const struct server_overrides *ov)
{
	struct server srv, *s = &srv;
	struct err e = { 0 };
	int code = 2;
	memset(s, 0, sizeof *s);
	stats_init(&s->stats);
	s->log_level_fixed = ov->log_level != NULL;
	buf_init(&s->out);
	s->conf_path = conf_path;
	config_defaults(&s->cfg);
	if (config_load(&s->cfg, conf_path, &e) ||
	    (ov->listen && config_set(&s->cfg, "listen", ov->listen, NULL, &e)) ||
	    (ov->log_level && config_set(&s->cfg, "log_level", ov->log_level, NULL, &e)) ||
	    config_validate(&s->cfg, &e))
		goto fail;
	enum log_level lvl = LOG_INFO;
	log_parse_level(s->cfg.log_level, &lvl);
	log_set_level(lvl);

	if (ov->follow_from) {	/* a follower signs nothing: it keeps the primary's checkpoints */
		if (follow_trust(s, ov->follow_from, &e))
			goto fail;
	} else if (load_signers(s, &e)) {
		goto fail;
	}
	if (load_tls(&s->cfg, &s->tls, &e) || roles_load(&s->roles, s->cfg.roles, &e))
		goto fail;
	struct ledger_opts lo = {
		s->cfg.data_dir, s->cfg.origin, s->signer, (size_t)s->cfg.map_initial_mib << 20,
		(size_t)s->cfg.map_max_mib << 20, false, s->signer_next, rules_hook(),
		ov->follow_from ? &s->verifier : NULL,
	};
	code = 5;
	if (ledger_open(&s->ledger, &lo, &e)) {
		if (e.code == LEDGER_E_CONFIG)
			code = 2;
		goto fail;
	}
	if (ov->clock)
		ledger_set_clock(s->ledger, ov->clock);
	s->files_fail_at = ov->files_fail_at;
	signal(SIGPIPE, SIG_IGN);
	fit_fd_limit(&s->cfg);
	s->base = event_base_new();
	if (s->base == NULL || event_base_priority_init(s->base, COMMIT_NPRIO) != 0) {
		err_set(&e, "cannot create the event loop");
		goto fail;
	}
	code = 2;
	if ((s->listener = listen_on(s, &e)) == NULL)
		goto fail;
	code = 5;
	/* a primary's loop reads the published state while its writer thread
	 * commits (commit.h); a follower writes on the loop and publishes at
	 * once, so its reads need no snapshot.  Before the writer starts. */
	if ((!ov->follow_from && store_snapshot_enable(ledger_store(s->ledger), &e)) ||
	    commit_init(&s->commit, s->base, s->ledger, &s->stats, &e))
		goto fail;
	s->commit.test_hold_us = ov->commit_hold_us;
	s->commit.test_fail_at = ov->commit_fail_at;
	s->sig_term = evsignal_new(s->base, SIGTERM, on_signal, s);
	s->sig_int = evsignal_new(s->base, SIGINT, on_signal, s);
	s->sig_hup = evsignal_new(s->base, SIGHUP, on_signal, s);
	s->handshake_timer = evtimer_new(s->base, on_handshake_timer, s);
	/* the deadline must not wait for a flood of reads to end */
	if (!s->handshake_timer || event_priority_set(s->handshake_timer, COMMIT_PRIO_IO) || !s->sig_term ||
	    !s->sig_int || !s->sig_hup || event_add(s->sig_term, NULL) || event_add(s->sig_int, NULL) ||
	    event_add(s->sig_hup, NULL)) {
		err_set(&e, "cannot set up events");
		goto fail;
	}
	/* a follower appends nothing of its own: no deadlines, anchors or portal */
	if (ov->follow_from) {
		if (follow_start(s, &e))
			goto fail;
	} else if (deadlines_start(&s->deadlines, s, s->cfg.acceptance_check_s, &e) ||
		   anchoring_start(&s->anchoring, s, &e) || witnessing_start(&s->witnessing, s, &e)) {
		goto fail;
	} else if (s->witnessing.enabled) {
		s->commit.grew = witnessing_grew;
		s->commit.grew_arg = &s->witnessing;
	}
	code = 2;
	/* a follower serves its verified copy's tiles too, but no portal */
	if ((!ov->follow_from && portal_start(s, &e)) || tiles_start(s, &e))
		goto fail;
	code = 5;
	log_msg(LOG_INFO, "scoped %s serving %s%s on %s: %llu entries, verifier key %s", SCOPE_VERSION,
		ov->follow_from ? "a follower's copy of " : "", ledger_origin(s->ledger), s->cfg.listen, (unsigned long long)ledger_size(s->ledger),
		s->verifier_key);
	/* a line a supervisor or test can wait for, with the bound address
	 * (the port may have been 0: "any free port") */
	char bound[96] = "?";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&ss, &sl) == 0)
		conn_format_addr((struct sockaddr *)&ss, bound, sizeof bound);
	log_msg(LOG_INFO, "ready on %s", bound);
	char state[160];
	snprintf(state, sizeof state, "READY=1\nSTATUS=serving %s on %s", ledger_origin(s->ledger), bound);
	notify_send(state);
	event_base_dispatch(s->base);
	log_msg(LOG_INFO, "stopped with %llu entries", (unsigned long long)ledger_size(s->ledger));
	teardown(s);
	return 0;
fail:
	log_msg(LOG_ERROR, "%s", e.msg);
	teardown(s);
	return code;
}
