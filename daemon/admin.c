#include "admin.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "filestore.h"
#include "enc.h"
#include "entry.h"
#include "export.h"
#include "fileio.h"
#include "json.h"
#include "ledger.h"
#include "proof.h"
#include "pki.h"
#include "progress.h"
#include "rules_hook.h"
#include "signer.h"
#include "store.h"

#define DEFAULT_ORIGIN "localhost/scope-ledger"

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "scoped: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static int usage_err(const char *cmd, const char *msg)
{
	fprintf(stderr, "scoped %s: %s (see scoped --help)\n", cmd, msg);
	return EXIT_USAGE;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*v = x;
	return true;
}

/* ---- opening the configured ledger ---- */

struct inst {
	struct config cfg;
	struct note_signer signer, signer_next;
	bool have_signer, have_next;
	struct note_verifier trust;	/* a follower's copy: follow_trust instead of a signing key */
	bool have_trust;
	struct ledger *ledger;
};

static int inst_open(struct inst *in, const char *conf, bool write, struct err *e)
{
	memset(in, 0, sizeof *in);
	if (conf == NULL)
		conf = getenv("SCOPED_CONFIG");
	if (conf == NULL || !*conf) {
		err_setc(e, EXIT_USAGE, "no configuration: give -c FILE or set SCOPED_CONFIG");
		return -1;
	}
	config_defaults(&in->cfg);
	if (config_load(&in->cfg, conf, e) || config_validate(&in->cfg, e)) {
		e->code = EXIT_USAGE;
		return -1;
	}
	/* the key is loaded even for reads: verification checks the
	 * checkpoint signature with it; a follower's copy has the primary's
	 * verifier key instead (and its key history) */
	if (in->cfg.follow_trust[0]) {
		if (note_verifier_parse(in->cfg.follow_trust, strlen(in->cfg.follow_trust), &in->trust, e)) {
			err_prefix(e, "follow_trust");
			e->code = EXIT_USAGE;
			return -1;
		}
		in->have_trust = true;
	} else if (signer_load(&in->signer, in->cfg.signing_key, in->cfg.origin, e)) {
		e->code = EXIT_USAGE;
		return -1;
	} else {
		in->have_signer = true;
	}
	/* a writer signs with every configured key, as the daemon does: a
	 * missing next key would otherwise be recorded as retired */
	if (write && in->cfg.signing_key_next[0]) {
		if (signer_load(&in->signer_next, in->cfg.signing_key_next, in->cfg.origin, e)) {
			err_prefix(e, "signing_key_next");
			e->code = EXIT_USAGE;
			return -1;
		}
		in->have_next = true;
	}
	struct ledger_opts lo = {
		.dir = in->cfg.data_dir,
		.origin = in->cfg.origin,
		.signer = in->have_signer ? &in->signer : NULL,
		.replica_of = in->have_trust ? &in->trust : NULL,
		.map_initial = (size_t)in->cfg.map_initial_mib << 20,
		.map_max = (size_t)in->cfg.map_max_mib << 20,
		.read_only = !write,
		.signer_next = in->have_next ? &in->signer_next : NULL,
		.rules = rules_hook(),
	};
	if (ledger_open(&in->ledger, &lo, e)) {
		e->code = e->code == LEDGER_E_CONFIG ? EXIT_USAGE : EXIT_ERROR;
		return -1;
	}
	return 0;
}

static void inst_close(struct inst *in)
{
	ledger_close(in->ledger);
	if (in->have_signer)
		note_signer_free(&in->signer);
	if (in->have_next)
		note_signer_free(&in->signer_next);
}

/* ---- init ---- */

