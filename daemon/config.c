#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cosig.h"
#include "note.h"

enum opt_type { OPT_STR, OPT_PATH, OPT_U64, OPT_WITNESS };

struct opt {
	const char *name;
	enum opt_type type;
	size_t offset;
	size_t size;		/* for strings */
	uint64_t min, max;	/* for numbers */
	const char *def;
	const char *help;
};

#define STR(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)

static const struct opt OPTS[] = {
	{ "origin", OPT_STR, STR(origin), 0, 0, "",
	  "log origin: names the log in every checkpoint and the signing key (e.g. ledger.example.com/acme); "
	  "1 to 255 bytes, no spaces or '+'" },
	{ "data_dir", OPT_PATH, STR(data_dir), 0, 0, "data",
	  "directory holding the LMDB files and the write lock" },
	{ "signing_key", OPT_PATH, STR(signing_key), 0, 0, "keys/signing.key",
	  "Ed25519 private key (PEM, mode 0600) that signs checkpoints" },
	{ "signing_key_next", OPT_PATH, STR(signing_key_next), 0, 0, "",
	  "during a key rotation, the new Ed25519 key: it signs every checkpoint too, and the change is "
	  "recorded in the ledger (scoped(8), KEY ROTATION); empty for none" },
	{ "map_initial_mib", OPT_U64, offsetof(struct config, map_initial_mib), 0, 1, 1u << 20, "64",
	  "initial LMDB map size in MiB; it doubles on demand" },
	{ "map_max_mib", OPT_U64, offsetof(struct config, map_max_mib), 0, 1, 1u << 30, "1048576",
	  "largest LMDB map size in MiB; appends fail cleanly beyond it" },
	{ "listen", OPT_STR, STR(listen), 0, 0, "127.0.0.1:7443",
	  "address and port to accept TLS connections on (HOST:PORT, [IPv6]:PORT)" },
	{ "tls_cert", OPT_PATH, STR(tls_cert), 0, 0, "tls/server.crt",
	  "server certificate chain (PEM)" },
	{ "tls_key", OPT_PATH, STR(tls_key), 0, 0, "tls/server.key",
	  "server private key (PEM, mode 0600)" },
	{ "tls_ca", OPT_PATH, STR(tls_ca), 0, 0, "tls/ca.crt",
	  "CA certificates that sign client certificates (PEM); clients without one are refused" },
	{ "tls_crl", OPT_PATH, STR(tls_crl), 0, 0, "",
	  "certificate revocation lists (PEM); empty for none; reloaded on SIGHUP" },
	{ "tls_min_version", OPT_STR, STR(tls_min_version), 0, 0, "1.3",
	  "lowest TLS version accepted: 1.3, or 1.2 for older clients" },
	{ "roles", OPT_PATH, STR(roles), 0, 0, "roles.conf",
	  "role file mapping identities to roles and projects; reloaded on SIGHUP" },
	{ "max_frame", OPT_U64, offsetof(struct config, max_frame), 0, 300000, 64u << 20, "1048576",
	  "largest request or response frame in bytes (at least 300000, so the largest entry fits)" },
	{ "max_connections", OPT_U64, offsetof(struct config, max_connections), 0, 1, 100000, "1024",
	  "authenticated connections (TLS handshake done) served at once; a handshake that completes "
	  "beyond this is closed; connections still in the handshake do not count (max_handshakes)" },
	{ "max_handshakes", OPT_U64, offsetof(struct config, max_handshakes), 0, 1, 10000, "512",
	  "connections still in the TLS handshake, held apart from max_connections; when this many are "
	  "under way the oldest of the address holding the most is dropped to admit a new one, so a "
	  "flood of unauthenticated connections displaces itself, not a client with a certificate" },
	{ "max_handshakes_per_address", OPT_U64, offsetof(struct config, max_handshakes_per_address), 0, 1,
	  10000, "32",
	  "handshakes under way from one source address (an IPv4 address, or an IPv6 /64); beyond this "
	  "that address's oldest is dropped to admit its new one" },
	{ "handshake_timeout_s", OPT_U64, offsetof(struct config, handshake_timeout_s), 0, 1, 600, "10",
	  "seconds from accept in which a client must complete the TLS handshake, however it spends "
	  "them (a deadline, not an idle timeout)" },
	{ "idle_timeout_s", OPT_U64, offsetof(struct config, idle_timeout_s), 0, 1, 86400, "300",
	  "seconds a connection may stay silent (or not read replies) before it is closed" },
	{ "log_level", OPT_STR, STR(log_level), 0, 0, "info",
	  "error, warn, info or debug" },
	{ "acceptance_check_s", OPT_U64, offsetof(struct config, acceptance_check_s), 0, 1, 86400, "60",
	  "seconds between checks for inspection deadlines that have passed with no outcome (each such "
	  "delivery is recorded as deemed passed, author scoped); also checked at startup; reloaded on SIGHUP" },
	{ "tsa_url", OPT_STR, STR(tsa_url), 0, 0, "",
	  "RFC 3161 time-stamping authority (http:// or https:// URL): the checkpoints are anchored there and "
	  "each token is recorded as an anchor entry, author scoped (proto/FORMAT.md); empty: no anchoring" },
	{ "tsa_ca", OPT_PATH, STR(tsa_ca), 0, 0, "",
	  "CA certificates (PEM) of the time-stamping authority: each reply's signer chain must end in one, "
	  "and so must the server's certificate of an https tsa_url; required with tsa_url" },
	{ "anchor_interval_s", OPT_U64, offsetof(struct config, anchor_interval_s), 0, 1, 86400, "600",
	  "seconds between anchors at most (only when the tree grew since the last); also the cap of the "
	  "back-off when the TSA fails; reloaded on SIGHUP" },
	{ "max_evidence_mib", OPT_U64, offsetof(struct config, max_evidence_mib), 0, 1, 1u << 20, "32",
	  "largest evidence file in MiB that may be uploaded (scopectl evidence add, --upload); files are "
	  "stored under data_dir/files; reloaded on SIGHUP" },
	{ "portal_url", OPT_STR, STR(portal_url), 0, 0, "",
	  "the public base URL of the portal printed in links (scopectl link create prints "
	  "PORTAL_URL/l/TOKEN; https://, e.g. the reverse proxy's public name); reported in info as portal_url; "
	  "empty: https:// and portal_listen's address; a form is accepted only from its origin" },
	{ "portal_listen", OPT_STR, STR(portal_listen), 0, 0, "",
	  "address and port of the client portal (HTTPS with a server certificate only, for the links of "
	  "scopectl link create: HOST:PORT, [IPv6]:PORT); empty: no portal" },
	{ "portal_cert", OPT_PATH, STR(portal_cert), 0, 0, "",
	  "the portal's certificate chain (PEM); empty: tls_cert" },
	{ "portal_key", OPT_PATH, STR(portal_key), 0, 0, "",
	  "the portal's private key (PEM, mode 0600); empty: tls_key" },
	{ "portal_proxy", OPT_STR, STR(portal_proxy), 0, 0, "",
	  "the numeric address of a reverse proxy in front of the portal: for a request from it the last "
	  "address of X-Forwarded-For is taken as the browser's (recorded and rate-limited); empty: none" },
	{ "portal_rate_per_min", OPT_U64, offsetof(struct config, portal_rate_per_min), 0, 1, 100000, "60",
	  "requests per minute the portal serves to one address (an IPv4 address, or an IPv6 /64); beyond "
	  "it 429; reloaded on SIGHUP" },
	{ "portal_max_body", OPT_U64, offsetof(struct config, portal_max_body), 0, 1024, 1u << 20, "16384",
	  "largest request body in bytes the portal reads (an answer's form); beyond it 413" },
	{ "tiles_listen", OPT_STR, STR(tiles_listen), 0, 0, "",
	  "address and port of the C2SP tlog-tiles listener (HTTPS: checkpoint, hash tiles, entry bundles; "
	  "proto/PROTOCOL.md, \"Tiles\"; HOST:PORT, [IPv6]:PORT); empty: no tiles" },
	{ "tiles_public", OPT_STR, STR(tiles_public), 0, 0, "no",
	  "yes: the checkpoint and the hash tiles are served without a client certificate; no: every tiles "
	  "request needs a client certificate of the auditor or admin role on all projects (entry bundles "
	  "always do)" },
	{ "tiles_rate_per_min", OPT_U64, offsetof(struct config, tiles_rate_per_min), 0, 1, 10000000, "60000",
	  "requests per minute the tiles listener serves to one address (an IPv4 address, or an IPv6 /64); "
	  "beyond it 429; reloaded on SIGHUP" },
	{ "follow_trust", OPT_STR, STR(follow_trust), 0, 0, "",
	  "scoped follow only: the primary's verifier key (scoped checkpoint shows it; name+hash+key); every "
	  "checkpoint followed must verify with it" },
	{ "follow_cert", OPT_PATH, STR(follow_cert), 0, 0, "",
	  "scoped follow only: the client certificate (PEM) the follower presents to the primary's tiles "
	  "listener: of a role that reads every project (auditor or admin)" },
	{ "follow_key", OPT_PATH, STR(follow_key), 0, 0, "", "scoped follow only: follow_cert's private key" },
	{ "follow_ca", OPT_PATH, STR(follow_ca), 0, 0, "",
	  "scoped follow only: the CA (PEM) that signed the primary's tiles certificate" },
	{ "follow_interval_s", OPT_U64, offsetof(struct config, follow_interval_s), 0, 1, 86400, "10",
	  "scoped follow only: seconds between two fetches of the primary's checkpoint" },
	{ "witness", OPT_WITNESS, 0, 0, 0, 0, "",
	  "a witness that cosigns the log's checkpoints (C2SP tlog-witness): NAME VKEY URL, its name, its "
	  "cosignature/v1 verifier key (NAME+ID+KEY, Ed25519 only) and its submission prefix (https://, "
	  "checked against witness_ca, or http:// on loopback); repeat the line for each witness (at most 32); "
	  "a follower (scoped follow) checks the cosignature lines it fetches with these keys and serves a "
	  "checkpoint as cosigned once they meet the quorum" },
	{ "witness_quorum", OPT_U64, offsetof(struct config, witness_quorum), 0, 0, CONFIG_MAX_WITNESSES, "0",
	  "how many witnesses must cosign a checkpoint before it is served as cosigned (checkpoint with "
	  "cosigned: true); 0: every configured witness; it should be more than half of the witness lines "
	  "(the majority rule, SECURITY.md): else two disjoint sets of witnesses could each cosign a different "
	  "history, and scoped warns at startup, on SIGHUP and in scoped config; witness, witness_quorum and "
	  "witness_ca take effect on restart (a change on SIGHUP is logged)" },
	{ "witness_policy", OPT_PATH, STR(witness_policy), 0, 0, "",
	  "a C2SP tlog-policy file naming the witnesses and the quorum instead of witness and witness_quorum "
	  "lines: its witness lines (NAME VKEY URL, each with its submission URL) are the witnesses, its group "
	  "and quorum lines decide when a checkpoint is cosigned, and its log lines, if any, must list this log's "
	  "key; takes effect on restart" },
	{ "witness_ca", OPT_PATH, STR(witness_ca), 0, 0, "",
	  "CA certificates (PEM) that the https witnesses' server certificates must chain to; required "
	  "with an https witness" },
	{ "witness_interval_s", OPT_U64, offsetof(struct config, witness_interval_s), 0, 1, 86400, "10",
	  "seconds between rounds of submissions to the witnesses at least: a commit that grows the log "
	  "starts one at once if the last is this old, else when it will be; a witness that is behind is "
	  "tried again this often (a failing one backs off up to 8 times this); takes effect on restart" },
};

