#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "fileio.h"
#include "pki.h"
#include "signer.h"
#include "witness.h"

static int set(char *dst, size_t cap, const char *v, const char *key, struct err *e)
{
	if (strlen(v) >= cap)
		return err_set(e, "%s: longer than %zu bytes", key, cap - 1);
	snprintf(dst, cap, "%s", v);
	return 0;
}

/* log = ORIGIN VKEY (repeatable; the same origin again adds a key) */
static int add_log(struct witness_config *c, char *v, struct err *e)
{
	char *sp = strchr(v, ' ');
	if (sp == NULL)
		return err_set(e, "log: expected \"log = ORIGIN VKEY\"");
	*sp = '\0';
	char *vkey = sp + 1;
	while (*vkey == ' ')
		vkey++;
	if (note_name_problem(v, strlen(v)))
		return err_set(e, "log: origin \"%.64s\" %s", v, note_name_problem(v, strlen(v)));
	struct witness_log *l = (struct witness_log *)wconfig_log(c, v);
	if (l == NULL) {
		if (c->nlogs == WITNESS_MAX_LOGS)
			return err_set(e, "log: more than %d logs", WITNESS_MAX_LOGS);
		l = &c->logs[c->nlogs++];
		snprintf(l->origin, sizeof l->origin, "%s", v);
	}
	if (l->nkeys == WITNESS_MAX_LOG_KEYS)
		return err_set(e, "log %s: more than %d keys", v, WITNESS_MAX_LOG_KEYS);
	if (note_verifier_parse(vkey, strlen(vkey), &l->keys[l->nkeys], e))
		return err_prefix(e, "log %s", v);
	if (strcmp(l->keys[l->nkeys].name, v) != 0)
		return err_set(e, "log %s: the key is named \"%s\"; a Scope Ledger log's key is named after "
			       "its origin", v, l->keys[l->nkeys].name);
	l->nkeys++;
	return 0;
}