static int mkdir_p(const char *path, mode_t mode, struct err *e)
{
	char tmp[CONFIG_PATH_MAX + 64];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
		return err_set(e, "%s: path too long", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
			return err_set(e, "creating %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return err_set(e, "creating %s: %s", tmp, strerror(errno));
	return 0;
}

static const char *const ROLE_NAMES[] = { "lead", "approver", "finance", "auditor", "client", "admin" };

/* Host part of HOST:PORT for certificates and profiles. */
static void split_listen(const char *listen, char *host, size_t hn, char *port, size_t pn)
{
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
	if (n >= hn)
		n = hn - 1;
	memcpy(host, listen, n);
	host[n] = '\0';
	if (host[0] == '[') {	/* [v6] */
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}
	snprintf(port, pn, "%s", colon ? colon + 1 : "7443");
}

static bool is_ip(const char *h)
{
	return strspn(h, "0123456789.") == strlen(h) || strchr(h, ':') != NULL;
}

static int write_text(const char *path, struct buf *b, int mode, struct err *e)
{
	if (buf_failed(b))
		return err_set(e, "out of memory");
	return write_file_atomic(path, b->data, b->len, mode, e);
}

int admin_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "origin", required_argument, NULL, 'o' },
		{ "listen", required_argument, NULL, 'l' },
		{ "client-project", required_argument, NULL, 'p' },
		{ "portal", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *origin = DEFAULT_ORIGIN, *listen = "127.0.0.1:7443", *portal = NULL;
	char client_projects[1024] = "";	/* comma-separated, as in roles.conf */
	struct err e = { 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:l:p:P:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o': origin = optarg; break;
		case 'l': listen = optarg; break;
		case 'P': portal = optarg; break;
		case 'p': {
			size_t used = strlen(client_projects);
			if (optarg[0] == '\0' || entry_check_project(optarg, strlen(optarg), &e))
				return usage_err("init", optarg[0] ? e.msg : "--client-project needs a project id");
			if (snprintf(client_projects + used, sizeof client_projects - used, "%s%s",
				     used ? "," : "", optarg) >= (int)(sizeof client_projects - used))
				return usage_err("init", "--client-project: too many projects for one line");
			break;
		}
		case 'h':
			puts("usage: scoped init DIR [--origin NAME] [--listen HOST:PORT] [--portal HOST:PORT] "
			     "[--client-project P]...");
			return EXIT_OK;
		default: return usage_err("init", "bad option");
		}
	}
	if (optind != argc - 1)
		return usage_err("init", "expected one directory");
	const char *dir = argv[optind];
	if (config_check_origin(origin, &e))
		return usage_err("init", e.msg);
	char host[256], port[16];
	split_listen(listen, host, sizeof host, port, sizeof port);
	if (!host[0] || !port[0] || strspn(port, "0123456789") != strlen(port))
		return usage_err("init", "--listen must be HOST:PORT");
	if (portal) {
		char ph[256], pp[16];
		split_listen(portal, ph, sizeof ph, pp, sizeof pp);
		if (!strrchr(portal, ':') || !ph[0] || !pp[0] || strspn(pp, "0123456789") != strlen(pp))
			return usage_err("init", "--portal must be HOST:PORT (the client portal's address, portal_listen)");
	}

	char path[CONFIG_PATH_MAX + 64], p2[CONFIG_PATH_MAX + 64];
	struct stat st;
	snprintf(path, sizeof path, "%s/scoped.conf", dir);
	if (stat(path, &st) == 0)
		return fail(EXIT_USAGE, "%s already exists: this instance is initialised", path);
	static const char *const subdirs[] = { "", "/data", "/keys", "/tls", "/clients" };
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(path, sizeof path, "%s%s", dir, subdirs[i]);
		if (mkdir_p(path, 0700, &e))
			return fail(EXIT_ERROR, "%s", e.msg);
	}
	snprintf(path, sizeof path, "%s/keys/signing.key", dir);
	if (signer_generate(path, &e))
		return fail(EXIT_ERROR, "%s", e.msg);

	/* the private CA, the server certificate and one client per role */
	char ca_crt[CONFIG_PATH_MAX + 64], ca_key[CONFIG_PATH_MAX + 64], san[600];
	snprintf(ca_crt, sizeof ca_crt, "%s/tls/ca.crt", dir);
	snprintf(ca_key, sizeof ca_key, "%s/tls/ca.key", dir);
	bool wildcard = strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0;
	const char *connect_host = wildcard ? "127.0.0.1" : host;
	if (wildcard || strcmp(host, "127.0.0.1") == 0 || strcmp(host, "localhost") == 0 ||
	    strcmp(host, "::1") == 0)
		snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1");
	else
		snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1,%s:%s",
			 is_ip(host) ? "IP" : "DNS", host);
	const char *server_name = is_ip(connect_host) && strcmp(connect_host, "127.0.0.1") == 0 ?
				  "localhost" : connect_host;
	snprintf(path, sizeof path, "%s/tls/server.crt", dir);
	snprintf(p2, sizeof p2, "%s/tls/server.key", dir);
	if (pki_make_ca(ca_crt, ca_key, "Scope Ledger local CA", 3650, &e) ||
	    pki_issue(ca_crt, ca_key, path, p2, "localhost", true, san, 825, &e))
		return fail(EXIT_ERROR, "%s", e.msg);
	for (size_t i = 0; i < sizeof ROLE_NAMES / sizeof ROLE_NAMES[0]; i++) {
		snprintf(path, sizeof path, "%s/clients/%s.crt", dir, ROLE_NAMES[i]);
		snprintf(p2, sizeof p2, "%s/clients/%s.key", dir, ROLE_NAMES[i]);
		if (pki_issue(ca_crt, ca_key, path, p2, ROLE_NAMES[i], false, NULL, 825, &e))
			return fail(EXIT_ERROR, "%s", e.msg);
	}

	struct buf b;
	buf_init(&b);
	buf_printf(&b,
		   "# Scope Ledger daemon configuration (scoped config -c FILE lists every option)\n"
		   "origin = %s\n"
		   "listen = %s\n"
		   "data_dir = data\n"
		   "signing_key = keys/signing.key\n"
		   "tls_cert = tls/server.crt\n"
		   "tls_key = tls/server.key\n"
		   "tls_ca = tls/ca.crt\n"
		   "roles = roles.conf\n", origin, listen);
	if (portal)
		buf_printf(&b, "# the client portal (HTTPS for a browser, no client certificate)\n"
			       "portal_listen = %s\n", portal);
	snprintf(path, sizeof path, "%s/scoped.conf", dir);
	int rc = write_text(path, &b, 0600, &e);
	buf_reset(&b);
	buf_adds(&b, "# identity (cn:NAME or sha256:FINGERPRINT)   roles   [projects: a,b; * all "
		     "(default); - none yet]\n");
	for (size_t i = 0; i < sizeof ROLE_NAMES / sizeof ROLE_NAMES[0]; i++) {
		if (strcmp(ROLE_NAMES[i], "client") != 0)
			buf_printf(&b, "cn:%-12s %s\n", ROLE_NAMES[i], ROLE_NAMES[i]);
		else
			buf_printf(&b, "cn:%-12s %-12s%s\n", ROLE_NAMES[i], ROLE_NAMES[i],
				   client_projects[0] ? client_projects : "-");
	}
	snprintf(p2, sizeof p2, "%s/roles.conf", dir);
	if (rc == 0)
		rc = write_text(p2, &b, 0600, &e);
	buf_free(&b);
	if (rc)
		return fail(EXIT_ERROR, "%s", e.msg);

	/* create the store and sign the first (empty) checkpoint */
	struct inst in;
	if (inst_open(&in, path, true, &e)) {
		inst_close(&in);
		return fail(e.code ? e.code : EXIT_ERROR, "%s", e.msg);
	}
	struct note_verifier v;
	struct buf vk;
	buf_init(&vk);
	note_signer_verifier(&in.signer, &v);
	note_verifier_format(&v, &vk);
	inst_close(&in);
	snprintf(path, sizeof path, "%s/keys/verifier.txt", dir);
	buf_addc(&vk, '\n');
	rc = write_text(path, &vk, 0644, &e);
	vk.len--;
	buf_init(&b);
	for (size_t i = 0; rc == 0 && i < sizeof ROLE_NAMES / sizeof ROLE_NAMES[0]; i++) {
		buf_reset(&b);
		buf_printf(&b,
			   "# scopectl profile: role %s on %s\n"
			   "server = %s%s%s:%s\n"
			   "server_name = %s\n"
			   "cert = %s.crt\n"
			   "key = %s.key\n"
			   "ca = ../tls/ca.crt\n"
			   "trust = %s\n", ROLE_NAMES[i], origin, strchr(connect_host, ':') ? "[" : "",
			   connect_host, strchr(connect_host, ':') ? "]" : "", port, server_name,
			   ROLE_NAMES[i], ROLE_NAMES[i], buf_cstr(&vk));
		snprintf(path, sizeof path, "%s/clients/%s.conf", dir, ROLE_NAMES[i]);
		rc = write_text(path, &b, 0600, &e);
	}
	buf_free(&b);
	if (rc) {
		buf_free(&vk);
		return fail(EXIT_ERROR, "%s", e.msg);
	}
	printf("initialised %s\n  origin:       %s\n  listen:       %s\n  config:       %s/scoped.conf\n"
	       "  verifier key: %s\n  clients:      %s/clients/{lead,approver,finance,auditor,client,admin}.conf\n"
	       "run it with:    scoped -c %s/scoped.conf\n", dir, origin, listen, dir, buf_cstr(&vk), dir,
	       dir);
	if (client_projects[0])
		printf("the client certificate may use: %s\n", client_projects);
	else
		printf("the client certificate has no project yet; to give it one, change its line in\n"
		       "%s/roles.conf to (and send scoped SIGHUP if it runs):\n"
		       "cn:%-12s %-12sPROJECT[,PROJECT...]\n", dir, "client", "client");
	buf_free(&vk);
	return EXIT_OK;
}

