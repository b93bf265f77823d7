#!/usr/bin/env bash
# Runs Scope Ledger's main job on a local embedded instance under ./var:
# starts scoped on loopback, records the worked case of the product brief (a
# redesign demand answered with the record) from the lead's and the
# approver's clients over mutual TLS, and verifies everything the way a
# client, auditor or court would: online, and offline with nothing but the
# public key.  Safe to run again: every entry carries a fixed request id, so
# a second run records nothing twice.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$top/build}
scoped=$bin/daemon/scoped
scopectl=$bin/client/scopectl
var=${SCOPE_VAR:-$top/var}
export XDG_STATE_HOME=${XDG_STATE_HOME:-$var/state}

[ -f "$var/scoped.conf" ] || "$scoped" init "$var" --origin localhost/scope-ledger

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
note() {	# note ROLE REQUEST-ID TEXT
	as "$1" append --project pr-site --kind note --request-id "$2" --body-json "{\"text\":\"$3\"}"
}

echo "== the lead records the case as it happens (project pr-site)"
note lead case-1 "Baseline agreed: requirement definition names reference site A; estimate and screen design attached."
note lead case-2 "E-mail sending the definition: changes after this definition are an additional order with an additional fee."
note lead case-3 "Client asks for a redesign along site B, free of charge, citing a verbal promise of unlimited revisions."
echo "== the approver records the determination"
note approver case-4 "Determination: no such promise on record; the redesign is an out-of-scope additional order."
note lead case-5 "Answer sent: redesign quoted as a second project; the contractual minor revision offered at no charge."

echo "== the auditor reads the log"
as auditor log --project pr-site
echo "== proof that the determination is in the signed log"
as auditor prove 3
echo "== the auditor verifies the whole ledger online"
as auditor verify
echo "== export, checkpoint, and offline verification with the public key only"
as auditor export -o "$var/export.hex"
as auditor checkpoint > "$var/checkpoint.txt"
"$scopectl" verify --export "$var/export.hex" --checkpoint "$var/checkpoint.txt" \
	--trust "$var/keys/verifier.txt"

echo "== stopping scoped and checking the stored ledger"
kill -TERM $pid; wait $pid; trap - EXIT
"$scoped" verify -c "$var/scoped.conf"
