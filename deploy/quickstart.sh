#!/usr/bin/env bash
# Runs Scope Ledger's main job on a local embedded instance under ./var:
# starts scoped on loopback and records the worked case of the product brief
# (a free redesign demand answered with the record) as the lead, the client,
# the approver and finance would, over mutual TLS; shows status, reports and
# history; and verifies everything the way a client, auditor or court would:
# online, and offline with nothing but the public key; then shows the
# operator's counters and takes an online backup.  Safe to run again: the
# case is recorded once, later runs show and verify it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$top/build}
scoped=$bin/daemon/scoped
scopectl=$bin/client/scopectl
var=${SCOPE_VAR:-$top/var}
export XDG_STATE_HOME=${XDG_STATE_HOME:-$var/state}

[ -f "$var/scoped.conf" ] || "$scoped" init "$var" --origin localhost/scope-ledger --client-project pr-site

echo "== starting scoped (log: $var/scoped.log)"
"$scoped" -c "$var/scoped.conf" --listen 127.0.0.1:0 2>"$var/scoped.log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
port=
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*ready on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$var/scoped.log")
	[ -n "$port" ] && break
	kill -0 $pid 2>/dev/null || { cat "$var/scoped.log"; exit 1; }
	sleep 0.05
done
echo "   listening on 127.0.0.1:$port"
as() {	# as ROLE ARGS...
	local role=$1; shift
	"$scopectl" "$@" --config "$var/clients/$role.conf" --server "127.0.0.1:$port"
}
run() {	# run ROLE ARGS...: show the command, then run it
	local role=$1; shift
	printf '$ scopectl'; printf ' %q' "$@"; printf '   # as %s\n' "$role"
	as "$role" "$@"
}
docs=$var/documents
mkdir -p "$docs"
[ -f "$docs/requirements.txt" ] || echo "Requirement definition v1: PR site after reference site A, five pages." > "$docs/requirements.txt"
[ -f "$docs/fee-rule.eml" ] || echo "From: V PM - This definition fixes the order; changing it is an additional order with an additional fee." > "$docs/fee-rule.eml"

if ! as auditor status pr-site >/dev/null 2>&1; then
	echo "== recording the worked case as it happens"
	run lead project create pr-site --client "C Corp" --title "PR web site" --currency JPY --amount 3000000 \
		--vendor-lead "V PM" --client-lead "C manager" --acceptance-days 14
	run lead baseline add -p pr-site --item R1="Design after reference site A" --item R2="Five pages" \
		--doc "$docs/requirements.txt" --doc "$docs/fee-rule.eml" \
		--rule "Changes after this definition are additional orders with an additional fee."
	run client respond -p pr-site --baseline 1 --decision approved --by "C manager" --via email
	run client change raise -p pr-site "Redesign along site B" --by "C manager" --via meeting \
		--reason client_request --items R1 --description "Free: the sales rep promised revisions any time"
	run approver change assess -p pr-site CR-1 --class out_of_scope --cites 1 \
		--rationale "No promise on record; the definition names site A; changes are additional orders"
	run lead change quote -p pr-site CR-1 --fee 1500000 --tax 150000 --effort-hours 120 --schedule-days 30 \
		--receipt "$var/quote-CR-1.receipt.json"
	run client respond -p pr-site --change CR-1 --quote 1 --decision rejected --reason "expected it free" \
		--by "C manager" --via email
	run lead change raise -p pr-site "Minor design revision (contractual)" --by "V PM" --via email \
		--reason vendor_proposal --items R1
	run approver change assess -p pr-site CR-2 --class minor_revision --rationale "One minor revision is in the contract"
	run client respond -p pr-site --change CR-2 --decision approved --by "C manager" --via email
fi

echo "== what the lead and finance see"
run lead status pr-site
run finance report unbilled
run finance report exposure
echo "== finance and the auditor re-derive them from proven entries, trusting no report"
run finance report unbilled --verify
run auditor status pr-site --verify
echo "== the history of CR-1, and the client's receipt for the quote, checked offline"
run auditor history pr-site --change CR-1
"$scopectl" verify --receipt "$var/quote-CR-1.receipt.json" --trust "$var/keys/verifier.txt"
echo "== proof that the approver's determination is in the signed log"
as auditor prove 4
echo "== the auditor verifies the whole ledger online"
as auditor verify
echo "== export, checkpoint, and offline verification with the public key only"
as auditor export -o "$var/export.hex"
as auditor checkpoint > "$var/checkpoint.txt"
"$scopectl" verify --export "$var/export.hex" --checkpoint "$var/checkpoint.txt" \
	--trust "$var/keys/verifier.txt"
echo "== the operator's view, and an online backup"
as admin info
as auditor backup -o "$var/backup.mdb"

echo "== stopping scoped and checking the stored ledger"
kill -TERM $pid; wait $pid; trap - EXIT
"$scoped" verify -c "$var/scoped.conf"
"$scoped" reindex -c "$var/scoped.conf"