/* ---- append ---- */

static void local_author(const char *name, char *out, size_t n)
{
	if (name == NULL) {
		struct passwd *pw = getpwuid(getuid());
		name = pw && pw->pw_name ? pw->pw_name : getenv("USER");
	}
	snprintf(out, n, "local:%s", name ? name : "unknown");
}

int admin_append(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "project", required_argument, NULL, 'p' },
		{ "kind", required_argument, NULL, 'k' },
		{ "body-json", required_argument, NULL, 'b' },
		{ "body-file", required_argument, NULL, 'f' },
		{ "request-id", required_argument, NULL, 'r' },
		{ "author", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ 0, 0, 0, 0 },
	};
	const char *conf = NULL, *project = NULL, *kind = NULL, *body = NULL, *bodyfile = NULL;
	const char *reqid = NULL, *author = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'p': project = optarg; break;
		case 'k': kind = optarg; break;
		case 'b': body = optarg; break;
		case 'f': bodyfile = optarg; break;
		case 'r': reqid = optarg; break;
		case 'a': author = optarg; break;
		case 'j': json = true; break;
		default: return usage_err("append", "bad option");
		}
	}
	if (optind != argc)
		return usage_err("append", "unexpected argument");
	if (project == NULL || kind == NULL || (body == NULL) == (bodyfile == NULL))
		return usage_err("append", "needs --project, --kind and one of --body-json/--body-file");
	if (strcmp(kind, "key") == 0)
		return fail(EXIT_REFUSED, "key entries are recorded by scoped itself when its signing keys change "
					  "(scoped(8), KEY ROTATION)");

	struct err e = { 0 };
	struct buf text, mp;
	buf_init(&text);
	buf_init(&mp);
	int rc = EXIT_OK;
	if (bodyfile) {
		if (read_file(bodyfile, ENTRY_BODY_MAX * 4, &text, &e)) {
			rc = fail(EXIT_USAGE, "%s", e.msg);
			goto out;
		}
	} else {
		buf_adds(&text, body);
	}
	if (json_to_canonical((const char *)text.data, text.len, &mp, &e)) {
		rc = fail(EXIT_USAGE, "body: %s", e.msg);
		goto out;
	}
	if (!(mp.data[0] >= 0x80 && mp.data[0] <= 0x8f) && mp.data[0] != 0xde && mp.data[0] != 0xdf) {
		rc = fail(EXIT_USAGE, "body must be a JSON object");
		goto out;
	}
	char reqbuf[40], authbuf[ENTRY_AUTHOR_MAX + 8];
	if (reqid == NULL) {
		uint8_t rnd[16];
		char hex[33];
		if (RAND_bytes(rnd, sizeof rnd) != 1) {
			rc = fail(EXIT_ERROR, "%s", "no randomness for a request id");
			goto out;
		}
		hex_encode(rnd, sizeof rnd, hex);
		snprintf(reqbuf, sizeof reqbuf, "r-%s", hex);
		reqid = reqbuf;
	}
	local_author(author, authbuf, sizeof authbuf);

	struct inst in;
	if (inst_open(&in, conf, true, &e)) {
		inst_close(&in);
		rc = fail(e.code, "%s", e.msg);
		goto out;
	}
	struct ledger_append req = {
		kind, strlen(kind), project, strlen(project), authbuf, strlen(authbuf),
		reqid, strlen(reqid), mp.data, mp.len, false, NULL, NULL,
	};
	struct ledger_result res;
	if (ledger_append_batch(in.ledger, &req, 1, &res, &e)) {
		rc = fail(EXIT_ERROR, "%s", e.msg);
	} else if (res.status == LEDGER_REJECTED) {
		rc = fail(EXIT_REFUSED, "refused: %s", res.err.msg);
	} else {
		char hex[65];
		hex_encode(res.leaf, HASH_LEN, hex);
		const char *what = res.status == LEDGER_DUPLICATE ? "already recorded" : "appended";
		if (json)
			printf("{\"seq\":%llu,\"leaf_hash\":\"%s\",\"request_id\":\"%s\",\"duplicate\":%s}\n",
			       (unsigned long long)res.seq, hex, reqid,
			       res.status == LEDGER_DUPLICATE ? "true" : "false");
		else
			printf("%s: entry %llu, leaf hash %s\n", what, (unsigned long long)res.seq, hex);
	}
	inst_close(&in);
