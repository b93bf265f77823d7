#!/usr/bin/env bash
# scopectl against a lying server (tests/liar.c): a TLS relay in front of a
# real scoped that drops appends and acknowledges them with an older entry,
# relaying the real read-backs and proofs (an honest relay records as its own
# client certificate, the lead's); and a server that closes every
# connection at accept.
set -u
. "$(dirname "$0")/lib.sh"
LIAR=${LIAR:-$here/../../build/tests/liar}
liar_pids=
trap 'for p in $liar_pids; do kill "$p" 2>/dev/null; done; cleanup' EXIT

# start_liar ARGS...: runs liar; sets LPORT.
start_liar() {
	local out=$tmp/liar.$RANDOM
	"$LIAR" "$@" > "$out" &
	liar_pids="$liar_pids $!"
	for _ in $(seq 1 100); do
		LPORT=$(sed -n 's/^ready on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
		[ -n "$LPORT" ] && return 0
		sleep 0.05
	done
	return 1
}
# via PORT ROLE ARGS...: scopectl as ROLE through the server on PORT.
via() {
	local port=$1 role=$2; shift 2
	"$SCOPECTL" "$@" --config "$inst/clients/$role.conf" --server "127.0.0.1:$port"
}

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/liar >/dev/null || { echo "Bail out! init"; exit 1; }
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
key=$inst/keys/verifier.txt
note() { ctl "$inst" "$1" append --project "$2" --kind note --body-json "{\"text\":\"$3\"}" --request-id "$4"; }
ok "entry 0: the lead creates pr-x" ctl "$inst" lead project create pr-x --client C --title T --currency JPY --amount 100
ok "entry 1: a baseline" ctl "$inst" lead baseline add -p pr-x --item R1=one
ok "entry 2: the client approves it" ctl "$inst" client respond -p pr-x --baseline 1 --decision approved \
	--by "C PM" --via email --request-id r-2
ok "entry 3: a note by the lead" note lead pr-x hello r-3
ok "entry 4: a note by the approver" note approver pr-x same r-4
ok "entry 5: a project pr-y" ctl "$inst" lead project create pr-y --client C --title T --currency JPY --amount 1
ok "entry 6: a note in pr-y" note lead pr-y there r-6

start_liar relay "$PORT" "$inst" lead - || { echo "Bail out! no relay"; exit 1; }
honest=$LPORT
ok "through an honest relay a change is recorded" via "$honest" lead change raise -p pr-x "Extra page" \
	--by "C PM" --via email --reason client_request --receipt "$tmp/honest.json"
has "  numbered by the ledger, proven" "$tmp/out" "recorded change CR-1 in pr-x as entry 7"
ok "  and its receipt verifies" "$SCOPECTL" verify --receipt "$tmp/honest.json" --trust "$key"
ok "  an append too" via "$honest" lead append --project pr-x --kind note --body-json '{"text":"relayed"}'
has "  as entry 8" "$tmp/out" "recorded entry 8 "

# the issue's case: the rejection is dropped, the earlier approval acknowledged
start_liar relay "$PORT" "$inst" auditor 2 || { echo "Bail out! no liar"; exit 1; }
exits 1 "a rejection acknowledged with the earlier approval is caught" via "$LPORT" client respond -p pr-x \
	--baseline 1 --decision rejected --reason "not what we agreed" --by "C PM" --via email \
	--request-id r-2 --receipt "$tmp/lie.json"
has "  saying so" "$tmp/err" "the server acknowledged entry 2, which is not the entry sent (its body differs)"
is "  nothing claims it was recorded" "$(grep -c recorded "$tmp/out")" 0
is "  and no receipt is written" "$(test -e "$tmp/lie.json" && echo written || echo none)" none

start_liar relay "$PORT" "$inst" auditor 3 || { echo "Bail out! no liar"; exit 1; }
exits 1 "append: the same note under another request id is not the entry sent" via "$LPORT" lead \
	append --project pr-x --kind note --body-json '{"text":"hello"}' --request-id r-new
has "  its request id differs" "$tmp/err" "the server acknowledged entry 3, which is not the entry sent (its request id differs)"
exits 1 "append: a note with other text" via "$LPORT" lead append --project pr-x --kind note \
	--body-json '{"text":"goodbye"}' --request-id r-3
has "  its body differs" "$tmp/err" "(its body differs)"
exits 1 "append: another kind" via "$LPORT" lead append --project pr-x --kind project \
	--body-json '{"text":"hello"}' --request-id r-3
has "  its kind differs" "$tmp/err" "(its kind differs)"

start_liar relay "$PORT" "$inst" auditor 4 || { echo "Bail out! no liar"; exit 1; }
exits 1 "append: the same note by another author" via "$LPORT" lead append --project pr-x --kind note \
	--body-json '{"text":"same"}' --request-id r-4
has "  its author differs" "$tmp/err" "(its author differs)"
start_liar relay "$PORT" "$inst" auditor 6 || { echo "Bail out! no liar"; exit 1; }
exits 1 "append: the same note in another project" via "$LPORT" lead append --project pr-x --kind note \
	--body-json '{"text":"there"}' --request-id r-6
has "  its project differs" "$tmp/err" "(its project differs)"
ok "none of it reached the ledger" ctl "$inst" auditor verify
has "  which still holds 9 entries" "$tmp/out" "all 9 entries"

# a server that closes at accept, as at its connection limit
start_liar close || { echo "Bail out! no closer"; exit 1; }
exits 3 "a server that closes at accept is a connection error, not a SIGPIPE" via "$LPORT" lead info
has "  saying what happened" "$tmp/err" "the server closed the connection"
has "  after retrying" "$tmp/err" "reconnecting (attempt 3 of 3)"
exits 3 "  for a recording command too" via "$LPORT" lead append --project pr-x --kind note --body-json '{"text":"x"}'
has "  retried with the same request" "$tmp/err" "reconnecting (attempt 4 of 4)"
finish
