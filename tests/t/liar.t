#!/usr/bin/env bash
# scopectl against a lying server (tests/liar.c): a TLS relay in front of a
# real scoped that drops appends and acknowledges them with an older entry,
# relaying the real read-backs and proofs (an honest relay records as its own
# client certificate, the lead's); a server that closes every connection at
# accept; and terminal controls in what a server says.
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
"$SCOPED" init "$inst" --origin test.example/liar --client-project pr-x --client-project pr-y >/dev/null || { echo "Bail out! init"; exit 1; }
printf '%s\n' "portal_listen = 127.0.0.1:0" 'portal_url = https://portal.example/~[2J`x' >> "$inst/scoped.conf"
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
has "  after retrying too" "$tmp/err" "reconnecting (attempt 3 of 3)"
closer=$LPORT

# terminal controls in what the server says: stored through the honest
# daemon (its rules allow newlines, C1 controls and bidi overrides in text)
# and added by the relay in taint mode (ESC, CR)
raw() {	# raw BYTES FILE: how many lines of FILE hold BYTES (printf escapes)
	LC_ALL=C grep -c -F -- "$(printf "$1")" "$2"
}
no_controls() {	# no_controls DESCRIPTION FILE: no ESC, CR, C1 CSI, RLO or LRI in FILE
	is "$1" "$(raw '\033' "$2")$(raw '\r' "$2")$(raw '\302\233' "$2")$(raw '\342\200\256' "$2")$(raw '\342\201\246' "$2")" 00000
}
title=$(printf 'Extra ~[2J~]0;pwned~\\ `page\u202e gnp.exe\n  CR-9    approved_no_charge \302\2332J\u2066')
ok "a change whose title holds controls the daemon lets through" ctl "$inst" lead change raise -p pr-x "$title" \
	--by "C PM" --via email --reason client_request
ok "and a note" ctl "$inst" lead append --project pr-x --kind note \
	--body-json '{"text":"a\u202e b\u009b2J\u2066 c"}'
ok "status" ctl "$inst" lead status pr-x
no_controls "  shows none of them raw" "$tmp/out"
has "  but escaped" "$tmp/out" 'page\u202e gnp.exe\x0a  CR-9'
is "  and the title's newline starts no fake row" "$(grep -c '^  CR-9 ' "$tmp/out")" 0
ok "status --csv" ctl "$inst" lead status pr-x --csv
no_controls "  escapes them too" "$tmp/out"
is "  a header and two rows" "$(wc -l < "$tmp/out")" 3
ok "status --json" ctl "$inst" lead status pr-x --json
no_controls "  escapes them as JSON" "$tmp/out"
has "  as \\u escapes" "$tmp/out" '\u202e gnp.exe\n  CR-9'
ok "history" ctl "$inst" lead history pr-x
no_controls "  shows none raw" "$tmp/out"
ok "get" ctl "$inst" lead get 9
no_controls "  shows none raw" "$tmp/out"
ok "log" ctl "$inst" auditor log
no_controls "  shows none raw" "$tmp/out"
start_liar relay "$PORT" "$inst" lead taint || { echo "Bail out! no taint"; exit 1; }
ok "status from a server that sends ESC and CR" via "$LPORT" lead status pr-x
no_controls "  shows none of them raw" "$tmp/out"
has "  but escaped" "$tmp/out" 'Extra \x1b[2J\x1b]0;pwned\x1b\ \x0dpage'
exits 3 "link create from a server whose portal_url holds ESC and CR" via "$LPORT" lead link create -p pr-x \
	--project --to "C PM"
no_controls "  prints none of them raw" "$tmp/out"
no_controls "  nor in its error" "$tmp/err"
has "  and says why" "$tmp/err" "is not an https:// URL of visible characters"
ok "  nothing was recorded" ctl "$inst" lead link list -p pr-x
has "  (no link)" "$tmp/out" "0 open, 0 used"
exits 4 "an error that echoes controls" ctl "$inst" lead append --project pr-x --kind "$(printf '\033]0;pwned\a')" \
	--body-json '{"text":"x"}'
no_controls "  shows none raw" "$tmp/err"
has "  but escaped" "$tmp/err" 'kind "\x1b]0;pwned\x07" must start'
printf '#!/bin/sh\necho typed > "$1"; touch "%s/edited"\n' "$tmp" > "$tmp/editor"; chmod +x "$tmp/editor"
exits 3 "a change with --edit from a server that closes at accept" env EDITOR="$tmp/editor" "$SCOPECTL" \
	change raise -p pr-x T --by B --via email --reason defect --edit --config "$inst/clients/lead.conf" \
	--server "127.0.0.1:$closer"
is "  fails before the editor starts" "$(ls "$tmp/edited" 2>/dev/null)" ""
exits 0 "  which does start against the honest relay" env EDITOR="$tmp/editor" "$SCOPECTL" change raise -p pr-x T \
	--by B --via email --reason defect --edit --config "$inst/clients/lead.conf" --server "127.0.0.1:$honest"
is "  (so the editor check above can fail)" "$(ls "$tmp/edited")" "$tmp/edited"
# a server with the whole log that answers from an older checkpoint
start_liar relay "$PORT" "$inst" auditor stale || { echo "Bail out! no stale relay"; exit 1; }
ok "status --verify through a relay that keeps its first checkpoint and status" via "$LPORT" auditor status pr-x --verify
ok "  a note is recorded after it" note lead pr-x later r-stale
ok "  and the client sees the newer checkpoint" ctl "$inst" auditor checkpoint
exits 1 "status --verify answered from the older checkpoint is refused" via "$LPORT" auditor status pr-x --verify
has "  saying it is older than the one remembered" "$tmp/err" "older than the remembered"
finish
