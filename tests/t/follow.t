#!/bin/bash
# scoped follow: a verified read-only copy of a primary, fetched from its
# tiles listener (proto/PROTOCOL.md, "Followers"): it catches up, serves the
# same reads (scopectl verifies them against the primary's key), refuses
# appends, follows new ones, and stops for good at a fork, keeping both
# checkpoints.
. "$(dirname "$0")/lib.sh"
p=$tmp/p f=$tmp/f
"$SCOPED" init "$p" --listen 127.0.0.1:0 >/dev/null 2>&1 || { echo "Bail out! init"; exit 1; }
if ! "$SCOPED" config -c "$p/scoped.conf" 2>/dev/null | grep -q '^tiles_listen'; then
	echo "1..0 # SKIP scoped has no tiles listener to follow"
	exit 0
fi
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
cat > "$f/scoped.conf" <<CONF
origin = localhost/scope-ledger
listen = 127.0.0.1:0
data_dir = data
tls_cert = $p/tls/server.crt
tls_key = $p/tls/server.key
tls_ca = $p/tls/ca.crt
roles = $p/roles.conf
follow_trust = $vkey
follow_cert = $p/clients/auditor.crt
follow_key = $p/clients/auditor.key
follow_ca = $p/tls/ca.crt
follow_interval_s = 1
CONF
exits 2 "scoped follow without --from is a usage error" "$SCOPED" follow -c "$f/scoped.conf"
"$SCOPED" follow -c "$f/scoped.conf" --from "https://127.0.0.1:$tport" 2>"$tmp/follow.log" &
fpid=$!
trap 'kill -9 $fpid 2>/dev/null; cleanup' EXIT
fport=
for _ in $(seq 1 100); do
	fport=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/follow.log" | head -n 1)
	[ -n "$fport" ] && break
	sleep 0.05
done
fctl() { local role=$1; shift; "$SCOPECTL" "$@" --config "$p/clients/$role.conf" --server "127.0.0.1:$fport"; }
# waits (polling, at most 30 s) until the follower's log says it holds SIZE
held() {
	for _ in $(seq 1 300); do
		grep -q "checkpoint of size $1\$" "$tmp/follow.log" && return 0
		sleep 0.1
	done
	sed 's/^/#   /' "$tmp/follow.log" | tail -5
	return 1
}
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
"$SCOPED" follow -c "$f/scoped.conf" --from "https://127.0.0.1:$tport" 2>"$tmp/follow2.log" &
fpid=$!
for _ in $(seq 1 100); do grep -q "ready on" "$tmp/follow2.log" && break; sleep 0.05; done
has "a restarted follower still reports the fork" "$tmp/follow2.log" "FORK"
kill -TERM $fpid; wait $fpid
finish
