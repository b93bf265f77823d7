#!/usr/bin/env bash
# Trusted time (RFC 3161): a local time-stamping authority on loopback
# (tsa.py answering with `openssl ts -reply`, its signer certificate with
# the single critical extendedKeyUsage timeStamping, made here).  scoped
# anchors each grown checkpoint there as an `anchor` entry (author scoped,
# ledger-level), none while the tree does not grow, keeps serving appends
# while the TSA is down (counted in info, retried); scopectl verify checks
# every token against the TSA CA and refuses a tampered token and a token
# for another checkpoint, naming the anchor; scoped verify on the store;
# the earliest anchored time of an entry.  A live daemon over TLS.
set -u
. "$(dirname "$0")/lib.sh"

# ---- the test TSA: a CA and a signer with the timeStamping EKU ----
pki=$tmp/tsa
bash "$here/tsa_pki.sh" "$pki" >/dev/null 2>"$tmp/err" || { echo "Bail out! TSA certificates"; cat "$tmp/err"; exit 1; }
echo ok > "$pki/mode"
/usr/bin/python3 "$here/tsa.py" "$pki/tsa.cnf" "$pki/mode" > "$pki/port" &
tsa_pid=$!
trap 'kill $tsa_pid 2>/dev/null; cleanup' EXIT
for _ in $(seq 1 100); do grep -q port "$pki/port" && break; sleep 0.05; done
TSA_PORT=$(sed -n 's/^port //p' "$pki/port")
[ -n "$TSA_PORT" ] || { echo "Bail out! no TSA"; exit 1; }

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/anchor >/dev/null || { echo "Bail out! init"; exit 1; }
for r in lead approver finance auditor admin; do echo "cn:$r $r *"; done > "$inst/roles.conf"
{ echo "tsa_url = http://127.0.0.1:$TSA_PORT/tsa"; echo "tsa_ca = $pki/ca.crt"; echo "anchor_interval_s = 1"; } >> "$inst/scoped.conf"
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
info_anchors() {	# the "anchors" member of info's stats, as JSON
	ctl "$inst" admin info --json | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)["stats"]["anchors"]; print(a["'"$1"'"])'
}
wait_for() {	# wait_for CMD...: up to 10 s until CMD succeeds
	for _ in $(seq 1 200); do "$@" && return 0; sleep 0.05; done
	return 1
}
anchored() { [ "$(info_anchors last_size)" -ge "$1" ]; }
anchors_in_log() { ctl "$inst" auditor log --json | grep -c '"kind":"anchor"'; }

# ---- an anchor after appends ----
ok "lead: a project" ctl "$inst" lead project create pr-a --client "A Corp" --title "A site" --currency JPY --amount 3000000
ok "the checkpoint of size 1 is anchored" wait_for anchored 1
ok "  the log holds the anchor entry" ctl "$inst" auditor get 1 --json
has "  of kind anchor" "$tmp/out" '"kind":"anchor"'
has "  authored by scoped" "$tmp/out" '"author":"scoped"'
has "  ledger-level" "$tmp/out" '"project":""'
has "  covering size 1" "$tmp/out" '"size":1,'

# ---- none when the tree did not grow (but by the anchor itself) ----
sleep 2.5
is "no anchor while nothing is appended" "$(anchors_in_log)" 1
is "  info counts one anchored" "$(info_anchors anchored)" 1

# ---- a client cannot record one ----
exits 4 "an anchor from a client is refused" ctl "$inst" admin append --kind anchor --project "" --body-json '{"size":1}'
has "  saying scoped records them" "$tmp/err" "anchor entries are recorded by scoped itself"

