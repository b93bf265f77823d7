#!/usr/bin/env bash
# One address cannot lock the others out of the tiles listener, the portal
# or scoped witness (PROTOCOL.md sections 12 and 13; connbound.h): 260
# connections from 127.0.0.1, more than the tiles' 256 and the witness's
# 128, each trickling its TLS handshake a byte every 4 s (evhttp's timeout
# restarts at every byte), and all the while a client from 127.0.0.2 is
# served.  The flood's connections are ended (its address's limit, then the
# request deadline) and counted in info's stats.tiles.refused and
# stats.portal.refused.
set -u
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "1..0 # SKIP curl is not installed (deploy/install-deps.sh --test)"; exit 0; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 is not installed"; exit 0; }
here=$(cd "$(dirname "$0")" && pwd)
fpid= wpid=
trap '[ -n "$fpid" ] && kill $fpid 2>/dev/null; [ -n "$wpid" ] && kill -9 $wpid 2>/dev/null; cleanup' EXIT

# flood PORT: 260 slow connections from 127.0.0.1, their count in $tmp/flood
flood() {
	rm -f "$tmp/flood"
	python3 "$here/slow_flood.py" "$1" 260 "$tmp/flood" 2>"$tmp/flood.err" &
	fpid=$!
	for _ in $(seq 1 200); do
		grep -q connected "$tmp/flood" 2>/dev/null && return 0
		sleep 0.1
	done
	sed 's/^/#   /' "$tmp/flood.err"; return 1
}
closed() { sed -n 's/.*closed \([0-9]*\).*/\1/p' "$tmp/flood" 2>/dev/null; }
# all_closed: waits (60 s at most) for the server to end every flood connection
all_closed() {
	for _ in $(seq 1 120); do
		[ "$(closed)" = 260 ] && return 0
		sleep 0.5
	done
	echo "# $(cat "$tmp/flood")"; return 1
}
stop_flood() { kill $fpid 2>/dev/null; wait $fpid 2>/dev/null; fpid=; }

# ---- tiles ----
inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/flood >/dev/null || { echo "Bail out! init"; exit 1; }
printf '%s\n' "tiles_listen = 127.0.0.1:0" "tiles_public = yes" "portal_listen = 127.0.0.1:0" >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
tport=$(sed -n 's/.*tiles listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1)
ok "260 slow connections to the tiles listener from 127.0.0.1" flood "$tport"
sleep 2
is "  a client from 127.0.0.2 is served meanwhile" \
	"$(curl -sk --interface 127.0.0.2 --max-time 30 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$tport/checkpoint")" 200
ok "  every flood connection is ended (its address's limit, then the deadline)" all_closed
stop_flood
ctl "$inst" admin info --json > "$tmp/info" 2>&1
tiles_refused() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['stats']['tiles']['refused'].get(sys.argv[2], -1))" "$tmp/info" "$1"; }
is "  info counts each end once: connections + address_limit + deadline = 260" \
	"$(( $(tiles_refused connections) + $(tiles_refused address_limit) + $(tiles_refused deadline) ))" 260
is "  the address's limit ended some" "$([ "$(tiles_refused address_limit)" -gt 0 ] && echo yes)" yes
is "  the deadline the last ones" "$([ "$(tiles_refused deadline)" -gt 0 ] && echo yes)" yes
has "  a WARN line says so" "$tmp/scoped.log" "tiles: connections ended so far"

# ---- a burst from one address, accepted before its addresses are read ----
n=$(python3 "$here/burst_flood.py" "$tport" 224 100 2>"$tmp/burst.err")
is "a burst of 100 from 127.0.0.1 while 224 other addresses hold one connection each ends at most a few of theirs" \
	"$([ -n "$n" ] && [ "$n" -le 4 ] && echo yes || echo "no: $n ended $(cat "$tmp/burst.err")")" yes

# ---- the portal (the same bounds) ----
pport=$(sed -n 's/.*portal listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/scoped.log" | tail -n 1)
ok "260 slow connections to the portal from 127.0.0.1" flood "$pport"
sleep 2
is "  a browser from 127.0.0.2 is answered meanwhile (404 for a short token)" \
	"$(curl -sk --interface 127.0.0.2 --max-time 30 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$pport/l/x")" 404
ok "  every flood connection is ended" all_closed
stop_flood
ctl "$inst" admin info --json > "$tmp/info" 2>&1
portal_refused() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['stats']['portal']['refused'].get(sys.argv[2], -1))" "$tmp/info" "$1"; }
is "  info counts each end once (connections + address_limit + deadline = 260)" \
	"$(( $(portal_refused connections) + $(portal_refused address_limit) + $(portal_refused deadline) ))" 260

# ---- scoped witness ----
vk=$(cat "$inst/keys/verifier.txt")
W=$tmp/w
"$SCOPED" witness init "$W" --name w.example/w1 --listen 127.0.0.1:0 --log "$vk" >/dev/null 2>&1 ||
	{ echo "Bail out! witness init"; exit 1; }
: > "$tmp/w.log"
"$SCOPED" witness -c "$W/witness.conf" 2>>"$tmp/w.log" &
wpid=$!
for _ in $(seq 1 100); do
	wport=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/w.log" | tail -n 1)
	[ -n "$wport" ] && break
	sleep 0.05
done
[ -n "$wport" ] || { sed 's/^/#   /' "$tmp/w.log"; echo "Bail out! no witness"; exit 1; }
{ echo "old 0"; echo; "$SCOPED" checkpoint -c "$inst/scoped.conf"; } > "$tmp/b"
ok "260 slow connections to the witness from 127.0.0.1" flood "$wport"
sleep 2
is "  add-checkpoint from 127.0.0.2 is answered meanwhile" \
	"$(curl -s --cacert "$W/ca.crt" --interface 127.0.0.2 --max-time 30 -o "$tmp/ans" -w '%{http_code}' \
		--data-binary @"$tmp/b" "https://127.0.0.1:$wport/add-checkpoint")" 200
ok "  every flood connection is ended" all_closed
stop_flood
has "  a WARN line counts them" "$tmp/w.log" "witness: connections ended so far"
kill -TERM $wpid; wait $wpid; wpid=
finish
