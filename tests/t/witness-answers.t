#!/usr/bin/env bash
# The log's side of a witness that refuses (t/fake_witness.py): 403, 404 and
# 422 are each counted in info (stats.witnesses.each[].failures) and logged
# with a message saying what the witness means; a 409 whose size is beyond
# the log's own is counted as "ahead" (not "conflict"), logged as an error,
# and never used as the base of a consistency proof, while a 409 with a size
# the log has is (the control that the fake's 409 is read at all).  A
# witness that trickles its reply a byte a second (never idle for libevent's
# inactivity timeout) is given up on after the request's 30 s, counted as
# "timeout" and logged.
set -u
. "$(dirname "$0")/lib.sh"
fpid=
trap '[ -n "$fpid" ] && kill "$fpid" 2>/dev/null; cleanup' EXIT

wait_for() {	# wait_for CMD...: up to 20 s until CMD succeeds
	for _ in $(seq 1 400); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
	return 1
}
inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/answers >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
"$SCOPED" append -c "$inst/scoped.conf" --project site --kind project --request-id p \
	--body-json '{"client":"C","title":"S","contract_type":"fixed","currency":"JPY","amount_minor":1}' >/dev/null ||
	{ echo "Bail out! append"; exit 1; }
for i in 1 2 3; do "$SCOPED" append -c "$inst/scoped.conf" --project site --kind note --body-json '{"text":"x"}' >/dev/null; done
mkdir -p "$tmp/w"
"$SCOPED" witness init "$tmp/w/fake" --name fake.example/w --listen 127.0.0.1:0 > "$tmp/fake.init" 2>/dev/null ||
	{ echo "Bail out! witness init"; exit 1; }
vk=$(head -n 1 "$tmp/fake.init")	# its key only: the fake never cosigns

echo 403 > "$tmp/mode"
/usr/bin/python3 "$(dirname "$0")/fake_witness.py" "$tmp/mode" "$tmp/requests" > "$tmp/fake.port" &
fpid=$!
wait_for grep -q '^port ' "$tmp/fake.port" || { echo "Bail out! fake witness"; exit 1; }
wport=$(sed -n 's/^port //p' "$tmp/fake.port")
{ echo "witness = fake.example/w $vk http://127.0.0.1:$wport"; echo "witness_interval_s = 1"; } >> "$inst/scoped.conf"

# failures CAUSE: info's count of that cause for the one witness
failures() {
	ctl "$inst" admin info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["each"][0]["failures"]["'"$1"'"])'
}
last_error() {
	ctl "$inst" admin info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["witnesses"]["each"][0]["last_error"])'
}
at_least() { [ "$(failures "$1")" -ge "$2" ]; }
# answer MODE: scoped restarted (no back-off left) against the fake in MODE
answer() {
	[ -n "$daemon_pid" ] && stop_daemon
	echo "$1" > "$tmp/mode"
	: > "$tmp/requests"
	start_daemon "$inst"
}

ok "403: scoped starts" answer 403
ok "  counted as forbidden" wait_for at_least forbidden 1
has "  logged, saying what it means and with the witness's reason" "$tmp/scoped.log" "scoped: warn: witness fake.example/w: 403 Forbidden: it finds no valid signature by a key it trusts for this origin: give it this log's verifier key (scoped checkpoint shows it); it says: no signature by a trusted key (forbidden); retrying with back-off"
ok "  info" last_error
has "  last_error says so" "$tmp/out" "403 Forbidden: it finds no valid signature"
is "  nothing else counted" "$(failures not_found)$(failures conflict)$(failures ahead)" 000

ok "404: scoped starts" answer 404
ok "  counted as not_found" wait_for at_least not_found 1
has "  logged, naming the URL" "$tmp/scoped.log" "witness fake.example/w: 404 Not Found: it does not witness this origin, or http://127.0.0.1:$wport is not its submission prefix: configure the origin there; it says: unknown origin (not_found)"
is "  nothing else counted" "$(failures forbidden)$(failures conflict)$(failures ahead)" 000

ok "422: scoped starts" answer 422
ok "  counted as unprocessable" wait_for at_least unprocessable 1
has "  logged" "$tmp/scoped.log" "witness fake.example/w: 422: it refused checkpoint 4 as inconsistent with size 0 it cosigned; it says: consistency proof does not verify (unprocessable)"

ok "409 with size 1, which the log has: scoped starts" answer 409:1
ok "  the request is sent again from size 1" wait_for grep -q '^old 1 proofs [1-9]' "$tmp/requests"
has "  with a consistency proof from it" "$tmp/requests" "old 1 proofs 2"

ok "409 with size 1000, beyond the log's 4 entries: scoped starts" answer 409-ahead:1000
ok "  counted as ahead" wait_for at_least ahead 1
is "  not as conflict" "$(failures conflict)" 0
has "  logged as an error" "$tmp/scoped.log" "scoped: error: witness fake.example/w: 409: it says it cosigned size 1000, but this log has only 4 entries: another history under this log's key, or a witness that lies"
ok "  three more rounds" wait_for eval '[ "$(wc -l < "$tmp/requests")" -ge 3 ]'
is "  every request is still from size 0, never from 1000" "$(sort -u "$tmp/requests")" "old 0 proofs 0"
is "  logged as an error once for that size" "$(grep -c 'scoped: error: witness fake.example/w: 409' "$tmp/scoped.log")" 1
ok "  info" last_error
has "  last_error names both sizes" "$tmp/out" "cosigned size 1000, but this log has only 4 entries"

ok "a witness that trickles its reply: scoped starts" answer trickle
# the request's 30 s, and a margin for a loaded machine
wait_long() { for _ in $(seq 1 90); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }
ok "  counted as timeout within 45 s" wait_long at_least timeout 1
has "  logged" "$tmp/scoped.log" "witness fake.example/w: no whole reply within 30 seconds from http://127.0.0.1:$wport: the witness or the network is too slow (timeout); retrying with back-off"
ok "  info" last_error
has "  last_error says so" "$tmp/out" "no whole reply within 30 seconds"
is "  not as transport" "$(failures transport)" 0
ok "  scoped stops cleanly, a request in flight" stop_daemon
finish
