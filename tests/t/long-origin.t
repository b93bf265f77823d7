#!/usr/bin/env bash
# The longest origin (255 bytes, NOTE_NAME_MAX) goes through a whole signing-key
# rotation: the key entries hold verifier keys of the longest length.  One byte
# more is refused at scoped init and at start, naming the maximum.
set -u
. "$(dirname "$0")/lib.sh"

long=$(printf 'o%.0s' $(seq 1 247)).example  # 255 bytes
is "the origin is 255 bytes" "${#long}" 255
exits 2 "scoped init refuses an origin of 256 bytes" "$SCOPED" init "$tmp/too-long" --origin "${long}x"
has "  naming the maximum" "$tmp/err" "is longer than 255 bytes"
is "  and creates nothing" "$([ -e "$tmp/too-long" ] && echo created)" ""

inst=$tmp/inst
ok "scoped init takes an origin of 255 bytes" "$SCOPED" init "$inst" --origin "$long"
conf=$inst/scoped.conf
old_key=$(cat "$inst/keys/verifier.txt")

sed "s|^origin = .*|origin = ${long}x|" "$conf" > "$inst/too-long.conf"
exits 2 "scoped refuses to start with an origin of 256 bytes in scoped.conf" \
	"$SCOPED" -c "$inst/too-long.conf" --listen 127.0.0.1:0
has "  naming the option and the maximum" "$tmp/err" "origin: value too long (at most 255 bytes)"
exits 2 "  and so does scoped verify" "$SCOPED" verify -c "$inst/too-long.conf"

ok "scoped keygen makes the next key" "$SCOPED" keygen "$inst/keys/signing-2.key" -c "$conf"
new_key=$(cat "$tmp/out")
echo "signing_key_next = keys/signing-2.key" >> "$conf"
start_daemon "$inst" || { echo "Bail out! no daemon with two keys"; exit 1; }
ok "the checkpoint" ctl "$inst" auditor checkpoint
is "  carries two signatures" "$(grep -c "^— $long " "$tmp/out")" 2
ok "the added key is in the ledger" ctl "$inst" auditor get 0 --json
has "  in full" "$tmp/out" "\"action\":\"add\",\"verifier_key\":\"$new_key\""
ok "a note during the rotation" ctl "$inst" admin append --project "" --kind note --body-json '{"text":"during"}'
stop_daemon

sed -i -e 's|^signing_key = .*|signing_key = keys/signing-2.key|' -e '/^signing_key_next/d' "$conf"
start_daemon "$inst" || { echo "Bail out! no daemon with the new key"; exit 1; }
ok "scopectl trusting only the old key follows the rotation" ctl "$inst" auditor checkpoint --trust "$old_key"
has "  to the new key" "$tmp/err" "the log's signing key changed; trusting $new_key"
ok "  and verifies the whole log" ctl "$inst" auditor verify --trust "$old_key"
has "  all 3 entries" "$tmp/out" "all 3 entries verified"
ok "the retirement of the old key is recorded" ctl "$inst" auditor get 2 --json
has "  in full" "$tmp/out" "\"action\":\"retire\",\"verifier_key\":\"$old_key\""
stop_daemon
ok "scoped verify" "$SCOPED" verify -c "$conf"
ok "scoped reindex rebuilds the key state" "$SCOPED" reindex -c "$conf"
finish