out:
	buf_free(&text);
	buf_free(&mp);
	return rc;
}

/* ---- read commands ---- */

/* Parses -c and the listed extra flags; the rest are positionals. */
struct rd_args {
	const char *conf;
	bool json, hex, no_files;
	uint64_t size, from, to;
	bool have_size, have_from, have_to;
	const char *out, *format;
	int npos;
	char *pos[4];
};

static int rd_parse(const char *cmd, int argc, char **argv, struct rd_args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "hex", no_argument, NULL, 'x' },
		{ "size", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ "no-files", no_argument, NULL, 'n' },
		{ 0, 0, 0, 0 },
	};
	int c;
	memset(a, 0, sizeof *a);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a->conf = optarg; break;
		case 'j': a->json = true; break;
		case 'x': a->hex = true; break;
		case 'n': a->no_files = true; break;
		case 's':
			if (!parse_u64(optarg, &a->size))
				return usage_err(cmd, "--size needs a number");
			a->have_size = true;
			break;
		case 'f':
			if (!parse_u64(optarg, &a->from))
				return usage_err(cmd, "--from needs a number");
			a->have_from = true;
			break;
		case 't':
			if (!parse_u64(optarg, &a->to))
				return usage_err(cmd, "--to needs a number");
			a->have_to = true;
			break;
		case 'o': a->out = optarg; break;
		case 'F': a->format = optarg; break;
		default: return usage_err(cmd, "bad option");
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos == 4)
			return usage_err(cmd, "too many arguments");
		a->pos[a->npos++] = argv[optind];
	}
	return EXIT_OK;
}

static int open_read(struct inst *in, const char *conf)
{
	struct err e = { 0 };
	if (inst_open(in, conf, false, &e)) {
		inst_close(in);
		return fail(e.code, "%s", e.msg);
	}
	return EXIT_OK;
}