/* witness = NAME VKEY URL */
static int set_witness(struct config *c, const char *value, struct err *e)
{
	if (value[0] == '\0')
		return 0;	/* the default: none */
	if (c->nwitnesses == CONFIG_MAX_WITNESSES)
		return err_set(e, "witness: more than %d witnesses", CONFIG_MAX_WITNESSES);
	struct config_witness *w = &c->witnesses[c->nwitnesses];
	/* vkey: room for a key of another type (an ML-DSA-44 one is some 1760
	 * bytes), so that the error names what it is */
	char name[sizeof w->name + 1], vkey[4096], url[sizeof w->url + 1], rest[2];
	int n = sscanf(value, "%256s %4095s %1024s %1s", name, vkey, url, rest);
	if (n != 3)
		return err_set(e, "witness: expected NAME VKEY URL (got \"%.200s\")", value);
	struct cosig_verifier k;
	if (cosig_verifier_parse(vkey, strlen(vkey), &k, e))
		return err_prefix(e, "witness %.100s", name);
	if (strlen(vkey) >= sizeof w->vkey)
		return err_set(e, "witness %.100s: the verifier key is longer than %zu bytes", name, sizeof w->vkey - 1);
	if (strcmp(k.name, name) != 0)
		return err_set(e, "witness %.100s: its key is named \"%s\", not \"%.100s\"", name, k.name, name);
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
		return err_set(e, "witness %.100s: the URL must begin with https:// (or http:// on loopback)", name);
	if (strlen(url) >= sizeof w->url)
		return err_set(e, "witness %.100s: the URL is longer than %zu bytes", name, sizeof w->url - 1);
	for (size_t i = 0; i < c->nwitnesses; i++) {
		struct cosig_verifier o;
		if (strcmp(c->witnesses[i].name, name) == 0)
			return err_set(e, "witness %.100s: configured twice", name);
		/* a cosignature/v1 signature does not cover the key's name: one key
		 * under two names would count twice towards the quorum */
		if (cosig_verifier_parse(c->witnesses[i].vkey, strlen(c->witnesses[i].vkey), &o, e) == 0 &&
		    memcmp(o.pub, k.pub, sizeof k.pub) == 0)
			return err_set(e, "witness %.100s: its public key is witness %s's: one key counts once towards "
				       "the quorum; give each witness its own key", name, c->witnesses[i].name);
	}
	strcpy(w->name, name);
	strcpy(w->vkey, vkey);
	strcpy(w->url, url);
	c->nwitnesses++;
	return 0;
}