# ---- the TSA down: counted, retried, appends unaffected ----
echo down > "$pki/mode"
ok "an append while the TSA is down" ctl "$inst" lead append --project pr-a --kind note --body-json '{"text":"while the TSA is down"}'
ok "  the failures are counted in info" wait_for eval '[ "$(info_anchors failures)" -ge 2 ]'
has "  naming the last error" <(info_anchors last_error) "HTTP 503"
ok "  appends go on" ctl "$inst" lead append --project pr-a --kind note --body-json '{"text":"still recording"}'
echo garbage > "$pki/mode"
ok "  a garbage reply is a failure too" wait_for eval 'info_anchors last_error | grep -q "no RFC 3161 TimeStampResp"'
echo ok > "$pki/mode"
size=$(ctl "$inst" auditor info --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_size"])')
ok "the TSA back: the grown tree is anchored" wait_for anchored "$size"
is "  no anchor entry recorded for a failed attempt" "$(anchors_in_log)" 2

# ---- scopectl verify checks every token ----
ok "scopectl verify --tsa-ca checks every anchor token" ctl "$inst" auditor verify --tsa-ca "$pki/ca.crt"
has "  printing the anchor of size 1" "$tmp/out" "anchor entry 1: checkpoint size 1 time-stamped by the TSA at "
is "  and each of the two" "$(grep -c '^anchor entry .*(verified)$' "$tmp/out")" 2
ok "without a TSA CA" ctl "$inst" auditor verify
has "  the tokens are found but not checked, saying how" "$tmp/out" "2 anchor tokens found but not checked: give --tsa-ca FILE"
exits 1 "verify --tsa-ca with another CA fails" ctl "$inst" auditor verify --tsa-ca "$pki/other-ca.crt"
has "  naming the anchor entry and what failed" "$tmp/err" "VERIFICATION FAILED: anchor entry 1 (checkpoint size 1): the token does not verify"
cp "$inst/clients/auditor.conf" "$inst/clients/tsa.conf"
echo "tsa_ca = $pki/ca.crt" >> "$inst/clients/tsa.conf"
ok "the profile's tsa_ca is the default" ctl "$inst" tsa verify --json
has "  anchors checked" "$tmp/out" '"anchors":2,"anchors_checked":true'
ok "export" ctl "$inst" auditor export -o "$tmp/all.hex"
ok "checkpoint" ctl "$inst" auditor checkpoint
cp "$tmp/out" "$tmp/cp.txt"
ok "offline: verify --export --tsa-ca" "$SCOPECTL" verify --export "$tmp/all.hex" --checkpoint "$tmp/cp.txt" --trust "$inst/keys/verifier.txt" --tsa-ca "$pki/ca.crt"
has "  printing the anchors" "$tmp/out" "anchor entry 1: checkpoint size 1 time-stamped by the TSA at "
exits 1 "offline with another CA fails" "$SCOPECTL" verify --export "$tmp/all.hex" --checkpoint "$tmp/cp.txt" --trust "$inst/keys/verifier.txt" --tsa-ca "$pki/other-ca.crt"
has "  naming the anchor entry" "$tmp/err" "anchor entry 1 (checkpoint size 1)"

# ---- the earliest anchored time of an entry ----
ok "prove 0" ctl "$inst" auditor prove 0
has "  prints the anchored time" "$tmp/out" "anchored: the TSA vouches that entry 0 existed at "
has "  from the first anchor, not checked without a CA" "$tmp/out" "(anchor entry 1, checkpoint size 1; token not checked: give --tsa-ca FILE)"
ok "get 2 --tsa-ca" ctl "$inst" auditor get 2 --tsa-ca "$pki/ca.crt"
has "  covered by the second anchor, its token verified" "$tmp/out" "(anchor entry 4, checkpoint size 4; token verified)"
ok "prove of the last entry" ctl "$inst" auditor prove 4
is "  prints no anchored time: none covers it yet" "$(grep -c anchored: "$tmp/out")" 0
exits 1 "prove 0 --tsa-ca with another CA fails" ctl "$inst" auditor prove 0 --tsa-ca "$pki/other-ca.crt"
has "  naming the anchor entry" "$tmp/err" "anchor entry 1: the token does not verify"

# ---- scoped verify on the store ----
ok "stop" stop_daemon
ok "scoped verify replays the anchors (imprint, root, time)" "$SCOPED" verify -c "$inst/scoped.conf"
finish
