#include "guard.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "enc.h"

const char *portal_refusal_name(enum portal_refusal r)
{
	static const char *const N[PREF_COUNT] = { "rate", "csrf", "origin", "token", "size", "method",
						   "changed_page", "connections", "gone",
						   "address_limit", "deadline" };
	return (unsigned)r < PREF_COUNT ? N[r] : "?";
}

const struct guard_header GUARD_HEADERS[] = {
	{ "Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
				     "frame-ancestors 'none'; base-uri 'self'" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "Strict-Transport-Security", "max-age=31536000" },
	{ "X-Content-Type-Options", "nosniff" },
	{ NULL, NULL },
};
const struct guard_header GUARD_NO_STORE = { "Cache-Control", "no-store" };

void rate_init(struct rate_table *t, uint64_t seed)
{
	memset(t, 0, sizeof *t);
	t->seed = seed | 1;
}

/* An IPv6 address that stands for an IPv4 one: ::ffff:a.b.c.d (an IPv4
 * peer of a dual-stack listener) or 64:ff9b::a.b.c.d (NAT64, RFC 6052). */
static bool v4_inside(const uint8_t a[16])
{
	static const uint8_t MAPPED[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t NAT64[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	return memcmp(a, MAPPED, 12) == 0 || memcmp(a, NAT64, 12) == 0;
}

/* family, then the IPv4 address or the IPv6 /64; false if not numeric.
 * An IPv4 address inside IPv6 counts as that IPv4 address: on a [::]
 * listener every IPv4 peer would otherwise share the /64 ::ffff:0:0. */
static bool rate_key(const char *address, uint8_t key[9])
{
	uint8_t a[16];
	memset(key, 0, 9);
	if (inet_pton(AF_INET, address, a) == 1) {
		key[0] = 4;
		memcpy(key + 1, a, 4);
		return true;
	}
	if (inet_pton(AF_INET6, address, a) == 1) {
		bool v4 = v4_inside(a);
		key[0] = v4 ? 4 : 6;
		memcpy(key + 1, v4 ? a + 12 : a, v4 ? 4 : 8);
		return true;
	}
	return false;
}

void guard_canon(const char *address, char out[64])
{
	uint8_t a[16];
	if (inet_pton(AF_INET6, address, a) == 1 && memcmp(a, (const uint8_t[12]){ [10] = 0xff, [11] = 0xff }, 12) == 0)
		inet_ntop(AF_INET, a + 12, out, 64);
	else
		snprintf(out, 64, "%s", address);
}

bool rate_allow(struct rate_table *t, const char *address, uint64_t now_us, uint64_t per_min)
{
	uint8_t key[9];
	if (!rate_key(address, key))
		return false;
	uint64_t minute = now_us / 60000000u + 1;	/* 0 marks a free slot */
	uint64_t h = t->seed;
	for (size_t i = 0; i < sizeof key; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	/* a new address takes a free slot, else the least counted one: a
	 * flood of addresses never locks out another, and the busiest stay */
	struct rate_slot *free_slot = NULL;
	for (size_t i = 0; i < RATE_PROBE; i++) {
		struct rate_slot *s = &t->slot[(h + i) % RATE_SLOTS];
		if (s->minute == minute && memcmp(s->key, key, sizeof key) == 0) {
			if (s->count >= per_min)
				return false;
			s->count++;
			return true;
		}
		if (free_slot == NULL ||
		    (free_slot->minute == minute && (s->minute != minute || s->count < free_slot->count)))
			free_slot = s;
	}
	memcpy(free_slot->key, key, sizeof key);
	free_slot->minute = minute;
	free_slot->count = 1;
	return per_min > 0;
}

static bool numeric(const char *s)
{
	uint8_t a[16];
	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

void guard_address(const char *peer, const char *proxy, const char *xff, char out[64])
{
	char p[64];
	guard_canon(peer, p);
	snprintf(out, 64, "%s", p);
	if (proxy[0] == '\0' || strcmp(p, proxy) != 0 || xff == NULL)
		return;
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	while (*last == ' ' || *last == '\t')
		last++;
	size_t n = strcspn(last, " \t");
	char cand[64];
	if (n == 0 || n >= sizeof cand)
		return;
	memcpy(cand, last, n);
	cand[n] = '\0';
	if (numeric(cand))
		memcpy(out, cand, n + 1);
}

static void b64url(const uint8_t *p, size_t n, char *out)
{
	static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | p[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = A[(acc >> bits) & 63];
		}
	}
	if (bits)
		out[o++] = A[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

void guard_new_cookie(char out[GUARD_COOKIE_LEN + 1])
{
	uint8_t r[32];
	if (RAND_bytes(r, sizeof r) != 1)
		memset(r, 0, sizeof r);	/* never: the DRBG is seeded at start (portal_start checks) */
	b64url(r, sizeof r, out);
	OPENSSL_cleanse(r, sizeof r);
}

void guard_csrf(const uint8_t secret[32], const char *cookie, const uint8_t token_sha256[32], char out[65])
{
	uint8_t msg[GUARD_COOKIE_LEN + 32], mac[32];
	unsigned len = sizeof mac;
	memcpy(msg, cookie, GUARD_COOKIE_LEN);
	memcpy(msg + GUARD_COOKIE_LEN, token_sha256, 32);
	if (HMAC(EVP_sha256(), secret, 32, msg, sizeof msg, mac, &len) == NULL)
		memset(mac, 0, sizeof mac);
	hex_encode(mac, sizeof mac, out);
}

bool guard_cookie(const char *header, char out[GUARD_COOKIE_LEN + 1])
{
	size_t kl = strlen(GUARD_COOKIE);
	for (const char *p = header; p && *p;) {
		while (*p == ' ' || *p == ';')
			p++;
		size_t n = strcspn(p, ";");
		if (n == kl + 1 + GUARD_COOKIE_LEN && strncmp(p, GUARD_COOKIE, kl) == 0 && p[kl] == '=' &&
		    guard_token_ok(p + kl + 1, GUARD_COOKIE_LEN)) {
			memcpy(out, p + kl + 1, GUARD_COOKIE_LEN);
			out[GUARD_COOKIE_LEN] = '\0';
			return true;
		}
		p += n;
	}
	return false;
}

bool guard_csrf_ok(const uint8_t secret[32], const char *cookie, const uint8_t token_sha256[32],
		   const char *field, size_t n)
{
	char want[65];
	guard_csrf(secret, cookie, token_sha256, want);
	return n == 64 && CRYPTO_memcmp(want, field, 64) == 0;
}

bool guard_token_ok(const char *s, size_t n)
{
	if (n != GUARD_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_'))
			return false;
	}
	return true;
}
