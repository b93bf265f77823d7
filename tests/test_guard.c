/*
 * test_guard: the portal's guard (daemon/portal/guard.c): tokens, the
 * per-address rate table and its bound, the browser's address behind a
 * proxy, and the CSRF cookie and field.
 */
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "tap.h"

#define TOK "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_Q"

int main(void)
{
	ok(strlen(TOK) == 43 && guard_token_ok(TOK, 43), "a 43-character base64url token is a token");
	ok(!guard_token_ok(TOK, 42), "42 characters are not");
	char t[45];
	snprintf(t, sizeof t, "%sx", TOK);
	ok(!guard_token_ok(t, 44), "44 characters are not");
	memcpy(t, TOK, 44);
	t[5] = '+';
	ok(!guard_token_ok(t, 43), "a '+' (base64, not base64url) is not");
	t[5] = '%';
	ok(!guard_token_ok(t, 43), "a '%%' is not");

	static struct rate_table rt;
	rate_init(&rt, 12345);
	uint64_t now = 1700000000ull * 1000000u;
	int passed = 0;
	for (int i = 0; i < 5; i++)
		passed += rate_allow(&rt, "192.0.2.1", now, 3);
	is_int(passed, 3, "three requests a minute pass, the rest is refused");
	ok(rate_allow(&rt, "192.0.2.2", now, 3), "another address has its own count");
	ok(rate_allow(&rt, "192.0.2.1", now + 60000000u, 3), "the next minute counts again");
	ok(rate_allow(&rt, "2001:db8::1", now, 1) && !rate_allow(&rt, "2001:db8::ffff", now, 1),
	   "an IPv6 /64 is one address");
	ok(!rate_allow(&rt, "not-an-address", now, 3), "a name that is not an address is refused");
	/* a [::] listener sees IPv4 peers as ::ffff:a.b.c.d: each is its own address */
	ok(rate_allow(&rt, "::ffff:192.0.2.10", now, 1) && !rate_allow(&rt, "::ffff:192.0.2.10", now, 1),
	   "an IPv4-mapped address is counted");
	ok(rate_allow(&rt, "::ffff:192.0.2.11", now, 1), "another IPv4-mapped address has its own count");
	ok(!rate_allow(&rt, "192.0.2.10", now, 1), "and it is the same address as its IPv4 form");
	ok(rate_allow(&rt, "64:ff9b::192.0.2.12", now, 1) && rate_allow(&rt, "64:ff9b::192.0.2.13", now, 1),
	   "NAT64 addresses count as the IPv4 ones they carry");
	rate_init(&rt, 99);
	int refused = 0;
	char a[64];
	for (int i = 0; i < 3; i++)
		rate_allow(&rt, "203.0.113.9", now, 3);
	for (int i = 0; i < 3 * RATE_SLOTS; i++) {
		snprintf(a, sizeof a, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		refused += !rate_allow(&rt, a, now, 3);
	}
	is_int(refused, 0, "more addresses in a minute than the table holds are not refused: a new one takes the "
	       "least counted slot");
	ok(rate_allow(&rt, "198.51.100.7", now, 3), "after that flood an honest address still passes");
	ok(!rate_allow(&rt, "203.0.113.9", now, 3), "and the address at its limit before the flood is still refused");
	ok(rate_allow(&rt, "203.0.113.9", now + 60000000u, 3), "a minute later it passes again");

	char out[64];
	guard_address("203.0.113.5", "", "198.51.100.1", out);
	ok(strcmp(out, "203.0.113.5") == 0, "without portal_proxy X-Forwarded-For is ignored");
	guard_address("203.0.113.5", "127.0.0.1", "198.51.100.1", out);
	ok(strcmp(out, "203.0.113.5") == 0, "from another peer than the proxy it is ignored");
	guard_address("::ffff:203.0.113.5", "", NULL, out);
	ok(strcmp(out, "203.0.113.5") == 0, "an IPv4 peer of a dual-stack listener is recorded as IPv4");
	guard_address("::ffff:127.0.0.1", "127.0.0.1", "198.51.100.2", out);
	ok(strcmp(out, "198.51.100.2") == 0, "  and matches portal_proxy written as IPv4");
	guard_address("127.0.0.1", "127.0.0.1", "10.9.9.9, 198.51.100.1", out);
	ok(strcmp(out, "198.51.100.1") == 0, "from the proxy its last hop is the browser");
	guard_address("127.0.0.1", "127.0.0.1", "198.51.100.1, <script>", out);
	ok(strcmp(out, "127.0.0.1") == 0, "a last hop that is not an address is not believed");
	guard_address("127.0.0.1", "127.0.0.1", NULL, out);
	ok(strcmp(out, "127.0.0.1") == 0, "no header: the peer");

	uint8_t secret[32] = { 1, 2, 3 }, th[32] = { 9 }, th2[32] = { 8 };
	char cookie[GUARD_COOKIE_LEN + 1], cookie2[GUARD_COOKIE_LEN + 1], csrf[65], hdr[200], got[GUARD_COOKIE_LEN + 1];
	guard_new_cookie(cookie);
	guard_new_cookie(cookie2);
	ok(strlen(cookie) == GUARD_COOKIE_LEN && guard_token_ok(cookie, GUARD_COOKIE_LEN) && strcmp(cookie, cookie2),
	   "cookies are 43 random base64url characters");
	guard_csrf(secret, cookie, th, csrf);
	ok(guard_csrf_ok(secret, cookie, th, csrf, 64), "the field made for cookie and token matches");
	ok(!guard_csrf_ok(secret, cookie2, th, csrf, 64), "not with another cookie");
	ok(!guard_csrf_ok(secret, cookie, th2, csrf, 64), "not for another link");
	ok(!guard_csrf_ok(secret, cookie, th, csrf, 63), "not cut short");
	snprintf(hdr, sizeof hdr, "a=b; %s=%s; c=d", GUARD_COOKIE, cookie);
	ok(guard_cookie(hdr, got) && strcmp(got, cookie) == 0, "the cookie is found among others");
	snprintf(hdr, sizeof hdr, "%s=%.40s", GUARD_COOKIE, cookie);
	ok(!guard_cookie(hdr, got), "a short cookie is none");
	ok(!guard_cookie("x__Host-sl=1", got) && !guard_cookie("", got), "no cookie: none");
	return done_testing();
}