int admin_get(int argc, char **argv)
{
	struct rd_args a;
	uint64_t seq;
	int rc = rd_parse("get", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos != 1 || !parse_u64(a.pos[0], &seq))
		return usage_err("get", "expected one sequence number");
	struct inst in;
	if ((rc = open_read(&in, a.conf)))
		return rc;
	struct err e = { 0 };
	struct buf raw, out;
	buf_init(&raw);
	buf_init(&out);
	struct entry en;
	uint8_t leaf[HASH_LEN];
	if (ledger_get(in.ledger, seq, &raw, &e)) {
		rc = fail(e.code == STORE_E_NOTFOUND ? EXIT_REFUSED : EXIT_ERROR, "%s", e.msg);
	} else if (a.hex) {
		export_write(stdout, EXPORT_HEX, raw.data, raw.len);
	} else if (entry_decode(raw.data, raw.len, &en, &e)) {
		rc = fail(EXIT_VERIFY, "stored entry does not decode: %s", e.msg);
	} else {
		merkle_leaf_hash(raw.data, raw.len, leaf);
		if (entry_to_json(&en, leaf, &out, &e) == 0) {
			if (a.json) {
				printf("%s\n", buf_cstr(&out));
			} else {
				char t[40], h[65];
				entry_format_time(en.time_us, t);
				hex_encode(leaf, HASH_LEN, h);
				printf("entry %llu  %s  kind %.*s  project %.*s\n  author %.*s  request %.*s\n"
				       "  leaf %s\n", (unsigned long long)en.seq, t, (int)en.kind_len,
				       en.kind, (int)en.project_len, en.project, (int)en.author_len,
				       en.author, (int)en.request_id_len, en.request_id, h);
				buf_reset(&out);
				msgpack_to_json(en.body, en.body_len, &out, &e);
				printf("  body %s\n", buf_cstr(&out));
			}
		} else {
			rc = fail(EXIT_ERROR, "%s", e.msg);
		}
	}
	buf_free(&raw);
	buf_free(&out);
	inst_close(&in);
	return rc;
}

int admin_checkpoint(int argc, char **argv)
{
	struct rd_args a;
	int rc = rd_parse("checkpoint", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos != 0)
		return usage_err("checkpoint", "takes no arguments");
	struct inst in;
	if ((rc = open_read(&in, a.conf)))
		return rc;
	struct err e = { 0 };
	struct buf out;
	buf_init(&out);
	if (ledger_checkpoint(in.ledger, &out, &e))
		rc = fail(EXIT_ERROR, "%s", e.msg);
	else
		fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	inst_close(&in);
	return rc;
}

int admin_prove(int argc, char **argv)
{
	struct rd_args a;
	struct inclusion_proof p;
	int rc = rd_parse("prove", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos != 1 || !parse_u64(a.pos[0], &p.leaf_index))
		return usage_err("prove", "expected one sequence number");
	struct inst in;
	if ((rc = open_read(&in, a.conf)))
		return rc;
	struct err e = { 0 };
	p.tree_size = a.have_size ? a.size : ledger_size(in.ledger);
	if (ledger_inclusion(in.ledger, p.leaf_index, p.tree_size, p.leaf_hash, p.root_hash,
			     p.proof, &p.len, &e)) {
		rc = fail(EXIT_REFUSED, "%s", e.msg);
	} else {
		struct buf out;
		buf_init(&out);
		inclusion_to_json(&p, &out);
		printf("%s\n", buf_cstr(&out));
		buf_free(&out);
	}
	inst_close(&in);
	return rc;
}

int admin_consistency(int argc, char **argv)
{
	struct rd_args a;
	struct consistency_proof p;
	int rc = rd_parse("consistency", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos < 1 || a.npos > 2 || !parse_u64(a.pos[0], &p.old_size) ||
	    (a.npos == 2 && !parse_u64(a.pos[1], &p.new_size)))
		return usage_err("consistency", "expected OLD [NEW]");
	struct inst in;
	if ((rc = open_read(&in, a.conf)))
		return rc;
	struct err e = { 0 };
	if (a.npos == 1)
		p.new_size = ledger_size(in.ledger);
	if (ledger_consistency(in.ledger, p.old_size, p.new_size, p.old_root, p.new_root, p.proof,
			       &p.len, &e)) {
		rc = fail(EXIT_REFUSED, "%s", e.msg);
	} else {
		struct buf out;
		buf_init(&out);
		consistency_to_json(&p, &out);
		printf("%s\n", buf_cstr(&out));
		buf_free(&out);
	}
	inst_close(&in);
	return rc;
}

struct export_ctx {
	FILE *f;
	enum export_format format;
};

static int export_one(void *ctx, uint64_t seq, const uint8_t *p, size_t n, struct err *e)
{
	struct export_ctx *x = ctx;
	if (export_write(x->f, x->format, p, n))
		return err_set(e, "writing entry %llu: %s", (unsigned long long)seq, strerror(errno));
	return 0;
}