/* witness_policy: its witnesses become witness lines (each checked as one). */
static int load_policy(struct config *c, struct err *e)
{
	if (c->nwitnesses || c->witness_quorum)
		return err_set(e, "witness_policy names the witnesses and the quorum: give it instead of witness and "
			       "witness_quorum lines, not with them");
	if (policy_load(c->witness_policy, &c->policy, e))
		return err_prefix(e, "witness_policy");
	for (size_t i = 0; i < c->policy.nwitnesses; i++) {
		const struct policy_witness *pw = &c->policy.witness[i];
		char line[NOTE_NAME_MAX + NOTE_VKEY_MAX + POLICY_URL_MAX + 4];
		struct buf vk;
		if (pw->url[0] == '\0')
			return err_set(e, "witness_policy %s: witness %s has no URL: give its submission prefix after its "
				       "key (witness NAME VKEY URL)", c->witness_policy, pw->name);
		buf_init(&vk);
		cosig_verifier_format(&pw->key, &vk);
		snprintf(line, sizeof line, "%s %s %s", pw->key.name, buf_cstr(&vk), pw->url);
		buf_free(&vk);
		if (set_witness(c, line, e))
			return err_prefix(e, "witness_policy %s (witness %s)", c->witness_policy, pw->name);
	}
	c->has_policy = true;
	return 0;
}

