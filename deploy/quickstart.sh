#!/usr/bin/env bash
# Runs Scope Ledger's main job on a local embedded instance under ./var:
# records the worked case of the product brief (a redesign demand answered with
# the record), signs a checkpoint, exports the ledger and verifies it the way a
# client, auditor or court would: offline, with nothing but the public key.
# Safe to run again: every entry carries a fixed request id, so a second run
# records nothing twice.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$top/build}
scoped=$bin/daemon/scoped
scopectl=$bin/client/scopectl
var=${SCOPE_VAR:-$top/var}
conf=$var/scoped.conf

[ -f "$conf" ] || "$scoped" init "$var" --origin localhost/scope-ledger

note() {	# note REQUEST-ID TEXT
	"$scoped" append -c "$conf" --project pr-site --kind note --request-id "$1" \
		--body-json "{\"text\":\"$2\"}"
}
echo "== recording the worked case (project pr-site)"
note case-1 "Baseline agreed: requirement definition names reference site A; estimate and screen design attached."
note case-2 "E-mail sending the definition: changes after this definition are an additional order with an additional fee."
note case-3 "Client asks for a redesign along site B, free of charge, citing a verbal promise of unlimited revisions."
note case-4 "Determination by the approver: no such promise on record; the redesign is an out-of-scope additional order."
note case-5 "Answer sent: redesign quoted as a second project; the contractual minor revision offered at no charge."

echo "== the latest signed checkpoint"
"$scoped" checkpoint -c "$conf" | tee "$var/checkpoint.txt"

echo "== export and offline verification with the public key only"
"$scoped" export -c "$conf" -o "$var/export.hex"
"$scopectl" verify --export "$var/export.hex" --checkpoint "$var/checkpoint.txt" \
	--trust "$var/keys/verifier.txt"

echo "== proof that the determination (entry 3) is in the signed log"
"$scoped" prove -c "$conf" 3 | tee "$var/proof-3.json"
"$scoped" get -c "$conf" 3 --hex > "$var/entry-3.hex"
"$scopectl" verify --proof "$var/proof-3.json" --entry "$var/entry-3.hex" \
	--checkpoint "$var/checkpoint.txt" --trust "$var/keys/verifier.txt"

echo "== full check of the stored ledger"
"$scoped" verify -c "$conf"