int admin_export(int argc, char **argv)
{
	struct rd_args a;
	int rc = rd_parse("export", argc, argv, &a);
	if (rc)
		return rc;
	struct export_ctx x = { NULL, EXPORT_HEX };
	if (a.npos != 0 || a.out == NULL)
		return usage_err("export", "needs -o FILE");
	if (a.format && export_parse_format(a.format, &x.format))
		return usage_err("export", "--format is hex or raw");
	struct inst in;
	if ((rc = open_read(&in, a.conf)))
		return rc;
	struct err e = { 0 };
	bool to_stdout = strcmp(a.out, "-") == 0;
	struct out_file out;
	if (to_stdout)
		x.f = stdout;
	else if (out_open(&out, a.out, ".tmp", 0644, &e) || (x.f = out_stream(&out, &e)) == NULL) {
		if (out.fd >= 0)
			out_abort(&out);
		inst_close(&in);
		return fail(EXIT_ERROR, "%s", e.msg);
	}
	uint64_t from = a.have_from ? a.from : 0, to = a.have_to ? a.to : UINT64_MAX;
	if (ledger_export(in.ledger, from, to, export_one, &x, &e))
		rc = fail(EXIT_ERROR, "%s", e.msg);
	if (!to_stdout && rc)
		out_abort(&out);
	else if (!to_stdout && out_commit(&out, &e))
		rc = fail(EXIT_ERROR, "%s", e.msg);
	inst_close(&in);
	return rc;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	progress_update(ctx, done, (double)done / (double)total);
}

struct file_faults {
	uint64_t n;
	char first[ERR_MSG_MAX - 100];
};

/* A stored file missing or altered: said at once, the first kept. */
static void file_fault(void *ctx, const char *what)
{
	struct file_faults *f = ctx;
	fprintf(stderr, "scoped: evidence file: %s\n", what);
	if (f->n++ == 0)
		snprintf(f->first, sizeof f->first, "%s", what);
}

int admin_verify(int argc, char **argv)
{
	struct rd_args a;
	int rc = rd_parse("verify", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos != 0)
		return usage_err("verify", "takes no arguments");
	struct inst in;
	if ((rc = open_read(&in, a.conf)))
		return rc;
	struct err e = { 0 };
	struct ledger_verify_report r;
	char root[65];
	struct progress pg;
	progress_init(&pg, "verified", isatty(2));
	int vr = ledger_verify(in.ledger, in.have_trust ? &in.trust : NULL, progress, &pg, &r, &e);
	progress_end(&pg);
	struct file_faults ff = { 0 };
	long files = vr == 0 && !a.no_files ? filestore_verify(in.cfg.data_dir, file_fault, &ff, &e) : 0;
	if (files < 0 || ff.n) {
		vr = -1;
		if (ff.n)
			snprintf(e.msg, sizeof e.msg, "%llu stored evidence file%s missing or altered (first: %s)",
				 (unsigned long long)ff.n, ff.n == 1 ? " is" : "s are", ff.first);
	}
	hex_encode(r.root, HASH_LEN, root);
	if (a.json) {
		struct buf out;
		buf_init(&out);
		if (vr == 0) {
			buf_printf(&out, "{\"ok\":true,\"entries\":%llu,\"root_hash\":\"%s\"}",
				   (unsigned long long)r.entries, root);
		} else {
			buf_adds(&out, "{\"ok\":false,\"error\":");
			json_put_str(&out, e.msg, strlen(e.msg));
			if (r.bad_seq_known)
				buf_printf(&out, ",\"first_bad_seq\":%llu", (unsigned long long)r.bad_seq);
			buf_addc(&out, '}');
		}
		printf("%s\n", buf_cstr(&out));
		buf_free(&out);
	} else if (vr == 0) {
		printf("ok: %llu entries, chain, leaf hashes, tree nodes, root and signed checkpoint verified; "
		       "derived state, request-id and project indexes and metadata match the log\n"
		       "root %s\n", (unsigned long long)r.entries, root);
		if (a.no_files)
			printf("evidence files not checked (--no-files)\n");
		else
			printf("%ld stored evidence file%s rehashed\n", files, files == 1 ? "" : "s");
	} else {
		fprintf(stderr, "scoped: VERIFICATION FAILED: %s\n", e.msg);
		if (r.bad_seq_known)
			fprintf(stderr, "first bad entry: %llu\n", (unsigned long long)r.bad_seq);
	}
	inst_close(&in);
	return vr == 0 ? EXIT_OK : EXIT_VERIFY;
}