static const struct opt *find(const char *name)
{
	for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
		if (strcmp(OPTS[i].name, name) == 0)
			return &OPTS[i];
	return NULL;
}

int config_set(struct config *c, const char *name, const char *value, const char *base_dir,
	       struct err *e)
{
	const struct opt *o = find(name);
	if (o == NULL)
		return err_set(e, "unknown option \"%s\"", name);
	char *dst = (char *)c + o->offset;
	switch (o->type) {
	case OPT_STR:
		if (strlen(value) >= o->size)
			return err_set(e, "%s: value too long (at most %zu bytes)", name, o->size - 1);
		strcpy(dst, value);
		return 0;
	case OPT_PATH: {
		int n;
		if (value[0] == '/' || value[0] == '\0' || base_dir == NULL || base_dir[0] == '\0')
			n = snprintf(dst, o->size, "%s", value);
		else
			n = snprintf(dst, o->size, "%s/%s", base_dir, value);
		if (n < 0 || (size_t)n >= o->size)
			return err_set(e, "%s: path too long", name);
		return 0;
	}
	case OPT_WITNESS:
		return set_witness(c, value, e);
	case OPT_U64: {
		char *end;
		errno = 0;
		if (!isdigit((unsigned char)value[0]))
			return err_set(e, "%s: \"%s\" is not a number", name, value);
		unsigned long long v = strtoull(value, &end, 10);
		if (errno || *end)
			return err_set(e, "%s: \"%s\" is not a number", name, value);
		if (v < o->min || v > o->max)
			return err_set(e, "%s: %llu is outside %llu..%llu", name, v,
				       (unsigned long long)o->min, (unsigned long long)o->max);
		*(uint64_t *)(void *)dst = v;
		return 0;
	}
	}
	return -1;
}

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
		config_set(c, OPTS[i].name, OPTS[i].def, NULL, NULL);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

