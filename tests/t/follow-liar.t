#!/bin/bash
# scoped follow against a primary that lies with its own signing key: a
# checkpoint claiming 2^63 entries (2^63 leaf hashes of 32 bytes would
# wrap a size_t) is refused with a clear error before anything is fetched
# or allocated for it, and the follower keeps running.
. "$(dirname "$0")/lib.sh"
p=$tmp/p f=$tmp/f
follow_primary "$p"
need_cryptography
start_daemon "$p" || exit 1
vkey=$(sed -n 's/.*verifier key \(.*\)$/\1/p' "$tmp/scoped.log" | head -n 1)
/usr/bin/python3 "$here/liar_primary.py" "$p/tls/server.crt" "$p/tls/server.key" "$p/keys/signing.key" \
	"$vkey" 9223372036854775808 > "$tmp/liar" &
lpid=$!
trap 'kill -9 $lpid $fpid 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do grep -q port "$tmp/liar" && break; sleep 0.05; done
lport=$(sed -n 's/^port //p' "$tmp/liar")
mkdir -p "$f/data"
follow_conf "$p" "$vkey" > "$f/scoped.conf"
start_follower "$f/scoped.conf" "https://127.0.0.1:$lport" "$tmp/follow.log" || exit 1
fpid=$FOLLOW_PID
refused() {
	for _ in $(seq 1 300); do
		grep -q "more entries than the copy holds" "$tmp/follow.log" && return 0
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/#   /' "$tmp/follow.log" | tail -n 20
	return 1
}
ok "a checkpoint of 2^63 entries is refused by name" refused
ok "  the follower is still running" kill -0 "$fpid"
finish