int admin_reindex(int argc, char **argv)
{
	struct rd_args a;
	int rc = rd_parse("reindex", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos != 0)
		return usage_err("reindex", "takes no arguments");
	struct inst in;
	struct err e = { 0 };
	if (inst_open(&in, a.conf, true, &e)) {
		inst_close(&in);
		return fail(e.code, "%s", e.msg);
	}
	uint8_t before[HASH_LEN], after[HASH_LEN];
	char hb[65], ha[65];
	if (ledger_state_digest(in.ledger, before, &e) || ledger_reindex(in.ledger, &e) ||
	    ledger_state_digest(in.ledger, after, &e)) {
		inst_close(&in);
		return fail(EXIT_ERROR, "%s", e.msg);
	}
	hex_encode(before, HASH_LEN, hb);
	hex_encode(after, HASH_LEN, ha);
	printf("rebuilt the derived state and the request-id and project indexes from %llu entries\n"
	       "  state before %s\n  state after  %s%s\n",
	       (unsigned long long)ledger_size(in.ledger), hb, ha,
	       memcmp(before, after, HASH_LEN) ? "  (differed: the rebuilt state is now in place)" : "  (identical)");
	inst_close(&in);
	return EXIT_OK;
}

int admin_config(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--roff") == 0) {
		config_roff(stdout);
		return EXIT_OK;
	}
	struct rd_args a;
	int rc = rd_parse("config", argc, argv, &a);
	if (rc)
		return rc;
	const char *conf = a.conf ? a.conf : getenv("SCOPED_CONFIG");
	struct config cfg;
	struct err e = { 0 };
	config_defaults(&cfg);
	if (conf && config_load(&cfg, conf, &e))
		return fail(EXIT_USAGE, "%s", e.msg);
	char why[600];
	if (config_quorum_minority(&cfg, why, sizeof why))
		fprintf(stderr, "scoped config: warning: %s\n", why);
	config_print(&cfg, stdout);
	return EXIT_OK;
}

/* ---- backup and restore ---- */

int admin_backup(int argc, char **argv)
{
	struct rd_args a;
	int rc = rd_parse("backup", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos != 0 || a.out == NULL)
		return usage_err("backup", "needs -o FILE");
	struct inst in;
	if ((rc = open_read(&in, a.conf)))
		return rc;
	uint64_t entries = ledger_size(in.ledger);
	struct stat st;
	if (stat(a.out, &st) == 0 && !S_ISREG(st.st_mode)) {
		inst_close(&in);
		return fail(EXIT_ERROR, "%s is not a regular file: a backup is written to a file, and hashed there; "
			    "name a new file or an old backup", a.out);
	}
	char tmp[CONFIG_PATH_MAX + 16];
	snprintf(tmp, sizeof tmp, "%s.part", a.out);
	int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		inst_close(&in);
		return fail(EXIT_ERROR, "%s: %s", tmp, strerror(errno));
	}
	struct err e = { 0 };
	uint8_t sha[HASH_LEN];
	uint64_t bytes = 0;
	/* the copy runs in a read transaction of its own: the daemon may keep
	 * appending meanwhile */
	if (store_copy(ledger_store(in.ledger), fd, &e))
		rc = fail(EXIT_ERROR, "%s", e.msg);
	else if (fsync(fd) != 0)
		rc = fail(EXIT_ERROR, "%s: %s", tmp, strerror(errno));
	else if (sha256_fd(fd, sha, &bytes, &e))
		rc = fail(EXIT_ERROR, "%s: %s", tmp, e.msg);
	if (close(fd) != 0 && rc == 0)
		rc = fail(EXIT_ERROR, "%s: %s", tmp, strerror(errno));
	/* the evidence files after the ledger: every file an entry of the copy
	 * cites as stored was stored before that entry was appended */
	char files[CONFIG_PATH_MAX + 16], dst[CONFIG_PATH_MAX + 16];
	uint64_t nfiles = 0;
	snprintf(files, sizeof files, "%s/files", in.cfg.data_dir);
	snprintf(dst, sizeof dst, "%s.files", a.out);
	if (rc == 0 && filestore_copy(files, dst, &nfiles, &e))
		rc = fail(EXIT_ERROR, "%s", e.msg);
	if (rc == 0 && rename(tmp, a.out) != 0)
		rc = fail(EXIT_ERROR, "%s: %s", a.out, strerror(errno));
	if (rc)
		unlink(tmp);
	inst_close(&in);
	if (rc == 0) {
		char hex[65];
		hex_encode(sha, HASH_LEN, hex);
		printf("backup: %llu bytes in %s, sha256 %s (the ledger held %llu entries when it began)\n",
		       (unsigned long long)bytes, a.out, hex, (unsigned long long)entries);
		if (nfiles)
			printf("evidence files: %llu in %s\n", (unsigned long long)nfiles, dst);
	}
	return rc;
}