int config_load(struct config *c, const char *path, struct err *e)
{
	char base[CONFIG_PATH_MAX];
	snprintf(base, sizeof base, "%s", path);
	char *slash = strrchr(base, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(base, ".");
	/* defaults for paths are relative to the file too */
	for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++)
		if (OPTS[i].type == OPT_PATH)
			config_set(c, OPTS[i].name, OPTS[i].def, base, NULL);

	FILE *f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, "configuration %s: %s", path, strerror(errno));
	char line[8192];
	unsigned lineno = 0;
	int rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = err_set(e, "%s:%u: line too long", path, lineno);
			break;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (eq == NULL) {
			rc = err_set(e, "%s:%u: expected \"name = value\"", path, lineno);
			break;
		}
		*eq = '\0';
		char *name = trim(s), *value = trim(eq + 1);
		if (config_set(c, name, value, base, e)) {
			rc = err_prefix(e, "%s:%u", path, lineno);
			break;
		}
	}
	if (rc == 0 && ferror(f))
		rc = err_set(e, "configuration %s: read error", path);
	fclose(f);
	if (rc == 0 && c->witness_policy[0] && load_policy(c, e))
		rc = err_prefix(e, "configuration %s", path);
	return rc;
}

int config_check_origin(const char *origin, struct err *e)
{
	const char *why = note_name_problem(origin, strlen(origin));
	if (why)
		return err_set(e, "origin \"%s\" %s: it must be 1 to %d bytes of UTF-8 without spaces "
			       "or '+' (e.g. ledger.example.com/acme)", origin, why, NOTE_NAME_MAX);
	return 0;
}

int config_validate(const struct config *c, struct err *e)
{
	if (config_check_origin(c->origin, e))
		return -1;
	if (strcmp(c->tls_min_version, "1.2") != 0 && strcmp(c->tls_min_version, "1.3") != 0)
		return err_set(e, "tls_min_version must be 1.2 or 1.3");
	if (strcmp(c->log_level, "error") && strcmp(c->log_level, "warn") &&
	    strcmp(c->log_level, "info") && strcmp(c->log_level, "debug"))
		return err_set(e, "log_level must be error, warn, info or debug");
	if (strrchr(c->listen, ':') == NULL)
		return err_set(e, "listen must be HOST:PORT");
	if (c->portal_url[0] && strncmp(c->portal_url, "https://", 8) != 0)
		return err_set(e, "portal_url must begin with https:// (got \"%s\"): browsers keep the portal's "
			       "cookie only over HTTPS", c->portal_url);
	if (c->portal_listen[0] && strrchr(c->portal_listen, ':') == NULL)
		return err_set(e, "portal_listen must be HOST:PORT (or empty: no portal)");
	if (c->tiles_listen[0] && strrchr(c->tiles_listen, ':') == NULL)
		return err_set(e, "tiles_listen must be HOST:PORT (or empty: no tiles)");
	if (strcmp(c->tiles_public, "yes") != 0 && strcmp(c->tiles_public, "no") != 0)
		return err_set(e, "tiles_public must be yes or no (got \"%s\")", c->tiles_public);
	if (c->map_initial_mib > c->map_max_mib)
		return err_set(e, "map_initial_mib (%llu) is larger than map_max_mib (%llu)",
			       (unsigned long long)c->map_initial_mib,
			       (unsigned long long)c->map_max_mib);
	if (c->tsa_url[0] && strncmp(c->tsa_url, "http://", 7) != 0 && strncmp(c->tsa_url, "https://", 8) != 0)
		return err_set(e, "tsa_url must begin with http:// or https:// (got \"%s\")", c->tsa_url);
	if (c->tsa_url[0] && c->tsa_ca[0] == '\0')
		return err_set(e, "tsa_url needs tsa_ca: the PEM file of the time-stamping authority's CA");
	if (c->witness_quorum > c->nwitnesses)
		return err_set(e, "witness_quorum is %llu but only %zu witnesses are configured",
			       (unsigned long long)c->witness_quorum, c->nwitnesses);
	for (size_t i = 0; i < c->nwitnesses; i++)
		if (strncmp(c->witnesses[i].url, "https://", 8) == 0 && c->witness_ca[0] == '\0')
			return err_set(e, "witness %s has an https URL: set witness_ca to the PEM file of its CA",
				       c->witnesses[i].name);
	return 0;
}