static int option(struct witness_config *c, const char *k, char *v, struct err *e)
{
	static const struct {
		const char *key;
		size_t off, cap;
	} PATHS[] = {
		{ "listen", offsetof(struct witness_config, listen), sizeof c->listen },
		{ "tls_cert", offsetof(struct witness_config, tls_cert), sizeof c->tls_cert },
		{ "tls_key", offsetof(struct witness_config, tls_key), sizeof c->tls_key },
		{ "data_dir", offsetof(struct witness_config, data_dir), sizeof c->data_dir },
		{ "name", offsetof(struct witness_config, name), sizeof c->name },
		{ "signing_key", offsetof(struct witness_config, signing_key), sizeof c->signing_key },
	};
	if (strcmp(k, "log") == 0)
		return add_log(c, v, e);
	for (size_t i = 0; i < sizeof PATHS / sizeof PATHS[0]; i++)
		if (strcmp(k, PATHS[i].key) == 0)
			return set((char *)c + PATHS[i].off, PATHS[i].cap, v, k, e);
	return err_set(e, "unknown option \"%s\" (see scoped witness --help)", k);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int wconfig_load(struct witness_config *c, const char *path, struct err *e)
{
	struct buf b;
	memset(c, 0, sizeof *c);
	snprintf(c->path, sizeof c->path, "%s", path);
	buf_init(&b);
	if (read_file(path, 1 << 20, &b, e)) {
		buf_free(&b);
		return -1;
	}
	char *s = (char *)buf_cstr(&b), *line, *save = NULL;
	int lineno = 0, rc = 0;
	for (line = strtok_r(s, "\n", &save); line && rc == 0; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *l = trim(line);
		if (*l == '\0' || *l == '#')
			continue;
		char *eq = strchr(l, '=');
		if (eq == NULL) {
			rc = err_set(e, "%s: a line is not \"key = value\": %.64s", path, l);
			break;
		}
		*eq = '\0';
		if (option(c, trim(l), trim(eq + 1), e))
			rc = err_prefix(e, "%s", path);
	}
	buf_free(&b);
	if (rc)
		return -1;
	static const char *const NEEDED[] = { "listen", "tls_cert", "tls_key", "data_dir", "name", "signing_key" };
	const char *vals[] = { c->listen, c->tls_cert, c->tls_key, c->data_dir, c->name, c->signing_key };
	for (size_t i = 0; i < sizeof NEEDED / sizeof NEEDED[0]; i++)
		if (vals[i][0] == '\0')
			return err_set(e, "%s: %s is not set (see scoped witness --help)", path, NEEDED[i]);
	if (note_name_problem(c->name, strlen(c->name)))
		return err_set(e, "%s: name \"%.64s\" %s", path, c->name, note_name_problem(c->name, strlen(c->name)));
	if (c->nlogs == 0)
		return err_set(e, "%s: no log: add \"log = ORIGIN VKEY\" for each log to witness", path);
	return 0;
}

const struct witness_log *wconfig_log(const struct witness_config *c, const char *origin)
{
	for (size_t i = 0; i < c->nlogs; i++)
		if (strcmp(c->logs[i].origin, origin) == 0)
			return &c->logs[i];
	return NULL;
}

int wconfig_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' },
		{ "log", required_argument, NULL, 'g' },
		{ 0, 0, 0, 0 },
	};
	const char *name = NULL, *listen = "127.0.0.1:8480";
	const char *logs[WITNESS_MAX_LOGS];
	size_t nlogs = 0;
	int ch;
	struct err e = { 0 };
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'n')
			name = optarg;
		else if (ch == 'l')
			listen = optarg;
		else if (ch == 'g' && nlogs < WITNESS_MAX_LOGS)
			logs[nlogs++] = optarg;
		else {
			fprintf(stderr, "usage: scoped witness init DIR --name NAME [--listen HOST:PORT] [--log VKEY]...\n");
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || name == NULL || note_name_problem(name, strlen(name))) {
		fprintf(stderr, "scoped witness init: give DIR and --name NAME (a key name: no spaces, no '+'; "
			"e.g. witness.example.org/w1)\n");
		return EXIT_USAGE;
	}
	char dir[PATH_MAX], p[PATH_MAX + 32], p2[PATH_MAX + 32], ca[PATH_MAX + 32], cak[PATH_MAX + 32];
	if (mkdir(argv[optind], 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "scoped witness init: %s: %s\n", argv[optind], strerror(errno));
		return EXIT_ERROR;
	}
	if (realpath(argv[optind], dir) == NULL) {
		fprintf(stderr, "scoped witness init: %s: %s\n", argv[optind], strerror(errno));
		return EXIT_ERROR;
	}
	snprintf(p, sizeof p, "%s/witness.conf", dir);
	struct stat st;
	if (stat(p, &st) == 0) {
		fprintf(stderr, "scoped witness init: %s exists: not overwriting it\n", p);
		return EXIT_USAGE;
	}
	snprintf(ca, sizeof ca, "%s/ca.crt", dir);
	snprintf(cak, sizeof cak, "%s/ca.key", dir);
	snprintf(p, sizeof p, "%s/witness.crt", dir);
	snprintf(p2, sizeof p2, "%s/witness.tlskey", dir);
	if (pki_make_ca(ca, cak, "Scope Ledger witness CA", 3650, &e) ||
	    pki_issue(ca, cak, p, p2, "localhost", true, "DNS:localhost,IP:127.0.0.1,IP:::1", 825, &e)) {
		fprintf(stderr, "scoped witness init: %s\n", e.msg);
		return EXIT_ERROR;
	}
	snprintf(p, sizeof p, "%s/witness.key", dir);
	struct note_signer ns;
	struct cosig_signer cs;
	if (signer_generate(p, &e) || signer_load(&ns, p, name, &e)) {
		fprintf(stderr, "scoped witness init: %s\n", e.msg);
		return EXIT_ERROR;
	}
	cosig_signer_adopt(&cs, &ns);
	struct cosig_verifier v;
	cosig_signer_verifier(&cs, &v);
	cosig_signer_free(&cs);
	struct buf conf;
	buf_init(&conf);
	buf_printf(&conf,
		   "# scoped witness configuration (scoped witness --help)\n"
		   "listen = %s\n"
		   "tls_cert = %s/witness.crt\n"
		   "tls_key = %s/witness.tlskey\n"
		   "data_dir = %s/data\n"
		   "name = %s\n"
		   "signing_key = %s/witness.key\n"
		   "# one line per log to witness: log = ORIGIN VKEY\n",
		   listen, dir, dir, dir, name, dir);
	for (size_t i = 0; i < nlogs; i++) {
		struct note_verifier lv;
		if (note_verifier_parse(logs[i], strlen(logs[i]), &lv, &e)) {
			fprintf(stderr, "scoped witness init: --log %s\n", e.msg);
			buf_free(&conf);
			return EXIT_USAGE;
		}
		buf_printf(&conf, "log = %s %s\n", lv.name, logs[i]);
	}
	snprintf(p, sizeof p, "%s/witness.conf", dir);
	int rc = write_file_atomic(p, conf.data, conf.len, 0600, &e);
	buf_free(&conf);
	if (rc) {
		fprintf(stderr, "scoped witness init: %s\n", e.msg);
		return EXIT_ERROR;
	}
	struct buf out;
	buf_init(&out);
	cosig_verifier_format(&v, &out);
	printf("%s\n", buf_cstr(&out));
	fprintf(stderr, "witness %s: configuration %s, CA certificate %s/ca.crt\n", name, p, dir);
	buf_free(&out);
	return EXIT_OK;
}
