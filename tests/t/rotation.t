#!/usr/bin/env bash
# Signing-key rotation (scoped(8), KEY ROTATION): the new key signs next to
# the old one, the change is recorded in the ledger, the old key is retired,
# and a client that only ever trusted the old key follows the chain.
set -u
. "$(dirname "$0")/lib.sh"

inst=$tmp/inst
"$SCOPED" init "$inst" --origin test.example/rotation >/dev/null || { echo "Bail out! init failed"; exit 1; }
conf=$inst/scoped.conf
old_key=$(cat "$inst/keys/verifier.txt")
start_daemon "$inst" || { echo "Bail out! no daemon"; exit 1; }
ok "a note before the rotation" ctl "$inst" admin append --project "" --kind note --body-json '{"text":"before"}'
ok "the auditor remembers a checkpoint signed by the old key" ctl "$inst" auditor checkpoint
stop_daemon

ok "scoped keygen makes the new key" "$SCOPED" keygen "$inst/keys/signing-2.key" -c "$conf"
new_key=$(cat "$tmp/out")
has "  and prints its verifier key" "$tmp/out" "test.example/rotation+"
is "  mode 0600" "$(stat -c %a "$inst/keys/signing-2.key")" 600
exits 2 "keygen does not overwrite a key" "$SCOPED" keygen "$inst/keys/signing-2.key" -c "$conf"

# 1. both keys sign
echo "signing_key_next = keys/signing-2.key" >> "$conf"
start_daemon "$inst" || { echo "Bail out! no daemon with two keys"; exit 1; }
ok "the checkpoint" ctl "$inst" auditor checkpoint
is "  carries two signatures" "$(grep -c '^— test.example/rotation ' "$tmp/out")" 2
ok "the change is in the ledger" ctl "$inst" auditor get 1 --json
has "  as a key entry" "$tmp/out" '"kind":"key"'
has "  by scoped itself" "$tmp/out" '"author":"scoped"'
has "  adding the new key" "$tmp/out" "\"action\":\"add\",\"verifier_key\":\"$new_key\""
exits 4 "nobody can record a key entry over the wire" ctl "$inst" admin append --project "" --kind key \
	--body-json "{\"action\":\"add\",\"verifier_key\":\"$new_key\"}"
has "  the error says who does" "$tmp/err" "recorded by scoped itself"
exits 4 "nor locally" "$SCOPED" append -c "$conf" --project "" --kind key \
	--body-json "{\"action\":\"retire\",\"verifier_key\":\"$old_key\"}"
ok "a note during the rotation" ctl "$inst" admin append --project "" --kind note --body-json '{"text":"during"}'
stop_daemon
ok "a restart with the same keys records nothing more" "$SCOPED" verify -c "$conf"
has "  (3 entries)" "$tmp/out" "ok: 3 entries"

# 2. the new key alone
sed -i -e 's|^signing_key = .*|signing_key = keys/signing-2.key|' -e '/^signing_key_next/d' "$conf"
start_daemon "$inst" || { echo "Bail out! no daemon with the new key"; exit 1; }
ok "scopectl trusting only the old key accepts the new checkpoint" ctl "$inst" auditor checkpoint --trust "$old_key"
is "  which carries one signature" "$(grep -c '^— test.example/rotation ' "$tmp/out")" 1
has "  having followed the key history" "$tmp/err" "the log's signing key changed; trusting $new_key"
ok "  and verifies the whole log" ctl "$inst" auditor verify
has "  all 4 entries" "$tmp/out" "all 4 entries verified"
ok "the old key's retirement is recorded" ctl "$inst" auditor get 3 --json
has "  as a key entry" "$tmp/out" "\"action\":\"retire\",\"verifier_key\":\"$old_key\""
ok "  info names the new key" ctl "$inst" auditor info
has "  as the verifier key" "$tmp/out" "verifier key:  $new_key"
ok "appends continue under the new key" ctl "$inst" admin append --project "" --kind note --body-json '{"text":"after"}'
stop_daemon
ok "scoped verify checks the log with the new key" "$SCOPED" verify -c "$conf"
ok "scoped reindex rebuilds the state, key history included" "$SCOPED" reindex -c "$conf"

# a forger with another key gets nowhere
"$SCOPED" init "$tmp/forger" --origin test.example/rotation >/dev/null
start_daemon "$tmp/forger" || { echo "Bail out! no forger"; exit 1; }
ctl "$tmp/forger" admin append --project "" --kind note --body-json '{"text":"forged"}' >/dev/null 2>&1
sed "s|^trust = .*|trust = $old_key|" "$tmp/forger/clients/auditor.conf" > "$tmp/forger/clients/victim.conf"
exits 1 "a log signed by an unrelated key is refused, key history or not" ctl "$tmp/forger" victim checkpoint
has "  saying so" "$tmp/err" "does not verify with the trusted key"
stop_daemon

# skipping the transition is refused
"$SCOPED" keygen "$inst/keys/signing-3.key" -c "$conf" >/dev/null
sed -i -e 's|^signing_key = .*|signing_key = keys/signing-3.key|' "$conf"
exits 2 "switching to a key that never co-signed is refused at start" "$SCOPED" -c "$conf" --listen 127.0.0.1:0
has "  with the way to do it" "$tmp/err" "first add the new key as signing_key_next"
finish
