#!/bin/bash
# scoped follow against a primary that lies with its own signing key and
# sends more than a resource can hold: a checkpoint of 600 MB, or an entry
# bundle of 2 entries that is 600 MB, is refused as it is read past what
# that resource can hold (16 KiB; 2 x (ENTRY_MAX_BYTES + 4), the longest entry any append can be), with a log line
# naming the resource and the bound; 17 bundles of 256 entries of 60000
# bytes (each 15 MB, hashing to their leaves) are checked as they come and
# stored (here: refused by the store) every 32 MiB, not held 16 at a time.
# Each time the follower keeps running and its peak RSS (VmHWM) stays under
# 200 MB.
. "$(dirname "$0")/lib.sh"
p=$tmp/p
follow_primary "$p"
need_cryptography
start_daemon "$p" || exit 1
vkey=$(sed -n 's/.*verifier key \(.*\)$/\1/p' "$tmp/scoped.log" | head -n 1)
stop_daemon
lpid= fpid=
trap 'kill -9 $lpid $fpid 2>/dev/null; cleanup' EXIT

# against MODE SIZE: a liar in MODE (t/liar_primary.py) and a new follower of it
against() {
	[ -n "$fpid" ] && kill -9 "$fpid" 2>/dev/null
	[ -n "$lpid" ] && kill -9 "$lpid" 2>/dev/null
	wait 2>/dev/null
	/usr/bin/python3 "$here/liar_primary.py" "$p/tls/server.crt" "$p/tls/server.key" "$p/keys/signing.key" \
		"$vkey" "$2" "$1" > "$tmp/liar" &
	lpid=$!
	for _ in $(seq 1 200); do grep -q port "$tmp/liar" && break; sleep 0.05; done
	lport=$(sed -n 's/^port //p' "$tmp/liar")
	[ -n "$lport" ] || return 1
	f=$tmp/f-$1
	mkdir -p "$f/data"
	follow_conf "$p" "$vkey" > "$f/scoped.conf"
	start_follower "$f/scoped.conf" "https://127.0.0.1:$lport" "$f/log" || return 1
	fpid=$FOLLOW_PID
}
# logged TEXT: waits (at most 60 s) until the follower's log has TEXT
logged() {
	for _ in $(seq 1 600); do
		grep -qF -- "$1" "$f/log" && return 0
		kill -0 "$fpid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/#   /' "$f/log" | tail -n 20
	return 1
}
# bounded: the follower's peak resident memory is under 200 MB
bounded() {
	local kb
	kb=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB/\1/p' "/proc/$fpid/status")
	echo "VmHWM $kb kB"
	[ -n "$kb" ] && [ "$kb" -lt 204800 ]
}
# rss_bounded DESCRIPTION: bounded, except in a sanitizer build (SKIP_VALGRIND,
# set by check.sh), whose shadow memory and quarantine of freed blocks are in
# the RSS too
rss_bounded() {
	if [ -n "${SKIP_VALGRIND:-}" ]; then
		n=$((n + 1)); echo "ok $n - $1 # SKIP a sanitizer build's RSS holds its shadow memory and quarantine"
		return
	fi
	ok "$1" bounded
}

ok "a checkpoint of 600 MB: the follower starts" against big-checkpoint 1
ok "  refused as it is read, naming the bound" logged "/checkpoint: the reply (or its headers) is larger than the 16384 bytes that resource can hold: refused before it was all read; nothing of it stored"
sleep 2	# a retry or two
ok "  the follower is still running" kill -0 "$fpid"
rss_bounded "  its peak RSS stays under 200 MB"

ok "an entry bundle of 2 entries that is 600 MB: the follower starts" against big-bundle 2
ok "  refused as it is read, naming the bound" logged "/tile/entries32/000.p/2: the reply (or its headers) is larger than the 526344 bytes that resource can hold"
sleep 2
ok "  the follower is still running" kill -0 "$fpid"
rss_bounded "  its peak RSS stays under 200 MB"

ok "17 bundles of 15 MB, each entry hashing to its leaf: the follower starts" against many-bundles 4352
ok "  checked and handed to the store (which refuses them)" logged "follow: entry 0: not a canonical msgpack entry"
sleep 3
ok "  the follower is still running" kill -0 "$fpid"
rss_bounded "  its peak RSS stays under 200 MB"
ok "  nothing was stored" eval '! grep -q "verified and stored" "$f/log"'
finish
