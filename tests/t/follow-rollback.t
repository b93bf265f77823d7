#!/bin/bash
# scoped follow against a primary rolled back (its data directory restored
# from an earlier copy): it serves a checkpoint smaller than the one the
# follower holds, consistent with it and signed by the same key.  The
# follower refuses it: it keeps what it holds and serves it, logs
# ROLLBACK, counts it (info follow.rollbacks, state rolled_back) and keeps
# both checkpoints in follow-rollback.txt; once the primary's checkpoint is
# no longer smaller, it follows again.
. "$(dirname "$0")/lib.sh"
p=$tmp/p f=$tmp/f
follow_primary "$p"
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "tiles_listen = 127.0.0.1:$tport" >> "$p/scoped.conf"
start_daemon "$p" || exit 1
trap 'kill -9 $daemon_pid $fpid 2>/dev/null; cleanup' EXIT
vkey=$(sed -n 's/.*verifier key \(.*\)$/\1/p' "$tmp/scoped.log" | head -n 1)
note() { ctl "$p" lead append --project pr --kind note --body-json "{\"text\":\"$1\"}"; }
ok "a project and two notes on the primary" ctl "$p" lead append --project pr --kind project \
	--body-json '{"client":"C","title":"T","contract_type":"fixed","currency":"JPY","amount_minor":1000}'
note n1 >/dev/null && note n2 >/dev/null
ok "stop the primary at size 3 and copy its data directory" stop_daemon
cp -a "$p/data" "$tmp/data.early"
start_daemon "$p" || exit 1
ok "two more notes: size 5" note n3
note n4 >/dev/null
mkdir -p "$f/data"
follow_conf "$p" "$vkey" > "$f/scoped.conf"
start_follower "$f/scoped.conf" "https://127.0.0.1:$tport" "$tmp/follow.log" || exit 1
fpid=$FOLLOW_PID fport=$FOLLOW_PORT
fctl() { local role=$1; shift; XDG_STATE_HOME=$tmp/state-f "$SCOPECTL" "$@" --config "$p/clients/$role.conf" --server "127.0.0.1:$fport"; }
finfo() { fctl admin info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["follow"]["'"$1"'"])'; }
ok "the follower holds the checkpoint of size 5" follower_holds "$tmp/follow.log" 5

ok "the primary rolled back to its copy at size 3" stop_daemon
mv "$p/data" "$tmp/data.late" && cp -a "$tmp/data.early" "$p/data"
start_daemon "$p" || exit 1
rolled() {
	for _ in $(seq 1 300); do
		grep -q "ROLLBACK" "$tmp/follow.log" && return 0
		sleep 0.1
	done
	sed 's/^/#   /' "$tmp/follow.log" | tail -n 10
	return 1
}
ok "the follower refuses the smaller checkpoint, loudly" rolled
has "  naming both sizes" "$tmp/follow.log" "the primary serves a checkpoint of size 3, smaller than the one of size 5"
is "  info: state rolled_back" "$(finfo state)" rolled_back
ok "  info counts it" eval '[ "$(finfo rollbacks)" -ge 1 ]'
is "  and says why" "$(finfo rollback | grep -c 'smaller than the one of size 5')" 1
is "  it keeps the 5 entries" "$(fctl auditor info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_size"])')" 5
is "  and serves the checkpoint of size 5" "$(fctl auditor checkpoint 2>/dev/null | sed -n 2p)" 5
has "  both checkpoints are kept in follow-rollback.txt" "$f/data/follow-rollback.txt" "signed a checkpoint smaller than one it signed before"
is "  (both)" "$(grep -c '^— ' "$f/data/follow-rollback.txt")" 2
sleep 2.5	# later rounds see it again: counted, not logged again
ok "  counted at every round" eval '[ "$(finfo rollbacks)" -ge 2 ]'
is "  logged once" "$(grep -c ROLLBACK "$tmp/follow.log")" 1
is "  not taken for a fork" "$(grep -c FORK "$tmp/follow.log")" 0

ok "the primary's later data directory back" stop_daemon
rm -rf "$p/data" && mv "$tmp/data.late" "$p/data"
start_daemon "$p" || exit 1
ok "a note: size 6" note n5
ok "the follower follows again" follower_holds "$tmp/follow.log" 6
is "  info: state following" "$(finfo state)" following
has "  its log says the rollback ended" "$tmp/follow.log" "is no longer smaller than the one held"
kill -TERM $fpid; wait $fpid
finish
