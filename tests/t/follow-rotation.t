#!/usr/bin/env bash
# A follower across a signing-key rotation on its primary (scoped(8), KEY
# ROTATION; proto/PROTOCOL.md, "Followers"): trusting only the old key, it
# follows the checkpoints both keys sign, then those of the new key alone,
# and `scoped verify` on its configuration checks the copy with follow_trust
# and the key history, as scopectl does against it.
set -u
. "$(dirname "$0")/lib.sh"
p=$tmp/p f=$tmp/f
"$SCOPED" init "$p" --origin test.example/follow-rotation >/dev/null 2>&1 || { echo "Bail out! init"; exit 1; }
tport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "tiles_listen = 127.0.0.1:$tport" >> "$p/scoped.conf"
old_key=$(cat "$p/keys/verifier.txt")
start_daemon "$p" || { echo "Bail out! no primary"; exit 1; }
ok "a note before the rotation" ctl "$p" admin append --project "" --kind note --body-json '{"text":"before"}'
mkdir -p "$f/data"
follow_conf "$p" "$old_key" > "$f/scoped.conf"
start_follower "$f/scoped.conf" "https://127.0.0.1:$tport" "$tmp/follow.log" || { echo "Bail out! no follower"; exit 1; }
fpid=$FOLLOW_PID fport=$FOLLOW_PORT
trap 'kill -9 $fpid 2>/dev/null; cleanup' EXIT
ok "the follower holds it" follower_holds "$tmp/follow.log" 1
fctl() { "$SCOPECTL" "$@" --config "$p/clients/auditor.conf" --server "127.0.0.1:$fport"; }

# 1. both keys sign: the key entry comes with a checkpoint the old key signed
stop_daemon
"$SCOPED" keygen "$p/keys/signing-2.key" -c "$p/scoped.conf" >/dev/null
echo "signing_key_next = keys/signing-2.key" >> "$p/scoped.conf"
start_daemon "$p" || { echo "Bail out! no primary with two keys"; exit 1; }
ok "a note during the rotation" ctl "$p" admin append --project "" --kind note --body-json '{"text":"during"}'
ok "the follower follows the key entry" follower_holds "$tmp/follow.log" 3

# 2. the new key alone: the old one retired
stop_daemon
sed -i -e 's|^signing_key = .*|signing_key = keys/signing-2.key|' -e '/^signing_key_next/d' "$p/scoped.conf"
start_daemon "$p" || { echo "Bail out! no primary with the new key"; exit 1; }
ok "a note after the rotation" ctl "$p" admin append --project "" --kind note --body-json '{"text":"after"}'
ok "the follower follows the checkpoints of the new key alone" follower_holds "$tmp/follow.log" 5
is "  its checkpoint is the primary's" "$(fctl checkpoint 2>/dev/null)" "$(ctl "$p" auditor checkpoint 2>/dev/null)"
ok "scopectl trusting the old key verifies the follower's copy" fctl verify --trust "$old_key"
has "  all 5 entries" "$tmp/out" "all 5 entries verified"
kill -TERM $fpid; wait $fpid
ok "scoped verify on the follower's configuration follows the key history" "$SCOPED" verify -c "$f/scoped.conf"
has "  all 5 entries" "$tmp/out" "ok: 5 entries"

# a copy whose key history does not start from follow_trust is refused
"$SCOPED" init "$tmp/other" --origin test.example/follow-rotation >/dev/null 2>&1
sed -i "s|^follow_trust = .*|follow_trust = $(cat "$tmp/other/keys/verifier.txt")|" "$f/scoped.conf"
exits 1 "scoped verify with another key of the same name as follow_trust fails" "$SCOPED" verify -c "$f/scoped.conf"
has "  naming the key change it cannot reach" "$tmp/err" "signed by no key reached from follow_trust"
stop_daemon
finish