bool config_quorum_met(const struct config *c, const char *note, size_t n, size_t count)
{
	if (c->has_policy)
		return policy_check(&c->policy, note, n, NULL) == 0;
	return count >= (c->witness_quorum ? (size_t)c->witness_quorum : c->nwitnesses);
}

bool config_quorum_minority(const struct config *c, char *out, size_t n)
{
	char why[400];
	if (c->has_policy) {
		if (c->policy.quorum == POLICY_NONE || !policy_split_possible(&c->policy))
			return false;
		snprintf(out, n, "witness_policy: two disjoint sets of its witnesses could each meet its quorum %s, so "
			 "the log could show two histories each cosigned as it requires (the majority rule, SECURITY.md)",
			 policy_quorum_name(&c->policy));
		return true;
	}
	if (!cosig_quorum_is_minority((size_t)c->witness_quorum, c->nwitnesses, why, sizeof why))
		return false;
	snprintf(out, n, "witness_quorum: %s", why);
	return true;
}

bool config_witnesses_differ(const struct config *a, const struct config *b)
{
	if (a->nwitnesses != b->nwitnesses || a->witness_quorum != b->witness_quorum ||
	    a->witness_interval_s != b->witness_interval_s || strcmp(a->witness_ca, b->witness_ca) != 0 ||
	    strcmp(a->witness_policy, b->witness_policy) != 0 || a->has_policy != b->has_policy ||
	    (a->has_policy && memcmp(&a->policy, &b->policy, sizeof a->policy) != 0))
		return true;
	for (size_t i = 0; i < a->nwitnesses; i++)
		if (strcmp(a->witnesses[i].name, b->witnesses[i].name) || strcmp(a->witnesses[i].vkey, b->witnesses[i].vkey) ||
		    strcmp(a->witnesses[i].url, b->witnesses[i].url))
			return true;
	return false;
}

static void roff_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void config_roff(FILE *f)
{
	for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
		const struct opt *o = &OPTS[i];
		fprintf(f, ".TP\n.B ");
		roff_text(f, o->name);
		fputs("\n", f);
		roff_text(f, o->help);
		fputs(".\n", f);
		if (o->type == OPT_U64)
			fprintf(f, "A whole number from %llu to %llu. ", (unsigned long long)o->min,
				(unsigned long long)o->max);
		else if (o->type == OPT_PATH)
			fputs("A path, relative to the configuration file's directory unless absolute. ", f);
		fputs("Default: ", f);
		if (o->def[0]) {
			fputs("\\fB", f);
			roff_text(f, o->def);
			fputs("\\fR", f);
		} else {
			fputs("none", f);
		}
		fputs(".\n", f);
	}
}

void config_print(const struct config *c, FILE *f)
{
	for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
		const struct opt *o = &OPTS[i];
		const char *p = (const char *)c + o->offset;
		fprintf(f, "# %s (default: %s)\n", o->help, o->def[0] ? o->def : "none");
		if (o->type == OPT_WITNESS && c->has_policy) {
			fprintf(f, "# (the witnesses are witness_policy's)\n\n");
		} else if (o->type == OPT_WITNESS) {
			for (size_t w = 0; w < c->nwitnesses; w++)
				fprintf(f, "witness = %s %s %s\n", c->witnesses[w].name, c->witnesses[w].vkey,
					c->witnesses[w].url);
			fprintf(f, "%s", c->nwitnesses ? "\n" : "# witness = NAME VKEY URL\n\n");
		} else if (o->type == OPT_U64)
			fprintf(f, "%s = %llu\n\n", o->name,
				(unsigned long long)*(const uint64_t *)(const void *)p);
		else
			fprintf(f, "%s = %s\n\n", o->name, p);
	}
}
