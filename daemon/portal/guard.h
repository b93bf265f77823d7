/*
 * guard: what every portal request passes before a page is made
 * (PROTOCOL.md, "The portal"): the strict response headers, the browser's
 * address (the peer, or X-Forwarded-For's last hop from portal_proxy), a
 * per-address rate limit in a table of fixed size, the CSRF cookie and
 * field, and the counters that `info` reports.  No event loop, no
 * allocation: the table is sized once, and when the slots an address may
 * use all hold others seen this minute, a new one takes the least counted.
 */
#ifndef SCOPE_PORTAL_GUARD_H
#define SCOPE_PORTAL_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Why the portal refused a request (the names are info's). */
enum portal_refusal {
	PREF_RATE,		/* 429: portal_rate_per_min passed */
	PREF_CSRF,		/* 403: no cookie, or the form's csrf does not match it */
	PREF_ORIGIN,		/* 403: an Origin that is not the portal's own */
	PREF_TOKEN,		/* 404: not a token, or no link has it */
	PREF_SIZE,		/* 413/400: a body or form past its bounds, or malformed */
	PREF_METHOD,		/* 405 */
	PREF_CHANGED,		/* 409: the page changed since it was shown */
	PREF_CONNECTIONS,	/* the busiest address's oldest connection ended for a new one (portal.h) */
	PREF_GONE,		/* 410: a revoked link, or an expired project link */
	PREF_ADDRESS_LIMIT,	/* an address's oldest connection ended past PORTAL_PER_ADDRESS */
	PREF_DEADLINE,		/* a connection ended: no whole request within PORTAL_TIMEOUT_S */
	PREF_COUNT
};
const char *portal_refusal_name(enum portal_refusal r);

struct portal_stats {
	uint64_t requests, answers;
	uint64_t refused[PREF_COUNT];
};

/* The per-address rate table: a minute's count per address (an IPv4
 * address or an IPv6 /64), open addressing over RATE_SLOTS, probing at
 * most RATE_PROBE slots. */
#define RATE_SLOTS 4096
#define RATE_PROBE 32
struct rate_slot {
	uint8_t key[9];		/* family byte, then 4 or 8 address bytes */
	uint64_t minute;	/* the minute counted; older: free */
	uint32_t count;
};
struct rate_table {
	uint64_t seed;
	struct rate_slot slot[RATE_SLOTS];
};
void rate_init(struct rate_table *t, uint64_t seed);
/* One request from address (numeric text) at now_us: false when it passes
 * per_min this minute (or is not numeric). */
bool rate_allow(struct rate_table *t, const char *address, uint64_t now_us, uint64_t per_min);

/* The browser's address into out: the peer, or, when the peer is proxy
 * (not empty), the last address of xff (X-Forwarded-For) when that is a
 * numeric address.  The result is numeric text, at most 63 bytes. */
void guard_address(const char *peer, const char *proxy, const char *xff, char out[64]);
/* The address as recorded: an IPv4 peer of a dual-stack listener
 * (::ffff:a.b.c.d) as a.b.c.d, anything else as it is. */
void guard_canon(const char *address, char out[64]);

/* CSRF: the cookie (__Host-sl) is 43 base64url characters of randomness;
 * the form's field is HMAC-SHA256(secret, cookie || token_sha256) in
 * lowercase hex. */
#define GUARD_COOKIE "__Host-sl"
#define GUARD_COOKIE_LEN 43
void guard_new_cookie(char out[GUARD_COOKIE_LEN + 1]);
void guard_csrf(const uint8_t secret[32], const char *cookie, const uint8_t token_sha256[32], char out[65]);
/* The value of the cookie GUARD_COOKIE in a Cookie header, or false. */
bool guard_cookie(const char *header, char out[GUARD_COOKIE_LEN + 1]);
/* Whether both match, in constant time. */
bool guard_csrf_ok(const uint8_t secret[32], const char *cookie, const uint8_t token_sha256[32],
		   const char *field, size_t n);

/* A link's token: exactly 43 base64url characters. */
#define GUARD_TOKEN_LEN 43
bool guard_token_ok(const char *s, size_t n);

/* The strict headers every response carries, as name/value pairs ending
 * in NULL (Cache-Control: no-store unless cacheable). */
struct guard_header {
	const char *name, *value;
};
extern const struct guard_header GUARD_HEADERS[];
extern const struct guard_header GUARD_NO_STORE;

#endif