int admin_restore(int argc, char **argv)
{
	struct rd_args a;
	int rc = rd_parse("restore", argc, argv, &a);
	if (rc)
		return rc;
	if (a.npos != 1)
		return usage_err("restore", "expected the backup file");
	const char *conf = a.conf ? a.conf : getenv("SCOPED_CONFIG");
	if (conf == NULL || !*conf)
		return usage_err("restore", "no configuration: give -c FILE or set SCOPED_CONFIG");
	struct config cfg;
	struct err e = { 0 };
	config_defaults(&cfg);
	if (config_load(&cfg, conf, &e) || config_validate(&cfg, &e))
		return fail(EXIT_USAGE, "%s", e.msg);
	char db[CONFIG_PATH_MAX + 16], part[CONFIG_PATH_MAX + 24], lock[CONFIG_PATH_MAX + 16],
		wlock[CONFIG_PATH_MAX + 16];
	snprintf(db, sizeof db, "%s/data.mdb", cfg.data_dir);
	snprintf(part, sizeof part, "%s/data.mdb.restoring", cfg.data_dir);
	snprintf(lock, sizeof lock, "%s/lock.mdb", cfg.data_dir);
	snprintf(wlock, sizeof wlock, "%s/scoped.lock", cfg.data_dir);
	struct stat st;
	if (stat(db, &st) == 0)
		return fail(EXIT_USAGE, "%s already holds a ledger; restore into an empty data directory "
				       "(move the old one aside, or point data_dir elsewhere)", cfg.data_dir);
	if (mkdir_p(cfg.data_dir, 0700, &e))
		return fail(EXIT_ERROR, "%s", e.msg);
	unlink(part);
	if (file_copy(a.pos[0], part, &e) || rename(part, db) != 0) {
		unlink(part);
		return fail(EXIT_ERROR, "%s", e.msg[0] ? e.msg : strerror(errno));
	}
	int dfd = open(cfg.data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	/* open it as the daemon would (origin, format, checkpoint signature),
	 * then check every byte before calling it restored */
	/* the evidence files beside the backup (BACKUP.files), if any */
	char files_from[CONFIG_PATH_MAX + 16], files_to[CONFIG_PATH_MAX + 16];
	uint64_t nfiles = 0;
	snprintf(files_from, sizeof files_from, "%s.files", a.pos[0]);
	snprintf(files_to, sizeof files_to, "%s/files", cfg.data_dir);
	struct file_faults ff = { 0 };
	struct inst in;
	struct ledger_verify_report r;
	if (filestore_copy(files_from, files_to, &nfiles, &e)) {
		rc = EXIT_ERROR;
		memset(&in, 0, sizeof in);
	} else if (inst_open(&in, conf, true, &e) == 0) {
		struct progress pg;
		progress_init(&pg, "verified", isatty(2));
		int vr = ledger_verify(in.ledger, in.have_trust ? &in.trust : NULL, progress, &pg, &r, &e);
		progress_end(&pg);
		if (vr == 0 &&
		    filestore_verify(cfg.data_dir, file_fault, &ff, &e) >= 0 && ff.n == 0) {
			char root[65];
			hex_encode(r.root, HASH_LEN, root);
			printf("restored %llu entries into %s: chain, leaf hashes, tree nodes, root and signed "
			       "checkpoint verified; derived state, request-id and project indexes and metadata "
			       "match the log\nroot %s\n", (unsigned long long)r.entries, cfg.data_dir, root);
			if (nfiles)
				printf("evidence files: %llu restored and rehashed\n", (unsigned long long)nfiles);
			inst_close(&in);
			return EXIT_OK;
		}
		if (ff.n)
			snprintf(e.msg, sizeof e.msg, "stored evidence file missing or altered: %s", ff.first);
		rc = EXIT_VERIFY;
	} else {
		rc = e.code == EXIT_USAGE ? EXIT_USAGE : EXIT_VERIFY;
	}
	inst_close(&in);
	unlink(db);
	unlink(lock);
	unlink(wlock);
	filestore_remove(files_to);
	return fail(rc, "not restored (the data directory is empty again): %s", e.msg);
}

/* ---- keygen ---- */

int admin_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "origin", required_argument, NULL, 'o' },
		{ 0, 0, 0, 0 },
	};
	const char *conf = NULL, *origin = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'o': origin = optarg; break;
		default: return usage_err("keygen", "bad option");
		}
	}
	if (optind != argc - 1)
		return usage_err("keygen", "expected the new key file");
	const char *path = argv[optind];
	struct config cfg;
	struct err e = { 0 };
	if (origin == NULL) {
		if (conf == NULL)
			conf = getenv("SCOPED_CONFIG");
		if (conf == NULL || !*conf)
			return usage_err("keygen", "give --origin NAME, or -c FILE to take the origin from it");
		config_defaults(&cfg);
		if (config_load(&cfg, conf, &e))
			return fail(EXIT_USAGE, "%s", e.msg);
		origin = cfg.origin;
	}
	if (config_check_origin(origin, &e))
		return fail(EXIT_USAGE, "%s", e.msg);
	struct note_signer s;
	struct note_verifier v;
	struct stat st;
	if (stat(path, &st) == 0)
		return fail(EXIT_USAGE, "%s already exists: a key file is never overwritten", path);
	if (signer_generate(path, &e) || signer_load(&s, path, origin, &e))
		return fail(EXIT_ERROR, "%s", e.msg);
	note_signer_verifier(&s, &v);
	struct buf b;
	buf_init(&b);
	note_verifier_format(&v, &b);
	printf("%s\n", buf_cstr(&b));
	buf_free(&b);
	note_signer_free(&s);
	return EXIT_OK;
}
