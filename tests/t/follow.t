#!/bin/bash
# scoped follow: a verified read-only copy of a primary, fetched from its
# tiles listener (proto/PROTOCOL.md, "Followers"): it catches up, serves the
# same reads (scopectl verifies them against the primary's key), refuses
# appends, follows new ones, and stops for good at a fork, keeping both
# checkpoints.
. "$(dirname "$0")/lib.sh"
p=$tmp/p f=$tmp/f
follow_primary "$p"
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "tiles_listen = 127.0.0.1:$tport" >> "$p/scoped.conf"
start_daemon "$p" || exit 1
vkey=$(sed -n 's/.*verifier key \(.*\)$/\1/p' "$tmp/scoped.log" | head -n 1)
ok "create a project on the primary" ctl "$p" lead append --project pr --kind project \
	--body-json '{"client":"C","title":"T","contract_type":"fixed","currency":"JPY","amount_minor":1000}'
for i in $(seq 1 300); do
	ctl "$p" lead append --project pr --kind note --body-json "{\"text\":\"n$i\"}" >/dev/null 2>&1 || echo fail
done > "$tmp/appends"
is "300 notes appended" "$(grep -c fail "$tmp/appends")" 0

mkdir -p "$f/data"
follow_conf "$p" "$vkey" > "$f/scoped.conf"
exits 2 "scoped follow without --from is a usage error" "$SCOPED" follow -c "$f/scoped.conf"
start_follower "$f/scoped.conf" "https://127.0.0.1:$tport" "$tmp/follow.log" || exit 1
fpid=$FOLLOW_PID fport=$FOLLOW_PORT
trap 'kill -9 $fpid 2>/dev/null; cleanup' EXIT
fctl() { local role=$1; shift; "$SCOPECTL" "$@" --config "$p/clients/$role.conf" --server "127.0.0.1:$fport"; }
held() { follower_holds "$tmp/follow.log" "$1"; }
ok "the follower catches up with the primary's 301 entries" held 301
is "the follower shows the same status" "$(fctl lead status pr 2>&1)" "$(ctl "$p" lead status pr 2>&1)"
is "and the same entry" "$(fctl lead get 7 2>&1)" "$(ctl "$p" lead get 7 2>&1)"
XDG_STATE_HOME=$tmp/state-f ok "scopectl verify against the follower passes (the primary's key)" \
	fctl auditor verify
exits 4 "an append to the follower is refused" fctl lead append --project pr --kind note --body-json '{"text":"x"}'
has "  naming the primary" "$tmp/err" "read-only follower of https://127.0.0.1:$tport"
ok "another append on the primary" ctl "$p" lead append --project pr --kind note --body-json '{"text":"later"}'
ok "is followed" held 302
is "  the follower's checkpoint is the primary's" "$(fctl lead checkpoint 2>&1 | head -n 3)" \
	"$(ctl "$p" lead checkpoint 2>&1 | head -n 3)"

# altered in transit: a proxy (tamper.py) between a second follower and the
# primary flips a byte of every entry bundle, then of every level-0 tile
g=$tmp/g
mkdir -p "$g/data" && follow_conf "$p" "$vkey" > "$g/scoped.conf"
echo none > "$tmp/mode"
/usr/bin/python3 "$here/tamper.py" "https://127.0.0.1:$tport" "$p/tls/server.crt" "$p/tls/server.key" \
	"$p/clients/auditor.crt" "$p/clients/auditor.key" "$p/tls/ca.crt" "$tmp/mode" > "$tmp/proxy" &
ppid_=$!
trap 'kill -9 $fpid $ppid_ 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do grep -q port "$tmp/proxy" && break; sleep 0.05; done
pport=$(sed -n 's/^port //p' "$tmp/proxy")
start_follower "$g/scoped.conf" "https://127.0.0.1:$pport" "$tmp/g.log" || exit 1
gpid=$FOLLOW_PID gport=$FOLLOW_PORT
trap 'kill -9 $fpid $gpid $ppid_ 2>/dev/null; cleanup' EXIT
gctl() { XDG_STATE_HOME=$tmp/state-g "$SCOPECTL" "$@" --config "$p/clients/auditor.conf" --server "127.0.0.1:$gport"; }
# waits (polling, at most 30 s) until the second follower's info has TEXT
ginfo() {
	for _ in $(seq 1 300); do
		gctl info --json > "$tmp/ginfo" 2>&1 && grep -qF -- "$1" "$tmp/ginfo" && return 0
		sleep 0.1
	done
	sed 's/^/#   /' "$tmp/ginfo"
	return 1
}
ok "a follower through the proxy catches up" ginfo '"tree_size":302'
echo bundle > "$tmp/mode"
for i in 1 2 3; do ctl "$p" lead append --project pr --kind note --body-json "{\"text\":\"t$i\"}" >/dev/null 2>&1; done
ok "an entry bundle altered in transit is refused" ginfo "does not hash to its leaf in the level-0 tile"
has "  info says it is retrying" "$tmp/ginfo" '"state":"retrying"'
has "  and nothing of it is stored" "$tmp/ginfo" '"tree_size":302'
ok "  scopectl verify against that follower passes" gctl verify
echo tile > "$tmp/mode"
ok "a level-0 tile altered in transit is refused" ginfo "do not hash to the root of its checkpoint"
has "  and nothing of it is stored" "$tmp/ginfo" '"tree_size":302'
is "  it is not taken for a fork" "$(grep -c FORK "$tmp/g.log")" 0
ok "  scopectl verify against that follower passes" gctl verify
echo none > "$tmp/mode"
ok "once nothing is altered, it catches up" ginfo '"tree_size":305'
has "  and follows again" "$tmp/ginfo" '"state":"following"'
ok "  and verifies" gctl verify
kill -TERM $gpid; wait $gpid
kill $ppid_; wait $ppid_ 2>/dev/null
ok "scoped verify on the follower's configuration (follow_trust, no signing key)" "$SCOPED" verify -c "$g/scoped.conf"
has "  all 305 entries" "$tmp/out" "ok: 305 entries"
ok "the first follower has the same entries" held 305

# a fork: the primary's key signs another history
ok "stop the primary" stop_daemon
mv "$p/data" "$p/data.first" && mkdir "$p/data"
start_daemon "$p" || exit 1
export XDG_STATE_HOME=$tmp/state-fork	# this client never saw the first history
ok "another history under the same key" ctl "$p" lead append --project other --kind project \
	--body-json '{"client":"D","title":"U","contract_type":"fixed","currency":"JPY","amount_minor":5}'
for i in $(seq 1 310); do
	ctl "$p" lead append --project other --kind note --body-json "{\"text\":\"f$i\"}" >/dev/null 2>&1
done
forked() {
	for _ in $(seq 1 300); do
		grep -q "FORK" "$tmp/follow.log" && return 0
		sleep 0.1
	done
	return 1
}
ok "the follower detects the fork" forked
export XDG_STATE_HOME=$tmp/state	# the client of the first history again
has "  and keeps both checkpoints in follow-fork.txt" "$f/data/follow-fork.txt" "which no append-only history"
is "  it keeps serving what it verified" "$(fctl lead status pr 2>&1 | head -n 1)" "project pr (JPY)"
ok "  info says it forked" fctl admin info --json
has "  (state forked)" "$tmp/out" "forked"
kill -TERM $fpid; wait $fpid
start_follower "$f/scoped.conf" "https://127.0.0.1:$tport" "$tmp/follow2.log"
fpid=$FOLLOW_PID
has "a restarted follower still reports the fork" "$tmp/follow2.log" "FORK"
kill -TERM $fpid; wait $fpid
finish
